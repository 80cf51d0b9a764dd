/**
 * Hostile WebSocket clients against an in-process Sluice (issue 10 item 3),
 * spoken to over raw sockets after a real upgrade, each case followed by the
 * check of `test/_util/hostile.ts` (alive, the publisher publishes, a normal
 * player plays, the settled RSS back near its baseline):
 *
 * - garbage after the upgrade, on a push and on a WebSocket-FLV player: the
 *   server closes that connection and its session ends;
 * - a frame declaring 2^62 bytes: refused at once, nothing buffered;
 * - 10,000 tiny ping frames in one write: answered, and the push stays open
 *   until its close frame;
 * - a 16 MiB binary message of garbage (under Deno's 64 MiB message cap):
 *   Deno buffers it whole before Sluice sees a byte, then the push is closed
 *   with 1007 (not FLV). Whether the server lets go of a socket whose peer
 *   never answers its close frame is recorded in the case's log line (Deno's
 *   WebSocket has no closing-handshake timeout: it does not).
 *
 * @module
 */
import { assert, assertEquals, assertGreater } from "../_util/assert.ts";
import {
  closeAll,
  hostileTest,
  logged,
  MiB,
  rawWebSocket,
  STEP_TIMEOUT_MS,
  within,
  writeAllQuietly,
  wsFrame,
  WsFrameCounter,
  wsFrameHeader,
  WsOpcode,
} from "../_util/hostile.ts";
import { waitFor } from "../_util/live.ts";
import { seededRandom } from "../_util/mutate.ts";
import type { TestServer } from "../_util/media.ts";
import { Protocol } from "../../src/hub/session_kind.ts";

/** Seeded random bytes. */
function randomBytes(n: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

/** Reads the server's frames into `counter` until it closes the connection (or `until` holds). */
async function readFrames(
  conn: Deno.Conn,
  counter: WsFrameCounter,
  until: () => boolean = () => false,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while (!until()) {
      const n = await conn.read(buf);
      if (n === null) return;
      counter.push(buf.subarray(0, n));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.ConnectionReset) && !(e instanceof Deno.errors.BadResource)) throw e;
  }
}

/** Sessions of `protocol` on `key` in the registry. */
function sessionsOn(server: TestServer, protocol: Protocol, key: string): number {
  return server.sluice.hub.sessions.list().filter((s) => s.protocol === protocol && s.key === key).length;
}

/** Waits for the push's session to start publishing `key`. */
async function publishing(server: TestServer, key: string): Promise<void> {
  await waitFor(() => sessionsOn(server, Protocol.WsPush, key) === 1, `a WebSocket push of ${key}`);
}

hostileTest(
  "WebSocket push: garbage after the upgrade closes the connection and ends the push",
  async (h) => {
    const ws = await rawWebSocket(h.server.sluice.httpPort, "/live/wsgarbage");
    try {
      assertEquals(ws.status, 101);
      await publishing(h.server, "live/wsgarbage");
      await writeAllQuietly(ws.conn, randomBytes(4096, 3));
      await within(readFrames(ws.conn, new WsFrameCounter()), STEP_TIMEOUT_MS, "the server close the socket");
    } finally {
      closeAll([ws.conn]);
    }
    await waitFor(() => sessionsOn(h.server, Protocol.WsPush, "live/wsgarbage") === 0, "the push end");
    assert(logged(h.server, /\[ws push [^\]]+ live\/wsgarbage\] closed: in 0 B, 0 tags/), "the close line");
  },
);

hostileTest("WebSocket-FLV play: garbage from the player closes only that player", async (h) => {
  const key = `live/${h.normal.name}`;
  const ws = await rawWebSocket(h.server.sluice.httpPort, `/${key}.flv`);
  try {
    assertEquals(ws.status, 101);
    const counter = new WsFrameCounter();
    counter.push(ws.rest);
    await within(
      readFrames(ws.conn, counter, () => counter.count(WsOpcode.Binary) > 0),
      STEP_TIMEOUT_MS,
      "the player's first FLV message",
    );
    await writeAllQuietly(ws.conn, randomBytes(4096, 4));
    await within(readFrames(ws.conn, counter), STEP_TIMEOUT_MS, "the server close the player");
  } finally {
    closeAll([ws.conn]);
  }
  await waitFor(() => sessionsOn(h.server, Protocol.WsFlv, key) === 0, "the player end");
});

