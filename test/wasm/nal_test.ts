/**
 * One suite for the NAL hot paths, run against the WASM implementation
 * (src/wasm/nal.ts) and its TypeScript twin (test/_util/nal_ref.ts), plus
 * differential tests between the two.
 */
import { ProtocolError } from "../../src/errors.ts";
import { abi, codec } from "../../src/wasm/module.ts";
import * as wasm from "../../src/wasm/nal.ts";
import type { NalSpan, SpsInfo } from "../../src/wasm/nal.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { mutations, seededRandom, truncations } from "../_util/mutate.ts";
import * as ref from "../_util/nal_ref.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { encodeFlv, flvToAnnexB } from "../fixtures/flv_fixtures.ts";
import { FlvReader } from "../../src/media/flv.ts";
import {
  ANNEXB_SAMPLE,
  ANNEXB_SAMPLE_NORMALIZED,
  ANNEXB_SAMPLE_SPANS,
  AVCC_SAMPLE,
  AVCC_SAMPLE_1,
  bits,
  concat,
  encodeH264,
  type H264Case,
  PPS_BASELINE,
  probeVideo,
  SPS_BASELINE_320X180,
  SPS_BASELINE_320X180_HEX,
  SPS_BASELINE_320X180_INFO,
  SPS_HIGH_SCALING_1080P,
  SPS_HIGH_SCALING_1080P_INFO,
  SPS_MAIN_POC1_576I,
  SPS_MAIN_POC1_576I_INFO,
} from "../fixtures/nal_fixtures.ts";

type Impl = typeof wasm;
const IMPLS: [string, Impl][] = [["wasm", wasm], ["ts", ref]];

const ST = abi as unknown as Record<string, number>;

/** B.2 read literally, one byte at a time: the oracle for both scanners. */
function naiveSpans(d: Uint8Array): NalSpan[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < d.length; i++) {
    if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 1) {
      starts.push(i);
      i += 2;
    }
  }
  const spans: NalSpan[] = [];
  starts.forEach((s, k) => {
    const start = s + 3;
    let end = k + 1 < starts.length ? starts[k + 1] : d.length;
    while (end > start && d[end - 1] === 0) end--;
    if (end > start) spans.push({ offset: start, length: end - start });
  });
  return spans;
}

/** Random bytes rich in 00, 01 and 03, so start codes and near misses are common. */
function randomStream(random: () => number, length: number): Uint8Array {
  const pool = [0, 0, 0, 0, 1, 1, 3, 0x41, 0x65, 0xff];
  return Uint8Array.from({ length }, () => pool[Math.floor(random() * pool.length)]);
}

function payloads(data: Uint8Array, spans: readonly NalSpan[]): Uint8Array[] {
  return spans.map((s) => data.subarray(s.offset, s.offset + s.length));
}

/** The error an implementation throws (or the value it returns), for comparing twins. */
function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return e instanceof ProtocolError
      ? { code: e.code, message: e.message }
      : { name: (e as Error).name, message: (e as Error).message };
  }
}

// ---- ffmpeg-made streams, made once per run

const FFMPEG_CASES: (H264Case & { note: string })[] = [
  { width: 320, height: 240, profile: "baseline", note: "Constrained Baseline, no cropping" },
  { width: 1280, height: 720, profile: "main", note: "Main, 720 is 45 MB rows" },
  { width: 1920, height: 1080, profile: "high", note: "High, 1080 cropped from 1088" },
  { width: 330, height: 250, profile: "high", note: "sizes off the 16 grid: right and bottom cropping" },
  { width: 1920, height: 1080, profile: "high422", pixFmt: "yuv422p", note: "4:2:2: CropUnitY 1" },
  { width: 333, height: 199, profile: "high444", pixFmt: "yuv444p", note: "odd sizes in 4:4:4: CropUnitX 1" },
  { width: 640, height: 360, profile: "high10", pixFmt: "yuv420p10le", note: "10-bit" },
  { width: 350, height: 286, profile: "high", pixFmt: "gray", note: "monochrome: chroma_format_idc 0" },
  {
    width: 720,
    height: 576,
    profile: "high",
    x264Params: "interlaced=1",
    note: "fields: frame_mbs_only_flag 0",
  },
  { width: 1280, height: 720, profile: "high", rate: "30000/1001", note: "29.97 frames/s" },
];

