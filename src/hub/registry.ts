/**
 * SessionRegistry: every connection of every protocol, registered once, with
 * live counters; what the admin API and metrics read (DESIGN "The session
 * registry and snapshots"). Reachable as `hub.sessions`.
 *
 * Policy:
 * - the edge opens an entry when a connection is accepted (or a file source
 *   starts) and ends it once when the connection is gone; the registry
 *   assigns the id ("1", "2", ... per registry);
 * - counters come from the edge by callback (`SessionInit.counters`), read
 *   when a snapshot or the totals are asked for: nothing reaches into an
 *   edge's private fields and nothing is counted twice. A callback that
 *   throws reads as zeros;
 * - `end()` folds the session's final byte counts into the totals, so
 *   `totals()` outlives sessions and streams; nothing else of a closed
 *   session is kept (no per-session history: memory is bounded by the live
 *   sessions, which the listeners bound);
 * - `kick()` asks the edge to close (SessionInit.close); the edge then ends
 *   the entry as for any other close;
 * - open and close events go through a bounded emitter (see events.ts);
 * - an edge may say what its client asked for (`SessionRequest`: method,
 *   URL, user agent, referer) and how it was answered (`status`, in HTTP's
 *   codes for every protocol), for the access log; each text field is cut to
 *   REQUEST_FIELD_MAX_CHARS, so an entry stays bounded whatever a client
 *   sends.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { Emitter } from "./events.ts";
import { maskQuery } from "./admission.ts";
import { type Protocol, Role, zeroByProtocol } from "./session_kind.ts";

/** A session's counters, as its edge reports them. */
export interface SessionCounters {
  /** Bytes read from the peer. */
  bytesIn: number;
  /** Bytes written to the peer. */
  bytesOut: number;
  /** Frames written to a player. */
  framesSent: number;
  /** Frames a player's queue dropped (skips to a keyframe). */
  framesDropped: number;
  /** Skips to a keyframe. */
  skips: number;
  /** A player's lag behind its stream, ms (Subscriber.lagMs). */
  lagMs: number;
  /** Media bytes a player holds of its own: queued, or in a write under way (Subscriber.ownBytes). */
  queuedBytes: number;
}

/** The longest method, URL, user agent or referer a session keeps, in characters; longer ones are cut. */
export const REQUEST_FIELD_MAX_CHARS = 2048;

/**
 * What a session's client asked for, as an access log writes it: the HTTP
 * request line and headers, or the RTMP command and `connect` fields.
 */
export interface SessionRequest {
  /**
   * HTTP: `GET`, `HEAD`, `POST`, `PUT`; `WS` for a WebSocket (the router's pseudo-method for an upgraded
   * GET). RTMP: `CONNECT` until a `PLAY` or `PUBLISH`.
   */
  method: string;
  /** HTTP: the request target (path and query). RTMP: `rtmp://host/app/name` (tcUrl and the stream name). */
  url: string;
  /** HTTP `User-Agent`; RTMP connect's `flashVer`. */
  userAgent?: string;
  /** HTTP `Referer`; RTMP connect's `pageUrl`. */
  referer?: string;
}

/** How a session ended, as its edge tells `SessionEntry.end()`. */
export interface SessionResult {
  /** The answer as an HTTP status (100-999), for every protocol: see SessionSnapshot.status. */
  status?: number;
}

/** A peer as the registry writes it, "ip:port", when it is a network address (else undefined). */
export function addressOf(peer: Deno.Addr | undefined): string | undefined {
  return peer && (peer.transport === "tcp" || peer.transport === "udp")
    ? `${peer.hostname}:${peer.port}`
    : undefined;
}

/** The host of a registry address, "ip:port" ("::1:5000" is host "::1"). */
export function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon < 0 ? remote : remote.slice(0, colon);
}

/**
 * The access-log request of a fetch `Request` (a web platform type: nothing here reads a socket): the
 * method (or `method`, e.g. `WS`), the path and query, and the User-Agent and Referer headers.
 */
export function sessionRequestOf(req: Request, method: string = req.method): SessionRequest {
  const u = new URL(req.url);
  const userAgent = req.headers.get("user-agent");
  const referer = req.headers.get("referer");
  return {
    method,
    url: `${u.pathname}${u.search}`,
    ...(userAgent !== null && { userAgent }),
    ...(referer !== null && { referer }),
  };
}

