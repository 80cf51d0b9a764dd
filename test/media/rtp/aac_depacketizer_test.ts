/**
 * AacDepacketizer on hand-made packets: AU-headers of AAC-hbr and AAC-lbr,
 * several access units per packet, fragments, loss and malformed payloads.
 */
import { ProtocolError } from "../../../src/errors.ts";
import { TagType } from "../../../src/media/flv.ts";
import { AacDepacketizer } from "../../../src/media/rtp/aac_depacketizer.ts";
import { writeRtpHeader } from "../../../src/media/rtp/rtp_header.ts";
import type { RtpFrame } from "../../../src/media/rtp/rtp_receiver.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom } from "../../_util/mutate.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";

const ASC = hex(`12 10  # AAC LC, 44.1 kHz, stereo`);

function rtp(seq: number, ts: number, marker: boolean, payload: Uint8Array, pt = 97): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  writeRtpHeader(out, 0, { marker, payloadType: pt, sequence: seq & 0xffff, timestamp: ts >>> 0, ssrc: 1 });
  out.set(payload, 12);
  return out;
}

function aac(timestamp: number, raw: Uint8Array): RtpFrame {
  return {
    type: TagType.Audio,
    timestamp,
    data: concat([hex(`af 01`), raw]),
    keyframe: false,
    sequenceHeader: false,
  };
}

Deno.test("AacDepacketizer.sequenceHeader() is the FLV AAC sequence header of the config", () => {
  assertEquals(new AacDepacketizer({ config: ASC }).sequenceHeader(), {
    type: TagType.Audio,
    timestamp: 0,
    data: hex(`af 00 12 10`),
    keyframe: false,
    sequenceHeader: true,
  });
});

Deno.test("AacDepacketizer.push() reads one AAC-hbr access unit per packet, timed on the sampling clock", () => {
  const d = new AacDepacketizer({ config: ASC });
  const raw = hex(`21 1b 80 00 7d`);
  const payload = concat([hex(`00 10  00 28   # 16 bits of AU-headers; AU-size 5, AU-Index 0`), raw]);
  assertEquals(d.push(rtp(0, 1000, true, payload)), [aac(0, raw)]);
  assertEquals(d.push(rtp(1, 1000 + 1024, true, payload)), [aac(23, raw)]);
  assertEquals(d.push(rtp(2, 1000 + 44100, true, payload)), [aac(1000, raw)]);
  assertEquals(d.stats.frames, 3);
});

Deno.test("AacDepacketizer.push() splits several access units of one packet, each a frame length later", () => {
  const d = new AacDepacketizer({ config: ASC, clockBase: 0 });
  const payload = concat([
    hex(`
      00 30                 # AU-headers-length: 48 bits, three AU-headers
      00 10                 # AU-size 2, AU-Index 0
      00 18                 # AU-size 3, AU-Index-delta 0
      00 08                 # AU-size 1, AU-Index-delta 0
    `),
    hex(`01 02  03 04 05  06`),
  ]);
  assertEquals(d.push(rtp(0, 44100, true, payload)), [
    aac(1000, hex(`01 02`)),
    aac(1023, hex(`03 04 05`)),
    aac(1046, hex(`06`)),
  ]);
});

Deno.test("AacDepacketizer.push() reads AAC-lbr headers (6-bit sizes, 2-bit indices) padded to a byte", () => {
  const d = new AacDepacketizer({ config: ASC, sizeLength: 6, indexLength: 2, indexDeltaLength: 2 });
  const payload = concat([
    hex(`00 10  # 16 bits: two 8-bit AU-headers`),
    hex(`0c 08  # sizes 3 and 2`),
    hex(`aa bb cc dd ee`),
  ]);
  assertEquals(d.push(rtp(0, 0, true, payload)), [aac(0, hex(`aa bb cc`)), aac(23, hex(`dd ee`))]);
});

