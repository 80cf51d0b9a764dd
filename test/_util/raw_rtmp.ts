/**
 * Raw RTMP sockets for tests that speak the protocol by hand: a completed
 * client handshake, then whatever chunks the test writes; and the messages the
 * server sends until it closes.
 *
 * @module
 */
import { ClientHandshake } from "../../src/rtmp/handshake.ts";
import type { RtmpMessage } from "../../src/rtmp/message.ts";
import { ChunkReader } from "../../src/wasm/chunk_reader.ts";
import { EVENT_TIMEOUT_MS } from "./live.ts";

/** Connects, completes the handshake and returns the raw socket (no chunks sent yet). */
export async function rawHandshake(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const hs = new ClientHandshake();
  await writeAll(conn, hs.start());
  const buf = new Uint8Array(4096);
  while (!hs.done) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("Cannot handshake: current state is closed by the server");
    for (const out of hs.feed(buf.subarray(0, n)).output) await writeAll(conn, out);
  }
  return conn;
}

export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Reads until the server closes the socket (null or reset); fails instead of hanging past `timeoutMs`. */
export async function readToClose(conn: Deno.Conn, timeoutMs = EVENT_TIMEOUT_MS): Promise<void> {
  await readMessagesToClose(conn, timeoutMs);
}

/**
 * Reads and decodes what the server sends until it closes the socket (the
 * bytes after the handshake); fails instead of hanging past `timeoutMs`.
 */
export async function readMessagesToClose(
  conn: Deno.Conn,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<RtmpMessage[]> {
  const reader = new ChunkReader();
  const out: RtmpMessage[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Cannot see the server close: not within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const drain = (async () => {
    try {
      while (true) {
        const n = await conn.read(reader.readable());
        if (n === null) return;
        out.push(...reader.commit(n));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.ConnectionReset)) throw e;
    }
  })();
  try {
    await Promise.race([drain, timeout]);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
  await drain.catch(() => {});
  return out;
}
