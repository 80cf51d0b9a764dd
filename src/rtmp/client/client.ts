/**
 * RtmpClient: Sluice's own RTMP client, for tests, the benchmark and relays.
 * The socket and its plumbing (handshake loop, chunk reader and writer, write
 * chain, control and acknowledgements) are the connection core
 * (`../conn.ts`), the same one the server session runs on; this file is the
 * client's state machine: calls and their answers, statuses, players' and
 * publishers' streams.
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
 * - **Connect**: TCP (TLS for `rtmps://`, checked against the system's roots
 *   and `caCerts`), the handshake (simple, or digest with `digest: true`),
 *   then the client's Set Chunk Size and Window Acknowledgement Size and the
 *   `connect` command in one write; resolves on NetConnection.Connect.Success.
 * - **Publish**: releaseStream, FCPublish, createStream, publish; resolves on
 *   NetStream.Publish.Start, rejects with {@linkcode RtmpStatusError} (e.g.
 *   NetStream.Publish.BadName). See `publisher.ts`.
 * - **Play**: createStream, SetBufferLength, play; resolves on
 *   NetStream.Play.Start. The {@linkcode Player} (`player.ts`) is an async
 *   iterator of {@linkcode PlayerEvent}s, including the statuses that came
 *   before.
 *
 * Bounds: inbound messages are capped by the chunk reader
 * (`maxMessageLength`); a player's unread events are capped in bytes
 * (`maxQueueBytes`), past which the client stops reading the socket until the
 * consumer catches up. Every wait for the server has `timeoutMs`. Bytes that
 * break the protocol close the connection; the error is kept as
 * {@linkcode RtmpClient.error} and rethrown by a player's iterator.
 *
 * URLs: see `url.ts`.
 *
 * @module
 */
import { closeReasonOf, ConnectionClosedError, ProtocolError } from "../../errors.ts";
import { classify, FrameKind } from "../../media/frame.ts";
import { DEFAULT_MAX_MESSAGE_LENGTH } from "../../wasm/chunk_reader.ts";
import type { AmfValue } from "../../amf/value.ts";
import {
  type Command,
  commandMessage,
  CommandName,
  decodeCommand,
  decodeData,
  encodeCommand,
  StatusCode,
  StatusLevel,
} from "../command.ts";
import { DeltaHeaders, RtmpConn } from "../conn.ts";
import * as control from "../control.ts";
import { ClientHandshake } from "../handshake.ts";
import { MessageType, type RtmpMessage } from "../message.ts";
import { DEFAULT_PLAYER_QUEUE_BYTES, type MediaEvent, Player, PlayerFeed } from "./player.ts";
import { Publisher } from "./publisher.ts";
import { RtmpStatusError, type StatusEvent, statusOf } from "./status.ts";
import { parseRtmpUrl, type RtmpUrl } from "./url.ts";
import { within } from "./within.ts";

export { DEFAULT_RTMP_PORT, DEFAULT_RTMPS_PORT, parseRtmpUrl, type RtmpUrl } from "./url.ts";
export { RtmpStatusError, type StatusEvent } from "./status.ts";
export { type OutgoingFrame, Publisher } from "./publisher.ts";
export {
  type ControlEvent,
  DEFAULT_PLAYER_QUEUE_BYTES,
  type MediaEvent,
  Player,
  type PlayerEvent,
  type PlayerStats,
} from "./player.ts";

/** The chunk size the client announces and sends with, in bytes. */
export const DEFAULT_CLIENT_CHUNK_SIZE = 4096;

/** How long the client waits for any answer from the server, in ms. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000;

/** The Window Acknowledgement Size the client announces (as nginx-rtmp and SRS), in bytes. */
export const DEFAULT_CLIENT_WINDOW = 2_500_000;

/** The largest chunk size the client sends with: the cap of Sluice's chunk reader (the WASM ABI's MAX_CHUNK_SIZE). */
const MAX_CLIENT_CHUNK_SIZE = 0xffffff;

/** The flashVer the client reports in `connect` (7.2.1.1), in the form encoders use. */
const FLASH_VER = "FMLE/3.0 (compatible; Sluice)";

