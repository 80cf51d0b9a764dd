/**
 * The HLS routes of the HTTP port: playlists, segments, parts and init
 * sections of every live stream, from memory (HlsService).
 *
 * | path                                      | what                                              |
 * | ----------------------------------------- | ------------------------------------------------- |
 * | `/{app}/{stream}.m3u8`                    | multivariant playlist: the stream, then its       |
 * |                                           | renditions (transcodes made from it)              |
 * | `/{app}/{stream}/index.m3u8`              | media playlist (LL-HLS: `_HLS_msn`, `_HLS_part`,  |
 * |                                           | `_HLS_skip`)                                      |
 * | `/{app}/{stream}/{epoch}-{msn}.m4s\|.ts`   | a segment                                         |
 * | `/{app}/{stream}/{epoch}-{msn}.{i}.m4s\|.ts` | a part (held open until ready when it is the   |
 * |                                           | hinted next part)                                 |
 * | `/{app}/{stream}/{epoch}-init{v}.mp4`     | the fMP4 init section                             |
 *
 * Every request passes the admission gate once per viewer: the playlists put
 * the request's own query (a signed URL, a token) and the viewer's `sid` on
 * every URI they list. Segments, parts and init sections never change under a
 * URI (the epoch names the stream's run): they are cached for a year; a
 * blocking playlist response is cached per query string for 6 target
 * durations, a plain one not at all (`max-age=0`).
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import { admitHttp, refusalResponse } from "../http/admit.ts";
import { CORS_ALLOW_ORIGIN, jsonError } from "../http/responses.ts";
import type { Route } from "../http/router.ts";
import { sharedBytesResponse } from "../http/http1_server.ts";
import { DecisionKind, refusalText } from "../hub/admission.ts";
import { AdmissionAction } from "../hub/admission.ts";
import { addressOf } from "../hub/registry.ts";
import { Protocol } from "../hub/session_kind.ts";
import { ProtocolError } from "../errors.ts";
import { parseRange } from "../vod/http_vod.ts";
import type { HlsService, HlsViewer } from "./hls_service.ts";
import type { HlsStream } from "./hls_stream.ts";
import {
  mediaPlaylist,
  multivariantPlaylist,
  type PlaylistUris,
  renditionReport,
  type Variant,
} from "./playlist.ts";
import type { SegmenterSnapshot } from "./segmenter.ts";

/** The characters of an app or stream name in a URL path (RFC 3986 unreserved). */
const NAME = "[A-Za-z0-9_.\\-~]+";
const EPOCH = "[0-9a-z]+";

const MULTIVARIANT = new RegExp(`^/(${NAME})/(${NAME})\\.m3u8$`);
const MEDIA = new RegExp(`^/(${NAME})/(${NAME})/index\\.m3u8$`);
const SEGMENT = new RegExp(`^/(${NAME})/(${NAME})/(${EPOCH})-(\\d{1,15})\\.(m4s|ts)$`);
const PART = new RegExp(`^/(${NAME})/(${NAME})/(${EPOCH})-(\\d{1,15})\\.(\\d{1,6})\\.(m4s|ts)$`);
const INIT = new RegExp(`^/(${NAME})/(${NAME})/(${EPOCH})-init(\\d{1,9})\\.mp4$`);

/** Content types (RFC 8216 4: playlists; ISO BMFF and MPEG-TS segments). */
export const HlsContentType = {
  Playlist: "application/vnd.apple.mpegurl",
  Mp4: "video/mp4",
  Ts: "video/mp2t",
} as const;

/** Query parameters of LL-HLS delivery directives (rfc8216bis 6.2.5), and Sluice's viewer id. */
const Param = {
  Msn: "_HLS_msn",
  Part: "_HLS_part",
  Skip: "_HLS_skip",
  Session: "sid",
} as const;

/** rfc8216bis 6.2.5.2: a blocking request past this many Target Durations SHOULD get 503. */
const BLOCK_TARGET_DURATIONS = 3;
/** How long a blocking playlist response may be cached, in Target Durations (its query names it). */
const BLOCKING_CACHE_TARGET_DURATIONS = 6;
/** A resource that never changes under its URI. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Headers every HLS answer carries. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  ...CORS_ALLOW_ORIGIN,
  "access-control-expose-headers": "content-length, content-range, accept-ranges",
};

/** Headers of an HLS error answer: never cached (a cache in front must not keep a 404, 400 or 503). */
const ERROR_HEADERS: Readonly<Record<string, string>> = { ...BASE_HEADERS, "cache-control": "no-store" };

