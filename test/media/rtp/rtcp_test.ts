/**
 * RTCP (RFC 3550 6): sender reports built byte for byte and read back,
 * receiver reports read from a fixture, SDES and BYE, and the bounds of
 * reading a compound packet.
 */
import { ProtocolError } from "../../../src/errors.ts";
import {
  buildGoodbye,
  buildReceiverReport,
  buildSenderReport,
  buildSourceDescription,
  readRtcp,
  type ReportBlock,
  RTCP_MAX_PACKETS,
} from "../../../src/media/rtp/rtcp.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../../_util/mutate.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";

const SR = hex(`
  80                      # V=2, P=0, RC=0
  c8                      # PT 200: sender report
  00 06                   # length 6: 7 words
  11 22 33 44             # SSRC of sender
  e9 2d 8a 40             # NTP timestamp, seconds
  80 00 00 00             # NTP timestamp, fraction (0.5 s)
  00 01 5f 90             # RTP timestamp 90000
  00 00 00 64             # sender's packet count 100
  00 01 86 a0             # sender's octet count 100000
`);
const SDES = hex(`
  81                      # V=2, P=0, SC=1
  ca                      # PT 202: source description
  00 04                   # length 4: 5 words
  11 22 33 44             # SSRC
  01 06 73 6c 75 69 63 65 # CNAME, 6 bytes, "sluice"
  00 00 00 00             # the end item, padding to 32 bits
`);
/** A receiver report with one block, as a player sends it. */
const RR = hex(`
  81                      # V=2, P=0, RC=1
  c9                      # PT 201: receiver report
  00 07                   # length 7: 8 words
  aa bb cc dd             # SSRC of the reporter
  11 22 33 44             # SSRC_1: the source reported on
  40                      # fraction lost 64/256
  ff ff fe                # cumulative lost -2 (duplicates)
  00 01 00 05             # extended highest sequence number: 1 cycle, 5
  00 00 00 20             # interarrival jitter 32
  8a 40 80 00             # LSR: middle 32 bits of the last SR's NTP timestamp
  00 01 80 00             # DLSR: 1.5 s in 1/65536 s
`);
const BLOCK: ReportBlock = {
  ssrc: 0x11223344,
  fractionLost: 64,
  cumulativeLost: -2,
  highestSequence: 0x10005,
  jitter: 32,
  lastSenderReport: 0x8a408000,
  delaySinceLastSenderReport: 0x18000,
};

Deno.test("buildSenderReport() writes the RFC 3550 6.4.1 sender report and an SDES CNAME after it", () => {
  const sr = {
    ssrc: 0x11223344,
    ntp: { seconds: 0xe92d8a40, fraction: 0x80000000 },
    rtpTimestamp: 90000,
    packetCount: 100,
    octetCount: 100000,
  };
  assertEquals(buildSenderReport(sr), SR);
  assertEquals(buildSenderReport({ ...sr, cname: "sluice" }), concat([SR, SDES]));
  assertEquals(buildSourceDescription(0x11223344, "sluice"), SDES);
});

Deno.test("readRtcp() reads a compound of a sender report and SDES back", () => {
  assertEquals(readRtcp(concat([SR, SDES])), [
    {
      type: "sr",
      ssrc: 0x11223344,
      ntp: { seconds: 0xe92d8a40, fraction: 0x80000000 },
      rtpTimestamp: 90000,
      packetCount: 100,
      octetCount: 100000,
      reports: [],
    },
    { type: "sdes", cnames: [{ ssrc: 0x11223344, cname: "sluice" }] },
  ]);
});

Deno.test("readRtcp() reads a receiver report's block, cumulative loss signed", () => {
  assertEquals(readRtcp(RR), [{ type: "rr", ssrc: 0xaabbccdd, reports: [BLOCK] }]);
  assertEquals(buildReceiverReport(0xaabbccdd, [BLOCK]), RR, "and builds it the same");
});

Deno.test("buildGoodbye() and readRtcp() agree on a goodbye with and without a reason", () => {
  assertEquals(buildGoodbye([7]), hex(`81 cb 00 01  00 00 00 07`));
  const bye = buildGoodbye([7, 8], "end");
  assertEquals(bye, hex(`82 cb 00 03  00 00 00 07  00 00 00 08  03 65 6e 64  # "end", no padding needed`));
  assertEquals(readRtcp(bye), [{ type: "bye", ssrcs: [7, 8], reason: "end" }]);
  assertEquals(readRtcp(concat([RR, buildGoodbye([1])])).map((p) => p.type), ["rr", "bye"]);
});

Deno.test("readRtcp() gives other packet types as such and honours padding", () => {
  assertEquals(readRtcp(hex(`80 cc 00 01  00 00 00 01  # APP`)), [{ type: "other", packetType: 204 }]);
  const padded = hex(`a0 c9 00 02  00 00 00 09  00 00 00 04  # RR, P set, 4 bytes of padding`);
  assertEquals(readRtcp(padded), [{ type: "rr", ssrc: 9, reports: [] }]);
});

Deno.test("readRtcp() refuses short, wrong-version, overrunning and over-long compounds", () => {
  const bad = (b: Uint8Array, msg: string) => assertThrows(() => readRtcp(b), ProtocolError, msg);
  bad(hex(`80 c8`), "it is 2 bytes, shorter than the 4-byte header");
  bad(hex(`40 c8 00 00`), "version is 1 at byte 0, expected 2");
  bad(hex(`80 c8 00 06  00 00 00 01`), "a packet of 28 bytes at byte 0 runs past the end (8)");
  bad(
    concat([hex(`81 c8 00 06`), new Uint8Array(24)]),
    "a sender report with 1 blocks needs 52 bytes, the packet has 28",
  );
  bad(hex(`82 ca 00 02  00 00 00 01  00 00 00 00`), "SDES chunk 1 at byte 12 is cut short");
  bad(hex(`81 ca 00 01  00 00 00 01`), "SDES chunk 0 has no end item");
  bad(new Uint8Array(65536), "it is 65536 bytes, limit 65535");
  const many = concat(Array.from({ length: RTCP_MAX_PACKETS + 1 }, () => hex(`80 c9 00 01 00 00 00 01`)));
  bad(many, `more than ${RTCP_MAX_PACKETS} packets in one compound packet`);
});

Deno.test("readRtcp() throws only ProtocolError on every truncation and mutation", () => {
  const compound = concat([SR, SDES, RR, buildGoodbye([1, 2], "x")]);
  for (const t of truncations(compound)) expectOnlyProtocolError(t, readRtcp);
  for (const m of mutations(compound, seededRandom(0x6), 800)) expectOnlyProtocolError(m, readRtcp);
});

Deno.test("the RTCP builders refuse what the fields cannot hold", () => {
  const many = Array.from({ length: 32 }, () => BLOCK);
  assertThrows(() => buildReceiverReport(1, many), RangeError, "32 report blocks, limit 31");
  assertThrows(() => buildSourceDescription(1, "x".repeat(256)), RangeError, "CNAME is 256 bytes, limit 255");
  assertThrows(() => buildGoodbye([2 ** 32]), RangeError, "SSRC must be an integer");
  assertThrows(
    () =>
      buildSenderReport({
        ssrc: 1,
        ntp: { seconds: -1, fraction: 0 },
        rtpTimestamp: 0,
        packetCount: 0,
        octetCount: 0,
      }),
    RangeError,
    "NTP seconds",
  );
});
