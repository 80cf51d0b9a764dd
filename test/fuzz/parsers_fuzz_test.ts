/**
 * Seeded, bounded fuzzing of every parser a peer or a config file reaches
 * (issue 10 item 3): AMF0, AMF3, FLV tags (with the tag-body readers behind
 * them), the FLV file index and its tag cursor, the config file (JSONC, then
 * the schema), the ffserver.conf reader, the stream-name query and the HTTP
 * request's query and bearer token, address rules, the time-shift point,
 * signed URLs and JWTs.
 *
 * Each parser gets one loop: inputs are built from valid ones (generated, or
 * the project's fixtures) and then corrupted (bit flips, byte and character
 * edits, truncation, deleted and repeated ranges, fields set to boundary
 * values) or made at random. Every input must either parse or throw one of
 * the errors that parser documents (its `typed` list, stage by stage); a
 * parser documented never to throw (the signed-URL and JWT verifiers, the
 * codec-info readers, address matching) must not throw at all. Anything else
 * fails the test, naming the parser, the seed and the input. Bounds on every
 * call: an input taking longer than `MAX_MS_PER_INPUT` is reported as a hang,
 * a V8 heap past `MAX_HEAP_BYTES` as unbounded allocation, and outputs are
 * checked against their inputs (tags no larger than the bytes fed, the index
 * within its caps, at most the query's parameter cap).
 *
 * A short run by default (`DEFAULT_INPUTS` per parser); for a long one
 * `SLUICE_FUZZ_ITERATIONS=N deno test -A test/fuzz/parsers_fuzz_test.ts`
 * runs N inputs per parser. A failure names its seed and input index, so
 * it repeats.
 *
 * @module
 */
import { assert, assertEquals, AssertionError } from "../_util/assert.ts";
import { collectGarbage } from "../_util/hostile.ts";
import { mutations, seededRandom } from "../_util/mutate.ts";
import { randomPieces } from "../_util/split.ts";
import { amf3Cases } from "../fixtures/amf3_fixtures.ts";
import { amf0Cases } from "../fixtures/amf0_fixtures.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE, FLV_SAMPLE } from "../fixtures/flv_fixtures.ts";
import {
  type AmfValue,
  decodeAmf0,
  EcmaArray,
  encodeAmf0,
  TypedObject,
  Unsupported,
  XmlDocument,
} from "../../src/amf/amf0.ts";
import { ProtocolError } from "../../src/errors.ts";
import { FlvReader, readAudioTagHeader, readVideoTagHeader, TagType } from "../../src/media/flv.ts";
import { bytesSource, FlvIndex, FlvTagCursor } from "../../src/media/flv_index.ts";
import { audioInfo, videoInfo } from "../../src/media/codec_info.ts";
import { classify } from "../../src/media/frame.ts";
import { parseJsonc } from "../../src/config/jsonc.ts";
import { configFromObject } from "../../src/config/config_file.ts";
import { makeConfig } from "../../src/config/config.ts";
import { ConfigError, validateConfig } from "../../src/config/validate.ts";
import { type Setting, SETTINGS, SettingType } from "../../src/config/schema.ts";
import { FfserverConfError, ffserverWarningLine, parseFfserverConf } from "../../src/config/ffserver_conf.ts";
import { aclAllows, parseAcl, parseAclRule, parseAddress } from "../../src/config/acl.ts";
import { AdmissionAction, MAX_QUERY_PARAMS, parseQuery, splitStreamName } from "../../src/hub/admission.ts";
import { admissionRequest } from "../../src/http/admit.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { describePoint, timeShiftPoint } from "../../src/feed/time_shift.ts";
import {
  canonicalAddress,
  signature,
  SignedUrlVerifier,
  type SignTarget,
} from "../../src/auth/signed_url.ts";
import { JwtVerifier } from "../../src/auth/jwt.ts";
import { concatBytes } from "../../src/bytes.ts";

/** Inputs per parser in the short run. */
const DEFAULT_INPUTS = 2000;
/** One input taking longer than this is a hang (a failure bound, not a measure of speed). */
const MAX_MS_PER_INPUT = 2000;
/** The V8 heap past this (checked every 256 inputs) is unbounded allocation. */
const MAX_HEAP_BYTES = 1024 * 1024 * 1024;

function inputsPerParser(): number {
  try {
    const v = Deno.env.get("SLUICE_FUZZ_ITERATIONS");
    if (v) return Number(v);
  } catch {
    // No env permission: the short run.
  }
  return DEFAULT_INPUTS;
}

// ---------------------------------------------------------------------------------------------
// The loop

type Random = () => number;
// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/** A documented error out of one stage of a parser: the input is refused, which is fine. */
class Refused extends Error {
  constructor(readonly stage: string, override readonly cause: Error) {
    super(`${stage}: ${cause.name}`);
  }
}

/** An error a stage does not document: a finding. */
class Untyped extends Error {
  constructor(readonly stage: string, override readonly cause: unknown) {
    super(`${stage} threw ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
  }
}

function classifyError(stage: string, typed: readonly ErrorClass[], e: unknown): never {
  if (e instanceof Refused || e instanceof Untyped || e instanceof AssertionError) throw e;
  if (e instanceof Error && typed.some((c) => e instanceof c)) throw new Refused(stage, e);
  throw new Untyped(stage, e);
}

/** Runs one stage of a parser: a documented error ends the input as refused, any other is a finding. */
function stage<T>(name: string, typed: readonly ErrorClass[], fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    classifyError(name, typed, e);
  }
}

/** `stage` for an asynchronous parser. */
async function stageAsync<T>(name: string, typed: readonly ErrorClass[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    classifyError(name, typed, e);
  }
}

/** One parser under fuzz: how its inputs are made and run, and how one is shown in a failure. */
interface Target<T> {
  name: string;
  seed: number;
  generate(random: Random): T | Promise<T>;
  /** Parses the input through its stages; returns normally when it was accepted. */
  run(input: T): void | Promise<void>;
  show(input: T): string;
}

function showBytes(b: Uint8Array): string {
  const head = Array.from(b.subarray(0, 96), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return `${b.length} bytes: ${head}${b.length > 96 ? " ..." : ""}`;
}

function showText(t: string): string {
  return `${t.length} chars: ${JSON.stringify(t.length > 300 ? `${t.slice(0, 300)}...` : t)}`;
}

/** What a run of one parser saw. */
interface RunStats {
  accepted: number;
  refused: Map<string, number>;
  maxMs: number;
  totalMs: number;
}

async function fuzz<T>(t: Target<T>): Promise<RunStats> {
  const n = inputsPerParser();
  const random = seededRandom(t.seed);
  const stats: RunStats = { accepted: 0, refused: new Map(), maxMs: 0, totalMs: 0 };
  for (let i = 0; i < n; i++) {
    const input = await t.generate(random);
    const fail = (what: string, cause?: unknown): never => {
      const stack = cause instanceof Error && cause.stack ? `\n${cause.stack}` : "";
      throw new AssertionError(
        `${t.name}, seed ${t.seed}, input ${i}: ${what}\ninput: ${t.show(input)}${stack}`,
      );
    };
    const started = performance.now();
    try {
      await t.run(input);
      stats.accepted++;
    } catch (e) {
      if (e instanceof Refused) {
        const key = e.cause.name === "Error"
          ? `${e.stage}: ${e.cause.message}`
          : `${e.stage} ${e.cause.name}`;
        stats.refused.set(key, (stats.refused.get(key) ?? 0) + 1);
      } else if (e instanceof Untyped) {
        fail(e.message, e.cause);
      } else {
        fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e), e);
      }
    }
    const ms = performance.now() - started;
    stats.maxMs = Math.max(stats.maxMs, ms);
    stats.totalMs += ms;
    if (ms > MAX_MS_PER_INPUT) fail(`took ${ms.toFixed(0)} ms, the bound is ${MAX_MS_PER_INPUT} ms (a hang)`);
    if (i % 256 === 255 && Deno.memoryUsage().heapUsed > MAX_HEAP_BYTES) {
      // Past the bound: garbage, or held? Only what a full collection leaves counts.
      await collectGarbage();
      const heap = Deno.memoryUsage().heapUsed;
      if (heap > MAX_HEAP_BYTES) fail(`the V8 heap holds ${heap} bytes, the bound is ${MAX_HEAP_BYTES}`);
    }
  }
  return stats;
}

function fuzzTest<T>(t: Target<T>): void {
  Deno.test(`${t.name} accepts or refuses with its documented errors every fuzzed input, within bounds`, async () => {
    const stats = await fuzz(t);
    const kinds = [...stats.refused].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`);
    const refused = kinds.length > 10
      ? `${kinds.slice(0, 10).join(", ")} and ${kinds.length - 10} more kinds`
      : kinds.join(", ");
    console.log(
      `${t.name}: ${inputsPerParser()} inputs in ${(stats.totalMs / 1000).toFixed(1)} s ` +
        `(slowest ${stats.maxMs.toFixed(1)} ms): ${stats.accepted} accepted; refused: ${refused || "none"}`,
    );
    // A fuzzer that never gets past the first check, or never past the last, tests little.
    assert(stats.accepted > 0, `${t.name}: no input was accepted`);
    assert(stats.refused.size > 0, `${t.name}: no input was refused`);
  });
}

