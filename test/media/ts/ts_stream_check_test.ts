/** The strict reader the muxer tests rely on must see what it claims to see. */
import { classify, FrameKind, type MediaFrame } from "../../../src/media/frame.ts";
import { TsMuxer } from "../../../src/media/ts/ts_muxer.ts";
import { assertEquals, assertMatch } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../../fixtures/flv_fixtures.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";
import { nalTypes, readTransportStream } from "./ts_stream_check.ts";

function frame(kind: FrameKind, timestamp: number, payload: Uint8Array): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq: 1, prevTimestamp: -1, packed: {} };
}

/** Tables and three keyframes, 40 ms apart. */
function stream(): Uint8Array {
  const m = new TsMuxer();
  m.configure(frame(FrameKind.Video, 0, concat([hex(`17 00 00 00 00`), AVC_CONFIG_BASELINE])));
  const slice = concat([hex(`17 01 00 00 00  00 00 01 f5 65`), new Uint8Array(500)]);
  return concat([m.tables(), ...[0, 40, 80].map((t) => m.packFrame(frame(FrameKind.Video, t, slice)))]);
}

Deno.test("readTransportStream() finds nothing wrong with the muxer's packets and reassembles each PES", () => {
  const r = readTransportStream(stream());
  assertEquals(r.errors, []);
  assertEquals(r.pes.map((p) => p.dts), [126000, 129600, 133200]);
  assertEquals(nalTypes(r.pes[0].payload), [9, 7, 8, 5]);
});

Deno.test("readTransportStream() reports a broken counter, sync byte, CRC and a PES without its PCR", () => {
  const broken = (at: number, f: (b: Uint8Array) => void) => {
    const b = stream();
    f(b.subarray(at * 188, at * 188 + 188));
    return readTransportStream(b).errors.join("\n");
  };
  assertMatch(broken(3, (p) => p[3] ^= 1), /continuity_counter/);
  assertMatch(broken(3, (p) => p[0] = 0), /sync byte 0/);
  assertMatch(broken(1, (p) => p[20] ^= 1), /CRC_32 of table 2 is wrong/);
  assertMatch(broken(2, (p) => p[5] &= ~0x10), /without a PCR/);
});

Deno.test("readTransportStream() reports a PCR past the DTS of the PES it starts", () => {
  const b = stream();
  const p = b.subarray(188 * 2);
  p[6] = 0xff; // PCR base far in the future
  assertMatch(readTransportStream(b).errors.join("\n"), /before the PCR/);
});
