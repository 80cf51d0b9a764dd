/**
 * The WASM boundary contract of src/wasm/module.ts: the ABI constants read
 * from the module, a fixed memory per instance whose views stay valid across
 * calls, the memory map fitting inside it, status codes and their names,
 * check() turning a negative status into a ProtocolError, and copyOut().
 */
import { ProtocolError } from "../../src/errors.ts";
import {
  abi,
  check,
  codec,
  copyOut,
  instantiate,
  statusName,
  statusNames,
  wasmModule,
} from "../../src/wasm/module.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "../_util/assert.ts";

const PAGE = 65536;
const A = abi as Readonly<Record<string, number>>;

Deno.test("abi holds every upper-case global the module exports, as numbers", () => {
  const globals = WebAssembly.Module.exports(wasmModule)
    .filter((e) => e.kind === "global" && /^[A-Z][A-Z0-9_]*$/.test(e.name))
    .map((e) => e.name)
    .sort();
  assertEquals(Object.keys(abi).sort(), globals);
  for (const [k, v] of Object.entries(abi)) assert(Number.isInteger(v), `${k} is an integer`);
  assertEquals(abi.CONN_PAGES, 2, "a conn instance is 128 KiB, as the contract says");
});

Deno.test("instantiate('conn') gives a memory of CONN_PAGES pages with u8 and i32 views over all of it", () => {
  const inst = instantiate("conn");
  assertEquals(inst.memory.buffer.byteLength, abi.CONN_PAGES * PAGE);
  assertStrictEquals(inst.u8.buffer, inst.memory.buffer);
  assertStrictEquals(inst.i32.buffer, inst.memory.buffer);
  assertEquals(inst.u8.length, abi.CONN_PAGES * PAGE);
  assertEquals(inst.i32.length, abi.CONN_PAGES * PAGE / 4);
});

Deno.test("instantiate() memory cannot grow, so the views built at instantiation never detach", () => {
  const inst = instantiate("conn");
  assertThrows(() => inst.memory.grow(1), RangeError);
  assertStrictEquals(inst.u8.buffer, inst.memory.buffer, "the buffer was not replaced");
  assertEquals(inst.u8.length, abi.CONN_PAGES * PAGE, "the view still covers the whole memory");
});

Deno.test("instantiate() views show what the module writes on later calls", () => {
  const inst = instantiate("conn");
  const chunkSizeWord = A.CHUNK_STATE_CHUNK_SIZE / 4;
  inst.i32[chunkSizeWord] = 12345;
  assertEquals(check(inst.exports.chunkInit(1000, 4096), () => "chunkInit"), 0);
  assertEquals(
    inst.i32[chunkSizeWord],
    128,
    "chunkInit stored RTMP's default chunk size, seen through the old view",
  );
});

Deno.test("instantiate() gives each instance a memory of its own", () => {
  const a = instantiate("conn");
  const b = instantiate("conn");
  assert(a.memory !== b.memory);
  a.u8[abi.CONN_INPUT_PTR] = 0x5a;
  assertEquals(b.u8[abi.CONN_INPUT_PTR], 0, "a write into one instance does not show in the other");
});

Deno.test("instantiate() i32 view reads records as native little-endian words", () => {
  const inst = instantiate("conn");
  const at = abi.CONN_EVENTS_PTR;
  inst.u8.set([0x01, 0x02, 0x03, 0x04], at);
  assertEquals(inst.i32[at / 4], 0x04030201);
});

Deno.test("abi places the conn regions (state, events, input) in order inside CONN_PAGES, i32-aligned", () => {
  const end = abi.CONN_PAGES * PAGE;
  assert(abi.CONN_STATE_PTR + abi.CONN_STATE_SIZE <= abi.CONN_EVENTS_PTR, "state ends before events");
  assert(
    abi.CONN_EVENTS_PTR + abi.EVENT_SIZE * abi.CONN_EVENTS_CAP <= abi.CONN_INPUT_PTR,
    "events end before input",
  );
  assert(abi.CONN_INPUT_PTR + abi.CONN_INPUT_SIZE <= end, "input ends inside the memory");
  for (const k of ["CONN_STATE_PTR", "CONN_EVENTS_PTR", "CONN_INPUT_PTR", "EVENT_SIZE"] as const) {
    assertEquals(abi[k] % 4, 0, `${k} is i32-aligned`);
  }
});

