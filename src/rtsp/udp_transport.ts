/**
 * RTP and RTCP over UDP for one track of one RTSP session (RFC 2326 12.39
 * `client_port` / `server_port`, RFC 3550 11): the server's pair on one side,
 * the client's pair on the other.
 *
 * Play (the server sends): `send()` takes the interleaved frames a
 * packetizer made for an access unit (`$ ch len packet`, cached on the frame
 * and shared by every session) and sends each packet inside as one datagram
 * from the RTP socket to the client's RTP port, as a view of those bytes (no
 * copy, never written). `sendRtcp()` sends a sender report from the RTCP
 * socket to the client's RTCP port. Both return at once; a datagram not yet
 * handed to the system counts against `maxInFlight`, past which datagrams are
 * dropped and counted (a socket that does not drain must not grow memory). A
 * send error is counted; `maxSendErrors` in a row fail the transport.
 *
 * Deno's `node:dgram` does not surface ICMP port-unreachable (ECONNREFUSED)
 * on send, so a client that went away without TEARDOWN is found by silence:
 * no RTCP and no `touch()` (the session calls it on each RTSP request of
 * this session, GET_PARAMETER or OPTIONS keep-alives) for `timeoutMs` fails
 * the transport.
 *
 * Record (the client sends): RTP datagrams from the client go to `onRtp`;
 * every `reportIntervalMs` a receiver report about `receiver` (the
 * depacketizer's RtpReceiver) goes back to the client's RTCP port, with LSR
 * and DLSR from the client's last sender report (RFC 3550 6.4.1).
 *
 * Either way: RTCP from the client is read with `readRtcp` (receiver
 * reports counted, their time kept in `lastReportAt`; malformed compounds
 * counted and dropped); datagrams from any address other than the client's
 * are dropped and counted (RFC 2326 15.6: only the client that set the
 * session up); datagrams over the size bounds are dropped and counted.
 * Failure, by timeout or by send errors, is reported once through `onFailure`
 * and stops the transport (sends and reports cease); the session then closes
 * the client and calls `close()`, which closes the server pair.
 *
 * @module
 */
import { rtpPackets } from "../media/rtp/interleaved.ts";
import { buildReceiverReport, readRtcp, type ReceiverReport, type RtcpPacket } from "../media/rtp/rtcp.ts";
import { ntpMiddle } from "../media/rtp/clock.ts";
import type { RtpReceiver } from "../media/rtp/rtp_receiver.ts";
import type { PortPair } from "./transport.ts";
import { MAX_UDP_PORT, type UdpPortPair, type UdpRemote, type UdpSocket } from "./udp_ports.ts";

/** Why a transport failed: a closed table, for logs and metrics labels. */
export const UdpFailure = {
  /** No RTCP, datagram or `touch()` from the client for `timeoutMs`. */
  Timeout: "udp_timeout",
  /** `maxSendErrors` sends failed in a row (or the sockets errored). */
  SendErrors: "udp_send_errors",
} as const;
export type UdpFailure = typeof UdpFailure[keyof typeof UdpFailure];

/** Which way media flows: PLAY sends, RECORD receives (RFC 2326 12.39 mode). */
export const UdpTrackMode = {
  Play: "play",
  Record: "record",
} as const;
export type UdpTrackMode = typeof UdpTrackMode[keyof typeof UdpTrackMode];

/** The defaults and bounds, each with why. */
export const UdpTransportLimits = {
  /** A client silent this long is gone (RFC 2326 12.37 suggests 60 s for the session; RTCP comes each 5 s, RFC 3550 6.2). */
  timeoutMs: 30_000,
  /** Consecutive send errors that mean the path is gone (one can be a transient ENOBUFS). */
  maxSendErrors: 16,
  /** Datagrams queued to the system and not yet sent: about 12 MiB of 1400-byte packets, a few seconds of 20 Mb/s video. */
  maxInFlight: 8192,
  /** The largest RTP datagram taken from a publisher: a jumbo frame's MTU (senders keep under 1500). */
  maxRtpSize: 9000,
  /** The largest RTCP datagram read: a compound of SR/RR with 31 blocks, SDES and BYE fits in 1500. */
  maxRtcpSize: 1500,
  /** RECORD: a receiver report every 5 s (RFC 3550 6.2's minimum interval). */
  reportIntervalMs: 5_000,
  /** The silence check runs at a quarter of the timeout, within these (a late check costs at most 1 s). */
  minWatchMs: 10,
  maxWatchMs: 1_000,
} as const;

