/**
 * What HTTP handlers need from the server (STYLE 10: declared by the consumer).
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { StreamHub } from "../hub/stream_hub.ts";
import type { Logger } from "../log.ts";

export interface HttpContext {
  hub: StreamHub;
  config: Config;
  log: Logger;
  startedAt: number;
}

/** A JSON response with a trailing newline and CORS open (players on other origins read the API too). */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "access-control-allow-origin": "*",
      ...headers,
    },
  });
}

/** The one-line JSON error every unknown or refused request gets. */
export function jsonError(status: number, message: string): Response {
  return json({ error: message }, status);
}
