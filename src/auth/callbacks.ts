/**
 * CallbackPolicy: HTTP callbacks as an admission policy (SRS's http_hooks,
 * nginx-rtmp's on_publish / on_play / on_connect). Each publish and play is
 * POSTed as JSON to the URL the config names (`auth.onPublish`,
 * `auth.onPlay`), and the answer decides before a single frame moves
 * (node-media-server's fire-and-forget hook lets a stream play before it
 * answers; this one does not).
 *
 * The body of on_publish / on_play (every field present; `null` when unknown):
 *
 * ```json
 * { "action": "on_publish", "protocol": "rtmp", "app": "live", "stream": "cam", "key": "live/cam",
 *   "query": { "token": "abc" }, "address": "203.0.113.7", "port": 50122,
 *   "tcUrl": "rtmp://host/live", "pageUrl": null, "sessionId": "12", "time": "2026-05-01T12:00:00.000Z" }
 * ```
 *
 * `query` is sent as the client gave it, secrets included: the callback
 * server is trusted with it (it is how tokens get checked there). on_connect
 * sends the same but `stream`, `key` and `query`.
 *
 * Policy:
 * - a 2xx answer allows; a 2xx whose JSON body is `{ "redirect": "rtmp://..." }`
 *   (or http, https, rtmps) redirects there;
 * - 401 denies Unauthorized, any other 4xx Forbidden, with the callback's
 *   reason: its JSON body's `reason`, else its text, control characters made
 *   spaces, cut to CALLBACK_REASON_MAX_CHARS (else "callback on_play refused
 *   with 403");
 * - anything else (3xx: redirects are not followed; 5xx), no answer within
 *   `callbackTimeoutMs`, or no connection denies Unavailable with "callback
 *   on_publish failed: answered 503" / "...: no answer within 3000 ms" /
 *   "...: connection refused"; the callback's URL never reaches a client;
 * - on_connect (`auth.onConnect`) is asked for RTMP requests only, once per
 *   session (its answer is kept by `sessionId`, the first publish or play of
 *   a connection asks it), before on_publish / on_play; its deny is the
 *   request's. Other protocols have no connect and skip it;
 * - with `callbackCacheMs` > 0 an answer (allow, deny or redirect, never a
 *   failure) is reused for that long for the same action, protocol, stream
 *   key, client host and query; at most CALLBACK_CACHE_ENTRIES answers (and
 *   sessions' connect answers) are kept, the least recently used going first;
 * - at most CALLBACK_MAX_IN_FLIGHT callbacks are in flight; past it a request
 *   is denied Unavailable "callback on_play failed: too many callbacks in
 *   flight (limit 256)";
 * - every callback is its own fetch with its own timeout, also ending when
 *   the hub's signal aborts: a hung callback server holds up only the
 *   requests waiting for it;
 * - no callback configured for a request (and no connect to ask): allowed at
 *   once, synchronously, as is a cached answer;
 * - a refusal is logged once, by the edge, with its reason; failures of the
 *   callback itself are also warned here at most once per 10 s, with a count
 *   and the callback's origin and path (never its query);
 * - `update()` takes new settings (a reload) and forgets the cached answers
 *   when a URL or the cache time changed.
 *
 * `postCallback()` is the one POST both this policy and the done-callbacks
 * (`done_notifier.ts`) send.
 *
 * @module
 */
import type { AuthConfig } from "../config/config.ts";
import {
  type Admission,
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  DecisionKind,
  deny,
  DenyKind,
  redirect,
} from "../hub/admission.ts";
import { Protocol } from "../hub/session_kind.ts";
import { log as rootLog, type Logger } from "../log.ts";
import { VERSION } from "../version.ts";

/** The callbacks, by the name they are sent with in `action` (as SRS and nginx-rtmp name them). */
export const CallbackName = {
  /** An RTMP connection's connect, asked at its first publish or play. */
  Connect: "on_connect",
  /** A publish is about to start. */
  Publish: "on_publish",
  /** A play is about to start. */
  Play: "on_play",
  /** A publish ended (fire and forget, `DoneNotifier`). */
  PublishDone: "on_publish_done",
  /** A play ended (fire and forget, `DoneNotifier`). */
  PlayDone: "on_play_done",
} as const;
export type CallbackName = typeof CallbackName[keyof typeof CallbackName];

/** The settings the policy reads (a `Config.auth` has them). */
export type CallbackSettings = Pick<
  AuthConfig,
  "onConnect" | "onPublish" | "onPlay" | "callbackTimeoutMs" | "callbackCacheMs"
