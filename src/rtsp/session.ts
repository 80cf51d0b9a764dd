/**
 * RtspSession: the server's state machine for one RTSP connection (RFC 2326),
 * playing a live stream to the client as RTP over the connection itself
 * (interleaved, 10.12) or over UDP (12.39 `client_port` / `server_port`). The socket-free layer (`reader.ts`, `message.ts`,
 * `transport.ts`, `sdp_media.ts`) reads and writes the messages; the RTP side
 * is `src/outputs/rtsp_play.ts` (one packetizer per stream, one Subscriber and
 * RtpPacker per player).
 *
 * init --SETUP--> ready --PLAY--> playing --PAUSE--> ready; TEARDOWN ends.
 *
 * - **OPTIONS** answers `Public`; **GET_PARAMETER** (and OPTIONS) with a
 *   Session is a keep-alive; other methods are 501.
 * - **DESCRIBE** asks the admission gate (protocol rtsp, action play, the
 *   URL's query; an `Authorization: Bearer` token as `token` when the query
 *   has none), then answers the stream's SDP with `Content-Base`. A refusal
 *   is 401 (with `WWW-Authenticate`), 403, 503 or 400 as the deny kind says, a
 *   redirect 302 with `Location`; no publisher is 404 at once (no wait).
 * - **SETUP** of a track (`trackID=N`) takes `RTP/AVP/TCP` with interleaved
 *   channels (the client's, else the next free pair), or `RTP/AVP` (UDP)
 *   with `client_port`: a server pair from the server's UdpPortPool
 *   (`rtsp.udpPortFirst`..`udpPortLast`), answered as `server_port`; the
 *   packets go to the RTSP peer's address (a `destination=` is never
 *   honoured, RFC 2326 15.6). The client's order picks; one session uses one
 *   kind (a second kind is 461). No free pair is 453 (Not Enough Bandwidth),
 *   another bind error 500; anything else is 461. The aggregate URL is 459; a
 *   SETUP while playing is 455. The answer makes the session: a random id
 *   with `;timeout=` (rtsp.sessionTimeoutMs).
 * - **PLAY** joins the hub as a player (the GOP cache's keyframe first, the
 *   bounded queue of `config.player`), answers `RTP-Info` (each track's first
 *   sequence number and RTP time) and `Range: npt=0.000-`, then the packets
 *   follow, an RTCP sender report per track right before them and every
 *   RTCP_INTERVAL_MS after. Over UDP the same RtpPacker bytes go to each
 *   track's UdpTrackTransport (RTP to the client's RTP port, the reports from
 *   the RTCP port), after the PLAY answer is written; every RTSP request
 *   touches the transports, and a transport's failure (silence past the
 *   timeout, send errors) closes the session with its reason. PLAY before SETUP is 455; a Session header naming
 *   no session is 454.
 * - **PAUSE** leaves the hub (a later PLAY joins again at a keyframe);
 *   **TEARDOWN** releases the UDP pairs, answers, then closes; a close
 *   releases them too (`released` resolves when their ports are free).
 * - **VOD**: a URL under `vod.app` (with `vod.root` set) names an FLV file;
 *   DESCRIBE (after the gate), SETUP's track lookup, PLAY (Range seeks,
 *   resume after PAUSE) and PAUSE go to `session_vod.ts`, the packets through
 *   the same transports; the registry role is vod, the stream the file.
 * - Every write (answers, packets, reports) goes through one write chain, so
 *   nothing interleaves with part of another write.
 * - A connection that sends nothing (no request, no RTCP on it or on a UDP
 *   track's RTCP port) for
 *   `rtsp.sessionTimeoutMs` is closed; a message past the reader's caps is
 *   answered with its status, then closed; interleaved data on a channel no
 *   SETUP chose closes the connection.
 * - **Registry**: the connection is a session with protocol rtsp from accept
 *   to close (role pending, then player once it plays), its bytes counted;
 *   each connection logs one close line with its reason.
 *
 * @module
 */
import { TOKEN_PARAM } from "../auth/jwt.ts";
import { aclRefusal, entryAcl } from "../config/acl.ts";
import type { Config, StreamConfig } from "../config/config.ts";
import { closeReasonOf, ProtocolError, StreamBusyError } from "../errors.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  DecisionKind,
  DenyKind,
  parseQuery,
  refusalText,
} from "../hub/admission.ts";
import type { SessionEntry } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import type { StreamHub } from "../hub/stream_hub.ts";
import { Subscriber } from "../hub/subscriber.ts";
import type { Logger } from "../log.ts";
import { INTERLEAVED_HEADER_SIZE, INTERLEAVED_MAGIC } from "../media/rtp/interleaved.ts";
import { readRtcp } from "../media/rtp/rtcp.ts";
import { randomSsrc } from "../media/rtp/clock.ts";
import {
  type PlayTracks,
  RTCP_CNAME,
  RtpChannel,
  rtpOf,
  RtpPacker,
  type TrackChannels,
} from "../outputs/rtsp_play.ts";
import { VERSION } from "../version.ts";
import {
  HeaderName,
  type NptRange,
  parseRange,
  parseSession,
  quote,
  type RtpInfoEntry,
  type SessionHeader,
} from "./headers.ts";
import type { InterleavedFrame } from "../media/rtp/interleaved.ts";
import { type ResponseInit, RtspMethod, type RtspRequest, writeResponse } from "./message.ts";
import { RtspReader } from "./reader.ts";
import { writeSdp } from "./sdp.ts";
import { aacMedia, describeStream, h264Media, SdpTrack } from "./sdp_media.ts";
import { RtspError, RtspStatus } from "./status.ts";
import {
  chooseTransport,
  Delivery,
  formatTransport,
  LowerTransport,
  type PortPair,
  TransportMode,
  type TransportSpec,
} from "./transport.ts";
import { type UdpPortPool, UdpPortsExhaustedError } from "./udp_ports.ts";
import { UdpTrackMode, UdpTrackTransport } from "./udp_transport.ts";
import { type RecordKind, recordTracks, RtspRecord } from "./session_record.ts";
import { RtspVod, rtspVodPath } from "./session_vod.ts";
import { parseRtspUrl, type RtspUrl } from "./url.ts";

