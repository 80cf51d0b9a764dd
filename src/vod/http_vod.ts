/**
 * FLV VOD over HTTP: `GET`/`HEAD /{vod app}/{path}.flv` serves a file from the
 * VOD folder (`--vod-root DIR`), with byte ranges, to players on any origin.
 *
 * - **Which files**: only `.flv`, resolved by `vod_path.ts`, which keeps every
 *   request inside the root (no `..`, encoded dots or slashes, backslashes,
 *   NULs, absolute paths, symlinks out). Every refusal and every missing file
 *   is the same 404 JSON, so nobody learns what exists; the reason goes to the
 *   debug log. Another extension is a 404 too: the folder may hold files that
 *   were never meant to be served, and FLV is what players ask for here.
 * - **VOD off** (no root): 404 JSON saying so. **No read permission**: 503
 *   JSON naming the exact `--allow-read=` flag, logged once.
 * - **Headers**: `content-type: video/x-flv`, `content-length`,
 *   `accept-ranges: bytes`, `last-modified`, a strong `etag` from size and
 *   time (as nginx), CORS open with those headers exposed. `If-None-Match`
 *   answers 304; `If-Range` that does not match drops the range.
 * - **Range** (RFC 9110 14): one range, `bytes=a-b`, `bytes=a-` or
 *   `bytes=-n`, answers 206 with `content-range` and exactly those bytes; a
 *   range starting past the end (or `-0`) answers 416 with `content-range:
 *   bytes *\/size`. A malformed Range header is ignored (200, the whole
 *   file), as the RFC allows. Several ranges answer 200 with the whole file:
 *   a multipart/byteranges body is rarely asked for by players and the RFC
 *   lets a server ignore Range. `HEAD` ignores Range (only GET defines it)
 *   and sends the headers of the whole file.
 * - **Body**: the file is streamed from `Deno.open`, 64 KiB per pull, never
 *   read whole; the stream pulls only as the client takes bytes. A client
 *   that leaves cancels it and the file closes. A file that shrinks while
 *   it is sent errors the body (the connection is cut short, since the
 *   length was promised).
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import { admitHttp, refusalResponse } from "../http/admit.ts";
import { CORS_ALLOW_ORIGIN, json, jsonError } from "../http/responses.ts";
import { AdmissionAction, DecisionKind, refusalText } from "../hub/admission.ts";
import { addressOf, sessionRequestOf } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import { ProtocolError } from "../errors.ts";
import { parseUrlPath, resolveVodFile, type VodFile, vodReadDenied } from "./vod_path.ts";

/** Bytes read from the file per pull of the response body. */
const READ_CHUNK = 64 * 1024;

/** Headers every VOD answer carries: readable from other origins, the range headers included. */
const CORS: Readonly<Record<string, string>> = {
  ...CORS_ALLOW_ORIGIN,
  "access-control-expose-headers": "content-length, content-range, accept-ranges, etag, last-modified",
};

/** What a Range header asks of a file of a given size. */
export type RangeRequest =
  /** No Range, or one to ignore (malformed, another unit, several ranges): the whole file. */
  | { kind: "whole" }
  /** One satisfiable range, `start..end` inclusive. */
  | { kind: "range"; start: number; end: number }
  /** No byte of the file is in the range: 416. */
  | { kind: "unsatisfiable" };

const RANGE_SPEC = /^(\d+)-(\d*)$/;
const SUFFIX_SPEC = /^-(\d+)$/;

/** Reads a Range header (RFC 9110 14.1.2) for a file of `size` bytes (see the module doc). */
export function parseRange(header: string | null, size: number): RangeRequest {
  if (header === null) return { kind: "whole" };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: "whole" };
  const specs = m[1].split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length !== 1) return { kind: "whole" };
  const spec = specs[0];
  const suffix = SUFFIX_SPEC.exec(spec);
  if (suffix) {
    const n = Number(suffix[1]);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - n), end: size - 1 };
  }
  const range = RANGE_SPEC.exec(spec);
  if (!range) return { kind: "whole" };
  const start = Number(range[1]);
  const last = range[2] === "" ? Infinity : Number(range[2]);
  if (last < start) return { kind: "whole" }; // an invalid range-spec: the header is ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end: Math.min(last, size - 1) };
}