/** What a transport has done, for the session registry and the tests. */
export interface UdpTransportCounts {
  /** RTP datagrams handed to the system (PLAY). */
  rtpSent: number;
  /** RTP bytes handed to the system (PLAY). */
  rtpBytesSent: number;
  /** RTCP datagrams sent (sender reports in PLAY, receiver reports in RECORD). */
  rtcpSent: number;
  /** Sends that failed (thrown or called back with an error) and socket errors. */
  sendErrors: number;
  /** Datagrams dropped because `maxInFlight` were queued. */
  sendDropped: number;
  /** RTP datagrams taken from the client (RECORD) or ignored from it (PLAY: NAT openers). */
  rtpReceived: number;
  /** Their bytes. */
  rtpBytesReceived: number;
  /** RTCP datagrams from the client that read. */
  rtcpReceived: number;
  /** Receiver reports among them. */
  receiverReports: number;
  /** RTCP datagrams that did not read (dropped). */
  rtcpMalformed: number;
  /** Datagrams from another address than the client's (dropped). */
  foreign: number;
  /** Datagrams over `maxRtpSize` / `maxRtcpSize` (dropped). */
  oversized: number;
}

/** One track's UDP transport. */
export interface UdpTrackTransportOptions {
  /** The server's pair (from UdpPortPool); the transport owns it and closes it in `close()`. */
  readonly pair: UdpPortPair;
  /** The client's address: the RTSP connection's remote address (never a Transport `destination`). */
  readonly clientAddress: string;
  /** The client's `client_port` pair: RTP, RTCP. */
  readonly clientPort: PortPair;
  /** Default PLAY. */
  readonly mode?: UdpTrackMode;
  /** Called once, when the transport fails; `detail` is a log line ("Cannot ...: current ..."). */
  readonly onFailure: (reason: UdpFailure, detail: string) => void;
  /** Every RTCP packet read from the client (after counting). */
  readonly onRtcp?: (packets: readonly RtcpPacket[]) => void;
  /** RECORD: each RTP datagram from the client, a view valid during the call. */
  readonly onRtp?: (packet: Uint8Array) => void;
  /** RECORD: the reception state receiver reports are made from (the depacketizer's `receiver`). */
  readonly receiver?: RtpReceiver;
  /** RECORD: the SSRC the server reports as (RFC 3550 6.4.2); required with `receiver`. */
  readonly reporterSsrc?: number;
  /** RECORD: a CNAME for the SDES that follows each report (RFC 3550 6.1). */
  readonly cname?: string;
  readonly timeoutMs?: number;
  readonly maxSendErrors?: number;
  readonly maxInFlight?: number;
  readonly maxRtpSize?: number;
  readonly maxRtcpSize?: number;
  readonly reportIntervalMs?: number;
  /** The clock, ms (tests); default Date.now. */
  readonly now?: () => number;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address ("::ffff:1.2.3.4"), else the address. */
function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (m ? m[1] : address).toLowerCase();
}

/**
 * One socket's send side. Deno's `node:dgram` hands datagrams sent before a
 * socket's first send has completed to the system in reverse order (seen
 * with Deno 2.9: 20 sends in a row arrive 19..0; once one send has called
 * back, bursts of thousands keep their order). RTP can take loss but FU-A
 * fragments out of order cost whole pictures, so until the first send calls
 * back the rest wait here, in order, counted in `inFlight`.
 */
