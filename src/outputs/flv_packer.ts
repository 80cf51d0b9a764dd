/**
 * The FLV outputs' Packer (HTTP-FLV and WebSocket-FLV): a frame becomes one
 * FLV tag (FLV spec v10.1 E.4.1: tag header, the frame's payload as the tag
 * body, PreviousTagSize), packed the first time any player needs it and cached
 * on `frame.packed[FLV_PACKED_KEY]`, so every FLV player of a stream writes
 * the very same bytes (pack once, write many).
 *
 * An FLV tag depends on nothing but its frame (no per-player header form, no
 * chunk size), so the packer keeps no state and a skip needs no reset.
 *
 * Also `flvHeaderFlags`: which of the FLV header's TypeFlags (E.2) to set for
 * a stream, from what it has carried so far.
 *
 * @module
 */
import { FrameKind, type MediaFrame } from "../media/frame.ts";
import type { Packer } from "../hub/subscriber.ts";
import { type FlvTagType, packTag } from "../wasm/flv_pack.ts";

/** The key of the FLV tag in `MediaFrame.packed`. */
export const FLV_PACKED_KEY = "flv";

/** FLV Timestamp plus TimestampExtended is 32 bits of milliseconds (E.4.1); later times wrap, as on RTMP. */
const TIMESTAMP_RANGE = 0x1_0000_0000;

/** The tracks an FLV player leaves out (ffserver's NoAudio / NoVideo). */
export interface TrackFilter {
  readonly noAudio?: boolean;
  readonly noVideo?: boolean;
}

/** What a left-out frame packs to: nothing. */
const NOTHING = new Uint8Array(0);

export class FlvPacker implements Packer {
  readonly #dropAudio: boolean;
  readonly #dropVideo: boolean;

  /** Players with the same tracks get the same bytes: a tag depends on nothing but its frame. */
  readonly shareKey: string;

  /** `filter`: tracks to leave out; their frames pack to no bytes. */
  constructor(filter: TrackFilter = {}) {
    this.#dropAudio = filter.noAudio === true;
    this.#dropVideo = filter.noVideo === true;
    this.shareKey = `${FLV_PACKED_KEY}:${this.#dropAudio ? "-" : "a"}${this.#dropVideo ? "-" : "v"}`;
  }

  /** The frame's FLV tag. Shared bytes, owned by the frame: never mutate them. */
  pack(frame: MediaFrame): Uint8Array {
    if (
      frame.kind === FrameKind.Audio ? this.#dropAudio : frame.kind === FrameKind.Video && this.#dropVideo
    ) {
      return NOTHING;
    }
    let tag = frame.packed[FLV_PACKED_KEY];
    if (!tag) {
      // FrameKind's values are the FLV tag types (frame.ts), so the kind is the TagType.
      tag = packTag(frame.kind as FlvTagType, frame.timestamp % TIMESTAMP_RANGE, frame.payload);
      frame.packed[FLV_PACKED_KEY] = tag;
    }
    return tag;
  }

  /** Nothing to forget: a tag never depends on the one before it. */
  reset(): void {}
}

/** What a stream has carried so far, as far as the FLV header needs it. */
export interface StreamKinds {
  readonly stats: { readonly audioFrames: number; readonly videoFrames: number };
}

/**
 * The FLV header's TypeFlagsAudio and TypeFlagsVideo (E.2) for a player of
 * `stream`: what the stream has carried so far, or both when it has carried no
 * audio or video yet (no stream, or a publisher that has sent nothing). Players
 * such as mpegts.js wait for every track the header announces, so a flag set
 * for a track that never comes stalls them; a flag missing for one that comes
 * hides it.
 */
export function flvHeaderFlags(
  stream: StreamKinds | undefined,
  filter: TrackFilter = {},
): { audio: boolean; video: boolean } {
  let audio = (stream?.stats.audioFrames ?? 0) > 0;
  let video = (stream?.stats.videoFrames ?? 0) > 0;
  if (!audio && !video) audio = video = true;
  return { audio: audio && !filter.noAudio, video: video && !filter.noVideo };
}
