/**
 * Liveness and the stream list: `GET /health` (and `/api/v1/health`) and
 * `GET /api/v1/streams`, pure functions of the server's state.
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

/** Every stream, live or in grace, with its counters. */
export function serveStreams(ctx: HttpContext): Response {
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
