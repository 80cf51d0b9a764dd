/**
 * `deno task bench [live|micro] [flags]`: the live fan-out benchmark (default)
 * or the micro benchmark of the hot paths (WASM beside its TypeScript twin).
 *
 * @module
 */
import { runLive } from "./live.ts";

const [mode, ...rest] = Deno.args;
if (mode === "micro") {
  const { runMicro } = await import("./micro.ts");
  await runMicro(rest);
} else if (mode === undefined || mode === "live" || mode.startsWith("--")) {
  await runLive(mode === "live" ? rest : Deno.args);
} else {
  console.error(`Cannot run bench ${mode}: use live or micro`);
  Deno.exit(2);
}
