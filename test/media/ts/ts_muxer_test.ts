/**
 * TsMuxer: the tables, configuration and frame rules on hand-made frames, then
 * real streams made by ffmpeg muxed to .ts files that ffprobe and ffmpeg judge
 * and that a strict reader (ts_stream_check.ts) walks packet by packet.
 */
import { ProtocolError } from "../../../src/errors.ts";
import { classify, FrameKind, type MediaFrame } from "../../../src/media/frame.ts";
import { TS_PACKED_KEY, TsMuxer, TsPid, TsTiming } from "../../../src/media/ts/ts_muxer.ts";
import { concatBytes } from "../../../src/bytes.ts";
import { assert, assertEquals, assertGreater, assertLess, assertThrows } from "../../_util/assert.ts";
import { flvFrames } from "../../_util/flv_frames.ts";
import {
  decodeErrors,
  dtsBackwards,
  haveTools,
  makeSource,
  ofType,
  type Packet,
  probePackets,
  runOk,
  type SourceOptions,
} from "../../_util/media.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../../fixtures/flv_fixtures.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";
import { nalTypes, readTransportStream } from "./ts_stream_check.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");

let seq = 0;
/** A hub frame, flagged as the hub flags it. */
function frame(kind: FrameKind, timestamp: number, payload: Uint8Array): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq: ++seq, prevTimestamp: -1, packed: {} };
}

const AVC_HEADER = () =>
  frame(
    FrameKind.Video,
    0,
    concat([hex(`17 00 00 00 00  # keyframe, AVC, sequence header, CTS 0`), AVC_CONFIG_BASELINE]),
  );
const AAC_HEADER = () =>
  frame(FrameKind.Audio, 0, hex(`af 00 12 08  # AAC, sequence header, LC 44.1 kHz mono`));
const IDR = hex(`00 00 00 06  65 88 84 00 33 ff`);
const KEYFRAME = (ts: number) =>
  frame(FrameKind.Video, ts, concat([hex(`17 01 00 00 28  # keyframe, AVC NALU, CTS 40 ms`), IDR]));
const AAC_RAW = (ts: number) =>
  frame(FrameKind.Audio, ts, concat([hex(`af 01`), new Uint8Array(200).fill(0x21)]));

/** ffmpeg's PAT and PMT packets for H.264 on 0x100 and AAC on 0x101 (continuity counters 0). */
const FFMPEG_TABLES = concat([
  hex(`47 40 00 10  00  00 b0 0d 00 01 c1 00 00 00 01 f0 00 2a b1 04 b2`),
  new Uint8Array(188 - 21).fill(0xff),
  hex(`47 50 00 10  00  02 b0 17 00 01 c1 00 00 e1 00 f0 00 1b e1 00 f0 00 0f e1 01 f0 00 2f 44 b9 9b`),
  new Uint8Array(188 - 31).fill(0xff),
]);

Deno.test("TsMuxer.tables() writes the PAT and PMT ffmpeg writes once both tracks are configured", () => {
  const m = new TsMuxer();
  m.configure(AVC_HEADER());
  m.configure(AAC_HEADER());
  assertEquals(m.tables(), FFMPEG_TABLES);
  const again = m.tables();
  assertEquals([again[3], again[191]], [0x11, 0x11], "the counters went up by one");
});

Deno.test("TsMuxer.tables() lists only the tracks seen or asked for, PCR on video when there is video", () => {
  const pmt = (m: TsMuxer) => readTransportStream(m.tables());
  const audioOnly = new TsMuxer();
  audioOnly.configure(AAC_HEADER());
  assertEquals([...pmt(audioOnly).streams], [[TsPid.Audio, 0x0f]]);
  assertEquals(pmt(audioOnly).pcrPid, TsPid.Audio);
  const videoOnly = new TsMuxer({ audio: false });
  videoOnly.configure(AVC_HEADER());
  videoOnly.configure(AAC_HEADER());
  assertEquals([...pmt(videoOnly).streams], [[TsPid.Video, 0x1b]]);
  assertEquals(pmt(videoOnly).pcrPid, TsPid.Video);
  const declared = new TsMuxer({ audio: true, video: true });
  assertEquals([...pmt(declared).streams], [[TsPid.Video, 0x1b], [TsPid.Audio, 0x0f]], "before any header");
  assertEquals(pmt(new TsMuxer()).pcrPid, 0x1fff, "no tracks, no PCR");
});

Deno.test("TsMuxer.tables() raises the PMT version_number when a track joins", () => {
  const m = new TsMuxer();
  m.configure(AVC_HEADER());
  const first = m.tables();
  assertEquals(first[188 + 10] & 0x3e, 0, "version 0");
  const second = m.tables();
  assertEquals(second[188 + 10] & 0x3e, 0, "unchanged tracks, same version");
  m.configure(AAC_HEADER());
  const later = m.tables();
  assertEquals((later[188 + 10] >> 1) & 0x1f, 1, "version 1");
  assertEquals(readTransportStream(concat([first, second, later])).errors, []);
});

