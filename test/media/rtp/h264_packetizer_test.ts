/**
 * H264Packetizer: access units into RTP packets (STAP-A before an IDR,
 * marker placement, 90 kHz presentation timestamps, wraps), caching, and
 * that the SDP of `h264Media()` describes what it sends. FU-A splitting itself is test/wasm/rtp_packetizer_test.ts.
 */
import { ProtocolError } from "../../../src/errors.ts";
import { FrameKind } from "../../../src/media/frame.ts";
import { avccUnits, H264Packetizer, MAX_NAL_UNITS } from "../../../src/media/rtp/h264_packetizer.ts";
import { frameCount } from "../../../src/media/rtp/interleaved.ts";
import { RTP_PACKED_KEY } from "../../../src/media/rtp/rtp_sender.ts";
import { fmtpOf, rtpmapOf } from "../../../src/rtsp/sdp.ts";
import { h264Media } from "../../../src/rtsp/sdp_media.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";
import { aacHeader, avcFrame, avcHeader, frame, nal, packetsOf, PPS, SPS } from "./_rtp_frames.ts";

const OPTS = { ssrc: 0xcafebabe, payloadType: 96, initialSequence: 1000, initialTimestamp: 0 } as const;

function configured(opts = {}): H264Packetizer {
  const p = new H264Packetizer({ ...OPTS, ...opts });
  assert(p.configure(avcHeader()), "configured");
  return p;
}

Deno.test("H264Packetizer.packetize() sends SPS and PPS in one STAP-A before an IDR, byte for byte", () => {
  const p = configured();
  const idr = nal(6, 0x65);
  const out = p.packetize(avcFrame(0, true, [idr], 80));
  assertEquals(
    out,
    concat([
      hex(`
        24 00 00 28           # '$', channel 0, length 40
        80 60                 # V=2; no marker, PT 96
        03 e8                 # sequence number 1000
        00 00 1c 20           # timestamp 7200: (0 + 80 ms) at 90 kHz
        ca fe ba be           # SSRC
        78                    # STAP-A: F 0, NRI 3 (the greatest of the units'), type 24 (RFC 6184 5.7.1)
        00 13                 # NALU size 19
      `),
      SPS,
      hex(`00 04  # NALU size 4`),
      PPS,
      hex(`
        24 00 00 12           # '$', channel 0, length 18
        80 e0                 # marker (the access unit's last packet), PT 96
        03 e9                 # sequence number 1001
        00 00 1c 20  ca fe ba be
      `),
      idr,
    ]),
  );
  assertEquals(p.sender.sequence, 1002);
  assertEquals([p.sender.packets, p.sender.octets], [2, 1 + 2 + 19 + 2 + 4 + 6]);
});

Deno.test("H264Packetizer.packetize() sends no parameter sets before an inter frame or an IDR that has its own", () => {
  const p = configured();
  const slice = nal(5, 0x41);
  assertEquals(packetsOf(p.packetize(avcFrame(40, false, [slice]))).map((x) => x.payload), [slice]);
  const own = [SPS, PPS, nal(5, 0x65)];
  assertEquals(packetsOf(p.packetize(avcFrame(80, true, own))).map((x) => x.payload), own);
});

Deno.test("H264Packetizer.packetize() puts the marker on the last packet of each access unit only", () => {
  const p = configured({ maxPayloadSize: 100 });
  const units = [nal(30, 0x06), nal(250, 0x41), nal(40, 0x41)];
  const packets = packetsOf(p.packetize(avcFrame(0, false, units)));
  assertEquals(packets.map((x) => x.marker), [false, false, false, false, true]);
  assertEquals(packets.map((x) => x.sequence), [1000, 1001, 1002, 1003, 1004]);
  assertEquals(packets.map((x) => x.payload[0]), [0x06, 0x5c, 0x5c, 0x5c, 0x41], "SEI, FU-A x3, slice");
  const next = packetsOf(p.packetize(avcFrame(40, false, [nal(5, 0x41)])));
  assertEquals([next[0].sequence, next[0].marker], [1005, true]);
});

Deno.test("H264Packetizer.packetize() stamps the presentation time at 90 kHz, B-frames below their DTS", () => {
  const p = configured({ initialTimestamp: 1000 });
  const ts = (t: number, cts: number) =>
    packetsOf(p.packetize(avcFrame(t, false, [nal(3, 0x01)], cts)))[0].timestamp;
  assertEquals(ts(0, 0), 1000);
  assertEquals(ts(40, 80), 1000 + 120 * 90, "a P-frame shown at 120 ms");
  assertEquals(ts(80, 0), 1000 + 80 * 90, "a B-frame shown before it");
  assertEquals(ts(1001, 0), 1000 + 90_090);
});

Deno.test("H264Packetizer.packetize() wraps the timestamp past 2^32 and the sequence number past 65535", () => {
  const p = configured({ initialTimestamp: 0xffffffff - 89, initialSequence: 65535 });
  const a = packetsOf(p.packetize(avcFrame(0, false, [nal(3, 0x01)])));
  const b = packetsOf(p.packetize(avcFrame(1, false, [nal(3, 0x01)])));
  const c = packetsOf(p.packetize(avcFrame(2, false, [nal(3, 0x01)])));
  assertEquals([a[0].timestamp, b[0].timestamp, c[0].timestamp], [0xffffffa6, 0, 90]);
  assertEquals([a[0].sequence, b[0].sequence, c[0].sequence], [65535, 0, 1]);
});

