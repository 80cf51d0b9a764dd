import { assert, assertEquals } from "../_util/assert.ts";
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
import { type HlsConfig, makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { HlsService, newSid, SID_PATTERN } from "../../src/hls/hls_service.ts";

function setup(hls: Partial<HlsConfig> = {}) {
  const log = new RecordingLogger();
  const config = makeConfig({ hub: { mergeWindowMs: 0 }, hls });
  const hub = new StreamHub(config.hub, log);
  const clock = { now: 1_000_000 };
  const service = new HlsService({
    hub,
    config: config.hls,
    log,
    now: () => clock.now,
    makeContainer: (kind) => new FakeContainer(kind),
  });
  return { hub, service, clock };
}

function live(hub: StreamHub, key: string): Stream {
  const s = hub.publish(key, new FakePublisher());
  s.push(FrameKind.Video, 0, avcSequenceHeader());
  s.push(FrameKind.Audio, 0, aacSequenceHeader());
  for (let t = 0; t < 1000; t += 40) {
    s.push(FrameKind.Video, t, t === 0 ? avcKeyframe(100) : avcInterFrame(50));
    s.push(FrameKind.Audio, t, aacRaw(20));
  }
  return s;
}

Deno.test("HlsService.stream() muxes a live stream on demand, once, and nothing for a stream that is not live", () => {
  const { hub, service } = setup();
  assertEquals(service.stream("live/none"), undefined);
  live(hub, "live/cam");
  const st = service.stream("live/cam")!;
  assert(st.live);
  assertEquals(service.stream("live/cam"), st, "the same muxing for every request");
  assertEquals(service.streams().length, 1);
  service.stop();
  hub.stop();
});

Deno.test("HlsService.containerOf() gives hls.tsApps their MPEG-TS and every other app hls.container", () => {
  const { service, hub } = setup({ container: "fmp4", tsApps: "tv,radio" });
  assertEquals(service.containerOf("tv/one"), "ts");
  assertEquals(service.containerOf("radio/x"), "ts");
  assertEquals(service.containerOf("live/cam"), "fmp4");
  hub.stop();
});

Deno.test("HlsService.sweep() stops muxing a stream idle past hls.idleTimeoutMs, unless alwaysOn", () => {
  const { hub, service, clock } = setup({ idleTimeoutMs: 5000 });
  live(hub, "live/cam");
  const st = service.stream("live/cam")!;
  clock.now += 4000;
  service.sweep();
  assertEquals(service.streams().length, 1);
  clock.now += 1000;
  service.sweep();
  assertEquals(service.streams().length, 0);
  assert(st.closed);
  hub.stop();
});

Deno.test("HlsService with alwaysOn muxes every stream from its publish on", async () => {
  const { hub, service } = setup({ alwaysOn: true });
  service.start();
  live(hub, "live/cam");
  await settle();
  assertEquals(service.streams().map((s) => s.key), ["live/cam"]);
  service.stop();
  hub.stop();
});

Deno.test("HlsService.addViewer() registers an hls player counted on its stream; sweep() ends it when quiet", () => {
  const { hub, service, clock } = setup({ sessionTimeoutMs: 3000 });
  live(hub, "live/cam");
  const v = service.addViewer("live/cam", null, { remote: "127.0.0.1:5000" });
  assert(SID_PATTERN.test(v.sid));
  assertEquals(service.viewer(v.sid, "live/cam"), v);
  assertEquals(service.viewer(v.sid, "live/other"), undefined, "a sid is one stream's");
  const sessions = hub.sessions.list({ protocol: Protocol.Hls });
  assertEquals(sessions.map((s) => [s.role, s.key, s.remote]), [["player", "live/cam", "127.0.0.1:5000"]]);
  assertEquals(hub.get("live/cam")!.snapshot().viewers.byProtocol.hls, 1);
  clock.now += 3000;
  service.sweep();
  assertEquals(hub.sessions.list({ protocol: Protocol.Hls }), []);
  assertEquals(hub.get("live/cam")!.snapshot().viewers.total, 0);
  // A sid the playlist handed out comes back after its session expired: the same id again.
  assertEquals(service.addViewer("live/cam", v.sid, {}).sid, v.sid);
  assert(service.addViewer("live/cam", "not a sid", {}).sid !== "not a sid");
  service.stop();
  hub.stop();
});

Deno.test("HlsService.takeWaitSlot() holds at most hls.maxWaiting requests", () => {
  const { service, hub } = setup({ maxWaiting: 2 });
  assert(service.takeWaitSlot());
  assert(service.takeWaitSlot());
  assertEquals(service.takeWaitSlot(), false);
  assertEquals(service.stats.refusedBusy, 1);
  service.releaseWaitSlot();
  assert(service.takeWaitSlot());
  assertEquals(service.waiting, 2);
  hub.stop();
});

Deno.test("newSid() makes distinct 16-character base64url ids", () => {
  const ids = new Set(Array.from({ length: 100 }, () => newSid()));
  assertEquals(ids.size, 100);
  for (const id of ids) assert(SID_PATTERN.test(id), id);
});

Deno.test("HlsService.countResource() counts answers per resource path", () => {
  const { service, hub } = setup();
  service.countResource("live/cam/abc-1.m4s");
  service.countResource("live/cam/abc-1.m4s");
  service.countResource("live/cam/abc-2.m4s");
  assertEquals([...service.resourceRequests], [["live/cam/abc-1.m4s", 2], ["live/cam/abc-2.m4s", 1]]);
  hub.stop();
});
