/**
 * Http1Server: Sluice's own HTTP/1.1 server for the plain HTTP port, over
 * `Deno.listen`. It serves the same `Request -> Response` router as
 * Deno.serve does on the HTTPS port, and it can hand a request's connection
 * over to the route (`takeConnection`): HTTP-FLV then writes its shared
 * batches straight to the socket as RTMP does, and WebSocket routes get a
 * socket of Sluice's own (`ws_socket.ts`, through `upgradeWebSocket` in
 * `websocket.ts`).
 *
 * Why not Deno.serve here (issue 13): each write of a streamed Deno.serve body
 * goes through the ReadableStream pump, an op and a channel of 1,024 slots
 * that every streaming response allocates, so at 1,000 HTTP-FLV players each
 * cost ~6.5 us more per write than a TCP write and ~125 KB more memory than an
 * RTMP player.
 *
 * - Requests (RFC 9112): keep-alive (HTTP/1.1 unless `Connection: close`;
 *   HTTP/1.0 with `keep-alive`), one at a time per connection; bodies by
 *   `Content-Length` or `chunked` as a pull-based stream (a publisher's push is
 *   read as fast as the route reads it); a body the route did not read is
 *   drained up to DRAIN_BYTES, else the connection closes after the answer.
 *   Heads are bounded (`http1_head.ts`: 414, 431, 400, 505) and must come within
 *   `headerTimeoutMs` (also the keep-alive idle time): 408 then close.
 * - `Request.signal` aborts when the peer closes the connection while its
 *   request is being answered; a streamed response body is cancelled then.
 * - Responses: a `Content-Length` the route sets is kept (a body that ends
 *   short of it closes the connection after it, which the push routes use to
 *   reset a client whose body they will not read); a body that is whole at once
 *   (a string, bytes) gets one; any other is chunked (close-delimited for
 *   HTTP/1.0). Head and body go out in one write when the body is whole.
 *   `sharedBytesResponse` sends kept bytes (HLS segments, parts, playlists)
 *   without the copy `new Response(bytes)` makes of them per request.
 *
 * @module
 */
import type { Handler } from "./router.ts";
import type { Logger } from "../log.ts";
import { ConnWriter, COPY_BYTES } from "../conn_writer.ts";
import { concatBytes } from "../bytes.ts";
import { after } from "../deadlines.ts";
import {
  fieldTokens,
  headEnd,
  HeadLimits,
  httpDate,
  HttpHeadError,
  parseHead,
  type RequestHead,
  responseHead,
} from "./http1_head.ts";

/** What the server needs besides its address. */
export interface Http1ServerOptions {
  hostname: string;
  port: number;
  handler: Handler;
  log: Logger;
  /** The answer when the handler throws. */
  onError: (e: unknown) => Response;
  /** How long a head may take to come, and a kept-alive connection may sit idle, ms. */
  headerTimeoutMs?: number;
}

/** A head must come within this, ms (nginx's client_header_timeout is 60 s; its keepalive_timeout 75 s). */
export const HEADER_TIMEOUT_MS = 60_000;
/** Read buffer while a head comes, while a request body is read, and while a bodiless request is answered. */
const HEAD_READ_BYTES = 2048;
const BODY_READ_BYTES = 16 * 1024;
/** (The last one only sees the peer leave, or the start of a pipelined request: a player holds it for its life.) */
const WATCH_READ_BYTES = 256;
/** An unread request body up to this is read and dropped to keep the connection; past it, the connection closes. */
const DRAIN_BYTES = 64 * 1024;
/** A body the route sends is gathered into one write with the head while its chunks come at once, up to this. */
const GATHER_BYTES = 256 * 1024;
/** A chunked body's size line is at most this long (hex size and extensions), bytes. */
const CHUNK_LINE_BYTES = 1024;
/** How long shutdown() waits for answers under way before closing their connections, ms. */
const SHUTDOWN_WAIT_MS = 2_000;
const CRLF = new Uint8Array([0x0d, 0x0a]);
const LAST_CHUNK = new Uint8Array([0x30, 0x0d, 0x0a, 0x0d, 0x0a]);
const EMPTY = new Uint8Array(0);
/** The marker of a read that had not settled after a few microtasks. */
const NOT_YET = Symbol("not yet");

