/**
 * RTSP 1.0 messages (RFC 2326 4, 6, 7): requests and responses as
 * `RtspReader` (./reader.ts) gives them, the methods (section 10), and the
 * writer for both. A response echoes the request's CSeq (12.17) and carries,
 * as the method needs, Session with its timeout (12.37), Public (12.28),
 * Transport (12.39, written by ./transport.ts), RTP-Info (12.33), Range
 * (12.29), WWW-Authenticate (12.44), Content-Base, Content-Type and
 * Content-Length (12.11, 12.16, 12.14). Socket-free: bytes out; whoever owns
 * the connection writes them.
 *
 * Lines end in CRLF (4); header values are written as given, so a value with
 * a CR, LF or NUL in it is misuse (TypeError): nothing a peer sent can split a
 * header this writer writes.
 *
 * @module
 */
import {
  formatRtpInfo,
  formatSession,
  HeaderName,
  quote,
  type RtpInfoEntry,
  type RtspHeaders,
  type SessionHeader,
} from "./headers.ts";
import { RtspStatus, statusText } from "./status.ts";

/** The only version Sluice speaks (RFC 2326 3.1); a request with another is answered 505. */
export const RTSP_VERSION = "RTSP/1.0";

/** The methods of RFC 2326 section 10 (a request with another method still parses; the server answers 501). */
export const RtspMethod = {
  /** 10.1: what the server supports; also a keepalive. */
  Options: "OPTIONS",
  /** 10.2: the session description (SDP) of a presentation. */
  Describe: "DESCRIBE",
  /** 10.3: a client publishing sends its SDP. */
  Announce: "ANNOUNCE",
  /** 10.4: a transport for one stream; makes the session. */
  Setup: "SETUP",
  /** 10.5: start sending. */
  Play: "PLAY",
  /** 10.6: stop sending for now. */
  Pause: "PAUSE",
  /** 10.7: end the session. */
  Teardown: "TEARDOWN",
  /** 10.8: read parameters; with no body, a keepalive (ffmpeg, VLC). */
  GetParameter: "GET_PARAMETER",
  /** 10.9: set parameters. */
  SetParameter: "SET_PARAMETER",
  /** 10.10: server to client, go elsewhere. */
  Redirect: "REDIRECT",
  /** 10.11: start receiving what the client publishes. */
  Record: "RECORD",
} as const;
export type RtspMethod = typeof RtspMethod[keyof typeof RtspMethod];

const METHODS: ReadonlySet<string> = new Set(Object.values(RtspMethod));

/** Whether `method` is one RFC 2326 defines (methods are case-sensitive, 6.1). */
export function isRtspMethod(method: string): method is RtspMethod {
  return METHODS.has(method);
}

/** A request as read (RFC 2326 6). */
export interface RtspRequest {
  readonly type: "request";
  /** The method token as sent; may be one RFC 2326 does not define. */
  readonly method: string;
  /** Request-URI as sent: absolute (`rtsp://host/app/stream`) or `*` (OPTIONS). */
  readonly uri: string;
  readonly version: typeof RTSP_VERSION;
  /** CSeq (12.17), which every request carries and every response echoes. */
  readonly cseq: number;
  readonly headers: RtspHeaders;
  /** Content-Length bytes (empty without one); a new array the receiver owns. */
  readonly body: Uint8Array;
}

/** A response as read (RFC 2326 7), for a client and for tests. */
export interface RtspResponse {
  readonly type: "response";
  readonly version: typeof RTSP_VERSION;
  readonly status: number;
  readonly reason: string;
  /** The echoed CSeq; undefined when the server sent none (ffmpeg's listen mode does so on a 501). */
  readonly cseq: number | undefined;
  readonly headers: RtspHeaders;
  readonly body: Uint8Array;
}

