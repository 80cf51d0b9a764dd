/**
 * The admin JSON API, `/api/v1/...`: pure `(ctx, req, ...params) -> Response`
 * handlers over the hub's plain data (stream and session snapshots, totals)
 * and the History sampler. The route table passes the path's parameters.
 *
 * | method    | path                                   | handler         |
 * | --------- | -------------------------------------- | --------------- |
 * | GET, HEAD | `/api/v1/server`                       | `serveServer`   |
 * | GET, HEAD | `/api/v1/streams`                      | `serveStreams`  |
 * | GET, HEAD | `/api/v1/streams/{app}/{name}`         | `serveStream`   |
 * | POST      | `/api/v1/streams/{app}/{name}/stop`    | `stopStream`    |
 * | GET, HEAD | `/api/v1/clients[?stream=app/name]`    | `serveClients`  |
 * | POST      | `/api/v1/clients/{id}/kick`            | `kickClient`    |
 * | GET, HEAD | `/api/v1/history`                      | `serveHistory`  |
 * | GET, HEAD | `/api/v1/logs`                         | `serveLogs`     |
 * | GET, HEAD | `/api/v1/feeds`                        | `serveFeeds`    |
 * | GET, HEAD | `/api/v1/transcodes`                   | `serveTranscodes` |
 *
 * Every answer is JSON with `cache-control: no-store`; errors are
 * `{ "error": "Cannot ..." }`: 400 for bad input, 404 for an unknown stream or
 * client, 405 (with `allow`) for a method the handler does not take, 409 for
 * a client its edge gave no way to close.
 *
 * @module
 */
import type { SessionSnapshot } from "../hub/registry.ts";
import type { StreamSnapshot } from "../hub/stream.ts";
import type { HubTotals } from "../hub/stream_hub.ts";
import { json, jsonError } from "../http/responses.ts";
import { type LogEntry, recentLogs } from "../log.ts";
import { VERSION } from "../version.ts";
import type { AdminContext, AdminFeed, AdminListener, AdminTranscode } from "./context.ts";
import type { CpuSample, HistoryJson, HistoryTick } from "./history.ts";

/** The methods each kind of handler takes. */
export const ApiMethods = {
  /** Handlers that read. */
  Read: ["GET", "HEAD"],
  /** Handlers that act (kick, stop). */
  Act: ["POST"],
} as const;

/** The reasons the API gives an edge when it closes a connection. */
export const AdminCloseReason = {
  /** `POST /api/v1/clients/{id}/kick`. */
  Kicked: "kicked by admin",
  /** `POST /api/v1/streams/{app}/{name}/stop` (the publisher's reason). */
  Stopped: "stopped by admin",
} as const;

/** Every admin answer: not cached anywhere (the figures change every second). */
const NO_STORE: Readonly<Record<string, string>> = { "cache-control": "no-store" };

/** A session id as the registry assigns them (a decimal counter). */
const SESSION_ID = /^[0-9]{1,16}$/;
/** `app/name` in `?stream=`: two non-empty parts. */
const STREAM_PARAM = /^[^/]+\/.+$/;

/** The ports play and publish URLs use: the first listener of each protocol; undefined when none. */
export interface Ports {
  rtmp?: number;
  http?: number;
}

/** A stream's play URLs (null when that listener is missing). */
export interface PlayUrls {
  rtmp: string | null;
  httpFlv: string | null;
  wsFlv: string | null;
}

/** A stream's publish URLs (null when that listener is missing). */
export interface PublishUrls {
  rtmp: string | null;
  http: string | null;
}

/** A stream as the API shows it: its snapshot plus what a client needs to play or publish it. */
export interface StreamView extends StreamSnapshot {
  /** `viewers.total`, under the name older clients read. */
  players: number;
  playUrls: PlayUrls;
  publishUrls: PublishUrls;
}

/** `GET /api/v1/server`. */
export interface ServerView {
  version: string;
  /** ISO 8601. */
  startedAt: string;
  uptimeMs: number;
  cpu: CpuSample;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  connections: { total: number; byProtocol: Record<string, number> };
  /** bps: bits per second over the last sample's interval; totals in bytes since start. */
  bandwidth: { inBps: number; outBps: number; inTotalBytes: number; outTotalBytes: number };
  streams: { live: number; seen: number };
  listeners: AdminListener[];
}