let madeStreams: Promise<{ c: H264Case & { note: string }; stream: Uint8Array }[]> | undefined;
function ffmpegStreams() {
  return madeStreams ??= Promise.all(FFMPEG_CASES.map(async (c) => ({ c, stream: await encodeH264(c) })));
}

function findSps(stream: Uint8Array): Uint8Array {
  const sps = payloads(stream, ref.scanAnnexB(stream)).find((n) => (n[0] & 0x1f) === 7);
  assert(sps, "the stream has an SPS");
  return sps;
}

/** ffprobe's profile name for an SPS (libavcodec's profile table). */
function ffprobeProfile(info: SpsInfo): string {
  const intra = (info.constraintFlags & 0x10) !== 0; // constraint_set3_flag
  switch (info.profileIdc) {
    case 66:
      return (info.constraintFlags & 0x40) !== 0 ? "Constrained Baseline" : "Baseline";
    case 77:
      return "Main";
    case 100:
      return "High";
    case 110:
      return intra ? "High 10 Intra" : "High 10";
    case 122:
      return intra ? "High 4:2:2 Intra" : "High 4:2:2";
    case 244:
      return intra ? "High 4:4:4 Intra" : "High 4:4:4 Predictive";
    default:
      return `profile_idc ${info.profileIdc}`;
  }
}

/**
 * ffprobe's pix_fmt for an SPS's chroma format and bit depth. libavcodec
 * decodes monochrome (chroma_format_idc 0) to 4:2:0 with flat chroma, and x264
 * marks gray input full range, hence yuvj420p.
 */
function ffprobePixFmt(info: SpsInfo): string {
  const base = ["yuvj420p", "yuv420p", "yuv422p", "yuv444p"][info.chromaFormatIdc];
  return info.bitDepthLuma > 8 ? `${base}${info.bitDepthLuma}le` : base;
}

/** The chroma_format_idc an ffmpeg case asks for. */
function chromaOf(c: H264Case): number {
  return c.pixFmt === "gray"
    ? 0
    : c.pixFmt?.startsWith("yuv422")
    ? 2
    : c.pixFmt?.startsWith("yuv444")
    ? 3
    : 1;
}

// ---- the shared suite

