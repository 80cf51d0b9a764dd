/**
 * HTTP/1.1 request heads (RFC 9112 2-5): the request line and the header
 * fields of one request, parsed from bytes, every length bounded. Bytes in, a
 * head or an HttpHeadError (with the status to answer) out; the server
 * (`http1_server.ts`) owns the socket.
 *
 * @module
 */

/** One parsed request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent (origin-form `/path?query`, absolute-form, or `*`). */
  target: string;
  /** "1.0" or "1.1". */
  version: "1.0" | "1.1";
  /** The fields in order, names lower-cased, values without surrounding whitespace. */
  fields: [string, string][];
}

/** A head that cannot be served: the status to answer (400, 414, 431, 505) and why. */
export class HttpHeadError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpHeadError";
    this.status = status;
  }
}

/** The bounds of a head (RFC 9112 3: a server decides them and answers 414 / 431 past them). */
export const HeadLimits = {
  /** A request line longer than this is 414 URI Too Long (a 60 KB path still reaches the router). */
  requestLineBytes: 64 * 1024,
  /** A whole head longer than this is 431 Request Header Fields Too Large. */
  headBytes: 96 * 1024,
  /** More fields than this is 431. */
  fields: 200,
} as const;

const LF = 0x0a;
const CR = 0x0d;
/** RFC 9110 5.6.2 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9112 3: method SP request-target SP HTTP-version. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/(\d)\.(\d)$/;
const latin1 = new TextDecoder("latin1");

/**
 * Where the head in `bytes` ends: the index just past its empty line (CRLF CRLF, or LF LF as RFC 9112 2.2
 * allows), or -1 when it has not all come yet. Empty lines before the request line are skipped by the parser.
 */
export function headEnd(bytes: Uint8Array): number {
  let start = 0;
  while (start < bytes.length && (bytes[start] === CR || bytes[start] === LF)) start++;
  for (let i = start; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    if (i + 1 < bytes.length && bytes[i + 1] === LF) return i + 2;
    if (i + 2 < bytes.length && bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Parses a whole head (`bytes` up to and including its empty line); throws HttpHeadError. */
export function parseHead(bytes: Uint8Array): RequestHead {
  const text = latin1.decode(bytes);
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length && lines[i] === "") i++;
  const line = lines[i++] ?? "";
  if (line.length > HeadLimits.requestLineBytes) {
    throw new HttpHeadError(
      414,
      `Cannot read the request: its line is ${line.length} bytes, over ${HeadLimits.requestLineBytes}`,
    );
  }
  const m = REQUEST_LINE.exec(line);
  if (!m) {
    throw new HttpHeadError(
      400,
      `Cannot read the request line: current ${JSON.stringify(line.slice(0, 80))}`,
    );
  }
  if (m[3] !== "1") {
    throw new HttpHeadError(505, `Cannot serve HTTP/${m[3]}.${m[4]}: this server speaks HTTP/1.1`);
  }
  const fields: [string, string][] = [];
  for (; i < lines.length; i++) {
    const field = lines[i];
    if (field === "") break;
    if (field[0] === " " || field[0] === "\t") {
      throw new HttpHeadError(
        400,
        "Cannot read the request's fields: a folded line (obsolete, RFC 9112 5.2)",
      );
    }
    const colon = field.indexOf(":");
    const name = colon > 0 ? field.slice(0, colon) : "";
    if (!TOKEN.test(name)) {
      throw new HttpHeadError(
        400,
        `Cannot read the request's fields: current ${JSON.stringify(field.slice(0, 80))}`,
      );
    }
    if (fields.length >= HeadLimits.fields) {
      throw new HttpHeadError(431, `Cannot read the request: over ${HeadLimits.fields} fields`);
    }
    fields.push([name.toLowerCase(), field.slice(colon + 1).trim()]);
  }
  return { method: m[1], target: m[2], version: m[4] === "0" ? "1.0" : "1.1", fields };
}

/** The values of field `name` (lower-case) in `head`, comma lists split, lower-cased. */
export function fieldTokens(head: RequestHead, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of head.fields) {
    if (k !== name) continue;
    for (const part of v.split(",")) {
      const t = part.trim().toLowerCase();
      if (t) out.push(t);
    }
  }
  return out;
}

/** The reason phrases the server writes (RFC 9110 15); others get "Status". */
const REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The reason phrase of `status`. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Status";
}

let dateSecond = -1;
let dateText = "";

/** The Date field's value now (RFC 9110 5.6.7 IMF-fixdate), computed once a second. */
export function httpDate(now = Date.now()): string {
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

/** A response head: status line, fields, empty line, as bytes (latin1: field values are ASCII here). */
export function responseHead(status: number, fields: readonly (readonly [string, string])[]): Uint8Array {
  let text = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const [k, v] of fields) text += `${k}: ${v}\r\n`;
  text += "\r\n";
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