/** The ports of the first listener of each protocol. */
export function portsOf(listeners: readonly AdminListener[]): Ports {
  const ports: Ports = {};
  for (const l of listeners) {
    if (l.protocol === "rtmp") ports.rtmp ??= l.port;
    else if (l.protocol === "http") ports.http ??= l.port;
  }
  return ports;
}

/** `app/name` as a URL path, each part percent-encoded. */
function pathOf(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** The host name the client reached us by (from the request URL, which carries its Host), no port. */
export function hostOf(req: Request): string {
  return new URL(req.url).hostname;
}

/** A snapshot plus `players` and the play and publish URLs for the request's host name. */
export function streamView(snapshot: StreamSnapshot, req: Request | string, ports: Ports): StreamView {
  const host = typeof req === "string" ? req : hostOf(req);
  const path = pathOf(snapshot.key);
  const rtmp = ports.rtmp === undefined ? null : `rtmp://${host}:${ports.rtmp}/${path}`;
  const http = ports.http === undefined ? null : `${host}:${ports.http}/${path}`;
  return {
    ...snapshot,
    players: snapshot.viewers.total,
    playUrls: {
      rtmp,
      httpFlv: http === null ? null : `http://${http}.flv`,
      wsFlv: http === null ? null : `ws://${http}.flv`,
    },
    publishUrls: { rtmp, http: http === null ? null : `http://${http}` },
  };
}

/**
 * The server's figures: `totals` (default: read now) and the CPU and bandwidth of the sampler's
 * `tick` (default its latest; zeros before the first).
 */
export function serverView(
  ctx: AdminContext,
  totals: HubTotals = ctx.hub.totals(),
  tick: HistoryTick | undefined = ctx.history.latest(),
): ServerView {
  const m = Deno.memoryUsage();
  return {
    version: VERSION,
    startedAt: new Date(ctx.startedAt).toISOString(),
    uptimeMs: Math.max(0, Date.now() - ctx.startedAt),
    cpu: tick ? { ...tick.cpu } : { userMs: 0, systemMs: 0, percent: 0 },
    memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external },
    connections: { total: totals.live, byProtocol: { ...totals.sessionsByProtocol } },
    bandwidth: {
      inBps: tick?.sample.inBps ?? 0,
      outBps: tick?.sample.outBps ?? 0,
      inTotalBytes: totals.bytesIn,
      outTotalBytes: totals.bytesOut,
    },
    streams: { live: totals.streams, seen: totals.streamsSeen },
    listeners: ctx.listeners().map(listenerView),
  };
}

/** A listener as the API shows it: a copy, its UDP range only when it has one (RTSP). */
function listenerView(l: AdminListener): AdminListener {
  const view: AdminListener = { protocol: l.protocol, host: l.host, port: l.port };
  if (l.udpPorts !== undefined) view.udpPorts = { first: l.udpPorts.first, last: l.udpPorts.last };
  return view;
}

/** 405 with `allow` when `req`'s method is not in `allowed`; undefined when it is. */
export function refuseMethod(req: Request, allowed: readonly string[]): Response | undefined {
  if (allowed.includes(req.method)) return undefined;
  return jsonError(
    405,
    `Cannot ${req.method} ${new URL(req.url).pathname}: allowed ${allowed.join(", ")}`,
    { allow: allowed.join(", "), ...NO_STORE },
  );
}

function ok(body: unknown): Response {
  return json(body, 200, NO_STORE);
}

function fail(status: number, message: string): Response {
  return jsonError(status, message, NO_STORE);
}

/** `GET /api/v1/server`: version, uptime, CPU, memory, connections, bandwidth, streams, listeners. */
export function serveServer(ctx: AdminContext, req: Request): Response {
  return refuseMethod(req, ApiMethods.Read) ?? ok(serverView(ctx));
}

/** `GET /api/v1/streams`: `{ streams: StreamView[] }`, live or in grace. */
export function serveStreams(ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const host = hostOf(req);
  const ports = portsOf(ctx.listeners());
  return ok({ streams: ctx.hub.streams().map((s) => streamView(s.snapshot(), host, ports)) });
}

