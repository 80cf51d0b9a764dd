/**
 * TranscodeJob: one stream defined as a transcode of another (ffserver's
 * per-stream encoding, nginx-rtmp's `exec`). While its source stream is live,
 * the job runs `ffmpeg`, which reads the source back from Sluice over local
 * RTMP (or HTTP-FLV) and publishes the result over local RTMP as a new stream.
 *
 * Policy:
 * - the job listens to the hub's stream events (`hub.on()`): the source's
 *   "publish" or "resume" starts ffmpeg (at once when the source is already
 *   live, or in its reconnect grace, when the job starts); the source's "end"
 *   stops it (SIGTERM, then SIGKILL after `killAfterMs`) and it stays off
 *   until the next publish. "unpublish" changes nothing: during the grace
 *   window ffmpeg stays attached as a player would;
 * - ffmpeg exiting while the source is live (or in grace) is restarted after
 *   a backoff: `restartMinMs`, doubled by each quick death up to
 *   `restartMaxMs`; a run longer than LONG_RUN_MS starts over from
 *   `restartMinMs`. Each exit is logged once, with its code and the delay;
 * - ffmpeg's stderr is read line by line (a line is cut at MAX_STDERR_LINE
 *   characters) and logged as warnings, at most `stderrLinesPerMinute` a
 *   minute per job; the rest are counted and the count logged once a minute
 *   ("N stderr lines not shown"). stdout is discarded, stdin is closed;
 * - a missing `--allow-run` (a permission query, then `NotCapable` from the
 *   spawn) or a missing binary (`NotFound`) is logged once as an error that
 *   says what to do, and is not retried until the source's next publish.
 *
 * The process is started through a `Spawn` function (default: Deno.Command),
 * which tests replace with a fake (STYLE 10).
 *
 * @module
 */
import { maskQuery } from "../hub/admission.ts";
import type { HubEventType } from "../hub/events.ts";
import type { StreamState } from "../hub/stream.ts";
import type { Logger } from "../log.ts";

/** One stream defined as a transcode of another (the config's `transcodes` list holds these). */
export interface TranscodeSpec {
  /** The output stream key, "app/name" (e.g. "feed/small"). */
  key: string;
  /** The source stream key, "app/name". */
  from: string;
  /** How ffmpeg reads the source; default "rtmp". */
  input?: TranscodeInput;
  /** ffmpeg video encoder name, default "libx264"; "copy" copies; "none" drops video (-vn). */
  videoCodec?: string;
  /** "WxH", e.g. "320x240" (scaled). */
  videoSize?: string;
  videoBitrateKbps?: number;
  videoFps?: number;
  /** Frames between keyframes (-g); default 2 s of frames (or a keyframe forced every 2 s). */
  videoGop?: number;
  /** ffmpeg audio encoder name, default "aac"; "copy" copies; "none" drops audio (-an). */
  audioCodec?: string;
  audioBitrateKbps?: number;
  audioSampleRate?: number;
  audioChannels?: number;
  /** Extra ffmpeg output options, inserted before the output format and URL. */
  args?: string[];
}

/** How ffmpeg reads a transcode's source from Sluice. */
export const TranscodeInput = {
  /** RTMP play, `rtmp://127.0.0.1:PORT/app/name`. */
  Rtmp: "rtmp",
  /** HTTP-FLV, `http://127.0.0.1:PORT/app/name.flv`. */
  HttpFlv: "http-flv",
} as const;
export type TranscodeInput = typeof TranscodeInput[keyof typeof TranscodeInput];

/** The settings every job shares (the config's `jobs` section). */
export interface JobsSettings {
  /** The ffmpeg command, default "ffmpeg". */
  ffmpeg: string;
  /** First restart delay, ms; doubles with each quick death. Default 1,000. */
  restartMinMs: number;
  /** Cap on the restart delay, ms. Default 30,000. */
  restartMaxMs: number;
  /** stderr lines logged per job per minute; the rest are counted. Default 30. */
  stderrLinesPerMinute: number;
}

/** The defaults of JobsSettings. */
export const DEFAULT_JOBS_SETTINGS: Readonly<JobsSettings> = {
  ffmpeg: "ffmpeg",
  restartMinMs: 1_000,
  restartMaxMs: 30_000,
  stderrLinesPerMinute: 30,
};

