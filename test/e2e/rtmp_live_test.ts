/**
 * The live path end to end (issue "RTMP live streaming end to end"): an
 * in-process Sluice on port 0 driven by RtmpClient publishers and players and
 * by raw sockets for the robustness cases. Every test stops what it starts;
 * timeouts only keep a broken test from hanging.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertLess, assertMatch } from "../_util/assert.ts";
import {
  avcTag,
  EVENT_TIMEOUT_MS,
  headerLenOf,
  isAv,
  isStatus,
  type LiveServer,
  readMedia,
  readUntil,
  sessionOf,
  sleep,
  stampOf,
  startServer,
  stopAll,
  SyntheticStream,
  test,
  waitFor,
} from "../_util/live.ts";
import { AvcPacketType, FrameKind, VideoFrameType } from "../../src/media/frame.ts";
import {
  type MediaEvent,
  type OutgoingFrame,
  type Player,
  type PlayerEvent,
  type Publisher,
  RtmpClient,
  RtmpStatusError,
} from "../../src/rtmp/client/client.ts";
import { StatusCode } from "../../src/rtmp/command.ts";
import { ClientHandshake } from "../../src/rtmp/handshake.ts";
import { rawHandshake, readToClose, writeAll } from "../_util/raw_rtmp.ts";
import type { Subscriber } from "../../src/hub/subscriber.ts";

// ---------------------------------------------------------------------------------------------
// helpers

async function publisher(server: LiveServer, name: string): Promise<Publisher> {
  const client = await RtmpClient.connect(`${server.app}/${name}`);
  return await client.publish();
}

async function player(server: LiveServer, name: string): Promise<Player> {
  const client = await RtmpClient.connect(`${server.app}/${name}`);
  return await client.play(name);
}

/** Sends `periods` frame periods of `syn`, one write each; returns every frame sent. */
async function sendPeriods(pub: Publisher, syn: SyntheticStream, periods: number): Promise<OutgoingFrame[]> {
  const sent: OutgoingFrame[] = [];
  for (let i = 0; i < periods; i++) {
    const batch = syn.next();
    await pub.sendFrames(batch);
    sent.push(...batch);
  }
  return sent;
}

/** Closes players, publishers and clients (whatever is still open), then the server. */
/** Per kind, timestamps never go backwards. */
function assertMonotonic(events: readonly MediaEvent[]): void {
  for (const kind of [FrameKind.Audio, FrameKind.Video]) {
    const ts = events.filter((e) => e.kind === kind).map((e) => e.timestamp);
    const back = ts.findIndex((t, i) => i > 0 && t < ts[i - 1]);
    assertEquals(
      back,
      -1,
      `kind ${kind} timestamps go backwards at ${back}: ${ts.slice(back - 2, back + 2)}`,
    );
  }
}

/** The marker of a synthetic payload. */
function markerOf(m: MediaEvent): number {
  return stampOf(m.payload, headerLenOf(m.kind)).marker;
}

function logged(server: LiveServer, re: RegExp): boolean {
  return server.logs.some((l) => re.test(l));
}

// ---------------------------------------------------------------------------------------------
// joining, streams, publishers

test("RTMP play: a mid-GOP joiner gets metadata, sequence headers, then a keyframe as its first video frame", async () => {
  const server = await startServer();
  const pub = await publisher(server, "cam");
  let viewer: Player | undefined;
  try {
    const syn = new SyntheticStream({ marker: 0x31 });
    await pub.sendMetadata({ width: 640, height: 360, framerate: 25 });
    await pub.sendFrames(syn.headers());
    await sendPeriods(pub, syn, 75); // a GOP and a half: the cache holds keyframe 51 and what follows

    const t0 = performance.now();
    const client = await RtmpClient.connect(`${server.app}/cam`);
    viewer = await client.play();
    const events: PlayerEvent[] = [];
    const { before, match } = await readUntil(
      viewer,
      (ev) => ev.type === "media" && ev.kind === FrameKind.Video && !ev.sequenceHeader,
      "the first video frame",
    );
    const ms = performance.now() - t0;
    console.log(`mid-GOP joiner: ${ms.toFixed(1)} ms from connect to first video frame`);
    events.push(...before, match);

    const media = events.filter((e): e is MediaEvent => e.type === "media" && e.name !== "|RtmpSampleAccess");
    assertEquals(media[0].name, "onMetaData", "metadata first");
    assertEquals(media.slice(1, 3).map((m) => [m.kind, m.sequenceHeader]), [
      [FrameKind.Video, true],
      [FrameKind.Audio, true],
    ]);
    const first = match as MediaEvent;
    assert(first.keyframe, "the first video frame is a keyframe");
    assertEquals(stampOf(first.payload, headerLenOf(first.kind)).seq, 51, "the newest keyframe");
  } finally {
    await stopAll(server, viewer, pub);
  }
});

