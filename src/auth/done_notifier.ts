/**
 * DoneNotifier: the done-callbacks, on_publish_done and on_play_done
 * (`auth.onPublishDone`, `auth.onPlayDone`): when a session that published or
 * played ends, its end is POSTed as JSON, fire and forget. It listens to the
 * session registry's close events (`hub.sessions.on()`), as the access log
 * does.
 *
 * The body (every field present; `null` when unknown):
 *
 * ```json
 * { "action": "on_publish_done", "protocol": "rtmp", "app": "live", "stream": "cam", "key": "live/cam",
 *   "address": "203.0.113.7", "port": 50122, "sessionId": "12", "bytesIn": 1048576, "bytesOut": 3500,
 *   "framesSent": 0, "framesDropped": 0, "durationMs": 12345, "startedAt": "2026-05-01T12:00:00.000Z",
 *   "status": 200, "reason": "peer closed the connection", "time": "2026-05-01T12:00:12.345Z" }
 * ```
 *
 * Policy:
 * - a session whose role is publisher sends on_publish_done, a player or VOD
 *   player on_play_done; one that never got to publish or play (still pending:
 *   refused, or gone before asking) sends nothing; `status` says how it was
 *   answered (SessionSnapshot.status);
 * - the close listener only builds the body and queues it: nothing a
 *   callback server does (answer slowly, hang, refuse connections) reaches a
 *   client or the hub;
 * - at most `callbackQueue` callbacks wait; past it new ones are dropped and
 *   counted (`dropped`), with a warning at most once per 10 s;
 * - DONE_CONCURRENCY are sent at a time, each bounded by `callbackTimeoutMs`;
 *   a non-2xx answer or no answer is counted (`failed`) and warned at the
 *   same limited rate (the URL's origin and path, never its query); nothing
 *   is retried;
 * - `update()` takes new settings for the next sessions; `stop()` stops
 *   listening, gives what is queued and in flight up to `callbackTimeoutMs`
 *   in all, then abandons the rest (counted as dropped).
 *
 * @module
 */
import type { AuthConfig } from "../config/config.ts";
import { hostOf, type SessionEvent, SessionEventType, type SessionSnapshot } from "../hub/registry.ts";
import { Role } from "../hub/session_kind.ts";
import { log as rootLog, type Logger } from "../log.ts";
import {
  CALLBACK_WARN_EVERY_MS,
  CallbackName,
  callbackUrl,
  postCallback,
  RateLimitedWarning,
  safeUrl,
  whole,
} from "./callbacks.ts";

/** The settings the notifier reads (a `Config.auth` has them). */
export type DoneSettings = Pick<
  AuthConfig,
  "onPublishDone" | "onPlayDone" | "callbackTimeoutMs" | "callbackQueue"
>;

/** The side of the session registry the notifier reads (STYLE 10): `hub.sessions` satisfies it. */
export interface DoneSessions {
  on(listener: (ev: SessionEvent) => void): () => void;
}

/** Done-callbacks sent at the same time, by default. */
export const DONE_CONCURRENCY = 4;

/** The done-callback of each role; undefined: the session neither published nor played. */
const DONE_OF_ROLE: Readonly<Record<Role, CallbackName | undefined>> = {
  [Role.Pending]: undefined,
  [Role.Publisher]: CallbackName.PublishDone,
  [Role.Player]: CallbackName.PlayDone,
  [Role.Vod]: CallbackName.PlayDone,
};

/** 2xx: the callback server took it (RFC 9110 15.3). */
const SUCCESS_FIRST = 200;
const SUCCESS_LAST = 299;

/** Options of DoneNotifier. */
export interface DoneNotifierOptions {
  /** Where drops and failures are warned (default the root logger's `[callback]`). */
  log?: Logger;
  /** Callbacks sent at once (default DONE_CONCURRENCY). */
  concurrency?: number;
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number;
}

/** One queued callback. */
interface Queued {
  name: CallbackName;
  url: string;
  body: Record<string, unknown>;
}

/** The done-callbacks: see the module doc. */
export class DoneNotifier {
  #settings: DoneSettings;
  #sessions: DoneSessions;
  #log: Logger;
  #concurrency: number;
  #clock: () => number;
  #off: (() => void) | undefined;
  #stopped = false;
  #queue: Queued[] = [];
  #inFlight = 0;
  #sent = 0;
  #dropped = 0;
  #failures: RateLimitedWarning;
  #drops: RateLimitedWarning;
  /** Aborts the callbacks in flight at the end of stop(). */
  #abort = new AbortController();
  /** Resolved whenever the queue and the callbacks in flight are empty. */
  #idleWaiters: (() => void)[] = [];

  constructor(settings: DoneSettings, sessions: DoneSessions, options: DoneNotifierOptions = {}) {
    this.#settings = checked(settings);
    if (typeof sessions?.on !== "function") {
      throw new TypeError(`Cannot make a DoneNotifier: sessions.on is ${typeof sessions?.on}`);
    }
    this.#sessions = sessions;
    this.#log = options.log ?? rootLog.child("callback");
    this.#concurrency = whole("concurrency", options.concurrency ?? DONE_CONCURRENCY);
    this.#clock = options.clock ?? Date.now;
    this.#failures = new RateLimitedWarning(this.#log, CALLBACK_WARN_EVERY_MS, this.#clock);
    this.#drops = new RateLimitedWarning(this.#log, CALLBACK_WARN_EVERY_MS, this.#clock);
  }

