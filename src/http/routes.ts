/**
 * The route table of the HTTP port: every URL the server answers, in one
 * place, in the order they are tried (URLs follow nginx-rtmp and
 * node-media-server habits).
 *
 * The admin routes (`admin_routes.ts`: `/`, `/admin/`, `/api/v1/*`, `/metrics`)
 * come first when the server has them; then:
 *
 * | method    | path                          | what                                          |
 * | --------- | ----------------------------- | --------------------------------------------- |
 * | GET       | `/health`                     | liveness and memory (open, for load balancers) |
 * | any       | `/{name}`                     | a configured path (`served_paths.ts`): a feed's |
 * |           |                               | push path, a stream or file of `streams[]`     |
 * | GET, HEAD | `/{vod app}/{path}.flv`       | a file from the VOD folder, with Range        |
 * | GET, HEAD | `/{app}/{stream}.m3u8`, `/{app}/{stream}/...` | HLS (`src/hls/hls_routes.ts`)   |
 * | GET, HEAD | `/{app}/{stream}.ts`          | MPEG-TS over HTTP (`src/outputs/http_ts.ts`)  |
 * | WS        | `/{app}/{stream}.flv`         | WebSocket-FLV play                            |
 * | WS        | `/{app}/{stream}`             | WebSocket push (FLV in binary messages)       |
 * | GET, HEAD | `/{app}/{stream}.flv`         | HTTP-FLV play (`?preroll=S`, `?date=`: from the |
 * |           |                               | feed's ring, `timeshift_flv.ts`)               |
 * | POST, PUT | `/{app}/{stream}[.flv]`       | HTTP push (an FLV body), as to ffserver feeds |
 *
 * @module
 */
import { serveFlvPush, serveWsFlvPush } from "../ingest/http_flv_ingest.ts";
import { serveStatus, type StatusContext } from "../admin/status_page.ts";
import { serveWsFlvPlay } from "../outputs/ws_flv.ts";
import { serveVod } from "../vod/http_vod.ts";
import { hlsRoutes } from "../hls/hls_routes.ts";
import { serveTsPlay } from "../outputs/http_ts.ts";
import type { HttpContext } from "./context.ts";
import { adminRoutes, type AdminRoutesContext } from "./admin_routes.ts";
import { serveHealth } from "./health.ts";
import { playMaybeShifted, serveConfiguredPath, type StatusServer } from "./served_paths.ts";
import { isWebSocketUpgrade } from "./websocket.ts";
import { trustedProxiesOf } from "./forwarded.ts";
import { type Handler, makeHandler, type Route, type RouteMatch, WS } from "./router.ts";

/** The characters of an app or stream name in a URL path (RFC 3986 unreserved). */
const NAME = "[A-Za-z0-9_.\\-~]+";

/** `/{app}/{stream}.flv` */
const FLV_STREAM = new RegExp(`^/(${NAME})/(${NAME}?)\\.flv$`);
/** `/{app}/{stream}.ts` */
const TS_STREAM = new RegExp(`^/(${NAME})/(${NAME})\\.ts$`);
/** `/{app}/{stream}` with no `.flv` */
const BARE_STREAM = new RegExp(`^/(${NAME})/(${NAME})$`);
/** `/{name}`: a path of one segment, which only the config gives a meaning */
const TOP_PATH = new RegExp(`^/(${NAME})$`);
/** `/{app}/{stream}` with or without `.flv` */
const ANY_STREAM = new RegExp(`^/(${NAME})/(${NAME}?)(?:\\.flv)?$`);

/** The stream key, `app/name`, of a stream route's match. */
function keyOf(m: RouteMatch): string {
  return `${m.groups[0]}/${m.groups[1]}`;
}

/** Every route, in the order tried; `admin` adds the admin routes in front. */
export function makeRoutes(ctx: HttpContext, admin?: AdminRoutesContext): Route[] {
  const vodPrefix = new RegExp(`^/${ctx.config.vod.app.replace(/[.\-~]/g, "\\$&")}/(.+)$`);
  const status: StatusServer | undefined = admin &&
    (async (req, remote, guarded) =>
      (guarded ? await admin.gate.check(req, remote, "page") : undefined) ??
        serveStatus(admin.admin as StatusContext, req));
  return [
    ...(admin ? adminRoutes(ctx, admin) : []),
    { methods: ["GET", "HEAD"], path: /^\/health$/, handle: () => serveHealth(ctx) },
    {
      methods: ["GET", "HEAD", "POST", "PUT", WS],
      path: TOP_PATH,
      handle: (req, m) => {
        const method = isWebSocketUpgrade(req) ? WS : req.method;
        return serveConfiguredPath(req, method, m.url.pathname, ctx, m.remote, status);
      },
    },
    {
      methods: ["GET", "HEAD"],
      path: vodPrefix,
      handle: (req, m) => serveVod(req, m.groups[0]!, ctx, m.remote),
    },
    ...hlsRoutes(ctx),
    ...(ctx.config.hls.enabled
      ? [{
        methods: ["GET", "HEAD"],
        path: TS_STREAM,
        handle: (req: Request, m: RouteMatch) => serveTsPlay(req, keyOf(m), ctx, m.remote),
      }]
      : []),
    { methods: [WS], path: FLV_STREAM, handle: (req, m) => serveWsFlvPlay(req, keyOf(m), ctx, m.remote) },
    { methods: [WS], path: BARE_STREAM, handle: (req, m) => serveWsFlvPush(req, keyOf(m), ctx, m.remote) },
    {
      methods: ["GET", "HEAD"],
      path: FLV_STREAM,
      handle: (req, m) => playMaybeShifted(req, keyOf(m), ctx, m.remote),
    },
    {
      methods: ["POST", "PUT"],
      path: ANY_STREAM,
      handle: (req, m) => serveFlvPush(req, keyOf(m), ctx, m.remote),
    },
  ];
}

/** The HTTP port's handler: the routes of {@linkcode makeRoutes} (Deno.serve passes `info`). */
export function makeRouter(ctx: HttpContext, admin?: AdminRoutesContext): Handler {
  return makeHandler(makeRoutes(ctx, admin), () => trustedProxiesOf(ctx.config.http.trustedProxies));
}
