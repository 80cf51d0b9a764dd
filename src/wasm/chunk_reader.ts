/**
 * RTMP chunk demux (Adobe RTMP Specification 1.0, 5.3) on one `conn` instance
 * of the WebAssembly module. The parser is `wasm/assembly/chunk_parse.ts`,
 * which documents the event records and the state layout; this file turns its
 * payload spans into whole messages. Its pure-TypeScript twin, with the same
 * API and behaviour, is `test/_util/chunk_reader_ref.ts`.
 *
 * ```ts
 * const reader = new ChunkReader();
 * const n = await conn.read(reader.readable());
 * if (n !== null) for (const msg of reader.commit(n)) handle(msg);
 * ```
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { abi, check, instantiate, statusName, type WasmInstance } from "./module.ts";

/** One whole RTMP message as the chunk layer reads and writes it (RTMP 1.0 section 5.3). */
export interface ChunkMessage {
  /** The chunk stream it arrived on or is sent on (2..65599). */
  csid: number;
  /** The message type id (unknown ids are passed up as numbers). */
  typeId: number;
  /** The message stream id (0 for control and NetConnection commands). */
  streamId: number;
  /** Absolute timestamp in milliseconds, 32-bit (wraps). */
  timestamp: number;
  /** The payload; owned by whoever holds the message, never a view into WASM memory. */
  payload: Uint8Array;
}

/** The default cap on a message's length: 8 MiB. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 8 * 1024 * 1024;

/** Limits for one connection's demux. */
export interface ChunkReaderOptions {
  /** Largest message length a header may declare, in bytes. Default 8 MiB; at most `MAX_MESSAGE_LENGTH`. */
  maxMessageLength?: number;
  /** Largest chunk size the peer may set, in bytes. Default and ceiling `MAX_CHUNK_SIZE`. */
  maxChunkSize?: number;
}

const A = abi as Readonly<Record<string, number>>;
const I32 = 4;
const EVENTS = A.CONN_EVENTS_PTR / I32;
const EVENT_WORDS = A.EVENT_SIZE / I32;
const EV_SPAN = A.CHUNK_EV_SPAN;
const EV_KIND_TYPE = A.CHUNK_EV_KIND_TYPE;
const EV_CSID = A.CHUNK_EV_CSID;
const EV_STREAM_ID = A.CHUNK_EV_STREAM_ID;
const EV_TIMESTAMP = A.CHUNK_EV_TIMESTAMP;
const EV_LENGTH = A.CHUNK_EV_LENGTH;
const EV_OFFSET = A.CHUNK_EV_OFFSET;
const EV_PTR = A.CHUNK_EV_PTR;
const EV_SPAN_LENGTH = A.CHUNK_EV_SPAN_LENGTH;
const STATE_CHUNK_SIZE = A.CHUNK_STATE_CHUNK_SIZE / I32;
const STATE_MORE = A.CHUNK_STATE_MORE / I32;
const READ_PTR = A.CONN_READ_PTR;
const READ_END = A.CONN_INPUT_PTR + A.CONN_INPUT_SIZE;

/** Reassembles RTMP messages from a connection's chunk stream. */
export class ChunkReader {
  readonly #wasm: WasmInstance;
  readonly #parse: (n: number) => number;
  readonly #resume: () => number;
  readonly #readable: Uint8Array;
  /** Messages whose payload is still arriving, by chunk stream id. */
  readonly #partial = new Map<number, ChunkMessage>();
  #bytesReceived = 0;
  #error: ProtocolError | undefined;

  constructor(opts: ChunkReaderOptions = {}) {
    const maxMessageLength = opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    const maxChunkSize = opts.maxChunkSize ?? abi.MAX_CHUNK_SIZE;
    checkLimit("maxMessageLength", maxMessageLength, 0, abi.MAX_MESSAGE_LENGTH);
    checkLimit("maxChunkSize", maxChunkSize, 1, abi.MAX_CHUNK_SIZE);
    this.#wasm = instantiate("conn");
    const ex = this.#wasm.exports;
    check(ex.chunkInit(maxMessageLength, maxChunkSize), () => "Cannot start the chunk reader");
    this.#parse = ex.chunkParse;
    this.#resume = ex.chunkResume;
    this.#readable = this.#wasm.u8.subarray(READ_PTR, READ_END);
  }

  /**
   * Free space to read socket bytes into, then call `commit(n)`. A view of
   * this connection's input region, after any carried partial header bytes;
   * valid until the next call on this reader.
   */
  readable(): Uint8Array {
    return this.#readable;
  }

