/**
 * Liveness: `GET /health` (open, for load balancers) and `GET /api/v1/health`
 * (behind the admin guard), a pure function of the server's state. The stream
 * list is the admin API's (`src/admin/api.ts`).
 *
 * @module
 */
import type { HttpContext } from "./context.ts";
import { json } from "./responses.ts";

/** Status, uptime, stream count and the process's memory. */
export function serveHealth(ctx: HttpContext): Response {
  const m = Deno.memoryUsage();
  return json({
    status: "ok",
    uptimeMs: Date.now() - ctx.startedAt,
    streams: ctx.hub.streams().length,
    memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external },
  });
}
