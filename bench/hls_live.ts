/**
 * One HLS measurement of the live benchmark: a server already listening, the
 * publisher (ffmpeg -re over RTMP, as for the other protocols) and N light
 * HLS players (hls_players.ts) on the clients' core. The players' probe waits
 * until the playlist holds a live window; then the players join, and after
 * HLS_WARM_S (their first segments are in) the window opens: the server's
 * CPU time from /proc and the bytes the players received inside it, so CPU
 * per delivered Mbit counts playlists, init sections and segments alike.
 *
 * @module
 */
import type { HlsPlayerResult } from "./hls_players.ts";
import { cpuMs, pct, rssMb, sleep, spawn } from "./proc.ts";
import type { Row } from "./row.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Seconds from "go" to the window: players join and load their first LIVE_SYNC_SEGMENTS segments. */
export const HLS_WARM_S = 5;
/** Seconds the players run past the window. */
const TAIL_S = 2;
/** The players' join, ms: they join over a target duration (2 s here) and load their first segments. */
const JOIN_MS = 2_500;
/** Past this share of a core (%) the players' process may be what holds delivery back. */
const CLIENT_BUSY_PCT = 85;
/** How long the probe may take to see a live window (publisher start, 3 segments), ms. */
const LIVE_WAIT_MS = 30_000;

/** Reads `out` until a line `line` came; returns what was read. */
async function until(out: ReadableStreamDefaultReader<string>, text: string, line: string, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((res) => timer = setTimeout(() => res(undefined), ms));
  try {
    while (!text.split("\n").includes(line)) {
      const next = await Promise.race([out.read(), timeout]);
      if (next === undefined) throw new Error(`Cannot start HLS players: no "${line}" within ${ms} ms`);
      if (next.done) throw new Error(`Cannot start HLS players: they exited: ${text.slice(0, 500)}`);
      text += next.value;
    }
  } finally {
    clearTimeout(timer);
  }
  return text;
}

/**
 * Measures a server whose RTMP ingest is on `rtmpPort` and whose HLS playlist is `playUrl` (a multivariant
 * or a media playlist), with `n` players over a `seconds` window.
 */
export async function measureHls(
  label: string,
  pid: number,
  rtmpPort: number,
  playUrl: string,
  n: number,
  seconds: number,
  flv: string,
  pin: string | undefined,
): Promise<Row> {
  const url = `rtmp://127.0.0.1:${rtmpPort}/live/bench`;
  const players = spawn(
    `deno run -A ${ROOT}bench/hls_players.ts ${playUrl} ${n} ${HLS_WARM_S + seconds + TAIL_S}`,
    pin,
    { stdin: "piped" },
  );
  const errText = new Response(players.stderr).text();
  const out = players.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const w = players.stdin.getWriter();
  const say = (line: string) => w.write(new TextEncoder().encode(`${line}\n`));
  let pub: Deno.ChildProcess | undefined;
  let pubErr: Promise<void> | undefined;
  try {
    let text = await until(out, "", "probe ready", LIVE_WAIT_MS);
    pub = spawn(`ffmpeg -hide_banner -v error -re -stream_loop -1 -i ${flv} -c copy -f flv ${url}`, pin);
    pubErr = pub.stderr.pipeTo(new WritableStream());
    pub.stdout.cancel();
    text = await until(out, text, "live", LIVE_WAIT_MS);
    await say("go");
    const clientGo = await cpuMs(players.pid);
    const tGo = performance.now();
    await sleep(JOIN_MS);
    const clientJoined = await cpuMs(players.pid);
    const tJoined = performance.now();
    await sleep(HLS_WARM_S * 1000 - (tJoined - tGo));
    await say("mark");
    const cpu0 = await cpuMs(pid);
    const client0 = await cpuMs(players.pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpu1 = await cpuMs(pid);
    const client1 = await cpuMs(players.pid);
    const t1 = performance.now();
    await say("mark");
    const rss = await rssMb(pid);
    await w.close();
    while (true) {
      const { value, done } = await out.read();
      if (done) break;
      text += value;
    }
    await players.status;
    const line = text.split("\n").find((l) => l.startsWith("{"));
    if (!line) {
      throw new Error(
        `HLS players printed no results: ${text.slice(0, 500)} ${(await errText).slice(0, 500)}`,
      );
    }
    const { players: results } = JSON.parse(line) as { probe: HlsPlayerResult; players: HlsPlayerResult[] };
    const windowMbit = (results.reduce((s, r) => s + r.windowBytes, 0) * 8) / 1e6;
    const cpu = cpu1.user + cpu1.sys - cpu0.user - cpu0.sys;
    const ttff = results.map((r) => r.firstSegmentMs).filter((x) => x >= 0);
    const lags = results.map((r) => r.lagMs).filter((x): x is number => x !== null);
    const busy = (a: { user: number; sys: number }, b: { user: number; sys: number }, ms: number) =>
      (100 * (b.user + b.sys - a.user - a.sys)) / ms;
    const joinPct = busy(clientGo, clientJoined, tJoined - tGo);
    const windowPct = busy(client0, client1, t1 - t0);
    if (joinPct > CLIENT_BUSY_PCT || windowPct > CLIENT_BUSY_PCT) {
      console.error(
        `${label} N=${n}: the players used ${joinPct.toFixed(0)}% of their core while joining, ${
          windowPct.toFixed(0)
        }% in the window: TTFF or delivery may be client-bound`,
      );
    }
    const failed = results.find((r) => r.error);
    if (failed) console.error(`${label} N=${n}: a player failed: ${failed.error}`);
    return {
      server: label,
      n,
      keptUp: results.filter((r) => r.keptUp).length,
      mbps: windowMbit / ((t1 - t0) / 1000),
      cpuMsPerMbit: cpu / windowMbit,
      sysPct: (100 * (cpu1.sys - cpu0.sys)) / Math.max(1, cpu),
      ttffP50: pct(ttff, 50),
      ttffP99: pct(ttff, 99),
      lagP50: pct(lags, 50),
      lagP99: pct(lags, 99),
      rssMb: rss,
      errors: results.filter((r) => r.error).length,
    };
  } finally {
    try {
      players.kill("SIGTERM");
    } catch {
      // exited
    }
    await players.status;
    await errText.catch(() => "");
    if (pub) {
      pub.kill("SIGTERM");
      await pub.status;
      await pubErr?.catch(() => {});
    }
  }
}