/** 7.2.2.1 `play` Start argument: -2 plays a live stream, or a recorded one if there is no live one. */
const PLAY_START_LIVE_OR_RECORDED = -2;

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
  /**
   * For `rtmps://`: PEM root certificates the server's certificate may chain to, besides the default
   * roots (a self-signed certificate is its own root). The host name is checked either way.
   */
  caCerts?: string[];
}

/** A TCP connection to the URL's host, with Nagle's algorithm off (each write goes out at once). */
async function connectTcp(u: RtmpUrl): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: u.hostname, port: u.port, transport: "tcp" });
  conn.setNoDelay(true);
  return conn;
}

/**
 * A TLS connection to the URL's host; the TLS handshake runs with the RTMP one, in `#start` (so a
 * server that never answers it is bounded by the same timeout). A TLS socket has no setNoDelay: it
 * keeps Deno's default, TCP_NODELAY on.
 */
function connectTls(u: RtmpUrl, caCerts: string[] | undefined): Promise<Deno.TlsConn> {
  return Deno.connectTls({ hostname: u.hostname, port: u.port, caCerts });
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

  readonly #conn: RtmpConn;
  /** The TLS socket under `#conn`, for `rtmps://`: its handshake is the first step of `#start`. */
  readonly #tls: Deno.TlsConn | undefined;
  readonly #timeoutMs: number;
  readonly #opts: RtmpClientOptions;
  #nextTid = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #statusWaiters = new Set<StatusWaiter>();
  readonly #feeds = new Map<number, PlayerFeed>();
  readonly #publishers = new Map<number, Publisher>();
  #loop: Promise<void> = Promise.resolve();
  #paused = false;
  #closed = false;
  #closeReason = "";
  #error: Error | undefined;
  readonly #closedSignal = Promise.withResolvers<string>();
  readonly #onAbort = () => this.#end(`aborted: ${closeReasonOf(this.#opts.signal?.reason)}`);

  private constructor(conn: Deno.TcpConn | Deno.TlsConn, url: RtmpUrl, opts: RtmpClientOptions) {
    this.url = url;
    this.#tls = "handshake" in conn ? conn : undefined;
    this.#opts = opts;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    this.#conn = new RtmpConn(conn, {
      maxMessageLength: opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
      windowAckSize: opts.windowAckSize ?? DEFAULT_CLIENT_WINDOW,
      peerName: "the server",
    });
    this.#conn.onWriteError = (reason) => this.#end(reason);
  }

  /**
   * Connects, handshakes and sends `connect` for the URL's app. Rejects with
   * RtmpStatusError when the server refuses, Deno.errors.TimedOut when it does
   * not answer within `timeoutMs`, or the signal's reason when aborted; for
   * `rtmps://`, with the TLS error when the server's certificate is not trusted.
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
    const conn = await within<Deno.TcpConn | Deno.TlsConn>(
      u.tls ? connectTls(u, opts.caCerts) : connectTcp(u),
      timeoutMs,
      `connect to ${u.hostname}:${u.port}`,
      opts.signal,
      (late) => late.close(),
    );
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

  /** Bytes read from the socket, handshake included. */
  get bytesIn(): number {
    return this.#conn.bytesIn;
  }

  /** Bytes written to the socket, handshake included. */
  get bytesOut(): number {
    return this.#conn.bytesOut;
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
    return this.#conn.chunkSize;
  }

  /** The server's chunk size (as its Set Chunk Size told the reader). */
  get peerChunkSize(): number {
    return this.#conn.peerChunkSize;
  }

  /**
   * Publishes `name` (default: the URL's stream name). Resolves on
   * NetStream.Publish.Start; rejects with RtmpStatusError for an error status
   * (e.g. NetStream.Publish.BadName).
   */
  async publish(name: string = this.url.stream): Promise<Publisher<RtmpClient>> {
    if (!name) throw new TypeError("Cannot publish: current stream name is empty");
    this.#sendCommand(0, encodeCommand(CommandName.ReleaseStream, this.#nextTid++, null, name));
    this.#sendCommand(0, encodeCommand(CommandName.FcPublish, this.#nextTid++, null, name));
    const streamId = await this.createStream();
    const publisher = new Publisher<RtmpClient>(this, streamId, name);
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
  ): Promise<Player<RtmpClient>> {
    if (!name) throw new TypeError("Cannot play: current stream name is empty");
    const streamId = await this.createStream();
    const feed = new PlayerFeed(
      opts.maxQueueBytes ?? DEFAULT_PLAYER_QUEUE_BYTES,
      () => this.#conn.resumeReading(),
    );
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
    return new Player<RtmpClient>(this, streamId, name, feed);
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
    const answer = this.#awaitAnswer(tid, what);
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
    return this.#send(msgs, DeltaHeaders.All);
  }

  /** Stops reading the socket (the server's writes then back up); the connection stays open. */
  pauseReading(): void {
    this.#paused = true;
  }

  /** Reads the socket again after pauseReading(). */
  resumeReading(): void {
    this.#paused = false;
    this.#conn.resumeReading();
  }

  /** Closes the socket at once; players end, pending calls reject. Resolves when the read loop is done. */
  async close(): Promise<void> {
    this.#end("closed by the client");
    await this.#loop;
  }

  // ---- connect

  async #start(chunkSize: number): Promise<void> {
    // An untrusted certificate rejects here with its reason (InvalidData: invalid peer certificate: ...).
    await this.#tls?.handshake();
    const hs = new ClientHandshake({ digest: this.#opts.digest ?? false });
    const rest = await this.#conn.handshake(hs, hs.start());
    if (rest === null) throw new ConnectionClosedError("handshake", "closed by the server");
    if (this.#closed) throw this.#closedError("connect");
    this.#loop = this.#readLoop(rest);
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
    const answer = this.#awaitAnswer(tid, what);
    // One write: Set Chunk Size (in the initial size), then the window and connect in the new size.
    this.#send([control.setChunkSize(chunkSize), this.#windowAckSize(), commandMessage(0, connect)])
      .catch(() => {});
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

  #windowAckSize(): RtmpMessage {
    return control.windowAckSize(this.#opts.windowAckSize ?? DEFAULT_CLIENT_WINDOW);
  }

  // ---- reading

  async #readLoop(rest: Uint8Array): Promise<void> {
    try {
      await this.#conn.run({
        onMessage: (msg) => this.#handle(msg),
        onUserControl: (c) => this.#feeds.get(c.streamId)?.push({ type: "control", control: c }, 0),
        readPaused: () => this.#paused || this.#feedsFull(),
      }, rest);
      this.#end("closed by the server");
    } catch (e) {
      this.#end(closeReasonOf(e, "the server"), e instanceof ProtocolError ? e : undefined);
    }
  }

  #feedsFull(): boolean {
    for (const f of this.#feeds.values()) if (f.full) return true;
    return false;
  }

  #handle(msg: RtmpMessage): void {
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

  #awaitAnswer(tid: number, what: string): Promise<Command> {
    return new Promise<Command>((resolve, reject) => {
      if (this.#closed) return reject(this.#closedError(what));
      this.#pending.set(tid, { what, resolve, reject });
    });
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

  // ---- writing

  #sendCommand(streamId: number, payload: Uint8Array): void {
    this.#send([commandMessage(streamId, payload)]).catch(() => {});
  }

  #send(msgs: readonly RtmpMessage[], delta: DeltaHeaders = DeltaHeaders.None): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("send"));
    return this.#conn.send(msgs, delta);
  }

  // ---- closing

  #closedError(what: string): ConnectionClosedError {
    return new ConnectionClosedError(what, this.#closeReason, { cause: this.#error });
  }

  /** Ends the connection once: closes the socket, rejects waiters, ends players. */
  #end(reason: string, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#error = error;
    this.#opts.signal?.removeEventListener("abort", this.#onAbort);
    this.#conn.close();
    for (const p of this.#pending.values()) p.reject(this.#closedError(p.what));
    this.#pending.clear();
    for (const w of this.#statusWaiters) w.reject(this.#closedError(w.what));
    this.#statusWaiters.clear();
    for (const f of this.#feeds.values()) f.end(error);
    this.#closedSignal.resolve(reason);
  }
}
