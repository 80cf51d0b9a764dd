/**
 * The one HTTP router on the HTTP port: a pure `Request -> Response` function,
 * tested without a socket. Unknown paths get a 404 with a one-line JSON reason.
 *
 * Routes (URLs follow nginx-rtmp / node-media-server habits):
 * - `GET /health`, `/api/v1/health`, `/api/v1/streams`
 * - `GET /{app}/{stream}.flv`: HTTP-FLV; the same URL upgraded to a WebSocket: WebSocket-FLV
 * - `POST`/`PUT /{app}/{stream}[.flv]`: publish an FLV body; a WebSocket to `/{app}/{stream}` (no .flv): publish
 * - `GET`/`HEAD /{vod app}/{path}.flv`: a file from the VOD folder, with Range
 *
 * @module
 */
import { serveFlvPush } from "../ingest/http_flv_ingest.ts";
import { serveFlvPlay } from "../outputs/http_flv.ts";
import { serveVod } from "../vod/http_vod.ts";
import { type HttpContext, json, jsonError } from "./context.ts";

const STREAM_PATH = /^\/([A-Za-z0-9_.\-~]+)\/([A-Za-z0-9_.\-~]+?)(\.flv)?$/;

/** CORS preflight answer: players and pushers on other origins may use every route. */
function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET, HEAD, POST, PUT, OPTIONS",
      "access-control-allow-headers": "range, content-type",
      "access-control-max-age": "86400",
    },
  });
}

/** The router; Deno.serve passes `info`, whose remoteAddr names players in logs. */
export function makeRouter(
  ctx: HttpContext,
): (req: Request, info?: Deno.ServeHandlerInfo) => Response | Promise<Response> {
  const vodPrefix = `/${ctx.config.vod.app}/`;
  return (req, info) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (req.method === "OPTIONS") return preflight();
    if (path === "/health" || path === "/api/v1/health") {
      const m = Deno.memoryUsage();
      return json({
        status: "ok",
        uptimeMs: Date.now() - ctx.startedAt,
        streams: ctx.hub.streams().length,
        memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external },
      });
    }
    if (path === "/api/v1/streams") {
      return json({
        streams: ctx.hub.streams().map((s) => ({
          key: s.key,
          state: s.state,
          publisher: s.publisher?.id ?? null,
          players: s.subscribers.size,
          ...s.stats,
        })),
      });
    }
    if (path.startsWith(vodPrefix) && (req.method === "GET" || req.method === "HEAD")) {
      return serveVod(req, path.slice(vodPrefix.length), ctx);
    }
    const m = path.match(STREAM_PATH);
    if (m) {
      const key = `${m[1]}/${m[2]}`;
      const isFlv = m[3] !== undefined;
      const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
      if ((req.method === "POST" || req.method === "PUT") || (upgrade && !isFlv)) {
        return serveFlvPush(req, key, ctx, info?.remoteAddr);
      }
      if ((req.method === "GET" || req.method === "HEAD") && isFlv) {
        return serveFlvPlay(req, key, ctx, info?.remoteAddr);
      }
    }
    return jsonError(404, `Cannot ${req.method} ${path}: no such route`);
  };
}
