import { pesHeader, PTS_RANGE, StreamId } from "../../../src/media/ts/pes.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

Deno.test("pesHeader() writes PTS and DTS as ffmpeg does for its first video frame", () => {
  // ffmpeg -f mpegts: the first frame of x264 with B-frames, DTS 1.4 s and PTS 1.48 s.
  assertEquals(
    pesHeader({ streamId: StreamId.Video, pts: 133200, dts: 126000 }),
    hex(`
      00 00 01 e0       # packet_start_code_prefix, stream_id 0xE0 (video 0)
      00 00             # PES_packet_length 0: unbounded
      84                # '10', data_alignment_indicator (ffmpeg leaves it 0: 80)
      c0                # PTS_DTS_flags '11'
      0a                # PES_header_data_length 10
      31 00 09 10 a1    # '0011', PTS 133200 with its marker bits
      11 00 07 d8 61    # '0001', DTS 126000
    `),
  );
});

Deno.test("pesHeader() writes PTS alone when DTS is absent or equal, and the audio PES_packet_length", () => {
  const want = hex(`
    00 00 01 c0         # stream_id 0xC0 (audio 0)
    01 08               # PES_packet_length 264: 3 + 5 header bytes and 256 payload bytes
    84 80 05            # data_alignment_indicator; PTS_DTS_flags '10'; 5 header bytes
    21 00 09 00 4d      # '0010', PTS 131110 (ffmpeg's first audio frame)
  `);
  assertEquals(pesHeader({ streamId: StreamId.Audio, pts: 131110, payloadLength: 256 }), want);
  assertEquals(pesHeader({ streamId: StreamId.Audio, pts: 131110, dts: 131110, payloadLength: 256 }), want);
});

Deno.test("pesHeader() carries every bit of a 33-bit time", () => {
  const top = pesHeader({ streamId: StreamId.Video, pts: PTS_RANGE - 1, dts: 2 ** 32 });
  assertEquals(top.subarray(9), hex(`3f ff ff ff ff  19 00 01 00 01`));
  const alternating = pesHeader({ streamId: StreamId.Video, pts: 0x155555555 });
  assertEquals(alternating.subarray(9), hex(`2b 55 55 aa ab   # 1 | 010101010101010 | 101010101010101`));
});

Deno.test("pesHeader() refuses times out of range and a PES_packet_length over 65535", () => {
  for (const pts of [-1, PTS_RANGE, 1.5]) {
    assertThrows(
      () => pesHeader({ streamId: StreamId.Video, pts }),
      RangeError,
      `Cannot write PES header: PTS must be an integer in 0..8589934591, current ${pts}`,
    );
  }
  assertThrows(
    () => pesHeader({ streamId: StreamId.Video, pts: 0, dts: PTS_RANGE }),
    RangeError,
    "Cannot write PES header: DTS must be an integer in 0..8589934591, current 8589934592",
  );
  assertEquals(
    pesHeader({ streamId: StreamId.Audio, pts: 0, payloadLength: 65527 }).subarray(4, 6),
    hex(`ff ff`),
  );
  assertThrows(
    () => pesHeader({ streamId: StreamId.Audio, pts: 0, payloadLength: 65528 }),
    RangeError,
    "Cannot write PES header: PES_packet_length is 65536, limit 65535",
  );
});
