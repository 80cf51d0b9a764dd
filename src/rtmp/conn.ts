/**
 * RtmpConn: the one RTMP connection core. The server session
 * (`server/session.ts`), Sluice's client (`client/client.ts`) and RTMP VOD
 * (`../vod/rtmp_vod.ts`, through the session) all run on it; the state machines
 * above it only decide what a message means.
 *
 * It owns the socket and everything that is the same on both sides of a
 * connection:
 * - **the handshake loop**: feed a `ServerHandshake` or `ClientHandshake`
 *   what the socket gives until it is done, writing what it answers;
 * - **the read loop**: socket bytes straight into the connection's WASM chunk
 *   reader, whole messages handed up in order, reading paused while the owner
 *   asks (the client's bounded player queues);
 * - **protocol control** (5.4, 7.1.7): Window Acknowledgement Size is kept and
 *   an Acknowledgement sent each time another window has come in; Set Peer
 *   Bandwidth is answered with our window when it differs; Ping Request is
 *   answered; Set Chunk Size and Abort are applied inside the chunk reader;
 *   other user control events go up to the owner;
 * - **the write chain**: every byte goes through one `ConnWriter`
 *   (`src/conn_writer.ts`, as on the HTTP/1.1 server), so writes never
 *   interleave and what comes behind a write under way goes out as one batch
 *   after it; a failed write is reported once (`onWriteError`);
 * - **message encoding**: messages are chunked in the current outgoing chunk
 *   size (a Set Chunk Size message switches it for everything after it, in the
 *   same write), with a type 1 (delta) header when asked and the previous
 *   message on that chunk stream allows it: same message stream and a forward
 *   step (below 2^31 mod 2^32). Live play does not come through here: its
 *   packer (`outputs/rtmp_play.ts`) shares one packing per frame between all
 *   players and decides its delta headers by the stream's frame sequence.
 *
 * Byte counters include the handshake. The core never logs: its owner logs the
 * connection's close reason once.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import { closeReasonOf, ConnectionClosedError } from "../errors.ts";
import { ChunkReader } from "../wasm/chunk_reader.ts";
import { encodeMessage } from "../wasm/chunk_writer.ts";
import { ConnWriter } from "../conn_writer.ts";
import type { AmfObject } from "../amf/value.ts";
import { commandMessage, type StatusLevel, statusMessage } from "./command.ts";
import * as control from "./control.ts";
import type { HandshakeStep } from "./handshake.ts";
import { MessageType, type RtmpMessage } from "./message.ts";

/** Either side of the handshake, as the core drives it. */
export interface Handshaker {
  feed(bytes: Uint8Array): HandshakeStep;
}

/** The user control events (7.1.7) about a stream that the core hands up. */
export type StreamControl = Extract<
  control.Control,
  { kind: "streamBegin" | "streamEof" | "streamDry" | "streamIsRecorded" }
>;

/** What an owner hears from its connection. */
export interface ConnHandler {
  /** Every message except the protocol control messages the core handles itself. */
  onMessage(msg: RtmpMessage): void;
  /** A user control event (7.1.7) about a stream: StreamBegin, StreamEOF, StreamDry, StreamIsRecorded. */
  onUserControl?(event: StreamControl): void;
  /** While this says true the core stops reading the socket; `resumeReading()` makes it look again. */
  readPaused?(): boolean;
}

/** The read loop's state (RtmpConn.run). */
interface ReadLoop {
  readonly handler: ConnHandler;
  readonly resolve: (end: "peer closed" | "closed") => void;
  readonly reject: (error: unknown) => void;
}

/** Settings of one connection. */
export interface RtmpConnOptions {
  /** Largest message the peer may send, in bytes (the chunk reader's cap). */
  maxMessageLength: number;
  /** The Window Acknowledgement Size this side announces, in bytes; Set Peer Bandwidth is answered against it. */
  windowAckSize: number;
  /** The outgoing chunk size to start with. Default 128, every connection's initial size (5.4.1). */
  chunkSize?: number;
  /** Names the other side in close reasons: "peer" on the server (default), "the server" in the client. */
  peerName?: string;
}

/** Which messages of a `send` may go with a type 1 (delta) header. */
export const DeltaHeaders = {
  /** None: every message with a type 0 header. */
  None: "none",
  /** Every message whose previous one on its chunk stream allows it (the client's publish). */
  All: "all",
  /** Audio and video only; commands and data with type 0 (RTMP VOD, as nginx-rtmp). */
  Media: "media",
} as const;
export type DeltaHeaders = typeof DeltaHeaders[keyof typeof DeltaHeaders];

/** The chunk size both sides start with (5.4.1). */
export const INITIAL_CHUNK_SIZE = 128;

/** The handshake read buffer: S0 + S1 + S2 is 3073 bytes. */
const HANDSHAKE_READ = 4096;

/** A timestamp step below 2^31 (mod 2^32) counts as forward, so it may go out as a delta. */
const HALF_RANGE = 0x8000_0000;

/** Set Chunk Size's payload keeps the top bit zero (5.4.1). */
const CHUNK_SIZE_MASK = 0x7fff_ffff;

