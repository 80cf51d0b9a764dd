/**
 * Helpers for the hostile-input suite (`test/hostile/`): each case runs one
 * attack on an in-process Sluice and is then followed by the same check, that
 * the server is alive (`/health` answers), its standing publisher still
 * publishes, a normal player still plays (HTTP-FLV and RTMP, each reading
 * live frames), and its memory is back near where it was before the attack.
 *
 * Memory: `settledMemory()` forces a full garbage collection (V8's `gc`, made
 * reachable through `node:v8` / `node:vm`, so no flag is needed) and then asks
 * glibc to hand freed heap pages back (`malloc_trim(0)` over FFI, Linux only),
 * and reads `Deno.memoryUsage().rss`. Without the trim, RSS after a burst of
 * allocation stays at a plateau of pages glibc keeps for reuse, which says
 * nothing about what the server still holds; the untrimmed figure is logged
 * beside it (and where there is no trim, the slack is wider). The process
 * holds the attacker as well as the server, so every figure counts both.
 *
 * Timeouts here only keep a broken test from hanging; nothing asserts on time.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { startServer, type TestServer } from "./media.ts";
import { headerLenOf, sleep, stampOf, SyntheticStream } from "./live.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";
import { classify, FrameKind } from "../../src/media/frame.ts";
import { FlvReader, type FlvTag, TagType } from "../../src/media/flv.ts";
import { type OutgoingFrame, type Publisher, RtmpClient } from "../../src/rtmp/client/client.ts";
import { flvFileHeader, packTag } from "../../src/wasm/flv_pack.ts";
import { WsOpcode } from "../../src/http/ws_socket.ts";

export const MiB = 1024 * 1024;
/** How far above its baseline a settled RSS may be after an attack. */
export const RSS_SLACK_BYTES = 64 * MiB;
/** The slack where freed pages cannot be handed back (no glibc, no FFI): the allocator's plateau counts. */
export const UNTRIMMED_RSS_SLACK_BYTES = 320 * MiB;
/** How long one step of a check may take before the test fails instead of hanging. */
export const STEP_TIMEOUT_MS = 10_000;
/** Video frames a normal player reads, at least one of them sent after it started. */
const PLAYER_VIDEO_FRAMES = 8;

// ---------------------------------------------------------------------------------------------
// Memory and file descriptors

/** What the process holds, as `settledMemory()` measures it. */
export interface MemorySample {
  /** RSS after a full GC and malloc_trim (when available), bytes. */
  rss: number;
  /** RSS after the GC, before the trim, bytes. */
  untrimmedRss: number;
  /** Whether malloc_trim ran (else `rss` is `untrimmedRss`, pages glibc keeps included). */
  trimmed: boolean;
  /** V8 heap used plus external memory (array buffers), bytes. */
  heap: number;
}

let gcFunction: (() => void) | null | undefined;

/** V8's gc(), reached without --expose-gc; null where that is refused. */
async function gcOf(): Promise<(() => void) | null> {
  if (gcFunction !== undefined) return gcFunction;
  try {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    gcFunction = typeof gc === "function" ? gc as () => void : null;
  } catch {
    gcFunction = null;
  }
  return gcFunction;
}

/** glibc's malloc_trim(0), once per call; false where there is no glibc or no FFI permission. */
function mallocTrim(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const libc = Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } });
    try {
      libc.symbols.malloc_trim(0n);
    } finally {
      libc.close();
    }
    return true;
  } catch {
    return false;
  }
}

/** A full garbage collection, where V8's gc() can be reached; false (after a short wait) where not. */
export async function collectGarbage(): Promise<boolean> {
  const gc = await gcOf();
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(gc ? 50 : 300);
  }
  return gc !== null;
}

/** The process's memory once garbage is collected and freed pages are returned (see the module doc). */
export async function settledMemory(): Promise<MemorySample> {
  await collectGarbage();
  const before = Deno.memoryUsage();
  const trimmed = mallocTrim();
  const after = Deno.memoryUsage();
  return { rss: after.rss, untrimmedRss: before.rss, trimmed, heap: after.heapUsed + after.external };
}

