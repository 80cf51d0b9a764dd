import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { EcmaArray } from "../../src/rtmp/amf0.ts";
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