  /** Callbacks answered with a 2xx. */
  get sent(): number {
    return this.#sent;
  }

  /** Callbacks answered otherwise, or not answered. */
  get failed(): number {
    return this.#failures.count;
  }

  /** Callbacks never sent (the queue was full) or abandoned by stop(). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Callbacks waiting to be sent. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Callbacks being sent now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Starts listening to the registry's close events. Idempotent; TypeError after stop(). */
  start(): void {
    if (this.#stopped) throw new TypeError("Cannot start the done-callbacks: current state is stopped");
    this.#off ??= this.#sessions.on((ev) => this.#onSession(ev));
  }

  /** Takes new settings (a reload) for the sessions that end from now on; TypeError or RangeError, changing nothing. */
  update(settings: DoneSettings): void {
    this.#settings = checked(settings);
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops listening; what is queued and in flight gets up to `callbackTimeoutMs` in all, then is abandoned
   * (the queued ones counted as dropped). Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#off?.();
      this.#off = undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) =>
        timer = setTimeout(resolve, this.#settings.callbackTimeoutMs)
      );
      await Promise.race([this.idle(), deadline]);
      clearTimeout(timer);
      const left = this.#queue.length;
      this.#queue = [];
      if (left > 0) this.#drop(left, "the server is stopping");
      this.#abort.abort(new DOMException("the server is stopping", "AbortError"));
    }
    await this.idle();
  }

  #onSession(ev: SessionEvent): void {
    if (ev.type !== SessionEventType.Close || this.#stopped) return;
    const name = DONE_OF_ROLE[ev.session.role];
    if (name === undefined) return;
    const url = name === CallbackName.PublishDone ? this.#settings.onPublishDone : this.#settings.onPlayDone;
    if (url === null) return;
    const limit = this.#settings.callbackQueue;
    if (this.#queue.length >= limit) {
      this.#drop(1, `the queue is full (limit ${limit}, auth.callbackQueue)`);
      return;
    }
    this.#queue.push({ name, url, body: doneBody(name, ev.session, ev.reason, this.#clock()) });
    this.#pump();
  }

  /** Sends from the queue while there is room in flight. */
  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.#inFlight++;
      this.#send(next).finally(() => {
        this.#inFlight--;
        this.#pump();
        if (this.#queue.length === 0 && this.#inFlight === 0) {
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  async #send(q: Queued): Promise<void> {
    const result = await postCallback(q.url, q.body, {
      timeoutMs: this.#settings.callbackTimeoutMs,
      signal: this.#abort.signal,
    });
    if (result.kind === "aborted") return this.#drop(1, "the server is stopping");
    if (result.kind === "answered" && result.status >= SUCCESS_FIRST && result.status <= SUCCESS_LAST) {
      this.#sent++;
      return;
    }
    const why = result.kind === "answered"
      ? `answered ${result.status}`
      : result.why + (result.detail !== result.why ? ` (${result.detail})` : "");
    this.#failures.warn(`callback ${q.name} to ${safeUrl(q.url)} failed: ${why}`, "callback failures");
  }

  #drop(n: number, why: string): void {
    this.#dropped += n;
    this.#drops.warn(
      `dropped ${n} done-${n === 1 ? "callback" : "callbacks"}: ${why}`,
      "done-callbacks dropped",
      n,
    );
  }
}

/** The body of a done-callback (see the module doc). */
export function doneBody(
  name: CallbackName,
  s: SessionSnapshot,
  reason: string | undefined,
  now: number,
): Record<string, unknown> {
  const slash = s.key === undefined ? -1 : s.key.indexOf("/");
  const remote = s.remote;
  const port = remote === undefined ? NaN : Number(remote.slice(remote.lastIndexOf(":") + 1));
  return {
    action: name,
    protocol: s.protocol,
    app: slash < 0 ? null : s.key!.slice(0, slash),
    stream: slash < 0 ? null : s.key!.slice(slash + 1),
    key: s.key ?? null,
    address: remote === undefined ? null : hostOf(remote),
    port: Number.isInteger(port) ? port : null,
    sessionId: s.id,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    framesSent: s.framesSent,
    framesDropped: s.framesDropped,
    durationMs: s.durationMs,
    startedAt: new Date(s.startedAt).toISOString(),
    status: s.status ?? null,
    reason: reason ?? null,
    time: new Date(now).toISOString(),
  };
}

/** The settings, checked: each URL null or an http(s) URL, the numbers whole and in range. */
function checked(s: DoneSettings): DoneSettings {
  return {
    onPublishDone: callbackUrl("auth.onPublishDone", s.onPublishDone),
    onPlayDone: callbackUrl("auth.onPlayDone", s.onPlayDone),
    callbackTimeoutMs: whole("auth.callbackTimeoutMs", s.callbackTimeoutMs),
    callbackQueue: whole("auth.callbackQueue", s.callbackQueue),
  };
}
