/**
 * RtpSender: options and their ranges, sequence and counters, and the
 * sender report that maps RTP time to wall time.
 */
import { readRtcp, type SenderReport } from "../../../src/media/rtp/rtcp.ts";
import { NTP_UNIX_OFFSET_SECONDS } from "../../../src/media/rtp/clock.ts";
import {
  DEFAULT_MAX_PAYLOAD_SIZE,
  DEFAULT_PAYLOAD_TYPE,
  RtpSender,
} from "../../../src/media/rtp/rtp_sender.ts";
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";

Deno.test("new RtpSender() takes defaults and random SSRC, sequence and timestamp when not told", () => {
  const s = new RtpSender({});
  assertEquals([s.payloadType, s.maxPayloadSize, s.channel], [
    DEFAULT_PAYLOAD_TYPE,
    DEFAULT_MAX_PAYLOAD_SIZE,
    0,
  ]);
  assert(s.sequence >= 0 && s.sequence < 65536);
  assertEquals(s.clock, undefined, "no clock rate yet");
  const others = Array.from({ length: 8 }, () => new RtpSender({}).ssrc);
  assert(new Set(others).size > 4, "random SSRCs");
});

Deno.test("new RtpSender() refuses options out of range", () => {
  assertThrows(() => new RtpSender({ ssrc: -1 }), RangeError, "SSRC must be an integer in 0..4294967295");
  assertThrows(() => new RtpSender({ payloadType: 128 }), RangeError, "payload type");
  assertThrows(
    () => new RtpSender({ maxPayloadSize: 2 }),
    RangeError,
    "maxPayloadSize must be an integer in 3..65495",
  );
  assertThrows(() => new RtpSender({ initialSequence: 65536 }), RangeError, "initial sequence");
  assertThrows(() => new RtpSender({ channel: 256 }), RangeError, "channel");
});

Deno.test("RtpSender.sent() moves the sequence on (wrapping) and counts packets and payload octets", () => {
  const s = new RtpSender({ initialSequence: 65534 });
  s.sent(3, 3 * 16 + 500);
  assertEquals([s.sequence, s.packets, s.octets], [1, 3, 500]);
});

Deno.test("RtpSender.senderReport() pairs the wall clock with the RTP time of the same instant", () => {
  const s = new RtpSender({ ssrc: 5, initialTimestamp: 1000 }, 90000);
  s.sent(2, 2 * 16 + 100);
  const [sr, sdes] = readRtcp(s.senderReport(Date.UTC(2026, 0, 1), 2000, "a@b"));
  const want: SenderReport = {
    type: "sr",
    ssrc: 5,
    ntp: { seconds: Date.UTC(2026, 0, 1) / 1000 + NTP_UNIX_OFFSET_SECONDS, fraction: 0 },
    rtpTimestamp: 1000 + 180000,
    packetCount: 2,
    octetCount: 100,
    reports: [],
  };
  assertEquals(sr, want);
  assertEquals(sdes, { type: "sdes", cnames: [{ ssrc: 5, cname: "a@b" }] });
  assertThrows(() => new RtpSender({}).senderReport(0, 0), RangeError, "current clock rate is unknown");
});

Deno.test("RtpSender.setClockRate() keeps the initial timestamp", () => {
  const s = new RtpSender({ initialTimestamp: 7 });
  s.setClockRate(48000);
  assertEquals([s.clock?.rate, s.clock?.at(0), s.clock?.at(1000)], [48000, 7, 48007]);
});
