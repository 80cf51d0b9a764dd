import { assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { SseEvent as PageSseEvent, STREAM_EVENTS as PAGE_STREAM_EVENTS } from "../../src/admin/page/api.ts";
import { SseEvent as ServerSseEvent } from "../../src/admin/sse.ts";
import { SseEvent, STREAM_EVENTS } from "../../src/admin/sse_event.ts";

Deno.test("SseEvent names the eight events of the admin event stream", () => {
  assertEquals(Object.values(SseEvent).sort(), [
    "close",
    "connect",
    "end",
    "log",
    "publish",
    "resume",
    "snapshot",
    "unpublish",
  ]);
});

Deno.test("STREAM_EVENTS lists the four events whose data is a StreamEventData", () => {
  assertEquals(STREAM_EVENTS, ["publish", "unpublish", "resume", "end"]);
});

Deno.test("SseEvent is one table: the server's sse.ts and the page's api.ts hand out this module's", () => {
  assertStrictEquals(ServerSseEvent, SseEvent);
  assertStrictEquals(PageSseEvent, SseEvent);
  assertStrictEquals(PAGE_STREAM_EVENTS, STREAM_EVENTS);
});
