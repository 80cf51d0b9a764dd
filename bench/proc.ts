/**
 * Processes for the live benchmark: spawning a server or the players pinned
 * to a core, waiting for a port, and a process's CPU time and RSS from /proc.
 *
 * @module
 */

/** Whether `cmd` is on the PATH. */
export async function has(cmd: string): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .output();
    return code === 0;
  } catch {
    return false;
  }
}

/** The `p`th percentile of `xs` (nearest rank), NaN when empty. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** A file under /proc. Deno 2.9 reads /proc only with --allow-all; the bench task may run `cat`. */
async function procFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
  }
  const { code, stdout } = await new Deno.Command("cat", { args: [path], stderr: "null" }).output();
  if (code !== 0) throw new Error(`Cannot read ${path}: cat exited ${code}`);
  return new TextDecoder().decode(stdout);
}

/** utime and stime of a process and its threads, in ms (clock ticks are 10 ms on Linux). */
export async function cpuMs(pid: number): Promise<{ user: number; sys: number }> {
  const stat = await procFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) * 10, sys: Number(f[12]) * 10 };
}

/** Resident set size of a process, in MB. */
export async function rssMb(pid: number): Promise<number> {
  const s = await procFile(`/proc/${pid}/status`);
  const m = s.match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A loopback port nothing listens on (now). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Reads `out` onto `text` until `done(text)`; returns all that was read. Throws when `out` ends first or
 * after `ms` (the caller then ends the process), naming `what` it waited for.
 */
export async function readUntil(
  out: ReadableStreamDefaultReader<string>,
  text: string,
  done: (text: string) => boolean,
  ms: number,
  what: string,
): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((res) => timer = setTimeout(() => res("late"), ms));
  try {
    while (!done(text)) {
      const next = await Promise.race([out.read(), late]);
      if (next === "late") {
        throw new Error(`Cannot read ${what}: nothing within ${ms} ms: ${text.slice(-500)}`);
      }
      if (next.done) throw new Error(`Cannot read ${what}: the process exited: ${text.slice(-500)}`);
      text += next.value;
    }
    return text;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once something accepts connections on the loopback `port`. */
export async function waitPort(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`Cannot reach port ${port}: nothing listening after ${ms} ms`);
}

/**
 * `cmd` under sh with a raised file limit (65536, else as far as the hard limit allows), pinned to the cores
 * `pin` names (taskset) when given.
 */
export function spawn(
  cmd: string,
  pin: string | undefined,
  opts: { stdin?: "piped" | "null" } = {},
): Deno.ChildProcess {
  const prefix = pin ? `taskset -c ${pin} ` : "";
  return new Deno.Command("sh", {
    args: ["-c", `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${prefix}${cmd}`],
    stdin: opts.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}
