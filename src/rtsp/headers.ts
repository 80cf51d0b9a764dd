/**
 * RTSP header fields: the names Sluice reads and writes (RFC 2326 12), the
 * case-insensitive collection a message carries (`RtspHeaders`, RFC 2326 4.2
 * by way of HTTP/1.1 4.2: field names are case-insensitive; repeated fields
 * keep their order), and the values with a structure of their own: CSeq
 * (12.17), Session (12.37), Range in npt (12.29, 3.6), RTP-Info (12.33) and
 * Public (12.28). Transport (12.39) has its own file, ./transport.ts.
 *
 * Parsers throw `RtspError` with the status a server answers: 400 for a
 * malformed Session, 457 for a Range it cannot read.
 *
 * @module
 */
import { RtspError, RtspStatus } from "./status.ts";

/** Header field names, as written (RFC 2326 section 12 unless noted). */
export const HeaderName = {
  /** 12.1 */
  Accept: "Accept",
  /** 12.5 */
  Authorization: "Authorization",
  /** 12.11 */
  ContentBase: "Content-Base",
  /** 12.14 */
  ContentLength: "Content-Length",
  /** 12.16 */
  ContentType: "Content-Type",
  /** 12.17 */
  CSeq: "CSeq",
  /** 12.18 */
  Date: "Date",
  /** 12.28 */
  Public: "Public",
  /** 12.29 */
  Range: "Range",
  /** 12.32 */
  Require: "Require",
  /** 12.33 */
  RtpInfo: "RTP-Info",
  /** 12.36 */
  Server: "Server",
  /** 12.37 */
  Session: "Session",
  /** 12.39 */
  Transport: "Transport",
  /** 12.42 */
  Unsupported: "Unsupported",
  /** 12.41 */
  UserAgent: "User-Agent",
  /** 12.44 */
  WwwAuthenticate: "WWW-Authenticate",
} as const;
export type HeaderName = typeof HeaderName[keyof typeof HeaderName];

/**
 * The header fields of one message. Names are matched without regard to case;
 * `entries()` gives them as received, in order, repeated fields included.
 */
export class RtspHeaders {
  readonly #entries: readonly (readonly [string, string])[];
  readonly #byName = new Map<string, string[]>();

  constructor(entries: Iterable<readonly [string, string]> = []) {
    const list: (readonly [string, string])[] = [];
    for (const [name, value] of entries) {
      list.push([name, value]);
      const key = name.toLowerCase();
      const values = this.#byName.get(key);
      if (values) values.push(value);
      else this.#byName.set(key, [value]);
    }
    this.#entries = list;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    return this.#byName.get(name.toLowerCase())?.[0];
  }

  /** Every value of `name`, in order. */
  getAll(name: string): readonly string[] {
    return this.#byName.get(name.toLowerCase()) ?? [];
  }

  has(name: string): boolean {
    return this.#byName.has(name.toLowerCase());
  }

  /** How many fields, repeated ones counted each time. */
  get size(): number {
    return this.#entries.length;
  }

  /** The fields as received: original case and order. */
  entries(): readonly (readonly [string, string])[] {
    return this.#entries;
  }
}

// ---------------------------------------------------------------------------------------------
// CSeq (12.17)

/** CSeq is 1*DIGIT; Sluice reads up to 32 bits of it (clients count up from 1 or 0). */
export const MAX_CSEQ = 0xffff_ffff;

/** A CSeq value as a number, or undefined when it is not 1..10 digits within MAX_CSEQ. */
export function parseCSeq(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_CSEQ ? n : undefined;
}

// ---------------------------------------------------------------------------------------------
// Session (12.37)

/** The longest session id read (RFC 2326 sets none; RFC 7826 4.3 asks for at least 8 octets). */
export const MAX_SESSION_ID_LENGTH = 128;
/** The largest `timeout=` read, in seconds (a day). */
export const MAX_SESSION_TIMEOUT_SEC = 86_400;

/** A Session header's value. */
export interface SessionHeader {
  /** session-id (3.4): letters, digits and `$-_.+`. */
  readonly id: string;
  /** `;timeout=` in seconds, when given (12.37: the server's default is 60). */
  readonly timeoutSec?: number;
}

