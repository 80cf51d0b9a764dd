/**
 * The RTSP message writer: one case table of responses a server sends (each
 * init, the exact text, and what RtspReader reads back from it, fed whole and
 * split at every byte), requests the same way, and the misuse it refuses.
 */
import { formatNptRange } from "../../src/rtsp/headers.ts";
import {
  isRtspMethod,
  type RequestInit,
  type ResponseInit,
  RTSP_VERSION,
  RtspMethod,
  writeRequest,
  writeResponse,
} from "../../src/rtsp/message.ts";
import { type RtspItem, RtspReader } from "../../src/rtsp/reader.ts";
import { RtspStatus } from "../../src/rtsp/status.ts";
import { formatTransport } from "../../src/rtsp/transport.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { feed, splitsInTwo } from "../_util/split.ts";

const dec = new TextDecoder();

interface ResponseCase {
  name: string;
  init: ResponseInit;
  /** The exact text, lines joined with CRLF. */
  text: string[];
  body?: string;
}

const SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

const responseCases: ResponseCase[] = [
  {
    name: "an OPTIONS answer with Public",
    init: { status: RtspStatus.Ok, cseq: 1, public: ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"] },
    text: ["RTSP/1.0 200 OK", "CSeq: 1", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"],
  },
  {
    name: "a DESCRIBE answer with Content-Base and an SDP body",
    init: {
      status: RtspStatus.Ok,
      cseq: 2,
      contentBase: "rtsp://h/live/x/",
      contentType: "application/sdp",
      body: SDP,
      headers: [["Server", "Sluice"]],
    },
    text: [
      "RTSP/1.0 200 OK",
      "CSeq: 2",
      "Content-Base: rtsp://h/live/x/",
      "Server: Sluice",
      "Content-Type: application/sdp",
      `Content-Length: ${SDP.length}`,
    ],
    body: SDP,
  },
  {
    name: "a SETUP answer with Session, its timeout and Transport",
    init: {
      status: RtspStatus.Ok,
      cseq: 3,
      session: { id: "5a3c9e1f", timeoutSec: 60 },
      transport: formatTransport({
        protocol: "RTP",
        profile: "AVP",
        lower: "TCP",
        delivery: "unicast",
        interleaved: [0, 1],
        ssrc: 0x0badc0de,
      }),
    },
    text: [
      "RTSP/1.0 200 OK",
      "CSeq: 3",
      "Session: 5a3c9e1f;timeout=60",
      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=0BADC0DE",
    ],
  },
  {
    name: "a PLAY answer with Range and RTP-Info",
    init: {
      status: RtspStatus.Ok,
      cseq: 5,
      session: { id: "5a3c9e1f" },
      range: formatNptRange({ start: 0 }),
      rtpInfo: [
        { url: "rtsp://h/live/x/trackID=0", seq: 4711, rtptime: 123456 },
        { url: "rtsp://h/live/x/trackID=1", seq: 1, rtptime: 0 },
      ],
    },
    text: [
      "RTSP/1.0 200 OK",
      "CSeq: 5",
      "Session: 5a3c9e1f",
      "RTP-Info: url=rtsp://h/live/x/trackID=0;seq=4711;rtptime=123456,url=rtsp://h/live/x/trackID=1;seq=1;rtptime=0",
      "Range: npt=0-",
    ],
  },
  {
    name: "a 401 with two challenges",
    init: {
      status: RtspStatus.Unauthorized,
      cseq: 2,
      wwwAuthenticate: ['Digest realm="sluice", nonce="abc"', 'Basic realm="sluice"'],
    },
    text: [
      "RTSP/1.0 401 Unauthorized",
      "CSeq: 2",
      'WWW-Authenticate: Digest realm="sluice", nonce="abc"',
      'WWW-Authenticate: Basic realm="sluice"',
    ],
  },
  {
    name: "a 454 for a session the server does not have",
    init: { status: RtspStatus.SessionNotFound, cseq: 9 },
    text: ["RTSP/1.0 454 Session Not Found", "CSeq: 9"],
  },
  {
    name: "a 459 with RFC 2326's phrase",
    init: { status: RtspStatus.AggregateOperationNotAllowed, cseq: 4 },
    text: ["RTSP/1.0 459 Aggregate operation not allowed", "CSeq: 4"],
  },
  {
    name: "a 461 for no transport the server takes",
    init: { status: RtspStatus.UnsupportedTransport, cseq: 3 },
    text: ["RTSP/1.0 461 Unsupported transport", "CSeq: 3"],
  },
  {
    name: "a 400 for a request with no CSeq to echo",
    init: { status: RtspStatus.BadRequest },
    text: ["RTSP/1.0 400 Bad Request"],
  },
  {
    name: "a 501 with its own reason phrase",
    init: { status: RtspStatus.NotImplemented, cseq: 7, reason: "Not Implemented Here" },
    text: ["RTSP/1.0 501 Not Implemented Here", "CSeq: 7"],
  },
];

const bytesOf = (lines: string[], body = "") => lines.map((l) => `${l}\r\n`).join("") + "\r\n" + body;

function readAll(bytes: Uint8Array, pieces: Iterable<Uint8Array> = [bytes]): RtspItem[] {
  const reader = new RtspReader();
  const got = feed((b) => reader.push(b), pieces);
  assertEquals(got.error, undefined);
  assertEquals(reader.buffered, 0);
  return got.items;
}

for (const c of responseCases) {
  Deno.test(`writeResponse() writes ${c.name}`, () => {
    assertEquals(dec.decode(writeResponse(c.init)), bytesOf(c.text, c.body));
  });

  Deno.test(`writeResponse() writes ${c.name} that RtspReader reads back, split at every byte`, () => {
    const bytes = writeResponse(c.init);
    for (const pieces of [[bytes], ...splitsInTwo(bytes)]) {
      const [res] = readAll(bytes, pieces);
      assert(res.type === "response");
      assertEquals(res.status, c.init.status);
      assertEquals(res.cseq, c.init.cseq);
      assertEquals(`${RTSP_VERSION} ${res.status} ${res.reason}`, c.text[0]);
      assertEquals(res.headers.entries().map(([k, v]) => `${k}: ${v}`), c.text.slice(1));
      assertEquals(dec.decode(res.body), c.body ?? "");
    }
  });
}

const requestCases: { name: string; init: RequestInit; text: string[]; body?: string }[] = [
  {
    name: "a SETUP with Transport",
    init: {
      method: RtspMethod.Setup,
      uri: "rtsp://h/live/x/trackID=0",
      cseq: 3,
      transport: "RTP/AVP/TCP;unicast;interleaved=0-1",
    },
    text: [
      "SETUP rtsp://h/live/x/trackID=0 RTSP/1.0",
      "CSeq: 3",
      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1",
    ],
  },
  {
    name: "an ANNOUNCE with a body",
    init: {
      method: RtspMethod.Announce,
      uri: "rtsp://h/live/x",
      cseq: 2,
      contentType: "application/sdp",
      body: SDP,
      headers: [["User-Agent", "Sluice"]],
    },
    text: [
      "ANNOUNCE rtsp://h/live/x RTSP/1.0",
      "CSeq: 2",
      "User-Agent: Sluice",
      "Content-Type: application/sdp",
      `Content-Length: ${SDP.length}`,
    ],
    body: SDP,
  },
  {
    name: "an OPTIONS on * with a Session (a keepalive)",
    init: { method: RtspMethod.Options, uri: "*", cseq: 10, session: { id: "abc12345" } },
    text: ["OPTIONS * RTSP/1.0", "CSeq: 10", "Session: abc12345"],
  },
];

for (const c of requestCases) {
  Deno.test(`writeRequest() writes ${c.name} that RtspReader reads back`, () => {
    const bytes = writeRequest(c.init);
    assertEquals(dec.decode(bytes), bytesOf(c.text, c.body));
    const [req] = readAll(bytes);
    assert(req.type === "request");
    assertEquals([req.method, req.uri, req.cseq], [c.init.method, c.init.uri, c.init.cseq]);
    assertEquals(dec.decode(req.body), c.body ?? "");
  });
}

Deno.test("writeResponse() refuses a header value with a line break (no header splitting)", () => {
  assertThrows(
    () => writeResponse({ status: RtspStatus.Ok, cseq: 1, headers: [["Server", "x\r\nSession: evil"]] }),
    TypeError,
    "has a line break",
  );
  assertThrows(() => writeResponse({ status: RtspStatus.Ok, range: "npt=0-\n" }), TypeError, "line break");
  assertThrows(() => writeResponse({ status: RtspStatus.Ok, reason: "OK\r\nX: y" }), TypeError, "line break");
});

Deno.test("writeResponse() refuses a bad status, CSeq, header name or session id", () => {
  assertThrows(() => writeResponse({ status: 99 as RtspStatus }), TypeError, "current status 99");
  assertThrows(() => writeResponse({ status: RtspStatus.Ok, cseq: -1 }), TypeError, "CSeq");
  assertThrows(
    () => writeResponse({ status: RtspStatus.Ok, headers: [["Bad Name", "v"]] }),
    TypeError,
    "not a token",
  );
  assertThrows(
    () => writeResponse({ status: RtspStatus.Ok, session: { id: "a b" } }),
    TypeError,
    "session-id",
  );
});

Deno.test("writeRequest() refuses a method that is not a token and a URI with a space", () => {
  assertThrows(() => writeRequest({ method: "GET PARAM", uri: "*", cseq: 1 }), TypeError, "not a token");
  assertThrows(
    () => writeRequest({ method: "OPTIONS", uri: "rtsp://h/a b", cseq: 1 }),
    TypeError,
    "has a space",
  );
});

Deno.test("isRtspMethod() knows RFC 2326's eleven methods, case-sensitively", () => {
  assertEquals(Object.values(RtspMethod).length, 11);
  for (const m of Object.values(RtspMethod)) assert(isRtspMethod(m), m);
  assert(!isRtspMethod("play"));
  assert(!isRtspMethod("GET"));
});