/** The strong validator of a file version: size and modification time in hex, as nginx writes it. */
export function etagOf(file: VodFile): string {
  const mtime = file.mtime ? Math.floor(file.mtime.getTime() / 1000) : 0;
  return `"${mtime.toString(16)}-${file.size.toString(16)}"`;
}

/**
 * Serves the file at `relPath` (below the VOD prefix, still percent-encoded) with Range support, once the
 * admission gate allows the play (asked before anything about the file is looked up, so a refusal tells
 * nothing of what exists). A body being sent is a session in the hub's registry.
 */
export async function serveVod(
  req: Request,
  relPath: string,
  ctx: HttpContext,
  remote?: Deno.Addr,
): Promise<Response> {
  const what = `${req.method} /${ctx.config.vod.app}/${relPath}`;
  const root = ctx.config.vod.root;
  if (root === null) {
    return jsonError(404, `Cannot ${what}: VOD is off (start the server with --vod-root DIR)`);
  }
  const log = ctx.log.child("vod");
  const key = `${ctx.config.vod.app}/${relPath}`;
  const refused = await admitVod(req, what, key, ctx, remote);
  if (refused) return refused;
  const denied = await vodReadDenied(root, (message) => log.error(`cannot serve VOD: ${message}`));
  if (denied) return json({ error: `Cannot ${what}: ${denied}` }, 503);
  const segments = parseUrlPath(relPath);
  const resolved = segments.ok ? await resolveVodFile(root, segments.value) : segments;
  if (!resolved.ok) {
    log.debug(`refused ${what}: ${resolved.reason}`);
    return jsonError(404, `Cannot ${what}: no such file`);
  }
  return sendVodFile(req, resolved.value, key, ctx, remote);
}

/**
 * Serves the file a configured stream names (`streams[].file`, ffserver's `<Stream test.flv> File ...`) at
 * `urlPath`, as a VOD file: the same admission (key: the path without its "/"), Range, validators and
 * registry session; read access to the file itself is needed.
 */
export async function serveConfiguredFile(
  req: Request,
  filePath: string,
  urlPath: string,
  ctx: HttpContext,
  remote?: Deno.Addr,
): Promise<Response> {
  const what = `${req.method} ${urlPath}`;
  const key = urlPath.slice(1);
  const log = ctx.log.child("vod");
  const refused = await admitVod(req, what, key, ctx, remote);
  if (refused) return refused;
  const status = await Deno.permissions.query({ name: "read", path: filePath });
  if (status.state !== "granted") {
    const message =
      `read access to ${filePath} is not granted; start the server with --allow-read=${filePath}`;
    log.error(`cannot serve ${urlPath}: ${message}`);
    return json({ error: `Cannot ${what}: ${message}` }, 503);
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(filePath);
  } catch (e) {
    log.debug(`refused ${what}: ${e instanceof Error ? e.name : e}`);
    return jsonError(404, `Cannot ${what}: no such file`);
  }
  if (!info.isFile) return jsonError(404, `Cannot ${what}: no such file`);
  return sendVodFile(req, { path: filePath, size: info.size, mtime: info.mtime }, key, ctx, remote);
}

/** Asks the admission gate for a VOD play of `key`: undefined when allowed, else the refusal to answer. */
async function admitVod(
  req: Request,
  what: string,
  key: string,
  ctx: HttpContext,
  remote: Deno.Addr | undefined,
): Promise<Response | undefined> {
  let decision;
  try {
    decision = await admitHttp(ctx.hub, req, {
      action: AdmissionAction.Play,
      protocol: Protocol.HttpVod,
      key,
      remote,
    });
  } catch (e) {
    if (e instanceof ProtocolError) return jsonError(400, `Cannot ${what}: ${e.message}`);
    throw e;
  }
  if (decision.kind === DecisionKind.Allow) return undefined;
  ctx.log.child("vod").info(`refused ${what}: ${refusalText(decision)}`);
  return refusalResponse(decision, `Cannot ${what}`);
}

