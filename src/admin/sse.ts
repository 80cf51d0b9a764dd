/**
 * `GET /api/v1/events`: the admin event stream (Server-Sent Events), what the
 * dashboard draws from. One response body per client:
 *
 * - `retry: 3000` first, then at once the latest snapshot (when the sampler
 *   has ticked), then `event: snapshot` on every History tick with
 *   `{ server, streams, clients, sample }`;
 * - `event: publish|unpublish|resume|end` with `{ key, at, publisherId?,
 *   takenOverFrom? }` as the hub emits them;
 * - `event: connect|close` with the session's snapshot (+ `reason` on close)
 *   as the registry emits them;
 * - `event: log` with `{ at, level, line }` for each warning and error;
 * - a `: ping` comment every SSE_KEEPALIVE_MS (proxies close idle streams).
 * `at` is ISO 8601 everywhere. The event names are SseEvent (sse_event.ts,
 * shared with the page); the data's shapes are the types below.
 *
 * Cost and bounds (STYLE 11):
 * - one feed per History serves every client: it listens to the tick, the
 *   hub, the registry and the log once (only while it has clients), and a
 *   tick's snapshot is built and encoded once per host name the clients used
 *   (the URLs in it name the host), normally once;
 * - at most `ctx.sseMaxClients` clients at once; one more gets 503 JSON;
 * - each body's queue is bounded by `ctx.sseMaxBacklogBytes` of unsent
 *   bytes: a client whose next event would pass it is dropped (its body
 *   errors, the queue is freed; an EventSource reconnects and starts again
 *   from a snapshot), logged once;
 * - a client that goes away (the body is cancelled) is removed at once; the
 *   last one to go removes the feed's listeners and its keep-alive timer.
 *
 * @module
 */
import { type HubEvent, HubEventType } from "../hub/events.ts";
import { type SessionEvent, SessionEventType, type SessionSnapshot } from "../hub/registry.ts";
import { CORS_ALLOW_ORIGIN, jsonError } from "../http/responses.ts";
import { type LogEntry, onLog } from "../log.ts";
import {
  ApiMethods,
  hostOf,
  portsOf,
  refuseMethod,
  type ServerView,
  serverView,
  type StreamView,
  streamView,
} from "./api.ts";
import type { AdminContext } from "./context.ts";
import type { HistorySample, HistoryTick } from "./history.ts";
import { SseEvent } from "./sse_event.ts";

export { SseEvent } from "./sse_event.ts";

/** Default of AdminContext.sseMaxClients. */
export const DEFAULT_SSE_MAX_CLIENTS = 32;
/** Default of AdminContext.sseMaxBacklogBytes: about ten snapshots of a server with a thousand sessions. */
export const DEFAULT_SSE_MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Time between keep-alive comments, ms. */
export const SSE_KEEPALIVE_MS = 15_000;
/** The reconnect delay the stream asks of an EventSource, ms (the `retry:` field). */
export const SSE_RETRY_MS = 3_000;

/** The `snapshot` event's data (built once per tick and host name). */
export interface SnapshotData {
  server: ServerView;
  streams: StreamView[];
  clients: SessionSnapshot[];
  sample: HistorySample;
}

/** The data of the stream events (`publish`, `unpublish`, `resume`, `end`). */
export interface StreamEventData {
  key: string;
  /** ISO 8601. */
  at: string;
  /** The publisher that arrived (publish, resume) or left (unpublish). */
  publisherId?: string;
  /** On a takeover's `resume`: the publisher taken over. */
  takenOverFrom?: string;
}

/** The `close` event's data: the session's final snapshot, and why when its edge said. */
export interface ClosedSessionData extends SessionSnapshot {
  reason?: string;
}

/** The SSE event of each hub event. */
const HUB_EVENTS: Readonly<Record<HubEventType, SseEvent>> = {
  [HubEventType.Publish]: SseEvent.Publish,
  [HubEventType.Unpublish]: SseEvent.Unpublish,
  [HubEventType.Resume]: SseEvent.Resume,
  [HubEventType.End]: SseEvent.End,
};

/** The SSE event of each registry event. */
const SESSION_EVENTS: Readonly<Record<SessionEventType, SseEvent>> = {
  [SessionEventType.Open]: SseEvent.Connect,
  [SessionEventType.Close]: SseEvent.Close,
};

const encoder = new TextEncoder();

