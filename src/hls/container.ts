/**
 * What the HLS segmenter needs from a container (MPEG-TS or fMP4/CMAF): it
 * hands a container runs of hub frames, one run per part, and gets back the
 * bytes of that part. The segmenter decides where parts and segments start
 * (segments at video keyframes, parts by duration); the container only packs.
 *
 * Types only: the two implementations are `src/hls/ts_container.ts` and
 * `src/hls/fmp4_container.ts`.
 *
 * @module
 */
import type { MediaFrame } from "../media/frame.ts";

/** The container formats HLS can carry. */
export type ContainerKind = "ts" | "fmp4";

/** One container's packing for one stream (state: continuity counters, sequence numbers, codec configs). */
export interface HlsContainer {
  readonly kind: ContainerKind;
  /**
   * A sequence header (AVC/AAC decoder configuration) or metadata frame arrived.
   * Returns true when codec parameters changed after media had been packed
   * (the segmenter then starts a new segment with `EXT-X-DISCONTINUITY`).
   */
  configure(frame: MediaFrame): boolean;
  /** fMP4: the init segment (`ftyp` + `moov`) for the current configuration; TS: undefined. */
  init(): Uint8Array | undefined;
  /**
   * The bytes of one part: `frames` are audio and video frames in hub order (no
   * sequence headers, no data frames), `nextTimestamp` the hub timestamp (ms)
   * of the frame that follows the run (the last samples' durations end there).
   * `segmentStart` is true for a segment's first part (TS writes PAT/PMT there;
   * a video segment's first frame is a keyframe).
   */
  pack(frames: readonly MediaFrame[], nextTimestamp: number, segmentStart: boolean): Uint8Array;
  /** RFC 6381 codec strings for `CODECS` (e.g. `avc1.64001f`, `mp4a.40.2`), known once configured. */
  codecs(): string[];
}
