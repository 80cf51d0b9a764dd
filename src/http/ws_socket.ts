/**
 * ServerWebSocket: the server side of a WebSocket (RFC 6455) over a byte sink,
 * for Sluice's own HTTP/1.1 server, which cannot use `Deno.upgradeWebSocket`.
 * It looks like Deno's `WebSocket` to the code that uses it (`readyState`,
 * `bufferedAmount`, `send`, `close`, the four `on*` handlers); the server
 * owns the connection and drives it: `open()` once the 101 answer is written,
 * `feed()` with every piece read, `peerEnded()` at EOF or a read error. The
 * socket never reads or writes the connection itself, only through ByteSink.
 *
 * Policy:
 * - incoming frames are parsed incrementally, with bounded state: a 14-byte
 *   header buffer, a 125-byte control payload, and the message being
 *   assembled, capped at `maxMessageBytes` (checked on each frame header,
 *   before its payload is kept);
 * - events are delivered in order from a microtask, never inside the call
 *   that caused them (like Deno's WebSocket); a handler that throws is
 *   reported with `reportError` and the next events still go; messages are
 *   delivered only while OPEN (after close() they are checked and dropped);
 * - one frame per send(), unmasked, header and payload in one buffer; while
 *   a sink.write is pending later frames queue, and when it settles all of
 *   them go out as one write; every ping is answered while the pongs waiting
 *   are under PONG_QUEUE_BYTES, past it a newer pong replaces the last one
 *   queued (RFC 6455 5.5.3), so a ping flood stays bounded;
 * - "failing the connection" with code C (RFC 6455 7.1.7): a close frame with
 *   C and a short reason is sent if none was, then sink.close(), CLOSED,
 *   onerror, onclose {code: C, wasClean: false};
 * - ending always flushes what is queued before sink.close() (so the last
 *   close frame reaches the peer), bounded by `closeWaitMs`; the same timer
 *   bounds the wait for the peer's close frame after close(). The timer is
 *   cleared when the socket is CLOSED, and onclose fires exactly once;
 * - bufferedAmount counts payload bytes of send() queued or in a pending
 *   write; it is 0 once CLOSED (nothing more will be written).
 *
 * Unlike a browser, close() takes every code a server may send (1000-1003,
 * 1007-1014, 3000-4999): Sluice closes with 1001, 1003, 1007, 1008 and 1011,
 * which Deno's server-side WebSocket accepts too.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import { MAX_CLOSE_REASON_BYTES, WsCloseCode } from "./websocket.ts";

/** Pongs waiting behind a write, bytes, before a newer one replaces the last. */
export const PONG_QUEUE_BYTES = 256 * 1024;