/** One RTMP connection's socket and its shared plumbing (see the module doc). */
export class RtmpConn {
  /** Bytes read from and written to the socket, handshake included. */
  bytesIn = 0;
  /** Called once, with a close reason, when a write fails; the owner closes the connection. */
  onWriteError: (reason: string) => void = () => {};

  readonly #conn: Deno.Conn;
  readonly #reader: ChunkReader;
  readonly #peerName: string;
  #chunkSize: number;
  #ourWindow: number;
  #peerWindow = 0;
  #lastAck = 0;
  /** Per chunk stream: the message stream id and timestamp of the last message sent on it. */
  readonly #lastOut = new Map<number, { streamId: number; timestamp: number }>();
  readonly #writer: ConnWriter;
  #closed = false;
  /** The read loop waits for resumeReading() (its owner paused reading). */
  #readWaiting = false;
  /** The read loop's handler and run()'s promise, once run() was called. */
  #run: ReadLoop | undefined;

  constructor(conn: Deno.Conn, opts: RtmpConnOptions) {
    this.#conn = conn;
    this.#reader = new ChunkReader({ maxMessageLength: opts.maxMessageLength });
    this.#chunkSize = opts.chunkSize ?? INITIAL_CHUNK_SIZE;
    this.#ourWindow = opts.windowAckSize;
    this.#peerName = opts.peerName ?? "peer";
    this.#writer = new ConnWriter(
      conn,
      (e) => this.onWriteError(`write failed: ${closeReasonOf(e, this.#peerName)}`),
    );
  }

  /** Bytes written to the socket, handshake included. */
  get bytesOut(): number {
    return this.#writer.bytesOut;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.NetAddr {
    return this.#conn.remoteAddr as Deno.NetAddr;
  }

  /** This side's address. */
  get localAddr(): Deno.NetAddr {
    return this.#conn.localAddr as Deno.NetAddr;
  }

  /** The chunk size this side sends with. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** The peer's chunk size, as its Set Chunk Size told the reader. */
  get peerChunkSize(): number {
    return this.#reader.chunkSize;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once every write queued so far has gone out (or failed). */
  get drained(): Promise<void> {
    return this.#writer.drained;
  }

  /**
   * Runs the handshake: writes `first` (the client's C0+C1), then feeds the
   * handshake what the socket gives and writes what it answers until it is
   * done. Resolves with the bytes read past it (the first chunks), or null
   * when the peer closed the connection first.
   */
  async handshake(hs: Handshaker, first?: Uint8Array): Promise<Uint8Array | null> {
    // The writes are not waited on: the writer keeps them in order before anything written later, and the
    // next read is under way at once (a fresh socket's first write takes an event-loop turn, which at a
    // few hundred simultaneous joiners is tens of ms). A failed write fails the writes after it.
    let failed: unknown;
    const onFailed = (e: unknown) => void (failed ??= e);
    if (first) this.write(first).catch(onFailed);
    const buf = new Uint8Array(HANDSHAKE_READ);
    while (!this.#closed) {
      const n = await this.#conn.read(buf);
      if (failed !== undefined) throw failed;
      if (n === null) return null;
      this.bytesIn += n;
      const step = hs.feed(buf.subarray(0, n));
      for (const out of step.output) this.write(out).catch(onFailed);
      if (step.done) return step.rest ?? new Uint8Array(0);
    }
    return null;
  }

  /**
   * Reads and hands up messages until the connection closes: resolves when
   * the peer closed it (or `close()` was called), rejects with the error that
   * broke it (a ProtocolError for bad bytes, a Deno error for the socket).
   * `rest`: the bytes the handshake read past its end (already counted).
   *
   * The loop is callbacks on each read rather than an async function: a connection lives for hours with a
   * read pending, and a suspended async frame (its generator, registers and promise) would stay with each.
   */
  run(handler: ConnHandler, rest?: Uint8Array): Promise<"peer closed" | "closed"> {
    if (this.#run !== undefined) return Promise.reject(new Error("RtmpConn.run called twice"));
    return new Promise((resolve, reject) => {
      this.#run = { handler, resolve, reject };
      try {
        if (rest && rest.length > 0) this.#dispatch(this.#reader.push(rest), handler);
      } catch (e) {
        return this.#endRun(e);
      }
      this.#readNext();
    });
  }

  /** The read loop's next step: end once closed, wait while the owner pauses reading, else read. */
  #readNext = (): void => {
    const run = this.#run!;
    if (this.#closed) return this.#endRun("closed");
    if (run.handler.readPaused?.()) {
      this.#readWaiting = true;
      return;
    }
    this.#conn.read(this.#reader.readable()).then(this.#onRead, this.#endRun);
  };

  #onRead = (n: number | null): void => {
    if (n === null) return this.#endRun(this.#closed ? "closed" : "peer closed");
    try {
      this.bytesIn += n;
      this.#dispatch(this.#reader.commit(n), this.#run!.handler);
      this.#acknowledge();
    } catch (e) {
      return this.#endRun(e);
    }
    this.#readNext();
  };

  /** Settles run()'s promise: with how it ended, or (anything else) with the error that broke it. */
  #endRun = (end: unknown): void => {
    const run = this.#run!;
    if (end === "closed" || end === "peer closed") run.resolve(end);
    else run.reject(end);
  };

  /**
   * The session is set up (it plays): the peer sends acknowledgements and pings from now on, so later
   * reads go into a smaller buffer (ChunkReader.settle).
   */
  settleReads(): void {
    this.#reader.settle();
  }

  /** Makes a read loop paused by `readPaused()` look again. */
  resumeReading(): void {
    if (!this.#readWaiting) return;
    this.#readWaiting = false;
    queueMicrotask(this.#readNext);
  }

  // ---- writing

  /**
   * Writes bytes after everything queued before (what comes while a write is under way joins one batch that
   * goes out after it: a session's answers to a command cost one or two syscalls rather than one each);
   * rejects when the connection is gone or the write fails.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("write"));
    return this.#writer.write(bytes);
  }

  /**
   * Chunks `msgs` in order and writes them in one write. A message that
   * `delta` admits goes with a type 1 header where the previous one on its
   * chunk stream allows (module doc); the others with a type 0 header.
   * Payloads are copied before this returns.
   */
  send(msgs: readonly RtmpMessage[], delta: DeltaHeaders = DeltaHeaders.None): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("send"));
    return this.write(this.#encode(msgs, delta));
  }

  /** Sends a command message (type 20) on `streamId`; a failure reaches `onWriteError`. */
  sendCommand(streamId: number, payload: Uint8Array): void {
    this.send([commandMessage(streamId, payload)]).catch(() => {});
  }

  /** Sends `onStatus` on `streamId`; a failure reaches `onWriteError`. */
  sendStatus(
    streamId: number,
    level: StatusLevel,
    code: string,
    description: string,
    extra?: AmfObject,
  ): void {
    this.send([statusMessage(streamId, level, code, description, extra)]).catch(() => {});
  }

  /** Sends a protocol or user control message; a failure reaches `onWriteError`. */
  sendControl(msg: RtmpMessage): void {
    this.send([msg]).catch(() => {});
  }

  /** Closes the socket at once. Idempotent; the read loop ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.refuse(this.#closedError("write"));
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.resumeReading();
  }

  // ---- inside

  #dispatch(msgs: RtmpMessage[], handler: ConnHandler): void {
    for (const msg of msgs) {
      if (this.#closed) return;
      if (control.isControlType(msg.typeId)) this.#onControl(msg, handler);
      else handler.onMessage(msg);
    }
  }

  #onControl(msg: RtmpMessage, handler: ConnHandler): void {
    const c = control.parseControl(msg);
    switch (c.kind) {
      case "windowAckSize":
        this.#peerWindow = c.windowSize;
        return;
      case "setPeerBandwidth":
        // 5.4.5: answer with a Window Acknowledgement Size when the window differs from the one sent.
        if (c.windowSize !== this.#ourWindow) {
          this.#ourWindow = c.windowSize;
          this.sendControl(control.windowAckSize(c.windowSize));
        }
        return;
      case "pingRequest":
        this.sendControl(control.pingResponse(c.timestamp));
        return;
      case "streamBegin":
      case "streamEof":
      case "streamDry":
      case "streamIsRecorded":
        handler.onUserControl?.(c);
        return;
      default:
        return; // Set Chunk Size and Abort are applied by the reader; acks and the rest need nothing
    }
  }

  /** 5.4.3: an Acknowledgement each time another window of bytes has come in. */
  #acknowledge(): void {
    const received = this.#reader.bytesReceived;
    if (this.#peerWindow > 0 && received - this.#lastAck >= this.#peerWindow) {
      this.#lastAck = received;
      this.sendControl(control.acknowledgement(received % 0x1_0000_0000));
    }
  }

  /** Packs messages in order; they must be written in this same order. */
  #encode(msgs: readonly RtmpMessage[], delta: DeltaHeaders): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const msg of msgs) {
      const timestamp = msg.timestamp >>> 0;
      const prev = this.#lastOut.get(msg.csid);
      const admitted = delta === DeltaHeaders.All ||
        (delta === DeltaHeaders.Media &&
          (msg.typeId === MessageType.Audio || msg.typeId === MessageType.Video));
      const useDelta = admitted && prev !== undefined && prev.streamId === msg.streamId &&
        ((timestamp - prev.timestamp) >>> 0) < HALF_RANGE;
      this.#lastOut.set(msg.csid, { streamId: msg.streamId, timestamp });
      parts.push(
        encodeMessage(
          { ...msg, timestamp },
          this.#chunkSize,
          useDelta ? "delta" : "full",
          prev?.timestamp ?? 0,
        ),
      );
      // Set Chunk Size goes out in the old size; everything after it in the new one (5.4.1).
      if (msg.typeId === MessageType.SetChunkSize && msg.streamId === 0 && msg.payload.length >= 4) {
        this.#chunkSize = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0) &
          CHUNK_SIZE_MASK;
      }
    }
    return parts.length === 1 ? parts[0] : concatBytes(parts);
  }

  #closedError(what: string): ConnectionClosedError {
    return new ConnectionClosedError(what);
  }
}