/** `n` bytes in MiB, for a log line. */
export function mib(n: number): string {
  return `${(n / MiB).toFixed(1)} MiB`;
}

/**
 * Logs `label`'s memory next to `baseline` and fails when its RSS is past the slack (`RSS_SLACK_BYTES`,
 * or `UNTRIMMED_RSS_SLACK_BYTES` where freed pages could not be handed back).
 */
export async function assertMemoryNear(baseline: MemorySample, label: string): Promise<MemorySample> {
  const now = await settledMemory();
  const slack = now.trimmed ? RSS_SLACK_BYTES : UNTRIMMED_RSS_SLACK_BYTES;
  console.log(
    `${label}: RSS ${mib(now.rss)} (baseline ${mib(baseline.rss)}; ` +
      `${now.trimmed ? `before trim ${mib(now.untrimmedRss)}` : "no malloc_trim here"}), ` +
      `heap+external ${mib(now.heap)} (baseline ${mib(baseline.heap)})`,
  );
  assert(
    now.rss <= baseline.rss + slack,
    `${label}: RSS ${mib(now.rss)} is more than ${mib(slack)} above its baseline ${mib(baseline.rss)}`,
  );
  return now;
}

/** Open file descriptors of this process (Linux /proc), or undefined where that cannot be read. */
export function openFds(): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return undefined;
  }
}

/** Resolves with `promise`, or rejects after `ms` with "Cannot see WHAT" (a failure bound, not a measure). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Cannot see ${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// FLV bytes (FLV spec v10.1 E.2 header, E.4.1 tags)

/** The FLV header with audio and video flags and PreviousTagSize0. */
export function flvHeader(): Uint8Array {
  return flvFileHeader({ audio: true, video: true });
}

/** One frame of a SyntheticStream as an FLV tag with its PreviousTagSize. */
export function flvTagOf(frame: OutgoingFrame): Uint8Array {
  const type = frame.kind === FrameKind.Video ? TagType.Video : TagType.Audio;
  return packTag(type, frame.timestamp >>> 0, frame.payload);
}

// ---------------------------------------------------------------------------------------------
// The standing publisher and a normal player

/** The synthetic stream a normal publisher sends: a keyframe a second, small frames. */
function normalStream(marker: number): SyntheticStream {
  return new SyntheticStream({ marker, gopFrames: 25, keyBytes: 8_000, interBytes: 1_500, audioBytes: 200 });
}

/** Sluice's RtmpClient publishing `live/{name}` in real time, paced by the wall clock. */
export class NormalPublisher {
  readonly name: string;
  readonly #publisher: Publisher<RtmpClient>;
  readonly #stream: SyntheticStream;
  #running = true;
  #pumping: Promise<void> = Promise.resolve();

  private constructor(name: string, publisher: Publisher<RtmpClient>, stream: SyntheticStream) {
    this.name = name;
    this.#publisher = publisher;
    this.#stream = stream;
  }

  static async start(server: TestServer, name: string, marker = 0x4e): Promise<NormalPublisher> {
    const client = await RtmpClient.connect(server.url(name));
    const publisher = await client.publish();
    const stream = normalStream(marker);
    const p = new NormalPublisher(name, publisher, stream);
    await publisher.sendFrames(stream.headers());
    const t0 = Date.now();
    p.#pumping = (async () => {
      while (p.#running && !client.closed) {
        const due: OutgoingFrame[] = [];
        while (stream.elapsedMs <= Date.now() - t0) due.push(...stream.next());
        if (due.length > 0) await publisher.sendFrames(due).catch(() => {});
        await sleep(10);
      }
    })();
    return p;
  }

  /** Video frames sent so far. */
  get videoFrames(): number {
    return this.#stream.videoFrames;
  }

  /** The marker in every payload of this stream. */
  get marker(): number {
    return this.#stream.opts.marker;
  }

  /** Whether its connection is still up. */
  get live(): boolean {
    return !this.#publisher.client.closed;
  }

  get closeReason(): string {
    return this.#publisher.client.closeReason;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#pumping;
    await this.#publisher.close();
  }
}

