/**
 * RtmpClient: Sluice's own RTMP client, for tests, the benchmark and relays.
 * It owns one socket; the protocol code below it (handshake, chunk reader and
 * writer, AMF, commands, control) never touches it.
 *
 * ```ts
 * const client = await RtmpClient.connect("rtmp://127.0.0.1:1935/live");
 * const pub = await client.publish("cam");
 * await pub.sendMetadata({ width: 640, height: 360 });
 * await pub.sendVideo(0, avcSequenceHeader);
 * await pub.close();
 *
 * const viewer = await RtmpClient.connect("rtmp://127.0.0.1:1935/live");
 * const player = await viewer.play("cam");
 * for await (const ev of player) if (ev.type === "media") use(ev.payload);
 * ```
 *
 * - **Connect**: TCP, the handshake (simple, or digest with `digest: true`),
 *   then the client's Set Chunk Size and Window Acknowledgement Size and the
 *   `connect` command in one write; resolves on NetConnection.Connect.Success.
 * - **Publish**: releaseStream, FCPublish, createStream, publish; resolves on
 *   NetStream.Publish.Start, rejects with {@linkcode RtmpStatusError} (e.g.
 *   NetStream.Publish.BadName). Media goes out with a type 1 (delta) header
 *   whenever the previous message on its chunk stream allows it.
 * - **Play**: createStream, SetBufferLength, play; resolves on
 *   NetStream.Play.Start. The {@linkcode Player} is an async iterator of
 *   {@linkcode PlayerEvent}s, including the statuses that came before.
 *
 * Bounds: inbound messages are capped by the ChunkReader
 * (`maxMessageLength`); a player's unread events are capped in bytes
 * (`maxQueueBytes`), past which the client stops reading the socket until the
 * consumer catches up. Every wait for the server has `timeoutMs`. Bytes that
 * break the protocol close the connection; the error is kept as
 * {@linkcode RtmpClient.error} and rethrown by a player's iterator.
 *
 * URL form: `rtmp://host[:port]/app[/more]/stream`. The last path segment (with
 * any query) is the stream name and everything before it the app, as ffmpeg
 * splits simple URLs (`rtmp://h/live/cam`: app "live", stream "cam"). A URL
 * with one segment (`rtmp://h/live`) names the app only.
 *
 * @module
 */
import { closeReasonOf, ProtocolError } from "../../errors.ts";
import { classify, FrameKind } from "../../media/frame.ts";
import { ChunkReader, DEFAULT_MAX_MESSAGE_LENGTH } from "../../wasm/chunk_reader.ts";
import { encodeMessage } from "../../wasm/chunk_writer.ts";
import { type AmfObject, type AmfValue, EcmaArray } from "../../amf/amf0.ts";
import {
  type Command,
  CommandName,
  DataName,
  decodeCommand,
  decodeData,
  encodeCommand,
  encodeData,
  StatusCode,
  StatusLevel,
} from "../command.ts";
import * as control from "../control.ts";
import { ClientHandshake } from "../handshake.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../message.ts";
import { concatBytes } from "../../bytes.ts";

/** The RTMP port when a URL names none. */
export const DEFAULT_RTMP_PORT = 1935;

/** The chunk size the client announces and sends with, in bytes. */
export const DEFAULT_CLIENT_CHUNK_SIZE = 4096;

/** How long the client waits for any answer from the server, in ms. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000;

/** The Window Acknowledgement Size the client announces (as nginx-rtmp and SRS), in bytes. */
export const DEFAULT_CLIENT_WINDOW = 2_500_000;

/** A player's unread events, in bytes, before the client stops reading the socket. */
export const DEFAULT_PLAYER_QUEUE_BYTES = 16 * 1024 * 1024;

/** Bytes counted per queued event on top of its payload, so a flood of small events is bounded too. */
const EVENT_OVERHEAD = 64;

/** A player's queue drops its read slots after this many reads. */
const COMPACT_AFTER = 1024;

/** The largest chunk size the client sends with: the cap of Sluice's chunk reader (the WASM ABI's MAX_CHUNK_SIZE). */
const MAX_CLIENT_CHUNK_SIZE = 0xffffff;

/** A publisher's statuses kept after Publish.Start. */
const MAX_KEPT_STATUSES = 32;

/** The handshake read buffer: S0 + S1 + S2 is 3073 bytes. */
const HANDSHAKE_READ = 4096;

/** The chunk size both sides start with (5.4.1). */
const INITIAL_CHUNK_SIZE = 128;

