/**
 * What the admin API and its event stream need from the server (STYLE 10:
 * declared by the consumer). `StreamHub` satisfies `AdminHub`; the wiring
 * maps the config and the bound listeners onto the rest.
 *
 * @module
 */
import type { HubEvent } from "../hub/events.ts";
import type { SessionEvent, SessionSnapshot } from "../hub/registry.ts";
import type { PublisherHandle, StreamSnapshot } from "../hub/stream.ts";
import type { HubTotals } from "../hub/stream_hub.ts";
import type { Logger } from "../log.ts";
import type { History } from "./history.ts";

/** The side of a stream the admin API reads and acts on. */
export interface AdminStream {
  readonly key: string;
  /** Undefined while the stream waits for its publisher to come back. */
  readonly publisher: PublisherHandle | undefined;
  snapshot(): StreamSnapshot;
}

/** The side of a registry entry the admin API acts on. */
export interface AdminSession {
  /** Asks the edge to close the connection; false when the edge gave no way to. */
  kick(reason: string): boolean;
}

/** The side of the session registry the admin API reads. */
export interface AdminSessions {
  list(filter?: { key?: string }): SessionSnapshot[];
  get(id: string): AdminSession | undefined;
  on(listener: (ev: SessionEvent) => void): () => void;
}

/** The side of the hub the admin API reads (History reads a part of it). */
export interface AdminHub {
  streams(): readonly AdminStream[];
  get(key: string): AdminStream | undefined;
  totals(): HubTotals;
  on(listener: (ev: HubEvent) => void): () => void;
  readonly sessions: AdminSessions;
}

/** A bound listener, as `GET /api/v1/server` lists it. */
export interface AdminListener {
  /**
   * `rtmp` (RTMP publish and play), `http` (HTTP-FLV, WebSocket-FLV, push, VOD, HLS, this API), their TLS
   * twins `rtmps` and `https`, or `rtsp` (RTSP play, RTP over TCP interleaved or UDP).
   */
  protocol: "rtmp" | "http" | "rtmps" | "https" | "rtsp";
  /** The address it binds, e.g. "0.0.0.0". */
  host: string;
  /** The bound port (the real one when the config asked for 0). */
  port: number;
  /**
   * `rtsp` only: the UDP ports of RTP over UDP, RTP on an even port and RTCP on the next, from `first` (an
   * odd configured first port rounded up) to `last`; `{ first: 0, last: 0 }` when the system picks free
   * ports.
   */
  udpPorts?: { first: number; last: number };
}

/**
 * A feed (ffserver's `<Feed>`: what is pushed in, and the ring buffer file it is kept in), as
 * `GET /api/v1/feeds` and the status page list it. Fields a feed does not have are left out.
 */
export interface AdminFeed {
  /** The feed's name, e.g. "feed1.ffm". */
  name: string;
  /** The path it is pushed to on the HTTP port, e.g. "/feed1.ffm". */
  path?: string;
  /** The stream it feeds, `app/name`. */
  key?: string;
  /** Whether something is pushing to it now. */
  receiving?: boolean;
  /** The ring buffer file. */
  file?: string;
  /** Bytes in the file now. */
  sizeBytes?: number;
  /** The file's bound (`FileMaxSize`). */
  maxSizeBytes?: number;
  /** Media time the file holds: how far back a player may start, ms. */
  spanMs?: number;
}

/** A transcode (an ffmpeg job from one stream to another), as `GET /api/v1/transcodes` lists it. */
export interface AdminTranscode {
  /** The stream it publishes, `app/name`. */
  key: string;
  /** The stream it reads, `app/name`. */
  from: string;
  /** "idle" (its source is not live), "running", "backoff" (a restart is due) or "failed". */
  state: string;
  /** ffmpeg's process id while it runs. */
  pid?: number;
  /** Starts after an unexpected exit. */
  restarts: number;
  /** How ffmpeg last exited: its code, the signal that ended it, when (ms since the epoch), how long it ran. */
  lastExit?: { code: number; signal?: string; at: number; ranMs: number };
  /** In backoff: the delay before the restart, ms. */
  restartInMs?: number;
  /** When failed: why. */
  error?: string;
}

/** The admin API's context. */
export interface AdminContext {
  hub: AdminHub;
  /** The sampler (started and stopped by the wiring); the event stream's snapshots come from its ticks. */
  history: History;
  log: Logger;
  /** Date.now() when the server started. */
  startedAt: number;
  /**
   * The bound listeners, asked at each request (ports are known once listening). Play and publish URLs use
   * the first of each protocol; a URL whose listener is missing is null.
   */
  listeners(): readonly AdminListener[];
  /** The configured feeds; missing (or empty) while there are none. */
  feeds?(): readonly AdminFeed[];
  /** The configured transcodes; missing (or empty) while there are none. */
  transcodes?(): readonly AdminTranscode[];
  /** Bound on event stream (SSE) clients at once; past it a request gets 503. Default DEFAULT_SSE_MAX_CLIENTS. */
  sseMaxClients: number;
  /** Bound on one SSE client's unsent bytes; past it the client is dropped. Default DEFAULT_SSE_MAX_BACKLOG_BYTES. */
  sseMaxBacklogBytes: number;
}