/** Where the socket's bytes go: the TCP connection, owned by the HTTP server. */
export interface ByteSink {
  /** Writes all of `bytes`; rejects when the connection is gone. Called one at a time (never two pending). */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** Limits of one socket. */
export interface ServerWebSocketOptions {
  /** Largest message assembled from the peer's frames, in bytes; past it the connection fails 1009. */
  maxMessageBytes?: number;
  /** How long to wait for the peer's close frame, or for the last writes before closing, in ms. */
  closeWaitMs?: number;
}

/** Default `maxMessageBytes`: Deno's own WebSocket limit (64 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Default `closeWaitMs`. */
export const DEFAULT_CLOSE_WAIT_MS = 2000;

/** Frame opcodes (RFC 6455 5.2; 11.8 lists them). Any other value fails the connection with 1002. */
export const WsOpcode = {
  /** 0x0 continuation of a fragmented message (RFC 6455 5.4). */
  Continuation: 0x0,
  /** 0x1 text frame: UTF-8 (RFC 6455 5.6). */
  Text: 0x1,
  /** 0x2 binary frame (RFC 6455 5.6). */
  Binary: 0x2,
  /** 0x8 close (RFC 6455 5.5.1). */
  Close: 0x8,
  /** 0x9 ping (RFC 6455 5.5.2). */
  Ping: 0x9,
  /** 0xA pong (RFC 6455 5.5.3). */
  Pong: 0xa,
} as const;
export type WsOpcode = typeof WsOpcode[keyof typeof WsOpcode];

/**
 * Close codes this layer uses itself, beside the ones Sluice's routes send (WsCloseCode in
 * ./websocket.ts), from RFC 6455 7.4.1.
 */
export const WsProtocolCloseCode = {
  /** 1002 protocol error: a frame that breaks RFC 6455 5. */
  ProtocolError: 1002,
  /** 1005 no status received: a close frame without a code (never sent, RFC 6455 7.1.5). */
  NoStatusReceived: 1005,
  /** 1006 abnormal closure: the connection ended without a close frame (never sent). */
  AbnormalClosure: 1006,
  /** 1009 message too big: past maxMessageBytes. */
  MessageTooBig: 1009,
} as const;
export type WsProtocolCloseCode = typeof WsProtocolCloseCode[keyof typeof WsProtocolCloseCode];

/** `readyState` values (WHATWG WebSockets, "readyState"); the same numbers as Deno's WebSocket. */
export const WsReadyState = {
  Connecting: 0,
  Open: 1,
  Closing: 2,
  Closed: 3,
} as const;
export type WsReadyState = typeof WsReadyState[keyof typeof WsReadyState];

/** The GUID appended to Sec-WebSocket-Key (RFC 6455 1.3, 4.2.2). */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Bits and fields of a frame header (RFC 6455 5.2). */
const Header = {
  /** First byte: FIN, this is the last frame of its message. */
  Fin: 0x80,
  /** First byte: RSV1-3, 0 unless an extension was negotiated (none is). */
  Rsv: 0x70,
  /** First byte: the opcode. */
  Opcode: 0x0f,
  /** Second byte: MASK, the payload is masked (every client frame, RFC 6455 5.3). */
  Mask: 0x80,
  /** Second byte: the 7-bit payload length. */
  Length7: 0x7f,
  /** A 7-bit length of 126: a 16-bit length follows. */
  Length16Marker: 126,
  /** A 7-bit length of 127: a 64-bit length follows. */
  Length64Marker: 127,
  /** The largest header: 2 + 8 (64-bit length) + 4 (masking key). */
  MaxBytes: 14,
  /** The largest payload with a 7-bit length. */
  MaxLength7: 125,
  /** The largest payload with a 16-bit length. */
  MaxLength16: 0xffff,
} as const;

/** RFC 6455 5.5: a control frame's payload is at most 125 bytes. */
const MAX_CONTROL_PAYLOAD = 125;

/** `base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))` (RFC 6455 4.2.2), via crypto.subtle. */
export async function webSocketAccept(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + ACCEPT_GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** Whether a close frame from the peer may carry `code` (RFC 6455 7.4.1, 7.4.2). */
function isReceivableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Whether the server may send `code`: the same set (1004-1006 and 1015 are never sent). */
function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && isReceivableCloseCode(code);
}

/** Binary frames of sendShared() payloads, while the payload lives. */
const sharedFrames = new WeakMap<Uint8Array, Uint8Array>();

/** One unmasked server frame, FIN set (RFC 6455 5.2): header and payload in one new buffer. */
export function encodeFrame(opcode: WsOpcode, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const headerBytes = n <= Header.MaxLength7 ? 2 : n <= Header.MaxLength16 ? 4 : 10;
  const frame = new Uint8Array(headerBytes + n);
  frame[0] = Header.Fin | opcode;
  if (headerBytes === 2) {
    frame[1] = n;
  } else if (headerBytes === 4) {
    frame[1] = Header.Length16Marker;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = Header.Length64Marker;
    const view = new DataView(frame.buffer);
    view.setUint32(2, Math.floor(n / 0x1_0000_0000));
    view.setUint32(6, n >>> 0);
  }
  frame.set(payload, headerBytes);
  return frame;
}

/** A close frame's payload: the code (omitted for 1005) then the reason, cut to fit. */
function closePayload(code: number, reason: string): Uint8Array {
  if (code === WsProtocolCloseCode.NoStatusReceived) return new Uint8Array(0);
  const text = new TextEncoder().encode(reason);
  let cut = Math.min(text.length, MAX_CLOSE_REASON_BYTES);
  while (cut > 0 && cut < text.length && (text[cut] & 0xc0) === 0x80) cut--;
  const payload = new Uint8Array(2 + cut);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text.subarray(0, cut), 2);
  return payload;
}

/** The first frame of a message being assembled. */
type MessageKind = typeof WsOpcode.Text | typeof WsOpcode.Binary;

