/**
 * WebSocket-FLV play: WsTransport's backpressure against a fake socket whose
 * bufferedAmount the test sets, and the upgraded route end to end with Deno's
 * WebSocket client against makeRouter on a port-0 Deno.serve.
 */
import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { FakePublisher, frames, RecordingLogger } from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { makeRouter } from "../../src/http/routes.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FlvReader, type FlvTag, TagType } from "../../src/media/flv.ts";
import { LOW_WATER_BYTES, POLL_MS, WsTransport } from "../../src/outputs/ws_flv.ts";

/** Every wait in these tests ends by this deadline instead of hanging (nothing asserts on time). */
const WAIT_MS = 5_000;

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The parts of a WebSocket that WsTransport uses; `bufferedAmount` is the test's to set. */
class FakeSocket {
  binaryType = "blob";
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;

  send(bytes: Uint8Array): void {
    this.sent.push(bytes);
    this.bufferedAmount += bytes.length;
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
}

function fakeTransport(): { ws: WsTransport; socket: FakeSocket; header: Uint8Array } {
  const header = Uint8Array.of(0x46, 0x4c, 0x56);
  const ws = new WsTransport(header, 1_000);
  const socket = new FakeSocket();
  ws.attach(socket as unknown as WebSocket);
  return { ws, socket, header };
}

/** Whether `p` has settled after pending callbacks ran: "resolved", "rejected" or "pending". */
async function state(p: Promise<unknown>): Promise<string> {
  let s = "pending";
  p.then(() => s = "resolved", () => s = "rejected");
  await sleep(0);
  return s;
}

test("WsTransport sends the FLV header first when the socket opens, then what was written before", async () => {
  const { ws, socket, header } = fakeTransport();
  const start = new Uint8Array(10);
  const written = ws.write(start);
  assertEquals(socket.sent.length, 0, "nothing goes out before the socket opens");
  socket.bufferedAmount = 0;
  socket.onopen?.();
  assertEquals(socket.sent.length, 2);
  assertStrictEquals(socket.sent[0], header);
  assertStrictEquals(socket.sent[1], start, "the subscriber's bytes go out as they are, one message");
  assertEquals(await state(written), "resolved");
  assertEquals(socket.binaryType, "arraybuffer");
});

test("WsTransport.write() resolves at once while bufferedAmount stays at most LOW_WATER_BYTES", async () => {
  const { ws, socket } = fakeTransport();
  socket.onopen?.();
  socket.bufferedAmount = 0;
  assertEquals(await state(ws.write(new Uint8Array(LOW_WATER_BYTES))), "resolved");
});

test("WsTransport.write() waits while bufferedAmount is over LOW_WATER_BYTES and resolves when it drains", async () => {
  const { ws, socket } = fakeTransport();
  socket.onopen?.();
  socket.bufferedAmount = LOW_WATER_BYTES;
  const written = ws.write(new Uint8Array(100));
  await sleep(POLL_MS * 3);
  assertEquals(await state(written), "pending", "a socket over the mark holds the write back");
  socket.bufferedAmount = LOW_WATER_BYTES - 1;
  for (let waited = 0; await state(written) === "pending" && waited < WAIT_MS; waited += POLL_MS) {
    await sleep(POLL_MS);
  }
  assertEquals(await state(written), "resolved");
});

test("WsTransport: the peer closing fails the pending write and calls onPeerClose once", async () => {
  const { ws, socket } = fakeTransport();
  let peerCloses = 0;
  ws.onPeerClose = () => peerCloses++;
  socket.onopen?.();
  socket.bufferedAmount = 10 * LOW_WATER_BYTES;
  const written = ws.write(new Uint8Array(100));
  socket.onerror?.();
  socket.onclose?.();
  assertEquals(await state(written), "rejected");
  assertEquals(peerCloses, 1);
  assertEquals(await state(ws.write(new Uint8Array(1))), "rejected", "a write after the close fails");
});

test("WsTransport.end() closes the socket with 1000 once everything went out, the reason cut to 123 bytes", async () => {
  const { ws, socket } = fakeTransport();
  let peerCloses = 0;
  ws.onPeerClose = () => peerCloses++;
  socket.onopen?.();
  socket.bufferedAmount = 500;
  const reason = "stream ended: " + "é".repeat(100);
  ws.end(reason);
  assertEquals(socket.closedWith, undefined, "not while the socket still holds data");
  socket.bufferedAmount = 0;
  let waited = 0;
  while (!socket.closedWith && waited < WAIT_MS) {
    await sleep(POLL_MS);
    waited += POLL_MS;
  }
  assertEquals(socket.closedWith?.code, 1000);
  const sent = new TextEncoder().encode(socket.closedWith?.reason);
  assert(sent.length <= 123, `a close reason of ${sent.length} bytes`);
  assert(reason.startsWith(socket.closedWith?.reason ?? "-"), "the reason is cut at a character boundary");
  socket.onclose?.();
  assertEquals(peerCloses, 0, "the server's own close is not the peer leaving");
});

// ---------------------------------------------------------------------------------------------
// The route, over a real socket

interface Served {
  hub: StreamHub;
  url: string;
  stop(): Promise<void>;
}

async function serve(overrides: ConfigOverrides = {}): Promise<Served> {
  const config = makeConfig({ ...overrides, hub: { playWaitMs: 0, ...overrides.hub } });
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr.port) },
    makeRouter({ hub, config, log, startedAt: Date.now() }),
  );
  const port = await ready.promise;
  return {
    hub,
    url: `ws://127.0.0.1:${port}/live/x.flv`,
    async stop() {
      hub.stop();
      await server.shutdown();
    },
  };
}

