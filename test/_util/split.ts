/**
 * Feeding bytes to a stream parser in every way a socket might deliver them:
 * whole, split in two at every byte position, one byte at a time, and in
 * random pieces drawn from a seeded generator (`seededRandom` in ./mutate.ts),
 * so a failure names its seed.
 *
 * @module
 */

/** Anything that takes bytes and returns what they complete (ChunkReader.push, for one). */
export type Push<T> = (bytes: Uint8Array) => T[];

/** What a parser made of a sequence of pieces: the items returned, then the error thrown, if any. */
export interface FeedResult<T> {
  items: T[];
  error?: unknown;
}

/** Pushes `pieces` in order, collecting what each returns, until one throws. */
export function feed<T>(push: Push<T>, pieces: Iterable<Uint8Array>): FeedResult<T> {
  const items: T[] = [];
  try {
    for (const piece of pieces) items.push(...push(piece));
  } catch (error) {
    return { items, error };
  }
  return { items };
}

/** Every way to split `bytes` in two: at positions 1..length-1 (the first piece is never empty). */
export function* splitsInTwo(bytes: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
}

/** `bytes` one byte at a time. */
export function* byteByByte(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

/** `bytes` in pieces of 1..maxPiece bytes (sometimes empty), sizes drawn from `random`. */
export function randomPieces(bytes: Uint8Array, random: () => number, maxPiece = 64): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    // Mostly small pieces, sometimes an empty one, sometimes a big one.
    const r = random();
    const n = r < 0.05
      ? 0
      : r < 0.15
      ? Math.ceil(random() * bytes.length)
      : 1 + Math.floor(random() * maxPiece);
    pieces.push(bytes.subarray(at, at + n));
    at += n;
  }
  return pieces;
}
