/**
 * The admin API as the page sees it: the JSON shapes of `/api/v1/*` and the
 * SSE feed (the contract of issue 8, declared here by their consumer, STYLE
 * 10), the paths, and the feed's event names. The page never imports server
 * code: this file is the whole of what it assumes about the server.
 *
 * @module
 */

/** The API's paths (GET unless said). */
export const ApiPath = {
  /** Server health: version, uptime, CPU, memory, connections, bandwidth, listeners. */
  Server: "/api/v1/server",
  /** `{ streams: StreamView[] }` */
  Streams: "/api/v1/streams",
  /** `{ clients: ClientView[] }` */
  Clients: "/api/v1/clients",
  /** The sampled rings (HistoryView), fetched once at start. */
  History: "/api/v1/history",
  /** The last warnings and errors (`{ logs: LogLine[] }`), fetched once at start. */
  Logs: "/api/v1/logs",
  /** The Server-Sent Events feed (FeedEvent). */
  Events: "/api/v1/events",
  /** The login page, where a 401 sends the user. */
  Login: "/admin/login",
  /** Logging out (a POST form). */
  Logout: "/admin/logout",
} as const;
export type ApiPath = typeof ApiPath[keyof typeof ApiPath];

/** The event names of the SSE feed (`event:` lines of `/api/v1/events`). */
export const FeedEvent = {
  /** Every second: `{ server, streams, clients, sample }` (SnapshotData). */
  Snapshot: "snapshot",
  /** A publisher created a stream (StreamEventData). */
  Publish: "publish",
  /** A stream's publisher left; the stream waits out its grace. */
  Unpublish: "unpublish",
  /** A publisher came back during grace, or took the stream over. */
  Resume: "resume",
  /** The stream is over. */
  End: "end",
  /** A session opened (ClientView). */
  Connect: "connect",
  /** A session closed (ClientView with `reason`). */
  Close: "close",
  /** A warning or error line (LogLine). */
  Log: "log",
} as const;
export type FeedEvent = typeof FeedEvent[keyof typeof FeedEvent];

/** The stream events of the feed, the ones that carry StreamEventData. */
export const STREAM_EVENTS: readonly FeedEvent[] = [
  FeedEvent.Publish,
  FeedEvent.Unpublish,
  FeedEvent.Resume,
  FeedEvent.End,
];

/** A stream's state (the hub's StreamState). */
export const StreamState = {
  /** Its publisher is sending. */
  Live: "live",
  /** Its publisher left; players stay attached for the reconnect grace. */
  Grace: "grace",
  /** Over. */
  Ended: "ended",
} as const;
export type StreamState = typeof StreamState[keyof typeof StreamState];

/** A stream's video, from its sequence header; fields that cannot be read are absent. */
export interface VideoView {
  codec: string;
  profile?: string;
  level?: string;
  width?: number;
  height?: number;
  frameRate?: number;
}

/** A stream's audio; fields that cannot be read are absent. */
export interface AudioView {
  codec: string;
  sampleRate?: number;
  channels?: number;
  profile?: string;
}

/** A stream's current publisher. */
export interface PublisherView {
  id: string;
  protocol?: string;
  remote?: string;
  /** When it took the stream, ms since the epoch. */
  since: number;
}

/** Play URLs of a stream, built by the server from the request's host and its bound ports (null: no such listener). */
export interface PlayUrls {
  rtmp: string | null;
  httpFlv: string | null;
  wsFlv: string | null;
}

/** Publish URLs of a stream (null: no such listener). */
export interface PublishUrls {
  rtmp: string | null;
  http: string | null;
}

/** One stream (`GET /api/v1/streams`): the hub's StreamSnapshot plus URLs. */
export interface StreamView {
  key: string;
  app: string;
  name: string;
  /** A StreamState (a string, so a state added later still shows). */
  state: string;
  publisher: PublisherView | null;
  video: VideoView | null;
  audio: AudioView | null;
  /** Bits per second over the last 5 s. */
  bitrate: { video: number; audio: number };
  gop: { frames: number; durationMs: number };
  uptimeMs: number;
  viewers: { total: number; byProtocol: Record<string, number> };
  observers: number;
  framesDropped: number;
  framesIn: number;
  bytesIn: number;
  publishers: number;
  /** viewers.total, for old clients. */
  players: number;
  playUrls: PlayUrls;
  publishUrls: PublishUrls;
}

