/**
 * FlvPlayer: one FLV player (HTTP-FLV or WebSocket-FLV) attached to the hub.
 * It owns the player's Subscriber, with an FlvPacker (every frame packed once
 * into an FLV tag shared by all FLV players) and the same per-player bounds and
 * keyframe-skip policy as RTMP play (`config.player`), and it runs the
 * player's life: attach (waiting for a publisher as RTMP play does), end the
 * transport when the stream ends, unsubscribe at once when the peer goes, and
 * log the close reason once.
 *
 * The transport (a response body, a WebSocket) only moves bytes: its write()
 * resolves when it has taken them, which is what bounds a slow player (the
 * Subscriber queues, skips to a keyframe, or closes it behind that promise).
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import { ProtocolError, StreamNotFoundError } from "../errors.ts";
import { admitHttp } from "../http/admit.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  DecisionKind,
  deny,
  DenyKind,
  refusalText,
} from "../hub/admission.ts";
import { addressOf, type SessionEntry, type SessionRequest } from "../hub/registry.ts";
import { type Protocol, Role } from "../hub/session_kind.ts";
import type { StreamEvent } from "../hub/stream.ts";
import { type Packer, Subscriber } from "../hub/subscriber.ts";
import type { Logger } from "../log.ts";
import { FlvPacker, type TrackFilter } from "./flv_packer.ts";

/** How a configured stream (`streams[]`) plays: tracks left out, and a time limit. */
export interface FlvPlayOptions extends TrackFilter {
  /** The play ends after this long, in ms; 0 or missing: no limit (ffserver MaxTime). */
  readonly maxTimeMs?: number;
  /** The wire form (default an FlvPacker with the track filter): HTTP-TS plays through the same player. */
  readonly packer?: Packer;
}

/** Where an FLV player's bytes go: the FLV header is the transport's own first write. */
export interface FlvTransport {
  /** Sends `bytes`; resolves when the transport has taken them, rejects when the peer is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the transport after everything written so far (the stream is over, or the server drops it). */
  end(reason: string): void;
}

let nextPlayer = 1;

/** The answers an FLV play records in its registry entry, as HTTP statuses (RFC 9110 15). */
export const FlvPlayStatus = {
  /** 200: the stream plays (HTTP-FLV's response; WebSocket-FLV's upgrade answers the same GET). */
  Playing: 200,
  /** 400: the WebSocket upgrade failed. */
  BadRequest: 400,
  /** 404: no publisher came within the wait. */
  NotFound: 404,
} as const;
export type FlvPlayStatus = typeof FlvPlayStatus[keyof typeof FlvPlayStatus];

/** The peer's "ip:port" (one rule, the registry's). */
export { addressOf };

/** The id a player is logged and listed under: `kind` and the peer's address when known, else a counter. */
export function playerId(kind: string, peer: Deno.Addr | undefined): string {
  const address = addressOf(peer);
  return address ? `${kind} ${address}` : `${kind} #${nextPlayer++}`;
}

/**
 * Asks the admission gate whether `peer` may play `key` over `protocol`. A
 * refusal is logged once under the player's id; a query past the gate's
 * bounds is refused as malformed (400, as a push or a VOD request is).
 */
export async function admitFlvPlay(
  req: Request,
  key: string,
  ctx: HttpContext,
  protocol: Protocol,
  peer: Deno.Addr | undefined,
  id: string,
): Promise<AdmissionDecision> {
  let decision: AdmissionDecision;
  try {
    decision = await admitHttp(ctx.hub, req, { action: AdmissionAction.Play, protocol, key, remote: peer });
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    decision = deny(e.message, DenyKind.Malformed);
  }
  if (decision.kind !== DecisionKind.Allow) {
    ctx.log.child(id).info(`closed: play of ${key} refused: ${refusalText(decision)}`);
  }
  return decision;
}