/** The flashVer the client reports in `connect` (7.2.1.1), in the form encoders use. */
const FLASH_VER = "FMLE/3.0 (compatible; Sluice)";

/** 7.2.2.1 `play` Start argument: -2 plays a live stream, or a recorded one if there is no live one. */
const PLAY_START_LIVE_OR_RECORDED = -2;

/** A timestamp step below 2^31 (mod 2^32) counts as forward, so it may go out as a delta. */
const HALF_RANGE = 0x8000_0000;

/** Where a URL points. */
export interface RtmpUrl {
  hostname: string;
  port: number;
  /** The app, e.g. "live"; "" when the URL has no path. */
  app: string;
  /** The stream name with any query, e.g. "cam?key=1"; "" when the URL names the app only. */
  stream: string;
  /** `rtmp://host[:port]/app`, as sent in `connect`. */
  tcUrl: string;
}

/** Splits an RTMP URL (see the module doc). Throws TypeError for something else. */
export function parseRtmpUrl(url: string): RtmpUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new TypeError(`Cannot parse RTMP URL ${url}: current value is not a URL`, { cause: e });
  }
  if (u.protocol !== "rtmp:" || u.hostname === "") {
    throw new TypeError(
      `Cannot parse RTMP URL ${url}: current scheme is ${u.protocol}, expected rtmp://host`,
    );
  }
  const segments = u.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  const app = segments.length > 1 ? segments.slice(0, -1).join("/") : segments.join("/");
  const stream = segments.length > 1 ? segments[segments.length - 1] + u.search : "";
  const port = u.port === "" ? DEFAULT_RTMP_PORT : Number(u.port);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return { hostname, port, app, stream, tcUrl: `rtmp://${u.host}/${app}` };
}

/** Options for {@linkcode RtmpClient.connect}. */
export interface RtmpClientOptions {
  /** Use the digest (Flash Player 9+) handshake. Default false: the simple one. */
  digest?: boolean;
  /** The chunk size the client sends with (announced by Set Chunk Size). Default 4096. */
  chunkSize?: number;
  /** How long to wait for each answer (TCP connect, handshake, connect, publish, play), in ms. Default 10,000. */
  timeoutMs?: number;
  /** Aborting it closes the client (and rejects a connect under way with the signal's reason). */
  signal?: AbortSignal;
  /** The objectEncoding asked for in `connect`: 0 (AMF0) or 3 (AMF3). Default 0. Commands are AMF0 either way. */
  objectEncoding?: 0 | 3;
  /** The Window Acknowledgement Size the client announces, in bytes. Default 2,500,000. */
  windowAckSize?: number;
  /** The largest message the server may send, in bytes. Default 8 MiB. */
  maxMessageLength?: number;
}

/** A status info object from `onStatus` or `_error` (7.2.1.1, 7.2.2). */
export interface StatusEvent {
  type: "status";
  /** e.g. "NetStream.Play.Start" (see StatusCode). */
  code: string;
  /** "status", "warning" or "error". */
  level: string;
  description: string;
  /** The whole info object. */
  info: AmfObject;
}

/** An audio, video or data message of a played stream. */
export interface MediaEvent {
  type: "media";
  kind: FrameKind;
  /** The message timestamp, 32-bit as on the wire. */
  timestamp: number;
  /** The message body (an FLV tag body); owned by the receiver. */
  payload: Uint8Array;
  /** A video keyframe that is not a sequence header. */
  keyframe: boolean;
  /** An AVC/AAC sequence header or enhanced sequence start. */
  sequenceHeader: boolean;
  /** For data messages (kind 18): the data name, e.g. "onMetaData"; undefined if it does not decode. */
  name?: string;
}

/** A user control event (7.1.7) about a played stream: StreamBegin, StreamEOF, StreamDry, ... */
export interface ControlEvent {
  type: "control";
  control: control.Control;
}

/** What a {@linkcode Player} yields, in arrival order. */
export type PlayerEvent = StatusEvent | MediaEvent | ControlEvent;

/** A frame for {@linkcode Publisher.sendFrames}. */
export interface OutgoingFrame {
  kind: FrameKind;
  /** Milliseconds; taken mod 2^32. */
  timestamp: number;
  payload: Uint8Array;
}

/** The server answered a command with an error status (`_error`, or `onStatus` with level "error"). */
export class RtmpStatusError extends Error {
  /** e.g. "NetStream.Publish.BadName". */
  readonly code: string;
  readonly level: string;
  readonly description: string;

