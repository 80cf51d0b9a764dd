/**
 * HTTP-FLV play: `GET /{app}/{stream}.flv` answers with a never-ending FLV
 * body: the FLV header and PreviousTagSize0, then metadata, sequence headers,
 * the cached GOP and the live tags, each tag packed once for all FLV players
 * (see FlvPlayer and FlvPacker). The same URL upgraded to a WebSocket is
 * WebSocket-FLV (`ws_flv.ts`).
 *
 * - A stream with no publisher: like RTMP play, wait up to `hub.playWaitMs`
 *   for one before answering, or answer 404 (JSON) at once when that is 0 and
 *   when the wait ends with no publisher. `HEAD` never waits: 200 with the
 *   headers when the stream is there, else 404.
 * - Backpressure: the body is a pull-based ReadableStream holding at most one
 *   chunk. A write resolves when the server has taken the chunk off the stream
 *   to send it, so a player that reads slowly holds back its own writes, and
 *   its frames wait in its Subscriber, whose bounds make it skip to a keyframe
 *   or close it. (Below the stream, Deno's HTTP layer and the kernel's socket
 *   buffers take about 4 MB from a loopback peer that reads nothing, then no
 *   more.)
 * - The peer closing the connection cancels the body (or, while waiting for a
 *   publisher, aborts `req.signal`): the player leaves the hub at once.
 * - The stream's end (its publisher left and the grace window passed) ends the
 *   body after the last queued tag. A player the server drops (too slow,
 *   stalled) gets a clean end of body too: the reason is logged, once. (Erroring
 *   the body instead would log a second line through Deno.serve's onError and
 *   be no quicker: Deno.serve has no way to cut a response whose peer stopped
 *   reading, so such a connection lingers, holding the bytes already below
 *   the stream, until the peer reads or TCP gives up. The hub forgets the
 *   player at once either way.)
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import { refusalResponse } from "../http/admit.ts";
import { CORS_ALLOW_ORIGIN, jsonError } from "../http/responses.ts";
import { DecisionKind } from "../hub/admission.ts";
import { sessionRequestOf } from "../hub/registry.ts";
import { Protocol } from "../hub/session_kind.ts";
import { StreamNotFoundError } from "../errors.ts";
import { flvFileHeader } from "../wasm/flv_pack.ts";
import { flvHeaderFlags } from "./flv_packer.ts";
import { COPY_BYTES } from "../conn_writer.ts";
import { type RawConnection, takeConnection } from "../http/http1_server.ts";
import { httpDate, responseHead } from "../http/http1_head.ts";
import { concatBytes } from "../bytes.ts";
import {
  addressOf,
  admitFlvPlay,
  FlvPlayer,
  type FlvPlayOptions,
  type FlvTransport,
  playerId,
} from "./flv_player.ts";

/**
 * Response headers of an FLV play: streamed (no content-length), never cached, readable from any origin
 * (a player reads nothing but the body and content-type, which CORS always exposes).
 */
const FLV_PLAY_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "video/x-flv",
  "cache-control": "no-cache, no-store",
  ...CORS_ALLOW_ORIGIN,
};

/**
 * Plays stream `key` as FLV over the response body, once the admission gate
 * allows (a refusal is 401, 403 or 503 with a JSON reason, or a 302). The
 * router sends WebSocket upgrades to `ws_flv.ts`.
 */
export async function serveFlvPlay(
  req: Request,
  key: string,
  ctx: HttpContext,
  peer?: Deno.Addr,
  options: FlvPlayOptions = {},
): Promise<Response> {
  const id = playerId(Protocol.HttpFlv, peer);
  const decision = await admitFlvPlay(req, key, ctx, Protocol.HttpFlv, peer, id);
  if (decision.kind !== DecisionKind.Allow) return refusalResponse(decision, `Cannot play ${key}`);
  const stream = ctx.hub.get(key);
  if (!stream && (req.method === "HEAD" || ctx.config.hub.playWaitMs <= 0)) return notFound(key);
  // An empty body rather than none: Deno would add content-length 0, which a GET never has.
  if (req.method === "HEAD") return new Response(ReadableStream.from([]), { headers: FLV_PLAY_HEADERS });
  return playOverBody(req, key, ctx, peer, id, options);
}

function notFound(key: string, waitedMs = 0): Response {
  const why = waitedMs > 0 ? `no publisher within ${waitedMs} ms` : "it is not published";
  return jsonError(404, `Cannot play ${key}: ${why}`);
}

