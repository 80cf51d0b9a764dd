/**
 * HlsService: the HLS side of the server. It keeps one HlsStream per stream
 * key while someone plays it over HLS (or from its publish on, with
 * `hls.alwaysOn`), the HLS viewers as sessions of the registry, and the bound
 * on requests held open (blocking playlist reloads and preload hints).
 *
 * Policy:
 * - a stream is muxed from the first HLS request for it (`stream(key)`
 *   attaches to the live stream, which starts it from the GOP cache) until
 *   `hls.idleTimeoutMs` after the last one; an ended stream stays readable
 *   (its playlist ends with `EXT-X-ENDLIST`) until then, and a new publish of
 *   the key starts a fresh one (new URIs: each HlsStream names its
 *   resources with its own epoch, so caches never mix two runs);
 * - a viewer is the session id (`sid`) the playlists put in every URI; it is
 *   admitted once (the gate sees the request's query, so signed URLs and
 *   tokens in the playlist URL work), registered as a player of its stream
 *   with protocol `hls`, and ends after `hls.sessionTimeoutMs` without a
 *   request. An unknown or expired `sid` is admitted again under the same id;
 * - at most `hls.maxWaiting` requests wait at once over all streams; past it
 *   a blocking request is answered 503 at once.
 *
 * @module
 */
import type { HlsConfig } from "../config/config.ts";
import { HubEventType } from "../hub/events.ts";
import { type SessionEntry, type SessionRegistry, sessionRequestOf } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import type { Stream } from "../hub/stream.ts";
import type { Logger } from "../log.ts";
import type { ContainerKind, HlsContainer } from "./container.ts";
import { type HlsHub, HlsStream, makeContainer } from "./hls_stream.ts";
import { TsContainer } from "./ts_container.ts";
import { tsMuxerOf } from "../outputs/stream_ts_muxer.ts";

/** What the service needs of the hub (StreamHub has it). */
export interface HlsServiceHub extends HlsHub {
  readonly sessions: SessionRegistry;
  get(key: string): Stream | undefined;
}

/** A viewer's session id: 16 characters of base64url. */
export const SID_PATTERN = /^[A-Za-z0-9_-]{16}$/;

/** Most resources resourceRequests counts before it starts over. */
export const RESOURCE_COUNTS_MAX = 100_000;

/** The sweep's period, ms: idle streams and quiet viewers go within this of their timeout. */
const SWEEP_MS = 1_000;

/** One HLS viewer. */
export interface HlsViewer {
  readonly sid: string;
  readonly key: string;
  readonly entry: SessionEntry;
  lastSeen: number;
  bytesOut: number;
  requests: number;
}

/** HlsService's collaborators. */
export interface HlsServiceOptions {
  hub: HlsServiceHub;
  config: HlsConfig;
  log: Logger;
  now?: () => number;
  /** Makes each stream's container (tests give a fake). */
  makeContainer?: (kind: ContainerKind) => HlsContainer;
}

/** The HLS streams and viewers of the server (see the module doc). */
export class HlsService {
  readonly config: HlsConfig;
  /** Counters for tests and metrics: requests answered from memory, by kind. */
  readonly stats = { playlists: 0, segments: 0, parts: 0, inits: 0, blocked: 0, refusedBusy: 0 };
  /**
   * Requests answered per resource (`app/stream/EPOCH-MSN[.PART].EXT`, the path after the first "/"):
   * how a cache in front shows (each resource asked for once). Bounded: cleared at RESOURCE_COUNTS_MAX.
   */
  readonly resourceRequests: Map<string, number> = new Map();
  #hub: HlsServiceHub;
  #log: Logger;
  #now: () => number;
  #streams = new Map<string, HlsStream>();
  #viewers = new Map<string, HlsViewer>();
  #tsApps: Set<string>;
  #waiting = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #off: (() => void) | undefined;
  #epoch = 0;
  #makeContainer: ((kind: ContainerKind) => HlsContainer) | undefined;

  constructor(options: HlsServiceOptions) {
    this.config = options.config;
    this.#hub = options.hub;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#makeContainer = options.makeContainer;
    this.#tsApps = new Set((options.config.tsApps ?? "").split(",").filter((a) => a !== ""));
  }

