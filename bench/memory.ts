/**
 * The memory mode of the live benchmark (`deno task bench memory`, or
 * `--memory`; issue 13): what a server's resident memory grows by per
 * connection, idle and playing, for Sluice over RTMP and over HTTP-FLV and
 * for nginx-rtmp over RTMP (with `--nms`, node-media-server over HTTP-FLV).
 *
 * Each figure is a difference of the server's RSS (VmRSS, the median of a few
 * samples) over N, in KB, on a server started for it alone (pinned to core 0
 * as in the live bench; the connections come from a process on core 1):
 *
 * - idle: the server with nothing, then with N idle connections
 *   (idle_conns.ts). Over RTMP an idle connection has done the handshake and
 *   `connect` (answered) and plays nothing. Over HTTP-FLV it is a player of a
 *   stream with no publisher: its GET is in, the server holds it waiting for
 *   a publisher (which is what an HTTP-FLV player holds before media, where
 *   an open socket with no request would measure only the HTTP listener).
 *   Sluice runs with `--start-timeout-ms` and `--play-wait-ms` long enough
 *   that neither ends them; the connections the server closed anyway are
 *   counted and shown.
 * - playing: the server with the publisher on and its GOP cached (and the
 *   probe player), then with N players of the live bench (players.ts, 20 ms
 *   sweeps of the fixed stream) once each has its first frame and a short
 *   window has passed (live.ts's measurement, whose kept-up count is shown).
 *
 * "RSS beyond the queued media": the admin API's GET /api/v1/clients is read
 * at the end of the playing window, and any numeric field of a session whose
 * name speaks of queued bytes is summed, so the figure can be taken net of
 * it. When no session has one the output says the API does not expose it.
 *
 * @module
 */
import { Label } from "./compare.ts";
import { measure, type PlayProto, startSluice } from "./live.ts";
import { startTaskFlags } from "./start_task.ts";
import { benchFlv, describeStream } from "./media.ts";
import { hasNginxRtmp, startNginx } from "./nginx.ts";
import { ensureNms, startNms } from "./nms.ts";
import { freePort, has, readUntil, rssMb, sleep, spawn, waitPort } from "./proc.ts";
import type { Row } from "./row.ts";
import { SWEEP_MS } from "./tally.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** N by default: the issue's 1,000 idle and 1,000 playing. */
const DEFAULT_N = 1000;
/** The playing window, s: long enough for queues to reach their steady state. */
const DEFAULT_SECONDS = 3;
/** Sluice's start timeout and play wait in this mode: the idle connections must outlast the sampling, ms. */
const HOLD_MS = 120_000;
/** From a server's start to its first sample, and from "open" to the sample with N, ms. */
const SETTLE_MS = 1_500;
/** RSS samples per figure (the median is taken), and the time between them, ms. */
const SAMPLES = 3;
const SAMPLE_GAP_MS = 300;
/** How long the idle connections may take to open, and to report after "stop", ms. */
const IDLE_WAIT_MS = 60_000;

/** A server under test, started afresh for each phase. */
interface Server {
  pid: number;
  rtmpPort: number;
  httpPort?: number;
  /** Sluice's admin API is on its HTTP port. */
  api: boolean;
  stop: () => Promise<void>;
}

/** One server and protocol of the mode. */
interface Subject {
  label: string;
  proto: Extract<PlayProto, "rtmp" | "http">;
  start: () => Promise<Server>;
}

/** What one subject measured. */
interface MemoryResult {
  label: string;
  idleBaseMb: number;
  idleMb: number;
  idleOpen: number;
  idleClosed: number;
  /** Sessions the admin API listed with the idle connections open (Sluice), else undefined. */
  idleListed?: number;
  playBaseMb: number;
  playMb: number;
  row: Row;
  queued: Queued;
}

/** The queued bytes the admin API reports, when it does. */
type Queued = { exposed: false; why: string } | { exposed: true; bytes: number; sessions: number };

/** The median of SAMPLES RSS samples of `pid`, MB. */
async function rssSample(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await sleep(SAMPLE_GAP_MS);
    xs.push(await rssMb(pid));
  }
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Whether a session field holds queued bytes, by its name (queuedBytes, queueBytes, bytesQueued, ...). */
export function isQueuedBytesField(name: string): boolean {
  return /queue/i.test(name) && /bytes/i.test(name);
}

