/**
 * RtmpConn, the connection core, over a scripted socket: what it answers by
 * itself (acknowledgements, pings, Set Peer Bandwidth), what it hands up, how
 * it chunks what it sends (header forms, Set Chunk Size) and how it reports a
 * failed write.
 */
import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import { concatBytes } from "../../src/bytes.ts";
import { commandMessage, encodeCommand } from "../../src/rtmp/command.ts";
import { DeltaHeaders, type Handshaker, RtmpConn, type StreamControl } from "../../src/rtmp/conn.ts";
import * as control from "../../src/rtmp/control.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { ChunkReader } from "../../src/wasm/chunk_reader.ts";
import { encodeMessage } from "../../src/wasm/chunk_writer.ts";

/** A socket whose reads the test feeds and whose writes it records. */
class ScriptedSocket {
  readonly written: Uint8Array[] = [];
  readonly remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 5000 };
  readonly localAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1935 };
  failWrites = false;
  closed = false;
  #incoming: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  feed(bytes: Uint8Array): void {
    this.#incoming.push(bytes);
    this.#poke();
  }

  end(): void {
    this.#ended = true;
    this.#poke();
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#incoming.length === 0) {
      if (this.#ended || this.closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const head = this.#incoming[0];
    const n = Math.min(head.length, into.length);
    into.set(head.subarray(0, n));
    if (n === head.length) this.#incoming.shift();
    else this.#incoming[0] = head.subarray(n);
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.failWrites) return Promise.reject(new Deno.errors.BrokenPipe("broken pipe"));
    this.written.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  close(): void {
    this.closed = true;
    this.#poke();
  }

  /** Everything written, decoded as the peer's chunk reader would. */
  messages(): RtmpMessage[] {
    return new ChunkReader().push(concatBytes(this.written));
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

function newConn(opts: { windowAckSize?: number; chunkSize?: number } = {}) {
  const socket = new ScriptedSocket();
  const conn = new RtmpConn(socket as unknown as Deno.Conn, {
    maxMessageLength: 1 << 20,
    windowAckSize: opts.windowAckSize ?? 2_500_000,
    chunkSize: opts.chunkSize,
  });
  return { socket, conn };
}

/** The chunk header format (5.3.1.1: the top two bits of the basic header) of each one-chunk message in `bytes`. */
function headerForms(bytes: Uint8Array, payloadLen: number): number[] {
  const headerLen = [12, 8, 4, 1]; // basic header 1 byte + message header 11, 7, 3 or 0 bytes
  const forms: number[] = [];
  for (let off = 0; off < bytes.length;) {
    const fmt = bytes[off] >> 6;
    forms.push(fmt);
    off += headerLen[fmt] + payloadLen;
  }
  return forms;
}

function video(streamId: number, timestamp: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Video, typeId: MessageType.Video, streamId, timestamp, payload };
}

/** A handshake that is done after one byte and answers it with "ok". */
const oneByteHandshake: Handshaker = {
  feed: (bytes) => ({ output: [new TextEncoder().encode("ok")], done: true, rest: bytes.slice(1) }),
};

Deno.test("RtmpConn.handshake() writes the first bytes, feeds what arrives and returns the rest", async () => {
  const { socket, conn } = newConn();
  socket.feed(Uint8Array.of(0xaa, 1, 2, 3));
  const rest = await conn.handshake(oneByteHandshake, Uint8Array.of(3));
  assertEquals(rest, Uint8Array.of(1, 2, 3));
  assertEquals(socket.written, [Uint8Array.of(3), new TextEncoder().encode("ok")]);
  assertEquals([conn.bytesIn, conn.bytesOut], [4, 3]);
});

Deno.test("RtmpConn.handshake() resolves null when the peer closes first", async () => {
  const { socket, conn } = newConn();
  socket.end();
  assertEquals(await conn.handshake(oneByteHandshake), null);
});

Deno.test("RtmpConn.run() hands up messages in order, including those in the handshake's rest", async () => {
  const { socket, conn } = newConn();
  const a = encodeMessage(commandMessage(0, encodeCommand("a", 1, null)), 128);
  const b = encodeMessage(commandMessage(0, encodeCommand("b", 2, null)), 128);
  const got: number[] = [];
  socket.feed(b);
  socket.end();
  const end = await conn.run({ onMessage: (m) => got.push(m.payload.length) }, a);
  assertEquals(end, "peer closed");
  assertEquals(got.length, 2);
});

Deno.test("RtmpConn.run() answers a Ping Request and hands user control events up, not protocol control", async () => {
  const { socket, conn } = newConn();
  socket.feed(encodeMessage(control.pingRequest(777), 128));
  socket.feed(encodeMessage(control.streamBegin(1), 128));
  socket.feed(encodeMessage(control.windowAckSize(1000), 128));
  socket.end();
  const events: StreamControl[] = [];
  const others: RtmpMessage[] = [];
  await conn.run({ onMessage: (m) => others.push(m), onUserControl: (c) => events.push(c) });
  await conn.drained;
  assertEquals(events, [{ kind: "streamBegin", streamId: 1 }]);
  assertEquals(others, []);
  assertEquals(socket.messages().map((m) => control.parseControl(m)), [{
    kind: "pingResponse",
    timestamp: 777,
  }]);
});

Deno.test("RtmpConn.run() sends an Acknowledgement each time the peer's window of bytes has come in", async () => {
  const { socket, conn } = newConn();
  const window = encodeMessage(control.windowAckSize(200), 128);
  const filler = encodeMessage(commandMessage(0, new Uint8Array(100)), 128);
  socket.feed(window);
  for (let i = 0; i < 4; i++) socket.feed(filler);
  socket.end();
  await conn.run({ onMessage: () => {} });
  await conn.drained;
  const acks = socket.messages().map((m) => control.parseControl(m)).filter((c) =>
    c.kind === "acknowledgement"
  );
  assertEquals(acks.length, 2, "two windows of 200 bytes came in");
  const total = window.length + 4 * filler.length;
  assert(acks.every((c) => c.kind === "acknowledgement" && c.sequenceNumber <= total));
});

Deno.test("RtmpConn answers Set Peer Bandwidth with its window only when the window differs", async () => {
  const { socket, conn } = newConn({ windowAckSize: 5000 });
  socket.feed(encodeMessage(control.setPeerBandwidth(5000, control.PeerBandwidthLimit.Dynamic), 128));
  socket.feed(encodeMessage(control.setPeerBandwidth(9000, control.PeerBandwidthLimit.Hard), 128));
  socket.end();
  await conn.run({ onMessage: () => {} });
  await conn.drained;
  assertEquals(socket.messages().map((m) => control.parseControl(m)), [{
    kind: "windowAckSize",
    windowSize: 9000,
  }]);
});

Deno.test("RtmpConn.run() stops reading while readPaused() says so, until resumeReading()", async () => {
  const { socket, conn } = newConn();
  let paused = true;
  const got: RtmpMessage[] = [];
  const running = conn.run({ onMessage: (m) => got.push(m), readPaused: () => paused });
  socket.feed(encodeMessage(commandMessage(0, encodeCommand("x", 1, null)), 128));
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(got.length, 0, "a paused connection read the socket");
  paused = false;
  conn.resumeReading();
  socket.end();
  await running;
  assertEquals(got.length, 1);
});

Deno.test("RtmpConn.send() with DeltaHeaders.All uses type 1 after the first message of a chunk stream", async () => {
  const { socket, conn } = newConn();
  const p = new Uint8Array(10);
  await conn.send([video(1, 0, p), video(1, 40, p), video(1, 80, p)], DeltaHeaders.All);
  assertEquals(headerForms(socket.written[0], 10), [0, 1, 1]);
});

Deno.test("RtmpConn.send() uses type 0 for another message stream or a backward timestamp", async () => {
  const { socket, conn } = newConn();
  const p = new Uint8Array(10);
  await conn.send([video(1, 100, p), video(2, 140, p), video(2, 40, p), video(2, 80, p)], DeltaHeaders.All);
  assertEquals(headerForms(socket.written[0], 10), [0, 0, 0, 1]);
});

Deno.test("RtmpConn.send() with DeltaHeaders.Media sends commands with type 0 and media with type 1", async () => {
  const { socket, conn } = newConn();
  const cmd = commandMessage(1, new Uint8Array(10));
  const p = new Uint8Array(10);
  await conn.send([cmd, cmd, video(1, 0, p), video(1, 40, p)], DeltaHeaders.Media);
  assertEquals(headerForms(socket.written[0], 10), [0, 0, 0, 1]);
});

Deno.test("RtmpConn.send() switches the chunk size after a Set Chunk Size, in the same write", async () => {
  const { socket, conn } = newConn();
  const big = video(1, 0, new Uint8Array(1000));
  await conn.send([control.setChunkSize(4096), big]);
  assertEquals(conn.chunkSize, 4096);
  assertEquals(socket.written.length, 1);
  // Set Chunk Size (12 + 4 bytes), then the whole 1000-byte message in one chunk (12 + 1000).
  assertEquals(socket.written[0].length, 16 + 12 + 1000);
  const [scs, msg] = socket.messages();
  assertEquals(control.parseControl(scs), { kind: "setChunkSize", chunkSize: 4096 });
  assertEquals(msg.payload.length, 1000);
});

Deno.test("RtmpConn reports a failed write once through onWriteError and rejects the send", async () => {
  const { socket, conn } = newConn();
  const reasons: string[] = [];
  conn.onWriteError = (r) => reasons.push(r);
  socket.failWrites = true;
  await assertRejects(() => conn.send([video(1, 0, new Uint8Array(4))]));
  await assertRejects(() => conn.send([video(1, 40, new Uint8Array(4))]));
  await conn.drained;
  assertEquals(reasons, ["write failed: peer reset the connection"]);
});

Deno.test("RtmpConn.send() after close() rejects and close() is idempotent", async () => {
  const { socket, conn } = newConn();
  conn.close();
  conn.close();
  assert(socket.closed && conn.closed);
  await assertRejects(() => conn.send([video(1, 0, new Uint8Array(4))]), Error, "closed");
});

Deno.test("RtmpConn.write() sends what comes while a write is under way as one socket write after it, in order", async () => {
  const { socket, conn } = newConn();
  const writes = [1, 2, 3, 4, 5].map((i) => conn.write(Uint8Array.of(i, i)));
  await Promise.all(writes);
  assertEquals(socket.written, [Uint8Array.of(1, 1), Uint8Array.of(2, 2, 3, 3, 4, 4, 5, 5)]);
  assertEquals(conn.bytesOut, 10);
  // Nothing under way: the next write goes out at once, alone.
  await conn.write(Uint8Array.of(6));
  assertEquals(socket.written.length, 3);
  assertEquals(socket.written[2], Uint8Array.of(6));
});

Deno.test("RtmpConn.write() rejects every write of a batch whose socket write failed, and reports it once", async () => {
  const { socket, conn } = newConn();
  const reasons: string[] = [];
  conn.onWriteError = (reason) => reasons.push(reason);
  const first = conn.write(Uint8Array.of(1));
  socket.failWrites = true;
  const batch = [conn.write(Uint8Array.of(2)), conn.write(Uint8Array.of(3))];
  await first;
  for (const p of batch) await assertRejects(() => p);
  await conn.drained;
  assertEquals(reasons.length, 1);
  assert(reasons[0].startsWith("write failed"), reasons[0]);
});
