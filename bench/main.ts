/**
 * `deno task bench [live|memory|micro] [flags]`: the live fan-out benchmark
 * (default), its memory mode (RSS per idle and per playing connection; also
 * `--memory`), or the micro benchmark of the hot paths (WASM beside its
 * TypeScript twin).
 *
 * @module
 */
import { runLive } from "./live.ts";

const [mode, ...rest] = Deno.args;
if (mode === "micro") {
  const { runMicro } = await import("./micro.ts");
  await runMicro(rest);
} else if (mode === "memory" || Deno.args.includes("--memory")) {
  const { runMemory } = await import("./memory.ts");
  await runMemory(Deno.args.filter((a) => a !== "memory" && a !== "--memory"));
} else if (mode === undefined || mode === "live" || mode.startsWith("--")) {
  await runLive(mode === "live" ? rest : Deno.args);
} else {
  console.error(`Cannot run bench ${mode}: use live, memory or micro`);
  Deno.exit(2);
}
