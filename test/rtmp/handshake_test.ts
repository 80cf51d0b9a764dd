import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import {
  ClientHandshake,
  DEFAULT_SERVER_VERSION,
  digestOffset,
  DigestSchema,
  findDigest,
  GENUINE_FMS_KEY,
  GENUINE_FP_KEY,
  HANDSHAKE_SIZE,
  HandshakeKind,
  type HandshakeStep,
  ServerHandshake,
} from "../../src/rtmp/handshake.ts";
import { decodeCommand } from "../../src/rtmp/command.ts";
import { MessageType } from "../../src/rtmp/message.ts";
import { ProtocolError } from "../../src/errors.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { seededRandom } from "../_util/mutate.ts";
import { concatBytes } from "../../src/bytes.ts";

/** Deterministic randomness so a failing case repeats. */
function fakeRandom(seed: number): (b: Uint8Array) => void {
  const random = seededRandom(seed);
  return (b) => {
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256);
  };
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(at);
}

/** Runs a client against a server in memory; returns both and the server's first answer. */
function exchange(client: ClientHandshake, server: ServerHandshake): { s0s1s2: Uint8Array; c2: Uint8Array } {
  const first = server.feed(client.start());
  assertEquals(first.output.length, 1);
  const s0s1s2 = first.output[0];
  const reply = client.feed(s0s1s2);
  assert(reply.done);
  const c2 = reply.output[0];
  const last = server.feed(c2);
  assert(last.done);
  assertEquals(last.output, []);
  return { s0s1s2, c2 };
}

async function webCryptoHmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, new Uint8Array(data)));
}

Deno.test("GENUINE_FP_KEY and GENUINE_FMS_KEY are the text followed by the shared 32 bytes", () => {
  assertEquals(GENUINE_FP_KEY.length, 62);
  assertEquals(GENUINE_FMS_KEY.length, 68);
  assertEquals(new TextDecoder().decode(GENUINE_FP_KEY.subarray(0, 30)), "Genuine Adobe Flash Player 001");
  assertEquals(
    new TextDecoder().decode(GENUINE_FMS_KEY.subarray(0, 36)),
    "Genuine Adobe Flash Media Server 001",
  );
  const tail = hex(`f0 ee c2 4a 80 68 be e8 2e 00 d0 d1 02 9e 7e 57
                    6e ec 5d 2d 29 80 6f ab 93 b8 e6 36 cf eb 31 ae`);
  assertEquals(GENUINE_FP_KEY.subarray(30), tail);
  assertEquals(GENUINE_FMS_KEY.subarray(36), tail);
});

Deno.test("digestOffset() places the digest inside the digest block for both schemas", () => {
  const packet = new Uint8Array(HANDSHAKE_SIZE);
  packet.set([0xff, 0xff, 0xff, 0xff], 8); // 1020 % 728 = 292
  packet.set([1, 0, 0, 0], 772);
  assertEquals(digestOffset(packet, DigestSchema.DigestFirst), 292 + 12);
  assertEquals(digestOffset(packet, DigestSchema.KeyFirst), 1 + 776);
  packet.fill(0xff, 772, 776);
  assertEquals(digestOffset(packet, DigestSchema.KeyFirst) + 32, 292 + 776 + 32); // ends at 1100, inside 1536
});

Deno.test("ServerHandshake.feed() answers a version-0 C1 with a simple S1 and an S2 echoing C1", () => {
  const c1 = new Uint8Array(HANDSHAKE_SIZE);
  fakeRandom(1)(c1);
  c1.set([0, 0, 0x12, 0x34, 0, 0, 0, 0]); // time 0x1234, zero
  const server = new ServerHandshake({ time: () => 777, random: fakeRandom(2) });
  const step = server.feed(concat(Uint8Array.of(3), c1));
  assertEquals(step.done, false);
  assertEquals(step.output.length, 1);
  const out = step.output[0];
  assertEquals(out.length, 1 + 2 * HANDSHAKE_SIZE);
  assertEquals(out[0], 3); // S0 version
  const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = out.subarray(1 + HANDSHAKE_SIZE);
  assertEquals(u32(s1, 0), 777); // S1 time
  assertEquals(u32(s1, 4), 0); // S1 zero: simple
  assertEquals(u32(s2, 0), 0x1234); // S2 time: C1's
  assertEquals(u32(s2, 4), 777); // S2 time2: when C1 was read
  assertEquals(s2.subarray(8), c1.subarray(8)); // random echo
  assertEquals(server.kind, HandshakeKind.Simple);
  assertEquals(server.clientVersion, 0);
});