test("RTMP live: two streams at once carry only their own frames", async () => {
  const server = await startServer();
  const [pubA, pubB] = [await publisher(server, "a"), await publisher(server, "b")];
  const [synA, synB] = [new SyntheticStream({ marker: 0xa1 }), new SyntheticStream({ marker: 0xb2 })];
  await pubA.sendFrames(synA.headers());
  await pubB.sendFrames(synB.headers());
  await sendPeriods(pubA, synA, 1);
  await sendPeriods(pubB, synB, 1);
  const [playA, playB] = [await player(server, "a"), await player(server, "b")];
  try {
    for (let i = 0; i < 50; i++) {
      await pubA.sendFrames(synA.next());
      await pubB.sendFrames(synB.next());
    }
    const [gotA, gotB] = [await readMedia(playA, 100), await readMedia(playB, 100)];
    assertEquals(new Set(gotA.map(markerOf)), new Set([0xa1]));
    assertEquals(new Set(gotB.map(markerOf)), new Set([0xb2]));
  } finally {
    await stopAll(server, playA, playB, pubA, pubB);
  }
});

test("RTMP publish: a second publisher of a live name gets BadName and the first keeps publishing", async () => {
  const server = await startServer();
  const first = await publisher(server, "cam");
  const syn = new SyntheticStream({ marker: 1 });
  await first.sendFrames(syn.headers());
  await sendPeriods(first, syn, 1);
  const viewer = await player(server, "cam");
  const second = await RtmpClient.connect(`${server.app}/cam`);
  try {
    const e = await (second.publish().then(() => undefined, (e) => e));
    assert(e instanceof RtmpStatusError, `publish refused with a status, got ${e}`);
    assertEquals(e.code, StatusCode.PublishBadName);
    await second.done;
    await waitFor(
      () => logged(server, /closed: .*publish refused: live\/cam already has a publisher/),
      "log",
    );

    const sent = await sendPeriods(first, syn, 25);
    await readUntil(viewer, (ev) => isAv(ev) && ev.keyframe, "the keyframe");
    const got = await readMedia(viewer, sent.length);
    assertEquals(got.slice(-sent.length).map((m) => m.payload), sent.map((f) => f.payload));
    assert(!first.client.closed && !viewer.client.closed);
  } finally {
    await stopAll(server, viewer, first, second);
  }
});

test("RTMP publish: with hub.publishTakeover a second publisher takes over and the player follows", async () => {
  const server = await startServer({ hub: { publishTakeover: true } });
  const first = await publisher(server, "cam");
  const syn1 = new SyntheticStream({ marker: 1 });
  await first.sendFrames(syn1.headers());
  await sendPeriods(first, syn1, 10);
  const viewer = await player(server, "cam");
  let second: Publisher | undefined;
  try {
    await readUntil(viewer, (ev) => isAv(ev) && ev.keyframe, "the first publisher's keyframe");
    second = await publisher(server, "cam");
    assertEquals(await first.client.done, "closed by the server");
    const syn2 = new SyntheticStream({ marker: 2 });
    await second.sendFrames(syn2.headers());
    await sendPeriods(second, syn2, 10);

    const unpub = await readUntil(viewer, isStatus(StatusCode.PlayUnpublishNotify), "UnpublishNotify");
    const pub = await readUntil(viewer, isStatus(StatusCode.PlayPublishNotify), "PublishNotify");
    assert(pub.before.every((ev) => !isAv(ev) || markerOf(ev) === 1), "nothing new before PublishNotify");
    const [vh, ah] = await readMedia(viewer, 2);
    assertEquals([vh.sequenceHeader, ah.sequenceHeader, markerOf(vh), markerOf(ah)], [true, true, 2, 2]);
    const key = await readUntil(viewer, (ev) => isAv(ev) && ev.kind === FrameKind.Video, "a video frame");
    assertEquals([(key.match as MediaEvent).keyframe, markerOf(key.match as MediaEvent)], [true, 2]);
    assert(unpub.before.every((ev) => !isAv(ev) || markerOf(ev) === 1));
    assert(logged(server, /closed: publisher live\/cam.*taken over by rtmp/), "the takeover is logged");
  } finally {
    await stopAll(server, viewer, second, first);
  }
});

// ---------------------------------------------------------------------------------------------
// waiting for a stream