/** The connection of each request this server made, for takeConnection(). */
const exchanges = new WeakMap<Request, Http1Connection>();

/**
 * A connection taken over by a route: it writes what it likes (its own response head first), reads what
 * the peer sends through `onData`, and hears of the peer leaving through `onEnd`. The route answers the
 * request with `response`, which tells the server the connection is the route's now.
 */
export class RawConnection {
  /** Return this from the handler. */
  readonly response: Response;
  readonly remoteAddr: Deno.Addr;
  /** Bytes the peer sends after the head (a WebSocket's frames). */
  onData: ((bytes: Uint8Array) => void) | undefined;
  /** The peer closed the connection, or reading failed. */
  onEnd: ((error?: Error) => void) | undefined;
  /** Runs when the server has the response: what to write before onData starts (a 101 answer). */
  onTaken: (() => void | Promise<void>) | undefined;
  /** The read size once taken, bytes (small for a player, which sends nothing). */
  readonly readBytes: number;
  #writer: ConnWriter;
  #conn: Deno.Conn;
  #closed = false;

  constructor(conn: Deno.Conn, writer: ConnWriter, readBytes: number) {
    this.#conn = conn;
    this.#writer = writer;
    this.readBytes = readBytes;
    this.remoteAddr = conn.remoteAddr;
    this.response = new Response(null, { status: 200 });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes `bytes` after what was written before; resolves when the socket took them. */
  write(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  /** Closes the connection once what was written has gone out. */
  end(): void {
    this.#writer.write(EMPTY).then(() => this.close(), () => this.close());
  }

  /** Closes the connection now. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** Bodies that go out as they are, by response (sharedBytesResponse): Deno's Response would copy them. */
const sharedBodies = new WeakMap<Response, Uint8Array>();

/**
 * A response of `body` that the own server sends without the copy `new Response(bytes)` makes: for
 * bytes kept and sent many times (an HLS segment to every viewer), which the caller must not change
 * afterwards. A request from Deno.serve (HTTPS) gets an ordinary response.
 */
export function sharedBytesResponse(req: Request, body: Uint8Array | null, init: ResponseInit): Response {
  if (body === null || !exchanges.has(req)) return new Response(body as BodyInit | null, init);
  const res = new Response(null, init);
  sharedBodies.set(res, body);
  return res;
}

/**
 * The connection of `req`, taken from the server, when `req` came through an Http1Server and nothing took
 * it yet; undefined otherwise (Deno.serve's requests: the caller keeps its usual path).
 */
export function takeConnection(req: Request, readBytes = 256): RawConnection | undefined {
  const c = exchanges.get(req);
  return c?.take(req, readBytes);
}

export class Http1Server {
  readonly addr: Deno.NetAddr;
  #listener: Deno.Listener;
  #opts: Http1ServerOptions;
  #conns = new Set<Http1Connection>();
  #runs = new Set<Promise<void>>();
  #closing = false;
  #accepting: Promise<void>;

  /** Binds `hostname:port` (throws as Deno.listen does: AddrInUse, PermissionDenied) and serves. */
  constructor(opts: Http1ServerOptions) {
    this.#opts = opts;
    this.#listener = Deno.listen({ hostname: opts.hostname, port: opts.port, transport: "tcp" });
    this.addr = this.#listener.addr as Deno.NetAddr;
    this.#accepting = this.#accept();
  }

  /** Open connections. */
  get connections(): number {
    return this.#conns.size;
  }

  async #accept(): Promise<void> {
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) return;
        this.#opts.log.warn(`accept failed: ${e instanceof Error ? e.message : e}`);
        await new Promise((r) => setTimeout(r, 10)); // out of descriptors: let some close
        continue;
      }
      const c = new Http1Connection(conn, this.#opts);
      this.#conns.add(c);
      const run = c.run().finally(() => {
        this.#conns.delete(c);
        this.#runs.delete(run);
      });
      this.#runs.add(run);
    }
  }