for (const [name, impl] of IMPLS) {
  Deno.test(`[${name}] scanAnnexB() finds NAL units behind 3- and 4-byte start codes`, () => {
    assertEquals(impl.scanAnnexB(ANNEXB_SAMPLE), ANNEXB_SAMPLE_SPANS);
  });

  Deno.test(`[${name}] scanAnnexB() finds a start code at every offset of inputs of every length up to 200`, () => {
    // Filler full of 00 00 03 (the near miss emulation prevention makes) exercises the candidate check.
    for (let len = 0; len <= 200; len++) {
      for (let at = 0; at + 3 <= len; at++) {
        const d = Uint8Array.from({ length: len }, (_, i) => [0x00, 0x00, 0x03, 0x41][i % 4]);
        d.set([0, 0, 1], at);
        const got = impl.scanAnnexB(d);
        const want = naiveSpans(d);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          assertEquals(got, want, `start code at ${at} of ${len}`);
        }
      }
    }
  });

  Deno.test(`[${name}] scanAnnexB() agrees with a byte-by-byte reading on random streams`, () => {
    const random = seededRandom(0x5eed);
    for (let i = 0; i < 300; i++) {
      const d = randomStream(random, Math.floor(random() * 3000));
      assertEquals(impl.scanAnnexB(d), naiveSpans(d), `stream ${i}`);
    }
  });

  Deno.test(`[${name}] scanAnnexB() finds parameter sets, SEI and slices in ffmpeg streams`, async () => {
    for (const { c, stream } of await ffmpegStreams()) {
      const spans = impl.scanAnnexB(stream);
      assertEquals(spans, naiveSpans(stream), c.note);
      const types = payloads(stream, spans).map((n) => n[0] & 0x1f);
      assertEquals(types.slice(0, 3), [7, 8, 6], `${c.note}: SPS, PPS, SEI first`);
      assertEquals(types.find((t) => t === 1 || t === 5), 5, `${c.note}: an IDR slice first`);
    }
  });

  Deno.test(`[${name}] scanAnnexB() takes exactly CODEC_SPANS_CAP NAL units and refuses one more`, () => {
    const unit = hex(`00 00 01 09`); // 3-byte start code, 1-byte AUD header
    const many = (n: number) => {
      const d = new Uint8Array(n * 4);
      for (let i = 0; i < n; i++) d.set(unit, i * 4);
      return d;
    };
    assertEquals(impl.scanAnnexB(many(abi.CODEC_SPANS_CAP)).length, abi.CODEC_SPANS_CAP);
    const e = assertThrows(() => impl.scanAnnexB(many(abi.CODEC_SPANS_CAP + 1)), ProtocolError);
    assertEquals(e.code, ST.ST_OUTPUT_TOO_LONG);
    assertEquals(
      e.message,
      `ST_OUTPUT_TOO_LONG: Cannot scan Annex B: ${
        abi.CODEC_SPANS_CAP + 1
      } NAL units, limit ${abi.CODEC_SPANS_CAP}`,
    );
  });

  Deno.test(`[${name}] scanAnnexB(), annexBToAvcc(), avccToAnnexB() and parseSps() refuse input over CODEC_IN_SIZE`, () => {
    const big = new Uint8Array(abi.CODEC_IN_SIZE + 1);
    const calls: [string, () => unknown][] = [
      ["scan Annex B", () => impl.scanAnnexB(big)],
      ["convert Annex B to AVCC", () => impl.annexBToAvcc(big)],
      ["convert AVCC to Annex B", () => impl.avccToAnnexB(big)],
      ["parse SPS", () => impl.parseSps(big)],
    ];
    for (const [what, call] of calls) {
      const e = assertThrows(call, ProtocolError);
      assertEquals(e.code, ST.ST_INPUT_TOO_LONG);
      assertEquals(
        e.message,
        `ST_INPUT_TOO_LONG: Cannot ${what}: input is ${big.length} bytes, limit ${abi.CODEC_IN_SIZE}`,
      );
    }
  });

  Deno.test(`[${name}] annexBToAvcc() prefixes each NAL unit with its 4-, 2- or 1-byte length`, () => {
    assertEquals(impl.annexBToAvcc(ANNEXB_SAMPLE), AVCC_SAMPLE);
    assertEquals(impl.annexBToAvcc(ANNEXB_SAMPLE, 1), AVCC_SAMPLE_1);
    const two = concat(
      payloads(ANNEXB_SAMPLE, ANNEXB_SAMPLE_SPANS).flatMap((n) => [
        Uint8Array.of(n.length >> 8, n.length & 0xff),
        n,
      ]),
    );
    assertEquals(impl.annexBToAvcc(ANNEXB_SAMPLE, 2), two);
  });

  Deno.test(`[${name}] annexBToAvcc() makes nothing of input without a start code`, () => {
    assertEquals(impl.annexBToAvcc(new Uint8Array(0)), new Uint8Array(0));
    assertEquals(impl.annexBToAvcc(hex(`00 00 00 00 41 42`)), new Uint8Array(0));
  });

  Deno.test(`[${name}] avccToAnnexB() puts a 4-byte start code before each NAL unit`, () => {
    assertEquals(impl.avccToAnnexB(AVCC_SAMPLE), ANNEXB_SAMPLE_NORMALIZED);
    assertEquals(impl.avccToAnnexB(AVCC_SAMPLE_1, 1), ANNEXB_SAMPLE_NORMALIZED);
    assertEquals(impl.avccToAnnexB(impl.annexBToAvcc(ANNEXB_SAMPLE, 2), 2), ANNEXB_SAMPLE_NORMALIZED);
  });

  Deno.test(`[${name}] avccToAnnexB() drops zero-length NAL units`, () => {
    assertEquals(
      impl.avccToAnnexB(hex(`
        00 00 00 00             # NALUnitLength 0
        00 00 00 02 09 f0       # NALUnitLength 2, AUD
        00 00 00 00             # NALUnitLength 0
      `)),
      hex(`00 00 00 01 09 f0`),
    );
  });

  Deno.test(`[${name}] annexBToAvcc() and avccToAnnexB() round-trip a stream with 4-byte start codes`, async () => {
    assertEquals(impl.avccToAnnexB(impl.annexBToAvcc(ANNEXB_SAMPLE_NORMALIZED)), ANNEXB_SAMPLE_NORMALIZED);
    for (const { c, stream } of await ffmpegStreams()) {
      // x264 mixes 3- and 4-byte start codes; one round trip makes them all 4-byte.
      const normalized = impl.avccToAnnexB(impl.annexBToAvcc(stream));
      assertEquals(impl.avccToAnnexB(impl.annexBToAvcc(normalized)), normalized, c.note);
      for (const size of [2, 4]) {
        assertEquals(impl.avccToAnnexB(impl.annexBToAvcc(normalized, size), size), normalized, c.note);
      }
      assertEquals(
        payloads(normalized, impl.scanAnnexB(normalized)),
        payloads(stream, impl.scanAnnexB(stream)),
        `${c.note}: the same NAL units`,
      );
    }
  });

  Deno.test(`[${name}] avccToAnnexB() of ffmpeg's FLV video gives the NAL units of ffmpeg's own conversion`, async () => {
    const flv = await encodeFlv();
    const annexB = await flvToAnnexB(flv);
    const fromFlv: Uint8Array[] = [];
    for (const tag of new FlvReader().push(flv)) {
      // VIDEODATA: FrameType/CodecID, AVCPacketType 1 (NALU), CompositionTime; then AVCC.
      if (tag.type === 9 && tag.data[1] === 1) {
        const converted = impl.avccToAnnexB(tag.data.subarray(5));
        fromFlv.push(...payloads(converted, impl.scanAnnexB(converted)));
      }
    }
    // h264_mp4toannexb adds the sequence header's SPS and PPS before key frames; leave parameter sets out.
    const noParams = (units: Uint8Array[]) => units.filter((n) => (n[0] & 0x1f) !== 7 && (n[0] & 0x1f) !== 8);
    assertEquals(noParams(fromFlv), noParams(payloads(annexB, impl.scanAnnexB(annexB))));
  });

  Deno.test(`[${name}] avccToAnnexB() rejects a length prefix or NAL unit that runs past the end`, () => {
    const cut = assertThrows(
      () => impl.avccToAnnexB(AVCC_SAMPLE.subarray(0, AVCC_SAMPLE.length - 1)),
      ProtocolError,
    );
    assertEquals(cut.code, ST.ST_BAD_BITSTREAM);
    assertEquals(
      cut.message,
      "ST_BAD_BITSTREAM: Cannot convert AVCC to Annex B: NAL unit at byte 47 has length 5, 4 bytes left",
    );
    const prefix = assertThrows(() => impl.avccToAnnexB(concat([AVCC_SAMPLE, hex(`00 00`)])), ProtocolError);
    assertEquals(
      prefix.message,
      "ST_BAD_BITSTREAM: Cannot convert AVCC to Annex B: length prefix at byte 56 needs 4 bytes, 2 left",
    );
    const huge = assertThrows(() => impl.avccToAnnexB(hex(`ff ff ff ff 09`)), ProtocolError);
    assertEquals(
      huge.message,
      "ST_BAD_BITSTREAM: Cannot convert AVCC to Annex B: NAL unit at byte 0 has length 4294967295, 1 bytes left",
    );
  });

  Deno.test(`[${name}] avccToAnnexB() refuses output larger than CODEC_OUT_SIZE`, () => {
    // 1-byte lengths of 1-byte units: every 2 bytes in become 5 out.
    const d = new Uint8Array(7 * 1024 * 1024);
    for (let i = 0; i < d.length; i += 2) d.set([1, 9], i);
    const e = assertThrows(() => impl.avccToAnnexB(d, 1), ProtocolError);
    assertEquals(e.code, ST.ST_OUTPUT_TOO_LONG);
    assertEquals(
      e.message,
      `ST_OUTPUT_TOO_LONG: Cannot convert AVCC to Annex B: output is ${
        (d.length / 2) * 5
      } bytes, limit ${abi.CODEC_OUT_SIZE}`,
    );
  });

  Deno.test(`[${name}] annexBToAvcc() rejects a NAL unit too long for the length field`, () => {
    const d = concat([hex(`00 00 00 01`), new Uint8Array(300).fill(0x41)]);
    const e = assertThrows(() => impl.annexBToAvcc(d, 1), ProtocolError);
    assertEquals(e.code, ST.ST_BAD_ARGUMENT);
    assertEquals(
      e.message,
      "ST_BAD_ARGUMENT: Cannot convert Annex B to AVCC: NAL unit at byte 4 is 300 bytes, limit 255 for a 1-byte length",
    );
  });

  Deno.test(`[${name}] annexBToAvcc() and avccToAnnexB() refuse a lengthSize other than 1, 2 or 4`, () => {
    assertThrows(
      () => impl.annexBToAvcc(ANNEXB_SAMPLE, 3),
      RangeError,
      "Cannot convert Annex B to AVCC: lengthSize must be 1, 2 or 4, current 3",
    );
    assertThrows(
      () => impl.avccToAnnexB(AVCC_SAMPLE, 0),
      RangeError,
      "Cannot convert AVCC to Annex B: lengthSize must be 1, 2 or 4, current 0",
    );
  });

  Deno.test(`[${name}] parseSps() reads the hand-written Baseline SPS, emulation prevention and cropping included`, () => {
    assertEquals(SPS_BASELINE_320X180, SPS_BASELINE_320X180_HEX);
    assertEquals(impl.parseSps(SPS_BASELINE_320X180), SPS_BASELINE_320X180_INFO);
  });

  Deno.test(`[${name}] parseSps() skips SPS scaling lists and reads the VUI up to timing_info`, () => {
    assertEquals(impl.parseSps(SPS_HIGH_SCALING_1080P), SPS_HIGH_SCALING_1080P_INFO);
  });

  Deno.test(`[${name}] parseSps() reads pic_order_cnt_type 1 and the frame height of a field stream`, () => {
    assertEquals(impl.parseSps(SPS_MAIN_POC1_576I), SPS_MAIN_POC1_576I_INFO);
  });

  Deno.test(`[${name}] parseSps() agrees with ffprobe on streams made by ffmpeg`, async () => {
    const streams = await ffmpegStreams();
    const probes = await Promise.all(streams.map(({ stream }) => probeVideo(stream, "h264")));
    streams.forEach(({ c, stream }, i) => {
      const info = impl.parseSps(findSps(stream));
      const probe = probes[i];
      const [num, den] = probe.r_frame_rate.split("/").map(Number);
      assertEquals(
        {
          width: info.width,
          height: info.height,
          profile: ffprobeProfile(info),
          level: info.levelIdc,
          pixFmt: ffprobePixFmt(info),
          frameRate: info.frameRate?.toFixed(3),
        },
        {
          width: probe.width,
          height: probe.height,
          profile: probe.profile,
          level: probe.level,
          pixFmt: probe.pix_fmt,
          frameRate: (num / den).toFixed(3),
        },
        c.note,
      );
      assertEquals(info.width, c.width, c.note);
      assertEquals(info.height, c.height, c.note);
      assertEquals(info.frameMbsOnly, !c.x264Params?.includes("interlaced"), c.note);
      assertEquals(info.chromaFormatIdc, chromaOf(c), c.note);
    });
  });

  Deno.test(`[${name}] parseSps() names the field and bit where a truncated SPS ends`, () => {
    const e = assertThrows(() => impl.parseSps(SPS_BASELINE_320X180.subarray(0, 5)), ProtocolError);
    assertEquals(e.code, ST.ST_BAD_BITSTREAM);
    assertEquals(
      e.message,
      "ST_BAD_BITSTREAM: Cannot parse SPS: gaps_in_frame_num_value_allowed_flag at bit 40 runs past the end (40 bits)",
    );
    assertThrows(
      () => impl.parseSps(new Uint8Array(0)),
      ProtocolError,
      "Cannot parse SPS: forbidden_zero_bit at bit 0 runs past the end (0 bits)",
    );
    // Cut inside num_units_in_tick: 14 bytes lose the 03 of their 00 00 03, leaving 13 * 8 bits.
    assertThrows(
      () => impl.parseSps(SPS_BASELINE_320X180.subarray(0, 14)),
      ProtocolError,
      "Cannot parse SPS: num_units_in_tick at bit 74 runs past the end (104 bits)",
    );
  });

  Deno.test(`[${name}] parseSps() rejects out-of-range fields with value and limit`, () => {
    const cases: [string, Uint8Array][] = [
      ["nal_unit_type is 8, expected 7", PPS_BASELINE],
      [
        "chroma_format_idc is 4, limit 3",
        bits(`
          0 11 00111  01100100  00000000  00101000   # SPS header, profile_idc 100, flags 0, level_idc 40
          1                   # seq_parameter_set_id ue 0
          00101               # chroma_format_idc ue 4
          10                  # padding
        `),
      ],
      [
        "seq_parameter_set_id at bit 32 has an Exp-Golomb code over 32 bits",
        bits(`
          0 11 00111  01000010  00000000  00011110   # SPS header, profile_idc 66, flags 0, level_idc 30
          00000000 00000000 00000000 00000000 1000000  # 32 leading zero bits
          0
        `),
      ],
      [
        "vertical frame cropping is 192, limit 191",
        bits(`
          0 11 00111  01000010  11000000  00001101   # as SPS_BASELINE_320X180 up to the cropping
          1 1 011 010 0 000010100 0001100 1 1
          1                   # frame_cropping_flag
          1 1 1               # left, right, top ue 0
          0000001100001       # frame_crop_bottom_offset ue 96: 96 * CropUnitY 2 = 192 rows, all of them
          0                   # vui_parameters_present_flag
          1                   # rbsp_stop_one_bit
          00                  # rbsp_alignment_zero_bit x2
        `),
      ],
      ["forbidden_zero_bit is 1, limit 0", hex(`e7 42 c0 0d`)],
    ];
    for (const [detail, nal] of cases) {
      const e = assertThrows(() => impl.parseSps(nal), ProtocolError);
      assertEquals(e.message, `ST_BAD_BITSTREAM: Cannot parse SPS: ${detail}`);
    }
  });
}

