/**
 * ServerWebSocket: a case table of client frames (hex, a comment per field,
 * masked with RFC 6455 5.7's key 37 fa 21 3d) fed whole, split in two at every
 * byte, one byte at a time and in random pieces, each way giving the same
 * messages, written frames and close; then send(), the close handshake both
 * ways, peerEnded(), failing writes and the close wait timer, against a fake
 * ByteSink that records what is written.
 */
import { concatBytes } from "../../src/bytes.ts";
import {
  type ByteSink,
  PONG_QUEUE_BYTES,
  ServerWebSocket,
  type ServerWebSocketOptions,
  webSocketAccept,
  WsOpcode,
} from "../../src/http/ws_socket.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { seededRandom } from "../_util/mutate.ts";
import { byteByByte, randomPieces, splitsInTwo } from "../_util/split.ts";
import { wsFrame } from "../_util/hostile.ts";

/** Bytes from hex fields ("81", "85 37 fa 21 3d"). */
function hex(...fields: string[]): Uint8Array {
  const digits = fields.join("").replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** The frames the server wrote, one line each: "pong 48 69", "close 1002", "binary 01 02". */
function serverFrames(bytes: Uint8Array): string[] {
  const names: Record<number, string> = { 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong" };
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const b0 = bytes[at], b1 = bytes[at + 1];
    assert(b0 & 0x80, "server frames have FIN set");
    assert(!(b1 & 0x80), "server frames are not masked");
    let length = b1 & 0x7f, head = 2;
    if (length === 126) {
      length = (bytes[at + 2] << 8) | bytes[at + 3];
      head = 4;
    } else if (length === 127) {
      length = Number(new DataView(bytes.buffer, bytes.byteOffset + at + 2, 8).getBigUint64(0));
      head = 10;
    }
    const payload = bytes.subarray(at + head, at + head + length);
    const opcode = b0 & 0x0f;
    if (opcode === WsOpcode.Close) {
      out.push(`close ${payload.length >= 2 ? (payload[0] << 8) | payload[1] : "without code"}`);
    } else {
      out.push(`${names[opcode]} ${hexOf(payload)}`.trimEnd());
    }
    at += head + length;
  }
  return out;
}

/** A ByteSink that records writes; with `hold`, each write waits for release() or fail(). */
class FakeSink implements ByteSink {
  writes: Uint8Array[] = [];
  /** The buffers given to write(), not copied. */
  given: Uint8Array[] = [];
  closes = 0;
  hold = false;
  #pending: { resolve: () => void; reject: (e: Error) => void } | undefined;

  write(bytes: Uint8Array): Promise<void> {
    assert(this.#pending === undefined, "a write while another is pending");
    assertEquals(this.closes, 0, "a write after close()");
    this.writes.push(bytes.slice());
    this.given.push(bytes);
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve, reject) => this.#pending = { resolve, reject });
  }

  close(): void {
    this.closes++;
  }

  get pending(): boolean {
    return this.#pending !== undefined;
  }

  release(): void {
    const p = this.#pending!;
    this.#pending = undefined;
    p.resolve();
  }

  fail(error: Error): void {
    const p = this.#pending!;
    this.#pending = undefined;
    p.reject(error);
  }

  /** Every frame written so far. */
  frames(): string[] {
    return serverFrames(concatBytes(this.writes));
  }
}

interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** What a socket's handlers saw, in order. */
interface Seen {
  events: string[];
  messages: (string | number[])[];
  closes: Closed[];
  errors: number;
}

function record(ws: ServerWebSocket): Seen {
  const r: Seen = { events: [], messages: [], closes: [], errors: 0 };
  ws.onopen = () => r.events.push("open");
  ws.onmessage = (ev) => {
    r.events.push("message");
    if (typeof ev.data === "string") {
      r.messages.push(ev.data);
    } else {
      assert(ev.data instanceof ArrayBuffer, "binary data arrives as ArrayBuffer");
      r.messages.push(Array.from(new Uint8Array(ev.data)));
    }
  };
  ws.onerror = () => {
    r.events.push("error");
    r.errors++;
  };
  ws.onclose = (ev) => {
    r.events.push("close");
    r.closes.push({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
  };
  return r;
}

/** Lets pending microtasks and settled writes run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An opened socket over a fake sink. */
async function opened(options?: ServerWebSocketOptions) {
  const sink = new FakeSink();
  const ws = new ServerWebSocket(sink, options);
  const r = record(ws);
  ws.open();
  await settle();
  return { sink, ws, r };
}

interface FrameCase {
  name: string;
  bytes: Uint8Array;
  options?: ServerWebSocketOptions;
  /** Messages delivered; binary ones as byte arrays. */
  messages: (string | number[])[];
  /** Frames the server wrote (see serverFrames). */
  wrote: string[];
  /** How the socket closed, if it did; wasClean false means onerror fired once before. */
  closed?: { code: number; reason?: string; wasClean: boolean };
}

const fail = (code: number) => ({ wrote: [`close ${code}`], closed: { code, wasClean: false } });

const frameCases: FrameCase[] = [
  {
    name: 'delivers masked text "Hello" (RFC 6455 5.7)',
    bytes: hex(
      "81", // FIN, opcode 1 text
      "85", // MASK, length 5
      "37 fa 21 3d", // masking key
      "7f 9f 4d 51 58", // "Hello" masked
    ),
    messages: ["Hello"],
    wrote: [],
  },
  {
    name: "delivers binary data as ArrayBuffer",
    bytes: hex(
      "82", // FIN, opcode 2 binary
      "83", // MASK, length 3
      "37 fa 21 3d", // masking key
      "36 f8 22", // 01 02 03 masked
    ),
    messages: [[1, 2, 3]],
    wrote: [],
  },
  {
    name: "reassembles a fragmented text message with a ping in between, answered with a pong",
    bytes: hex(
      "01", // no FIN, opcode 1 text: first fragment
      "83 37 fa 21 3d", // MASK, length 3, masking key
      "7f 9f 4d", // "Hel" masked
      "89", // FIN, opcode 9 ping, between the fragments
      "82 37 fa 21 3d", // MASK, length 2, masking key
      "7f 93", // "Hi" masked
      "80", // FIN, opcode 0 continuation: last fragment
      "82 37 fa 21 3d", // MASK, length 2, masking key
      "5b 95", // "lo" masked
    ),
    messages: ["Hello"],
    wrote: ["pong 48 69"],
  },
  {
    name: "reassembles a UTF-8 character split across two fragments",
    bytes: hex(
      "01 81 37 fa 21 3d", // no FIN, text, MASK, length 1, masking key
      "f4", // c3 (first byte of "é") masked
      "80 81 37 fa 21 3d", // FIN, continuation, MASK, length 1, masking key
      "9e", // a9 (second byte of "é") masked
    ),
    messages: ["é"],
    wrote: [],
  },
  {
    name: "delivers several frames from one piece, empty ones included",
    bytes: hex(
      "81 80 37 fa 21 3d", // FIN, text, MASK, length 0, masking key: ""
      "82 80 37 fa 21 3d", // FIN, binary, MASK, length 0, masking key: empty bytes
      "02 80 37 fa 21 3d", // no FIN, binary, length 0: first fragment, empty
      "80 81 37 fa 21 3d", // FIN, continuation, MASK, length 1, masking key
      "36", // 01 masked
      "81 83 37 fa 21 3d", // FIN, text, MASK, length 3, masking key
      "d5 78 8d", // "€" (e2 82 ac) masked
    ),
    messages: ["", [], [1], "€"],
    wrote: [],
  },
  {
    name: "ignores a pong (RFC 6455 5.7's masked pong)",
    bytes: hex(
      "8a", // FIN, opcode 10 pong
      "85 37 fa 21 3d", // MASK, length 5, masking key
      "7f 9f 4d 51 58", // "Hello" masked
    ),
    messages: [],
    wrote: [],
  },
  {
    name: "answers an empty ping with an empty pong",
    bytes: hex("89 80 37 fa 21 3d"), // FIN, ping, MASK, length 0, masking key
    messages: [],
    wrote: ["pong"],
  },
  {
    name: "delivers a message of exactly maxMessageBytes",
    options: { maxMessageBytes: 16 },
    bytes: hex(
      "82 90 37 fa 21 3d", // FIN, binary, MASK, length 16, masking key
      "07 cb 13 0e 03 cf 17 0a 0f c3 40 5f 54 9e 44 5b", // "0123456789abcdef" masked
    ),
    messages: [Array.from(new TextEncoder().encode("0123456789abcdef"))],
    wrote: [],
  },
  {
    name: "echoes the peer's close frame and closes cleanly with its code and reason",
    bytes: hex(
      "88", // FIN, opcode 8 close
      "85 37 fa 21 3d", // MASK, length 5, masking key
      "34 12 43 44 52", // code 1000 (03 e8), reason "bye", masked
      "81 85 37 fa 21 3d 7f 9f 4d 51 58", // "Hello" after the close frame: ignored
    ),
    messages: [],
    wrote: ["close 1000"],
    closed: { code: 1000, reason: "bye", wasClean: true },
  },
  {
    name: "closes cleanly with 1005 on a close frame without a code",
    bytes: hex("88 80 37 fa 21 3d"), // FIN, close, MASK, length 0, masking key
    messages: [],
    wrote: ["close without code"],
    closed: { code: 1005, reason: "", wasClean: true },
  },
  {
    name: "accepts close code 3000",
    bytes: hex("88 82 37 fa 21 3d", "3c 42"), // close, length 2, code 3000 (0b b8) masked
    messages: [],
    wrote: ["close 3000"],
    closed: { code: 3000, reason: "", wasClean: true },
  },
  {
    name: "accepts close code 4999",
    bytes: hex("88 82 37 fa 21 3d", "24 7d"), // close, length 2, code 4999 (13 87) masked
    messages: [],
    wrote: ["close 4999"],
    closed: { code: 4999, reason: "", wasClean: true },
  },
  // Failures: a close frame with the code, sink.close(), onerror, onclose {code, wasClean: false}.
  {
    name: "fails 1002 on an unmasked client frame (RFC 6455 5.7's unmasked text)",
    bytes: hex(
      "81", // FIN, text
      "05", // no MASK, length 5
      "48 65 6c 6c 6f", // "Hello"
    ),
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on RSV1 set, after delivering the message before it",
    bytes: hex(
      "81 85 37 fa 21 3d 7f 9f 4d 51 58", // "Hello"
      "c1", // FIN, RSV1, text
      "85 37 fa 21 3d 7f 9f 4d 51 58", // MASK, length 5, key, "Hello" masked
    ),
    messages: ["Hello"],
    ...fail(1002),
  },
  {
    name: "fails 1002 on RSV3 set",
    bytes: hex("92", "80 37 fa 21 3d"), // FIN, RSV3, binary; MASK, length 0, key
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on reserved data opcode 3",
    bytes: hex("83", "80 37 fa 21 3d"), // FIN, opcode 3; MASK, length 0, key
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on reserved control opcode 0xB",
    bytes: hex("8b", "80 37 fa 21 3d"), // FIN, opcode 11; MASK, length 0, key
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on a fragmented ping",
    bytes: hex("09", "80 37 fa 21 3d"), // no FIN, ping; MASK, length 0, key
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on a ping with a 16-bit length",
    bytes: hex(
      "89", // FIN, ping
      "fe 00 7e", // MASK, 16-bit length 126: over 125
      "37 fa 21 3d", // masking key
    ),
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on a 64-bit length with the top bit set",
    bytes: hex(
      "82", // FIN, binary
      "ff 80 00 00 00 00 00 00 00", // MASK, 64-bit length 2^63
      "37 fa 21 3d", // masking key
    ),
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1009 on a frame header over maxMessageBytes, before any payload",
    bytes: hex(
      "82", // FIN, binary
      "ff 00 00 01 00 00 00 00 00", // MASK, 64-bit length 2^40
      "37 fa 21 3d", // masking key; no payload follows
    ),
    messages: [],
    ...fail(1009),
  },
  {
    name: "fails 1009 on one byte over maxMessageBytes",
    options: { maxMessageBytes: 16 },
    bytes: hex(
      "82 91 37 fa 21 3d", // FIN, binary, MASK, length 17, masking key
      "07 cb 13 0e 03 cf 17 0a 0f c3 40 5f 54 9e 44 5b 50", // "0123456789abcdefg" masked
    ),
    messages: [],
    ...fail(1009),
  },
  {
    name: "fails 1009 when the fragments add up to more than maxMessageBytes",
    options: { maxMessageBytes: 16 },
    bytes: hex(
      "02 8a 37 fa 21 3d", // no FIN, binary, MASK, length 10, masking key
      "07 cb 13 0e 03 cf 17 0a 0f c3", // "0123456789" masked
      "80 87 37 fa 21 3d", // FIN, continuation, MASK, length 7: 17 in all
      "56 98 42 59 52 9c 46", // "abcdefg" masked
    ),
    messages: [],
    ...fail(1009),
  },
  {
    name: "fails 1002 on a continuation without a started message",
    bytes: hex("80", "81 37 fa 21 3d", "56"), // FIN, continuation; MASK, length 1, key; "a" masked
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1002 on a new text frame while a message is started",
    bytes: hex(
      "01 81 37 fa 21 3d", // no FIN, text, MASK, length 1, masking key
      "56", // "a" masked
      "81 81 37 fa 21 3d", // FIN, text: not a continuation
      "55", // "b" masked
    ),
    messages: [],
    ...fail(1002),
  },
  {
    name: "fails 1007 on a text message that is not UTF-8",
    bytes: hex("81 81 37 fa 21 3d", "c8"), // FIN, text, MASK, length 1, key; ff masked
    messages: [],
    ...fail(1007),
  },
  {
    name: "fails 1007 on a text message ending inside a UTF-8 character",
    bytes: hex("81 81 37 fa 21 3d", "f4"), // FIN, text, MASK, length 1, key; c3 masked
    messages: [],
    ...fail(1007),
  },
  {
    name: "fails 1002 on a close frame with a 1-byte payload",
    bytes: hex("88 81 37 fa 21 3d", "34"), // FIN, close, MASK, length 1, key; 03 masked
    messages: [],
    ...fail(1002),
  },
  ...([
    [999, "34 1d"], // 03 e7 masked
    [1004, "34 16"], // 03 ec masked
    [1005, "34 17"], // 03 ed masked
    [1006, "34 14"], // 03 ee masked
    [1015, "34 0d"], // 03 f7 masked
    [1016, "34 02"], // 03 f8 masked
    [2999, "3c 4d"], // 0b b7 masked
    [5000, "24 72"], // 13 88 masked
  ] as const).map(([code, masked]) => ({
    name: `fails 1002 on a close frame with code ${code}`,
    bytes: hex("88 82 37 fa 21 3d", masked), // FIN, close, MASK, length 2, masking key; code
    messages: [],
    ...fail(1002),
  })),
  {
    name: "fails 1007 on a close reason that is not UTF-8",
    bytes: hex("88 83 37 fa 21 3d", "34 12 de"), // FIN, close, MASK, length 3, key; 1000 + ff masked
    messages: [],
    ...fail(1007),
  },
];

const RANDOM_SEEDS = 8;

/** `bytes` whole, split in two at every byte, one byte at a time, and in random pieces. */
function* everySplit(bytes: Uint8Array): Generator<[string, Uint8Array[]]> {
  yield ["whole", [bytes]];
  for (const [a, b] of splitsInTwo(bytes)) yield [`split at ${a.length}`, [a, b]];
  yield ["byte by byte", [...byteByByte(bytes)]];
  for (let seed = 1; seed <= RANDOM_SEEDS; seed++) {
    yield [`random pieces, seed ${seed}`, randomPieces(bytes, seededRandom(seed), 5)];
  }
}

for (const c of frameCases) {
  Deno.test(`ServerWebSocket.feed() ${c.name}, fed whole and split every way`, async () => {
    for (const [how, pieces] of everySplit(c.bytes)) {
      const { sink, ws, r } = await opened(c.options);
      for (const piece of pieces) ws.feed(piece);
      await settle();
      assertEquals(r.messages, c.messages, `messages, ${how}`);
      assertEquals(sink.frames(), c.wrote, `frames written, ${how}`);
      if (c.closed) {
        assertEquals(ws.readyState, ServerWebSocket.CLOSED, `readyState, ${how}`);
        assertEquals(sink.closes, 1, `sink closed, ${how}`);
        assertEquals(r.closes.length, 1, `onclose once, ${how}`);
        const got = r.closes[0];
        assertEquals(
          { code: got.code, wasClean: got.wasClean },
          { code: c.closed.code, wasClean: c.closed.wasClean },
          `close, ${how}`,
        );
        if (c.closed.reason !== undefined) assertEquals(got.reason, c.closed.reason, `reason, ${how}`);
        assertEquals(r.errors, c.closed.wasClean ? 0 : 1, `onerror, ${how}`);
        assertEquals(r.events.at(-1), "close", `onclose last, ${how}`);
      } else {
        assertEquals(ws.readyState, ServerWebSocket.OPEN, `readyState, ${how}`);
        assertEquals([r.closes.length, r.errors, sink.closes], [0, 0, 0], `still open, ${how}`);
      }
    }
  });
}

Deno.test("webSocketAccept() answers RFC 6455's example key", async () => {
  // RFC 6455 1.3 and 4.2.2 give this answer (28 characters: the base64 of a 20-byte SHA-1).
  assertEquals(await webSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("ServerWebSocket.feed() takes 16-bit and 64-bit payload lengths (126, 65535, 65536 bytes)", async () => {
  for (const n of [126, 0xffff, 0x10000]) {
    const payload = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
    const frame = wsFrame(WsOpcode.Binary, payload);
    assertEquals(frame[1], n <= 0xffff ? 0x80 | 126 : 0x80 | 127, `length form for ${n}`);
    const ways: [string, Uint8Array[]][] = [
      ["whole", [frame]],
      ["split in the length", [frame.subarray(0, 3), frame.subarray(3)]],
      ["split in the key", [frame.subarray(0, frame.length - n - 1), frame.subarray(frame.length - n - 1)]],
      ["byte by byte", [...byteByByte(frame)]],
      ["random pieces", randomPieces(frame, seededRandom(n), 4096)],
    ];
    for (const [how, pieces] of ways) {
      const { ws, r } = await opened();
      for (const piece of pieces) ws.feed(piece);
      await settle();
      assertEquals(r.messages, [Array.from(payload)], `${n} bytes, ${how}`);
    }
  }
});

Deno.test("ServerWebSocket.feed() throws InvalidStateError before open()", () => {
  const ws = new ServerWebSocket(new FakeSink());
  const e = assertThrows(() => ws.feed(hex("81 80 37 fa 21 3d")), DOMException, "CONNECTING");
  assertEquals(e.name, "InvalidStateError");
});

Deno.test("ServerWebSocket.open() fires onopen in a later microtask, before messages fed right after it", async () => {
  const ws = new ServerWebSocket(new FakeSink());
  const r = record(ws);
  assertEquals(ws.readyState, ServerWebSocket.CONNECTING);
  ws.open();
  assertEquals(ws.readyState, ServerWebSocket.OPEN);
  assertEquals(r.events, [], "not inside open()");
  ws.feed(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
  assertEquals(r.events, [], "not inside feed()");
  await Promise.resolve();
  assertEquals(r.events, ["open", "message"]);
  assertThrows(() => ws.open(), DOMException, "OPEN");
});

Deno.test("ServerWebSocket.send() writes unmasked frames with 7-, 16- and 64-bit length headers", async () => {
  const forms: [number, string][] = [
    [0, "82 00"], // FIN, binary, length 0
    [125, "82 7d"], // length 125: the largest 7-bit length
    [126, "82 7e 00 7e"], // 16-bit length 126
    [65535, "82 7e ff ff"], // 16-bit length 65535
    [65536, "82 7f 00 00 00 00 00 01 00 00"], // 64-bit length 65536
  ];
  for (const [n, header] of forms) {
    const { sink, ws } = await opened();
    const payload = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
    ws.send(payload);
    assertEquals(sink.writes.length, 1, `one write for ${n}`);
    const head = hex(header);
    assertEquals(sink.writes[0], concatBytes([head, payload]), `frame for ${n}`);
  }
  const { sink, ws } = await opened();
  ws.send("é");
  ws.send(new Uint8Array([9, 8]).buffer);
  await settle();
  assertEquals(sink.frames(), ["text c3 a9", "binary 09 08"]);
});

Deno.test("ServerWebSocket.send() coalesces frames queued behind a pending write into one write", async () => {
  const { sink, ws } = await opened();
  sink.hold = true;
  ws.send(new Uint8Array(10));
  assertEquals(ws.bufferedAmount, 10);
  assertEquals(sink.writes.length, 1, "the first frame goes out at once");
  ws.send(new Uint8Array(20));
  ws.send("abc");
  assertEquals(sink.writes.length, 1, "later frames wait for the pending write");
  assertEquals(ws.bufferedAmount, 33);
  sink.release();
  await settle();
  assertEquals(sink.writes.length, 2, "everything queued goes out in one write");
  assertEquals(sink.writes[1].length, 2 + 20 + 2 + 3);
  assertEquals(serverFrames(sink.writes[1]), [`binary ${hexOf(new Uint8Array(20))}`, "text 61 62 63"]);
  assertEquals(ws.bufferedAmount, 23, "the in-flight payload still counts");
  sink.release();
  await settle();
  assertEquals(ws.bufferedAmount, 0);
  assertEquals(sink.writes.length, 2);
});

Deno.test("ServerWebSocket.send() throws InvalidStateError while CONNECTING and is ignored once CLOSING", async () => {
  const sink = new FakeSink();
  const ws = new ServerWebSocket(sink);
  const e = assertThrows(() => ws.send("x"), DOMException, "CONNECTING");
  assertEquals(e.name, "InvalidStateError");
  ws.open();
  ws.close();
  assertEquals(ws.readyState, ServerWebSocket.CLOSING);
  ws.send("ignored");
  assertEquals(ws.bufferedAmount, 0);
  ws.peerEnded();
  ws.send("ignored");
  await settle();
  assertEquals(sink.frames(), ["close 1000"]);
});

Deno.test("ServerWebSocket.close() rejects codes a server may not send and reasons over 123 bytes", async () => {
  const { ws } = await opened();
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5]) {
    assertThrows(() => ws.close(code), RangeError, `current code ${code}`);
  }
  assertThrows(() => ws.close(1000, "é".repeat(62)), SyntaxError, "124 UTF-8 bytes");
  assertEquals(ws.readyState, ServerWebSocket.OPEN);
  ws.close(1008, "é".repeat(61) + "x"); // 123 bytes: fits
  assertEquals(ws.readyState, ServerWebSocket.CLOSING);
  ws.peerEnded();
});

Deno.test("ServerWebSocket.close() sends its close frame after queued frames, then ends on the peer's close", async () => {
  const { sink, ws, r } = await opened();
  sink.hold = true;
  ws.send("a");
  ws.send("b");
  ws.close(4000, "done");
  assertEquals(ws.readyState, ServerWebSocket.CLOSING);
  sink.release();
  await settle();
  assertEquals(sink.frames(), ["text 61", "text 62", "close 4000"]);
  assertEquals(new TextDecoder().decode(sink.writes[1].subarray(-4)), "done");
  ws.close(1000); // CLOSING: nothing
  sink.release();
  ws.feed(hex("88 82 37 fa 21 3d", "3c 42")); // the peer's close 3000 (0b b8) masked
  await settle();
  assertEquals(ws.readyState, ServerWebSocket.CLOSED);
  assertEquals(sink.frames(), ["text 61", "text 62", "close 4000"], "no second close frame");
  assertEquals(sink.closes, 1);
  assertEquals(r.closes, [{ code: 3000, reason: "", wasClean: true }]);
  assertEquals(r.errors, 0);
  ws.close(); // CLOSED: nothing
  ws.peerEnded();
  await settle();
  assertEquals(r.closes.length, 1);
});

Deno.test("ServerWebSocket.close() ends with 1006 when the peer does not answer within closeWaitMs", async () => {
  const { sink, ws, r } = await opened({ closeWaitMs: 20 });
  ws.close(1001);
  await settle();
  assertEquals(ws.readyState, ServerWebSocket.CLOSING);
  assertEquals(sink.closes, 0);
  await sleep(40);
  assertEquals(ws.readyState, ServerWebSocket.CLOSED);
  assertEquals(sink.closes, 1);
  assertEquals(r.closes, [{ code: 1006, reason: "", wasClean: false }]);
  assertEquals(r.errors, 0);
});

Deno.test("ServerWebSocket.close() while CONNECTING fails the socket with 1006", async () => {
  const sink = new FakeSink();
  const ws = new ServerWebSocket(sink);
  const r = record(ws);
  ws.close();
  assertEquals(ws.readyState, ServerWebSocket.CLOSED);
  ws.open(); // too late: ignored
  await settle();
  assertEquals(sink.writes.length, 0);
  assertEquals(sink.closes, 1);
  assertEquals(r.events, ["error", "close"]);
  assertEquals(r.closes, [{ code: 1006, reason: "", wasClean: false }]);
});

Deno.test("ServerWebSocket.feed() drops messages after close() but still reads the peer's close frame", async () => {
  const { sink, ws, r } = await opened();
  ws.close();
  ws.feed(hex(
    "81 85 37 fa 21 3d 7f 9f 4d 51 58", // "Hello": dropped
    "89 80 37 fa 21 3d", // ping: no pong after our close frame
    "88 82 37 fa 21 3d 34 12", // close 1000
  ));
  await settle();
  assertEquals(r.messages, []);
  assertEquals(sink.frames(), ["close 1000"]);
  assertEquals(r.closes, [{ code: 1000, reason: "", wasClean: true }]);
});

Deno.test("ServerWebSocket.feed() answers the peer's close after the pending write, bounded by closeWaitMs", async () => {
  const { sink, ws, r } = await opened({ closeWaitMs: 20 });
  sink.hold = true;
  ws.send("stuck"); // a write that never settles
  ws.feed(hex("88 80 37 fa 21 3d")); // close without code
  await settle();
  assertEquals(ws.readyState, ServerWebSocket.CLOSING, "waits for the echo to be written");
  assertEquals(sink.closes, 0);
  await sleep(40);
  assertEquals(ws.readyState, ServerWebSocket.CLOSED);
  assertEquals(sink.closes, 1);
  assertEquals(ws.bufferedAmount, 0);
  assertEquals(r.closes, [{ code: 1005, reason: "", wasClean: true }]);
});

Deno.test("ServerWebSocket.feed() answers every ping behind a pending write, up to PONG_QUEUE_BYTES of pongs", async () => {
  const { sink, ws } = await opened();
  sink.hold = true;
  ws.send("x");
  for (let i = 0; i < 100; i++) ws.feed(wsFrame(WsOpcode.Ping, Uint8Array.of(i)));
  ws.send("y");
  sink.release();
  await settle();
  const frames = serverFrames(sink.writes[1]);
  assertEquals(frames.length, 101);
  assertEquals(frames[0], "pong 00");
  assertEquals(frames.slice(-2), ["pong 63", "text 79"]);
  // A flood past the bound: the pongs stop growing and the last one queued carries the newest payload.
  ws.send("z");
  const pings = 100_000;
  for (let i = 0; i < pings; i++) ws.feed(wsFrame(WsOpcode.Ping, Uint8Array.of(i & 0xff)));
  sink.release();
  await settle();
  const flood = serverFrames(sink.writes[2]);
  assertEquals(flood[0], "text 7a");
  assertEquals(flood.length - 1, Math.ceil(PONG_QUEUE_BYTES / 3), "pongs of 3 bytes up to the bound");
  assertEquals(flood.at(-1), `pong ${((pings - 1) & 0xff).toString(16).padStart(2, "0")}`);
  sink.release();
});

Deno.test("ServerWebSocket.peerEnded() at EOF closes with 1006 and no onerror", async () => {
  const { sink, ws, r } = await opened();
  ws.peerEnded();
  assertEquals(ws.readyState, ServerWebSocket.CLOSED);
  ws.feed(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58")); // after the end: ignored
  await settle();
  assertEquals(sink.closes, 1);
  assertEquals(sink.writes.length, 0);
  assertEquals(r.events, ["open", "close"]);
  assertEquals(r.closes, [{ code: 1006, reason: "", wasClean: false }]);
});

Deno.test("ServerWebSocket.peerEnded() with a read error fires onerror, then onclose 1006", async () => {
  const { ws, r } = await opened();
  let message = "";
  ws.onerror = (ev) => {
    r.events.push("error");
    message = (ev as ErrorEvent).message;
  };
  ws.peerEnded(new Error("connection reset"));
  await settle();
  assertEquals(r.events, ["open", "error", "close"]);
  assertEquals(message, "Cannot read: current connection failed (connection reset)");
  assertEquals(r.closes, [{ code: 1006, reason: "", wasClean: false }]);
});

Deno.test("ServerWebSocket.peerEnded() after the peer's close frame ends cleanly, once", async () => {
  const { sink, ws, r } = await opened();
  sink.hold = true;
  ws.feed(hex("88 82 37 fa 21 3d 34 13")); // close 1001 (03 e9) masked; our echo is pending
  ws.peerEnded();
  await settle();
  assertEquals(r.closes, [{ code: 1001, reason: "", wasClean: true }]);
  ws.peerEnded();
  sink.release();
  await settle();
  assertEquals(r.closes.length, 1);
  assertEquals(sink.closes, 1);
});

Deno.test("ServerWebSocket.send() ends the socket with onerror and onclose 1006 when sink.write rejects", async () => {
  const { sink, ws, r } = await opened();
  sink.hold = true;
  ws.send("a");
  ws.send("b");
  sink.fail(new Error("broken pipe"));
  await settle();
  assertEquals(ws.readyState, ServerWebSocket.CLOSED);
  assertEquals(ws.bufferedAmount, 0);
  assertEquals(sink.closes, 1);
  assertEquals(sink.writes.length, 1, "nothing more is written");
  assertEquals(r.events, ["open", "error", "close"]);
  assertEquals(r.closes, [{ code: 1006, reason: "", wasClean: false }]);
});

Deno.test("ServerWebSocket reports a handler that throws and still delivers the next events", async () => {
  const { ws, r } = await opened();
  const reported: unknown[] = [];
  const onError = (ev: ErrorEvent) => {
    ev.preventDefault();
    reported.push(ev.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    ws.onmessage = () => {
      throw new Error("handler bug");
    };
    ws.feed(hex("81 80 37 fa 21 3d")); // ""
    ws.peerEnded();
    await settle();
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  assertEquals(reported.map((e) => (e as Error).message), ["handler bug"]);
  assertEquals(r.closes.length, 1);
});

Deno.test("ServerWebSocket has WebSocket's readyState numbers, static and on instances", () => {
  const ws = new ServerWebSocket(new FakeSink());
  assertEquals(
    [ServerWebSocket.CONNECTING, ServerWebSocket.OPEN, ServerWebSocket.CLOSING, ServerWebSocket.CLOSED],
    [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
  );
  assertEquals([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
  assertEquals(ws.binaryType, "arraybuffer");
});

Deno.test("new ServerWebSocket() rejects a bad maxMessageBytes or closeWaitMs", () => {
  const sink = new FakeSink();
  assertThrows(
    () => new ServerWebSocket(sink, { maxMessageBytes: 0 }),
    RangeError,
    "current maxMessageBytes 0",
  );
  assertThrows(() => new ServerWebSocket(sink, { closeWaitMs: -1 }), RangeError, "current closeWaitMs -1");
});

Deno.test("ServerWebSocket.sendShared() frames a payload once: two sockets write the same frame", async () => {
  const a = await opened();
  const b = await opened();
  const batch = new Uint8Array(300).fill(9);
  a.ws.sendShared(batch);
  b.ws.sendShared(batch);
  await settle();
  assertEquals(a.sink.writes[0], b.sink.writes[0]);
  assert(a.sink.given[0] === b.sink.given[0], "the same buffer, not a copy");
  assertEquals(serverFrames(a.sink.writes[0]), [`binary ${Array(300).fill("09").join(" ")}`]);
  assertEquals(a.ws.bufferedAmount, 0, "written");
});