interface Lane {
  readonly socket: UdpSocket;
  /** The first send went out. */
  started: boolean;
  /** The first send called back: send straight through. */
  warm: boolean;
  readonly held: [Uint8Array, number][];
  readonly onSent: (error: Error | null) => void;
}

function positive(v: number, what: string): number {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new RangeError(`Cannot make UDP transport: ${what} must be positive, current ${v}`);
  }
  return v;
}

/** See the module doc. */
export class UdpTrackTransport {
  readonly mode: UdpTrackMode;
  readonly clientAddress: string;
  readonly clientPort: PortPair;
  readonly pair: UdpPortPair;
  readonly counts: UdpTransportCounts = {
    rtpSent: 0,
    rtpBytesSent: 0,
    rtcpSent: 0,
    sendErrors: 0,
    sendDropped: 0,
    rtpReceived: 0,
    rtpBytesReceived: 0,
    rtcpReceived: 0,
    receiverReports: 0,
    rtcpMalformed: 0,
    foreign: 0,
    oversized: 0,
  };
  readonly #opts: UdpTrackTransportOptions;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #maxSendErrors: number;
  readonly #maxInFlight: number;
  readonly #maxRtpSize: number;
  readonly #maxRtcpSize: number;
  readonly #address: string;
  #inFlight = 0;
  #errorsInARow = 0;
  #lastActivity: number;
  #lastReportAt: number | undefined;
  #lastReport: ReceiverReport | undefined;
  /** The client's last sender report: its NTP middle 32 bits and when it came (RECORD's LSR/DLSR). */
  #lastSr: { lsr: number; at: number } | undefined;
  #failure: UdpFailure | undefined;
  #closed = false;
  #watch: ReturnType<typeof setInterval> | undefined;
  #reports: ReturnType<typeof setInterval> | undefined;
  readonly #rtpLane: Lane;
  readonly #rtcpLane: Lane;

