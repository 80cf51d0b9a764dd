/**
 * RtspReader: the bytes of one RTSP TCP connection in, in pieces of any size;
 * out, in order, the requests (what a server reads), responses (what a client
 * reads, and tests) and interleaved binary frames (RFC 2326 10.12: `$`,
 * channel, 16-bit length, payload) that a client sends between its messages
 * once RTP runs over the connection. Socket-free (STYLE 4).
 *
 * What it reads (RFC 2326 4, 6, 7):
 * - a start line, header fields (names case-insensitive; a line starting with
 *   a space or tab continues the field above, 4.2 by way of HTTP/1.1 2.2), an
 *   empty line, then Content-Length bytes of body (12.14: none without it);
 * - lines ending in CRLF, or LF alone (4: receivers should take either);
 *   empty lines between messages are skipped;
 * - version RTSP/1.0 only; another well-formed version is an error with
 *   status 505; any method token (an unknown one is for the server to answer
 *   501); a request without a readable CSeq is an error with status 400.
 *
 * Bounds (STYLE 7): each cap is exported and can be lowered per reader; a cap
 * is checked as soon as the bytes in hand pass it, so a head that never ends
 * is an error at the cap, not growth. Errors are `RtspError` with the status a
 * server answers before closing: 414 for the start line, 431 for the header
 * count or bytes, 413 for a body or interleaved frame, 400 for malformed text.
 * After an error the reader is spent: every later push throws the same error,
 * and a push that throws loses the items it completed before the error (the
 * connection is closed anyway).
 *
 * Ownership: bodies and payloads are new arrays the caller owns; `push` never
 * keeps a reference to the bytes it is given past the call.
 *
 * @module
 */
import { HeaderName, parseCSeq, quote, RtspHeaders } from "./headers.ts";
import { Interleaved, type InterleavedFrame } from "../media/rtp/interleaved.ts";
import { RTSP_VERSION, type RtspRequest, type RtspResponse, TOKEN } from "./message.ts";
import { RtspError, RtspStatus } from "./status.ts";

/** The longest request or status line, in bytes without its line end (a signed URL fits with room). */
export const MAX_START_LINE_BYTES = 8192;
/** The most header fields in one message (ffmpeg sends 3 to 5, VLC and GStreamer under 10). */
export const MAX_HEADER_COUNT = 64;
/** The longest message head: start line, fields and line ends, in bytes. */
export const MAX_HEADER_BYTES = 16384;
/** The largest body (an ANNOUNCE's SDP is under 1 KiB; SET_PARAMETER bodies are smaller). */
export const MAX_BODY_BYTES = 64 * 1024;
/** The largest interleaved payload taken: by default the 16-bit field's own limit (10.12). */
export const MAX_INTERLEAVED_BYTES: number = Interleaved.MaxPayload;

/** The caps of one reader; each defaults to the export of the same name. */
export interface RtspReaderOptions {
  readonly maxStartLineBytes?: number;
  readonly maxHeaderCount?: number;
  readonly maxHeaderBytes?: number;
  readonly maxBodyBytes?: number;
  readonly maxInterleavedBytes?: number;
}

/** What the reader gives, in stream order. */
export type RtspItem = RtspRequest | RtspResponse | InterleavedFrame;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;

/** A version as HTTP and RTSP write them: a protocol name, "/", major "." minor. */
const VERSION_SHAPE = /^[A-Z]+\/\d+\.\d+$/;
/** Status-Line (7.1): version, three digits, the reason phrase (possibly empty). */
const STATUS_LINE = /^(RTSP\/\d+\.\d+) (\d{3})(?: (.*))?$/;

/** A parsed head whose body is still arriving. */
interface PendingHead {
  readonly start: Omit<RtspRequest, "body"> | Omit<RtspResponse, "body">;
  readonly headBytes: number;
  readonly bodyBytes: number;
}

const dec = new TextDecoder();

/** Reads RTSP messages and interleaved frames from one connection's bytes (see the module doc). */
export class RtspReader {
  readonly #maxStartLine: number;
  readonly #maxHeaderCount: number;
  readonly #maxHeaderBytes: number;
  readonly #maxBody: number;
  readonly #maxInterleaved: number;

  /** Bytes kept between pushes: `#buf[#start..#end)`. */
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Bytes of the pending head already scanned for its end, and where its first line ended (-1: not yet). */
  #scanned = 0;
  #firstLineEnd = -1;
  #pending: PendingHead | undefined;
  #error: unknown;

  constructor(opts: RtspReaderOptions = {}) {
    this.#maxStartLine = opts.maxStartLineBytes ?? MAX_START_LINE_BYTES;
    this.#maxHeaderCount = opts.maxHeaderCount ?? MAX_HEADER_COUNT;
    this.#maxHeaderBytes = opts.maxHeaderBytes ?? MAX_HEADER_BYTES;
    this.#maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
    this.#maxInterleaved = opts.maxInterleavedBytes ?? MAX_INTERLEAVED_BYTES;
  }