>;

/** Most callbacks in flight at once; past it a request is denied Unavailable. */
export const CALLBACK_MAX_IN_FLIGHT = 256;
/** Slack the hub's admission bound keeps above the callbacks' own timeouts (the policies before them, the answer's body). */
export const CALLBACK_BUDGET_SLACK_MS = 1000;

/**
 * The least admission bound (`admission.timeoutMs`) that lets the callbacks time out on their own: an
 * RTMP request may ask on_connect and then on_publish or on_play, each up to `callbackTimeoutMs`. 0 when
 * no admitting callback is configured. The hub's bound is raised to this (src/sluice.ts), so a slow
 * callback server denies with the callback's own reason, not the hub's "no answer".
 */
export function callbackBudgetMs(
  s: Pick<CallbackSettings, "onConnect" | "onPublish" | "onPlay" | "callbackTimeoutMs">,
): number {
  const calls = (s.onConnect ? 1 : 0) + (s.onPublish || s.onPlay ? 1 : 0);
  return calls === 0 ? 0 : calls * s.callbackTimeoutMs + CALLBACK_BUDGET_SLACK_MS;
}

/** Most cached answers, and most sessions whose connect answer is kept. */
export const CALLBACK_CACHE_ENTRIES = 10_000;
/** The longest reason taken from a callback's refusal, in characters. */
export const CALLBACK_REASON_MAX_CHARS = 200;
/** The most of a callback's answer body that is read, in bytes. */
export const CALLBACK_BODY_MAX_BYTES = 4096;
/** At most one warning about failing callbacks per this many ms (with the count since the last). */
export const CALLBACK_WARN_EVERY_MS = 10_000;

/** HTTP statuses a callback's answer is judged by (RFC 9110 15.3, 15.5, 15.5.2). */
const HttpStatus = {
  /** 2xx from here: allowed. */
  SuccessFirst: 200,
  SuccessLast: 299,
  /** 4xx from here: refused. */
  ClientErrorFirst: 400,
  ClientErrorLast: 499,
  /** Refused as Unauthorized rather than Forbidden. */
  Unauthorized: 401,
} as const;

/** The schemes a callback's `redirect` may name. */
const REDIRECT_SCHEMES: ReadonlySet<string> = new Set(["rtmp:", "rtmps:", "http:", "https:"]);

// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]+/g;

/** What one POST came to. */
export type CallbackResult =
  /** The callback server answered `status`; `body` is its first CALLBACK_BODY_MAX_BYTES as text ("" unread). */
  | { kind: "answered"; status: number; body: string }
  /**
   * No answer: `why` is short and safe to tell a client ("connection refused"); `detail` is for the log
   * (the URL's query removed).
   */
  | { kind: "failed"; why: string; detail: string }
  /** The caller's signal aborted first. */
  | { kind: "aborted" };

/** Options of postCallback(). */
export interface PostOptions {
  /** How long the whole exchange (connect, answer, body) may take, ms. */
  timeoutMs: number;
  /** Ends the exchange early (the hub stopped waiting, the server is stopping). */
  signal?: AbortSignal;
  /** Read (up to CALLBACK_BODY_MAX_BYTES of) the answer's body; otherwise it is discarded. */
  readBody?: boolean;
}

/**
 * POSTs `body` as JSON to `url` and says what came of it (never rejects). Redirects are not followed:
 * a 3xx is an answer like any other.
 */
export async function postCallback(
  url: string,
  body: unknown,
  options: PostOptions,
): Promise<CallbackResult> {
  const ms = options.timeoutMs;
  const timer = new AbortController();
  const timeout = setTimeout(
    () => timer.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")),
    ms,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": `Sluice/${VERSION}` },
      body: JSON.stringify(body),
      redirect: "manual",
      signal,
    });
    let text = "";
    if (options.readBody) text = await readText(res.body, CALLBACK_BODY_MAX_BYTES);
    else await res.body?.cancel();
    return { kind: "answered", status: res.status, body: text };
  } catch (e) {
    if (timer.signal.aborted) {
      const why = `no answer within ${ms} ms`;
      return { kind: "failed", why, detail: why };
    }
    if (options.signal?.aborted) return { kind: "aborted" };
    const detail = withoutUrl(errorText(e), url);
    const why = /connection refused/i.test(detail)
      ? "connection refused"
      : "cannot reach the callback server";
    return { kind: "failed", why, detail };
  } finally {
    clearTimeout(timeout);
  }
}