/** Sums the queued-bytes fields of `clients` (GET /api/v1/clients' list); not exposed when none has one. */
export function sumQueued(clients: readonly Record<string, unknown>[]): Queued {
  let bytes = 0, sessions = 0;
  for (const c of clients) {
    const fields = Object.entries(c).filter(([k, v]) => isQueuedBytesField(k) && typeof v === "number");
    if (fields.length === 0) continue;
    sessions++;
    for (const [, v] of fields) bytes += v as number;
  }
  return sessions > 0 ? { exposed: true, bytes, sessions } : {
    exposed: false,
    why: "GET /api/v1/clients has no queued-bytes field (a session lists bytes, frames, drops, skips and " +
      "lag): the per-player figures include what each player's queue holds",
  };
}

/** The sessions of Sluice's admin API on `httpPort`. */
async function listClients(httpPort: number): Promise<Record<string, unknown>[]> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/clients`);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`Cannot list clients: current status ${res.status}, expected 200`);
  }
  return ((await res.json()) as { clients: Record<string, unknown>[] }).clients;
}

/** N idle connections to `url` from a process on `pin`, with the server's RSS before and with them. */
async function idlePhase(
  s: Subject,
  n: number,
  pin: string | undefined,
): Promise<Pick<MemoryResult, "idleBaseMb" | "idleMb" | "idleOpen" | "idleClosed" | "idleListed">> {
  const srv = await s.start();
  try {
    await sleep(SETTLE_MS);
    const idleBaseMb = await rssSample(srv.pid);
    const url = s.proto === "rtmp"
      ? `rtmp://127.0.0.1:${srv.rtmpPort}/live`
      : `http://127.0.0.1:${srv.httpPort}/live/idle.flv`;
    const idle = spawn(`deno run -A ${ROOT}bench/idle_conns.ts ${url} ${n}`, pin, { stdin: "piped" });
    idle.stderr.cancel();
    const out = idle.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let text = await readUntil(out, "", (t) => /open \d+ of/.test(t), IDLE_WAIT_MS, "the idle connections");
      await sleep(SETTLE_MS);
      const idleMb = await rssSample(srv.pid);
      const idleListed = srv.api ? (await listClients(srv.httpPort!)).length : undefined;
      const w = idle.stdin.getWriter();
      await w.write(new TextEncoder().encode("stop\n"));
      await w.close();
      text = await readUntil(
        out,
        text,
        (t) => t.split("\n").some((l) => l.startsWith("{") && l.endsWith("}")),
        IDLE_WAIT_MS,
        "the idle connections' report",
      );
      const report = JSON.parse(text.split("\n").find((l) => l.startsWith("{"))!) as {
        open: number;
        closedByServer: number;
        error?: string;
      };
      if (report.error) console.error(`${s.label} idle: a connection failed: ${report.error}`);
      return { idleBaseMb, idleMb, idleOpen: report.open, idleClosed: report.closedByServer, idleListed };
    } finally {
      try {
        idle.kill("SIGTERM");
      } catch {
        // exited
      }
      await idle.status;
    }
  } finally {
    await srv.stop();
  }
}

/** N players of the live bench, with the server's RSS with the publisher on and with the players. */
async function playPhase(
  s: Subject,
  n: number,
  seconds: number,
  flv: string,
  pin: string | undefined,
): Promise<Pick<MemoryResult, "playBaseMb" | "playMb" | "row" | "queued">> {
  const srv = await s.start();
  let playBaseMb = NaN, playMb = NaN;
  let queued: Queued = { exposed: false, why: "not Sluice: no admin API" };
  try {
    const row = await measure(s.label, srv.pid, srv.rtmpPort, n, seconds, flv, pin, {
      proto: s.proto,
      httpPort: srv.httpPort,
    }, {
      published: async () => {
        playBaseMb = await rssSample(srv.pid);
      },
      measured: async () => {
        playMb = await rssSample(srv.pid);
        if (srv.api) queued = sumQueued(await listClients(srv.httpPort!));
      },
    });
    return { playBaseMb, playMb, row, queued };
  } finally {
    await srv.stop();
  }
}

/** Sluice for this mode: RTMP and HTTP listening, idle connections held (HOLD_MS). */
function sluiceSubject(label: string, proto: Subject["proto"], pin: string | undefined, flags: string) {
  return {
    label,
    proto,
    start: async (): Promise<Server> => {
      const rtmpPort = freePort(), httpPort = freePort();
      const s = await startSluice(
        rtmpPort,
        httpPort,
        pin,
        `--start-timeout-ms ${HOLD_MS} --play-wait-ms ${HOLD_MS} ${flags}`,
      );
      await waitPort(httpPort);
      return { pid: s.pid, rtmpPort, httpPort, api: true, stop: s.stop };
    },
  };
}

const kb = (mb: number, n: number) => (((mb * 1024) / n).toFixed(1));