/** What a response says, beyond its status; every field is optional and written only when given. */
export interface ResponseInit {
  readonly status: RtspStatus;
  /** Default: the status's phrase from STATUS_TEXT. */
  readonly reason?: string;
  /** The request's CSeq; absent only when the request had no readable one (a 400). */
  readonly cseq?: number;
  readonly session?: SessionHeader;
  /** The methods the server implements (OPTIONS). */
  readonly public?: readonly string[];
  /** The chosen transport, as `formatTransport()` writes it (SETUP). */
  readonly transport?: string;
  /** Where each stream starts (PLAY). */
  readonly rtpInfo?: readonly RtpInfoEntry[];
  /** The range played, as `formatNptRange()` writes it (PLAY). */
  readonly range?: string;
  /** The challenges of a 401, one header each. */
  readonly wwwAuthenticate?: readonly string[];
  /** The base for relative control URLs in the body (DESCRIBE), with its trailing slash. */
  readonly contentBase?: string;
  /** The body's type, e.g. `application/sdp` (given with a body). */
  readonly contentType?: string;
  /** Any other fields (Server, Date, Allow...), written after the ones above. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Uint8Array | string;
}

/** What a request says; for a client, and for tests that feed a server. */
export interface RequestInit {
  readonly method: string;
  readonly uri: string;
  readonly cseq: number;
  readonly session?: SessionHeader;
  readonly transport?: string;
  readonly contentType?: string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Uint8Array | string;
}

const enc = new TextEncoder();

/** token (RFC 2326 15.1, HTTP/1.1 2.2): the characters of a method or header name. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Writes a response: status line, the fields of `init` in a fixed order, a blank line, the body. */
export function writeResponse(init: ResponseInit): Uint8Array {
  const status = init.status;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new TypeError(`Cannot write RTSP response: current status ${status} is not three digits`);
  }
  const fields: [string, string][] = [];
  if (init.cseq !== undefined) fields.push([HeaderName.CSeq, String(cseq(init.cseq))]);
  if (init.session) fields.push([HeaderName.Session, formatSession(init.session)]);
  if (init.public) fields.push([HeaderName.Public, init.public.join(", ")]);
  if (init.transport !== undefined) fields.push([HeaderName.Transport, init.transport]);
  if (init.rtpInfo) fields.push([HeaderName.RtpInfo, formatRtpInfo(init.rtpInfo)]);
  if (init.range !== undefined) fields.push([HeaderName.Range, init.range]);
  for (const c of init.wwwAuthenticate ?? []) fields.push([HeaderName.WwwAuthenticate, c]);
  if (init.contentBase !== undefined) fields.push([HeaderName.ContentBase, init.contentBase]);
  return assemble(`${RTSP_VERSION} ${status} ${init.reason ?? statusText(status)}`, fields, init);
}

/** Writes a request: request line, CSeq, the fields of `init`, a blank line, the body. */
export function writeRequest(init: RequestInit): Uint8Array {
  if (!TOKEN.test(init.method)) {
    throw new TypeError(`Cannot write RTSP request: current method ${quote(init.method)} is not a token`);
  }
  if (init.uri === "" || /[\s\0]/.test(init.uri)) {
    throw new TypeError(`Cannot write RTSP request: current URI ${quote(init.uri)} is empty or has a space`);
  }
  const fields: [string, string][] = [[HeaderName.CSeq, String(cseq(init.cseq))]];
  if (init.session) fields.push([HeaderName.Session, formatSession(init.session)]);
  if (init.transport !== undefined) fields.push([HeaderName.Transport, init.transport]);
  return assemble(`${init.method} ${init.uri} ${RTSP_VERSION}`, fields, init);
}

function cseq(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new TypeError(`Cannot write CSeq: current value ${n} is not a 32-bit count`);
  }
  return n;
}

/** The start line, the fields, the extra fields, Content-Type and -Length, CRLF, the body. */
function assemble(
  startLine: string,
  fields: [string, string][],
  init: {
    readonly headers?: readonly (readonly [string, string])[];
    readonly contentType?: string;
    readonly body?: Uint8Array | string;
  },
): Uint8Array {
  for (const [name, value] of init.headers ?? []) fields.push([name, value]);
  const body = typeof init.body === "string" ? enc.encode(init.body) : init.body ?? new Uint8Array(0);
  if (init.contentType !== undefined) fields.push([HeaderName.ContentType, init.contentType]);
  // 12.14: Content-Length is in every message with a body; with none, zero is implied.
  if (body.length > 0) fields.push([HeaderName.ContentLength, String(body.length)]);
  if (/[\r\n\0]/.test(startLine)) {
    throw new TypeError(`Cannot write RTSP message: current start line ${quote(startLine)} has a line break`);
  }
  let head = `${startLine}\r\n`;
  for (const [name, value] of fields) {
    if (!TOKEN.test(name)) {
      throw new TypeError(`Cannot write RTSP header: current name ${quote(name)} is not a token`);
    }
    if (/[\r\n\0]/.test(value)) {
      throw new TypeError(`Cannot write RTSP header ${name}: current value ${quote(value)} has a line break`);
    }
    head += `${name}: ${value}\r\n`;
  }
  head += "\r\n";
  const headBytes = enc.encode(head);
  if (body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}