Deno.test("abi places the codec regions (spans, input, output) in order inside CODEC_PAGES", () => {
  const end = abi.CODEC_PAGES * PAGE;
  assert(
    abi.CODEC_SPANS_PTR + abi.CODEC_SPANS_CAP * 8 <= abi.CODEC_IN_PTR,
    "spans (8 bytes each) end before input",
  );
  assert(abi.CODEC_IN_PTR + abi.CODEC_IN_SIZE <= abi.CODEC_OUT_PTR, "input ends before output");
  assert(abi.CODEC_OUT_PTR + abi.CODEC_OUT_SIZE <= end, "output ends inside the memory");
  assert(abi.MAX_MESSAGE_LENGTH <= abi.CODEC_IN_SIZE, "the largest message fits the codec input region");
});

Deno.test("codec() makes the process-wide codec instance once, with CODEC_PAGES pages", () => {
  const first = codec();
  assertStrictEquals(codec(), first);
  assertEquals(first.memory.buffer.byteLength, abi.CODEC_PAGES * PAGE);
});

Deno.test("statusNames maps ST_OK to 0 and every other ST_* export to a distinct negative code", () => {
  const stKeys = Object.keys(abi).filter((k) => k.startsWith("ST_"));
  assert(stKeys.length > 1);
  assertEquals(statusNames.size, stKeys.length, "no two status names share a code");
  assertEquals(A.ST_OK, 0);
  for (const k of stKeys) {
    if (k !== "ST_OK") assert(A[k] < 0, `${k} is negative`);
    assertEquals(statusNames.get(A[k]), k);
  }
});

Deno.test("statusName() names a known code and marks an unknown one with its number", () => {
  assertEquals(statusName(A.ST_MESSAGE_TOO_LONG), "ST_MESSAGE_TOO_LONG");
  assertEquals(statusName(0), "ST_OK");
  assertEquals(statusName(-999), "ST_UNKNOWN(-999)");
});

Deno.test("check() returns a zero or positive status and does not build the detail", () => {
  let built = 0;
  const detail = () => {
    built++;
    return "unused";
  };
  assertEquals(check(0, detail), 0);
  assertEquals(check(17, detail), 17, "a count passes through");
  assertEquals(built, 0);
});

Deno.test("check() throws a ProtocolError with the status as code and its name before the detail", () => {
  const e = assertThrows(
    () => check(A.ST_BAD_CHUNK_SIZE, () => "Cannot set chunk size to 0: allowed 1..16777215"),
    ProtocolError,
  );
  assertEquals(e.code, A.ST_BAD_CHUNK_SIZE);
  assertEquals(e.message, "ST_BAD_CHUNK_SIZE: Cannot set chunk size to 0: allowed 1..16777215");
  assertEquals(e.detail, e.message);
  const unknown = assertThrows(() => check(-999, () => "odd"), ProtocolError);
  assertEquals(unknown.message, "ST_UNKNOWN(-999): odd");
});

Deno.test("check() turns a real negative status from the module into a ProtocolError", () => {
  const inst = instantiate("conn");
  const e = assertThrows(
    () => check(inst.exports.chunkInit(1000, 0), () => "Cannot start the chunk reader with chunk size 0"),
    ProtocolError,
  );
  assertEquals(e.code, A.ST_BAD_ARGUMENT);
  assertEquals(e.message, "ST_BAD_ARGUMENT: Cannot start the chunk reader with chunk size 0");
});

Deno.test("copyOut() returns a copy the caller owns, unaffected by later writes into the instance", () => {
  const inst = instantiate("conn");
  const at = abi.CONN_INPUT_PTR;
  inst.u8.set([1, 2, 3, 4, 5], at);
  const out = copyOut(inst, at + 1, 3);
  assertEquals(out, Uint8Array.of(2, 3, 4));
  assert(out.buffer !== inst.memory.buffer, "not a view into WASM memory");
  inst.u8.fill(0, at, at + 5);
  assertEquals(out, Uint8Array.of(2, 3, 4));
  assertEquals(copyOut(inst, at, 0), new Uint8Array(0));
});
