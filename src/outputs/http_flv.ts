/**
 * HTTP-FLV and WebSocket-FLV play: `GET /{app}/{stream}.flv`. (Stub: owned by the HTTP-FLV work.)
 *
 * @module
 */
import { type HttpContext, jsonError } from "../http/context.ts";

/** Plays stream `key` as FLV over the response body, or over a WebSocket when the request asks to upgrade. */
export function serveFlvPlay(_req: Request, key: string, _ctx: HttpContext): Response | Promise<Response> {
  return jsonError(501, `Cannot play ${key} over HTTP-FLV: not built yet`);
}
