/**
 * The C players (bench/players.c) for `deno task bench`: built on demand with
 * the system's C compiler into bench/out/players_c-HASH, HASH from the source
 * and the compiler flags, so an edit rebuilds and an unchanged source is built
 * once. They play rtmp:// and http:// URLs with the same contract as the Deno
 * players (players.ts: stdin commands, "probe ready", "playing", one JSON line
 * of PlayerResults), at a fraction of the CPU: at 800 players the Deno process
 * saturates its core, which inflates time to first frame (issue 13 asks for
 * figures taken with a load generator written in C).
 *
 * `playersCommand()` picks the players for a URL: the C ones for rtmp:// and
 * http:// when they build, the Deno ones otherwise, for ws:// and rtsp://, and
 * when asked (`--deno-players`). Without a C compiler the C players are
 * unavailable, and `cPlayers()` says why.
 *
 * @module
 */

const SOURCE = new URL("./players.c", import.meta.url).pathname;
const OUT_DIR = new URL("./out/", import.meta.url).pathname;
const DENO_PLAYERS = new URL("./players.ts", import.meta.url).pathname;
/** The compiler flags; part of the binary's hash. */
const CFLAGS = ["-O2", "-Wall", "-Wextra"] as const;
/** How long a build may take, ms. */
const BUILD_MS = 60_000;
/** The URL schemes the C players play. */
const C_SCHEMES = ["rtmp", "http"] as const;

/** The built C players: the binary and what the compiler said (warnings); or why they are unavailable. */
export type CPlayers = { ok: true; path: string; warnings: string } | { ok: false; why: string };

/** OUT_DIR/players_c-HASH for this source and these flags: 16 hex digits of their SHA-256. */
async function binaryPath(source: Uint8Array, outDir: string): Promise<string> {
  const flags = new TextEncoder().encode(`\0${CFLAGS.join(" ")}`);
  const both = new Uint8Array(source.length + flags.length);
  both.set(source);
  both.set(flags, source.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", both));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${outDir}players_c-${hex}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Builds bench/players.c with `cc` into `outDir` (a directory path ending in "/"; tests pass their own and
 * another compiler's name) unless the binary for this source is there. The build writes a temporary file
 * and renames it, so two benches building at once do not clash.
 */
export async function buildCPlayers(cc = "cc", outDir = OUT_DIR): Promise<CPlayers> {
  const path = await binaryPath(await Deno.readFile(SOURCE), outDir);
  if (await exists(path)) return { ok: true, path, warnings: "" };
  await Deno.mkdir(outDir, { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cc, {
      args: [...CFLAGS, "-o", tmp, SOURCE],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { ok: false, why: `no C compiler: ${cc} is not on the PATH` };
    }
    throw e;
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), BUILD_MS);
  try {
    const { code, stdout, stderr } = await child.output();
    const said = (new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr)).trim();
    if (code !== 0) {
      await Deno.remove(tmp).catch(() => {});
      return { ok: false, why: `${cc} exited ${code} building ${SOURCE}: ${said.slice(0, 500)}` };
    }
    await Deno.rename(tmp, path);
    return { ok: true, path, warnings: said };
  } finally {
    clearTimeout(timer);
  }
}

let built: Promise<CPlayers> | undefined;

/** The C players in bench/out, built once per process (buildCPlayers() with `cc`). */
export function cPlayers(): Promise<CPlayers> {
  built ??= buildCPlayers();
  return built;
}

/** Whether the C players play `url`: rtmp:// and http:// URLs. */
export function cPlays(url: string): boolean {
  return (C_SCHEMES as readonly string[]).includes(url.slice(0, url.indexOf(":")));
}

/** Which players play a URL: the C ones or the Deno ones. */
export type PlayersKind = "C" | "Deno";

/**
 * The shell command that runs N players of `url` for at most `seconds`: the C players when they play the
 * URL and build (unless `deno`), else `deno run -A bench/players.ts`. Both take the same stdin and print
 * the same lines.
 */
export async function playersCommand(
  url: string,
  n: number,
  seconds: number,
  deno = false,
): Promise<{ cmd: string; kind: PlayersKind }> {
  const c = !deno && cPlays(url) ? await cPlayers() : undefined;
  if (c?.ok) return { cmd: `${c.path} ${url} ${n} ${seconds}`, kind: "C" };
  return { cmd: `deno run -A ${DENO_PLAYERS} ${url} ${n} ${seconds}`, kind: "Deno" };
}

/**
 * What the bench's header says of its players for `protos` (rtmp, http, ws, rtsp): "C players
 * (bench/players.c)", "Deno players (--deno-players)", or a mix with the reason.
 */
export async function playersNote(protos: readonly string[], deno: boolean): Promise<string> {
  if (protos.length === 0) return "";
  if (deno) return "Deno players (--deno-players)";
  const inC = protos.filter((p) => (C_SCHEMES as readonly string[]).includes(p));
  const inDeno = protos.filter((p) => !inC.includes(p));
  if (inC.length === 0) return `Deno players (${inDeno.join(", ")}: no C players)`;
  const c = await cPlayers();
  if (!c.ok) return `Deno players (C players unavailable: ${c.why})`;
  const mixed = inDeno.length > 0 ? `, Deno players for ${inDeno.join(" and ")}` : "";
  const phase = Deno.env.get("JOIN_PHASE_MS") ?? "1000";
  const join = phase === "-1" ? "joining at once" : `joining ${phase} ms after a keyframe`;
  return `C players (bench/players.c, ${join}) for ${inC.join(" and ")}${mixed}`;
}
