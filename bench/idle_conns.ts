/**
 * A process of N idle connections for the memory bench (memory.ts): what a
 * server holds for a connection that is open and plays nothing.
 *
 * - rtmp:// URL: an RTMP client does the handshake and `connect`, waits for
 *   the server's answer to it (the first command message back), and sends
 *   nothing more: no createStream, no play.
 * - http:// URL: an HTTP-FLV player sends its GET for a stream that has no
 *   publisher, and waits; the server holds the request open (Sluice for
 *   `hub.playWaitMs`, node-media-server until a publisher comes).
 *
 * Each connection then reads and drops what the server sends (acks, pings),
 * so that a close by the server is seen and counted.
 *
 * Usage: deno run -A bench/idle_conns.ts URL N -> prints "open K of N" once every connection is open (or
 * failed), then on "stop" (or the end of stdin) closes them all and prints one JSON line:
 * `{ open, closedByServer, error }` (the first error, if any).
 *
 * @module
 */
import { MessageType } from "../src/rtmp/message.ts";
import { ChunkReader } from "../src/wasm/chunk_reader.ts";
import { rtmpOpen } from "./rtmp_open.ts";

/** Connections opened at once: the next batch starts when this one is open. */
const BATCH = 50;
/** How long one connection may take to open (the RTMP `connect` answered), ms. */
const OPEN_MS = 10_000;
/** The reads after the opening are dropped into a buffer this big. */
const DRAIN_BYTES = 4096;

/** An open idle connection; `closed` resolves once it is closed, by the server or here. */
interface Idle {
  conn: Deno.Conn;
  closed: Promise<void>;
}

/** Connections the server closed before "stop". */
let closedByServer = 0;
/** Set at "stop": closes from then on are ours. */
let stopping = false;

/** Reads and drops until `conn` is closed; counts it in closedByServer when that was not at "stop". */
async function drain(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(DRAIN_BYTES);
  try {
    while ((await conn.read(buf)) !== null);
  } catch {
    // reset, or closed here
  }
  if (!stopping) closedByServer++;
}

/** An RTMP connection through `connect` and its answer. */
async function openRtmp(host: string, port: number, app: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: host, port });
  try {
    const rest = await rtmpOpen(conn, host, port, app);
    const reader = new ChunkReader();
    const answered = (msgs: ReturnType<ChunkReader["push"]>) =>
      msgs.some((m) => m.typeId === MessageType.CommandAmf0 || m.typeId === MessageType.CommandAmf3);
    if (rest && answered(reader.push(rest))) return conn;
    for (;;) {
      const n = await conn.read(reader.readable());
      if (n === null) throw new Error("the server closed the connection before it answered connect");
      if (answered(reader.commit(n))) return conn;
    }
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** An HTTP-FLV GET of `path`, written; the answer is not waited for (there is none until a publisher). */
async function openHttp(host: string, port: number, path: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: host, port });
  const req = `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: sluice-bench\r\n\r\n`;
  const b = new TextEncoder().encode(req);
  let o = 0;
  while (o < b.length) o += await conn.write(b.subarray(o));
  return conn;
}

/** `p`, or an error after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Cannot open ${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

if (import.meta.main) {
  const [url, nArg] = Deno.args;
  const n = Number(nArg);
  const rtmp = url.startsWith("rtmp:");
  const u = new URL(url.replace(/^rtmp:/, "http:"));
  const host = u.hostname;
  const port = Number(u.port || (rtmp ? 1935 : 80));
  const app = u.pathname.split("/")[1];
  const open: Idle[] = [];
  let error: string | undefined;
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, n - i) }, () =>
      within(
        rtmp ? openRtmp(host, port, app) : openHttp(host, port, u.pathname),
        OPEN_MS,
        `an idle ${rtmp ? "RTMP" : "HTTP"} connection`,
      ));
    for (const r of await Promise.allSettled(batch)) {
      if (r.status === "fulfilled") {
        open.push({ conn: r.value, closed: drain(r.value) });
      } else {
        error ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    }
  }
  console.log(`open ${open.length} of ${n}`);
  // Wait for "stop" or the end of stdin.
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("stop")) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  stopping = true;
  for (const c of open) {
    try {
      c.conn.close();
    } catch {
      // closed
    }
  }
  await Promise.all(open.map((c) => c.closed));
  console.log(JSON.stringify({ open: open.length, closedByServer, error }));
}
