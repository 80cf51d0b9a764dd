import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { EcmaArray } from "../../src/amf/amf0.ts";
import {
  CommandName,
  decodeCommand,
  decodeData,
  encodeCommand,
  encodeConnectResult,
  encodeData,
  encodeError,
  encodeOnStatus,
  encodeResult,
  normalizeData,
  StatusCode,
  statusInfo,
  StatusLevel,
  unwrapAmf3Payload,
} from "../../src/rtmp/command.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { ProtocolError } from "../../src/errors.ts";
import { commandCases, dataCases } from "../fixtures/command_fixtures.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../_util/mutate.ts";

function message(typeId: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Command, typeId, streamId: 0, timestamp: 0, payload };
}

for (const c of commandCases) {
  Deno.test(`decodeCommand() decodes ${c.name}`, () => {
    assertEquals(decodeCommand(message(c.typeId, hex(c.hex))), c.command);
  });
  if (c.reencodes) {
    Deno.test(`encodeCommand() gives back the bytes of ${c.name}`, () => {
      const { name, transactionId, commandObject, args } = c.command;
      assertEquals(toHex(encodeCommand(name, transactionId, commandObject, ...args)), toHex(hex(c.hex)));
    });
  }
}

for (const c of dataCases) {
  Deno.test(`decodeData() decodes ${c.name}`, () => {
    assertEquals(decodeData(message(c.typeId, hex(c.hex))), c.data);
  });
}

Deno.test("encodeData() gives back the bytes of @setDataFrame onMetaData", () => {
  const c = dataCases[0];
  assertEquals(toHex(encodeData("@setDataFrame", c.data.name, ...c.data.args)), toHex(hex(c.hex)));
});

Deno.test("unwrapAmf3Payload() skips the 0x00 format byte of types 17 and 15 only", () => {
  const amf0 = hex(`02 00 01 61  05`);
  const amf3Form = hex(`00  02 00 01 61  05`);
  assertEquals(unwrapAmf3Payload(MessageType.CommandAmf0, amf0), ["a", null]);
  assertEquals(unwrapAmf3Payload(MessageType.DataAmf0, amf0), ["a", null]);
  assertEquals(unwrapAmf3Payload(MessageType.CommandAmf3, amf3Form), ["a", null]);
  assertEquals(unwrapAmf3Payload(MessageType.DataAmf3, amf3Form), ["a", null]);
  // A type 20 payload starting 0x00 is an AMF0 number, not a format byte.
  assertEquals(unwrapAmf3Payload(MessageType.CommandAmf0, hex(`00 00 00 00 00 00 00 00 00`)), [0]);
  assertEquals(unwrapAmf3Payload(MessageType.CommandAmf3, new Uint8Array(0)), []);
});

Deno.test("unwrapAmf3Payload() passes limits through", () => {
  assertThrows(
    () => unwrapAmf3Payload(MessageType.CommandAmf3, hex(`00 05 05 05`), { maxValues: 2 }),
    ProtocolError,
  );
});

Deno.test("unwrapAmf3Payload() throws TypeError for a non-AMF message type", () => {
  assertThrows(() => unwrapAmf3Payload(MessageType.Video, new Uint8Array(1)), TypeError);
});

Deno.test("decodeCommand() throws TypeError for a data or media message", () => {
  assertThrows(() => decodeCommand(message(MessageType.DataAmf0, hex(`02 00 01 61`))), TypeError);
  assertThrows(() => decodeData(message(MessageType.CommandAmf0, hex(`02 00 01 61`))), TypeError);
});

Deno.test("decodeCommand() refuses a payload whose first value is not a name", () => {
  assertThrows(
    () => decodeCommand(message(MessageType.CommandAmf0, hex(`05`))),
    ProtocolError,
    "Cannot decode command: current first value is null, expected a string name",
  );
  assertThrows(
    () => decodeCommand(message(MessageType.CommandAmf0, new Uint8Array(0))),
    ProtocolError,
    "Cannot decode command: current first value is missing or undefined, expected a string name",
  );
});