// ---- differential tests: WASM against the twin

Deno.test("parseSps() throws the same error as its twin for every truncation of every SPS", async () => {
  const all = [
    SPS_BASELINE_320X180,
    SPS_HIGH_SCALING_1080P,
    SPS_MAIN_POC1_576I,
    ...(await ffmpegStreams()).map(({ stream }) => findSps(stream)),
  ];
  for (const sps of all) {
    for (const cut of truncations(sps)) {
      const w = outcome(() => wasm.parseSps(cut));
      assertEquals(w, outcome(() => ref.parseSps(cut)), `${cut.length} of ${sps.length} bytes`);
      // Only bytes past what the parser reads (after timing_info) may go without an error.
      const ok = (w as { ok?: SpsInfo }).ok;
      if (ok) assertEquals(ok, ref.parseSps(sps), `${cut.length} of ${sps.length} bytes`);
    }
  }
});

Deno.test("parseSps() gives the same result or error as its twin on mutated SPSes", async () => {
  const random = seededRandom(0x3a7a);
  const all = [
    SPS_BASELINE_320X180,
    SPS_HIGH_SCALING_1080P,
    ...(await ffmpegStreams()).map(({ stream }) => findSps(stream)),
  ];
  for (const sps of all) {
    for (const m of mutations(sps, random, 300)) {
      assertEquals(outcome(() => wasm.parseSps(m)), outcome(() => ref.parseSps(m)), Array.from(m).join(","));
    }
  }
});

