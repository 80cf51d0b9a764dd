/**
 * Hub frames from an FLV file: what a muxer test feeds its muxer, made the
 * way the hub makes them (the tag body as payload, `classify()` for keyframe
 * and sequence-header flags, per-kind sequence numbers).
 *
 * @module
 */
import { classify, FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { FlvReader } from "../../src/media/flv.ts";

/** Every audio, video and data tag of an FLV byte stream as a MediaFrame, timestamps as in the file. */
export function flvFrames(bytes: Uint8Array): MediaFrame[] {
  const reader = new FlvReader();
  const tags = reader.push(bytes);
  reader.end();
  const seq = new Map<number, number>();
  const prev = new Map<number, number>();
  const frames: MediaFrame[] = [];
  for (const tag of tags) {
    const kind = tag.type as FrameKind;
    if (kind !== FrameKind.Audio && kind !== FrameKind.Video && kind !== FrameKind.Data) continue;
    const n = (seq.get(kind) ?? 0) + 1;
    seq.set(kind, n);
    frames.push({
      kind,
      timestamp: tag.timestamp,
      payload: tag.data,
      ...classify(kind, tag.data),
      seq: n,
      prevTimestamp: prev.get(kind) ?? -1,
      packed: {},
    });
    prev.set(kind, tag.timestamp);
  }
  return frames;
}