  /** Starts the sweep and, with alwaysOn, muxing at every publish. */
  start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => this.sweep(), SWEEP_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
    this.#off = this.#hub.on((ev) => {
      if (ev.type === HubEventType.Publish) {
        const old = this.#streams.get(ev.key);
        if (old?.closed) this.#drop(old, "a new stream");
        if (this.config.alwaysOn) this.stream(ev.key);
      }
    });
  }

  /** Stops muxing and ends every viewer. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#off?.();
    this.#off = undefined;
    for (const s of [...this.#streams.values()]) this.#drop(s, "server stopping");
    for (const v of [...this.#viewers.values()]) this.#endViewer(v, "server stopping");
  }

  /** The container of an app's segments. */
  containerOf(key: string): ContainerKind {
    const app = key.slice(0, key.indexOf("/"));
    return this.#tsApps.has(app) ? "ts" : this.config.container;
  }

  /**
   * The stream's HLS muxing, started now if the stream is live; a stream that ended is kept (readable)
   * until its idle time is up. Undefined when there is neither.
   */
  stream(key: string): HlsStream | undefined {
    let s = this.#streams.get(key);
    if (s && s.closed && this.#hub.get(key)?.state === "live") {
      this.#drop(s, "a new stream");
      s = undefined;
    }
    if (!s) {
      const created = new HlsStream({
        hub: this.#hub,
        key,
        container: this.containerOf(key),
        segmenter: {
          targetDurationMs: this.config.targetDurationMs,
          partTargetMs: this.config.partTargetMs,
          windowSegments: this.config.windowSegments,
          maxBytes: this.config.maxBytes,
          maxSegmentBytes: Math.min(16 * 1024 * 1024, this.config.maxBytes),
        },
        log: this.#log.child(key),
        now: this.#now,
        epoch: this.nextEpoch(),
        makeContainer: this.#makeContainer ?? ((kind) => this.#container(kind, key)),
      });
      if (!created.start()) return undefined;
      s = created;
      this.#streams.set(key, s);
      this.#log.info(`muxing ${key} for HLS (${s.kind})`);
    }
    s.lastRequestAt = this.#now();
    return s;
  }

  /** MPEG-TS shares the stream's one TsMuxer with HTTP-TS players (pack once); fMP4 has its own. */
  #container(kind: ContainerKind, key: string): HlsContainer {
    const stream = this.#hub.get(key);
    return kind === "ts" && stream ? new TsContainer(tsMuxerOf(stream)) : makeContainer(kind);
  }

  /** A unique epoch for a new stream's resource names (base 36: short in every URI). */
  nextEpoch(): string {
    return (this.#now() * 1000 + (this.#epoch++ % 1000)).toString(36);
  }

  /** The streams muxed now (tests, the admin side). */
  streams(): HlsStream[] {
    return [...this.#streams.values()];
  }

  /** Counts one answered request for a segment, part or init section. */
  countResource(path: string): void {
    if (this.resourceRequests.size >= RESOURCE_COUNTS_MAX && !this.resourceRequests.has(path)) {
      this.resourceRequests.clear();
    }
    this.resourceRequests.set(path, (this.resourceRequests.get(path) ?? 0) + 1);
  }

  // ---- viewers

  /** The viewer of `sid`, touched (its quiet timer restarts); undefined when unknown or another stream's. */
  viewer(sid: string | null, key: string): HlsViewer | undefined {
    if (sid === null) return undefined;
    const v = this.#viewers.get(sid);
    if (!v || v.key !== key) return undefined;
    v.lastSeen = this.#now();
    v.requests++;
    return v;
  }

  /** Registers an admitted viewer under `sid` (a new one when not given or malformed). */
  addViewer(key: string, sid: string | null, init: { remote?: string; request?: Request }): HlsViewer {
    const id = sid !== null && SID_PATTERN.test(sid) && !this.#viewers.has(sid) ? sid : newSid();
    const viewer: HlsViewer = {
      sid: id,
      key,
      lastSeen: this.#now(),
      bytesOut: 0,
      requests: 1,
      entry: undefined as unknown as SessionEntry,
    };
    const entry = this.#hub.sessions.open({
      protocol: Protocol.Hls,
      role: Role.Player,
      key,
      remote: init.remote,
      counters: () => ({ bytesOut: viewer.bytesOut }),
      close: (reason) => this.#endViewer(viewer, reason),
      status: 200,
      ...(init.request && { request: sessionRequestOf(init.request) }),
    });
    (viewer as { entry: SessionEntry }).entry = entry;
    this.#viewers.set(id, viewer);
    this.#countViewers(key);
    return viewer;
  }

  /** The viewers now (tests). */
  viewers(): HlsViewer[] {
    return [...this.#viewers.values()];
  }

  // ---- blocking requests

  /** Takes a waiting slot; false when all `hls.maxWaiting` are taken. */
  takeWaitSlot(): boolean {
    if (this.#waiting >= this.config.maxWaiting) {
      this.stats.refusedBusy++;
      return false;
    }
    this.#waiting++;
    this.stats.blocked++;
    return true;
  }

  /** Gives a waiting slot back. */
  releaseWaitSlot(): void {
    this.#waiting = Math.max(0, this.#waiting - 1);
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.#waiting;
  }

  // ---- sweep

  /** Drops idle streams and ends quiet viewers (run every second; tests call it). */
  sweep(now: number = this.#now()): void {
    for (const s of [...this.#streams.values()]) {
      const idle = now - s.lastRequestAt >= this.config.idleTimeoutMs;
      if (idle && (s.closed || !this.config.alwaysOn)) this.#drop(s, "no HLS request for a while");
    }
    for (const v of [...this.#viewers.values()]) {
      if (now - v.lastSeen >= this.config.sessionTimeoutMs) this.#endViewer(v, "no request for a while");
    }
  }

  #drop(s: HlsStream, reason: string): void {
    if (this.#streams.get(s.key) === s) this.#streams.delete(s.key);
    s.stop(reason);
    this.#log.info(`stopped muxing ${s.key} for HLS: ${reason}`);
  }

  #endViewer(v: HlsViewer, reason: string): void {
    if (this.#viewers.get(v.sid) !== v) return;
    this.#viewers.delete(v.sid);
    v.entry.end(reason);
    this.#countViewers(v.key);
  }

  #countViewers(key: string): void {
    const stream = this.#hub.get(key);
    if (!stream) return;
    let n = 0;
    for (const v of this.#viewers.values()) if (v.key === key) n++;
    if (n === 0) stream.externalViewers.delete(Protocol.Hls);
    else stream.externalViewers.set(Protocol.Hls, n);
  }
}

/** A new session id: 12 random bytes as 16 characters of base64url. */
export function newSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}
