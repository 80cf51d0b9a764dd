/**
 * The RTMP handshake (Adobe RTMP Specification 1.0, 5.2), both sides, without
 * sockets: feed the bytes read, write the bytes returned.
 *
 * Two variants share the wire format (C0/S0 one version byte, then three
 * 1536-byte packets each way):
 *
 * - **Simple** (5.2.3 to 5.2.4): C1/S1 are time + zero + random; C2/S2 echo
 *   the peer's packet with the read time filled in.
 * - **Digest** (the Flash Player 9+ handshake, not in the 1.0 spec; as in
 *   librtmp, ffmpeg and nginx-rtmp): C1 carries a version (bytes 4..7,
 *   non-zero) and an HMAC-SHA256 digest placed by one of two schemas
 *   ({@linkcode DigestSchema}), keyed with the first 30 bytes of
 *   {@linkcode GENUINE_FP_KEY}. The server answers with an S1 digested the same
 *   way under the first 36 bytes of {@linkcode GENUINE_FMS_KEY}, and an S2
 *   whose last 32 bytes are the HMAC of its first 1504 under the key
 *   HMAC(full FMS key, C1 digest). The client's C2 mirrors that with the full
 *   FP key and the S1 digest. Flash players and ffmpeg refuse a server that
 *   does not answer a digest C1 this way.
 *
 * {@linkcode ServerHandshake} answers a digest C1 with the digest handshake and
 * anything else (version 0, or a digest that does not verify) with the simple
 * one. {@linkcode ClientHandshake} sends either.
 *
 * Input is bounded: each side copies only the bytes of the packet it is
 * waiting for into fixed buffers; bytes after the last packet are handed back
 * as `rest` (clients often send their first chunk right behind C2).
 * Timeouts belong to the session. HMACs are synchronous (`hmac_sha256.ts`).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { hmacSha256 } from "./hmac_sha256.ts";

/** The version byte of C0/S0 (5.2.2): 3 is plain RTMP. */
export const RTMP_VERSION = 3;

/** Size of C1, S1, C2 and S2 (5.2.3). */
export const HANDSHAKE_SIZE = 1536;

/** Size of an HMAC-SHA256 digest. */
const DIGEST_SIZE = 32;

/** The bytes that follow the text in both Genuine keys. */
const KEY_TAIL = [
  0xf0,
  0xee,
  0xc2,
  0x4a,
  0x80,
  0x68,
  0xbe,
  0xe8,
  0x2e,
  0x00,
  0xd0,
  0xd1,
  0x02,
  0x9e,
  0x7e,
  0x57,
  0x6e,
  0xec,
  0x5d,
  0x2d,
  0x29,
  0x80,
  0x6f,
  0xab,
  0x93,
  0xb8,
  0xe6,
  0x36,
  0xcf,
  0xeb,
  0x31,
  0xae,
];

function genuineKey(text: string): Uint8Array {
  return Uint8Array.from([...new TextEncoder().encode(text), ...KEY_TAIL]);
}

/**
 * The client key, 62 bytes: "Genuine Adobe Flash Player 001" + 32 bytes.
 * C1 digests use its first 30 bytes; C2 signatures use all of it.
 */
export const GENUINE_FP_KEY: Uint8Array = genuineKey("Genuine Adobe Flash Player 001");

/**
 * The server key, 68 bytes: "Genuine Adobe Flash Media Server 001" + 32 bytes.
 * S1 digests use its first 36 bytes; S2 signatures use all of it.
 */
export const GENUINE_FMS_KEY: Uint8Array = genuineKey("Genuine Adobe Flash Media Server 001");

const FP_PARTIAL_KEY = GENUINE_FP_KEY.subarray(0, 30);
const FMS_PARTIAL_KEY = GENUINE_FMS_KEY.subarray(0, 36);

/**
 * Where the digest sits in a digest-handshake C1 or S1. A 1536-byte packet is
 * time (4) + version (4) + two 764-byte blocks; the digest block holds four
 * offset bytes whose sum places the 32-byte digest inside the block.
 */
