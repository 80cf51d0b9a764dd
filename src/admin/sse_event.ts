/**
 * The event names of the admin event stream (the `event:` lines of
 * `GET /api/v1/events`): one table for both ends, the server that writes
 * them (sse.ts) and the page that listens for them (page/app.ts). It imports
 * nothing, so the page's bundle takes it without any server code; the shapes
 * of each event's data are types in sse.ts, which the page imports as types
 * only.
 *
 * @module
 */

/** The event names of the stream. */
export const SseEvent = {
  /** Every tick: `{ server, streams, clients, sample }` (SnapshotData). */
  Snapshot: "snapshot",
  /** A publisher created a stream (StreamEventData). */
  Publish: "publish",
  /** A stream's publisher left; the stream waits out its grace (StreamEventData). */
  Unpublish: "unpublish",
  /** A publisher came back during grace, or took the stream over (StreamEventData). */
  Resume: "resume",
  /** The stream is over (StreamEventData). */
  End: "end",
  /** A session opened: its snapshot. */
  Connect: "connect",
  /** A session closed: its final snapshot and `reason` (ClosedSessionData). */
  Close: "close",
  /** A warning or an error: `{ at, level, line }` (a LogEntry). */
  Log: "log",
} as const;
export type SseEvent = typeof SseEvent[keyof typeof SseEvent];

/** The stream events, the ones whose data is a StreamEventData. */
export const STREAM_EVENTS: readonly SseEvent[] = [
  SseEvent.Publish,
  SseEvent.Unpublish,
  SseEvent.Resume,
  SseEvent.End,
];
