/**
 * The live fan-out benchmark: one ffmpeg publisher (-re, looping the fixed
 * 1.1 Mbit/s H.264 + AAC stream of media.ts, 2 s GOP, over RTMP) and N
 * players on loopback, reading in 20 ms sweeps (tally.ts): RTMP players,
 * or with `--proto http` HTTP-FLV players, `--proto ws` WebSocket-FLV players,
 * `--proto rtsp` RTSP players (RTP over the RTSP connection, rtsp_player.ts)
 * (`--proto rtmp,http,ws,rtsp` runs each and compares them with RTMP). The server runs in its own
 * process pinned to core 0 with taskset (when there is taskset); publisher and
 * players run on core 1. For each N it prints players that kept up, delivered
 * Mbit/s, server CPU per delivered Mbit (and seconds per Gbit), lag and time to
 * first frame p50/p99, server RSS, and the players' process's share of its
 * core (past 85 % the load generator may be what holds delivery back). When
 * nginx with the RTMP module is installed, nginx-rtmp (one worker) is
 * measured the same way in the same run; it has no RTSP, so an RTSP run gets
 * an "n/a" row for it.
 *
 * `--compare` (issue 13) measures RTMP and HTTP-FLV players (unless `--proto`
 * says otherwise) and node-media-server (`--nms` alone adds it too): the bench
 * installs it from npm into bench/out/nms (nms.ts) and measures its HTTP-FLV
 * with the same publisher and players, on the same core; without node or npm
 * its row says why. At the end one line per N gives the ratios of CPU per
 * delivered Mbit, with lag and first-frame p99 beside each (compare.ts).
 * `deno task bench memory` (or `--memory`) is the memory mode (memory.ts).
 *
 * The window: the players join 2.5 s after the publisher starts (a GOP is
 * cached); once every player has its first frame (or failed) and SETTLE_MS
 * more have passed, the window opens for `--seconds`: the server's CPU time
 * from /proc and the media bytes the players received between the same two
 * instants, so a server whose players join slower is not charged for the
 * join, nor credited with a GOP burst.
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
import { compareLine, Label, type Missing } from "./compare.ts";
import { benchFlv, describeStream, probeBitRate } from "./media.ts";
import { hasNginxRtmp, NginxHls, startNginx } from "./nginx.ts";
import { ensureNms, startNms } from "./nms.ts";
import { cpuMs, freePort, has, pct, readUntil, rssMb, sleep, spawn, waitPort } from "./proc.ts";
import { notMeasured, printRows, ratioLine, type Row } from "./row.ts";
import { STANDARD_SWEEP_MS, SWEEP_MS } from "./tally.ts";
import { playersCommand, playersNote } from "./players_c.ts";
import { startTaskFlags } from "./start_task.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** A started Sluice: its pid and ports (RTMP, HTTP, RTSP). */
export interface Sluice {
  pid: number;
  rtspPort: number;
  stop: () => Promise<void>;
}

/** Starts Sluice; resolves once RTMP listens, and RTSP too with `rtsp` (RTSP players will come). */
export async function startSluice(
  port: number,
  httpPort: number,
  pin?: string,
  extra = "",
  rtsp = false,
): Promise<Sluice> {
  // RTSP on its own free port (not 8554, which another server may hold), UDP pairs from any free ports.
  const rtspPort = freePort();
  // BENCH_DENO_FLAGS: runtime flags for the server, such as "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const denoFlags = Deno.env.get("BENCH_DENO_FLAGS") ?? "";
  const startFlags = startTaskFlags().join(" ");
  const child = spawn(
    `deno run ${startFlags} ${denoFlags} ${ROOT}server.ts --host 127.0.0.1 --rtmp-port ${port} --http-port ${httpPort} ` +
      `--rtsp-host 127.0.0.1 --rtsp-port ${rtspPort} --rtsp-udp-port-first 0 --rtsp-udp-port-last 0 ` +
      `--log-level warn ${extra}`,
    pin,
  );
  child.stdout.cancel();
  const drain = child.stderr.pipeTo(new WritableStream());
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
    await drain.catch(() => {});
  };
  try {
    await waitPort(port);
    if (rtsp) await waitPort(rtspPort);
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: child.pid, rtspPort, stop };
}

/** The FLV players' protocol, and RTSP (rtsp_player.ts). */
export type PlayProto = "rtmp" | "http" | "ws" | "rtsp";
/** The players' protocol: FLV and RTSP players, or HLS players (hls_players.ts). */
type Proto = PlayProto | "hls";
/** Every --proto value. */
const PROTOS: readonly Proto[] = ["rtmp", "http", "ws", "rtsp", "hls"];