/** Up to `max` bytes of `body` as text; the rest is not read. */
async function readText(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, max));
  let off = 0;
  for (const p of parts) {
    const take = p.subarray(0, bytes.length - off);
    bytes.set(take, off);
    off += take.length;
  }
  return new TextDecoder().decode(bytes);
}

/** An error's message and its causes', one after the other. */
function errorText(e: unknown): string {
  const out: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 4; depth++) {
    out.push(c instanceof Error ? c.message : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return out.join(": ");
}

/** `url` without its query and fragment (what a log line may show of a callback's URL). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(a callback URL)";
  }
}

/** `text` with every spelling of `url` replaced by its safe form. */
function withoutUrl(text: string, url: string): string {
  const safe = safeUrl(url);
  let out = text.split(url).join(safe);
  try {
    out = out.split(new URL(url).href).join(safe);
  } catch {
    // not a URL: nothing more to hide
  }
  return out;
}

/**
 * Warnings at most once per `everyMs`, each with the count of events since the last one (STYLE 11's
 * "counts, and warns at a limited rate").
 */
export class RateLimitedWarning {
  #log: Logger;
  #everyMs: number;
  #clock: () => number;
  #lastAt = -Infinity;
  #since = 0;
  #total = 0;

  constructor(log: Logger, everyMs: number = CALLBACK_WARN_EVERY_MS, clock: () => number = Date.now) {
    this.#log = log;
    this.#everyMs = everyMs;
    this.#clock = clock;
  }

  /** Events so far. */
  get count(): number {
    return this.#total;
  }

  /** Counts `n` events; warns `message` when the last warning is old enough ("(N what since the last warning)"). */
  warn(message: string, what: string, n = 1): void {
    this.#total += n;
    this.#since += n;
    const now = this.#clock();
    if (now - this.#lastAt < this.#everyMs) return;
    const since = this.#since;
    this.#lastAt = now;
    this.#since = 0;
    this.#log.warn(since === n ? message : `${message} (${since} ${what} since the last warning)`);
  }
}

/** Options of CallbackPolicy. */
export interface CallbackPolicyOptions {
  /** Where callback failures are warned (default the root logger's `[callback]`). */
  log?: Logger;
  /** Milliseconds since the epoch (default Date.now; tests pass a fake to expire the cache). */
  clock?: () => number;
  /** Default CALLBACK_MAX_IN_FLIGHT. */
  maxInFlight?: number;
  /** Default CALLBACK_CACHE_ENTRIES. */
  maxCacheEntries?: number;
}

/** What one ask came to: the decision, and whether it is the callback's answer (cacheable) or a failure. */
interface Asked {
  decision: AdmissionDecision;
  answered: boolean;
}

/** The HTTP callbacks as an admission policy (see the module doc). */
export class CallbackPolicy implements Admission {
  #settings: CallbackSettings;
  #log: Logger;
  #clock: () => number;
  #maxInFlight: number;
  #maxCache: number;
  #inFlight = 0;
  /** Answers by request (see #cacheKey), least recently used first. */
  #cache = new Map<string, { decision: AdmissionDecision; expiresAt: number }>();
  /** Connect answers (or the ask in flight) by RTMP session id, oldest first. */
  #connects = new Map<string, AdmissionDecision | Promise<AdmissionDecision>>();
  #failures: RateLimitedWarning;

  constructor(settings: CallbackSettings, options: CallbackPolicyOptions = {}) {
    this.#settings = checked(settings);
    this.#log = options.log ?? rootLog.child("callback");
    this.#clock = options.clock ?? Date.now;
    this.#maxInFlight = whole("maxInFlight", options.maxInFlight ?? CALLBACK_MAX_IN_FLIGHT);
    this.#maxCache = whole("maxCacheEntries", options.maxCacheEntries ?? CALLBACK_CACHE_ENTRIES);
    this.#failures = new RateLimitedWarning(this.#log, CALLBACK_WARN_EVERY_MS, this.#clock);
  }

  /** Callbacks in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Callback failures so far (no answer, 3xx, 5xx, too many in flight). */
  get failures(): number {
    return this.#failures.count;
  }

  /**
   * Takes new settings (a reload) for the next requests; the cached answers are forgotten when a URL or
   * the cache time changed. TypeError or RangeError for a bad setting, changing nothing.
   */
  update(settings: CallbackSettings): void {
    const next = checked(settings);
    const prev = this.#settings;
    this.#settings = next;
    if (
      prev.onConnect !== next.onConnect || prev.onPublish !== next.onPublish || prev.onPlay !== next.onPlay ||
      prev.callbackCacheMs !== next.callbackCacheMs
    ) {
      this.#cache.clear();
      this.#connects.clear();
    }
  }

  admit(req: AdmissionRequest, signal: AbortSignal): AdmissionDecision | Promise<AdmissionDecision> {
    const s = this.#settings;
    const url = req.action === AdmissionAction.Publish ? s.onPublish : s.onPlay;
    const connectUrl = req.protocol === Protocol.Rtmp ? s.onConnect : null;
    if (url === null && connectUrl === null) return allow();
    const connected = connectUrl === null ? allow() : this.#connect(connectUrl, req, signal);
    if (connected instanceof Promise) {
      return connected.then((d) => d.kind === DecisionKind.Allow ? this.#action(url, req, signal) : d);
    }
    return connected.kind === DecisionKind.Allow ? this.#action(url, req, signal) : connected;
  }

  /** The session's connect answer: kept, in flight, or asked now. */
  #connect(
    url: string,
    req: AdmissionRequest,
    signal: AbortSignal,
  ): AdmissionDecision | Promise<AdmissionDecision> {
    const id = req.sessionId;
    const kept = id === undefined ? undefined : this.#connects.get(id);
    if (kept !== undefined) return kept;
    const asking = this.#ask(CallbackName.Connect, url, connectBody(req, this.#clock()), signal);
    if (id === undefined) return asking.then((a) => a.decision);
    const settled = asking.then((a) => {
      // A failure is not kept: the session's next request asks again.
      if (this.#connects.get(id) !== settled) return a.decision;
      if (a.answered) this.#connects.set(id, a.decision);
      else this.#connects.delete(id);
      return a.decision;
    });
    if (this.#connects.size >= this.#maxCache) this.#connects.delete(this.#connects.keys().next().value!);
    this.#connects.set(id, settled);
    return settled;
  }

  /** The on_publish / on_play answer: cached, or asked now (allowed when no URL is set). */
  #action(
    url: string | null,
    req: AdmissionRequest,
    signal: AbortSignal,
  ): AdmissionDecision | Promise<AdmissionDecision> {
    if (url === null) return allow();
    const cacheMs = this.#settings.callbackCacheMs;
    const key = cacheMs > 0 ? cacheKey(req) : undefined;
    if (key !== undefined) {
      const hit = this.#cache.get(key);
      if (hit && hit.expiresAt > this.#clock()) {
        this.#cache.delete(key);
        this.#cache.set(key, hit);
        return hit.decision;
      }
      if (hit) this.#cache.delete(key);
    }
    const name = req.action === AdmissionAction.Publish ? CallbackName.Publish : CallbackName.Play;
    return this.#ask(name, url, actionBody(name, req, this.#clock()), signal).then((a) => {
      if (key !== undefined && a.answered && this.#settings.callbackCacheMs === cacheMs) {
        if (this.#cache.size >= this.#maxCache) this.#cache.delete(this.#cache.keys().next().value!);
        this.#cache.set(key, { decision: a.decision, expiresAt: this.#clock() + cacheMs });
      }
      return a.decision;
    });
  }

  /** POSTs one callback and reads its answer as a decision. */
  async #ask(name: CallbackName, url: string, body: unknown, signal: AbortSignal): Promise<Asked> {
    if (signal.aborted) return { decision: aborted(name), answered: false };
    if (this.#inFlight >= this.#maxInFlight) {
      return this.#failed(name, url, `too many callbacks in flight (limit ${this.#maxInFlight})`);
    }
    this.#inFlight++;
    let result: CallbackResult;
    try {
      result = await postCallback(url, body, {
        timeoutMs: this.#settings.callbackTimeoutMs,
        signal,
        readBody: true,
      });
    } finally {
      this.#inFlight--;
    }
    if (result.kind === "aborted") return { decision: aborted(name), answered: false };
    if (result.kind === "failed") return this.#failed(name, url, result.why, result.detail);
    const { status, body: text } = result;
    if (status >= HttpStatus.SuccessFirst && status <= HttpStatus.SuccessLast) {
      const to = redirectOf(text);
      return { decision: to === undefined ? allow() : redirect(to), answered: true };
    }
    if (status >= HttpStatus.ClientErrorFirst && status <= HttpStatus.ClientErrorLast) {
      const reason = reasonOf(text) || `callback ${name} refused with ${status}`;
      const kind = status === HttpStatus.Unauthorized ? DenyKind.Unauthorized : DenyKind.Forbidden;
      return { decision: deny(reason, kind), answered: true };
    }
    return this.#failed(name, url, `answered ${status}`);
  }

  /** A callback failed: its Unavailable deny, and a rate-limited warning. */
  #failed(name: CallbackName, url: string, why: string, detail?: string): Asked {
    const more = detail !== undefined && detail !== why ? ` (${detail})` : "";
    this.#failures.warn(`callback ${name} to ${safeUrl(url)} failed: ${why}${more}`, "callback failures");
    return { decision: deny(`callback ${name} failed: ${why}`, DenyKind.Unavailable), answered: false };
  }
}

