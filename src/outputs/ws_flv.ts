/**
 * WebSocket-FLV play: `GET /{app}/{stream}.flv` upgraded to a WebSocket sends
 * the same FLV bytes as HTTP-FLV (header, metadata, sequence headers, GOP, live
 * tags; each tag packed once for all FLV players), one binary message per
 * write: the FLV header, then each batch the player's Subscriber hands over.
 * Messages from the player are ignored. A stream with no publisher is waited
 * for (up to `hub.playWaitMs`) before the upgrade, so a 404 can still be sent.
 *
 * Backpressure: a WebSocket's `send()` never blocks; what the socket has not
 * yet written shows in `bufferedAmount`. A write resolves only once
 * `bufferedAmount` is at most LOW_WATER_BYTES, checked at once (a player that
 * keeps up never waits for a timer) and then every POLL_MS while above. So a
 * slow player's backlog stays in its Subscriber, where the shared policy
 * applies: skip to the newest keyframe past the queue bound, close after too
 * many skips or when a write makes no progress for `player.stallTimeoutMs`. The
 * socket itself never holds more than LOW_WATER_BYTES plus one batch.
 * (Resolving at once instead would move the backlog, unbounded, into the
 * socket, where the Subscriber never sees it: nothing would ever skip.)
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import { jsonError } from "../http/responses.ts";
import { DecisionKind, refusalText } from "../hub/admission.ts";
import { sessionRequestOf } from "../hub/registry.ts";
import { Protocol } from "../hub/session_kind.ts";
import { closeReasonText, WsCloseCode } from "../http/websocket.ts";
import { type UpgradedSocket, upgradeWebSocket } from "../http/upgrade.ts";
import { ServerWebSocket } from "../http/ws_socket.ts";
import { StreamNotFoundError } from "../errors.ts";
import { flvFileHeader } from "../wasm/flv_pack.ts";
import { flvHeaderFlags } from "./flv_packer.ts";
import {
  addressOf,
  admitFlvPlay,
  FlvPlayer,
  type FlvPlayOptions,
  FlvPlayStatus,
  type FlvTransport,
  playerId,
} from "./flv_player.ts";

/** A write resolves once the socket holds at most this much unsent data. */
export const LOW_WATER_BYTES = 64 * 1024;
/** How often a write above the low-water mark looks at `bufferedAmount` again, in ms. */
export const POLL_MS = 10;

/**
 * Plays stream `key` as FLV over a WebSocket (the request asks to upgrade),
 * once the admission gate allows; a refusal upgrades and closes with 1008
 * (policy violation) and the reason, which a browser can read.
 */
export async function serveWsFlvPlay(
  req: Request,
  key: string,
  ctx: HttpContext,
  peer?: Deno.Addr,
  options: FlvPlayOptions = {},
): Promise<Response> {
  const id = playerId(Protocol.WsFlv, peer);
  const decision = await admitFlvPlay(req, key, ctx, Protocol.WsFlv, peer, id);
  if (decision.kind !== DecisionKind.Allow) return refuseSocket(req, refusalText(decision));
  if (!ctx.hub.get(key) && ctx.config.hub.playWaitMs <= 0) {
    return jsonError(404, `Cannot play ${key}: it is not published`);
  }
  const ws = new WsTransport(
    flvFileHeader(flvHeaderFlags(ctx.hub.get(key), options)),
    ctx.config.player.stallTimeoutMs,
  );
  const player = new FlvPlayer(
    id,
    key,
    ctx,
    ws,
    Protocol.WsFlv,
    addressOf(peer),
    sessionRequestOf(req, "WS"),
    options,
  );
  ws.onPeerClose = () => player.peerGone();
  try {
    await player.play(req);
  } catch (e) {
    if (e instanceof StreamNotFoundError) {
      return jsonError(404, `Cannot play ${key}: no publisher within ${ctx.config.hub.playWaitMs} ms`);
    }
    throw e;
  }
  let upgraded: { socket: UpgradedSocket; response: Response };
  try {
    upgraded = upgradeWebSocket(req);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    player.session.setStatus(FlvPlayStatus.BadRequest);
    player.peerGone(`bad WebSocket upgrade: ${why}`);
    return jsonError(400, `Cannot play ${key} over a WebSocket: ${why}`);
  }
  ws.attach(upgraded.socket);
  return upgraded.response;
}

