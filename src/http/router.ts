/**
 * The one HTTP router on the HTTP port: a pure `Request -> Response` function,
 * tested without a socket. Unknown paths get a 404 with a one-line JSON reason.
 *
 * @module
 */
import type { StreamHub } from "../hub/stream_hub.ts";

/** What the router needs from the server. */
export interface RouterContext {
  hub: StreamHub;
  startedAt: number;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "access-control-allow-origin": "*" },
  });
}

export function makeRouter(ctx: RouterContext): (req: Request) => Response | Promise<Response> {
  return (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/health" || url.pathname === "/api/v1/health") {
      return json({ status: "ok", uptimeMs: Date.now() - ctx.startedAt, streams: ctx.hub.streams().length });
    }
    if (url.pathname === "/api/v1/streams") {
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
    return json({ error: `Cannot ${req.method} ${url.pathname}: no such route` }, 404);
  };
}
