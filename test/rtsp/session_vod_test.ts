/**
 * RTSP VOD: RtspVod over a fake VodSink (it keeps every delivery) and through
 * RtspSession over a socket with the test client, on small FLV files written
 * to a temp VOD root (H.264 at 25 fps with a keyframe every second, AAC at
 * 48 kHz): the SDP and its range, refusals, where a PLAY starts and what its
 * RTP-Info says, RTP time as file time across seeks, PAUSE and resume, the
 * end with BYE, TCP and UDP. Waits are bounded so a broken test ends; nothing
 * asserts on how long anything took.
 */
import { assert, assertEquals, assertGreater, assertMatch, assertRejects } from "../_util/assert.ts";
import {
  AAC_LC_48K_STEREO_HEADER,
  avcSequenceHeader,
  FakePolicy,
  RecordingLogger,
  X264_MAIN_640X360_AVC_HEADER,
} from "../_util/hub_fakes.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { RtspTestClient, setupAndPlay, TCP_VIDEO } from "./_client.ts";
import { serveSessions } from "./_sessions.ts";
import { type UdpClientPair, udpClientPair } from "../_util/udp.ts";
import { concatBytes } from "../../src/bytes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { allow } from "../../src/hub/admission.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { TagType } from "../../src/media/flv.ts";
import { readRtcp, type RtcpPacket } from "../../src/media/rtp/rtcp.ts";
import { parseRtpInfo, type RtpInfoEntry } from "../../src/rtsp/headers.ts";
import type { RtspResponse } from "../../src/rtsp/message.ts";
import type { RtspSession } from "../../src/rtsp/session.ts";
import { RtspVod, type RtspVodOptions, rtspVodPath, type VodTrack } from "../../src/rtsp/session_vod.ts";
import { RtspError } from "../../src/rtsp/status.ts";
import { UdpPortPool } from "../../src/rtsp/udp_ports.ts";
import { parseRtspUrl } from "../../src/rtsp/url.ts";
import { flvFileHeader, type FlvTagInput, packTags } from "../../src/wasm/flv_pack.ts";

/** Every wait ends by this deadline instead of hanging (nothing asserts on time). */
const WAIT_MS = 8_000;
/** A lead longer than any test file: every tag is due at once. */
const ALL_AT_ONCE_MS = 60_000;

// ---- the files

/** A NAL unit of `size` bytes in AVCC (4-byte length), its first byte `type`. */
function avcc(type: number, size: number): Uint8Array {
  const nal = new Uint8Array(size).fill(type === 0x65 ? 0x33 : 0x44);
  nal[0] = type;
  return concatBytes([Uint8Array.of(0, 0, size >> 8, size & 0xff), nal]);
}
/** An IDR access unit (3000 bytes: FU-A at rtsp.mtu 1400). */
const KEY = concatBytes([hex(`17 01 00 00 00`), avcc(0x65, 3000)]);
/** A P-frame access unit (one single NAL unit packet). */
const INTER = concatBytes([hex(`27 01 00 00 00`), avcc(0x41, 200)]);
const AAC = concatBytes([hex(`af 01`), new Uint8Array(64).fill(0x21)]);

/**
 * Tags of H.264 (25 fps, a keyframe every second) and AAC (48 kHz, 1024 samples a frame) in time order,
 * sequence headers first, for the spans of milliseconds `[from, to)` given.
 */
function clipTags(spans: readonly (readonly [number, number])[]): FlvTagInput[] {
  const tags: FlvTagInput[] = [
    { type: TagType.Video, timestamp: 0, data: X264_MAIN_640X360_AVC_HEADER },
    { type: TagType.Audio, timestamp: 0, data: AAC_LC_48K_STEREO_HEADER },
  ];
  const media: FlvTagInput[] = [];
  for (const [from, to] of spans) {
    for (let t = from; t < to; t += 40) {
      media.push({ type: TagType.Video, timestamp: t, data: t % 1000 === 0 ? KEY : INTER });
    }
    for (let i = Math.ceil(from * 48 / 1024); Math.round(i * 1024 / 48) < to; i++) {
      media.push({ type: TagType.Audio, timestamp: Math.round(i * 1024 / 48), data: AAC });
    }
  }
  // Video before audio at the same time, as muxers write it.
  media.sort((a, b) => a.timestamp - b.timestamp || b.type - a.type);
  return [...tags, ...media];
}