Deno.test("parseSps() gives the same result or error as its twin on random bytes, and never traps", () => {
  const random = seededRandom(0x5b5);
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(random() * 40);
    const nal = Uint8Array.from({ length: n }, (_, k) => {
      if (k === 0) return 0x67;
      if (k === 1) return [66, 77, 100, 110, 122, 244][Math.floor(random() * 6)];
      return random() < 0.3 ? 0 : Math.floor(random() * 256);
    });
    assertEquals(outcome(() => wasm.parseSps(nal)), outcome(() => ref.parseSps(nal)), `input ${i}`);
  }
});

Deno.test("annexBToAvcc() and avccToAnnexB() give the same bytes or error as their twins on random input", () => {
  const random = seededRandom(0xa7cc);
  for (let i = 0; i < 300; i++) {
    const d = randomStream(random, Math.floor(random() * 2000));
    for (const size of [1, 2, 4]) {
      assertEquals(outcome(() => wasm.annexBToAvcc(d, size)), outcome(() => ref.annexBToAvcc(d, size)));
      assertEquals(outcome(() => wasm.avccToAnnexB(d, size)), outcome(() => ref.avccToAnnexB(d, size)));
    }
  }
});

Deno.test("annexBToAvcc() returns an array the caller owns, not a view of WASM memory", () => {
  const a = wasm.annexBToAvcc(ANNEXB_SAMPLE);
  const copy = a.slice();
  wasm.annexBToAvcc(ANNEXB_SAMPLE_NORMALIZED, 1);
  assertEquals(a, copy);
  assert(a.buffer !== codec().memory.buffer && a.byteOffset === 0 && a.buffer.byteLength === a.length);
});