/** What a session needs from the server (STYLE 10: the consumer declares it). */
export interface RtspContext {
  hub: StreamHub;
  config: Config;
  log: Logger;
  /** How often a playing session sends sender reports, ms; default RTCP_INTERVAL_MS (tests shorten it). */
  rtcpIntervalMs?: number;
  /** The server's UDP pairs for RTP over UDP; absent: SETUP offers TCP interleaved only. */
  udpPorts?: UdpPortPool;
}

/** The methods this server implements, for OPTIONS' Public (RFC 2326 12.28). */
export const PUBLIC_METHODS: readonly string[] = [
  RtspMethod.Options,
  RtspMethod.Describe,
  RtspMethod.Setup,
  RtspMethod.Play,
  RtspMethod.Pause,
  RtspMethod.Teardown,
  RtspMethod.GetParameter,
  RtspMethod.Announce,
  RtspMethod.Record,
];

/** How often a playing session sends RTCP sender reports (RFC 3550 6.2: about every 5 s). */
export const RTCP_INTERVAL_MS = 5_000;

/** Random bytes in a session id (RFC 7826 4.3 asks for at least 8 octets of randomness). */
const SESSION_ID_BYTES = 8;

/** The bytes read from the socket at a time. */
const READ_BYTES = 64 * 1024;

/** The Range a live PLAY answers (RFC 2326 12.29; what MediaMTX and live555 write for live). */
const LIVE_RANGE = "npt=0.000-";

/** What a Bearer Authorization carries (RFC 6750 2.1), read as the gate's `token`. */
const BEARER = /^Bearer +(\S+) *$/i;

/** An RTSP status for each deny kind (RFC 2326 7.1.1). */
const DENY_RTSP_STATUS: Readonly<Record<DenyKind, RtspStatus>> = {
  [DenyKind.Unauthorized]: RtspStatus.Unauthorized,
  [DenyKind.Forbidden]: RtspStatus.Forbidden,
  [DenyKind.Unavailable]: RtspStatus.ServiceUnavailable,
  [DenyKind.Malformed]: RtspStatus.BadRequest,
};

/** The challenge a 401 carries (RFC 2326 12.44): a token in the URL's query, as over HTTP. */
const CHALLENGE = 'Bearer realm="sluice"';

type State = "init" | "ready" | "playing" | "recording";

/** The SDP media type an ANNOUNCE body must have (RFC 2326 10.3, RFC 4566 5). */
const SDP_TYPE = "application/sdp";

/** One set-up track. */
interface SetupTrack {
  readonly kind: "video" | "audio";
  readonly channels: TrackChannels;
  /** The URL the client SETUP, for RTP-Info. */
  readonly url: string;
  /** Over UDP: the track's transport (its channels only route the packer's bytes). */
  readonly udp?: UdpTrackTransport;
}

/** A new random session id: 16 hex digits. */
export function newSessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** The key `app/stream` of a URL, or undefined when it names no stream. */
function keyOf(url: RtspUrl): string | undefined {
  return url.app === "" || url.stream === "" ? undefined : `${url.app}/${url.stream}`;
}

export class RtspSession {
  readonly remote: string;
  readonly startedAt = Date.now();
  readonly #conn: Deno.Conn;
  readonly #ctx: RtspContext;
  readonly #log: Logger;
  readonly #entry: SessionEntry;
  readonly #reader = new RtspReader();
  #state: State = "init";
  #sessionId: string | undefined;
  /** The stream this session set up, and the keys the gate allowed. */
  #key: string | undefined;
  readonly #admitted = new Set<string>();
  readonly #tracks = new Map<"video" | "audio", SetupTrack>();
  #subscriber: Subscriber | undefined;
  #packer: RtpPacker | undefined;
  #lastSubscriber: Subscriber | undefined;
  #rtcpTimer: ReturnType<typeof setInterval> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #lastHeard = Date.now();
  #chain: Promise<void> = Promise.resolve();
  #bytesIn = 0;
  #bytesOut = 0;
  #closed = false;
  /** An answer that ends the connection was queued: requests after it are not handled. */
  #closing = false;
  /** The one lower transport of this session, once a SETUP chose it. */
  #lower: LowerTransport | undefined;
  /** The UDP pairs' release (TEARDOWN, close). */
  #released: Promise<void> = Promise.resolve();
  /** After ANNOUNCE: the publishing side (session_record.ts). */
  #record: RtspRecord | undefined;
  /** A VOD file the session SETUP (session_vod.ts): PLAY and PAUSE go to it. */
  #vod: RtspVod | undefined;