hostileTest("WebSocket push: a frame declaring 2^62 bytes is refused at once", async (h) => {
  const ws = await rawWebSocket(h.server.sluice.httpPort, "/live/wshuge");
  try {
    assertEquals(ws.status, 101);
    await publishing(h.server, "live/wshuge");
    await writeAllQuietly(ws.conn, wsFrameHeader(WsOpcode.Binary, 2n ** 62n));
    // Then as much as the server takes of the "payload" before it cuts the connection.
    const chunk = new Uint8Array(MiB);
    let sent = 0;
    for (let i = 0; i < 16; i++) {
      const n = await writeAllQuietly(ws.conn, chunk);
      sent += n;
      if (n < chunk.length) break;
    }
    await within(readFrames(ws.conn, new WsFrameCounter()), STEP_TIMEOUT_MS, "the server close the socket");
    console.log(`2^62-byte frame: the server cut the connection after ${(sent / MiB).toFixed(1)} MiB of it`);
  } finally {
    closeAll([ws.conn]);
  }
  await waitFor(() => sessionsOn(h.server, Protocol.WsPush, "live/wshuge") === 0, "the push end");
});

hostileTest("WebSocket push: 10,000 tiny ping frames are answered and the push stays open", async (h) => {
  const COUNT = 10_000;
  const ws = await rawWebSocket(h.server.sluice.httpPort, "/live/wsping");
  try {
    assertEquals(ws.status, 101);
    await publishing(h.server, "live/wsping");
    const pings = new Uint8Array(COUNT * 7);
    for (let i = 0; i < COUNT; i++) pings.set(wsFrame(WsOpcode.Ping, Uint8Array.of(i & 0xff)), i * 7);
    const counter = new WsFrameCounter();
    const reading = readFrames(ws.conn, counter, () => counter.count(WsOpcode.Pong) >= COUNT);
    await writeAllQuietly(ws.conn, pings);
    await within(
      Promise.race([
        reading,
        waitFor(() => counter.count(WsOpcode.Pong) >= COUNT, "every pong", STEP_TIMEOUT_MS),
      ]),
      STEP_TIMEOUT_MS,
      "the pongs",
    );
    console.log(`pings: ${counter.count(WsOpcode.Pong)} pongs for ${COUNT} pings`);
    assertGreater(counter.count(WsOpcode.Pong), 0, "pongs");
    assertEquals(sessionsOn(h.server, Protocol.WsPush, "live/wsping"), 1, "the push is still open");
    // A normal close: the server answers it, and the push ends as the peer closing.
    await writeAllQuietly(ws.conn, wsFrame(WsOpcode.Close, Uint8Array.of(0x03, 0xe8)));
    await within(readFrames(ws.conn, counter), STEP_TIMEOUT_MS, "the server close the socket");
    assertEquals(counter.closeCode, 1000, "the server's close frame");
  } finally {
    closeAll([ws.conn]);
  }
  await waitFor(
    () => logged(h.server, /live\/wsping\] closed: .*peer closed the WebSocket \(code 1000\)/),
    "the close line",
  );
});

hostileTest(
  "WebSocket push: a 16 MiB garbage message is buffered by Deno, then refused with 1007",
  async (h) => {
    const ws = await rawWebSocket(h.server.sluice.httpPort, "/live/wsbig");
    try {
      assertEquals(ws.status, 101);
      await publishing(h.server, "live/wsbig");
      const counter = new WsFrameCounter();
      await writeAllQuietly(ws.conn, wsFrame(WsOpcode.Binary, new Uint8Array(16 * MiB).fill(0x5a)));
      await within(
        readFrames(ws.conn, counter, () => counter.closeCode !== undefined),
        STEP_TIMEOUT_MS,
        "the server's close frame",
      );
      assertEquals(counter.closeCode, 1007, "close code: invalid frame payload data (not FLV)");
      // A peer that does not answer the close frame: does the server let go of the socket on its own?
      const reading = readFrames(ws.conn, counter).then(() => true);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const closedByServer = await Promise.race([
        reading,
        new Promise<false>((r) => timer = setTimeout(r, 1000, false)),
      ]);
      clearTimeout(timer);
      console.log(
        `16 MiB message: ${closedByServer ? "the server closed" : "the server still holds"} the socket ` +
          "1 s after its close frame with no answer to it",
      );
      if (!closedByServer) await writeAllQuietly(ws.conn, wsFrame(WsOpcode.Close, Uint8Array.of(0x03, 0xef)));
      await within(reading, STEP_TIMEOUT_MS, "the server close the socket");
    } finally {
      closeAll([ws.conn]);
    }
    assert(
      logged(h.server, /live\/wsbig\] closed: in 16777216 B, 0 tags, .*malformed FLV/),
      "the close line",
    );
  },
);
