/**
 * The RTMP message type ids and the chunk stream ids Sluice sends on: the
 * numbers of the Adobe RTMP Specification 1.0, and the agreements other code
 * relies on (media kinds are message types; every chunk stream id fits the
 * one-byte basic header).
 */
import { FrameKind } from "../../src/media/frame.ts";
import { ChunkStreamId, MessageType } from "../../src/rtmp/message.ts";
import { assert, assertEquals } from "../_util/assert.ts";

Deno.test("MessageType holds the RTMP 1.0 message type ids, each under its spec name", () => {
  assertEquals(MessageType, {
    SetChunkSize: 1, // 5.4.1
    Abort: 2, // 5.4.2
    Acknowledgement: 3, // 5.4.3
    UserControl: 4, // 6.2, 7.1.7
    WindowAckSize: 5, // 5.4.4
    SetPeerBandwidth: 6, // 5.4.5
    Audio: 8, // 7.1.4
    Video: 9, // 7.1.5
    DataAmf3: 15, // 7.1.2
    SharedObjectAmf3: 16, // 7.1.3
    CommandAmf3: 17, // 7.1.1
    DataAmf0: 18, // 7.1.2
    SharedObjectAmf0: 19, // 7.1.3
    CommandAmf0: 20, // 7.1.1
    Aggregate: 22, // 7.1.6
  });
});

Deno.test("MessageType gives every id to one name only, all within the one-byte type field", () => {
  const ids = Object.values(MessageType);
  assertEquals(new Set(ids).size, ids.length);
  for (const id of ids) assert(Number.isInteger(id) && id >= 1 && id <= 0xff, `type id ${id}`);
});

Deno.test("MessageType's media ids are FrameKind's numbers, which the RTMP packer sends as type ids", () => {
  assertEquals(MessageType.Audio, FrameKind.Audio);
  assertEquals(MessageType.Video, FrameKind.Video);
  assertEquals(MessageType.DataAmf0, FrameKind.Data);
});

Deno.test("ChunkStreamId sends protocol control on the reserved id 2 and gives each other role its own id", () => {
  assertEquals(ChunkStreamId, { Control: 2, Command: 3, Audio: 4, Data: 5, Video: 6 });
  const ids = Object.values(ChunkStreamId);
  assertEquals(new Set(ids).size, ids.length);
});

Deno.test("ChunkStreamId stays within 2..63, the ids a one-byte basic header carries (5.3.1.1)", () => {
  // 0 and 1 mark the two- and three-byte forms; 64 and up need them.
  for (const id of Object.values(ChunkStreamId)) assert(id >= 2 && id <= 63, `chunk stream id ${id}`);
});