  constructor(what: string, status: StatusEvent, options?: ErrorOptions) {
    super(`Cannot ${what}: current status ${status.code} (${status.description})`, options);
    this.name = "RtmpStatusError";
    this.code = status.code;
    this.level = status.level;
    this.description = status.description;
  }
}

interface Pending {
  what: string;
  resolve: (cmd: Command) => void;
  reject: (e: Error) => void;
}

interface StatusWaiter {
  streamId: number;
  okCode: string;
  what: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** One RTMP connection to a server. */
export class RtmpClient {
  readonly url: RtmpUrl;
  /** Bytes read from and written to the socket, handshake included. */
  bytesIn = 0;
  bytesOut = 0;

  readonly #conn: Deno.TcpConn;
  readonly #reader: ChunkReader;
  readonly #timeoutMs: number;
  readonly #opts: RtmpClientOptions;
  #chunkSize = INITIAL_CHUNK_SIZE;
  #ourWindow: number;
  #peerWindow = 0;
  #lastAck = 0;
  #nextTid = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #statusWaiters = new Set<StatusWaiter>();
  readonly #feeds = new Map<number, PlayerFeed>();
  readonly #publishers = new Map<number, Publisher>();
  /** Per chunk stream: the message stream id and timestamp of the last message sent on it. */
  readonly #lastOut = new Map<number, { streamId: number; timestamp: number }>();
  #writeTail: Promise<void> = Promise.resolve();
  #loop: Promise<void> = Promise.resolve();
  #paused = false;
  #wakeRead: (() => void) | undefined;
  #closed = false;
  #closeReason = "";
  #error: Error | undefined;
  readonly #closedSignal = Promise.withResolvers<string>();
  readonly #onAbort = () => this.#end(`aborted: ${closeReasonOf(this.#opts.signal?.reason)}`);

  private constructor(conn: Deno.TcpConn, url: RtmpUrl, opts: RtmpClientOptions) {
    this.#conn = conn;
    this.url = url;
    this.#opts = opts;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    this.#ourWindow = opts.windowAckSize ?? DEFAULT_CLIENT_WINDOW;
    this.#reader = new ChunkReader({ maxMessageLength: opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH });
  }