/** The response for a resolved file: 304, 416, 200 or 206 with its body; the body is a registry session. */
async function sendVodFile(
  req: Request,
  file: VodFile,
  key: string,
  ctx: HttpContext,
  remote: Deno.Addr | undefined,
): Promise<Response> {
  const log = ctx.log.child("vod");
  const what = `${req.method} /${key}`;
  const etag = etagOf(file);
  const lastModified = file.mtime?.toUTCString();
  const validators: Record<string, string> = {
    etag,
    ...(lastModified ? { "last-modified": lastModified } : {}),
  };
  if (matchesEtag(req.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers: { ...CORS, ...validators } });
  }
  const headers: Record<string, string> = {
    ...CORS,
    ...validators,
    "content-type": "video/x-flv",
    "accept-ranges": "bytes",
  };
  const ifRange = req.headers.get("if-range");
  const rangeHeader =
    req.method === "GET" && (ifRange === null || ifRange === etag || ifRange === lastModified)
      ? req.headers.get("range")
      : null;
  const range = parseRange(rangeHeader, file.size);
  if (range.kind === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: { ...CORS, ...validators, "content-range": `bytes */${file.size}` },
    });
  }
  const start = range.kind === "range" ? range.start : 0;
  const length = range.kind === "range" ? range.end - range.start + 1 : file.size;
  headers["content-length"] = String(length);
  if (range.kind === "range") headers["content-range"] = `bytes ${range.start}-${range.end}/${file.size}`;
  const status = range.kind === "range" ? 206 : 200;
  if (req.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(file.path, { read: true });
  } catch (e) {
    log.debug(`refused ${what}: the file cannot be opened (${e instanceof Error ? e.name : e})`);
    return jsonError(404, `Cannot ${what}: no such file`);
  }
  let sent = 0;
  const session = ctx.hub.sessions.open({
    protocol: Protocol.HttpVod,
    role: Role.Vod,
    remote: addressOf(remote),
    key,
    counters: () => ({ bytesOut: sent }),
    request: sessionRequestOf(req),
    status,
    close: () => {
      // A kick cannot cut a response Deno.serve is sending; the body ends at its length.
    },
  });
  const body = fileBody(handle, start, length, file.path, {
    sent: (n) => sent += n,
    end: (reason) => session.end(reason),
  });
  return new Response(body, { status, headers });
}

/** True when an If-None-Match list holds `etag` (weak comparison, RFC 9110 13.1.2) or is `*`. */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === etag;
  });
}

/** `length` bytes of `file` from `start`, read a chunk per pull; the file closes at the end or on cancel. */
function fileBody(
  file: Deno.FsFile,
  start: number,
  length: number,
  path: string,
  progress: { sent(n: number): void; end(reason: string): void },
): ReadableStream<Uint8Array> {
  let left = length;
  let closed = false;
  const close = (reason: string) => {
    if (closed) return;
    closed = true;
    progress.end(reason);
    try {
      file.close();
    } catch {
      // already closed
    }
  };
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        if (start > 0) await file.seek(start, Deno.SeekMode.Start);
      } catch (e) {
        close(`read failed: ${e instanceof Error ? e.message : String(e)}`);
        controller.error(e);
      }
    },
    async pull(controller) {
      try {
        const buf = new Uint8Array(Math.min(READ_CHUNK, left));
        const n = await file.read(buf);
        if (n === null || n === 0) {
          throw new Error(`Cannot read ${path}: current file ends ${left} bytes before the promised length`);
        }
        left -= n;
        progress.sent(n);
        controller.enqueue(n === buf.length ? buf : buf.subarray(0, n));
        if (left === 0) {
          close("sent");
          controller.close();
        }
      } catch (e) {
        close(`read failed: ${e instanceof Error ? e.message : String(e)}`);
        controller.error(e);
      }
    },
    cancel() {
      close("player left");
    },
  }, { highWaterMark: 0 });
}
