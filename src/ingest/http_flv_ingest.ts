/**
 * HTTP push ingest: `POST` or `PUT /{app}/{stream}[.flv]` with an FLV body,
 * chunked or sized, or a WebSocket to `/{app}/{stream}` whose binary messages
 * carry FLV bytes split anywhere. Either publishes like an RTMP publisher
 * (`ffmpeg -re -i in -c copy -f flv http://host:8000/live/cam` works):
 *
 * - every push asks the admission gate (`hub.admit()`, protocol http-push or
 *   ws-push, the URL's query, the peer's address) before it publishes, and a
 *   refusal is answered as `src/http/admit.ts` maps it: 401, 403 or 503 with a
 *   JSON reason, or 302 to the redirect (WebSocket: close 1008 with
 *   "denied: reason" or "redirected: url"). While the gate decides, nothing of
 *   the push is read: an HTTP body waits unread (the encoder blocks on its
 *   socket), and a WebSocket is upgraded only once allowed, so no message
 *   can arrive before the answer and none needs buffering;
 * - one publisher per name: a second push is refused (409, or WebSocket close
 *   1008) unless the hub's takeover is on;
 * - each push is in the hub's session registry (`hub.sessions`) from the
 *   request on: pending while the gate decides, then publisher of its key;
 *   an admin kick ends it as the server ending the publisher (503, WebSocket
 *   1001);
 * - the body is read as it arrives and each FLV tag goes into the hub when its
 *   last byte does; nothing is buffered beyond the tag being read;
 * - tags are capped at `config.ingest.maxTagBytes`; malformed FLV closes
 *   the publisher with 400 (WebSocket close 1007); players of other streams
 *   never notice;
 * - no bytes for `config.ingest.idleTimeoutMs` closes it (408; WebSocket 1008);
 * - when the body ends or the connection drops, the stream's players wait out
 *   the reconnect grace, as after an RTMP publisher.
 *
 * A body that ends cleanly gets 200 with a JSON summary. An encoder streaming a
 * body does not read the response until it stops sending (ffmpeg's http
 * protocol never does), and after an early answer Deno's HTTP server keeps
 * reading the unread body for megabytes before it lets go of the connection.
 * So a push that is refused or fails before its body ends is answered with its
 * JSON line in a response that declares one byte more than it sends: the
 * server then resets the connection right after the line, and the encoder's
 * next write fails ("Connection reset by peer"). A client that reads gets the
 * status and the line, then a body error. (A body that was read to its end and
 * turns out truncated gets a plain 400.)
 *
 * ffmpeg closes its socket right after the last chunk of its body without
 * waiting for the answer; the body read then fails rather than ends, which is
 * the normal end of an ffmpeg push here (the last few tags may be lost with it).
 *
 * @module
 */
import { ProtocolError, StreamBusyError } from "../errors.ts";
import { admissionRequest, DENY_STATUS } from "../http/admit.ts";
import type { HttpContext } from "../http/context.ts";
import { CORS_ALLOW_ORIGIN, json, jsonError } from "../http/responses.ts";
import { closeReasonText, WsCloseCode } from "../http/websocket.ts";
import { type UpgradedSocket, upgradeWebSocket } from "../http/upgrade.ts";
import { AdmissionAction, type AdmissionDecision, DecisionKind, refusalText } from "../hub/admission.ts";
import { addressOf, type SessionEntry, sessionRequestOf } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import type { Logger } from "../log.ts";
import { FlvReader } from "../media/flv.ts";
import { FlvPublisher } from "./flv_publisher.ts";

/** HTTP statuses of a push (RFC 9110 15). */
const Status = {
  /** 200: the body ended; the summary follows. */
  Ok: 200,
  /** 302: the admission gate redirected the push elsewhere (`Location`). */
  Found: 302,
  /** 400: the body is not FLV, or ends inside a tag. */
  BadRequest: 400,
  /** 408: no bytes for the idle timeout. */
  Timeout: 408,
  /** 409: the name already has a publisher. */
  Conflict: 409,
  /** 500: a bug met while handling the push; the publisher is closed all the same. */
  Internal: 500,
  /** 503: the server ended the publisher (shutdown or takeover). */
  Unavailable: 503,
} as const;

let pushCount = 0;

