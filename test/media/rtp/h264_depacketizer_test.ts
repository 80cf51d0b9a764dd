/**
 * H264Depacketizer on hand-made packets: single NAL units, STAP-A, FU-A
 * reassembly, the end of an access unit, parameter sets, loss and the wait
 * for the next IDR, the caps, and what is counted rather than thrown. Whole
 * streams go through it in rtp_round_trip_test.ts.
 */
import { ProtocolError } from "../../../src/errors.ts";
import { TagType } from "../../../src/media/flv.ts";
import { H264Depacketizer } from "../../../src/media/rtp/h264_depacketizer.ts";
import { writeRtpHeader } from "../../../src/media/rtp/rtp_header.ts";
import type { RtpFrame } from "../../../src/media/rtp/rtp_receiver.ts";
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom } from "../../_util/mutate.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../../fixtures/flv_fixtures.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";
import { nal, PPS, SPS } from "./_rtp_frames.ts";

interface P {
  seq: number;
  ts: number;
  marker?: boolean;
  pt?: number;
  ssrc?: number;
}

/** An RTP packet: the header fields and the payload. */
function rtp(p: P, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  writeRtpHeader(out, 0, {
    marker: p.marker ?? false,
    payloadType: p.pt ?? 96,
    sequence: p.seq & 0xffff,
    timestamp: p.ts >>> 0,
    ssrc: p.ssrc ?? 7,
  });
  out.set(payload, 12);
  return out;
}

/** A STAP-A of SPS and PPS. */
const STAP = concat([hex(`78  00 13`), SPS, hex(`00 04`), PPS]);
const IDR = nal(8, 0x65);
const SLICE = nal(6, 0x41);

/** The AVC NALU body of these units (4-byte lengths, CompositionTime 0). */
function body(keyframe: boolean, units: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(keyframe ? 0x17 : 0x27, 1, 0, 0, 0)];
  for (const u of units) parts.push(Uint8Array.of(0, 0, u.length >> 8, u.length), u);
  return concat(parts);
}

const SEQUENCE_HEADER: RtpFrame = {
  type: TagType.Video,
  timestamp: 0,
  data: concat([hex(`17 00 00 00 00`), AVC_CONFIG_BASELINE]),
  keyframe: false,
  sequenceHeader: true,
};

function video(timestamp: number, keyframe: boolean, units: Uint8Array[]): RtpFrame {
  return { type: TagType.Video, timestamp, data: body(keyframe, units), keyframe, sequenceHeader: false };
}

/** A depacketizer fed a STAP-A and an IDR at RTP time 0, sequence numbers 0 and 1. */
function started(opts = {}): { d: H264Depacketizer; out: RtpFrame[] } {
  const d = new H264Depacketizer(opts);
  const out = [...d.push(rtp({ seq: 0, ts: 0 }, STAP)), ...d.push(rtp({ seq: 1, ts: 0, marker: true }, IDR))];
  return { d, out };
}

Deno.test("H264Depacketizer.push() turns a STAP-A and an IDR into a sequence header and a keyframe", () => {
  const { d, out } = started();
  assertEquals(out, [SEQUENCE_HEADER, video(0, true, [IDR])]);
  assertEquals(d.push(rtp({ seq: 2, ts: 3600, marker: true }, SLICE)), [video(40, false, [SLICE])]);
  assertEquals(d.stats.frames, 2);
});

Deno.test("H264Depacketizer.push() emits nothing before an IDR with known parameter sets, and counts it", () => {
  const d = new H264Depacketizer();
  assertEquals(d.push(rtp({ seq: 0, ts: 0, marker: true }, SLICE)), [], "an inter frame first");
  assertEquals(d.push(rtp({ seq: 1, ts: 3600, marker: true }, IDR)), [], "an IDR with no SPS/PPS known");
  assertEquals(d.stats.skippedAccessUnits, 2);
  assertEquals(d.setParameterSets([SPS], [PPS]), SEQUENCE_HEADER, "from the SDP");
  assertEquals(d.setParameterSets([SPS], [PPS]), undefined, "the same again");
  assertEquals(d.push(rtp({ seq: 2, ts: 7200, marker: true }, IDR)), [video(80, true, [IDR])]);
});

Deno.test("H264Depacketizer.push() reassembles an FU-A from its S, middle and E fragments", () => {
  const { d } = started();
  const big = nal(20, 0x65);
  const fu = (s: number, piece: Uint8Array) => concat([Uint8Array.of(0x7c, s | 0x05), piece]);
  assertEquals(d.push(rtp({ seq: 2, ts: 3600 }, fu(0x80, big.subarray(1, 8)))), []);
  assertEquals(d.push(rtp({ seq: 3, ts: 3600 }, fu(0x00, big.subarray(8, 15)))), []);
  assertEquals(d.push(rtp({ seq: 4, ts: 3600, marker: true }, fu(0x40, big.subarray(15)))), [
    video(40, true, [big]),
  ]);
});

