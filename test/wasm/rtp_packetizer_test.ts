/**
 * One suite for RTP packetizing of H.264 NAL units, run against the WASM
 * implementation (src/wasm/rtp_packetizer.ts) and its TypeScript twin
 * (test/_util/rtp_packetizer_ref.ts). Access units, STAP-A and clocks are in
 * test/media/rtp/h264_packetizer_test.ts.
 */
import { abi, codec } from "../../src/wasm/module.ts";
import * as wasm from "../../src/wasm/rtp_packetizer.ts";
import type { NalPacketizing } from "../../src/wasm/rtp_packetizer.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import * as ref from "../_util/rtp_packetizer_ref.ts";
import { seededRandom } from "../_util/mutate.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { concat } from "../fixtures/nal_fixtures.ts";

type Impl = Pick<typeof wasm, "packetizeNals" | "nalPacketCount">;
const IMPLS: [string, Impl][] = [["wasm", wasm], ["ts", ref]];

/** A NAL unit of `n` bytes: header `nal` (an IDR slice, NRI 3, by default), then 1, 2, 3, ... (mod 251). */
function unit(n: number, nal = 0x65): Uint8Array {
  const u = new Uint8Array(n);
  u[0] = nal;
  for (let i = 1; i < n; i++) u[i] = (i % 251) + 1;
  return u;
}

/** RTP header fields of the fixtures: PT 96, SSRC 0x11223344, timestamp 0x0a0b0c0d. */
const BASE = { payloadType: 96, ssrc: 0x11223344, timestamp: 0x0a0b0c0d } as const;

/** The interleaved frame header and RTP header of one fixture packet. */
function head(payload: number, seq: number, marker: boolean, channel = 0): Uint8Array {
  const len = 12 + payload;
  return hex(`
    24 ${channel.toString(16).padStart(2, "0")}       # '$', channel
    ${(len >> 8).toString(16).padStart(2, "0")} ${(len & 0xff).toString(16).padStart(2, "0")}  # length
    80                                               # V=2, P=0, X=0, CC=0
    ${(marker ? 0xe0 : 0x60).toString(16)}           # M, PT 96
    ${(seq >> 8).toString(16).padStart(2, "0")} ${
    (seq & 0xff).toString(16).padStart(2, "0")
  }  # sequence number
    0a 0b 0c 0d                                      # timestamp
    11 22 33 44                                      # SSRC
  `);
}

interface Case {
  name: string;
  units: number[];
  opts: Partial<NalPacketizing>;
  /** The first unit's header byte; 0x65 (IDR, NRI 3) when absent. */
  nal?: number;
  want: (u: Uint8Array[]) => Uint8Array;
}

const CASES: Case[] = [
  {
    name: "a small NAL unit is one single NAL unit packet with the marker bit",
    units: [5],
    opts: { maxPayloadSize: 1400, sequence: 7, marker: true },
    want: () =>
      hex(`
        24 00 00 11             # '$', channel 0, length 17
        80 e0                   # V=2; marker, PT 96
        00 07                   # sequence number 7
        0a 0b 0c 0d             # timestamp
        11 22 33 44             # SSRC
        65 02 03 04 05          # the NAL unit (RFC 6184 5.6)
      `),
  },
  {
    name: "a NAL unit of exactly maxPayloadSize bytes is still one packet",
    units: [1400],
    opts: { maxPayloadSize: 1400, sequence: 0, marker: true },
    want: ([u]) => concat([head(1400, 0, true), u]),
  },
  {
    name: "a NAL unit one byte over maxPayloadSize is two FU-A packets, S then E, NRI kept",
    units: [1401],
    opts: { maxPayloadSize: 1400, sequence: 0, marker: true },
    want: ([u]) =>
      concat([
        head(1400, 0, false),
        hex(`
          7c                    # FU indicator: F 0, NRI 3, type 28 (FU-A)
          85                    # FU header: S, type 5 (IDR)
        `),
        u.subarray(1, 1399),
        head(4, 1, true),
        hex(`7c 45              # FU header: E, type 5`),
        u.subarray(1399),
      ]),
  },
  {
    name: "FU-A fragments carry maxPayloadSize - 2 bytes each, the last the rest",
    units: [20],
    opts: { maxPayloadSize: 8, sequence: 100, marker: true },
    want: ([u]) =>
      concat([
        head(8, 100, false),
        hex(`7c 85`),
        u.subarray(1, 7),
        head(8, 101, false),
        hex(`7c 05              # no S, no E`),
        u.subarray(7, 13),
        head(8, 102, false),
        hex(`7c 05`),
        u.subarray(13, 19),
        head(3, 103, true),
        hex(`7c 45`),
        u.subarray(19),
      ]),
  },
  {
    name: "the FU indicator keeps F and NRI and the FU header the type of a non-IDR slice",
    units: [10],
    opts: { maxPayloadSize: 8, sequence: 0, marker: true },
    nal: 0xa1,
    want: ([u]) =>
      concat([
        head(8, 0, false),
        hex(`
          bc                    # F 1, NRI 1, type 28
          81                    # S, type 1 (non-IDR slice)
        `),
        u.subarray(1, 7),
        head(5, 1, true),
        hex(`bc 41`),
        u.subarray(7),
      ]),
  },
  {
    name: "the marker bit goes on the last packet of the call only, and not at all without marker",
    units: [3, 4, 12],
    opts: { maxPayloadSize: 8, sequence: 0, marker: false },
    want: ([a, b, c]) =>
      concat([
        head(3, 0, false),
        a,
        head(4, 1, false),
        b,
        head(8, 2, false),
        hex(`7c 85`),
        c.subarray(1, 7),
        head(7, 3, false),
        hex(`7c 45`),
        c.subarray(7),
      ]),
  },
  {
    name: "with marker set, an access unit ending in an FU-A has it on the E fragment",
    units: [3, 12],
    opts: { maxPayloadSize: 8, sequence: 0, marker: true },
    want: ([a, c]) =>
      concat([
        head(3, 0, false),
        a,
        head(8, 1, false),
        hex(`7c 85`),
        c.subarray(1, 7),
        head(7, 2, true),
        hex(`7c 45`),
        c.subarray(7),
      ]),
  },
  {
    name: "sequence numbers wrap from 65535 to 0",
    units: [2, 2, 2],
    opts: { maxPayloadSize: 8, sequence: 65534, marker: true },
    want: ([a, b, c]) => concat([head(2, 65534, false), a, head(2, 65535, false), b, head(2, 0, true), c]),
  },
  {
    name: "the interleaved channel goes in byte 1 of every frame",
    units: [2, 10],
    opts: { maxPayloadSize: 8, sequence: 0, marker: true, channel: 3 },
    want: ([a, c]) =>
      concat([
        head(2, 0, false, 3),
        a,
        head(8, 1, false, 3),
        hex(`7c 85`),
        c.subarray(1, 7),
        head(5, 2, true, 3),
        hex(`7c 45`),
        c.subarray(7),
      ]),
  },
];

