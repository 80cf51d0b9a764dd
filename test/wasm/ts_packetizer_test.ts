/**
 * One suite for MPEG-TS packetizing, run against the WASM implementation
 * (src/wasm/ts_packetizer.ts) and its TypeScript twin
 * (test/_util/ts_packetizer_ref.ts). Muxing real streams is in
 * test/media/ts/ts_muxer_test.ts.
 */
import { abi, codec } from "../../src/wasm/module.ts";
import * as wasm from "../../src/wasm/ts_packetizer.ts";
import type { PesPacketizing } from "../../src/wasm/ts_packetizer.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import * as ref from "../_util/ts_packetizer_ref.ts";
import { seededRandom } from "../_util/mutate.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { concat } from "../fixtures/nal_fixtures.ts";

type Impl = Pick<typeof wasm, "packetizePes" | "packetsLength">;
const IMPLS: [string, Impl][] = [["wasm", wasm], ["ts", ref]];

/** A PES stand-in of `n` bytes: 1, 2, 3, ... (mod 251, so a shifted byte shows). */
function pes(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i % 251) + 1;
  return p;
}

/** `n` stuffing bytes (2.4.3.5). */
function ff(n: number): Uint8Array {
  return new Uint8Array(n).fill(0xff);
}

/** A PCR of base 0x123456789 and extension 299: 91 a2 b3 c4 ff 2b on the wire. */
const PCR = 0x123456789 * 300 + 299;

interface Case {
  name: string;
  length: number;
  opts: PesPacketizing;
  /** The packets, the PES bytes written as `pes(...)` slices. */
  want: (p: Uint8Array) => Uint8Array;
}

const VIDEO = 0x100;

/** The fixture cases: every shape of first and last packet. */
const CASES: Case[] = [
  {
    name: "a short PES fills its one packet with 174 bytes of adaptation field stuffing",
    length: 10,
    opts: { pid: VIDEO, continuity: 0 },
    want: (p) =>
      concat([
        hex(`
          47                    # sync_byte
          41 00                 # payload_unit_start_indicator 1, PID 0x100
          30                    # adaptation field and payload, continuity_counter 0
          ad                    # adaptation_field_length 173
          00                    # no flags
        `),
        ff(172),
        p,
      ]),
  },
  {
    name: "a PES of exactly 184 bytes fills one packet with no adaptation field",
    length: 184,
    opts: { pid: VIDEO, continuity: 5 },
    want: (p) => concat([hex(`47 41 00 15  # PUSI, PID 0x100, payload only, continuity_counter 5`), p]),
  },
  {
    name: "a PES of 185 bytes takes a second packet, with 183 bytes of stuffing before its one byte",
    length: 185,
    opts: { pid: VIDEO, continuity: 0 },
    want: (p) =>
      concat([
        hex(`47 41 00 10  # PUSI, payload only, CC 0`),
        p.subarray(0, 184),
        hex(`
          47 01 00              # no PUSI, PID 0x100
          31                    # adaptation field and payload, CC 1
          b6 00                 # adaptation_field_length 182, no flags
        `),
        ff(181),
        p.subarray(184),
      ]),
  },
  {
    name: "one byte of stuffing is an adaptation field of length 0",
    length: 183,
    opts: { pid: VIDEO, continuity: 0 },
    want: (p) =>
      concat([
        hex(`
          47 41 00 30           # PUSI, adaptation field and payload, CC 0
          00                    # adaptation_field_length 0: the length byte is the stuffing
        `),
        p,
      ]),
  },
  {
    name: "two bytes of stuffing are an adaptation field of length 1 with no flags",
    length: 182,
    opts: { pid: VIDEO, continuity: 0 },
    want: (p) =>
      concat([
        hex(`
          47 41 00 30           # PUSI, adaptation field and payload, CC 0
          01 00                 # adaptation_field_length 1, no flags
        `),
        p,
      ]),
  },
  {
    name: "the last of several packets takes one byte of stuffing the same way",
    length: 184 + 183,
    opts: { pid: VIDEO, continuity: 0 },
    want: (p) =>
      concat([
        hex(`47 41 00 10`),
        p.subarray(0, 184),
        hex(`47 01 00 31  00          # adaptation_field_length 0`),
        p.subarray(184),
      ]),
  },
  {
    name: "the last of several packets takes two bytes of stuffing the same way",
    length: 184 + 182,
    opts: { pid: VIDEO, continuity: 0 },
    want: (p) =>
      concat([
        hex(`47 41 00 10`),
        p.subarray(0, 184),
        hex(`47 01 00 31  01 00       # adaptation_field_length 1, no flags`),
        p.subarray(184),
      ]),
  },
  {
    name: "a PCR takes 8 bytes of the first packet's adaptation field, leaving 176",
    length: 176,
    opts: { pid: VIDEO, continuity: 3, pcr: PCR },
    want: (p) =>
      concat([
        hex(`
          47 41 00 33           # PUSI, adaptation field and payload, CC 3
          07                    # adaptation_field_length 7
          10                    # PCR_flag
          91 a2 b3 c4           # program_clock_reference_base 0x123456789, its top 32 bits
          ff                    # its last bit (1), 6 reserved bits, extension bit 8 (0)
          2b                    # program_clock_reference_extension 299, low 8 bits
        `),
        p,
      ]),
  },
  {
    name: "a PCR with random access sets both flags and stuffing follows the PCR",
    length: 100,
    opts: { pid: VIDEO, continuity: 0, pcr: PCR, randomAccess: true },
    want: (p) =>
      concat([
        hex(`
          47 41 00 30           # PUSI, adaptation field and payload, CC 0
          53                    # adaptation_field_length 83: flags, PCR and 76 stuffing bytes
          50                    # random_access_indicator, PCR_flag
          91 a2 b3 c4 ff 2b     # PCR
        `),
        ff(76),
        p,
      ]),
  },
  {
    name: "a PES with a PCR one byte over 176 takes a second packet",
    length: 177,
    opts: { pid: VIDEO, continuity: 0, pcr: 0 },
    want: (p) =>
      concat([
        hex(`
          47 41 00 30  07 10    # PCR_flag
          00 00 00 00 7e 00     # PCR 0: reserved bits set
        `),
        p.subarray(0, 176),
        hex(`47 01 00 31  b6 00`),
        ff(181),
        p.subarray(176),
      ]),
  },
  {
    name: "random access alone is a 2-byte adaptation field",
    length: 182,
    opts: { pid: VIDEO, continuity: 0, randomAccess: true },
    want: (p) =>
      concat([
        hex(`
          47 41 00 30           # PUSI, adaptation field and payload, CC 0
          01 40                 # adaptation_field_length 1, random_access_indicator
        `),
        p,
      ]),
  },
  {
    name: "random access on a short PES has the stuffing after the flags",
    length: 181,
    opts: { pid: VIDEO, continuity: 0, randomAccess: true },
    want: (p) => concat([hex(`47 41 00 30  02 40 ff    # length 2, random_access_indicator, 1 stuffing`), p]),
  },
  {
    name: "the continuity counter wraps from 15 to 0 and the PID's high bits go in byte 1",
    length: 400,
    opts: { pid: 0x1ffe, continuity: 14 },
    want: (p) =>
      concat([
        hex(`47 5f fe 1e              # PUSI, PID 0x1FFE, payload only, CC 14`),
        p.subarray(0, 184),
        hex(`47 1f fe 1f              # CC 15`),
        p.subarray(184, 368),
        hex(`47 1f fe 30  97 00       # CC 0; adaptation_field_length 151, no flags`),
        ff(150),
        p.subarray(368),
      ]),
  },
];