Deno.test("decodeCommand() refuses a transaction id that is not a number", () => {
  assertThrows(
    () => decodeCommand(message(MessageType.CommandAmf0, hex(`02 00 01 61  02 00 01 62`))),
    ProtocolError,
    "Cannot decode command a: current transaction id is a string, expected a number",
  );
});

Deno.test("decodeCommand() defaults a missing transaction id to 0 and command object to null", () => {
  assertEquals(decodeCommand(message(MessageType.CommandAmf0, hex(`02 00 01 61`))), {
    name: "a",
    transactionId: 0,
    commandObject: null,
    args: [],
  });
});

Deno.test("decodeData() refuses @setDataFrame without a wrapped name", () => {
  const payload = encodeData("@setDataFrame", 5);
  assertThrows(
    () => decodeData(message(MessageType.DataAmf0, payload)),
    ProtocolError,
    "Cannot decode @setDataFrame: current second value is a number, expected a string name",
  );
});

Deno.test("encodeConnectResult() answers connect with server properties and Connect.Success", () => {
  const payload = encodeConnectResult(1, { objectEncoding: 3 });
  assertEquals(decodeCommand(message(MessageType.CommandAmf0, payload)), {
    name: "_result",
    transactionId: 1,
    commandObject: { fmsVer: "FMS/3,0,1,123", capabilities: 31, mode: 1 },
    args: [{
      level: "status",
      code: "NetConnection.Connect.Success",
      description: "Connection succeeded.",
      objectEncoding: 3,
    }],
  });
});

Deno.test("encodeConnectResult() takes a custom version and extra info fields", () => {
  const payload = encodeConnectResult(1, {
    fmsVer: "FMS/5",
    extra: { data: new EcmaArray({ version: "1" }) },
  });
  const { commandObject, args } = decodeCommand(message(MessageType.CommandAmf0, payload));
  assertEquals((commandObject as Record<string, unknown>).fmsVer, "FMS/5");
  assertEquals((args[0] as Record<string, unknown>).data, new EcmaArray({ version: "1" }));
  assertEquals((args[0] as Record<string, unknown>).objectEncoding, 0);
});

Deno.test("encodeOnStatus() sends an info object with transaction id 0 and a null command object", () => {
  const info = statusInfo(StatusLevel.Status, StatusCode.PublishStart, "x is now published.", {
    details: "x",
  });
  assertEquals(decodeCommand(message(MessageType.CommandAmf0, encodeOnStatus(info))), {
    name: CommandName.OnStatus,
    transactionId: 0,
    commandObject: null,
    args: [{
      level: "status",
      code: "NetStream.Publish.Start",
      description: "x is now published.",
      details: "x",
    }],
  });
});

Deno.test("encodeResult() and encodeError() answer a transaction", () => {
  assertEquals(decodeCommand(message(MessageType.CommandAmf0, encodeResult(4, null, 1))), {
    name: "_result",
    transactionId: 4,
    commandObject: null,
    args: [1],
  });
  const info = statusInfo(StatusLevel.Error, StatusCode.CallFailed, "Method not found (foo).");
  const decoded = decodeCommand(message(MessageType.CommandAmf0, encodeError(7, info)));
  assertEquals(decoded.name, "_error");
  assertEquals(decoded.transactionId, 7);
  assertEquals(decoded.args, [info]);
});

Deno.test("StatusCode holds the NetConnection and NetStream codes players expect", () => {
  for (const code of Object.values(StatusCode)) {
    assert(/^Net(Connection|Stream)\.[A-Za-z.]+$/.test(code), code);
  }
  assertEquals(StatusCode.PlayUnpublishNotify, "NetStream.Play.UnpublishNotify");
  assertEquals(StatusCode.UnpauseNotify, "NetStream.Unpause.Notify");
});

Deno.test("decodeCommand() and decodeData() throw only ProtocolError on truncated and mutated payloads", () => {
  const random = seededRandom(0xc0de);
  const all = [...commandCases, ...dataCases];
  for (const c of all) {
    const bytes = hex(c.hex);
    const decode = (b: Uint8Array) =>
      c.typeId === MessageType.CommandAmf0 || c.typeId === MessageType.CommandAmf3
        ? decodeCommand(message(c.typeId, b))
        : decodeData(message(c.typeId, b));
    for (const input of truncations(bytes)) expectOnlyProtocolError(input, decode);
    for (const input of mutations(bytes, random, 300)) expectOnlyProtocolError(input, decode);
  }
});

