/**
 * The RTMP play output's Packer: a frame becomes RTMP chunks, packed once per
 * (message stream id, chunk size, header form) and cached on the frame, so all
 * players of a stream write the very same bytes.
 *
 * A frame goes out with a delta header (type 1) when the player's previous
 * message on that chunk stream was the stream's previous frame of the same
 * kind; otherwise (first frame, after a skip, after receiveVideo false) with a
 * full header (type 0).
 *
 * @module
 */
import { FrameKind, type MediaFrame } from "../media/frame.ts";
import { ChunkStreamId } from "../rtmp/message.ts";
import type { NewestFrames, Packer } from "../hub/subscriber.ts";
import { encodeMessage } from "../wasm/chunk_writer.ts";

const CSID_OF_KIND: Record<FrameKind, number> = {
  [FrameKind.Audio]: ChunkStreamId.Audio,
  [FrameKind.Video]: ChunkStreamId.Video,
  [FrameKind.Data]: ChunkStreamId.Data,
};

export class RtmpPacker implements Packer {
  readonly streamId: number;
  readonly chunkSize: number;
  /** receiveAudio / receiveVideo from the player. */
  audio = true;
  video = true;
  #last: Record<FrameKind, number> = { [FrameKind.Audio]: 0, [FrameKind.Video]: 0, [FrameKind.Data]: 0 };
  #keyFull: string;
  #keyDelta: string;

  constructor(streamId: number, chunkSize: number) {
    this.streamId = streamId;
    this.chunkSize = chunkSize;
    this.#keyFull = `rtmp:${streamId}:${chunkSize}:full`;
    this.#keyDelta = `rtmp:${streamId}:${chunkSize}:delta`;
  }

  pack(frame: MediaFrame): Uint8Array {
    const kind = frame.kind;
    if ((kind === FrameKind.Audio && !this.audio) || (kind === FrameKind.Video && !this.video)) {
      if (!frame.sequenceHeader) {
        this.#last[kind] = 0;
        return EMPTY;
      }
    }
    const delta = frame.prevTimestamp >= 0 && frame.seq === this.#last[kind] + 1;
    this.#last[kind] = frame.seq;
    const key = delta ? this.#keyDelta : this.#keyFull;
    let bytes = frame.packed[key];
    if (!bytes) {
      bytes = encodeMessage(
        {
          csid: CSID_OF_KIND[kind],
          typeId: kind,
          streamId: this.streamId,
          timestamp: frame.timestamp,
          payload: frame.payload,
        },
        this.chunkSize,
        delta ? "delta" : "full",
        frame.prevTimestamp,
      );
      frame.packed[key] = bytes;
    }
    return bytes;
  }

  reset(): void {
    this.#last = { [FrameKind.Audio]: 0, [FrameKind.Video]: 0, [FrameKind.Data]: 0 };
  }

  /**
   * Players of one message stream id and chunk size that have had every frame pack the same bytes; a
   * player that turned a track off packs its own.
   */
  get shareKey(): string | undefined {
    return this.audio && this.video ? this.#keyDelta : undefined;
  }

  /** The player had the stream's frames up to `newest`: the next of each kind follows on with a delta. */
  caughtUp(newest: NewestFrames): void {
    if (newest.audio) this.#last[FrameKind.Audio] = newest.audio.seq;
    if (newest.video) this.#last[FrameKind.Video] = newest.video.seq;
    if (newest.data) this.#last[FrameKind.Data] = newest.data.seq;
  }
}

const EMPTY = new Uint8Array(0);
