/**
 * The responses every HTTP handler shares: JSON bodies and errors, and the
 * CORS headers (players, pushers and dashboards on other origins use every
 * route). One place, so each route answers errors the same way:
 * `{ "error": "Cannot ..." }` with the status that says why.
 *
 * @module
 */

/** The CORS header every answer carries: any origin may read it. */
export const CORS_ALLOW_ORIGIN: Readonly<Record<string, string>> = { "access-control-allow-origin": "*" };

/** Methods a preflight allows: play (GET/HEAD), push (POST/PUT). */
const ALLOWED_METHODS = "GET, HEAD, POST, PUT, OPTIONS";

/** Request headers a preflight allows: Range for VOD, Content-Type for pushes, Authorization for tokens. */
const ALLOWED_HEADERS = "range, content-type, authorization";

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 86_400;

/** A JSON response with a trailing newline and CORS open. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...CORS_ALLOW_ORIGIN,
      ...headers,
    },
  });
}

/** The one-line JSON error every unknown or refused request gets: `{ "error": message }`. */
export function jsonError(status: number, message: string, headers: HeadersInit = {}): Response {
  return json({ error: message }, status, headers);
}

/** The CORS preflight answer (an OPTIONS request to any route). */
export function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_ALLOW_ORIGIN,
      "access-control-allow-methods": ALLOWED_METHODS,
      "access-control-allow-headers": ALLOWED_HEADERS,
      "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
    },
  });
}
