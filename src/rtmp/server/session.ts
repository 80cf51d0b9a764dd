/**
 * RtmpSession: one RTMP connection, from handshake to close. It owns the
 * socket; the protocol code below it (handshake, chunk reader/writer, AMF,
 * commands, control) never touches it.
 *
 * handshake -> connect -> releaseStream / FCPublish -> createStream ->
 * publish (frames into the hub) or play (a Subscriber with an RtmpPacker) ->
 * FCUnpublish / deleteStream / closeStream. Each session logs exactly one
 * close line: who, what, bytes, duration, reason.
 *
 * @module
 */
import type { Config } from "../../config/config.ts";
import { closeReasonOf, ProtocolError, StreamBusyError, StreamNotFoundError } from "../../errors.ts";
import type { StreamHub } from "../../hub/stream_hub.ts";
import { type StreamEvent, Subscriber } from "../../hub/subscriber.ts";
import type { Logger } from "../../log.ts";
import { FlvPublisher } from "../../ingest/flv_publisher.ts";
import type { TagType } from "../../media/flv.ts";
import { RtmpPacker } from "../../outputs/rtmp_play.ts";
import { VodPlay, vodPlayPath } from "../../vod/rtmp_vod.ts";
import { ChunkReader } from "../../wasm/chunk_reader.ts";
import { encodeMessage } from "../../wasm/chunk_writer.ts";
import { type AmfObject, encodeAmf0 } from "../../amf/amf0.ts";
import {
  CommandName,
  decodeCommand,
  encodeConnectResult,
  encodeData,
  encodeError,
  encodeOnStatus,
  encodeResult,
  statusInfo,
  StatusLevel,
} from "../command.ts";
import * as control from "../control.ts";
import { ServerHandshake } from "../handshake.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../message.ts";

/** What a session needs from the server (STYLE 10: the consumer declares it). */
export interface SessionContext {
  hub: StreamHub;
  config: Config;
  log: Logger;
}

type Role = "new" | "publisher" | "player";

const HANDSHAKE_READ = 4096;

/** The message stream id createStream hands out first; players share packed bytes only with the same id. */
const FIRST_STREAM_ID = 1;

export class RtmpSession {
  readonly id: string;
  readonly remote: string;
  readonly startedAt = Date.now();
  role: Role = "new";
  app = "";
  streamName = "";
  bytesIn = 0;
  bytesOut = 0;

  #conn: Deno.Conn;
  #ctx: SessionContext;
  #log: Logger;
  #reader: ChunkReader;
  #chunkSize: number;
  #closed = false;
  /** A refusal was sent; the socket closes once it is written. */
  #closing = false;
  #closeReason = "";
  #writeTail: Promise<void> = Promise.resolve();
  #nextStreamId = FIRST_STREAM_ID;
  #peerWindow = 0;
  #lastAck = 0;
  #objectEncoding = 0;
  /** The publish side: the same FlvPublisher HTTP push and file sources use. */
  #publisher: FlvPublisher | undefined;
  #publishStreamId = 0;
  #subscriber: Subscriber | undefined;
  #packer: RtmpPacker | undefined;
  /** A play of a file from the VOD folder (outputs/rtmp_vod.ts) instead of the hub. */
  #vod: VodPlay | undefined;
  #playStreamId = 0;
  #lastMediaAt = 0;
  #timers: ReturnType<typeof setTimeout>[] = [];

