/**
 * The admission gate as HTTP and WebSocket routes meet it: one function that
 * describes a request to the gate (protocol, remote address, app and stream,
 * the URL's query, the page it came from) and asks the hub, and the one
 * mapping of a refusal to an answer:
 *
 * | decision               | HTTP                         | WebSocket (after the upgrade) |
 * | ---------------------- | ---------------------------- | ----------------------------- |
 * | deny, unauthorized     | 401 `{ "error": reason }`    | close 1008, reason            |
 * | deny, forbidden        | 403 `{ "error": reason }`    | close 1008, reason            |
 * | deny, unavailable      | 503 `{ "error": reason }`    | close 1008, reason            |
 * | redirect               | 302 `Location: url`          | close 1008, "redirected: url" |
 *
 * A deny that says when to ask again (`retryAfterS`, e.g. the bandwidth cap's)
 * adds `Retry-After` in whole seconds, rounded up (RFC 9110 10.2.3), exposed to
 * scripts on other origins so a web player can wait that long.
 *
 * @module
 */
import {
  type AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  DecisionKind,
  DenyKind,
  parseQuery,
} from "../hub/admission.ts";
import type { Protocol } from "../hub/session_kind.ts";
import { TOKEN_PARAM } from "../auth/jwt.ts";
import type { StreamHub } from "../hub/stream_hub.ts";
import { CORS_ALLOW_ORIGIN, jsonError } from "./responses.ts";

/** HTTP statuses of a denial, by its kind (RFC 9110 15.5.2, 15.5.4, 15.6.4). */
export const DENY_STATUS: Readonly<Record<DenyKind, number>> = {
  [DenyKind.Unauthorized]: 401,
  [DenyKind.Forbidden]: 403,
  [DenyKind.Unavailable]: 503,
  [DenyKind.Malformed]: 400,
};

/** What an HTTP route tells the gate about itself. */
export interface HttpAdmission {
  action: AdmissionAction;
  protocol: Protocol;
  /** The stream key, `app/name`. */
  key: string;
  /** The peer (Deno.serve's `info.remoteAddr`). */
  remote?: Deno.Addr;
  /** The session registry id, when the route has opened one. */
  sessionId?: string;
}

/** `Authorization: Bearer TOKEN` (RFC 6750 2.1; the scheme in any case). */
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The gate's view of an HTTP request. A query past the gate's bounds throws ProtocolError. A bearer
 * token (`Authorization: Bearer TOKEN`) is given to the gate as the query's `token` when the URL has none
 * (the URL's wins), so a JWT reaches the policy the same way over every protocol.
 */
export function admissionRequest(req: Request, what: HttpAdmission): AdmissionRequest {
  const url = new URL(req.url);
  const slash = what.key.indexOf("/");
  const remote = what.remote && "hostname" in what.remote
    ? { hostname: what.remote.hostname, port: what.remote.port }
    : undefined;
  const pageUrl = req.headers.get("origin") ?? req.headers.get("referer") ?? undefined;
  const query = parseQuery(url.search.slice(1));
  const bearer = req.headers.get("authorization")?.match(BEARER)?.[1];
  if (bearer !== undefined && !Object.hasOwn(query, TOKEN_PARAM)) query[TOKEN_PARAM] = bearer;
  return {
    action: what.action,
    protocol: what.protocol,
    app: what.key.slice(0, slash),
    name: what.key.slice(slash + 1),
    key: what.key,
    remote,
    query,
    pageUrl,
    sessionId: what.sessionId,
  };
}

/** Asks the hub's gate about `req`. */
export function admitHttp(
  hub: Pick<StreamHub, "admit">,
  req: Request,
  what: HttpAdmission,
): Promise<AdmissionDecision> {
  return hub.admit(admissionRequest(req, what));
}

/** The HTTP answer to a refusal (see the module doc); `what` starts the error line ("Cannot play live/cam"). */
export function refusalResponse(decision: AdmissionDecision, what: string): Response {
  if (decision.kind === DecisionKind.Redirect) {
    return new Response(null, { status: 302, headers: { location: decision.url, ...CORS_ALLOW_ORIGIN } });
  }
  if (decision.kind !== DecisionKind.Deny) {
    throw new TypeError("Cannot answer a refusal: current decision allows");
  }
  const retry = decision.retryAfterS;
  // The hub lets only well-formed decisions through (isDecision); a hand-made one is checked the same way.
  const headers: Record<string, string> = retry !== undefined && Number.isFinite(retry) && retry >= 0
    ? { "retry-after": String(Math.ceil(retry)), "access-control-expose-headers": "retry-after" }
    : {};
  // RFC 9110 11.6.1: a 401 names how to authenticate: a token (`?token=`, `?key=`, a signed URL) or a bearer.
  if (decision.deny === DenyKind.Unauthorized) headers["www-authenticate"] = `Bearer realm="sluice"`;
  return jsonError(DENY_STATUS[decision.deny], `${what}: ${decision.reason}`, headers);
}
