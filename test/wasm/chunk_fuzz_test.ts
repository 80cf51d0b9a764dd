/**
 * Differential fuzz of the two ChunkReader twins (WASM and the pure-TypeScript
 * reference). Valid chunk streams are built with the reference writer: random
 * chunk streams (1-, 2- and 3-byte ids), sizes, timestamps (extended ones
 * included), header forms, interleaved messages, Set Chunk Size messages and
 * Abort Messages after partial messages. Each is checked whole, then mutated
 * (bit flips, byte edits, truncation, deleted and repeated ranges) and fed to
 * both twins in random pieces: they must return the same messages and throw
 * the same ProtocolError (code and message), and the WASM must never trap.
 *
 * A short run by default; `SLUICE_FUZZ_ITERATIONS=100000 deno task test
 * test/wasm/chunk_fuzz_test.ts` for a long one. A failure names its seed.
 */
import { ProtocolError } from "../../src/errors.ts";
import { MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { ChunkReader as WasmChunkReader, type ChunkReaderOptions } from "../../src/wasm/chunk_reader.ts";
import { abi } from "../../src/wasm/module.ts";
import { assert, AssertionError } from "../_util/assert.ts";
import { ChunkReader as RefChunkReader } from "../_util/chunk_reader_ref.ts";
import { encodeMessage, type HeaderForm } from "../_util/chunk_writer_ref.ts";
import { mutations, seededRandom } from "../_util/mutate.ts";
import { feed, type FeedResult, randomPieces } from "../_util/split.ts";
import { concatBytes } from "../../src/bytes.ts";

const DEFAULT_ITERATIONS = 300;
const MAX_CHUNK_STREAMS = abi.MAX_CHUNK_STREAMS;

function iterations(): number {
  try {
    const v = Deno.env.get("SLUICE_FUZZ_ITERATIONS");
    if (v) return Number(v);
  } catch {
    // No env permission: the short run.
  }
  return DEFAULT_ITERATIONS;
}

/** A valid chunk stream and the messages it carries. */
interface Stream {
  bytes: Uint8Array;
  messages: RtmpMessage[];
}

const CSIDS = [3, 4, 5, 6, 8, 63, 64, 65, 300, 319, 320, 2000, 65599];
const TYPES = [
  MessageType.Audio,
  MessageType.Video,
  MessageType.DataAmf0,
  MessageType.CommandAmf0,
  MessageType.UserControl,
  MessageType.Acknowledgement,
  MessageType.Aggregate,
  0x7f,
];
const CHUNK_SIZES = [1, 2, 3, 4, 7, 64, 128, 129, 1000, 4096, 60000];

/** Builds a random valid stream with the reference writer. */
function generate(random: () => number): Stream {
  const pick = (n: number) => Math.floor(random() * n);
  const chance = (p: number) => random() < p;
  const parts: Uint8Array[] = [];
  const messages: RtmpMessage[] = [];
  /** What the reader will remember per chunk stream: the last timestamp and message stream id. */
  const last = new Map<number, { timestamp: number; streamId: number }>();
  let chunkSize = 128;

  const control = (typeId: number, value: number): RtmpMessage => ({
    csid: 2,
    typeId,
    streamId: 0,
    timestamp: 0,
    payload: Uint8Array.of(value >>> 24, value >>> 16, value >>> 8, value),
  });

  /** A random message and the header form to send it with. */
  const randomMessage = (csid: number): [RtmpMessage, HeaderForm, number] => {
    const prev = last.get(csid);
    const delta = prev && chance(0.6);
    const step = [0, 1, 20, 40, 0xfffffe, 0xffffff, 0x1000000, Math.floor(random() * 2 ** 32)][pick(8)];
    const timestamp = delta
      ? (prev.timestamp + step) >>> 0
      : chance(0.7)
      ? pick(100000)
      : Math.floor(random() * 2 ** 32);
    const length = chance(0.1) ? pick(chunkSize <= 4 ? 3000 : 100000) : chance(0.2) ? 0 : pick(600);
    const msg: RtmpMessage = {
      csid,
      typeId: TYPES[pick(TYPES.length)],
      streamId: delta ? prev.streamId : pick(3),
      timestamp,
      payload: Uint8Array.from({ length }, () => pick(256)),
    };
    return [msg, delta ? "delta" : "full", prev?.timestamp ?? 0];
  };
  /** Notes a message's header as sent: the reader now remembers it for its chunk stream. */
  const sent = (msg: RtmpMessage) => last.set(msg.csid, { timestamp: msg.timestamp, streamId: msg.streamId });

  const ops = 1 + pick(30);
  for (let op = 0; op < ops; op++) {
    const r = random();
    if (r < 0.12) {
      // Set Chunk Size: later chunks use the new size.
      const size = chance(0.2) ? 1 + pick(70000) : CHUNK_SIZES[pick(CHUNK_SIZES.length)];
      const msg = control(MessageType.SetChunkSize, size);
      parts.push(encodeMessage(msg, chunkSize));
      messages.push(msg);
      chunkSize = size;
    } else if (r < 0.2) {
      // A message cut off after its first chunk, then an Abort Message for it.
      const csid = CSIDS[pick(CSIDS.length)];
      const [msg, form, prev] = randomMessage(csid);
      if (msg.payload.length <= chunkSize) continue; // one chunk: nothing to abort
      sent(msg);
      parts.push(chunksOf(encodeMessage(msg, chunkSize, form, prev), msg, chunkSize, form, prev)[0]);
      const abort = control(MessageType.Abort, csid);
      parts.push(encodeMessage(abort, chunkSize));
      messages.push(abort);
    } else if (r < 0.25) {
      // Empty messages on new chunk streams until the reader's table is full; nothing after them.
      const open = new Set([2, ...last.keys()]).size;
      for (let csid = 100; csid < 100 + MAX_CHUNK_STREAMS - open; csid++) {
        const msg = {
          csid,
          typeId: MessageType.DataAmf0,
          streamId: 0,
          timestamp: 0,
          payload: new Uint8Array(0),
        };
        sent(msg);
        parts.push(encodeMessage(msg, chunkSize));
        messages.push(msg);
      }
      break;
    } else if (r < 0.38) {
      // Two messages on different chunk streams, their chunks alternating.
      const a = CSIDS[pick(CSIDS.length)];
      const b = CSIDS.filter((c) => c !== a)[pick(CSIDS.length - 1)];
      const [ma, fa, pa] = randomMessage(a);
      const [mb, fb, pb] = randomMessage(b);
      sent(ma);
      sent(mb);
      const ca = chunksOf(encodeMessage(ma, chunkSize, fa, pa), ma, chunkSize, fa, pa);
      const cb = chunksOf(encodeMessage(mb, chunkSize, fb, pb), mb, chunkSize, fb, pb);
      for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
        if (i < ca.length) parts.push(ca[i]);
        if (i < cb.length) parts.push(cb[i]);
      }
      // The one whose last chunk comes first completes first.
      messages.push(...(cb.length < ca.length ? [mb, ma] : [ma, mb]));
    } else {
      const [msg, form, prev] = randomMessage(CSIDS[pick(CSIDS.length)]);
      sent(msg);
      parts.push(encodeMessage(msg, chunkSize, form, prev));
      messages.push(msg);
    }
  }
  return { bytes: concatBytes(parts), messages };
}