/** A run that lasted longer than this (ms) resets the restart delay to `restartMinMs`. */
export const LONG_RUN_MS = 30_000;
/** A stderr line longer than this is cut (with "…"). */
export const MAX_STDERR_LINE = 1_000;
/** Extra `args` entries a spec may have. */
export const MAX_EXTRA_ARGS = 64;
/** After SIGTERM, how long ffmpeg has to exit before SIGKILL, ms. */
export const DEFAULT_KILL_AFTER_MS = 2_000;
/** After the exit, how long stderr may stay open before it is cut off, ms. */
const STDERR_DRAIN_MS = 1_000;
/** The window of the stderr line budget, ms. */
const STDERR_WINDOW_MS = 60_000;
/** Keyframe interval when the spec gives neither videoGop nor videoFps, seconds. */
const KEYFRAME_EVERY_S = 2;

/** A started child process, as the job needs it. */
export interface JobProcess {
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly status: Promise<{ code: number; signal?: string | null }>;
  /** Its stderr; the job reads it to the end. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Sends a signal; may throw when the process is gone. */
  kill(signal: Deno.Signal): void;
}

/** Starts `cmd args`; throws as Deno.Command's spawn does (NotFound, NotCapable). */
export type Spawn = (cmd: string, args: string[]) => JobProcess;

/** Spawns with Deno.Command: stdin and stdout null, stderr piped. */
export const denoSpawn: Spawn = (cmd, args) => {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
  return {
    pid: child.pid,
    status: child.status.then((s) => ({ code: s.code, signal: s.signal })),
    stderr: child.stderr,
    kill: (signal) => child.kill(signal),
  };
};

/** Whether `cmd` may be run ("granted", "prompt" or "denied"); never prompts. */
export type RunPermissionQuery = (cmd: string) => Deno.PermissionState;

const queryRun: RunPermissionQuery = (cmd) => Deno.permissions.querySync({ name: "run", command: cmd }).state;

/** The side of the hub a job needs (StreamHub implements it; STYLE 10). */
export interface JobHub {
  /** Adds a stream event listener; returns its remover. */
  on(listener: (ev: { type: HubEventType; key: string }) => void): () => void;
  /** The stream of `key`, if it is live or in grace. */
  get(key: string): { readonly state: StreamState } | undefined;
}

/** What a job needs from the server. */
export interface TranscodeContext {
  settings: JobsSettings;
  hub: JobHub;
  /** "rtmp://127.0.0.1:PORT" of the running server (asked at each start of ffmpeg). */
  rtmpUrl: () => string;
  /** "http://127.0.0.1:PORT" of the running server. */
  httpUrl: () => string;
  /**
   * A query (without "?") put on ffmpeg's input and output URLs: the server's own credential for its jobs,
   * so access rules that ask players and publishers for keys do not refuse its transcodes. Default none.
   */
  urlQuery?: () => string;
  log: Logger;
  /** Starts the process; default denoSpawn (tests pass a fake). */
  spawn?: Spawn;
  /** The run permission query; default Deno.permissions.querySync (tests pass a fake). */
  queryRun?: RunPermissionQuery;
  /** Milliseconds, for run lengths and the stderr budget; default Date.now (tests pass a fake). */
  clock?: () => number;
  /** After SIGTERM, how long ffmpeg has before SIGKILL, ms; default DEFAULT_KILL_AFTER_MS. */
  killAfterMs?: number;
}

/** What a job is doing. */
export const JobState = {
  /** No ffmpeg: the source is not live (or the job is stopped). */
  Idle: "idle",
  /** ffmpeg is running. */
  Running: "running",
  /** ffmpeg exited while the source was live; a restart is due. */
  Backoff: "backoff",
  /** ffmpeg could not be started (permission, binary); waits for the source's next publish. */
  Failed: "failed",
} as const;
export type JobState = typeof JobState[keyof typeof JobState];

/** How ffmpeg last exited. */
export interface JobExit {
  code: number;
  /** The signal that ended it, if one did. */
  signal?: string;
  /** When, clock ms. */
  at: number;
  /** How long it ran, ms. */
  ranMs: number;
}

