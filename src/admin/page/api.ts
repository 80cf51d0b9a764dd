/**
 * The admin API as the page sees it: the paths of `/api/v1/*`, the JSON
 * shapes of their answers and of the SSE feed, and the feed's event names.
 * This file is the whole of what the page assumes about the server.
 *
 * The shapes are the server's own types, imported as types only from the
 * modules that build the JSON (esbuild drops a type-only import, so no server
 * code enters the bundle), so a field the server renames or drops fails the
 * page's type check. The event names are runtime values, so they come from
 * a module that imports nothing (../sse_event.ts), which both ends bundle.
 * No field changes type on the way through JSON (every time is already ms
 * since the epoch or an ISO 8601 string on the server; `epochMs()` reads
 * either), so nothing here re-declares a shape.
 *
 * @module
 */
import type { StreamState as HubStreamState } from "../../hub/stream.ts";
import type { StreamView } from "../api.ts";

export type { AudioCodecInfo, VideoCodecInfo } from "../../media/codec_info.ts";
export type { SessionSnapshot } from "../../hub/registry.ts";
export type { LogEntry } from "../../log.ts";
export type { ServerView, StreamView } from "../api.ts";
export type { HistoryJson, HistorySample, StreamSample } from "../history.ts";
export type { ClosedSessionData, SnapshotData, StreamEventData } from "../sse.ts";
export { SseEvent, STREAM_EVENTS } from "../sse_event.ts";

/** The API's paths (GET unless said). */
export const ApiPath = {
  /** Server health: version, uptime, CPU, memory, connections, bandwidth, listeners. */
  Server: "/api/v1/server",
  /** `{ streams: StreamView[] }` */
  Streams: "/api/v1/streams",
  /** `{ clients: SessionSnapshot[] }` */
  Clients: "/api/v1/clients",
  /** The sampled rings (HistoryJson), fetched once at start. */
  History: "/api/v1/history",
  /** The last warnings and errors (`{ logs: LogEntry[] }`), fetched once at start. */
  Logs: "/api/v1/logs",
  /** The Server-Sent Events feed (SseEvent). */
  Events: "/api/v1/events",
  /** The login page, where a 401 sends the user. */
  Login: "/admin/login",
  /** Logging out (a POST form). */
  Logout: "/admin/logout",
} as const;
export type ApiPath = typeof ApiPath[keyof typeof ApiPath];

/**
 * A stream's state: the hub's StreamState as a table, for the page to compare
 * with at run time (the hub's module is not bundled, so the values are written
 * here; `satisfies` holds them to the hub's type, one entry per state).
 */
export const StreamState = {
  /** Its publisher is sending. */
  Live: "live",
  /** Its publisher left; players stay attached for the reconnect grace. */
  Grace: "grace",
  /** Over. */
  Ended: "ended",
} as const satisfies { readonly [S in HubStreamState as Capitalize<S>]: S };
export type StreamState = typeof StreamState[keyof typeof StreamState];

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
