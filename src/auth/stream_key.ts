/**
 * Stream keys: the shared secrets a publisher (or a player) gives in the stream name's query, as OBS
 * sends its "Stream Key" after the app: server `rtmp://host/live`, key `cam?key=SECRET` make the stream
 * name `cam` with the query `key=SECRET` (the hub splits it: `AdmissionRequest.query`). Over HTTP the key
 * is the URL's `?key=`.
 *
 * Policy:
 * - a key is compared in constant time: both sides are padded into buffers of one fixed size
 *   (`MAX_KEY_BYTES`, the longest key the config takes) and compared with `timingSafeEqual`, so the time
 *   depends on neither where they differ nor how long the configured key is;
 * - of several keys (`rules[].keys`) every one is compared, with no early exit on a match;
 * - a given key longer than `MAX_KEY_BYTES` matches nothing (the time then depends on the given key only);
 * - the configured keys are encoded once, when the set is made.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";

/** The query parameter a stream key travels in. */
export const KEY_PARAM = "key";

/** The longest stream key, in UTF-8 bytes: the config's shared secrets are 8 to 256 printable characters. */
export const MAX_KEY_BYTES = 256;

const encoder = new TextEncoder();

/** The stream key of a request's query (`?key=`), or undefined when it has none. */
export function keyOf(query: Readonly<Record<string, string>>): string | undefined {
  return Object.hasOwn(query, KEY_PARAM) ? query[KEY_PARAM] : undefined;
}

/** `text`'s UTF-8 bytes in a buffer of MAX_KEY_BYTES, zero-padded, with their length; undefined when longer. */
function padded(text: string): { bytes: Uint8Array; length: number } | undefined {
  const bytes = new Uint8Array(MAX_KEY_BYTES);
  const { read, written } = encoder.encodeInto(text, bytes);
  if (read < text.length) return undefined;
  return { bytes, length: written };
}

/** Whether the padded key `a` equals the padded key `b`, in time that depends on neither. */
function paddedEqual(
  a: { bytes: Uint8Array; length: number },
  b: { bytes: Uint8Array; length: number },
): number {
  // Both compares always run: no && short cut.
  return Number(timingSafeEqual(a.bytes, b.bytes)) & Number(a.length === b.length);
}

/**
 * Whether two keys are equal, compared in constant time (see the module doc). A key longer than
 * MAX_KEY_BYTES equals nothing.
 */
export function keysEqual(a: string, b: string): boolean {
  const pa = padded(a);
  const pb = padded(b);
  if (pa === undefined || pb === undefined) return false;
  return paddedEqual(pa, pb) === 1;
}

/** A set of configured stream keys, one of which a request must give. */
export class StreamKeys {
  readonly #keys: readonly { bytes: Uint8Array; length: number }[];

  /** RangeError for an empty set or a key longer than MAX_KEY_BYTES (the config allows neither). */
  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new RangeError("Cannot make a set of stream keys: current set is empty");
    this.#keys = keys.map((k, i) => {
      const p = padded(k);
      if (p === undefined) {
        throw new RangeError(`Cannot use stream key ${i + 1}: it is longer than ${MAX_KEY_BYTES} bytes`);
      }
      return p;
    });
  }

  /** How many keys the set holds. */
  get size(): number {
    return this.#keys.length;
  }

  /** Whether `given` is one of the keys; every key is compared, in constant time. */
  matches(given: string | undefined): boolean {
    if (given === undefined) return false;
    const p = padded(given);
    if (p === undefined) return false;
    let found = 0;
    for (const k of this.#keys) found |= paddedEqual(k, p);
    return found === 1;
  }
}