/** The deny of a callback the hub stopped waiting for (the hub answers for itself; nothing is warned). */
function aborted(name: CallbackName): AdmissionDecision {
  return deny(`callback ${name} failed: the admission gate stopped waiting`, DenyKind.Unavailable);
}

/** What an answer is cached by: action, protocol, stream key, client host and query. */
function cacheKey(req: AdmissionRequest): string {
  return JSON.stringify([
    req.action,
    req.protocol,
    req.key,
    req.remote?.hostname ?? "",
    Object.entries(req.query),
  ]);
}

/** The who and where of every callback body. */
function whoBody(name: CallbackName, req: AdmissionRequest, now: number): Record<string, unknown> {
  return {
    action: name,
    protocol: req.protocol,
    app: req.app,
    address: req.remote?.hostname ?? null,
    port: req.remote?.port ?? null,
    tcUrl: req.tcUrl ?? null,
    pageUrl: req.pageUrl ?? null,
    sessionId: req.sessionId ?? null,
    time: new Date(now).toISOString(),
  };
}

/** The body of on_connect. */
function connectBody(req: AdmissionRequest, now: number): Record<string, unknown> {
  return whoBody(CallbackName.Connect, req, now);
}

/** The body of on_publish and on_play: who, and what (stream, key, query). */
function actionBody(name: CallbackName, req: AdmissionRequest, now: number): Record<string, unknown> {
  const { action, protocol, app, ...rest } = whoBody(name, req, now);
  return { action, protocol, app, stream: req.name, key: req.key, query: { ...req.query }, ...rest };
}