  constructor(conn: Deno.Conn, ctx: SessionContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${addr.hostname}:${addr.port}`;
    this.id = `rtmp ${this.remote}`;
    this.#log = ctx.log.child(`conn ${this.remote}`);
    this.#reader = new ChunkReader({ maxMessageLength: ctx.config.rtmp.maxMessageLength });
    this.#chunkSize = ctx.config.rtmp.chunkSize;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs the connection to its end; never throws. */
  async run(): Promise<void> {
    const cfg = this.#ctx.config.rtmp;
    try {
      const handshakeTimer = setTimeout(
        () => this.close(`handshake timeout after ${cfg.handshakeTimeoutMs} ms`),
        cfg.handshakeTimeoutMs,
      );
      this.#timers.push(handshakeTimer);
      const rest = await this.#handshake();
      clearTimeout(handshakeTimer);
      if (this.#closed) return;
      this.#timers.push(setTimeout(() => {
        if (this.role === "new") this.close(`no publish or play within ${cfg.startTimeoutMs} ms`);
      }, cfg.startTimeoutMs));
      // The handshake already counted these bytes in bytesIn.
      if (rest && rest.length > 0) this.#handleAll(this.#reader.push(rest), 0);
      while (!this.#closed) {
        const view = this.#reader.readable();
        const n = await this.#conn.read(view);
        if (n === null) {
          this.close("peer closed the connection");
          break;
        }
        this.#handleAll(this.#reader.commit(n), n);
      }
    } catch (e) {
      if (!this.#closed) this.close(closeReasonOf(e));
    } finally {
      this.close(this.#closeReason || "ended");
    }
  }

  /**
   * Closes once everything already queued is written (a refusal's status must
   * reach the peer before the socket closes); messages that arrive meanwhile
   * are ignored.
   */
  #closeAfterWrites(reason: string): void {
    this.#closing = true;
    this.#writeTail.then(() => this.close(reason));
  }

  /** Ends the session: leaves the hub, closes the socket, logs one line. Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    for (const t of this.#timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.#timers = [];
    this.#endPublish();
    this.#endPlay();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    const what = this.role === "new" ? "no stream" : `${this.role} ${this.app}/${this.streamName}`;
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.#log.info(`closed: ${what}, in ${this.bytesIn} B, out ${this.bytesOut} B, ${secs} s: ${reason}`);
  }

  async #handshake(): Promise<Uint8Array | undefined> {
    const hs = new ServerHandshake();
    const buf = new Uint8Array(HANDSHAKE_READ);
    while (!this.#closed) {
      const n = await this.#conn.read(buf);
      if (n === null) {
        this.close("peer closed during handshake");
        return undefined;
      }
      this.bytesIn += n;
      const step = hs.feed(buf.subarray(0, n));
      for (const out of step.output) await this.#writeRaw(out);
      if (step.done) {
        this.#log.debug(`handshake done (${hs.kind})`);
        return step.rest;
      }
    }
    return undefined;
  }

  // ---- writing: every byte to the socket goes through one chain, so writes never interleave

  #writeRaw(bytes: Uint8Array): Promise<void> {
    const p = this.#writeTail.then(() => this.#writeAll(bytes));
    this.#writeTail = p.catch(() => {});
    return p;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error("connection closed");
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(off === 0 ? bytes : bytes.subarray(off));
    this.bytesOut += bytes.length;
  }

  /** Sends one message with a full header on its chunk stream; errors close the session. */
  #send(msg: RtmpMessage): void {
    this.#writeRaw(encodeMessage(msg, this.#chunkSize, "full")).catch((e) =>
      this.close(`write failed: ${closeReasonOf(e)}`)
    );
  }

  #sendCommand(streamId: number, payload: Uint8Array): void {
    this.#send({
      csid: ChunkStreamId.Command,
      typeId: MessageType.CommandAmf0,
      streamId,
      timestamp: 0,
      payload,
    });
  }

  #onStatus(streamId: number, level: string, code: string, description: string, extra?: AmfObject): void {
    this.#sendCommand(streamId, encodeOnStatus(statusInfo(level as StatusLevel, code, description, extra)));
  }

  // ---- reading

  #handleAll(msgs: RtmpMessage[], n: number): void {
    this.bytesIn += n;
    for (const m of msgs) {
      if (this.#closed || this.#closing) return;
      this.#handle(m);
    }
    if (this.#peerWindow > 0 && this.#reader.bytesReceived - this.#lastAck >= this.#peerWindow) {
      this.#lastAck = this.#reader.bytesReceived;
      this.#send(control.acknowledgement(this.#reader.bytesReceived >>> 0));
    }
  }

  #handle(msg: RtmpMessage): void {
    if (control.isControlType(msg.typeId)) return this.#onControl(msg);
    switch (msg.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
        return this.#onMedia(msg.typeId, msg.timestamp, msg.payload);
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        return this.#onData(msg);
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        return this.#onCommand(msg);
      case MessageType.Aggregate:
        return this.#onAggregate(msg);
      default:
        this.#log.debug(`ignored message type ${msg.typeId} (${msg.payload.length} B)`);
    }
  }

  #onControl(msg: RtmpMessage): void {
    const c = control.parseControl(msg);
    switch (c.kind) {
      case "windowAckSize":
        this.#peerWindow = c.windowSize;
        break;
      case "pingRequest":
        this.#send(control.pingResponse(c.timestamp));
        break;
      default:
        break; // Set Chunk Size and Abort are applied by the chunk reader; acks need nothing
    }
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg);
    if (this.#vod?.command(cmd)) return; // seek (7.2.2.7), pause, receiveAudio/Video of a VOD play
    const tid = cmd.transactionId;
    switch (cmd.name) {
      case CommandName.Connect:
        return this.#onConnect(tid, cmd.commandObject);
      case CommandName.ReleaseStream:
      case CommandName.FcPublish: {
        if (cmd.name === CommandName.FcPublish) {
          this.#sendCommand(
            0,
            encodeAmf0(CommandName.OnFcPublish, 0, null, {
              code: "NetStream.Publish.Start",
              description: String(cmd.args[0] ?? ""),
            }),
          );
        }
        if (tid > 0) this.#sendCommand(0, encodeResult(tid, null, undefined));
        return;
      }
      case CommandName.CreateStream: {
        const id = this.#nextStreamId++;
        this.#sendCommand(0, encodeResult(tid, null, id));
        return;
      }
      case CommandName.Publish:
        return this.#onPublish(msg.streamId, String(cmd.args[0] ?? ""));
      case CommandName.Play:
        return void this.#onPlay(msg.streamId, String(cmd.args[0] ?? ""), cmd.args[1]);
      case CommandName.FcUnpublish:
        if (tid > 0) this.#sendCommand(0, encodeResult(tid, null, undefined));
        return this.#endPublish(true);
      case CommandName.DeleteStream:
      case CommandName.CloseStream:
        this.#endPublish(true);
        this.#endPlay();
        return;
      case CommandName.GetStreamLength:
        if (tid > 0) this.#sendCommand(0, encodeResult(tid, null, 0));
        return;
      case CommandName.ReceiveAudio:
      case CommandName.ReceiveVideo: {
        if (!this.#packer) return;
        const on = cmd.args[0] !== false;
        if (cmd.name === CommandName.ReceiveAudio) this.#packer.audio = on;
        else this.#packer.video = on;
        return;
      }
      case CommandName.Pause:
        return this.#onPause(msg.streamId, cmd.args[0] === true);
      case "_checkbw":
      // librtmp (rtmpdump) sends FCSubscribe before a live play; an _error answer makes it print
      // "ERROR: rtmp server sent error". Like releaseStream, it needs nothing but a _result.
      case "FCSubscribe":
        if (tid > 0) this.#sendCommand(0, encodeResult(tid, null, undefined));
        return;
      default:
        this.#log.debug(`unknown command ${cmd.name}`);
        if (tid > 0) {
          this.#sendCommand(
            0,
            encodeError(
              tid,
              statusInfo(StatusLevel.Error, "NetConnection.Call.Failed", `Method not found (${cmd.name})`),
            ),
          );
        }
    }
  }

  #onConnect(tid: number, obj: unknown): void {
    const o = (obj ?? {}) as Record<string, unknown>;
    const app = typeof o.app === "string" ? o.app : "";
    this.app = app.split("?")[0].replace(/\/+$/, "");
    this.#objectEncoding = typeof o.objectEncoding === "number" ? o.objectEncoding : 0;
    const cfg = this.#ctx.config.rtmp;
    this.#send(control.windowAckSize(cfg.windowAckSize));
    this.#send(control.setPeerBandwidth(cfg.windowAckSize, control.PeerBandwidthLimit.Dynamic));
    this.#send(control.setChunkSize(this.#chunkSize));
    this.#sendCommand(0, encodeConnectResult(tid, { objectEncoding: this.#objectEncoding }));
  }

  #key(name: string): string {
    return `${this.app}/${name.split("?")[0]}`;
  }

  #onPublish(streamId: number, name: string): void {
    if (this.role !== "new" || !name) {
      this.#onStatus(
        streamId,
        "error",
        "NetStream.Publish.BadName",
        `Cannot publish ${name}: current session is ${this.role}`,
      );
      return;
    }
    const key = this.#key(name);
    const publisher = new FlvPublisher(key, this.id, this.#ctx.hub);
    publisher.onClose = (reason) => this.close(reason);
    try {
      publisher.start();
    } catch (e) {
      if (e instanceof StreamBusyError) {
        this.#onStatus(streamId, "error", "NetStream.Publish.BadName", `${key} is already published`);
        this.#closeAfterWrites(`publish refused: ${key} already has a publisher`);
        return;
      }
      throw e;
    }
    this.#publisher = publisher;
    this.role = "publisher";
    this.streamName = name.split("?")[0];
    this.#publishStreamId = streamId;
    this.#lastMediaAt = Date.now();
    this.#send(control.streamBegin(streamId));
    this.#onStatus(streamId, "status", "NetStream.Publish.Start", `${key} is now published.`, {
      details: name,
    });
    this.#log.info(`publishing ${key}`);
    const idle = this.#ctx.config.rtmp.idleTimeoutMs;
    const t = setInterval(() => {
      if (Date.now() - this.#lastMediaAt > idle) this.close(`idle publisher: no media for ${idle} ms`);
    }, Math.min(1000, idle));
    this.#timers.push(t);
  }

  /** Audio and video message bodies are FLV tag bodies, and their type ids are the FLV tag types. */
  #onMedia(kind: number, timestamp: number, payload: Uint8Array): void {
    if (!this.#publisher) return;
    this.#lastMediaAt = Date.now();
    this.#publisher.push({ type: kind as TagType, timestamp, data: payload });
  }

  #onData(msg: RtmpMessage): void {
    this.#publisher?.pushData(msg.typeId, msg.timestamp, msg.payload);
  }

  /** Aggregate (7.1.6): FLV-tag-like sub-messages, each re-timed against the message's timestamp. */
  #onAggregate(msg: RtmpMessage): void {
    const p = msg.payload;
    let off = 0;
    let first: number | undefined;
    while (off + 11 <= p.length) {
      const type = p[off];
      const size = (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3];
      const ts = ((p[off + 7] << 24) | (p[off + 4] << 16) | (p[off + 5] << 8) | p[off + 6]) >>> 0;
      if (off + 11 + size + 4 > p.length) {
        throw new ProtocolError(
          "aggregate",
          `Cannot split aggregate: sub-message of ${size} B overruns ${p.length} B`,
        );
      }
      first ??= ts;
      const body = p.slice(off + 11, off + 11 + size);
      const at = (msg.timestamp + (ts - first)) >>> 0;
      this.#handle({ csid: msg.csid, typeId: type, streamId: msg.streamId, timestamp: at, payload: body });
      off += 11 + size + 4;
    }
  }

  #endPublish(sayUnpublished = false): void {
    const publisher = this.#publisher;
    if (!publisher) return;
    this.#publisher = undefined;
    publisher.stop();
    if (sayUnpublished && !this.#closed) {
      this.#onStatus(
        this.#publishStreamId,
        "status",
        "NetStream.Unpublish.Success",
        `${publisher.key} is now unpublished.`,
      );
    }
  }

  // ---- play

  async #onPlay(streamId: number, name: string, start?: unknown): Promise<void> {
    if (this.role !== "new" || !name) {
      this.#onStatus(
        streamId,
        "error",
        "NetStream.Play.Failed",
        `Cannot play ${name}: current session is ${this.role}`,
      );
      return;
    }
    const vodPath = vodPlayPath(this.#ctx.config.vod, this.app, name);
    if (vodPath !== undefined) return this.#onVodPlay(streamId, name, vodPath, start);
    const key = this.#key(name);
    this.role = "player";
    this.streamName = name.split("?")[0];
    this.#playStreamId = streamId;
    const packer = new RtmpPacker(streamId, this.#chunkSize);
    const sub = new Subscriber(
      this.id,
      packer,
      { write: (b) => this.#writeRaw(b) },
      this.#ctx.config.player,
      this.#log,
    );
    this.#packer = packer;
    this.#subscriber = sub;
    sub.onClose = (reason) => this.close(reason);
    sub.onEvent = (ev) => this.#onStreamEvent(ev);

    const live = this.#ctx.hub.get(key);
    if (!live && this.#ctx.config.hub.playWaitMs <= 0) {
      this.#onStatus(streamId, "error", "NetStream.Play.StreamNotFound", `${key} is not published`, {
        details: name,
      });
      this.#closeAfterWrites(`play refused: ${key} not found`);
      return;
    }
    this.#send(control.streamBegin(streamId));
    this.#onStatus(streamId, "status", "NetStream.Play.Reset", `Playing and resetting ${key}.`, {
      details: name,
    });
    this.#onStatus(streamId, "status", "NetStream.Play.Start", `Started playing ${key}.`, { details: name });
    this.#send({
      csid: ChunkStreamId.Data,
      typeId: MessageType.DataAmf0,
      streamId,
      timestamp: 0,
      payload: encodeData("|RtmpSampleAccess", true, true),
    });
    this.#log.info(`playing ${key}`);
    try {
      await this.#writeTail; // status messages go out before any media
      if (this.#closed) return;
      await this.#ctx.hub.play(key, sub);
    } catch (e) {
      if (e instanceof StreamNotFoundError && !this.#closed) {
        this.#onStatus(streamId, "error", "NetStream.Play.StreamNotFound", `${key} is not published`, {
          details: name,
        });
        await this.#writeTail;
        this.close(`play of ${key}: no publisher within ${this.#ctx.config.hub.playWaitMs} ms`);
        return;
      }
      if (!this.#closed) this.close(closeReasonOf(e));
    }
  }