/** What an edge registers. */
export interface SessionInit {
  protocol: Protocol;
  /** Default pending. */
  role?: Role;
  /** The peer, "ip:port"; undefined for file sources. */
  remote?: string;
  /** The stream key, once known. */
  key?: string;
  /** The live counters; missing fields read as 0. Called on every snapshot and totals(). */
  counters: () => Partial<SessionCounters>;
  /** Closes the connection (an admin kick), with the reason to log. */
  close?: (reason: string) => void;
  /** What the client asked for, when known at open (else `SessionEntry.setRequest()` later). */
  request?: SessionRequest;
  /** The answer, when known at open (else `setStatus()` or `end(reason, { status })`). */
  status?: number;
}

/** A session as plain data. */
export interface SessionSnapshot extends SessionCounters {
  id: string;
  protocol: Protocol;
  role: Role;
  remote?: string;
  key?: string;
  /** Date.now() at open. */
  startedAt: number;
  /** Time open, ms (up to the end, for an ended session). */
  durationMs: number;
  /** What the client asked for, when the edge said. */
  request?: SessionRequest;
  /**
   * The answer as an HTTP status, when the edge said: the response's status for HTTP; for RTMP and pushes
   * the same codes (200 played or published, 302 redirected, 400 bad request, 401/403/503 refused by the
   * admission gate, 404 no such stream, 409 name already published, 408 idle).
   */
  status?: number;
}

/** What the registry adds up. */
export interface ServerTotals {
  /** Bytes read: ended sessions' final counts plus live sessions' current ones. */
  bytesIn: number;
  /** Bytes written, the same way. */
  bytesOut: number;
  /** Sessions open now. */
  live: number;
  /** Sessions ever opened. */
  opened: number;
  /** Sessions open now, per protocol (every protocol present, 0 when none). */
  sessionsByProtocol: Record<Protocol, number>;
  /** Sessions ever opened, per protocol. */
  openedByProtocol: Record<Protocol, number>;
}

/** The kinds of registry event. */
export const SessionEventType = {
  /** A session was opened. */
  Open: "open",
  /** A session ended; `reason` says why, when the edge said. */
  Close: "close",
} as const;
export type SessionEventType = typeof SessionEventType[keyof typeof SessionEventType];

/** One registry event. */
export interface SessionEvent {
  type: SessionEventType;
  session: SessionSnapshot;
  reason?: string;
}

/** The registry's side of an entry (so SessionEntry has no public hook into it). */
interface EntryOwner {
  now(): number;
  ended(entry: SessionEntry, final: SessionSnapshot, reason: string | undefined): void;
}

const ZERO: SessionCounters = {
  bytesIn: 0,
  bytesOut: 0,
  framesSent: 0,
  framesDropped: 0,
  skips: 0,
  lagMs: 0,
  queuedBytes: 0,
};
const COUNTER_KEYS = Object.keys(ZERO) as (keyof SessionCounters)[];

/** One registered session. */
export class SessionEntry {
  readonly id: string;
  readonly protocol: Protocol;
  role: Role;
  key?: string;
  readonly remote?: string;
  readonly startedAt: number;
  /** What the client asked for, when the edge said. */
  request?: SessionRequest;
  /** The answer as an HTTP status, when the edge said. */
  status?: number;

  #init: SessionInit;
  #owner: EntryOwner;
  #final: SessionSnapshot | undefined;

  /** Made by SessionRegistry.open(). */
  constructor(id: string, init: SessionInit, owner: EntryOwner) {
    this.id = id;
    this.protocol = init.protocol;
    this.role = init.role ?? Role.Pending;
    if (init.key !== undefined) this.key = init.key;
    if (init.remote !== undefined) this.remote = init.remote;
    if (init.request !== undefined) this.request = checkedRequest(init.request);
    if (init.status !== undefined) this.status = checkedStatus(init.status);
    this.#init = init;
    this.#owner = owner;
    this.startedAt = owner.now();
  }

  /** Whether end() was called. */
  get ended(): boolean {
    return this.#final !== undefined;
  }

