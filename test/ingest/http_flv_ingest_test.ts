/**
 * The HTTP push handler as a pure `Request -> Response` call, with a real
 * StreamHub behind it and request bodies fed piece by piece from the test;
 * the admission gate with FakePolicy and ManualAdmission. WebSocket push over
 * a port-0 Deno.serve for its refusals (more in test/e2e/ingest_test.ts).
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import {
  avcKeyframe,
  avcSequenceHeader,
  FakePolicy,
  ManualAdmission,
  RecordingLogger,
} from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { makeRouter } from "../../src/http/routes.ts";
import { type AdmissionDecision, allow, deny, DenyKind, redirect } from "../../src/hub/admission.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { serveFlvPush } from "../../src/ingest/http_flv_ingest.ts";
import { FlvReader, TagType } from "../../src/media/flv.ts";
import { decodeAmf0, EcmaArray } from "../../src/amf/amf0.ts";
import { encodeData } from "../../src/rtmp/command.ts";
import { flvFileHeader, packTags } from "../../src/wasm/flv_pack.ts";

/** An FLV stream: @setDataFrame metadata (as ffmpeg's RTMP muxer would write it), a sequence header, 3 pictures. */
const FLV = concat([
  flvFileHeader({ audio: false, video: true }),
  packTags([
    {
      type: TagType.ScriptData,
      timestamp: 0,
      data: encodeData("@setDataFrame", "onMetaData", new EcmaArray({ width: 320 })),
    },
    { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() },
    { type: TagType.Video, timestamp: 0, data: avcKeyframe() },
    { type: TagType.Video, timestamp: 40, data: avcKeyframe() },
    { type: TagType.Video, timestamp: 80, data: avcKeyframe() },
  ]),
]);

/** A request body the test feeds piece by piece. */
class Body {
  readonly stream: ReadableStream<Uint8Array>;
  cancelled = false;
  #c!: ReadableStreamDefaultController<Uint8Array>;

  constructor() {
    this.stream = new ReadableStream({
      start: (c) => void (this.#c = c),
      cancel: () => void (this.cancelled = true),
    });
  }

  send(bytes: Uint8Array, pieceSize = 7): void {
    for (let at = 0; at < bytes.length; at += pieceSize) this.#c.enqueue(bytes.slice(at, at + pieceSize));
  }

  end(): void {
    this.#c.close();
  }

  /** Pieces sent and not yet read by anyone. */
  get unread(): number {
    return 1 - (this.#c.desiredSize ?? 1); // the default queuing strategy: high-water mark 1 piece
  }
}

function push(ctx: HttpContext, body: Body, key = "live/a", method = "POST"): Promise<Response> {
  const req = new Request(`http://sluice.test/${key}`, { method, body: body.stream });
  return Promise.resolve(serveFlvPush(req, key, ctx));
}

/** The pusher's address in the tests that look at it. */
const PEER: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.7", port: 50123 };

/** A push of `key` from PEER to `http://sluice.test/{key}{search}`. */
function pushFrom(ctx: HttpContext, body: Body, key: string, search = ""): Promise<Response> {
  const req = new Request(`http://sluice.test/${key}${search}`, { method: "POST", body: body.stream });
  return serveFlvPush(req, key, ctx, PEER);
}

/** Runs `fn` with a context around a fresh hub; stops the hub afterwards (grace timers). */
async function withHub(
  fn: (ctx: HttpContext & { log: RecordingLogger }) => Promise<void>,
  o: ConfigOverrides = {},
) {
  const config = makeConfig(o);
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  try {
    await fn({ hub, config, log, startedAt: Date.now() });
  } finally {
    hub.stop();
  }
}

async function errorOf(res: Response): Promise<string> {
  const text = await res.text();
  assertEquals(text.split("\n").length, 2, `one JSON line: ${JSON.stringify(text)}`);
  return (JSON.parse(text) as { error: string }).error;
}

Deno.test("serveFlvPush() publishes a POST body as it arrives and answers 200 with a summary when it ends", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(FLV.subarray(0, 60));
    body.send(FLV.subarray(60));
    body.end();
    const res = await answer;
    assertEquals(res.status, 200);
    const summary = await res.json();
    assertEquals([summary.stream, summary.bytes, summary.tags, summary.videoFrames], [
      "live/a",
      FLV.length,
      5,
      4,
    ]);
    const stream = ctx.hub.get("live/a")!;
    assertEquals(stream.stats.videoFrames, 4);
    assertEquals(decodeAmf0(stream.metadata!.payload), ["onMetaData", new EcmaArray({ width: 320 })]);
    assertEquals(stream.state, "grace", "the body ended: players wait out the reconnect grace");
  });
});