/** Every way to cut `p` in two, then one-byte parts. */
function* splits(p: Uint8Array): Generator<Uint8Array[]> {
  for (let i = 0; i <= p.length; i++) yield [p.subarray(0, i), p.subarray(i)];
  yield Array.from(p, (b) => Uint8Array.of(b));
}

for (const [name, impl] of IMPLS) {
  for (const c of CASES) {
    Deno.test(`[${name}] packetizePes(): ${c.name}`, () => {
      const p = pes(c.length);
      const want = c.want(p);
      assertEquals(want.length % 188, 0, "the fixture is whole packets");
      assertEquals(impl.packetizePes([p], c.opts), want);
      assertEquals(impl.packetsLength(c.length, c.opts), want.length);
    });
  }

  Deno.test(`[${name}] packetizePes() gives the same packets however the PES is cut into parts`, () => {
    for (const c of CASES) {
      const p = pes(c.length);
      const want = c.want(p);
      for (const parts of splits(p)) assertEquals(impl.packetizePes(parts, c.opts), want, c.name);
      assertEquals(impl.packetizePes([new Uint8Array(0), p, new Uint8Array(0)], c.opts), want, c.name);
    }
  });

  Deno.test(`[${name}] packetizePes() splits the largest PES, TS_MAX_PES_SIZE bytes`, () => {
    const p = pes(wasm.TS_MAX_PES_SIZE);
    const out = impl.packetizePes([p], { pid: VIDEO, continuity: 0, pcr: PCR });
    const packets = 1 + Math.ceil((p.length - 176) / 184);
    assertEquals(out.length, packets * 188);
    const last = out.subarray(out.length - 188);
    const tail = (p.length - 176) % 184 || 184;
    assertEquals(last.subarray(188 - tail), p.subarray(p.length - tail), "the PES ends the last packet");
    assertEquals(last[3] & 0x0f, (packets - 1) & 15, "continuity_counter of the last packet");
    for (let o = 0; o < out.length; o += 188) assert(out[o] === 0x47, `sync byte at ${o}`);
  });

  Deno.test(`[${name}] packetizePes() refuses an empty or too long PES and PID, counter or PCR out of range`, () => {
    const one = [pes(1)];
    assertThrows(
      () => impl.packetizePes([], { pid: VIDEO, continuity: 0 }),
      RangeError,
      `Cannot packetize PES: it is 0 bytes, allowed 1..${wasm.TS_MAX_PES_SIZE}`,
    );
    assertThrows(
      () => impl.packetizePes([new Uint8Array(wasm.TS_MAX_PES_SIZE), pes(1)], { pid: VIDEO, continuity: 0 }),
      RangeError,
      `Cannot packetize PES: it is ${wasm.TS_MAX_PES_SIZE + 1} bytes, allowed 1..${wasm.TS_MAX_PES_SIZE}`,
    );
    for (const pid of [-1, 0x1fff, 1.5, NaN]) {
      assertThrows(
        () => impl.packetizePes(one, { pid, continuity: 0 }),
        RangeError,
        `Cannot packetize PES: PID must be an integer in 0..8190, current ${pid}`,
      );
    }
    for (const continuity of [-1, 16, 0.5]) {
      assertThrows(
        () => impl.packetizePes(one, { pid: VIDEO, continuity }),
        RangeError,
        `Cannot packetize PES: continuity counter must be an integer in 0..15, current ${continuity}`,
      );
    }
    for (const pcr of [-1, wasm.PCR_RANGE, 2.5]) {
      assertThrows(
        () => impl.packetizePes(one, { pid: VIDEO, continuity: 0, pcr }),
        RangeError,
        `Cannot packetize PES: PCR must be an integer in 0..${wasm.PCR_RANGE - 1}, current ${pcr}`,
      );
    }
  });

  Deno.test(`[${name}] packetizePes() returns a new array the caller owns`, () => {
    const p = pes(300);
    const a = impl.packetizePes([p], { pid: VIDEO, continuity: 0 });
    const b = impl.packetizePes([pes(10)], { pid: 0x101, continuity: 7 });
    assert(a.buffer !== b.buffer && a.buffer !== codec().memory.buffer, "separate buffers");
    assertEquals(
      a,
      impl.packetizePes([pes(300)], { pid: VIDEO, continuity: 0 }),
      "a later call left it alone",
    );
    p[0] = 0;
    assertEquals(a[4], 1, "the packets do not share the caller's bytes");
  });
}

