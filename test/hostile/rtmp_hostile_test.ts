/**
 * Hostile RTMP clients against an in-process Sluice (issue 10 item 3), each
 * case followed by the check of `test/_util/hostile.ts` (alive, the standing
 * publisher publishes, a normal HTTP-FLV and RTMP player play live frames, the
 * settled RSS back near its baseline).
 *
 * - raw byte attacks, one connection each, every one closed by the server
 *   with a logged reason: garbage instead of a handshake, a handshake that
 *   stalls, a message past `rtmp.maxMessageLength`, a Set Chunk Size of 0,
 *   messages on more chunk streams than the reader keeps, publish before
 *   connect, a connect and then nothing (the command-order cases themselves
 *   are `test/rtmp/server/session_test.ts`'s; here they are followed by the
 *   check);
 * - a connect flood from one address, RTMP and HTTP-FLV players at once,
 *   with `limits.maxConnectionsPerAddress`: no more are admitted than the
 *   limit, the others are refused with the reason;
 * - a flood of connections that handshake and connect but never publish or
 *   play: past `rtmp.maxConnections` they are refused at accept, and the ones
 *   in are closed at `rtmp.startTimeoutMs`. The per-address limit counts
 *   publishers and players only, so one address can hold every slot until
 *   then (the log line of the case records whether a normal client got in);
 * - a publisher sending media far faster than real time, with a player of it
 *   reading in the same process: the normal player plays meanwhile.
 *
 * @module
 */
import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import {
  hostileTest,
  logged,
  MiB,
  playHttpFlv,
  playRtmp,
  STEP_TIMEOUT_MS,
  within,
  writeAllQuietly,
} from "../_util/hostile.ts";
import { SyntheticStream, waitFor } from "../_util/live.ts";
import { seededRandom } from "../_util/mutate.ts";
import { readToClose, writeAll } from "../_util/raw_rtmp.ts";
import type { TestServer } from "../_util/media.ts";
import { concatBytes } from "../../src/bytes.ts";
import { Role } from "../../src/hub/session_kind.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";
import { commandMessage, CommandName, encodeCommand } from "../../src/rtmp/command.ts";
import { ClientHandshake } from "../../src/rtmp/handshake.ts";
import { MessageType } from "../../src/rtmp/message.ts";
import { encodeMessage } from "../../src/wasm/chunk_writer.ts";
import { abi } from "../../src/wasm/module.ts";

/** Short timers so the cases that wait for one end quickly. */
const TIMERS = { handshakeTimeoutMs: 1000, startTimeoutMs: 1000 };

/** The initial chunk size (RTMP 5.4.1), which a client that sent no Set Chunk Size writes in. */
const CHUNK = 128;