  /** The session now publishes or plays `key`. Ignored once ended. */
  setStream(role: Role, key: string): void {
    if (this.#final) return;
    this.role = role;
    this.key = key;
  }

  /**
   * What the client asked for (an RTMP `play` after its `connect`, say); fields past
   * REQUEST_FIELD_MAX_CHARS are cut. TypeError when method or url is not a string. Ignored once ended.
   */
  setRequest(request: SessionRequest): void {
    const checked = checkedRequest(request);
    if (this.#final) return;
    this.request = checked;
  }

  /** How the client was answered, as an HTTP status (RangeError outside 100-999). Ignored once ended. */
  setStatus(status: number): void {
    const checked = checkedStatus(status);
    if (this.#final) return;
    this.status = checked;
  }

  /** Asks the edge to close the connection; false when it gave no way to (or the session ended). */
  kick(reason: string): boolean {
    if (this.#final || !this.#init.close) return false;
    this.#init.close(reason);
    return true;
  }

  /**
   * The session is gone: final counters go into the totals, the entry leaves the registry. `result.status`
   * sets the answer first (as setStatus()). Idempotent: only the first call counts.
   */
  end(reason?: string, result: SessionResult = {}): void {
    if (this.#final) return;
    if (result.status !== undefined) this.status = checkedStatus(result.status);
    this.#final = this.#snapshot();
    this.#owner.ended(this, this.#final, reason);
  }

  /** The session as plain data; after end(), the final one. */
  snapshot(): SessionSnapshot {
    if (!this.#final) return this.#snapshot();
    const out = { ...this.#final };
    if (out.request) out.request = { ...out.request };
    return out;
  }

  /** The counters now, each a finite number (0 when missing, or when the callback throws). */
  counters(): SessionCounters {
    if (this.#final) {
      const out = { ...ZERO };
      for (const k of COUNTER_KEYS) out[k] = this.#final[k];
      return out;
    }
    let raw: Partial<SessionCounters>;
    try {
      raw = this.#init.counters() ?? {};
    } catch {
      raw = {};
    }
    const out = { ...ZERO };
    for (const k of COUNTER_KEYS) {
      const v = raw[k];
      if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
    }
    return out;
  }

  #snapshot(): SessionSnapshot {
    return {
      id: this.id,
      protocol: this.protocol,
      role: this.role,
      ...(this.remote !== undefined && { remote: this.remote }),
      ...(this.key !== undefined && { key: this.key }),
      startedAt: this.startedAt,
      durationMs: Math.max(0, this.#owner.now() - this.startedAt),
      ...this.counters(),
      ...(this.request !== undefined && { request: { ...this.request } }),
      ...(this.status !== undefined && { status: this.status }),
    };
  }
}

/** A text field cut to REQUEST_FIELD_MAX_CHARS. */
function cut(text: string): string {
  return text.length > REQUEST_FIELD_MAX_CHARS ? text.slice(0, REQUEST_FIELD_MAX_CHARS) : text;
}

/**
 * A copy of `request` with its fields cut to the bound and the credentials in its URLs masked
 * (`maskQuery`); TypeError for a field that is not a string.
 */
function checkedRequest(request: SessionRequest): SessionRequest {
  const { method, url, userAgent, referer } = request ?? {};
  for (
    const [name, value, optional] of [
      ["method", method, false],
      ["url", url, false],
      ["userAgent", userAgent, true],
      ["referer", referer, true],
    ] as const
  ) {
    if (typeof value === "string" || (optional && value === undefined)) continue;
    throw new TypeError(`Cannot set a session's request: ${name} is ${typeof value}, expected a string`);
  }
  // Credentials in a query (`?key=`, `&sign=`, `token=`) never reach the access log or the API.
  return {
    method: cut(method),
    url: cut(maskQuery(url)),
    ...(userAgent !== undefined && { userAgent: cut(userAgent) }),
    ...(referer !== undefined && { referer: cut(maskQuery(referer)) }),
  };
}

/** `status` when it is an HTTP status code (an integer 100-999); RangeError otherwise. */
function checkedStatus(status: number): number {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`Cannot set a session's status: ${status} is not an HTTP status (100-999)`);
  }
  return status;
}

/** Options for SessionRegistry. */
export interface SessionRegistryOptions {
  /** Milliseconds since the epoch; default Date.now (tests pass a fake). */
  clock?: () => number;
  /** Bound on open/close listeners (default 64). */
  maxListeners?: number;
}

/** The registry of live sessions. */
export class SessionRegistry {
  #sessions = new Map<string, SessionEntry>();
  #nextId = 0;
  #clock: () => number;
  #events: Emitter<SessionEvent>;
  #closedBytesIn = 0;
  #closedBytesOut = 0;
  #opened = 0;
  #live = zeroByProtocol();
  #openedByProtocol = zeroByProtocol();
  #owner: EntryOwner;

  constructor(log: Logger, options: SessionRegistryOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#events = new Emitter<SessionEvent>("session", log, options.maxListeners);
    this.#owner = {
      now: () => this.#clock(),
      ended: (entry, final, reason) => this.#ended(entry, final, reason),
    };
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Registers a connection; the registry assigns its id. */
  open(init: SessionInit): SessionEntry {
    if (typeof init.counters !== "function") {
      throw new TypeError(`Cannot open a ${init.protocol} session: counters is ${typeof init.counters}`);
    }
    if (!Object.hasOwn(this.#live, init.protocol)) {
      throw new TypeError(`Cannot open a session: protocol "${init.protocol}" is not in the Protocol table`);
    }
    const entry = new SessionEntry(String(++this.#nextId), init, this.#owner);
    this.#sessions.set(entry.id, entry);
    this.#opened++;
    this.#live[entry.protocol]++;
    this.#openedByProtocol[entry.protocol]++;
    this.#events.emit({ type: SessionEventType.Open, session: entry.snapshot() });
    return entry;
  }

  /** The live session with that id. */
  get(id: string): SessionEntry | undefined {
    return this.#sessions.get(id);
  }

  /** Snapshots of the live sessions (in the order they opened) that match every field of `filter`. */
  list(filter: { key?: string; protocol?: Protocol; role?: Role } = {}): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const e of this.#sessions.values()) {
      if (filter.key !== undefined && e.key !== filter.key) continue;
      if (filter.protocol !== undefined && e.protocol !== filter.protocol) continue;
      if (filter.role !== undefined && e.role !== filter.role) continue;
      out.push(e.snapshot());
    }
    return out;
  }

  /**
   * The lag (ms) of every live player by stream key: what the dashboard's sampler charts each second, read
   * without a whole snapshot per session.
   */
  playerLags(): Map<string, number[]> {
    const lags = new Map<string, number[]>();
    for (const e of this.#sessions.values()) {
      const key = e.key;
      if (e.role !== Role.Player || key === undefined) continue;
      const lag = e.counters().lagMs;
      const list = lags.get(key);
      if (list) list.push(lag);
      else lags.set(key, [lag]);
    }
    return lags;
  }

  /** Totals over ended and live sessions. */
  totals(): ServerTotals {
    let bytesIn = this.#closedBytesIn;
    let bytesOut = this.#closedBytesOut;
    for (const e of this.#sessions.values()) {
      const c = e.counters();
      bytesIn += c.bytesIn;
      bytesOut += c.bytesOut;
    }
    return {
      bytesIn,
      bytesOut,
      live: this.#sessions.size,
      opened: this.#opened,
      sessionsByProtocol: { ...this.#live },
      openedByProtocol: { ...this.#openedByProtocol },
    };
  }

  /** Adds an open/close listener; returns its remover. Bounded (TypeError past the bound). */
  on(listener: (ev: SessionEvent) => void): () => void {
    return this.#events.on(listener);
  }

  #ended(entry: SessionEntry, final: SessionSnapshot, reason: string | undefined): void {
    if (this.#sessions.get(entry.id) !== entry) return;
    this.#sessions.delete(entry.id);
    this.#live[entry.protocol]--;
    this.#closedBytesIn += final.bytesIn;
    this.#closedBytesOut += final.bytesOut;
    this.#events.emit({
      type: SessionEventType.Close,
      session: { ...final },
      ...(reason !== undefined && { reason }),
    });
  }
}