/** Upgrades and closes at once with 1008 and `reason` (an upgrade that fails gets a 400). */
function refuseSocket(req: Request, reason: string): Response {
  let upgraded: { socket: UpgradedSocket; response: Response };
  try {
    upgraded = upgradeWebSocket(req);
  } catch (e) {
    return jsonError(400, `Cannot upgrade to a WebSocket: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { socket, response } = upgraded;
  socket.onopen = () => socket.close(WsCloseCode.PolicyViolation, closeReasonText(reason));
  return response;
}

/**
 * A WebSocket fed one write at a time. Writes made before the socket opens
 * wait for it; `write()` resolves when `bufferedAmount` is at most
 * LOW_WATER_BYTES; `end()` closes the socket once what was sent has gone out.
 */
export class WsTransport implements FlvTransport {
  /** Called once when the peer closes the socket (or it fails). */
  onPeerClose: () => void = () => {};
  #endWaitMs: number;
  #socket: UpgradedSocket | undefined;
  #open = false;
  /** Messages to send when the socket opens: the FLV header, then whatever was written before. */
  #unsent: Uint8Array[];
  /** The write waiting for the socket to open or to drain. */
  #pending: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Why the server ends the socket, once end() was called. */
  #ending: string | undefined;
  /** The socket is closed or closing: nothing more goes out. */
  #gone = false;

  /**
   * `header`: the first message (the FLV header). `endWaitMs`: how long end() waits for the socket to
   * send what it holds before closing it anyway.
   */
  constructor(header: Uint8Array, endWaitMs: number) {
    this.#unsent = [header];
    this.#endWaitMs = endWaitMs;
  }

  /** Takes the upgraded socket. */
  attach(socket: UpgradedSocket): void {
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.#open = true;
      for (const bytes of this.#unsent) socket.send(bytes);
      this.#unsent = [];
      if (this.#ending !== undefined) this.#closeWhenSent(this.#ending, Date.now());
      else this.#waitDrain();
    };
    socket.onclose = () => this.#peerGone();
    socket.onerror = () => this.#peerGone();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#gone || this.#ending !== undefined) return Promise.reject(new Error("the socket is closed"));
    const socket = this.#socket;
    if (!socket || !this.#open) {
      this.#unsent.push(bytes);
      return new Promise((resolve, reject) => this.#pending = { resolve, reject });
    }
    // A group's batch goes to every member: Sluice's own socket frames it once for all of them.
    if (socket instanceof ServerWebSocket) socket.sendShared(bytes);
    else socket.send(bytes);
    if (socket.bufferedAmount <= LOW_WATER_BYTES) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#waitDrain();
    });
  }

  end(reason: string): void {
    if (this.#gone || this.#ending !== undefined) return;
    this.#ending = reason;
    this.#settle();
    if (this.#open) this.#closeWhenSent(reason, Date.now());
  }

  /** Resolves the pending write once bufferedAmount is at most the low-water mark. */
  #waitDrain(): void {
    const socket = this.#socket;
    if (!socket || !this.#pending || this.#gone) return;
    if (socket.bufferedAmount <= LOW_WATER_BYTES) {
      this.#settle();
      return;
    }
    this.#timer = setTimeout(() => this.#waitDrain(), POLL_MS);
  }

  /** Closes the socket once it has sent everything (or after endWaitMs), with `reason` in the close frame. */
  #closeWhenSent(reason: string, since: number): void {
    const socket = this.#socket;
    if (!socket || this.#gone) return;
    if (socket.bufferedAmount > 0 && Date.now() - since < this.#endWaitMs) {
      this.#timer = setTimeout(() => this.#closeWhenSent(reason, since), POLL_MS);
      return;
    }
    this.#gone = true;
    socket.close(WsCloseCode.Normal, closeReasonText(reason));
  }

  /** The socket closed or failed; when the peer did it, the player hears of it. */
  #peerGone(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#gone) return; // our own close
    this.#gone = true;
    this.#settle(new Error("the peer closed the socket"));
    this.onPeerClose();
  }

  /** Completes the pending write (or fails it with `error`). */
  #settle(error?: Error): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const p = this.#pending;
    this.#pending = undefined;
    if (p && error) p.reject(error);
    else p?.resolve();
  }
}
