/**
 * Time-shift: what a player that starts in the past of a feed needs, whatever its protocol. The point it
 * asks for (`?preroll=SECONDS`, `?date=ISO8601`), the small interfaces of a feed's ring as players read it
 * (STYLE 10: declared here, by the consumers; `FeedRing` in `feed_ring.ts` has them), and `RingPacer`, the
 * one loop that reads a ring reader and hands each tag to a protocol's writer at the right time.
 *
 * Pacing policy:
 * - paced (the default): tags go out at the speed they were recorded, at most `LEAD_MS` ahead of the wall
 *   clock counted from the first media tag (so the player buffers a little at once), and the player stays
 *   as far behind live as it started;
 * - catch-up (a feed's `catchUp`): tags go out as fast as the writer takes them, up to the live edge, then
 *   as they arrive;
 * - metadata and sequence headers are never held back;
 * - one write in flight: the next tag is read only after the writer resolved (backpressure is the
 *   player's own socket; one overtaken by the ring's wrap skips ahead, as the ring's reader does).
 *
 * @module
 */

/** How far ahead of the wall clock a paced player is sent, ms: its start-up buffer. */
export const LEAD_MS = 1_000;
/** The longest preroll a query may ask for, seconds (a day). */
export const MAX_PREROLL_S = 86_400;
/** FLV tag types / RTMP message types of the tags a ring holds (FLV spec v10.1 E.4.1). */
const AUDIO = 8;
const VIDEO = 9;
const DATA = 18;

/** Where in a ring a player starts: so far before the newest tag, or at a wall-clock time. */
export type TimeShiftPoint = { readonly agoMs: number } | { readonly wallMs: number };

/** One tag read back from a ring (the ring's RingTag, as far as a player needs it). */
export interface TimeShiftTag {
  readonly kind: number;
  readonly timestamp: number;
  readonly payload: Uint8Array;
  readonly sequenceHeader: boolean;
}

/** A reader of a ring: the next tag, waiting at the head; null once the ring or the reader is closed. */
export interface TimeShiftReader {
  next(): Promise<TimeShiftTag | null>;
  close(): void;
}

/** A feed's ring, as a time-shifted player needs it (STYLE 10). */
export interface TimeShiftRing {
  reader(at: TimeShiftPoint): TimeShiftReader | undefined;
  /** The newest tag's timestamp on the ring's timeline; undefined while it is empty. */
  readonly newestTimestamp?: number;
}

/** The feeds, as HTTP handlers need them (`src/feed/feeds.ts`). */
export interface FeedLookup {
  /** The ring of stream `key`, when it is a feed with an open ring file. */
  ring(key: string): TimeShiftRing | undefined;
  /** Whether the feed of `key` sends its past as fast as a player reads. */
  catchUp(key: string): boolean;
  /** The feed pushed to at `path` ("/feed1.ffm"). */
  byPush(path: string): { readonly key: string } | undefined;
}

/** The query parameters of a time-shifted play, read from a URL's or an RTMP stream name's query. */
export interface TimeShiftQuery {
  get(name: string): string | null;
}

/**
 * The point a request asks for: `?preroll=S` (seconds, 0 to a day) or `?date=ISO8601`; else `defaultMs`
 * back when it is above 0; else undefined (live). A malformed value is a RangeError naming it.
 */
export function timeShiftPoint(query: TimeShiftQuery, defaultMs = 0): TimeShiftPoint | undefined {
  const preroll = query.get("preroll");
  const date = query.get("date");
  if (preroll !== null) {
    const s = Number(preroll);
    if (preroll.trim() === "" || !Number.isFinite(s) || s < 0 || s > MAX_PREROLL_S) {
      throw new RangeError(`Cannot start in the past: preroll ${preroll} is not 0..${MAX_PREROLL_S} seconds`);
    }
    return s > 0 ? { agoMs: Math.round(s * 1000) } : undefined;
  }
  if (date !== null) {
    const wallMs = Date.parse(date);
    if (date.length > 64 || Number.isNaN(wallMs)) {
      throw new RangeError(`Cannot start in the past: date ${date.slice(0, 64)} is not an ISO 8601 time`);
    }
    return { wallMs };
  }
  return defaultMs > 0 ? { agoMs: defaultMs } : undefined;
}

/** A point in words, for a log line: "from 5000 ms back", "from 2026-12-02T01:00:00.000Z". */
export function describePoint(at: TimeShiftPoint): string {
  return "agoMs" in at ? `from ${at.agoMs} ms back` : `from ${new Date(at.wallMs).toISOString()}`;
}

/** How a ring is played: which tracks, how fast. */
export interface PacerOptions {
  readonly catchUp: boolean;
  readonly noAudio?: boolean;
  readonly noVideo?: boolean;
}

/** Reads a ring reader and hands each tag to `write` at its time (see the module doc). */
export class RingPacer {
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(readonly reader: TimeShiftReader, readonly options: PacerOptions) {}

  /**
   * Runs until the reader ends (resolves "ended"), `close()` (resolves "closed"), or `write` rejects
   * (rejects the same way). The reader is closed when it returns.
   */
  async run(write: (tag: TimeShiftTag) => Promise<void>): Promise<"ended" | "closed"> {
    let firstTs = -1;
    let startedAt = 0;
    try {
      while (!this.#closed) {
        const tag = await this.reader.next();
        if (tag === null) return this.#closed ? "closed" : "ended";
        if (this.#closed) break;
        if (tag.kind === AUDIO && this.options.noAudio) continue;
        if (tag.kind === VIDEO && this.options.noVideo) continue;
        if (!this.options.catchUp && !tag.sequenceHeader && tag.kind !== DATA) {
          if (firstTs < 0) {
            firstTs = tag.timestamp;
            startedAt = performance.now();
          }
          const dueIn = (tag.timestamp - firstTs) - (performance.now() - startedAt) - LEAD_MS;
          if (dueIn > 0) await this.#sleep(dueIn);
          if (this.#closed) break;
        }
        await write(tag);
      }
      return "closed";
    } finally {
      this.reader.close();
    }
  }

  /** Stops the loop at its next step (a sleep ends at once). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
    this.reader.close();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
