/**
 * RTMP URLs as Sluice's client reads them: `rtmp://host[:port]/app[/more]/stream`,
 * or `rtmps://` for RTMP over TLS. The last path segment (with any query) is the
 * stream name and everything before it the app, as ffmpeg splits simple URLs
 * (`rtmp://h/live/cam`: app "live", stream "cam"). A URL with one segment
 * (`rtmp://h/live`) names the app only.
 *
 * @module
 */

/** The RTMP port when a URL names none. */
export const DEFAULT_RTMP_PORT = 1935;

/**
 * The RTMPS port when an `rtmps://` URL names none: 443, as ffmpeg and the big ingest services use
 * (Sluice's own RTMPS listener defaults to 1936, `tls.rtmpsPort`, so a URL to it names the port).
 */
export const DEFAULT_RTMPS_PORT = 443;

/** Where a URL points. */
export interface RtmpUrl {
  hostname: string;
  port: number;
  /** The app, e.g. "live"; "" when the URL has no path. */
  app: string;
  /** The stream name with any query, e.g. "cam?key=1"; "" when the URL names the app only. */
  stream: string;
  /** `rtmp://host[:port]/app` (or `rtmps://`), as sent in `connect`. */
  tcUrl: string;
  /** An `rtmps://` URL: the connection runs over TLS. */
  tls: boolean;
}

/** Splits an RTMP URL (see the module doc). Throws TypeError for something else. */
export function parseRtmpUrl(url: string): RtmpUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new TypeError(`Cannot parse RTMP URL ${url}: current value is not a URL`, { cause: e });
  }
  if ((u.protocol !== "rtmp:" && u.protocol !== "rtmps:") || u.hostname === "") {
    throw new TypeError(
      `Cannot parse RTMP URL ${url}: current scheme is ${u.protocol}, expected rtmp://host or rtmps://host`,
    );
  }
  const tls = u.protocol === "rtmps:";
  const segments = u.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  const app = segments.length > 1 ? segments.slice(0, -1).join("/") : segments.join("/");
  const stream = segments.length > 1 ? segments[segments.length - 1] + u.search : "";
  const port = u.port !== "" ? Number(u.port) : tls ? DEFAULT_RTMPS_PORT : DEFAULT_RTMP_PORT;
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return { hostname, port, app, stream, tcUrl: `${u.protocol}//${u.host}/${app}`, tls };
}