/** How the socket ends: what onclose will say, and whether onerror fires before it. */
interface Ending {
  code: number;
  reason: string;
  wasClean: boolean;
  /** Set when the connection failed: onerror fires with it. */
  error?: string;
}

/** A frame waiting to be written. */
interface Outgoing {
  bytes: Uint8Array;
  /** Payload bytes of send() it carries (counted in bufferedAmount); 0 for control frames. */
  sent: number;
}

/** The server side of one WebSocket; see the module doc for the policy. */
export class ServerWebSocket {
  static readonly CONNECTING = WsReadyState.Connecting;
  static readonly OPEN = WsReadyState.Open;
  static readonly CLOSING = WsReadyState.Closing;
  static readonly CLOSED = WsReadyState.Closed;
  readonly CONNECTING = WsReadyState.Connecting;
  readonly OPEN = WsReadyState.Open;
  readonly CLOSING = WsReadyState.Closing;
  readonly CLOSED = WsReadyState.Closed;

  /** Kept for callers that set it; binary messages are always delivered as ArrayBuffer. */
  binaryType: BinaryType = "arraybuffer";
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;

  readonly #sink: ByteSink;
  readonly #maxMessageBytes: number;
  readonly #closeWaitMs: number;
  #state: WsReadyState = WsReadyState.Connecting;

  // Reading (RFC 6455 5.2): the header being read, then the payload of the frame it starts.
  readonly #head = new Uint8Array(Header.MaxBytes);
  #headHave = 0;
  /** Header bytes needed: 2 until the second byte says more. */
  #headNeed = 2;
  /** Reading the payload of the frame whose header is in #head (else: reading a header). */
  #inPayload = false;
  #fin = false;
  #opcode = 0;
  readonly #mask = new Uint8Array(4);
  #payloadLength = 0;
  #payloadHave = 0;
  readonly #control = new Uint8Array(MAX_CONTROL_PAYLOAD);
  /** The message being assembled, if one was started. */
  #message: MessageKind | undefined;
  #messageBytes = 0;
  #binaryParts: Uint8Array[] = [];
  #text = "";
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  /** No more input is read: the peer's close frame came, or the connection failed. */
  #inputDone = false;

  // Writing: frames queued behind the pending write.
  #queue: Outgoing[] = [];
  /** The queued pong, replaced by a newer one (RFC 6455 5.5.3). */
  #queuedPong: Outgoing | undefined;
  /** Bytes of the pongs queued behind the write under way. */
  #queuedPongBytes = 0;
  #writing = false;
  /** send() payload bytes in the pending write. */
  #inFlight = 0;
  #bufferedAmount = 0;
  /** Our close frame is queued or written: no more frames go out. */
  #closeSent = false;

  // Ending.
  /** How the socket ends once what is queued is written (set: the socket is ending). */
  #ending: Ending | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  // Events, delivered in order from a microtask.
  #events: (() => void)[] = [];
  #drainScheduled = false;