Deno.test("serveFlvPush() takes PUT like POST", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body, "live/a", "PUT");
    body.send(FLV, 1000);
    body.end();
    assertEquals((await answer).status, 200);
    assertEquals(ctx.hub.get("live/a")?.stats.videoFrames, 4);
  });
});

Deno.test("serveFlvPush() pushes each tag into the hub before the body ends", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(FLV);
    await waitFor(() => ctx.hub.get("live/a")?.stats.videoFrames === 4, "the 4 video tags in the hub");
    assertEquals(ctx.hub.get("live/a")?.state, "live");
    body.end();
    await (await answer).body?.cancel();
  });
});

Deno.test("serveFlvPush() refuses a second pusher of a live name with 409 and a one-line reason, then resets", async () => {
  await withHub(async (ctx) => {
    const first = new Body();
    const firstAnswer = push(ctx, first);
    first.send(FLV);
    const second = new Body();
    const res = await push(ctx, second);
    assertEquals(res.status, 409);
    const line = JSON.stringify({ error: "Cannot publish live/a: it is already published" }) + "\n";
    assertEquals(
      res.headers.get("content-length"),
      String(line.length + 1),
      "one byte more than sent: a reset",
    );
    assertEquals(await errorOf(res), "Cannot publish live/a: it is already published");
    assertEquals(ctx.hub.get("live/a")?.state, "live", "the first pusher goes on");
    first.end();
    assertEquals((await firstAnswer).status, 200);
  });
});

Deno.test("serveFlvPush() answers malformed FLV with 400 naming the problem and unpublishes", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(new TextEncoder().encode("not an FLV stream"));
    const res = await answer;
    assertEquals(res.status, 400);
    assertMatch(await errorOf(res), /^Cannot read FLV header: signature is 6e 6f 74/);
    assertEquals(ctx.hub.get("live/a")?.state, "grace");
    assert(body.cancelled, "the body is no longer read");
    assert(ctx.log.lines.some((l) => /closed: .*: malformed FLV: /.test(l.msg)), "one close line");
  });
});

Deno.test("serveFlvPush() answers a body that ends inside a tag with a plain 400", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(FLV.subarray(0, FLV.length - 3));
    body.end();
    const res = await answer;
    assertEquals(res.status, 400);
    assertEquals(res.headers.get("content-length"), null, "a plain answer: the body was read to its end");
    assertMatch(await errorOf(res), /stops inside a tag/);
  });
});

Deno.test("serveFlvPush() refuses a tag over ingest.maxTagBytes, naming the size and the limit", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(concat([
      flvFileHeader({ audio: false, video: true }),
      packTags([
        { type: TagType.Video, timestamp: 0, data: new Uint8Array(2000) },
      ]),
    ]));
    const res = await answer;
    assertEquals(res.status, 400);
    assertMatch(await errorOf(res), /DataSize is 2000, limit 1000/);
  }, { ingest: { maxTagBytes: 1000 } });
});

Deno.test("serveFlvPush() closes an idle pusher with 408 after ingest.idleTimeoutMs without bytes", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(FLV.subarray(0, 20));
    const res = await answer;
    assertEquals(res.status, 408);
    assertEquals(await errorOf(res), "Cannot publish live/a: no data for 30 ms");
    assert(body.cancelled);
  }, { ingest: { idleTimeoutMs: 30 } });
});

Deno.test("serveFlvPush() answers 503 when the server ends the publisher", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = push(ctx, body);
    body.send(FLV);
    await waitFor(() => (ctx.hub.get("live/a")?.stats.videoFrames ?? 0) > 0, "a video tag in the hub");
    ctx.hub.stop();
    const res = await answer;
    assertEquals(res.status, 503);
    assertEquals(await errorOf(res), "Cannot publish live/a: server stopping");
  });
});