  /**
   * Connects, handshakes and sends `connect` for the URL's app. Rejects with
   * RtmpStatusError when the server refuses, Deno.errors.TimedOut when it does
   * not answer within `timeoutMs`, or the signal's reason when aborted.
   */
  static async connect(url: string, opts: RtmpClientOptions = {}): Promise<RtmpClient> {
    const u = parseRtmpUrl(url);
    const chunkSize = opts.chunkSize ?? DEFAULT_CLIENT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CLIENT_CHUNK_SIZE) {
      throw new RangeError(
        `Cannot connect with chunk size ${chunkSize}: allowed 1..${MAX_CLIENT_CHUNK_SIZE}`,
      );
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    opts.signal?.throwIfAborted();
    const conn = await within(
      Deno.connect({ hostname: u.hostname, port: u.port, transport: "tcp" }),
      timeoutMs,
      `connect to ${u.hostname}:${u.port}`,
      opts.signal,
      (late) => late.close(),
    );
    conn.setNoDelay(true);
    const client = new RtmpClient(conn, u, opts);
    opts.signal?.addEventListener("abort", client.#onAbort, { once: true });
    try {
      await within(client.#start(chunkSize), timeoutMs, `connect to ${url}`, opts.signal);
    } catch (e) {
      client.#end(`connect failed: ${closeReasonOf(e, "the server")}`);
      await client.#loop;
      throw e;
    }
    return client;
  }

  /** The local end of the socket (the server sees this address). */
  get localAddr(): Deno.NetAddr {
    return this.#conn.localAddr;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection ended; "" while open. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** The protocol error that ended the connection, if one did. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Resolves with the close reason once the connection has ended, whoever ended it. */
  get done(): Promise<string> {
    return this.#closedSignal.promise;
  }

  /** The chunk size the client sends with. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** The server's chunk size (as its Set Chunk Size told the reader). */
  get peerChunkSize(): number {
    return this.#reader.chunkSize;
  }

  /**
   * Publishes `name` (default: the URL's stream name). Resolves on
   * NetStream.Publish.Start; rejects with RtmpStatusError for an error status
   * (e.g. NetStream.Publish.BadName).
   */
  async publish(name: string = this.url.stream): Promise<Publisher> {
    if (!name) throw new TypeError("Cannot publish: current stream name is empty");
    this.#sendCommand(0, encodeCommand(CommandName.ReleaseStream, this.#nextTid++, null, name));
    this.#sendCommand(0, encodeCommand(CommandName.FcPublish, this.#nextTid++, null, name));
    const streamId = await this.createStream();
    const publisher = new Publisher(this, streamId, name);
    this.#publishers.set(streamId, publisher);
    const started = this.#awaitStatus(streamId, StatusCode.PublishStart, `publish ${name}`);
    this.#sendCommand(streamId, encodeCommand(CommandName.Publish, 0, null, name, "live"));
    try {
      await started;
    } catch (e) {
      this.#publishers.delete(streamId);
      throw e;
    }
    return publisher;
  }

  /**
   * Plays `name` (default: the URL's stream name). Resolves on
   * NetStream.Play.Start; rejects with RtmpStatusError for an error status
   * that comes first (e.g. NetStream.Play.StreamNotFound).
   */
  async play(
    name: string = this.url.stream,
    opts: { bufferMs?: number; maxQueueBytes?: number } = {},
  ): Promise<Player> {
    if (!name) throw new TypeError("Cannot play: current stream name is empty");
    const streamId = await this.createStream();
    const feed = new PlayerFeed(opts.maxQueueBytes ?? DEFAULT_PLAYER_QUEUE_BYTES, () => this.#wake());
    this.#feeds.set(streamId, feed);
    const started = this.#awaitStatus(streamId, StatusCode.PlayStart, `play ${name}`);
    this.#send([control.setBufferLength(streamId, opts.bufferMs ?? 1000)]).catch(() => {});
    this.#sendCommand(
      streamId,
      encodeCommand(CommandName.Play, 0, null, name, PLAY_START_LIVE_OR_RECORDED),
    );
    try {
      await started;
    } catch (e) {
      this.#feeds.delete(streamId);
      throw e;
    }
    return new Player(this, streamId, name, feed);
  }

  /** createStream (7.2.1.3): resolves with the new message stream id. */
  async createStream(): Promise<number> {
    const result = await this.call(CommandName.CreateStream, null);
    const id = result.args[0];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw new ProtocolError(
        "client_stream_id",
        `Cannot create a stream: current _result stream id is ${String(id)}, expected 0..4294967295`,
      );
    }
    return id;
  }

  /**
   * Sends a command with a new transaction id on message stream 0 and waits
   * for its `_result` (resolves with it) or `_error` (rejects with RtmpStatusError).
   */
  call(name: string, commandObject: AmfValue, ...args: AmfValue[]): Promise<Command> {
    const tid = this.#nextTid++;
    const what = `call ${name}`;
    const answer = new Promise<Command>((resolve, reject) => {
      if (this.#closed) return reject(this.#closedError(what));
      this.#pending.set(tid, { what, resolve, reject });
    });
    this.#sendCommand(0, encodeCommand(name, tid, commandObject, ...args));
    return within(answer, this.#timeoutMs, what, undefined, undefined, () => this.#pending.delete(tid));
  }

  /** Sends a command with transaction id 0 (no answer expected), e.g. FCUnpublish or deleteStream. */
  sendStreamCommand(streamId: number, name: string, ...args: AmfValue[]): Promise<void> {
    return this.#send([commandMessage(streamId, encodeCommand(name, 0, null, ...args))]);
  }

  /**
   * Packs `msgs` into chunks (a delta header where the previous message on the
   * chunk stream allows) and writes them in one write. The payloads are copied
   * before this returns. Rejects when the connection is closed or the write fails.
   */
  sendMessages(msgs: readonly RtmpMessage[]): Promise<void> {
    return this.#send(msgs, true);
  }

  /** Stops reading the socket (the server's writes then back up); the connection stays open. */
  pauseReading(): void {
    this.#paused = true;
  }

  /** Reads the socket again after pauseReading(). */
  resumeReading(): void {
    this.#paused = false;
    this.#wake();
  }

  /** Closes the socket at once; players end, pending calls reject. Resolves when the read loop is done. */
  async close(): Promise<void> {
    this.#end("closed by the client");
    await this.#loop;
  }

  // ---- connect

  async #start(chunkSize: number): Promise<void> {
    const rest = await this.#handshake();
    if (this.#closed) throw this.#closedError("connect");
    if (rest) {
      for (const msg of this.#reader.push(rest)) this.#handle(msg);
    }
    this.#loop = this.#readLoop();
    const app = this.url.app;
    const tid = this.#nextTid++;
    const connect = encodeCommand(CommandName.Connect, tid, {
      app,
      type: "nonprivate",
      flashVer: FLASH_VER,
      tcUrl: this.url.tcUrl,
      fpad: false,
      capabilities: 15,
      audioCodecs: 0x0fff,
      videoCodecs: 0x00ff,
      videoFunction: 1,
      objectEncoding: this.#opts.objectEncoding ?? 0,
    });
    const what = `connect to app ${app}`;
    const answer = new Promise<Command>((resolve, reject) => {
      if (this.#closed) return reject(this.#closedError(what));
      this.#pending.set(tid, { what, resolve, reject });
    });
    // Set Chunk Size goes out in the old chunk size; everything after it in the new one.
    const setChunkSize = encodeMessage(control.setChunkSize(chunkSize), this.#chunkSize);
    this.#chunkSize = chunkSize;
    const windowAndConnect = this.#encode([
      control.windowAckSize(this.#ourWindow),
      commandMessage(0, connect),
    ], false);
    this.#write(concatBytes([setChunkSize, windowAndConnect])).catch(() => {});
    let result: Command;
    try {
      result = await answer;
    } finally {
      this.#pending.delete(tid);
    }
    const info = statusOf(result.args[0]);
    if (info.code !== StatusCode.ConnectSuccess) {
      throw new RtmpStatusError(what, info);
    }
  }

  async #handshake(): Promise<Uint8Array | undefined> {
    const hs = new ClientHandshake({ digest: this.#opts.digest ?? false });
    await this.#write(hs.start());
    const buf = new Uint8Array(HANDSHAKE_READ);
    while (true) {
      const n = await this.#conn.read(buf);
      if (n === null) throw new Error("Cannot handshake: current state is closed by the server");
      this.bytesIn += n;
      const step = hs.feed(buf.subarray(0, n));
      for (const out of step.output) await this.#write(out);
      if (step.done) return step.rest;
    }
  }

  // ---- reading

  async #readLoop(): Promise<void> {
    try {
      while (!this.#closed) {
        if (this.#paused || this.#feedsFull()) {
          await new Promise<void>((resolve) => this.#wakeRead = resolve);
          continue;
        }
        const n = await this.#conn.read(this.#reader.readable());
        if (n === null) {
          this.#end("closed by the server");
          return;
        }
        this.bytesIn += n;
        for (const msg of this.#reader.commit(n)) {
          if (this.#closed) return;
          this.#handle(msg);
        }
        this.#acknowledge();
      }
    } catch (e) {
      this.#end(closeReasonOf(e, "the server"), e instanceof ProtocolError ? e : undefined);
    }
  }

  #feedsFull(): boolean {
    for (const f of this.#feeds.values()) if (f.full) return true;
    return false;
  }

  #wake(): void {
    const wake = this.#wakeRead;
    this.#wakeRead = undefined;
    wake?.();
  }

  /** 5.4.3: an Acknowledgement each time another window of bytes has come in. */
  #acknowledge(): void {
    const received = this.#reader.bytesReceived;
    if (this.#peerWindow > 0 && received - this.#lastAck >= this.#peerWindow) {
      this.#lastAck = received;
      this.#send([control.acknowledgement(received % 0x1_0000_0000)]).catch(() => {});
    }
  }

  #handle(msg: RtmpMessage): void {
    if (control.isControlType(msg.typeId)) return this.#onControl(msg);
    switch (msg.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        return this.#onMedia(msg);
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        return this.#onCommand(msg);
      default:
        return; // shared objects, aggregates: nothing a live client needs
    }
  }

  #onControl(msg: RtmpMessage): void {
    const c = control.parseControl(msg);
    switch (c.kind) {
      case "windowAckSize":
        this.#peerWindow = c.windowSize;
        return;
      case "setPeerBandwidth":
        // 5.4.5: answer with a Window Acknowledgement Size when the window differs from the one sent.
        if (c.windowSize !== this.#ourWindow) {
          this.#ourWindow = c.windowSize;
          this.#send([control.windowAckSize(c.windowSize)]).catch(() => {});
        }
        return;
      case "pingRequest":
        this.#send([control.pingResponse(c.timestamp)]).catch(() => {});
        return;
      case "streamBegin":
      case "streamEof":
      case "streamDry":
      case "streamIsRecorded":
        this.#feeds.get(c.streamId)?.push({ type: "control", control: c }, 0);
        return;
      default:
        return; // Set Chunk Size and Abort are applied by the reader; acks need nothing
    }
  }

  #onMedia(msg: RtmpMessage): void {
    const feed = this.#feeds.get(msg.streamId);
    if (!feed) return;
    let payload = msg.payload;
    let kind = msg.typeId as FrameKind;
    let name: string | undefined;
    if (msg.typeId === MessageType.DataAmf0 || msg.typeId === MessageType.DataAmf3) {
      if (msg.typeId === MessageType.DataAmf3 && payload[0] === 0) payload = payload.subarray(1);
      kind = FrameKind.Data;
      try {
        name = decodeData({ ...msg, typeId: MessageType.DataAmf0, payload }).name;
      } catch {
        name = undefined; // passed on as bytes; the receiver decides
      }
    }
    const { keyframe, sequenceHeader } = classify(kind, payload);
    const ev: MediaEvent = {
      type: "media",
      kind,
      timestamp: msg.timestamp,
      payload,
      keyframe,
      sequenceHeader,
    };
    if (name !== undefined) ev.name = name;
    feed.push(ev, payload.length);
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg);
    switch (cmd.name) {
      case CommandName.Result:
      case CommandName.Error: {
        const p = this.#pending.get(cmd.transactionId);
        if (!p) return; // releaseStream, FCPublish: nobody waits
        this.#pending.delete(cmd.transactionId);
        if (cmd.name === CommandName.Result) p.resolve(cmd);
        else p.reject(new RtmpStatusError(p.what, statusOf(cmd.args[0])));
        return;
      }
      case CommandName.OnStatus:
        return this.#onStatus(msg.streamId, statusOf(cmd.args[0] ?? cmd.commandObject));
      default:
        return; // onBWDone, onFCPublish, _checkbw: informational
    }
  }

  #onStatus(streamId: number, status: StatusEvent): void {
    for (const w of this.#statusWaiters) {
      if (w.streamId !== streamId) continue;
      if (status.code === w.okCode) {
        this.#statusWaiters.delete(w);
        w.resolve();
      } else if (status.level === StatusLevel.Error) {
        this.#statusWaiters.delete(w);
        w.reject(new RtmpStatusError(w.what, status));
      }
    }
    this.#feeds.get(streamId)?.push(status, 0);
    this.#publishers.get(streamId)?.keepStatus(status);
  }

  #awaitStatus(streamId: number, okCode: string, what: string): Promise<void> {
    let waiter: StatusWaiter | undefined;
    const p = new Promise<void>((resolve, reject) => {
      if (this.#closed) return reject(this.#closedError(what));
      waiter = { streamId, okCode, what, resolve, reject };
      this.#statusWaiters.add(waiter);
    });
    return within(p, this.#timeoutMs, what, undefined, undefined, () => {
      if (waiter) this.#statusWaiters.delete(waiter);
    });
  }

