/**
 * RtmpSession: the server's state machine for one RTMP connection. The socket,
 * the chunk reader and writer, the write chain, control and acknowledgements
 * live in the connection core (`../conn.ts`); this file only decides what each
 * command means.
 *
 * handshake -> connect -> releaseStream / FCPublish -> createStream ->
 * publish (frames into the hub) or play (a Subscriber with an RtmpPacker, or
 * a file from the VOD folder) -> FCUnpublish / deleteStream / closeStream.
 *
 * - **Order**: a command before `connect` closes the connection, and so does
 *   `publish` or `play` on a message stream that `createStream` did not hand
 *   out, as nginx-rtmp does; the reason is logged.
 * - **Admission**: every publish and play (VOD too) asks the hub's gate first,
 *   with the app, the stream name and its `?query`, tcUrl, pageUrl and the
 *   peer's address. A refusal answers NetStream.Publish.BadName or
 *   NetStream.Play.Failed with the reason as description, then closes.
 *   Messages that arrive while the gate decides (a client that sends its
 *   metadata and first frames right after `publish`) are held, up to
 *   `rtmp.maxMessageLength` bytes, and handled in order once it allows;
 *   other connections never wait.
 * - **Registry**: the connection is in the hub's session registry from accept
 *   to close (role pending until its publish or play is allowed), with what
 *   it asked for (CONNECT, then PLAY or PUBLISH of `rtmp://host/app/name`,
 *   flashVer and pageUrl) and the answer in HTTP's codes (SessionStatus), for
 *   the access log.
 * - Each session logs exactly one close line: who, what, bytes, duration,
 *   reason.
 *
 * @module
 */
import type { Config } from "../../config/config.ts";
import { closeReasonOf, ProtocolError, StreamBusyError, StreamNotFoundError } from "../../errors.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  DecisionKind,
  refusalText,
  splitStreamName,
} from "../../hub/admission.ts";
import { DENY_STATUS } from "../../http/admit.ts";
import type { SessionEntry } from "../../hub/registry.ts";
import { Protocol, Role as SessionRole } from "../../hub/session_kind.ts";
import type { StreamHub } from "../../hub/stream_hub.ts";
import { type StreamEvent, Subscriber } from "../../hub/subscriber.ts";
import type { Logger } from "../../log.ts";
import { FlvPublisher } from "../../ingest/flv_publisher.ts";
import type { TagType } from "../../media/flv.ts";
import { RtmpPacker } from "../../outputs/rtmp_play.ts";
import { VodPlay, vodPlayPath } from "../../vod/rtmp_vod.ts";
import {
  describePoint,
  type FeedLookup,
  RingPacer,
  type TimeShiftPoint,
  timeShiftPoint,
} from "../../feed/time_shift.ts";
import { encodeAmf0 } from "../../amf/amf0.ts";
import {
  type Command,
  commandMessage,
  CommandName,
  dataMessage,
  DataName,
  decodeCommand,
  encodeConnectResult,
  encodeData,
  encodeError,
  encodeOnStatus,
  encodeResult,
  StatusCode,
  statusInfo,
  StatusLevel,
} from "../command.ts";
import { DeltaHeaders, RtmpConn } from "../conn.ts";
import * as control from "../control.ts";
import { after, type Deadline } from "../../deadlines.ts";
import { ServerHandshake } from "../handshake.ts";
import { mediaChunkStream, MessageType, type RtmpMessage } from "../message.ts";

/** What a session needs from the server (STYLE 10: the consumer declares it). */
export interface SessionContext {
  hub: StreamHub;
  config: Config;
  log: Logger;
  /** The feeds with a ring file, for plays that start in the past; missing: none. */
  feeds?: FeedLookup;
}

type Role = "new" | "publisher" | "player";

/** The message stream id createStream hands out first; players share packed bytes only with the same id. */
const FIRST_STREAM_ID = 1;

/**
 * How a session was answered, in HTTP's codes (RFC 9110 15) as the access log writes every protocol's
 * result (a refusal by the admission gate takes DENY_STATUS: 401, 403 or 503).
 */
const SessionStatus = {
  /** 200: the publish or play started. */
  Ok: 200,
  /** 302: the admission gate redirected the play or publish. */
  Redirect: 302,
  /** 400: a protocol violation or a stream name that cannot be read, before any publish or play. */
  BadRequest: 400,
  /** 404: no publisher of the stream played. */
  NotFound: 404,
  /** 409: the stream already has a publisher. */
  Conflict: 409,
} as const;