  constructor(sink: ByteSink, options: ServerWebSocketOptions = {}) {
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const closeWaitMs = options.closeWaitMs ?? DEFAULT_CLOSE_WAIT_MS;
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
      throw new RangeError(
        `Cannot create a ServerWebSocket: current maxMessageBytes ${maxMessageBytes} is not a positive integer`,
      );
    }
    if (!Number.isFinite(closeWaitMs) || closeWaitMs < 0) {
      throw new RangeError(
        `Cannot create a ServerWebSocket: current closeWaitMs ${closeWaitMs} is not a finite number >= 0`,
      );
    }
    this.#sink = sink;
    this.#maxMessageBytes = maxMessageBytes;
    this.#closeWaitMs = closeWaitMs;
  }

  /** CONNECTING until open(), then OPEN, CLOSING, CLOSED. */
  get readyState(): number {
    return this.#state;
  }

  /** Payload bytes passed to send() and not yet written by the sink (0 once CLOSED). */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /**
   * The server wrote the 101 answer: OPEN, and onopen fires (in a later microtask, not inside open()).
   * feed() may be called only after it. Ignored once CLOSED (closed while CONNECTING).
   */
  open(): void {
    if (this.#state === WsReadyState.Closed) return;
    if (this.#state !== WsReadyState.Connecting) {
      throw new DOMException(`Cannot open: current state ${stateName(this.#state)}`, "InvalidStateError");
    }
    this.#state = WsReadyState.Open;
    this.#emit(() => this.onopen?.(new Event("open")));
  }

  /** Bytes the peer sent, in any split. Ignored once the peer's close frame came or the socket failed. */
  feed(bytes: Uint8Array): void {
    if (this.#state === WsReadyState.Connecting) {
      throw new DOMException("Cannot feed: current state CONNECTING", "InvalidStateError");
    }
    let at = 0;
    while (at < bytes.length && !this.#inputDone) {
      at = this.#inPayload ? this.#readPayload(bytes, at) : this.#readHeader(bytes, at);
    }
  }

  /**
   * The connection ended (EOF, or `error` when reading failed): CLOSED; onclose with 1006 (after onerror
   * when there is an error) unless the peer's close frame came (then onclose with its code, once).
   */
  peerEnded(error?: Error): void {
    if (this.#state === WsReadyState.Closed) return;
    this.#inputDone = true;
    this.#finish(
      this.#ending ?? {
        code: WsProtocolCloseCode.AbnormalClosure,
        reason: "",
        wasClean: false,
        error: error ? `Cannot read: current connection failed (${error.message})` : undefined,
      },
    );
  }

  /** One binary (bytes) or text (string) message. Throws while CONNECTING; ignored when CLOSING/CLOSED. */
  send(data: Uint8Array | ArrayBuffer | string): void {
    if (this.#state === WsReadyState.Connecting) {
      throw new DOMException("Cannot send: current state CONNECTING", "InvalidStateError");
    }
    if (this.#state !== WsReadyState.Open || this.#closeSent) return;
    const text = typeof data === "string";
    const payload = text
      ? new TextEncoder().encode(data)
      : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data;
    this.#bufferedAmount += payload.length;
    this.#enqueue({
      bytes: encodeFrame(text ? WsOpcode.Text : WsOpcode.Binary, payload),
      sent: payload.length,
    });
  }

  /**
   * send() of bytes that never change after this call and that other sockets may send too (a group's
   * shared FLV batch): framed once, the first time, and the same frame written by every socket.
   */
  sendShared(bytes: Uint8Array): void {
    if (this.#state !== WsReadyState.Open || this.#closeSent) {
      this.send(bytes); // throws or drops as send() does
      return;
    }
    let frame = sharedFrames.get(bytes);
    if (frame === undefined) {
      frame = encodeFrame(WsOpcode.Binary, bytes);
      sharedFrames.set(bytes, frame);
    }
    this.#bufferedAmount += bytes.length;
    this.#enqueue({ bytes: frame, sent: bytes.length });
  }

  /**
   * Starts the close handshake: the close frame goes after whatever is queued, CLOSING; the peer's close
   * frame (or closeWaitMs) ends it. `code`: 1000-1003, 1007-1014 or 3000-4999, else RangeError;
   * `reason`: at most 123 UTF-8 bytes, else SyntaxError. Does nothing when CLOSING or CLOSED; while
   * CONNECTING the connection fails (onerror, onclose 1006), like a browser's.
   */
  close(code: number = WsCloseCode.Normal, reason = ""): void {
    if (this.#state === WsReadyState.Closing || this.#state === WsReadyState.Closed) return;
    if (!isSendableCloseCode(code)) {
      throw new RangeError(`Cannot close: current code ${code} is not 1000-1003, 1007-1014 or 3000-4999`);
    }
    const reasonBytes = new TextEncoder().encode(reason).length;
    if (reasonBytes > MAX_CLOSE_REASON_BYTES) {
      throw new SyntaxError(
        `Cannot close: current reason is ${reasonBytes} UTF-8 bytes, over the limit of ${MAX_CLOSE_REASON_BYTES}`,
      );
    }
    if (this.#state === WsReadyState.Connecting) {
      this.#finish({
        code: WsProtocolCloseCode.AbnormalClosure,
        reason: "",
        wasClean: false,
        error: "Cannot open: current socket was closed while CONNECTING",
      });
      return;
    }
    this.#sendClose(code, reason);
    this.#state = WsReadyState.Closing;
    this.#startTimer();
  }

  // ---- Reading ----

  /** Reads header bytes from `bytes` at `at`; returns where it stopped. */
  #readHeader(bytes: Uint8Array, at: number): number {
    const n = Math.min(this.#headNeed - this.#headHave, bytes.length - at);
    this.#head.set(bytes.subarray(at, at + n), this.#headHave);
    this.#headHave += n;
    at += n;
    if (this.#headHave < this.#headNeed) return at;
    if (this.#headNeed === 2) {
      if (!this.#checkFirstTwo()) return at;
      const len7 = this.#head[1] & Header.Length7;
      const extended = len7 === Header.Length16Marker ? 2 : len7 === Header.Length64Marker ? 8 : 0;
      this.#headNeed = 2 + extended + 4;
      if (this.#headHave < this.#headNeed) return at;
    }
    this.#startFrame();
    return at;
  }

  /** Checks FIN, RSV, opcode, MASK and the 7-bit length (RFC 6455 5.2, 5.3, 5.5); false: failed. */
  #checkFirstTwo(): boolean {
    const b0 = this.#head[0], b1 = this.#head[1];
    const opcode = b0 & Header.Opcode;
    if (b0 & Header.Rsv) {
      return this.#fail(
        WsProtocolCloseCode.ProtocolError,
        `RSV bits 0x${(b0 & Header.Rsv).toString(16)} set`,
      );
    }
    if (!isOpcode(opcode)) {
      return this.#fail(WsProtocolCloseCode.ProtocolError, `unknown opcode 0x${opcode.toString(16)}`);
    }
    if (!(b1 & Header.Mask)) return this.#fail(WsProtocolCloseCode.ProtocolError, "client frame not masked");
    if (opcode >= WsOpcode.Close) {
      if (!(b0 & Header.Fin)) {
        return this.#fail(WsProtocolCloseCode.ProtocolError, "fragmented control frame");
      }
      const len7 = b1 & Header.Length7;
      if (len7 > MAX_CONTROL_PAYLOAD) {
        return this.#fail(
          WsProtocolCloseCode.ProtocolError,
          `control frame payload ${len7 === Header.Length16Marker ? "16-bit" : "64-bit"} length, over 125`,
        );
      }
    }
    return true;
  }

  /** The header is whole: checks the length and fragmentation, then reads the payload. */
  #startFrame(): void {
    const head = this.#head;
    const len7 = head[1] & Header.Length7;
    let length = len7;
    let maskAt = 2;
    if (len7 === Header.Length16Marker) {
      length = (head[2] << 8) | head[3];
      maskAt = 4;
    } else if (len7 === Header.Length64Marker) {
      const view = new DataView(head.buffer);
      const high = view.getUint32(2);
      if (high & 0x8000_0000) {
        this.#fail(WsProtocolCloseCode.ProtocolError, "64-bit payload length with the top bit set");
        return;
      }
      length = high * 0x1_0000_0000 + view.getUint32(6);
      maskAt = 10;
    }
    this.#fin = (head[0] & Header.Fin) !== 0;
    this.#opcode = head[0] & Header.Opcode;
    this.#mask.set(head.subarray(maskAt, maskAt + 4));
    this.#payloadLength = length;
    this.#payloadHave = 0;
    this.#headHave = 0;
    this.#headNeed = 2;

    if (this.#opcode < WsOpcode.Close) {
      if (this.#opcode === WsOpcode.Continuation && this.#message === undefined) {
        this.#fail(WsProtocolCloseCode.ProtocolError, "continuation frame without a message started");
        return;
      }
      if (this.#opcode !== WsOpcode.Continuation && this.#message !== undefined) {
        this.#fail(WsProtocolCloseCode.ProtocolError, "new data frame while a fragmented message is started");
        return;
      }
      if (this.#messageBytes + length > this.#maxMessageBytes) {
        this.#fail(
          WsProtocolCloseCode.MessageTooBig,
          `message of ${this.#messageBytes + length} bytes or more, over ${this.#maxMessageBytes}`,
        );
        return;
      }
      if (this.#opcode !== WsOpcode.Continuation) this.#message = this.#opcode as MessageKind;
      this.#messageBytes += length;
    }
    if (length === 0) this.#endFrame();
    else this.#inPayload = true;
  }

  /** Reads (and unmasks) payload bytes from `bytes` at `at`; returns where it stopped. */
  #readPayload(bytes: Uint8Array, at: number): number {
    const n = Math.min(this.#payloadLength - this.#payloadHave, bytes.length - at);
    const piece = this.#opcode >= WsOpcode.Close
      ? this.#control.subarray(this.#payloadHave, this.#payloadHave + n)
      : new Uint8Array(n);
    piece.set(bytes.subarray(at, at + n));
    const mask = this.#mask;
    for (let i = 0, m = this.#payloadHave; i < n; i++, m++) piece[i] ^= mask[m & 3];
    this.#payloadHave += n;
    if (this.#opcode < WsOpcode.Close && !this.#dataPiece(piece)) return at + n;
    if (this.#payloadHave === this.#payloadLength) {
      this.#inPayload = false;
      this.#endFrame();
    }
    return at + n;
  }

  /** A piece of a data frame's payload: binary kept, text decoded as it comes; false: failed. */
  #dataPiece(piece: Uint8Array): boolean {
    if (this.#message === WsOpcode.Binary) {
      this.#binaryParts.push(piece);
      return true;
    }
    try {
      this.#text += this.#decoder.decode(piece, { stream: true });
      return true;
    } catch {
      return this.#fail(WsCloseCode.InvalidPayload, "text message is not valid UTF-8");
    }
  }

  /** A frame's payload is whole. */
  #endFrame(): void {
    switch (this.#opcode) {
      case WsOpcode.Ping:
        this.#pong(this.#control.slice(0, this.#payloadLength));
        return;
      case WsOpcode.Pong:
        return;
      case WsOpcode.Close:
        this.#peerClose(this.#control.subarray(0, this.#payloadLength));
        return;
    }
    if (this.#fin) this.#endMessage();
  }

  /** The last frame of a message came: delivers it (while OPEN). */
  #endMessage(): void {
    let data: string | ArrayBuffer;
    if (this.#message === WsOpcode.Text) {
      try {
        data = this.#text + this.#decoder.decode();
      } catch {
        this.#fail(WsCloseCode.InvalidPayload, "text message is not valid UTF-8");
        return;
      }
    } else {
      const parts = this.#binaryParts;
      data = parts.length === 1 ? parts[0].buffer as ArrayBuffer : concatBytes(parts).buffer as ArrayBuffer;
    }
    this.#message = undefined;
    this.#messageBytes = 0;
    this.#binaryParts = [];
    this.#text = "";
    if (this.#state !== WsReadyState.Open) return; // after close(): checked, then dropped
    this.#emit(() => this.onmessage?.(new MessageEvent("message", { data })));
  }

  /** The peer's close frame (RFC 6455 5.5.1): answered, then the socket ends cleanly. */
  #peerClose(payload: Uint8Array): void {
    let code: number = WsProtocolCloseCode.NoStatusReceived;
    let reason = "";
    if (payload.length === 1) {
      this.#fail(WsProtocolCloseCode.ProtocolError, "close frame with a 1-byte payload");
      return;
    }
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isReceivableCloseCode(code)) {
        this.#fail(WsProtocolCloseCode.ProtocolError, `close code ${code} not allowed`);
        return;
      }
      try {
        reason = new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2));
      } catch {
        this.#fail(WsCloseCode.InvalidPayload, "close reason is not valid UTF-8");
        return;
      }
    }
    this.#inputDone = true;
    if (!this.#closeSent) this.#sendClose(code, "");
    this.#state = WsReadyState.Closing;
    this.#ending = { code, reason, wasClean: true };
    this.#startTimer();
    this.#finishWhenFlushed();
  }

  /**
   * Fails the connection (RFC 6455 7.1.7): a close frame with `code` if none was sent, then the socket ends
   * once it is written. Returns false, for the parser to stop.
   */
  #fail(code: number, detail: string): false {
    this.#inputDone = true;
    if (!this.#closeSent) this.#sendClose(code, detail);
    this.#state = WsReadyState.Closing;
    this.#ending = { code, reason: detail, wasClean: false, error: `Cannot read a frame: current ${detail}` };
    this.#startTimer();
    this.#finishWhenFlushed();
    return false;
  }

  // ---- Writing ----

  #pong(payload: Uint8Array): void {
    if (this.#closeSent) return;
    const bytes = encodeFrame(WsOpcode.Pong, payload);
    // Every ping is answered while the pongs waiting stay under PONG_QUEUE_BYTES; past it the newest
    // replaces the last one queued (RFC 6455 5.5.3 lets a server answer only the latest).
    if (this.#queuedPong && this.#queuedPongBytes >= PONG_QUEUE_BYTES) {
      this.#queuedPong.bytes = bytes;
      return;
    }
    this.#queuedPongBytes += bytes.length;
    this.#queuedPong = { bytes, sent: 0 };
    this.#enqueue(this.#queuedPong);
  }

  #sendClose(code: number, reason: string): void {
    this.#closeSent = true;
    this.#enqueue({ bytes: encodeFrame(WsOpcode.Close, closePayload(code, reason)), sent: 0 });
  }

  #enqueue(out: Outgoing): void {
    this.#queue.push(out);
    this.#pump();
  }

  /** Writes everything queued in one sink.write, unless a write is pending. */
  #pump(): void {
    if (this.#writing || this.#queue.length === 0 || this.#state === WsReadyState.Closed) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#queuedPong = undefined;
    this.#queuedPongBytes = 0;
    this.#writing = true;
    this.#inFlight = batch.reduce((n, o) => n + o.sent, 0);
    const bytes = batch.length === 1 ? batch[0].bytes : concatBytes(batch.map((o) => o.bytes));
    let written: Promise<void>;
    try {
      written = this.#sink.write(bytes);
    } catch (e) {
      written = Promise.reject(e);
    }
    written.then(() => this.#written(), (e) => this.#writeFailed(e));
  }

  #written(): void {
    if (this.#state === WsReadyState.Closed) return;
    this.#writing = false;
    this.#bufferedAmount -= this.#inFlight;
    this.#inFlight = 0;
    this.#pump();
    this.#finishWhenFlushed();
  }

  #writeFailed(e: unknown): void {
    if (this.#state === WsReadyState.Closed) return;
    this.#writing = false;
    this.#inputDone = true;
    const detail = e instanceof Error ? e.message : String(e);
    // The peer's close frame came (or the socket was already failing): end as decided.
    this.#finish(
      this.#ending ?? {
        code: WsProtocolCloseCode.AbnormalClosure,
        reason: "",
        wasClean: false,
        error: `Cannot write: current connection failed (${detail})`,
      },
    );
  }

  // ---- Ending ----

  /** Bounds the wait for the peer's close frame, or for the last writes (closeWaitMs). */
  #startTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#finish(
        this.#ending ?? { code: WsProtocolCloseCode.AbnormalClosure, reason: "", wasClean: false },
      );
    }, this.#closeWaitMs);
  }

  #finishWhenFlushed(): void {
    if (this.#ending && !this.#writing && this.#queue.length === 0) this.#finish(this.#ending);
  }

  /** sink.close(), CLOSED, then onerror (if the connection failed) and onclose, once. */
  #finish(ending: Ending): void {
    if (this.#state === WsReadyState.Closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ending = ending;
    this.#inputDone = true;
    this.#queue = [];
    this.#queuedPong = undefined;
    this.#bufferedAmount = 0;
    this.#inFlight = 0;
    this.#binaryParts = [];
    this.#text = "";
    this.#sink.close();
    this.#state = WsReadyState.Closed;
    const { code, reason, wasClean, error } = ending;
    if (error !== undefined) {
      this.#emit(() => this.onerror?.(new ErrorEvent("error", { message: error })));
    }
    this.#emit(() => this.onclose?.(new CloseEvent("close", { code, reason, wasClean })));
  }

  // ---- Events ----

  /** Delivers `dispatch` after the current call, in order with the other events. */
  #emit(dispatch: () => void): void {
    this.#events.push(dispatch);
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    this.#drainScheduled = false;
    const events = this.#events;
    this.#events = [];
    for (const dispatch of events) {
      try {
        dispatch();
      } catch (e) {
        reportError(e);
      }
    }
  }
}

const OPCODES: ReadonlySet<number> = new Set(Object.values(WsOpcode));

function isOpcode(value: number): value is WsOpcode {
  return OPCODES.has(value);
}

function stateName(state: WsReadyState): string {
  return ["CONNECTING", "OPEN", "CLOSING", "CLOSED"][state];
}
