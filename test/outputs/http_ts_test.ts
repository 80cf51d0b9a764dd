import { assert, assertEquals } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../fixtures/flv_fixtures.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { classify, FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { serveTsPlay, TsPacker } from "../../src/outputs/http_ts.ts";
import { tsMuxerOf } from "../../src/outputs/stream_ts_muxer.ts";

let seq = 0;
function frame(kind: FrameKind, timestamp: number, payload: Uint8Array): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq: ++seq, prevTimestamp: -1, packed: {} };
}
const AVC_HEADER = concat([hex(`17 00 00 00 00`), AVC_CONFIG_BASELINE]);
const KEYFRAME = concat([hex(`17 01 00 00 00  00 00 00 06  65 88 84 00 33 ff`)]);
const INTER = concat([hex(`27 01 00 00 00  00 00 00 04  41 9a 00 10`)]);

Deno.test("TsPacker puts PAT and PMT before its first media frame and shares the stream muxer's packets after", () => {
  const hub = new StreamHub(makeConfig({}).hub, new RecordingLogger());
  const stream = hub.publish("live/ts", new FakePublisher());
  const a = new TsPacker(() => stream);
  const b = new TsPacker(() => stream);
  assertEquals(a.pack(frame(FrameKind.Video, 0, AVC_HEADER)).length, 0, "a sequence header packs to nothing");
  const key = frame(FrameKind.Video, 0, KEYFRAME);
  const first = a.pack(key);
  assertEquals(first.length % 188, 0);
  assertEquals([first[0], first[1] & 0x1f, first[2]], [0x47, 0x00, 0x00], "a PAT (PID 0) first");
  assertEquals(first[188 + 2], 0x00, "then the PMT");
  b.pack(key); // b's own first frame, with its tables
  const inter = frame(FrameKind.Video, 40, INTER);
  const pa = a.pack(inter);
  const pb = b.pack(inter);
  assert(pa === pb, "the same packets for every player (packed once, cached on the frame)");
  assertEquals(pa, tsMuxerOf(stream).packFrame(inter));
  hub.stop();
});

Deno.test("serveTsPlay() answers 404 with no publisher (no wait) and video/mp2t headers to HEAD", async () => {
  const log = new RecordingLogger();
  const config = makeConfig({ hub: { playWaitMs: 0 } });
  const hub = new StreamHub(config.hub, log);
  const ctx = { hub, config, log, startedAt: 0 };
  const none = await serveTsPlay(new Request("http://h/live/x.ts"), "live/x", ctx);
  assertEquals(none.status, 404);
  await none.body?.cancel();
  hub.publish("live/x", new FakePublisher());
  const head = await serveTsPlay(new Request("http://h/live/x.ts", { method: "HEAD" }), "live/x", ctx);
  assertEquals(head.status, 200);
  assertEquals(head.headers.get("content-type"), "video/mp2t");
  await head.body?.cancel();
  hub.stop();
});