  // ---- writing: every byte goes through one chain, so writes never interleave

  #sendCommand(streamId: number, payload: Uint8Array): void {
    this.#send([commandMessage(streamId, payload)]).catch(() => {});
  }

  #send(msgs: readonly RtmpMessage[], delta = false): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("send"));
    return this.#write(this.#encode(msgs, delta));
  }

  /** Packs messages in order, in the current chunk size; they must be written in this same order. */
  #encode(msgs: readonly RtmpMessage[], delta: boolean): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const msg of msgs) {
      const timestamp = msg.timestamp >>> 0;
      const prev = this.#lastOut.get(msg.csid);
      const useDelta = delta && prev !== undefined && prev.streamId === msg.streamId &&
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
    }
    return parts.length === 1 ? parts[0] : concatBytes(parts);
  }

  #write(bytes: Uint8Array): Promise<void> {
    const p = this.#writeTail.then(() => this.#writeAll(bytes));
    this.#writeTail = p.catch((e) => this.#end(`write failed: ${closeReasonOf(e, "the server")}`));
    return p;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw this.#closedError("write");
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(off === 0 ? bytes : bytes.subarray(off));
    this.bytesOut += bytes.length;
  }

  // ---- closing

  #closedError(what: string): Error {
    return new Error(`Cannot ${what}: current connection is closed (${this.#closeReason})`, {
      cause: this.#error,
    });
  }

  /** Ends the connection once: closes the socket, rejects waiters, ends players. */
  #end(reason: string, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#error = error;
    this.#opts.signal?.removeEventListener("abort", this.#onAbort);
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const p of this.#pending.values()) p.reject(this.#closedError(p.what));
    this.#pending.clear();
    for (const w of this.#statusWaiters) w.reject(this.#closedError(w.what));
    this.#statusWaiters.clear();
    for (const f of this.#feeds.values()) f.end(error);
    this.#wake();
    this.#closedSignal.resolve(reason);
  }
}