/** A job as plain data, for the admin side. */
export interface TranscodeStatus {
  key: string;
  from: string;
  state: JobState;
  /** ffmpeg's process id while it runs. */
  pid?: number;
  /** Starts after an unexpected exit. */
  restarts: number;
  lastExit?: JobExit;
  /** In backoff: the delay before the restart, ms. */
  restartInMs?: number;
  /** When failed: why. */
  error?: string;
}

/** Where ffmpeg reads from and publishes to. */
export interface FfmpegUrls {
  inputUrl: string;
  outputUrl: string;
}

/**
 * The ffmpeg argument list of a transcode (pure). Low latency live: no stdin,
 * no stats, warnings only; `-rtmp_live live` on an RTMP input; x264 `-preset
 * veryfast -tune zerolatency` (no B-frames, no lookahead) and yuv420p; the
 * bitrate as `-b:v` with `-maxrate` and a `-bufsize` of twice it; a keyframe
 * every `videoGop` frames, else every 2 s (`-g` of twice `videoFps`, or
 * `-force_key_frames`); FLV out without the duration/filesize rewrite.
 *
 * No `-fflags nobuffer` on the input: with it, ffmpeg drops the packets it
 * reads while probing the input, which from Sluice are the cached GOP's
 * keyframe and what follows; the decoder then warns ("co located POCs
 * unavailable", "mmco: unref short failure") and the first output frame
 * waits for the source's next keyframe (measured on ffmpeg 5.1: first frame
 * out after 1.1-2.1 s with it, 0.8-1.2 s without).
 */
export function ffmpegArgs(spec: TranscodeSpec, urls: FfmpegUrls): string[] {
  const args = ["-hide_banner", "-loglevel", "warning", "-nostdin", "-nostats"];
  if ((spec.input ?? TranscodeInput.Rtmp) === TranscodeInput.Rtmp) args.push("-rtmp_live", "live");
  args.push("-i", urls.inputUrl);
  args.push(...videoArgs(spec), ...audioArgs(spec), ...(spec.args ?? []));
  args.push("-f", "flv", "-flvflags", "no_duration_filesize", urls.outputUrl);
  return args;
}

function videoArgs(spec: TranscodeSpec): string[] {
  const codec = spec.videoCodec ?? "libx264";
  if (codec === "none") return ["-vn"];
  if (codec === "copy") return ["-c:v", "copy"];
  const out = ["-c:v", codec];
  if (codec === "libx264") out.push("-preset", "veryfast", "-tune", "zerolatency");
  out.push("-pix_fmt", "yuv420p");
  if (spec.videoSize !== undefined) {
    const [w, h] = spec.videoSize.split("x");
    out.push("-vf", `scale=${w}:${h}`);
  }
  if (spec.videoFps !== undefined) out.push("-r", String(spec.videoFps));
  if (spec.videoBitrateKbps !== undefined) {
    const kbps = spec.videoBitrateKbps;
    out.push("-b:v", `${kbps}k`, "-maxrate", `${kbps}k`, "-bufsize", `${kbps * 2}k`);
  }
  if (spec.videoGop !== undefined) out.push("-g", String(spec.videoGop));
  else if (spec.videoFps !== undefined) out.push("-g", String(Math.round(spec.videoFps * KEYFRAME_EVERY_S)));
  else out.push("-force_key_frames", `expr:gte(t,n_forced*${KEYFRAME_EVERY_S})`);
  return out;
}

function audioArgs(spec: TranscodeSpec): string[] {
  const codec = spec.audioCodec ?? "aac";
  if (codec === "none") return ["-an"];
  if (codec === "copy") return ["-c:a", "copy"];
  const out = ["-c:a", codec];
  if (spec.audioBitrateKbps !== undefined) out.push("-b:a", `${spec.audioBitrateKbps}k`);
  if (spec.audioSampleRate !== undefined) out.push("-ar", String(spec.audioSampleRate));
  if (spec.audioChannels !== undefined) out.push("-ac", String(spec.audioChannels));
  return out;
}

