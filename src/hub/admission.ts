/**
 * The admission gate: the one question every publish and every play asks
 * before it touches a stream. An edge (RTMP, HTTP-FLV, WebSocket-FLV, HTTP
 * push, file sources, VOD) builds an `AdmissionRequest` and awaits
 * `StreamHub.admit()`; a policy behind the `Admission` interface answers
 * allow, deny (with a reason and a `DenyKind`) or redirect. The hub knows no
 * protocol: each edge translates the answer into its own refusal.
 *
 * Policy (DESIGN "The admission gate"):
 * - a policy may answer at once or asynchronously; `StreamHub.admit()` bounds
 *   it with a timeout (`admissionTimeoutMs`, default 5 s) and then denies
 *   with `DenyKind.Unavailable`, aborting the signal the policy was given;
 * - a policy that throws, rejects or answers something that is not a
 *   decision is denied the same way (`admission policy failed: ...`);
 * - admissions run side by side: a slow answer holds up only its own caller;
 *   the number in flight is bounded (`admissionMaxInFlight`);
 * - the default policy, `allowAll`, allows everything.
 *
 * How edges map a deny: HTTP answers 401 / 403 / 503 for Unauthorized /
 * Forbidden / Unavailable (with `Retry-After` when the deny says when to come
 * back, `retryAfterS`), RTMP an error status whose description carries the
 * reason, WebSocket closes with 1008 (policy violation) and the reason.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import type { Protocol } from "./session_kind.ts";

/** What the asking session wants to do with the stream. */
export const AdmissionAction = {
  /** Feed the stream (RTMP publish, HTTP/WS push, a file source). */
  Publish: "publish",
  /** Receive the stream (RTMP play, HTTP-FLV, WS-FLV, VOD). */
  Play: "play",
} as const;
export type AdmissionAction = typeof AdmissionAction[keyof typeof AdmissionAction];

/** One publish or play, as the policy sees it. */
export interface AdmissionRequest {
  action: AdmissionAction;
  protocol: Protocol;
  /** The app, e.g. "live". */
  app: string;
  /** The stream name without its query, e.g. "cam1". */
  name: string;
  /** `${app}/${name}`: the hub's stream key. */
  key: string;
  /** The peer's address; undefined for file sources. */
  remote?: { hostname: string; port: number };
  /** The stream name's `?query` (RTMP) or the URL's query (HTTP, WebSocket); see `splitStreamName`. */
  query: Readonly<Record<string, string>>;
  /** RTMP connect's tcUrl. */
  tcUrl?: string;
  /** RTMP connect's pageUrl; HTTP Origin, else Referer. */
  pageUrl?: string;
  /** The session registry id of the asking session, when it has one. */
  sessionId?: string;
}

/** Why a request is denied; each protocol maps it to its own refusal. */
export const DenyKind = {
  /** Credentials are missing or wrong (HTTP 401). */
  Unauthorized: "unauthorized",
  /** Credentials are fine (or not needed) but this is not allowed (HTTP 403). */
  Forbidden: "forbidden",
  /** The gate could not decide: the policy failed, timed out, or the server is at a limit (HTTP 503). */
  Unavailable: "unavailable",
  /** The request itself cannot be read (a query past the gate's bounds) (HTTP 400). */
  Malformed: "malformed",
} as const;
export type DenyKind = typeof DenyKind[keyof typeof DenyKind];

/** The kinds of answer. */
export const DecisionKind = {
  /** Go on. */
  Allow: "allow",
  /** Refuse, with a reason the edge logs and (where the protocol can) tells the peer. */
  Deny: "deny",
  /** Go elsewhere: HTTP 302, RTMP NetConnection.Connect.Rejected with a redirect (where supported). */
  Redirect: "redirect",
} as const;
export type DecisionKind = typeof DecisionKind[keyof typeof DecisionKind];

/** A policy's answer. */
export type AdmissionDecision =
  | { kind: typeof DecisionKind.Allow }
  | {
    kind: typeof DecisionKind.Deny;
    reason: string;
    deny: DenyKind;
    /** When to ask again, in seconds (HTTP `Retry-After`); absent when the policy cannot tell. */
    retryAfterS?: number;
  }
  | { kind: typeof DecisionKind.Redirect; url: string };

/**
 * An admission policy (src/auth/ composes them). `signal` aborts when the
 * hub stops waiting (timeout, server stopping): a policy doing I/O passes it
 * on (to fetch, say) and its late answer is ignored.
 */
export interface Admission {
  admit(req: AdmissionRequest, signal: AbortSignal): AdmissionDecision | Promise<AdmissionDecision>;
}

const ALLOW: AdmissionDecision = Object.freeze({ kind: DecisionKind.Allow });

/** The allow answer. */
export function allow(): AdmissionDecision {
  return ALLOW;
}

/**
 * A deny answer; `kind` defaults to Forbidden. `retryAfterS`, when given, says
 * when the peer may ask again (a number of seconds, 0 or more; RangeError
 * otherwise).
 */