export class FlvPlayer {
  /** e.g. "http-flv 127.0.0.1:50312"; also the Subscriber's id. */
  readonly id: string;
  /** The stream key, `app/name`. */
  readonly key: string;
  readonly subscriber: Subscriber;
  /** This player in the hub's session registry. */
  readonly session: SessionEntry;
  #ctx: HttpContext;
  #log: Logger;
  #transport: FlvTransport;
  /** The stream ended: end the transport once the subscriber's last bytes are taken. */
  #ending = false;
  #closed = false;
  #maxTimeMs: number;
  #maxTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    id: string,
    key: string,
    ctx: HttpContext,
    transport: FlvTransport,
    protocol: Protocol,
    remote?: string,
    request?: SessionRequest,
    options: FlvPlayOptions = {},
  ) {
    this.id = id;
    this.#maxTimeMs = options.maxTimeMs ?? 0;
    this.key = key;
    this.#ctx = ctx;
    this.#log = ctx.log.child(id);
    this.#transport = transport;
    this.subscriber = new Subscriber(
      id,
      options.packer ?? new FlvPacker(options),
      // The transport is the sink: the subscriber's own write callbacks are the only ones per write.
      transport,
      ctx.config.player,
      this.#log,
      { protocol },
    );
    const stats = this.subscriber.stats;
    this.session = ctx.hub.sessions.open({
      protocol,
      role: Role.Player,
      remote,
      key,
      counters: () => ({
        bytesOut: stats.bytesSent,
        framesSent: stats.framesSent,
        framesDropped: stats.framesDropped,
        skips: stats.skips,
        lagMs: this.subscriber.lagMs,
        queuedBytes: this.subscriber.ownBytes,
      }),
      close: (reason) => this.#close(reason),
      ...(request !== undefined && { request }),
    });
    this.subscriber.onClose = (reason) => this.#close(reason);
    this.subscriber.onEvent = (ev) => this.#onEvent(ev);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Attaches to the stream: at once when it is live or in its grace window, else after waiting up to
   * `hub.playWaitMs` for a publisher. Rejects with StreamNotFoundError when none comes (the player is
   * then closed). While it waits, `req.signal` aborting means the peer left: the wait ends at once.
   */
  async play(req?: Request): Promise<void> {
    const waiting = this.#ctx.hub.get(this.key) ? undefined : new AbortController();
    // Only a waiting player touches the request's signal: with no body or socket yet, it is the one sign
    // of the peer leaving. (Deno warns, once per process, that a touched signal also aborts when its
    // response completes; untouched, it does not.)
    if (waiting) {
      this.#log.debug(`waiting up to ${this.#ctx.config.hub.playWaitMs} ms for a publisher of ${this.key}`);
      req?.signal.addEventListener("abort", () => this.peerGone(), { signal: waiting.signal });
    }
    try {
      await this.#ctx.hub.play(this.key, this.subscriber);
    } catch (e) {
      if (e instanceof StreamNotFoundError) this.session.setStatus(FlvPlayStatus.NotFound);
      this.#close(`play refused: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    } finally {
      waiting?.abort();
    }
    this.session.setStatus(FlvPlayStatus.Playing);
    this.#log.info(`playing ${this.key}`);
    if (this.#maxTimeMs > 0 && !this.#closed) {
      this.#maxTimer = setTimeout(
        () => this.#close(`max time ${this.#maxTimeMs} ms reached`),
        this.#maxTimeMs,
      );
    }
  }

  /** The peer closed the connection: unsubscribe now. Idempotent. */
  peerGone(reason = "player left"): void {
    this.#close(reason);
  }

  #onEvent(ev: StreamEvent): void {
    // "unpublish" and "publish": nothing to say in FLV; a returning publisher's sequence headers come as
    // frames, and the player goes on.
    if (ev !== "end") return;
    this.#ending = true;
    this.subscriber.onIdle = () => this.#endIfDrained();
    this.#endIfDrained();
  }

  /** After the stream's end: once nothing is queued or being written, the player is done. */
  #endIfDrained(): void {
    if (this.#ending && !this.subscriber.writing && this.subscriber.queuedBytes === 0) {
      this.#close(`stream ${this.key} ended`);
    }
  }

  /** Unsubscribes, stops the subscriber, ends the transport and logs why, once. */
  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#maxTimer);
    this.#ctx.hub.leave(this.key, this.subscriber);
    this.subscriber.close(reason); // calls back into #close, which returns at once
    this.#transport.end(reason);
    this.session.end(reason);
    this.#log.info(`closed: ${reason}`);
  }
}
