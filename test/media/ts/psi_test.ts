import { crc32Mpeg2 } from "../../../src/media/ts/crc32_mpeg2.ts";
import { NULL_PID, patSection, pmtSection, psiPacket, StreamType } from "../../../src/media/ts/psi.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

const AV = [{ streamType: StreamType.H264, pid: 0x100 }, { streamType: StreamType.AacAdts, pid: 0x101 }];

Deno.test("patSection() writes the PAT ffmpeg writes for one program on PMT PID 0x1000", () => {
  assertEquals(
    patSection(1, 0x1000),
    hex(`
      00                # table_id: program_association_section
      b0 0d             # section_syntax_indicator 1, '0', reserved, section_length 13
      00 01             # transport_stream_id 1
      c1                # reserved, version_number 0, current_next_indicator 1
      00 00             # section_number, last_section_number
      00 01             # program_number 1
      f0 00             # reserved, program_map_PID 0x1000
      2a b1 04 b2       # CRC_32
    `),
  );
});

Deno.test("pmtSection() writes the PMT ffmpeg writes for H.264 on 0x100 and AAC on 0x101", () => {
  assertEquals(
    pmtSection({ programNumber: 1, pcrPid: 0x100, version: 0, streams: AV }),
    hex(`
      02                # table_id: TS_program_map_section
      b0 17             # section_length 23
      00 01             # program_number 1
      c1 00 00          # version 0, current; section 0 of 0
      e1 00             # reserved, PCR_PID 0x100
      f0 00             # reserved, program_info_length 0
      1b e1 00 f0 00    # stream_type 0x1B (H.264), elementary_PID 0x100, ES_info_length 0
      0f e1 01 f0 00    # stream_type 0x0F (AAC ADTS), elementary_PID 0x101, ES_info_length 0
      2f 44 b9 9b       # CRC_32
    `),
  );
});

Deno.test("pmtSection() lists only the streams given and puts the version in byte 5", () => {
  const audioOnly = pmtSection({ programNumber: 1, pcrPid: 0x101, version: 3, streams: [AV[1]] });
  assertEquals(audioOnly.subarray(0, 17), hex(`02 b0 12 00 01 c7 00 00 e1 01 f0 00  0f e1 01 f0 00`));
  assertEquals(crc32Mpeg2(audioOnly), 0, "the CRC_32 covers the section");
  const none = pmtSection({ programNumber: 1, pcrPid: NULL_PID, version: 31, streams: [] });
  assertEquals(none.subarray(0, 12), hex(`02 b0 0d 00 01 ff 00 00 ff ff f0 00`));
  assertEquals(crc32Mpeg2(none), 0);
});

Deno.test("pmtSection() refuses a version_number over 31", () => {
  assertThrows(
    () => pmtSection({ programNumber: 1, pcrPid: 0x100, version: 32, streams: AV }),
    RangeError,
    "Cannot build PSI section: version_number must be 0..31, current 32",
  );
});

Deno.test("psiPacket() puts a section behind pointer_field 0 and fills the packet with 0xFF", () => {
  const pat = patSection(1, 0x1000);
  const packet = psiPacket(0, 7, pat);
  assertEquals(packet.length, 188);
  assertEquals(
    packet.subarray(0, 5),
    hex(`
      47                # sync_byte
      40 00             # payload_unit_start_indicator, PID 0
      17                # payload only, continuity_counter 7
      00                # pointer_field 0
    `),
  );
  assertEquals(packet.subarray(5, 5 + pat.length), pat);
  assertEquals(packet.subarray(5 + pat.length), new Uint8Array(188 - 5 - pat.length).fill(0xff));
  assertEquals(psiPacket(0x1000, 16 + 2, pat)[3], 0x12, "the counter is taken mod 16");
  assertThrows(
    () => psiPacket(0, 0, new Uint8Array(184)),
    RangeError,
    "Cannot packetize PSI section: it is 184 bytes, limit 183",
  );
});