  constructor(conn: Deno.Conn, ctx: RtspContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    const a = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${a.hostname}:${a.port}`;
    this.#log = ctx.log.child(`rtsp ${this.remote}`);
    this.#entry = ctx.hub.sessions.open({
      protocol: Protocol.Rtsp,
      remote: this.remote,
      counters: () => {
        const s = this.#lastSubscriber;
        return {
          bytesIn: this.#bytesIn + this.#udpBytesIn(),
          bytesOut: this.#bytesOut,
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

  /** RTP bytes a RECORD session took over UDP (the connection's own are counted as read). */
  #udpBytesIn(): number {
    let n = 0;
    for (const t of this.#tracks.values()) if (t.udp) n += t.udp.counts.rtpBytesReceived;
    return n;
  }

  /** This connection's id in the hub's session registry. */
  get sessionId(): string {
    return this.#entry.id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bytesIn(): number {
    return this.#bytesIn;
  }

  get bytesOut(): number {
    return this.#bytesOut;
  }

  /** The lower transport the session's SETUPs chose; undefined before one. */
  get lower(): LowerTransport | undefined {
    return this.#lower;
  }

  /** Resolves when the UDP pairs released so far (TEARDOWN, close) are free again. */
  get released(): Promise<void> {
    return this.#released;
  }

  /** Runs the connection to its end; never throws. */
  async run(): Promise<void> {
    this.#armIdle();
    const buf = new Uint8Array(READ_BYTES);
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buf);
        if (n === null) return this.close("peer closed the connection");
        this.#bytesIn += n;
        this.#lastHeard = Date.now();
        let items;
        try {
          items = this.#reader.push(buf.subarray(0, n));
        } catch (e) {
          if (!(e instanceof RtspError)) throw e;
          this.#entry.setStatus(e.status);
          await this.#send({ status: e.status });
          return this.close(`protocol error: ${e.message}`);
        }
        for (const item of items) {
          if (this.#closed || this.#closing) break;
          if (item.type === "interleaved") this.#interleaved(item);
          else if (item.type === "request") await this.#request(item);
          else this.close("protocol error: the client sent a response");
        }
      }
    } catch (e) {
      this.close(closeReasonOf(e, "player"));
    } finally {
      await this.#released;
    }
  }

  /** Ends the session: leaves the hub, closes the socket, logs one line. Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#stopPlay();
    this.#record?.stop();
    this.#vod?.stop();
    this.#release();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#entry.end(reason);
    const what = this.#record
      ? `publisher ${this.#key} (${this.#record.dropSummary()})`
      : this.#state === "playing" || this.#lastSubscriber
      ? `player ${this.#key}`
      : "no stream";
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.#log.info(`closed: ${what}, in ${this.#bytesIn} B, out ${this.#bytesOut} B, ${secs} s: ${reason}`);
  }

  // ---- the connection

  /** Closes the connection after `sessionTimeoutMs` with nothing from the client. */
  #armIdle(): void {
    const limit = this.#ctx.config.rtsp.sessionTimeoutMs;
    this.#idleTimer = setTimeout(() => {
      const quiet = Date.now() - this.#lastHeard;
      if (quiet >= limit) {
        this.close(`no request or RTCP for ${quiet} ms (rtsp.sessionTimeoutMs ${limit})`);
      } else {
        this.#armIdle();
      }
    }, Math.max(0, this.#lastHeard + limit - Date.now()));
  }

