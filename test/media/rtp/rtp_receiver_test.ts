/**
 * RtpReceiver: in-order packets, gaps, late and foreign packets, the wrap
 * of the sequence number, and the reception report block (RFC 3550 A.3).
 */
import { readRtpPacket, writeRtpHeader } from "../../../src/media/rtp/rtp_header.ts";
import { RtpReceiver } from "../../../src/media/rtp/rtp_receiver.ts";
import { assertEquals } from "../../_util/assert.ts";

function packet(sequence: number, ssrc = 9) {
  const b = new Uint8Array(12);
  writeRtpHeader(b, 0, { marker: false, payloadType: 96, sequence, timestamp: 0, ssrc });
  return readRtpPacket(b);
}

Deno.test("RtpReceiver.accept() takes the next packets, reports gaps and drops late, duplicate and foreign ones", () => {
  const r = new RtpReceiver();
  assertEquals(r.accept(packet(65534)), 0);
  assertEquals(r.accept(packet(65535)), 0);
  assertEquals(r.accept(packet(2)), 2, "0 and 1 missing, across the wrap");
  assertEquals(r.accept(packet(1)), undefined, "late");
  assertEquals(r.accept(packet(2)), undefined, "duplicate");
  assertEquals(r.accept(packet(3, 10)), undefined, "another SSRC");
  assertEquals(r.counts, { received: 3, lost: 2, late: 2, foreign: 1 });
  assertEquals([r.ssrc, r.highestSequence], [9, 65536 + 2]);
});

Deno.test("RtpReceiver.reportBlock() gives the fraction lost since the last block and the totals", () => {
  const r = new RtpReceiver();
  for (const s of [0, 1, 2, 3]) r.accept(packet(s));
  assertEquals(r.reportBlock(0x1234, 0x10000), {
    ssrc: 9,
    fractionLost: 0,
    cumulativeLost: 0,
    highestSequence: 3,
    jitter: 0,
    lastSenderReport: 0x1234,
    delaySinceLastSenderReport: 0x10000,
  });
  for (const s of [5, 7, 8]) r.accept(packet(s)); // 4 and 6 lost: 2 of 5 expected
  const b = r.reportBlock();
  assertEquals([b.fractionLost, b.cumulativeLost, b.highestSequence], [Math.floor((2 * 256) / 5), 2, 8]);
  assertEquals(r.reportBlock().fractionLost, 0, "nothing since");
  assertEquals(new RtpReceiver().reportBlock().highestSequence, 0, "before any packet");
});
