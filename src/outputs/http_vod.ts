/**
 * FLV VOD over HTTP: `GET /vod/{path}.flv` from the configured folder. (Stub: owned by the VOD work.)
 *
 * @module
 */
import { type HttpContext, jsonError } from "../http/context.ts";

/** Serves the file at `relPath` (URL-decoded, below the VOD root), with Range support. */
export function serveVod(_req: Request, relPath: string, _ctx: HttpContext): Response | Promise<Response> {
  return jsonError(501, `Cannot serve ${relPath}: not built yet`);
}