Deno.test("the router sends POST /{app}/{stream}.flv to the push handler", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = makeRouter(ctx)(
      new Request("http://sluice.test/live/cam.flv", { method: "POST", body: body.stream }),
    );
    body.send(FLV, 100);
    body.end();
    assertEquals((await answer).status, 200);
    assertEquals(ctx.hub.get("live/cam")?.stats.videoFrames, 4);
  });
});

// ---------------------------------------------------------------------------------------------
// The admission gate and the session registry

/** The close lines logged, each message once per push. */
function closeLines(log: RecordingLogger): string[] {
  return log.lines.filter((l) => l.msg.startsWith("closed: ")).map((l) => l.msg);
}

Deno.test("serveFlvPush() answers a push the gate denies as unauthorized with 401 and the reason, publishes nothing, then resets", async () => {
  await withHub(async (ctx) => {
    const policy = new FakePolicy(() => deny("no key", DenyKind.Unauthorized));
    ctx.hub.admission = policy;
    const body = new Body();
    body.send(FLV);
    const res = await pushFrom(ctx, body, "live/a", "?key=abc");
    assertEquals(res.status, 401);
    const line = JSON.stringify({ error: "Cannot publish live/a: no key" }) + "\n";
    assertEquals(
      res.headers.get("content-length"),
      String(line.length + 1),
      "one byte more than sent: a reset",
    );
    assertEquals(await errorOf(res), "Cannot publish live/a: no key");
    assertEquals(ctx.hub.get("live/a"), undefined, "nothing is published");
    assert(body.unread > 0, "the body was never read");

    assertEquals(policy.requests.length, 1);
    const req = policy.requests[0];
    assertEquals(
      [req.action, req.protocol, req.app, req.name, req.key, req.query, req.remote],
      ["publish", "http-push", "live", "a", "live/a", { key: "abc" }, { hostname: "192.0.2.7", port: 50123 }],
    );
    assertEquals(closeLines(ctx.log).length, 1, "one close line");
    assertMatch(closeLines(ctx.log)[0], /^closed: in 0 B, 0 tags, .*: publish refused: denied: no key$/);
    assertEquals(ctx.hub.sessions.list(), [], "the refused push left the registry");
  });
});

Deno.test("serveFlvPush() answers a forbidden push with 403 and an unavailable gate with 503", async () => {
  for (const [kind, status] of [[DenyKind.Forbidden, 403], [DenyKind.Unavailable, 503]] as const) {
    await withHub(async (ctx) => {
      ctx.hub.admission = new FakePolicy(() => deny(`${kind} here`, kind));
      const body = new Body();
      body.send(FLV);
      const res = await pushFrom(ctx, body, "live/a");
      assertEquals(res.status, status, kind);
      assertEquals(await errorOf(res), `Cannot publish live/a: ${kind} here`);
      assertEquals(ctx.hub.get("live/a"), undefined, `${kind}: nothing is published`);
    });
  }
});

Deno.test("serveFlvPush() answers a push the gate redirects with 302 and its Location", async () => {
  await withHub(async (ctx) => {
    ctx.hub.admission = new FakePolicy(() => redirect("http://other.test/live/a"));
    const body = new Body();
    const res = await pushFrom(ctx, body, "live/a");
    assertEquals(res.status, 302);
    assertEquals(res.headers.get("location"), "http://other.test/live/a");
    await res.body?.cancel();
    assertEquals(ctx.hub.get("live/a"), undefined);
    assertMatch(closeLines(ctx.log)[0], /: publish refused: redirected: http:\/\/other\.test\/live\/a$/);
  });
});

Deno.test("serveFlvPush() answers a query past the gate's bounds with 400 without asking the policy", async () => {
  await withHub(async (ctx) => {
    const policy = new FakePolicy(() => allow());
    ctx.hub.admission = policy;
    const res = await pushFrom(ctx, new Body(), "live/a", `?key=${"x".repeat(5000)}`);
    assertEquals(res.status, 400);
    assertMatch(await errorOf(res), /^Cannot read stream query: 5004 characters, limit 4096$/);
    assertEquals(policy.requests, []);
    assertEquals(ctx.hub.get("live/a"), undefined);
  });
});