/** session-id = 1*( ALPHA | DIGIT | safe ), safe = "$" | "-" | "_" | "." | "+" (RFC 2326 3.4). */
const SESSION_ID = /^[A-Za-z0-9$\-_.+]+$/;

/** Reads a Session value (`id[;timeout=N]`); a malformed one throws RtspError 400. */
export function parseSession(value: string): SessionHeader {
  const [idPart, ...params] = value.split(";");
  const id = idPart.trim();
  if (id.length > MAX_SESSION_ID_LENGTH) {
    throw new RtspError(
      RtspStatus.BadRequest,
      "rtsp_session",
      `Cannot read Session: current id is ${id.length} characters, limit ${MAX_SESSION_ID_LENGTH}`,
    );
  }
  if (!SESSION_ID.test(id)) {
    throw new RtspError(
      RtspStatus.BadRequest,
      "rtsp_session",
      `Cannot read Session: current id is ${quote(id)}`,
    );
  }
  let timeoutSec: number | undefined;
  for (const p of params) {
    const [k, v = ""] = p.split("=", 2).map((s) => s.trim());
    if (k.toLowerCase() !== "timeout") continue; // RFC 2326 defines no other parameter
    if (!/^\d{1,6}$/.test(v) || Number(v) > MAX_SESSION_TIMEOUT_SEC) {
      throw new RtspError(
        RtspStatus.BadRequest,
        "rtsp_session",
        `Cannot read Session: current timeout is ${quote(v)}, expected 0..${MAX_SESSION_TIMEOUT_SEC} seconds`,
      );
    }
    timeoutSec = Number(v);
  }
  return timeoutSec === undefined ? { id } : { id, timeoutSec };
}

/** A Session value: `id` and, when given, `;timeout=N`. A malformed id or timeout is misuse (TypeError). */
export function formatSession(session: SessionHeader): string {
  if (!SESSION_ID.test(session.id) || session.id.length > MAX_SESSION_ID_LENGTH) {
    throw new TypeError(`Cannot write Session: current id ${quote(session.id)} is not a session-id`);
  }
  if (session.timeoutSec === undefined) return session.id;
  if (!Number.isInteger(session.timeoutSec) || session.timeoutSec < 0) {
    throw new TypeError(`Cannot write Session: current timeout ${session.timeoutSec} is not whole seconds`);
  }
  return `${session.id};timeout=${session.timeoutSec}`;
}

// ---------------------------------------------------------------------------------------------
// Range, normal play time (12.29, 3.6)

/** A Range in npt: from `start` ("now" for live), to `end` when given; in seconds. */
export interface NptRange {
  readonly start: number | "now";
  readonly end?: number;
}

/** npt-time = "now" | npt-sec | npt-hhmmss (3.6); npt-sec = 1*DIGIT [ "." *DIGIT ]. */
const NPT_TIME = /^(?:now|(\d{1,9})(?:\.(\d*))?|(\d{1,6}):([0-5]\d):([0-5]\d)(?:\.(\d*))?)$/;

function parseNptTime(text: string): number | "now" | undefined {
  const m = NPT_TIME.exec(text);
  if (!m) return undefined;
  if (text === "now") return "now";
  const frac = (s: string | undefined) => (s ? Number(`0.${s.slice(0, 9)}`) : 0);
  if (m[1] !== undefined) return Number(m[1]) + frac(m[2]);
  return Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]) + frac(m[6]);
}

/**
 * Reads a Range value in npt (`npt=10-`, `npt=0.000-`, `npt=now-`,
 * `npt=00:01:00-00:02:00`, `npt=-20`; a `;time=` parameter is ignored).
 * Undefined for another unit (smpte, clock), which a live server may ignore;
 * malformed npt throws RtspError 457 (Invalid Range).
 */