function connectBytes(): Uint8Array {
  return encodeMessage(
    commandMessage(0, encodeCommand(CommandName.Connect, 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live" })),
    CHUNK,
  );
}

/** A type 0 chunk header (RTMP 5.3.1.2.1) on chunk stream 3 declaring `length` bytes of `typeId`, then `body`. */
function rawChunk(typeId: number, length: number, body: Uint8Array): Uint8Array {
  const head = Uint8Array.of(0x03, 0, 0, 0, length >>> 16, length >>> 8, length, typeId, 0, 0, 0, 0);
  return concatBytes([head, body]);
}

function setChunkSize(size: number): Uint8Array {
  return encodeMessage({
    csid: 2,
    typeId: MessageType.SetChunkSize,
    streamId: 0,
    timestamp: 0,
    payload: Uint8Array.of(size >>> 24, size >>> 16, size >>> 8, size),
  }, CHUNK);
}

/** One small data message on each of `n` chunk streams from 100 on. */
function manyChunkStreams(n: number): Uint8Array {
  return concatBytes(
    Array.from({ length: n }, (_, i) =>
      encodeMessage({
        csid: 100 + i,
        typeId: MessageType.DataAmf0,
        streamId: 0,
        timestamp: 0,
        payload: Uint8Array.of(5),
      }, CHUNK)),
  );
}

interface RawCase {
  name: string;
  /** Whether to complete the handshake before `bytes`. */
  handshake: boolean;
  bytes: () => Uint8Array;
  /** The server's log line for the close. */
  logs: RegExp;
}

const random = seededRandom(0x4a7);
const RAW_CASES: RawCase[] = [
  {
    name: "garbage instead of a handshake",
    handshake: false,
    bytes: () => Uint8Array.from({ length: 4096 }, (_, i) => i === 0 ? 0x42 : Math.floor(random() * 256)),
    logs: /closed: .*protocol error: Cannot handshake: current version 66 in C0/,
  },
  {
    name: "a handshake that stalls after C0 and half of C1",
    handshake: false,
    bytes: () => concatBytes([Uint8Array.of(3), new Uint8Array(768)]),
    logs: /closed: .*handshake timeout after 1000 ms/,
  },
  {
    name: "a message declaring 16 MiB - 1 bytes, past rtmp.maxMessageLength",
    handshake: true,
    bytes: () =>
      concatBytes([connectBytes(), rawChunk(MessageType.DataAmf0, 0xffffff, new Uint8Array(CHUNK))]),
    logs: /closed: .*protocol error: .*16777215/,
  },
  {
    name: "a Set Chunk Size of 0",
    handshake: true,
    bytes: () => concatBytes([connectBytes(), setChunkSize(0)]),
    logs: /closed: .*protocol error: .*chunk size to 0/,
  },
  {
    name: "messages on more chunk streams than the reader keeps",
    handshake: true,
    bytes: () => concatBytes([connectBytes(), manyChunkStreams(abi.MAX_CHUNK_STREAMS + 8)]),
    logs: /closed: .*protocol error: ST_TOO_MANY_CHUNK_STREAMS/,
  },
  {
    name: "publish before connect",
    handshake: true,
    bytes: () =>
      encodeMessage(commandMessage(1, encodeCommand(CommandName.Publish, 0, null, "cam", "live")), CHUNK),
    logs: /closed: .*before connect/,
  },
  {
    name: "a connect and then nothing",
    handshake: true,
    bytes: connectBytes,
    logs: /closed: .*no publish or play within 1000 ms/,
  },
];

for (const c of RAW_CASES) {
  hostileTest(`RTMP: ${c.name} is closed by the server with a logged reason`, async (h) => {
    const port = h.server.sluice.rtmpPort;
    const conn = c.handshake ? await handshaken(port) : await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAllQuietly(conn, c.bytes());
    await readToClose(conn, STEP_TIMEOUT_MS).catch((e) => {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    });
    await waitFor(() => logged(h.server, c.logs), `the close line ${c.logs}`);
    console.log(`${c.name}: ${h.server.logs.find((l) => c.logs.test(l))?.replace(/^\S+ /, "")}`);
  }, { rtmp: TIMERS });
}

/** A raw connection past the RTMP handshake; closed again when the server refuses it. */
async function handshaken(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const hs = new ClientHandshake();
  try {
    await writeAll(conn, hs.start());
    const buf = new Uint8Array(4096);
    while (!hs.done) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("Cannot handshake: the server closed the connection");
      for (const out of hs.feed(buf.subarray(0, n)).output) await writeAll(conn, out);
    }
    return conn;
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** Players of `key` in the registry. */
function playersOf(server: TestServer, key: string): number {
  return server.sluice.hub.sessions.list().filter((s) => s.role === Role.Player && s.key === key).length;
}

const PER_ADDRESS = 6;

hostileTest(
  "RTMP and HTTP-FLV connect flood from one address: limits.maxConnectionsPerAddress holds",
  async (h) => {
    const FLOOD = 40;
    const key = `live/${h.normal.name}`;
    await waitFor(() => playersOf(h.server, key) === 0, "the warm-up players gone");
    const rtmp = Promise.allSettled(Array.from({ length: FLOOD }, async () => {
      const client = await RtmpClient.connect(h.server.url(h.normal.name));
      try {
        return await client.play();
      } catch (e) {
        await client.close();
        throw e;
      }
    }));
    const http = Promise.all(
      Array.from({ length: FLOOD }, () => fetch(`http://127.0.0.1:${h.server.sluice.httpPort}/${key}.flv`)),
    );
    const [rtmpResults, httpResults] = await Promise.all([rtmp, http]);
    try {
      const rtmpIn = rtmpResults.filter((r) => r.status === "fulfilled").length;
      const httpIn = httpResults.filter((r) => r.status === 200).length;
      console.log(
        `connect flood: ${rtmpIn} of ${FLOOD} RTMP and ${httpIn} of ${FLOOD} HTTP-FLV players admitted ` +
          `(limit ${PER_ADDRESS} from one address, the standing publisher one of them)`,
      );
      assert(rtmpIn + httpIn <= PER_ADDRESS - 1, `${rtmpIn + httpIn} players admitted beside the publisher`);
      assertEquals(playersOf(h.server, key), rtmpIn + httpIn, "players in the registry");
      const refusedRtmp = rtmpResults.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assertMatch(
        String(refusedRtmp.reason?.message),
        new RegExp(
          `connections from 127\\.0\\.0\\.1 ${PER_ADDRESS} of ${PER_ADDRESS} \\(limits\\.maxConnectionsPerAddress\\)`,
        ),
      );
      const refusedHttp = httpResults.find((r) => r.status !== 200)!;
      assertEquals(refusedHttp.status, 503);
      assertMatch(await refusedHttp.clone().text(), /limits\.maxConnectionsPerAddress/);
    } finally {
      for (const r of rtmpResults) if (r.status === "fulfilled") await r.value.close();
      for (const r of httpResults) await r.body?.cancel();
    }
    await waitFor(() => playersOf(h.server, key) === 0, "the flood's players gone");
  },
  { limits: { maxConnectionsPerAddress: PER_ADDRESS } },
);

const MAX_CONNECTIONS = 40;

hostileTest(
  "RTMP flood of connections that never publish or play: refused past rtmp.maxConnections, closed at rtmp.startTimeoutMs",
  async (h) => {
    const FLOOD = 60;
    const port = h.server.sluice.rtmpPort;
    const connect = connectBytes();
    const results = await Promise.allSettled(Array.from({ length: FLOOD }, async () => {
      const conn = await handshaken(port);
      await writeAllQuietly(conn, connect);
      return conn;
    }));
    const held = results.filter((r) => r.status === "fulfilled").map((r) =>
      (r as PromiseFulfilledResult<Deno.TcpConn>).value
    );
    const sessions = h.server.sluice.rtmp?.sessions.size ?? 0;
    let normalGotIn = "";
    try {
      const client = await RtmpClient.connect(h.server.url("during"), { timeoutMs: 500 });
      normalGotIn = "connected";
      await client.close();
    } catch (e) {
      normalGotIn = `refused (${(e as Error).message})`;
    }
    console.log(
      `connection flood: ${held.length} of ${FLOOD} got past the handshake, ${sessions} sessions ` +
        `(limit ${MAX_CONNECTIONS}, the standing publisher one of them); a normal client during the flood: ${normalGotIn}`,
    );
    assert(sessions <= MAX_CONNECTIONS, `${sessions} sessions, limit ${MAX_CONNECTIONS}`);
    assert(
      logged(
        h.server,
        new RegExp(`closed: refused, ${MAX_CONNECTIONS} connections \\(limit ${MAX_CONNECTIONS}\\)`),
      ),
      "refusals at accept",
    );
    // Every connection that got in is closed by the server at the start timeout.
    await Promise.all(held.map((c) => readToClose(c, STEP_TIMEOUT_MS)));
    assert(
      logged(h.server, /closed: .*no publish or play within 1000 ms/),
      "the start timeout's close lines",
    );
  },
  { rtmp: { ...TIMERS, maxConnections: MAX_CONNECTIONS } },
);

hostileTest("RTMP publisher far faster than real time: a normal player plays meanwhile", async (h) => {
  const FLOOD_MS = 1500;
  const pub = await (await RtmpClient.connect(h.server.url("fast"))).publish();
  const viewer = await (await RtmpClient.connect(h.server.url("fast"))).play();
  let viewed = 0;
  const viewing = (async () => {
    try {
      while (await viewer.read(STEP_TIMEOUT_MS) !== undefined) viewed++;
    } catch {
      // timed out or ended with an error: the counts say what arrived
    }
  })();
  const syn = new SyntheticStream({ marker: 0x77 });
  await pub.sendFrames(syn.headers());
  const t0 = Date.now();
  const flooding = (async () => {
    while (Date.now() - t0 < FLOOD_MS) {
      await pub.sendFrames([...syn.next(), ...syn.next(), ...syn.next(), ...syn.next()]);
    }
  })();
  await playHttpFlv(h.server, h.normal);
  await playRtmp(h.server, h.normal);
  await within(flooding, STEP_TIMEOUT_MS + FLOOD_MS, "the flood's end");
  const elapsed = Date.now() - t0;
  const snapshot = h.server.sluice.hub.get("live/fast")?.snapshot();
  const frames = snapshot
    ? `${snapshot.framesIn} frames in, ${snapshot.framesDropped} dropped by skips`
    : "gone";
  console.log(
    `fast publisher: ${(pub.stats.bytes / MiB).toFixed(0)} MiB, ${syn.videoFrames} video frames ` +
      `(${(syn.elapsedMs / 1000).toFixed(0)} s of media, ${
        Math.round(syn.elapsedMs / elapsed)
      }x real time) ` +
      `in ${elapsed} ms; its player read ${viewed} events and ` +
      (viewer.client.closed
        ? `was closed: ${
          h.server.logs.find((l) => /closed: player live\/fast/.test(l))?.replace(/^.*closed: /, "")
        }`
        : "is still playing") +
      `; the stream: ${frames}`,
  );
  assertGreater(syn.elapsedMs, elapsed * 10, "the publisher ran at least 10x real time");
  assert(!pub.client.closed, `the fast publisher was closed: ${pub.client.closeReason}`);
  await pub.close();
  await viewer.close();
  await viewing;
});
