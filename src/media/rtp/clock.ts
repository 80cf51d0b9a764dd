/**
 * RTP time: the media clocks (RFC 3550 5.1 timestamp; 90 kHz for H.264, RFC
 * 6184 8.2.1; the sampling rate for AAC, RFC 3640 3.1), random initial
 * sequence numbers, timestamps and SSRCs (RFC 3550 5.1 and 8: "SHOULD be
 * random"), and NTP wall-clock time for sender reports (RFC 3550 4, 6.4.1).
 *
 * `RtpClock` maps hub milliseconds to a sender's 32-bit RTP timestamps;
 * `RtpTimeline` maps a receiver's RTP timestamps back to milliseconds,
 * unwrapping them (a step of less than 2^31 ticks either way is taken as the
 * nearest, so B-frame presentation times that go back a little stay back a
 * little and a wrap after 2^32 ticks, 13.3 hours at 90 kHz, carries on).
 *
 * @module
 */
import { SEQUENCE_RANGE, TIMESTAMP_RANGE } from "./rtp_header.ts";

/** Clock rates in Hz. */
export const ClockRate = {
  /** RFC 6184 8.2.1: "The RTP clock rate ... MUST be 90000" for H.264 (and RFC 3551 5 for video). */
  Video: 90_000,
} as const;

/** RFC 868 / RFC 5905 6: seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/** A 64-bit NTP timestamp (RFC 3550 4): seconds since 1900 and a binary fraction of a second. */
export interface NtpTime {
  /** The most significant word, 0..2^32-1 (wraps in 2036). */
  readonly seconds: number;
  /** The least significant word: the fraction in units of 2^-32 s. */
  readonly fraction: number;
}

function checkRate(rate: number, what: string): void {
  if (!Number.isInteger(rate) || rate < 1 || rate > 10_000_000) {
    throw new RangeError(
      `Cannot make ${what}: clock rate must be an integer in 1..10000000 Hz, current ${rate}`,
    );
  }
}

/** A sender's media clock: hub milliseconds to RTP timestamps, from a (random) initial timestamp. */
export class RtpClock {
  readonly rate: number;
  /** The RTP timestamp of hub time 0. */
  readonly initial: number;

  constructor(rate: number, initial: number = randomTimestamp()) {
    checkRate(rate, "RTP clock");
    if (!Number.isInteger(initial) || initial < 0 || initial >= TIMESTAMP_RANGE) {
      throw new RangeError(
        `Cannot make RTP clock: initial timestamp must be in 0..4294967295, current ${initial}`,
      );
    }
    this.rate = rate;
    this.initial = initial;
  }

  /** The RTP timestamp of hub time `ms` (rounded to a tick, mod 2^32; negative times wrap the same way). */
  at(ms: number): number {
    const ticks = Math.round((ms * this.rate) / 1000);
    const t = (this.initial + ticks) % TIMESTAMP_RANGE;
    return t < 0 ? t + TIMESTAMP_RANGE : t;
  }
}

/** A receiver's view of one source's RTP timestamps: milliseconds since its first packet, unwrapped. */
export class RtpTimeline {
  readonly rate: number;
  #base: number | undefined;
  #last = 0;
  /** Ticks since the base, unwrapped. */
  #ticks = 0;

  constructor(rate: number, base?: number) {
    checkRate(rate, "RTP timeline");
    this.rate = rate;
    this.#base = base === undefined ? undefined : base >>> 0;
    if (base !== undefined) this.#last = base >>> 0;
  }

  /** The RTP timestamp time 0 stands for: the one given, else the first one seen (undefined before). */
  get base(): number | undefined {
    return this.#base;
  }

  /** Ticks from the base to `timestamp`, taking the nearest of its unwrapped values to the last one seen. */
  ticks(timestamp: number): number {
    const ts = timestamp >>> 0;
    if (this.#base === undefined) {
      this.#base = this.#last = ts;
      return 0;
    }
    this.#ticks += (ts - this.#last) | 0; // the signed 32-bit step (ToInt32 is mod 2^32)
    this.#last = ts;
    return this.#ticks;
  }

  /** Milliseconds from the base to `timestamp` (rounded), after `ticks()`. */
  ms(timestamp: number): number {
    return Math.round((this.ticks(timestamp) * 1000) / this.rate);
  }
}

/** A random 32-bit value from the platform's CSPRNG. */
export function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A random initial timestamp (RFC 3550 5.1). */
export function randomTimestamp(): number {
  return randomU32();
}

/** A random initial sequence number (RFC 3550 5.1). */
export function randomSequence(): number {
  return randomU32() % SEQUENCE_RANGE;
}

/** A random SSRC (RFC 3550 8). */
export function randomSsrc(): number {
  return randomU32();
}

/** The NTP timestamp of Unix time `unixMs` (RFC 3550 4); the seconds wrap mod 2^32 (in 2036). */
export function ntpTime(unixMs: number): NtpTime {
  const whole = Math.floor(unixMs / 1000);
  const frac = unixMs / 1000 - whole;
  let seconds = (whole + NTP_UNIX_OFFSET_SECONDS) % TIMESTAMP_RANGE;
  let fraction = Math.round(frac * TIMESTAMP_RANGE);
  if (fraction === TIMESTAMP_RANGE) {
    fraction = 0;
    seconds = (seconds + 1) % TIMESTAMP_RANGE;
  }
  return { seconds, fraction };
}

/** The middle 32 bits of an NTP timestamp: what a receiver report's LSR field holds (RFC 3550 6.4.1). */
export function ntpMiddle(t: NtpTime): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}
