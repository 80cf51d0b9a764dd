/**
 * AccessLog: one line per finished session (ffserver's `CustomLog`), written
 * to stdout (`-`) or appended to a file, from the session registry's close
 * events (`hub.sessions.on()`).
 *
 * The line is the Combined Log Format with the session's duration appended,
 * for every protocol (a file source has no client and is not logged):
 *
 * ```
 * 127.0.0.1 - - [01/Dec/2026:22:27:49 +0000] "GET /live/cam.flv HTTP/1.1" 200 1048576 "-" "Lavf/59.27.100" 12.345
 * 127.0.0.1 - - [01/Dec/2026:22:27:50 +0000] "PLAY rtmp://host/live/cam RTMP" 200 734003 "-" "LNX 9,0,124,2" 8.002
 * ```
 *
 * - **address**: the peer's IP, without its port (`-` when unknown); then
 *   `-` for identd and for the user, as Apache writes them;
 * - **time**: when the session started (as Apache stamps a request when it
 *   arrives, though the line is written when it ends), always in UTC;
 * - **request**: `"METHOD URL PROTOCOL"` as the edge told the registry
 *   (`SessionRequest`): HTTP's method and request target with `HTTP/1.1`
 *   (Deno's Request does not say the version), `WS` for a WebSocket; RTMP's
 *   `PLAY` or `PUBLISH` (`CONNECT` when neither came) of
 *   `rtmp://host/app/name` with `RTMP`; `"-"` when the session never said
 *   (an RTMP connection gone during its handshake);
 * - **status**: the answer as an HTTP status (SessionSnapshot.status: RTMP
 *   and pushes use the same codes), `-` when there was none;
 * - **bytes**: sent, for players and VOD; received, for publishers (RTMP
 *   publish, HTTP and WebSocket push); 0 when none;
 * - **referer** and **user agent** in quotes (RTMP: connect's pageUrl and
 *   flashVer), `"-"` when missing;
 * - **duration** in seconds, three decimals.
 *
 * Quotes, backslashes and control characters in the quoted fields (and
 * spaces in the method and URL) are written `\xHH`, as nginx does, so a
 * client cannot forge a line or a field.
 *
 * Writing never blocks anything: the close listener only formats the line
 * and queues it; one write chain appends what is queued, a batch per write.
 * Past `maxQueuedLines` waiting lines, new ones are dropped and counted
 * (`dropped`), with one warning per 10 s. Without write permission for the
 * file, one error line names the flag to add and the log stays off. A write
 * that fails drops its batch (counted) with the same rate-limited warning.
 * `reopen()` (on SIGUSR1, after logrotate renamed the file) closes the file
 * and opens the path again: what is written after it goes to the new file,
 * and lines queued meanwhile wait for it. `close()` writes what is queued,
 * then closes the file.
 *
 * @module
 */
import {
  hostOf as hostOfAddress,
  type SessionEvent,
  SessionEventType,
  type SessionSnapshot,
} from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import type { Logger } from "../log.ts";

/** The target that writes to standard output instead of a file. */
export const ACCESS_LOG_STDOUT = "-";

/** Default bound on lines waiting to be written; past it new lines are dropped and counted. */
export const ACCESS_LOG_MAX_QUEUED_LINES = 1024;

/** At most one warning about dropped lines per this many ms (with the count since the last one). */
const DROP_WARN_EVERY_MS = 10_000;

/**
 * The request line's protocol token for each session protocol; undefined: not logged (a file source
 * has no client). A new protocol must say here how its sessions are logged.
 */
const REQUEST_PROTOCOL: Readonly<Record<Protocol, string | undefined>> = {
  [Protocol.Rtmp]: "RTMP",
  [Protocol.HttpFlv]: "HTTP/1.1",
  [Protocol.WsFlv]: "HTTP/1.1",
  [Protocol.HttpPush]: "HTTP/1.1",
  [Protocol.WsPush]: "HTTP/1.1",
  [Protocol.HttpVod]: "HTTP/1.1",
  [Protocol.Hls]: "HTTP/1.1",
  [Protocol.HttpTs]: "HTTP/1.1",
  [Protocol.Rtsp]: "RTSP/1.0",
  [Protocol.File]: undefined,
};

/** Protocols whose sessions receive the bytes that count (pushes), whatever their role at the end. */
const INGEST_PROTOCOLS: ReadonlySet<Protocol> = new Set([Protocol.HttpPush, Protocol.WsPush]);

/** The RTMP request method of a publish (its bytes are the ones received). */
const PUBLISH_METHOD = "PUBLISH";