/** How long the probe may take to be ready, and the players' results past their run, ms. */
const PLAYERS_WAIT_MS = 30_000;
/** How long every player may take to its first frame after "go"; the window opens then, or after it, ms. */
const JOIN_WAIT_MS = 20_000;
/** From "every player has its first frame" to the window: the join's bursts are over, ms. */
const SETTLE_MS = 500;
/** The players' whole run may not pass this, s beyond the window and the join (a bound; "stop" ends it). */
const PLAYERS_SPARE_S = 10;
/** Past this share of a core (%) the players' process may be what holds delivery back. */
const CLIENT_BUSY_PCT = 85;

/**
 * What the memory mode (memory.ts) does inside a measurement: `published` once the publisher's GOP is
 * cached, before the players join; `measured` at the window's end, before the players stop.
 */
export interface MeasureHooks {
  published?: () => Promise<void>;
  measured?: () => Promise<void>;
}

/** One measurement: a server already listening on `port` (RTMP) and `play`'s port for the players. */
export async function measure(
  label: string,
  pid: number,
  port: number,
  n: number,
  seconds: number,
  flv: string,
  pin: string | undefined,
  // denoPlayers: the Deno players (players.ts) even where the C ones (players_c.ts) play.
  play: { proto: PlayProto; httpPort?: number; rtspPort?: number; denoPlayers?: boolean } = { proto: "rtmp" },
  hooks: MeasureHooks = {},
): Promise<Row> {
  const url = `rtmp://127.0.0.1:${port}/live/bench`;
  const playUrl = play.proto === "rtmp"
    ? url
    : play.proto === "rtsp"
    ? `rtsp://127.0.0.1:${play.rtspPort}/live/bench`
    : `${play.proto}://127.0.0.1:${play.httpPort}/live/bench.flv`;
  const bound = PLAYERS_SPARE_S + JOIN_WAIT_MS / 1000 + seconds;
  const players = spawn((await playersCommand(playUrl, n, bound, play.denoPlayers)).cmd, pin, {
    stdin: "piped",
  });
  const playersErr = players.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let errText = "";
  const errDone = (async () => {
    for (;;) {
      const { value, done } = await playersErr.read();
      if (done) return;
      if (errText.length < 4000) errText += value;
    }
  })();
  const out = players.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pub: Deno.ChildProcess | undefined;
  let pubErr: Promise<void> | undefined;
  try {
    let text = await readUntil(
      out,
      "",
      (t) => t.includes("probe ready") || t.includes("probe failed"),
      PLAYERS_WAIT_MS,
      `"probe ready" from the ${play.proto} players`,
    );
    if (!text.includes("probe ready")) {
      throw new Error(`Cannot start the ${play.proto} players: ${text.trim()}`);
    }
    await sleep(200);
    pub = spawn(`ffmpeg -hide_banner -v error -re -stream_loop -1 -i ${flv} -c copy -f flv ${url}`, pin);
    pubErr = pub.stderr.pipeTo(new WritableStream());
    pub.stdout.cancel();
    await sleep(2500); // a GOP is cached: joiners start at a keyframe
    await hooks.published?.();
    const w = players.stdin.getWriter();
    const say = (line: string) => w.write(new TextEncoder().encode(`${line}\n`));
    await say("go");
    // The window opens once every player plays (and the join's bursts are over), so it measures the
    // steady state, however long a server takes to its players' first frames.
    try {
      text = await readUntil(out, text, (t) => t.includes("\nplaying"), JOIN_WAIT_MS, "playing");
    } catch {
      console.error(`${label} N=${n}: not every player had its first frame ${JOIN_WAIT_MS} ms after go`);
    }
    await sleep(SETTLE_MS);
    // The window: server CPU and the players' bytes between the same two instants ("mark").
    const cpu0 = await cpuMs(pid);
    const client0 = await cpuMs(players.pid);
    await say("mark");
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpu1 = await cpuMs(pid);
    const client1 = await cpuMs(players.pid);
    await say("mark");
    const t1 = performance.now();
    await hooks.measured?.();
    await say("stop");
    await w.close();
    const rss = await rssMb(pid);
    text = await readUntil(
      out,
      text,
      // The results are one JSON line, read in pieces: wait for its end.
      (t) => t.split("\n").slice(0, -1).some((l) => l.startsWith("{")),
      PLAYERS_WAIT_MS,
      `the ${play.proto} players' results`,
    );
    const line = text.split("\n").find((l) => l.startsWith("{"))!;
    // BENCH_DUMP_DIR: the players' raw results, one JSON file per row, to study (time to first frame by join order).
    const dumpDir = Deno.env.get("BENCH_DUMP_DIR");
    if (dumpDir) await Deno.writeTextFile(`${dumpDir}/${label.replaceAll(" ", "_")}-${n}.json`, line);
    const { probe, players: results, windowBytes } = JSON.parse(line) as {
      probe: PlayerResult;
      players: PlayerResult[];
      windowBytes: number;
    };
    if (!(windowBytes >= 0)) throw new Error("Cannot read the window's bytes: the players saw no marks");
    // Delivered rate and CPU over the same window (not the players' whole run, whose join and GOP burst
    // differ between servers).
    const windowMbit = (windowBytes * 8) / 1e6;
    const mbps = windowMbit / ((t1 - t0) / 1000);
    const probeRate = probe.videoFrames / Math.max(1, (probe.lastTs - probe.firstTs) / 1000);
    const keptUp = results.filter((r) =>
      !r.error && r.videoFrames >= 0.99 * probeRate * ((r.lastTs - r.firstTs) / 1000) && r.lagMs < 1000
    ).length;
    const errors = results.filter((r) =>
      r.error
    );
    if (errors.length > 0) {
      console.error(`${label} N=${n}: ${errors.length} players failed, first: ${errors[0].error}`);
    }
    if (probe.error) console.error(`${label} N=${n}: the probe failed: ${probe.error}`);
    const clientPct = (100 * (client1.user + client1.sys - client0.user - client0.sys)) / (t1 - t0);
    if (clientPct > CLIENT_BUSY_PCT) {
      console.error(
        `${label} N=${n}: the players' process used ${clientPct.toFixed(0)} % of its core: ` +
          "delivery may be held back by the load generator, not the server",
      );
    }
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
      errors: errors.length,
      clientPct,
    };
  } catch (e) {
    throw new Error(
      `Cannot measure ${label} at N=${n}: ${e instanceof Error ? e.message : e}: ${errText.slice(0, 1000)}`,
    );
  } finally {
    try {
      players.kill("SIGTERM");
    } catch {
      // exited
    }
    await players.status;
    await errDone.catch(() => {});
    if (pub) {
      pub.kill("SIGTERM");
      await pub.status;
      await pubErr?.catch(() => {});
    }
  }
}