/** The URL ffmpeg reads a spec's source from, given the server's base URLs. */
export function inputUrlOf(spec: TranscodeSpec, rtmpUrl: string, httpUrl: string): string {
  return (spec.input ?? TranscodeInput.Rtmp) === TranscodeInput.HttpFlv
    ? `${httpUrl}/${spec.from}.flv`
    : `${rtmpUrl}/${spec.from}`;
}

/** `url` with `query` added (none when empty). */
function withQuery(url: string, query: string | undefined): string {
  return query ? `${url}${url.includes("?") ? "&" : "?"}${query}` : url;
}

const STREAM_KEY = /^[^/\s]+\/[^\s]+$/;
const VIDEO_SIZE = /^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$/;
const CODEC_NAME = /^[A-Za-z0-9_.-]+$/;
const VIDEO_ENCODER_OPTIONS = ["videoSize", "videoBitrateKbps", "videoFps", "videoGop"] as const;
const AUDIO_ENCODER_OPTIONS = ["audioBitrateKbps", "audioSampleRate", "audioChannels"] as const;
const POSITIVE_INTEGERS = [
  "videoBitrateKbps",
  "videoGop",
  "audioBitrateKbps",
  "audioSampleRate",
  "audioChannels",
] as const;

/** Checks one spec; a RangeError or TypeError names the setting and its value. */
export function validateSpec(spec: TranscodeSpec): void {
  const what = `Cannot use transcode ${typeof spec?.key === "string" ? spec.key : "?"}`;
  if (typeof spec !== "object" || spec === null) {
    throw new TypeError(`Cannot use transcode: current value is ${spec === null ? "null" : typeof spec}`);
  }
  for (const name of ["key", "from"] as const) {
    const v = spec[name];
    if (typeof v !== "string" || !STREAM_KEY.test(v)) {
      throw new RangeError(`${what}: ${name} is ${JSON.stringify(v)}, expected "app/name"`);
    }
  }
  if (spec.key === spec.from) throw new RangeError(`${what}: from is its own key`);
  if (spec.input !== undefined && !Object.values(TranscodeInput).includes(spec.input)) {
    throw new RangeError(`${what}: input is ${JSON.stringify(spec.input)}, expected "rtmp" or "http-flv"`);
  }
  for (const name of ["videoCodec", "audioCodec"] as const) {
    const v = spec[name];
    if (v !== undefined && (typeof v !== "string" || !CODEC_NAME.test(v))) {
      throw new RangeError(`${what}: ${name} is ${JSON.stringify(v)}, expected an ffmpeg encoder name`);
    }
  }
  if (
    spec.videoSize !== undefined && (typeof spec.videoSize !== "string" || !VIDEO_SIZE.test(spec.videoSize))
  ) {
    throw new RangeError(`${what}: videoSize is ${JSON.stringify(spec.videoSize)}, expected "WxH"`);
  }
  for (const name of POSITIVE_INTEGERS) {
    const v = spec[name];
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
      throw new RangeError(`${what}: ${name} is ${v}, expected a positive integer`);
    }
  }
  const fps = spec.videoFps;
  if (fps !== undefined && (typeof fps !== "number" || !Number.isFinite(fps) || fps <= 0 || fps > 1000)) {
    throw new RangeError(`${what}: videoFps is ${fps}, expected a number above 0 and at most 1000`);
  }
  checkEncoderOptions(spec, what, spec.videoCodec, VIDEO_ENCODER_OPTIONS, "videoCodec");
  checkEncoderOptions(spec, what, spec.audioCodec, AUDIO_ENCODER_OPTIONS, "audioCodec");
  if (spec.videoCodec === "none" && spec.audioCodec === "none") {
    throw new RangeError(`${what}: videoCodec and audioCodec are both "none", nothing to publish`);
  }
  if (spec.args !== undefined) {
    if (!Array.isArray(spec.args) || spec.args.some((a) => typeof a !== "string")) {
      throw new TypeError(`${what}: args is not a list of strings`);
    }
    if (spec.args.length > MAX_EXTRA_ARGS) {
      throw new RangeError(`${what}: args has ${spec.args.length} entries (limit ${MAX_EXTRA_ARGS})`);
    }
  }
}

