import { assertEquals, assertThrows } from "../_util/assert.ts";
import {
  fieldTokens,
  headEnd,
  httpDate,
  HttpHeadError,
  parseHead,
  reasonPhrase,
  responseHead,
} from "../../src/http/http1_head.ts";

const enc = new TextEncoder();

Deno.test("headEnd() finds the empty line after CRLF or bare LF lines, and -1 while the head is incomplete", () => {
  const crlf = "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody";
  assertEquals(headEnd(enc.encode(crlf)), crlf.indexOf("body"));
  const lf = "GET / HTTP/1.1\nHost: x\n\nrest";
  assertEquals(headEnd(enc.encode(lf)), lf.indexOf("rest"));
  assertEquals(
    headEnd(enc.encode("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")),
    29,
    "a leading empty line is skipped",
  );
  // Fed growing by one byte, the end shows only once the empty line is whole.
  const whole = enc.encode(crlf);
  for (let n = 0; n < crlf.indexOf("body"); n++) assertEquals(headEnd(whole.subarray(0, n)), -1, `at ${n}`);
});

Deno.test("parseHead() reads the request line and fields: names lower-cased, values trimmed, order kept", () => {
  const head = parseHead(
    enc.encode("POST /live/cam?k=1 HTTP/1.0\r\nHost: a:1\r\nX-A:  one \r\nx-a: two\r\n\r\n"),
  );
  assertEquals(head.method, "POST");
  assertEquals(head.target, "/live/cam?k=1");
  assertEquals(head.version, "1.0");
  assertEquals(head.fields, [["host", "a:1"], ["x-a", "one"], ["x-a", "two"]]);
  assertEquals(
    fieldTokens(
      parseHead(enc.encode("GET / HTTP/1.1\r\nConnection: Keep-Alive, Upgrade\r\n\r\n")),
      "connection",
    ),
    [
      "keep-alive",
      "upgrade",
    ],
  );
});

Deno.test("parseHead() refuses what it cannot serve with the status to answer", () => {
  const cases: [string, number][] = [
    ["GET /\r\n\r\n", 400], // no version
    ["GET / HTTP/2.0\r\n\r\n", 505],
    ["GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nbad name: x\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nnocolon\r\n\r\n", 400],
    [`GET /${"a".repeat(70_000)} HTTP/1.1\r\n\r\n`, 414],
    [`GET / HTTP/1.1\r\n${"x: y\r\n".repeat(201)}\r\n`, 431],
  ];
  for (const [text, status] of cases) {
    const e = assertThrows(() => parseHead(enc.encode(text)), HttpHeadError);
    assertEquals(e.status, status, text.slice(0, 40));
  }
});

Deno.test("responseHead() writes the status line with its reason and the fields; httpDate() is IMF-fixdate", () => {
  const bytes = responseHead(404, [["content-length", "0"]]);
  assertEquals(new TextDecoder().decode(bytes), "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
  assertEquals(reasonPhrase(299), "Status");
  assertEquals(httpDate(Date.UTC(2026, 11, 2, 19, 19, 22)), "Wed, 02 Dec 2026 19:19:22 GMT");
});
