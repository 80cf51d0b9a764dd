/**
 * The MPEG-TS container for HLS (RFC 8216 3.2): a segment is a PAT and a PMT
 * followed by the transport packets of its frames, so every segment decodes
 * alone (its first frame a keyframe, which the muxer gives SPS and PPS). No
 * init segment. The packing is the stream's TsMuxer (`src/media/ts/`), whose
 * packets are cached on the frames: when the same stream is also served as
 * continuous MPEG-TS, both must use this container's muxer (`muxer`), one
 * muxer per stream.
 *
 * @module
 */
import type { MediaFrame } from "../media/frame.ts";
import { TsMuxer, type TsMuxerOptions } from "../media/ts/ts_muxer.ts";
import type { ContainerKind, HlsContainer } from "./container.ts";

export class TsContainer implements HlsContainer {
  readonly kind: ContainerKind = "ts";
  /** The stream's muxer: share it with any other MPEG-TS consumer of the stream. */
  readonly muxer: TsMuxer;

  /** `opts`: the tracks to carry (see TsMuxerOptions), or an existing muxer for the stream. */
  constructor(opts: TsMuxerOptions | TsMuxer = {}) {
    this.muxer = opts instanceof TsMuxer ? opts : new TsMuxer(opts);
  }

  configure(frame: MediaFrame): boolean {
    return this.muxer.configure(frame);
  }

  /** TS segments carry their own tables: no init segment. */
  init(): undefined {
    return undefined;
  }

  /**
   * PAT and PMT when `segmentStart`, then each frame's packets, in one new
   * array the caller owns. TS needs no duration for the last frame, so
   * `nextTimestamp` is not used.
   */
  pack(frames: readonly MediaFrame[], _nextTimestamp: number, segmentStart: boolean): Uint8Array {
    const tables = segmentStart ? this.muxer.tables() : undefined;
    const packed = frames.map((f) => this.muxer.packFrame(f));
    let size = tables?.length ?? 0;
    for (const p of packed) size += p.length;
    const out = new Uint8Array(size);
    let o = 0;
    if (tables) {
      out.set(tables);
      o = tables.length;
    }
    for (const p of packed) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  codecs(): string[] {
    return this.muxer.codecs();
  }
}