/** What a normal player saw: video frames read, and the highest video sequence number among them. */
export interface PlayResult {
  videoFrames: number;
  lastSeq: number;
}

function httpBase(server: TestServer): string {
  return `http://127.0.0.1:${server.sluice.httpPort}`;
}

/**
 * Plays `live/{pub.name}` over HTTP-FLV (fetch): reads until it has PLAYER_VIDEO_FRAMES video frames, the
 * first one (after the sequence header) a keyframe of the publisher's stream, and one sent after it started.
 */
export async function playHttpFlv(server: TestServer, pub: NormalPublisher): Promise<PlayResult> {
  const startSeq = pub.videoFrames;
  const res = await fetch(`${httpBase(server)}/live/${pub.name}.flv`);
  assertEquals(res.status, 200, `the HTTP-FLV player of live/${pub.name} was refused`);
  const reader = res.body!.getReader();
  const flv = new FlvReader();
  const seen = new VideoCheck(pub, startSeq, "HTTP-FLV");
  try {
    await within(
      (async () => {
        while (!seen.enough) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`Cannot play live/${pub.name} over HTTP-FLV: the body ended`);
          for (const tag of flv.push(value)) seen.tag(tag);
        }
      })(),
      STEP_TIMEOUT_MS,
      `${PLAYER_VIDEO_FRAMES} live video frames over HTTP-FLV`,
    );
  } finally {
    await reader.cancel().catch(() => {});
  }
  return seen.result;
}

/** Plays `live/{pub.name}` over RTMP with Sluice's client, with the same demands as `playHttpFlv`. */
export async function playRtmp(server: TestServer, pub: NormalPublisher): Promise<PlayResult> {
  const startSeq = pub.videoFrames;
  const client = await RtmpClient.connect(server.url(pub.name));
  try {
    const player = await client.play();
    const seen = new VideoCheck(pub, startSeq, "RTMP");
    while (!seen.enough) {
      const ev = await player.read(STEP_TIMEOUT_MS);
      if (ev === undefined) throw new Error(`Cannot play live/${pub.name} over RTMP: ${client.closeReason}`);
      if (ev.type === "media" && ev.kind === FrameKind.Video) {
        seen.video(ev.payload, ev.keyframe, ev.sequenceHeader);
      }
    }
    return seen.result;
  } finally {
    await client.close();
  }
}

/** Checks the video a player reads: the publisher's marker, a keyframe first, in order, live. */
class VideoCheck {
  #frames = 0;
  #lastSeq = 0;
  readonly #pub: NormalPublisher;
  readonly #startSeq: number;
  readonly #what: string;

  constructor(pub: NormalPublisher, startSeq: number, what: string) {
    this.#pub = pub;
    this.#startSeq = startSeq;
    this.#what = what;
  }

  tag(tag: FlvTag): void {
    if (tag.type !== TagType.Video) return;
    const { keyframe, sequenceHeader } = classify(FrameKind.Video, tag.data);
    this.video(tag.data, keyframe, sequenceHeader);
  }

