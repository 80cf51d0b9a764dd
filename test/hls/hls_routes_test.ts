import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { checkMultivariant, PlaylistChecker } from "../_util/hls_checker.ts";
import { FakeContainer } from "../_util/fake_container.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  FakePublisher,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { deny, DenyKind } from "../../src/hub/admission.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { makeHandler } from "../../src/http/router.ts";
import { hlsRoutes } from "../../src/hls/hls_routes.ts";
import { HlsService } from "../../src/hls/hls_service.ts";

function setup(overrides: ConfigOverrides = {}) {
  const log = new RecordingLogger();
  const config = makeConfig({ hub: { mergeWindowMs: 0 }, ...overrides });
  const hub = new StreamHub(config.hub, log);
  const hls = new HlsService({ hub, config: config.hls, log, makeContainer: (k) => new FakeContainer(k) });
  const handler = makeHandler(hlsRoutes({ hub, config, log, startedAt: 0, hls }));
  const get = async (path: string, init?: RequestInit) => await handler(new Request(`http://h${path}`, init));
  return { hub, hls, get, stop: () => (hls.stop(), hub.stop()) };
}

/** `ms` of 25 fps video (keyframe every second) and audio from `from`, headers first when `from` is 0. */
function send(s: Stream, from: number, ms: number): void {
  if (from === 0) {
    s.push(FrameKind.Video, 0, avcSequenceHeader());
    s.push(FrameKind.Audio, 0, aacSequenceHeader());
  }
  for (let t = from; t < from + ms; t += 40) {
    s.push(FrameKind.Video, t, t % 1000 === 0 ? avcKeyframe(100) : avcInterFrame(50));
    s.push(FrameKind.Audio, t, aacRaw(20));
  }
}

Deno.test("hlsRoutes() answers 404 for a stream with no publisher", async () => {
  const { get, stop } = setup();
  const res = await get("/live/none.m3u8");
  assertEquals(res.status, 404);
  assertEquals(res.headers.get("cache-control"), "no-store", "a cache in front never keeps an error");
  assertMatch((await res.json()).error, /Cannot play live\/none: current state has no publisher/);
  stop();
});

Deno.test("hlsRoutes() gives the gate's refusal: 401 with WWW-Authenticate, no viewer registered", async () => {
  const { hub, get, stop } = setup();
  hub.admission = { admit: () => deny("needs a signed URL", DenyKind.Unauthorized) };
  send(hub.publish("live/cam", new FakePublisher()), 0, 1000);
  const res = await get("/live/cam.m3u8");
  assertEquals(res.status, 401);
  assertEquals(res.headers.get("www-authenticate"), `Bearer realm="sluice"`);
  await res.body?.cancel();
  assertEquals(hub.sessions.size, 0);
  stop();
});

Deno.test("hlsRoutes() serves a multivariant playlist whose URIs carry the request's token and a sid", async () => {
  const { hub, get, stop } = setup();
  const s = hub.publish("live/cam", new FakePublisher());
  send(s, 0, 1000);
  const res = await get("/live/cam.m3u8?token=abc.def");
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "application/vnd.apple.mpegurl");
  const text = await res.text();
  assertEquals(checkMultivariant(text), [], text);
  assertMatch(text, /CODECS="avc1\.64001f,mp4a\.40\.2"/);
  assertMatch(text, /^cam\/index\.m3u8\?token=abc\.def&sid=[A-Za-z0-9_-]{16}$/m);
  stop();
});

Deno.test("hlsRoutes() media playlist: 400 for _HLS_part without _HLS_msn, and for _HLS_msn past the end + 2", async () => {
  const { hub, get, stop } = setup();
  const s = hub.publish("live/cam", new FakePublisher());
  send(s, 0, 3000);
  assertEquals((await get("/live/cam/index.m3u8?_HLS_part=1")).status, 400);
  const far = await get("/live/cam/index.m3u8?_HLS_msn=50");
  assertEquals(far.status, 400);
  assertMatch((await far.json()).error, /more than 2 past the last segment/);
  stop();
});