Deno.test("ServerHandshake and ClientHandshake complete a simple handshake", () => {
  const client = new ClientHandshake({ random: fakeRandom(3) });
  const server = new ServerHandshake({ random: fakeRandom(4) });
  exchange(client, server);
  assert(server.done && client.done);
  assertEquals(server.kind, HandshakeKind.Simple);
  assertEquals(client.kind, HandshakeKind.Simple);
  assertEquals(server.c2Verified, true);
  assertEquals(client.s2Echoed, true);
});

for (const schema of [DigestSchema.DigestFirst, DigestSchema.KeyFirst]) {
  Deno.test(`ServerHandshake and ClientHandshake complete a digest handshake with schema ${schema}`, () => {
    const client = new ClientHandshake({ digest: true, schema, random: fakeRandom(5 + schema) });
    const server = new ServerHandshake({ random: fakeRandom(7 + schema) });
    exchange(client, server);
    assertEquals(server.kind, HandshakeKind.Digest);
    assertEquals(server.digestSchema, schema);
    assertEquals(server.clientVersion, 0x09007c02);
    assertEquals(server.c2Verified, true);
    assertEquals(client.kind, HandshakeKind.Digest);
    assertEquals(client.serverVersion, DEFAULT_SERVER_VERSION);
  });
}

Deno.test("ServerHandshake.feed() writes an S1 digest and S2 signature that WebCrypto's HMAC agrees with", async () => {
  const client = new ClientHandshake({ digest: true, random: fakeRandom(9) });
  const c0c1 = client.start();
  const c1 = c0c1.subarray(1);
  const server = new ServerHandshake({ random: fakeRandom(10) });
  const out = server.feed(c0c1).output[0];
  const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = out.subarray(1 + HANDSHAKE_SIZE);

  const c1At = digestOffset(c1, DigestSchema.DigestFirst);
  const c1Digest = c1.subarray(c1At, c1At + 32);
  const s1At = digestOffset(s1, DigestSchema.DigestFirst);
  const s1Expected = await webCryptoHmac(
    GENUINE_FMS_KEY.subarray(0, 36),
    concat(s1.subarray(0, s1At), s1.subarray(s1At + 32)),
  );
  assertEquals(toHex(s1.subarray(s1At, s1At + 32)), toHex(s1Expected));

  const s2Key = await webCryptoHmac(GENUINE_FMS_KEY, c1Digest);
  assertEquals(toHex(s2.subarray(1504)), toHex(await webCryptoHmac(s2Key, s2.subarray(0, 1504))));
});

Deno.test("ServerHandshake.feed() falls back to simple for a C1 with a version but no valid digest", () => {
  const c1 = new Uint8Array(HANDSHAKE_SIZE);
  fakeRandom(11)(c1);
  c1.set([0x80, 0x00, 0x07, 0x02], 4);
  const server = new ServerHandshake({ random: fakeRandom(12) });
  const out = server.feed(concat(Uint8Array.of(3), c1)).output[0];
  assertEquals(server.kind, HandshakeKind.Simple);
  assertEquals(server.clientVersion, 0x80000702);
  assertEquals(u32(out, 1 + 4), 0);
  assertEquals(out.subarray(1 + HANDSHAKE_SIZE + 8), c1.subarray(8));
  assertEquals(findDigest(c1, GENUINE_FP_KEY.subarray(0, 30)), undefined);
});

Deno.test("ServerHandshake.feed() refuses C0 version 6 as soon as it arrives", () => {
  const server = new ServerHandshake();
  const e = assertThrows(() => server.feed(Uint8Array.of(6)), ProtocolError);
  assertEquals(e.message, "Cannot handshake: current version 6 in C0");
});

Deno.test("ServerHandshake.feed() takes its input one byte at a time", () => {
  const client = new ClientHandshake({ digest: true, random: fakeRandom(13) });
  const server = new ServerHandshake({ random: fakeRandom(14) });
  const c0c1 = client.start();
  const outputs: Uint8Array[] = [];
  for (let i = 0; i < c0c1.length; i++) {
    const step = server.feed(c0c1.subarray(i, i + 1));
    outputs.push(...step.output);
    assertEquals(step.output.length, i === c0c1.length - 1 ? 1 : 0);
  }
  let reply: HandshakeStep = { output: [], done: false };
  for (let i = 0; i < outputs[0].length; i++) reply = client.feed(outputs[0].subarray(i, i + 1));
  assert(reply.done);
  const c2 = reply.output[0];
  let last: HandshakeStep = { output: [], done: false };
  for (let i = 0; i < c2.length; i++) {
    assertEquals(last.done, false);
    last = server.feed(c2.subarray(i, i + 1));
  }
  assert(last.done);
  assertEquals(last.rest, undefined);
  assertEquals(server.c2Verified, true);
});

