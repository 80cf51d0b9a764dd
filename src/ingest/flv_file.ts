/**
 * An FLV file as tags for playing it out as a live stream: `FlvReader` over the
 * file, each tag's timestamp made relative to the file's first tag. Looping
 * goes on from the last timestamp plus one frame duration, so timestamps stay
 * continuous and monotonic across loops. Audio and video rarely end together
 * (AAC priming, an encoder's delay): the next loop starts as early as neither
 * kind goes back, so the one that ends later is seamless and the other shows
 * the difference as one longer gap. A frame lasts as long as the last gap
 * between two frames of its kind, else 40 ms. The sequence headers
 * and metadata the file starts with are not sent again on later loops when
 * they are the same bytes.
 *
 * A file that ends inside a tag (a recording still being written) is read up
 * to its last whole tag. Pacing is the caller's (see `Pacer`).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { classify } from "../media/frame.ts";
import { DEFAULT_MAX_TAG_SIZE, FlvReader, TagType } from "../media/flv.ts";
import type { SeekableReader } from "./annexb_file.ts";
import type { SourceTag } from "./flv_publisher.ts";

/** The frame duration used for the loop gap when the file has fewer than two tags of a kind, in ms. */
const DEFAULT_FRAME_MS = 40;
/** Bytes read from the file at a time. */
const READ_BYTES = 64 * 1024;

/** Options for `flvFileTags`. */
export interface FlvFileOptions {
  /** Start again at the end of the file. */
  readonly loop: boolean;
  /** Largest tag accepted, in bytes. Default 8 MiB. */
  readonly maxTagSize?: number;
}

/**
 * The file's tags with timestamps from 0, continuous across loops (see the
 * module doc), read as they are taken. Malformed FLV throws ProtocolError.
 */
export async function* flvFileTags(file: SeekableReader, options: FlvFileOptions): AsyncGenerator<SourceTag> {
  /** Sequence headers and script data of the first loop, not repeated when a later loop has the same bytes. */
  const firstHeaders: Uint8Array[] = [];
  const buf = new Uint8Array(READ_BYTES);
  let base = 0;
  for (let loop = 0;; loop++) {
    const reader = new FlvReader({ maxTagSize: options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE });
    let first: number | undefined;
    let last = 0;
    const gap = { [TagType.Video]: 0, [TagType.Audio]: 0 };
    const prev = { [TagType.Video]: -1, [TagType.Audio]: -1 };
    const start = { [TagType.Video]: -1, [TagType.Audio]: -1 };
    let tags = 0;
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      for (const tag of reader.push(buf.subarray(0, n))) {
        first ??= tag.timestamp;
        const rel = Math.max(0, tag.timestamp - first);
        last = Math.max(last, rel);
        tags++;
        const header = tag.type === TagType.ScriptData || classify(tag.type, tag.data).sequenceHeader;
        if (!header) {
          const kind = tag.type as typeof TagType.Video | typeof TagType.Audio;
          if (prev[kind] >= 0 && rel > prev[kind]) gap[kind] = rel - prev[kind];
          if (start[kind] < 0) start[kind] = rel;
          prev[kind] = rel;
        }
        if (header) {
          if (loop === 0) firstHeaders.push(tag.data);
          else if (firstHeaders.some((h) => sameBytes(h, tag.data))) continue;
        }
        yield { type: tag.type, timestamp: base + rel, data: tag.data };
      }
    }
    if (tags === 0) throw new ProtocolError("flv", "Cannot play FLV file: it holds no tag");
    if (!options.loop) return;
    // The next loop starts as early as it can without a kind going back: where each kind's next frame
    // would be (one frame after its last), less where that kind starts in the file.
    const kinds = [TagType.Video, TagType.Audio].filter((k) => prev[k] >= 0);
    base += kinds.length === 0
      ? last + DEFAULT_FRAME_MS
      : Math.max(...kinds.map((k) => prev[k] + (gap[k] || DEFAULT_FRAME_MS) - start[k]));
    await file.seek(0, Deno.SeekMode.Start);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