  video(payload: Uint8Array, keyframe: boolean, sequenceHeader: boolean): void {
    if (sequenceHeader) return;
    const { marker, seq } = stampOf(payload, headerLenOf(FrameKind.Video));
    assertEquals(marker, this.#pub.marker, `${this.#what}: a video frame of another stream`);
    if (this.#frames === 0) assert(keyframe, `${this.#what}: the first video frame is not a keyframe`);
    assert(seq > this.#lastSeq, `${this.#what}: video frame ${seq} after ${this.#lastSeq}`);
    this.#lastSeq = seq;
    this.#frames++;
  }

  get enough(): boolean {
    return this.#frames >= PLAYER_VIDEO_FRAMES && this.#lastSeq > this.#startSeq;
  }

  get result(): PlayResult {
    return { videoFrames: this.#frames, lastSeq: this.#lastSeq };
  }
}

/** `/health` answers 200 with status ok. */
export async function assertHealthy(server: TestServer): Promise<void> {
  const res = await within(fetch(`${httpBase(server)}/health`), STEP_TIMEOUT_MS, "/health answer");
  const body = await res.json() as { status?: string };
  assertEquals([res.status, body.status], [200, "ok"], "/health");
}

/** The check after every case: the server answers, the publisher publishes, both kinds of player play. */
export async function assertStillServes(h: Hostile, label: string): Promise<void> {
  await assertHealthy(h.server);
  assert(h.normal.live, `${label}: the standing publisher was closed: ${h.normal.closeReason}`);
  await playHttpFlv(h.server, h.normal);
  await playRtmp(h.server, h.normal);
}

// ---------------------------------------------------------------------------------------------
// The harness

/** One case's server, its standing publisher and its memory before the attack. */
export interface Hostile {
  server: TestServer;
  normal: NormalPublisher;
  baseline: MemorySample;
  /** `http://127.0.0.1:PORT` + `path`. */
  http(path: string): string;
}

/**
 * A test of one attack: a fresh server with `overrides` and a standing publisher (`live/normal`), a warm-up
 * play, the baseline memory; then `attack`; then `assertStillServes` and `assertMemoryNear` (a failure
 * prints the server's last log lines).
 */
export function hostileTest(
  name: string,
  attack: (h: Hostile) => Promise<void>,
  overrides: ConfigOverrides = {},
): void {
  Deno.test({
    name,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const server = await startServer(overrides);
      let normal: NormalPublisher | undefined;
      try {
        normal = await NormalPublisher.start(server, "normal");
        const h: Hostile = {
          server,
          normal,
          baseline: { rss: 0, untrimmedRss: 0, trimmed: false, heap: 0 },
          http: (path) => `${httpBase(server)}${path}`,
        };
        await assertStillServes(h, `${name} (warm-up)`);
        h.baseline = await settledMemory();
        await attack(h);
        await assertStillServes(h, name);
        await assertMemoryNear(h.baseline, name);
      } catch (e) {
        console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
        throw e;
      } finally {
        await normal?.stop();
        await server.stop();
      }
    },
  });
}

/** Whether some server log line matches `re`. */
export function logged(server: TestServer, re: RegExp): boolean {
  return server.logs.some((l) => re.test(l));
}

// ---------------------------------------------------------------------------------------------
// Raw sockets

/** What a raw HTTP exchange got back. */
export interface RawAnswer {
  /** The status of the first response line, if one came. */
  status: number | undefined;
  /** The bytes read, as text (at most the first 64 KiB). */
  text: string;
}

/**
 * Writes `request` on a new connection to `port` (a write the server cuts off is not an error) and reads
 * until the server closes or resets the connection; fails instead of hanging past `timeoutMs`.
 */
export async function rawHttp(
  port: number,
  request: Uint8Array,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const writing = writeAllQuietly(conn, request);
  try {
    const text = await within(readToEnd(conn), timeoutMs, "the server close the connection");
    const m = text.match(/^HTTP\/1\.[01] (\d{3})/);
    return { status: m ? Number(m[1]) : undefined, text };
  } finally {
    conn.close();
    await writing;
  }
}

/** Writes all of `bytes`; stops quietly when the peer closes or resets. */
export async function writeAllQuietly(conn: Deno.Conn, bytes: Uint8Array): Promise<number> {
  let off = 0;
  try {
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  } catch {
    // the server cut the connection
  }
  return off;
}

/** Reads until end of stream or a reset; the text of the first 64 KiB. */
export async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (text.length < buf.length) text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.ConnectionReset) && !(e instanceof Deno.errors.BadResource)) throw e;
  }
  return text;
}

/** Opens `n` TCP connections to `port`, in batches so the accept queue keeps up. */
export async function openConnections(port: number, n: number): Promise<Deno.TcpConn[]> {
  const out: Deno.TcpConn[] = [];
  const BATCH = 100;
  try {
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from(
        { length: Math.min(BATCH, n - i) },
        () => Deno.connect({ hostname: "127.0.0.1", port }),
      );
      out.push(...await Promise.all(batch));
    }
  } catch (e) {
    for (const c of out) c.close();
    throw e;
  }
  return out;
}

/** Closes every connection that is still open. */
export function closeAll(conns: readonly Deno.Conn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // already closed
    }
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket frames (RFC 6455 5.2)