  /** Bytes received but not yet part of a returned item. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Takes the next bytes of the stream; returns every item they complete, in order. */
  push(bytes: Uint8Array): RtspItem[] {
    if (this.#error !== undefined) throw this.#error;
    // With nothing kept, read straight from the caller's bytes and keep only a tail.
    const kept = this.#end > this.#start;
    if (kept) this.#append(bytes);
    const data = kept ? this.#buf.subarray(this.#start, this.#end) : bytes;
    const items: RtspItem[] = [];
    let pos = 0;
    try {
      for (;;) {
        const n = this.#next(data, pos, items);
        if (n === 0) break;
        pos += n;
      }
    } catch (e) {
      this.#error = e;
      this.#buf = new Uint8Array(0);
      this.#start = this.#end = 0;
      throw e;
    }
    if (kept) {
      this.#start += pos;
      if (this.#start === this.#end) this.#start = this.#end = 0;
    } else if (pos < bytes.length) {
      this.#start = this.#end = 0;
      this.#append(bytes.subarray(pos));
    }
    return items;
  }

  #append(bytes: Uint8Array): void {
    const live = this.#end - this.#start;
    if (this.#end + bytes.length > this.#buf.length) {
      if (live + bytes.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(live + bytes.length, this.#buf.length * 2, 4096));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Reads one item (or skips blank lines) at `pos`; returns the bytes used, 0 when more are needed. */
  #next(data: Uint8Array, pos: number, items: RtspItem[]): number {
    const avail = data.length - pos;
    if (avail === 0) return 0;
    if (this.#pending) {
      const { start, headBytes, bodyBytes } = this.#pending;
      if (avail < headBytes + bodyBytes) return 0;
      const body = data.slice(pos + headBytes, pos + headBytes + bodyBytes);
      items.push({ ...start, body } as RtspRequest | RtspResponse);
      this.#pending = undefined;
      return headBytes + bodyBytes;
    }
    if (this.#scanned === 0) {
      // Between messages: skip empty lines.
      let p = pos;
      while (p < data.length && (data[p] === CR || data[p] === LF)) p++;
      if (p > pos) return p - pos;
      if (data[pos] === Interleaved.Magic) return this.#frame(data, pos, items);
    }
    const end = this.#headEnd(data, pos);
    if (end < 0) return 0;
    this.#scanned = 0;
    this.#firstLineEnd = -1;
    const head = this.#head(data.subarray(pos, end));
    if (head.bodyBytes === 0) {
      items.push({ ...head.start, body: new Uint8Array(0) } as RtspRequest | RtspResponse);
      return head.headBytes;
    }
    this.#pending = head;
    return this.#next(data, pos, items);
  }

  /** An interleaved frame at `pos` (its `$` seen): 0 until it is all here. */
  #frame(data: Uint8Array, pos: number, items: RtspItem[]): number {
    const avail = data.length - pos;
    if (avail < Interleaved.HeaderSize) return 0;
    const channel = data[pos + 1];
    const length = (data[pos + 2] << 8) | data[pos + 3];
    if (length > this.#maxInterleaved) {
      throw new RtspError(
        RtspStatus.RequestEntityTooLarge,
        "rtsp_interleaved_length",
        `Cannot read interleaved frame on channel ${channel}: current length ${length} bytes, limit ${this.#maxInterleaved}`,
      );
    }
    const total = Interleaved.HeaderSize + length;
    if (avail < total) return 0;
    items.push({
      type: "interleaved",
      channel,
      payload: data.slice(pos + Interleaved.HeaderSize, pos + total),
    });
    return total;
  }

  /**
   * Where the head starting at `pos` ends (just past its empty line), or -1
   * while it has not ended; checks the start-line and head caps against what
   * has arrived so far.
   */
  #headEnd(data: Uint8Array, pos: number): number {
    // Resume a little before where the last scan stopped: an end may straddle two pushes.
    let i = pos + Math.max(0, this.#scanned - 2);
    for (; i < data.length; i++) {
      if (data[i] !== LF) continue;
      if (this.#firstLineEnd < 0) {
        this.#firstLineEnd = i - pos;
        this.#checkStartLine(data, pos, i, true);
      }
      // LF then LF, or LF then CR LF: the empty line.
      let end = -1;
      if (i + 1 < data.length && data[i + 1] === LF) end = i + 2;
      else if (i + 2 < data.length && data[i + 1] === CR && data[i + 2] === LF) end = i + 3;
      if (end >= 0) {
        this.#checkHeadBytes(end - pos, true);
        return end;
      }
      if (i + 2 >= data.length) break; // the line after may still end the head
    }
    this.#scanned = Math.min(i, data.length) - pos;
    if (this.#firstLineEnd < 0) this.#checkStartLine(data, pos, data.length, false);
    this.#checkHeadBytes(data.length - pos, false);
    return -1;
  }

  /** The start line runs from `pos` to `lineEnd` (its LF, or the end of the bytes so far). */
  #checkStartLine(data: Uint8Array, pos: number, lineEnd: number, ended: boolean): void {
    // A CR before the LF (or last, with the LF yet to come) is the line end, not the line.
    const length = lineEnd - pos - (lineEnd > pos && data[lineEnd - 1] === CR ? 1 : 0);
    if (length > this.#maxStartLine) {
      throw new RtspError(
        RtspStatus.RequestUriTooLarge,
        "rtsp_start_line",
        `Cannot read RTSP start line: current length ${length} bytes${
          ended ? "" : " with no end yet"
        }, limit ${this.#maxStartLine}`,
      );
    }
  }

  #checkHeadBytes(bytes: number, ended: boolean): void {
    if (bytes > this.#maxHeaderBytes) {
      throw new RtspError(
        RtspStatus.RequestHeaderFieldsTooLarge,
        "rtsp_header_bytes",
        `Cannot read RTSP message head: current length ${bytes} bytes${
          ended ? "" : " with no end yet"
        }, limit ${this.#maxHeaderBytes}`,
      );
    }
  }

  /** Parses a whole head (start line, fields, empty line). */
  #head(bytes: Uint8Array): PendingHead {
    const lines = dec.decode(bytes).split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
    // The split leaves the empty line and what follows its LF ("") at the end.
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    const startLine = lines[0];
    const fields: [string, string][] = [];
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k];
      const c0 = line.charCodeAt(0);
      if (c0 === SP || c0 === HT) {
        // obs-fold: the field above continues.
        const last = fields[fields.length - 1];
        if (!last) {
          throw bad(
            "rtsp_header",
            `Cannot read RTSP header: current first line ${quote(line)} continues nothing`,
          );
        }
        last[1] = `${last[1]} ${line.trim()}`.trim();
        continue;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? "" : line.slice(0, colon).trimEnd();
      if (!TOKEN.test(name)) {
        throw bad("rtsp_header", `Cannot read RTSP header: current line ${quote(line)} has no field name`);
      }
      if (fields.length === this.#maxHeaderCount) {
        throw new RtspError(
          RtspStatus.RequestHeaderFieldsTooLarge,
          "rtsp_header_count",
          `Cannot read RTSP headers: current count over ${this.#maxHeaderCount}, limit ${this.#maxHeaderCount}`,
        );
      }
      fields.push([name, line.slice(colon + 1).trim()]);
    }
    const headers = new RtspHeaders(fields);
    const bodyBytes = this.#contentLength(headers);
    const start = startLine.startsWith("RTSP/") ? response(startLine, headers) : request(startLine, headers);
    return { start, headBytes: bytes.length, bodyBytes };
  }