/**
 * Publishes stream `key` from the request body (POST/PUT), as FLV, once the
 * admission gate allows. `remote` (Deno.serve's `info.remoteAddr`) names the
 * pusher in logs, in the stream's publisher id and to the gate.
 */
export function serveFlvPush(
  req: Request,
  key: string,
  ctx: HttpContext,
  remote?: Deno.Addr,
): Promise<Response> {
  return servePost(req, key, ctx, remote);
}

/**
 * Publishes stream `key` from the binary messages of a WebSocket (the request
 * asks to upgrade), once the admission gate allows: the upgrade waits for the
 * answer, and a refusal upgrades only to close with 1008 and the reason.
 */
export function serveWsFlvPush(
  req: Request,
  key: string,
  ctx: HttpContext,
  remote?: Deno.Addr,
): Promise<Response> {
  return serveWebSocket(req, key, ctx, remote);
}

/** Why a push ended, as the pusher is told. */
interface Ending {
  /** A Status, or a refusal's status from DENY_STATUS. */
  status: number;
  /** For the log line. */
  reason: string;
  /** For the pusher (an error line or a WebSocket close reason); none for a clean end. */
  error?: string;
  wsCode?: WsCloseCode;
  /** The WebSocket close reason, when not `error`: a refusal's "denied: reason" (as WebSocket-FLV play sends it). */
  wsReason?: string;
  /** Where a redirected push goes (the 302's `Location`). */
  location?: string;
}

/**
 * One push, whatever carries it: its session registry entry, the admission
 * question, an FLV reader in front of an FlvPublisher, the idle timer,
 * counters, and the one close line in the log.
 */
class PushSession {
  readonly id: string;
  readonly key: string;
  readonly protocol: Protocol;
  readonly startedAt = Date.now();
  /** This push in the hub's session registry: pending until allowed, then publisher of `key`. */
  readonly entry: SessionEntry;
  bytesIn = 0;
  ending: Ending | undefined;
  /** Called once when the session ends from inside (idle, hub close, kick) so the carrier stops reading. */
  onEnd: (ending: Ending) => void = () => {};

