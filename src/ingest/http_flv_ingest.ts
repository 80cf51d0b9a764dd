/**
 * HTTP push ingest: `POST`/`PUT /{app}/{stream}` with an FLV body, or a WebSocket to the same path.
 * (Stub: owned by the ingest work.)
 *
 * @module
 */
import { type HttpContext, jsonError } from "../http/context.ts";

/** Publishes stream `key` from the request body (or WebSocket messages) as FLV. */
export function serveFlvPush(_req: Request, key: string, _ctx: HttpContext): Response | Promise<Response> {
  return jsonError(501, `Cannot publish ${key} over HTTP: not built yet`);
}
