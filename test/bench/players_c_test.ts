/**
 * The C players (bench/players.c, built by bench/players_c.ts) as the bench uses them: against an in-process
 * Sluice fed by ffmpeg over RTMP and HTTP-FLV (go, mark, mark, stop; the JSON has the Deno players'
 * fields), and against scripted servers that check the opening bytes are the Deno players' and send chunk
 * streams and FLV bodies with every header form, split into small writes, whose counts are known. Skipped
 * without a C compiler (and without ffmpeg for the Sluice runs).
 */
import { buildCPlayers, cPlayers, playersCommand } from "../../bench/players_c.ts";
import { freePort } from "../../bench/proc.ts";
import { cmd } from "../../bench/rtmp_open.ts";
import { type PlayerResult, Tally } from "../../bench/tally.ts";
import { encodeCommand } from "../../src/rtmp/command.ts";
import { abort, setChunkSize } from "../../src/rtmp/control.ts";
import { ServerHandshake } from "../../src/rtmp/handshake.ts";
import { MessageType } from "../../src/rtmp/message.ts";
import { concatBytes } from "../../src/bytes.ts";
import { encodeMessage } from "../../src/wasm/chunk_writer.ts";
import { assert, assertEquals, assertGreater, assertGreaterOrEqual, assertLess } from "../_util/assert.ts";
import {
  haveTools,
  makeSource,
  publish,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";

const CC = haveTools("cc");
const FFMPEG = haveTools("ffmpeg");

/** What one run of the C players printed, and its results' JSON when there was one. */
interface Finished {
  code: number;
  lines: string[];
  stderr: string;
  result?: { probe: PlayerResult; players: PlayerResult[]; joinMs: number; windowBytes: number };
}

/** How long a run waits for a line it expects, ms. */
const LINE_WAIT_MS = 15_000;

/** The C players for `url`: `say` writes a stdin line, `line` waits for a stdout line, `end` closes stdin. */
async function startPlayers(
  url: string,
  n: number,
  seconds: number,
  env: Record<string, string> = { JOIN_PHASE_MS: "-1" }, // scripted servers send no keyframe to wait for
) {
  const built = await cPlayers();
  if (!built.ok) throw new Error(`Cannot build the C players: ${built.why}`);
  const child = new Deno.Command(built.path, {
    args: [url, String(n), String(seconds)],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let changed: () => void = () => {};
  const reading = (async () => {
    let text = "";
    for await (const piece of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += piece;
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n")) {
        lines.push(text.slice(0, i));
        text = text.slice(i + 1);
      }
      changed();
    }
    if (text) lines.push(text);
    changed();
  })();
  const stderr = new Response(child.stderr).text();
  const w = child.stdin.getWriter();
  let ended = false;
  const end = async (): Promise<Finished> => {
    if (!ended) await w.close().catch(() => {});
    ended = true;
    const timer = setTimeout(() => child.kill("SIGKILL"), LINE_WAIT_MS);
    const { code } = await child.status;
    clearTimeout(timer);
    await reading;
    const json = lines.find((l) => l.startsWith("{"));
    return { code, lines, stderr: await stderr, result: json ? JSON.parse(json) : undefined };
  };
  return {
    say: (line: string) => w.write(new TextEncoder().encode(`${line}\n`)),
    /** Resolves with the first stdout line starting with `prefix`; throws after LINE_WAIT_MS or at exit. */
    async line(prefix: string): Promise<string> {
      const deadline = Date.now() + LINE_WAIT_MS;
      for (;;) {
        const found = lines.find((l) => l.startsWith(prefix));
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no "${prefix}" line within ${LINE_WAIT_MS} ms: ${lines}`);
        await Promise.race([
          new Promise<void>((res) => changed = res),
          new Promise((res) => setTimeout(res, 50)),
          reading,
        ]);
      }
    },
    end,
  };
}

/** The field names of a Deno player's PlayerResult (tally.ts), sorted. */
const RESULT_FIELDS = Object.keys(new Tally(true).r).sort();

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

// ---- against Sluice, as the bench runs them

const FPS = 25;
const WINDOW_MS = 3000;

/** go, mark, mark, stop against a Sluice that ffmpeg publishes `live/c` to; returns the results. */
async function benchRun(server: TestServer, dir: string, url: string): Promise<Finished> {
  const src = await makeSource(`${dir}/src.flv`, { seconds: 14, size: "320x180", fps: FPS });
  const players = await startPlayers(url, 5, 30, { JOIN_PHASE_MS: "300" }); // the bench's way: after a keyframe
  await players.line("probe ready");
  const publisher = publish(src, server.url("c"));
  try {
    await waitForPublisher(server, "c");
    await sleep(2500); // a GOP is cached: joiners start at a keyframe
    await players.say("go");
    await players.line("playing");
    await sleep(500);
    await players.say("mark");
    await sleep(WINDOW_MS);
    await players.say("mark");
    await players.say("stop");
    return await players.end();
  } finally {
    await players.end();
    await publisher.stop();
  }
}

/** What a bench user reads from a run: every player played from a keyframe at the source's rate, close to the edge. */
function checkBenchRun(run: Finished): void {
  assertEquals(run.code, 0, run.stderr);
  assert(run.result, `no results line: ${run.lines.join("\n")}`);
  const { probe, players, windowBytes } = run.result;
  assertEquals(probe.error, undefined);
  assertEquals(players.length, 5);
  for (const r of [probe, ...players]) assertEquals(Object.keys(r).sort(), RESULT_FIELDS);
  for (const r of players) {
    assertEquals(r.error, undefined);
    assertGreaterOrEqual(r.firstFrameMs, 0);
    assertGreaterOrEqual(r.firstTs, 0);
    assertGreaterOrEqual(r.lastTs, r.firstTs);
    // Every picture from the first keyframe to the last one seen: 25 fps, 40 ms apart.
    const expected = (r.lastTs - r.firstTs) / (1000 / FPS) + 1;
    assertLess(Math.abs(r.videoFrames - expected), 2, `videoFrames ${r.videoFrames}, expected ${expected}`);
    assertGreaterOrEqual(r.videoFrames, (FPS * WINDOW_MS) / 1000);
    assertGreater(r.frames, r.videoFrames); // audio too
    assertGreaterOrEqual(r.lagMs, 0);
    assertLess(r.lagMs, 500);
  }
  // They joined together 300 ms after a keyframe the probe saw: all start at that keyframe, the GOP cache's.
  assertEquals(
    new Set(players.map((r) => r.firstTs)).size,
    1,
    `first keyframes ${players.map((r) => r.firstTs)}`,
  );
  // About 1 Mbit/s to each of 5 players over the 3 s window: far more than 100 kbit/s each.
  assertGreater(windowBytes, (5 * 100_000 * WINDOW_MS) / 1000 / 8);
  assertLess(windowBytes, probe.bytes * 5);
}

Deno.test({
  name: "players.c over RTMP against Sluice: every player plays from a keyframe at 25 fps, close to the edge",
  ignore: !CC || !FFMPEG,
  fn: () => withServer(async (server, dir) => checkBenchRun(await benchRun(server, dir, server.url("c")))),
});

Deno.test({
  name:
    "players.c over HTTP-FLV against Sluice: every player plays from a keyframe at 25 fps, close to the edge",
  ignore: !CC || !FFMPEG,
  fn: () =>
    withServer(async (server, dir) =>
      checkBenchRun(await benchRun(server, dir, `http://127.0.0.1:${server.sluice.httpPort}/live/c.flv`))
    ),
});

Deno.test({
  name: "players.c over HTTP-FLV of a path Sluice does not serve: every result says HTTP status 404",
  ignore: !CC,
  fn: () =>
    withServer(async (server) => {
      const players = await startPlayers(`http://127.0.0.1:${server.sluice.httpPort}/live/c.txt`, 2, 10);
      await players.line("probe ready");
      await players.say("go");
      await players.line("playing");
      await players.say("stop");
      const run = await players.end();
      assertEquals(run.code, 0, run.stderr);
      for (const r of [run.result!.probe, ...run.result!.players]) assertEquals(r.error, "HTTP status 404");
    }),
});

// ---- failures before the players start

Deno.test({
  name: "players.c with nothing listening prints 'probe failed' with the reason and exits 1",
  ignore: !CC,
  fn: async () => {
    const port = freePort();
    for (const url of [`rtmp://127.0.0.1:${port}/live/x`, `http://127.0.0.1:${port}/live/x.flv`]) {
      const run = await (await startPlayers(url, 1, 5)).end();
      assertEquals(run.code, 1);
      assertEquals(run.lines, [`probe failed: Cannot connect to 127.0.0.1:${port}: Connection refused`]);
    }
  },
});

Deno.test({
  name: "players.c refuses a JOIN_PHASE_MS that is not -1 or 0..10000 with exit 2",
  ignore: !CC,
  fn: async () => {
    for (const phase of ["x", "-5", "20000"]) {
      const run = await (await startPlayers("rtmp://127.0.0.1:1/live/x", 1, 5, { JOIN_PHASE_MS: phase }))
        .end();
      assertEquals(run.code, 2);
      assert(run.stderr.startsWith(`Cannot use JOIN_PHASE_MS=${phase}: `), run.stderr);
    }
  },
});

Deno.test({
  name: "players.c with a URL it does not play exits 2 saying what it plays",
  ignore: !CC,
  fn: async () => {
    for (
      const url of ["ws://127.0.0.1:1/live/x.flv", "rtmp://127.0.0.1:1/live", "rtmp://127.0.0.1:99999/a/b"]
    ) {
      const run = await (await startPlayers(url, 1, 5)).end();
      assertEquals(run.code, 2);
      assert(run.stderr.startsWith(`Cannot play ${url}: `), run.stderr);
    }
  },
});

// ---- scripted servers: the opening, and the parsers

/**
 * Writes `bytes` in pieces of 1 to 13 bytes with a pause after each few, so the reader gets them split. A
 * client that fails and closes stops it quietly: the test then reads that client's error.
 */
async function writeSplit(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  try {
    for (let off = 0, k = 0; off < bytes.length; k++) {
      const n = Math.min(1 + (k % 13), bytes.length - off);
      await conn.write(bytes.subarray(off, off + n));
      off += n;
      if (k % 4 === 3) await sleep(1);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset)) throw e;
  }
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/** Reads from `conn` until `n` bytes are in (bytes beyond are kept). */
async function readAtLeast(conn: Deno.Conn, have: Uint8Array, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(8192);
  while (have.length < n) {
    const k = await conn.read(buf);
    if (k === null) throw new Error(`the client closed after ${have.length} of ${n} bytes`);
    have = concat(have, buf.subarray(0, k));
  }
  return have;
}

/** A payload of `len` bytes that starts with `head`. */
function body(head: number[], len: number): Uint8Array {
  const b = new Uint8Array(len);
  b.set(head);
  return b;
}

/** FLV video tag first bytes (FLV spec E.4.3.1, E.4.3.2; Enhanced RTMP ExVideoTagHeader). */
const AVC_SEQUENCE_HEADER = [0x17, 0x00];
const AVC_KEYFRAME = [0x17, 0x01];
const AVC_INTER = [0x27, 0x01];
/** IsExHeader, FrameType 1 (key), PacketType 1 (CodedFrames) / 0 (SequenceStart). */
const EX_KEYFRAME = [0x80 | 0x10 | 0x01];
const EX_SEQUENCE_START = [0x80 | 0x10 | 0x00];
/** AAC raw (SoundFormat 10, AACPacketType 1). */
const AAC_RAW = [0xaf, 0x01];

/** One message's chunks with `chunkSize`, cut into its first chunk and the type 3 chunks after it. */
function chunksOf(
  bytes: Uint8Array,
  headerLen: number,
  chunkSize: number,
  basicLen = 1,
  ext = 0,
): Uint8Array[] {
  const out = [bytes.subarray(0, headerLen + Math.min(chunkSize, bytes.length - headerLen))];
  for (let off = out[0].length; off < bytes.length;) {
    const n = Math.min(basicLen + ext + chunkSize, bytes.length - off);
    out.push(bytes.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** The server's media after the opening, and what the probe must count of it. */
function rtmpScript(): { bytes: Uint8Array; expect: Partial<PlayerResult> } {
  const CS = 60; // the server's chunk size: most messages span chunks
  const v = (csid: number, timestamp: number, payload: Uint8Array) => ({
    csid,
    typeId: MessageType.Video,
    streamId: 1,
    timestamp,
    payload,
  });
  const a = (timestamp: number, payload: Uint8Array) => ({
    csid: 4,
    typeId: MessageType.Audio,
    streamId: 1,
    timestamp,
    payload,
  });
  const parts: Uint8Array[] = [encodeMessage(setChunkSize(CS), 128, "full")];
  // Data (onMetaData) is skipped; the sequence header and the audio before the keyframe count as frames.
  parts.push(
    encodeMessage({ csid: 5, typeId: 18, streamId: 1, timestamp: 0, payload: body([2, 0, 1], 70) }, CS),
  );
  parts.push(encodeMessage(v(6, 0, body(AVC_SEQUENCE_HEADER, 40)), CS));
  // A video keyframe (3 chunks) and an audio message (2 chunks) interleaved chunk by chunk.
  const key = chunksOf(encodeMessage(v(6, 0, body(AVC_KEYFRAME, 150)), CS, "delta", 0), 1 + 7, CS);
  const aac = chunksOf(encodeMessage(a(0, body(AAC_RAW, 100)), CS), 1 + 11, CS);
  parts.push(key[0], aac[0], key[1], aac[1], key[2]);
  // Type 1 (delta 40), type 2 (delta 40, same length), type 3 starting a message (delta 40 again).
  parts.push(encodeMessage(v(6, 40, body(AVC_INTER, 50)), CS, "delta", 0));
  parts.push(new Uint8Array([0x80 | 6, 0, 0, 40]), body(AVC_INTER, 50));
  parts.push(new Uint8Array([0xc0 | 6]), body(AVC_INTER, 50));
  // A 2-byte and a 3-byte chunk stream id; an aborted message on chunk stream 8 is not counted.
  parts.push(encodeMessage(v(70, 160, body(AVC_INTER, 70)), CS));
  parts.push(encodeMessage(v(400, 200, body(AVC_INTER, 130)), CS));
  const aborted = chunksOf(encodeMessage(v(8, 210, body(AVC_INTER, 100)), CS), 1 + 11, CS);
  parts.push(aborted[0], encodeMessage(abort(8), CS), encodeMessage(v(8, 240, body(AVC_INTER, 20)), CS));
  // Enhanced RTMP: a sequence start (not a picture) and a keyframe.
  parts.push(encodeMessage(v(6, 280, body(EX_SEQUENCE_START, 30)), CS));
  parts.push(encodeMessage(v(6, 280, body(EX_KEYFRAME, 30)), CS));
  // An extended timestamp (type 0, then type 3 chunks that repeat it), then a Set Chunk Size mid-stream.
  parts.push(encodeMessage(v(9, 0x1000000, body(AVC_INTER, 130)), CS));
  parts.push(
    encodeMessage(setChunkSize(4096), CS),
    encodeMessage(v(9, 0x1000028, body(AVC_INTER, 3000)), 4096),
  );
  // An empty video message (a picture of 0 bytes, as classify() says); a type 1 then a type 3 that starts a
  // message, whose timestamp is the type 1's plus its delta again: 280 + 20 + 20.
  parts.push(encodeMessage(v(10, 290, new Uint8Array(0)), 4096));
  parts.push(encodeMessage(v(6, 300, body(AVC_INTER, 25)), 4096, "delta", 280));
  parts.push(new Uint8Array([0xc0 | 6]), body(AVC_INTER, 25));
  const bytes = concat(...parts);
  const video = [40, 150, 50, 50, 50, 70, 130, 20, 30, 30, 130, 3000, 0, 25, 25];
  const audio = [100];
  return {
    bytes,
    expect: {
      frames: video.length + audio.length,
      // the sequence header and the sequence start are not pictures
      videoFrames: video.length - 2,
      bytes: [...video, ...audio].reduce((s, n) => s + n, 0),
      firstTs: 0,
      lastTs: 320,
    },
  };
}

/**
 * A scripted RTMP server on port 0 for one client: it checks the opening after C2 is the Deno players'
 * (Set Chunk Size 4096, connect, createStream, play), then sends `media` split into small writes (`sent`
 * settles then) and holds the connection until the client closes it (`served`).
 */
function rtmpServer(media: Uint8Array) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const tcUrl = `rtmp://127.0.0.1:${port}/live`;
  const opening = concat(
    encodeMessage(setChunkSize(4096), 128, "full"),
    cmd(0, encodeCommand("connect", 1, { app: "live", tcUrl, flashVer: "LNX 9,0,124,2" })),
    cmd(0, encodeCommand("createStream", 2, null)),
    cmd(1, encodeCommand("play", 0, null, "x", -1000)),
  );
  let sentAll: () => void = () => {};
  const sent = new Promise<void>((res) => sentAll = res);
  const served = (async () => {
    const conn = await listener.accept();
    try {
      const hs = new ServerHandshake();
      let rest: Uint8Array = new Uint8Array(0);
      const buf = new Uint8Array(8192);
      while (!hs.done) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("the client closed in the handshake");
        const step = hs.feed(buf.subarray(0, n));
        for (const o of step.output) await conn.write(o);
        if (step.rest) rest = step.rest;
      }
      const got = await readAtLeast(conn, rest, opening.length);
      assertEquals(got, opening);
      await writeSplit(conn, media);
      sentAll();
      while (await conn.read(buf).catch(() => null) !== null);
    } finally {
      sentAll();
      conn.close();
      listener.close();
    }
  })();
  served.catch(() => {}); // awaited by the test, after its own checks
  return { url: `${tcUrl}/x`, sent, served };
}

/** The probe alone (N = 0) against a scripted server: ready, then its result once the server has sent it all. */
async function probeOnly(url: string, sent: Promise<void>): Promise<PlayerResult> {
  const players = await startPlayers(url, 0, 20);
  await players.line("probe ready");
  await players.say("go");
  await players.line("playing");
  await sent;
  await sleep(300); // the last bytes are read
  await players.say("stop");
  const run = await players.end();
  assertEquals(run.code, 0, run.stderr);
  return run.result!.probe;
}

Deno.test({
  name: "players.c opens as rtmp_open.ts does and counts every message of chunk headers of each form, split",
  ignore: !CC,
  fn: async () => {
    const { bytes, expect } = rtmpScript();
    const server = rtmpServer(bytes);
    const r = await probeOnly(server.url, server.sent);
    const { frames, videoFrames, bytes: got, firstTs, lastTs } = r;
    assertEquals({ frames, videoFrames, bytes: got, firstTs, lastTs, error: r.error }, {
      ...expect,
      error: undefined,
    });
    await server.served;
  },
});

Deno.test({
  name:
    "players.c fails a player whose chunk header declares a message over 8 MiB, naming the length and the limit",
  ignore: !CC,
  fn: async () => {
    // A type 0 header on chunk stream 6: timestamp 0, length 8 MiB + 1, video, stream 1.
    const header = new Uint8Array([6, 0, 0, 0, 0x80, 0x00, 0x01, 9, 1, 0, 0, 0]);
    const server = rtmpServer(header);
    const r = await probeOnly(server.url, server.sent);
    assertEquals(r.error, "Cannot accept a message of 8388609 bytes on chunk stream 6: limit 8388608");
    await server.served;
  },
});

Deno.test({
  name: "players.c fails a player on a chunk stream that breaks the chunk rules, saying which rule",
  ignore: !CC,
  fn: async () => {
    const cases: [string, Uint8Array, string][] = [
      [
        "a type 1 header first on its chunk stream",
        new Uint8Array([0x40 | 6, 0, 0, 0, 0, 0, 1, 9, 0x17]),
        "Cannot parse a type 1 chunk header on chunk stream 6: no previous header on it",
      ],
      [
        "Set Chunk Size 0",
        encodeMessage({ csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: new Uint8Array(4) }, 128),
        "Cannot set chunk size to 0 on chunk stream 2: allowed 1..16777215",
      ],
    ];
    for (const [what, media, error] of cases) {
      const server = rtmpServer(media);
      const r = await probeOnly(server.url, server.sent);
      assertEquals(r.error, error, what);
      await server.served;
    }
  },
});

/** An FLV tag (E.4.1) with its PreviousTagSize after it; the timestamp's top byte goes in TimestampExtended. */
function flvTag(type: number, ts: number, data: Uint8Array): Uint8Array {
  const t = new Uint8Array(11 + data.length + 4);
  const view = new DataView(t.buffer);
  t[0] = type;
  t[1] = data.length >> 16;
  t[2] = data.length >> 8;
  t[3] = data.length;
  t[4] = (ts >> 16) & 0xff;
  t[5] = (ts >> 8) & 0xff;
  t[6] = ts & 0xff;
  t[7] = (ts >>> 24) & 0xff;
  t.set(data, 11);
  view.setUint32(11 + data.length, 11 + data.length);
  return t;
}

/** An FLV body: a header with DataOffset `offset` (E.2), PreviousTagSize0, tags; and what it counts. */
function flvScript(offset: number): { bytes: Uint8Array; expect: Partial<PlayerResult> } {
  const header = new Uint8Array(offset + 4);
  header.set([0x46, 0x4c, 0x56, 1, 0x05, 0, 0, 0, offset]);
  const bytes = concat(
    header,
    flvTag(18, 0, body([2, 0, 10], 60)),
    flvTag(9, 0, body(AVC_SEQUENCE_HEADER, 40)),
    flvTag(9, 0, body(AVC_INTER, 50)), // before the first keyframe: not a picture
    flvTag(8, 0, body(AAC_RAW, 20)),
    flvTag(9, 40, body(AVC_KEYFRAME, 300)),
    flvTag(9, 80, new Uint8Array(0)), // an empty video tag: a picture, 0 bytes
    flvTag(9, 0x1000010, body(AVC_INTER, 70)),
  );
  return {
    bytes,
    expect: { frames: 6, videoFrames: 3, bytes: 40 + 50 + 20 + 300 + 70, firstTs: 40, lastTs: 0x1000010 },
  };
}

/**
 * A scripted HTTP server for one GET: checks it is the Deno players' request, answers `head` then
 * `bodyBytes` split into small writes (`sent`), then closes, or with `hold` waits for the client to (`served`).
 */
function httpServer(head: string, bodyBytes: Uint8Array, hold: boolean) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const request = `GET /live/x.flv HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: sluice-bench\r\n\r\n`;
  let sentAll: () => void = () => {};
  const sent = new Promise<void>((res) => sentAll = res);
  const served = (async () => {
    const conn = await listener.accept();
    try {
      const got = await readAtLeast(conn, new Uint8Array(0), request.length);
      assertEquals(new TextDecoder().decode(got), request);
      await writeSplit(conn, concat(new TextEncoder().encode(head), bodyBytes));
      sentAll();
      const buf = new Uint8Array(1024);
      while (hold && await conn.read(buf).catch(() => null) !== null);
    } finally {
      sentAll();
      conn.close();
      listener.close();
    }
  })();
  served.catch(() => {}); // awaited by the test, after its own checks
  return { url: `http://127.0.0.1:${port}/live/x.flv`, sent, served };
}

/** `bytes` in HTTP chunks (RFC 9112 7.1) of the given sizes in turn, with an extension on some, then the last chunk. */
function chunked(bytes: Uint8Array, sizes: number[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (let off = 0, k = 0; off < bytes.length; k++) {
    const n = Math.min(sizes[k % sizes.length], bytes.length - off);
    parts.push(enc.encode(`${n.toString(16)}${k % 3 === 1 ? ";x=1" : ""}\r\n`), bytes.subarray(off, off + n));
    parts.push(enc.encode("\r\n"));
    off += n;
  }
  parts.push(enc.encode("0\r\n\r\n"));
  return concat(...parts);
}

Deno.test({
  name: "players.c reads a chunked HTTP-FLV response split anywhere, counts its tags and fails when it ends",
  ignore: !CC,
  fn: async () => {
    const { bytes, expect } = flvScript(9);
    const head = "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\ntransfer-encoding:  Chunked \r\n\r\n";
    const server = httpServer(head, chunked(bytes, [1, 7, 100, 3, 250]), true);
    const r = await probeOnly(server.url, server.sent);
    const { frames, videoFrames, bytes: got, firstTs, lastTs } = r;
    assertEquals({ frames, videoFrames, bytes: got, firstTs, lastTs, error: r.error }, {
      ...expect,
      error: "the response ended",
    });
    await server.served;
  },
});

Deno.test({
  name: "players.c reads a plain HTTP-FLV body with a longer FLV header and fails when the server closes",
  ignore: !CC,
  fn: async () => {
    const { bytes, expect } = flvScript(12);
    const server = httpServer("HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\n\r\n", bytes, false);
    const r = await probeOnly(server.url, server.sent);
    const { frames, videoFrames, bytes: got, firstTs, lastTs } = r;
    assertEquals({ frames, videoFrames, bytes: got, firstTs, lastTs, error: r.error }, {
      ...expect,
      error: "server closed the connection",
    });
    await server.served;
  },
});

Deno.test({
  name: "players.c fails a player on an FLV body FlvReader refuses, with FlvReader's reason",
  ignore: !CC,
  fn: async () => {
    const good = flvScript(9).bytes;
    const broken = (at: number, value: number) => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    const cases: [string, Uint8Array, string][] = [
      [
        "a signature that is not FLV",
        broken(0, 0x47),
        'Cannot read FLV header: signature is 47 4c 56, expected 46 4c 56 ("FLV")',
      ],
      [
        "PreviousTagSize0 not 0",
        broken(12, 1),
        "Cannot read FLV stream at byte 9: PreviousTagSize is 1, expected 0",
      ],
      [
        "an encrypted tag (Filter 1)",
        broken(13, 0x20 | 18),
        "Cannot read FLV tag at byte 13: Filter is 1 (encrypted), not supported",
      ],
    ];
    for (const [what, bytes, error] of cases) {
      const server = httpServer("HTTP/1.1 200 OK\r\n\r\n", bytes, true);
      const r = await probeOnly(server.url, server.sent);
      assertEquals(r.error, error, what);
      await server.served;
    }
  },
});

// ---- the build and the choice of players

Deno.test({
  name: "buildCPlayers() builds bench/players.c without a warning, once per source",
  ignore: !CC,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_players_c_" });
    try {
      const first = await buildCPlayers("cc", `${dir}/`);
      assert(first.ok, first.ok ? "" : first.why);
      assertEquals(first.warnings, "");
      const again = await buildCPlayers("cc", `${dir}/`);
      assertEquals(again, { ok: true, path: first.path, warnings: "" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("buildCPlayers() without a C compiler says the C players are unavailable and why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_players_c_" });
  try {
    const r = await buildCPlayers("sluice-no-such-cc", `${dir}/`);
    assertEquals(r, { ok: false, why: "no C compiler: sluice-no-such-cc is not on the PATH" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "playersCommand() runs the C players for rtmp:// and http://, the Deno ones for ws://, rtsp:// and when asked",
  ignore: !CC,
  fn: async () => {
    const kind = async (url: string, deno = false) => (await playersCommand(url, 3, 9, deno)).kind;
    assertEquals(await kind("rtmp://127.0.0.1:1/live/bench"), "C");
    assertEquals(await kind("http://127.0.0.1:1/live/bench.flv"), "C");
    assertEquals(await kind("ws://127.0.0.1:1/live/bench.flv"), "Deno");
    assertEquals(await kind("rtsp://127.0.0.1:1/live/bench"), "Deno");
    assertEquals(await kind("rtmp://127.0.0.1:1/live/bench", true), "Deno");
    const c = await playersCommand("rtmp://127.0.0.1:1/live/bench", 3, 9);
    assert(c.cmd.endsWith(" rtmp://127.0.0.1:1/live/bench 3 9"), c.cmd);
    assert(
      (await playersCommand("ws://h:1/a/b.flv", 3, 9)).cmd.includes("bench/players.ts ws://h:1/a/b.flv 3 9"),
    );
  },
});