Deno.test("H264Depacketizer.push() ends an access unit at a new timestamp when the marker never came", () => {
  const { d } = started();
  const sei = nal(4, 0x06);
  assertEquals(d.push(rtp({ seq: 2, ts: 3600 }, sei)), []);
  assertEquals(d.push(rtp({ seq: 3, ts: 3600 }, SLICE)), []);
  assertEquals(d.push(rtp({ seq: 4, ts: 7200 }, SLICE)), [video(40, false, [sei, SLICE])]);
  assertEquals(d.flush(), [video(80, false, [SLICE])], "flush gives the last one");
  assertEquals(d.flush(), []);
});

Deno.test("H264Depacketizer.push() takes SPS and PPS out of the frames and sends a new header when they change", () => {
  const { d } = started();
  const sps2 = concat([SPS.subarray(0, 18), hex(`a2`)]);
  const out = d.push(
    rtp({ seq: 2, ts: 3600, marker: true }, concat([hex(`78 00 13`), sps2, hex(`00 08`), IDR])),
  );
  assertEquals(out.map((f) => f.sequenceHeader), [true, false]);
  assertEquals(out[0].timestamp, 40);
  assertEquals(out[1], video(40, true, [IDR]));
});

Deno.test("H264Depacketizer.push() drops the broken access unit at a sequence gap and waits for the next IDR", () => {
  const { d } = started();
  const fu = (s: number, b: number) => Uint8Array.of(0x7c, s | 0x05, b, b);
  assertEquals(d.push(rtp({ seq: 2, ts: 3600 }, fu(0x80, 1))), []);
  // seq 3 is lost; the E fragment arrives.
  assertEquals(d.push(rtp({ seq: 4, ts: 3600, marker: true }, fu(0x40, 3))), []);
  assertEquals(d.push(rtp({ seq: 5, ts: 7200, marker: true }, SLICE)), [], "an inter frame after the loss");
  assertEquals(d.push(rtp({ seq: 6, ts: 10800, marker: true }, IDR)), [video(120, true, [IDR])]);
  assertEquals(d.receiver.counts.lost, 1);
  assertEquals([d.stats.brokenAccessUnits, d.stats.skippedAccessUnits], [1, 1]);
});

Deno.test("H264Depacketizer.push() drops late and duplicated packets and those of another SSRC", () => {
  const { d } = started();
  assertEquals(d.push(rtp({ seq: 1, ts: 0, marker: true }, IDR)), [], "a duplicate");
  assertEquals(d.push(rtp({ seq: 2, ts: 3600, marker: true, ssrc: 8 }, SLICE)), [], "another source");
  assertEquals(d.push(rtp({ seq: 2, ts: 3600, marker: true }, SLICE)), [video(40, false, [SLICE])]);
  assertEquals(d.push(rtp({ seq: 65535, ts: 0 }, SLICE)), [], "behind");
  assertEquals([d.receiver.counts.late, d.receiver.counts.foreign], [2, 1]);
});

Deno.test("H264Depacketizer.push() drops an FU-A that never ends at the next timestamp", () => {
  const { d } = started();
  assertEquals(d.push(rtp({ seq: 2, ts: 3600 }, Uint8Array.of(0x7c, 0x85, 1, 2))), []);
  assertEquals(d.push(rtp({ seq: 3, ts: 7200, marker: true }, SLICE)), [], "the AU broke; no IDR since");
  assertEquals(d.stats.brokenAccessUnits, 1);
  assertEquals(d.push(rtp({ seq: 4, ts: 10800, marker: true }, IDR)).length, 1);
});

Deno.test("H264Depacketizer.push() breaks on an FU-A middle without a start, and a start inside another", () => {
  const { d } = started();
  d.push(rtp({ seq: 2, ts: 3600, marker: true }, Uint8Array.of(0x7c, 0x05, 1)));
  d.push(rtp({ seq: 3, ts: 7200 }, Uint8Array.of(0x7c, 0x85, 1)));
  d.push(rtp({ seq: 4, ts: 7200 }, Uint8Array.of(0x7c, 0x85, 1)));
  d.push(rtp({ seq: 5, ts: 10800 }, Uint8Array.of(0x7c, 0x85, 1)));
  d.push(rtp({ seq: 6, ts: 10800, marker: true }, SLICE));
  assertEquals(d.stats.brokenAccessUnits, 3);
  assertEquals(d.stats.frames, 1, "only the first IDR");
});