Deno.test("AacDepacketizer.push() joins a fragmented access unit and drops one broken by a gap", () => {
  const d = new AacDepacketizer({ config: ASC });
  const head = hex(`00 10  00 30   # AU-size 6`);
  assertEquals(d.push(rtp(0, 0, false, concat([head, hex(`01 02`)]))), []);
  assertEquals(d.push(rtp(1, 0, false, concat([head, hex(`03 04`)]))), []);
  assertEquals(d.push(rtp(2, 0, true, concat([head, hex(`05 06`)]))), [aac(0, hex(`01 02 03 04 05 06`))]);
  assertEquals(d.push(rtp(3, 1024, false, concat([head, hex(`01 02`)]))), []);
  // seq 4 lost
  assertEquals(d.push(rtp(5, 1024, true, concat([head, hex(`05 06`)]))), []);
  assertEquals(d.stats.brokenFragments, 1);
  const whole = concat([hex(`00 10  00 10`), hex(`aa bb`)]);
  assertEquals(d.push(rtp(6, 2048, true, whole)), [aac(46, hex(`aa bb`))], "the next whole one goes out");
});

Deno.test("AacDepacketizer.push() drops a fragment at a new timestamp or when it runs past its size", () => {
  const d = new AacDepacketizer({ config: ASC });
  const head = hex(`00 10  00 30   # AU-size 6`);
  d.push(rtp(0, 0, false, concat([head, hex(`01 02`)])));
  d.push(rtp(1, 1024, false, concat([head, hex(`01 02 03`)])));
  assertEquals(d.push(rtp(2, 1024, true, concat([head, hex(`04 05 06 07`)]))), []);
  assertEquals(d.stats.brokenFragments, 2);
});

Deno.test("AacDepacketizer.push() counts malformed payloads instead of throwing", () => {
  const d = new AacDepacketizer({ config: ASC });
  d.push(rtp(0, 0, true, hex(`00`)));
  d.push(rtp(1, 0, true, hex(`00 40  00 10   # 64 bits of headers declared, 16 present`)));
  d.push(rtp(2, 0, true, hex(`00 20  00 10 00 50  01 02   # second AU of 10 bytes past the end`)));
  d.push(rtp(3, 0, true, hex(`00 0c  00 10  # 12 bits: not a whole 16-bit AU-header`)));
  assertEquals(d.stats.malformedPackets, 4);
  d.push(rtp(4, 0, true, hex(`00 10 00 10 01 02`), 96));
  assertEquals(d.stats.ignoredPackets, 0, "no payload type asked for: all taken");
  const only = new AacDepacketizer({ config: ASC, payloadType: 97 });
  only.push(rtp(0, 0, true, hex(`00 10 00 10 01 02`), 96));
  assertEquals(only.stats.ignoredPackets, 1);
  assertThrows(() => d.push(hex(`80`)), ProtocolError);
});

Deno.test("new AacDepacketizer() refuses a config that is not one and field lengths out of range", () => {
  assertThrows(() => new AacDepacketizer({ config: new Uint8Array(0) }), ProtocolError);
  assertThrows(() => new AacDepacketizer({ config: ASC, sizeLength: 17 }), RangeError, "sizeLength");
  assertThrows(() => new AacDepacketizer({ config: ASC, indexLength: 9 }), RangeError, "indexLength");
});

Deno.test("new AacDepacketizer() takes an HE-AAC frame as twice the core frame on the output clock", () => {
  const d = new AacDepacketizer({ config: hex(`2b 11 88 00`) });
  assertEquals([d.clockRate, d.frameLength], [48000, 2048]);
});

Deno.test("AacDepacketizer.push() throws only ProtocolError on mutated packets", () => {
  const random = seededRandom(0x3640);
  const d = new AacDepacketizer({ config: ASC });
  const seeds = [
    rtp(0, 0, true, hex(`00 10 00 28  21 1b 80 00 7d`)),
    rtp(1, 1024, true, hex(`00 30 00 10 00 18 00 08  01 02 03 04 05 06`)),
    rtp(2, 2048, false, hex(`00 10 00 30  01 02`)),
  ];
  for (const seed of seeds) {
    for (const m of mutations(seed, random, 300)) {
      expectOnlyProtocolError(m, (b) => d.push(b));
    }
  }
});
