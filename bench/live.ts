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
 * `--proto hls` runs light HLS players (hls_players.ts, as hls.js loads
 * without LL-HLS) against Sluice's HLS from memory, fMP4 and MPEG-TS, and
 * against nginx-rtmp's HLS: the RTMP module writes MPEG-TS fragments to files
 * and the same nginx serves them over HTTP (nginx.ts). Their TTFF is to the
 * first segment's last byte; kept-up players never stalled or missed a
 * segment; lag is from EXT-X-PROGRAM-DATE-TIME, which nginx-rtmp does not
 * write ("-").
 *
 * @module
 */
import type { PlayerResult } from "./players.ts";
import { measureHls } from "./hls_live.ts";
import { benchFlv } from "./media.ts";
import { hasNginxRtmp, NginxHls, startNginx } from "./nginx.ts";
import { cpuMs, freePort, has, pct, rssMb, sleep, spawn, waitPort } from "./proc.ts";
import { printRows, ratioLine, type Row } from "./row.ts";

const ROOT = new URL("../", import.meta.url).pathname;

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

/** The FLV players' protocol. */
type FlvProto = "rtmp" | "http" | "ws";
/** The players' protocol: FLV players, or HLS players (hls_players.ts). */
type Proto = FlvProto | "hls";

/** One measurement: a server already listening on `port` (RTMP) and `httpPort` (HTTP-FLV players). */
async function measure(
  label: string,
  pid: number,
  port: number,
  n: number,
  seconds: number,
  flv: string,
  pin: string | undefined,
  play: { proto: FlvProto; httpPort?: number } = { proto: "rtmp" },
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

/** Sluice's HLS runs: each container, with the server flag that picks it. */
const SLUICE_HLS = [
  { label: "sluice hls", flags: "--hls-container fmp4" },
  { label: "sluice hls-ts", flags: "--hls-container ts" },
] as const;

/** `deno task bench [live] [--n 100,500] [--seconds 10] [--proto rtmp|http|ws|hls|rtmp,http,ws,hls] [--no-nginx]` */
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
    if (p !== "rtmp" && p !== "http" && p !== "ws" && p !== "hls") {
      console.error(
        `Cannot run bench with --proto ${p}: use rtmp, http, ws, hls or a list such as rtmp,http`,
      );
      Deno.exit(2);
    }
  }
  const pinned = await has("taskset") && navigator.hardwareConcurrency >= 2;
  const serverPin = pinned ? "0" : undefined;
  const clientPin = pinned ? "1" : undefined;
  // nginx-rtmp serves RTMP players, and HLS players from the files its HLS module writes.
  const nginxOk = !args.includes("--no-nginx") && await hasNginxRtmp();
  const nginx = protos.includes("rtmp") && nginxOk;
  const nginxHls = protos.includes("hls") && nginxOk;
  const flv = await benchFlv(20);
  const flvProtos = protos.filter((p) => p !== "hls");
  const players = [
    ...(flvProtos.length > 0 ? [`${flvProtos.join(" and ")} players read every 20 ms`] : []),
    ...(protos.includes("hls") ? ["HLS players load as hls.js does without LL-HLS"] : []),
  ].join(", ");
  console.log(
    `live bench: ${seconds} s window per run, ${players}, server ${
      pinned ? "pinned to core 0, clients to core 1" : "not pinned (no taskset)"
    }${nginx || nginxHls ? ", nginx-rtmp alongside" : ", nginx-rtmp not installed"}`,
  );
  const rows: Row[] = [];
  for (const n of ns) {
    for (const proto of protos) {
      for (const run of proto === "hls" ? SLUICE_HLS : [undefined]) {
        const port = freePort();
        const httpPort = freePort();
        const s = await startSluice(
          port,
          httpPort,
          serverPin,
          run ? `${run.flags} ${sluiceFlags}` : sluiceFlags,
        );
        const label = proto === "rtmp" ? "sluice" : `sluice ${proto}`;
        try {
          rows.push(
            proto === "hls"
              ? await measureHls(
                run!.label,
                s.pid,
                port,
                `http://127.0.0.1:${httpPort}/live/bench.m3u8`,
                n,
                seconds,
                flv,
                clientPin,
              )
              : await measure(label, s.pid, port, n, seconds, flv, clientPin, { proto, httpPort }),
          );
        } finally {
          await s.stop();
        }
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
    if (nginxHls) {
      const nport = freePort();
      const nhttp = freePort();
      const ng = await startNginx(nport, serverPin, nhttp);
      try {
        const url = `http://127.0.0.1:${nhttp}${NginxHls.location}bench.m3u8`;
        rows.push(await measureHls("nginx-rtmp hls", ng.pid, nport, url, n, seconds, flv, clientPin));
      } finally {
        await ng.stop();
      }
    }
  }
  printRows(rows);
  const names: Record<Proto, string> = {
    rtmp: "RTMP",
    http: "HTTP-FLV",
    ws: "WebSocket-FLV",
    hls: "HLS (fMP4)",
  };
  for (const n of ns) {
    const b = rows.find((r) => r.server === "sluice" && r.n === n);
    for (const proto of protos.filter((p) => p !== "rtmp")) {
      const a = rows.find((r) => r.server === `sluice ${proto}` && r.n === n);
      if (a && b) console.log(ratioLine(n, `${names[proto]}/RTMP`, a, b));
    }
  }
  if (nginx) {
    for (const n of ns) {
      const a = rows.find((r) => r.server === "sluice" && r.n === n);
      const b = rows.find((r) => r.server === "nginx-rtmp" && r.n === n);
      if (a && b) console.log(ratioLine(n, "sluice/nginx-rtmp", a, b));
    }
  }
  if (nginxHls) {
    for (const n of ns) {
      const b = rows.find((r) => r.server === "nginx-rtmp hls" && r.n === n);
      for (const { label } of SLUICE_HLS) {
        const a = rows.find((r) => r.server === label && r.n === n);
        if (a && b) {
          console.log(ratioLine(n, `${label}/nginx-rtmp hls`, a, b, NGINX_HLS_NOTE));
        }
      }
    }
  }
}

/** What the nginx-rtmp HLS ratio compares against. */
const NGINX_HLS_NOTE =
  " (nginx-rtmp's HLS: MPEG-TS files on disk, served by nginx's http module with sendfile)";
