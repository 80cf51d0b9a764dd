/**
 * RtspPlayReader: what a bench RTSP player reads from its connection (RFC
 * 2326), kept cheap for hundreds of players in one process. Socket-free: the
 * player reads straight into `readable()` and calls `commit(n, onPacket)`.
 *
 * - Interleaved frames (10.12: `$`, channel, 16-bit length, packet) are only
 *   delimited: each whole one is handed to `onPacket` as offsets into the
 *   reader's region, with no copy and no object per packet.
 * - Responses (status line, headers, an empty line, Content-Length bytes of
 *   body) are delimited here and parsed by the server's own RtspReader; they
 *   may come split across reads, and with interleaved frames in the same read
 *   before or after them (the PLAY answer and the first packets do).
 * - Whatever is incomplete at the end of a commit is moved to the front of
 *   the region and completed by the next read. Bounded (STYLE 7): a head past
 *   MAX_HEADER_BYTES or a body past MAX_BODY_BYTES is an error, so the kept
 *   tail (at most one frame or one response) always leaves room to read.
 *
 * Ownership (STYLE 14): the bytes `onPacket` sees are valid only during the
 * call; responses are the caller's.
 *
 * @module
 */
import { Interleaved } from "../src/media/rtp/interleaved.ts";
import type { RtspResponse } from "../src/rtsp/message.ts";
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, RtspReader } from "../src/rtsp/reader.ts";

/** The reader's region: room for the largest kept tail (a head and a body) plus a read of 16 KiB. */
export const PLAY_READ_BYTES = 96 * 1024;

/** One interleaved frame: its channel and its packet at `bytes[start..end)`, valid during the call. */
export type OnPacket = (channel: number, bytes: Uint8Array, start: number, end: number) => void;

const CR = 0x0d;
const LF = 0x0a;
/** `Content-Length:` in a head, its value (RFC 2326 12.14). */
const CONTENT_LENGTH = /\r\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*\r\n/i;

const latin1 = new TextDecoder("latin1");

if (MAX_HEADER_BYTES + MAX_BODY_BYTES + 16 * 1024 > PLAY_READ_BYTES) {
  throw new RangeError(
    `Cannot size RtspPlayReader: current region ${PLAY_READ_BYTES} bytes, expected a head, a body and 16 KiB`,
  );
}

export class RtspPlayReader {
  readonly #buf = new Uint8Array(PLAY_READ_BYTES);
  /** Bytes held at the front of `#buf`, not yet part of a returned item. */
  #held = 0;
  /** Parses each whole response once it is delimited. */
  readonly #messages = new RtspReader();

  /** Where the next read goes: the region after the kept tail (never empty). */
  readable(): Uint8Array {
    return this.#buf.subarray(this.#held);
  }

  /** Takes `n` bytes read into `readable()`: each whole frame goes to `onPacket`; returns the whole responses. */
  commit(n: number, onPacket: OnPacket): RtspResponse[] {
    const buf = this.#buf;
    const end = this.#held + n;
    const responses: RtspResponse[] = [];
    let pos = 0;
    while (pos < end) {
      const b = buf[pos];
      if (b === Interleaved.Magic) {
        if (end - pos < Interleaved.HeaderSize) break;
        const total = Interleaved.HeaderSize + ((buf[pos + 2] << 8) | buf[pos + 3]);
        if (end - pos < total) break;
        onPacket(buf[pos + 1], buf, pos + Interleaved.HeaderSize, pos + total);
        pos += total;
      } else if (b === CR || b === LF) {
        pos++; // empty lines between messages (RFC 2326 4 by way of HTTP/1.1 4.1)
      } else {
        const used = this.#response(pos, end, responses);
        if (used === 0) break;
        pos += used;
      }
    }
    buf.copyWithin(0, pos, end);
    this.#held = end - pos;
    return responses;
  }

  /** A response at `pos`: the bytes it used, 0 until it is all here. */
  #response(pos: number, end: number, out: RtspResponse[]): number {
    const buf = this.#buf;
    const limit = Math.min(end, pos + MAX_HEADER_BYTES);
    let headEnd = -1;
    for (let i = pos + 3; i < limit; i++) {
      if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) {
        headEnd = i + 1;
        break;
      }
    }
    if (headEnd < 0) {
      if (end - pos >= MAX_HEADER_BYTES) {
        throw new RangeError(
          `Cannot read RTSP response: current head has no end in ${
            end - pos
          } bytes, limit ${MAX_HEADER_BYTES}`,
        );
      }
      return 0;
    }
    const head = latin1.decode(buf.subarray(pos, headEnd));
    const bodyBytes = Number(head.match(CONTENT_LENGTH)?.[1] ?? 0);
    if (bodyBytes > MAX_BODY_BYTES) {
      throw new RangeError(
        `Cannot read RTSP response: current body ${bodyBytes} bytes, limit ${MAX_BODY_BYTES}`,
      );
    }
    const total = headEnd - pos + bodyBytes;
    if (end - pos < total) return 0;
    for (const item of this.#messages.push(buf.subarray(pos, pos + total))) {
      if (item.type !== "response") {
        throw new TypeError(`Cannot read RTSP response: current message is a ${item.type}`);
      }
      out.push(item);
    }
    return total;
  }
}