export function deny(
  reason: string,
  kind: DenyKind = DenyKind.Forbidden,
  retryAfterS?: number,
): AdmissionDecision {
  if (retryAfterS === undefined) return { kind: DecisionKind.Deny, reason, deny: kind };
  if (!isRetryAfter(retryAfterS)) {
    throw new RangeError(
      `Cannot deny with retryAfterS: ${retryAfterS}, expected a number of seconds 0 or more`,
    );
  }
  return { kind: DecisionKind.Deny, reason, deny: kind, retryAfterS };
}

/** Whether `v` can be a deny's `retryAfterS`: a finite number of seconds, 0 or more. */
function isRetryAfter(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** A redirect answer. */
export function redirect(url: string): AdmissionDecision {
  return { kind: DecisionKind.Redirect, url };
}

/** The one line a refusal is logged and told with, in every protocol: "denied: reason" or "redirected: url". */
export function refusalText(decision: AdmissionDecision): string {
  if (decision.kind === DecisionKind.Deny) return `denied: ${decision.reason}`;
  if (decision.kind === DecisionKind.Redirect) return `redirected: ${decision.url}`;
  return "allowed";
}

/** The default policy: allows everything (what Sluice did before the gate). */
export const allowAll: Admission = Object.freeze({ admit: () => ALLOW });

const DENY_KINDS: ReadonlySet<string> = new Set(Object.values(DenyKind));

/**
 * Whether `v` is a well-formed decision (a policy written in plain JavaScript,
 * or a callback's JSON, may answer anything).
 */
export function isDecision(v: unknown): v is AdmissionDecision {
  if (typeof v !== "object" || v === null) return false;
  const d = v as Record<string, unknown>;
  switch (d.kind) {
    case DecisionKind.Allow:
      return true;
    case DecisionKind.Deny:
      return typeof d.reason === "string" && typeof d.deny === "string" && DENY_KINDS.has(d.deny) &&
        (d.retryAfterS === undefined || isRetryAfter(d.retryAfterS));
    case DecisionKind.Redirect:
      return typeof d.url === "string";
    default:
      return false;
  }
}

/** Longest query string `splitStreamName` reads, in UTF-16 code units. */
export const MAX_QUERY_LENGTH = 4096;
/** Most parameters `splitStreamName` reads. */
export const MAX_QUERY_PARAMS = 64;

/**
 * Splits an RTMP stream name (or an HTTP path's last segment) at its first
 * `?`: `"cam1?key=abc"` gives name `"cam1"` and query `{ key: "abc" }`. The
 * query is URL-decoded; of repeated parameters the first wins. A query longer
 * than MAX_QUERY_LENGTH or with more than MAX_QUERY_PARAMS parameters throws
 * ProtocolError (code "query").
 */
export function splitStreamName(raw: string): { name: string; query: Record<string, string> } {
  const q = raw.indexOf("?");
  if (q < 0) return { name: raw, query: {} };
  return { name: raw.slice(0, q), query: parseQuery(raw.slice(q + 1)) };
}

/** A query string (without its `?`) as a record, within the same bounds as `splitStreamName`. */
export function parseQuery(text: string): Record<string, string> {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new ProtocolError(
      "query",
      `Cannot read stream query: ${text.length} characters, limit ${MAX_QUERY_LENGTH}`,
    );
  }
  const query: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of new URLSearchParams(text)) {
    if (++n > MAX_QUERY_PARAMS) {
      throw new ProtocolError("query", `Cannot read stream query: over ${MAX_QUERY_PARAMS} parameters`);
    }
    // defineProperty: a parameter named __proto__ is a parameter like any other, not the prototype.
    if (!Object.hasOwn(query, k)) {
      Object.defineProperty(query, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return query;
}

/** The query parameters whose values `maskQuery` hides (and any name ending in `_` or `-` plus one of them). */
export const SECRET_PARAMS: readonly string[] = ["key", "sign", "token", "password", "secret", "auth"];

/** What `maskQuery` puts in place of a hidden value. */
export const MASK = "***";

const SECRET_PARAM_RE = new RegExp(
  `((?:^|[?&;\\s])(?:[A-Za-z0-9.~%]*[_-])?(?:${SECRET_PARAMS.join("|")})=)[^&\\s"'<>]*`,
  "gi",
);

/**
 * `text` (a URL, a query, an RTMP stream name or a whole log line) with the values of its credential
 * parameters replaced by `***`: `key`, `sign`, `token`, `password`, `secret` and `auth`, in any case, also
 * as the end of a longer name after `_` or `-` (`stream_key`, `access-token`), where the name starts the
 * text or follows `?`, `&`, `;` or white space. A value runs to the next `&`, white space, quote or
 * angle bracket; an empty value is masked too (so a mask tells nothing).
 */
export function maskQuery(text: string): string {
  return text.replace(SECRET_PARAM_RE, `$1${MASK}`);
}