/** clip.flv: 4 s. */
const CLIP = clipTags([[0, 4000]]);
/** The clip's duration: its last tag's time (no onMetaData). */
const CLIP_MS = CLIP[CLIP.length - 1].timestamp;
/** gap.flv: 0 to 1 s, then 2 s to 3 s (with a 1.5 s lead the second part waits). */
const GAP = clipTags([[0, 1000], [2000, 3000]]);

function flvFile(tags: readonly FlvTagInput[]): Uint8Array {
  return concatBytes([flvFileHeader({ audio: true, video: true }), packTags(tags)]);
}

/** A VOD root with clip.flv, gap.flv, notes.flv (text), vp6.flv (no H.264 or AAC), sub/clip.flv. */
async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "sluice_rtsp_vod_" });
  try {
    await Deno.mkdir(`${root}/sub`);
    await Deno.writeFile(`${root}/clip.flv`, flvFile(CLIP));
    await Deno.writeFile(`${root}/sub/clip.flv`, flvFile(CLIP));
    await Deno.writeFile(`${root}/gap.flv`, flvFile(GAP));
    await Deno.writeTextFile(`${root}/notes.flv`, "not a video, only notes\n");
    await Deno.writeFile(
      `${root}/vp6.flv`,
      flvFile([
        { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() }, // a stand-in record: unreadable
        { type: TagType.Video, timestamp: 0, data: Uint8Array.of(0x14, 1, 2, 3) }, // VP6 keyframe
      ]),
    );
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

// ---- reading what was sent

/** One interleaved frame: channel and payload. */
interface Frame {
  readonly channel: number;
  readonly payload: Uint8Array;
}

/** Splits deliveries (interleaved frames, RFC 2326 10.12) into frames. */
function framesOf(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  for (let o = 0; o + 4 <= bytes.length;) {
    assertEquals(bytes[o], 0x24, "interleaved frames only");
    const end = o + 4 + ((bytes[o + 2] << 8) | bytes[o + 3]);
    out.push({ channel: bytes[o + 1], payload: bytes.subarray(o + 4, end) });
    o = end;
  }
  return out;
}

const seqOf = (p: Uint8Array) => (p[2] << 8) | p[3];
const tsOf = (p: Uint8Array) => ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0;
/** The NAL unit type of an H.264 RTP payload (24 STAP-A, 28 FU-A, else the NAL's own). */
const nalOf = (p: Uint8Array) => p[12] & 0x1f;
/** RTCP packets: SR 200 ... BYE 203 (RFC 3550 12.1) in the second byte. */
const isRtcp = (f: Frame) => f.channel % 2 === 1;
/** Ticks from `a` to `b` on a 32-bit RTP clock. */
const ticks = (a: number, b: number) => (b - a) | 0;

/** A fake session: keeps what is delivered. */
class Sink {
  readonly frames: Frame[] = [];
  readonly closes: string[] = [];
  deliver = (bytes: Uint8Array): Promise<void> => {
    this.frames.push(...framesOf(bytes));
    return Promise.resolve();
  };
  close = (reason: string): void => {
    this.closes.push(reason);
  };

  rtp(channel: number): Uint8Array[] {
    return this.frames.filter((f) => f.channel === channel).map((f) => f.payload);
  }

  rtcp(channel: number): RtcpPacket[] {
    return this.frames.filter((f) => f.channel === channel).flatMap((f) => readRtcp(f.payload));
  }

  async until(ok: () => boolean, what: string): Promise<void> {
    const end = Date.now() + WAIT_MS;
    while (!ok()) {
      assert(Date.now() < end, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const TRACKS: VodTrack[] = [
  { kind: "video", channels: { rtp: 0, rtcp: 1 }, url: "rtsp://h/vod/clip.flv/trackID=0" },
  { kind: "audio", channels: { rtp: 2, rtcp: 3 }, url: "rtsp://h/vod/clip.flv/trackID=1" },
];

function options(root: string, extra: Partial<RtspVodOptions> = {}): RtspVodOptions {
  return { root, app: "vod", mtu: 1400, log: new RecordingLogger(), leadMs: ALL_AT_ONCE_MS, ...extra };
}

/** Deno.test with the op and resource sanitizers: a play must leave no file or timer open. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

// ---- RtspVod

test("rtspVodPath() maps the VOD app's URLs to files below the root, adding .flv, and leaves other apps alone", () => {
  const vod = { root: "/srv/vod", app: "vod" };
  const path = (u: string) => rtspVodPath(vod, parseRtspUrl(u));
  assertEquals(path("rtsp://h/vod/clip.flv"), "clip.flv");
  assertEquals(path("rtsp://h/vod/sub/clip.flv/trackID=1"), "sub/clip.flv");
  assertEquals(path("rtsp://h/vod/clip"), "clip.flv");
  assertEquals(path("rtsp://h/live/clip.flv"), undefined);
  assertEquals(rtspVodPath({ root: null, app: "vod" }, parseRtspUrl("rtsp://h/vod/clip.flv")), undefined);
  return Promise.resolve();
});

test("RtspVod.open() refuses a missing file and a path out of the root with 404, a file that is not FLV or has no H.264 or AAC with 403", async () => {
  await withRoot(async (root) => {
    const log = new RecordingLogger();
    for (
      const [path, status] of [
        ["missing.flv", 404],
        ["../outside.flv", 404],
        ["notes.flv", 403],
        ["vp6.flv", 403],
      ] as const
    ) {
      const e = await assertRejects(() => RtspVod.open(path, options(root, { log }), new Sink()), RtspError);
      assertEquals(e.status, status, path);
    }
    assert(
      log.lines.some((l) => /notes\.flv: it is not a readable FLV file/.test(l.msg)),
      "the reason is logged",
    );
    assert(log.lines.some((l) => /vp6\.flv: it has no H.264 or AAC/.test(l.msg)), "the reason is logged");
  });
});

test("RtspVod.describe() gives the file's H.264 and AAC tracks and a=range:npt=0-<duration>", async () => {
  await withRoot(async (root) => {
    const vod = await RtspVod.open("sub/clip.flv", options(root), new Sink());
    try {
      const sdp = vod.describe("Sluice test");
      assertEquals(sdp.media.map((m) => m.media), ["video", "audio"]);
      assertEquals(sdp.attributes.find((a) => a.name === "range")?.value, `npt=0-${CLIP_MS / 1000}`);
      assertEquals([vod.name, vod.durationMs], ["vod/sub/clip.flv", CLIP_MS]);
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() from the start: npt=0-<duration>, RTP-Info names the first packets, sender reports first, every frame, then a BYE per track", async () => {
  await withRoot(async (root) => {
    const sink = new Sink();
    const vod = await RtspVod.open("clip.flv", options(root), sink);
    try {
      const answer = await vod.play(undefined, TRACKS);
      assertEquals(answer.range, `npt=0-${CLIP_MS / 1000}`);
      const info = answer.rtpInfo;
      assertEquals(info.map((e) => e.url), TRACKS.map((t) => t.url));
      assertEquals(sink.frames.length, 0, "nothing before resume(): the answer goes first");
      vod.resume();
      await sink.until(() => sink.rtcp(1).some((p) => p.type === "bye"), "the video BYE");
      await sink.until(() => sink.rtcp(3).some((p) => p.type === "bye"), "the audio BYE");
      assertEquals(sink.frames.slice(0, 2).map((f) => [f.channel, f.payload[1]]), [[1, 200], [3, 200]]);
      const video = sink.rtp(0);
      const audio = sink.rtp(2);
      assertEquals([seqOf(video[0]), tsOf(video[0])], [info[0].seq, info[0].rtptime], "RTP-Info: video");
      assertEquals([seqOf(audio[0]), tsOf(audio[0])], [info[1].seq, info[1].rtptime], "RTP-Info: audio");
      assertEquals(nalOf(video[0]), 24, "SPS and PPS in a STAP-A before the IDR");
      assertEquals(nalOf(video[1]), 28, "the 3000-byte IDR in FU-A fragments");
      for (const list of [video, audio]) {
        for (let i = 1; i < list.length; i++) assertEquals(seqOf(list[i]), (seqOf(list[i - 1]) + 1) & 0xffff);
      }
      const marked = video.filter((p) => p[1] & 0x80).length;
      assertEquals(
        marked,
        CLIP.filter((t) => t.type === TagType.Video).length - 1,
        "an access unit per frame",
      );
      assertEquals(audio.length, CLIP.filter((t) => t.type === TagType.Audio).length - 1);
      const lastVideoMs = CLIP.findLast((t) => t.type === TagType.Video)!.timestamp;
      assertEquals(
        ticks(info[0].rtptime!, tsOf(video.at(-1)!)),
        90 * lastVideoMs,
        "video RTP time is file time",
      );
      const bye = sink.frames.findLastIndex((f) => isRtcp(f));
      assert(sink.frames.slice(bye).every((f) => isRtcp(f)), "nothing after the BYE");
      assertEquals(sink.closes, [], "the end keeps the session");
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() with a Range starts at the keyframe at or before it, on the same RTP clock: RTP time is file time", async () => {
  await withRoot(async (root) => {
    const sink = new Sink();
    const vod = await RtspVod.open("clip.flv", options(root), sink);
    try {
      const zero = (await vod.play({ start: 0 }, TRACKS)).rtpInfo;
      const answer = await vod.play({ start: 2.5 }, TRACKS);
      assertEquals(answer.range, `npt=2-${CLIP_MS / 1000}`, "the keyframe at 2 s");
      const [v, a] = answer.rtpInfo;
      assertEquals(ticks(zero[0].rtptime!, v.rtptime!), 2000 * 90, "90 kHz from the same origin");
      assertEquals(ticks(zero[1].rtptime!, a.rtptime!), 2000 * 48, "48 kHz from the same origin");
      vod.resume();
      await sink.until(() => sink.rtcp(1).some((p) => p.type === "bye"), "the end");
      const video = sink.rtp(0);
      assertEquals(nalOf(video[0]), 24);
      assertEquals([seqOf(video[0]), tsOf(video[0])], [v.seq, v.rtptime], "the first packet is the keyframe");
      const marked = video.filter((p) => p[1] & 0x80).length;
      assertEquals(marked, CLIP.filter((t) => t.type === TagType.Video && t.timestamp >= 2000).length);
      const firstAudio = sink.rtp(2)[0];
      assertEquals(seqOf(firstAudio), a.seq);
      assert(ticks(a.rtptime!, tsOf(firstAudio)) >= 0, "audio starts at or after the Range start");
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() with a Range end (npt=2.5-3.2) sends the frames up to it, then a BYE per track; a later PLAY without an end plays to the file's end", async () => {
  await withRoot(async (root) => {
    const sink = new Sink();
    const vod = await RtspVod.open("clip.flv", options(root), sink);
    try {
      const answer = await vod.play({ start: 2.5, end: 3.2 }, TRACKS);
      assertEquals(answer.range, "npt=2-3.2", "from the keyframe at 2 s to the end asked");
      const [v, a] = answer.rtpInfo;
      vod.resume();
      await sink.until(() => sink.rtcp(1).some((p) => p.type === "bye"), "the video BYE");
      await sink.until(() => sink.rtcp(3).some((p) => p.type === "bye"), "the audio BYE");
      const video = sink.rtp(0);
      const marked = video.filter((p) => p[1] & 0x80).length;
      const wanted = (t: { type: number; timestamp: number }) => t.timestamp >= 2000 && t.timestamp <= 3200;
      assertEquals(marked, CLIP.filter((t) => t.type === TagType.Video && wanted(t)).length, "video frames");
      assert(video.every((p) => ticks(v.rtptime!, tsOf(p)) <= 1200 * 90), "no video past 3.2 s");
      const audio = sink.rtp(2);
      assert(audio.every((p) => ticks(a.rtptime!, tsOf(p)) <= 1200 * 48), "no audio past 3.2 s");
      const bye = sink.frames.findLastIndex((f) => isRtcp(f));
      assert(sink.frames.slice(bye).every((f) => isRtcp(f)), "nothing after the BYE");
      // After the end a PLAY with a start only plays to the file's end.
      const again = await vod.play({ start: 3 }, TRACKS);
      assertEquals(again.range, `npt=3-${CLIP_MS / 1000}`);
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() answers 457 to a Range whose end is before its start", async () => {
  await withRoot(async (root) => {
    const vod = await RtspVod.open("clip.flv", options(root), new Sink());
    try {
      const e = await assertRejects(() => vod.play({ start: 3, end: 1 }, TRACKS), RtspError);
      assertEquals(e.status, 457);
      // An end past the file's end is the file's end.
      assertEquals((await vod.play({ start: 0, end: 60 }, TRACKS)).range, `npt=0-${CLIP_MS / 1000}`);
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() answers 457 to a Range past the end", async () => {
  await withRoot(async (root) => {
    const vod = await RtspVod.open("clip.flv", options(root), new Sink());
    try {
      const e = await assertRejects(() => vod.play({ start: 30 }, TRACKS), RtspError);
      assertEquals(e.status, 457);
    } finally {
      vod.stop();
    }
  });
});

/** Plays gap.flv with a 1.5 s lead: 0-1 s goes at once, the part from 2 s waits about half a second. */
async function playGap(root: string, sink: Sink): Promise<{ vod: RtspVod; first: RtpInfoEntry[] }> {
  const vod = await RtspVod.open("gap.flv", options(root, { leadMs: 1_500, rtcpIntervalMs: 20 }), sink);
  const first = (await vod.play(undefined, TRACKS)).rtpInfo;
  vod.resume();
  await sink.until(() => sink.rtp(0).some((p) => ticks(first[0].rtptime!, tsOf(p)) === 960 * 90), "0-1 s");
  return { vod, first };
}

test("RtspVod.pause() stops packets and sender reports; play() without a Range resumes with the next sequence number and later RTP times", async () => {
  await withRoot(async (root) => {
    const sink = new Sink();
    const { vod, first } = await playGap(root, sink);
    try {
      vod.pause();
      const sent = sink.frames.length;
      // Give a paused play the chance to (wrongly) send; nothing below depends on how long this is.
      await new Promise((r) => setTimeout(r, 300));
      assertEquals(sink.frames.length, sent, "nothing while paused, not even sender reports");
      const before = sink.rtp(0).at(-1)!;
      const answer = await vod.play(undefined, TRACKS);
      const start = Number(answer.range.match(/^npt=([\d.]+)-/)![1]) * 1000;
      assert(start >= 960, `resumes where it stopped, not from the start (${answer.range})`);
      assertEquals(answer.rtpInfo[0].seq, (seqOf(before) + 1) & 0xffff, "RTP-Info: the next sequence number");
      assertEquals(
        ticks(first[0].rtptime!, answer.rtpInfo[0].rtptime!),
        start * 90,
        "rtptime is the npt start",
      );
      vod.resume();
      await sink.until(() => sink.frames.length > sent + 2 && sink.rtp(0).length > 0, "packets after resume");
      const after = sink.frames.slice(sent);
      assertEquals(after[0].payload[1], 200, "a sender report before the resumed packets");
      await sink.until(() => sink.rtp(0).at(-1) !== before, "video after resume");
      const next = sink.rtp(0)[sink.rtp(0).indexOf(before) + 1];
      assertEquals(seqOf(next), (seqOf(before) + 1) & 0xffff, "no sequence number skipped");
      assertGreater(ticks(tsOf(before), tsOf(next)), 0, "timestamps go on, no jump back");
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() with a Range while playing re-seeks: the keyframe again, sequence numbers going on", async () => {
  await withRoot(async (root) => {
    const sink = new Sink();
    const { vod, first } = await playGap(root, sink);
    try {
      const before = sink.rtp(0).at(-1)!;
      const answer = await vod.play({ start: 0.5 }, TRACKS);
      assertEquals(answer.range, `npt=0-${GAP[GAP.length - 1].timestamp / 1000}`);
      assertEquals(answer.rtpInfo[0].rtptime, first[0].rtptime, "the same file time, the same RTP time");
      vod.resume();
      await sink.until(() => sink.rtp(0).at(-1) !== before, "video after the seek");
      const next = sink.rtp(0)[sink.rtp(0).indexOf(before) + 1];
      assertEquals(nalOf(next), 24, "the keyframe's SPS and PPS first");
      assertEquals([seqOf(next), tsOf(next)], [(seqOf(before) + 1) & 0xffff, first[0].rtptime]);
    } finally {
      vod.stop();
    }
  });
});

test("RtspVod.play() after a track was added while paused starts the new set at the keyframe before the resume point", async () => {
  await withRoot(async (root) => {
    const sink = new Sink();
    const vod = await RtspVod.open("clip.flv", options(root, { leadMs: 1_500 }), sink);
    try {
      await vod.play(undefined, [TRACKS[0]]);
      vod.resume();
      await sink.until(() => sink.rtp(0).length > 20, "video");
      vod.pause();
      assertEquals(sink.rtp(2).length, 0, "no audio track set up");
      const answer = await vod.play(undefined, TRACKS);
      assertMatch(answer.range, /^npt=[01]-/, "the keyframe at or before where it paused");
      vod.resume();
      await sink.until(() => sink.rtp(2).length > 0, "audio once it is set up");
      assertEquals(seqOf(sink.rtp(2)[0]), answer.rtpInfo[1].seq);
    } finally {
      vod.stop();
    }
  });
});

// ---- through RtspSession

interface Fixture {
  port: number;
  hub: StreamHub;
  log: RecordingLogger;
  policy: FakePolicy;
  sessions: RtspSession[];
  url(path?: string): string;
}

async function withSessions(root: string | null, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const log = new RecordingLogger();
  const overrides: ConfigOverrides = { vod: { root } };
  const config = makeConfig(overrides);
  const policy = new FakePolicy(() => allow());
  const hub = new StreamHub(config.hub, log, { admission: policy });
  const pool = new UdpPortPool({ hostname: "127.0.0.1" });
  const server = serveSessions({ hub, config, log, rtcpIntervalMs: 100, udpPorts: pool });
  const { port } = server;
  try {
    await fn({
      port,
      hub,
      log,
      policy,
      sessions: server.sessions,
      url: (path = "vod/clip.flv") => `rtsp://127.0.0.1:${port}/${path}`,
    });
  } finally {
    await server.close();
    await pool.close();
    hub.stop();
  }
}

/** Interleaved frames until `ok` holds for what was read; the frames read (a response on the way fails). */
async function readFrames(c: RtspTestClient, ok: (frames: Frame[]) => boolean): Promise<Frame[]> {
  const frames: Frame[] = [];
  const end = Date.now() + WAIT_MS;
  while (!ok(frames)) {
    assert(Date.now() < end, "timed out reading frames");
    const item = await c.next();
    assert(item?.type === "interleaved", `only interleaved frames here, got ${item?.type}`);
    frames.push(item);
  }
  return frames;
}

/** Reads until the response to the request just sent; the interleaved frames before it. */
async function untilResponse(c: RtspTestClient): Promise<{ res: RtspResponse; before: Frame[] }> {
  const before: Frame[] = [];
  for (;;) {
    const item = await c.next();
    assert(item, "connection closed");
    if (item.type === "response") return { res: item, before };
    before.push(item);
  }
}

Deno.test("RtspSession DESCRIBE of a VOD URL asks the gate and answers the file's SDP with its duration; 404 for a missing file, 403 for one that is not FLV", async () => {
  await withRoot(async (root) => {
    await withSessions(root, async (f) => {
      const c = await RtspTestClient.connect(f.port);
      try {
        const res = await c.request({ method: "DESCRIBE", uri: `${f.url()}?token=t` });
        assertEquals(res.status, 200);
        assertEquals(res.headers.get("Content-Base"), `${f.url()}/`);
        const text = new TextDecoder().decode(res.body);
        assertMatch(text, new RegExp(`a=range:npt=0-${CLIP_MS / 1000}\r\n`));
        assertMatch(text, /a=rtpmap:96 H264\/90000/);
        assertMatch(text, /a=rtpmap:97 MPEG4-GENERIC\/48000\/2/i);
        const asked = f.policy.requests[0];
        assertEquals([asked.protocol, asked.action, asked.key, asked.query], [
          "rtsp",
          "play",
          "vod/clip.flv",
          {
            token: "t",
          },
        ]);
        assertEquals((await c.request({ method: "DESCRIBE", uri: f.url("vod/missing.flv") })).status, 404);
        assertEquals((await c.request({ method: "DESCRIBE", uri: f.url("vod/notes.flv") })).status, 403);
        assertEquals(
          (await c.request({ method: "SETUP", uri: f.url("vod/clip.flv/trackID=5"), transport: TCP_VIDEO }))
            .status,
          404,
        );
      } finally {
        c.close();
      }
    });
    await withSessions(null, async (f) => {
      const c = await RtspTestClient.connect(f.port);
      try {
        const res = await c.request({ method: "DESCRIBE", uri: f.url() });
        assertEquals(res.status, 404, "VOD off: vod/clip.flv is a live path nobody publishes");
      } finally {
        c.close();
      }
    });
  });
});

Deno.test("RtspSession plays a VOD file over TCP: Range npt=1.5- from the keyframe at 1 s, PAUSE stops the packets, PLAY resumes them in sequence", async () => {
  await withRoot(async (root) => {
    await withSessions(root, async (f) => {
      const c = await RtspTestClient.connect(f.port);
      try {
        const { id, play } = await setupAndPlay(c, f.url(), { range: "npt=1.5-" });
        assertEquals(play.status, 200);
        assertEquals(play.headers.get("Range"), `npt=1-${CLIP_MS / 1000}`);
        const info = parseRtpInfo(play.headers.get("RTP-Info")!);
        assertEquals(info.map((e) => e.url), [`${f.url()}/trackID=0`, `${f.url()}/trackID=1`]);
        const frames = await readFrames(c, (fs) => fs.filter((x) => x.channel === 0).length >= 10);
        const video = frames.filter((x) => x.channel === 0).map((x) => x.payload);
        assertEquals(frames[0].channel % 2, 1, "a sender report first");
        assertEquals([seqOf(video[0]), tsOf(video[0]), nalOf(video[0])], [info[0].seq, info[0].rtptime, 24]);
        const entry = f.hub.sessions.list({ protocol: "rtsp" })[0];
        assertEquals([entry.role, entry.key], ["vod", "vod/clip.flv"]);
        await c.send({ method: "PAUSE", uri: f.url(), session: { id } });
        const paused = await untilResponse(c);
        assertEquals(paused.res.status, 200);
        const last = [...frames, ...paused.before].filter((x) => x.channel === 0).at(-1)!.payload;
        // Give a paused session the chance to (wrongly) send; nothing below depends on how long this is.
        await new Promise((r) => setTimeout(r, 300));
        await c.send({ method: "GET_PARAMETER", uri: f.url(), session: { id } });
        const quiet = await untilResponse(c);
        assertEquals([quiet.res.status, quiet.before.length], [200, 0], "nothing while paused");
        await c.send({ method: "PLAY", uri: f.url(), session: { id } });
        const resumed = await untilResponse(c);
        assertEquals(resumed.res.status, 200);
        assertEquals(resumed.before.length, 0);
        const again = parseRtpInfo(resumed.res.headers.get("RTP-Info")!);
        assertEquals(again[0].seq, (seqOf(last) + 1) & 0xffff);
        const more = await readFrames(c, (fs) => fs.some((x) => x.channel === 0));
        const next = more.find((x) => x.channel === 0)!.payload;
        assertEquals(seqOf(next), (seqOf(last) + 1) & 0xffff, "the next packet, none lost");
        assertGreater(ticks(tsOf(last), tsOf(next)), 0, "timestamps go on");
        assertEquals((await c.request({ method: "TEARDOWN", uri: f.url(), session: { id } })).status, 200);
        assert(await c.closedByServer());
        assertMatch(
          f.log.lines.find((l) => l.msg.startsWith("closed:"))!.msg,
          /player vod\/clip\.flv.*teardown/,
        );
      } finally {
        c.close();
      }
    });
  });
});

Deno.test("RtspSession keeps a VOD session at the end of the file: a BYE on each RTCP channel, then PLAY with a Range plays again", async () => {
  await withRoot(async (root) => {
    await withSessions(root, async (f) => {
      const c = await RtspTestClient.connect(f.port);
      try {
        const { id, play } = await setupAndPlay(c, f.url(), { range: "npt=3-" });
        assertEquals(play.headers.get("Range"), `npt=3-${CLIP_MS / 1000}`);
        const byes = (fs: Frame[]) =>
          new Set(
            fs.filter((x) => isRtcp(x) && readRtcp(x.payload).some((p) => p.type === "bye")).map((x) =>
              x.channel
            ),
          );
        await readFrames(c, (fs) => byes(fs).size === 2);
        const keep = await c.request({ method: "GET_PARAMETER", uri: f.url(), session: { id } });
        assertEquals(keep.status, 200, "the session stays");
        const again = await c.request({
          method: "PLAY",
          uri: f.url(),
          session: { id },
          headers: [["Range", "npt=0-"]],
        });
        assertEquals(again.headers.get("Range"), `npt=0-${CLIP_MS / 1000}`);
        const frames = await readFrames(c, (fs) => fs.some((x) => x.channel === 0));
        assertEquals(nalOf(frames.find((x) => x.channel === 0)!.payload), 24, "from the first keyframe");
      } finally {
        c.close();
      }
    });
  });
});

Deno.test("RtspSession plays a VOD file over UDP to the client's ports, sender reports on its RTCP ports", async () => {
  await withRoot(async (root) => {
    await withSessions(root, async (f) => {
      const video = await udpClientPair();
      const audio = await udpClientPair();
      const c = await RtspTestClient.connect(f.port);
      try {
        const transport = (p: UdpClientPair) => `RTP/AVP;unicast;client_port=${p.ports[0]}-${p.ports[1]}`;
        const { play } = await setupAndPlay(c, f.url(), {
          transports: [transport(video), transport(audio)],
          range: "npt=3-",
        });
        assertEquals(play.status, 200);
        const info = parseRtpInfo(play.headers.get("RTP-Info")!);
        const end = Date.now() + WAIT_MS;
        const bye = (rtcp: Uint8Array[]) => rtcp.some((p) => readRtcp(p).some((x) => x.type === "bye"));
        while (!(bye(video.rtcp) && bye(audio.rtcp))) {
          assert(Date.now() < end, "timed out waiting for the BYEs over UDP");
          await new Promise((r) => setTimeout(r, 10));
        }
        assertEquals([seqOf(video.rtp[0]), tsOf(video.rtp[0]), nalOf(video.rtp[0])], [
          info[0].seq,
          info[0].rtptime,
          24,
        ]);
        assertEquals(seqOf(audio.rtp[0]), info[1].seq);
        assertEquals(video.rtcp[0][1], 200, "a sender report first on the video RTCP port");
      } finally {
        c.close();
        await video.close();
        await audio.close();
      }
    });
  });
});
