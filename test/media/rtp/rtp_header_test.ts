/**
 * The RTP fixed header (RFC 3550 5.1): one case table read and written, the
 * CSRC list, extension and padding stepped over, every truncation and a
 * fuzz run refused with ProtocolError only.
 */
import { ProtocolError } from "../../../src/errors.ts";
import { readRtpPacket, type RtpHeaderFields, writeRtpHeader } from "../../../src/media/rtp/rtp_header.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../../_util/mutate.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

const CASES: { name: string; bytes: Uint8Array; fields: RtpHeaderFields }[] = [
  {
    name: "a marked packet",
    bytes: hex(`
      80                      # V=2, P=0, X=0, CC=0
      e0                      # M=1, PT=96
      12 34                   # sequence number 0x1234
      00 01 5f 90             # timestamp 90000
      de ad be ef             # SSRC
    `),
    fields: { marker: true, payloadType: 96, sequence: 0x1234, timestamp: 90000, ssrc: 0xdeadbeef },
  },
  {
    name: "the highest values",
    bytes: hex(`80 7f  ff ff  ff ff ff ff  ff ff ff ff   # no marker, PT 127`),
    fields: { marker: false, payloadType: 127, sequence: 65535, timestamp: 0xffffffff, ssrc: 0xffffffff },
  },
];

for (const c of CASES) {
  Deno.test(`writeRtpHeader() and readRtpPacket() agree on ${c.name}`, () => {
    const out = new Uint8Array(12);
    writeRtpHeader(out, 0, c.fields);
    assertEquals(out, c.bytes);
    const p = readRtpPacket(c.bytes);
    assertEquals({ ...p, payload: undefined, csrc: undefined }, {
      ...c.fields,
      payload: undefined,
      csrc: undefined,
    });
    assertEquals([p.csrc, p.payload.length], [[], 0]);
  });
}

Deno.test("readRtpPacket() steps over CSRCs, the header extension and padding to the payload", () => {
  const p = readRtpPacket(hex(`
    b2                      # V=2, P=1, X=1, CC=2
    60 00 01  00 00 00 02  00 00 00 03
    00 00 00 0a  00 00 00 0b          # CSRC 10, 11
    be de 00 01  01 02 03 04          # extension profile 0xBEDE, 1 word
    aa bb                             # payload
    00 00 03                          # 3 bytes of padding, the last their count
  `));
  assertEquals(p.csrc, [10, 11]);
  assertEquals(p.extensionProfile, 0xbede);
  assertEquals(p.payload, hex(`aa bb`));
});

Deno.test("readRtpPacket() refuses a short packet, another version and fields running past the end", () => {
  const bad = (bytes: Uint8Array, msg: string) =>
    assertThrows(() => readRtpPacket(bytes), ProtocolError, msg);
  bad(hex(`80 60 00 01 00 00 00 02 00 00 00`), "it is 11 bytes, shorter than the 12-byte header");
  bad(hex(`00 60 00 01 00 00 00 02 00 00 00 03`), "version is 0, expected 2");
  bad(hex(`81 60 00 01 00 00 00 02 00 00 00 03`), "1 CSRC need 16 bytes, current length 12");
  bad(
    hex(`90 60 00 01 00 00 00 02 00 00 00 03  00 00 00 02 00`),
    "the header extension of 2 words runs to byte 24",
  );
  bad(hex(`a0 60 00 01 00 00 00 02 00 00 00 03  00`), "padding of 0 bytes, allowed 1..1");
  bad(hex(`a0 60 00 01 00 00 00 02 00 00 00 03  05`), "padding of 5 bytes, allowed 1..1");
  bad(new Uint8Array(65536).fill(0x80), "it is 65536 bytes, limit 65535");
});

Deno.test("readRtpPacket() throws only ProtocolError on every truncation and mutation", () => {
  const packet = hex(`b1 e0 00 01  00 00 00 02  00 00 00 03  00 00 00 04  00 01 00 01  05 06 07 08  aa 01`);
  for (const t of truncations(packet)) expectOnlyProtocolError(t, readRtpPacket);
  for (const m of mutations(packet, seededRandom(0x3550), 500)) expectOnlyProtocolError(m, readRtpPacket);
});

Deno.test("writeRtpHeader() refuses fields out of range", () => {
  const f = CASES[0].fields;
  const out = new Uint8Array(12);
  assertThrows(() => writeRtpHeader(out, 0, { ...f, payloadType: 128 }), RangeError, "payload type");
  assertThrows(() => writeRtpHeader(out, 0, { ...f, sequence: 65536 }), RangeError, "sequence number");
  assertThrows(() => writeRtpHeader(out, 0, { ...f, timestamp: -1 }), RangeError, "timestamp");
  assertThrows(() => writeRtpHeader(out, 0, { ...f, ssrc: 2 ** 32 }), RangeError, "SSRC");
});