/** The HLS routes; none when `hls.enabled` is off or the context has no HLS service. */
export function hlsRoutes(ctx: HttpContext): Route[] {
  const hls = ctx.hls;
  if (!hls || !ctx.config.hls.enabled) return [];
  const key = (g: readonly (string | undefined)[]) => `${g[0]}/${g[1]}`;
  const methods = ["GET", "HEAD"];
  /** A segment, part or init route: the groups after app and stream (epoch first) name the resource. */
  const resourceRoute = (
    path: RegExp,
    what: (g: readonly (string | undefined)[]) => Omit<Resource, "epoch">,
  ): Route => ({
    methods,
    path,
    handle: (req, m) =>
      serveResource(req, key(m.groups), ctx, hls, m.remote, { epoch: m.groups[2]!, ...what(m.groups) }),
  });
  return [
    {
      methods,
      path: MULTIVARIANT,
      handle: (req, m) => serveMultivariant(req, key(m.groups), ctx, hls, m.remote),
    },
    { methods, path: MEDIA, handle: (req, m) => serveMediaPlaylist(req, key(m.groups), ctx, hls, m.remote) },
    resourceRoute(SEGMENT, (g) => ({ kind: "segment", msn: Number(g[3]), index: -1, ext: g[4]! })),
    resourceRoute(PART, (g) => ({ kind: "part", msn: Number(g[3]), index: Number(g[4]), ext: g[5]! })),
    resourceRoute(INIT, (g) => ({ kind: "init", msn: Number(g[3]), index: -1, ext: "mp4" })),
  ];
}

// ---- admission and viewers

/** The viewer of the request: known by its `sid`, or admitted now. A Response is a refusal. */
async function viewerOf(
  req: Request,
  key: string,
  ctx: HttpContext,
  hls: HlsService,
  remote: Deno.Addr | undefined,
): Promise<HlsViewer | Response> {
  const sid = new URL(req.url).searchParams.get(Param.Session);
  const known = hls.viewer(sid, key);
  if (known) return known;
  let decision;
  try {
    decision = await admitHttp(ctx.hub, req, {
      action: AdmissionAction.Play,
      protocol: Protocol.Hls,
      key,
      remote,
    });
  } catch (e) {
    if (e instanceof ProtocolError) return jsonError(400, `Cannot play ${key}: ${e.message}`, ERROR_HEADERS);
    throw e;
  }
  if (decision.kind !== DecisionKind.Allow) {
    ctx.log.child("hls").info(
      `refused play of ${key} from ${addressOf(remote) ?? "?"}: ${refusalText(decision)}`,
    );
    const refused = refusalResponse(decision, `Cannot play ${key}`);
    refused.headers.set("cache-control", "no-store");
    return refused;
  }
  return hls.addViewer(key, sid, { remote: addressOf(remote), request: req });
}

/** The query every listed URI carries: the request's own (a token), without directives, plus the sid. */
function uriQuery(req: Request, viewer: HlsViewer): string {
  const params = new URL(req.url).searchParams;
  const out = new URLSearchParams();
  for (const [k, v] of params) {
    if (k === Param.Msn || k === Param.Part || k === Param.Skip || k === Param.Session) continue;
    out.append(k, v);
  }
  out.append(Param.Session, viewer.sid);
  return `?${out.toString()}`;
}

function notLive(key: string): Response {
  return jsonError(404, `Cannot play ${key}: current state has no publisher`, ERROR_HEADERS);
}

// ---- playlists

async function serveMultivariant(
  req: Request,
  key: string,
  ctx: HttpContext,
  hls: HlsService,
  remote: Deno.Addr | undefined,
): Promise<Response> {
  const viewer = await viewerOf(req, key, ctx, hls, remote);
  if (viewer instanceof Response) return viewer;
  const st = hls.stream(key);
  if (!st) return notLive(key);
  const ready = await waitFor(st, hls, req.signal, () => st.segmenter.container.codecs().length > 0, 2);
  if (ready instanceof Response) return ready;
  const query = uriQuery(req, viewer);
  const name = key.slice(key.indexOf("/") + 1);
  const variants: Variant[] = [variantOf(ctx, st, `${name}/index.m3u8${query}`)];
  for (const t of ctx.config.transcodes) {
    if (t.from !== key) continue;
    const r = hls.stream(t.key);
    if (r && r.segmenter.container.codecs().length > 0) {
      variants.push(variantOf(ctx, r, `/${t.key}/index.m3u8${query}`));
    }
  }
  return playlistResponse(req, viewer, multivariantPlaylist(variants), "public, max-age=0");
}

