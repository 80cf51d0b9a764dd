/**
 * Router: the HTTP port's dispatcher, a pure `Request -> Response` function
 * over a route table (the table itself is `routes.ts`), tested without a
 * socket.
 *
 * - A route names its methods and a path pattern. A request that asks to
 *   upgrade to a WebSocket is decided here, once: it matches only routes with
 *   the pseudo-method `WS`, so no handler looks at the Upgrade header.
 * - `OPTIONS` on any path is the CORS preflight.
 * - The first route whose method and pattern match handles the request; no
 *   match is a 404 with a one-line JSON reason.
 * - The handler sees the client's address: behind a trusted reverse proxy,
 *   the one its X-Forwarded-For names (`forwarded.ts`).
 *
 * @module
 */
import type { TrustedProxies } from "./forwarded.ts";
import { jsonError, preflight } from "./responses.ts";
import { isWebSocketUpgrade } from "./websocket.ts";

/** The pseudo-method of a WebSocket upgrade request (a GET that asks to upgrade). */
export const WS = "WS";

/** What a handler gets besides the request. */
export interface RouteMatch {
  url: URL;
  /** The pattern's capture groups. */
  groups: readonly (string | undefined)[];
  /**
   * The client's address: the peer's (Deno.serve's `info.remoteAddr`), or behind a trusted proxy the one its
   * X-Forwarded-For names (`forwarded.ts`); undefined when not known.
   */
  remote?: Deno.Addr;
}

/** One row of the route table. */
export interface Route {
  /** HTTP methods, or `WS` for a WebSocket upgrade. */
  methods: readonly string[];
  /** Matched against the whole path (`^...$`). */
  path: RegExp;
  handle(req: Request, match: RouteMatch): Response | Promise<Response>;
}

/** Deno.serve's handler: the routes in order, the preflight, the 404. */
export type Handler = (req: Request, info?: Deno.ServeHandlerInfo) => Response | Promise<Response>;

/**
 * A handler over `routes`, tried in order; `proxies()` (asked at each request: the running config's) name
 * the client of a request they forward.
 */
export function makeHandler(routes: readonly Route[], proxies?: () => TrustedProxies): Handler {
  return (req, info) => {
    if (req.method === "OPTIONS") return preflight();
    const url = new URL(req.url);
    const method = isWebSocketUpgrade(req) ? WS : req.method;
    for (const route of routes) {
      if (!route.methods.includes(method)) continue;
      const m = route.path.exec(url.pathname);
      if (!m) continue;
      const remote = proxies ? proxies().clientOf(info?.remoteAddr, req.headers) : info?.remoteAddr;
      return route.handle(req, { url, groups: m.slice(1), remote });
    }
    return jsonError(404, `Cannot ${req.method} ${url.pathname}: no such route`);
  };
}
