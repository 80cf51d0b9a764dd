/**
 * StreamHub: the streams by key (`app/name`) and the rules between publishers
 * and players. Protocol-free: RTMP, HTTP-FLV and file sources all publish and
 * play through it.
 *
 * - One publisher per name; a second gets StreamBusyError unless
 *   `publishTakeover` is set, when the newcomer takes over.
 * - A play of a name with no publisher waits up to `playWaitMs` for one (0:
 *   StreamNotFoundError at once), like nginx-rtmp's idle streams.
 * - When a publisher leaves, its players stay attached for `reconnectGraceMs`;
 *   a returning publisher of the same name continues the stream.
 *
 * The top floor, which every edge calls (DESIGN "Shapes worth keeping"):
 * - `admit()`: the admission gate, asked once per publish and per play
 *   before `publish()` / `play()`. It never rejects: a policy that throws,
 *   answers nonsense or takes longer than `admissionTimeoutMs` is a deny of
 *   kind Unavailable (logged as a warning, at most once per 10 s with a
 *   count); allows and ordinary denies are not logged here (the edge logs its
 *   close reason once). Admissions run side by side, at most
 *   `admissionMaxInFlight` at a time (past it: a deny of kind Unavailable);
 *   `stop()` denies those still waiting and aborts their signals.
 * - `on()`: stream events (publish, unpublish, resume, end; see events.ts),
 *   and `attach()` for an observer's Subscriber.
 * - `sessions`: the session registry (registry.ts); `totals()` adds the
 *   streams ever created and live now to its totals.
 *
 * @module
 */
import type { HubConfig } from "../config/config.ts";
import { StreamBusyError, StreamNotFoundError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  type Admission,
  type AdmissionDecision,
  type AdmissionRequest,
  allowAll,
  deny,
  DenyKind,
  isDecision,
} from "./admission.ts";
import { Emitter, type HubEvent, HubEventType, type HubListener, MAX_LISTENERS } from "./events.ts";
import { type ServerTotals, SessionRegistry } from "./registry.ts";
import { type PublisherHandle, Stream } from "./stream.ts";
import type { Subscriber } from "./subscriber.ts";

/** Options for StreamHub beyond its config section. */
export interface StreamHubOptions {
  /** The admission policy; default `allowAll`. Settable later as `hub.admission`. */
  admission?: Admission;
  /** How long a policy may take to answer, ms; past it the request is denied (Unavailable). Default 5,000. */
  admissionTimeoutMs?: number;
  /** Admissions waiting for an answer at once; past it a request is denied (Unavailable). Default 1,000. */
  admissionMaxInFlight?: number;
  /** Bound on stream event listeners (and on session event listeners). Default 64. */
  maxListeners?: number;
  /** Milliseconds since the epoch, for events, streams and sessions; default Date.now (tests pass a fake). */
  clock?: () => number;
}

/** The registry's totals plus the streams'. */
export interface HubTotals extends ServerTotals {
  /** Streams ever created. */
  streamsSeen: number;
  /** Streams live or in grace now. */
  streams: number;
}

/** Default of StreamHubOptions.admissionTimeoutMs. */
export const DEFAULT_ADMISSION_TIMEOUT_MS = 5_000;
/** Default of StreamHubOptions.admissionMaxInFlight. */
export const DEFAULT_ADMISSION_MAX_IN_FLIGHT = 1_000;
const WARN_EVERY_MS = 10_000;