/** Splits one message's chunk bytes (as encodeMessage wrote them) into its chunks. */
function chunksOf(bytes: Uint8Array, msg: RtmpMessage, chunkSize: number, form: HeaderForm, prev: number) {
  const field = (form === "full" ? msg.timestamp : msg.timestamp - prev) >>> 0;
  const ext = field >= 0xffffff ? 4 : 0;
  const basic = msg.csid < 64 ? 1 : msg.csid < 320 ? 2 : 3;
  const out: Uint8Array[] = [];
  let at = 0;
  let left = msg.payload.length;
  let header = basic + (form === "full" ? 11 : 7) + ext;
  do {
    const n = header + Math.min(chunkSize, left);
    out.push(bytes.subarray(at, at + n));
    at += n;
    left -= Math.min(chunkSize, left);
    header = basic + ext;
  } while (left > 0);
  assert(at === bytes.length, "chunksOf covers the bytes");
  return out;
}

/** A random corruption of a valid stream. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  switch (pick(7)) {
    case 0:
      return bytes;
    case 6: {
      // An empty message on a chunk stream of its own appended: too many if the table is full.
      const msg = {
        csid: 200 + pick(100),
        typeId: 18,
        streamId: 0,
        timestamp: 0,
        payload: new Uint8Array(0),
      };
      return concatBytes([bytes, encodeMessage(msg, 128)]);
    }
    case 1:
    case 2:
      return mutations(bytes, random, 1).next().value!;
    case 3: {
      // Truncated.
      return bytes.subarray(0, pick(bytes.length + 1));
    }
    case 4: {
      // A range deleted.
      const at = pick(bytes.length + 1);
      return concatBytes([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(40))]);
    }
    default: {
      // A range repeated.
      const at = pick(bytes.length + 1);
      const range = bytes.subarray(at, at + 1 + pick(40));
      return concatBytes([bytes.subarray(0, at + range.length), range, bytes.subarray(at + range.length)]);
    }
  }
}

function randomOptions(random: () => number): ChunkReaderOptions | undefined {
  const r = random();
  if (r < 0.7) return undefined;
  if (r < 0.85) return { maxMessageLength: Math.floor(random() * 5000) };
  return { maxMessageLength: Math.floor(random() * 200000), maxChunkSize: 1 + Math.floor(random() * 70000) };
}

function run(
  make: () => { push(b: Uint8Array): RtmpMessage[] },
  pieces: Uint8Array[],
): FeedResult<RtmpMessage> {
  const reader = make();
  const got = feed((b) => reader.push(b), pieces);
  if (got.error !== undefined && !(got.error instanceof ProtocolError)) {
    throw new AssertionError(`reader threw ${got.error}`);
  }
  return got;
}

/** Where two message lists first differ, or undefined. `prefix`: a shorter list may end early. */
function firstDifference(a: RtmpMessage[], b: RtmpMessage[], prefix: boolean): string | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    if (
      x.csid !== y.csid || x.typeId !== y.typeId || x.streamId !== y.streamId ||
      x.timestamp !== y.timestamp ||
      x.payload.length !== y.payload.length || x.payload.some((v, j) => v !== y.payload[j])
    ) {
      const head = (m: RtmpMessage) => ({ ...m, payload: `${m.payload.length} bytes` });
      return `message ${i}: ${Deno.inspect(head(x))} vs ${Deno.inspect(head(y))}`;
    }
  }
  if (!prefix && a.length !== b.length) return `${a.length} messages vs ${b.length}`;
  return undefined;
}