/** One session (`GET /api/v1/clients`). */
export interface ClientView {
  id: string;
  protocol: string;
  role: string;
  remote?: string;
  key?: string;
  /** ms since the epoch (or an ISO string). */
  startedAt: number | string;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  framesSent: number;
  framesDropped: number;
  skips: number;
  lagMs: number;
  /** On a `close` event: why. */
  reason?: string;
}

/** A listening socket of the server. */
export interface ListenerView {
  protocol: string;
  host: string;
  port: number;
}

/** `GET /api/v1/server` */
export interface ServerView {
  version: string;
  /** ISO time. */
  startedAt: string;
  uptimeMs: number;
  cpu: { userMs: number; systemMs: number; percent: number };
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  connections: { total: number; byProtocol: Record<string, number> };
  /** Bits per second over the last second, and bytes since the start. */
  bandwidth: { inBps: number; outBps: number; inTotalBytes: number; outTotalBytes: number };
  streams: { live: number; seen: number };
  listeners: ListenerView[];
}

/** A stream's part of a sample. */
export interface StreamSample {
  inBps: number;
  viewers: number;
  lagP99Ms: number;
}

/** One second of the server, as each snapshot event carries it. */
export interface Sample {
  /** ms since the epoch. */
  t: number;
  inBps: number;
  outBps: number;
  viewers: number;
  streams: Record<string, StreamSample>;
}

/** The `snapshot` event's data. */
export interface SnapshotData {
  server: ServerView;
  streams: StreamView[];
  clients: ClientView[];
  sample: Sample;
}

/** `publish`, `unpublish`, `resume`, `end` data. */
export interface StreamEventData {
  key: string;
  /** ms since the epoch, or an ISO string. */
  at: number | string;
  publisherId?: string;
}

/** One warning or error line (`GET /api/v1/logs`, the `log` event). */
export interface LogLine {
  /** ISO time. */
  at: string;
  /** "warn" or "error" (or any other level the server sends). */
  level: string;
  line: string;
}

/** `GET /api/v1/history`: parallel arrays, oldest first. */
export interface HistoryView {
  intervalMs: number;
  server: { t: number[]; inBps: number[]; outBps: number[]; viewers: number[] };
  streams: Record<string, { t: number[]; inBps: number[]; viewers: number[]; lagP99Ms: number[] }>;
}

/** `app/name` as a path: each segment percent-encoded, the slash kept. */
function keyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** `POST` here stops a stream's publisher: `/api/v1/streams/{app}/{name}/stop`. */
export function stopPath(key: string): string {
  return `${ApiPath.Streams}/${keyPath(key)}/stop`;
}

/** `POST` here kicks a session: `/api/v1/clients/{id}/kick`. */
export function kickPath(id: string): string {
  return `${ApiPath.Clients}/${encodeURIComponent(id)}/kick`;
}

/** Milliseconds since the epoch of a time the API gives as a number or an ISO string (NaN if neither). */
export function epochMs(t: number | string): number {
  return typeof t === "number" ? t : Date.parse(t);
}

/**
 * The HTTP-FLV URL the preview plays, on the page's own origin: the path (and
 * query) of the stream's `playUrls.httpFlv` (the server builds it from the
 * Host name and its port, which a proxy may change), else `/{app}/{name}.flv`.
 * Same-origin keeps the page's connect-src 'self'.
 */
export function previewUrl(stream: Pick<StreamView, "key" | "playUrls">, origin: string): string {
  const fallback = `${origin}/${keyPath(stream.key)}.flv`;
  if (!stream.playUrls.httpFlv) return fallback;
  try {
    const u = new URL(stream.playUrls.httpFlv);
    return `${origin}${u.pathname}${u.search}`;
  } catch {
    return fallback;
  }
}

/** The message of an API error body (`{ "error": "Cannot ..." }`), else the status. */
export function errorMessage(status: number, body: unknown): string {
  if (typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "string") {
    return (body as { error: string }).error;
  }
  return `HTTP ${status}`;
}