/** A stream being published: media goes out with delta headers where possible. */
export class Publisher {
  readonly client: RtmpClient;
  /** The message stream id createStream gave. */
  readonly streamId: number;
  readonly name: string;
  /** Messages and payload bytes sent. */
  readonly stats = { messages: 0, bytes: 0 };
  /** The latest statuses on this stream after Publish.Start (at most 32). */
  readonly statuses: StatusEvent[] = [];

  constructor(client: RtmpClient, streamId: number, name: string) {
    this.client = client;
    this.streamId = streamId;
    this.name = name;
  }

  /** Sends `@setDataFrame onMetaData` (7.1.2) with `metadata` as an ECMA array, as encoders do. */
  sendMetadata(metadata: AmfObject | EcmaArray, timestamp = 0): Promise<void> {
    const value = metadata instanceof EcmaArray ? metadata : new EcmaArray(metadata);
    const payload = encodeData(DataName.SetDataFrame, DataName.OnMetaData, value);
    return this.sendFrames([{ kind: FrameKind.Data, timestamp, payload }]);
  }

  /** Sends one audio message (an FLV AUDIODATA body). */
  sendAudio(timestamp: number, payload: Uint8Array): Promise<void> {
    return this.sendFrames([{ kind: FrameKind.Audio, timestamp, payload }]);
  }