  /**
   * Parses `n` bytes just written into `readable()` and returns the messages
   * they complete, in order. Payloads are owned copies. Throws ProtocolError
   * on a protocol violation; the reader then throws it on every later call.
   */
  commit(n: number): ChunkMessage[] {
    if (this.#error) throw this.#error;
    if (!Number.isInteger(n) || n < 0 || n > this.#readable.length) {
      throw new RangeError(`Cannot commit ${n} bytes: readable() holds ${this.#readable.length}`);
    }
    this.#bytesReceived += n;
    const out: ChunkMessage[] = [];
    const i32 = this.#wasm.i32;
    let status = this.#parse(n);
    while (true) {
      if (status < 0) this.#fail(status);
      this.#drain(status, out);
      if (i32[STATE_MORE] === 0) return out;
      status = this.#resume();
    }
  }

  /** Copies `bytes` in through `readable()` and `commit()` as often as needed; returns the messages completed. */
  push(bytes: Uint8Array): ChunkMessage[] {
    const out: ChunkMessage[] = [];
    let off = 0;
    do {
      const room = this.readable();
      const n = Math.min(room.length, bytes.length - off);
      room.set(bytes.subarray(off, off + n));
      off += n;
      for (const msg of this.commit(n)) out.push(msg);
    } while (off < bytes.length);
    return out;
  }

  /** The peer's current chunk size (starts at 128). */
  get chunkSize(): number {
    return this.#wasm.i32[STATE_CHUNK_SIZE];
  }

  /** Total bytes committed so far (for Acknowledgements). */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Turns `count` events into message bytes: the one copy out of WASM memory. */
  #drain(count: number, out: ChunkMessage[]): void {
    const { i32, u8 } = this.#wasm;
    const partial = this.#partial;
    for (let e = EVENTS, end = EVENTS + count * EVENT_WORDS; e < end; e += EVENT_WORDS) {
      const kindType = i32[e + EV_KIND_TYPE];
      const csid = i32[e + EV_CSID];
      if ((kindType & 0xff) !== EV_SPAN) {
        partial.delete(csid); // CHUNK_EV_DISCARD: an Abort Message dropped it
        continue;
      }
      const length = i32[e + EV_LENGTH];
      const offset = i32[e + EV_OFFSET];
      const ptr = i32[e + EV_PTR];
      const spanLength = i32[e + EV_SPAN_LENGTH];
      if (offset === 0) {
        const msg: ChunkMessage = {
          csid,
          typeId: kindType >>> 8,
          streamId: i32[e + EV_STREAM_ID] >>> 0,
          timestamp: i32[e + EV_TIMESTAMP] >>> 0,
          payload: spanLength === length ? u8.slice(ptr, ptr + length) : new Uint8Array(length),
        };
        if (spanLength === length) out.push(msg);
        else {
          msg.payload.set(u8.subarray(ptr, ptr + spanLength));
          partial.set(csid, msg);
        }
        continue;
      }
      const msg = partial.get(csid)!;
      msg.payload.set(u8.subarray(ptr, ptr + spanLength), offset);
      if (offset + spanLength === length) {
        partial.delete(csid);
        out.push(msg);
      }
    }
  }

  #fail(status: number): never {
    const i32 = this.#wasm.i32;
    const reason = i32[A.CHUNK_STATE_ERR_REASON / I32];
    const csid = i32[A.CHUNK_STATE_ERR_CSID / I32];
    const value = i32[A.CHUNK_STATE_ERR_VALUE / I32] >>> 0;
    const limit = i32[A.CHUNK_STATE_ERR_LIMIT / I32];
    this.#error = new ProtocolError(status, `${statusName(status)}: ${describe(reason, csid, value, limit)}`);
    throw this.#error;
  }
}

/** The message for a parse error, from the reason and numbers the module recorded. */
function describe(reason: number, csid: number, value: number, limit: number): string {
  switch (reason) {
    case A.CHUNK_ERR_NO_PREVIOUS_HEADER:
      return `Cannot parse a type ${value} chunk header on chunk stream ${csid}: no previous header on it`;
    case A.CHUNK_ERR_MESSAGE_IN_PROGRESS:
      return `Cannot start a new message on chunk stream ${csid}: current message has ${value} of ${limit} bytes`;
    case A.CHUNK_ERR_MESSAGE_TOO_LONG:
      return `Cannot accept a message of ${value} bytes on chunk stream ${csid}: limit ${limit}`;
    case A.CHUNK_ERR_CHUNK_SIZE:
      return `Cannot set chunk size to ${value} on chunk stream ${csid}: allowed 1..${limit}`;
    case A.CHUNK_ERR_SET_CHUNK_SIZE_SHORT:
      return `Cannot apply a Set Chunk Size message of ${value} bytes on chunk stream ${csid}: need ${limit}`;
    case A.CHUNK_ERR_ABORT_SHORT:
      return `Cannot apply an Abort message of ${value} bytes on chunk stream ${csid}: need ${limit}`;
    case A.CHUNK_ERR_TOO_MANY_CHUNK_STREAMS:
      return `Cannot open chunk stream ${csid}: limit ${limit} chunk streams`;
    default:
      return `Cannot parse chunk stream ${csid}: unknown reason ${reason}`;
  }
}

function checkLimit(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot use ${name} ${value}: allowed ${min}..${max}`);
  }
}
