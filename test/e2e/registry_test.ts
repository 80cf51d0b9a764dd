/**
 * Stream events and the session registry, seen from a running server: an
 * observer records publish, unpublish, resume and end and attaches to the
 * frames like a player; players of every protocol are listed in the registry
 * with their counters, and the totals outlive them.
 */
import { assert, assertEquals, assertGreater } from "../_util/assert.ts";
import { FakeSink, limits, RecordingLogger } from "../_util/hub_fakes.ts";
import { haveTools, makeSource } from "../_util/media.ts";
import { isAv, readMedia, readUntil, startServer, SyntheticStream, test, waitFor } from "../_util/live.ts";
import { type HubEvent, HubEventType } from "../../src/hub/events.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";
import { FlvPacker } from "../../src/outputs/flv_packer.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";

test("hub.on(): an observer sees publish, unpublish, resume and end, and its subscriber gets the frames", async () => {
  const server = await startServer({ hub: { reconnectGraceMs: 300 } });
  const events: string[] = [];
  const sink = new FakeSink();
  let observer: Subscriber | undefined;
  const off = server.sluice.hub.on((ev: HubEvent) => {
    events.push(`${ev.type} ${ev.key}`);
    if (ev.type === HubEventType.Publish) {
      observer = new Subscriber("observer", new FlvPacker(), sink, limits(), new RecordingLogger(), {
        observer: true,
      });
      assert(server.sluice.hub.attach(ev.key, observer), "attach found the stream");
    }
  });
  try {
    const syn = new SyntheticStream({ marker: 3, keyBytes: 1500, interBytes: 200 });
    const first = await RtmpClient.connect(`${server.app}/obs`);
    const pub = await first.publish();
    await pub.sendFrames([...syn.headers(), ...syn.next(), ...syn.next()]);
    await waitFor(() => sink.writes.length > 0, "the observer's first write");
    await pub.close();
    await waitFor(() => events.length === 2, "the unpublish event");
    const second = await RtmpClient.connect(`${server.app}/obs`);
    const again = await second.publish();
    await again.sendFrames(syn.next());
    await waitFor(() => events.length === 3, "the resume event");
    await again.close();
    await waitFor(() => events.length === 5, "the end event after the grace");
    assertEquals(events, [
      "publish live/obs",
      "unpublish live/obs",
      "resume live/obs",
      "unpublish live/obs",
      "end live/obs",
    ]);
    assertGreater(observer!.stats.framesSent, 2, "the observer received the stream's frames");
    const snap = server.sluice.hub.streams()[0]?.snapshot();
    assertEquals(snap, undefined, "the stream is gone after its end");
  } finally {
    off();
    await server.stop();
  }
});