/** Message streams one connection may create (ffmpeg and OBS use one; nginx-rtmp allows a handful). */
const MAX_STREAMS = 16;

/** Commands that librtmp, ffmpeg and OBS send before a publish or play and that need only a `_result`. */
const ACKNOWLEDGED_ONLY: ReadonlySet<string> = new Set([
  CommandName.ReleaseStream,
  // librtmp (rtmpdump) sends FCSubscribe before a live play; an _error answer makes it print
  // "ERROR: rtmp server sent error". Like releaseStream, it needs nothing but a _result.
  "FCSubscribe",
  "_checkbw",
]);

/**
 * The answers every joiner of a stream gets byte for byte, encoded once: at 800 joiners a second the AMF
 * encoding of connect's `_result` and of play's two statuses was a tenth of the server's join work (CPU
 * profile, issue 13). The encoders copy payloads into the chunks, so sharing them is safe. Bounded: a cache
 * past its size starts over, and a long key is not kept.
 */
const ANSWERS_MAX = 256;
/** Longer keys (a stream name with a long query) are encoded per play and not kept. */
const ANSWER_KEY_MAX = 256;
const connectResults = new Map<string, Uint8Array>();
const playStarts = new Map<string, readonly [reset: Uint8Array, start: Uint8Array]>();
const SAMPLE_ACCESS = encodeData(DataName.RtmpSampleAccess, true, true);

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  if (key.length > ANSWER_KEY_MAX) return make();
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= ANSWERS_MAX) cache.clear();
    value = make();
    cache.set(key, value);
  }
  return value;
}

/** connect's `_result` for transaction `tid`, echoing `objectEncoding`. */
function connectResult(tid: number, objectEncoding: number): Uint8Array {
  return cached(
    connectResults,
    `${tid} ${objectEncoding}`,
    () => encodeConnectResult(tid, { objectEncoding }),
  );
}

/** NetStream.Play.Reset and .Start of stream `key` played as `name`. */
function playStartStatuses(key: string, name: string): readonly [Uint8Array, Uint8Array] {
  return cached(playStarts, `${key}\n${name}`, () => {
    const details = { details: name };
    const status = (code: StatusCode, text: string) =>
      encodeOnStatus(statusInfo(StatusLevel.Status, code, text, details));
    return [
      status(StatusCode.PlayReset, `Playing and resetting ${key}.`),
      status(StatusCode.PlayStart, `Started playing ${key}.`),
    ] as const;
  });
}

export class RtmpSession {
  readonly id: string;
  readonly remote: string;
  readonly startedAt = Date.now();
  role: Role = "new";
  app = "";
  streamName = "";

  readonly #conn: RtmpConn;
  readonly #ctx: SessionContext;
  readonly #log: Logger;
  #connected = false;
  /** A publish or play is waiting for the admission gate. */
  #admitting = false;
  /** Messages that arrived while the gate decided, handled in order once it allows. */
  #held: RtmpMessage[] = [];
  #heldBytes = 0;
  #tcUrl: string | undefined;
  #pageUrl: string | undefined;
  #flashVer: string | undefined;
  /** This connection in the hub's session registry. */
  readonly #entry: SessionEntry;
  /** The last subscriber, whose counters the registry reads after it ended. */
  #lastSubscriber: Subscriber | undefined;
  #closed = false;
  /** A refusal was sent; the socket closes once it is written, and messages meanwhile are ignored. */
  #closing = false;
  #closeReason = "";
  readonly #streamIds = new Set<number>();
  #nextStreamId = FIRST_STREAM_ID;
  /** The publish side: the same FlvPublisher HTTP push and file sources use. */
  #publisher: FlvPublisher | undefined;
  #publishStreamId = 0;
  #subscriber: Subscriber | undefined;
  #packer: RtmpPacker | undefined;
  /** A play of a file from the VOD folder (vod/rtmp_vod.ts) instead of the hub. */
  #vod: VodPlay | undefined;
  /** A play from a feed's ring (time-shift). */
  #ring: RingPacer | undefined;
  #playStreamId = 0;
  #lastMediaAt = 0;
  #timers: ReturnType<typeof setTimeout>[] = [];
  /** The handshake's and the start's timeouts (one shared queue per duration, not a timer each). */
  #deadlines: Deadline[] = [];