Deno.test("H264Depacketizer.push() drops an access unit at the byte cap, with the rest of its packets", () => {
  const { d } = started({ maxAccessUnitSize: 1024 });
  const fu = (s: number) => concat([Uint8Array.of(0x7c, s | 0x05), new Uint8Array(400)]);
  d.push(rtp({ seq: 2, ts: 3600 }, fu(0x80)));
  d.push(rtp({ seq: 3, ts: 3600 }, fu(0)));
  d.push(rtp({ seq: 4, ts: 3600 }, fu(0)));
  d.push(rtp({ seq: 5, ts: 3600 }, fu(0)));
  assertEquals(d.push(rtp({ seq: 6, ts: 3600, marker: true }, fu(0x40))), []);
  assertEquals(d.stats.oversizedAccessUnits, 1);
  assertEquals(d.push(rtp({ seq: 7, ts: 7200, marker: true }, IDR)), [video(80, true, [IDR])], "recovered");
});

Deno.test("H264Depacketizer.push() drops an access unit past the NAL unit cap", () => {
  const { d } = started({ maxNalUnits: 3 });
  const four = concat([
    hex(`18`),
    ...Array.from({ length: 4 }, () => concat([hex(`00 02`), SLICE.subarray(0, 2)])),
  ]);
  assertEquals(d.push(rtp({ seq: 2, ts: 3600, marker: true }, four)), []);
  assertEquals(d.stats.oversizedAccessUnits, 1);
});

Deno.test("H264Depacketizer.push() counts a bad STAP-A and interleaved-mode types as broken, reserved types as ignored", () => {
  const { d } = started();
  d.push(rtp({ seq: 2, ts: 3600, marker: true }, hex(`78 00 09 41`)));
  d.push(rtp({ seq: 3, ts: 7200, marker: true }, hex(`79 00 00 00 02 41 01  # STAP-B`)));
  d.push(rtp({ seq: 4, ts: 10800, marker: true }, hex(`7e 01  # type 30`)));
  d.push(rtp({ seq: 5, ts: 14400, marker: true }, new Uint8Array(0)));
  assertEquals([d.stats.brokenAccessUnits, d.stats.ignoredPackets], [2, 2]);
});

Deno.test("H264Depacketizer.push() takes only its payload type when told", () => {
  const d = new H264Depacketizer({ payloadType: 97 });
  d.push(rtp({ seq: 0, ts: 0, pt: 96 }, STAP));
  assertEquals(d.stats.ignoredPackets, 1);
});

Deno.test("H264Depacketizer.push() times frames from the base across the 32-bit timestamp wrap", () => {
  const d = new H264Depacketizer({ clockBase: 0xffffff00 });
  d.push(rtp({ seq: 0, ts: 0xffffff00 + 900 }, STAP));
  const out = d.push(rtp({ seq: 1, ts: 0xffffff00 + 900, marker: true }, IDR));
  assertEquals(out.map((f) => f.timestamp), [10, 10]);
  assertEquals(d.push(rtp({ seq: 2, ts: 0xffffff00 + 9000, marker: true }, SLICE))[0].timestamp, 100);
  assertEquals(d.push(rtp({ seq: 3, ts: 6300 - 256, marker: true }, SLICE))[0].timestamp, 70, "B-frame back");
});

Deno.test("H264Depacketizer.push() throws ProtocolError for what is not an RTP packet", () => {
  const d = new H264Depacketizer();
  assertThrows(() => d.push(hex(`80 60 00`)), ProtocolError, "Cannot read RTP packet: it is 3 bytes");
  assertThrows(
    () => d.push(hex(`40 60 00 00  00 00 00 00  00 00 00 00`)),
    ProtocolError,
    "version is 1, expected 2",
  );
});

Deno.test("new H264Depacketizer() refuses caps out of range", () => {
  assertThrows(() => new H264Depacketizer({ maxAccessUnitSize: 10 }), RangeError, "maxAccessUnitSize");
  assertThrows(() => new H264Depacketizer({ maxNalUnits: 0 }), RangeError, "maxNalUnits");
});

Deno.test("H264Depacketizer.push() throws only ProtocolError on mutated packets and keeps its caps", () => {
  const random = seededRandom(0x6184);
  const d = new H264Depacketizer({ maxAccessUnitSize: 4096, maxNalUnits: 16 });
  const seeds = [
    rtp({ seq: 0, ts: 0 }, STAP),
    rtp({ seq: 1, ts: 0, marker: true }, IDR),
    rtp({ seq: 2, ts: 3600 }, Uint8Array.of(0x7c, 0x85, 1, 2, 3)),
    rtp({ seq: 3, ts: 3600, marker: true }, Uint8Array.of(0x7c, 0x45, 4, 5)),
  ];
  for (const seed of seeds) {
    for (const m of mutations(seed, random, 300)) {
      expectOnlyProtocolError(m, (b) => {
        for (const f of d.push(b)) assert(f.data.length <= 4096, "a frame over the cap");
      });
    }
  }
});
