/**
 * Holds the layer rule of docs/ARCHITECTURE.md: imports point down only
 * (L0 infrastructure <- L1 protocol/media <- L2 hub <- L3 edges <- wiring), and
 * there are no import cycles; and the mirror rule: every src/ file with
 * runtime code has its test at the mirrored path.
 */
import { assertEquals } from "./_util/assert.ts";

const ROOT = new URL("../", import.meta.url);

/** The layer of a source file, by its path below src/. */
export function layerOf(path: string): number {
  if (path === "src/sluice.ts") return 4;
  if (
    /^src\/(wasm|config|metrics)\//.test(path) || path === "src/log.ts" || path === "src/bytes.ts" ||
    path === "src/version.ts" || path === "src/deadlines.ts" || path === "src/conn_writer.ts" ||
    path === "src/errors.ts"
  ) return 0;
  if (/^src\/rtmp\/(conn\.ts$|server\/|client\/)/.test(path)) return 3;
  // RTSP: message, SDP and transport code is L1 (socket-free); the server and its sessions are L3.
  if (/^src\/rtsp\/(server|session|listener|udp)/.test(path)) return 3;
  if (/^src\/(amf|rtmp|media|rtsp)\//.test(path)) return 1;
  if (/^src\/hub\//.test(path)) return 2;
  if (/^src\/(outputs|ingest|vod|http|admin|auth|feed|jobs|hls)\//.test(path)) return 3;
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

/**
 * A top-level statement with no runtime code: `import type`, `export type` (an alias, or
 * `export type { ... } from`), `export interface`, `interface`, `type`. Comments are skipped before.
 */
const TYPE_ONLY_STATEMENT =
  /^(?:import\s+type\s|export\s+type\s|export\s+interface\s|interface\s|type\s+[A-Za-z_$])/;

/**
 * Whether a module's text has runtime code: some top-level statement other than a type-only one (see
 * TYPE_ONLY_STATEMENT) or a comment. Top-level statements are the lines that start in column 0, as
 * `deno fmt` lays code out; a line that only closes a bracket (`}`, `} from "x";`, `);`) continues the
 * statement above. Anything not recognised counts as runtime code, so a doubt asks for a test.
 */
export function hasRuntimeCode(text: string): boolean {
  let inBlockComment = false;
  for (const line of text.split("\n")) {
    if (inBlockComment) {
      const end = line.indexOf("*/");
      if (end < 0) continue;
      inBlockComment = false;
      if (line.slice(end + 2).trim() !== "") return true; // code after the comment
      continue;
    }
    if (line === "" || /^\s/.test(line)) continue; // blank, or inside a statement or a comment
    if (line.startsWith("//")) continue;
    if (line.startsWith("/*")) {
      if (!line.includes("*/", 2)) inBlockComment = true;
      else if (!/\*\/\s*$/.test(line)) return true; // code after a one-line comment
      continue;
    }
    if (/^[}\])]/.test(line)) continue;
    if (!TYPE_ONLY_STATEMENT.test(line)) return true;
  }
  return false;
}

/** The mirrored test of a source file: `src/x/y.ts` -> `test/x/y_test.ts`. */
export function mirroredTest(path: string): string {
  return `test/${path.slice("src/".length).replace(/\.ts$/, "_test.ts")}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(new URL(path, ROOT))).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("hasRuntimeCode() tells a module of types only from one with runtime code", () => {
  const typesOnly = [
    "/**\n * Doc.\n *\n * @module\n */",
    'import type { A } from "./a.ts";\nimport type {\n  B,\n  C,\n} from "./b.ts";',
    "export interface X {\n  a: number;\n}\ninterface Y {\n  b(): void;\n}",
    'export type T = 1 | 2;\ntype U = {\n  a: T;\n};\nexport type { V } from "./v.ts";',
    "// a line comment\n/* a block */\n/*\nspread\n*/\nexport type W = string;",
  ];
  for (const text of typesOnly) assertEquals(hasRuntimeCode(text), false, text);
  const runtime = [
    "export const A = 1;",
    "export function f(): void {}",
    "export class C {}",
    'import { a } from "./a.ts";\nexport type T = typeof a;',
    'import "./side_effect.ts";',
    'export { a } from "./a.ts";',
    "export default 3;",
    "export enum E {\n  A,\n}",
    "/* a comment */ export const B = 2;",
    "let x = 0;",
  ];
  for (const text of runtime) assertEquals(hasRuntimeCode(text), true, text);
});

Deno.test("mirroredTest() names test/<same path>_test.ts", () => {
  assertEquals(mirroredTest("src/hub/gop_cache.ts"), "test/hub/gop_cache_test.ts");
  assertEquals(mirroredTest("src/log.ts"), "test/log_test.ts");
  assertEquals(mirroredTest("src/rtmp/client/within.ts"), "test/rtmp/client/within_test.ts");
});

/**
 * The mirror rule (docs/ARCHITECTURE.md, STYLE 1): `src/x/y.ts` is tested by `test/x/y_test.ts`.
 * Exempt BY RULE, with no list of named exceptions: a module with no runtime code, whose every
 * top-level statement is an `import type`, `export type`, `export interface`, `interface`, `type` or
 * a comment (e.g. src/http/context.ts, an interface its consumers declare); the type checker is its
 * test. `dist/` folders are skipped, as in the layer rule.
 */
Deno.test("every src/ file with runtime code has its mirrored test file", async () => {
  const files = (await sourceFiles(new URL("src/", ROOT), "src", [])).sort();
  const missing: string[] = [];
  for (const f of files) {
    if (!hasRuntimeCode(await Deno.readTextFile(new URL(f, ROOT)))) continue;
    const t = mirroredTest(f);
    if (!await exists(t)) missing.push(`${f} has no ${t}`);
  }
  assertEquals(missing, []);
});