Deno.test("hlsRoutes() media playlist waits for the first segment, then passes the checker; a blocking reload waits for its part", async () => {
  const { hub, get, stop } = setup();
  const s = hub.publish("live/cam", new FakePublisher());
  send(s, 0, 1000);
  const first = get("/live/cam/index.m3u8");
  await settle();
  send(s, 1000, 2100); // the keyframes at 1 s... complete segment 0 at 2 s
  const res = await first;
  assertEquals(res.status, 200);
  const checker = new PlaylistChecker();
  const text = await res.text();
  assertEquals(checker.feed(text), [], text);
  const hint = text.match(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/)![1];
  const [, msn, part] = hint.match(/-(\d+)\.(\d+)\.m4s/)!;
  const sid = hint.split("?")[1];
  const blocked = get(`/live/cam/index.m3u8?${sid}&_HLS_msn=${msn}&_HLS_part=${part}`);
  const partRes = get(`/live/cam/${hint.split("?")[0]}`);
  await settle();
  send(s, 3100, 1000);
  const again = await blocked;
  assertEquals(again.status, 200);
  assertMatch(again.headers.get("cache-control")!, /^public, max-age=\d+$/);
  const text2 = await again.text();
  assertEquals(checker.feed(text2), [], text2);
  assert(text2.includes(hint.split("?")[0]), "lists the part it waited for");
  const p = await partRes;
  assertEquals(p.status, 200);
  assertEquals(p.headers.get("cache-control"), "public, max-age=31536000, immutable");
  await p.body?.cancel();
  stop();
});

Deno.test("hlsRoutes() answers 404 for a resource of another run (epoch) and 503 when every wait slot is taken", async () => {
  const { hub, hls, get, stop } = setup({ hls: { maxWaiting: 1 } });
  const s = hub.publish("live/cam", new FakePublisher());
  send(s, 0, 500);
  const gone = await get("/live/cam/zzz-0.m4s");
  assertEquals(gone.status, 404);
  await gone.body?.cancel();
  assert(hls.takeWaitSlot());
  const busy = await get("/live/cam/index.m3u8");
  assertEquals(busy.status, 503);
  assertEquals(busy.headers.get("retry-after"), "1");
  await busy.body?.cancel();
  hls.releaseWaitSlot();
  stop();
});

/** live/small, a rendition of live/cam (a transcode from it). */
const SMALL_TRANSCODE = {
  key: "live/small",
  from: "live/cam",
  input: "rtmp" as const,
  videoCodec: "libx264",
  videoSize: "320x240",
  videoBitrateKbps: 300,
  videoFps: 0,
  videoGop: 0,
  audioCodec: "aac",
  audioBitrateKbps: 64,
  audioSampleRate: 0,
  audioChannels: 0,
  args: [],
};

Deno.test("hlsRoutes() multivariant playlist lists the stream's renditions (transcodes made from it) after it", async () => {
  const { hub, get, stop } = setup({ transcodes: [SMALL_TRANSCODE] });
  send(hub.publish("live/cam", new FakePublisher("cam")), 0, 1000);
  send(hub.publish("live/small", new FakePublisher("small")), 0, 1000);
  const text = await (await get("/live/cam.m3u8")).text();
  assertEquals(checkMultivariant(text), [], text);
  const uris = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((u) => u.split("?")[0]);
  assertEquals(uris, ["cam/index.m3u8", "/live/small/index.m3u8"]);
  assertEquals(text.match(/#EXT-X-STREAM-INF:/g)?.length, 2);
  stop();
});

Deno.test("hlsRoutes() media playlist of a stream with renditions carries EXT-X-RENDITION-REPORT for each other one", async () => {
  const { hub, hls, get, stop } = setup({ transcodes: [SMALL_TRANSCODE] });
  const cam = hub.publish("live/cam", new FakePublisher("cam"));
  const small = hub.publish("live/small", new FakePublisher("small"));
  send(cam, 0, 1000);
  send(small, 0, 1000);
  hls.stream("live/small");
  const waiting = get("/live/cam/index.m3u8");
  await settle();
  send(cam, 1000, 2100);
  send(small, 1000, 2100);
  const text = await (await waiting).text();
  assertEquals(new PlaylistChecker().feed(text), [], text);
  assertMatch(
    text,
    /^#EXT-X-RENDITION-REPORT:URI="\/live\/small\/index\.m3u8\?sid=[^"]+",LAST-MSN=\d+,LAST-PART=\d+$/m,
  );
  stop();
});

Deno.test("hlsRoutes() answers a blocking reload 503 when its part does not come within 3 target durations", async () => {
  const { hub, hls, get, stop } = setup({ hls: { targetDurationMs: 1000 } });
  const s = hub.publish("live/cam", new FakePublisher());
  hls.stream("live/cam"); // muxed from the first frame (as with hls.alwaysOn)
  send(s, 0, 2100);
  await settle();
  const first = await (await get("/live/cam/index.m3u8")).text();
  const sid = first.match(/sid=([A-Za-z0-9_-]{16})/)![1];
  const last = Number([...first.matchAll(/-(\d+)\.\d+\.m4s/g)].at(-1)![1]);
  // The publisher stops sending: the next segment never comes.
  const res = await get(`/live/cam/index.m3u8?sid=${sid}&_HLS_msn=${last + 1}&_HLS_part=0`);
  assertEquals(res.status, 503);
  assertEquals(res.headers.get("cache-control"), "no-store");
  assertMatch((await res.json()).error, /not ready within 3000 ms/);
  stop();
});
