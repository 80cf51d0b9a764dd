/**
 * The error classes callers catch (their fields, names and messages) and
 * closeReasonOf(), the one line a connection logs for the error that ended it.
 */
import {
  closeReasonOf,
  ConnectionClosedError,
  ProtocolError,
  StreamBusyError,
  StreamNotFoundError,
} from "../src/errors.ts";
import { assert, assertEquals, assertStrictEquals } from "./_util/assert.ts";

Deno.test("ProtocolError keeps a numeric WASM status as its code and the detail as its message", () => {
  const e = new ProtocolError(
    -2,
    "ST_MESSAGE_TOO_LONG: Cannot accept a message of 9000000 bytes: limit 8388608",
  );
  assert(e instanceof Error);
  assertEquals(e.name, "ProtocolError");
  assertStrictEquals(e.code, -2);
  assertEquals(e.detail, "ST_MESSAGE_TOO_LONG: Cannot accept a message of 9000000 bytes: limit 8388608");
  assertEquals(e.message, e.detail);
  assertEquals(e.cause, undefined);
});

Deno.test("ProtocolError keeps a string rule name as its code and chains a cause", () => {
  const cause = new RangeError("inner");
  const e = new ProtocolError(
    "amf_truncated",
    "Cannot read marker: current 0 bytes left at offset 3, need 1",
    {
      cause,
    },
  );
  assertStrictEquals(e.code, "amf_truncated");
  assertStrictEquals(e.cause, cause);
  assert(String(e).startsWith("ProtocolError: Cannot read marker"), "toString() shows the class name");
});

Deno.test("StreamBusyError names the busy path in its field and in a 'Cannot X: current Y' message", () => {
  const cause = new Error("first publisher");
  const e = new StreamBusyError("live/cam1", { cause });
  assert(e instanceof Error);
  assertEquals(e.name, "StreamBusyError");
  assertEquals(e.path, "live/cam1");
  assertEquals(e.message, "Cannot publish live/cam1: current publisher still live");
  assertStrictEquals(e.cause, cause);
});

Deno.test("StreamNotFoundError names the missing path in its field and in a 'Cannot X: current Y' message", () => {
  const e = new StreamNotFoundError("live/nobody");
  assert(e instanceof Error);
  assertEquals(e.name, "StreamNotFoundError");
  assertEquals(e.path, "live/nobody");
  assertEquals(e.message, "Cannot play live/nobody: current state has no publisher");
  assertEquals(e.cause, undefined);
});

Deno.test("closeReasonOf() says 'protocol error' and the detail for a ProtocolError", () => {
  assertEquals(
    closeReasonOf(new ProtocolError(-1, "ST_BAD_HEADER: no previous header")),
    "protocol error: ST_BAD_HEADER: no previous header",
  );
});

Deno.test("closeReasonOf() says the peer reset the connection for ConnectionReset and BrokenPipe", () => {
  assertEquals(closeReasonOf(new Deno.errors.ConnectionReset("os error 104")), "peer reset the connection");
  assertEquals(closeReasonOf(new Deno.errors.BrokenPipe("os error 32")), "peer reset the connection");
});

Deno.test("closeReasonOf() names the other side as given, 'the server' in the client", () => {
  assertEquals(
    closeReasonOf(new Deno.errors.ConnectionReset("os error 104"), "the server"),
    "the server reset the connection",
  );
  assertEquals(
    closeReasonOf(new Deno.errors.BrokenPipe("x"), "the server"),
    "the server reset the connection",
  );
});

Deno.test("closeReasonOf() says 'connection closed' for BadResource and Interrupted (our own close)", () => {
  assertEquals(closeReasonOf(new Deno.errors.BadResource("Bad resource ID")), "connection closed");
  assertEquals(closeReasonOf(new Deno.errors.Interrupted("operation canceled")), "connection closed");
});

Deno.test("closeReasonOf() gives the name and message of any other Error", () => {
  assertEquals(closeReasonOf(new TypeError("x is not a function")), "TypeError: x is not a function");
  assertEquals(
    closeReasonOf(new StreamBusyError("live/a")),
    "StreamBusyError: Cannot publish live/a: current publisher still live",
  );
  assertEquals(closeReasonOf(new Deno.errors.TimedOut("read timed out")), "TimedOut: read timed out");
});

Deno.test("closeReasonOf() turns a thrown non-Error into its string", () => {
  assertEquals(closeReasonOf("gave up"), "gave up");
  assertEquals(closeReasonOf(42), "42");
  assertEquals(closeReasonOf(undefined), "undefined");
  assertEquals(closeReasonOf(null), "null");
});

Deno.test("ConnectionClosedError names the operation and, when known, why the connection ended", () => {
  const e = new ConnectionClosedError("handshake", "closed by the server");
  assertEquals(e.message, "Cannot handshake: current connection is closed (closed by the server)");
  assertEquals(e.reason, "closed by the server");
  assertEquals(new ConnectionClosedError("send").message, "Cannot send: current connection is closed");
});