  #ctx: HttpContext;
  #log: Logger;
  #reader: FlvReader;
  #publisher: FlvPublisher;
  #remote: Deno.Addr | undefined;
  #lastDataAt = Date.now();
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    protocol: Protocol,
    key: string,
    ctx: HttpContext,
    remote: Deno.Addr | undefined,
    req: Request,
  ) {
    const address = addressOf(remote);
    this.key = key;
    this.protocol = protocol;
    this.id = `${protocol === Protocol.WsPush ? "ws" : "http"} push ${address ?? `#${++pushCount}`}`;
    this.#ctx = ctx;
    this.#remote = remote;
    this.#log = ctx.log.child(`${this.id} ${key}`);
    this.#reader = new FlvReader({ maxTagSize: ctx.config.ingest.maxTagBytes });
    this.#publisher = new FlvPublisher(key, this.id, ctx.hub, { protocol, remote: address });
    this.#publisher.onClose = (reason) => this.#closedByServer(reason);
    this.entry = ctx.hub.sessions.open({
      protocol,
      role: Role.Pending,
      remote: address,
      counters: () => ({ bytesIn: this.bytesIn }),
      close: (reason) => this.#closedByServer(reason),
      request: sessionRequestOf(req, protocol === Protocol.WsPush ? "WS" : req.method),
    });
  }

  /**
   * Asks the admission gate about this push. True when allowed (and the
   * session still open); otherwise the session has ended with the refusal
   * (400 for a query past the gate's bounds).
   */
  async admit(req: Request): Promise<boolean> {
    let decision: AdmissionDecision;
    try {
      decision = await this.#ctx.hub.admit(admissionRequest(req, {
        action: AdmissionAction.Publish,
        protocol: this.protocol,
        key: this.key,
        remote: this.#remote,
        sessionId: this.entry.id,
      }));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.#end({
        status: Status.BadRequest,
        reason: `publish refused: ${e.message}`,
        error: e.message,
        wsCode: WsCloseCode.PolicyViolation,
      });
      return false;
    }
    if (this.ending) return false; // kicked (or the server stopped) while the gate decided
    if (decision.kind === DecisionKind.Allow) return true;
    const text = refusalText(decision);
    this.#end({
      status: decision.kind === DecisionKind.Deny ? DENY_STATUS[decision.deny] : Status.Found,
      reason: `publish refused: ${text}`,
      // The line refusalResponse() writes for a deny.
      error: `Cannot publish ${this.key}: ${decision.kind === DecisionKind.Deny ? decision.reason : text}`,
      wsCode: WsCloseCode.PolicyViolation,
      wsReason: text,
      ...(decision.kind === DecisionKind.Redirect && { location: decision.url }),
    });
    return false;
  }

  /** Publishes; false (and the session ended with 409) when the name is busy or the session already ended. */
  begin(): boolean {
    if (this.ending) return false;
    try {
      this.#publisher.start();
    } catch (e) {
      if (!(e instanceof StreamBusyError)) throw e;
      this.#end({
        status: Status.Conflict,
        reason: `publish refused: ${this.key} already has a publisher`,
        error: `Cannot publish ${this.key}: it is already published`,
        wsCode: WsCloseCode.PolicyViolation,
      });
      return false;
    }
    this.entry.setStream(Role.Publisher, this.key);
    this.#log.info(`publishing ${this.key}`);
    const idle = this.#ctx.config.ingest.idleTimeoutMs;
    this.#idleTimer = setInterval(() => {
      if (Date.now() - this.#lastDataAt <= idle) return;
      this.#end({
        status: Status.Timeout,
        reason: `idle publisher: no data for ${idle} ms`,
        error: `Cannot publish ${this.key}: no data for ${idle} ms`,
        wsCode: WsCloseCode.PolicyViolation,
      });
    }, Math.min(1000, idle));
    return true;
  }

  /** Feeds the next bytes; malformed FLV ends the session with 400 and returns false. */
  feed(bytes: Uint8Array): boolean {
    if (this.ending) return false;
    this.bytesIn += bytes.length;
    this.#lastDataAt = Date.now();
    try {
      for (const tag of this.#reader.push(bytes)) this.#publisher.push(tag);
    } catch (e) {
      if (e instanceof ProtocolError) this.malformed(e);
      else {
        this.#end({
          status: Status.Internal,
          reason: `internal error: ${reasonOf(e)}`,
          error: `Cannot publish ${this.key}: internal error`,
          wsCode: WsCloseCode.InternalError,
        });
      }
      return false;
    }
    return true;
  }

  /** The carrier ended cleanly (the body is complete): a stream that stops inside a tag is malformed. */
  finish(): void {
    if (this.ending) return;
    try {
      this.#reader.end();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.malformed(e);
      return;
    }
    this.#end({ status: Status.Ok, reason: "end of body" });
  }

  /** The WebSocket upgrade failed (a request that only looked like one): 400. */
  upgradeFailed(message: string): void {
    this.#end({ status: Status.BadRequest, reason: `upgrade failed: ${message}`, error: message });
  }

  malformed(e: ProtocolError, wsCode: WsCloseCode = WsCloseCode.InvalidPayload): void {
    this.#end({ status: Status.BadRequest, reason: `malformed FLV: ${e.message}`, error: e.message, wsCode });
  }

  /** The carrier went away (connection dropped, WebSocket closed by the peer). */
  lost(reason: string): void {
    this.#end({ status: Status.Ok, reason }, false);
  }

  /** What the pusher is told on a clean end. */
  summary(): Record<string, unknown> {
    const c = this.#publisher.counts;
    return {
      stream: this.key,
      bytes: this.bytesIn,
      tags: c.tags,
      videoFrames: c.videoFrames,
      audioFrames: c.audioFrames,
      durationMs: Date.now() - this.startedAt,
    };
  }

  /** The hub ended the publisher (takeover, shutdown) or an admin kicked the session. */
  #closedByServer(reason: string): void {
    this.#end({
      status: Status.Unavailable,
      reason: `closed by the server: ${reason}`,
      error: `Cannot publish ${this.key}: ${reason}`,
      wsCode: WsCloseCode.GoingAway,
    });
  }

  #end(ending: Ending, notify = true): void {
    if (this.ending) return;
    this.ending = ending;
    clearInterval(this.#idleTimer);
    this.#publisher.stop();
    this.entry.end(ending.reason, { status: ending.status });
    const c = this.#publisher.counts;
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.#log.info(`closed: in ${this.bytesIn} B, ${c.tags} tags, ${secs} s: ${ending.reason}`);
    if (notify) this.onEnd(ending);
  }
}

