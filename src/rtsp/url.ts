/**
 * RTSP request URLs as Sluice's users write them, the way nginx-rtmp and
 * MediaMTX users expect: `rtsp://host[:port]/app/stream[/trackID=N][?query]`.
 * The last path segment is the stream and the ones before it the app, as for
 * RTMP (src/rtmp/client/url.ts): `rtsp://h/live/cam` is app "live", stream
 * "cam"; a URL with one segment names a stream with no app.
 *
 * A track is the control suffix a SETUP adds to the aggregate URL: Sluice's
 * SDP says `a=control:trackID=N`; ffmpeg publishing says `streamid=N` in its
 * own SDP. Clients add it by plain string append to the URL they were given,
 * so with a query it may come after the query
 * (`rtsp://h/live/x?key=abc/streamid=0`, as ffmpeg 5.1 sends): both places are
 * read. A trailing slash (`rtsp://h/live/x/`, the Content-Base, which ffmpeg
 * then PLAYs) is the same aggregate URL.
 *
 * Bounds: the query is at most MAX_URL_QUERY_LENGTH characters and the path
 * at most MAX_PATH_SEGMENTS segments; past them, or malformed, RtspError 400.
 * The query is returned as text for the gate (`parseQuery` in the hub reads
 * it with its own bounds).
 *
 * @module
 */
import { quote } from "./headers.ts";
import { RtspError, RtspStatus } from "./status.ts";

/** RTSP's port (RFC 2326 3.2). */
export const DEFAULT_RTSP_PORT = 554;
/** RTSP over TLS (IANA "rtsps", RFC 2326 3.2). */
export const DEFAULT_RTSPS_PORT = 322;
/** The longest query read, in characters (as `MAX_QUERY_LENGTH` in src/hub/admission.ts). */
export const MAX_URL_QUERY_LENGTH = 4096;
/** The most path segments read (app segments, the stream, the track). */
export const MAX_PATH_SEGMENTS = 16;

/** Where a request URL points. */
export interface RtspUrl {
  readonly scheme: "rtsp" | "rtsps";
  /** Without IPv6 brackets; "" for a bare path (`/live/x`). */
  readonly host: string;
  readonly port: number;
  /** The app: every segment before the stream, joined with "/" ("" for none). */
  readonly app: string;
  /** The stream name, decoded ("" when the URL has no path). */
  readonly stream: string;
  /** The track of `trackID=N` or `streamid=N`; absent for the aggregate URL. */
  readonly track?: number;
  /** The query without its `?` and without a track after it; "" for none. */
  readonly query: string;
  /** The path ended in "/" (before any track): the aggregate URL as a Content-Base. */
  readonly trailingSlash: boolean;
}

/** `trackID=N` (Sluice, live555) or `streamid=N` (ffmpeg's ANNOUNCE SDP): the track's control suffix. */
const TRACK_SEGMENT = /^(?:trackid|streamid)=(\d{1,3})$/i;
const TRACK_AFTER_QUERY = /\/((?:trackid|streamid)=\d{1,3})$/i;
const URL_SHAPE = /^(rtsps?):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i;

function bad(uri: string, why: string): RtspError {
  return new RtspError(RtspStatus.BadRequest, "rtsp_url", `Cannot read RTSP URL ${quote(uri)}: ${why}`);
}

/** Splits a request URL (see the module doc); `/app/stream` without scheme and host is read too. */
export function parseRtspUrl(uri: string): RtspUrl {
  let scheme: "rtsp" | "rtsps" = "rtsp";
  let authority = "";
  let path: string;
  let query: string | undefined;
  if (uri.startsWith("/")) {
    const q = uri.indexOf("?");
    path = q < 0 ? uri : uri.slice(0, q);
    query = q < 0 ? undefined : uri.slice(q + 1);
  } else {
    const m = URL_SHAPE.exec(uri);
    if (!m) throw bad(uri, "current scheme is not rtsp:// or rtsps://");
    scheme = m[1].toLowerCase() as "rtsp" | "rtsps";
    authority = m[2];
    path = m[3];
    query = m[4];
  }
  const { host, port } = hostPort(uri, authority, scheme);
  let track: number | undefined;
  // ffmpeg appends the control to the URL it was given, query and all.
  if (query !== undefined) {
    const t = TRACK_AFTER_QUERY.exec(query);
    if (t) {
      query = query.slice(0, t.index);
      path = `${path.endsWith("/") ? path : `${path}/`}${t[1]}`;
    }
  }
  if (query !== undefined && query.length > MAX_URL_QUERY_LENGTH) {
    throw bad(uri, `current query is ${query.length} characters, limit ${MAX_URL_QUERY_LENGTH}`);
  }
  const raw = path.split("/");
  if (raw.length > MAX_PATH_SEGMENTS + 1) {
    throw bad(uri, `current path has ${raw.length - 1} segments, limit ${MAX_PATH_SEGMENTS}`);
  }
  let segments = raw.filter((s) => s !== "");
  const last = segments[segments.length - 1];
  const t = last === undefined ? null : TRACK_SEGMENT.exec(last);
  let trailingSlash = path.endsWith("/");
  if (t) {
    track = Number(t[1]);
    segments = segments.slice(0, -1);
    // The segment before the track ends in "/": the aggregate before it was written with one or not.
    trailingSlash = false;
  }
  let decoded: string[];
  try {
    decoded = segments.map(decodeURIComponent);
  } catch {
    throw bad(uri, "current path has a malformed percent escape");
  }
  if (decoded.some((s) => s.includes("/") || [...s].some((c) => c.charCodeAt(0) < 0x20))) {
    throw bad(uri, "current path has a control character or an escaped slash");
  }
  const stream = decoded.length > 0 ? decoded[decoded.length - 1] : "";
  const app = decoded.slice(0, -1).join("/");
  return {
    scheme,
    host,
    port,
    app,
    stream,
    ...(track !== undefined && { track }),
    query: query ?? "",
    trailingSlash,
  };
}

/** `[user[:pass]@]host[:port]`, host a name, IPv4, or [IPv6]. */
function hostPort(uri: string, authority: string, scheme: "rtsp" | "rtsps"): { host: string; port: number } {
  const at = authority.lastIndexOf("@");
  const hp = at < 0 ? authority : authority.slice(at + 1);
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]*)(?::(\d{1,5}))?$/.exec(hp);
  const port = m?.[2] === undefined
    ? (scheme === "rtsps" ? DEFAULT_RTSPS_PORT : DEFAULT_RTSP_PORT)
    : Number(m[2]);
  if (!m || port < 1 || port > 65535 || /[\s\0]/.test(m[1])) throw bad(uri, `current host is ${quote(hp)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}
