/**
 * Seeded input fuzzing for decoders: every truncation of a fixture, random
 * byte mutations of it, and a check that a decoder either succeeds or throws
 * ProtocolError, never anything else. The seed is fixed so a failure repeats.
 *
 * @module
 */

import { ProtocolError } from "../../src/errors.ts";
import { toHex } from "../fixtures/annotated_hex.ts";

/** A small deterministic PRNG (mulberry32); returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every proper prefix of `bytes`, shortest first. */
export function* truncations(bytes: Uint8Array): Generator<Uint8Array> {
  for (let n = 0; n < bytes.length; n++) yield bytes.subarray(0, n);
}

/**
 * `count` mutants of `bytes`: each flips, replaces, inserts or deletes one to
 * three bytes, with replacements biased to interesting values (0x00, 0xff,
 * markers, the high bit).
 */
export function* mutations(bytes: Uint8Array, random: () => number, count: number): Generator<Uint8Array> {
  const interesting = [0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x09, 0x0a, 0x0c, 0x11, 0x7f, 0x80, 0xff];
  const pick = (n: number) => Math.floor(random() * n);
  for (let i = 0; i < count; i++) {
    let out = Array.from(bytes);
    const edits = 1 + pick(3);
    for (let e = 0; e < edits; e++) {
      const at = pick(out.length + 1);
      const value = random() < 0.5 ? interesting[pick(interesting.length)] : pick(256);
      switch (pick(4)) {
        case 0:
          if (at < out.length) out[at] ^= 1 << pick(8);
          break;
        case 1:
          if (at < out.length) out[at] = value;
          break;
        case 2:
          out.splice(at, 0, value);
          break;
        default:
          out = out.filter((_, j) => j !== at);
      }
    }
    yield Uint8Array.from(out);
  }
}

/** Runs `decode(input)`; rethrows anything but a ProtocolError with the input in the message. */
export function expectOnlyProtocolError(input: Uint8Array, decode: (input: Uint8Array) => unknown): void {
  try {
    decode(input);
  } catch (e) {
    if (e instanceof ProtocolError) return;
    throw new Error(`decoder threw a non-ProtocolError for input ${toHex(input)}`, { cause: e });
  }
}