  constructor(conn: Deno.Conn, ctx: SessionContext) {
    this.#ctx = ctx;
    const cfg = ctx.config.rtmp;
    this.#conn = new RtmpConn(conn, {
      maxMessageLength: cfg.maxMessageLength,
      windowAckSize: cfg.windowAckSize,
      chunkSize: cfg.chunkSize,
    });
    this.#conn.onWriteError = (reason) => this.close(reason);
    const addr = this.#conn.remoteAddr;
    this.remote = `${addr.hostname}:${addr.port}`;
    this.id = `rtmp ${this.remote}`;
    this.#log = ctx.log.child(`conn ${this.remote}`);
    this.#entry = ctx.hub.sessions.open({
      protocol: Protocol.Rtmp,
      remote: this.remote,
      counters: () => {
        const s = this.#lastSubscriber;
        return {
          bytesIn: this.#conn.bytesIn,
          bytesOut: this.#conn.bytesOut,
          framesSent: s?.stats.framesSent ?? 0,
          framesDropped: s?.stats.framesDropped ?? 0,
          skips: s?.stats.skips ?? 0,
          lagMs: s?.lagMs ?? 0,
          queuedBytes: s?.ownBytes ?? 0,
        };
      },
      close: (reason) => this.close(reason),
    });
  }

  /** This connection's id in the hub's session registry. */
  get sessionId(): string {
    return this.#entry.id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bytesIn(): number {
    return this.#conn.bytesIn;
  }

  get bytesOut(): number {
    return this.#conn.bytesOut;
  }

  /**
   * Runs the connection to its end; never throws. Its own frame ends with the handshake: what follows is a
   * promise chain on the read loop, so a connection that lives for hours keeps no suspended async frame.
   */
  async run(): Promise<void> {
    const cfg = this.#ctx.config.rtmp;
    let rest: Uint8Array | null;
    try {
      const handshakeDeadline = after(
        cfg.handshakeTimeoutMs,
        () => this.close(`handshake timeout after ${cfg.handshakeTimeoutMs} ms`),
      );
      this.#deadlines.push(handshakeDeadline);
      rest = await this.#handshake();
      handshakeDeadline.cancel();
    } catch (e) {
      return this.close(closeReasonOf(e));
    }
    if (rest === null) return this.close("peer closed during handshake");
    if (this.#closed) return;
    this.#deadlines = [after(cfg.startTimeoutMs, () => {
      if (this.role === "new") this.close(`no publish or play within ${cfg.startTimeoutMs} ms`);
    })];
    return this.#conn.run({ onMessage: (m) => this.#handle(m) }, rest).then(
      (end) =>
        this.close(end === "peer closed" ? "peer closed the connection" : this.#closeReason || "ended"),
      (e) => this.close(closeReasonOf(e)),
    );
  }

  /**
   * The handshake, in a frame of its own so that nothing of it outlives it: run() stays suspended for the
   * connection's life, and a handshake it held (C1, C2, S1: 4.5 KB) or the 4 KiB read buffer that the bytes
   * read past it point into would stay with every connection. Gives those bytes as a copy, or null when the
   * peer closed first.
   */
  async #handshake(): Promise<Uint8Array | null> {
    const hs = new ServerHandshake();
    const rest = await this.#conn.handshake(hs);
    if (rest === null) return null;
    this.#log.debug(`handshake done (${hs.kind})`);
    return rest.slice();
  }

  /** Closes once everything already queued is written (a refusal's status must reach the peer first). */
  #closeAfterWrites(reason: string): void {
    this.#closing = true;
    this.#conn.drained.then(() => this.close(reason));
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
    for (const d of this.#deadlines) d.cancel();
    this.#deadlines = [];
    this.#endPublish();
    this.#endPlay();
    this.#conn.close();
    this.#entry.end(reason);
    const what = this.role === "new" ? "no stream" : `${this.role} ${this.app}/${this.streamName}`;
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.#log.info(`closed: ${what}, in ${this.bytesIn} B, out ${this.bytesOut} B, ${secs} s: ${reason}`);
  }

  /** Refuses a command that breaks the protocol's order: the connection closes, the reason is logged. */
  #violation(reason: string): void {
    if (this.#entry.status === undefined) this.#entry.setStatus(SessionStatus.BadRequest);
    this.close(`protocol violation: ${reason}`);
  }

  // ---- reading

  #handle(msg: RtmpMessage): void {
    if (this.#closed || this.#closing) return;
    if (this.#admitting) return this.#hold(msg);
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

  /** Keeps a message that came while the gate decided; past the bound the connection closes. */
  #hold(msg: RtmpMessage): void {
    this.#heldBytes += msg.payload.length;
    const limit = this.#ctx.config.rtmp.maxMessageLength;
    if (this.#heldBytes > limit) {
      return this.#violation(`${this.#heldBytes} B sent while the admission gate decided (limit ${limit})`);
    }
    this.#held.push(msg);
  }

  /** Handles, in order, what was held while the gate decided. */
  #replayHeld(): void {
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const m of held) this.#handle(m);
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg);
    if (!this.#connected && cmd.name !== CommandName.Connect) {
      return this.#violation(`${cmd.name} before connect`);
    }
    if (this.#vod?.command(cmd)) return; // seek (7.2.2.7), pause, receiveAudio/Video of a VOD play
    const tid = cmd.transactionId;
    if (ACKNOWLEDGED_ONLY.has(cmd.name)) {
      if (tid > 0) this.#conn.sendCommand(0, encodeResult(tid, null, undefined));
      return;
    }
    switch (cmd.name) {
      case CommandName.Connect:
        return this.#onConnect(tid, cmd.commandObject);
      case CommandName.FcPublish:
        this.#conn.sendCommand(
          0,
          encodeAmf0(CommandName.OnFcPublish, 0, null, {
            code: StatusCode.PublishStart,
            description: String(cmd.args[0] ?? ""),
          }),
        );
        if (tid > 0) this.#conn.sendCommand(0, encodeResult(tid, null, undefined));
        return;
      case CommandName.CreateStream:
        return this.#onCreateStream(tid);
      case CommandName.Publish:
      case CommandName.Play:
        return this.#onPublishOrPlay(msg.streamId, cmd);
      case CommandName.FcUnpublish:
        if (tid > 0) this.#conn.sendCommand(0, encodeResult(tid, null, undefined));
        return this.#endPublish(true);
      case CommandName.DeleteStream:
      case CommandName.CloseStream:
        this.#endPublish(true);
        this.#endPlay();
        return;
      case CommandName.GetStreamLength:
        if (tid > 0) this.#conn.sendCommand(0, encodeResult(tid, null, 0));
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
      default:
        this.#log.debug(`unknown command ${cmd.name}`);
        if (tid > 0) {
          this.#conn.sendCommand(
            0,
            encodeError(
              tid,
              statusInfo(StatusLevel.Error, StatusCode.CallFailed, `Method not found (${cmd.name})`),
            ),
          );
        }
    }
  }

  #onConnect(tid: number, obj: unknown): void {
    if (this.#connected) return this.#violation("a second connect");
    this.#connected = true;
    const o = (obj ?? {}) as Record<string, unknown>;
    const app = typeof o.app === "string" ? o.app : "";
    this.app = app.split("?")[0].replace(/\/+$/, "");
    if (typeof o.tcUrl === "string") this.#tcUrl = o.tcUrl;
    if (typeof o.pageUrl === "string") this.#pageUrl = o.pageUrl;
    if (typeof o.flashVer === "string") this.#flashVer = o.flashVer;
    this.#setRequest("CONNECT", this.#appUrl());
    const objectEncoding = typeof o.objectEncoding === "number" ? o.objectEncoding : 0;
    const cfg = this.#ctx.config.rtmp;
    // One write for the whole answer (a failure reaches onWriteError).
    this.#conn.send([
      control.windowAckSize(cfg.windowAckSize),
      control.setPeerBandwidth(cfg.windowAckSize, control.PeerBandwidthLimit.Dynamic),
      control.setChunkSize(this.#conn.chunkSize),
      commandMessage(0, connectResult(tid, objectEncoding)),
    ]).catch(() => {});
  }

  #onCreateStream(tid: number): void {
    if (this.#streamIds.size >= MAX_STREAMS) {
      return this.#violation(`createStream past ${MAX_STREAMS} streams on one connection`);
    }
    const id = this.#nextStreamId++;
    this.#streamIds.add(id);
    this.#conn.sendCommand(0, encodeResult(tid, null, id));
  }

  #onPublishOrPlay(streamId: number, cmd: Command): void {
    if (!this.#streamIds.has(streamId)) {
      return this.#violation(`${cmd.name} on message stream ${streamId}, which createStream did not create`);
    }
    const name = String(cmd.args[0] ?? "");
    const publish = cmd.name === CommandName.Publish;
    if (this.role !== "new" || this.#admitting || !name) {
      this.#conn.sendStatus(
        streamId,
        StatusLevel.Error,
        publish ? StatusCode.PublishBadName : StatusCode.PlayFailed,
        `Cannot ${cmd.name} ${name}: current session is ${
          this.#admitting ? "waiting for admission" : this.role
        }`,
      );
      return;
    }
    void this.#admitThen(streamId, name, publish, cmd.args[1]);
  }

  /** The app's URL: tcUrl as the client sent it, else built from the address it connected to. */
  #appUrl(): string {
    if (this.#tcUrl !== undefined) return this.#tcUrl.replace(/\/+$/, "");
    const local = this.#conn.localAddr;
    const host = local.hostname.includes(":") ? `[${local.hostname}]` : local.hostname;
    return `rtmp://${host}:${local.port}/${this.app}`;
  }

  /** Tells the registry what the client asks for (`method` CONNECT, PLAY or PUBLISH). */
  #setRequest(method: string, url: string): void {
    this.#entry.setRequest({
      method,
      url,
      ...(this.#flashVer !== undefined && { userAgent: this.#flashVer }),
      ...(this.#pageUrl !== undefined && { referer: this.#pageUrl }),
    });
  }

  /** Asks the admission gate, then publishes or plays; a refusal is answered on the stream and closes. */
  async #admitThen(streamId: number, name: string, publish: boolean, start: unknown): Promise<void> {
    const action = publish ? AdmissionAction.Publish : AdmissionAction.Play;
    this.#setRequest(publish ? "PUBLISH" : "PLAY", `${this.#appUrl()}/${name}`);
    const refuse = (why: string, status: number = SessionStatus.BadRequest) => {
      this.#entry.setStatus(status);
      this.#conn.sendStatus(
        streamId,
        StatusLevel.Error,
        publish ? StatusCode.PublishBadName : StatusCode.PlayFailed,
        why,
        { details: name },
      );
      this.#closeAfterWrites(`${action} of ${this.#key(name)} refused: ${why}`);
    };
    let split: { name: string; query: Record<string, string> };
    try {
      split = splitStreamName(name);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      return refuse(e.message);
    }
    const addr = this.#conn.remoteAddr;
    const answer = this.#ctx.hub.decide({
      action,
      protocol: Protocol.Rtmp,
      app: this.app,
      name: split.name,
      key: `${this.app}/${split.name}`,
      remote: { hostname: addr.hostname, port: addr.port },
      query: split.query,
      tcUrl: this.#tcUrl,
      pageUrl: this.#pageUrl,
      sessionId: this.#entry.id,
    });
    let decision: AdmissionDecision;
    if (answer instanceof Promise) {
      this.#admitting = true;
      try {
        decision = await answer;
      } finally {
        this.#admitting = false;
      }
    } else {
      decision = answer;
    }
    if (this.#closed || this.#closing) return;
    if (decision.kind !== DecisionKind.Allow) {
      this.#held = [];
      return refuse(
        refusalText(decision),
        decision.kind === DecisionKind.Deny ? DENY_STATUS[decision.deny] : SessionStatus.Redirect,
      );
    }
    if (publish) {
      this.#onPublish(streamId, name);
      return this.#replayHeld();
    }
    const playing = this.#onPlay(streamId, name, start);
    this.#replayHeld();
    await playing;
  }

  #key(name: string): string {
    return `${this.app}/${name.split("?")[0]}`;
  }

  /** The session publishes or plays: the start deadline has done its job (it holds the session until it fires). */
  #startDone(): void {
    for (const d of this.#deadlines) d.cancel();
    this.#deadlines = [];
  }

  #onPublish(streamId: number, name: string): void {
    this.#startDone();
    const key = this.#key(name);
    const publisher = new FlvPublisher(key, this.id, this.#ctx.hub, {
      protocol: Protocol.Rtmp,
      remote: this.remote,
    });
    publisher.onClose = (reason) => this.close(reason);
    try {
      publisher.start();
    } catch (e) {
      if (e instanceof StreamBusyError) {
        this.#entry.setStatus(SessionStatus.Conflict);
        this.#conn.sendStatus(
          streamId,
          StatusLevel.Error,
          StatusCode.PublishBadName,
          `${key} is already published`,
        );
        this.#closeAfterWrites(`publish refused: ${key} already has a publisher`);
        return;
      }
      throw e;
    }
    this.#publisher = publisher;
    this.role = "publisher";
    this.streamName = name.split("?")[0];
    this.#publishStreamId = streamId;
    this.#entry.setStream(SessionRole.Publisher, key);
    this.#entry.setStatus(SessionStatus.Ok);
    this.#lastMediaAt = Date.now();
    this.#conn.sendControl(control.streamBegin(streamId));
    this.#conn.sendStatus(streamId, StatusLevel.Status, StatusCode.PublishStart, `${key} is now published.`, {
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
      this.#conn.sendStatus(
        this.#publishStreamId,
        StatusLevel.Status,
        StatusCode.UnpublishSuccess,
        `${publisher.key} is now unpublished.`,
      );
    }
  }

  // ---- play

  async #onPlay(streamId: number, name: string, start?: unknown): Promise<void> {
    this.#conn.settleReads(); // a player sends acknowledgements and pings from here on
    this.#startDone();
    const vodPath = vodPlayPath(this.#ctx.config.vod, this.app, name);
    if (vodPath !== undefined) return this.#onVodPlay(streamId, name, vodPath, start);
    const key = this.#key(name);
    const past = this.#pastPoint(key, name, start);
    if (past !== undefined) return this.#onRingPlay(streamId, name, key, past);
    this.role = "player";
    this.streamName = name.split("?")[0];
    this.#playStreamId = streamId;
    const packer = new RtmpPacker(streamId, this.#conn.chunkSize);
    const sub = new Subscriber(
      this.id,
      packer,
      this.#conn,
      this.#ctx.config.player,
      this.#log,
      { protocol: Protocol.Rtmp },
    );
    this.#packer = packer;
    this.#subscriber = sub;
    this.#lastSubscriber = sub;
    this.#entry.setStream(SessionRole.Player, key);
    sub.onClose = (reason) => this.close(reason);
    sub.onEvent = (ev) => this.#onStreamEvent(ev);

    const live = this.#ctx.hub.get(key);
    if (!live && this.#ctx.config.hub.playWaitMs <= 0) {
      this.#notFound(streamId, key, name);
      this.#closeAfterWrites(`play refused: ${key} not found`);
      return;
    }
    this.#sendPlayStart(streamId, key, name);
    this.#log.info(`playing ${key}`);
    try {
      // The status messages go out before any media: the connection's writer keeps its writes in order.
      await this.#ctx.hub.play(key, sub);
    } catch (e) {
      if (e instanceof StreamNotFoundError && !this.#closed) {
        this.#notFound(streamId, key, name);
        await this.#conn.drained;
        this.close(`play of ${key}: no publisher within ${this.#ctx.config.hub.playWaitMs} ms`);
        return;
      }
      if (!this.#closed) this.close(closeReasonOf(e));
    }
  }

  /**
   * Where a play of a feed with a ring starts in the past, if it asks to: the name's `?preroll=S` or
   * `?date=ISO`, or play's Start argument (7.2.2.1) at or above 0, read as a position in ms on the ring's
   * timeline (the timestamps its players see), as for a recorded stream. Undefined: play live.
   */
  #pastPoint(key: string, name: string, start: unknown): TimeShiftPoint | undefined {
    const ring = this.#ctx.feeds?.ring(key);
    if (!ring) return undefined;
    let query: Record<string, string>;
    try {
      query = splitStreamName(name).query;
    } catch {
      return undefined; // the gate refused such a name already
    }
    try {
      const asked = timeShiftPoint({ get: (k) => query[k] ?? null });
      if (asked) return asked;
    } catch (e) {
      this.#log.info(`plays ${key} live: ${(e as Error).message}`);
      return undefined;
    }
    const newest = ring.newestTimestamp;
    if (typeof start !== "number" || start < 0 || newest === undefined) return undefined;
    return { agoMs: Math.max(0, newest - start) };
  }

  /** Plays `key` from its feed's ring (`RingPacer`): the same status messages as live, then the past. */
  #onRingPlay(streamId: number, name: string, key: string, at: TimeShiftPoint): void {
    this.role = "player";
    this.streamName = name.split("?")[0];
    this.#playStreamId = streamId;
    this.#entry.setStream(SessionRole.Player, key);
    const reader = this.#ctx.feeds!.ring(key)!.reader(at);
    if (!reader) {
      this.#notFound(streamId, key, name);
      this.#closeAfterWrites(`play of ${key} from the past: its feed has recorded nothing yet`);
      return;
    }
    this.#sendPlayStart(streamId, key, name);
    const catchUp = this.#ctx.feeds!.catchUp(key);
    const pacer = new RingPacer(reader, { catchUp });
    this.#ring = pacer;
    this.#log.info(`playing ${key} ${describePoint(at)} (${catchUp ? "catching up to live" : "paced"})`);
    pacer.run((tag) =>
      this.#conn.send([{
        csid: mediaChunkStream(tag.kind),
        typeId: tag.kind,
        streamId,
        timestamp: tag.timestamp,
        payload: tag.payload,
      }], DeltaHeaders.Media)
    ).then(
      (how) => how === "ended" && this.#closeAfterWrites(`the feed of ${key} closed`),
      (e) => this.close(closeReasonOf(e)),
    );
  }

  /** A play starts: status Ok, StreamBegin, NetStream.Play.Reset and .Start, `|RtmpSampleAccess`. */
  #sendPlayStart(streamId: number, key: string, name: string): void {
    this.#entry.setStatus(SessionStatus.Ok);
    const [reset, start] = playStartStatuses(key, name);
    // One write for all of it (a failure reaches onWriteError).
    this.#conn.send([
      control.streamBegin(streamId),
      commandMessage(streamId, reset),
      commandMessage(streamId, start),
      dataMessage(streamId, SAMPLE_ACCESS),
    ]).catch(() => {});
  }

  #notFound(streamId: number, key: string, name: string): void {
    this.#entry.setStatus(SessionStatus.NotFound);
    this.#conn.sendStatus(
      streamId,
      StatusLevel.Error,
      StatusCode.PlayStreamNotFound,
      `${key} is not published`,
      { details: name },
    );
  }

  #onStreamEvent(ev: StreamEvent): void {
    const key = this.#key(this.streamName);
    const sid = this.#playStreamId;
    const status = (code: StatusCode, description: string) =>
      this.#conn.sendStatus(sid, StatusLevel.Status, code, description);
    if (ev === "unpublish") {
      status(StatusCode.PlayUnpublishNotify, `${key} is now unpublished.`);
    } else if (ev === "publish") {
      this.#conn.sendControl(control.streamBegin(sid));
      status(StatusCode.PlayPublishNotify, `${key} is now published.`);
    } else {
      this.#conn.sendControl(control.streamEof(sid));
      status(StatusCode.PlayStop, `Stopped playing ${key}.`);
      this.#subscriber = undefined;
      this.#conn.drained.then(() => this.close(`stream ${key} ended`));
    }
  }

  #onPause(streamId: number, pause: boolean): void {
    const sub = this.#subscriber;
    if (!sub) return;
    const key = this.#key(this.streamName);
    if (pause) {
      this.#ctx.hub.leave(key, sub);
      this.#conn.sendStatus(streamId, StatusLevel.Status, StatusCode.PauseNotify, `Paused ${key}.`);
    } else {
      this.#packer?.reset();
      this.#conn.sendStatus(streamId, StatusLevel.Status, StatusCode.UnpauseNotify, `Unpaused ${key}.`);
      this.#ctx.hub.get(key)?.addSubscriber(sub);
    }
  }

  /** Plays a file from the VOD folder (play's Start argument in ms: above 0 starts at that keyframe). */
  #onVodPlay(streamId: number, name: string, path: string, start: unknown): void {
    this.role = "player";
    this.streamName = name.split("?")[0];
    this.#playStreamId = streamId;
    this.#entry.setStream(SessionRole.Vod, `${this.#ctx.config.vod.app}/${path}`);
    this.#entry.setStatus(SessionStatus.Ok);
    this.#vod = new VodPlay(
      { send: (msgs) => this.#conn.send(msgs, DeltaHeaders.Media), close: (r) => this.#closeAfterWrites(r) },
      {
        root: this.#ctx.config.vod.root!,
        app: this.#ctx.config.vod.app,
        streamId,
        log: this.#log,
      },
    );
    this.#vod.start(path, typeof start === "number" ? start : 0);
  }

  #endPlay(): void {
    this.#vod?.stop();
    this.#vod = undefined;
    this.#ring?.close();
    this.#ring = undefined;
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