test("RTMP play: a missing stream with hub.playWaitMs 0 gets NetStream.Play.StreamNotFound", async () => {
  const server = await startServer({ hub: { playWaitMs: 0 } });
  const client = await RtmpClient.connect(`${server.app}/nobody`);
  try {
    const e = await client.play().then(() => undefined, (e) => e);
    assert(e instanceof RtmpStatusError, `play refused with a status, got ${e}`);
    assertEquals(e.code, StatusCode.PlayStreamNotFound);
    await client.done;
  } finally {
    await stopAll(server, client);
  }
});

test("RTMP play: a player waiting within hub.playWaitMs gets a publisher that starts later", async () => {
  const server = await startServer({ hub: { playWaitMs: 2000 } });
  const viewer = await player(server, "late");
  let pub: Publisher | undefined;
  try {
    await sleep(300);
    pub = await publisher(server, "late");
    const syn = new SyntheticStream({ marker: 7 });
    await pub.sendFrames(syn.headers());
    const sent = await sendPeriods(pub, syn, 10);
    const got = await readMedia(viewer, 2 + sent.length);
    assertEquals(got.slice(2).map((m) => m.payload), sent.map((f) => f.payload));
  } finally {
    await stopAll(server, viewer, pub);
  }
});

test("RTMP play: a player gets NetStream.Play.StreamNotFound when hub.playWaitMs passes without a publisher", async () => {
  const server = await startServer({ hub: { playWaitMs: 300 } });
  const viewer = await player(server, "nobody");
  try {
    await readUntil(viewer, isStatus(StatusCode.PlayStreamNotFound), "StreamNotFound");
    assertEquals(await viewer.read(EVENT_TIMEOUT_MS), undefined, "then the server closes");
    assert(logged(server, /play of live\/nobody: no publisher within 300 ms/));
  } finally {
    await stopAll(server, viewer);
  }
});

test("RTMP play: a publisher returning within hub.reconnectGraceMs keeps the player playing", async () => {
  const server = await startServer({ hub: { reconnectGraceMs: 5000 } });
  const first = await publisher(server, "cam");
  const syn1 = new SyntheticStream({ marker: 1 });
  await first.sendFrames(syn1.headers());
  await sendPeriods(first, syn1, 1);
  const viewer = await player(server, "cam");
  let second: Publisher | undefined;
  try {
    await sendPeriods(first, syn1, 60);
    await first.close();
    const events: PlayerEvent[] = [];
    const gone = await readUntil(viewer, isStatus(StatusCode.PlayUnpublishNotify), "UnpublishNotify");
    events.push(...gone.before, gone.match);

    second = await publisher(server, "cam");
    const syn2 = new SyntheticStream({ marker: 2 }); // restarts at timestamp 0
    await second.sendFrames(syn2.headers());
    const sent2 = await sendPeriods(second, syn2, 60);
    let fresh = 0;
    while (fresh < 2 + sent2.length) {
      const { before, match } = await readUntil(
        viewer,
        (ev) => isAv(ev) && markerOf(ev) === 2,
        "a new frame",
      );
      events.push(...before, match);
      fresh++;
    }
    const at = (pred: (ev: PlayerEvent) => boolean) => events.findIndex(pred);
    const unpub = at(isStatus(StatusCode.PlayUnpublishNotify));
    const repub = at(isStatus(StatusCode.PlayPublishNotify));
    const firstNew = at((ev) => isAv(ev) && markerOf(ev) === 2);
    assert(unpub >= 0 && unpub < repub && repub < firstNew, `order: ${unpub} < ${repub} < ${firstNew}`);
    const media = events.filter(isAv);
    const fromSecond = media.filter((m) => markerOf(m) === 2);
    assertEquals(
      fromSecond.slice(0, 2).map((m) => m.sequenceHeader),
      [true, true],
      "new sequence headers first",
    );
    assert(fromSecond.find((m) => m.kind === FrameKind.Video && !m.sequenceHeader)?.keyframe);
    assertEquals(
      fromSecond.slice(2).map((m) => m.payload),
      sent2.map((f) => f.payload),
      "every frame of the returning publisher",
    );
    assertMonotonic(media);
  } finally {
    await stopAll(server, viewer, second, first);
  }
});

// ---------------------------------------------------------------------------------------------
// timestamps and payloads

