/**
 * The HTTP push handler as a pure `Request -> Response` call, with a real
 * StreamHub behind it and request bodies fed piece by piece from the test.
 * (WebSocket push needs a server: test/e2e/ingest_test.ts.)
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { avcKeyframe, avcSequenceHeader, RecordingLogger } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { makeRouter } from "../../src/http/routes.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { serveFlvPush } from "../../src/ingest/http_flv_ingest.ts";
import { TagType } from "../../src/media/flv.ts";
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
}

function push(ctx: HttpContext, body: Body, key = "live/a", method = "POST"): Promise<Response> {
  const req = new Request(`http://sluice.test/${key}`, { method, body: body.stream });
  return Promise.resolve(serveFlvPush(req, key, ctx));
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
