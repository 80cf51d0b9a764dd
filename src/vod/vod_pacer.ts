/**
 * The real-time pacing of an FLV file that both VOD plays share: RTMP VOD
 * (`rtmp_vod.ts`) and RTSP VOD (`src/rtsp/session_vod.ts`). A play reads the
 * file's tags from a cursor; {@linkcode VodPacer} hands them to the play's
 * `send` when the wall clock reaches them.
 *
 * - **Schedule**: a tag is due at its timestamp, counted from the run's first
 *   audio or video frame, minus a lead (1 s by default): the first second goes
 *   at once so the player can buffer. The schedule is computed from the start
 *   (`clockBase`, `tsBase`), never by adding up sleeps, so it does not drift.
 *   Only real audio/video frames set and follow the clock (as in the hub):
 *   metadata and sequence headers are often stamped 0 in a file whose media
 *   starts much later, and go out with what is due.
 * - **Batches**: tags due together (within 20 ms) share one `send`, up to
 *   256 KiB. Each send is awaited, so a slow socket holds the schedule back and
 *   the backlog goes out when it drains.
 * - **Filters**: the play's `keep` skips tags (a prelude sent already, a track
 *   the player turned off, data messages RTP does not carry); a skipped tag is
 *   neither sent nor on the clock.
 * - **Stopping**: the play's `current()` says whether the loop is still the
 *   one to run (false once a command came); it is asked at every step, and
 *   {@linkcode VodPacer.interrupt} ends a wait at once. A loop that stops moves
 *   the cursor back to the first tag it read and did not send, so the next
 *   loop reads it again.
 * - **End**: the last tag, or a malformed one (the index said so when it saw
 *   it), or the first audio/video frame past the run's `endMs`: once the last
 *   batch is sent, `pace()` resolves `PaceResult.End`; the play says so its
 *   own way.
 * - **Pause**: the play moves the schedule on by the time spent paused
 *   ({@linkcode postpone}).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { type FlvTag, TagType } from "../media/flv.ts";
import type { FlvTagCursor } from "../media/flv_index.ts";
import { classify } from "../media/frame.ts";

/** Default lead of the pacing, ms. */
export const DEFAULT_LEAD_MS = 1000;
/** Tags due within this many ms go out with the ones due now. */
export const SLACK_MS = 20;
/** A batch of tags is sent once it holds this many bytes. */
export const MAX_BATCH_BYTES = 256 * 1024;

/** How a pacing loop ended. */
export const PaceResult = {
  /** The file's end: every tag was sent. */
  End: "end",
  /** `current()` turned false (a command came): the cursor is at the first tag not sent. */
  Stopped: "stopped",
} as const;
export type PaceResult = typeof PaceResult[keyof typeof PaceResult];

/** One stretch of playing from a position: the cursor and the clock it is paced against. */
export interface PacedRun {
  readonly cursor: FlvTagCursor;
  /** performance.now() at which the run's first audio/video frame was due, and its timestamp; set by it. */
  clockBase?: number;
  tsBase?: number;
  /** The run ends before its first audio/video frame past this timestamp (an RTSP PLAY's Range end), ms. */
  endMs?: number;
}

/** What a pacing loop needs from its play (STYLE 10: the consumer declares it). */
export interface PaceHooks {
  /** Whether this loop is still the one to run; false ends it at its next step. */
  current(): boolean;
  /** Whether a tag is sent; false skips it (neither sent nor on the clock). */
  keep(tag: FlvTag): boolean;
  /** Sends tags due together, in file order (the play owns the array); resolves once written. */
  send(batch: FlvTag[]): Promise<void>;
}

/** The cursor's next tag, or undefined at the end; a malformed tag ends the file there. */
export async function nextTag(cursor: FlvTagCursor): Promise<FlvTag | undefined> {
  try {
    return await cursor.next();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return undefined;
  }
}

/** Moves the run's schedule on by `ms` (the time spent paused); nothing before its first frame. */
export function postpone(run: PacedRun, ms: number): void {
  if (run.clockBase !== undefined) run.clockBase += ms;
}

/** Paces one play's runs, one loop at a time (see the module doc). */
export class VodPacer {
  /** How far ahead of the wall clock tags are sent, ms. */
  readonly leadMs: number;
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  constructor(leadMs = DEFAULT_LEAD_MS) {
    this.leadMs = leadMs;
  }

  /** Sends the run's tags on their schedule until the end, or until `current()` is false. */
  async pace(run: PacedRun, hooks: PaceHooks): Promise<PaceResult> {
    const batch: FlvTag[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0 || !hooks.current()) return;
      const out = batch.splice(0, batch.length);
      batchBytes = 0;
      await hooks.send(out);
    };
    while (hooks.current()) {
      const tag = await nextTag(run.cursor);
      if (!hooks.current()) {
        if (tag) batch.push(tag);
        break;
      }
      if (!tag) {
        await flush();
        if (!hooks.current()) break;
        return PaceResult.End;
      }
      if (!hooks.keep(tag)) continue;
      const onClock = tag.type !== TagType.ScriptData && !classify(tag.type, tag.data).sequenceHeader;
      if (onClock && run.endMs !== undefined && tag.timestamp > run.endMs) {
        // The end the play asked for: the run ends as at the file's end, the cursor at this tag.
        run.cursor.moveTo(tag.offset);
        await flush();
        if (!hooks.current()) break;
        return PaceResult.End;
      }
      if (onClock) {
        const now = performance.now();
        run.clockBase ??= now;
        run.tsBase ??= tag.timestamp;
        const wait = run.clockBase + (tag.timestamp - run.tsBase) - this.leadMs - now;
        if (wait > SLACK_MS) {
          await flush();
          if (hooks.current()) await this.#sleep(wait);
          if (!hooks.current()) {
            batch.push(tag);
            break;
          }
        }
      }
      batch.push(tag);
      batchBytes += tag.data.length;
      if (batchBytes >= MAX_BATCH_BYTES) await flush();
    }
    // Stopped: what was read and not sent is read again by the next loop.
    if (batch.length > 0) run.cursor.moveTo(batch[0].offset);
    return PaceResult.Stopped;
  }

  /** Ends a wait at once (a command, a stop); the loop then asks `current()`. */
  interrupt(): void {
    if (this.#sleepTimer !== undefined) clearTimeout(this.#sleepTimer);
    this.#sleepTimer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves after `ms`, or at once on interrupt(). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = setTimeout(() => this.interrupt(), ms);
    });
  }
}