/** Runs `fn`, which is documented never to throw: anything thrown is a finding. */
function mustNotThrow<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Untyped(`${what} (documented not to throw)`, e);
  }
}

async function mustNotReject<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new Untyped(`${what} (documented not to throw)`, e);
  }
}

// ---------------------------------------------------------------------------------------------
// Random values and corruption

const int = (r: Random, n: number): number => Math.floor(r() * n);
const chance = (r: Random, p: number): boolean => r() < p;
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)];

/** Strings that break naive parsers. */
const ODD_STRINGS = [
  "",
  "0",
  "-1",
  "-0",
  "1e309",
  "NaN",
  "Infinity",
  "0x10",
  " 1",
  "1 ",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "\u0000",
  "\uD800",
  "\uDFFF\uD800",
  "\uFEFF",
  "\u2028",
  "😀",
  "%",
  "%zz",
  "%E0%A4%A",
  "%00",
  "\\",
  '"',
  "'",
  "*",
  "/",
  "//",
  "/*",
  "\r\n",
  "\t",
  "é",
  "a".repeat(300),
];

function randomText(r: Random, maxLen: number, alphabet?: string): string {
  const len = int(r, maxLen + 1);
  let out = "";
  for (let i = 0; i < len; i++) {
    if (alphabet) out += alphabet[int(r, alphabet.length)];
    else if (chance(r, 0.85)) out += String.fromCharCode(0x20 + int(r, 0x5f));
    else if (chance(r, 0.5)) out += String.fromCharCode(int(r, 0x20));
    else out += String.fromCharCode(int(r, 0x10000));
  }
  return out;
}

/** A big-endian u32 boundary value: for overwriting length and size fields. */
const U32_EDGES = [
  0,
  1,
  2,
  0x7f,
  0x80,
  0xff,
  0xffff,
  0x10000,
  0xffffff,
  0x1000000,
  0x7fffffff,
  0x80000000,
  0xffffffff,
];

/** A corruption of `bytes` (sometimes none). */
function corrupt(bytes: Uint8Array, r: Random): Uint8Array {
  switch (int(r, 8)) {
    case 0:
      return bytes;
    case 1:
    case 2:
      return mutations(bytes, r, 1).next().value!;
    case 3:
      return bytes.subarray(0, int(r, bytes.length + 1));
    case 4: {
      const at = int(r, bytes.length + 1);
      return concatBytes([bytes.subarray(0, at), bytes.subarray(at + 1 + int(r, 40))]);
    }
    case 5: {
      const at = int(r, bytes.length + 1);
      const range = bytes.subarray(at, at + 1 + int(r, 40));
      return concatBytes([bytes.subarray(0, at + range.length), range, bytes.subarray(at + range.length)]);
    }
    case 6: {
      // A boundary value over 1 to 4 bytes anywhere: lengths, counts, sizes.
      const out = bytes.slice();
      if (out.length === 0) return out;
      const width = 1 + int(r, 4);
      const at = int(r, out.length);
      const v = pick(r, U32_EDGES);
      for (let k = 0; k < width && at + k < out.length; k++) {
        out[at + k] = (v >>> (8 * (width - 1 - k))) & 0xff;
      }
      return out;
    }
    default: {
      // Random bytes spliced in.
      const at = int(r, bytes.length + 1);
      const junk = Uint8Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
      return concatBytes([bytes.subarray(0, at), junk, bytes.subarray(at)]);
    }
  }
}