  /**
   * Stops accepting, closes idle connections, lets answers under way finish (up to SHUTDOWN_WAIT_MS) and
   * then closes what is left, taken connections included.
   */
  async shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      try {
        this.#listener.close();
      } catch {
        // already closed
      }
    }
    await this.#accepting;
    for (const c of this.#conns) c.shutdown();
    await within(Promise.all(this.#runs), SHUTDOWN_WAIT_MS);
    for (const c of this.#conns) c.close();
    // A route that never answers (it ignored the signal) must not hold the shutdown.
    await within(Promise.all(this.#runs), SHUTDOWN_WAIT_MS);
  }
}

/** How a request's body comes. */
type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

class Http1Connection {
  #conn: Deno.Conn;
  #opts: Http1ServerOptions;
  #writer: ConnWriter;
  /** Bytes read and not yet consumed. */
  #pending: Uint8Array = EMPTY;
  #readBuf: Uint8Array;
  /** Kept across a kept-alive connection's requests (a player's taken connection lets the head's go). */
  #headBuf: Uint8Array | undefined = new Uint8Array(HEAD_READ_BYTES);
  #watchBuf: Uint8Array | undefined;
  #reading: Promise<boolean> | undefined;
  #eof = false;
  #closed = false;
  /** shutdown(): no more requests on this connection. */
  #closing = false;
  /** Waiting for a head: shutdown() may close at once. */
  #idle = true;
  /** The request being answered: its signal, its streamed response's reader. */
  #abort: AbortController | undefined;
  #responseReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #current: Request | undefined;
  /** The route is answering (the watcher reads meanwhile). */
  #answering = false;
  #taken: RawConnection | undefined;

  constructor(conn: Deno.Conn, opts: Http1ServerOptions) {
    this.#conn = conn;
    this.#opts = opts;
    this.#writer = new ConnWriter(conn);
    this.#readBuf = this.#headBuf!;
  }

  /** Serves requests until the connection ends (or is taken, then until the taker's end). */
  async run(): Promise<void> {
    try {
      while (!this.#closing && !this.#closed) {
        const head = await this.#nextHead();
        if (head === undefined) break;
        const again = await this.#exchange(head);
        if (this.#taken) {
          await this.#serveTaken(this.#taken);
          return;
        }
        if (!again) break;
      }
    } catch (e) {
      this.#opts.log.debug(`connection ${addressText(this.#conn.remoteAddr)} closed: ${errorText(e)}`);
    } finally {
      if (!this.#taken) {
        await this.#writer.write(EMPTY).catch(() => {});
        this.close();
      }
    }
  }

  shutdown(): void {
    this.#closing = true;
    if (this.#idle) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#taken?.close();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  take(req: Request, readBytes: number): RawConnection | undefined {
    if (req !== this.#current || this.#taken) return undefined;
    return this.#taken = new RawConnection(this.#conn, this.#writer, readBytes);
  }

  // ---- reading

  /** Reads once more into #pending; false at the end of the connection. One read at a time. */
  #read(): Promise<boolean> {
    return this.#reading ??= this.#readOnce().finally(() => this.#reading = undefined);
  }

  async #readOnce(): Promise<boolean> {
    if (this.#eof) return false;
    const buf = this.#readBuf;
    let n: number | null;
    try {
      n = await this.#conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      this.#abort?.abort(new Error("the peer closed the connection"));
      this.#responseReader?.cancel("the peer closed the connection").catch(() => {});
      return false;
    }
    const got = buf.slice(0, n);
    this.#pending = this.#pending.length === 0 ? got : concatBytes([this.#pending, got]);
    return true;
  }

  /** Takes `n` pending bytes. */
  #consume(n: number): Uint8Array {
    const out = this.#pending.subarray(0, n);
    this.#pending = n >= this.#pending.length ? EMPTY : this.#pending.subarray(n);
    return out;
  }

  /** The next head, or undefined when the connection ends first (a bad or late head is answered here). */
  async #nextHead(): Promise<RequestHead | undefined> {
    this.#idle = true;
    this.#readBuf = this.#headBuf ??= new Uint8Array(HEAD_READ_BYTES);
    let timedOut = false;
    // One deadline queue per duration for every connection, not a timer each (src/deadlines.ts).
    const deadline = after(this.#opts.headerTimeoutMs ?? HEADER_TIMEOUT_MS, () => {
      timedOut = true;
      this.#respondError(408, "Cannot read the request: its head did not come in time").finally(() =>
        this.close()
      );
    });
    try {
      for (;;) {
        const end = headEnd(this.#pending);
        if (end > HeadLimits.headBytes) {
          throw new HttpHeadError(
            431,
            `Cannot read the request: its head is over ${HeadLimits.headBytes} bytes`,
          );
        }
        if (end >= 0) {
          this.#idle = false;
          return parseHead(this.#consume(end));
        }
        if (this.#pending.length > HeadLimits.requestLineBytes && this.#pending.indexOf(0x0a) < 0) {
          throw new HttpHeadError(
            414,
            `Cannot read the request: its line is over ${HeadLimits.requestLineBytes} bytes`,
          );
        }
        if (this.#pending.length > HeadLimits.headBytes) {
          throw new HttpHeadError(
            431,
            `Cannot read the request: its head is over ${HeadLimits.headBytes} bytes`,
          );
        }
        if (this.#closing || !await this.#read() || timedOut) return undefined;
      }
    } catch (e) {
      if (!(e instanceof HttpHeadError)) throw e;
      this.#idle = false;
      await this.#respondError(e.status, e.message);
      return undefined;
    } finally {
      deadline.cancel();
    }
  }

  /** Answers one request; whether the connection may carry another. */
  async #exchange(head: RequestHead): Promise<boolean> {
    let framing: BodyFraming;
    let url: string;
    try {
      framing = bodyFraming(head);
      url = requestUrl(head, this.#conn.localAddr);
    } catch (e) {
      if (!(e instanceof HttpHeadError)) throw e;
      await this.#respondError(e.status, e.message);
      return false;
    }
    const connection = fieldTokens(head, "connection");
    let keepAlive = head.version === "1.1"
      ? !connection.includes("close")
      : connection.includes("keep-alive");
    const bodyless = head.method === "GET" || head.method === "HEAD";
    const body = new RequestBody(this, framing);
    const abort = new AbortController();
    let req: Request;
    try {
      req = new Request(url, {
        method: head.method,
        headers: head.fields,
        body: bodyless || framing.kind === "none" ? null : body.stream(),
        signal: abort.signal,
      });
    } catch (e) {
      await this.#respondError(400, `Cannot read the request: ${errorText(e)}`);
      return false;
    }
    this.#abort = abort;
    this.#current = req;
    exchanges.set(req, this);
    if (framing.kind === "length" && framing.length > 0 || framing.kind === "chunked") {
      if (head.fields.some(([k, v]) => k === "expect" && v.toLowerCase() === "100-continue") && !bodyless) {
        await this.#writer.write(responseHead(100, []));
      }
    }
    const reads = !bodyless && framing.kind !== "none";
    this.#readBuf = reads
      ? new Uint8Array(BODY_READ_BYTES)
      : (this.#watchBuf ??= new Uint8Array(WATCH_READ_BYTES));
    // While the route answers and nothing reads the body, a read stays open so the peer leaving is seen.
    this.#answering = true;
    if (framing.kind === "none") void this.#watch();
    let res: Response;
    try {
      res = await this.#opts.handler(req, { remoteAddr: this.#conn.remoteAddr } as Deno.ServeHandlerInfo);
    } catch (e) {
      res = this.#opts.onError(e);
    }
    this.#answering = false;
    if (this.#taken && res === this.#taken.response) {
      this.#current = undefined; // the route keeps what it needs of the request
      this.#headBuf = undefined;
      return false;
    }
    this.#taken = undefined; // taken but not answered with it: the server answers
    // A body the route left unread: drained after the answer when it is sized and small, else the
    // connection closes (announced, so no client sends another request on it).
    if (!body.done && (framing.kind === "chunked" || body.left > DRAIN_BYTES)) keepAlive = false;
    const written = await this.#respond(res, head, keepAlive && !this.#closing);
    keepAlive &&= written && !this.#closing && !this.#eof;
    if (keepAlive && framing.kind !== "none") keepAlive = await body.drain(DRAIN_BYTES);
    this.#abort = undefined;
    this.#current = undefined;
    return keepAlive;
  }

  /** Reads while a request is answered, so that the peer's leaving aborts it; pipelined bytes are kept. */
  async #watch(): Promise<void> {
    while (this.#answering && !this.#eof && this.#pending.length < HeadLimits.headBytes) {
      await this.#read();
    }
  }

  /** Feeds a taken connection what the peer sends, until its end. */
  async #serveTaken(raw: RawConnection): Promise<void> {
    this.#abort = undefined;
    try {
      await raw.onTaken?.();
    } catch (e) {
      raw.close();
      raw.onEnd?.(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    // Wait for a read the watcher left open (its bytes land in #pending), then read in the taker's size.
    this.#readBuf = new Uint8Array(raw.readBytes);
    await this.#reading;
    while (!raw.closed) {
      if (this.#pending.length > 0) raw.onData?.(this.#consume(this.#pending.length));
      if (!await this.#read()) break;
    }
    raw.close();
    this.#closed = true;
    raw.onEnd?.();
  }

  // ---- writing

  /** Answers `status` with a one-line JSON reason and closes after it. */
  async #respondError(status: number, message: string): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify({ error: message }) + "\n");
    const head = responseHead(status, [
      ["content-type", "application/json; charset=utf-8"],
      ["content-length", String(body.length)],
      ["connection", "close"],
      ["date", httpDate()],
    ]);
    await this.#writer.write(concatBytes([head, body])).catch(() => {});
  }

  /** Writes `res`; whether it went out whole and framed (so the connection can carry another request). */
  async #respond(res: Response, head: RequestHead, keepAlive: boolean): Promise<boolean> {
    const status = res.status;
    const fields: [string, string][] = [];
    let declared: number | undefined;
    for (const [k, v] of res.headers) {
      if (k === "content-length") declared = Number(v);
      else if (k !== "set-cookie" && k !== "transfer-encoding" && k !== "connection" && k !== "keep-alive") {
        fields.push([k, v]);
      }
    }
    for (const c of res.headers.getSetCookie()) fields.push(["set-cookie", c]);
    if (!res.headers.has("date")) fields.push(["date", httpDate()]);
    const isHead = head.method === "HEAD";
    const noBody = status < 200 || status === 204 || status === 304;
    // Gather the body while it comes at once (a string, bytes, a stream that was filled at its start).
    const parts: Uint8Array[] = [];
    let size = 0;
    let whole = res.body === null;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let next: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    const shared = sharedBodies.get(res);
    if (shared !== undefined && !noBody) {
      parts.push(shared);
      size = shared.length;
      whole = true;
    } else if (res.body !== null && noBody) {
      await res.body.cancel().catch(() => {});
      whole = true;
    } else if (res.body !== null) {
      reader = res.body.getReader();
      while (size <= GATHER_BYTES) {
        next = reader.read();
        const r = await soon(next);
        if (r === NOT_YET) break;
        next = undefined;
        if (r.done) {
          whole = true;
          break;
        }
        parts.push(r.value);
        size += r.value.length;
        if (declared !== undefined && size >= declared) break;
      }
    }
    if (isHead || noBody) {
      if (declared !== undefined) fields.push(["content-length", String(declared)]);
      else if (!noBody && whole && size > 0) fields.push(["content-length", String(size)]);
      if (!keepAlive) fields.push(["connection", "close"]);
      else if (head.version === "1.0") fields.push(["connection", "keep-alive"]);
      if (next) void next.catch(() => {});
      await reader?.cancel().catch(() => {});
      await this.#writer.write(responseHead(status, fields));
      return true;
    }
    let mode: "length" | "chunked" | "close";
    if (declared !== undefined) mode = "length";
    else if (whole) {
      mode = "length";
      declared = size;
    } else if (head.version === "1.1") mode = "chunked";
    else {
      mode = "close";
      keepAlive = false;
    }
    if (mode === "length") fields.push(["content-length", String(declared)]);
    if (mode === "chunked") fields.push(["transfer-encoding", "chunked"]);
    if (!keepAlive) fields.push(["connection", "close"]);
    else if (head.version === "1.0") fields.push(["connection", "keep-alive"]);
    let left = declared ?? Infinity;
    const frame = (bytes: Uint8Array): Uint8Array[] => {
      if (mode === "chunked") return bytes.length === 0 ? [] : [chunkLine(bytes.length), bytes, CRLF];
      if (bytes.length > left) bytes = bytes.subarray(0, left);
      left -= bytes.length;
      return [bytes];
    };
    const first: Uint8Array[] = [responseHead(status, fields)];
    for (const p of parts) first.push(...frame(p));
    if (whole && mode === "chunked") first.push(LAST_CHUNK);
    if (size <= COPY_BYTES) await this.#writer.write(first.length === 1 ? first[0] : concatBytes(first));
    else {
      // A large body (an HLS segment) is not copied behind its head: the head, then each piece as it is.
      const writes = first.map((bytes) => this.#writer.write(bytes));
      await Promise.all(writes);
    }
    if (whole || !reader) return left === 0 || mode !== "length" ? keepAlive : false;
    // The rest of a streamed body, one write per chunk, each after the last went out (the route's backpressure).
    this.#responseReader = reader;
    try {
      for (;;) {
        if (mode === "length" && left === 0) {
          if (next) void next.catch(() => {});
          await reader.cancel().catch(() => {});
          return keepAlive;
        }
        const r = await (next ?? reader.read());
        next = undefined;
        if (r.done) break;
        const framed = frame(r.value);
        if (framed.length > 0) {
          await this.#writer.write(framed.length === 1 ? framed[0] : concatBytes(framed));
        }
      }
    } catch (e) {
      await reader.cancel(errorText(e)).catch(() => {});
      return false;
    } finally {
      this.#responseReader = undefined;
    }
    if (this.#eof) return false;
    if (mode === "chunked") await this.#writer.write(LAST_CHUNK);
    // A body that ended short of its Content-Length: the connection closes after it.
    return mode === "length" ? left === 0 && keepAlive : mode === "chunked" && keepAlive;
  }

  // ---- request bodies (RequestBody reads through these)

  /** At least one pending byte, reading as needed; false at the end of the connection. */
  async fill(): Promise<boolean> {
    while (this.#pending.length === 0) {
      if (!await this.#read()) return false;
    }
    return true;
  }

  /** Up to `max` pending bytes (fill() first). */
  takeBytes(max: number): Uint8Array {
    return this.#consume(Math.min(max, this.#pending.length));
  }

  /** A line of the chunked framing (without its CRLF), reading as needed; undefined at the end; throws past `max`. */
  async line(max: number): Promise<string | undefined> {
    for (;;) {
      const lf = this.#pending.indexOf(0x0a);
      if (lf >= 0) {
        const bytes = this.#consume(lf + 1);
        let end = lf;
        if (end > 0 && bytes[end - 1] === 0x0d) end--;
        return String.fromCharCode(...bytes.subarray(0, end));
      }
      if (this.#pending.length > max) throw new Error(`Cannot read a chunk's size line: over ${max} bytes`);
      if (!await this.#read()) return undefined;
    }
  }
}

/**
 * A request body as the route reads it: a pull-based stream over the connection's bytes, by length or
 * chunked (RFC 9112 7.1), and what is left of it drained after the answer.
 */
class RequestBody {
  #conn: Http1Connection;
  #framing: BodyFraming;
  /** Bytes left of the body (length), or of the current chunk (chunked). */
  #left: number;
  #done: boolean;
  #failed = false;

  constructor(conn: Http1Connection, framing: BodyFraming) {
    this.#conn = conn;
    this.#framing = framing;
    this.#left = framing.kind === "length" ? framing.length : 0;
    this.#done = framing.kind === "none" || framing.kind === "length" && framing.length === 0;
  }

  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (c) => {
        try {
          const bytes = await this.#next();
          if (bytes === undefined) c.close();
          else c.enqueue(bytes);
        } catch (e) {
          this.#failed = true;
          c.error(e);
        }
      },
    }, { highWaterMark: 0 });
  }

  /** Whether the body was read to its end. */
  get done(): boolean {
    return this.#done;
  }

  /** Bytes known to be left unread: of a sized body, or of the current chunk. */
  get left(): number {
    return this.#done ? 0 : this.#left;
  }

  /** Reads what is left, up to `max` bytes; whether the body ended within it (the connection is reusable). */
  async drain(max: number): Promise<boolean> {
    if (this.#failed) return false;
    let seen = 0;
    try {
      while (!this.#done) {
        const bytes = await this.#next();
        if (bytes === undefined) break;
        seen += bytes.length;
        if (seen > max) return false;
      }
    } catch {
      return false;
    }
    return this.#done;
  }

  /** The next piece of the body; undefined at its end. */
  async #next(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    if (this.#framing.kind === "chunked" && this.#left === 0) {
      const size = await this.#chunkSize();
      if (size === 0) {
        await this.#trailers();
        this.#done = true;
        return undefined;
      }
      this.#left = size;
    }
    if (!await this.#conn.fill()) {
      throw new Error("Cannot read the request body: the peer closed the connection before its end");
    }
    const bytes = this.#conn.takeBytes(this.#left);
    this.#left -= bytes.length;
    if (this.#left === 0) {
      if (this.#framing.kind === "length") this.#done = true;
      else await this.#chunkEnd();
    }
    return bytes;
  }

  async #chunkSize(): Promise<number> {
    const line = await this.#conn.line(CHUNK_LINE_BYTES);
    if (line === undefined) {
      throw new Error("Cannot read the request body: the peer closed the connection in it");
    }
    const hex = line.split(";")[0].trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) {
      throw new Error(`Cannot read a chunk's size: current ${JSON.stringify(hex.slice(0, 20))}`);
    }
    return parseInt(hex, 16);
  }

  /** The CRLF after a chunk's data. */
  async #chunkEnd(): Promise<void> {
    const line = await this.#conn.line(CHUNK_LINE_BYTES);
    if (line !== "") throw new Error("Cannot read the request body: a chunk does not end with CRLF");
  }

  async #trailers(): Promise<void> {
    let total = 0;
    for (;;) {
      const line = await this.#conn.line(CHUNK_LINE_BYTES);
      if (line === undefined || line === "") return;
      total += line.length;
      if (total > HeadLimits.headBytes) throw new Error("Cannot read the request's trailers: too long");
    }
  }
}

/** How the request's body comes (RFC 9112 6.3); throws HttpHeadError for what cannot be framed safely. */
function bodyFraming(head: RequestHead): BodyFraming {
  const te = fieldTokens(head, "transfer-encoding");
  const lengths = head.fields.filter(([k]) => k === "content-length").flatMap(([, v]) => v.split(","))
    .map((v) => v.trim());
  if (te.length > 0) {
    if (lengths.length > 0) {
      throw new HttpHeadError(
        400,
        "Cannot read the request: it has both Transfer-Encoding and Content-Length",
      );
    }
    if (te.length !== 1 || te[0] !== "chunked") {
      throw new HttpHeadError(501, `Cannot read the request body: transfer coding ${te.join(", ")}`);
    }
    return { kind: "chunked" };
  }
  if (lengths.length === 0) return { kind: "none" };
  if (!lengths.every((v) => /^\d{1,15}$/.test(v) && v === lengths[0])) {
    throw new HttpHeadError(400, `Cannot read the request: Content-Length ${lengths.join(", ")}`);
  }
  return { kind: "length", length: Number(lengths[0]) };
}

/** The request's URL: its target on the Host it names (else the local address). */
function requestUrl(head: RequestHead, local: Deno.Addr): string {
  const t = head.target;
  if (/^https?:\/\//i.test(t)) return t;
  const hosts = head.fields.filter(([k]) => k === "host");
  if (hosts.length > 1) throw new HttpHeadError(400, "Cannot read the request: more than one Host");
  const host = hosts[0]?.[1] || addressText(local);
  if (!/^[A-Za-z0-9.\-_~%!$&'()*+,;=:\[\]]+$/.test(host)) {
    throw new HttpHeadError(400, `Cannot read the request: Host ${JSON.stringify(host.slice(0, 80))}`);
  }
  if (t === "*") return `http://${host}/*`;
  if (t[0] !== "/") {
    throw new HttpHeadError(400, `Cannot read the request target: current ${JSON.stringify(t.slice(0, 80))}`);
  }
  return `http://${host}${t}`;
}

/** Waits for `p`, at most `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise<void>((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
}

function chunkLine(n: number): Uint8Array {
  const s = n.toString(16) + "\r\n";
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** `p`'s value if it settles within a few microtasks, else NOT_YET (p goes on; the caller keeps it). */
function soon<T>(p: Promise<T>): Promise<T | typeof NOT_YET> {
  let later: Promise<typeof NOT_YET> = Promise.resolve(NOT_YET);
  for (let i = 0; i < 4; i++) later = later.then((x) => x);
  return Promise.race([p, later]);
}

function addressText(a: Deno.Addr): string {
  return a.transport === "tcp" || a.transport === "udp"
    ? (a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`)
    : a.transport;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
