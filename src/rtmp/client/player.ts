/**
 * Player: a stream Sluice's client plays (`RtmpClient.play()`), an async
 * iterator of its events in arrival order: statuses, media, user control
 * events. Its unread events are bounded in bytes (`maxQueueBytes`): past it
 * the client stops reading the socket until the consumer catches up.
 *
 * @module
 */
import { FrameKind } from "../../media/frame.ts";
import { CommandName } from "../command.ts";
import type * as control from "../control.ts";
import type { ClientChannel, StatusEvent } from "./status.ts";
import { within } from "./within.ts";

/** A player's unread events, in bytes, before the client stops reading the socket. */
export const DEFAULT_PLAYER_QUEUE_BYTES = 16 * 1024 * 1024;

/** Bytes counted per queued event on top of its payload, so a flood of small events is bounded too. */
const EVENT_OVERHEAD = 64;

/** A player's queue drops its read slots after this many reads. */
const COMPACT_AFTER = 1024;

/** What a player needs of its connection (RtmpClient implements it). */
export interface PlayChannel extends ClientChannel {
  pauseReading(): void;
  resumeReading(): void;
}

/** An audio, video or data message of a played stream. */
export interface MediaEvent {
  type: "media";
  kind: FrameKind;
  /** The message timestamp, 32-bit as on the wire. */
  timestamp: number;
  /** The message body (an FLV tag body); owned by the receiver. */
  payload: Uint8Array;
  /** A video keyframe that is not a sequence header. */
  keyframe: boolean;
  /** An AVC/AAC sequence header or enhanced sequence start. */
  sequenceHeader: boolean;
  /** For data messages (kind 18): the data name, e.g. "onMetaData"; undefined if it does not decode. */
  name?: string;
}

/** A user control event (7.1.7) about a played stream: StreamBegin, StreamEOF, StreamDry, ... */
export interface ControlEvent {
  type: "control";
  control: control.Control;
}

/** What a {@linkcode Player} yields, in arrival order. */
export type PlayerEvent = StatusEvent | MediaEvent | ControlEvent;

/** A stream being played: an async iterator of its events, in arrival order. */
export class Player<C extends PlayChannel = PlayChannel> implements AsyncIterable<PlayerEvent> {
  readonly client: C;
  /** The message stream id createStream gave. */
  readonly streamId: number;
  readonly name: string;
  readonly #feed: PlayerFeed;

  constructor(client: C, streamId: number, name: string, feed: PlayerFeed) {
    this.client = client;
    this.streamId = streamId;
    this.name = name;
    this.#feed = feed;
  }

  /** Counters over every event received (read or not). */
  get stats(): Readonly<PlayerStats> {
    return this.#feed.stats;
  }

  /** Bytes of events received and not read yet. */
  get queuedBytes(): number {
    return this.#feed.bytes;
  }

  /**
   * The next event; undefined once the connection has ended and every event
   * was read. Rejects with Deno.errors.TimedOut after `timeoutMs` (if given)
   * without one, and with the protocol error that ended the connection, if one did.
   */
  read(timeoutMs?: number): Promise<PlayerEvent | undefined> {
    return this.#feed.read(timeoutMs);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PlayerEvent> {
    while (true) {
      const ev = await this.read();
      if (ev === undefined) return;
      yield ev;
    }
  }

  /** Stops reading the socket (for stalled-player tests); events already received stay readable. */
  pauseReading(): void {
    this.client.pauseReading();
  }

  resumeReading(): void {
    this.client.resumeReading();
  }

  /** deleteStream, then closes the connection. */
  async close(): Promise<void> {
    if (!this.client.closed) {
      try {
        await this.client.sendStreamCommand(0, CommandName.DeleteStream, this.streamId);
      } catch {
        // the connection went away meanwhile
      }
    }
    await this.client.close();
  }
}

/** Player counters. */
export interface PlayerStats {
  events: number;
  statuses: number;
  audio: number;
  video: number;
  data: number;
  keyframes: number;
  /** Payload bytes of media events. */
  bytes: number;
}

/** A player's queue of received events, bounded in bytes (the client stops reading while it is full). */
export class PlayerFeed {
  readonly stats: PlayerStats = {
    events: 0,
    statuses: 0,
    audio: 0,
    video: 0,
    data: 0,
    keyframes: 0,
    bytes: 0,
  };
  bytes = 0;
  readonly #maxBytes: number;
  readonly #onDrain: () => void;
  #events: ({ ev: PlayerEvent; size: number } | undefined)[] = [];
  #head = 0;
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  constructor(maxBytes: number, onDrain: () => void) {
    this.#maxBytes = maxBytes;
    this.#onDrain = onDrain;
  }

  get full(): boolean {
    return this.bytes > this.#maxBytes;
  }

  push(ev: PlayerEvent, payloadBytes: number): void {
    if (this.#ended) return;
    const s = this.stats;
    s.events++;
    if (ev.type === "status") s.statuses++;
    else if (ev.type === "media") {
      s.bytes += payloadBytes;
      if (ev.kind === FrameKind.Audio) s.audio++;
      else if (ev.kind === FrameKind.Video) s.video++;
      else s.data++;
      if (ev.keyframe) s.keyframes++;
    }
    const size = payloadBytes + EVENT_OVERHEAD;
    this.#events.push({ ev, size });
    this.bytes += size;
    this.#wakeReader();
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakeReader();
  }

  async read(timeoutMs?: number): Promise<PlayerEvent | undefined> {
    while (true) {
      if (this.#head < this.#events.length) {
        const { ev, size } = this.#events[this.#head]!;
        this.#events[this.#head++] = undefined;
        if (this.#head === this.#events.length || this.#head > COMPACT_AFTER) {
          this.#events = this.#events.slice(this.#head);
          this.#head = 0;
        }
        const wasFull = this.full;
        this.bytes -= size;
        if (wasFull && !this.full) this.#onDrain();
        return ev;
      }
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return undefined;
      }
      if (this.#waiter) throw new TypeError("Cannot read a player twice at once: current read is pending");
      const arrived = new Promise<void>((resolve) => this.#waiter = resolve);
      if (timeoutMs === undefined) await arrived;
      else {
        await within(arrived, timeoutMs, "read the next player event", undefined, undefined, () => {
          this.#waiter = undefined;
        });
      }
    }
  }

  #wakeReader(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