/** Sluice's HLS runs: each container, with the server flag that picks it. */
const SLUICE_HLS = [
  { label: "sluice hls", flags: "--hls-container fmp4" },
  { label: "sluice hls-ts", flags: "--hls-container ts" },
] as const;

/**
 * `deno task bench [live] [--n 100,500] [--seconds 10] [--proto rtmp|http|ws|rtsp|hls|rtmp,rtsp,...]
 * [--no-nginx] [--nms] [--compare] [--deno-players]`: the C players (players_c.ts) play RTMP and HTTP-FLV
 * when they build; `--deno-players` takes the Deno ones (players.ts), as ws and rtsp always do.
 */
export async function runLive(args: string[]): Promise<void> {
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const ns = (get("--n") ?? "100,500").split(",").map(Number);
  const seconds = Number(get("--seconds") ?? 10);
  const sluiceFlags = get("--sluice-flags") ?? "";
  const compare = args.includes("--compare");
  const denoPlayers = args.includes("--deno-players");
  const protos = (get("--proto") ?? (compare ? "rtmp,http" : "rtmp")).split(",") as Proto[];
  for (const p of protos) {
    if (!PROTOS.includes(p)) {
      console.error(
        `Cannot run bench with --proto ${p}: use ${PROTOS.join(", ")} or a list such as rtmp,rtsp`,
      );
      Deno.exit(2);
    }
  }
  const pinned = await has("taskset") && navigator.hardwareConcurrency >= 2;
  const serverPin = pinned ? "0" : undefined;
  const clientPin = pinned ? "1" : undefined;
  // nginx-rtmp serves RTMP players, and HLS players from the files its HLS module writes.
  const noNginx = args.includes("--no-nginx");
  const nginxOk = !noNginx && await hasNginxRtmp();
  const nginx = protos.includes("rtmp") && nginxOk;
  const nginxHls = protos.includes("hls") && nginxOk;
  // node-media-server: the HTTP-FLV peer, installed by the bench (npm) when asked for.
  const nmsWanted = (compare || args.includes("--nms")) && protos.includes("http");
  const nmsReady = nmsWanted ? await ensureNms() : undefined;
  const flv = await benchFlv(20);
  const playProtos = protos.filter((p) => p !== "hls");
  const sweepNote = SWEEP_MS === STANDARD_SWEEP_MS
    ? ""
    : ` (SWEEP_MS: not the standard ${STANDARD_SWEEP_MS})`;
  const players = [
    ...(playProtos.length > 0
      ? [
        `${playProtos.join(" and ")} players read in ${SWEEP_MS} ms sweeps${sweepNote}`,
        await playersNote(playProtos, denoPlayers),
      ]
      : []),
    ...(protos.includes("hls") ? ["HLS players load as hls.js does without LL-HLS"] : []),
  ].join(", ");
  const nginxWhy = noNginx ? "--no-nginx" : "nginx-rtmp not installed";
  const peer = nginx || nginxHls
    ? ", nginx-rtmp alongside"
    : nginxOk
    ? ", nginx-rtmp not measured (it plays RTMP and HLS only)"
    : `, nginx-rtmp not measured (${nginxWhy})`;
  const nmsPeer = nmsReady === undefined
    ? (compare || args.includes("--nms")
      ? ", node-media-server not measured (it plays HTTP-FLV: add http)"
      : "")
    : nmsReady.ok
    ? `, node-media-server ${nmsReady.version} (node ${nmsReady.node}) alongside`
    : `, node-media-server n/a (${nmsReady.why})`;
  console.log(
    `live bench: ${seconds} s window per run, ${players}, server ${
      pinned ? "pinned to core 0, clients to core 1" : "not pinned (no taskset)"
    }${peer}${nmsPeer}`,
  );
  console.log(
    `stream: ${describeStream(await probeBitRate(flv))}, published by ffmpeg -re -c copy over RTMP`,
  );
  console.log(`sluice runs as deno task start does: deno run ${startTaskFlags().join(" ")} server.ts`);
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
          proto === "rtsp",
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
              : await measure(label, s.pid, port, n, seconds, flv, clientPin, {
                proto,
                httpPort,
                rtspPort: s.rtspPort,
                denoPlayers,
              }),
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
        rows.push(
          await measure("nginx-rtmp", ng.pid, nport, n, seconds, flv, clientPin, {
            proto: "rtmp",
            denoPlayers,
          }),
        );
      } finally {
        await ng.stop();
      }
    }
    if (protos.includes("rtsp") && nginxOk) rows.push(notMeasured("nginx-rtmp rtsp", n, NO_NGINX_RTSP));
    if (nmsReady && !nmsReady.ok) rows.push(notMeasured(Label.NmsHttp, n, nmsReady.why));
    if (nmsReady?.ok) {
      const nport = freePort();
      const nhttp = freePort();
      const nms = await startNms(nport, nhttp, serverPin);
      try {
        rows.push(
          await measure(Label.NmsHttp, nms.pid, nport, n, seconds, flv, clientPin, {
            proto: "http",
            httpPort: nhttp,
            denoPlayers,
          }),
        );
      } finally {
        await nms.stop();
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
    rtsp: "RTSP",
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
      if (protos.includes("rtsp")) console.log(`N=${n}: sluice rtsp/nginx-rtmp n/a (${NO_NGINX_RTSP})`);
    }
  }
  if (nmsReady?.ok) {
    for (const n of ns) {
      const a = rows.find((r) => r.server === Label.SluiceHttp && r.n === n);
      const b = rows.find((r) => r.server === Label.NmsHttp && r.n === n);
      if (a && b) console.log(ratioLine(n, "sluice http/node-media-server http", a, b));
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
  if (compare) {
    const missing: Missing = {
      [Label.NginxRtmp]: nginxOk ? "no RTMP players: add rtmp to --proto" : nginxWhy,
      [Label.NmsHttp]: nmsReady === undefined ? "no HTTP-FLV players: add http to --proto" : undefined,
      [Label.SluiceRtmp]: "no RTMP players: add rtmp to --proto",
      [Label.SluiceHttp]: "no HTTP-FLV players: add http to --proto",
    };
    for (const n of ns) console.log(compareLine(rows, n, missing));
  }
}

/** Why nginx-rtmp has no RTSP row. */
const NO_NGINX_RTSP = "nginx-rtmp has no RTSP server";

/** What the nginx-rtmp HLS ratio compares against. */
const NGINX_HLS_NOTE =
  " (nginx-rtmp's HLS: MPEG-TS files on disk, served by nginx's http module with sendfile)";
