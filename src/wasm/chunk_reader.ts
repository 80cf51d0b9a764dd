/**
 * RTMP chunk demux (Adobe RTMP Specification 1.0, 5.3) on one `conn` instance
 * of the WebAssembly module. The parser is `wasm/assembly/chunk_parse.ts`,
 * which documents the event records and the state layout; this file turns its
 * payload spans into whole messages. Its pure-TypeScript twin, with the same
 * API and behaviour, is `test/_util/chunk_reader_ref.ts`.
 *
 * A reader starts on the process's shared `conn` instance: it reads into a
 * small buffer of its own (SMALL_READ bytes: an RTMP player sends commands,
 * acknowledgements and pings, not media) and keeps its parser state (the
 * state region up to its last open chunk stream, a few hundred bytes, and any
 * carried header bytes) between calls, putting it in the shared instance for
 * each `commit` and taking it out after. The FULL_READS_TO_MOVE-th read that
 * fills that buffer (a publisher's media; a player's one long `connect`, with a
 * token in its URL, does not) gives the reader an instance of its own, with its
 * state moved in, and from then on socket reads land straight in its WASM
 * memory. So an idle or playing connection costs about 3 KB here rather than
 * an instance (20 KB) and its 96 KiB input region.
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
const STATE_PTR = A.CONN_STATE_PTR;
const STATE_CARRY = A.CHUNK_STATE_CARRY / I32;
const STATE_OPEN = A.CHUNK_STATE_OPEN / I32;
const SLOTS_PTR = A.CHUNK_SLOTS_PTR;
const SLOT_SIZE = A.CHUNK_SLOT_SIZE;

/** The read buffer of a reader on the shared instance; a read that fills it moves the reader to its own. */
export const SMALL_READ = 1024;
/** The read buffer of a settled reader on the shared instance (`settle()`: a player's acks and pings). */
export const SETTLED_READ = 256;
/** The full reads of the small buffer after which a reader gets its own instance (a publisher's first KBs). */
export const FULL_READS_TO_MOVE = 3;

/** The `conn` instance readers share until they read much (see the module doc); made on first use. */
let sharedInstance: WasmInstance | undefined;

/** Readers given an instance of their own so far, for tests and memory figures. */
let ownInstances = 0;

/** How many readers have moved to an instance of their own since the process started. */
export function ownInstanceCount(): number {
  return ownInstances;
}

/** Reassembles RTMP messages from a connection's chunk stream. */
export class ChunkReader {
  #wasm: WasmInstance;
  #parse: (n: number) => number;
  #resume: () => number;
  #readable: Uint8Array;
  /** On the shared instance: the parser state saved between calls (undefined once it has its own). */
  #saved: Uint8Array | undefined;
  #savedLength = 0;
  /** On the shared instance: the header bytes carried to the next read. */
  #carry: Uint8Array = EMPTY;
  /** Messages whose payload is still arriving, by chunk stream id. */
  readonly #partial = new Map<number, ChunkMessage>();
  #bytesReceived = 0;
  /** Reads that filled the small buffer, on the shared instance. */
  #fullReads = 0;
  #error: ProtocolError | undefined;

  constructor(opts: ChunkReaderOptions = {}) {
    const maxMessageLength = opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    const maxChunkSize = opts.maxChunkSize ?? abi.MAX_CHUNK_SIZE;
    checkLimit("maxMessageLength", maxMessageLength, 0, abi.MAX_MESSAGE_LENGTH);
    checkLimit("maxChunkSize", maxChunkSize, 1, abi.MAX_CHUNK_SIZE);
    this.#wasm = sharedInstance ??= instantiate("conn");
    const ex = this.#wasm.exports;
    check(ex.chunkInit(maxMessageLength, maxChunkSize), () => "Cannot start the chunk reader");
    this.#parse = ex.chunkParse;
    this.#resume = ex.chunkResume;
    this.#readable = new Uint8Array(SMALL_READ);
    this.#saved = new Uint8Array(SLOTS_PTR - STATE_PTR + 4 * SLOT_SIZE);
    this.#saveState();
  }