/** `deno task bench memory [--n 1000] [--seconds 3] [--no-nginx] [--nms] [--sluice-flags "..."]` */
export async function runMemory(args: string[]): Promise<void> {
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const n = Number(get("--n") ?? DEFAULT_N);
  const seconds = Number(get("--seconds") ?? DEFAULT_SECONDS);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`Cannot run the memory bench: current --n ${get("--n")}, expected one whole number >= 1`);
    Deno.exit(2);
  }
  const sluiceFlags = get("--sluice-flags") ?? "";
  const pinned = await has("taskset") && navigator.hardwareConcurrency >= 2;
  const serverPin = pinned ? "0" : undefined;
  const clientPin = pinned ? "1" : undefined;
  const subjects: Subject[] = [
    sluiceSubject(Label.SluiceRtmp, "rtmp", serverPin, sluiceFlags),
    sluiceSubject(Label.SluiceHttp, "http", serverPin, sluiceFlags),
  ];
  const notes: string[] = [];
  if (!args.includes("--no-nginx") && await hasNginxRtmp()) {
    subjects.push({
      label: Label.NginxRtmp,
      proto: "rtmp",
      start: async () => {
        const rtmpPort = freePort();
        const ng = await startNginx(rtmpPort, serverPin);
        return { pid: ng.pid, rtmpPort, api: false, stop: ng.stop };
      },
    });
  } else {
    notes.push("nginx-rtmp: not measured (--no-nginx, or not installed)");
  }
  if (args.includes("--nms")) {
    const ready = await ensureNms();
    if (ready.ok) {
      subjects.push({
        label: Label.NmsHttp,
        proto: "http",
        start: async () => {
          const rtmpPort = freePort(), httpPort = freePort();
          const nms = await startNms(rtmpPort, httpPort, serverPin);
          return { pid: nms.pid, rtmpPort, httpPort, api: false, stop: nms.stop };
        },
      });
    } else {
      notes.push(`${Label.NmsHttp}: n/a (${ready.why})`);
    }
  }
  const flv = await benchFlv(20);
  console.log(
    `memory bench: N=${n}, server RSS (VmRSS, median of ${SAMPLES} samples), a fresh server per phase, ${
      pinned ? "pinned to core 0, clients to core 1" : "not pinned (no taskset)"
    }\n` +
      `idle: RTMP = handshake + connect answered, no play; HTTP-FLV = a GET of a stream with no publisher, ` +
      `held waiting (Sluice: --start-timeout-ms ${HOLD_MS} --play-wait-ms ${HOLD_MS})\n` +
      `playing: the live bench's players (${SWEEP_MS} ms sweeps) of ${describeStream()}, sampled at the end ` +
      `of a ${seconds} s window once every player has its first frame; the base has the publisher and the probe\n` +
      `sluice runs as deno task start does: deno run ${startTaskFlags().join(" ")} server.ts`,
  );
  const results: MemoryResult[] = [];
  for (const s of subjects) {
    const idle = await idlePhase(s, n, clientPin);
    const play = await playPhase(s, n, seconds, flv, clientPin);
    results.push({ label: s.label, ...idle, ...play });
  }
  const w = Math.max(15, ...results.map((r) => r.label.length));
  console.log(
    `${"server".padEnd(w)}  idle: base MB  +N MB  KB/conn  open/closed  listed  ` +
      `play: base MB  +N MB  KB/player  kept-up  queued KB/player  net KB/player`,
  );
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  for (const r of results) {
    const q = r.queued;
    const queuedKb = q.exposed ? q.bytes / 1024 / n : NaN;
    const perPlayer = ((r.playMb - r.playBaseMb) * 1024) / n;
    console.log(
      `${r.label.padEnd(w)}  ${f(r.idleBaseMb, 1).padStart(13)}  ${
        f(r.idleMb - r.idleBaseMb, 1).padStart(5)
      }  ${kb(r.idleMb - r.idleBaseMb, n).padStart(7)}  ${`${r.idleOpen}/${r.idleClosed}`.padStart(11)}  ${
        f(r.idleListed ?? NaN).padStart(6)
      }  ${f(r.playBaseMb, 1).padStart(13)}  ${f(r.playMb - r.playBaseMb, 1).padStart(5)}  ${
        f(perPlayer, 1).padStart(9)
      }  ${`${r.row.keptUp}/${n}`.padStart(7)}  ${f(queuedKb, 1).padStart(16)}  ${
        f(perPlayer - queuedKb, 1).padStart(13)
      }`,
    );
  }
  const sluiceQueued = results.find((r) => r.label === Label.SluiceRtmp)?.queued;
  if (sluiceQueued && !sluiceQueued.exposed) notes.push(`queued media: ${sluiceQueued.why}`);
  for (const note of notes) console.log(note);
}