function opts(c: Partial<NalPacketizing>): NalPacketizing {
  return { ...BASE, maxPayloadSize: 1400, sequence: 0, ...c };
}

for (const [name, impl] of IMPLS) {
  for (const c of CASES) {
    Deno.test(`[${name}] packetizeNals(): ${c.name}`, () => {
      const units = c.units.map((n, i) => unit(n, i === 0 ? c.nal : undefined));
      const want = c.want(units);
      assertEquals(impl.packetizeNals(units, opts(c.opts)), want);
      const count = impl.nalPacketCount(units, opts(c.opts).maxPayloadSize);
      assertEquals(count.bytes, want.length);
    });
  }

  Deno.test(`[${name}] packetizeNals() writes the highest SSRC and timestamp as all ones`, () => {
    const out = impl.packetizeNals([unit(2)], { ...opts({}), ssrc: 0xffffffff, timestamp: 0xffffffff });
    assertEquals(out.subarray(8, 16), hex(`ff ff ff ff  ff ff ff ff  # timestamp, SSRC`));
  });

  Deno.test(`[${name}] packetizeNals() splits a NAL unit that fills the whole output region`, () => {
    const max = wasm.RTP_MAX_PAYLOAD_SIZE;
    const room = max - 2;
    // The largest unit whose packets still fit RTP_MAX_OUTPUT.
    const bytes = (n: number) => impl.nalPacketCount([{ length: n }], max).bytes;
    let n = 1 + Math.floor(wasm.RTP_MAX_OUTPUT / (18 + room)) * room;
    while (bytes(n + 1) <= wasm.RTP_MAX_OUTPUT) n++;
    const fragments = Math.ceil((n - 1) / room);
    const u = unit(n);
    const out = impl.packetizeNals([u], opts({ maxPayloadSize: max, marker: true }));
    assertEquals(out.length, fragments * 18 + n - 1);
    const tail = (n - 1) - (fragments - 1) * room;
    const last = out.subarray(out.length - 18 - tail);
    assertEquals(last.subarray(0, 2), hex(`24 00`));
    assertEquals(last[5], 0xe0, "marker on the last");
    assertEquals(last[17], 0x45, "E on the last");
    assertEquals(last.subarray(18), u.subarray(n - tail), "the unit ends the last packet");
    assertThrows(
      () => impl.packetizeNals([unit(n + 1)], opts({ maxPayloadSize: max })),
      RangeError,
      `Cannot packetize NAL units: the packets are ${bytes(n + 1)} bytes, limit ${wasm.RTP_MAX_OUTPUT}`,
    );
  });

  Deno.test(`[${name}] packetizeNals() refuses no units, an empty one and options out of range`, () => {
    const one = [unit(4)];
    const refuse = (units: Uint8Array[], o: Partial<NalPacketizing>, msg: string) =>
      assertThrows(
        () => impl.packetizeNals(units, opts(o)),
        RangeError,
        `Cannot packetize NAL units: ${msg}`,
      );
    refuse([], {}, `there are 0, allowed 1..${wasm.RTP_MAX_UNITS}`);
    refuse(
      Array.from({ length: wasm.RTP_MAX_UNITS + 1 }, () => unit(1)),
      {},
      `there are ${wasm.RTP_MAX_UNITS + 1}, allowed 1..${wasm.RTP_MAX_UNITS}`,
    );
    refuse([unit(2), new Uint8Array(0)], {}, "one is empty, current length 0");
    for (const maxPayloadSize of [2, 65496, 1.5]) {
      refuse(
        one,
        { maxPayloadSize },
        `maxPayloadSize must be an integer in 3..65495, current ${maxPayloadSize}`,
      );
    }
    for (const payloadType of [-1, 128]) {
      refuse(one, { payloadType }, `payload type must be an integer in 0..127, current ${payloadType}`);
    }
    for (const ssrc of [-1, 2 ** 32]) {
      refuse(one, { ssrc }, `SSRC must be an integer in 0..4294967295, current ${ssrc}`);
    }
    for (const sequence of [-1, 65536, 0.5]) {
      refuse(one, { sequence }, `sequence number must be an integer in 0..65535, current ${sequence}`);
    }
    refuse(one, { timestamp: 2 ** 32 }, `timestamp must be an integer in 0..4294967295, current ${2 ** 32}`);
    refuse(one, { channel: 256 }, `channel must be an integer in 0..255, current 256`);
  });

  Deno.test(`[${name}] packetizeNals() returns a new array the caller owns`, () => {
    const u = unit(3000);
    const a = impl.packetizeNals([u], opts({}));
    const b = impl.packetizeNals([unit(10)], opts({ sequence: 9 }));
    assert(a.buffer !== b.buffer && a.buffer !== codec().memory.buffer, "separate buffers");
    assertEquals(a, impl.packetizeNals([unit(3000)], opts({})), "a later call left it alone");
    u[1] = 0;
    assertEquals(a[18], 2, "the packets do not share the caller's bytes");
  });
}