test("hub.sessions lists the publisher and players of every protocol with their counters", async () => {
  const server = await startServer();
  const syn = new SyntheticStream({ marker: 9, keyBytes: 3000, interBytes: 400 });
  const pubConn = await RtmpClient.connect(`${server.app}/cam`);
  const viewConn = await RtmpClient.connect(`${server.app}/cam`);
  const ac = new AbortController();
  let ws: WebSocket | undefined;
  try {
    const pub = await pubConn.publish();
    await pub.sendFrames([...syn.headers(), ...syn.next()]);
    const rtmpPlayer = await viewConn.play();
    await readUntil(rtmpPlayer, (ev) => isAv(ev), "the RTMP player's first frame");

    const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/live/cam.flv`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the FLV header at least

    let wsBytes = 0;
    ws = new WebSocket(`ws://127.0.0.1:${server.sluice.httpPort}/live/cam.flv`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (m) => wsBytes += (m.data as ArrayBuffer).byteLength;
    await new Promise((resolve) => ws!.onopen = resolve);

    for (let i = 0; i < 5; i++) await pub.sendFrames(syn.next());
    await readMedia(rtmpPlayer, 5);
    await waitFor(() => wsBytes > 3000, "WebSocket-FLV bytes");
    const drain = (async () => {
      while (!(await reader.read()).done) { /* keep reading */ }
    })().catch(() => {});

    const hub = server.sluice.hub;
    await waitFor(() => hub.sessions.list({ key: "live/cam" }).length === 4, "four sessions of live/cam");
    const list = hub.sessions.list({ key: "live/cam" });
    const by = (protocol: string, role: string) =>
      list.find((s) => s.protocol === protocol && s.role === role);
    const publisher = by(Protocol.Rtmp, Role.Publisher);
    assert(publisher, `no RTMP publisher in ${JSON.stringify(list)}`);
    assertGreater(publisher.bytesIn, 3000);
    for (const protocol of [Protocol.Rtmp, Protocol.HttpFlv, Protocol.WsFlv]) {
      const p = by(protocol, Role.Player);
      assert(p, `no ${protocol} player in ${JSON.stringify(list)}`);
      assertGreater(p.bytesOut, 3000, `${protocol} bytesOut`);
      assertGreater(p.framesSent, 5, `${protocol} framesSent`);
      assertEquals(p.framesDropped, 0);
      assert(p.remote?.startsWith("127.0.0.1:"), `${protocol} remote ${p.remote}`);
    }
    const snap = hub.get("live/cam")!.snapshot();
    assertEquals(snap.viewers.total, 3);
    assertEquals(
      [
        snap.viewers.byProtocol[Protocol.Rtmp],
        snap.viewers.byProtocol[Protocol.HttpFlv],
        snap.viewers.byProtocol[
          Protocol.WsFlv
        ],
      ],
      [1, 1, 1],
    );
    assertEquals(snap.publisher?.protocol, Protocol.Rtmp);

    const before = hub.totals();
    ac.abort();
    await drain;
    ws.close();
    await viewConn.close();
    await pubConn.close();
    await waitFor(() => hub.sessions.list({ key: "live/cam" }).length === 0, "every session to end");
    const after = hub.totals();
    assert(after.bytesOut >= before.bytesOut, "total bytes out went down when sessions ended");
    assertGreater(after.openedByProtocol[Protocol.Rtmp], 1);
    assertEquals(after.openedByProtocol[Protocol.HttpFlv], 1);
    assertEquals(after.openedByProtocol[Protocol.WsFlv], 1);
  } finally {
    ac.abort();
    ws?.close();
    await viewConn.close();
    await pubConn.close();
    await server.stop();
  }
});

test("hub.sessions lists VOD players over RTMP and HTTP while they play, with bytes out", async () => {
  if (!haveTools("ffmpeg")) return;
  const root = await Deno.makeTempDir({ prefix: "sluice_vod_" });
  // Larger than what the loopback socket buffers hold, so the HTTP body cannot finish before it is read.
  await makeSource(`${root}/clip.flv`, { seconds: 30, video: "4M" });
  const server = await startServer({ vod: { root } });
  const client = await RtmpClient.connect(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/vod`);
  try {
    const player = await client.play("clip.flv");
    await readMedia(player, 3);
    const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/vod/clip.flv`);
    const reader = res.body!.getReader();
    await reader.read();
    const hub = server.sluice.hub;
    const vod = () => hub.sessions.list({ role: Role.Vod });
    await waitFor(() => vod().length === 2, "two VOD sessions");
    const rtmp = vod().find((s) => s.protocol === Protocol.Rtmp);
    const http = vod().find((s) => s.protocol === Protocol.HttpVod);
    assertEquals([rtmp?.key, http?.key], ["vod/clip.flv", "vod/clip.flv"]);
    assertGreater(rtmp!.bytesOut, 0);
    assertGreater(http!.bytesOut, 0);
    while (!(await reader.read()).done) { /* read the file to its end */ }
    await waitFor(() => vod().length === 1, "the HTTP VOD session to end with its body");
  } finally {
    await client.close();
    await server.stop();
    await Deno.remove(root, { recursive: true });
  }
});