  /** Queues `bytes` on the one write chain; resolves once all of them are written. */
  #write(bytes: Uint8Array): Promise<void> {
    const done = this.#chain.then(async () => {
      if (this.#closed) throw new Deno.errors.BadResource("connection closed");
      for (let o = 0; o < bytes.length;) o += await this.#conn.write(bytes.subarray(o));
      this.#bytesOut += bytes.length;
    });
    this.#chain = done.catch(() => {});
    return done;
  }

  /**
   * Sends packer bytes (interleaved frames: RTP, and RTCP sender reports): on
   * the connection, or over UDP to each frame's track (its RTP channel to
   * `send()`, its RTCP channel to `sendRtcp()`). UDP sends return at once.
   */
  #deliver(bytes: Uint8Array): Promise<void> {
    if (this.#lower !== LowerTransport.Udp) return this.#write(bytes);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("connection closed"));
    let o = 0;
    let run = 0;
    let runTrack: UdpTrackTransport | undefined;
    const flush = (end: number) => {
      if (runTrack && end > run) runTrack.send(bytes.subarray(run, end));
      runTrack = undefined;
    };
    while (o + INTERLEAVED_HEADER_SIZE <= bytes.length && bytes[o] === INTERLEAVED_MAGIC) {
      const channel = bytes[o + 1];
      const end = o + INTERLEAVED_HEADER_SIZE + ((bytes[o + 2] << 8) | bytes[o + 3]);
      if (end > bytes.length) break;
      let rtp: UdpTrackTransport | undefined;
      let rtcp: UdpTrackTransport | undefined;
      for (const t of this.#tracks.values()) {
        if (t.channels.rtp === channel) rtp = t.udp;
        else if (t.channels.rtcp === channel) rtcp = t.udp;
      }
      if (rtp !== runTrack) {
        flush(o);
        runTrack = rtp;
        run = o;
      }
      if (rtcp) {
        flush(o);
        rtcp.sendRtcp(bytes.subarray(o + INTERLEAVED_HEADER_SIZE, end));
      }
      o = end;
    }
    flush(o);
    this.#bytesOut += o;
    return Promise.resolve();
  }

  /** Closes every UDP transport (their pairs go back to the pool); `#released` resolves when they are free. */
  #release(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [kind, t] of this.#tracks) {
      if (!t.udp) continue;
      closing.push(t.udp.close());
      this.#tracks.set(kind, { kind: t.kind, channels: t.channels, url: t.url });
    }
    if (closing.length > 0) {
      const before = this.#released;
      this.#released = Promise.all([before, ...closing]).then(() => {}, () => {});
    }
    return this.#released;
  }

  /** Writes an answer; a failed write closes the connection. */
  async #send(init: ResponseInit): Promise<void> {
    try {
      await this.#write(writeResponse({ ...init, headers: [[HeaderName.Server, `Sluice/${VERSION}`]] }));
    } catch (e) {
      this.close(`write failed: ${closeReasonOf(e, "player")}`);
    }
  }

  /**
   * Interleaved data from the client: RTCP receiver reports on a set-up track's odd channel; in a RECORD
   * session the media, RTP on the even one and the publisher's sender reports on the odd one.
   */
  #interleaved(frame: InterleavedFrame): void {
    for (const t of this.#tracks.values()) {
      if (frame.channel === t.channels.rtp) {
        if (this.#state === "recording") this.#record!.rtp(t.kind, frame.payload);
        return;
      }
      if (frame.channel === t.channels.rtcp) {
        if (this.#record) this.#recordRtcp(t.kind, frame.payload);
        return;
      }
    }
    this.close(`protocol error: interleaved data on channel ${frame.channel}, which no SETUP chose`);
  }

  // ---- requests

  async #request(req: RtspRequest): Promise<void> {
    const base = { cseq: req.cseq };
    for (const t of this.#tracks.values()) t.udp?.touch();
    try {
      switch (req.method) {
        case RtspMethod.Options:
          return await this.#send({
            ...base,
            status: RtspStatus.Ok,
            public: PUBLIC_METHODS,
            ...this.#echo(req),
          });
        case RtspMethod.GetParameter:
          this.#checkSession(req, false);
          return await this.#send({ ...base, status: RtspStatus.Ok, ...this.#echo(req) });
        case RtspMethod.Describe:
          return await this.#describe(req);
        case RtspMethod.Setup:
          return await this.#setup(req);
        case RtspMethod.Play:
          return await this.#play(req);
        case RtspMethod.Pause:
          return await this.#pause(req);
        case RtspMethod.Teardown:
          return await this.#teardown(req);
        case RtspMethod.Announce:
          return await this.#announce(req);
        case RtspMethod.Record:
          return await this.#startRecord(req);
        default:
          return await this.#send({ ...base, status: RtspStatus.NotImplemented });
      }
    } catch (e) {
      if (!(e instanceof RtspError)) throw e;
      this.#log.debug(`${req.method} ${req.uri}: ${e.status}: ${e.message}`);
      return await this.#send({ ...base, status: e.status });
    }
  }

  /** The Session header to echo: this session's, when the request named it. */
  #echo(req: RtspRequest): { session?: SessionHeader } {
    const given = req.headers.get(HeaderName.Session);
    if (given === undefined || this.#sessionId === undefined) return {};
    return parseSession(given).id === this.#sessionId ? { session: this.#sessionHeader() } : {};
  }

  #sessionHeader(): SessionHeader {
    return { id: this.#sessionId!, timeoutSec: Math.round(this.#ctx.config.rtsp.sessionTimeoutMs / 1000) };
  }

  /**
   * Checks the request's Session header against this session: 454 when it names
   * another one (or none exists, with `required`), 454 as well when required and
   * missing.
   */
  #checkSession(req: RtspRequest, required: boolean): void {
    const given = req.headers.get(HeaderName.Session);
    if (given === undefined) {
      if (required) throw fail(RtspStatus.SessionNotFound, `${req.method} without a Session header`);
      return;
    }
    const id = parseSession(given).id;
    if (id !== this.#sessionId) {
      throw fail(RtspStatus.SessionNotFound, `${req.method} of session ${quote(id)}, which is not this one`);
    }
  }

  /**
   * Reads the request URL and the stream key it names (404 for none). A URL of one segment that a `streams`
   * entry of format rtp names (ffserver's `rtsp://HOST:PORT/NAME`) is that entry's key, behind its address
   * rules (403); `aliases` false (ANNOUNCE) reads the URL as it is.
   */
  #target(req: RtspRequest, aliases = true): { url: RtspUrl; key: string } {
    const url = parseRtspUrl(req.uri);
    const served = aliases && url.app === "" && url.stream !== ""
      ? this.#ctx.config.streams.find((e) => e.format === "rtp" && e.path === `/${url.stream}`)
      : undefined;
    if (served?.key !== undefined) {
      this.#checkServedAcl(served, req);
      const slash = served.key.indexOf("/");
      const app = served.key.slice(0, slash);
      return { url: { ...url, app, stream: served.key.slice(slash + 1) }, key: served.key };
    }
    const key = keyOf(url);
    if (key === undefined) throw fail(RtspStatus.NotFound, `${quote(req.uri)} names no app/stream`);
    return { url, key };
  }

  /** A served path's address rules (src/config/acl.ts): 403 naming the address and the rule that refused it. */
  #checkServedAcl(entry: StreamConfig, req: RtspRequest): void {
    if (entry.acl.length === 0) return;
    const host = (this.#conn.remoteAddr as Deno.NetAddr).hostname;
    const why = aclRefusal(entryAcl(entry), host);
    if (why === undefined) return;
    this.#log.info(`refused ${req.method} ${entry.path} from ${host}: ${why}`);
    throw fail(
      RtspStatus.Forbidden,
      `${req.method} of ${entry.path}: address ${host} is not allowed (${why})`,
    );
  }

  /** Asks the gate once per key and connection; a refusal is answered here and gives false. */
  async #admit(
    req: RtspRequest,
    url: RtspUrl,
    key: string,
    action: AdmissionAction = AdmissionAction.Play,
  ): Promise<boolean> {
    if (this.#admitted.has(`${action} ${key}`)) return true;
    this.#entry.setRequest({
      method: req.method,
      url: req.uri.split("?")[0],
      ...(req.headers.get(HeaderName.UserAgent) !== undefined && {
        userAgent: req.headers.get(HeaderName.UserAgent)!,
      }),
    });
    let query: Record<string, string>;
    try {
      query = parseQuery(url.query);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      throw fail(RtspStatus.BadRequest, e.message);
    }
    const bearer = req.headers.get(HeaderName.Authorization)?.match(BEARER)?.[1];
    if (bearer !== undefined && !Object.hasOwn(query, TOKEN_PARAM)) query[TOKEN_PARAM] = bearer;
    const a = this.#conn.remoteAddr as Deno.NetAddr;
    const decision: AdmissionDecision = await this.#ctx.hub.decide({
      action,
      protocol: Protocol.Rtsp,
      app: url.app,
      name: url.stream,
      key,
      remote: { hostname: a.hostname, port: a.port },
      query,
      sessionId: this.#entry.id,
    });
    if (this.#closed) return false;
    if (decision.kind === DecisionKind.Allow) {
      this.#admitted.add(`${action} ${key}`);
      return true;
    }
    const why = refusalText(decision);
    this.#log.info(`${action} of ${key} refused: ${why}`);
    if (decision.kind === DecisionKind.Redirect) {
      this.#entry.setStatus(RtspStatus.MovedTemporarily);
      await this.#send({
        cseq: req.cseq,
        status: RtspStatus.MovedTemporarily,
        headers: [["Location", decision.url]],
      });
    } else {
      const status = DENY_RTSP_STATUS[decision.deny];
      this.#entry.setStatus(status);
      await this.#send({
        cseq: req.cseq,
        status,
        ...(status === RtspStatus.Unauthorized && { wwwAuthenticate: [CHALLENGE] }),
      });
    }
    return false;
  }

  /** The live stream of `key` with its H.264 and AAC tracks, or 404. */
  #live(key: string) {
    const stream = this.#ctx.hub.get(key);
    if (!stream || stream.state === "ended") throw fail(RtspStatus.NotFound, `${key} has no publisher`);
    const video = stream.videoHeader && h264Media(stream.videoHeader.payload)
      ? stream.videoHeader
      : undefined;
    const audio = stream.audioHeader && aacMedia(stream.audioHeader.payload) ? stream.audioHeader : undefined;
    if (!video && !audio) throw fail(RtspStatus.NotFound, `${key} has no H.264 or AAC sequence header yet`);
    return { stream, video, audio };
  }

  async #describe(req: RtspRequest): Promise<void> {
    const { url, key } = this.#target(req);
    if (!(await this.#admit(req, url, key))) return;
    const vodPath = rtspVodPath(this.#ctx.config.vod, url);
    const vod = vodPath === undefined ? undefined : await this.#openVod(vodPath);
    let live;
    try {
      live = vod ? undefined : this.#live(key);
    } catch (e) {
      if (e instanceof RtspError) this.#entry.setStatus(e.status);
      throw e;
    }
    const sdp = live
      ? describeStream({
        ...(live.video && { video: live.video.payload }),
        ...(live.audio && { audio: live.audio.payload }),
        sessionId: String(live.stream.stats.publishedAt),
        sessionName: key,
        tool: `Sluice ${VERSION}`,
      })
      : vod!.describe(`Sluice ${VERSION}`);
    vod?.stop(); // DESCRIBE only reads it; SETUP opens its own
    const path = req.uri.split("?")[0];
    await this.#send({
      cseq: req.cseq,
      status: RtspStatus.Ok,
      contentBase: path.endsWith("/") ? path : `${path}/`,
      contentType: "application/sdp",
      body: writeSdp(sdp),
    });
  }

  async #setup(req: RtspRequest): Promise<void> {
    if (this.#record) return await this.#setupRecord(req);
    const { url, key } = this.#target(req);
    if (this.#sessionId !== undefined) this.#checkSession(req, false);
    if (this.#state === "playing") {
      throw fail(RtspStatus.MethodNotValidInThisState, "SETUP while playing");
    }
    if (url.track === undefined) {
      throw fail(RtspStatus.AggregateOperationNotAllowed, `SETUP of the aggregate ${quote(req.uri)}`);
    }
    if (this.#key !== undefined && this.#key !== key) {
      throw fail(RtspStatus.AggregateOperationNotAllowed, `SETUP of ${key} in a session of ${this.#key}`);
    }
    if (!(await this.#admit(req, url, key))) return;
    const live = (await this.#vodOf(url)) ?? this.#live(key);
    const kind = url.track === SdpTrack.Video.id && live.video
      ? "video"
      : url.track === SdpTrack.Audio.id && live.audio
      ? "audio"
      : undefined;
    if (kind === undefined) throw fail(RtspStatus.NotFound, `${key} has no track ${url.track}`);
    const spec = this.#takeTransport(req, TransportMode.Play, `${key} track ${url.track}`);
    const rtp = live instanceof RtspVod ? live.rtp : rtpOf(live.stream, this.#ctx.config.rtsp.mtu);
    const ssrc = kind === "video" ? rtp.video.sender.ssrc : rtp.audio.sender.ssrc;
    const trackUrl = /[\s,;]/.test(req.uri) ? `trackID=${url.track}` : req.uri;
    const transport = await this.#bindTrack(key, kind, spec, trackUrl, { ssrc });
    if (transport === undefined) return; // the session closed meanwhile
    this.#key = key;
    await this.#answerSetup(req, transport);
  }

  /** The Transport header's spec this server takes for `mode` (461 with the reasons logged, else). */
  #takeTransport(req: RtspRequest, mode: TransportMode, what: string): TransportSpec {
    const value = req.headers.get(HeaderName.Transport);
    if (value === undefined) throw fail(RtspStatus.UnsupportedTransport, "SETUP without a Transport header");
    const offered = this.#lower !== undefined
      ? [this.#lower]
      : this.#ctx.udpPorts
      ? [LowerTransport.Tcp, LowerTransport.Udp]
      : [LowerTransport.Tcp];
    const choice = chooseTransport(value, { lower: offered, mode });
    if (!choice.ok) {
      this.#log.info(`SETUP of ${what}: no transport taken: ${choice.reason}`);
      throw fail(choice.status, choice.reason);
    }
    return choice.spec;
  }

  /**
   * Sets up `kind` on the chosen transport: a UDP pair (its RTP and RTCP routed by the default channels), or
   * interleaved channels; gives the answer's Transport, undefined when the session closed while binding.
   * `record`: the track receives (mode=record) instead of sending.
   */
  async #bindTrack(
    key: string,
    kind: "video" | "audio",
    spec: TransportSpec,
    url: string,
    opts: { ssrc?: number; record?: boolean },
  ): Promise<TransportSpec | undefined> {
    const modes = opts.record ? { modes: [TransportMode.Record] } : {};
    const ssrc = opts.ssrc !== undefined ? { ssrc: opts.ssrc } : {};
    let transport: TransportSpec;
    if (spec.lower === LowerTransport.Udp) {
      const udp = await this.#udpTrack(key, kind, spec.clientPort!, opts.record ? kind : undefined);
      if (udp === undefined) return undefined;
      // The packer's bytes are framed on the default channels; they only route to the track here.
      const base = kind === "video" ? RtpChannel.Video : RtpChannel.Audio;
      this.#tracks.set(kind, { kind, channels: { rtp: base, rtcp: base + 1 }, url, udp });
      transport = {
        protocol: "RTP",
        profile: "AVP",
        lower: LowerTransport.Udp,
        delivery: Delivery.Unicast,
        clientPort: udp.clientPort,
        serverPort: [udp.pair.rtpPort, udp.pair.rtcpPort],
        ...ssrc,
        ...modes,
      };
    } else {
      const channels = this.#channels(kind, spec.interleaved);
      this.#tracks.set(kind, { kind, channels, url });
      transport = {
        protocol: "RTP",
        profile: "AVP",
        lower: LowerTransport.Tcp,
        interleaved: [channels.rtp, channels.rtcp],
        ...ssrc,
        ...modes,
      };
    }
    this.#lower = spec.lower;
    return transport;
  }

  /** A SETUP's answer: the session (made by the first SETUP) and the transport taken. */
  async #answerSetup(req: RtspRequest, transport: TransportSpec): Promise<void> {
    this.#sessionId ??= newSessionId();
    this.#state = "ready";
    await this.#send({
      cseq: req.cseq,
      status: RtspStatus.Ok,
      session: this.#sessionHeader(),
      transport: formatTransport(transport),
    });
  }

  /**
   * A UDP transport for `kind` to the RTSP peer's address and `clientPort`, on
   * a pair from the server's pool (a track set up again gives its old pair
   * back first). 453 when the pool has none free, 500 for another bind error;
   * undefined when the session closed while binding.
   */
  async #udpTrack(
    key: string,
    kind: "video" | "audio",
    clientPort: PortPair,
    record?: RecordKind,
  ): Promise<UdpTrackTransport | undefined> {
    const old = this.#tracks.get(kind);
    if (old?.udp) {
      this.#tracks.delete(kind);
      await old.udp.close();
    }
    let pair;
    try {
      pair = await this.#ctx.udpPorts!.allocate();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.#log.warn(`SETUP of ${key} ${kind} over UDP: ${why}`);
      if (e instanceof UdpPortsExhaustedError) throw fail(RtspStatus.NotEnoughBandwidth, why);
      throw fail(RtspStatus.InternalServerError, why);
    }
    if (this.#closed) {
      await pair.close();
      return undefined;
    }
    const a = this.#conn.remoteAddr as Deno.NetAddr;
    try {
      return new UdpTrackTransport({
        pair,
        clientAddress: a.hostname,
        clientPort,
        timeoutMs: this.#ctx.config.rtsp.sessionTimeoutMs,
        onFailure: (reason, detail) => this.close(`${reason}: ${detail}`),
        onRtcp: (packets) => {
          this.#lastHeard = Date.now();
          if (record !== undefined) this.#record?.rtcp(record, packets);
        },
        ...(record !== undefined && {
          mode: UdpTrackMode.Record,
          onRtp: (packet: Uint8Array) => {
            this.#lastHeard = Date.now();
            if (this.#state === "recording") this.#record!.rtp(record, packet);
          },
          receiver: this.#record!.receiver(record),
          reporterSsrc: randomSsrc(),
          cname: RTCP_CNAME,
        }),
      });
    } catch (e) {
      await pair.close();
      if (!(e instanceof RangeError)) throw e;
      throw fail(RtspStatus.BadRequest, e.message);
    }
  }

  /** The client's channels, else the lowest even pair no other track uses. */
  #channels(kind: "video" | "audio", asked: readonly [number, number] | undefined): TrackChannels {
    const used = new Set<number>();
    for (const t of this.#tracks.values()) {
      if (t.kind === kind) continue;
      used.add(t.channels.rtp).add(t.channels.rtcp);
    }
    if (asked) {
      if (used.has(asked[0]) || used.has(asked[1])) {
        throw fail(RtspStatus.UnsupportedTransport, `interleaved=${asked[0]}-${asked[1]} is taken`);
      }
      return { rtp: asked[0], rtcp: asked[1] };
    }
    let c = 0;
    while (used.has(c) || used.has(c + 1)) c += 2;
    return { rtp: c, rtcp: c + 1 };
  }

  async #play(req: RtspRequest): Promise<void> {
    if (this.#record) throw fail(RtspStatus.MethodNotValidInThisState, "PLAY in a session that ANNOUNCEd");
    if (this.#state === "init") throw fail(RtspStatus.MethodNotValidInThisState, "PLAY before SETUP");
    this.#checkSession(req, true);
    const url = parseRtspUrl(req.uri);
    if (url.track !== undefined && this.#tracks.size > 1) {
      throw fail(RtspStatus.OnlyAggregateOperationAllowed, `PLAY of one track of ${this.#key}`);
    }
    const range = req.headers.get(HeaderName.Range);
    const asked = range === undefined ? undefined : parseRange(range); // 457 when unreadable; live plays from now
    if (this.#vod) return await this.#playVod(req, this.#vod, asked);
    if (this.#state === "playing") {
      return await this.#send({
        cseq: req.cseq,
        status: RtspStatus.Ok,
        session: this.#sessionHeader(),
        range: LIVE_RANGE,
      });
    }
    const key = this.#key!;
    const live = this.#live(key);
    const tracks: PlayTracks = {
      ...(this.#tracks.has("video") && { video: this.#tracks.get("video")!.channels }),
      ...(this.#tracks.has("audio") && { audio: this.#tracks.get("audio")!.channels }),
    };
    const packer = new RtpPacker(rtpOf(live.stream, this.#ctx.config.rtsp.mtu), tracks);
    // Media waits until the PLAY answer is on the write chain: the answer goes first.
    const answered = Promise.withResolvers<void>();
    const sub = new Subscriber(
      `rtsp ${this.remote}`,
      packer,
      { write: (bytes) => answered.promise.then(() => this.#deliver(bytes)) },
      this.#ctx.config.player,
      this.#log,
      { protocol: Protocol.Rtsp },
    );
    sub.onClose = (reason) => this.close(reason);
    sub.onEvent = (ev) => {
      if (ev === "end") this.close(`stream ${key} ended`);
    };
    this.#subscriber = this.#lastSubscriber = sub;
    this.#packer = packer;
    this.#state = "playing";
    const joined = this.#ctx.hub.play(key, sub); // live: the GOP is packed and queued now
    const rtpInfo: RtpInfoEntry[] = [];
    for (const t of this.#tracks.values()) {
      const start = packer.first(t.kind);
      rtpInfo.push({ url: t.url, ...(start && { seq: start.seq, rtptime: start.rtptime }) });
    }
    this.#entry.setStream(Role.Player, key);
    this.#entry.setRequest({ method: RtspMethod.Play, url: req.uri.split("?")[0] });
    this.#entry.setStatus(RtspStatus.Ok);
    const sent = this.#send({
      cseq: req.cseq,
      status: RtspStatus.Ok,
      session: this.#sessionHeader(),
      range: LIVE_RANGE,
      rtpInfo,
    });
    // Over UDP nothing orders the packets after the answer: they wait until it is written.
    if (this.#lower === LowerTransport.Udp) sent.then(() => answered.resolve());
    else answered.resolve();
    await joined;
    await sent;
    if (this.#closed || this.#subscriber !== sub) return; // the answer failed, or the play is over
    this.#rtcpTimer = setInterval(() => {
      const p = this.#packer;
      if (p) this.#deliver(p.senderReports()).catch(() => {});
    }, this.#ctx.rtcpIntervalMs ?? RTCP_INTERVAL_MS);
    this.#log.info(`playing ${key} (${[...this.#tracks.keys()].join(" and ")})`);
  }

  async #pause(req: RtspRequest): Promise<void> {
    if (this.#record) throw fail(RtspStatus.MethodNotValidInThisState, "PAUSE of a RECORD session");
    if (this.#state === "init") throw fail(RtspStatus.MethodNotValidInThisState, "PAUSE before SETUP");
    this.#checkSession(req, true);
    this.#stopPlay();
    this.#state = "ready";
    await this.#send({ cseq: req.cseq, status: RtspStatus.Ok, session: this.#sessionHeader() });
  }

  // ---- VOD (session_vod.ts): files from vod.root, with Range seeks and PAUSE/resume

  /** Opens the VOD file `path` for this session; a refusal (RtspError) also goes to the registry. */
  async #openVod(path: string): Promise<RtspVod> {
    const { config, rtcpIntervalMs } = this.#ctx;
    try {
      return await RtspVod.open(path, {
        root: config.vod.root!,
        app: config.vod.app,
        mtu: config.rtsp.mtu,
        log: this.#log,
        ...(rtcpIntervalMs !== undefined && { rtcpIntervalMs }),
      }, { deliver: (bytes) => this.#deliver(bytes), close: (reason) => this.close(reason) });
    } catch (e) {
      if (e instanceof RtspError) this.#entry.setStatus(e.status);
      throw e;
    }
  }

  /** SETUP's file: the VOD file `url` names, opened once for PLAY and PAUSE; undefined (none kept) for a live URL. */
  async #vodOf(url: RtspUrl): Promise<RtspVod | undefined> {
    const path = rtspVodPath(this.#ctx.config.vod, url);
    if (path !== undefined && this.#vod?.path === path) return this.#vod;
    const vod = path === undefined ? undefined : await this.#openVod(path);
    this.#vod?.stop();
    this.#vod = vod;
    if (this.#closed) vod?.stop();
    return vod;
  }

  /** PLAY of the VOD file: seek or resume, the answer with Range and RTP-Info, then the packets. */
  async #playVod(req: RtspRequest, vod: RtspVod, range: NptRange | undefined): Promise<void> {
    const answer = await vod.play(range, this.#tracks.values());
    if (this.#closed) return;
    this.#state = "playing";
    this.#entry.setStream(Role.Vod, vod.name);
    this.#entry.setRequest({ method: RtspMethod.Play, url: req.uri.split("?")[0] });
    this.#entry.setStatus(RtspStatus.Ok);
    await this.#send({
      cseq: req.cseq,
      status: RtspStatus.Ok,
      session: this.#sessionHeader(),
      range: answer.range,
      rtpInfo: answer.rtpInfo,
    });
    if (!this.#closed && this.#state === "playing") vod.resume();
  }

  async #teardown(req: RtspRequest): Promise<void> {
    if (this.#sessionId !== undefined) this.#checkSession(req, false);
    this.#closing = true;
    this.#stopPlay();
    await this.#release();
    await this.#send({ cseq: req.cseq, status: RtspStatus.Ok });
    this.close("teardown");
  }

  // ---- publishing in (ANNOUNCE, SETUP mode=record, RECORD)

  /**
   * ANNOUNCE: the gate (action publish), then the SDP's tracks (415 for
   * another body type or no H.264/AAC track, 400 for SDP that does not read);
   * a name with a live publisher is 403. Answers 200 with no session yet (the
   * first SETUP makes it).
   */
  async #announce(req: RtspRequest): Promise<void> {
    const { url, key } = this.#target(req, false);
    if (this.#state !== "init" || this.#record || this.#tracks.size > 0) {
      throw fail(RtspStatus.MethodNotValidInThisState, "ANNOUNCE after a SETUP or another ANNOUNCE");
    }
    const type = req.headers.get(HeaderName.ContentType)?.split(";")[0].trim().toLowerCase() ?? "";
    if (type !== SDP_TYPE) {
      throw fail(
        RtspStatus.UnsupportedMediaType,
        `ANNOUNCE body of type ${quote(type)}, expected ${SDP_TYPE}`,
      );
    }
    if (rtspVodPath(this.#ctx.config.vod, url) !== undefined) {
      this.#log.info(`ANNOUNCE of ${key} refused: ${this.#ctx.config.vod.app} is the VOD app (files)`);
      throw fail(RtspStatus.Forbidden, `ANNOUNCE of ${key}: ${this.#ctx.config.vod.app} serves files`);
    }
    if (!(await this.#admit(req, url, key, AdmissionAction.Publish))) return;
    let tracks;
    try {
      tracks = recordTracks(req.body, req.uri.split("?")[0]);
    } catch (e) {
      if (e instanceof RtspError) this.#log.info(`ANNOUNCE of ${key} refused: ${e.message}`);
      throw e;
    }
    if (this.#ctx.hub.get(key)?.state === "live") {
      this.#log.info(`ANNOUNCE of ${key} refused: it already has a publisher`);
      throw fail(RtspStatus.Forbidden, `ANNOUNCE of ${key}, which already has a publisher`);
    }
    if (tracks.skipped.length > 0) {
      this.#log.info(
        `ANNOUNCE of ${key}: not taken: ${tracks.skipped.join(", ")} (Sluice takes H.264 and AAC)`,
      );
    }
    this.#record = new RtspRecord(tracks.tracks, {
      key,
      id: `rtsp ${this.remote}`,
      remote: this.remote,
      hub: this.#ctx.hub,
      log: this.#log,
      maxFrameBytes: this.#ctx.config.ingest.maxTagBytes,
    });
    this.#record.publisher.onClose = (reason) => this.close(`closed by the server: ${reason}`);
    this.#key = key;
    this.#entry.setRequest({ method: RtspMethod.Announce, url: req.uri.split("?")[0] });
    await this.#send({ cseq: req.cseq, status: RtspStatus.Ok });
  }

  /** SETUP of an announced track, mode=record: interleaved channels or a UDP pair to receive on. */
  async #setupRecord(req: RtspRequest): Promise<void> {
    const record = this.#record!;
    if (this.#sessionId !== undefined) this.#checkSession(req, false);
    if (this.#state === "recording") {
      throw fail(RtspStatus.MethodNotValidInThisState, "SETUP while recording");
    }
    const track = record.find(req.uri);
    if (!track) {
      throw fail(RtspStatus.NotFound, `SETUP of ${quote(req.uri)}, which the ANNOUNCE did not offer`);
    }
    const spec = this.#takeTransport(req, TransportMode.Record, `${record.key} ${track.kind} to record`);
    const transport = await this.#bindTrack(record.key, track.kind, spec, req.uri, { record: true });
    if (transport === undefined) return;
    await this.#answerSetup(req, transport);
  }

  /** RECORD: publishes into the hub (403 when the name got a publisher meanwhile); the media follows. */
  async #startRecord(req: RtspRequest): Promise<void> {
    const record = this.#record;
    if (!record || this.#state === "init") {
      throw fail(RtspStatus.MethodNotValidInThisState, "RECORD before ANNOUNCE and SETUP");
    }
    this.#checkSession(req, true);
    if (this.#state !== "recording") {
      try {
        record.start();
      } catch (e) {
        if (!(e instanceof StreamBusyError)) throw e;
        this.#log.info(`RECORD of ${record.key} refused: it already has a publisher`);
        throw fail(RtspStatus.Forbidden, `RECORD of ${record.key}, which already has a publisher`);
      }
      this.#state = "recording";
      this.#entry.setStream(Role.Publisher, record.key);
      this.#entry.setRequest({ method: RtspMethod.Record, url: req.uri.split("?")[0] });
      this.#entry.setStatus(RtspStatus.Ok);
      this.#log.info(
        `publishing ${record.key} (${[...this.#tracks.keys()].join(" and ")} over ${this.#lower})`,
      );
    }
    await this.#send({ cseq: req.cseq, status: RtspStatus.Ok, session: this.#sessionHeader() });
  }

  /** RTCP from a publisher (interleaved or UDP): its sender reports time the track; any RTCP keeps it alive. */
  #recordRtcp(kind: RecordKind, bytes: Uint8Array): void {
    try {
      this.#record!.rtcp(kind, readRtcp(bytes));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Malformed RTCP is dropped: it carries no media.
    }
  }

  /** Leaves the hub (PAUSE, TEARDOWN, close); the session itself stays. */
  #stopPlay(): void {
    this.#vod?.pause();
    clearInterval(this.#rtcpTimer);
    this.#rtcpTimer = undefined;
    const sub = this.#subscriber;
    if (!sub) return;
    this.#subscriber = undefined;
    this.#packer = undefined;
    sub.onClose = () => {};
    this.#ctx.hub.leave(this.#key!, sub);
    sub.close("paused");
  }
}

function fail(status: RtspStatus, detail: string): RtspError {
  return new RtspError(status, "rtsp_request", `Cannot answer: ${detail}`);
}