/** Frame opcodes (RFC 6455 5.2, 11.8): the server's own table. */
export { WsOpcode };

/** RFC 6455 5.7's masking key. */
const WS_MASK = [0x37, 0xfa, 0x21, 0x3d];

/** A client frame: masked (5.3), with a 7-bit, 16-bit or 64-bit length (5.2); FIN set unless `fin` is false. */
export function wsFrame(opcode: WsOpcode, payload: Uint8Array, fin = true): Uint8Array {
  const len = payload.length;
  const lenBytes = len < 126 ? [0x80 | len] : len < 0x10000 ? [0x80 | 126, len >> 8, len & 0xff] : [
    0x80 | 127,
    ...[0, 0, 0, 0],
    (len >>> 24) & 0xff,
    (len >>> 16) & 0xff,
    (len >>> 8) & 0xff,
    len & 0xff,
  ];
  const head = [(fin ? 0x80 : 0) | opcode, ...lenBytes, ...WS_MASK];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  for (let i = 0; i < len; i++) out[head.length + i] = payload[i] ^ WS_MASK[i & 3];
  return out;
}

/** A masked binary frame header that declares `length` bytes (up to 2^63 - 1) and carries none of them. */
export function wsFrameHeader(opcode: WsOpcode, length: bigint): Uint8Array {
  const out = new Uint8Array(2 + 8 + 4);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | 127;
  new DataView(out.buffer).setBigUint64(2, length);
  out.set(WS_MASK, 10);
  return out;
}

/** Counts the server's (unmasked) frames by opcode as bytes arrive; keeps the close frame's code. */
export class WsFrameCounter {
  readonly counts = new Map<number, number>();
  /** The status code of the server's close frame (5.5.1), once one came. */
  closeCode: number | undefined;
  #buf = new Uint8Array(0);

  push(bytes: Uint8Array): void {
    const next = new Uint8Array(this.#buf.length + bytes.length);
    next.set(this.#buf);
    next.set(bytes, this.#buf.length);
    let at = 0;
    while (next.length - at >= 2) {
      const opcode = next[at] & 0x0f;
      let len = next[at + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (next.length - at < 4) break;
        len = (next[at + 2] << 8) | next[at + 3];
        head = 4;
      } else if (len === 127) {
        if (next.length - at < 10) break;
        len = Number(new DataView(next.buffer, at + 2, 8).getBigUint64(0));
        head = 10;
      }
      if (next.length - at < head + len) break;
      this.counts.set(opcode, (this.counts.get(opcode) ?? 0) + 1);
      if (opcode === WsOpcode.Close && len >= 2) {
        this.closeCode = (next[at + head] << 8) | next[at + head + 1];
      }
      at += head + len;
    }
    this.#buf = next.slice(at);
  }

  count(opcode: WsOpcode): number {
    return this.counts.get(opcode) ?? 0;
  }
}

/** A raw socket after a WebSocket upgrade: the response's status and the bytes after its head. */
export interface RawWebSocket {
  conn: Deno.TcpConn;
  status: number;
  rest: Uint8Array;
}

/** Asks `path` on `port` to upgrade (RFC 6455 4.1) over a raw socket and reads the response head. */
export async function rawWebSocket(port: number, path: string): Promise<RawWebSocket> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await writeAllQuietly(conn, new TextEncoder().encode(request));
    let got = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    let end = -1;
    while (end < 0) {
      const n = await within(conn.read(buf), STEP_TIMEOUT_MS, `the answer to the upgrade of ${path}`);
      if (n === null) throw new Error(`Cannot upgrade ${path}: the server closed the connection`);
      const next = new Uint8Array(got.length + n);
      next.set(got);
      next.set(buf.subarray(0, n), got.length);
      got = next;
      end = new TextDecoder().decode(got).indexOf("\r\n\r\n");
    }
    const head = new TextDecoder().decode(got.subarray(0, end));
    return { conn, status: Number(head.match(/^HTTP\/1\.1 (\d{3})/)?.[1]), rest: got.slice(end + 4) };
  } catch (e) {
    conn.close();
    throw e;
  }
}