interface Waiter {
  sub: Subscriber;
  resolve: (s: Stream) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class StreamHub {
  readonly config: HubConfig;
  /** The admission policy `admit()` asks; tests and the wiring may swap it at any time. */
  admission: Admission;
  /** Every connection of every protocol (see registry.ts). */
  readonly sessions: SessionRegistry;
  /** How long a policy may take; a reload may change it (`Sluice.applyLive()`), for the next requests. */
  admissionTimeoutMs: number;
  readonly admissionMaxInFlight: number;
  #log: Logger;
  #clock: () => number;
  #streams = new Map<string, Stream>();
  #graceTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #waiters = new Map<string, Set<Waiter>>();
  #stallTimer: ReturnType<typeof setInterval> | undefined;
  #events: Emitter<HubEvent>;
  #streamsSeen = 0;
  /** Admissions waiting for their policy: each entry ends its wait with the given decision. */
  #admitting = new Set<(d: AdmissionDecision, gaveUp?: DOMException) => void>();
  #lastPolicyWarnAt = -Infinity;
  #policyFailuresSinceWarn = 0;

  constructor(config: HubConfig, log: Logger, options: StreamHubOptions = {}) {
    this.config = config;
    this.#log = log;
    this.#clock = options.clock ?? Date.now;
    this.admission = options.admission ?? allowAll;
    this.admissionTimeoutMs = positive(
      "admissionTimeoutMs",
      options.admissionTimeoutMs ?? DEFAULT_ADMISSION_TIMEOUT_MS,
    );
    this.admissionMaxInFlight = positive(
      "admissionMaxInFlight",
      options.admissionMaxInFlight ?? DEFAULT_ADMISSION_MAX_IN_FLIGHT,
    );
    const maxListeners = options.maxListeners ?? MAX_LISTENERS;
    this.#events = new Emitter<HubEvent>("hub", log, maxListeners);
    this.sessions = new SessionRegistry(log, { clock: this.#clock, maxListeners });
  }

  /**
   * Asks the admission policy about one publish or play. Never rejects: a
   * policy that throws or answers something that is not a decision gives a
   * deny "admission policy failed: ..."; no answer within
   * `admissionTimeoutMs` gives a deny "admission policy gave no answer within
   * N ms" and aborts the policy's signal (both of kind Unavailable).
   */
  admit(req: AdmissionRequest): Promise<AdmissionDecision> {
    return Promise.resolve(this.decide(req));
  }

  /**
   * `admit()`, but a policy that answers synchronously (the default allow-all does) gets its answer
   * back synchronously, so an edge can go on in the same turn: with hundreds of players joining at
   * once, a turn per join adds up in their time to first frame.
   */
  decide(req: AdmissionRequest): AdmissionDecision | Promise<AdmissionDecision> {
    if (this.#admitting.size >= this.admissionMaxInFlight) {
      return deny(
        `Cannot admit ${req.action} of ${req.key}: ${this.#admitting.size} admissions in flight (limit ${this.admissionMaxInFlight})`,
        DenyKind.Unavailable,
      );
    }
    const ctl = new AbortController();
    let answer: AdmissionDecision | Promise<AdmissionDecision>;
    try {
      answer = this.admission.admit(req, ctl.signal);
    } catch (e) {
      return this.#policyFailed(`admission policy failed: ${messageOf(e)}`);
    }
    if (!isThenable(answer)) return this.#checked(answer);
    const ms = this.admissionTimeoutMs;
    return new Promise<AdmissionDecision>((resolve) => {
      /** Ends the wait once: with the policy's answer, or (the hub gave up) aborting the policy's signal. */
      const finish = (d: AdmissionDecision, gaveUp?: DOMException) => {
        if (!this.#admitting.delete(finish)) return;
        clearTimeout(timer);
        if (gaveUp) ctl.abort(gaveUp);
        resolve(d);
      };
      const timer = setTimeout(() => {
        const reason = `admission policy gave no answer within ${ms} ms`;
        finish(this.#policyFailed(reason), new DOMException(reason, "TimeoutError"));
      }, ms);
      this.#admitting.add(finish);
      // A late answer (after the timeout or stop()) is ignored, and a late failure is not logged.
      const waiting = () => this.#admitting.has(finish);
      Promise.resolve(answer).then(
        (d) => waiting() && finish(this.#checked(d)),
        (e) => waiting() && finish(this.#policyFailed(`admission policy failed: ${messageOf(e)}`)),
      );
    });
  }

  /** Adds a stream event listener; returns its remover. At most `maxListeners` (TypeError past it). */
  on(listener: HubListener): () => void {
    return this.#events.on(listener);
  }

  /**
   * Attaches an observer's (or any) Subscriber at once to a live or in-grace
   * stream, as a player: it gets metadata, sequence headers and the GOP, then
   * every frame through its own bounded queue. Undefined when there is no
   * such stream (it never waits). The caller detaches it with `leave()`.
   */
  attach(key: string, sub: Subscriber): Stream | undefined {
    const stream = this.#streams.get(key);
    if (!stream || stream.state === "ended") return undefined;
    stream.addSubscriber(sub);
    return stream;
  }

  /** The session registry's totals, the streams ever created and the streams live (or in grace) now. */
  totals(): HubTotals {
    return { ...this.sessions.totals(), streamsSeen: this.#streamsSeen, streams: this.#streams.size };
  }

  /** Starts the once-a-second stall check. */
  start(): void {
    this.#stallTimer ??= setInterval(() => {
      const now = Date.now();
      for (const s of this.#streams.values()) s.checkStalls(now);
    }, 1000);
  }

  /** Ends every stream and waiter, denies admissions still waiting, and stops timers. */
  stop(): void {
    if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
    this.#stallTimer = undefined;
    for (const finish of [...this.#admitting]) {
      finish(
        deny("server stopping", DenyKind.Unavailable),
        new DOMException("server stopping", "AbortError"),
      );
    }
    for (const t of this.#graceTimers.values()) clearTimeout(t);
    this.#graceTimers.clear();
    for (const [key, set] of this.#waiters) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new StreamNotFoundError(key));
      }
    }
    this.#waiters.clear();
    // Forget the streams first: a publisher's close() may lead to unpublish(), now or later, which must
    // then find nothing to keep in grace (a grace timer would outlive stop()).
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const s of streams) {
      s.publisher?.close("server stopping");
      s.end();
      this.#emit(HubEventType.End, s);
    }
  }

  get(key: string): Stream | undefined {
    return this.#streams.get(key);
  }

  /** All streams, live or in grace. */
  streams(): Stream[] {
    return [...this.#streams.values()];
  }

  /** Makes `publisher` the stream's publisher; throws StreamBusyError if it has one (and no takeover). */
  publish(key: string, publisher: PublisherHandle): Stream {
    let stream = this.#streams.get(key);
    let takenOverFrom: string | undefined;
    if (stream?.publisher) {
      if (!this.config.publishTakeover) throw new StreamBusyError(key);
      const old = stream.publisher;
      takenOverFrom = old.id;
      stream.stopPublisher();
      old.close(`taken over by ${publisher.id}`);
    }
    const grace = this.#graceTimers.get(key);
    if (grace !== undefined) {
      clearTimeout(grace);
      this.#graceTimers.delete(key);
    }
    const created = !stream;
    if (!stream) {
      stream = new Stream(
        key,
        this.config.gopCacheMaxBytes,
        this.config.gopCacheMaxMs,
        this.config.mergeWindowMs,
        { clock: this.#clock, mergeWindowMaxMs: this.config.mergeWindowMaxMs },
      );
      this.#streams.set(key, stream);
      this.#streamsSeen++;
    }
    stream.startPublisher(publisher);
    const waiting = this.#waiters.get(key);
    if (waiting) {
      this.#waiters.delete(key);
      for (const w of waiting) {
        clearTimeout(w.timer);
        stream.addSubscriber(w.sub);
        w.resolve(stream);
      }
    }
    if (created) this.#emit(HubEventType.Publish, stream, publisher.id);
    else this.#emit(HubEventType.Resume, stream, publisher.id, takenOverFrom);
    return stream;
  }

  /** The publisher left; players stay attached for the grace window. */
  unpublish(stream: Stream, publisher: PublisherHandle): void {
    if (stream.publisher !== publisher) return; // already taken over
    if (this.#streams.get(stream.key) !== stream) return; // already ended (hub stopped)
    stream.stopPublisher();
    this.#emit(HubEventType.Unpublish, stream, publisher.id);
    const key = stream.key;
    if (this.config.reconnectGraceMs <= 0) {
      this.#endStream(stream);
      return;
    }
    this.#graceTimers.set(
      key,
      setTimeout(() => {
        this.#graceTimers.delete(key);
        if (stream.state === "grace") this.#endStream(stream);
      }, this.config.reconnectGraceMs),
    );
  }

  /**
   * Attaches a subscriber to `key`. Resolves at once when the stream is live or
   * in grace; otherwise waits for a publisher up to `playWaitMs`, then rejects
   * with StreamNotFoundError.
   */
  play(key: string, sub: Subscriber): Promise<Stream> {
    const stream = this.#streams.get(key);
    if (stream && stream.state !== "ended") {
      stream.addSubscriber(sub);
      return Promise.resolve(stream);
    }
    if (this.config.playWaitMs <= 0) return Promise.reject(new StreamNotFoundError(key));
    return new Promise((resolve, reject) => {
      const set = this.#waiters.get(key) ?? new Set<Waiter>();
      this.#waiters.set(key, set);
      const w: Waiter = {
        sub,
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(w);
          if (set.size === 0) this.#waiters.delete(key);
          reject(new StreamNotFoundError(key));
        }, this.config.playWaitMs),
      };
      set.add(w);
    });
  }

  /** Detaches a subscriber (player closed), whether attached or still waiting. */
  leave(key: string, sub: Subscriber): void {
    this.#streams.get(key)?.removeSubscriber(sub);
    const set = this.#waiters.get(key);
    if (!set) return;
    for (const w of set) {
      if (w.sub !== sub) continue;
      clearTimeout(w.timer);
      set.delete(w);
      w.reject(new StreamNotFoundError(key));
    }
    if (set.size === 0) this.#waiters.delete(key);
  }

  #endStream(stream: Stream): void {
    this.#streams.delete(stream.key);
    this.#log.info(
      `stream ${stream.key} ended: ${stream.stats.framesIn} frames, ${stream.stats.bytesIn} bytes`,
    );
    stream.end();
    this.#emit(HubEventType.End, stream);
  }

  #emit(type: HubEventType, stream: Stream, publisherId?: string, takenOverFrom?: string): void {
    if (this.#events.size === 0) return;
    this.#events.emit({
      type,
      key: stream.key,
      stream,
      ...(publisherId !== undefined && { publisherId }),
      ...(takenOverFrom !== undefined && { takenOverFrom }),
      at: this.#clock(),
    });
  }

  /** The policy's answer, or a failure deny when it is not a decision. */
  #checked(d: unknown): AdmissionDecision {
    return isDecision(d)
      ? d
      : this.#policyFailed(`admission policy failed: answered ${describe(d)}, not a decision`);
  }

  /** A policy failed or timed out: its deny (Unavailable); one warning per 10 s, with the count since the last. */
  #policyFailed(reason: string): AdmissionDecision {
    const d = deny(reason, DenyKind.Unavailable);
    this.#policyFailuresSinceWarn++;
    const now = Date.now();
    if (now - this.#lastPolicyWarnAt < WARN_EVERY_MS) return d;
    const count = this.#policyFailuresSinceWarn;
    this.#lastPolicyWarnAt = now;
    this.#policyFailuresSinceWarn = 0;
    this.#log.warn(
      `admission denied: ${reason} (${count} policy failure${count === 1 ? "" : "s"} since the last warning)`,
    );
    return d;
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) {
    throw new RangeError(`Cannot create StreamHub: ${name} is ${v}, expected a positive number`);
  }
  return v;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A short description of a bad answer, for the deny reason. */
function describe(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  try {
    return JSON.stringify(v).slice(0, 80);
  } catch {
    return "an object";
  }
}