export const DigestSchema = {
  /** Digest block first: offset = (bytes 8..11 summed) % 728 + 12. librtmp's and ffmpeg's default. */
  DigestFirst: 0,
  /** Key block first: offset = (bytes 772..775 summed) % 728 + 776. */
  KeyFirst: 1,
} as const;
export type DigestSchema = typeof DigestSchema[keyof typeof DigestSchema];

/** Which handshake the peers are doing. */
export const HandshakeKind = {
  /** 5.2.3: no digests. */
  Simple: "simple",
  /** Flash Player 9+: HMAC-SHA256 digests in C1/S1 and signatures in C2/S2. */
  Digest: "digest",
} as const;
export type HandshakeKind = typeof HandshakeKind[keyof typeof HandshakeKind];

/** The server version Sluice writes into a digest S1 (any non-zero value works; this is nginx-rtmp's). */
export const DEFAULT_SERVER_VERSION = 0x0d0e0a0d;

/** The client version ClientHandshake writes into a digest C1 (Flash Player 9.0.124.2, as ffmpeg). */
export const DEFAULT_CLIENT_VERSION = 0x09007c02;

/** What one `feed` produced. */
export interface HandshakeStep {
  /** Bytes to write to the peer, in order; owned by the caller. Empty while waiting for more input. */
  output: Uint8Array[];
  /** True once the handshake is complete; the next bytes are chunks. */
  done: boolean;
  /** Bytes fed after the last handshake packet (the start of the chunk stream); an owned copy. */
  rest?: Uint8Array;
}

/** Options shared by both sides; tests inject time and randomness. */
export interface HandshakeOptions {
  /** Milliseconds for the time fields (u32). Default: milliseconds since the object was made. */
  time?: () => number;
  /** Fills a buffer with random bytes. Default: `crypto.getRandomValues`. */
  random?: (bytes: Uint8Array) => void;
}

/** Server-side options. */
export interface ServerHandshakeOptions extends HandshakeOptions {
  /** Version written into a digest S1 (non-zero). Default {@linkcode DEFAULT_SERVER_VERSION}. */
  serverVersion?: number;
}

/** Client-side options. */
export interface ClientHandshakeOptions extends HandshakeOptions {
  /** Send a digest C1 (and expect digests back). Default false: simple handshake. */
  digest?: boolean;
  /** Where to put the C1 digest. Default {@linkcode DigestSchema.DigestFirst}. */
  schema?: DigestSchema;
  /** Version written into a digest C1 (non-zero). Default {@linkcode DEFAULT_CLIENT_VERSION}. */
  clientVersion?: number;
}

/** Offset of the digest in a 1536-byte packet under `schema`. */
export function digestOffset(packet: Uint8Array, schema: DigestSchema): number {
  const at = schema === DigestSchema.DigestFirst ? 8 : 772;
  const sum = packet[at] + packet[at + 1] + packet[at + 2] + packet[at + 3];
  return (sum % 728) + at + 4;
}

/** HMAC of the packet without its 32 digest bytes at `offset`. */
function packetDigest(packet: Uint8Array, offset: number, key: Uint8Array): Uint8Array {
  return hmacSha256(key, packet.subarray(0, offset), packet.subarray(offset + DIGEST_SIZE));
}

/**
 * Finds a valid digest in `packet` under `key`, trying both schemas.
 * Returns the schema and the 32 digest bytes, or undefined.
 */
export function findDigest(
  packet: Uint8Array,
  key: Uint8Array,
): { schema: DigestSchema; digest: Uint8Array } | undefined {
  for (const schema of [DigestSchema.DigestFirst, DigestSchema.KeyFirst]) {
    const offset = digestOffset(packet, schema);
    const digest = packet.subarray(offset, offset + DIGEST_SIZE);
    if (equalBytes(packetDigest(packet, offset, key), digest)) return { schema, digest: digest.slice() };
  }
  return undefined;
}

