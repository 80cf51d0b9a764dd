/**
 * The opening of a bench RTMP client, shared by the players (players.ts) and
 * the idle connections of the memory bench (idle_conns.ts): a simple
 * handshake, Set Chunk Size 4096, then `connect`, as librtmp opens.
 *
 * @module
 */
import { encodeCommand } from "../src/rtmp/command.ts";
import { setChunkSize } from "../src/rtmp/control.ts";
import { ClientHandshake } from "../src/rtmp/handshake.ts";
import { ChunkStreamId, MessageType } from "../src/rtmp/message.ts";
import { encodeMessage } from "../src/wasm/chunk_writer.ts";

/** The chunk size the bench's clients send with. */
const CLIENT_CHUNK_SIZE = 4096;

/** A command message (AMF0) on message stream `streamId`, one chunk stream for all commands. */
export function cmd(streamId: number, payload: Uint8Array): Uint8Array {
  return encodeMessage(
    { csid: ChunkStreamId.Command, typeId: MessageType.CommandAmf0, streamId, timestamp: 0, payload },
    CLIENT_CHUNK_SIZE,
    "full",
  );
}

export async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  let o = 0;
  while (o < b.length) o += await conn.write(b.subarray(o));
}

/**
 * Handshakes on `conn` and sends Set Chunk Size and `connect` for `app` (tcUrl `rtmp://host:port/app`);
 * returns the bytes read past the handshake (the server's first messages may have come with it), or
 * undefined. Throws when the server closes during the handshake.
 */
export async function rtmpOpen(
  conn: Deno.Conn,
  host: string,
  port: number,
  app: string,
): Promise<Uint8Array | undefined> {
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
  await writeAll(conn, encodeMessage(setChunkSize(CLIENT_CHUNK_SIZE), 128, "full"));
  await writeAll(conn, cmd(0, encodeCommand("connect", 1, { app, tcUrl, flashVer: "LNX 9,0,124,2" })));
  return rest;
}
