/**
 * The one TsMuxer of a live stream, shared by every MPEG-TS consumer of it
 * (HTTP-TS players, MPEG-TS HLS muxing): each frame becomes transport packets
 * once, cached on the frame, under one set of continuity counters.
 *
 * @module
 */
import type { Stream } from "../hub/stream.ts";
import { TsMuxer } from "../media/ts/ts_muxer.ts";

const muxers = new WeakMap<Stream, TsMuxer>();

/** The stream's TsMuxer, made on first use with the sequence headers the stream holds; it lives as long as the stream. */
export function tsMuxerOf(stream: Stream): TsMuxer {
  let m = muxers.get(stream);
  if (!m) {
    m = new TsMuxer();
    for (const f of [stream.videoHeader, stream.audioHeader]) if (f) m.configure(f);
    muxers.set(stream, m);
  }
  return m;
}