  /** Whether this reader has a WASM instance of its own (it read much), rather than the shared one. */
  get ownsInstance(): boolean {
    return this.#saved === undefined;
  }

  /**
   * Free space to read socket bytes into, then call `commit(n)`: the reader's
   * small buffer while it is on the shared instance, else a view of its own
   * input region after any carried partial header bytes. Valid until the next
   * call on this reader (a commit may move it to its own instance).
   */
  readable(): Uint8Array {
    return this.#readable;
  }

  /**
   * The connection is set up and from now on sends little (a player's acknowledgements, pings, the odd
   * command): on the shared instance, later reads go into SETTLED_READ bytes rather than SMALL_READ, and
   * the count of full reads starts again. A reader with its own instance keeps its region.
   */
  settle(): void {
    if (this.#saved === undefined || this.#readable.length <= SETTLED_READ) return;
    this.#readable = new Uint8Array(SETTLED_READ);
    this.#fullReads = 0;
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
    const shared = this.#saved !== undefined;
    if (shared) this.#loadState(n);
    const out: ChunkMessage[] = [];
    const i32 = this.#wasm.i32;
    try {
      let status = this.#parse(n);
      while (true) {
        if (status < 0) this.#fail(status);
        this.#drain(status, out);
        if (i32[STATE_MORE] === 0) break;
        status = this.#resume();
      }
    } finally {
      if (shared) this.#saveState();
    }
    if (shared && n === this.#readable.length && ++this.#fullReads >= FULL_READS_TO_MOVE) {
      this.#moveToOwnInstance();
    }
    return out;
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
    const saved = this.#saved;
    if (saved === undefined) return this.#wasm.i32[STATE_CHUNK_SIZE];
    return new DataView(saved.buffer).getInt32(A.CHUNK_STATE_CHUNK_SIZE - STATE_PTR, true);
  }

  /** Puts this reader's state and carried bytes in the shared instance, then `n` bytes read after them. */
  #loadState(n: number): void {
    const u8 = this.#wasm.u8;
    u8.set(this.#saved!.subarray(0, this.#savedLength), STATE_PTR);
    // The slot a new chunk stream would take starts clean: another reader's may have been there.
    const next = STATE_PTR + this.#savedLength;
    u8.fill(0, next, next + SLOT_SIZE);
    u8.set(this.#carry, READ_PTR - this.#carry.length);
    u8.set(this.#readable.subarray(0, n), READ_PTR);
  }

  /** Takes this reader's state out of the shared instance: the region up to its last open slot, and the carry. */
  #saveState(): void {
    const { u8, i32 } = this.#wasm;
    const length = SLOTS_PTR - STATE_PTR + i32[STATE_OPEN] * SLOT_SIZE;
    if (this.#saved!.length < length) this.#saved = new Uint8Array(length + 4 * SLOT_SIZE);
    this.#saved!.set(u8.subarray(STATE_PTR, STATE_PTR + length));
    this.#savedLength = length;
    const carry = i32[STATE_CARRY];
    this.#carry = carry === 0 ? EMPTY : u8.slice(READ_PTR - carry, READ_PTR);
  }

  /** A read filled the small buffer: this reader reads much (a publisher) and gets an instance of its own. */
  #moveToOwnInstance(): void {
    const own = instantiate("conn");
    own.u8.set(this.#saved!.subarray(0, this.#savedLength), STATE_PTR);
    own.u8.set(this.#carry, READ_PTR - this.#carry.length);
    this.#wasm = own;
    this.#parse = own.exports.chunkParse;
    this.#resume = own.exports.chunkResume;
    this.#readable = own.u8.subarray(READ_PTR, READ_END);
    this.#saved = undefined;
    this.#carry = EMPTY;
    ownInstances++;
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

const EMPTY = new Uint8Array(0);

function checkLimit(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot use ${name} ${value}: allowed ${min}..${max}`);
  }
}
