/**
 * AacPacketizer: RFC 3640 AAC-hbr packets (AU-header, marker, fragments),
 * the sampling-rate clock and its frame grid, caching, and that the SDP of
 * `aacMedia()` describes what it sends.
 */
import { FrameKind } from "../../../src/media/frame.ts";
import { AacHbr, AacPacketizer, MAX_AAC_FRAME } from "../../../src/media/rtp/aac_packetizer.ts";
import { RTP_PACKED_KEY } from "../../../src/media/rtp/rtp_sender.ts";
import { fmtpOf, rtpmapOf } from "../../../src/rtsp/sdp.ts";
import { aacMedia } from "../../../src/rtsp/sdp_media.ts";
import { assertEquals, assertStrictEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";
import { aacFrame, aacHeader, avcHeader, frame, packetsOf } from "./_rtp_frames.ts";

const OPTS = { ssrc: 0x01020304, payloadType: 97, initialSequence: 10, initialTimestamp: 0 } as const;

function configured(opts = {}, asc?: Uint8Array): AacPacketizer {
  const p = new AacPacketizer({ ...OPTS, ...opts });
  p.configure(aacHeader(asc));
  return p;
}

Deno.test("AacPacketizer.packetize() writes one AU-header and the frame, marker set, byte for byte", () => {
  const p = configured();
  const raw = hex(`21 1b 80 00 7d`);
  assertEquals(
    p.packetize(aacFrame(0, raw)),
    concat([
      hex(`
        24 00 00 15           # '$', channel 0, length 21
        80 e1                 # V=2; marker, PT 97
        00 0a                 # sequence number 10
        00 00 00 00           # timestamp 0
        01 02 03 04           # SSRC
        00 10                 # AU-headers-length: 16 bits (RFC 3640 3.2.1)
        00 28                 # AU-size 5 (13 bits), AU-Index 0 (3 bits)
      `),
      raw,
    ]),
  );
  assertEquals([p.sender.sequence, p.sender.packets, p.sender.octets], [11, 1, 9]);
});

Deno.test("AacPacketizer.packetize() fragments a frame too long for the payload, the AU-size whole in each", () => {
  const p = configured({ maxPayloadSize: 10 });
  const raw = Uint8Array.from({ length: 15 }, (_, i) => i);
  const packets = packetsOf(p.packetize(aacFrame(0, raw)));
  assertEquals(packets.map((x) => x.marker), [false, false, true]);
  assertEquals(packets.map((x) => x.sequence), [10, 11, 12]);
  for (const x of packets) assertEquals(x.payload.subarray(0, 4), hex(`00 10  00 78   # AU-size 15`));
  assertEquals(concat(packets.map((x) => x.payload.subarray(4))), raw);
});

Deno.test("AacPacketizer.packetize() times frames on the sampling-rate clock, snapped to the 1024-sample grid", () => {
  const p = configured({ initialTimestamp: 500 });
  const ts = (ms: number) => packetsOf(p.packetize(aacFrame(ms, hex(`21`))))[0].timestamp;
  // 44.1 kHz: frames at 0, 23.2, 46.4, 69.7 ms arrive stamped 0, 23, 46, 70.
  assertEquals([ts(0), ts(23), ts(46), ts(70)], [500, 500 + 1024, 500 + 2048, 500 + 3072]);
  assertEquals(ts(1000), 500 + 44_100, "a jump off the grid goes by the hub time");
  assertEquals(ts(1023), 500 + 44_100 + 1024, "and the grid follows from there");
});

Deno.test("AacPacketizer.configure() sets the clock to the config's output rate, HE-AAC frames twice as long", () => {
  // HE-AAC (object type 5), stereo, 24 kHz core, 48 kHz SBR: 2b 11 88 00 (ISO/IEC 14496-3 1.6.5.1 explicit signalling).
  const p = configured({}, hex(`2b 11 88 00`));
  assertEquals(p.sender.clock?.rate, 48_000);
  assertEquals(rtpmapOf(aacMedia(aacHeader(hex(`2b 11 88 00`)).payload)!, 97), {
    payloadType: 97,
    encoding: "MPEG4-GENERIC",
    clockRate: 48_000,
    channels: 2,
  }, "the SDP names the same clock");
  const ts = (ms: number) => packetsOf(p.packetize(aacFrame(ms, hex(`21`))))[0].timestamp;
  assertEquals([ts(0), ts(43)], [0, 2048]);
});

Deno.test("AacPacketizer.packetize() caches on the frame and packs nothing but AAC raw frames once configured", () => {
  const p = new AacPacketizer(OPTS);
  assertEquals(p.packetize(aacFrame(0, hex(`21`))).length, 0, "before a sequence header");
  assertThrows(() => p.rtpTimestamp(0), RangeError, "current clock rate is unknown");
  p.configure(aacHeader());
  assertEquals(p.packetize(aacHeader()).length, 0, "a sequence header");
  assertEquals(p.packetize(avcHeader()).length, 0, "video");
  assertEquals(p.packetize(frame(FrameKind.Audio, 0, hex(`2f 00 11`))).length, 0, "MP3");
  const f = aacFrame(0, hex(`21`));
  const out = p.packetize(f);
  assertStrictEquals(f.packed[RTP_PACKED_KEY], out);
  assertStrictEquals(p.packetize(f), out);
  assertEquals(p.sender.sequence, 11);
});

Deno.test("AacPacketizer.packetize() refuses a frame over 8191 bytes, what a 13-bit AU-size holds", () => {
  const p = configured();
  assertThrows(
    () => p.packetize(aacFrame(0, new Uint8Array(MAX_AAC_FRAME + 1))),
    RangeError,
    "Cannot packetize AAC frame: it is 8192 bytes, limit 8191",
  );
});

Deno.test("aacMedia() describes what AacPacketizer sends from the same header: its clock and the AAC-hbr fields", () => {
  const p = configured();
  const media = aacMedia(aacHeader().payload)!;
  assertEquals(rtpmapOf(media, 97), {
    payloadType: 97,
    encoding: "MPEG4-GENERIC",
    clockRate: p.sender.clock!.rate,
    channels: p.track!.channels,
  });
  assertEquals(Object.fromEntries(fmtpOf(media, 97)), {
    streamtype: "5",
    "profile-level-id": "1",
    mode: "AAC-hbr",
    sizelength: String(AacHbr.SizeLength),
    indexlength: String(AacHbr.IndexLength),
    indexdeltalength: String(AacHbr.IndexDeltaLength),
    config: "1210",
  });
});
