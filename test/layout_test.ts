/**
 * Holds the layer rule of docs/ARCHITECTURE.md: imports point down only
 * (L0 infrastructure <- L1 protocol/media <- L2 hub <- L3 edges <- wiring), and
 * there are no import cycles.
 */
import { assertEquals } from "./_util/assert.ts";

const ROOT = new URL("../", import.meta.url);

/** The layer of a source file, by its path below src/. */
export function layerOf(path: string): number {
  if (path === "src/sluice.ts") return 4;
  if (
    /^src\/(wasm|config|metrics)\//.test(path) || path === "src/log.ts" || path === "src/bytes.ts" ||
    path === "src/errors.ts"
  ) return 0;
  if (/^src\/rtmp\/(conn\.ts$|server\/|client\/)/.test(path)) return 3;
  if (/^src\/(amf|rtmp|media)\//.test(path)) return 1;
  if (/^src\/hub\//.test(path)) return 2;
  if (/^src\/(outputs|ingest|vod|http|admin|auth)\//.test(path)) return 3;
  throw new Error(`Cannot place ${path}: no layer for this folder (add it to test/layout_test.ts)`);
}

async function sourceFiles(dir: URL, rel: string, out: string[]): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory) {
      if (e.name === "dist") continue;
      await sourceFiles(new URL(`${e.name}/`, dir), p, out);
    } else if (e.name.endsWith(".ts")) {
      out.push(p);
    }
  }
  return out;
}

async function importsOf(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL(path, ROOT));
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
    const spec = m[1];
    if (!spec.startsWith(".")) continue;
    const resolved = new URL(spec, new URL(path, ROOT)).pathname.slice(new URL(ROOT).pathname.length);
    if (resolved.startsWith("src/") && resolved.endsWith(".ts")) out.push(resolved);
  }
  return out;
}

Deno.test("src/ imports point down the layers only", async () => {
  const files = await sourceFiles(new URL("src/", ROOT), "src", []);
  const upward: string[] = [];
  for (const f of files) {
    for (const dep of await importsOf(f)) {
      if (layerOf(dep) > layerOf(f)) upward.push(`${f} (L${layerOf(f)}) imports ${dep} (L${layerOf(dep)})`);
    }
  }
  assertEquals(upward, []);
});

Deno.test("src/ has no import cycles", async () => {
  const files = await sourceFiles(new URL("src/", ROOT), "src", []);
  const graph = new Map<string, string[]>();
  for (const f of files) graph.set(f, await importsOf(f));
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "visiting") {
      cycles.push([...stack.slice(stack.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "visiting");
    for (const d of graph.get(f) ?? []) visit(d, [...stack, f]);
    state.set(f, "done");
  };
  for (const f of files) visit(f, []);
  assertEquals(cycles, []);
});
