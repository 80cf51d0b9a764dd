/**
 * FLV tag bodies for RTP: AVC and AAC read from legacy and Enhanced RTMP
 * bodies, and written back.
 */
import { AacPacketType } from "../../src/media/flv.ts";
import {
  aacBody,
  aacConfig,
  aacFrame,
  avcFrame,
  avcRecord,
  avcSequenceHeaderBody,
} from "../../src/media/tag_body.ts";
import { assertEquals } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";

Deno.test("avcRecord() and avcFrame() read legacy and Enhanced RTMP AVC bodies", () => {
  assertEquals(avcRecord(hex(`17 00 00 00 00  01 64`)), hex(`01 64`));
  assertEquals(avcRecord(hex(`90 61 76 63 31  01 64  # ex header, sequence start, "avc1"`)), hex(`01 64`));
  assertEquals(avcRecord(hex(`17 01 00 00 00  01 64`)), undefined, "a NALU packet");
  assertEquals(avcRecord(hex(`1c 00 00 00 00  01`)), undefined, "HEVC legacy id");
  assertEquals(avcRecord(hex(`90 68 76 63 31  01 64`)), undefined, "hvc1");
  assertEquals(avcFrame(hex(`27 01 ff ff d8  00 00 00 01 41  # CTS -40`)), {
    cts: -40,
    avcc: hex(`00 00 00 01 41`),
  });
  assertEquals(avcFrame(hex(`91 61 76 63 31  00 00 28  00 00 00 01 65`)), {
    cts: 40,
    avcc: hex(`00 00 00 01 65`),
  });
  assertEquals(avcFrame(hex(`93 61 76 63 31  00 00 00 01 65  # coded frames X`)), {
    cts: 0,
    avcc: hex(`00 00 00 01 65`),
  });
  assertEquals(avcFrame(hex(`91 68 76 63 31  00 00 28`)), undefined, "hvc1");
  assertEquals(avcFrame(new Uint8Array(0)), undefined);
});

Deno.test("aacConfig() and aacFrame() read legacy and Enhanced RTMP AAC bodies", () => {
  assertEquals(aacConfig(hex(`af 00 12 10`)), hex(`12 10`));
  assertEquals(aacConfig(hex(`90 6d 70 34 61 12 10  # ex header, sequence start, "mp4a"`)), hex(`12 10`));
  assertEquals(aacFrame(hex(`af 01 21 00`)), hex(`21 00`));
  assertEquals(aacFrame(hex(`91 6d 70 34 61 21 00`)), hex(`21 00`));
  assertEquals(aacFrame(hex(`2f 01 21`)), undefined, "MP3");
  assertEquals(aacConfig(hex(`af 01 21`)), undefined, "a raw frame");
});

Deno.test("avcSequenceHeaderBody() and aacBody() write the bodies the readers read", () => {
  assertEquals(avcSequenceHeaderBody(hex(`01 64`)), hex(`17 00 00 00 00 01 64`));
  assertEquals(avcRecord(avcSequenceHeaderBody(hex(`01 64`))), hex(`01 64`));
  assertEquals(aacBody(AacPacketType.Raw, hex(`21`)), hex(`af 01 21`));
  assertEquals(aacBody(AacPacketType.SequenceHeader, hex(`12 10`)), hex(`af 00 12 10`));
  assertEquals(aacConfig(aacBody(AacPacketType.SequenceHeader, hex(`12 10`))), hex(`12 10`));
});