function errorText(e: unknown): string {
  return e === undefined ? "no error" : e instanceof ProtocolError ? `${e.code} ${e.message}` : String(e);
}

function fuzzOne(seed: number): void {
  const random = seededRandom(seed);
  const stream = generate(random);
  const fail = (what: string) => {
    throw new AssertionError(`seed ${seed}: ${what}`);
  };

  // The valid stream decodes to what was encoded, in both twins.
  for (const make of [() => new WasmChunkReader(), () => new RefChunkReader()]) {
    const got = run(make, randomPieces(stream.bytes, random, 1 + Math.floor(random() * 5000)));
    if (got.error) fail(`valid stream threw ${errorText(got.error)}`);
    const diff = firstDifference(got.items, stream.messages, false);
    if (diff) fail(`valid stream: ${diff}`);
  }

  // A corrupted one: the same pieces give the same messages and error; other pieces, the same error.
  const bytes = mutate(stream.bytes, random);
  const opts = randomOptions(random);
  const maxPiece = [1, 7, 64, 1000, 200000][Math.floor(random() * 5)];
  const pieces = randomPieces(bytes, random, maxPiece);
  const wasm = run(() => new WasmChunkReader(opts), pieces);
  const ref = run(() => new RefChunkReader(opts), pieces);
  const diff = firstDifference(wasm.items, ref.items, false);
  if (diff) fail(`same pieces, wasm vs ref: ${diff}`);
  if (errorText(wasm.error) !== errorText(ref.error)) {
    fail(`same pieces: wasm ${errorText(wasm.error)}, ref ${errorText(ref.error)}`);
  }
  const other = run(() => new WasmChunkReader(opts), [bytes]);
  if (errorText(other.error) !== errorText(ref.error)) {
    fail(`whole: wasm ${errorText(other.error)}, ref in pieces ${errorText(ref.error)}`);
  }
  const prefixDiff = firstDifference(other.items, ref.items, true);
  if (prefixDiff) fail(`whole vs pieces: ${prefixDiff}`);
}

Deno.test("ChunkReader twins return the same messages and errors for random and corrupted chunk streams", () => {
  const n = iterations();
  for (let seed = 1; seed <= n; seed++) fuzzOne(seed);
});
