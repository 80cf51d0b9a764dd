/**
 * The live fan-out benchmark: one ffmpeg publisher (-re, looping ~1 Mbit/s
 * H.264 + AAC, 2 s GOP, over RTMP) and N players on loopback: RTMP players,
 * or with `--proto http` HTTP-FLV players, `--proto ws` WebSocket-FLV players
 * (`--proto rtmp,http,ws` runs each and compares them with RTMP). The server runs in its own
 * process pinned to core 0 with taskset (when there is taskset); publisher and
 * players run on core 1. For each N it prints players that kept up, delivered
 * Mbit/s, server CPU per delivered Mbit (and seconds per Gbit), lag and time to
 * first frame p50/p99, and server RSS. When nginx with the RTMP module is
 * installed, nginx-rtmp (one worker) is measured the same way in the same run.
 *
 * @module
 */
import type { PlayerResult } from "./players.ts";
import { benchFlv } from "./media.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NGINX_RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

interface Row {
  server: string;
  n: number;
  keptUp: number;
  mbps: number;
  cpuMsPerMbit: number;
  /** Share of the server's CPU time spent in the kernel (stime), in %. */
  sysPct: number;
  ttffP50: number;
  ttffP99: number;
  lagP50: number;
  lagP99: number;
  rssMb: number;
  errors: number;
}

async function has(cmd: string): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .output();
    return code === 0;
  } catch {
    return false;
  }
}

function pct(xs: number[], p: number): number {
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
async function cpuMs(pid: number): Promise<{ user: number; sys: number }> {
  const stat = await procFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) * 10, sys: Number(f[12]) * 10 };
}

async function rssMb(pid: number): Promise<number> {
  const s = await procFile(`/proc/${pid}/status`);
  const m = s.match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitPort(port: number, ms = 10_000): Promise<void> {
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

function spawn(
  cmd: string,
  pin: string | undefined,
  opts: { stdin?: "piped" | "null" } = {},
): Deno.ChildProcess {
  const prefix = pin ? `taskset -c ${pin} ` : "";
  return new Deno.Command("sh", {
    args: ["-c", `ulimit -n 65536 2>/dev/null || ulimit -n 4096; exec ${prefix}${cmd}`],
    stdin: opts.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function startSluice(
  port: number,
  httpPort: number,
  pin?: string,
  extra = "",
): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = spawn(
    `deno run --allow-net ${ROOT}server.ts --host 127.0.0.1 --rtmp-port ${port} --http-port ${httpPort} --log-level warn ${extra}`,
    pin,
  );
  await waitPort(port);
  child.stdout.cancel();
  const drain = child.stderr.pipeTo(new WritableStream());
  return {
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await drain.catch(() => {});
    },
  };
}

async function startNginx(port: number, pin?: string): Promise<{ pid: number; stop: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-nginx-" });
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 8192; }
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; } } }
`,
  );
  const child = spawn(`nginx -p ${dir} -c ${dir}/nginx.conf`, pin);
  await waitPort(port);
  child.stdout.cancel();
  const drain = child.stderr.pipeTo(new WritableStream());
  return {
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await drain.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The players' protocol. */
type Proto = "rtmp" | "http" | "ws";

/** One measurement: a server already listening on `port` (RTMP) and `httpPort` (HTTP-FLV players). */
async function measure(
  label: string,
  pid: number,
  port: number,
  n: number,
  seconds: number,
  flv: string,
  pin: string | undefined,
  play: { proto: Proto; httpPort?: number } = { proto: "rtmp" },
): Promise<Row> {
  const url = `rtmp://127.0.0.1:${port}/live/bench`;
  const playUrl = play.proto === "rtmp" ? url : `${play.proto}://127.0.0.1:${play.httpPort}/live/bench.flv`;
  const warm = 3; // the stream is live and players have joined before the window opens
  const players = spawn(`deno run -A ${ROOT}bench/players.ts ${playUrl} ${n} ${warm + seconds + 2}`, pin, {
    stdin: "piped",
  });
  const out = players.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("probe ready")) {
    const { value, done } = await out.read();
    if (done) throw new Error("players exited early");
    text += value;
  }
  await sleep(200);
  const pub = spawn(`ffmpeg -hide_banner -v error -re -stream_loop -1 -i ${flv} -c copy -f flv ${url}`, pin);
  const pubErr = pub.stderr.pipeTo(new WritableStream());
  pub.stdout.cancel();
  await sleep(2500); // a GOP is cached: joiners start at a keyframe
  const w = players.stdin.getWriter();
  await w.write(new TextEncoder().encode("go\n"));
  await w.close();
  await sleep(warm * 1000 - 2500 + 500);
  const cpu0 = await cpuMs(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu1 = await cpuMs(pid);
  const t1 = performance.now();
  const rss = await rssMb(pid);
  while (true) {
    const { value, done } = await out.read();
    if (done) break;
    text += value;
  }
  await players.status;
  players.stderr.cancel();
  pub.kill("SIGTERM");
  await pub.status;
  await pubErr.catch(() => {});
  const line = text.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`players printed no results: ${text.slice(0, 500)}`);
  const { probe, players: results } = JSON.parse(line) as { probe: PlayerResult; players: PlayerResult[] };
  const totalBytes = results.reduce((s, r) => s + r.bytes, 0);
  const elapsedAll = warm + seconds + 2;
  // Delivered rate over the players' whole run; CPU over the measured window.
  const mbps = (totalBytes * 8) / 1e6 / elapsedAll;
  const windowMbit = mbps * ((t1 - t0) / 1000);
  const probeRate = probe.videoFrames / Math.max(1, (probe.lastTs - probe.firstTs) / 1000);
  const keptUp =
    results.filter((r) =>
      !r.error && r.videoFrames >= 0.99 * probeRate * ((r.lastTs - r.firstTs) / 1000) && r.lagMs < 1000
    ).length;
  return {
    server: label,
    n,
    keptUp,
    mbps,
    cpuMsPerMbit: (cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) / windowMbit,
    sysPct: (100 * (cpu1.sys - cpu0.sys)) / Math.max(1, cpu1.user + cpu1.sys - cpu0.user - cpu0.sys),
    ttffP50: pct(results.map((r) => r.firstFrameMs).filter((x) => x >= 0), 50),
    ttffP99: pct(results.map((r) => r.firstFrameMs).filter((x) => x >= 0), 99),
    lagP50: pct(results.map((r) => r.lagMs), 50),
    lagP99: pct(results.map((r) => r.lagMs), 99),
    rssMb: rss,
    errors: results.filter((r) => r.error).length,
  };
}