Deno.test("TsMuxer.configure() reports a change only after media and only when the config differs", () => {
  const m = new TsMuxer();
  assertEquals(m.configure(AVC_HEADER()), false, "before media");
  assertEquals(m.configure(AAC_HEADER()), false, "before media");
  m.packFrame(KEYFRAME(0));
  assertEquals(m.configure(AVC_HEADER()), false, "the same record again");
  assertEquals(m.configure(frame(FrameKind.Data, 0, hex(`02 00 0a`))), false, "metadata");
  const other = concat([
    hex(`17 00 00 00 00`),
    AVC_CONFIG_BASELINE.slice(0, 3),
    hex(`1f`),
    AVC_CONFIG_BASELINE.slice(4),
  ]);
  assertEquals(m.configure(frame(FrameKind.Video, 40, other)), true, "level 3.1 now");
  assertEquals(m.codecs(), ["avc1.42c01f", "mp4a.40.2"]);
  assertEquals(m.configure(frame(FrameKind.Audio, 40, hex(`af 00 11 90`))), true, "48 kHz stereo now");
});

Deno.test("TsMuxer.configure() throws ProtocolError for a broken record and keeps the one before", () => {
  const m = new TsMuxer();
  m.configure(AVC_HEADER());
  assertThrows(
    () => m.configure(frame(FrameKind.Video, 0, hex(`17 00 00 00 00  01 42 c0 0d ff e1 00 13 67`))),
    ProtocolError,
    "Cannot read AVCDecoderConfigurationRecord",
  );
  assertEquals(m.codecs(), ["avc1.42c00d"]);
  assertGreater(m.packFrame(KEYFRAME(0)).length, 0);
});

Deno.test("TsMuxer.codecs() names the configured tracks as RFC 6381 strings", () => {
  const m = new TsMuxer();
  assertEquals(m.codecs(), []);
  m.configure(AVC_HEADER());
  m.configure(frame(FrameKind.Audio, 0, hex(`af 00 2b 11 88 00  # HE-AAC, explicit SBR`)));
  assertEquals(m.codecs(), ["avc1.42c00d", "mp4a.40.5"]);
});

Deno.test("TsMuxer.packFrame() writes a keyframe as AUD, SPS, PPS and the slice with PCR, PTS and DTS", () => {
  const m = new TsMuxer();
  m.configure(AVC_HEADER());
  const r = readTransportStream(concat([m.tables(), m.packFrame(KEYFRAME(1000))]));
  assertEquals(r.errors, []);
  assertEquals(r.pes.length, 1);
  const [p] = r.pes;
  const dts = (1000 + TsTiming.OffsetMs) * 90;
  assertEquals([p.pid, p.streamId, p.dts, p.pts, p.hasDts], [TsPid.Video, 0xe0, dts, dts + 40 * 90, true]);
  assertEquals(p.pcr, (1000 + TsTiming.OffsetMs - TsTiming.PcrLeadMs) * 90 * 300);
  assertEquals([p.randomAccess, p.packetLength], [true, 0]);
  assertEquals(nalTypes(p.payload), [9, 7, 8, 5]);
});

Deno.test("TsMuxer.packFrame() writes an AAC frame as one PES with its length and an ADTS header", () => {
  const m = new TsMuxer();
  m.configure(AAC_HEADER());
  const r = readTransportStream(concat([m.tables(), m.packFrame(AAC_RAW(500))]));
  assertEquals(r.errors, []);
  const [p] = r.pes;
  assertEquals([p.pid, p.streamId, p.pts, p.hasDts], [
    TsPid.Audio,
    0xc0,
    (500 + TsTiming.OffsetMs) * 90,
    false,
  ]);
  assertEquals(p.packetLength, 3 + 5 + 7 + 200);
  assertEquals(p.payload.subarray(0, 7), hex(`ff f1 50 40 19 ff fc  # ADTS, LC, 44.1 kHz, mono, 207 bytes`));
  assertEquals(p.pcr !== undefined && p.randomAccess, true, "audio-only: audio carries the PCR");
});

Deno.test("TsMuxer.packFrame() packs each frame once and shares the cached bytes", () => {
  const m = new TsMuxer();
  m.configure(AVC_HEADER());
  const f = KEYFRAME(0);
  const a = m.packFrame(f);
  assert(f.packed[TS_PACKED_KEY] === a, "cached on frame.packed.ts");
  assert(m.packFrame(f) === a, "the same array the second time");
  const next = m.packFrame(KEYFRAME(40));
  assertEquals(next[3] & 0x0f, (a.length / 188) & 15, "the repeat did not advance the counter");
});

