/**
 * Time-shifted HTTP-FLV play: a player that asks for the past of a feed with a ring buffer file
 * (`?preroll=SECONDS` or `?date=ISO8601` on `/{app}/{stream}.flv`, or a configured stream's `prerollMs`) is
 * served from the ring (`src/feed/feed_ring.ts`), not from the hub: it starts at the group start (metadata,
 * sequence headers, keyframe) at or before that point, then follows the ring as it is written.
 *
 * Policy:
 * - pacing, catch-up and backpressure are `RingPacer`'s (`src/feed/time_shift.ts`), the same for RTMP;
 * - timestamps are the ring's own continuous timeline (they never go back, across publisher reconnects
 *   and server restarts);
 * - the play is a session in the registry like any HTTP-FLV player (protocol http-flv), closed with a
 *   reason logged once: the peer left, the ring closed, max time reached, or a kick.
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import {
  describePoint,
  RingPacer,
  type TimeShiftPoint,
  type TimeShiftReader,
  type TimeShiftRing,
} from "../feed/time_shift.ts";
import { jsonError } from "../http/responses.ts";
import { refusalResponse } from "../http/admit.ts";
import { DecisionKind } from "../hub/admission.ts";
import { sessionRequestOf } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import { flvFileHeader, type FlvTagType, packTag } from "../wasm/flv_pack.ts";
import { flvHeaderFlags } from "./flv_packer.ts";
import { addressOf, admitFlvPlay, type FlvPlayOptions, FlvPlayStatus, playerId } from "./flv_player.ts";
import { BodyTransport } from "./http_flv.ts";

/** FLV timestamps are 32 bits of ms (E.4.1). */
const TIMESTAMP_RANGE = 0x1_0000_0000;

/** What a time-shifted play needs besides the request. */
export interface TimeShiftPlay extends FlvPlayOptions {
  readonly ring: TimeShiftRing;
  readonly at: TimeShiftPoint;
  /** Send the past as fast as the player reads (the feed's `catchUp`). */
  readonly catchUp: boolean;
}

/**
 * Plays `key` from its ring over the response body, once the admission gate allows (the same refusals as
 * live HTTP-FLV). 404 when the ring holds nothing yet.
 */
export async function serveTimeShiftFlv(
  req: Request,
  key: string,
  ctx: HttpContext,
  peer: Deno.Addr | undefined,
  play: TimeShiftPlay,
): Promise<Response> {
  const id = playerId(Protocol.HttpFlv, peer);
  const decision = await admitFlvPlay(req, key, ctx, Protocol.HttpFlv, peer, id);
  if (decision.kind !== DecisionKind.Allow) return refusalResponse(decision, `Cannot play ${key}`);
  const reader = play.ring.reader(play.at);
  if (!reader) return jsonError(404, `Cannot play ${key} from the past: its feed has recorded nothing yet`);
  const headers = {
    "content-type": "video/x-flv",
    "cache-control": "no-cache, no-store",
    "access-control-allow-origin": "*",
  };
  if (req.method === "HEAD") {
    reader.close();
    return new Response(ReadableStream.from([]), { headers });
  }
  const body = new BodyTransport(flvFileHeader(flvHeaderFlags(ctx.hub.get(key), play)));
  const player = new TimeShiftPlayer(id, key, ctx, reader, body, play, req, peer);
  body.onCancel = () => player.close("player left");
  void player.run();
  return new Response(body.stream, { headers });
}

/** One time-shifted player: its pacer writes the ring's tags as FLV; it closes once with a reason. */
class TimeShiftPlayer {
  #closed = false;
  #bytes = 0;
  #frames = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #pacer: RingPacer;
  readonly #session;
  readonly #log;

  constructor(
    readonly id: string,
    readonly key: string,
    ctx: HttpContext,
    reader: TimeShiftReader,
    readonly body: BodyTransport,
    play: TimeShiftPlay,
    req: Request,
    peer: Deno.Addr | undefined,
  ) {
    this.#log = ctx.log.child(id);
    this.#pacer = new RingPacer(reader, play);
    this.#session = ctx.hub.sessions.open({
      protocol: Protocol.HttpFlv,
      role: Role.Player,
      remote: addressOf(peer),
      key,
      counters: () => ({ bytesOut: this.#bytes, framesSent: this.#frames }),
      close: (reason) => this.close(reason),
      request: sessionRequestOf(req),
      status: FlvPlayStatus.Playing,
    });
    const maxTimeMs = play.maxTimeMs ?? 0;
    if (maxTimeMs > 0) {
      this.#timer = setTimeout(() => this.close(`max time ${maxTimeMs} ms reached`), maxTimeMs);
    }
    this.#log.info(
      `playing ${key} ${describePoint(play.at)} (${play.catchUp ? "catching up to live" : "paced"})`,
    );
  }

  async run(): Promise<void> {
    try {
      const how = await this.#pacer.run(async (tag) => {
        const bytes = packTag(tag.kind as FlvTagType, tag.timestamp % TIMESTAMP_RANGE, tag.payload);
        await this.body.write(bytes);
        this.#bytes += bytes.length;
        this.#frames++;
      });
      if (how === "ended") this.close(`the feed of ${this.key} closed`);
    } catch (e) {
      this.close(`write failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Ends the play: the pacer, the body and the session, with `reason` logged once. Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#pacer.close();
    this.body.end(reason);
    this.#session.end(reason);
    this.#log.info(`closed: ${reason}`);
  }
}