Deno.test("serveFlvPush() reads nothing of the body while the gate decides, then publishes all of it once allowed", async () => {
  await withHub(async (ctx) => {
    const gate = new ManualAdmission();
    ctx.hub.admission = gate;
    const body = new Body();
    const answer = pushFrom(ctx, body, "live/a");
    body.send(FLV, 50);
    await waitFor(() => gate.waiting === 1, "the push to ask the gate");
    assertEquals(gate.requests[0].sessionId, ctx.hub.sessions.list()[0].id, "the gate knows the session");
    assertEquals(body.unread, Math.ceil(FLV.length / 50), "no piece of the body was read");
    assertEquals(ctx.hub.get("live/a"), undefined, "nothing reaches the hub before an allow");
    const [pending] = ctx.hub.sessions.list();
    assertEquals([pending.protocol, pending.role, pending.remote], [
      "http-push",
      "pending",
      "192.0.2.7:50123",
    ]);

    gate.answer(allow());
    await waitFor(() => ctx.hub.get("live/a")?.stats.videoFrames === 4, "the 4 video tags in the hub");
    body.end();
    assertEquals((await answer).status, 200);
  });
});

Deno.test("serveFlvPush() registers an allowed push as an http-push publisher and ends its entry when the push ends", async () => {
  await withHub(async (ctx) => {
    const closes: string[] = [];
    ctx.hub.sessions.on((ev) => ev.type === "close" && closes.push(ev.reason ?? ""));
    const body = new Body();
    const answer = pushFrom(ctx, body, "live/a");
    body.send(FLV);
    await waitFor(() => ctx.hub.get("live/a")?.stats.videoFrames === 4, "the 4 video tags in the hub");
    const [session] = ctx.hub.sessions.list();
    assertEquals(
      [session.protocol, session.role, session.key, session.remote, session.bytesIn],
      ["http-push", "publisher", "live/a", "192.0.2.7:50123", FLV.length],
    );
    const publisher = ctx.hub.get("live/a")!.snapshot().publisher!;
    assertEquals([publisher.protocol, publisher.remote], ["http-push", "192.0.2.7:50123"]);
    body.end();
    assertEquals((await answer).status, 200);
    assertEquals(ctx.hub.sessions.list(), []);
    assertEquals(closes, ["end of body"]);
    assertEquals(ctx.hub.sessions.totals().bytesIn, FLV.length, "its bytes stay in the totals");
  });
});

Deno.test("serveFlvPush() answers 503 when an admin kicks the push through the registry", async () => {
  await withHub(async (ctx) => {
    const body = new Body();
    const answer = pushFrom(ctx, body, "live/a");
    body.send(FLV);
    await waitFor(() => ctx.hub.get("live/a")?.stats.videoFrames === 4, "the 4 video tags in the hub");
    assert(ctx.hub.sessions.get(ctx.hub.sessions.list()[0].id)!.kick("kicked by admin"));
    const res = await answer;
    assertEquals(res.status, 503);
    assertEquals(await errorOf(res), "Cannot publish live/a: kicked by admin");
    assert(body.cancelled, "the body is no longer read");
    assertEquals(ctx.hub.get("live/a")?.state, "grace");
    assertEquals(ctx.hub.sessions.list(), []);
  });
});

Deno.test("serveFlvPush(): while the gate takes 2 s over one push, another stream's frames reach its player", async () => {
  await withHub(async (ctx) => {
    const events: string[] = [];
    const slowAnswer = () =>
      new Promise<AdmissionDecision>((resolve) =>
        setTimeout(() => {
          events.push("slow allowed");
          resolve(allow());
        }, 2_000)
      );
    const policy = new FakePolicy((req) => req.name === "slow" ? slowAnswer() : allow());
    ctx.hub.admission = policy;

    // live/fast is published and played over HTTP-FLV.
    const fast = new Body();
    const fastAnswer = pushFrom(ctx, fast, "live/fast");
    fast.send(FLV);
    await waitFor(() => ctx.hub.get("live/fast")?.stats.videoFrames === 4, "live/fast in the hub");
    const play = await makeRouter(ctx)(new Request("http://sluice.test/live/fast.flv"));
    assertEquals(play.status, 200);
    const player = play.body!.getReader();
    const flv = new FlvReader();
    const playing = (async () => {
      for (;;) {
        const { value, done } = await player.read();
        if (done) return;
        for (const tag of flv.push(value)) {
          if (tag.type === TagType.Video && tag.timestamp >= 200) {
            events.push(
              `fast frame ${tag.timestamp}, live/slow ${
                ctx.hub.get("live/slow") ? "published" : "not published"
              }`,
            );
          }
        }
      }
    })();

    // live/slow asks the gate, which answers in 2 s; meanwhile live/fast goes on.
    const slow = new Body();
    const slowResponse = pushFrom(ctx, slow, "live/slow");
    slow.send(FLV);
    await waitFor(() => policy.requests.some((r) => r.name === "slow"), "live/slow to ask the gate");
    fast.send(packTags([
      { type: TagType.Video, timestamp: 200, data: avcKeyframe() },
      { type: TagType.Video, timestamp: 240, data: avcKeyframe() },
    ]));
    await waitFor(() => events.some((e) => e.startsWith("fast frame 240")), "the new frames at the player");
    await waitFor(() => ctx.hub.get("live/slow")?.stats.videoFrames === 4, "live/slow published", 10_000);

    assertEquals(events, [
      "fast frame 200, live/slow not published",
      "fast frame 240, live/slow not published",
      "slow allowed",
    ]);
    slow.end();
    assertEquals((await slowResponse).status, 200);
    fast.end();
    assertEquals((await fastAnswer).status, 200);
    await player.cancel();
    await playing;
  });
});