  /** Sends one video message (an FLV VIDEODATA body). */
  sendVideo(timestamp: number, payload: Uint8Array): Promise<void> {
    return this.sendFrames([{ kind: FrameKind.Video, timestamp, payload }]);
  }

  /**
   * Sends several frames in one socket write, in order. Payloads are copied
   * before this returns; await it for backpressure. Rejects when the
   * connection is closed.
   */
  sendFrames(frames: readonly OutgoingFrame[]): Promise<void> {
    const msgs = frames.map((f): RtmpMessage => {
      this.stats.messages++;
      this.stats.bytes += f.payload.length;
      return {
        csid: CSID_OF_KIND[f.kind],
        typeId: f.kind,
        streamId: this.streamId,
        timestamp: f.timestamp >>> 0,
        payload: f.payload,
      };
    });
    return this.client.sendMessages(msgs);
  }

  /** Keeps a status that arrived after Publish.Start (the client calls this). */
  keepStatus(status: StatusEvent): void {
    this.statuses.push(status);
    if (this.statuses.length > MAX_KEPT_STATUSES) this.statuses.shift();
  }

  /** FCUnpublish and deleteStream, then closes the connection. */
  async close(): Promise<void> {
    if (!this.client.closed) {
      try {
        await this.client.sendStreamCommand(0, CommandName.FcUnpublish, this.name);
        await this.client.sendStreamCommand(0, CommandName.DeleteStream, this.streamId);
      } catch {
        // the connection went away meanwhile: nothing left to tell the server
      }
    }
    await this.client.close();
  }
}

/** A stream being played: an async iterator of its events, in arrival order. */
export class Player implements AsyncIterable<PlayerEvent> {
  readonly client: RtmpClient;
  /** The message stream id createStream gave. */
  readonly streamId: number;
  readonly name: string;
  readonly #feed: PlayerFeed;

  constructor(client: RtmpClient, streamId: number, name: string, feed: PlayerFeed) {
    this.client = client;
    this.streamId = streamId;
    this.name = name;
    this.#feed = feed;
  }

  /** Counters over every event received (read or not). */
  get stats(): Readonly<PlayerStats> {
    return this.#feed.stats;
  }

  /** Bytes of events received and not read yet. */
  get queuedBytes(): number {
    return this.#feed.bytes;
  }

  /**
   * The next event; undefined once the connection has ended and every event
   * was read. Rejects with Deno.errors.TimedOut after `timeoutMs` (if given)
   * without one, and with the protocol error that ended the connection, if one did.
   */
  read(timeoutMs?: number): Promise<PlayerEvent | undefined> {
    return this.#feed.read(timeoutMs);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PlayerEvent> {
    while (true) {
      const ev = await this.read();
      if (ev === undefined) return;
      yield ev;
    }
  }

  /** Stops reading the socket (for stalled-player tests); events already received stay readable. */
  pauseReading(): void {
    this.client.pauseReading();
  }

  resumeReading(): void {
    this.client.resumeReading();
  }

