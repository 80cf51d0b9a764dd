import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { Http1Server, sharedBytesResponse, takeConnection } from "../../src/http/http1_server.ts";
import type { Handler } from "../../src/http/router.ts";
import { log } from "../../src/log.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function withServer(
  handler: Handler,
  fn: (port: number, server: Http1Server) => Promise<void>,
  headerTimeoutMs?: number,
): Promise<void> {
  const server = new Http1Server({
    hostname: "127.0.0.1",
    port: 0,
    handler,
    log: log.child("test"),
    onError: () => new Response("internal error\n", { status: 500 }),
    ...(headerTimeoutMs !== undefined && { headerTimeoutMs }),
  });
  try {
    await fn(server.addr.port, server);
  } finally {
    await server.shutdown();
  }
}

/** Sends `text` on a fresh connection and reads until the server closes it (or `until` matches). */
async function exchange(port: number, text: string | Uint8Array, until?: RegExp): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(typeof text === "string" ? enc.encode(text) : text);
    let got = "";
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return got;
      got += dec.decode(buf.subarray(0, n));
      if (until?.test(got)) return got;
    }
  } finally {
    conn.close();
  }
}

Deno.test("Http1Server keeps a connection alive: two requests, two answers with Content-Length", async () => {
  let n = 0;
  await withServer(() => new Response(`answer ${++n}`), async (port) => {
    const got = await exchange(
      port,
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const answers = got.split("HTTP/1.1 200 OK").slice(1);
    assertEquals(answers.length, 2, got);
    assertMatch(answers[0], /content-length: 8\r\n/);
    assert(answers[0].endsWith("answer 1"), answers[0]);
    assertMatch(answers[1], /connection: close\r\n/);
    assert(answers[1].endsWith("answer 2"), answers[1]);
  });
});

Deno.test("sharedBytesResponse(): the own server sends the bytes it was given (large and small, kept alive)", async () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const small = enc.encode("small body");
  await withServer((req) => {
    const body = new URL(req.url).pathname === "/big" ? big : small;
    return sharedBytesResponse(req, body, { headers: { "content-type": "video/mp4" } });
  }, async (port) => {
    for (const [path, want] of [["/big", big], ["/small", small], ["/big", big]] as const) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assertEquals(res.headers.get("content-length"), String(want.length));
      assertEquals(res.headers.get("content-type"), "video/mp4");
      assertEquals(new Uint8Array(await res.arrayBuffer()), want);
    }
  });
  // Not a request of the own server (Deno.serve's, or one made here): an ordinary response with the bytes.
  const plain = sharedBytesResponse(new Request("http://x/"), small, { status: 206 });
  assertEquals(plain.status, 206);
  assertEquals(new Uint8Array(await plain.arrayBuffer()), small);
});

Deno.test("Http1Server serves fetch(): a JSON answer, a request body, a streamed answer", async () => {
  await withServer(async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/echo") return new Response(await req.text());
    if (url.pathname === "/stream") {
      let i = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await new Promise((r) => setTimeout(r, 5));
            if (i === 3) c.close();
            else c.enqueue(enc.encode(`part${i++};`));
          },
        }),
      );
    }
    return Response.json({ path: url.pathname, host: req.headers.get("host") });
  }, async (port) => {
    const base = `http://127.0.0.1:${port}`;
    const json = await fetch(`${base}/x?y=1`);
    assertEquals(await json.json(), { path: "/x", host: `127.0.0.1:${port}` });
    const big = "b".repeat(100_000);
    const echo = await fetch(`${base}/echo`, { method: "POST", body: big });
    assertEquals(await echo.text(), big, "a sized body");
    const chunked = await fetch(`${base}/echo`, {
      method: "POST",
      body: ReadableStream.from([enc.encode("one,"), enc.encode("two")]),
    });
    assertEquals(await chunked.text(), "one,two", "a chunked body");
    const stream = await fetch(`${base}/stream`);
    assertEquals(stream.headers.get("transfer-encoding"), "chunked");
    assertEquals(await stream.text(), "part0;part1;part2;");
  });
});