// ---------------------------------------------------------------------------------------------
// WebSocket push over a real socket

interface Served {
  hub: StreamHub;
  log: RecordingLogger;
  url(key: string): string;
  stop(): Promise<void>;
}

async function serve(): Promise<Served> {
  const config = makeConfig();
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr.port) },
    makeRouter({ hub, config, log, startedAt: Date.now() }),
  );
  const port = await ready.promise;
  return {
    hub,
    log,
    url: (key) => `ws://127.0.0.1:${port}/${key}`,
    async stop() {
      hub.stop();
      await server.shutdown();
    },
  };
}

/** A WebSocket client and the close event it ends with. */
function connect(url: string): { socket: WebSocket; opened: Promise<void>; closed: Promise<CloseEvent> } {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const opened = new Promise<void>((resolve) =>
    socket.addEventListener("open", () => resolve(), { once: true })
  );
  const closed = new Promise<CloseEvent>((resolve) =>
    socket.addEventListener("close", resolve, { once: true })
  );
  return { socket, opened, closed };
}

Deno.test({
  name: "serveWsFlvPush() closes a push the gate denies with 1008 and the reason, and publishes nothing",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const server = await serve();
    try {
      const policy = new FakePolicy(() => deny("no key", DenyKind.Unauthorized));
      server.hub.admission = policy;
      const client = connect(`${server.url("live/w")}?key=abc`);
      const ev = await client.closed;
      assertEquals([ev.code, ev.reason], [1008, "denied: no key"]);
      assertEquals(server.hub.get("live/w"), undefined);
      const req = policy.requests[0];
      assertEquals(
        [req.action, req.protocol, req.key, req.query, req.remote?.hostname],
        ["publish", "ws-push", "live/w", { key: "abc" }, "127.0.0.1"],
      );
      assertEquals(server.hub.sessions.list(), []);
      assertMatch(closeLines(server.log).join("\n"), /publish refused: denied: no key$/);
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "serveWsFlvPush() opens only once the gate allows; then every message is published as a ws-push session",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const server = await serve();
    try {
      const gate = new ManualAdmission();
      server.hub.admission = gate;
      const client = connect(server.url("live/w"));
      let open = false;
      client.opened.then(() => open = true);
      await waitFor(() => gate.waiting === 1, "the push to ask the gate");
      assertEquals(open, false, "the socket does not open while the gate decides");
      assertEquals(server.hub.sessions.list().map((s) => [s.protocol, s.role]), [["ws-push", "pending"]]);
      gate.answer(allow());
      await client.opened;
      for (let at = 0; at < FLV.length; at += 9) client.socket.send(FLV.slice(at, at + 9));
      await waitFor(() => server.hub.get("live/w")?.stats.videoFrames === 4, "the 4 video tags in the hub");
      const [session] = server.hub.sessions.list();
      assertEquals([session.protocol, session.role, session.key], ["ws-push", "publisher", "live/w"]);
      assertEquals(server.hub.get("live/w")!.snapshot().publisher!.protocol, "ws-push");
      client.socket.close(1000, "done");
      await client.closed;
      await waitFor(() => server.hub.sessions.size === 0, "the session to end");
    } finally {
      await server.stop();
    }
  },
});