async function servePost(
  req: Request,
  key: string,
  ctx: HttpContext,
  remote: Deno.Addr | undefined,
): Promise<Response> {
  const session = new PushSession(Protocol.HttpPush, key, ctx, remote, req);
  // The body stays unread until the gate allows: no tag can reach the hub before.
  if (!await session.admit(req) || !session.begin()) return answer(session);
  const body = req.body;
  if (!body) {
    session.malformed(new ProtocolError("flv", `Cannot publish ${key}: the request has no body`));
    return answer(session);
  }
  const reader = body.getReader();
  session.onEnd = () => void reader.cancel().catch(() => {});
  let bodyRead = false;
  try {
    while (!session.ending) {
      const { value, done } = await reader.read();
      if (done) {
        bodyRead = true;
        session.finish();
        break;
      }
      session.feed(value);
    }
  } catch (e) {
    // The connection dropped (or ffmpeg closed it right after its last chunk): Deno fails the read.
    session.lost(
      e instanceof Deno.errors.BadResource
        ? "peer closed the connection"
        : `body read failed: ${reasonOf(e)}`,
    );
  }
  if (!session.ending) session.lost("peer closed the connection");
  await reader.cancel().catch(() => {});
  return answer(session, bodyRead);
}

/** The HTTP answer to an ended push; one that stops early resets the connection after it (module doc). */
function answer(session: PushSession, bodyRead = false): Response {
  const ending = session.ending!;
  if (ending.status === Status.Ok) return json(session.summary(), ending.status);
  const message = ending.error ?? ending.reason;
  const headers: Record<string, string> = ending.location === undefined ? {} : { location: ending.location };
  return bodyRead
    ? jsonError(ending.status, message, headers)
    : resettingJsonError(ending.status, message, headers);
}

/**
 * A JSON error line in a response that declares one byte more than it sends,
 * so the server resets the connection after the line instead of reading on
 * through the rest of the unread request body (see the module doc).
 */
function resettingJsonError(status: number, message: string, headers: Record<string, string> = {}): Response {
  const line = new TextEncoder().encode(JSON.stringify({ error: message }) + "\n");
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(line);
      c.close();
    },
  });
  return new Response(body, {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(line.length + 1),
      ...CORS_ALLOW_ORIGIN,
      ...headers,
    },
  });
}

async function serveWebSocket(
  req: Request,
  key: string,
  ctx: HttpContext,
  remote: Deno.Addr | undefined,
): Promise<Response> {
  const session = new PushSession(Protocol.WsPush, key, ctx, remote, req);
  // Upgraded only once the gate has answered: before, the client cannot send a message.
  const allowed = await session.admit(req);
  let upgraded: { socket: UpgradedSocket; response: Response };
  try {
    upgraded = upgradeWebSocket(req);
  } catch (e) {
    const message = `Cannot publish ${key} over WebSocket: ${(e as Error).message}`;
    session.upgradeFailed(message);
    return resettingJsonError(Status.BadRequest, message);
  }
  const { socket, response } = upgraded;
  socket.binaryType = "arraybuffer";
  const closeSocket = (ending: Ending): void => {
    if (socket.readyState === WebSocket.CONNECTING) {
      socket.onopen = () => closeSocket(ending); // closed as soon as it opens
      return;
    }
    if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
    socket.close(
      ending.wsCode ?? WsCloseCode.PolicyViolation,
      closeReasonText(ending.wsReason ?? ending.error ?? ending.reason),
    );
  };
  if (!allowed) {
    // Refused (or kicked while the gate decided): the socket opens only to be closed with the reason.
    closeSocket(session.ending!);
    return response;
  }
  session.onEnd = closeSocket;
  socket.onopen = () => void session.begin();
  socket.onmessage = (ev: MessageEvent) => {
    if (session.ending) return;
    if (typeof ev.data === "string") {
      const what = "got a text message, expected FLV bytes in binary messages";
      session.malformed(
        new ProtocolError("flv", `Cannot publish ${key}: ${what}`),
        WsCloseCode.UnsupportedData,
      );
      return;
    }
    session.feed(new Uint8Array(ev.data as ArrayBuffer));
  };
  socket.onclose = (ev: CloseEvent) => session.lost(`peer closed the WebSocket (code ${ev.code})`);
  socket.onerror = () => session.lost("WebSocket error");
  return response;
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
