/**
 * A process of N light players for `deno task bench`: RTMP players for an
 * rtmp:// URL, HTTP-FLV players for an http:// URL, WebSocket-FLV players for
 * a ws:// URL. An RTMP player does a simple handshake, connect, createStream
 * and play; an HTTP-FLV player sends one raw HTTP/1.1 GET and parses the
 * response's chunked framing and the FLV inside it (FlvReader); a
 * WebSocket-FLV player sends the same GET with an upgrade and unwraps the
 * frames instead. Once frames flow, all read in sweeps (tally.ts: a read per
 * player every SWEEP_MS, 20 ms, on one clock shared by the process's players, as
 * a real player with a buffer does; eager readers triple the server's measured
 * CPU on loopback) and count frames.
 *
 * rtsp:// URLs get RTSP players (rtsp_player.ts: RTP over the connection).
 *
 * A probe player joins before the publisher starts; its arrival time for each
 * timestamp is the live edge, against which every player's lag is measured.
 *
 * Usage: deno run -A bench/players.ts URL N SECONDS  -> prints one JSON line of results. SECONDS
 * bounds the run. On stdin, a line each: "go" (the players join; "playing" is printed once each has
 * its first frame or failed), "mark" at the start and at the end of the measured window, "stop" (the
 * players end after their next read); `windowBytes` in the results is the media bytes the players
 * received between the two marks (-1 without them).
 *
 * @module
 */
import { encodeCommand } from "../src/rtmp/command.ts";
import { MessageType } from "../src/rtmp/message.ts";
import { FlvReader } from "../src/media/flv.ts";
import { ChunkReader } from "../src/wasm/chunk_reader.ts";
import { cmd, rtmpOpen, writeAll } from "./rtmp_open.ts";
import { rtspPlayer } from "./rtsp_player.ts";
import { allPlaying, deliveredBytes, type PlayerResult, type PlayRun, Tally } from "./tally.ts";

export type { PlayerResult };

/** Bytes per read: the RTMP reader's input region (96 KiB), and the same for HTTP. */
const READ_BYTES = 96 * 1024;

async function rtmpPlayer(
  host: string,
  port: number,
  path: string,
  run: PlayRun,
  probe: boolean,
  ready?: () => void,
): Promise<PlayerResult> {
  const [, app, name] = path.split("/");
  const tally = new Tally(probe);
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ hostname: host, port });
    (conn as Deno.TcpConn).setNoDelay(true); // as librtmp does: small commands are not held back by Nagle
    const rest = await rtmpOpen(conn, host, port, app);
    await writeAll(conn, cmd(0, encodeCommand("createStream", 2, null)));
    await writeAll(conn, cmd(1, encodeCommand("play", 0, null, name, -1000)));
    ready?.();
    const reader = new ChunkReader();
    const handle = (msgs: ReturnType<ChunkReader["push"]>) => {
      const now = performance.now();
      for (const m of msgs) {
        if (m.typeId !== MessageType.Video && m.typeId !== MessageType.Audio) continue;
        tally.frame(m.typeId, m.timestamp, m.payload, now);
      }
      tally.swept(now);
    };
    if (rest) handle(reader.push(rest));
    while (performance.now() < run.stopAt) {
      const n = await conn.read(reader.readable());
      if (n === null) throw new Error("server closed the connection");
      handle(reader.commit(n));
      await tally.pace();
    }
  } catch (e) {
    tally.r.error = e instanceof Error ? e.message : String(e);
  } finally {
    try {
      conn?.close();
    } catch {
      // closed
    }
  }
  return tally.r;
}

/**
 * An HTTP/1.1 response read from raw socket bytes: the status line and headers, then the body's bytes,
 * unframed when the body is chunked (RFC 9112 7.1). Body pieces are views of the input (no copy).
 */
class HttpResponseReader {
  status = 0;
  headers = new Map<string, string>();
  #head = "";
  #inBody = false;
  #chunked = false;
  /** Chunked framing: bytes left in the current chunk's data, or -1 while reading a size line. */
  #left = -1;
  /** The CRLF after a chunk's data still to skip. */
  #crlf = 0;
  #sizeLine = "";
  ended = false;