Deno.test("TsMuxer.packFrame() packs Enhanced RTMP avc1 and mp4a frames as the legacy ones", () => {
  const legacy = new TsMuxer();
  legacy.configure(AVC_HEADER());
  legacy.configure(AAC_HEADER());
  const enhanced = new TsMuxer();
  // ExVideoTagHeader: IsExHeader, FrameType 1, PacketType 0 (SequenceStart) / 1 (CodedFrames), FourCC avc1.
  enhanced.configure(frame(FrameKind.Video, 0, concat([hex(`90 61 76 63 31`), AVC_CONFIG_BASELINE])));
  // ExAudioTagHeader: SoundFormat 9 (ExHeader), PacketType 0 / 1, FourCC mp4a.
  enhanced.configure(frame(FrameKind.Audio, 0, hex(`90 6d 70 34 61  12 08`)));
  assertEquals(enhanced.tables(), legacy.tables());
  const exKey = frame(FrameKind.Video, 80, concat([hex(`91 61 76 63 31  00 00 28`), IDR]));
  assertEquals(enhanced.packFrame(exKey), legacy.packFrame(KEYFRAME(80)));
  const exKeyX = frame(FrameKind.Video, 120, concat([hex(`93 61 76 63 31`), IDR]));
  const keyNoCts = frame(FrameKind.Video, 120, concat([hex(`17 01 00 00 00`), IDR]));
  assertEquals(enhanced.packFrame(exKeyX), legacy.packFrame(keyNoCts), "CodedFramesX: composition time 0");
  const raw = new Uint8Array(200).fill(0x21);
  assertEquals(
    enhanced.packFrame(frame(FrameKind.Audio, 90, concat([hex(`91 6d 70 34 61`), raw]))),
    legacy.packFrame(AAC_RAW(90)),
  );
});

Deno.test("TsMuxer.packFrame() packs nothing for codecs and frames it does not carry", () => {
  const m = new TsMuxer({ video: true, audio: true });
  assertEquals(m.packFrame(KEYFRAME(0)).length, 0, "no AVC configuration yet");
  assertEquals(m.packFrame(AAC_RAW(0)).length, 0, "no AudioSpecificConfig yet");
  m.configure(AVC_HEADER());
  m.configure(AAC_HEADER());
  const none = [
    AVC_HEADER(),
    frame(FrameKind.Video, 0, hex(`1c 01 00 00 00  00 00 00 02 26 01  # legacy HEVC (CodecID 12)`)),
    frame(FrameKind.Video, 0, hex(`91 68 76 63 31  00 00 00  00 00 00 02 26 01  # Enhanced hvc1`)),
    frame(FrameKind.Video, 0, hex(`17 02 00 00 00  # AVC end of sequence`)),
    frame(FrameKind.Audio, 0, hex(`2f ff fb 90 00  # MP3`)),
    frame(FrameKind.Audio, 0, hex(`91 4f 70 75 73 00 01  # Enhanced Opus`)),
    frame(FrameKind.Audio, 0, hex(`af 01  # an empty AAC frame`)),
    frame(FrameKind.Data, 0, hex(`02 00 0a 6f 6e 4d 65 74 61 44 61 74 61`)),
    frame(FrameKind.Video, 0, new Uint8Array(0)),
  ];
  for (const f of none) assertEquals(m.packFrame(f).length, 0, `payload ${f.payload.subarray(0, 5)}`);
  const noVideo = new TsMuxer({ video: false });
  noVideo.configure(AVC_HEADER());
  assertEquals(noVideo.packFrame(KEYFRAME(0)).length, 0, "video left out");
  assertEquals(noVideo.codecs(), []);
});

Deno.test("TsMuxer.packFrame() refuses frames over the caps and throws ProtocolError on broken AVCC", () => {
  const m = new TsMuxer();
  m.configure(AVC_HEADER());
  m.configure(AAC_HEADER());
  assertThrows(
    () => m.packFrame(frame(FrameKind.Audio, 0, concat([hex(`af 01`), new Uint8Array(8185)]))),
    RangeError,
    "Cannot write ADTS header: AAC frame is 8185 bytes, limit 8184",
  );
  const huge = new Uint8Array(5 + 4 + 12 * 1024 * 1024);
  huge.set(hex(`17 01 00 00 00`));
  new DataView(huge.buffer).setUint32(5, huge.length - 9);
  huge[9] = 0x65;
  assertThrows(
    () => m.packFrame(frame(FrameKind.Video, 0, huge)),
    RangeError,
    `Cannot mux video frame: its PES is ${14 + 6 + 23 + 8 + 4 + huge.length - 9} bytes, limit 12582912`,
  );
  assertThrows(
    () => m.packFrame(frame(FrameKind.Video, 0, hex(`27 01 00 00 00  00 00 00 09 41 9a`))),
    ProtocolError,
    "Cannot convert AVCC to Annex B: NAL unit at byte 0 has length 9, 2 bytes left",
  );
});

