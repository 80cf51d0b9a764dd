/**
 * MPEG-TS over HTTP: `GET /{app}/{stream}.ts` answers with a never-ending
 * MPEG-TS body (SRS's HTTP-TS, ffserver's `Format mpegts`): PAT and PMT, then
 * the cached GOP and the live frames as transport packets. It is HTTP-FLV with
 * another wire form: the same admission, waiting, backpressure and bounded
 * subscriber (`flv_player.ts`, `http_flv.ts`'s BodyTransport), with a TsPacker.
 *
 * Pack once: a stream has one TsMuxer (`stream_ts_muxer.ts`), shared by every HTTP-TS
 * player and the stream's MPEG-TS HLS muxing, so each frame becomes transport
 * packets once (cached on the frame) with one set of continuity counters. A
 * player that joins or skips sees the counters jump, as a receiver tuning in
 * does; decoders take that in their stride.
 *
 * @module
 */
import type { HttpContext } from "../http/context.ts";
import { refusalResponse } from "../http/admit.ts";
import { CORS_ALLOW_ORIGIN, jsonError } from "../http/responses.ts";
import { DecisionKind } from "../hub/admission.ts";
import { sessionRequestOf } from "../hub/registry.ts";
import { Protocol } from "../hub/session_kind.ts";
import type { Stream } from "../hub/stream.ts";
import type { Packer } from "../hub/subscriber.ts";
import { StreamNotFoundError } from "../errors.ts";
import { FrameKind, type MediaFrame } from "../media/frame.ts";
import { TsMuxer } from "../media/ts/ts_muxer.ts";
import { tsMuxerOf } from "./stream_ts_muxer.ts";
import { BodyTransport } from "./http_flv.ts";
import { addressOf, admitFlvPlay, FlvPlayer, playerId } from "./flv_player.ts";

/** Response headers of an HTTP-TS play: streamed, never cached, readable from any origin. */
const TS_PLAY_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "video/mp2t",
  "cache-control": "no-cache, no-store",
  ...CORS_ALLOW_ORIGIN,
};

const NOTHING = new Uint8Array(0);

/**
 * An HTTP-TS player's Packer: sequence headers configure the stream's muxer and pack to nothing; the
 * first media frame comes after a PAT and a PMT (the one allocation per player); every other frame is
 * the muxer's shared packets.
 */
export class TsPacker implements Packer {
  #stream: () => Stream | undefined;
  #muxer: TsMuxer | undefined;
  #started = false;

  /** `stream`: the player's stream, looked up at the first frame (a player may wait for its publisher). */
  constructor(stream: () => Stream | undefined) {
    this.#stream = stream;
  }

  pack(frame: MediaFrame): Uint8Array {
    const muxer = this.#muxer ??= (() => {
      const s = this.#stream();
      return s ? tsMuxerOf(s) : new TsMuxer();
    })();
    if (frame.kind === FrameKind.Data) return NOTHING;
    if (frame.sequenceHeader) {
      muxer.configure(frame);
      return NOTHING;
    }
    const packets = muxer.packFrame(frame);
    if (this.#started || packets.length === 0) return packets;
    this.#started = true;
    const tables = muxer.tables();
    const out = new Uint8Array(tables.length + packets.length);
    out.set(tables);
    out.set(packets, tables.length);
    return out;
  }

  /** Nothing to forget: each frame's packets stand alone (the counters jump, see the module doc). */
  reset(): void {}
}

/** Plays stream `key` as MPEG-TS over the response body, once the admission gate allows. */
export async function serveTsPlay(
  req: Request,
  key: string,
  ctx: HttpContext,
  peer?: Deno.Addr,
): Promise<Response> {
  const id = playerId(Protocol.HttpTs, peer);
  const decision = await admitFlvPlay(req, key, ctx, Protocol.HttpTs, peer, id);
  if (decision.kind !== DecisionKind.Allow) return refusalResponse(decision, `Cannot play ${key}`);
  const stream = ctx.hub.get(key);
  if (!stream && (req.method === "HEAD" || ctx.config.hub.playWaitMs <= 0)) return notFound(key);
  if (req.method === "HEAD") return new Response(ReadableStream.from([]), { headers: TS_PLAY_HEADERS });
  const body = new BodyTransport(NOTHING);
  const packer = new TsPacker(() => ctx.hub.get(key));
  const player = new FlvPlayer(
    id,
    key,
    ctx,
    body,
    Protocol.HttpTs,
    addressOf(peer),
    sessionRequestOf(req),
    { packer },
  );
  body.onCancel = () => player.peerGone();
  try {
    await player.play(req);
  } catch (e) {
    if (e instanceof StreamNotFoundError) return notFound(key, ctx.config.hub.playWaitMs);
    throw e;
  }
  return new Response(body.stream, { headers: TS_PLAY_HEADERS });
}

function notFound(key: string, waitedMs = 0): Response {
  const why = waitedMs > 0 ? `no publisher within ${waitedMs} ms` : "it is not published";
  return jsonError(404, `Cannot play ${key}: ${why}`);
}