  #onStreamEvent(ev: StreamEvent): void {
    const key = this.#key(this.streamName);
    const sid = this.#playStreamId;
    if (ev === "unpublish") {
      this.#onStatus(sid, "status", "NetStream.Play.UnpublishNotify", `${key} is now unpublished.`);
    } else if (ev === "publish") {
      this.#send(control.streamBegin(sid));
      this.#onStatus(sid, "status", "NetStream.Play.PublishNotify", `${key} is now published.`);
    } else {
      this.#send(control.streamEof(sid));
      this.#onStatus(sid, "status", "NetStream.Play.Stop", `Stopped playing ${key}.`);
      this.#subscriber = undefined;
      this.#writeTail.then(() => this.close(`stream ${key} ended`));
    }
  }

  #onPause(streamId: number, pause: boolean): void {
    const sub = this.#subscriber;
    if (!sub) return;
    const key = this.#key(this.streamName);
    if (pause) {
      this.#ctx.hub.leave(key, sub);
      this.#onStatus(streamId, "status", "NetStream.Pause.Notify", `Paused ${key}.`);
    } else {
      this.#packer?.reset();
      this.#onStatus(streamId, "status", "NetStream.Unpause.Notify", `Unpaused ${key}.`);
      this.#ctx.hub.get(key)?.addSubscriber(sub);
    }
  }

  /** Plays a file from the VOD folder (play's Start argument in ms: above 0 starts at that keyframe). */
  #onVodPlay(streamId: number, name: string, path: string, start: unknown): void {
    this.role = "player";
    this.streamName = name.split("?")[0];
    this.#playStreamId = streamId;
    this.#vod = new VodPlay({ write: (b) => this.#writeRaw(b), close: (r) => this.#closeAfterWrites(r) }, {
      root: this.#ctx.config.vod.root!,
      app: this.#ctx.config.vod.app,
      streamId,
      chunkSize: this.#chunkSize,
      log: this.#log,
    });
    this.#vod.start(path, typeof start === "number" ? start : 0);
  }

  #endPlay(): void {
    this.#vod?.stop();
    this.#vod = undefined;
    const sub = this.#subscriber;
    if (!sub) return;
    this.#subscriber = undefined;
    this.#ctx.hub.leave(this.#key(this.streamName), sub);
    if (!sub.closed) sub.close("player left");
  }

  /** Counters for the admin API and tests. */
  get subscriber(): Subscriber | undefined {
    return this.#subscriber;
  }
}