  /** Feeds socket bytes; returns the body bytes among them. */
  push(bytes: Uint8Array): Uint8Array[] {
    let i = 0;
    if (!this.#inBody) {
      // Headers are small: decode byte by byte until the blank line.
      while (i < bytes.length && !this.#inBody) {
        this.#head += String.fromCharCode(bytes[i++]);
        if (this.#head.endsWith("\r\n\r\n")) this.#parseHead();
      }
    }
    if (!this.#chunked) return i < bytes.length ? [bytes.subarray(i)] : [];
    const out: Uint8Array[] = [];
    while (i < bytes.length && !this.ended) {
      if (this.#crlf > 0) {
        i++;
        this.#crlf--;
      } else if (this.#left < 0) {
        const c = bytes[i++];
        if (c === 0x0a) {
          this.#left = parseInt(this.#sizeLine, 16); // chunk extensions after ';' are ignored by parseInt
          this.#sizeLine = "";
          if (!Number.isFinite(this.#left)) throw new Error("bad chunk size line");
          if (this.#left === 0) this.ended = true;
        } else if (c !== 0x0d) {
          this.#sizeLine += String.fromCharCode(c);
        }
      } else {
        const n = Math.min(this.#left, bytes.length - i);
        out.push(bytes.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) {
          this.#left = -1;
          this.#crlf = 2;
        }
      }
    }
    return out;
  }

  #parseHead(): void {
    const [statusLine, ...lines] = this.#head.trimEnd().split("\r\n");
    this.status = Number(statusLine.split(" ")[1]);
    for (const l of lines) {
      const colon = l.indexOf(":");
      this.headers.set(l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim());
    }
    if (this.status !== 200 && this.status !== 101) throw new Error(`HTTP status ${this.status}`);
    this.#chunked = this.headers.get("transfer-encoding")?.toLowerCase() === "chunked";
    this.#inBody = true;
  }
}

/**
 * The server's side of a WebSocket (RFC 6455 5.2), from raw socket bytes: unmasked frames whose binary
 * payloads (and continuations) are returned as views of the input (no copy). A close frame ends it.
 */
class WsFrameReader {
  ended = false;
  /** Header bytes gathered so far (2 to 14). */
  #head = new Uint8Array(14);
  #headLen = 0;
  /** Payload bytes left in the current frame; -1 while reading a header. */
  #left = -1;
  #keep = false;

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < bytes.length && !this.ended) {
      if (this.#left < 0) {
        this.#head[this.#headLen++] = bytes[i++];
        const need = this.#headSize();
        if (this.#headLen < need) continue;
        const h = this.#head;
        const opcode = h[0] & 0x0f;
        const len7 = h[1] & 0x7f;
        let len = len7;
        if (len7 === 126) len = (h[2] << 8) | h[3];
        else if (len7 === 127) len = new DataView(h.buffer).getUint32(6); // frames stay far below 4 GiB
        if (opcode === 0x8) this.ended = true; // close
        this.#keep = opcode === 0x2 || opcode === 0x0; // binary or continuation
        this.#left = len;
        this.#headLen = 0;
      }
      const n = Math.min(this.#left, bytes.length - i);
      if (this.#keep && n > 0) out.push(bytes.subarray(i, i + n));
      i += n;
      this.#left -= n;
      if (this.#left === 0) this.#left = -1;
    }
    return out;
  }

  /** The header's size once its first two bytes are in: 2, plus 2 or 8 of extended length, plus a mask. */
  #headSize(): number {
    if (this.#headLen < 2) return 2;
    const len7 = this.#head[1] & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.#head[1] & 0x80 ? 4 : 0);
  }
}

/** An HTTP-FLV player, or with `ws` a WebSocket-FLV player (the same GET, upgraded). */
async function httpFlvPlayer(
  host: string,
  port: number,
  path: string,
  run: PlayRun,
  probe: boolean,
  ready?: () => void,
  ws = false,
): Promise<PlayerResult> {
  const tally = new Tally(probe);
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ hostname: host, port });
    (conn as Deno.TcpConn).setNoDelay(true); // as librtmp does: small requests are not held back by Nagle
    const upgrade = ws
      ? "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      : "";
    await writeAll(
      conn,
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: sluice-bench\r\n${upgrade}\r\n`,
      ),
    );
    ready?.();
    const http = new HttpResponseReader();
    const frames = ws ? new WsFrameReader() : undefined;
    const flv = new FlvReader();
    const buf = new Uint8Array(READ_BYTES);
    while (performance.now() < run.stopAt) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("server closed the connection");
      const now = performance.now();
      const body = http.push(buf.subarray(0, n));
      for (const piece of frames ? body.flatMap((b) => frames.push(b)) : body) {
        for (const tag of flv.push(piece)) {
          if (tag.type === MessageType.Video || tag.type === MessageType.Audio) {
            tally.frame(tag.type, tag.timestamp, tag.data, now);
          }
        }
      }
      tally.swept(now);
      if (http.ended || frames?.ended) throw new Error("the response ended");
      await tally.pace();
    }
  } catch (e) {
    tally.r.error = e instanceof Error ? e.message : String(e);
  } finally {
    try {
      conn?.close();
    } catch {
      // closed
    }
  }
  return tally.r;
}

/** Default ports by scheme (RFC 2326 3.2: 554 for rtsp). */
const DEFAULT_PORT: Readonly<Record<string, number>> = { rtmp: 1935, rtsp: 554, http: 80, ws: 80 };

if (import.meta.main) {
  const [url, nArg, secArg] = Deno.args;
  const scheme = url.slice(0, url.indexOf(":"));
  const player: typeof rtmpPlayer = scheme === "rtmp"
    ? rtmpPlayer
    : scheme === "rtsp"
    ? rtspPlayer
    : (host, port, path, run, probe, ready) =>
      httpFlvPlayer(host, port, path, run, probe, ready, scheme === "ws");
  const u = new URL(url.replace(/^(rtmp|rtsp|ws):/, "http:"));
  const n = Number(nArg), seconds = Number(secArg);
  const host = u.hostname, port = Number(u.port || DEFAULT_PORT[scheme]);
  // SECONDS bounds the run; "stop" on stdin ends it sooner.
  const run: PlayRun = { stopAt: performance.now() + seconds * 1000 };
  const probeRun: PlayRun = { stopAt: run.stopAt + 500 };
  // The probe joins first; the bench starts the publisher when it sees "probe ready".
  let ready = false;
  const probe = player(host, port, u.pathname, probeRun, true, () => {
    ready = true;
    console.log("probe ready");
  });
  // A probe that fails before it is ready says so, or the bench would wait for "probe ready" for nothing.
  probe.then((p) => {
    if (!ready) {
      console.log(`probe failed: ${p.error ?? "it ended before it was ready"}`);
      Deno.exit(1);
    }
  });
  const results: Promise<PlayerResult>[] = [];
  // Commands on stdin, a line each: "go" (players join), "mark" at the window's start and end, "stop".
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const nextLine = async (): Promise<string | undefined> => {
    while (!pending.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) return undefined;
      pending += value;
    }
    const i = pending.indexOf("\n");
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    return line;
  };
  // Players join in batches, after the stream is live (the bench waits before it sends "go").
  if ((await nextLine()) !== "go") Deno.exit(1);
  // The players' media bytes at each mark: the window's delivered bytes.
  const marks: number[] = [];
  const commands = (async () => {
    for (let line = await nextLine(); line !== undefined; line = await nextLine()) {
      if (line === "mark") marks.push(deliveredBytes());
      if (line === "stop") {
        run.stopAt = Math.min(run.stopAt, performance.now());
        probeRun.stopAt = Math.min(probeRun.stopAt, performance.now() + 500);
      }
    }
  })();
  const joinStarted = performance.now();
  for (let i = 0; i < n; i++) {
    results.push(player(host, port, u.pathname, run, false));
    if (i % 25 === 24) await new Promise((res) => setTimeout(res, 20));
  }
  // "playing" once every player has its first frame (or failed): the bench opens its window after it.
  const playing = setInterval(() => {
    if (!allPlaying(n)) return;
    clearInterval(playing);
    console.log(`playing ${(performance.now() - joinStarted).toFixed(0)} ms after go`);
  }, 50);
  const all = await Promise.all(results);
  clearInterval(playing);
  const p = await probe;
  await commands;
  const windowBytes = marks.length >= 2 ? marks[1] - marks[0] : -1;
  console.log(
    JSON.stringify({ probe: p, players: all, joinMs: performance.now() - joinStarted, windowBytes }),
  );
}