test("RTMP live: publisher timestamps that wrap past 2^32 reach the player monotonic and in step", async () => {
  const server = await startServer({ hub: { playWaitMs: 5000 } });
  const viewer = await player(server, "wrap");
  const pub = await publisher(server, "wrap");
  try {
    const start = 0xffffff00;
    const syn = new SyntheticStream({ marker: 9, startMs: start, keyBytes: 4000, interBytes: 500 });
    const headers = syn.headers();
    await pub.sendFrames(headers);
    const sent = [...headers, ...await sendPeriods(pub, syn, 100)]; // 4 s: wraps after 256 ms
    assert(sent.some((f) => f.timestamp >= 0x1_0000_0000), "the publisher's clock wraps");
    const got = await readMedia(viewer, sent.length);
    assertMonotonic(got);
    // In step: every frame keeps its distance from the first frame after the headers.
    const steps = (ts: number[]) => ts.slice(headers.length).map((t) => t - ts[headers.length]);
    assertEquals(steps(got.map((m) => m.timestamp)), steps(sent.map((f) => f.timestamp)));
    assertLess(got[headers.length].timestamp, 1000, "rebased near 0");
    assertEquals(got.map((m) => m.payload), sent.map((f) => f.payload));
  } finally {
    await stopAll(server, viewer, pub);
  }
});

for (const only of ["audio", "video"] as const) {
  test(`RTMP live: an ${only}-only stream plays`, async () => {
    const server = await startServer({ hub: { playWaitMs: 5000 } });
    const viewer = await player(server, only);
    const pub = await publisher(server, only);
    try {
      const syn = new SyntheticStream({ marker: 3, audio: only === "audio", video: only === "video" });
      await pub.sendFrames(syn.headers());
      const sent = await sendPeriods(pub, syn, 50);
      const got = await readMedia(viewer, 1 + sent.length);
      const kind = only === "audio" ? FrameKind.Audio : FrameKind.Video;
      assert(got.every((m) => m.kind === kind), `only ${only}`);
      assert(got[0].sequenceHeader);
      if (only === "video") assert(got[1].keyframe, "a keyframe first");
      assertEquals(got.slice(1).map((m) => m.payload), sent.map((f) => f.payload));
      assertMonotonic(got);
    } finally {
      await stopAll(server, viewer, pub);
    }
  });
}

test("RTMP live: a 200 KB keyframe and composition time offsets arrive byte for byte", async () => {
  const server = await startServer({ hub: { playWaitMs: 5000 } });
  const viewer = await player(server, "cts");
  const pub = await publisher(server, "cts");
  try {
    // Composition times (SI24, bytes 2..4): 80, 40, 0, -40 (as B-frame reordering gives), 120.
    const frames: OutgoingFrame[] = [
      {
        kind: FrameKind.Video,
        timestamp: 0,
        payload: avcTag(VideoFrameType.Key, AvcPacketType.SequenceHeader, 40, 5, 0),
      },
      {
        kind: FrameKind.Video,
        timestamp: 0,
        payload: avcTag(VideoFrameType.Key, AvcPacketType.Nalu, 200_000, 5, 1, 80),
      },
      ...[40, 0, -40, 120].map((cts, i): OutgoingFrame => ({
        kind: FrameKind.Video,
        timestamp: 40 * (i + 1),
        payload: avcTag(VideoFrameType.Inter, AvcPacketType.Nalu, 3000, 5, i + 2, cts),
      })),
    ];
    await pub.sendFrames(frames);
    const got = await readMedia(viewer, frames.length);
    assertEquals(got[1].payload.length, 200_000);
    assertEquals(got.map((m) => m.payload), frames.map((f) => f.payload));
    assertEquals(Array.from(got[4].payload.subarray(2, 5)), [0xff, 0xff, 0xd8], "-40 as SI24");
  } finally {
    await stopAll(server, viewer, pub);
  }
});

// ---------------------------------------------------------------------------------------------
// a slow player

/** Counts a player's audio/video frames and wakes whoever waits for a count. */
class Tally {
  frames = 0;
  #waiters: { n: number; resolve: () => void }[] = [];

  add(): void {
    this.frames++;
    this.#waiters = this.#waiters.filter((w) => w.n > this.frames || (w.resolve(), false));
  }

