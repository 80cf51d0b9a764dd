/**
 * The pure-TypeScript twin of `src/wasm/chunk_reader.ts`: the same API and the
 * same messages and errors for the same bytes, written plainly so the two can
 * be tested against each other (and the bench can show what WASM buys).
 *
 * @module
 */
import { ProtocolError } from "../../src/errors.ts";
import { MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { type ChunkReaderOptions, DEFAULT_MAX_MESSAGE_LENGTH } from "../../src/wasm/chunk_reader.ts";
import { abi, statusName } from "../../src/wasm/module.ts";

export type { ChunkReaderOptions };

const A = abi as Readonly<Record<string, number>>;
/** 5.4.1: the chunk size until the peer sends Set Chunk Size. */
const DEFAULT_CHUNK_SIZE = 128;
/** 5.3.1.3: a 3-byte timestamp field of 0xFFFFFF means an extended timestamp follows. */
const EXTENDED_MARK = 0xffffff;
/** 5.3.1.2: message header bytes per chunk format 0..3. */
const MESSAGE_HEADER_BYTES = [11, 7, 3, 0] as const;
/** 5.3.1.1: 2- and 3-byte basic headers count chunk stream ids from 64. */
const CSID_OFFSET = 64;
/** Control messages (5.4.1, 5.4.2) carry a 4-byte value. */
const CONTROL_BYTES = 4;

/** What one chunk stream remembers between chunks. */
interface ChunkStream {
  csid: number;
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  extended: boolean;
  /** The message in progress, if any, and how many payload bytes it has. */
  message: RtmpMessage | undefined;
  received: number;
}

/** Reassembles RTMP messages from a connection's chunk stream. */
export class ChunkReader {
  readonly #maxMessageLength: number;
  readonly #maxChunkSize: number;
  readonly #buffer = new Uint8Array(64 * 1024);
  readonly #streams = new Map<number, ChunkStream>();
  /** Bytes of an incomplete chunk header from earlier commits. */
  #carry = new Uint8Array(0);
  /** The chunk stream whose chunk payload is being read, and how many bytes it still has. */
  #current: ChunkStream | undefined;
  #left = 0;
  #chunkSize = DEFAULT_CHUNK_SIZE;
  #bytesReceived = 0;
  #error: ProtocolError | undefined;

  constructor(opts: ChunkReaderOptions = {}) {
    this.#maxMessageLength = opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.#maxChunkSize = opts.maxChunkSize ?? abi.MAX_CHUNK_SIZE;
    checkLimit("maxMessageLength", this.#maxMessageLength, 0, abi.MAX_MESSAGE_LENGTH);
    checkLimit("maxChunkSize", this.#maxChunkSize, 1, abi.MAX_CHUNK_SIZE);
  }

  /** Free space to write bytes into before `commit(n)`; valid until the next call. */
  readable(): Uint8Array {
    return this.#buffer;
  }

  /** The WASM reader's smaller reads once set up; the twin reads into one buffer throughout. */
  settle(): void {}

  /** Parses `n` bytes just written into `readable()`; returns the messages they complete. */
  commit(n: number): RtmpMessage[] {
    if (this.#error) throw this.#error;
    if (!Number.isInteger(n) || n < 0 || n > this.#buffer.length) {
      throw new RangeError(`Cannot commit ${n} bytes: readable() holds ${this.#buffer.length}`);
    }
    this.#bytesReceived += n;
    let data = this.#buffer.subarray(0, n);
    if (this.#carry.length > 0) {
      const joined = new Uint8Array(this.#carry.length + n);
      joined.set(this.#carry);
      joined.set(data, this.#carry.length);
      data = joined;
    }
    const out: RtmpMessage[] = [];
    try {
      const used = this.#parse(data, out);
      this.#carry = data.slice(used);
    } catch (err) {
      if (err instanceof ProtocolError) this.#error = err;
      throw err;
    }
    return out;
  }

  /** Copies `bytes` in through `readable()` and `commit()` as often as needed. */
  push(bytes: Uint8Array): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    let off = 0;
    do {
      const room = this.readable();
      const n = Math.min(room.length, bytes.length - off);
      room.set(bytes.subarray(off, off + n));
      off += n;
      out.push(...this.commit(n));
    } while (off < bytes.length);
    return out;
  }

  /** The peer's current chunk size (starts at 128). */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** Total bytes committed so far. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Parses whole chunk headers and payload bytes; returns how many bytes it used. */
  #parse(data: Uint8Array, out: RtmpMessage[]): number {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let pos = 0;
    while (true) {
      if (this.#left > 0) {
        const cs = this.#current!;
        const take = Math.min(this.#left, data.length - pos);
        if (take === 0) return pos;
        cs.message!.payload.set(data.subarray(pos, pos + take), cs.received);
        cs.received += take;
        pos += take;
        this.#left -= take;
        if (this.#left === 0 && cs.received === cs.length) this.#complete(cs, out);
        continue;
      }
      const used = this.#header(data, view, pos);
      if (used === 0) return pos;
      pos += used;
      const cs = this.#current!;
      this.#left = Math.min(this.#chunkSize, cs.length - cs.received);
      if (this.#left === 0) this.#complete(cs, out);
    }
  }

  /** Parses one chunk header at `pos`; returns its size, or 0 when it is not all there yet. */
  #header(data: Uint8Array, view: DataView, pos: number): number {
    const avail = data.length - pos;
    if (avail < 1) return 0;
    const fmt = data[pos] >> 6;
    let csid = data[pos] & 0x3f;
    let basic = 1;
    if (csid === 0) {
      basic = 2;
      if (avail < basic) return 0;
      csid = CSID_OFFSET + data[pos + 1];
    } else if (csid === 1) {
      basic = 3;
      if (avail < basic) return 0;
      csid = CSID_OFFSET + data[pos + 1] + data[pos + 2] * 256;
    }
    const mh = MESSAGE_HEADER_BYTES[fmt];
    if (avail < basic + mh) return 0;
    const known = this.#streams.get(csid);
    if (!known && fmt !== 0) {
      this.#fail(
        A.ST_BAD_HEADER,
        `Cannot parse a type ${fmt} chunk header on chunk stream ${csid}: no previous header on it`,
      );
    }
    const at = pos + basic;
    const field = fmt < 3 ? u24(data, at) : 0;
    const extended = fmt < 3 ? field === EXTENDED_MARK : known!.extended;
    const size = basic + mh + (extended ? 4 : 0);
    if (avail < size) return 0;
    if (known?.message && fmt !== 3) {
      this.#fail(
        A.ST_BAD_HEADER,
        `Cannot start a new message on chunk stream ${csid}: current message has ${known.received} of ${known.length} bytes`,
      );
    }
    const length = fmt <= 1 ? u24(data, at + 3) : 0;
    if (length > this.#maxMessageLength) {
      this.#fail(
        A.ST_MESSAGE_TOO_LONG,
        `Cannot accept a message of ${length} bytes on chunk stream ${csid}: limit ${this.#maxMessageLength}`,
      );
    }
    let cs = known;
    if (!cs) {
      if (this.#streams.size >= abi.MAX_CHUNK_STREAMS) {
        this.#fail(
          A.ST_TOO_MANY_CHUNK_STREAMS,
          `Cannot open chunk stream ${csid}: limit ${abi.MAX_CHUNK_STREAMS} chunk streams`,
        );
      }
      cs = {
        csid,
        timestamp: 0,
        delta: 0,
        length: 0,
        typeId: 0,
        streamId: 0,
        extended: false,
        message: undefined,
        received: 0,
      };
      this.#streams.set(csid, cs);
    }
    const value = extended ? view.getUint32(at + mh) : field;
    if (fmt < 3) cs.extended = extended;
    const starts = !cs.message;
    switch (fmt) {
      case 0:
        cs.timestamp = value;
        cs.delta = 0;
        cs.length = length;
        cs.typeId = data[at + 6];
        cs.streamId = view.getUint32(at + 7, true);
        break;
      case 1:
        cs.delta = value;
        cs.timestamp = (cs.timestamp + value) >>> 0;
        cs.length = length;
        cs.typeId = data[at + 6];
        break;
      case 2:
        cs.delta = value;
        cs.timestamp = (cs.timestamp + value) >>> 0;
        break;
      default:
        // The extended field a type 3 chunk repeats is read past and ignored.
        if (starts) cs.timestamp = (cs.timestamp + cs.delta) >>> 0;
    }
    if (starts) {
      cs.message = {
        csid,
        typeId: cs.typeId,
        streamId: cs.streamId,
        timestamp: cs.timestamp,
        payload: new Uint8Array(cs.length),
      };
      cs.received = 0;
    }
    this.#current = cs;
    return size;
  }

  /** A message completed: applies Set Chunk Size and Abort Message, then hands it out. */
  #complete(cs: ChunkStream, out: RtmpMessage[]): void {
    const msg = cs.message!;
    cs.message = undefined;
    out.push(msg);
    const { payload } = msg;
    if (msg.typeId === MessageType.SetChunkSize) {
      if (payload.length < CONTROL_BYTES) {
        this.#fail(
          A.ST_BAD_CHUNK_SIZE,
          `Cannot apply a Set Chunk Size message of ${payload.length} bytes on chunk stream ${cs.csid}: need ${CONTROL_BYTES}`,
        );
      }
      const size = u32(payload, 0);
      if (size < 1 || size > this.#maxChunkSize) {
        this.#fail(
          A.ST_BAD_CHUNK_SIZE,
          `Cannot set chunk size to ${size} on chunk stream ${cs.csid}: allowed 1..${this.#maxChunkSize}`,
        );
      }
      this.#chunkSize = size;
    } else if (msg.typeId === MessageType.Abort) {
      if (payload.length < CONTROL_BYTES) {
        this.#fail(
          A.ST_BAD_HEADER,
          `Cannot apply an Abort message of ${payload.length} bytes on chunk stream ${cs.csid}: need ${CONTROL_BYTES}`,
        );
      }
      const target = this.#streams.get(u32(payload, 0));
      if (target) target.message = undefined;
    }
  }

  #fail(code: number, detail: string): never {
    throw new ProtocolError(code, `${statusName(code)}: ${detail}`);
  }
}

function u24(b: Uint8Array, at: number): number {
  return (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function checkLimit(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot use ${name} ${value}: allowed ${min}..${max}`);
  }
}