Deno.test("ServerHandshake.feed() hands back the bytes after C2 as an owned rest", () => {
  const client = new ClientHandshake({ random: fakeRandom(15) });
  const server = new ServerHandshake({ random: fakeRandom(16) });
  const out = server.feed(client.start()).output[0];
  const c2 = client.feed(out).output[0];
  const input = concat(c2, hex(`03 00 00 00`)); // C2, then the start of a chunk
  const step = server.feed(input);
  assert(step.done);
  assertEquals(step.rest, hex(`03 00 00 00`));
  input[HANDSHAKE_SIZE] = 0xff;
  assertEquals(step.rest![0], 0x03);
});

Deno.test("ServerHandshake.feed() takes C0, C1 and C2 in one call", () => {
  const c1 = new Uint8Array(HANDSHAKE_SIZE);
  const step = new ServerHandshake().feed(concat(Uint8Array.of(3), c1, new Uint8Array(HANDSHAKE_SIZE + 2)));
  assert(step.done);
  assertEquals(step.output.length, 1);
  assertEquals(step.rest?.length, 2);
});

Deno.test("ServerHandshake.feed() throws TypeError after the handshake is done", () => {
  const server = new ServerHandshake();
  server.feed(new Uint8Array(1 + 2 * HANDSHAKE_SIZE).fill(3, 0, 1));
  assertThrows(() => server.feed(Uint8Array.of(0)), TypeError);
});

Deno.test("ServerHandshake marks a C2 that is not the S1 echo as unverified but completes", () => {
  const server = new ServerHandshake();
  server.feed(concat(Uint8Array.of(3), new Uint8Array(HANDSHAKE_SIZE)));
  const step = server.feed(new Uint8Array(HANDSHAKE_SIZE).fill(0xaa));
  assert(step.done);
  assertEquals(server.c2Verified, false);
});

Deno.test("ClientHandshake.feed() refuses an S1 whose digest does not verify", () => {
  const client = new ClientHandshake({ digest: true, random: fakeRandom(17) });
  const out = new ServerHandshake({ random: fakeRandom(18) }).feed(client.start()).output[0].slice();
  const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
  const at = digestOffset(s1, DigestSchema.DigestFirst);
  s1[at] ^= 1;
  assertThrows(() => client.feed(out), ProtocolError, "Cannot handshake: current S1 digest does not verify");
});

Deno.test("ClientHandshake.feed() refuses an S2 whose signature does not verify", () => {
  const client = new ClientHandshake({ digest: true, random: fakeRandom(19) });
  const out = new ServerHandshake({ random: fakeRandom(20) }).feed(client.start()).output[0].slice();
  out[out.length - 1] ^= 1;
  assertThrows(
    () => client.feed(out),
    ProtocolError,
    "Cannot handshake: current S2 signature does not verify",
  );
});

Deno.test("ClientHandshake in digest mode accepts a server answering with version 0 as simple", () => {
  const client = new ClientHandshake({ digest: true, random: fakeRandom(21) });
  const c1 = client.start().subarray(1);
  const s1 = new Uint8Array(HANDSHAKE_SIZE).fill(7, 8);
  const s2 = c1.slice();
  const step = client.feed(concat(Uint8Array.of(3), s1, s2));
  assert(step.done);
  assertEquals(client.kind, HandshakeKind.Simple);
  assertEquals(client.s2Echoed, true);
  assertEquals(step.output[0].subarray(8), s1.subarray(8)); // C2 echoes S1
});

Deno.test("ClientHandshake refuses misuse and a bad S0 version", () => {
  assertThrows(() => new ClientHandshake().feed(Uint8Array.of(3)), TypeError);
  const client = new ClientHandshake();
  client.start();
  assertThrows(() => client.start(), TypeError);
  assertThrows(
    () => client.feed(Uint8Array.of(31)),
    ProtocolError,
    "Cannot handshake: current version 31 in S0",
  );
});

// ---- Real clients: ffmpeg (digest C1), rtmpdump (simple), rtmpdump with SWF verification (digest) ----

function hasBinary(name: string): boolean {
  try {
    return new Deno.Command(name, { args: ["-h"], stdout: "null", stderr: "null" }).outputSync() !==
      undefined;
  } catch {
    return false;
  }
}

/** Rejects after `ms`; the losing promise's later rejection is swallowed. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  promise.catch(() => {});
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reassembles the first message of a chunk stream that starts with a type-0
 * chunk header and uses the default chunk size of 128 (5.3.1): enough to read
 * a client's connect. Returns undefined while bytes are missing.
 */