function print(rows: Row[]): void {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  console.log(
    "server          N  kept-up  Mbit/s  CPU ms/Mbit (= s/Gbit)  sys %  TTFF p50/p99 ms  lag p50/p99 ms  RSS MB  errors",
  );
  for (const r of rows) {
    console.log(
      `${r.server.padEnd(14)} ${String(r.n).padStart(3)}  ${String(r.keptUp).padStart(7)}  ${
        f(r.mbps, 1).padStart(6)
      }  ${f(r.cpuMsPerMbit, 3).padStart(22)}  ${f(r.sysPct).padStart(5)}  ${
        (f(r.ttffP50) + "/" + f(r.ttffP99)).padStart(15)
      }  ${(f(r.lagP50) + "/" + f(r.lagP99)).padStart(14)}  ${f(r.rssMb, 0).padStart(6)}  ${r.errors}`,
    );
  }
}

/** `deno task bench [live] [--n 100,500] [--seconds 10] [--proto rtmp|http|ws|rtmp,http,ws] [--no-nginx]` */
export async function runLive(args: string[]): Promise<void> {
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const ns = (get("--n") ?? "100,500").split(",").map(Number);
  const seconds = Number(get("--seconds") ?? 10);
  const sluiceFlags = get("--sluice-flags") ?? "";
  const protos = (get("--proto") ?? "rtmp").split(",") as Proto[];
  for (const p of protos) {
    if (p !== "rtmp" && p !== "http" && p !== "ws") {
      console.error(`Cannot run bench with --proto ${p}: use rtmp, http, ws or a list such as rtmp,http`);
      Deno.exit(2);
    }
  }
  const pinned = await has("taskset") && navigator.hardwareConcurrency >= 2;
  const serverPin = pinned ? "0" : undefined;
  const clientPin = pinned ? "1" : undefined;
  // nginx-rtmp serves RTMP players only.
  const nginx = protos.includes("rtmp") && !args.includes("--no-nginx") && await has("nginx") &&
    await Deno.stat(NGINX_RTMP_MODULE).then(() => true, () => false);
  const flv = await benchFlv(20);
  console.log(
    `live bench: ${seconds} s window per run, ${protos.join(" and ")} players read every 20 ms, server ${
      pinned ? "pinned to core 0, clients to core 1" : "not pinned (no taskset)"
    }${nginx ? ", nginx-rtmp alongside" : ", nginx-rtmp not installed"}`,
  );
  const rows: Row[] = [];
  for (const n of ns) {
    for (const proto of protos) {
      const port = freePort();
      const httpPort = freePort();
      const s = await startSluice(port, httpPort, serverPin, sluiceFlags);
      const label = proto === "rtmp" ? "sluice" : `sluice ${proto}`;
      try {
        rows.push(await measure(label, s.pid, port, n, seconds, flv, clientPin, { proto, httpPort }));
      } finally {
        await s.stop();
      }
    }
    if (nginx) {
      const nport = freePort();
      const ng = await startNginx(nport, serverPin);
      try {
        rows.push(await measure("nginx-rtmp", ng.pid, nport, n, seconds, flv, clientPin));
      } finally {
        await ng.stop();
      }
    }
  }
  print(rows);
  const names: Record<Proto, string> = { rtmp: "RTMP", http: "HTTP-FLV", ws: "WebSocket-FLV" };
  for (const n of ns) {
    const b = rows.find((r) => r.server === "sluice" && r.n === n);
    for (const proto of protos.filter((p) => p !== "rtmp")) {
      const a = rows.find((r) => r.server === `sluice ${proto}` && r.n === n);
      if (a && b) {
        console.log(
          `N=${n}: ${names[proto]}/RTMP CPU per Mbit ${(a.cpuMsPerMbit / b.cpuMsPerMbit).toFixed(2)}x, RSS ${
            (a.rssMb / b.rssMb).toFixed(2)
          }x, TTFF p50 ${(a.ttffP50 / b.ttffP50).toFixed(2)}x`,
        );
      }
    }
  }
  if (nginx) {
    for (const n of ns) {
      const a = rows.find((r) => r.server === "sluice" && r.n === n);
      const b = rows.find((r) => r.server === "nginx-rtmp" && r.n === n);
      if (a && b) {
        console.log(
          `N=${n}: sluice/nginx-rtmp CPU per Mbit ${(a.cpuMsPerMbit / b.cpuMsPerMbit).toFixed(2)}x, RSS ${
            (a.rssMb / b.rssMb).toFixed(2)
          }x, TTFF p50 ${(a.ttffP50 / b.ttffP50).toFixed(2)}x`,
        );
      }
    }
  }
}