/** A corruption of `text` (sometimes none): character edits, truncation, a repeated range, swapped lines. */
function corruptText(text: string, r: Random, alphabet: string): string {
  switch (int(r, 6)) {
    case 0:
      return text;
    case 1:
      return text.slice(0, int(r, text.length + 1));
    case 2: {
      const at = int(r, text.length + 1);
      const len = 1 + int(r, 60);
      return text.slice(0, at + len) + text.slice(at, at + len) + text.slice(at + len);
    }
    case 3: {
      const lines = text.split("\n");
      const a = int(r, lines.length);
      const b = int(r, lines.length);
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return lines.join("\n");
    }
    default: {
      let out = text;
      const edits = 1 + int(r, 4);
      for (let e = 0; e < edits; e++) {
        const at = int(r, out.length + 1);
        const c = chance(r, 0.7) ? alphabet[int(r, alphabet.length)] : pick(r, ODD_STRINGS);
        switch (int(r, 3)) {
          case 0:
            out = out.slice(0, at) + c + out.slice(at);
            break;
          case 1:
            out = out.slice(0, at) + out.slice(at + 1 + int(r, 8));
            break;
          default:
            out = out.slice(0, at) + c + out.slice(at + c.length);
        }
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// AMF0

const AMF_NUMBERS = [
  0,
  -0,
  1,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 31),
  Number.MIN_VALUE,
  1e300,
];

/** A random AMF value; `pool` holds earlier objects, so some are referenced again (and some cycle). */
function amfValue(r: Random, depth: number, pool: AmfValue[]): AmfValue {
  const leaf = depth >= 4;
  switch (int(r, leaf ? 6 : 12)) {
    case 0:
      return chance(r, 0.5) ? pick(r, AMF_NUMBERS) : (r() - 0.5) * 10 ** int(r, 12);
    case 1:
      return chance(r, 0.5);
    case 2:
      return chance(r, 0.01)
        ? "x".repeat(65536 + int(r, 100))
        : chance(r, 0.3)
        ? pick(r, ODD_STRINGS)
        : randomText(r, 24);
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return new Date(chance(r, 0.1) ? NaN : int(r, 2 ** 42));
    case 6:
    case 7: {
      const obj: Record<string, AmfValue> = {};
      pool.push(obj);
      for (let i = int(r, 5); i > 0; i--) {
        const key = chance(r, 0.2) ? pick(r, ODD_STRINGS) : randomText(r, 10);
        Object.defineProperty(obj, key, {
          value: amfValue(r, depth + 1, pool),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return int(r, 3) === 0
        ? new EcmaArray(obj)
        : int(r, 2) === 0
        ? new TypedObject(`C${int(r, 9)}`, obj)
        : obj;
    }
    case 8: {
      const arr: AmfValue[] = [];
      pool.push(arr);
      for (let i = int(r, 5); i > 0; i--) arr.push(amfValue(r, depth + 1, pool));
      return arr;
    }
    case 9:
      return new XmlDocument(randomText(r, 30));
    case 10:
      return new Unsupported();
    default:
      return pool.length > 0 ? pick(r, pool) : null;
  }
}

const AMF0_SEEDS = amf0Cases.map((c) => hex(c.hex));

/** Optional caps, so the limit paths are reached too. */
function amfLimits(r: Random) {
  if (chance(r, 0.7)) return undefined;
  return {
    maxDepth: chance(r, 0.5) ? 1 + int(r, 6) : undefined,
    maxStringBytes: chance(r, 0.5) ? int(r, 100) : undefined,
    maxEntries: chance(r, 0.5) ? int(r, 10) : undefined,
    maxValues: chance(r, 0.5) ? 1 + int(r, 60) : undefined,
  };
}

fuzzTest<{ bytes: Uint8Array; valid: boolean; limits: ReturnType<typeof amfLimits> }>({
  name: "AMF0 decodeAmf0()",
  seed: 0xa0f0,
  generate(r) {
    const kind = int(r, 10);
    if (kind < 3) {
      // A valid encoding, as is: it must decode.
      const pool: AmfValue[] = [];
      const values = Array.from({ length: 1 + int(r, 4) }, () => amfValue(r, 0, pool));
      return { bytes: encodeAmf0(...values), valid: true, limits: undefined };
    }
    if (kind < 7) {
      const pool: AmfValue[] = [];
      const values = Array.from({ length: 1 + int(r, 4) }, () => amfValue(r, 0, pool));
      return { bytes: corrupt(encodeAmf0(...values), r), valid: false, limits: amfLimits(r) };
    }
    if (kind < 9) return { bytes: corrupt(pick(r, AMF0_SEEDS), r), valid: false, limits: amfLimits(r) };
    // Random markers and bytes.
    const bytes = Uint8Array.from({ length: int(r, 80) }, () => chance(r, 0.5) ? int(r, 0x13) : int(r, 256));
    return { bytes, valid: false, limits: amfLimits(r) };
  },
  run({ bytes, valid, limits }) {
    if (valid) {
      mustNotThrow("decodeAmf0() of a valid encoding", () => decodeAmf0(bytes));
      return;
    }
    stage("decodeAmf0", [ProtocolError], () => decodeAmf0(bytes, limits));
  },
  show: ({ bytes }) => showBytes(bytes),
});

// ---------------------------------------------------------------------------------------------
// AMF3 (reached through the AMF0 avmplus-object marker, 0x11, AMF0 spec 3.1)

/** AMF3 markers the writer makes values of (3.2 to 3.14), and ones the decoder refuses or does not know. */
const AMF3_MARKERS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c];
const AMF3_REFUSED = [0x07, 0x0b, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x7f];

/** Writes random AMF3 values (AMF 3 spec section 3) with their reference tables counted. */
class Amf3Writer {
  readonly out: number[] = [0x11];
  strings = 0;
  objects = 0;
  readonly traits: { sealed: number; dynamic: boolean }[] = [];

  constructor(readonly r: Random) {}

  /** U29 (1.3.1): 1 to 4 bytes. */
  u29(n: number): void {
    n = n & 0x1fffffff;
    if (n < 0x80) this.out.push(n);
    else if (n < 0x4000) this.out.push(0x80 | (n >> 7), n & 0x7f);
    else if (n < 0x200000) this.out.push(0x80 | (n >> 14), 0x80 | ((n >> 7) & 0x7f), n & 0x7f);
    else this.out.push(0x80 | (n >> 22), 0x80 | ((n >> 15) & 0x7f), 0x80 | ((n >> 8) & 0x7f), n & 0xff);
  }

  string(nonEmpty = false): void {
    const r = this.r;
    if (!nonEmpty && chance(r, 0.15)) return this.u29(1); // the empty string
    if (this.strings > 0 && chance(r, 0.3)) {
      return this.u29(int(r, this.strings + (chance(r, 0.1) ? 3 : 0)) << 1);
    }
    const bytes = new TextEncoder().encode(
      chance(r, 0.2) ? pick(r, ODD_STRINGS) || "k" : randomText(r, 12) || "s",
    );
    this.u29((bytes.length << 1) | 1);
    this.out.push(...bytes);
    if (bytes.length > 0) this.strings++;
  }

  objectRef(): boolean {
    if (this.objects > 0 && chance(this.r, 0.25)) {
      this.u29(int(this.r, this.objects + (chance(this.r, 0.1) ? 3 : 0)) << 1);
      return true;
    }
    return false;
  }

  value(depth: number): void {
    const r = this.r;
    const marker = depth >= 4 ? int(r, 7) : chance(r, 0.05) ? pick(r, AMF3_REFUSED) : pick(r, AMF3_MARKERS);
    this.out.push(marker);
    switch (marker) {
      case 0x04:
        return this.u29(int(r, 2 ** 29));
      case 0x05: {
        const f = new DataView(new ArrayBuffer(8));
        f.setFloat64(0, pick(r, AMF_NUMBERS));
        this.out.push(...new Uint8Array(f.buffer));
        return;
      }
      case 0x06:
        return this.string();
      case 0x08: {
        if (this.objectRef()) return;
        this.u29(1);
        this.out.push(0x42, 0x70, 0, 0, 0, 0, 0, 0);
        this.objects++;
        return;
      }
      case 0x09: {
        if (this.objectRef()) return;
        const dense = int(r, 4);
        this.u29((dense << 1) | 1);
        this.objects++;
        for (let i = int(r, 3); i > 0; i--) {
          this.string(true);
          this.value(depth + 1);
        }
        this.u29(1);
        for (let i = 0; i < dense; i++) this.value(depth + 1);
        return;
      }
      case 0x0a: {
        if (this.objectRef()) return;
        let t: { sealed: number; dynamic: boolean };
        if (this.traits.length > 0 && chance(r, 0.3)) {
          const index = int(r, this.traits.length);
          t = this.traits[index];
          this.u29((index << 2) | 0b01);
        } else if (chance(r, 0.05)) {
          this.u29(0b0111); // externalizable: refused
          this.string();
          return;
        } else {
          t = { sealed: int(r, 3), dynamic: chance(r, 0.5) };
          this.u29((t.sealed << 4) | (t.dynamic ? 0b1000 : 0) | 0b0011);
          this.string();
          for (let i = 0; i < t.sealed; i++) this.string(true);
          this.traits.push(t);
        }
        this.objects++;
        for (let i = 0; i < t.sealed; i++) this.value(depth + 1);
        if (t.dynamic) {
          for (let i = int(r, 3); i > 0; i--) {
            this.string(true);
            this.value(depth + 1);
          }
          this.u29(1);
        }
        return;
      }
      case 0x0c: {
        if (this.objectRef()) return;
        const len = int(r, 20);
        this.u29((len << 1) | 1);
        for (let i = 0; i < len; i++) this.out.push(int(r, 256));
        this.objects++;
        return;
      }
      default:
        return; // undefined, null, false, true; or a refused marker
    }
  }
}

const AMF3_SEEDS = amf3Cases.map((c) => hex(c.hex));

fuzzTest<{ bytes: Uint8Array; limits: ReturnType<typeof amfLimits> }>({
  name: "AMF3 through decodeAmf0()",
  seed: 0xa3f3,
  generate(r) {
    if (chance(r, 0.2)) return { bytes: corrupt(pick(r, AMF3_SEEDS), r), limits: amfLimits(r) };
    const w = new Amf3Writer(r);
    w.value(0);
    const bytes = Uint8Array.from(w.out);
    return { bytes: chance(r, 0.3) ? bytes : corrupt(bytes, r), limits: amfLimits(r) };
  },
  run({ bytes, limits }) {
    stage("decodeAmf0", [ProtocolError], () => decodeAmf0(bytes, limits));
  },
  show: ({ bytes }) => showBytes(bytes),
});

// ---------------------------------------------------------------------------------------------
// FLV tags (FLV spec v10.1 E.2, E.4) and the readers of their bodies

const FOURCCS = ["hvc1", "av01", "vp09", "avc1", "Opus", "mp4a", "fLaC", "ac-3", "zzzz"];

function fourCc(r: Random): number[] {
  return Array.from(pick(r, FOURCCS), (c) => c.charCodeAt(0));
}

function randomBody(r: Random, max: number): number[] {
  return Array.from({ length: int(r, max) }, () => int(r, 256));
}

/** A plausible (and sometimes not) tag body of `type`. */
function tagBody(r: Random, type: number): Uint8Array {
  if (type === TagType.Video) {
    switch (int(r, 6)) {
      case 0:
        return concatBytes([Uint8Array.of(0x17, 0, 0, 0, 0), AVC_CONFIG_BASELINE]);
      case 1:
        return Uint8Array.of(0x17, 1, 0, 0, 0, ...randomBody(r, 40));
      case 2:
        return Uint8Array.of(0x27, 1, 0, 0, int(r, 256), ...randomBody(r, 40));
      case 3: // Enhanced RTMP: IsExHeader, FrameType, PacketType, FourCC
        return Uint8Array.of(0x80 | ((1 + int(r, 2)) << 4) | int(r, 16), ...fourCc(r), ...randomBody(r, 40));
      default:
        return Uint8Array.from(randomBody(r, 30));
    }
  }
  if (type === TagType.Audio) {
    switch (int(r, 6)) {
      case 0:
        return Uint8Array.of(0xaf, 0, ...(chance(r, 0.5) ? [0x12, 0x10] : randomBody(r, 6)));
      case 1:
        return Uint8Array.of(0xaf, 1, ...randomBody(r, 30));
      case 2: // Enhanced audio: SoundFormat 9 (ExHeader), AudioPacketType, FourCC
        return Uint8Array.of(
          0x90 | int(r, 8),
          ...fourCc(r),
          ...(chance(r, 0.5) ? Array.from("OpusHead", (c) => c.charCodeAt(0)) : []),
          ...randomBody(r, 20),
        );
      case 3:
        return Uint8Array.of(0x2f, ...randomBody(r, 20));
      default:
        return Uint8Array.from(randomBody(r, 20));
    }
  }
  if (chance(r, 0.7)) {
    const meta = new EcmaArray({ duration: int(r, 1000), width: 640, height: 360, framerate: 25 });
    return encodeAmf0("onMetaData", chance(r, 0.8) ? meta : amfValue(r, 1, []));
  }
  return Uint8Array.from(randomBody(r, 40));
}

/** One FLV tag with its header and PreviousTagSize (sometimes wrong). */
function tag(r: Random, type: number, timestamp: number, body: Uint8Array): Uint8Array {
  const size = body.length;
  const prev = chance(r, 0.03) ? int(r, 2 ** 32) : size + 11;
  const head = Uint8Array.of(
    type,
    size >>> 16,
    size >>> 8,
    size,
    timestamp >>> 16,
    timestamp >>> 8,
    timestamp,
    timestamp >>> 24,
    0,
    0,
    0,
  );
  return concatBytes([head, body, Uint8Array.of(prev >>> 24, prev >>> 16, prev >>> 8, prev)]);
}

/** An FLV stream: header (DataOffset sometimes past 9), PreviousTagSize0, then tags in time order. */
function flvStream(r: Random, tags = int(r, 14)): Uint8Array {
  const skip = chance(r, 0.1) ? int(r, 20) : 0;
  const parts: Uint8Array[] = [
    Uint8Array.of(0x46, 0x4c, 0x56, 1, int(r, 8), 0, 0, 0, 9 + skip),
    new Uint8Array(skip),
    new Uint8Array(4),
  ];
  let ts = chance(r, 0.1) ? 0xfffff000 : 0;
  for (let i = 0; i < tags; i++) {
    const type = chance(r, 0.45) ? TagType.Video : chance(r, 0.75) ? TagType.Audio : TagType.ScriptData;
    parts.push(tag(r, type, ts >>> 0, tagBody(r, type)));
    ts += chance(r, 0.9) ? int(r, 50) : int(r, 2 ** 32);
  }
  return concatBytes(parts);
}

interface FlvInput {
  bytes: Uint8Array;
  maxTagSize?: number;
  checkPreviousTagSize: boolean;
  piece: number;
  pieceSeed: number;
}

fuzzTest<FlvInput>({
  name: "FLV FlvReader and the tag-body readers",
  seed: 0xf1a0,
  generate(r) {
    const source = chance(r, 0.15) ? FLV_SAMPLE : flvStream(r);
    return {
      bytes: corrupt(source, r),
      maxTagSize: chance(r, 0.7) ? undefined : chance(r, 0.6) ? int(r, 100) : 0xffffff,
      checkPreviousTagSize: chance(r, 0.8),
      piece: pick(r, [1, 3, 16, 200, 1 << 20]),
      pieceSeed: int(r, 2 ** 31),
    };
  },
  run(input) {
    const reader = new FlvReader({
      maxTagSize: input.maxTagSize,
      checkPreviousTagSize: input.checkPreviousTagSize,
    });
    let fed = 0;
    let dataBytes = 0;
    for (const piece of randomPieces(input.bytes, seededRandom(input.pieceSeed), input.piece)) {
      fed += piece.length;
      for (const t of stage("FlvReader.push", [ProtocolError], () => reader.push(piece))) {
        // Bounded output: no tag holds bytes that were not fed yet.
        dataBytes += t.data.length;
        if (dataBytes > fed) throw new AssertionError(`tags hold ${dataBytes} bytes of ${fed} fed`);
        bodyReaders(t.type, t.data);
      }
    }
    stage("FlvReader.end", [ProtocolError], () => reader.end());
  },
  show: (i) => `${showBytes(i.bytes)} (maxTagSize ${i.maxTagSize}, pieces of ${i.piece})`,
});

/** What the hub and the edges read of a tag body: header readers (ProtocolError), codec info (never throws). */
function bodyReaders(type: number, data: Uint8Array): void {
  mustNotThrow("classify()", () => classify(type, data));
  try {
    if (type === TagType.Video) {
      mustNotThrow("videoInfo()", () => videoInfo(data));
      stage("readVideoTagHeader", [ProtocolError], () => readVideoTagHeader(data));
    } else if (type === TagType.Audio) {
      mustNotThrow("audioInfo()", () => audioInfo(data));
      stage("readAudioTagHeader", [ProtocolError], () => readAudioTagHeader(data));
    } else {
      stage("decodeAmf0 of a script tag", [ProtocolError], () => decodeAmf0(data));
    }
  } catch (e) {
    if (!(e instanceof Refused)) throw e; // a refused body does not end the stream
  }
}

// ---------------------------------------------------------------------------------------------
// The FLV file index (onMetaData keyframes or a scan) and its tag cursor

/** An FLV file with video keyframes and, sometimes, an onMetaData keyframe index that checks out. */
function flvFile(r: Random): Uint8Array {
  const tags: { type: number; ts: number; body: Uint8Array }[] = [];
  tags.push({ type: TagType.Video, ts: 0, body: tagBody(r, TagType.Video) });
  for (let i = 0, ts = 0; i < 2 + int(r, 30); i++) {
    ts += int(r, 80);
    const type = chance(r, 0.6) ? TagType.Video : TagType.Audio;
    const key = type === TagType.Video && chance(r, 0.2);
    const body = key ? Uint8Array.of(0x17, 1, 0, 0, 0, ...randomBody(r, 300)) : tagBody(r, type);
    tags.push({ type, ts, body });
  }
  const header = Uint8Array.of(0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0);
  const withIndex = chance(r, 0.5);
  const keyframes = tags.map((t, i) => ({ t, i })).filter(({ t }) => classify(t.type, t.body).keyframe);
  const metaOf = (positions: number[]) =>
    encodeAmf0(
      "onMetaData",
      new EcmaArray({
        duration: tags[tags.length - 1].ts / 1000,
        keyframes: { times: keyframes.map(({ t }) => t.ts / 1000), filepositions: positions },
      }),
    );
  // The metadata's size does not depend on the positions (AMF0 numbers are 9 bytes), so lay out twice.
  const metaSize = withIndex ? metaOf(keyframes.map(() => 0)).length + 15 : 0;
  let at = header.length + metaSize;
  const offsets = tags.map((t) => {
    const o = at;
    at += t.body.length + 15;
    return o;
  });
  const parts: Uint8Array[] = [header];
  if (withIndex) {
    const positions = keyframes.map(({ i }) => chance(r, 0.05) ? int(r, at * 2) : offsets[i]);
    parts.push(tag(r, TagType.ScriptData, 0, metaOf(positions)));
  }
  for (const t of tags) parts.push(tag(r, t.type, t.ts, t.body));
  return concatBytes(parts);
}

interface IndexInput {
  bytes: Uint8Array;
  maxSeekPoints?: number;
  maxTagSize?: number;
  trustMetadataIndex: boolean;
  at: number;
}

fuzzTest<IndexInput>({
  name: "FLV file index FlvIndex.build() and FlvTagCursor",
  seed: 0x1dec,
  generate(r) {
    return {
      bytes: chance(r, 0.1) ? corrupt(FLV_SAMPLE, r) : corrupt(flvFile(r), r),
      maxSeekPoints: chance(r, 0.3) ? 1 + int(r, 4) : undefined,
      maxTagSize: chance(r, 0.8) ? undefined : int(r, 400),
      trustMetadataIndex: chance(r, 0.7),
      at: int(r, 3000),
    };
  },
  async run(input) {
    const source = bytesSource(input.bytes);
    const index = await stageAsync("FlvIndex.build", [ProtocolError], () =>
      FlvIndex.build(source, {
        maxSeekPoints: input.maxSeekPoints,
        maxTagSize: input.maxTagSize,
        trustMetadataIndex: input.trustMetadataIndex,
      }));
    const max = input.maxSeekPoints ?? 100_000;
    if (index.seekPointCount > max) {
      throw new AssertionError(`${index.seekPointCount} seek points, cap ${max}`);
    }
    if (index.sequenceHeaders.length > 64) {
      throw new AssertionError(`${index.sequenceHeaders.length} sequence headers`);
    }
    mustNotThrow("FlvIndex.seekPoint()", () => index.seekPoint(input.at));
    mustNotThrow("FlvIndex.sequenceHeadersBefore()", () => index.sequenceHeadersBefore(input.at));
    const starts = [index.firstTagOffset, ...index.seekPoints().slice(0, 3).map((p) => p.offset)];
    for (const start of starts) {
      const cursor = new FlvTagCursor(source, start, { maxTagSize: input.maxTagSize });
      for (let n = 0; n < 64; n++) {
        const t = await stageAsync("FlvTagCursor.next", [ProtocolError], () => cursor.next());
        if (t === undefined) break;
        if (t.offset + t.data.length > input.bytes.length) {
          throw new AssertionError(`a tag past the file's end`);
        }
      }
    }
  },
  show: (i) => `${showBytes(i.bytes)} (maxSeekPoints ${i.maxSeekPoints}, trust ${i.trustMetadataIndex})`,
});

// ---------------------------------------------------------------------------------------------
// The config file: JSONC, then the schema (configFromObject, makeConfig, validateConfig)

const EXAMPLE_CONFIG = Deno.readTextFileSync(new URL("../../docs/sluice.example.jsonc", import.meta.url));
const JSON_ALPHABET = '{}[],:"/*\\\n \t-.0123456789eEtrufalsn';
const SETTING_LIST = SETTINGS as readonly Setting[];
const LEAVES = SETTING_LIST.filter((s) => s.type !== SettingType.List);
const LIST_SETTINGS = SETTING_LIST.filter((s) => s.type === SettingType.List);
const WILD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e300,
  "",
  "x",
  [],
  {},
  { a: 1 },
  [1, "a"],
  "__proto__",
];

/** A value for `s`: mostly of its type and near its bounds, sometimes anything. */
function settingValue(r: Random, s: Setting): unknown {
  if (chance(r, 0.2)) return pick(r, WILD_VALUES);
  switch (s.type) {
    case SettingType.Integer:
    case SettingType.Number: {
      const min = s.min ?? 0;
      const max = s.max ?? 1e9;
      return pick(r, [
        s.default,
        min,
        max,
        min - 1,
        max + 1,
        min + int(r, Math.max(1, max - min)),
        0.5,
        -0,
        2 ** 53 + 2,
      ]);
    }
    case SettingType.Boolean:
      return chance(r, 0.5);
    case SettingType.Enum:
      return chance(r, 0.8) ? pick(r, s.values ?? [""]) : randomText(r, 8);
    case SettingType.StringList:
      return Array.from(
        { length: chance(r, 0.02) ? 300 : int(r, 4) },
        () =>
          pick(r, ["allow 10.0.0.0/8", "deny all", "allow 127.0.0.1 127.0.0.9", "-re", randomText(r, 16)]),
      );
    default:
      return pick(r, [
        s.default,
        s.example,
        null,
        "live/cam",
        "/feed1.ffm",
        "http://127.0.0.1:9/hook",
        "live/*",
        "0.0.0.0",
        "/tmp/x.flv",
        "aaaaaaaaaaaaaaaa",
        randomText(r, 20),
        pick(r, ODD_STRINGS),
      ]);
  }
}

/** A config object: some sections with settings (and stray keys), some lists of entries. */
function configObject(r: Random): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = int(r, 8); i > 0; i--) {
    const s = pick(r, LEAVES);
    const [section, key] = s.path.split(".");
    if (key === undefined) continue;
    const sec = (out[section] ??= {}) as Record<string, unknown>;
    const name = chance(r, 0.05) ? `${key}x` : chance(r, 0.03) ? "__proto__" : key;
    Object.defineProperty(sec, name, {
      value: settingValue(r, s),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  for (let i = int(r, 2); i > 0; i--) {
    const list = pick(r, LIST_SETTINGS);
    out[list.path] = Array.from({ length: int(r, 3) }, () => {
      const entry: Record<string, unknown> = {};
      for (const f of list.fields ?? []) if (chance(r, 0.7)) entry[f.path] = settingValue(r, f);
      if (chance(r, 0.05)) entry.stray = 1;
      return entry;
    });
  }
  if (chance(r, 0.03)) out.nosuchsection = {};
  return out;
}

/** JSONC text of `v`: comments, trailing commas and whitespace at random. */
function jsonc(v: unknown, r: Random, indent = ""): string {
  const sp = () => chance(r, 0.1) ? pick(r, [" // note\n", " /* c */ ", "\n\t", "  "]) : "";
  if (Array.isArray(v)) {
    const items = v.map((x) => `${sp()}${jsonc(x, r, `${indent}  `)}`);
    return `[${items.join(",")}${chance(r, 0.2) && items.length ? "," : ""}${sp()}]`;
  }
  if (typeof v === "object" && v !== null) {
    const members = Object.entries(v).map(([k, x]) =>
      `\n${indent}  ${sp()}${JSON.stringify(k)}:${sp()} ${jsonc(x, r, `${indent}  `)}`
    );
    if (chance(r, 0.02) && members.length) members.push(members[0]); // a key given twice
    return `{${members.join(",")}${chance(r, 0.2) && members.length ? "," : ""}\n${indent}}`;
  }
  return JSON.stringify(v) ?? "null";
}

fuzzTest<string>({
  name: "config file parseJsonc(), configFromObject() and validateConfig()",
  seed: 0xc0f1,
  generate(r) {
    const kind = int(r, 10);
    if (kind < 2) return corruptText(EXAMPLE_CONFIG, r, JSON_ALPHABET);
    if (kind < 3) {
      // Deep nesting, near and past the bound.
      const depth = 28 + int(r, 8);
      return "[".repeat(depth) + "]".repeat(chance(r, 0.8) ? depth : int(r, depth));
    }
    const text = jsonc(configObject(r), r);
    return chance(r, 0.5) ? text : corruptText(text, r, JSON_ALPHABET);
  },
  run(text) {
    const value = stage("parseJsonc", [SyntaxError, RangeError], () => parseJsonc(text, "fuzz.jsonc"));
    const overrides = stage("configFromObject", [ConfigError], () => configFromObject(value, "fuzz.jsonc"));
    stage("validateConfig", [ConfigError], () => validateConfig(makeConfig(overrides)));
  },
  show: showText,
});

// ---------------------------------------------------------------------------------------------
// ffserver.conf

const FFSERVER_SEEDS = ["doc.conf", "live.conf"].map((f) =>
  Deno.readTextFileSync(new URL(`../fixtures/ffserver/${f}`, import.meta.url))
);
const DIRECTIVES = [
  ...new Set(
    FFSERVER_SEEDS.flatMap((t) =>
      t.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((w) => w && !w.startsWith("#"))
    ),
  ),
  "Port",
  "HTTPPort",
  "BindAddress",
  "MaxClients",
  "MaxHTTPConnections",
  "MaxBandwidth",
  "CustomLog",
  "<Feed",
  "</Feed>",
  "<Stream",
  "</Stream>",
  "<Redirect",
  "</Redirect>",
  "File",
  "FileMaxSize",
  "ACL",
  "Feed",
  "Format",
  "Preroll",
  "NoAudio",
  "NoVideo",
  "VideoSize",
  "VideoFrameRate",
  "VideoBitRate",
  "VideoGopSize",
  "AudioBitRate",
  "AudioSampleRate",
  "AudioChannels",
  "Launch",
  "ReadOnlyFile",
  "Truncate",
  "StartSendOnKey",
];
const FFSERVER_ARGS = [
  "8090",
  "-1",
  "0",
  "99999999999999999999",
  "1.5",
  "5M",
  "1G",
  "10K",
  "12x",
  "0x10",
  "320x240",
  "cif",
  "allow 127.0.0.1",
  "deny 10.0.0.0 10.255.255.255",
  "allow all",
  "feed1.ffm",
  "/tmp/feed1.ffm",
  "flv",
  "mpjpeg",
  "status",
  "-",
  '"quoted arg"',
  "",
];

function ffserverText(r: Random): string {
  const lines = pick(r, FFSERVER_SEEDS).split("\n");
  for (let e = 1 + int(r, 6); e > 0; e--) {
    const at = int(r, lines.length + 1);
    switch (int(r, 6)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, lines[int(r, lines.length)] ?? "");
        break;
      case 2: {
        const d = pick(r, DIRECTIVES);
        const args = Array.from({ length: int(r, 3) }, () => pick(r, FFSERVER_ARGS)).join(" ");
        lines.splice(at, 0, d.startsWith("<") && !d.endsWith(">") ? `${d} ${args || "x"}>` : `${d} ${args}`);
        break;
      }
      case 3:
        if (at < lines.length) lines[at] = lines[at].toUpperCase();
        break;
      case 4:
        if (at < lines.length) lines[at] = `${lines[at]} ${pick(r, FFSERVER_ARGS)} ${pick(r, ODD_STRINGS)}`;
        break;
      default: {
        const roll = r();
        if (roll < 0.02) lines.splice(at, 0, "x".repeat(5000));
        else if (roll < 0.04) lines.push(...new Array(10_001).fill("# c"));
        else lines.splice(at, 0, `${pick(r, DIRECTIVES)}${pick(r, ["\r", "\t", " #", "\u00a0"])}`);
      }
    }
  }
  const text = lines.join(chance(r, 0.1) ? "\r\n" : "\n");
  return chance(r, 0.3) ? corruptText(text, r, '<>/ \n#"0123456789MKGx') : text;
}

Deno.test("parseFfserverConf() reads a no-break space as part of a word (FfserverNoBreakSpaceBug: an endless loop)", () => {
  // The word scanner stopped at any white space (\s) but skipped only ASCII white space, so a U+00A0 made an
  // empty word without moving on, until the array of words passed its largest length (2 GB later).
  const conf = parseFfserverConf("Port\u00a08090\n", "fuzz.conf");
  assertEquals(conf.warnings.map((w) => w.directive), ["Port\u00a08090"]);
});

fuzzTest<string>({
  name: "ffserver.conf parseFfserverConf() and validateConfig()",
  seed: 0xffc0,
  generate: ffserverText,
  run(text) {
    const conf = stage("parseFfserverConf", [FfserverConfError], () => parseFfserverConf(text, "fuzz.conf"));
    for (const w of conf.warnings) {
      mustNotThrow("ffserverWarningLine()", () => ffserverWarningLine("fuzz.conf", w));
    }
    stage("validateConfig", [ConfigError], () => validateConfig(makeConfig(conf.overrides)));
  },
  show: showText,
});

// ---------------------------------------------------------------------------------------------
// Stream-name queries, and an HTTP request's query and bearer token

const QUERY_ALPHABET = "abcAZ09_-.~?&=%+#;/ \u00e9\u4e2d\uD83D\uDE00";

function queryText(r: Random): string {
  const n = chance(r, 0.05) ? MAX_QUERY_PARAMS + int(r, 3) - 1 : int(r, 8);
  const params = Array.from({ length: n }, () => {
    const k = chance(r, 0.3)
      ? pick(r, ["key", "token", "sign", "expires", "preroll", "date", "__proto__"])
      : randomText(r, 6, QUERY_ALPHABET);
    const v = chance(r, 0.1)
      ? "%".repeat(int(r, 4)) + "zz"
      : randomText(r, chance(r, 0.03) ? 5000 : 12, QUERY_ALPHABET);
    return chance(r, 0.1) ? k : `${k}=${v}`;
  });
  return params.join(chance(r, 0.9) ? "&" : ";");
}

interface QueryInput {
  name: string;
  url: string;
  authorization?: string;
}

fuzzTest<QueryInput>({
  name: "query splitStreamName(), parseQuery() and admissionRequest() with a bearer token",
  seed: 0x9e27,
  generate(r) {
    const q = queryText(r);
    const stream = chance(r, 0.8) ? randomText(r, 10, "abcxyz019_-.~") || "cam" : randomText(r, 10);
    return {
      name: chance(r, 0.8) ? `${stream}?${q}` : stream + randomText(r, 6, "?&=%"),
      url: `http://127.0.0.1:8000/live/cam.flv${chance(r, 0.9) ? `?${q}` : ""}`,
      authorization: chance(r, 0.5)
        ? pick(r, ["Bearer ", "bearer  ", "BEARER ", "Basic ", ""]) +
          randomText(r, chance(r, 0.02) ? 9000 : 40, "abcXYZ019-_.= ")
        : undefined,
    };
  },
  run(input) {
    const { query } = stage("splitStreamName", [ProtocolError], () => splitStreamName(input.name));
    if (Object.keys(query).length > MAX_QUERY_PARAMS) {
      throw new AssertionError(`${Object.keys(query).length} params`);
    }
    let req: Request;
    try {
      req = new Request(input.url, {
        headers: input.authorization === undefined ? {} : { authorization: input.authorization },
      });
    } catch {
      return; // not a request anyone can send
    }
    stage(
      "admissionRequest",
      [ProtocolError],
      () =>
        admissionRequest(req, { action: AdmissionAction.Play, protocol: Protocol.HttpFlv, key: "live/cam" }),
    );
    stage("parseQuery", [ProtocolError], () => parseQuery(new URL(req.url).search.slice(1)));
  },
  show: (i) => JSON.stringify(i).slice(0, 600),
});

// ---------------------------------------------------------------------------------------------
// Address rules and addresses

function addressText(r: Random): string {
  switch (int(r, 7)) {
    case 0:
      return Array.from(
        { length: 3 + int(r, 3) },
        () => pick(r, [0, 1, 10, 127, 255, 256, 999, "01", "", "x"]),
      ).join(".");
    case 1:
      return Array.from(
        { length: 2 + int(r, 8) },
        () => pick(r, ["", "0", "1", "ffff", "FFFF", "10000", "g", "db8"]),
      ).join(":");
    case 2:
      return pick(r, [
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:1.2.3",
        "fe80::1%eth0",
        "[::1]",
        "1::2::3",
        "2001:db8::/32",
      ]);
    case 3:
      return `${addressText(r)}/${
        pick(r, ["0", "8", "32", "33", "96", "128", "129", "-1", "", "x", "0008"])
      }`;
    case 4:
      return pick(r, ["127.0.0.1", "10.0.0.0", "0.0.0.0", "255.255.255.255", "1.2.3.4"]);
    default:
      return randomText(r, 16, "0123456789abcdef.:/%[] ");
  }
}

fuzzTest<{ rule: string; list: string[]; address: string }>({
  name: "address rules parseAclRule(), parseAcl() and aclAllows()",
  seed: 0xac10,
  generate(r) {
    const rule = () => {
      const action = pick(r, ["allow", "deny", "ALLOW", "Deny", "permit", "", "allow\t"]);
      const body = chance(r, 0.1)
        ? "all"
        : chance(r, 0.2)
        ? `${addressText(r)} ${addressText(r)}`
        : addressText(r);
      const text = `${action} ${body}${chance(r, 0.05) ? " extra" : ""}`;
      return chance(r, 0.2) ? corruptText(text, r, " ./:0123456789") : text;
    };
    return {
      rule: rule(),
      list: Array.from({ length: chance(r, 0.01) ? 300 : int(r, 4) }, rule),
      address: addressText(r),
    };
  },
  run(input) {
    mustNotThrow("parseAddress()", () => parseAddress(input.address));
    mustNotThrow("canonicalAddress()", () => canonicalAddress(input.address));
    const rule = stage("parseAclRule", [SyntaxError], () => parseAclRule(input.rule));
    mustNotThrow("aclAllows()", () => aclAllows([rule], input.address));
    const rules = stage("parseAcl", [SyntaxError], () => parseAcl(input.list));
    mustNotThrow("aclAllows()", () => aclAllows(rules, input.address));
  },
  show: (i) => JSON.stringify(i).slice(0, 600),
});

// ---------------------------------------------------------------------------------------------
// The time-shift point (?preroll=S, ?date=ISO)

fuzzTest<{ query: string; defaultMs: number }>({
  name: "time-shift timeShiftPoint()",
  seed: 0x715f,
  generate(r) {
    const preroll = pick(r, [
      "5",
      "0",
      "-1",
      "86400",
      "86401",
      "1e3",
      "0x10",
      " 5",
      "",
      "NaN",
      "Infinity",
      "1.5",
      "5s",
      randomText(r, 6),
    ]);
    const date = pick(r, [
      "2026-12-02T01:00:00Z",
      "2026-12-02",
      "2026-13-02T01:00:00Z",
      "+275760-09-13T00:00:00.000Z",
      "+275760-09-13T00:00:00.001Z",
      "-271821-04-20T00:00:00Z",
      "Tue, 01 Dec 2026 00:00:00 GMT",
      "0",
      "x".repeat(70),
      "",
      randomText(r, 30),
    ]);
    const params = new URLSearchParams();
    if (chance(r, 0.5)) params.set("preroll", preroll);
    if (chance(r, 0.5)) params.set("date", date);
    return { query: params.toString(), defaultMs: pick(r, [0, 1, 5000, -1]) };
  },
  run(input) {
    const point = stage(
      "timeShiftPoint",
      [RangeError],
      () => timeShiftPoint(new URLSearchParams(input.query), input.defaultMs),
    );
    if (point !== undefined) mustNotThrow("describePoint()", () => describePoint(point));
  },
  show: (i) => JSON.stringify(i),
});

// ---------------------------------------------------------------------------------------------
// Signed URLs (never throw: a refusal is a reason)

const SIGN_SECRETS = ["fuzz-secret-current", "fuzz-secret-previous"];
const signVerifier = new SignedUrlVerifier(SIGN_SECRETS);
const B64URL = "ABCXYZabcxyz0189-_";

interface SignInput {
  query: Record<string, string>;
  target: SignTarget;
  nowMs: number;
  /** The query was signed for exactly this target and has not expired: it must verify. */
  good: boolean;
}

fuzzTest<SignInput>({
  name: "signed URL SignedUrlVerifier.verify()",
  seed: 0x5196,
  async generate(r) {
    const target: SignTarget = {
      action: chance(r, 0.5) ? AdmissionAction.Play : AdmissionAction.Publish,
      key: chance(r, 0.8) ? "live/cam" : randomText(r, 12),
      addr: chance(r, 0.3) ? addressText(r) : undefined,
    };
    const nowMs = 1_800_000_000_000 + int(r, 1e9);
    const expires = Math.floor(nowMs / 1000) + pick(r, [-100, 0, 1, 3600, 10 ** 11]);
    const query: Record<string, string> = {};
    let good = false;
    if (chance(r, 0.9)) {
      query.expires = chance(r, 0.8)
        ? String(expires)
        : pick(r, ["", "-1", "1e3", "9".repeat(13), randomText(r, 8)]);
    }
    if (chance(r, 0.9)) {
      if (chance(r, 0.4) && query.expires === String(expires)) {
        query.sign = await signature(pick(r, SIGN_SECRETS), target, expires);
        good = Math.floor(nowMs / 1000) < expires;
        if (chance(r, 0.3)) {
          query.sign = corruptText(query.sign, r, B64URL);
          good = false;
        }
      } else {
        query.sign = randomText(r, chance(r, 0.7) ? 43 : int(r, 60), chance(r, 0.9) ? B64URL : undefined);
      }
    }
    return { query, target, nowMs, good };
  },
  async run(input) {
    const check = await mustNotReject(
      "SignedUrlVerifier.verify()",
      () => signVerifier.verify(input.query, input.target, input.nowMs),
    );
    if (input.good && !check.ok) throw new AssertionError(`a good signature refused: ${check.reason}`);
    if (!check.ok) throw new Refused("verify", new Error(check.reason.replace(/\b\d+\b/g, "N")));
  },
  show: (i) => JSON.stringify(i),
});

// ---------------------------------------------------------------------------------------------
// JWTs (never throw: a refusal is a reason) and the JWKS file (ConfigError)

const JWT_SECRET = "fuzz-jwt-secret-0123456789";
const encoder = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

interface JwtKeys {
  verifier: JwtVerifier;
  jwks: string;
  hmac: CryptoKey;
  ec: CryptoKeyPair;
  rsa: CryptoKeyPair;
}

let jwtKeys: Promise<JwtKeys> | undefined;

function keys(): Promise<JwtKeys> {
  return jwtKeys ??= (async () => {
    const hmac = await crypto.subtle.importKey(
      "raw",
      encoder.encode(JWT_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const rsa = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    ) as CryptoKeyPair;
    const jwks = JSON.stringify({
      keys: [
        { ...await crypto.subtle.exportKey("jwk", ec.publicKey), kid: "ec1", use: "sig" },
        { ...await crypto.subtle.exportKey("jwk", rsa.publicKey), kid: "rsa1", alg: "RS256" },
      ],
    });
    const verifier = await JwtVerifier.load(
      { jwtSecret: JWT_SECRET, jwksFile: "fuzz.jwks" },
      () => Promise.resolve(jwks),
    );
    return { verifier, jwks, hmac, ec, rsa };
  })();
}

function claimValue(r: Random): unknown {
  return pick(r, [1, 0, -1, 1e308, "1", null, true, [], {}, 2_000_000_000, 1_800_000_000]);
}

function grant(r: Random): unknown {
  if (chance(r, 0.1)) return pick(r, WILD_VALUES);
  return {
    action: pick(r, ["publish", "play", "any", "PLAY", "", 1]),
    path: pick(r, ["live/*", "*", "live/cam", "*/x", "live/**", "", "a".repeat(600), randomText(r, 10)]),
  };
}

interface JwtInput {
  token?: string;
  nowMs: number;
  jwks?: string;
}

fuzzTest<JwtInput>({
  name: "JWT JwtVerifier.verify() and JwtVerifier.load() of a JWKS",
  seed: 0x0a7e,
  async generate(r) {
    const k = await keys();
    if (chance(r, 0.08)) return { nowMs: 0, jwks: corruptText(k.jwks, r, '{}[],:"abcnkeyxy0123') };
    const alg = pick(r, ["HS256", "ES256", "RS256", "none", "HS512", 7, undefined]);
    const header: Record<string, unknown> = { alg, typ: "JWT" };
    if (chance(r, 0.4)) header.kid = pick(r, ["ec1", "rsa1", "nope", 5, "k".repeat(300)]);
    const payload: Record<string, unknown> = { sub: pick(r, ["alice", 1, undefined]) };
    if (chance(r, 0.7)) payload.exp = chance(r, 0.7) ? 1_900_000_000 + int(r, 1e8) : claimValue(r);
    if (chance(r, 0.3)) payload.nbf = claimValue(r);
    if (chance(r, 0.8)) {
      payload.sluice = chance(r, 0.1)
        ? claimValue(r)
        : Array.from({ length: chance(r, 0.03) ? 70 : int(r, 4) }, () => grant(r));
    }
    let headerPart = b64url(encoder.encode(JSON.stringify(header)));
    const payloadPart = b64url(
      chance(r, 0.05) ? Uint8Array.of(0xff, 0xfe, 0x7b) : encoder.encode(JSON.stringify(payload)),
    );
    if (chance(r, 0.05)) headerPart = b64url(encoder.encode(pick(r, ["[]", "null", "1", "{", '"x"'])));
    const data = encoder.encode(`${headerPart}.${payloadPart}`);
    let sig: Uint8Array;
    if (chance(r, 0.7) && alg === "HS256") {
      sig = new Uint8Array(await crypto.subtle.sign("HMAC", k.hmac, data));
    } else if (chance(r, 0.7) && alg === "ES256") {
      sig = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, k.ec.privateKey, data),
      );
    } else if (chance(r, 0.5) && alg === "RS256") {
      sig = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", k.rsa.privateKey, data));
    } else {sig = Uint8Array.from({ length: pick(r, [0, 1, 31, 32, 63, 64, 65, 256, 512]) }, () =>
        int(r, 256));}
    let token = `${headerPart}.${payloadPart}.${b64url(sig)}`;
    if (chance(r, 0.25)) token = corruptText(token, r, `${B64URL}.=+/`);
    if (chance(r, 0.02)) token = token.repeat(1 + Math.ceil(8192 / Math.max(1, token.length)));
    if (chance(r, 0.02)) token = pick(r, ["", ".", "..", "a.b.c", "...."]);
    return { token: chance(r, 0.02) ? undefined : token, nowMs: 1_800_000_000_000 + int(r, 1e12) };
  },
  async run(input) {
    const k = await keys();
    if (input.jwks !== undefined) {
      await stageAsync(
        "JwtVerifier.load",
        [ConfigError],
        () => JwtVerifier.load({ jwksFile: "fuzz.jwks" }, () => Promise.resolve(input.jwks!)),
      );
      return;
    }
    const check = await mustNotReject(
      "JwtVerifier.verify()",
      () => k.verifier.verify(input.token, input.nowMs),
    );
    if (!check.ok) {
      throw new Refused("verify", new Error(check.reason.replace(/\b[\d.e+]+\b/g, "N").slice(0, 60)));
    }
  },
  show: (i) => JSON.stringify(i).slice(0, 800),
});