function checkEncoderOptions(
  spec: TranscodeSpec,
  what: string,
  codec: string | undefined,
  options: readonly (keyof TranscodeSpec)[],
  codecName: string,
): void {
  if (codec !== "copy" && codec !== "none") return;
  const set = options.find((o) => spec[o] !== undefined);
  if (set) throw new RangeError(`${what}: ${set} needs an encoder, current ${codecName} is "${codec}"`);
}

/** Checks JobsSettings; a RangeError names the setting. */
export function validateSettings(s: JobsSettings): void {
  if (typeof s.ffmpeg !== "string" || s.ffmpeg === "") {
    throw new RangeError(`Cannot use jobs.ffmpeg: current value is ${JSON.stringify(s.ffmpeg)}`);
  }
  if (!Number.isFinite(s.restartMinMs) || s.restartMinMs <= 0) {
    throw new RangeError(
      `Cannot use jobs.restartMinMs: current value is ${s.restartMinMs}, expected above 0`,
    );
  }
  if (!Number.isFinite(s.restartMaxMs) || s.restartMaxMs < s.restartMinMs) {
    throw new RangeError(
      `Cannot use jobs.restartMaxMs: current value is ${s.restartMaxMs}, below restartMinMs ${s.restartMinMs}`,
    );
  }
  if (!Number.isInteger(s.stderrLinesPerMinute) || s.stderrLinesPerMinute < 0) {
    throw new RangeError(
      `Cannot use jobs.stderrLinesPerMinute: current value is ${s.stderrLinesPerMinute}, expected 0 or more`,
    );
  }
}

/** One running ffmpeg. */
interface Run {
  process: JobProcess;
  startedAt: number;
  /** Why the job is stopping it (undefined: not asked to stop). */
  stopping?: string;
  killTimer?: ReturnType<typeof setTimeout>;
  /** Settles once the process has exited and the job has handled it. */
  done: Promise<void>;
}

/** One transcode: ffmpeg run while its source is live. */
export class TranscodeJob {
  readonly spec: TranscodeSpec;
  readonly settings: JobsSettings;
  #ctx: TranscodeContext;
  #log: Logger;
  #spawn: Spawn;
  #queryRun: RunPermissionQuery;
  #clock: () => number;
  #killAfterMs: number;
  #started = false;
  #off: (() => void) | undefined;
  /** The source is live or in its grace window. */
  #sourceLive = false;
  #run: Run | undefined;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last restart delay used (0: none since the last reset). */
  #delayMs = 0;
  #state: JobState = JobState.Idle;
  #restarts = 0;
  #lastExit: JobExit | undefined;
  /** The last start failure logged, so that it is logged once. */
  #error: string | undefined;
  // The stderr budget: lines shown in the current window, lines dropped, and the window's start.
  #shown = 0;
  #dropped = 0;
  #windowStart = -Infinity;
  #dropTimer: ReturnType<typeof setTimeout> | undefined;

  /** Checks the spec and settings (RangeError, TypeError) and copies them; starts nothing. */
  constructor(spec: TranscodeSpec, ctx: TranscodeContext) {
    validateSpec(spec);
    validateSettings(ctx.settings);
    // Copies: a caller that changes its config objects in place (a reload) does not change a running job.
    this.spec = structuredClone(spec);
    this.settings = { ...ctx.settings };
    this.#ctx = ctx;
    this.#log = ctx.log.child(spec.key);
    this.#spawn = ctx.spawn ?? denoSpawn;
    this.#queryRun = ctx.queryRun ?? queryRun;
    this.#clock = ctx.clock ?? Date.now;
    this.#killAfterMs = ctx.killAfterMs ?? DEFAULT_KILL_AFTER_MS;
  }