/** A 2xx body's `redirect`, when it is a URL Sluice can send a client to. */
function redirectOf(text: string): string | undefined {
  const json = jsonOf(text);
  const to = json?.redirect;
  if (typeof to !== "string") return undefined;
  try {
    return REDIRECT_SCHEMES.has(new URL(to).protocol) ? to : undefined;
  } catch {
    return undefined;
  }
}

/** A refusal's reason: the JSON body's `reason` (a JSON body without one: none), else the text; one line, cut. */
function reasonOf(text: string): string {
  const json = jsonOf(text);
  const raw = json ? (typeof json.reason === "string" ? json.reason : "") : text;
  const line = raw.replace(CONTROL_CHARS, " ").trim();
  return line.length > CALLBACK_REASON_MAX_CHARS ? line.slice(0, CALLBACK_REASON_MAX_CHARS) : line;
}

/** `text` as a JSON object, or undefined. */
function jsonOf(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? v as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** The settings, checked: each URL null or an http(s) URL, the times whole numbers in range. */
function checked(s: CallbackSettings): CallbackSettings {
  return {
    onConnect: callbackUrl("auth.onConnect", s.onConnect),
    onPublish: callbackUrl("auth.onPublish", s.onPublish),
    onPlay: callbackUrl("auth.onPlay", s.onPlay),
    callbackTimeoutMs: whole("auth.callbackTimeoutMs", s.callbackTimeoutMs),
    callbackCacheMs: whole("auth.callbackCacheMs", s.callbackCacheMs, 0),
  };
}

/** `v` when it is null or an http:// or https:// URL; TypeError otherwise (naming the setting, not the value). */
export function callbackUrl(setting: string, v: string | null): string | null {
  if (v === null) return null;
  let scheme = "";
  try {
    scheme = typeof v === "string" ? new URL(v).protocol : "";
  } catch {
    // not a URL
  }
  if (scheme !== "http:" && scheme !== "https:") {
    throw new TypeError(`Cannot use ${setting}: it is not an http:// or https:// URL`);
  }
  return v;
}

/** `v` when it is a whole number `min` or more; RangeError otherwise. */
export function whole(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`Cannot use ${name}: ${v}, expected a whole number ${min} or more`);
  }
  return v;
}