/** A variant from the stream's snapshot: peak bandwidth estimated as 1.2x the measured rate. */
function variantOf(ctx: HttpContext, st: HlsStream, uri: string): Variant {
  const snap = ctx.hub.get(st.key)?.snapshot();
  const measured = snap ? snap.bitrate.video + snap.bitrate.audio : 0;
  const bandwidth = Math.max(64_000, Math.round(measured * 1.2));
  const v = snap?.video;
  return {
    uri,
    bandwidth,
    ...(measured > 0 && { averageBandwidth: Math.round(measured) }),
    ...(v?.width && v.height && { resolution: { width: v.width, height: v.height } }),
    ...(v?.frameRate && { frameRate: v.frameRate }),
    codecs: st.segmenter.container.codecs(),
  };
}

async function serveMediaPlaylist(
  req: Request,
  key: string,
  ctx: HttpContext,
  hls: HlsService,
  remote: Deno.Addr | undefined,
): Promise<Response> {
  const viewer = await viewerOf(req, key, ctx, hls, remote);
  if (viewer instanceof Response) return viewer;
  const st = hls.stream(key);
  if (!st) return notLive(key);
  hls.stats.playlists++;
  const lowLatency = hls.config.lowLatency;
  const params = new URL(req.url).searchParams;
  const msnText = params.get(Param.Msn);
  const partText = params.get(Param.Part);
  const blocking = lowLatency && msnText !== null;
  if (lowLatency && (msnText !== null || partText !== null)) {
    const bad = directiveProblem(msnText, partText, st.segmenter.snapshot());
    if (bad) return jsonError(400, `Cannot reload the playlist of ${key}: ${bad}`, ERROR_HEADERS);
  }
  const msn = msnText === null ? -1 : Number(msnText);
  const part = partText === null ? -1 : Number(partText);
  // A playlist lists one complete segment at least: clients that do not know parts (ffmpeg, players of
  // RFC 8216) find nothing to play in a playlist of parts alone. A stream muxed from this request on has
  // the GOP cache's frames at once and completes its first segment at the next keyframe.
  const ready = await waitFor(st, hls, req.signal, () => {
    const snap = st.segmenter.snapshot();
    if (snap.ended) return true;
    if (snap.segments.length === 0) return false;
    return msn < 0 || contains(snap, msn, part);
  }, BLOCK_TARGET_DURATIONS);
  if (ready instanceof Response) return ready;
  const snap = st.segmenter.snapshot();
  const query = uriQuery(req, viewer);
  const skip = lowLatency && params.get(Param.Skip) === "YES";
  const text = playlistText(ctx, hls, st, snap, lowLatency, skip).split(QUERY_MARK).join(query);
  const cache = blocking
    ? `public, max-age=${snap.targetDurationS * BLOCKING_CACHE_TARGET_DURATIONS}`
    : "public, max-age=0";
  return playlistResponse(req, viewer, text, cache);
}

/** Stands for each viewer's query in a playlist rendered once for all of them (URL-encoded queries never hold it). */
const QUERY_MARK = "\u0007";

/** The playlists rendered for a snapshot, by form (plain, skip): one rendering per change, not per request. */
const rendered = new WeakMap<SegmenterSnapshot, Map<string, string>>();

/**
 * The media playlist of `snap` with QUERY_MARK where each URI's query goes: rendered once per snapshot
 * and form, then every viewer's copy is one split and join (hls.js in low-latency mode reloads once a part).
 */