export function parseRange(value: string): NptRange | undefined {
  const spec = value.split(";")[0].trim();
  const eq = spec.indexOf("=");
  if (eq < 0 || spec.slice(0, eq).trim().toLowerCase() !== "npt") return undefined;
  const body = spec.slice(eq + 1).trim();
  const dash = body.indexOf("-");
  const bad = () =>
    new RtspError(
      RtspStatus.InvalidRange,
      "rtsp_range",
      `Cannot read Range: current value is ${quote(value)}`,
    );
  if (dash < 0) throw bad();
  const from = body.slice(0, dash).trim();
  const to = body.slice(dash + 1).trim();
  // npt-range = ( npt-time "-" [ npt-time ] ) | ( "-" npt-time )
  const start = from === "" ? 0 : parseNptTime(from);
  const end = to === "" ? undefined : parseNptTime(to);
  if (start === undefined || (to !== "" && (end === undefined || end === "now"))) throw bad();
  if (from === "" && to === "") throw bad();
  if (typeof end === "number" && typeof start === "number" && end < start) throw bad();
  return typeof end === "number" ? { start, end } : { start };
}

/** Seconds as npt-sec with at most three decimals and no trailing zeros: 0 -> "0", 12.5 -> "12.5". */
export function formatNpt(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`Cannot write npt: current value ${seconds} is not a time`);
  }
  return String(Math.round(seconds * 1000) / 1000);
}

/** A Range value in npt: `npt=0-` for live from the start, `npt=0-12.5` for a file of 12.5 s. */
export function formatNptRange(range: NptRange): string {
  const start = range.start === "now" ? "now" : formatNpt(range.start);
  return `npt=${start}-${range.end === undefined ? "" : formatNpt(range.end)}`;
}

// ---------------------------------------------------------------------------------------------
// RTP-Info (12.33)

/** One stream in RTP-Info: its URL and where its RTP packets start. */
export interface RtpInfoEntry {
  /** The stream's control URL, as the client SETUP it. */
  readonly url: string;
  /** The sequence number of the first packet PLAY sends. */
  readonly seq?: number;
  /** The RTP timestamp of the first packet, matching the Range start. */
  readonly rtptime?: number;
}

/** The RTP-Info value: `url=...;seq=N;rtptime=N` per stream, comma separated. */
export function formatRtpInfo(entries: readonly RtpInfoEntry[]): string {
  return entries.map((e) => {
    if (/[\s,;]/.test(e.url)) {
      throw new TypeError(
        `Cannot write RTP-Info: current url ${quote(e.url)} has a space, comma or semicolon`,
      );
    }
    let s = `url=${e.url}`;
    if (e.seq !== undefined) s += `;seq=${uint(e.seq, 0xffff, "seq")}`;
    if (e.rtptime !== undefined) s += `;rtptime=${uint(e.rtptime, 0xffff_ffff, "rtptime")}`;
    return s;
  }).join(",");
}

/** Reads an RTP-Info value (what a client does; tests read the server's back). */
export function parseRtpInfo(value: string): RtpInfoEntry[] {
  const out: RtpInfoEntry[] = [];
  // A new stream starts at "url=" after a comma; a URL itself may hold a comma only escaped.
  for (const part of value.split(/,(?=\s*url=)/i)) {
    let url: string | undefined;
    let seq: number | undefined;
    let rtptime: number | undefined;
    for (const param of part.split(";")) {
      const eq = param.indexOf("=");
      const k = param.slice(0, eq).trim().toLowerCase();
      const v = param.slice(eq + 1).trim();
      if (k === "url") url = v;
      else if (k === "seq" && /^\d{1,5}$/.test(v)) seq = Number(v);
      else if (k === "rtptime" && /^\d{1,10}$/.test(v)) rtptime = Number(v);
    }
    if (url === undefined) {
      throw new RtspError(
        RtspStatus.BadRequest,
        "rtsp_rtp_info",
        `Cannot read RTP-Info: current part is ${quote(part)}`,
      );
    }
    out.push({ url, ...(seq !== undefined && { seq }), ...(rtptime !== undefined && { rtptime }) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lists (Public, Require, Unsupported)

/** A comma-separated list (12.28 Public, 12.32 Require) as trimmed, non-empty items. */
export function splitList(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

// ---------------------------------------------------------------------------------------------

function uint(n: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`Cannot write RTP-Info: current ${what} ${n} is outside 0..${max}`);
  }
  return n;
}

/** A value for an error message: quoted, cut to 64 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}...` : text);
}