// ---- real streams, judged by ffprobe and ffmpeg

/** Muxes every frame of an FLV file: tables first, sequence headers to configure(), the rest to packFrame(). */
function muxFile(flv: Uint8Array, opts?: ConstructorParameters<typeof TsMuxer>[0]): Uint8Array {
  const m = new TsMuxer(opts);
  const frames = flvFrames(flv);
  for (const f of frames) if (f.sequenceHeader) m.configure(f);
  const parts = [m.tables()];
  for (const f of frames) {
    if (f.sequenceHeader) m.configure(f);
    else parts.push(m.packFrame(f));
  }
  return concatBytes(parts);
}

async function duration(path: string): Promise<number> {
  const r = await runOk("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "format=duration",
    "-of",
    "csv=p=0",
    path,
  ], 30_000);
  return Number(r.stdout.trim());
}

/** Muxes a made source and checks what a real client sees; returns the TS packets ffprobe read. */
async function muxAndJudge(o: SourceOptions, kinds: string[]): Promise<Packet[]> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_ts_" });
  try {
    const flvPath = await makeSource(`${dir}/src.flv`, o);
    const ts = muxFile(await Deno.readFile(flvPath));
    const tsPath = `${dir}/out.ts`;
    await Deno.writeFile(tsPath, ts);

    const report = readTransportStream(ts);
    assertEquals(report.errors, [], "the strict reader");
    assert(report.pes.some((p) => p.pcr !== undefined), "PCRs present");

    assertEquals(await decodeErrors(tsPath), "", "ffmpeg -v error -i out.ts -f null -");
    const [src, out] = await Promise.all([probePackets(flvPath), probePackets(tsPath)]);
    for (const kind of ["video", "audio"]) {
      const want = kinds.includes(kind) ? ofType(src, kind).length : 0;
      assertEquals(ofType(out, kind).length, want, `${kind} packets: the source's`);
      if (want === 0) continue;
      assertEquals(dtsBackwards(ofType(out, kind)), [], `${kind} DTS monotonic`);
      if (kind === "audio") {
        // Each TS audio packet is the source's raw AAC frame behind its 7-byte ADTS header.
        assertEquals(ofType(out, kind).map((p) => p.size), ofType(src, kind).map((p) => p.size + 7), "sizes");
      } else {
        // Composition times survive: TS times are 90 kHz, FLV's milliseconds.
        assertEquals(
          ofType(out, kind).map((p) => (p.pts - p.dts) / 90),
          ofType(src, kind).map((p) => p.pts - p.dts),
          "composition offsets",
        );
      }
    }
    if (kinds.includes("video")) {
      const v = ofType(out, "video");
      assert(v[0].keyframe, "the first video packet is a keyframe");
      assertEquals(
        v.filter((p) => p.keyframe).length,
        ofType(src, "video").filter((p) => p.keyframe).length,
        "keyframes",
      );
      // Every video PES: AUD first; keyframes carry SPS and PPS before the IDR slice and the random access flag.
      for (const p of report.pes.filter((p) => p.pid === TsPid.Video)) {
        const types = nalTypes(p.payload);
        assertEquals(types[0], 9, `PES at packet ${p.packet} starts with an AUD`);
        if (types.includes(5)) {
          assert(p.randomAccess, `keyframe PES at packet ${p.packet} has random_access_indicator`);
          assertLess(types.indexOf(7), types.indexOf(5), "SPS before the IDR slice");
          assertLess(types.indexOf(8), types.indexOf(5), "PPS before the IDR slice");
        }
      }
    }
    const d = await duration(tsPath);
    assert(Math.abs(d - o.seconds) < 0.3, `duration ${d} s, made ${o.seconds} s`);
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "TsMuxer muxes a 6 s H.264 + AAC stream with B-frames that ffprobe reads frame for frame",
  ignore: !TOOLS,
  async fn() {
    const out = await muxAndJudge({ seconds: 6, bframes: 2 }, ["video", "audio"]);
    assert(ofType(out, "video").some((p) => p.pts !== p.dts), "B-frames keep PTS != DTS");
  },
});

Deno.test({
  name: "TsMuxer muxes an audio-only stream, the PCR on the audio PID",
  ignore: !TOOLS,
  async fn() {
    await muxAndJudge({ seconds: 3, video: false }, ["audio"]);
  },
});

Deno.test({
  name: "TsMuxer muxes a video-only stream",
  ignore: !TOOLS,
  async fn() {
    await muxAndJudge({ seconds: 3, audio: false, bframes: 0 }, ["video"]);
  },
});
