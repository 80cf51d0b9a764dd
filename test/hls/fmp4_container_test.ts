/**
 * Fmp4Container against real clients: a 6 s H.264 (B-frames) + AAC FLV from
 * ffmpeg is turned into hub frames, packed run by run as the HLS segmenter
 * would (cut at keyframes; cut into ~300 ms parts that mostly start between
 * keyframes), and the init segment plus fragments, concatenated, are read
 * back by ffprobe and decoded by ffmpeg; a box reader checks the fragments'
 * structure and timing; and Chromium's Media Source Extensions (what hls.js
 * plays through) take the parts one by one and play them to the end.
 */
import { Fmp4Container, TrackId } from "../../src/hls/fmp4_container.ts";
import { AvcPacketType, classify, FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { MAX_FRAGMENT_SAMPLES, SampleFlags } from "../../src/media/fmp4/fragment.ts";
import { assert, assertEquals, assertLess, assertThrows } from "../_util/assert.ts";
import { haveChromium, launchChromium } from "../_util/browser.ts";
import { flvFrames } from "../_util/flv_frames.ts";
import {
  decodeErrors,
  dtsBackwards,
  haveTools,
  makeSource,
  ofType,
  type Packet,
  parsePackets,
  probePackets,
  runOk,
  type SourceOptions,
} from "../_util/media.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { type Fragment, parseBoxes, readFragments } from "../media/fmp4/mp4_boxes.ts";

const HAVE_FFMPEG = haveTools("ffmpeg", "ffprobe");

/** The sequence headers and the media frames of an FLV file, in hub order. */
async function hubFrames(path: string): Promise<{ configs: MediaFrame[]; media: MediaFrame[] }> {
  const frames = flvFrames(await Deno.readFile(path)).filter((f) => f.kind !== FrameKind.Data);
  return { configs: frames.filter((f) => f.sequenceHeader), media: frames.filter((f) => !f.sequenceHeader) };
}

/** One run the segmenter hands the container. */
interface Run {
  frames: MediaFrame[];
  nextTimestamp: number;
  segmentStart: boolean;
}

/** Where runs start: at keyframes only, or also every ~300 ms before a frame of `partKind` (any kind if unset). */
type Cut = { keyframes: true } | { partMs: number; partKind?: FrameKind };

/** Splits media frames into runs; the last run ends `tailMs` after its last frame. */
function cutRuns(media: MediaFrame[], cut: Cut, tailMs: number): Run[] {
  const runs: Run[] = [];
  let run: MediaFrame[] = [];
  let runStart = 0;
  let segmentStart = true;
  for (const f of media) {
    const atKeyframe = f.keyframe;
    const atPart = "partMs" in cut && f.timestamp - runStart >= cut.partMs &&
      (cut.partKind === undefined || f.kind === cut.partKind);
    if (run.length > 0 && (atKeyframe || atPart)) {
      runs.push({ frames: run, nextTimestamp: f.timestamp, segmentStart });
      segmentStart = atKeyframe;
      run = [];
      runStart = f.timestamp;
    }
    run.push(f);
  }
  runs.push({ frames: run, nextTimestamp: run[run.length - 1].timestamp + tailMs, segmentStart });
  return runs;
}

/** Configures a container with `configs` and packs `runs`: the init segment and each run's fragment. */
function mux(
  configs: MediaFrame[],
  runs: Run[],
): { container: Fmp4Container; init: Uint8Array; fragments: Uint8Array[] } {
  const container = new Fmp4Container();
  for (const c of configs) assertEquals(container.configure(c), false, "a first configuration is no change");
  const fragments = runs.map((r) => container.pack(r.frames, r.nextTimestamp, r.segmentStart));
  const init = container.init();
  assert(init, "an init segment once configured");
  return { container, init, fragments };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The packets of an MP4 file with times in ms (ffprobe's pts_time and dts_time, in seconds, times 1000). */
async function probeMp4(path: string): Promise<Packet[]> {
  const r = await runOk("ffprobe", [
    ...["-hide_banner", "-v", "error", "-show_packets", "-show_data_hash", "MD5"],
    ...["-show_entries", "packet=codec_type,pts_time,dts_time,size,flags,data_hash", "-of", "json", path],
  ], 60_000);
  const parsed = JSON.parse(r.stdout) as { packets?: { pts_time?: string; dts_time?: string }[] };
  const times = (parsed.packets ?? []).map((p) => ({
    pts: Number(p.pts_time) * 1000,
    dts: Number(p.dts_time) * 1000,
  }));
  return parsePackets(r.stdout).map((p, i) => ({ ...p, ...times[i] }));
}

async function probeJson(path: string, entries: string): Promise<Record<string, Record<string, unknown>[]>> {
  const r = await runOk("ffprobe", ["-v", "error", "-show_entries", entries, "-of", "json", path], 30_000);
  return JSON.parse(r.stdout);
}

/**
 * What every muxed file must show next to its source, per kind: the same
 * packets (count, data, keyframe flags), pts and dts each within 1 ms,
 * video composition offsets (pts - dts) the source's, DTS monotonic, the
 * first video packet a keyframe, a clean decode, and a duration near the
 * source's.
 */
async function checkAgainstSource(src: string, out: string, kinds: string[], label: string): Promise<void> {
  const [played, source] = await Promise.all([probeMp4(out), probePackets(src)]);
  for (const kind of kinds) {
    const p = ofType(played, kind);
    const s = ofType(source, kind);
    assertEquals(p.length, s.length, `${label} ${kind}: packets vs the source's`);
    assertEquals(p.map((x) => x.hash), s.map((x) => x.hash), `${label} ${kind}: the packets' data`);
    assertEquals(p.map((x) => x.keyframe), s.map((x) => x.keyframe), `${label} ${kind}: keyframe flags`);
    let worst = 0;
    for (let i = 0; i < p.length; i++) {
      worst = Math.max(worst, Math.abs(p[i].pts - s[i].pts), Math.abs(p[i].dts - s[i].dts));
    }
    assertLess(worst, 1, `${label} ${kind}: pts/dts off the source's by ${worst.toFixed(3)} ms`);
    assertEquals(dtsBackwards(p), [], `${label} ${kind}: DTS goes backwards`);
    if (kind === "video") {
      assert(p[0].keyframe, `${label}: the first video packet is a keyframe`);
      const offsets = (list: Packet[]) => list.map((x) => Math.round(x.pts - x.dts));
      assertEquals(offsets(p), offsets(s), `${label}: composition offsets`);
      assert(offsets(p).some((o) => o !== 0), `${label}: B-frames keep pts != dts`);
    }
  }
  for (const kind of ["video", "audio"]) {
    if (!kinds.includes(kind)) assertEquals(ofType(played, kind).length, 0, `${label}: no ${kind}`);
  }
  assertEquals(await decodeErrors(out), "", `${label}: decoding printed errors`);
  const format = (await probeJson(out, "format=duration")).format as unknown as { duration: string };
  assertLess(Math.abs(Number(format.duration) - 6), 0.15, `${label}: duration ${format.duration} s`);
}

/**
 * What the box reader checks on the fragments: boxes tile each fragment,
 * mfhd sequence numbers count up from 1, tfhd default-base-is-moof, tfdt and
 * trun version 1, each trun's data_offset points into its mdat and the trafs'
 * samples fill it, each track's tfdt is its first tfdt plus the durations
 * before it, and video samples are sync samples exactly at the keyframes.
 */
function checkFragments(fragments: Uint8Array[], label: string, media: MediaFrame[]): Fragment[] {
  const read = fragments.map((b) => {
    parseBoxes(b);
    const [f, ...rest] = readFragments(b);
    assertEquals(rest.length, 0, `${label}: one moof + mdat a part`);
    return f;
  });
  assertEquals(
    read.map((f) => f.sequenceNumber),
    read.map((_, i) => i + 1),
    `${label}: mfhd sequence numbers`,
  );
  const elapsed = new Map<number, number>();
  for (const f of read) {
    let expected = f.mdatBody;
    for (const t of f.trafs) {
      assertEquals([t.tfhdFlags, t.tfdtVersion, t.trunVersion], [0x020000, 1, 1], `${label}: tfhd/tfdt/trun`);
      assertEquals(f.moofStart + t.dataOffset, expected, `${label}: track ${t.trackId} data_offset`);
      expected += t.samples.reduce((n, s) => n + s.size, 0);
      const start = elapsed.get(t.trackId) ?? t.baseMediaDecodeTime;
      assertEquals(t.baseMediaDecodeTime, start, `${label}: track ${t.trackId} tfdt #${f.sequenceNumber}`);
      elapsed.set(t.trackId, start + t.samples.reduce((n, s) => n + s.duration, 0));
    }
    assertEquals(expected, f.mdatEnd, `${label}: the samples fill the mdat`);
  }
  // ffmpeg finds keyframes with its H.264 parser whatever the flags say, so the flags are checked here.
  const flags = read.flatMap((f) =>
    f.trafs.filter((t) => t.trackId === TrackId.Video).flatMap((t) => t.samples)
  )
    .map((s) => s.flags);
  // The video samples are the AVC NALU tags (ffmpeg ends an FLV with an AVC end-of-sequence tag).
  const keyframes = media.filter((f) => f.kind === FrameKind.Video && f.payload[1] === AvcPacketType.Nalu)
    .map((f) => f.keyframe);
  assertEquals(
    flags,
    keyframes.map((k) => k ? SampleFlags.Sync : SampleFlags.NonSync),
    `${label}: sample flags`,
  );
  return read;
}

/** Makes a source, runs `fn` with its path and a scratch dir, and removes both. */
async function withSource(
  options: SourceOptions,
  fn: (src: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_fmp4_" });
  try {
    const src = await makeSource(`${dir}/src.flv`, options);
    await fn(src, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The RFC 6381 profile_idc of ffprobe's H.264 profile names. */
const PROFILE_IDC: Record<string, number> = { "Constrained Baseline": 66, Baseline: 66, Main: 77, High: 100 };

Deno.test({
  name: "Fmp4Container.pack() turns H.264 with B-frames and AAC into fragments ffprobe reads as the source",
  ignore: !HAVE_FFMPEG,
  async fn(t) {
    await withSource({ seconds: 6, bframes: 2 }, async (src, dir) => {
      const { configs, media } = await hubFrames(src);
      const cuts: [string, Cut][] = [
        ["cut at keyframes", { keyframes: true }],
        ["cut into 300 ms parts before video frames", { partMs: 300, partKind: FrameKind.Video }],
        ["cut into 300 ms parts before any frame", { partMs: 300 }],
      ];
      for (const [label, cut] of cuts) {
        await t.step(
          `Fmp4Container.pack() ${label}: same packets, times within 1 ms, boxes that add up`,
          async () => {
            const runs = cutRuns(media, cut, 40);
            if ("partMs" in cut) {
              assert(runs.filter((r) => !r.segmentStart).length > 10, "parts between keyframes");
            }
            const { init, fragments } = mux(configs, runs);
            const out = `${dir}/${label.replaceAll(" ", "_")}.mp4`;
            await Deno.writeFile(out, concat([init, ...fragments]));
            await checkAgainstSource(src, out, ["video", "audio"], label);
            const read = checkFragments(fragments, label, media);
            assertEquals(
              read[0].trafs.map((x) => x.trackId),
              [TrackId.Video, TrackId.Audio],
            );
            const video = read.flatMap((f) => f.trafs.filter((x) => x.trackId === TrackId.Video));
            const firsts = video.map((x) => x.samples[0].flags);
            assertEquals(firsts[0], SampleFlags.Sync, `${label}: the first sample is a sync sample`);
            if ("partMs" in cut) {
              assert(firsts.includes(SampleFlags.NonSync), `${label}: parts start at non-sync`);
            }
          },
        );
      }
      await t.step(
        "Fmp4Container.codecs() names the profile and level ffprobe reports for the source",
        async () => {
          const { container } = mux(configs, cutRuns(media, { keyframes: true }, 40));
          const streams = (await probeJson(src, "stream=codec_type,profile,level")).streams;
          const v = streams.find((s) => s.codec_type === "video")!;
          const [avc, aac] = container.codecs();
          assertEquals(
            avc.slice(0, 7),
            `avc1.${PROFILE_IDC[v.profile as string].toString(16)}`,
            `profile ${v.profile}`,
          );
          assertEquals(parseInt(avc.slice(9), 16), v.level, "level_idc");
          assertEquals(aac, "mp4a.40.2", "AAC LC");
        },
      );
    });
  },
});

Deno.test({
  name: "Fmp4Container.pack() muxes a video-only stream that ffprobe reads as the source",
  ignore: !HAVE_FFMPEG,
  async fn() {
    await withSource({ seconds: 6, bframes: 2, audio: false }, async (src, dir) => {
      const { configs, media } = await hubFrames(src);
      const { container, init, fragments } = mux(configs, cutRuns(media, { partMs: 300 }, 40));
      assertEquals(container.codecs().length, 1);
      const out = `${dir}/video.mp4`;
      await Deno.writeFile(out, concat([init, ...fragments]));
      await checkAgainstSource(src, out, ["video"], "video only");
      checkFragments(fragments, "video only", media);
    });
  },
});

Deno.test({
  name: "Fmp4Container.pack() muxes an audio-only stream that ffprobe reads as the source",
  ignore: !HAVE_FFMPEG,
  async fn() {
    await withSource({ seconds: 6, video: false }, async (src, dir) => {
      const { configs, media } = await hubFrames(src);
      const { container, init, fragments } = mux(configs, cutRuns(media, { partMs: 300 }, 23));
      assertEquals(container.codecs(), ["mp4a.40.2"]);
      const out = `${dir}/audio.mp4`;
      await Deno.writeFile(out, concat([init, ...fragments]));
      await checkAgainstSource(src, out, ["audio"], "audio only");
      const read = checkFragments(fragments, "audio only", media);
      const durations = read.flatMap((f) => f.trafs.flatMap((x) => x.samples.map((s) => s.duration)));
      assertEquals(new Set(durations), new Set([1024]), "every AAC frame lasts 1024 samples");
    });
  },
});

/** What a page's Media Source Extensions made of an init segment and fragments appended one by one. */
interface MsePlayback {
  unsupported?: string;
  errors: string[];
  ranges: number[][];
  ended: boolean;
  decodedFrames: number;
}

/**
 * The page side (a string: this project's type check has no DOM library):
 * `playFragments(type, chunks)` appends each base64 chunk to one SourceBuffer,
 * waiting for each append, then plays at 4x to the end (15 s at most).
 */
const MSE_PAGE_SCRIPT = `
async function playFragments(type, chunks) {
  const errors = [];
  if (!MediaSource.isTypeSupported(type)) return { unsupported: type, errors, ranges: [], ended: false, decodedFrames: 0 };
  const video = document.querySelector("video");
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener("sourceopen", r, { once: true }));
  const sb = ms.addSourceBuffer(type);
  sb.addEventListener("error", () => errors.push("SourceBuffer error"));
  video.addEventListener("error", () => errors.push("video error " + video.error.message));
  for (const chunk of chunks) {
    sb.appendBuffer(Uint8Array.from(atob(chunk), (c) => c.charCodeAt(0)));
    await new Promise((r) => sb.addEventListener("updateend", r, { once: true }));
  }
  ms.endOfStream();
  const ranges = [];
  for (let i = 0; i < sb.buffered.length; i++) ranges.push([sb.buffered.start(i), sb.buffered.end(i)]);
  video.playbackRate = 4;
  await video.play().catch((e) => errors.push(String(e)));
  await new Promise((r) => {
    video.addEventListener("ended", r, { once: true });
    setTimeout(r, 15000);
  });
  return { errors, ranges, ended: video.ended, decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames };
}`;

function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

Deno.test({
  name: "Fmp4Container parts cut before any frame play through Chromium's Media Source Extensions to the end",
  ignore: !HAVE_FFMPEG || !haveChromium(),
  async fn() {
    await withSource({ seconds: 6, bframes: 2 }, async (src) => {
      const { configs, media } = await hubFrames(src);
      const { container, init, fragments } = mux(configs, cutRuns(media, { partMs: 300 }, 40));
      const sourceVideo = ofType(await probePackets(src), "video").length;
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.setContent(`<video muted></video><script>${MSE_PAGE_SCRIPT}</script>`);
        const type = `video/mp4; codecs="${container.codecs().join(",")}"`;
        const chunks = [init, ...fragments].map(base64);
        const result = await page.evaluate<MsePlayback>(
          `playFragments(${JSON.stringify(type)}, ${JSON.stringify(chunks)})`,
        );
        assertEquals(result.unsupported, undefined, "Chromium plays H.264 + AAC in MP4");
        assertEquals(result.errors, []);
        assertEquals(result.ranges.length, 1, `one buffered range: ${JSON.stringify(result.ranges)}`);
        assertLess(result.ranges[0][0], 0.1);
        assertLess(6, result.ranges[0][1]);
        assert(result.ended, "played to the end");
        // A hole between parts would make MSE drop every frame up to the next keyframe.
        assertEquals(result.decodedFrames, sourceVideo, "every video frame decoded");
      } finally {
        await browser.close();
      }
    });
  },
});

// ---- configuration and edge cases, on hand-made frames

function frame(kind: FrameKind, timestamp: number, payload: Uint8Array): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq: 0, prevTimestamp: -1, packed: {} };
}

/** An FLV AVC sequence header: keyframe, CodecID 7, AVCPacketType 0, CompositionTime 0, the record. */
const AVC_HEADER = frame(
  FrameKind.Video,
  0,
  hex(`
    17 00 00 00 00             # keyframe + AVC, sequence header, CompositionTime 0
    01 42 c0 0d ff             # record: version 1, Baseline, 0xc0, level 1.3, lengthSize 4
    e1 00 04 67 42 c0 0d       # one SPS (4 bytes: no size to read)
    01 00 02 68 ce             # one PPS
  `),
);
/** AAC sequence header: AAC, AACPacketType 0, AudioSpecificConfig LC 44.1 kHz stereo. */
const AAC_HEADER = frame(FrameKind.Audio, 0, hex(`af 00 12 10`));
/** The same at 48 kHz mono. */
const AAC_HEADER_48K = frame(FrameKind.Audio, 0, hex(`af 00 11 88`));

function avcFrame(timestamp: number, keyframe: boolean, ctsMs = 0): MediaFrame {
  return frame(
    FrameKind.Video,
    timestamp,
    new Uint8Array([
      keyframe ? 0x17 : 0x27,
      1,
      (ctsMs >> 16) & 0xff,
      (ctsMs >> 8) & 0xff,
      ctsMs & 0xff,
      0,
      0,
      0,
      1,
      0x65,
    ]),
  );
}

function aacFrame(timestamp: number): MediaFrame {
  return frame(FrameKind.Audio, timestamp, hex(`af 01 21 10 04`));
}

Deno.test("Fmp4Container.configure() says true only when a configuration changes after media went out", () => {
  const c = new Fmp4Container();
  assertEquals(c.init(), undefined, "nothing configured yet");
  assertEquals(c.codecs(), []);
  assertEquals(c.configure(AVC_HEADER), false);
  assertEquals(c.configure(AAC_HEADER), false);
  assertEquals(c.configure(AAC_HEADER_48K), false, "changed before any media: no player has the old init");
  assertEquals(c.codecs(), ["avc1.42c00d", "mp4a.40.2"]);
  const before = c.init()!;
  c.pack([avcFrame(0, true), aacFrame(0)], 40, true);
  assertEquals(c.configure(AVC_HEADER), false, "the same header again");
  assertEquals(c.init(), before, "the same init segment");
  assertEquals(c.configure(AAC_HEADER), true, "44.1 kHz after 48 kHz media");
  const after = c.init()!;
  assert(after.length === before.length && !after.every((v, i) => v === before[i]), "a new init segment");
});

Deno.test("Fmp4Container leaves out codecs it does not carry and malformed records, without throwing", () => {
  const c = new Fmp4Container();
  const hevcStart = frame(FrameKind.Video, 0, hex(`90 68 76 63 31  01 01 60 00 00 00`)); // Enhanced RTMP 'hvc1'
  const mp3 = frame(FrameKind.Audio, 0, hex(`2f ff fb 90 00`));
  const badAvc = frame(FrameKind.Video, 0, hex(`17 00 00 00 00 02 42`)); // configurationVersion 2
  const badAac = frame(FrameKind.Audio, 0, hex(`af 00 12`)); // ends inside channelConfiguration
  for (const f of [hevcStart, mp3, badAvc, badAac, frame(FrameKind.Data, 0, hex(`02 00 01 61`))]) {
    assertEquals(c.configure(f), false);
  }
  assertEquals(c.codecs(), []);
  assertEquals(c.init(), undefined);
  c.configure(AAC_HEADER);
  assertEquals(c.pack([mp3, avcFrame(0, true)], 40, true), new Uint8Array(0), "no sample it carries: empty");
  const [f] = readFragments(c.pack([mp3, aacFrame(0)], 23, true));
  assertEquals(f.sequenceNumber, 1, "the empty run took no sequence number");
  assertEquals(f.trafs.map((t) => [t.trackId, t.samples.length]), [[TrackId.Audio, 1]]);
});

Deno.test("Fmp4Container.pack() ends a run's last video sample at nextTimestamp, or as long as the one before", () => {
  const c = new Fmp4Container();
  c.configure(AVC_HEADER);
  const durations = (b: Uint8Array) => readFragments(b)[0].trafs[0].samples.map((s) => s.duration);
  assertEquals(durations(c.pack([avcFrame(0, true, 80), avcFrame(40, false)], 80, true)), [3600, 3600]);
  // Cut before an audio frame at 85 ms: the next video frame is at 120, so 5 ms would leave a hole.
  assertEquals(durations(c.pack([avcFrame(80, false)], 85, false)), [3600]);
  const [f] = readFragments(c.pack([avcFrame(120, false, -40)], 160, false));
  assertEquals(f.trafs[0].baseMediaDecodeTime, 120 * 90, "the next run starts at its own timestamp");
  assertEquals(f.trafs[0].samples[0].compositionOffset, -40 * 90, "a negative CompositionTime stays signed");
});

Deno.test("Fmp4Container.pack() throws RangeError for a run over the sample cap and keeps its audio count", () => {
  const c = new Fmp4Container();
  c.configure(AAC_HEADER);
  const frames = Array.from({ length: MAX_FRAGMENT_SAMPLES + 1 }, (_, i) => aacFrame(Math.round(i * 23.22)));
  assertThrows(() => c.pack(frames, 1e6, true), RangeError, `limit ${MAX_FRAGMENT_SAMPLES}`);
  const [f] = readFragments(c.pack([aacFrame(1000)], 1023, true));
  assertEquals(
    [f.sequenceNumber, f.trafs[0].baseMediaDecodeTime],
    [1, 44100],
    "counted from the hub time again",
  );
});