function publishWithGop(hub: StreamHub): Stream {
  const stream = hub.publish("live/x", new FakePublisher());
  stream.setMetadata(frames.metadata(0).payload);
  for (const f of [frames.videoHeader(0), frames.audioHeader(0), frames.key(0, 3000), frames.audio(10)]) {
    stream.push(f.kind, f.timestamp, f.payload);
  }
  return stream;
}

/** A WebSocket client that keeps every binary message and parses them as one FLV stream. */
class WsPlayer {
  readonly socket: WebSocket;
  readonly messages: Uint8Array[] = [];
  readonly flv = new FlvReader();
  readonly tags: FlvTag[] = [];
  readonly closed: Promise<CloseEvent>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.binaryType = "arraybuffer";
    this.socket.onmessage = (ev) => {
      const bytes = new Uint8Array(ev.data as ArrayBuffer);
      this.messages.push(bytes);
      this.tags.push(...this.flv.push(bytes));
    };
    this.closed = new Promise((resolve) => this.socket.onclose = resolve);
  }

  async until(pred: () => boolean, what: string): Promise<void> {
    for (let waited = 0; !pred(); waited += 10) {
      if (waited > WAIT_MS) throw new Error(`Cannot see ${what}: not within ${WAIT_MS} ms`);
      await sleep(10);
    }
  }
}

test("WebSocket-FLV: GET /live/x.flv upgraded sends the FLV header, then the tags, as binary messages", async () => {
  const server = await serve();
  try {
    const stream = publishWithGop(server.hub);
    const player = new WsPlayer(server.url);
    await player.until(() => player.tags.length >= 5, "the start of the stream");
    assertEquals(player.messages[0].length, 13, "the first message is the FLV header and PreviousTagSize0");
    assertEquals(player.flv.header?.audio, true);
    assertEquals(player.flv.header?.video, true);
    assertEquals(player.tags.map((t) => t.type), [
      TagType.ScriptData,
      TagType.Video,
      TagType.Audio,
      TagType.Video,
      TagType.Audio,
    ]);
    const live = stream.push(frames.inter(40).kind, 40, frames.inter(40).payload);
    await player.until(() => player.tags.length >= 6, "a live tag");
    assertEquals(player.tags[5].data, live.payload);
    player.socket.close();
    await player.closed;
  } finally {
    await server.stop();
  }
});

test("WebSocket-FLV: a play of a stream not yet published waits for its publisher, then streams", async () => {
  const server = await serve({ hub: { playWaitMs: 30_000 } });
  try {
    const player = new WsPlayer(server.url);
    await sleep(50); // the upgrade request reaches the server and waits (nothing asserts on this time)
    assertEquals(player.messages.length, 0);
    publishWithGop(server.hub);
    await player.until(() => player.tags.length >= 5, "the start of the stream");
    assertEquals(player.messages[0].length, 13, "the FLV header comes first");
    player.socket.close();
    await player.closed;
  } finally {
    await server.stop();
  }
});

test("WebSocket-FLV: the player closing its socket unsubscribes it", async () => {
  const server = await serve();
  try {
    const stream = publishWithGop(server.hub);
    const player = new WsPlayer(server.url);
    await player.until(() => player.tags.length >= 5, "the start of the stream");
    assertEquals(stream.subscribers.size, 1);
    player.socket.close();
    await player.closed;
    await player.until(() => stream.subscribers.size === 0, "the subscriber leaving");
  } finally {
    await server.stop();
  }
});

test("WebSocket-FLV: the socket closes with 1000 after the last tag when the stream ends", async () => {
  const server = await serve({ hub: { reconnectGraceMs: 0 } });
  try {
    const publisher = new FakePublisher();
    const stream = server.hub.publish("live/x", publisher);
    stream.push(frames.videoHeader(0).kind, 0, frames.videoHeader(0).payload);
    stream.push(frames.key(0).kind, 0, frames.key(0).payload);
    const player = new WsPlayer(server.url);
    await player.until(() => player.tags.length >= 2, "the start of the stream");
    stream.push(frames.inter(40).kind, 40, frames.inter(40).payload);
    server.hub.unpublish(stream, publisher);
    const ev = await player.closed;
    assertEquals(ev.code, 1000);
    assertEquals(ev.reason, "stream live/x ended");
    assertEquals(player.tags.map((t) => t.timestamp), [0, 0, 40]);
  } finally {
    await server.stop();
  }
});

test("WebSocket-FLV: a stream not published answers 404 JSON instead of upgrading", async () => {
  const config = makeConfig({ hub: { playWaitMs: 0 } });
  const log = new RecordingLogger();
  const router = makeRouter({
    hub: new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log),
    config,
    log,
    startedAt: 0,
  });
  const res = await router(
    new Request("http://sluice.test/live/x.flv", {
      headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" },
    }),
  );
  assertEquals(res.status, 404);
  assertEquals((await res.json()).error, "Cannot play live/x: it is not published");
});

test("WebSocket-FLV: a malformed upgrade answers 400 JSON and leaves no player behind", async () => {
  const config = makeConfig({ hub: { playWaitMs: 0 } });
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const stream = publishWithGop(hub);
  const router = makeRouter({ hub, config, log, startedAt: 0 });
  // No "connection: Upgrade" and no sec-websocket-key: Deno.upgradeWebSocket refuses it.
  const res = await router(
    new Request("http://sluice.test/live/x.flv", { headers: { upgrade: "websocket" } }),
  );
  assertEquals(res.status, 400);
  await res.body?.cancel();
  assertEquals(stream.subscribers.size, 0);
  hub.stop();
});
