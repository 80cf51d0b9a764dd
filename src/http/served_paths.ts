/**
 * The paths of one segment the config names (ffserver's URLs): a feed's push path (`feeds[].push`,
 * `POST /feed1.ffm`) and the streams served at a path of their own (`streams[]`: `GET /live.flv` plays a
 * live stream or feed over HTTP-FLV, or WebSocket-FLV on upgrade, `/test.flv` a file on demand,
 * `/stat.html` the status page). Looked up in the running config on each request, so a reload changes
 * them at once.
 *
 * Policy:
 * - a stream's `acl` is asked first (403 with the address and rule), then the admission gate as for any
 *   play; a status stream with no `acl` is guarded as `/status` is;
 * - a stream's `prerollMs` (or the request's `?preroll=`/`?date=`) plays from its feed's ring when the feed
 *   has one, else 404 saying so; `noAudio`/`noVideo` leave tracks out; `maxTimeMs` ends the play;
 * - a stream of format rtp is served by the RTSP listener at its path, and here is a 404 saying so;
 * - any other path of one segment is a 404 naming what is configured.
 *
 * @module
 */
import { aclRefusal, entryAcl } from "../config/acl.ts";
import { serveFlvPush, serveWsFlvPush } from "../ingest/http_flv_ingest.ts";
import { serveFlvPlay } from "../outputs/http_flv.ts";
import { timeShiftPoint } from "../feed/time_shift.ts";
import { serveTimeShiftFlv } from "../outputs/timeshift_flv.ts";
import { serveWsFlvPlay } from "../outputs/ws_flv.ts";
import { serveConfiguredFile } from "../vod/http_vod.ts";
import type { HttpContext } from "./context.ts";
import { jsonError } from "./responses.ts";
import { WS } from "./router.ts";

/** Serves the status page to a request already let through (the `/status` handler, guard aside). */
export type StatusServer = (
  req: Request,
  remote: Deno.Addr | undefined,
  guarded: boolean,
) => Promise<Response>;

/** The answer for `method` on the configured path `path` (one segment, with its "/"). */
export function serveConfiguredPath(
  req: Request,
  method: string,
  path: string,
  ctx: HttpContext,
  remote: Deno.Addr | undefined,
  status?: StatusServer,
): Promise<Response> | Response {
  const feed = ctx.feeds?.byPush(path);
  if (feed && (method === "POST" || method === "PUT")) return serveFlvPush(req, feed.key, ctx, remote);
  if (feed && method === WS) return serveWsFlvPush(req, feed.key, ctx, remote);
  const entry = ctx.config.streams.find((s) => s.path === path);
  if (!entry) {
    if (feed) return jsonError(405, `Cannot ${method} ${path}: it is the push path of feed ${feed.key}`);
    return jsonError(404, `Cannot ${method === WS ? "GET" : method} ${path}: no such route`);
  }
  if (entry.format === "rtp") {
    return jsonError(
      404,
      `Cannot ${
        method === WS ? "GET" : method
      } ${path}: it is served over RTSP (rtsp://HOST:${ctx.config.rtsp.port}${path})`,
    );
  }
  if (method !== "GET" && method !== "HEAD" && method !== WS) {
    return jsonError(405, `Cannot ${method} ${path}: a stream is played with GET`);
  }
  const host = remote?.transport === "tcp" ? remote.hostname : "";
  const why = entry.acl.length > 0 ? aclRefusal(entryAcl(entry), host) : undefined;
  if (why !== undefined) {
    ctx.log.info(`refused ${method} ${path} from ${host || "a client with no address"}: ${why}`);
    return jsonError(403, `Cannot play ${path}: address ${host} is not allowed (${why})`);
  }
  if (entry.format === "status") {
    if (!status) return jsonError(404, `Cannot GET ${path}: the status page is off`);
    return status(req, remote, entry.acl.length === 0);
  }
  if (entry.file !== undefined) return serveConfiguredFile(req, entry.file, path, ctx, remote);
  const key = entry.key!;
  const options = { noAudio: entry.noAudio, noVideo: entry.noVideo, maxTimeMs: entry.maxTimeMs };
  if (method === WS) return serveWsFlvPlay(req, key, ctx, remote, options);
  return playMaybeShifted(req, key, ctx, remote, options, entry.prerollMs);
}

/**
 * HTTP-FLV play of `key`, from its feed's ring when the request (or `defaultPrerollMs`) asks for the past:
 * 400 for a malformed `?preroll=`/`?date=`, 404 when the key has no ring to start in the past from.
 */
export function playMaybeShifted(
  req: Request,
  key: string,
  ctx: HttpContext,
  remote: Deno.Addr | undefined,
  options: { noAudio?: boolean; noVideo?: boolean; maxTimeMs?: number } = {},
  defaultPrerollMs = 0,
): Promise<Response> | Response {
  let at;
  try {
    at = timeShiftPoint(new URL(req.url).searchParams, defaultPrerollMs);
  } catch (e) {
    return jsonError(400, (e as Error).message);
  }
  if (at === undefined) return serveFlvPlay(req, key, ctx, remote, options);
  const ring = ctx.feeds?.ring(key);
  if (!ring) {
    return jsonError(
      404,
      `Cannot play ${key} from the past: it is not a feed with a ring file (feeds[].file)`,
    );
  }
  return serveTimeShiftFlv(req, key, ctx, remote, { ...options, ring, at, catchUp: ctx.feeds!.catchUp(key) });
}