Deno.test("tsPacketize refuses arguments the host would have caught, with a status code", () => {
  const { exports } = codec();
  const A = abi as Readonly<Record<string, number>>;
  const size = A.CODEC_OUT_SIZE;
  assertEquals(exports.tsPacketize(0, 0, VIDEO, 0, 0, -1), A.ST_INPUT_TOO_LONG, "empty");
  assertEquals(exports.tsPacketize(0, A.TS_MAX_PES_SIZE + 1, VIDEO, 0, 0, -1), A.ST_INPUT_TOO_LONG);
  assertEquals(exports.tsPacketize(4, 184, 0x1fff, 0, 0, -1), A.ST_BAD_ARGUMENT, "null PID");
  assertEquals(exports.tsPacketize(4, 184, VIDEO, 16, 0, -1), A.ST_BAD_ARGUMENT, "counter 16");
  assertEquals(exports.tsPacketize(4, 184, VIDEO, 0, 0, wasm.PCR_RANGE), A.ST_BAD_ARGUMENT, "PCR");
  assertEquals(exports.tsPacketize(3, 184, VIDEO, 0, 0, -1), A.ST_BAD_ARGUMENT, "no room for the header");
  assertEquals(exports.tsPacketize(size - 183, 184, VIDEO, 0, 0, -1), A.ST_BAD_ARGUMENT, "past the region");
  assertEquals(exports.tsPacketize(4, 184, VIDEO, 0, 0, -1), 188, "the same call with room is fine");
});

Deno.test("packetizePes() gives the same bytes as its twin for random PES, parts and options", () => {
  const random = seededRandom(0x7547);
  const int = (n: number) => Math.floor(random() * n);
  for (let i = 0; i < 600; i++) {
    const length = 1 + (i % 10 === 0 ? int(200_000) : int(3000));
    const p = Uint8Array.from({ length }, () => int(256));
    const parts: Uint8Array[] = [];
    for (let o = 0; o < length;) {
      const n = Math.min(length - o, int(i % 2 ? 40 : 2000));
      parts.push(p.subarray(o, o + n));
      o += n;
    }
    const opts: PesPacketizing = {
      pid: int(0x1fff),
      continuity: int(16),
      ...(random() < 0.5 && { randomAccess: true }),
      ...(random() < 0.5 && { pcr: int(wasm.PCR_RANGE) }),
    };
    const out = wasm.packetizePes(parts, opts);
    assertEquals(out, ref.packetizePes(parts, opts), `case ${i}: ${length} bytes, ${JSON.stringify(opts)}`);
    assertEquals(out, ref.packetizePes([p], opts), `case ${i}: parts or whole`);
  }
});