  /** The job as plain data. */
  get status(): TranscodeStatus {
    const s: TranscodeStatus = {
      key: this.spec.key,
      from: this.spec.from,
      state: this.#state,
      restarts: this.#restarts,
    };
    if (this.#run) s.pid = this.#run.process.pid;
    if (this.#lastExit) s.lastExit = { ...this.#lastExit };
    if (this.#state === JobState.Backoff) s.restartInMs = this.#delayMs;
    if (this.#state === JobState.Failed && this.#error) s.error = this.#error;
    return s;
  }

  /** Listens for the source; runs ffmpeg at once when the source is already live. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#off = this.#ctx.hub.on((ev) => this.#onEvent(ev.type, ev.key));
    const source = this.#ctx.hub.get(this.spec.from);
    this.#sourceLive = source !== undefined && source.state !== "ended";
    if (this.#sourceLive) this.#launch();
  }

  /** Stops listening and stops ffmpeg; resolves when the process is gone. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#off?.();
    this.#off = undefined;
    this.#cancelRestart();
    const run = this.#run;
    if (run) {
      this.#terminate(run, "job stopped");
      await run.done;
    }
    this.#reportDropped();
    this.#state = JobState.Idle;
  }

  #onEvent(type: HubEventType, key: string): void {
    if (key !== this.spec.from || !this.#started) return;
    if (type === "publish" || type === "resume") {
      this.#sourceLive = true;
      if (this.#run || this.#restartTimer !== undefined) return; // running, or a restart is due anyway
      this.#delayMs = 0;
      this.#launch();
    } else if (type === "end") {
      this.#sourceLive = false;
      this.#delayMs = 0;
      this.#cancelRestart();
      if (this.#run) this.#terminate(this.#run, `source ${this.spec.from} ended`);
      else if (this.#state === JobState.Backoff) this.#state = JobState.Idle; // "failed" stays, for the admin
    }
  }

  /** Starts ffmpeg when it should run; a failure to start is logged once and waits for the next publish. */
  #launch(): void {
    if (!this.#started || !this.#sourceLive || this.#run) return;
    const cmd = this.settings.ffmpeg;
    const what = `Cannot run transcode ${this.spec.key}`;
    const noRun = `${what}: ${cmd} needs --allow-run (deno run --allow-run=${cmd} ...)`;
    if (this.#queryRun(cmd) !== "granted") return this.#failed(noRun);
    const urls = {
      inputUrl: withQuery(
        inputUrlOf(this.spec, this.#ctx.rtmpUrl(), this.#ctx.httpUrl()),
        this.#ctx.urlQuery?.(),
      ),
      outputUrl: withQuery(`${this.#ctx.rtmpUrl()}/${this.spec.key}`, this.#ctx.urlQuery?.()),
    };
    let process: JobProcess;
    try {
      process = this.#spawn(cmd, ffmpegArgs(this.spec, urls));
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) return this.#failed(noRun);
      if (e instanceof Deno.errors.NotFound) {
        return this.#failed(`${what}: ${cmd} was not found on PATH; install ffmpeg or set jobs.ffmpeg`);
      }
      return this.#failed(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#error = undefined;
    this.#state = JobState.Running;
    const run: Run = { process, startedAt: this.#clock(), done: Promise.resolve() };
    run.done = this.#watch(run);
    this.#run = run;
    // The URLs carry the job's internal key (`urlQuery`): the log shows it masked, as every logged URL.
    this.#log.info(`started ${cmd} (pid ${process.pid}): ${maskQuery(urls.inputUrl)} -> ${this.spec.key}`);
  }

  #failed(message: string): void {
    this.#state = JobState.Failed;
    if (message === this.#error) {
      this.#log.debug(message);
      return;
    }
    this.#error = message;
    this.#log.error(message);
  }

  /** Reads stderr, waits for the exit, and decides what comes next (idle, or a restart after a backoff). */
  async #watch(run: Run): Promise<void> {
    const reader = run.process.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = this.#readStderr(reader);
    let status: { code: number; signal?: string | null };
    try {
      status = await run.process.status;
    } catch (e) {
      status = { code: -1, signal: e instanceof Error ? e.message : String(e) };
    }
    clearTimeout(run.killTimer);
    // stderr ends with the process, unless something it started holds it open: then it is cut off.
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      stderr.then(() => true),
      new Promise<boolean>((resolve) => drainTimer = setTimeout(() => resolve(false), STDERR_DRAIN_MS)),
    ]);
    clearTimeout(drainTimer);
    if (!drained) {
      await reader.cancel().catch(() => {});
      await stderr;
    }
    this.#run = undefined;
    const ranMs = Math.max(0, this.#clock() - run.startedAt);
    const exit: JobExit = { code: status.code, at: this.#clock(), ranMs };
    if (status.signal) exit.signal = status.signal;
    this.#lastExit = exit;
    const how = `${this.settings.ffmpeg} (pid ${run.process.pid}) exited with code ${status.code}${
      status.signal ? ` (${status.signal})` : ""
    } after ${(ranMs / 1000).toFixed(1)} s`;
    if (run.stopping !== undefined || !this.#started || !this.#sourceLive) {
      this.#log.info(`${how}: ${run.stopping ?? `source ${this.spec.from} ended`}`);
      this.#state = JobState.Idle;
      this.#launch(); // the source was published again while ffmpeg was stopping
      return;
    }
    const { restartMinMs, restartMaxMs } = this.settings;
    this.#delayMs = ranMs > LONG_RUN_MS || this.#delayMs === 0
      ? restartMinMs
      : Math.min(this.#delayMs * 2, restartMaxMs);
    this.#log.warn(`${how}; restarting in ${this.#delayMs} ms`);
    this.#state = JobState.Backoff;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts++;
      this.#launch();
    }, this.#delayMs);
  }

  #cancelRestart(): void {
    if (this.#restartTimer === undefined) return;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  /** SIGTERM now, SIGKILL after killAfterMs. */
  #terminate(run: Run, reason: string): void {
    if (run.stopping !== undefined) return;
    run.stopping = reason;
    signal(run.process, "SIGTERM");
    run.killTimer = setTimeout(() => signal(run.process, "SIGKILL"), this.#killAfterMs);
  }

  /** Reads stderr to its end, line by line (on \n or \r), each cut at MAX_STDERR_LINE characters. */
  async #readStderr(reader: ReadableStreamDefaultReader<string>): Promise<void> {
    let buf = "";
    /** The current line was cut: its rest is skipped up to the next line break. */
    let skipping = false;
    try {
      while (true) {
        const { value: chunk, done } = await reader.read();
        if (done) break;
        buf += chunk;
        while (true) {
          const nl = buf.search(/[\r\n]/);
          if (nl < 0) break;
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!skipping) this.#stderrLine(line);
          skipping = false;
        }
        if (buf.length > MAX_STDERR_LINE) {
          if (!skipping) this.#stderrLine(buf);
          skipping = true;
          buf = "";
        }
      }
    } catch (e) {
      this.#log.debug(`stderr read failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (buf !== "" && !skipping) this.#stderrLine(buf);
  }

  /**
   * Logs one stderr line within the per-minute budget, or counts it. ffmpeg names its input and output URLs
   * in its messages, and they carry the job's internal key: the line is logged with the key masked.
   */
  #stderrLine(raw: string): void {
    const cut = raw.length > MAX_STDERR_LINE ? `${raw.slice(0, MAX_STDERR_LINE)}…` : raw.trimEnd();
    const line = maskQuery(cut);
    if (line === "") return;
    const now = this.#clock();
    if (now - this.#windowStart >= STDERR_WINDOW_MS) {
      this.#reportDropped();
      this.#windowStart = now;
      this.#shown = 0;
    }
    if (this.#shown < this.settings.stderrLinesPerMinute) {
      this.#shown++;
      this.#log.warn(`${this.settings.ffmpeg}: ${line}`);
      return;
    }
    this.#dropped++;
    // The count is logged when the window ends, even when ffmpeg says nothing more.
    this.#dropTimer ??= setTimeout(() => {
      this.#dropTimer = undefined;
      this.#reportDropped();
    }, Math.max(0, this.#windowStart + STDERR_WINDOW_MS - now));
  }

  #reportDropped(): void {
    clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
    if (this.#dropped === 0) return;
    const n = this.#dropped;
    this.#dropped = 0;
    this.#log.warn(
      `${n} stderr line${
        n === 1 ? "" : "s"
      } not shown (limit ${this.settings.stderrLinesPerMinute} a minute)`,
    );
  }
}

function signal(p: JobProcess, sig: Deno.Signal): void {
  try {
    p.kill(sig);
  } catch {
    // already exited
  }
}
