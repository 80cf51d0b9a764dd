/**
 * A process of N light RTMP players for `deno task bench`. Each player does a
 * simple handshake, connect, createStream and play, then reads in sweeps (one
 * read every SWEEP_MS, as a real player with a buffer does; eager readers
 * triple the server's measured CPU on loopback) and counts frames.
 *
 * A probe player joins before the publisher starts; its arrival time for each
 * timestamp is the live edge, against which every player's lag is measured.
 *
 * Usage: deno run -A bench/players.ts URL N SECONDS  -> prints one JSON line of results.
 *
 * @module
 */
import { encodeCommand } from "../src/rtmp/command.ts";
import { setChunkSize } from "../src/rtmp/control.ts";
import { ClientHandshake } from "../src/rtmp/handshake.ts";
import { ChunkStreamId, MessageType } from "../src/rtmp/message.ts";
import { classify } from "../src/media/frame.ts";
import { ChunkReader } from "../src/wasm/chunk_reader.ts";
import { encodeMessage } from "../src/wasm/chunk_writer.ts";

const SWEEP_MS = Number(Deno.env.get("SWEEP_MS") ?? 20);

export interface PlayerResult {
  frames: number;
  videoFrames: number;
  bytes: number;
  /** ms from connect to the first video keyframe. */
  firstFrameMs: number;
  firstTs: number;
  lastTs: number;
  lagMs: number;
  error?: string;
}

function cmd(streamId: number, payload: Uint8Array): Uint8Array {
  return encodeMessage(
    { csid: ChunkStreamId.Command, typeId: MessageType.CommandAmf0, streamId, timestamp: 0, payload },
    4096,
    "full",
  );
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  let o = 0;
  while (o < b.length) o += await conn.write(b.subarray(o));
}

/** Live edge: wall time at which the probe saw each video timestamp. */
const edge: { ts: number; at: number }[] = [];

function edgeAt(ts: number): number | undefined {
  let lo = 0, hi = edge.length - 1, found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (edge[mid].ts <= ts) {
      found = edge[mid].at;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

async function player(
  host: string,
  port: number,
  app: string,
  name: string,
  stopAt: number,
  probe: boolean,
  ready?: () => void,
): Promise<PlayerResult> {
  const r: PlayerResult = {
    frames: 0,
    videoFrames: 0,
    bytes: 0,
    firstFrameMs: -1,
    firstTs: -1,
    lastTs: -1,
    lagMs: 0,
  };
  const t0 = performance.now();
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ hostname: host, port });
    const hs = new ClientHandshake();
    await writeAll(conn, hs.start());
    const buf = new Uint8Array(8192);
    let rest: Uint8Array | undefined;
    while (!hs.done) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("closed in handshake");
      const step = hs.feed(buf.subarray(0, n));
      for (const o of step.output) await writeAll(conn, o);
      if (step.done) rest = step.rest;
    }
    const tcUrl = `rtmp://${host}:${port}/${app}`;
    await writeAll(conn, encodeMessage(setChunkSize(4096), 128, "full"));
    await writeAll(conn, cmd(0, encodeCommand("connect", 1, { app, tcUrl, flashVer: "LNX 9,0,124,2" })));
    await writeAll(conn, cmd(0, encodeCommand("createStream", 2, null)));
    await writeAll(conn, cmd(1, encodeCommand("play", 0, null, name, -1000)));
    ready?.();
    const reader = new ChunkReader();
    const handle = (msgs: ReturnType<ChunkReader["push"]>) => {
      const now = performance.now();
      for (const m of msgs) {
        if (m.typeId !== MessageType.Video && m.typeId !== MessageType.Audio) continue;
        r.frames++;
        r.bytes += m.payload.length;
        if (m.typeId === MessageType.Video) {
          const { keyframe, sequenceHeader } = classify(m.typeId, m.payload);
          if (sequenceHeader || (r.firstTs < 0 && !keyframe)) continue;
          r.videoFrames++;
          if (r.firstFrameMs < 0) r.firstFrameMs = now - t0;
          if (r.firstTs < 0) r.firstTs = m.timestamp;
          r.lastTs = m.timestamp;
          if (probe) edge.push({ ts: m.timestamp, at: now });
        }
      }
      if (!probe && r.lastTs >= 0) {
        const at = edgeAt(r.lastTs);
        if (at !== undefined) r.lagMs = now - at;
      }
    };
    if (rest) handle(reader.push(rest));
    while (performance.now() < stopAt) {
      const n = await conn.read(reader.readable());
      if (n === null) throw new Error("server closed the connection");
      handle(reader.commit(n));
      if (!probe) await new Promise((res) => setTimeout(res, SWEEP_MS));
    }
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    try {
      conn?.close();
    } catch {
      // closed
    }
  }
  return r;
}

if (import.meta.main) {
  const [url, nArg, secArg] = Deno.args;
  const u = new URL(url.replace(/^rtmp:/, "http:"));
  const [, app, name] = u.pathname.split("/");
  const n = Number(nArg), seconds = Number(secArg);
  const host = u.hostname, port = Number(u.port || 1935);
  const stopAt = performance.now() + seconds * 1000;
  // The probe joins first; the bench starts the publisher when it sees "probe ready".
  const probe = player(host, port, app, name, stopAt + 500, true, () => console.log("probe ready"));
  const results: Promise<PlayerResult>[] = [];
  // Players join in batches, after the stream is live (the bench waits before it sends "go").
  const go = new TextDecoder().decode((await Deno.stdin.readable.getReader().read()).value);
  if (!go.startsWith("go")) Deno.exit(1);
  const joinStarted = performance.now();
  for (let i = 0; i < n; i++) {
    results.push(player(host, port, app, name, stopAt, false));
    if (i % 25 === 24) await new Promise((res) => setTimeout(res, 20));
  }
  const all = await Promise.all(results);
  const p = await probe;
  console.log(JSON.stringify({ probe: p, players: all, joinMs: performance.now() - joinStarted }));
}