function playlistText(
  ctx: HttpContext,
  hls: HlsService,
  st: HlsStream,
  snap: SegmenterSnapshot,
  lowLatency: boolean,
  skip: boolean,
): string {
  let forms = rendered.get(snap);
  if (!forms) rendered.set(snap, forms = new Map());
  const form = skip ? "skip" : "full";
  let text = forms.get(form);
  if (text === undefined) {
    const ext = st.kind === "ts" ? "ts" : "m4s";
    const uris: PlaylistUris = {
      segment: (n) => `${st.epoch}-${n}.${ext}${QUERY_MARK}`,
      part: (n, i) => `${st.epoch}-${n}.${i}.${ext}${QUERY_MARK}`,
      init: (v) => `${st.epoch}-init${v}.mp4${QUERY_MARK}`,
    };
    const reports = lowLatency ? renditionReports(ctx, hls, st.key, QUERY_MARK) : [];
    text = mediaPlaylist(snap, { uris, lowLatency, skip, renditionReports: reports });
    forms.set(form, text);
  }
  return text;
}

/** EXT-X-RENDITION-REPORT for the other renditions of the same source (rfc8216bis 4.4.5.4). */
function renditionReports(ctx: HttpContext, hls: HlsService, key: string, query: string) {
  const source = ctx.config.transcodes.find((t) => t.key === key)?.from ?? key;
  const keys = [source, ...ctx.config.transcodes.filter((t) => t.from === source).map((t) => t.key)];
  const out = [];
  for (const k of keys) {
    if (k === key) continue;
    const st = hls.streams().find((s) => s.key === k && !s.closed);
    if (!st) continue;
    const r = renditionReport(st.segmenter.snapshot(), `/${k}/index.m3u8${query}`);
    if (r) out.push(r);
  }
  return out;
}

/** rfc8216bis 6.2.5.2: a problem with `_HLS_msn` / `_HLS_part` that gets 400, or undefined. */
function directiveProblem(msnText: string | null, partText: string | null, snap: SegmenterSnapshot) {
  if (msnText === null) return `${Param.Part} needs ${Param.Msn}`;
  if (!/^\d{1,15}$/.test(msnText)) return `${Param.Msn} is ${JSON.stringify(msnText.slice(0, 20))}`;
  if (partText !== null && !/^\d{1,6}$/.test(partText)) {
    return `${Param.Part} is ${JSON.stringify(partText.slice(0, 20))}`;
  }
  const last = snap.open?.msn ?? (snap.segments.at(-1)?.msn ?? snap.mediaSequence - 1);
  if (Number(msnText) > last + 2) {
    return `${Param.Msn} ${msnText} is more than 2 past the last segment (${last})`;
  }
  return undefined;
}

/** Whether the playlist contains segment `msn` (part `part`, when >= 0) or a later one. */
function contains(snap: SegmenterSnapshot, msn: number, part: number): boolean {
  const open = snap.open;
  const last = snap.segments.at(-1);
  if (part < 0) return (last !== undefined && last.msn >= msn) || (open !== undefined && open.msn > msn);
  if (last !== undefined && last.msn > msn) return true;
  if (last !== undefined && last.msn === msn && last.parts.length > part) return true;
  if (open === undefined) return false;
  if (open.msn > msn) return true;
  return open.msn === msn && open.parts.length > part;
}

function playlistResponse(req: Request, viewer: HlsViewer, text: string, cache: string): Response {
  const body = new TextEncoder().encode(text);
  viewer.bytesOut += body.length;
  viewer.lastSeen = Date.now(); // a request held open counts as activity until it is answered
  return sharedBytesResponse(req, req.method === "HEAD" ? null : body, {
    headers: {
      ...BASE_HEADERS,
      "content-type": HlsContentType.Playlist,
      "content-length": String(body.length),
      "cache-control": cache,
    },
  });
}

// ---- segments, parts, init

interface Resource {
  epoch: string;
  kind: "segment" | "part" | "init";
  msn: number;
  index: number;
  ext: string;
}

