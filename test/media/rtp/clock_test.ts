/**
 * RTP time: the sender's clock, the receiver's unwrapping timeline, random
 * initial values and NTP time.
 */
import {
  ClockRate,
  ntpMiddle,
  ntpTime,
  randomSequence,
  randomSsrc,
  randomTimestamp,
  RtpClock,
  RtpTimeline,
} from "../../../src/media/rtp/clock.ts";
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";

Deno.test("RtpClock.at() maps hub milliseconds to ticks from the initial timestamp, wrapping at 2^32", () => {
  const c = new RtpClock(ClockRate.Video, 0xffffff00);
  assertEquals(c.at(0), 0xffffff00);
  assertEquals(c.at(1), 0xffffff5a);
  assertEquals(c.at(3), 14, "270 ticks on: past 2^32");
  assertEquals(new RtpClock(44100, 0).at(23), 1014, "rounded to a tick");
  assertEquals(new RtpClock(90000, 10).at(-1), 2 ** 32 - 80, "negative times wrap the same way");
});

Deno.test("new RtpClock() refuses a rate or initial timestamp out of range", () => {
  assertThrows(
    () => new RtpClock(0),
    RangeError,
    "clock rate must be an integer in 1..10000000 Hz, current 0",
  );
  assertThrows(() => new RtpClock(90000, 2 ** 32), RangeError, "initial timestamp");
});

Deno.test("RtpTimeline.ms() counts from the first timestamp, across the wrap and a little back for B-frames", () => {
  const t = new RtpTimeline(90000);
  assertEquals(t.base, undefined);
  assertEquals(t.ms(0xffffff00), 0);
  assertEquals(t.base, 0xffffff00);
  assertEquals(t.ms(0xffffff00 + 3600), 40);
  assertEquals(t.ms((0xffffff00 + 9000) % 2 ** 32), 100, "past the wrap");
  assertEquals(t.ms((0xffffff00 + 5400) % 2 ** 32), 60, "back again, before the wrap");
  assertEquals(t.ms((0xffffff00 + 2 ** 31 - 1) % 2 ** 32), Math.round(((2 ** 31 - 1) * 1000) / 90000));
});

Deno.test("RtpTimeline.ms() counts from a given base (RTP-Info) when told", () => {
  const t = new RtpTimeline(48000, 1000);
  assertEquals(t.ms(1000 + 48000), 1000);
  assertEquals(t.ms(500), -10, "before the base");
});

Deno.test("randomSequence(), randomTimestamp() and randomSsrc() stay in their fields' ranges and vary", () => {
  const seqs = new Set<number>();
  for (let i = 0; i < 64; i++) {
    const s = randomSequence();
    assert(Number.isInteger(s) && s >= 0 && s < 65536, `sequence ${s}`);
    seqs.add(s);
    for (const v of [randomTimestamp(), randomSsrc()]) assert(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
  }
  assert(seqs.size > 32, "random");
});

Deno.test("ntpTime() counts seconds from 1900 and the fraction in 2^-32 s, and ntpMiddle() its middle bits", () => {
  assertEquals(ntpTime(0), { seconds: 2_208_988_800, fraction: 0 });
  assertEquals(ntpTime(1500), { seconds: 2_208_988_801, fraction: 2 ** 31 });
  // 2036-02-07T06:28:16Z is NTP era 1 second 0.
  assertEquals(ntpTime(Date.UTC(2036, 1, 7, 6, 28, 16)), { seconds: 0, fraction: 0 });
  assertEquals(ntpMiddle({ seconds: 0x12345678, fraction: 0x9abcdef0 }), 0x56789abc);
});