  /** deleteStream, then closes the connection. */
  async close(): Promise<void> {
    if (!this.client.closed) {
      try {
        await this.client.sendStreamCommand(0, CommandName.DeleteStream, this.streamId);
      } catch {
        // the connection went away meanwhile
      }
    }
    await this.client.close();
  }
}

/** Player counters. */
export interface PlayerStats {
  events: number;
  statuses: number;
  audio: number;
  video: number;
  data: number;
  keyframes: number;
  /** Payload bytes of media events. */
  bytes: number;
}

/** A player's queue of received events, bounded in bytes (the client stops reading while it is full). */
class PlayerFeed {
  readonly stats: PlayerStats = {
    events: 0,
    statuses: 0,
    audio: 0,
    video: 0,
    data: 0,
    keyframes: 0,
    bytes: 0,
  };
  bytes = 0;
  readonly #maxBytes: number;
  readonly #onDrain: () => void;
  #events: ({ ev: PlayerEvent; size: number } | undefined)[] = [];
  #head = 0;
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  constructor(maxBytes: number, onDrain: () => void) {
    this.#maxBytes = maxBytes;
    this.#onDrain = onDrain;
  }

  get full(): boolean {
    return this.bytes > this.#maxBytes;
  }

  push(ev: PlayerEvent, payloadBytes: number): void {
    if (this.#ended) return;
    const s = this.stats;
    s.events++;
    if (ev.type === "status") s.statuses++;
    else if (ev.type === "media") {
      s.bytes += payloadBytes;
      if (ev.kind === FrameKind.Audio) s.audio++;
      else if (ev.kind === FrameKind.Video) s.video++;
      else s.data++;
      if (ev.keyframe) s.keyframes++;
    }
    const size = payloadBytes + EVENT_OVERHEAD;
    this.#events.push({ ev, size });
    this.bytes += size;
    this.#wakeReader();
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakeReader();
  }

  async read(timeoutMs?: number): Promise<PlayerEvent | undefined> {
    while (true) {
      if (this.#head < this.#events.length) {
        const { ev, size } = this.#events[this.#head]!;
        this.#events[this.#head++] = undefined;
        if (this.#head === this.#events.length || this.#head > COMPACT_AFTER) {
          this.#events = this.#events.slice(this.#head);
          this.#head = 0;
        }
        const wasFull = this.full;
        this.bytes -= size;
        if (wasFull && !this.full) this.#onDrain();
        return ev;
      }
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return undefined;
      }
      if (this.#waiter) throw new TypeError("Cannot read a player twice at once: current read is pending");
      const arrived = new Promise<void>((resolve) => this.#waiter = resolve);
      if (timeoutMs === undefined) await arrived;
      else {
        await within(arrived, timeoutMs, "read the next player event", undefined, undefined, () => {
          this.#waiter = undefined;
        });
      }
    }
  }

  #wakeReader(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}

const CSID_OF_KIND: Record<FrameKind, number> = {
  [FrameKind.Audio]: ChunkStreamId.Audio,
  [FrameKind.Video]: ChunkStreamId.Video,
  [FrameKind.Data]: ChunkStreamId.Data,
};

function commandMessage(streamId: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Command, typeId: MessageType.CommandAmf0, streamId, timestamp: 0, payload };
}

/** A status event from an info object (or an ECMA array, as some servers send); missing fields read as "". */
function statusOf(value: AmfValue): StatusEvent {
  let info: AmfObject = {};
  if (value instanceof EcmaArray) info = value.properties;
  else if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) info = value as AmfObject;
  }
  const str = (v: AmfValue) => typeof v === "string" ? v : "";
  return {
    type: "status",
    code: str(info.code),
    level: str(info.level),
    description: str(info.description),
    info,
  };
}

/**
 * `p`, or a rejection with Deno.errors.TimedOut after `ms`, or with the
 * signal's reason when it aborts. `onLate` gets a value that arrives after the
 * timeout (to close it); `onGiveUp` runs when the wait is abandoned.
 */
function within<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  signal?: AbortSignal,
  onLate?: (value: T) => void,
  onGiveUp?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const giveUp = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      onGiveUp?.();
      reject(e);
    };
    const onAbort = () => giveUp(signal?.reason);
    const timer = setTimeout(
      () => giveUp(new Deno.errors.TimedOut(`Cannot ${what}: no answer within ${ms} ms`)),
      ms,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    p.then((v) => {
      if (settled) return onLate?.(v);
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(v);
    }, (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}