// ---- normalizeData: a publisher's data message as players get it

/** `onMetaData`, ECMA array {width: 640, framerate: 25}: what players get for dataCases[0]. */
const PLAYER_METADATA = hex(`
  02 00 0a 6f 6e 4d 65 74 61 44 61 74 61   # "onMetaData"
  08 00 00 00 02                           # ECMA array, count 2
  00 05 77 69 64 74 68                     #   key "width"
  00 40 84 00 00 00 00 00 00               #   640
  00 09 66 72 61 6d 65 72 61 74 65         #   key "framerate"
  00 40 39 00 00 00 00 00 00               #   25
  00 00 09                                 # end
`);

Deno.test("normalizeData() unwraps @setDataFrame onMetaData into the onMetaData payload players expect", () => {
  const c = dataCases[0];
  const out = normalizeData(c.typeId, hex(c.hex));
  assertEquals(out && toHex(out.payload), toHex(PLAYER_METADATA));
  assertEquals(out?.metadata, true);
});

Deno.test("normalizeData() gives the same payload for a bare onMetaData", () => {
  const out = normalizeData(MessageType.DataAmf0, PLAYER_METADATA);
  assertEquals(out && toHex(out.payload), toHex(PLAYER_METADATA));
  assertEquals(out?.metadata, true);
});

Deno.test("normalizeData() re-encodes AMF3 onMetaData as AMF0", () => {
  const c = dataCases[2];
  const out = normalizeData(c.typeId, hex(c.hex));
  assertEquals(out?.metadata, true);
  assertEquals(decodeData(message(MessageType.DataAmf0, out!.payload)), {
    name: "onMetaData",
    setDataFrame: false,
    args: [new EcmaArray({ width: 640 })],
  });
});

Deno.test("normalizeData() drops omitKeys from onMetaData objects and ECMA arrays", () => {
  const ecma = normalizeData(MessageType.DataAmf0, PLAYER_METADATA, { omitKeys: ["framerate"] });
  assertEquals(decodeData(message(MessageType.DataAmf0, ecma!.payload)).args, [
    new EcmaArray({ width: 640 }),
  ]);
  const object = encodeData("onMetaData", { duration: 8, width: 320, filesize: 9 });
  const out = normalizeData(MessageType.DataAmf0, object, { omitKeys: ["duration", "filesize"] });
  assertEquals(decodeData(message(MessageType.DataAmf0, out!.payload)).args, [{ width: 320 }]);
});

Deno.test("normalizeData() passes other AMF0 data through, unwrapped from @setDataFrame", () => {
  const cue = encodeData("onCuePoint", { name: "a", time: 1 });
  const bare = normalizeData(MessageType.DataAmf0, cue);
  assert(bare?.payload === cue, "a bare data message passes through as the same bytes");
  assertEquals(bare?.metadata, false);
  const wrapped = normalizeData(
    MessageType.DataAmf0,
    encodeData("@setDataFrame", "onCuePoint", { name: "a", time: 1 }),
  );
  assertEquals(wrapped && toHex(wrapped.payload), toHex(cue));
});

Deno.test("normalizeData() drops @clearDataFrame and AMF3 data other than onMetaData", () => {
  assertEquals(normalizeData(MessageType.DataAmf0, encodeData("@clearDataFrame")), undefined);
  const amf3 = new Uint8Array([0x00, ...encodeData("onCuePoint", 1)]);
  assertEquals(normalizeData(MessageType.DataAmf3, amf3), undefined);
});

Deno.test("normalizeData() throws TypeError for a non-data type and ProtocolError for a nameless payload", () => {
  assertThrows(() => normalizeData(MessageType.CommandAmf0, PLAYER_METADATA), TypeError, "not 18 or 15");
  assertThrows(() => normalizeData(MessageType.DataAmf0, hex("00 40 84 00 00 00 00 00 00")), ProtocolError);
});