/** `GET /api/v1/streams/{app}/{name}`: one StreamView, or 404. */
export function serveStream(ctx: AdminContext, req: Request, app: string, name: string): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const key = keyOf(app, name);
  if (key === undefined) {
    return fail(400, `Cannot show stream ${app}/${name}: app and name must not be empty`);
  }
  const stream = ctx.hub.get(key);
  if (!stream) return fail(404, `Cannot show stream ${key}: no such stream`);
  return ok(streamView(stream.snapshot(), req, portsOf(ctx.listeners())));
}

/** `GET /api/v1/clients[?stream=app/name]`: `{ clients: SessionSnapshot[] }`, in the order they opened. */
export function serveClients(ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const stream = new URL(req.url).searchParams.get("stream");
  if (stream !== null && !STREAM_PARAM.test(stream)) {
    return fail(400, `Cannot list clients: stream "${cut(stream)}" is not app/name`);
  }
  const clients: SessionSnapshot[] = ctx.hub.sessions.list(stream === null ? {} : { key: stream });
  return ok({ clients });
}

/** `POST /api/v1/clients/{id}/kick`: closes that connection; `{ kicked: id }`, 404 unknown, 409 unclosable. */
export function kickClient(ctx: AdminContext, req: Request, id: string): Response {
  const refused = refuseMethod(req, ApiMethods.Act);
  if (refused) return refused;
  if (!SESSION_ID.test(id)) return fail(400, `Cannot kick client "${cut(id)}": the id is not a session id`);
  const entry = ctx.hub.sessions.get(id);
  if (!entry) return fail(404, `Cannot kick client ${id}: no such client`);
  if (!entry.kick(AdminCloseReason.Kicked)) {
    return fail(409, `Cannot kick client ${id}: its connection gives no way to close it`);
  }
  return ok({ kicked: id });
}

/**
 * `POST /api/v1/streams/{app}/{name}/stop`: disconnects the stream's publisher (its players get the usual
 * unpublish); `{ stopped: key }`, 404 when there is no such stream or it has no publisher.
 */
export function stopStream(ctx: AdminContext, req: Request, app: string, name: string): Response {
  const refused = refuseMethod(req, ApiMethods.Act);
  if (refused) return refused;
  const key = keyOf(app, name);
  if (key === undefined) {
    return fail(400, `Cannot stop stream ${app}/${name}: app and name must not be empty`);
  }
  const stream = ctx.hub.get(key);
  if (!stream) return fail(404, `Cannot stop stream ${key}: no such stream`);
  const publisher = stream.publisher;
  if (!publisher) {
    return fail(404, `Cannot stop stream ${key}: it has no publisher (waiting for one to return)`);
  }
  publisher.close(AdminCloseReason.Stopped);
  return ok({ stopped: key });
}

/** `GET /api/v1/history`: the sampler's rings, oldest first. */
export function serveHistory(ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const history: HistoryJson = ctx.history.toJSON();
  return ok(history);
}

/** `GET /api/v1/logs`: `{ logs: LogEntry[] }`, the newest warnings and errors, oldest first. */
export function serveLogs(_ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const logs: LogEntry[] = recentLogs();
  return ok({ logs });
}

/** `GET /api/v1/feeds`: `{ feeds: AdminFeed[] }`, in the config's order (empty when none is configured). */
export function serveFeeds(ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const feeds: readonly AdminFeed[] = ctx.feeds?.() ?? [];
  return ok({ feeds });
}

/**
 * `GET /api/v1/transcodes`: `{ transcodes: AdminTranscode[] }`, in the config's order (empty when none is
 * configured).
 */
export function serveTranscodes(ctx: AdminContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const transcodes: readonly AdminTranscode[] = ctx.transcodes?.() ?? [];
  return ok({ transcodes });
}

/** `app/name`, or undefined when either is empty. */
function keyOf(app: string, name: string): string | undefined {
  return app === "" || name === "" ? undefined : `${app}/${name}`;
}

/** A value from the request, cut for an error message. */
function cut(s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