async function serveResource(
  req: Request,
  key: string,
  ctx: HttpContext,
  hls: HlsService,
  remote: Deno.Addr | undefined,
  r: Resource,
): Promise<Response> {
  const viewer = await viewerOf(req, key, ctx, hls, remote);
  if (viewer instanceof Response) return viewer;
  const st = hls.streams().find((s) => s.key === key && s.epoch === r.epoch);
  const what = `${key} ${r.kind} ${r.msn}${r.index >= 0 ? `.${r.index}` : ""}`;
  if (!st || (r.kind !== "init" && r.ext !== (st.kind === "ts" ? "ts" : "m4s"))) {
    return jsonError(
      404,
      `Cannot get ${what}: no such resource (the stream may have restarted)`,
      ERROR_HEADERS,
    );
  }
  st.lastRequestAt = Date.now();
  const seg = st.segmenter;
  const find = () =>
    r.kind === "segment"
      ? seg.segment(r.msn)
      : r.kind === "part"
      ? seg.part(r.msn, r.index)
      : seg.init(r.msn)?.bytes;
  let bytes = find();
  if (!bytes && r.kind !== "init" && isComing(seg.snapshot(), r)) {
    // A preload hint (or a segment being built): held until it is there, bounded.
    const ready = await waitFor(
      st,
      hls,
      req.signal,
      () => find() !== undefined || seg.ended,
      BLOCK_TARGET_DURATIONS,
    );
    if (ready instanceof Response) return ready;
    bytes = find();
  }
  if (!bytes) return jsonError(404, `Cannot get ${what}: not there (too old, or never made)`, ERROR_HEADERS);
  if (r.kind === "segment") hls.stats.segments++;
  else if (r.kind === "part") hls.stats.parts++;
  else hls.stats.inits++;
  hls.countResource(new URL(req.url).pathname.slice(1));
  const type = r.kind === "init" || st.kind === "fmp4" ? HlsContentType.Mp4 : HlsContentType.Ts;
  return bytesResponse(req, viewer, bytes, type);
}

/** Whether a missing segment or part is still to come soon: the open segment, or the hinted next part. */
function isComing(snap: SegmenterSnapshot, r: Resource): boolean {
  if (snap.ended) return false;
  const next = snap.nextPart;
  if (!next) return false;
  if (r.kind === "segment") return r.msn === next.msn || r.msn === snap.open?.msn;
  // The hinted part, or the first part of the next segment (the hint after a segment boundary).
  if (r.msn === next.msn) return r.index >= next.index && r.index <= next.index + 1;
  return r.msn === next.msn + 1 && r.index === 0;
}

function bytesResponse(req: Request, viewer: HlsViewer, bytes: Uint8Array, type: string): Response {
  const headers: Record<string, string> = {
    ...BASE_HEADERS,
    "content-type": type,
    "cache-control": IMMUTABLE,
    "accept-ranges": "bytes",
  };
  const range = parseRange(req.headers.get("range"), bytes.length);
  if (range.kind === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: { ...headers, "content-range": `bytes */${bytes.length}` },
    });
  }
  let body = bytes;
  let status = 200;
  if (range.kind === "range") {
    body = bytes.subarray(range.start, range.end + 1);
    status = 206;
    headers["content-range"] = `bytes ${range.start}-${range.end}/${bytes.length}`;
  }
  headers["content-length"] = String(body.length);
  if (req.method !== "HEAD") viewer.bytesOut += body.length;
  viewer.lastSeen = Date.now();
  return sharedBytesResponse(req, req.method === "HEAD" ? null : body, { status, headers });
}

// ---- waiting

/**
 * Resolves when `ready()` holds, re-checked at each segmenter change, or with a 503 after `targets`
 * Target Durations, or a 503 at once when every waiting slot is taken. An aborted request stops waiting.
 */
async function waitFor(
  st: HlsStream,
  hls: HlsService,
  signal: AbortSignal,
  ready: () => boolean,
  targets: number,
): Promise<true | Response> {
  if (ready()) return true;
  const busy = () =>
    new Response(JSON.stringify({ error: `Cannot wait for ${st.key}: too many requests waiting` }) + "\n", {
      status: 503,
      headers: { ...ERROR_HEADERS, "content-type": "application/json", "retry-after": "1" },
    });
  if (!hls.takeWaitSlot()) return busy();
  const limitMs = st.segmenter.snapshot().targetDurationS * 1000 * targets;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), limitMs));
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal.aborted) resolve("aborted");
    signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  try {
    for (;;) {
      const r = await Promise.race([st.segmenter.nextChange(), timedOut, aborted]);
      if (ready()) return true;
      if (r === "timeout" || st.segmenter.ended) break;
      if (r === "aborted") return new Response(null, { status: 499 });
    }
  } finally {
    clearTimeout(timer);
    hls.releaseWaitSlot();
  }
  return new Response(
    JSON.stringify({ error: `Cannot get ${st.key}: not ready within ${limitMs} ms` }) + "\n",
    { status: 503, headers: { ...ERROR_HEADERS, "content-type": "application/json", "retry-after": "1" } },
  );
}