  constructor(opts: UdpTrackTransportOptions) {
    if (opts.receiver && opts.reporterSsrc === undefined) {
      throw new RangeError("Cannot make UDP transport: current options have a receiver and no reporterSsrc");
    }
    this.#opts = opts;
    this.pair = opts.pair;
    this.mode = opts.mode ?? UdpTrackMode.Play;
    this.clientAddress = opts.clientAddress;
    this.#address = plainAddress(opts.clientAddress);
    this.clientPort = opts.clientPort;
    this.#now = opts.now ?? Date.now;
    const L = UdpTransportLimits;
    this.#timeoutMs = positive(opts.timeoutMs ?? L.timeoutMs, "timeoutMs");
    this.#maxSendErrors = positive(opts.maxSendErrors ?? L.maxSendErrors, "maxSendErrors");
    this.#maxInFlight = positive(opts.maxInFlight ?? L.maxInFlight, "maxInFlight");
    this.#maxRtpSize = positive(opts.maxRtpSize ?? L.maxRtpSize, "maxRtpSize");
    this.#maxRtcpSize = positive(opts.maxRtcpSize ?? L.maxRtcpSize, "maxRtcpSize");
    for (const [i, p] of opts.clientPort.entries()) {
      if (!Number.isInteger(p) || p < 1 || p > MAX_UDP_PORT) {
        throw new RangeError(`Cannot make UDP transport: client port ${i} must be in 1..65535, current ${p}`);
      }
    }
    this.#lastActivity = this.#now();
    const { rtp, rtcp } = opts.pair;
    this.#rtpLane = this.#lane(rtp);
    this.#rtcpLane = this.#lane(rtcp);
    rtp.on("message", (msg, remote) => this.#onRtpDatagram(msg, remote));
    rtcp.on("message", (msg, remote) => this.#onRtcpDatagram(msg, remote));
    for (const s of [rtp, rtcp]) s.on("error", (e) => this.#sendError(e));
    const watchEvery = Math.max(L.minWatchMs, Math.min(L.maxWatchMs, this.#timeoutMs / 4));
    this.#watch = setInterval(() => this.#checkTimeout(), watchEvery);
    if (this.mode === UdpTrackMode.Record && opts.receiver) {
      const every = positive(opts.reportIntervalMs ?? L.reportIntervalMs, "reportIntervalMs");
      this.#reports = setInterval(() => this.sendReceiverReport(), every);
    }
  }

  /** The client's RTP port. */
  get clientRtpPort(): number {
    return this.clientPort[0];
  }

  /** The client's RTCP port. */
  get clientRtcpPort(): number {
    return this.clientPort[1];
  }

  /** When (the `now` clock) the last receiver report came; undefined before any. */
  get lastReportAt(): number | undefined {
    return this.#lastReportAt;
  }

  /** The last receiver report read (loss, jitter as the client sees them). */
  get lastReport(): ReceiverReport | undefined {
    return this.#lastReport;
  }

  /** Why the transport failed; undefined while it works. */
  get failure(): UdpFailure | undefined {
    return this.#failure;
  }

  /** Datagrams handed to the system and not yet sent. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether datagrams still go out: not failed, not closed. */
  get active(): boolean {
    return !this.#closed && this.#failure === undefined;
  }

  /** The client is alive (an RTSP request of its session came): restarts the timeout. */
  touch(): void {
    this.#lastActivity = this.#now();
  }

  /**
   * Sends each packet of `interleavedFrames` (back-to-back `$ ch len packet`
   * frames; the channel byte is ignored) as one datagram to the client's RTP
   * port. The bytes must not change afterwards (they are sent as views, later).
   * Returns the datagrams queued; 0 once failed or closed.
   */
  send(interleavedFrames: Uint8Array): number {
    if (!this.active) return 0;
    let queued = 0;
    for (const packet of rtpPackets(interleavedFrames)) {
      if (this.#queue(this.#rtpLane, packet, this.clientPort[0])) {
        queued++;
        this.counts.rtpSent++;
        this.counts.rtpBytesSent += packet.length;
      }
      if (!this.active) break;
    }
    return queued;
  }

  /** Sends one RTCP compound packet (a sender report) to the client's RTCP port; false when not sent. */
  sendRtcp(packet: Uint8Array): boolean {
    if (!this.active || !this.#queue(this.#rtcpLane, packet, this.clientPort[1])) return false;
    this.counts.rtcpSent++;
    return true;
  }

  /**
   * RECORD: sends a receiver report about `receiver` now (the timer calls it
   * every `reportIntervalMs`); false when there is nothing to report yet (no
   * packet received) or it was not sent.
   */
  sendReceiverReport(): boolean {
    const { receiver, reporterSsrc, cname } = this.#opts;
    if (!receiver || reporterSsrc === undefined || receiver.ssrc === undefined || !this.active) return false;
    const sr = this.#lastSr;
    // RFC 3550 6.4.1: DLSR in units of 1/65536 s since that sender report came.
    const dlsr = sr ? Math.min(0xffff_ffff, Math.floor(((this.#now() - sr.at) * 65536) / 1000)) : 0;
    return this.sendRtcp(
      buildReceiverReport(reporterSsrc, [receiver.reportBlock(sr?.lsr ?? 0, dlsr)], cname),
    );
  }

  /**
   * Stops the timers and closes the server pair; no callback after this.
   * Idempotent. Resolves when the ports are free (callers need not wait).
   */
  close(): Promise<void> {
    if (this.#closed) return this.pair.close();
    this.#closed = true;
    this.#stopTimers();
    this.#rtpLane.held.length = this.#rtcpLane.held.length = 0;
    for (const s of [this.pair.rtp, this.pair.rtcp]) {
      s.removeAllListeners("message");
      // an error after close (a send in flight) must not be uncaught
      s.removeAllListeners("error");
      s.on("error", () => {});
    }
    return this.pair.close();
  }

  #stopTimers(): void {
    if (this.#watch !== undefined) clearInterval(this.#watch);
    if (this.#reports !== undefined) clearInterval(this.#reports);
    this.#watch = this.#reports = undefined;
  }

  #lane(socket: UdpSocket): Lane {
    const lane: Lane = {
      socket,
      started: false,
      warm: false,
      held: [],
      onSent: (error) => {
        this.#inFlight--;
        if (error) this.#sendError(error);
        else this.#errorsInARow = 0;
        if (lane.warm) return;
        lane.warm = true;
        for (const [bytes, port] of lane.held.splice(0)) {
          this.#inFlight--;
          if (this.active) this.#dispatch(lane, bytes, port);
        }
      },
    };
    return lane;
  }

  /** Hands one datagram to the system, or holds it while the socket's first send is out (see Lane); false when dropped (`maxInFlight`) or the send threw. */
  #queue(lane: Lane, bytes: Uint8Array, port: number): boolean {
    if (this.#inFlight >= this.#maxInFlight) {
      this.counts.sendDropped++;
      return false;
    }
    if (lane.started && !lane.warm) {
      lane.held.push([bytes, port]);
      this.#inFlight++;
      return true;
    }
    return this.#dispatch(lane, bytes, port);
  }

  #dispatch(lane: Lane, bytes: Uint8Array, port: number): boolean {
    try {
      lane.socket.send(bytes, port, this.#address, lane.onSent);
    } catch (e) {
      this.#sendError(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
    lane.started = true;
    this.#inFlight++;
    return true;
  }

  #sendError(error: Error): void {
    if (this.#closed) return;
    this.counts.sendErrors++;
    this.#errorsInARow++;
    if (this.#errorsInARow >= this.#maxSendErrors) {
      this.#fail(
        UdpFailure.SendErrors,
        `Cannot send to ${this.clientAddress}:${this.clientPort[0]}-${this.clientPort[1]}: ` +
          `current ${this.#errorsInARow} errors in a row, limit ${this.#maxSendErrors} (last: ${error.message})`,
      );
    }
  }

  #checkTimeout(): void {
    const quiet = this.#now() - this.#lastActivity;
    if (quiet >= this.#timeoutMs) {
      this.#fail(
        UdpFailure.Timeout,
        `Cannot keep UDP session of ${this.clientAddress}: current silence ${quiet} ms, limit ${this.#timeoutMs} ms`,
      );
    }
  }

  #fail(reason: UdpFailure, detail: string): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = reason;
    this.#stopTimers();
    this.#opts.onFailure(reason, detail);
  }

  /** Whether a datagram is the client's and within `max` bytes (else counted). */
  #accept(msg: Uint8Array, remote: UdpRemote, max: number): boolean {
    if (!this.active) return false;
    if (plainAddress(remote.address) !== this.#address) {
      this.counts.foreign++;
      return false;
    }
    if (msg.length > max) {
      this.counts.oversized++;
      return false;
    }
    this.#lastActivity = this.#now();
    return true;
  }

  #onRtpDatagram(msg: Uint8Array, remote: UdpRemote): void {
    if (!this.#accept(msg, remote, this.#maxRtpSize)) return;
    this.counts.rtpReceived++;
    this.counts.rtpBytesReceived += msg.length;
    // a plain Uint8Array view of node's Buffer (no copy)
    if (this.mode === UdpTrackMode.Record) {
      this.#opts.onRtp?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    }
  }

  #onRtcpDatagram(msg: Uint8Array, remote: UdpRemote): void {
    if (!this.#accept(msg, remote, this.#maxRtcpSize)) return;
    let packets: RtcpPacket[];
    try {
      packets = readRtcp(msg);
    } catch {
      this.counts.rtcpMalformed++;
      return;
    }
    this.counts.rtcpReceived++;
    const now = this.#now();
    for (const p of packets) {
      if (p.type === "rr") {
        this.counts.receiverReports++;
        this.#lastReportAt = now;
        this.#lastReport = p;
      } else if (p.type === "sr") {
        this.#lastSr = { lsr: ntpMiddle(p.ntp), at: now };
      }
    }
    this.#opts.onRtcp?.(packets);
  }
}