Deno.test("Http1Server answers HEAD with the fields and no body, HTTP/1.0 with a close-delimited stream", async () => {
  await withServer((req) => {
    if (new URL(req.url).pathname === "/s") {
      return new Response(
        new ReadableStream({
          async pull(c) {
            await new Promise((r) => setTimeout(r, 5));
            c.enqueue(enc.encode("tick"));
            c.close();
          },
        }),
      );
    }
    return new Response("0123456789");
  }, async (port) => {
    const head = await exchange(port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertMatch(head, /^HTTP\/1.1 200 OK\r\n/);
    assertMatch(head, /content-length: 10\r\n/);
    assert(head.endsWith("\r\n\r\n"), `no body: ${JSON.stringify(head)}`);
    const old = await exchange(port, "GET /s HTTP/1.0\r\n\r\n");
    assertMatch(old, /connection: close\r\n/);
    assert(!/transfer-encoding/.test(old), old);
    assert(old.endsWith("\r\n\r\ntick"), old);
  });
});

Deno.test("Http1Server drains a small unread body and keeps the connection; a large one closes it", async () => {
  await withServer(() => new Response("no thanks", { status: 403 }), async (port) => {
    const small = await exchange(
      port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assertEquals(small.split("403 Forbidden").length - 1, 2, small);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(enc.encode(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n`));
    await conn.write(new Uint8Array(200_000)).catch(() => 0);
    let got = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      got += dec.decode(buf.subarray(0, n));
    }
    conn.close();
    assertMatch(got, /^HTTP\/1.1 403 Forbidden\r\n/);
    assertMatch(got, /connection: close\r\n/, "the server will not read 10 MB it does not want");
  });
});

Deno.test("Http1Server closes after a body that ends short of its Content-Length", async () => {
  await withServer(
    () => new Response(ReadableStream.from([enc.encode("short")]), { headers: { "content-length": "6" } }),
    async (port) => {
      const got = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert(got.endsWith("\r\n\r\nshort"), got);
    },
  );
});

Deno.test("Http1Server answers bad heads: 400, 431, 505, and 408 when the head does not come", async () => {
  await withServer(() => new Response("ok"), async (port) => {
    assertMatch(await exchange(port, "NOT A REQUEST\r\n\r\n"), /^HTTP\/1.1 400 Bad Request\r\n/);
    assertMatch(await exchange(port, "GET / HTTP/2.0\r\n\r\n"), /^HTTP\/1.1 505 /);
    assertMatch(
      await exchange(port, `GET / HTTP/1.1\r\nX: ${"a".repeat(100_000)}\r\n\r\n`),
      /^HTTP\/1.1 431 /,
    );
    assertMatch(
      await exchange(port, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
      /^HTTP\/1.1 400 /,
    );
    assertMatch(await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n"), /^HTTP\/1.1 408 Request Timeout\r\n/);
  }, 200);
});

Deno.test("Http1Server aborts Request.signal and cancels a streamed answer when the peer leaves", async () => {
  const aborted = Promise.withResolvers<void>();
  const cancelled = Promise.withResolvers<void>();
  await withServer((req) => {
    if (new URL(req.url).pathname === "/wait") {
      return new Promise<Response>((resolve) =>
        req.signal.addEventListener("abort", () => {
          aborted.resolve();
          resolve(new Response("too late"));
        })
      );
    }
    return new Response(new ReadableStream({ pull() {}, cancel: () => cancelled.resolve() }));
  }, async (port) => {
    for (const path of ["/wait", "/sse"]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(enc.encode(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
      if (path === "/sse") await conn.read(new Uint8Array(1024)); // the head
      else await new Promise((r) => setTimeout(r, 50));
      conn.close();
    }
    await aborted.promise;
    await cancelled.promise;
  });
});

Deno.test("takeConnection() gives a route the socket: it writes its own answer and hears the peer leave", async () => {
  const ended = Promise.withResolvers<void>();
  await withServer((req) => {
    const raw = takeConnection(req);
    assert(raw !== undefined);
    assertEquals(takeConnection(req), undefined, "taken once");
    raw.onEnd = () => ended.resolve();
    raw.write(enc.encode("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nraw bytes")).catch(() => {});
    return raw.response;
  }, async (port) => {
    const got = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", /raw bytes$/);
    assertEquals(got, "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nraw bytes");
    await ended.promise;
  });
  assertEquals(takeConnection(new Request("http://x/")), undefined, "a request of no Http1Server");
});

Deno.test("Http1Server.shutdown() closes idle kept-alive connections", async () => {
  const server = new Http1Server({
    hostname: "127.0.0.1",
    port: 0,
    handler: () => new Response("ok"),
    log: log.child("test"),
    onError: () => new Response("", { status: 500 }),
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const buf = new Uint8Array(1024);
  assert((await conn.read(buf)) !== null);
  assertEquals(server.connections, 1);
  await server.shutdown();
  assertEquals(await conn.read(buf).catch(() => null), null, "closed by the server");
  conn.close();
});
