/**
 * RtspReader: the captures of real clients (test/fixtures/rtsp/ffmpeg_fixtures.ts)
 * fed whole, split in two at every byte, one byte at a time and in random
 * pieces; a table of broken inputs, each a cap or a rule, fed the same ways;
 * then a live ffmpeg run through the capture server, and seeded mutations
 * that may only ever throw ProtocolError.
 */
import { ProtocolError } from "../../src/errors.ts";
import { interleave, Interleaved } from "../../src/media/rtp/interleaved.ts";
import { writeRequest, writeResponse } from "../../src/rtsp/message.ts";
import {
  MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  MAX_HEADER_COUNT,
  MAX_START_LINE_BYTES,
  type RtspItem,
  RtspReader,
  type RtspReaderOptions,
} from "../../src/rtsp/reader.ts";
import { parseSdp } from "../../src/rtsp/sdp.ts";
import { RtspError, RtspStatus } from "../../src/rtsp/status.ts";
import { assert, assertEquals, assertGreater, assertThrows } from "../_util/assert.ts";
import { haveTools, makeSource } from "../_util/media.ts";
import { expectOnlyProtocolError, mutations, seededRandom } from "../_util/mutate.ts";
import { byteByByte, feed, type FeedResult, randomPieces, splitsInTwo } from "../_util/split.ts";
import { capture, ffmpegRuns } from "../fixtures/rtsp/capture.ts";
import {
  captureBytes,
  type CapturedPart,
  captures,
  ffmpegPublishTcp,
  partBytes,
  partHeaders,
} from "../fixtures/rtsp/ffmpeg_fixtures.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** FNV-1a of some bytes: payloads compared cheaply (the suite compares thousands of splits). */
function fnv(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return `${bytes.length}:${h.toString(16)}`;
}

/** An item as plain data, for comparing. */
function summary(item: RtspItem): Record<string, unknown> {
  if (item.type === "interleaved") {
    return { type: item.type, channel: item.channel, payload: fnv(item.payload) };
  }
  const common = { headers: item.headers.entries().map(([k, v]) => [k, v]), body: dec.decode(item.body) };
  if (item.type === "request") {
    return {
      type: item.type,
      method: item.method,
      uri: item.uri,
      cseq: item.cseq,
      version: item.version,
      ...common,
    };
  }
  return { type: item.type, status: item.status, reason: item.reason, cseq: item.cseq, ...common };
}

/** What a captured part must come out as. */
function expected(part: CapturedPart): Record<string, unknown> {
  const e = part.expect;
  if (e.type === "interleaved") {
    const payload = partBytes(part).subarray(4);
    assertEquals(payload.length, e.length, `fixture length of "${part.note}"`);
    return { type: e.type, channel: e.channel, payload: fnv(payload) };
  }
  const common = { headers: partHeaders(part), body: part.body ?? "" };
  if (e.type === "request") {
    return { type: e.type, method: e.method, uri: e.uri, cseq: e.cseq, version: "RTSP/1.0", ...common };
  }
  return { type: e.type, status: e.status, reason: e.reason, cseq: e.cseq, ...common };
}

function run(
  pieces: Iterable<Uint8Array>,
  opts?: RtspReaderOptions,
): FeedResult<RtspItem> & { reader: RtspReader } {
  const reader = new RtspReader(opts);
  return { reader, ...feed((b) => reader.push(b), pieces) };
}

for (const c of captures) {
  const bytes = captureBytes(c);
  const want = c.parts.map(expected);
  const check = (got: FeedResult<RtspItem> & { reader: RtspReader }, how: string) => {
    assertEquals(got.error, undefined, `no error, ${how}`);
    assertEquals(got.items.map(summary), want, `items, ${how}`);
    assertEquals(got.reader.buffered, 0, `nothing left, ${how}`);
  };

  Deno.test(`RtspReader.push() reads ${c.name} whole`, () => check(run([bytes]), "whole"));

  Deno.test(`RtspReader.push() reads ${c.name} split at every byte`, () => {
    for (const pieces of splitsInTwo(bytes)) check(run(pieces), `split at ${pieces[0].length}`);
  });

  Deno.test(`RtspReader.push() reads ${c.name} one byte at a time`, () => {
    check(run(byteByByte(bytes)), "one byte at a time");
  });

  Deno.test(`RtspReader.push() reads ${c.name} in random pieces`, () => {
    for (let seed = 1; seed <= 16; seed++) {
      check(run(randomPieces(bytes, seededRandom(seed))), `seed ${seed}`);
    }
  });
}

