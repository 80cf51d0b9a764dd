/**
 * Status events as the client reads them (RTMP 1.0, 7.2.1.1 and 7.2.2): from
 * an info object, from an ECMA array, from anything else; and the error a
 * refused command rejects with.
 */
import { assert, assertEquals, assertStrictEquals } from "../../_util/assert.ts";
import { EcmaArray, TypedObject } from "../../../src/amf/value.ts";
import type { AmfObject } from "../../../src/amf/value.ts";
import { StatusCode, StatusLevel } from "../../../src/rtmp/command.ts";
import { RtmpStatusError, type StatusEvent, statusOf } from "../../../src/rtmp/client/status.ts";

const PLAY_START: AmfObject = {
  level: StatusLevel.Status,
  code: StatusCode.PlayStart,
  description: "Started playing cam.",
  details: "cam",
};

Deno.test("statusOf() reads code, level and description from an info object and keeps the whole object", () => {
  const ev = statusOf(PLAY_START);
  assertEquals(ev, {
    type: "status",
    code: "NetStream.Play.Start",
    level: "status",
    description: "Started playing cam.",
    info: PLAY_START,
  });
  assertStrictEquals(ev.info, PLAY_START);
  assertEquals(ev.info.details, "cam");
});

Deno.test("statusOf() reads an object with a null prototype (as AMF decoders may build)", () => {
  const info = Object.assign(Object.create(null), { level: "error", code: "NetStream.Publish.BadName" });
  const ev = statusOf(info);
  assertEquals([ev.code, ev.level, ev.description], ["NetStream.Publish.BadName", "error", ""]);
  assertStrictEquals(ev.info, info);
});

Deno.test("statusOf() reads an ECMA array's properties, as some servers send the info", () => {
  const props: AmfObject = { level: "status", code: StatusCode.PublishStart, description: "Publishing." };
  const ev = statusOf(new EcmaArray(props));
  assertEquals([ev.code, ev.level, ev.description], ["NetStream.Publish.Start", "status", "Publishing."]);
  assertStrictEquals(ev.info, props);
});

Deno.test("statusOf() reads a missing or non-string field as an empty string", () => {
  const ev = statusOf({ code: 42, level: null, description: undefined });
  assertEquals([ev.code, ev.level, ev.description], ["", "", ""]);
  assertEquals(statusOf({}).code, "");
});

Deno.test("statusOf() gives an empty status for junk: primitives, null, undefined, arrays and class instances", () => {
  const empty: StatusEvent = { type: "status", code: "", level: "", description: "", info: {} };
  for (
    const junk of [
      null,
      undefined,
      0,
      "NetStream.Play.Start",
      true,
      [PLAY_START],
      new Date(0),
      new TypedObject("Status", PLAY_START),
    ]
  ) {
    assertEquals(statusOf(junk), empty, Deno.inspect(junk));
  }
});

Deno.test("RtmpStatusError carries the status's code, level and description", () => {
  const status = statusOf({
    level: "error",
    code: StatusCode.PublishBadName,
    description: "live/cam is already published",
  });
  const e = new RtmpStatusError("publish live/cam", status);
  assert(e instanceof Error);
  assertEquals(e.name, "RtmpStatusError");
  assertEquals([e.code, e.level, e.description], [
    "NetStream.Publish.BadName",
    "error",
    "live/cam is already published",
  ]);
});

Deno.test("RtmpStatusError's message reads 'Cannot X: current status CODE (description)'", () => {
  const status = statusOf({ level: "error", code: "NetStream.Play.StreamNotFound", description: "no cam" });
  const e = new RtmpStatusError("play live/cam", status);
  assertEquals(e.message, "Cannot play live/cam: current status NetStream.Play.StreamNotFound (no cam)");
});

Deno.test("RtmpStatusError chains a cause", () => {
  const cause = new Error("underlying");
  const e = new RtmpStatusError("connect", statusOf({ code: "NetConnection.Connect.Rejected" }), { cause });
  assertStrictEquals(e.cause, cause);
  assertEquals(e.message, "Cannot connect: current status NetConnection.Connect.Rejected ()");
});