function firstMessage(bytes: Uint8Array): { csid: number; typeId: number; payload: Uint8Array } | undefined {
  if (bytes.length < 12) return undefined;
  assertEquals(bytes[0] >> 6, 0, "first chunk has a type-0 header");
  const csid = bytes[0] & 0x3f;
  const length = (bytes[4] << 16) | (bytes[5] << 8) | bytes[6];
  const typeId = bytes[7];
  const payload = new Uint8Array(length);
  let at = 12;
  for (let filled = 0; filled < length;) {
    if (filled > 0) {
      if (at >= bytes.length) return undefined;
      assertEquals(bytes[at], 0xc0 | csid, "continuation chunk has a type-3 header on the same chunk stream");
      at++;
    }
    const n = Math.min(128, length - filled);
    if (at + n > bytes.length) return undefined;
    payload.set(bytes.subarray(at, at + n), filled);
    filled += n;
    at += n;
  }
  return { csid, typeId, payload };
}

/** Serves one handshake to a real client and reads its first message. */
async function serveRealClient(argv: (port: number) => string[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const [cmd, ...args] = argv(port);
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    signal: AbortSignal.timeout(20_000),
  }).spawn();
  try {
    const conn = await withTimeout(listener.accept(), 10_000, `${cmd} to connect`);
    try {
      const server = new ServerHandshake();
      const buf = new Uint8Array(16384);
      let after: Uint8Array = new Uint8Array(0);
      while (!server.done) {
        const n = await withTimeout(conn.read(buf), 10_000, `${cmd} handshake bytes`);
        if (n === null) throw new Error(`${cmd} closed the connection during the handshake`);
        const step = server.feed(buf.subarray(0, n));
        for (const out of step.output) await conn.write(out);
        if (step.done) after = step.rest ?? new Uint8Array(0);
      }
      let msg = firstMessage(after);
      while (msg === undefined) {
        const n = await withTimeout(conn.read(buf), 10_000, `${cmd}'s first chunk after C2`);
        if (n === null) throw new Error(`${cmd} closed the connection after the handshake`);
        after = concat(after, buf.subarray(0, n));
        msg = firstMessage(after);
      }
      return { server, msg, port };
    } finally {
      conn.close();
    }
  } finally {
    listener.close();
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }
}

function assertConnect(msg: { typeId: number; payload: Uint8Array }, port: number): Record<string, unknown> {
  assertEquals(msg.typeId, MessageType.CommandAmf0);
  const command = decodeCommand({
    csid: 3,
    typeId: msg.typeId,
    streamId: 0,
    timestamp: 0,
    payload: msg.payload,
  });
  assertEquals(command.name, "connect");
  assertEquals(command.transactionId, 1);
  const object = command.commandObject as Record<string, unknown>;
  assertEquals(object.app, "live");
  assertEquals(object.tcUrl, `rtmp://127.0.0.1:${port}/live`);
  return object;
}

const realClientTest = { sanitizeResources: true, sanitizeOps: true };

Deno.test({
  name: "ServerHandshake completes a digest handshake with ffmpeg, which then sends connect",
  ignore: !hasBinary("ffmpeg"),
  ...realClientTest,
  fn: async () => {
    const { server, msg, port } = await serveRealClient((port) => [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "quiet",
      "-i",
      `rtmp://127.0.0.1:${port}/live/x`,
      "-f",
      "null",
      "-",
    ]);
    assertEquals(server.kind, HandshakeKind.Digest);
    assertEquals(server.digestSchema, DigestSchema.DigestFirst);
    assertEquals(server.c2Verified, true);
    const object = assertConnect(msg, port);
    assertEquals(object.flashVer, "LNX 9,0,124,2");
  },
});

Deno.test({
  name: "ServerHandshake completes a simple handshake with rtmpdump, which then sends connect",
  ignore: !hasBinary("rtmpdump"),
  ...realClientTest,
  fn: async () => {
    const { server, msg, port } = await serveRealClient((port) => [
      "rtmpdump",
      "-q",
      "-r",
      `rtmp://127.0.0.1:${port}/live/x`,
      "--live",
      "-o",
      "/dev/null",
    ]);
    assertEquals(server.kind, HandshakeKind.Simple);
    assertEquals(server.clientVersion, 0);
    assertEquals(server.c2Verified, true);
    assertConnect(msg, port);
  },
});

Deno.test({
  name: "ServerHandshake completes a digest handshake with rtmpdump in SWF-verification mode",
  ignore: !hasBinary("rtmpdump"),
  ...realClientTest,
  fn: async () => {
    // A SWF hash and size make librtmp use its Flash Player 9 (digest) handshake.
    const { server, msg, port } = await serveRealClient((port) => [
      "rtmpdump",
      "-q",
      "-r",
      `rtmp://127.0.0.1:${port}/live/x`,
      "--live",
      "-w",
      "00".repeat(31) + "01",
      "-x",
      "12345",
      "-o",
      "/dev/null",
    ]);
    assertEquals(server.kind, HandshakeKind.Digest);
    assertEquals(server.c2Verified, true);
    assertConnect(msg, port);
  },
});