Deno.test("RtspReader.push() gives ffmpeg's ANNOUNCE body whole, and it reads as SDP", () => {
  const [, announce] = run([captureBytes(ffmpegPublishTcp)]).items;
  assert(announce.type === "request");
  assertEquals(announce.body.length, 494);
  const sdp = parseSdp(announce.body);
  assertEquals(sdp.media.map((m) => m.media), ["video", "audio"]);
});

// ---------------------------------------------------------------------------------------------
// Broken input: each cap and rule, with the status a server answers

interface BadCase {
  name: string;
  bytes: Uint8Array;
  opts?: RtspReaderOptions;
  status: RtspStatus;
  code: string;
  /** The message when fed whole. */
  message: string;
  /** Items that come before the error. */
  before?: number;
}

const line = (s: string) => `${s}\r\n`;
const OPTIONS = line("OPTIONS rtsp://h/live/x RTSP/1.0") + line("CSeq: 1");
const longUri = `rtsp://h/${"a".repeat(MAX_START_LINE_BYTES)}`;
const manyFields = Array.from({ length: MAX_HEADER_COUNT }, (_, i) => line(`X-F${i}: ${i}`)).join("");
const bigField = line(`X-Big: ${"b".repeat(MAX_HEADER_BYTES)}`);

const badCases: BadCase[] = [
  {
    name: "a request line over MAX_START_LINE_BYTES with no end yet",
    bytes: enc.encode(`DESCRIBE ${longUri}`),
    status: RtspStatus.RequestUriTooLarge,
    code: "rtsp_start_line",
    message: `Cannot read RTSP start line: current length ${
      9 + longUri.length
    } bytes with no end yet, limit ${MAX_START_LINE_BYTES}`,
  },
  {
    name: "a request line over MAX_START_LINE_BYTES",
    bytes: enc.encode(line(`DESCRIBE ${longUri} RTSP/1.0`) + line("CSeq: 1") + "\r\n"),
    status: RtspStatus.RequestUriTooLarge,
    code: "rtsp_start_line",
    message: `Cannot read RTSP start line: current length ${
      9 + longUri.length + 9
    } bytes, limit ${MAX_START_LINE_BYTES}`,
  },
  {
    name: "a start line over a reader's own cap",
    bytes: enc.encode(OPTIONS + "\r\n"),
    opts: { maxStartLineBytes: 16 },
    status: RtspStatus.RequestUriTooLarge,
    code: "rtsp_start_line",
    message: "Cannot read RTSP start line: current length 32 bytes, limit 16",
  },
  {
    name: `one header field over MAX_HEADER_COUNT (${MAX_HEADER_COUNT})`,
    bytes: enc.encode(OPTIONS + manyFields + "\r\n"),
    status: RtspStatus.RequestHeaderFieldsTooLarge,
    code: "rtsp_header_count",
    message: `Cannot read RTSP headers: current count over ${MAX_HEADER_COUNT}, limit ${MAX_HEADER_COUNT}`,
  },
  {
    name: "a head over MAX_HEADER_BYTES that ends",
    bytes: enc.encode(OPTIONS + bigField + "\r\n"),
    status: RtspStatus.RequestHeaderFieldsTooLarge,
    code: "rtsp_header_bytes",
    message: `Cannot read RTSP message head: current length ${
      OPTIONS.length + bigField.length + 2
    } bytes, limit ${MAX_HEADER_BYTES}`,
  },
  {
    name: "an endless head (no CRLFCRLF) past MAX_HEADER_BYTES",
    bytes: enc.encode(OPTIONS + line("X-Pad: x").repeat(Math.floor(MAX_HEADER_BYTES / 10) + 1)),
    status: RtspStatus.RequestHeaderFieldsTooLarge,
    code: "rtsp_header_bytes",
    message: `Cannot read RTSP message head: current length ${
      OPTIONS.length + 10 * (Math.floor(MAX_HEADER_BYTES / 10) + 1)
    } bytes with no end yet, limit ${MAX_HEADER_BYTES}`,
  },
  {
    name: "a Content-Length over MAX_BODY_BYTES (before the body comes)",
    bytes: enc.encode(OPTIONS + line(`Content-Length: ${MAX_BODY_BYTES + 1}`) + "\r\n"),
    status: RtspStatus.RequestEntityTooLarge,
    code: "rtsp_body_length",
    message: `Cannot read RTSP body: current Content-Length ${
      MAX_BODY_BYTES + 1
    } bytes, limit ${MAX_BODY_BYTES}`,
  },
  {
    name: "an interleaved frame over the reader's cap (from its 4-byte header alone)",
    bytes: Uint8Array.of(0x24, 0x00, 0x05, 0xdd),
    opts: { maxInterleavedBytes: 1500 },
    status: RtspStatus.RequestEntityTooLarge,
    code: "rtsp_interleaved_length",
    message: "Cannot read interleaved frame on channel 0: current length 1501 bytes, limit 1500",
  },
  {
    name: "RTSP/2.0",
    bytes: enc.encode(line("OPTIONS * RTSP/2.0") + line("CSeq: 1") + "\r\n"),
    status: RtspStatus.RtspVersionNotSupported,
    code: "rtsp_version",
    message: "Cannot read RTSP message: current version RTSP/2.0, expected RTSP/1.0",
  },
  {
    name: "an HTTP request",
    bytes: enc.encode(line("GET /live/x HTTP/1.1") + line("Host: h") + "\r\n"),
    status: RtspStatus.RtspVersionNotSupported,
    code: "rtsp_version",
    message: "Cannot read RTSP message: current version HTTP/1.1, expected RTSP/1.0",
  },
  {
    name: "a request line with two spaces",
    bytes: enc.encode(line("OPTIONS  * RTSP/1.0") + line("CSeq: 1") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_start_line",
    message: 'Cannot read RTSP request line: current line is "OPTIONS  * RTSP/1.0"',
  },
  {
    name: "a request without CSeq",
    bytes: enc.encode(line("OPTIONS * RTSP/1.0") + line("User-Agent: x") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_cseq",
    message: "Cannot read OPTIONS request: current CSeq is missing",
  },
  {
    name: "a CSeq that is not a number",
    bytes: enc.encode(line("OPTIONS * RTSP/1.0") + line("CSeq: one") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_cseq",
    message: 'Cannot read OPTIONS request: current CSeq is "one"',
  },
  {
    name: "a header line with no colon",
    bytes: enc.encode(OPTIONS + line("Garbage") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_header",
    message: 'Cannot read RTSP header: current line "Garbage" has no field name',
  },
  {
    name: "a continuation line with no field above",
    bytes: enc.encode(line("OPTIONS * RTSP/1.0") + line(" CSeq: 1") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_header",
    message: 'Cannot read RTSP header: current first line " CSeq: 1" continues nothing',
  },
  {
    name: "two different Content-Lengths",
    bytes: enc.encode(OPTIONS + line("Content-Length: 1") + line("Content-Length: 2") + "\r\nab"),
    status: RtspStatus.BadRequest,
    code: "rtsp_content_length",
    message: 'Cannot read Content-Length: current value "1, 2"',
  },
  {
    name: "a negative Content-Length",
    bytes: enc.encode(OPTIONS + line("Content-Length: -1") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_content_length",
    message: 'Cannot read Content-Length: current value "-1"',
  },
  {
    name: "a status line without a code",
    bytes: enc.encode(line("RTSP/1.0 OK") + line("CSeq: 1") + "\r\n"),
    status: RtspStatus.BadRequest,
    code: "rtsp_start_line",
    message: 'Cannot read RTSP status line: current line is "RTSP/1.0 OK"',
  },
  {
    name: "a good request, then a bad one",
    bytes: enc.encode(OPTIONS + "\r\n" + line("OPTIONS * RTSP/1.1") + line("CSeq: 2") + "\r\n"),
    status: RtspStatus.RtspVersionNotSupported,
    code: "rtsp_version",
    message: "Cannot read RTSP message: current version RTSP/1.1, expected RTSP/1.0",
    before: 1,
  },
];

function expectError(c: BadCase, got: FeedResult<RtspItem>, how: string, exactMessage: boolean) {
  assert(got.error instanceof RtspError, `an RtspError, ${how}: ${got.error}`);
  assert(got.error instanceof ProtocolError, `an RtspError is a ProtocolError, ${how}`);
  assertEquals(got.error.status, c.status, `status, ${how}`);
  assertEquals(got.error.code, c.code, `code, ${how}`);
  if (exactMessage) assertEquals(got.error.message, c.message, `message, ${how}`);
  assert(got.items.length <= (c.before ?? 0), `no item past the error, ${how}`);
}

for (const c of badCases) {
  Deno.test(`RtspReader.push() refuses ${c.name} with ${c.status}`, () => {
    const got = run([c.bytes], c.opts);
    expectError(c, got, "whole", true);
    assertEquals(got.items.length, 0); // a push that throws returns nothing
  });

  Deno.test(`RtspReader.push() refuses ${c.name} split at every byte`, () => {
    // The big cases are split at a sample of positions: each split re-reads up to 16 KiB.
    const step = c.bytes.length > 2000 ? 97 : 1;
    let k = 0;
    for (const pieces of splitsInTwo(c.bytes)) {
      if (k++ % step !== 0) continue;
      const got = run(pieces, c.opts);
      expectError(c, got, `split at ${pieces[0].length}`, false);
      // Items before the error come out when the bad message is in a later piece.
      if (c.before && pieces[0].length >= c.bytes.length - 30) assertEquals(got.items.length, c.before);
    }
  });
}

Deno.test("RtspReader.push() fails an endless head at the cap, holding no more than the cap", () => {
  const reader = new RtspReader({ maxHeaderBytes: 1024 });
  reader.push(enc.encode(OPTIONS));
  let pushed = OPTIONS.length;
  const piece = enc.encode(line("X-Slow: loris"));
  const e = assertThrows(() => {
    for (;;) {
      reader.push(piece);
      pushed += piece.length;
      assert(reader.buffered <= 1024, `buffered ${reader.buffered}`);
    }
  }, RtspError);
  assertEquals(e.status, RtspStatus.RequestHeaderFieldsTooLarge);
  assertGreater(pushed + piece.length, 1024);
  assert(pushed <= 1024, `failed at the first push past the cap (${pushed} before it)`);
});

Deno.test("RtspReader.push() throws the same error again after a failure", () => {
  const reader = new RtspReader();
  const first = assertThrows(
    () => reader.push(enc.encode("OPTIONS * RTSP/9.9\r\nCSeq: 1\r\n\r\n")),
    RtspError,
  );
  const again = assertThrows(() => reader.push(enc.encode(OPTIONS + "\r\n")), RtspError);
  assertEquals(again, first);
  assertEquals(reader.buffered, 0);
});

// ---------------------------------------------------------------------------------------------
// What it reads, in detail

Deno.test("RtspReader.push() reads an unknown method (for the server to answer 501)", () => {
  const [req] = new RtspReader().push(enc.encode("FLY rtsp://h/x RTSP/1.0\r\nCSeq: 9\r\n\r\n"));
  assert(req.type === "request");
  assertEquals([req.method, req.uri, req.cseq], ["FLY", "rtsp://h/x", 9]);
});

Deno.test("RtspReader.push() takes LF line ends, folded fields, any case, and blank lines between messages", () => {
  const text = "\r\n\r\nOPTIONS * RTSP/1.0\ncseq: 7\nX-Long: one\n  two\n\tthree\n\n\n\r\n" +
    "SET_PARAMETER rtsp://h/x RTSP/1.0\r\nCSEQ: 8\r\ncontent-length: 5\r\n\r\nhello";
  const items = new RtspReader().push(enc.encode(text));
  assertEquals(items.map(summary), [
    {
      type: "request",
      method: "OPTIONS",
      uri: "*",
      cseq: 7,
      version: "RTSP/1.0",
      headers: [["cseq", "7"], ["X-Long", "one two three"]],
      body: "",
    },
    {
      type: "request",
      method: "SET_PARAMETER",
      uri: "rtsp://h/x",
      cseq: 8,
      version: "RTSP/1.0",
      headers: [["CSEQ", "8"], ["content-length", "5"]],
      body: "hello",
    },
  ]);
  assert(items[0].type === "request");
  assertEquals(items[0].headers.get("CSeq"), "7");
  assertEquals(items[0].headers.get("x-long"), "one two three");
});

Deno.test("RtspReader.push() reads requests, responses and frames mixed on one stream", () => {
  const stream = [
    writeRequest({ method: "GET_PARAMETER", uri: "rtsp://h/live/x/", cseq: 11, session: { id: "abcdef12" } }),
    interleave(Uint8Array.of(0x80, 0x60, 1, 2), 0),
    writeResponse({ status: RtspStatus.Ok, cseq: 4, body: "x=1", contentType: "text/parameters" }),
    interleave(new Uint8Array(0), 3),
  ];
  const all = new Uint8Array(stream.reduce((n, s) => n + s.length, 0));
  stream.reduce((at, s) => (all.set(s, at), at + s.length), 0);
  for (const pieces of [[all], ...splitsInTwo(all)]) {
    const items = run(pieces).items;
    assertEquals(items.map((i) => i.type), ["request", "interleaved", "response", "interleaved"]);
    const [req, f0, res, f1] = items;
    assert(
      req.type === "request" && res.type === "response" && f0.type === "interleaved" &&
        f1.type === "interleaved",
    );
    assertEquals(req.headers.get("session"), "abcdef12");
    assertEquals([f0.channel, [...f0.payload]], [0, [0x80, 0x60, 1, 2]]);
    assertEquals([res.status, res.reason, res.cseq, dec.decode(res.body)], [200, "OK", 4, "x=1"]);
    assertEquals([f1.channel, f1.payload.length], [3, 0]);
  }
});

Deno.test("RtspReader.push() reads back a frame of the largest payload, 65535 bytes, on channel 255", () => {
  const payload = new Uint8Array(Interleaved.MaxPayload).map((_, i) => i & 0xff);
  const [frame] = new RtspReader().push(interleave(payload, 255));
  assert(frame.type === "interleaved");
  assertEquals(frame.channel, 255);
  assertEquals(frame.payload, payload);
});

Deno.test("RtspReader.push() returns bodies and payloads the caller owns", () => {
  const bytes = new Uint8Array([...interleave(Uint8Array.of(1, 2, 3), 2)]);
  const reader = new RtspReader();
  const [frame] = reader.push(bytes);
  bytes.fill(0);
  assert(frame.type === "interleaved");
  assertEquals([...frame.payload], [1, 2, 3]);
  // A partial frame kept between pushes is a copy too.
  const part = new Uint8Array([...interleave(Uint8Array.of(4, 5, 6), 2)]);
  assertEquals(reader.push(part.subarray(0, 5)), []);
  part.fill(0xee, 0, 5);
  const [later] = reader.push(part.subarray(5));
  assert(later.type === "interleaved");
  assertEquals([...later.payload], [4, 5, 6]);
});

Deno.test("RtspReader.buffered counts the bytes of an item still arriving", () => {
  const reader = new RtspReader();
  assertEquals(reader.push(enc.encode("OPTIONS * RTSP/1.0\r\nCSe")), []);
  assertEquals(reader.buffered, 23);
  assertEquals(reader.push(enc.encode("q: 1\r\n\r\n")).length, 1);
  assertEquals(reader.buffered, 0);
});

// ---------------------------------------------------------------------------------------------
// Real clients, now

Deno.test({
  name: "RtspReader.push() reads what the installed ffmpeg sends to play and publish, split at every byte",
  ignore: !haveTools("ffmpeg"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const src = await makeSource(`${dir}/src.flv`, {
        seconds: 1,
        size: "64x64",
        fps: 5,
        gop: 5,
        bframes: 0,
      });
      const runs = ffmpegRuns(src);
      const play = await capture("ffmpeg", runs.playTcp.args, { runMs: runs.playTcp.runMs });
      const publish = await capture("ffmpeg", runs.publishTcp.args, { runMs: runs.publishTcp.runMs });
      const methods = (items: RtspItem[]) => items.flatMap((i) => (i.type === "request" ? [i.method] : []));
      for (
        const [c, want] of [
          [play, ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY", "TEARDOWN"]],
          [publish, ["OPTIONS", "ANNOUNCE", "SETUP", "SETUP", "RECORD", "TEARDOWN"]],
        ] as const
      ) {
        const bytes = c.connections[0];
        const whole = run([bytes]);
        assertEquals(whole.error, undefined);
        assertEquals(methods(whole.items), [...want], c.stderr);
        for (const pieces of splitsInTwo(bytes)) {
          assertEquals(
            run(pieces).items.map(summary),
            whole.items.map(summary),
            `split at ${pieces[0].length}`,
          );
        }
      }
      const frames = run([publish.connections[0]]).items.filter((i) => i.type === "interleaved");
      assertGreater(frames.length, 5);
      assertEquals(new Set(frames.map((f) => f.type === "interleaved" && f.channel)), new Set([0, 1, 2, 3]));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Fuzz

Deno.test("RtspReader.push() throws nothing but ProtocolError on mutated captures", () => {
  const random = seededRandom(2326);
  const iterations = Number(Deno.env.get("SLUICE_FUZZ_ITERATIONS") ?? 300);
  for (const c of captures) {
    for (const m of mutations(captureBytes(c), random, iterations)) {
      expectOnlyProtocolError(m, (b) => {
        const r = new RtspReader();
        for (const p of randomPieces(b, random)) r.push(p);
      });
    }
  }
});