Deno.test("H264Packetizer.packetize() sends SPS and PPS apart when their STAP-A would not fit", () => {
  const p = configured({ maxPayloadSize: 20 });
  const packets = packetsOf(p.packetize(avcFrame(0, true, [nal(5, 0x65)])));
  assertEquals(packets.map((x) => x.payload[0]), [0x67, 0x68, 0x65], "SPS (19 bytes), PPS, IDR");
});

Deno.test("H264Packetizer.packetize() caches the packets on the frame and shares them", () => {
  const p = configured();
  const f = avcFrame(0, false, [nal(5, 0x41)]);
  const a = p.packetize(f);
  assertStrictEquals(f.packed[RTP_PACKED_KEY], a);
  assertStrictEquals(p.packetize(f), a, "packed once");
  assertEquals(p.sender.sequence, 1001, "numbered once");
});

Deno.test("H264Packetizer.packetize() packs nothing before a sequence header, for headers and for audio", () => {
  const p = new H264Packetizer(OPTS);
  assertEquals(p.packetize(avcFrame(0, true, [nal(5, 0x65)])).length, 0, "no configuration yet");
  p.configure(avcHeader());
  assertEquals(p.packetize(avcHeader()).length, 0, "a sequence header");
  assertEquals(p.packetize(aacHeader()).length, 0, "audio");
  assertEquals(p.packetize(frame(FrameKind.Video, 0, hex(`12 00 00`))).length, 0, "another codec");
  assertEquals(p.packetize(avcFrame(0, false, [])).length, 0, "no NAL units");
  assertEquals(p.sender.sequence, 1000);
});

Deno.test("H264Packetizer.configure() reports a change only when the record differs", () => {
  const p = new H264Packetizer(OPTS);
  assertEquals(p.configure(aacHeader()), false);
  assertEquals(p.configure(avcHeader()), true);
  assertEquals(p.configure(avcHeader()), false);
  assertEquals(p.config?.sps, [SPS]);
  assertThrows(() => p.configure(frame(FrameKind.Video, 0, hex(`17 00 00 00 00  02 42`))), ProtocolError);
  assertEquals(p.config?.pps, [PPS], "a malformed record left the configuration alone");
});

Deno.test("H264Packetizer.packetize() refuses AVCC whose lengths run past the end, and too many NAL units", () => {
  const p = configured();
  const bad = frame(FrameKind.Video, 0, hex(`27 01 00 00 00  00 00 00 09  41 01`));
  assertThrows(() => p.packetize(bad), ProtocolError, "NAL unit at byte 0 has length 9, 2 bytes left");
  const many = Array.from({ length: MAX_NAL_UNITS + 1 }, () => nal(1, 0x06));
  assertThrows(() => p.packetize(avcFrame(0, false, many)), ProtocolError, `over ${MAX_NAL_UNITS} NAL units`);
  assertEquals(p.sender.sequence, 1000, "nothing numbered");
});

Deno.test("avccUnits() reads 1-, 2- and 4-byte lengths and skips empty units", () => {
  assertEquals(avccUnits(hex(`02 41 01  00  01 06`), 1), [hex(`41 01`), hex(`06`)]);
  assertEquals(avccUnits(hex(`00 02 41 01`), 2), [hex(`41 01`)]);
  assertThrows(() => avccUnits(hex(`00 00 01`), 4), ProtocolError, "length prefix at byte 0 needs 4 bytes");
});

Deno.test("h264Media() describes what H264Packetizer sends from the same header: 90 kHz, mode 1, its SPS and PPS", () => {
  const header = avcHeader();
  const p = new H264Packetizer(OPTS);
  p.configure(header);
  const media = h264Media(header.payload)!;
  assertEquals(rtpmapOf(media, 96), { payloadType: 96, encoding: "H264", clockRate: p.sender.clock!.rate });
  const fmtp = fmtpOf(media, 96);
  assertEquals(fmtp.get("packetization-mode"), "1", "single NAL units, STAP-A and FU-A, as packetized");
  assertEquals(fmtp.get("profile-level-id"), "42C00D", "profile_idc, constraint flags, level_idc of the SPS");
  assertEquals(
    fmtp.get("sprop-parameter-sets"),
    [...p.config!.sps, ...p.config!.pps].map((u) => btoa(String.fromCharCode(...u))).join(","),
  );
  assertEquals(fmtp.get("sprop-parameter-sets"), "Z0LADdoFBn54QAAAAwBAAAAMoQ==,aM48gA==");
});

Deno.test("H264Packetizer frames its packets for its interleaved channel", () => {
  const p = configured({ channel: 2, maxPayloadSize: 10 });
  const out = p.packetize(avcFrame(0, false, [nal(30, 0x41)]));
  assertEquals(frameCount(out), 4);
  for (let o = 0; o < out.length; o += 4 + ((out[o + 2] << 8) | out[o + 3])) assertEquals(out[o + 1], 2);
});
