/**
 * Loads Sluice's WebAssembly module and states the contract of its boundary.
 * This folder is the only code that sees pointers; everything above it gets
 * `Uint8Array` views with a stated lifetime, or owned copies.
 *
 * ## The boundary contract
 *
 * 1. **Loading.** `wasm/build/sluice.wasm` is imported as bytes (a module
 *    import: no read permission) and compiled once per process. It imports its
 *    memory; every instance gets its own `WebAssembly.Memory` of a fixed size
 *    that never grows, so views built over it at instantiation stay valid for
 *    the life of the instance.
 * 2. **Roles and memory map.** One module, two roles, every address exported by
 *    the module from `wasm/assembly/abi.ts` (read here, never repeated):
 *    - `conn`: one instance per RTMP connection (CONN_PAGES pages, 128 KiB).
 *      Parser state and the chunk-stream table, an events region of fixed
 *      32-byte records, and the input region the socket reads straight into.
 *      Measured: 1,000 instances that touch 16 KiB each cost 24 MB of RSS,
 *      which is why state lives per instance instead of in a shared context
 *      table (no state swapping, no growth, no views invalidated by a grow).
 *    - `codec`: one instance per process (CODEC_PAGES pages) for synchronous,
 *      stream-level work: chunk mux, NAL scanning, FLV packing. Input, output
 *      and span regions; untouched pages cost no RSS.
 * 3. **View lifetimes.** A view into an output or events region is valid until
 *    the next call into that instance. Bytes that must live longer, every
 *    payload that enters the hub, are copied out exactly once (`copyOut`); the
 *    hub then shares that one array with every subscriber.
 * 4. **Calls.** Scalars and `(ptr, len)` go in, an i32 status comes out;
 *    results go to a region as fixed records or spans. No strings cross; no
 *    generated bindings (they copy).
 * 5. **Status codes.** Zero or more is success (often a count); negative codes
 *    are the module's `ST_*` exports and map to `ProtocolError { code, detail }`
 *    with the code's name. A trap (an AssemblyScript abort) is caught at the
 *    connection and closes that connection only.
 * 6. **Caps.** Every length read from the wire is capped before use; the error
 *    names the value and the limit. The caps (`MAX_CHUNK_SIZE`,
 *    `MAX_MESSAGE_LENGTH`, `MAX_CHUNK_STREAMS`) are module exports.
 * 7. **Byte order.** Wire fields are big-endian and go through
 *    `wasm/assembly/be.ts`; records in the events and spans regions are native
 *    (little-endian) i32 and are read here through `Int32Array` views.
 * 8. **Socket input.** `conn.read(view)` over the non-shared memory of a conn
 *    instance writes socket bytes straight into its input region; a
 *    SharedArrayBuffer-backed view would not work on Deno 2.
 *
 * @module
 */
import wasmBytes from "../../wasm/build/sluice.wasm" with { type: "bytes" };
import { ProtocolError } from "../errors.ts";

/** The exports every role shares: the ABI constants from abi.ts. */
export interface AbiExports {
  readonly CONN_PAGES: WebAssembly.Global;
  readonly CONN_STATE_PTR: WebAssembly.Global;
  readonly CONN_STATE_SIZE: WebAssembly.Global;
  readonly CONN_EVENTS_PTR: WebAssembly.Global;
  readonly EVENT_SIZE: WebAssembly.Global;
  readonly CONN_EVENTS_CAP: WebAssembly.Global;
  readonly CONN_INPUT_PTR: WebAssembly.Global;
  readonly CONN_INPUT_SIZE: WebAssembly.Global;
  readonly CODEC_PAGES: WebAssembly.Global;
  readonly CODEC_SPANS_PTR: WebAssembly.Global;
  readonly CODEC_SPANS_CAP: WebAssembly.Global;
  readonly CODEC_IN_PTR: WebAssembly.Global;
  readonly CODEC_IN_SIZE: WebAssembly.Global;
  readonly CODEC_OUT_PTR: WebAssembly.Global;
  readonly CODEC_OUT_SIZE: WebAssembly.Global;
  readonly MAX_CHUNK_SIZE: WebAssembly.Global;
  readonly MAX_MESSAGE_LENGTH: WebAssembly.Global;
  readonly MAX_CHUNK_STREAMS: WebAssembly.Global;
}

/** Instance exports: the ABI constants plus the functions each hot path adds. */
// deno-lint-ignore no-explicit-any
export type SluiceExports = AbiExports & Record<string, any>;

/** The compiled module, once per process. */
export const wasmModule: WebAssembly.Module = new WebAssembly.Module(wasmBytes);

/** The ABI constants, read once from a throwaway instance's exports. */
export const abi: Readonly<Record<keyof AbiExports, number>> = (() => {
  const probe = new WebAssembly.Instance(wasmModule, {
    env: { memory: new WebAssembly.Memory({ initial: 2, maximum: 2 }), abort },
  }).exports as unknown as AbiExports;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(probe)) {
    if (v instanceof WebAssembly.Global && /^[A-Z][A-Z0-9_]*$/.test(k)) out[k] = v.value as number;
  }
  return out as Record<keyof AbiExports, number>;
})();

/** Status code -> its `ST_*` name, from the module's exports. */
export const statusNames: ReadonlyMap<number, string> = new Map(
  Object.entries(abi).filter(([k]) => k.startsWith("ST_")).map(([k, v]) => [v, k]),
);

/** The name of a status code, e.g. `ST_MESSAGE_TOO_LONG`. */
export function statusName(code: number): string {
  return statusNames.get(code) ?? `ST_UNKNOWN(${code})`;
}

/** Throws a ProtocolError for a negative status; returns the status otherwise. */
export function check(status: number, detail: () => string): number {
  if (status < 0) throw new ProtocolError(status, `${statusName(status)}: ${detail()}`);
  return status;
}

/** An AssemblyScript abort: a bug or a broken invariant inside the module. */
function abort(_msg: number, _file: number, line: number, col: number): never {
  throw new WebAssembly.RuntimeError(`Cannot continue: WASM aborted at ${line}:${col}`);
}

/** One instance with its memory and the views built over it once. */
export interface WasmInstance {
  readonly exports: SluiceExports;
  readonly memory: WebAssembly.Memory;
  /** The whole memory as bytes; valid for the life of the instance (memory never grows). */
  readonly u8: Uint8Array;
  /** The whole memory as native i32 records (events, spans). */
  readonly i32: Int32Array;
}

/** Makes an instance for a role, with a fixed-size memory of its own. */
export function instantiate(role: "conn" | "codec"): WasmInstance {
  const pages = role === "conn" ? abi.CONN_PAGES : abi.CODEC_PAGES;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(wasmModule, { env: { memory, abort } });
  return {
    exports: instance.exports as unknown as SluiceExports,
    memory,
    u8: new Uint8Array(memory.buffer),
    i32: new Int32Array(memory.buffer),
  };
}

let codecInstance: WasmInstance | undefined;

/** The process-wide codec instance (mux, NAL scan, FLV pack), made on first use. */
export function codec(): WasmInstance {
  return codecInstance ??= instantiate("codec");
}

/** Copies `len` bytes at `ptr` out of an instance into a new array the caller owns. */
export function copyOut(inst: WasmInstance, ptr: number, len: number): Uint8Array {
  return inst.u8.slice(ptr, ptr + len);
}