/** Month names as the Common Log Format writes them. */
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** The side of the session registry the access log reads (STYLE 10). */
export interface AccessLogSessions {
  on(listener: (ev: SessionEvent) => void): () => void;
}

/** Where the `-` target writes (Deno.stdout by default); write() may take part of the bytes. */
export interface AccessLogWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** Options for AccessLog. */
export interface AccessLogOptions {
  /** Where open errors and drop warnings go. */
  log: Logger;
  /** Bound on lines waiting to be written (default ACCESS_LOG_MAX_QUEUED_LINES). */
  maxQueuedLines?: number;
  /** The writer of the `-` target (default Deno.stdout; tests pass a fake). */
  stdout?: AccessLogWriter;
}

/** `[01/Dec/2026:22:27:49 +0000]`'s inside for `ms` since the epoch, in UTC. */
export function formatLogTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** What a quoted field writes as `\xHH`: control characters (matching them is the point), quote, backslash. */
// deno-lint-ignore no-control-regex
const UNSAFE_IN_QUOTES = /[\x00-\x1f"\\\x7f]/g;
/** The same and the space, for the method and URL (the request line is split at its spaces). */
// deno-lint-ignore no-control-regex
const UNSAFE_IN_REQUEST = /[\x00-\x20"\\\x7f]/g;

/** `text` with what `unsafe` matches written as `\xHH`, as nginx escapes its log variables. */
function escapeField(text: string, unsafe: RegExp = UNSAFE_IN_QUOTES): string {
  return text.replace(unsafe, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

/** The IP of an "ip:port" remote (IPv6 too), or `-`. */
function hostOf(remote: string | undefined): string {
  return remote ? hostOfAddress(remote) : "-";
}

/** The bytes a line reports: received for a publisher or a push, sent for everyone else. */
function bytesOf(s: SessionSnapshot): number {
  const received = s.role === Role.Publisher || INGEST_PROTOCOLS.has(s.protocol) ||
    s.request?.method === PUBLISH_METHOD;
  return received ? s.bytesIn : s.bytesOut;
}

/** The access log line of a finished session (no newline), or undefined for one that is not logged. */
export function formatAccessLine(s: SessionSnapshot): string | undefined {
  const version = REQUEST_PROTOCOL[s.protocol];
  if (version === undefined) return undefined;
  const r = s.request;
  const request = r
    ? `${escapeField(r.method, UNSAFE_IN_REQUEST)} ${escapeField(r.url, UNSAFE_IN_REQUEST)} ${version}`
    : "-";
  const quoted = (v: string | undefined) => `"${v === undefined || v === "" ? "-" : escapeField(v)}"`;
  return `${hostOf(s.remote)} - - [${formatLogTime(s.startedAt)}] "${request}" ${s.status ?? "-"} ` +
    `${bytesOf(s)} ${quoted(r?.referer)} ${quoted(r?.userAgent)} ${(s.durationMs / 1000).toFixed(3)}`;
}

/** The access log: see the module doc. */
export class AccessLog {
  /** `-` or the file's path. */
  readonly target: string;
  readonly maxQueuedLines: number;
  #sessions: AccessLogSessions;
  #log: Logger;
  #stdout: AccessLogWriter | undefined;
  #file: Deno.FsFile | undefined;
  #off: (() => void) | undefined;
  /** Lines waiting for the write chain. */
  #queue: string[] = [];
  /** The write chain: every write, reopen and close runs after the one before; it never rejects. */
  #tail: Promise<void> = Promise.resolve();
  #flushScheduled = false;
  #closed = false;
  #written = 0;
  #dropped = 0;
  #droppedSinceWarn = 0;
  #lastWarnAt = -Infinity;
  #encoder = new TextEncoder();

  /** `target`: `-` (stdout) or a file path, appended to (created when missing). Nothing opens before open(). */
  constructor(target: string, sessions: AccessLogSessions, options: AccessLogOptions) {
    if (typeof target !== "string" || target === "") {
      throw new TypeError(
        `Cannot make an access log: target is ${JSON.stringify(target)}, expected - or a path`,
      );
    }
    const max = options.maxQueuedLines ?? ACCESS_LOG_MAX_QUEUED_LINES;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot make an access log: maxQueuedLines is ${max}, expected 1 or more`);
    }
    this.target = target;
    this.maxQueuedLines = max;
    this.#sessions = sessions;
    this.#log = options.log;
    this.#stdout = options.stdout;
  }

  /** Whether lines are being written (open() succeeded and the file is open). */
  get active(): boolean {
    return this.#off !== undefined && this.#writer() !== undefined;
  }

  /** Lines written so far. */
  get written(): number {
    return this.#written;
  }

  /** Lines dropped so far (queue full, or a failed write). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Lines waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Opens the target and starts logging finished sessions; true when it is on. Without write permission
   * (or when the file cannot be opened) it logs one error line and stays off: false.
   */
  async open(): Promise<boolean> {
    if (this.#closed) throw new TypeError(`Cannot open the access log ${this.target}: it is closed`);
    if (this.#off) return this.active;
    const done = this.#tail.then(() => this.#openTarget());
    this.#tail = done.then(() => {});
    if (!await done) return false;
    this.#off = this.#sessions.on((ev) => this.#onSession(ev));
    return true;
  }

  /**
   * Closes the file and opens its path again (after logrotate renamed it: SIGUSR1). Lines queued meanwhile
   * go to the new file. Nothing to do for `-`, before open() or once closed. A failure is logged; lines
   * then wait (bounded) for the next reopen().
   */
  reopen(): Promise<void> {
    if (this.target === ACCESS_LOG_STDOUT || !this.#off || this.#closed) return this.flush();
    this.#tail = this.#tail.then(async () => {
      this.#closeFile();
      if (await this.#openTarget()) await this.#writeQueued();
    });
    return this.#tail;
  }

  /** Resolves once the lines queued so far have been written (or dropped). */
  async flush(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.#tail;
      await tail;
    } while (tail !== this.#tail);
  }

  /** Stops listening, writes what is queued and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#off?.();
      this.#tail = this.#tail.then(async () => {
        await this.#writeQueued();
        this.#closeFile();
      });
    }
    await this.flush();
  }

  #onSession(ev: SessionEvent): void {
    if (ev.type !== SessionEventType.Close || this.#closed) return;
    const line = formatAccessLine(ev.session);
    if (line === undefined) return;
    if (this.#queue.length >= this.maxQueuedLines) {
      this.#drop(1, `the write queue is full (limit ${this.maxQueuedLines} lines)`);
      return;
    }
    this.#queue.push(`${line}\n`);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#tail = this.#tail.then(() => this.#writeQueued());
  }

  /** The writer now: stdout for `-`, else the open file (undefined while it is not open). */
  #writer(): AccessLogWriter | undefined {
    if (this.target === ACCESS_LOG_STDOUT) return this.#stdout ?? Deno.stdout;
    return this.#file;
  }

  /** Opens the file for appending (nothing to open for `-`); false, with one error line, when it cannot. */
  async #openTarget(): Promise<boolean> {
    if (this.target === ACCESS_LOG_STDOUT) return true;
    const path = this.target;
    const flag = `--allow-write=${path}`;
    if (Deno.permissions.querySync({ name: "write", path }).state !== "granted") {
      this.#log.error(`cannot open the access log ${path}: needs ${flag} (the access log is off)`);
      return false;
    }
    try {
      this.#file = await Deno.open(path, { append: true, create: true });
      return true;
    } catch (e) {
      const why = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
        ? `needs ${flag}`
        : e instanceof Error
        ? e.message
        : String(e);
      this.#log.error(`cannot open the access log ${path}: ${why} (the access log is off)`);
      return false;
    }
  }

  #closeFile(): void {
    const file = this.#file;
    this.#file = undefined;
    try {
      file?.close();
    } catch {
      // already closed
    }
  }

  /** Writes every queued line, a batch per write, while there is somewhere to write. */
  async #writeQueued(): Promise<void> {
    this.#flushScheduled = false;
    while (this.#queue.length > 0) {
      const writer = this.#writer();
      if (!writer) return; // the file could not be reopened: the lines wait for the next reopen()
      const batch = this.#queue.splice(0);
      try {
        await writeAll(writer, this.#encoder.encode(batch.join("")));
        this.#written += batch.length;
      } catch (e) {
        this.#drop(batch.length, `a write failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Counts dropped lines; warns at most once per DROP_WARN_EVERY_MS, with the count since the last warning. */
  #drop(lines: number, why: string): void {
    this.#dropped += lines;
    this.#droppedSinceWarn += lines;
    const now = Date.now();
    if (now - this.#lastWarnAt < DROP_WARN_EVERY_MS) return;
    const n = this.#droppedSinceWarn;
    this.#log.warn(`dropped ${n} access log ${n === 1 ? "line" : "lines"}: ${why}`);
    this.#lastWarnAt = now;
    this.#droppedSinceWarn = 0;
  }
}

/** Writes all of `bytes`, however many calls it takes. */
async function writeAll(writer: AccessLogWriter, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    const n = await writer.write(bytes.subarray(off));
    if (!(n > 0)) throw new Error(`Cannot write the access log: current write took ${n} bytes`);
    off += n;
  }
}