Deno.test("rtpPacketizeNals refuses arguments the host would have caught, with a status code", () => {
  const { exports, i32, u8 } = codec();
  const A = abi as Readonly<Record<string, number>>;
  const spans = A.CODEC_SPANS_PTR >> 2;
  const call = (at: number, n: number, max = 1400, seq = 0, pt = 96, ch = 0) => {
    i32[spans] = at;
    i32[spans + 1] = n;
    return exports.rtpPacketizeNals(1, max, 1, seq, 0, pt, 1, ch);
  };
  u8.fill(0x41, A.CODEC_OUT_PTR, A.CODEC_OUT_PTR + 64);
  assertEquals(exports.rtpPacketizeNals(0, 1400, 1, 0, 0, 96, 1, 0), A.ST_INPUT_TOO_LONG, "no units");
  assertEquals(call(16, 0), A.ST_BAD_ARGUMENT, "an empty unit");
  assertEquals(call(16, 4, 2), A.ST_BAD_ARGUMENT, "maxPayload 2");
  assertEquals(call(16, 4, 1400, 65536), A.ST_BAD_ARGUMENT, "sequence 65536");
  assertEquals(call(16, 4, 1400, 0, 128), A.ST_BAD_ARGUMENT, "payload type 128");
  assertEquals(call(16, 4, 1400, 0, 96, 256), A.ST_BAD_ARGUMENT, "channel 256");
  assertEquals(call(15, 4), A.ST_BAD_ARGUMENT, "no room for the headers");
  assertEquals(call(17, 4), A.ST_BAD_ARGUMENT, "not right-aligned");
  assertEquals(call(A.CODEC_OUT_SIZE - 3, 4), A.ST_BAD_ARGUMENT, "past the region");
  assertEquals(call(16, 4), 20, "the same call with room is fine");
});

Deno.test("packetizeNals() gives the same bytes as its twin for random units and options", () => {
  const random = seededRandom(0x5254);
  const int = (n: number) => Math.floor(random() * n);
  for (let i = 0; i < 600; i++) {
    const units: Uint8Array[] = [];
    const count = 1 + int(i % 7 === 0 ? 60 : 6);
    for (let k = 0; k < count; k++) {
      const n = 1 + (i % 10 === 0 ? int(120_000) : int(4000));
      units.push(Uint8Array.from({ length: n }, () => int(256)));
    }
    const o: NalPacketizing = {
      payloadType: int(128),
      ssrc: int(2 ** 32),
      sequence: int(65536),
      timestamp: int(2 ** 32),
      maxPayloadSize: i % 3 === 0 ? 3 + int(60) : 100 + int(3000),
      marker: random() < 0.5,
      channel: int(256),
    };
    const out = wasm.packetizeNals(units, o);
    assertEquals(out, ref.packetizeNals(units, o), `case ${i}: ${count} units, ${JSON.stringify(o)}`);
    assertEquals(out.length, wasm.nalPacketCount(units, o.maxPayloadSize).bytes);
  }
});