/** Writes the digest of `packet` under `key` at its `schema` offset; returns a copy of the digest. */
function writeDigest(packet: Uint8Array, schema: DigestSchema, key: Uint8Array): Uint8Array {
  const offset = digestOffset(packet, schema);
  const digest = packetDigest(packet, offset, key);
  packet.set(digest, offset);
  return digest;
}

/** Fills the last 32 bytes of `packet` with HMAC(HMAC(fullKey, peerDigest), first 1504 bytes). */
function signPacket(packet: Uint8Array, fullKey: Uint8Array, peerDigest: Uint8Array): void {
  packet.set(packetSignature(packet, fullKey, peerDigest), HANDSHAKE_SIZE - DIGEST_SIZE);
}

function packetSignature(packet: Uint8Array, fullKey: Uint8Array, peerDigest: Uint8Array): Uint8Array {
  const key = hmacSha256(fullKey, peerDigest);
  return hmacSha256(key, packet.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE));
}

function hasSignature(packet: Uint8Array, fullKey: Uint8Array, peerDigest: Uint8Array): boolean {
  return equalBytes(
    packetSignature(packet, fullKey, peerDigest),
    packet.subarray(HANDSHAKE_SIZE - DIGEST_SIZE),
  );
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

function checkVersion(version: number, who: string): void {
  if (version !== RTMP_VERSION) {
    throw new ProtocolError("handshake_version", `Cannot handshake: current version ${version} in ${who}`);
  }
}

/** Collects exactly `size` bytes across feeds into a fixed buffer. */
class Packet {
  readonly bytes: Uint8Array;
  filled = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  get full(): boolean {
    return this.filled === this.bytes.length;
  }

  /** Copies what fits from `input` starting at `at`; returns the new `at`. */
  take(input: Uint8Array, at: number): number {
    const n = Math.min(this.bytes.length - this.filled, input.length - at);
    this.bytes.set(input.subarray(at, at + n), this.filled);
    this.filled += n;
    return at + n;
  }
}

/** Shared clock and randomness. */
abstract class Side {
  readonly #time: () => number;
  readonly #random: (bytes: Uint8Array) => void;

  constructor(options: HandshakeOptions) {
    const epoch = performance.now();
    this.#time = options.time ?? (() => Math.floor(performance.now() - epoch));
    this.#random = options.random ?? ((b) => crypto.getRandomValues(b));
  }

  protected now(): number {
    return this.#time() >>> 0;
  }

  protected randomPacket(): Uint8Array {
    const packet = new Uint8Array(HANDSHAKE_SIZE);
    this.#random(packet);
    return packet;
  }

  /** 5.2.4: echo of the peer's packet with time2 = when we read it. */
  protected echo(peer: Uint8Array, readAt: number): Uint8Array {
    const packet = peer.slice();
    writeU32(packet, 4, readAt);
    return packet;
  }
}

/**
 * The server side: reads C0+C1, answers S0+S1+S2 in one buffer, reads C2.
 *
 * ```ts
 * const hs = new ServerHandshake();
 * for await (const bytes of reads) {
 *   const step = hs.feed(bytes);
 *   for (const out of step.output) await conn.write(out);
 *   if (step.done) { startChunks(step.rest); break; }
 * }
 * ```
 */
export class ServerHandshake extends Side {
  /** The handshake chosen after C1; undefined before. */
  kind: HandshakeKind | undefined;
  /** The version field of C1 (bytes 4..7); 0 for simple clients. */
  clientVersion: number | undefined;
  /** Where the C1 digest was found (digest handshakes only). */
  digestSchema: DigestSchema | undefined;
  /**
   * Whether C2 is what it should be: in a digest handshake, signed with the
   * S1 digest; in a simple one, an echo of S1. Informational: Sluice does not
   * refuse a client for it, as nginx-rtmp and SRS do not. Undefined before C2.
   * Checked when first asked (nothing in the server asks: with hundreds of
   * joiners a second, comparing 1.5 KB each was measurable).
   */
  get c2Verified(): boolean | undefined {
    if (!this.#c2Done) return undefined;
    this.#c2Verified ??= this.#checkC2(this.#c2.bytes);
    return this.#c2Verified;
  }
  #c2Done = false;
  #c2Verified: boolean | undefined;

  readonly #serverVersion: number;
  #c0 = new Packet(1);
  #c1 = new Packet(HANDSHAKE_SIZE);
  #c2 = new Packet(HANDSHAKE_SIZE);
  #s1: Uint8Array | undefined;
  #s1Digest: Uint8Array | undefined;
  #done = false;

  constructor(options: ServerHandshakeOptions = {}) {
    super(options);
    const version = options.serverVersion ?? DEFAULT_SERVER_VERSION;
    if (!Number.isInteger(version) || version <= 0 || version > 0xffffffff) {
      throw new RangeError(
        `Cannot create ServerHandshake: current serverVersion ${version}, allowed 1..4294967295`,
      );
    }
    this.#serverVersion = version;
  }

  /** True once C2 has been read. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Takes the next bytes from the client. Throws ProtocolError for a C0
   * version other than 3; TypeError if called after the handshake is done.
   */
  feed(bytes: Uint8Array): HandshakeStep {
    if (this.#done) throw new TypeError("Cannot feed ServerHandshake: current state is done");
    const output: Uint8Array[] = [];
    let at = 0;
    if (!this.#c0.full) {
      at = this.#c0.take(bytes, at);
      if (this.#c0.full) checkVersion(this.#c0.bytes[0], "C0");
    }
    if (this.#c0.full && !this.#c1.full) {
      at = this.#c1.take(bytes, at);
      if (this.#c1.full) output.push(this.#answer(this.#c1.bytes));
    }
    if (this.#c1.full) {
      at = this.#c2.take(bytes, at);
      if (this.#c2.full) {
        this.#c2Done = true;
        this.#done = true;
        return { output, done: true, rest: at < bytes.length ? bytes.slice(at) : undefined };
      }
    }
    return { output, done: false };
  }

  /** S0 + S1 + S2 for this C1. */
  #answer(c1: Uint8Array): Uint8Array {
    const readAt = this.now();
    this.clientVersion = readU32(c1, 4);
    const found = this.clientVersion === 0 ? undefined : findDigest(c1, FP_PARTIAL_KEY);
    const s1 = this.randomPacket();
    writeU32(s1, 0, readAt);
    let s2: Uint8Array;
    if (found === undefined) {
      this.kind = HandshakeKind.Simple;
      writeU32(s1, 4, 0);
      s2 = this.echo(c1, readAt);
    } else {
      this.kind = HandshakeKind.Digest;
      this.digestSchema = found.schema;
      writeU32(s1, 4, this.#serverVersion);
      this.#s1Digest = writeDigest(s1, found.schema, FMS_PARTIAL_KEY);
      s2 = this.randomPacket();
      signPacket(s2, GENUINE_FMS_KEY, found.digest);
    }
    this.#s1 = s1;
    const out = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    out.set(s1, 1);
    out.set(s2, 1 + HANDSHAKE_SIZE);
    return out;
  }

  #checkC2(c2: Uint8Array): boolean {
    if (this.kind === HandshakeKind.Digest) return hasSignature(c2, GENUINE_FP_KEY, this.#s1Digest!);
    return equalBytes(c2.subarray(8), this.#s1!.subarray(8));
  }
}

/**
 * The client side: {@linkcode ClientHandshake.start} gives C0+C1; feed S0+S1+S2
 * and get C2. In digest mode a server that answers with a version (non-zero S1
 * bytes 4..7) must carry a valid S1 digest and S2 signature, or the handshake
 * fails with ProtocolError; a server that answers with version 0 is taken as a
 * simple server.
 */
export class ClientHandshake extends Side {
  /** The handshake the server answered with; undefined before S1. */
  kind: HandshakeKind | undefined;
  /** The version field of S1 (bytes 4..7); 0 for simple servers. */
  serverVersion: number | undefined;
  /** In a simple handshake, whether S2 echoes C1 (informational). Undefined before S2. */
  s2Echoed: boolean | undefined;

  readonly #digest: boolean;
  readonly #schema: DigestSchema;
  readonly #clientVersion: number;
  #c1: Uint8Array | undefined;
  #c1Digest: Uint8Array | undefined;
  #s0 = new Packet(1);
  #s1 = new Packet(HANDSHAKE_SIZE);
  #s2 = new Packet(HANDSHAKE_SIZE);
  #s1ReadAt = 0;
  #done = false;

  constructor(options: ClientHandshakeOptions = {}) {
    super(options);
    this.#digest = options.digest ?? false;
    this.#schema = options.schema ?? DigestSchema.DigestFirst;
    const version = options.clientVersion ?? DEFAULT_CLIENT_VERSION;
    if (this.#digest && (!Number.isInteger(version) || version <= 0 || version > 0xffffffff)) {
      throw new RangeError(
        `Cannot create ClientHandshake: current clientVersion ${version}, allowed 1..4294967295`,
      );
    }
    this.#clientVersion = this.#digest ? version : 0;
  }

  /** True once S2 has been read and C2 produced. */
  get done(): boolean {
    return this.#done;
  }

  /** C0 + C1, to write first. Call once. */
  start(): Uint8Array {
    if (this.#c1 !== undefined) throw new TypeError("Cannot start ClientHandshake: current state is started");
    const c1 = this.randomPacket();
    writeU32(c1, 0, this.now());
    writeU32(c1, 4, this.#clientVersion);
    if (this.#digest) this.#c1Digest = writeDigest(c1, this.#schema, FP_PARTIAL_KEY);
    this.#c1 = c1;
    const out = new Uint8Array(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    out.set(c1, 1);
    return out;
  }

  /**
   * Takes the next bytes from the server; returns C2 once S0+S1+S2 are in.
   * Throws ProtocolError for a bad S0 version or, in digest mode, an S1/S2
   * that does not verify; TypeError if called before start or after done.
   */
  feed(bytes: Uint8Array): HandshakeStep {
    if (this.#c1 === undefined) {
      throw new TypeError("Cannot feed ClientHandshake: current state is not started");
    }
    if (this.#done) throw new TypeError("Cannot feed ClientHandshake: current state is done");
    let at = 0;
    if (!this.#s0.full) {
      at = this.#s0.take(bytes, at);
      if (this.#s0.full) checkVersion(this.#s0.bytes[0], "S0");
    }
    if (this.#s0.full && !this.#s1.full) {
      at = this.#s1.take(bytes, at);
      if (this.#s1.full) this.#s1ReadAt = this.now();
    }
    if (this.#s1.full) {
      at = this.#s2.take(bytes, at);
      if (this.#s2.full) {
        const c2 = this.#reply(this.#s1.bytes, this.#s2.bytes);
        this.#done = true;
        return { output: [c2], done: true, rest: at < bytes.length ? bytes.slice(at) : undefined };
      }
    }
    return { output: [], done: false };
  }

  #reply(s1: Uint8Array, s2: Uint8Array): Uint8Array {
    this.serverVersion = readU32(s1, 4);
    if (!this.#digest || this.serverVersion === 0) {
      this.kind = HandshakeKind.Simple;
      this.s2Echoed = equalBytes(s2.subarray(8), this.#c1!.subarray(8));
      return this.echo(s1, this.#s1ReadAt);
    }
    this.kind = HandshakeKind.Digest;
    const found = findDigest(s1, FMS_PARTIAL_KEY);
    if (found === undefined) {
      throw new ProtocolError("handshake_digest", "Cannot handshake: current S1 digest does not verify");
    }
    if (!hasSignature(s2, GENUINE_FMS_KEY, this.#c1Digest!)) {
      throw new ProtocolError("handshake_digest", "Cannot handshake: current S2 signature does not verify");
    }
    const c2 = this.randomPacket();
    signPacket(c2, GENUINE_FP_KEY, found.digest);
    return c2;
  }
}