  /** Resolves once `n` frames are counted; fails after `timeoutMs`. */
  reach(n: number, timeoutMs = EVENT_TIMEOUT_MS): Promise<void> {
    if (this.frames >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Cannot count ${n} frames: ${this.frames} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

async function count(p: Player, tally: Tally): Promise<void> {
  for await (const ev of p) if (isAv(ev) && !ev.sequenceHeader) tally.add();
}

test("RTMP play: a stalled player is skipped and closed while two others get every frame", async () => {
  const server = await startServer({
    player: { queueMaxMs: 500, maxSkipsPerMinute: 3 },
    hub: { playWaitMs: 5000 },
  });
  const rssStart = Deno.memoryUsage().rss;
  const pub = await publisher(server, "slow");
  const syn = new SyntheticStream({ marker: 0x55 }); // 25 fps, 2 s GOP, 40 KB keys, 5 KB inters, AAC
  await pub.sendMetadata({ width: 640, height: 360 });
  await pub.sendFrames(syn.headers());
  const [a, b, stalled] = [
    await player(server, "slow"),
    await player(server, "slow"),
    await player(server, "slow"),
  ];
  stalled.pauseReading();
  const stalledSub: Subscriber | undefined = sessionOf(server, stalled.client.localAddr)?.subscriber;
  const [tallyA, tallyB] = [new Tally(), new Tally()];
  const counting = [count(a, tallyA), count(b, tallyB)];
  try {
    assert(stalledSub, "the stalled player's subscriber");
    // Faster than real time, but never more than WINDOW frames ahead of the two readers: what is
    // under test is the stalled player, not how fast two loopback readers drain a burst.
    const WINDOW = 20;
    const MAX_MEDIA_MS = 300_000; // about 45 MB: far more than the socket buffers hold
    let sent = 0;
    let rssMax = rssStart;
    let afterClose = 0;
    while (syn.elapsedMs < MAX_MEDIA_MS && afterClose < 50) {
      const batch = syn.next();
      await pub.sendFrames(batch);
      sent += batch.length;
      if (stalledSub.closed) afterClose++;
      await Promise.all([tallyA.reach(sent - WINDOW), tallyB.reach(sent - WINDOW)]);
      if (syn.videoFrames % 50 === 0) rssMax = Math.max(rssMax, Deno.memoryUsage().rss);
    }
    await Promise.all([tallyA.reach(sent), tallyB.reach(sent)]);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    console.log(
      `slow player: ${mb(pub.stats.bytes)} MB published (${(syn.elapsedMs / 1000).toFixed(0)} s of media), ` +
        `stalled player closed: ${stalledSub.closeReason}; RSS ${mb(rssStart)} -> max ${mb(rssMax)} MB`,
    );

    assert(stalledSub.closed, "the stalled player is closed");
    assertMatch(stalledSub.closeReason, /too slow|stalled/);
    assertGreaterOrEqual(stalledSub.stats.skips, 1);
    assertGreaterOrEqual(stalledSub.stats.framesDropped, 1);
    assert(
      logged(server, /\[conn 127\.0\.0\.1:\d+\] closed: player live\/slow.*(too slow|stalled)/),
      "the close reason is logged",
    );
    assert(logged(server, /WARN .*slow player/), "the skips are warned about");
    assertGreaterOrEqual(tallyA.frames, Math.floor(sent * 0.99));
    assertGreaterOrEqual(tallyB.frames, Math.floor(sent * 0.99));
    assertLess(rssMax, rssStart + 200e6, "RSS stays within 200 MB of the start");
  } finally {
    await stopAll(server, a, b, stalled, pub);
    await Promise.all(counting);
  }
});

// ---------------------------------------------------------------------------------------------
// robustness

test("RTMP session: garbage after the handshake closes that connection with a logged protocol error only", async () => {
  const server = await startServer();
  const pub = await publisher(server, "cam");
  const syn = new SyntheticStream({ marker: 4, keyBytes: 4000, interBytes: 500 });
  await pub.sendFrames(syn.headers());
  await sendPeriods(pub, syn, 1);
  const viewer = await player(server, "cam");
  try {
    await readUntil(viewer, (ev) => isAv(ev) && ev.keyframe, "the keyframe");
    const raw = await rawHandshake(server.sluice.rtmpPort);
    // An HTTP request on the RTMP port: "G" (0x47) reads as a type 1 header on chunk stream 7, which
    // has had no header yet.
    await writeAll(raw, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await readToClose(raw);
    await waitFor(
      () => logged(server, /closed: no stream, .*protocol error: .*no previous header/),
      "the log",
    );

    const sent = await sendPeriods(pub, syn, 25);
    const got = await readMedia(viewer, sent.length);
    assertEquals(got.slice(-sent.length).map((m) => m.payload), sent.map((f) => f.payload));
  } finally {
    await stopAll(server, viewer, pub);
  }
});

test("RTMP session: a handshake that never completes is closed after rtmp.handshakeTimeoutMs", async () => {
  const server = await startServer({ rtmp: { handshakeTimeoutMs: 300 } });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort });
    await writeAll(conn, new ClientHandshake().start().subarray(0, 100)); // C0 and part of C1
    await readToClose(conn);
    await waitFor(() => logged(server, /closed: no stream, .*handshake timeout after 300 ms/), "the log");
  } finally {
    await server.stop();
  }
});