/** One SSE event's bytes (JSON has no raw newline, so `data` is one line). */
export function encodeEvent(event: SseEvent, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

const PING = encoder.encode(": ping\n\n");
const RETRY = encoder.encode(`retry: ${SSE_RETRY_MS}\n\n`);

/** One connected client: its body's controller and the host its URLs name. */
class SseClient {
  readonly id: number;
  readonly host: string;
  #controller: ReadableStreamDefaultController<Uint8Array>;
  #maxBacklog: number;
  #gone = false;

  constructor(
    id: number,
    host: string,
    controller: ReadableStreamDefaultController<Uint8Array>,
    max: number,
  ) {
    this.id = id;
    this.host = host;
    this.#controller = controller;
    this.#maxBacklog = max;
  }

  /** Queues `bytes`; false (and the body errored) when that would pass the backlog bound. */
  send(bytes: Uint8Array): boolean {
    if (this.#gone) return false;
    const queued = this.backlog;
    if (queued + bytes.length > this.#maxBacklog) {
      this.#gone = true;
      this.#controller.error(
        new Error(`Cannot keep up: ${queued} bytes unsent (limit ${this.#maxBacklog})`),
      );
      return false;
    }
    this.#controller.enqueue(bytes);
    return true;
  }

  /** Bytes queued and not yet read by the server's writer. */
  get backlog(): number {
    // The body's queuing strategy counts bytes with a high-water mark of the bound, so desiredSize is
    // the bound less what is queued.
    const desired = this.#controller.desiredSize ?? 0;
    return Math.max(0, this.#maxBacklog - desired);
  }

  /** The body was cancelled (the peer left). */
  cancelled(): void {
    this.#gone = true;
  }
}

/** The clients of one History, and the listeners they share. */
class SseFeed {
  #ctx: AdminContext;
  #clients = new Set<SseClient>();
  #nextId = 0;
  #unsubscribe: (() => void)[] = [];
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** A client for a new body; the first one subscribes the feed. */
  add(host: string, controller: ReadableStreamDefaultController<Uint8Array>): SseClient {
    const client = new SseClient(++this.#nextId, host, controller, this.#ctx.sseMaxBacklogBytes);
    if (this.#clients.size === 0) this.#subscribe();
    this.#clients.add(client);
    this.#send(client, RETRY);
    const tick = this.#ctx.history.latest();
    if (tick) this.#send(client, encodeEvent(SseEvent.Snapshot, this.#snapshot(tick, host)));
    return client;
  }

  /** Forgets a client; the last one unsubscribes the feed. Idempotent. */
  remove(client: SseClient): void {
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0) this.#unsubscribeAll();
  }

  #subscribe(): void {
    const { hub, history } = this.#ctx;
    this.#unsubscribe = [
      history.onTick((tick) => this.#onTick(tick)),
      hub.on((ev) => this.#onHubEvent(ev)),
      hub.sessions.on((ev) => this.#onSessionEvent(ev)),
      onLog((entry) => this.#onLog(entry)),
    ];
    this.#keepAlive = setInterval(() => this.#broadcast(PING), SSE_KEEPALIVE_MS);
  }

  #unsubscribeAll(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /** The snapshot event's data for clients that reached us as `host`. */
  #snapshot(tick: HistoryTick, host: string): SnapshotData {
    const ports = portsOf(this.#ctx.listeners());
    return {
      server: serverView(this.#ctx, tick.totals, tick),
      streams: tick.streams.map((s) => streamView(s, host, ports)),
      clients: tick.clients(),
      sample: tick.sample,
    };
  }

  #onTick(tick: HistoryTick): void {
    // Built and encoded once per host name (normally one), not once per client.
    const byHost = new Map<string, Uint8Array>();
    for (const client of [...this.#clients]) {
      let bytes = byHost.get(client.host);
      if (!bytes) {
        bytes = encodeEvent(SseEvent.Snapshot, this.#snapshot(tick, client.host));
        byHost.set(client.host, bytes);
      }
      this.#send(client, bytes);
    }
  }

  #onHubEvent(ev: HubEvent): void {
    const data: StreamEventData = {
      key: ev.key,
      at: new Date(ev.at).toISOString(),
      ...(ev.publisherId !== undefined && { publisherId: ev.publisherId }),
      ...(ev.takenOverFrom !== undefined && { takenOverFrom: ev.takenOverFrom }),
    };
    this.#broadcast(encodeEvent(HUB_EVENTS[ev.type], data));
  }

  #onSessionEvent(ev: SessionEvent): void {
    const data = ev.type === SessionEventType.Close && ev.reason !== undefined
      ? { ...ev.session, reason: ev.reason } satisfies ClosedSessionData
      : ev.session;
    this.#broadcast(encodeEvent(SESSION_EVENTS[ev.type], data));
  }

  #onLog(entry: LogEntry): void {
    this.#broadcast(encodeEvent(SseEvent.Log, entry));
  }

  #broadcast(bytes: Uint8Array): void {
    for (const client of [...this.#clients]) this.#send(client, bytes);
  }

  #send(client: SseClient, bytes: Uint8Array): void {
    if (client.send(bytes)) return;
    this.remove(client);
    // Info, not a warning: a warning would be an event for the other clients, and this is the
    // client's slowness, not the server's fault.
    this.#ctx.log.info(
      `event stream client ${client.id} (${client.host}) dropped: more than ${this.#ctx.sseMaxBacklogBytes} bytes unsent`,
    );
  }
}

/**
 * Each History's feed (the feed lives as long as the sampler it follows, and keeps the context of the
 * first request: one server, one context).
 */
const feeds = new WeakMap<object, SseFeed>();

function feedOf(ctx: AdminContext): SseFeed {
  let feed = feeds.get(ctx.history);
  if (!feed) {
    feed = new SseFeed(ctx);
    feeds.set(ctx.history, feed);
  }
  return feed;
}

/** Event stream clients connected now (tests, metrics). */
export function sseClients(ctx: AdminContext): number {
  return feeds.get(ctx.history)?.size ?? 0;
}

/** `GET /api/v1/events`: a `text/event-stream` body that lives until the client goes; 503 past the bound. */
export function serveEvents(ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const feed = feedOf(ctx);
  if (feed.size >= ctx.sseMaxClients) {
    return jsonError(
      503,
      `Cannot open an event stream: ${feed.size} clients already (limit ${ctx.sseMaxClients})`,
      { "retry-after": String(SSE_RETRY_MS / 1000), "cache-control": "no-store" },
    );
  }
  const headers = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-store",
    "x-accel-buffering": "no",
    ...CORS_ALLOW_ORIGIN,
  };
  if (req.method === "HEAD") return new Response(null, { status: 200, headers });
  const host = hostOf(req);
  let client: SseClient | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        client = feed.add(host, controller);
      },
      cancel() {
        if (!client) return;
        client.cancelled();
        feed.remove(client);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: ctx.sseMaxBacklogBytes }),
  );
  return new Response(body, { status: 200, headers });
}
