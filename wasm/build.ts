/**
 * Builds the committed outputs from their sources:
 *   wasm/assembly/*.ts -> wasm/build/sluice.wasm and wasm/build/sluice.wat
 *
 * `deno task build` writes them in place; `--out DIR` writes them elsewhere
 * (the reproducibility test builds into a temporary folder and compares bytes).
 *
 * @module
 */
import asc from "assemblyscript/asc";

/** The compiler flags; changing any of them changes the committed bytes. */
export const ASC_FLAGS: readonly string[] = [
  "--optimizeLevel",
  "3",
  "--shrinkLevel",
  "0",
  "--converge",
  "--runtime",
  "stub",
  "--noAssert",
  "--importMemory",
  "--initialMemory",
  "2",
  "--enable",
  "simd",
  "--enable",
  "bulk-memory",
];

/** Compiles the module into `outDir`; returns the paths written. */
export async function buildWasm(outDir: string): Promise<{ wasm: string; wat: string }> {
  const root = new URL("..", import.meta.url);
  const entry = new URL("wasm/assembly/index.ts", root).pathname;
  await Deno.mkdir(outDir, { recursive: true });
  const wasm = `${outDir}/sluice.wasm`;
  const wat = `${outDir}/sluice.wat`;
  const stderr: string[] = [];
  const { error } = await asc.main([entry, "--outFile", wasm, "--textFile", wat, ...ASC_FLAGS], {
    stdout: { write: () => true },
    stderr: {
      write: (s: string | Uint8Array) => {
        stderr.push(typeof s === "string" ? s : new TextDecoder().decode(s));
        return true;
      },
    },
  });
  if (error) {
    throw new Error(`Cannot build the WebAssembly module: ${error.message}\n${stderr.join("")}`);
  }
  return { wasm, wat };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--out");
  const outDir = i >= 0 ? Deno.args[i + 1] : new URL("build", import.meta.url).pathname;
  const { wasm, wat } = await buildWasm(outDir);
  console.log(`wrote ${wasm} (${(await Deno.stat(wasm)).size} bytes) and ${wat}`);
}
