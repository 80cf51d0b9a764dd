import { assertEquals, assertThrows } from "../_util/assert.ts";
import {
  acknowledgement,
  encodeControl,
  isControlType,
  parseControl,
  PeerBandwidthLimit,
  pingRequest,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  UserControlEvent,
} from "../../src/rtmp/control.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { ProtocolError } from "../../src/errors.ts";
import { controlBadCases, controlCases } from "../fixtures/control_fixtures.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../_util/mutate.ts";

function message(typeId: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Control, typeId, streamId: 0, timestamp: 0, payload };
}

for (const c of controlCases) {
  Deno.test(`parseControl() parses ${c.name}`, () => {
    assertEquals(parseControl(message(c.typeId, hex(c.hex))), c.control);
  });

  Deno.test(`encodeControl() builds ${c.name} on chunk stream 2, message stream 0`, () => {
    const msg = encodeControl(c.control);
    assertEquals({ ...msg, payload: toHex(msg.payload) }, {
      csid: 2,
      typeId: c.typeId,
      streamId: 0,
      timestamp: 0,
      payload: toHex(hex(c.hex)),
    });
  });
}

for (const c of controlBadCases) {
  Deno.test(`parseControl() refuses ${c.name}`, () => {
    const e = assertThrows(() => parseControl(message(c.typeId, hex(c.hex))), ProtocolError);
    assertEquals(e.message, c.message);
  });
}

Deno.test("parseControl() throws TypeError for a message that is not control", () => {
  assertThrows(() => parseControl(message(MessageType.Audio, new Uint8Array(4))), TypeError);
});

Deno.test("isControlType() accepts types 1 to 6 only", () => {
  assertEquals([0, 1, 2, 3, 4, 5, 6, 7, 8, 20].filter(isControlType), [1, 2, 3, 4, 5, 6]);
});

Deno.test("setChunkSize() refuses sizes outside 1..0x7FFFFFFF", () => {
  assertThrows(() => setChunkSize(0), RangeError);
  assertThrows(() => setChunkSize(0x80000000), RangeError);
  assertThrows(() => setChunkSize(128.5), RangeError);
  assertEquals(setChunkSize(128).typeId, MessageType.SetChunkSize);
});

Deno.test("builders refuse values that do not fit their fields", () => {
  assertThrows(() => acknowledgement(-1), RangeError);
  assertThrows(() => acknowledgement(2 ** 32), RangeError);
  assertThrows(() => streamBegin(1.5), RangeError);
  assertThrows(() => setPeerBandwidth(1, 3 as PeerBandwidthLimit), RangeError);
  assertThrows(() => pingRequest(0, -1), RangeError);
});

Deno.test("builders carry the timestamp they are given", () => {
  assertEquals(pingRequest(5, 1000).timestamp, 1000);
  assertEquals(setPeerBandwidth(1, PeerBandwidthLimit.Hard).payload[4], 0);
});

Deno.test("UserControlEvent matches the spec numbering", () => {
  assertEquals(Object.values(UserControlEvent), [0, 1, 2, 3, 4, 6, 7]);
});

Deno.test("parseControl() throws only ProtocolError on truncated and mutated payloads", () => {
  const random = seededRandom(0xc7);
  for (const c of [...controlCases, ...controlBadCases]) {
    const bytes = hex(c.hex);
    const parse = (b: Uint8Array) => parseControl(message(c.typeId, b));
    for (const input of truncations(bytes)) expectOnlyProtocolError(input, parse);
    for (const input of mutations(bytes, random, 100)) expectOnlyProtocolError(input, parse);
  }
});