async function playOverBody(
  req: Request,
  key: string,
  ctx: HttpContext,
  peer: Deno.Addr | undefined,
  id: string,
  options: FlvPlayOptions,
): Promise<Response> {
  const header = flvFileHeader(flvHeaderFlags(ctx.hub.get(key), options));
  // On Sluice's own HTTP/1.1 server the player writes to its socket; on Deno.serve (HTTPS), to a body.
  const raw = takeConnection(req);
  const body = raw ? new ConnTransport(raw, header) : new BodyTransport(header);
  const player = new FlvPlayer(
    id,
    key,
    ctx,
    body,
    Protocol.HttpFlv,
    addressOf(peer),
    sessionRequestOf(req),
    options,
  );
  body.onCancel = () => player.peerGone();
  try {
    await player.play(req);
  } catch (e) {
    if (e instanceof StreamNotFoundError) return notFound(key, ctx.config.hub.playWaitMs);
    throw e;
  }
  if (body instanceof ConnTransport) return body.response;
  return new Response(body.stream, { headers: FLV_PLAY_HEADERS });
}

/** The head of an FLV play on a taken connection: the body is the rest of the connection (RFC 9112 6.3, 8). */
function rawPlayHead(): Uint8Array {
  return responseHead(200, [...Object.entries(FLV_PLAY_HEADERS), ["connection", "close"], [
    "date",
    httpDate(),
  ]]);
}

/**
 * The player's own connection (Sluice's HTTP/1.1 server): the response head and the FLV header go out with
 * the first write, then every write is a socket write of the bytes given (a group's shared batch is not
 * copied), and the body ends when the connection closes. A write resolves when the socket took it.
 */
export class ConnTransport implements FlvTransport {
  onCancel: () => void = () => {};
  #raw: RawConnection;
  #header: Uint8Array | undefined;
  #done = false;

  constructor(raw: RawConnection, header: Uint8Array) {
    this.#raw = raw;
    this.#header = header;
    raw.onEnd = () => {
      if (this.#done) return;
      this.#done = true;
      this.onCancel();
    };
  }

  /** What the route answers: the connection is the player's. */
  get response(): Response {
    return this.#raw.response;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#done) return Promise.reject(new Error("the connection is closed"));
    const header = this.#header;
    if (header !== undefined) {
      this.#header = undefined;
      const head = rawPlayHead();
      // A small first write is one buffer; a GOP burst goes on its own after the head, not copied.
      if (bytes.length <= COPY_BYTES) return this.#raw.write(concatBytes([head, header, bytes]));
      this.#raw.write(concatBytes([head, header])).catch(() => {});
    }
    return this.#raw.write(bytes);
  }

  end(_reason: string): void {
    if (this.#done) return;
    // Nothing written yet (the stream ended before any tag): the head and the FLV header, then the end.
    if (this.#header !== undefined) this.write(new Uint8Array(0)).catch(() => {});
    this.#done = true;
    this.#raw.end();
  }
}

/**
 * A response body fed one write at a time: a pull-based ReadableStream that
 * holds at most one chunk. `write()` resolves at once when the stream wants
 * more, else when the server pulls the chunk just queued.
 */
export class BodyTransport implements FlvTransport {
  readonly stream: ReadableStream<Uint8Array>;
  /** Called once when the reader cancels the body (the peer closed the connection). */
  onCancel: () => void = () => {};
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #pending: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #done = false;

  /** `header`: the first chunk (the FLV header), queued before any write; none when empty. */
  constructor(header: Uint8Array) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        if (header.length > 0) controller.enqueue(header);
      },
      pull: () => {
        const p = this.#pending;
        this.#pending = undefined;
        p?.resolve();
      },
      cancel: () => {
        if (this.#done) return;
        this.#done = true;
        this.#settle(new Error("the peer closed the connection"));
        this.onCancel();
      },
    }, { highWaterMark: 1 });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#done) return Promise.reject(new Error("the response is closed"));
    this.#controller.enqueue(bytes);
    if ((this.#controller.desiredSize ?? 0) > 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#pending = { resolve, reject });
  }

  end(_reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.close(); // what is queued is still delivered
    this.#settle();
  }

  /** Completes a pending write (or fails it with `error`). */
  #settle(error?: Error): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p && error) p.reject(error);
    else p?.resolve();
  }
}