  #contentLength(headers: RtspHeaders): number {
    const values = headers.getAll(HeaderName.ContentLength);
    if (values.length === 0) return 0;
    const first = values[0];
    if (!/^\d{1,12}$/.test(first) || values.some((v) => v !== first)) {
      throw bad(
        "rtsp_content_length",
        `Cannot read Content-Length: current value ${quote(values.join(", "))}`,
      );
    }
    const n = Number(first);
    if (n > this.#maxBody) {
      throw new RtspError(
        RtspStatus.RequestEntityTooLarge,
        "rtsp_body_length",
        `Cannot read RTSP body: current Content-Length ${n} bytes, limit ${this.#maxBody}`,
      );
    }
    return n;
  }
}

function bad(code: string, detail: string): RtspError {
  return new RtspError(RtspStatus.BadRequest, code, detail);
}

function checkVersion(version: string, line: string): void {
  if (version === RTSP_VERSION) return;
  if (VERSION_SHAPE.test(version)) {
    throw new RtspError(
      RtspStatus.RtspVersionNotSupported,
      "rtsp_version",
      `Cannot read RTSP message: current version ${version}, expected ${RTSP_VERSION}`,
    );
  }
  throw bad("rtsp_start_line", `Cannot read RTSP start line: current line is ${quote(line)}`);
}

/** Request-Line (6.1): Method SP Request-URI SP RTSP-Version. */
function request(line: string, headers: RtspHeaders): Omit<RtspRequest, "body"> {
  const parts = line.split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || parts[1] === "") {
    throw bad("rtsp_start_line", `Cannot read RTSP request line: current line is ${quote(line)}`);
  }
  const [method, uri, version] = parts;
  checkVersion(version, line);
  const cseq = parseCSeq(headers.get(HeaderName.CSeq));
  if (cseq === undefined) {
    const v = headers.get(HeaderName.CSeq);
    throw bad(
      "rtsp_cseq",
      `Cannot read ${method} request: current CSeq is ${v === undefined ? "missing" : quote(v)}`,
    );
  }
  return { type: "request", method, uri, version: RTSP_VERSION, cseq, headers };
}

/** Status-Line (7.1): RTSP-Version SP Status-Code SP Reason-Phrase. */
function response(line: string, headers: RtspHeaders): Omit<RtspResponse, "body"> {
  const m = STATUS_LINE.exec(line);
  if (!m) throw bad("rtsp_start_line", `Cannot read RTSP status line: current line is ${quote(line)}`);
  checkVersion(m[1], line);
  return {
    type: "response",
    version: RTSP_VERSION,
    status: Number(m[2]),
    reason: m[3] ?? "",
    cseq: parseCSeq(headers.get(HeaderName.CSeq)),
    headers,
  };
}
