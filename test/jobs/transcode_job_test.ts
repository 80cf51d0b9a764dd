/**
 * TranscodeJob and ffmpegArgs(): the argument lists asserted exactly, and the
 * job's life (start with the source, stop at its end, restart with a backoff,
 * the stderr budget, a missing binary or permission) over a real StreamHub
 * with fake publishers and a fake process spawner; one test runs real
 * processes through Deno.Command.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../_util/assert.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import {
  DEFAULT_JOBS_SETTINGS,
  ffmpegArgs,
  inputUrlOf,
  type JobProcess,
  type JobsSettings,
  LONG_RUN_MS,
  MAX_STDERR_LINE,
  type Spawn,
  type TranscodeContext,
  TranscodeJob,
  type TranscodeSpec,
  validateSettings,
  validateSpec,
} from "../../src/jobs/transcode_job.ts";

const URLS = { inputUrl: "rtmp://127.0.0.1:1935/live/cam", outputUrl: "rtmp://127.0.0.1:1935/live/small" };
const HEAD = ["-hide_banner", "-loglevel", "warning", "-nostdin", "-nostats"];
const X264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"];
const TAIL = ["-f", "flv", "-flvflags", "no_duration_filesize", URLS.outputUrl];
const RTMP_IN = ["-rtmp_live", "live", "-i", URLS.inputUrl];
const FORCED_KEYS = ["-force_key_frames", "expr:gte(t,n_forced*2)"];

Deno.test("ffmpegArgs() of a bare spec reads RTMP live and encodes x264 zerolatency + AAC with a keyframe every 2 s", () => {
  assertEquals(ffmpegArgs({ key: "live/small", from: "live/cam" }, URLS), [
    ...HEAD,
    ...RTMP_IN,
    ...X264,
    ...FORCED_KEYS,
    "-c:a",
    "aac",
    ...TAIL,
  ]);
});

Deno.test("ffmpegArgs() puts size, bitrate, fps, GOP, audio options and extra args in place", () => {
  const spec: TranscodeSpec = {
    key: "live/small",
    from: "live/cam",
    videoSize: "320x240",
    videoBitrateKbps: 300,
    videoFps: 15,
    videoGop: 45,
    audioBitrateKbps: 64,
    audioSampleRate: 44100,
    audioChannels: 1,
    args: ["-profile:v", "baseline"],
  };
  assertEquals(ffmpegArgs(spec, URLS), [
    ...HEAD,
    ...RTMP_IN,
    ...X264,
    "-vf",
    "scale=320:240",
    "-r",
    "15",
    "-b:v",
    "300k",
    "-maxrate",
    "300k",
    "-bufsize",
    "600k",
    "-g",
    "45",
    "-c:a",
    "aac",
    "-b:a",
    "64k",
    "-ar",
    "44100",
    "-ac",
    "1",
    "-profile:v",
    "baseline",
    ...TAIL,
  ]);
});

Deno.test("ffmpegArgs() with a frame rate and no GOP sets -g to 2 s of frames", () => {
  const args = ffmpegArgs({ key: "live/small", from: "live/cam", videoFps: 12.5 }, URLS);
  assertEquals(args.slice(HEAD.length + RTMP_IN.length), [
    ...X264,
    "-r",
    "12.5",
    "-g",
    "25",
    "-c:a",
    "aac",
    ...TAIL,
  ]);
});

Deno.test("ffmpegArgs() copies video and drops audio; drops video and copies audio; HTTP-FLV input has no rtmp_live", () => {
  const http = { ...URLS, inputUrl: "http://127.0.0.1:8080/live/cam.flv" };
  assertEquals(
    ffmpegArgs(
      { key: "live/v", from: "live/cam", videoCodec: "copy", audioCodec: "none", input: "http-flv" },
      http,
    ),
    [...HEAD, "-i", http.inputUrl, "-c:v", "copy", "-an", ...TAIL],
  );
  assertEquals(
    ffmpegArgs({ key: "live/a", from: "live/cam", videoCodec: "none", audioCodec: "copy" }, URLS),
    [...HEAD, ...RTMP_IN, "-vn", "-c:a", "copy", ...TAIL],
  );
});

Deno.test("ffmpegArgs() with another video encoder sets no x264 preset or tune", () => {
  const args = ffmpegArgs({
    key: "live/o",
    from: "live/cam",
    videoCodec: "libopenh264",
    audioCodec: "libopus",
  }, URLS);
  assertEquals(args.slice(HEAD.length + RTMP_IN.length), [
    "-c:v",
    "libopenh264",
    "-pix_fmt",
    "yuv420p",
    ...FORCED_KEYS,
    "-c:a",
    "libopus",
    ...TAIL,
  ]);
});

Deno.test("inputUrlOf() names the RTMP play URL by default and the .flv URL for http-flv", () => {
  const spec: TranscodeSpec = { key: "live/small", from: "live/cam" };
  assertEquals(inputUrlOf(spec, "rtmp://127.0.0.1:1", "http://127.0.0.1:2"), "rtmp://127.0.0.1:1/live/cam");
  assertEquals(
    inputUrlOf({ ...spec, input: "http-flv" }, "rtmp://127.0.0.1:1", "http://127.0.0.1:2"),
    "http://127.0.0.1:2/live/cam.flv",
  );
});

Deno.test("validateSpec() refuses bad keys, its own key as source, bad sizes and encoder options with copy or none", () => {
  const base: TranscodeSpec = { key: "live/small", from: "live/cam" };
  const bad: [Partial<TranscodeSpec> & Record<string, unknown>, RegExp][] = [
    [{ key: "small" }, /^Cannot use transcode small: key is "small", expected "app\/name"$/],
    [{ from: "live/" }, /from is "live\/", expected "app\/name"/],
    [{ from: "live/small" }, /^Cannot use transcode live\/small: from is its own key$/],
    [{ input: "rtsp" as never }, /input is "rtsp"/],
    [{ videoSize: "320*240" }, /videoSize is "320\*240", expected "WxH"/],
    [{ videoBitrateKbps: 0 }, /videoBitrateKbps is 0, expected a positive integer/],
    [{ videoFps: -1 }, /videoFps is -1/],
    [
      { videoCodec: "copy", videoSize: "320x240" },
      /videoSize needs an encoder, current videoCodec is "copy"/,
    ],
    [
      { audioCodec: "none", audioBitrateKbps: 64 },
      /audioBitrateKbps needs an encoder, current audioCodec is "none"/,
    ],
    [{ videoCodec: "none", audioCodec: "none" }, /both "none", nothing to publish/],
    [{ videoCodec: "lib x264" }, /videoCodec is "lib x264"/],
    [{ args: new Array(65).fill("-y") }, /args has 65 entries \(limit 64\)/],
  ];
  for (const [change, re] of bad) {
    const e = assertThrows(() => validateSpec({ ...base, ...change } as TranscodeSpec));
    assertMatch(e.message, re);
  }
  validateSpec({ ...base, videoCodec: "copy", audioCodec: "copy", input: "http-flv" });
});

Deno.test("validateSettings() refuses an empty command, a zero delay, a cap below it and a negative budget", () => {
  const ok = { ...DEFAULT_JOBS_SETTINGS };
  validateSettings(ok);
  assertMatch(assertThrows(() => validateSettings({ ...ok, ffmpeg: "" })).message, /^Cannot use jobs.ffmpeg/);
  assertMatch(assertThrows(() => validateSettings({ ...ok, restartMinMs: 0 })).message, /restartMinMs/);
  assertMatch(
    assertThrows(() => validateSettings({ ...ok, restartMaxMs: 500 })).message,
    /restartMaxMs: current value is 500, below restartMinMs 1000/,
  );
  assertMatch(
    assertThrows(() => validateSettings({ ...ok, stderrLinesPerMinute: -1 })).message,
    /stderrLines/,
  );
});

// ---------------------------------------------------------------------------------------------
// The job, with a fake spawner

/** A child process the test drives: it writes stderr lines and exits when told (or when signalled). */
class FakeProcess implements JobProcess {
  readonly pid: number;
  readonly status: Promise<{ code: number; signal?: string | null }>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly signals: string[] = [];
  /** SIGTERM is ignored (only SIGKILL ends it). */
  ignoreTerm = false;
  exited = false;
  #resolve!: (s: { code: number; signal?: string | null }) => void;
  #out!: ReadableStreamDefaultController<Uint8Array>;

  constructor(pid: number) {
    this.pid = pid;
    this.status = new Promise((resolve) => this.#resolve = resolve);
    this.stderr = new ReadableStream({ start: (c) => void (this.#out = c) });
  }

  write(text: string): void {
    this.#out.enqueue(new TextEncoder().encode(text));
  }

  exit(code: number, signal: string | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.#out.close();
    this.#resolve({ code, signal });
  }

  kill(signal: Deno.Signal): void {
    if (this.exited) throw new TypeError("Child process has already terminated");
    this.signals.push(signal);
    if (signal === "SIGTERM" && this.ignoreTerm) return;
    this.exit(signal === "SIGKILL" ? 137 : 255, signal);
  }
}

/** Records every spawn and hands out FakeProcesses (or throws `failWith`). */
class FakeSpawner {
  readonly calls: { cmd: string; args: string[] }[] = [];
  readonly procs: FakeProcess[] = [];
  failWith: Error | undefined;
  readonly spawn: Spawn = (cmd, args) => {
    this.calls.push({ cmd, args });
    if (this.failWith) throw this.failWith;
    const p = new FakeProcess(1000 + this.procs.length);
    this.procs.push(p);
    return p;
  };

  get last(): FakeProcess {
    return this.procs[this.procs.length - 1];
  }
}

interface Env {
  hub: StreamHub;
  log: RecordingLogger;
  spawner: FakeSpawner;
  clock: { now: number };
  job: TranscodeJob;
  /** Publishes the source (live/cam); returns the function that unpublishes it. */
  publishSource(): () => void;
}

const FAST: JobsSettings = { ffmpeg: "ffmpeg", restartMinMs: 5, restartMaxMs: 20, stderrLinesPerMinute: 30 };

/** Runs `fn` with a hub (grace `graceMs`), a fake spawner and a job live/small <- live/cam; stops all afterwards. */
async function withJob(
  fn: (env: Env) => Promise<void> | void,
  o: { settings?: Partial<JobsSettings>; graceMs?: number; ctx?: Partial<TranscodeContext> } = {},
): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: o.graceMs ?? 0 }, log);
  const spawner = new FakeSpawner();
  const clock = { now: 1_000_000 };
  const job = new TranscodeJob({ key: "live/small", from: "live/cam", videoSize: "320x240" }, {
    settings: { ...FAST, ...o.settings },
    hub,
    rtmpUrl: () => "rtmp://127.0.0.1:1935",
    httpUrl: () => "http://127.0.0.1:8080",
    log,
    spawn: spawner.spawn,
    queryRun: () => "granted",
    clock: () => clock.now,
    killAfterMs: 30,
    ...o.ctx,
  });
  const publishSource = () => {
    const pub = new FakePublisher("fake cam");
    const stream = hub.publish("live/cam", pub);
    return () => hub.unpublish(stream, pub);
  };
  try {
    await fn({ hub, log, spawner, clock, job, publishSource });
  } finally {
    await job.stop();
    hub.stop();
  }
}

/** Polls `cond` until it holds (fails after `timeoutMs`, so a broken test does not hang). */
async function until(cond: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 2) {
    if (waited > timeoutMs) throw new Error(`Cannot see ${what}: still false after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function lines(log: RecordingLogger, level: string): string[] {
  return log.lines.filter((l) => l.level === level).map((l) => l.msg);
}

Deno.test("TranscodeJob.start() with the source already live runs ffmpeg at once with its argument list", async () => {
  await withJob(({ job, spawner, publishSource }) => {
    publishSource();
    job.start();
    assertEquals(spawner.calls.length, 1);
    assertEquals(spawner.calls[0].cmd, "ffmpeg");
    assertEquals(
      spawner.calls[0].args,
      ffmpegArgs({ key: "live/small", from: "live/cam", videoSize: "320x240" }, {
        inputUrl: "rtmp://127.0.0.1:1935/live/cam",
        outputUrl: "rtmp://127.0.0.1:1935/live/small",
      }),
    );
    assertEquals(job.status, {
      key: "live/small",
      from: "live/cam",
      state: "running",
      pid: 1000,
      restarts: 0,
    });
  });
});

Deno.test("TranscodeJob waits for the source's publish and stops ffmpeg with SIGTERM when the source ends", async () => {
  await withJob(async ({ job, spawner, log, publishSource }) => {
    job.start();
    assertEquals(spawner.calls.length, 0);
    assertEquals(job.status.state, "idle");
    const unpublish = publishSource();
    assertEquals(spawner.calls.length, 1);
    const p = spawner.last;
    unpublish(); // grace 0: "unpublish" then "end"
    await until(() => job.status.state === "idle", "the job idle");
    assertEquals(p.signals, ["SIGTERM"]);
    assertEquals(job.status.pid, undefined);
    assertEquals(job.status.lastExit?.code, 255);
    assertEquals(spawner.calls.length, 1, "restarted after the source ended");
    assertMatch(
      lines(log, "info").at(-1)!,
      /^ffmpeg \(pid 1000\) exited with code 255 \(SIGTERM\) after 0\.0 s: source live\/cam ended$/,
    );
    // The next publish runs it again.
    publishSource();
    assertEquals(spawner.calls.length, 2);
  });
});

Deno.test("TranscodeJob sends SIGKILL when ffmpeg outlives SIGTERM by killAfterMs", async () => {
  await withJob(async ({ job, spawner, publishSource }) => {
    const unpublish = publishSource();
    job.start();
    spawner.last.ignoreTerm = true;
    unpublish();
    await until(() => job.status.state === "idle", "the job idle");
    assertEquals(spawner.last.signals, ["SIGTERM", "SIGKILL"]);
  });
});

Deno.test("TranscodeJob keeps ffmpeg through the source's grace window and restarts it if it dies there", async () => {
  await withJob(async ({ job, spawner, publishSource }) => {
    const unpublish = publishSource();
    job.start();
    unpublish(); // into grace (10 s): no end
    assertEquals(spawner.last.signals, []);
    spawner.last.exit(1);
    await until(() => spawner.calls.length === 2, "a restart during grace");
    assertEquals(job.status.restarts, 1);
    assertEquals(job.status.state, "running");
  }, { graceMs: 10_000 });
});

Deno.test("TranscodeJob's restart delay doubles with each quick death up to restartMaxMs", async () => {
  await withJob(async ({ job, spawner, log, publishSource }) => {
    publishSource();
    job.start();
    for (let i = 1; i <= 4; i++) {
      spawner.last.exit(1);
      await until(() => job.status.state === "backoff", `backoff ${i}`);
      await until(() => spawner.calls.length === i + 1, `restart ${i}`);
    }
    const exits = lines(log, "warn").filter((l) => l.includes("exited"));
    assertEquals(exits.map((l) => l.match(/restarting in (\d+) ms$/)?.[1]), ["5", "10", "20", "20"]);
    assertMatch(exits[0], /^ffmpeg \(pid 1000\) exited with code 1 after 0\.0 s; restarting in 5 ms$/);
    assertEquals(job.status.restarts, 4);
  });
});

Deno.test("TranscodeJob resets the restart delay after a run longer than LONG_RUN_MS", async () => {
  await withJob(async ({ job, spawner, log, clock, publishSource }) => {
    publishSource();
    job.start();
    for (let i = 1; i <= 3; i++) {
      spawner.last.exit(1);
      await until(() => spawner.calls.length === i + 1, `restart ${i}`);
    }
    clock.now += LONG_RUN_MS + 1;
    spawner.last.exit(0);
    await until(() => job.status.state === "backoff", "the backoff after the long run");
    assertEquals(job.status.restartInMs, 5);
    assertEquals(job.status.lastExit, { code: 0, at: clock.now, ranMs: LONG_RUN_MS + 1 });
    assertMatch(lines(log, "warn").at(-1)!, /exited with code 0 after 30\.0 s; restarting in 5 ms$/);
  });
});

Deno.test("TranscodeJob's source ending during a backoff cancels the restart", async () => {
  await withJob(async ({ job, spawner, publishSource }) => {
    const unpublish = publishSource();
    job.start();
    spawner.last.exit(1);
    await until(() => job.status.state === "backoff", "the backoff");
    unpublish();
    assertEquals(job.status.state, "idle");
    await new Promise((r) => setTimeout(r, 30));
    assertEquals(spawner.calls.length, 1);
  }, { settings: { restartMinMs: 10 } });
});

Deno.test("TranscodeJob logs stderr lines as warnings, at most stderrLinesPerMinute, and counts the rest", async () => {
  await withJob(async ({ job, spawner, log, clock, publishSource }) => {
    publishSource();
    job.start();
    const p = spawner.last;
    for (let i = 1; i <= 10; i++) p.write(`line ${i}\n`);
    await until(() => lines(log, "warn").length >= 3, "three lines");
    await new Promise((r) => setTimeout(r, 10));
    assertEquals(lines(log, "warn"), ["ffmpeg: line 1", "ffmpeg: line 2", "ffmpeg: line 3"]);
    clock.now += 60_000;
    p.write("line 11\n");
    await until(() => lines(log, "warn").length === 5, "the count and line 11");
    assertEquals(lines(log, "warn").slice(3), [
      "7 stderr lines not shown (limit 3 a minute)",
      "ffmpeg: line 11",
    ]);
    p.write("a\nb\nc\nd\n");
    await new Promise((r) => setTimeout(r, 10));
    await job.stop(); // the count of the window so far is logged at the stop
    assertEquals(lines(log, "warn").slice(5), [
      "ffmpeg: a",
      "ffmpeg: b",
      "2 stderr lines not shown (limit 3 a minute)",
    ]);
  }, { settings: { stderrLinesPerMinute: 3 } });
});

Deno.test("TranscodeJob hands ffmpeg its internal key but logs it masked, in its start line and in ffmpeg's stderr", async () => {
  await withJob(async ({ job, spawner, log, publishSource }) => {
    publishSource();
    job.start();
    const args = spawner.calls[0].args;
    assert(args.includes("rtmp://127.0.0.1:1935/live/cam?job_key=s3cr3t"), args.join(" "));
    assert(args.includes("rtmp://127.0.0.1:1935/live/small?job_key=s3cr3t"), args.join(" "));
    spawner.last.write("rtmp://127.0.0.1:1935/live/cam?job_key=s3cr3t: Input/output error\n");
    await until(() => lines(log, "warn").length >= 1, "the stderr line");
    assertEquals(lines(log, "warn"), [
      "ffmpeg: rtmp://127.0.0.1:1935/live/cam?job_key=*** Input/output error",
    ]);
    assertEquals(
      lines(log, "info").filter((l) => l.startsWith("started ")),
      ["started ffmpeg (pid 1000): rtmp://127.0.0.1:1935/live/cam?job_key=*** -> live/small"],
    );
    assertEquals(log.lines.filter((l) => l.msg.includes("s3cr3t")), [], "the key reached the log");
  }, { ctx: { urlQuery: () => "job_key=s3cr3t" } });
});

Deno.test("TranscodeJob cuts a long stderr line at MAX_STDERR_LINE and splits lines on \\r too", async () => {
  await withJob(async ({ job, spawner, log, publishSource }) => {
    publishSource();
    job.start();
    const p = spawner.last;
    p.write("x".repeat(MAX_STDERR_LINE + 10));
    p.write("y".repeat(5000));
    p.write("z\rone\r\ntwo");
    p.exit(1);
    await until(() => job.status.state === "backoff", "the backoff");
    const warned = lines(log, "warn").filter((l) => !l.includes("exited"));
    assertEquals(warned, [`ffmpeg: ${"x".repeat(MAX_STDERR_LINE)}…`, "ffmpeg: one", "ffmpeg: two"]);
  });
});

Deno.test("TranscodeJob with a command not on PATH logs one error and does not retry until the next publish", async () => {
  await withJob(async ({ job, log, publishSource }) => {
    const unpublish = publishSource();
    job.start();
    assertEquals(job.status.state, "failed");
    const message =
      "Cannot run transcode live/small: sluice-no-such-ffmpeg was not found on PATH; install ffmpeg or set jobs.ffmpeg";
    assertEquals(job.status.error, message);
    await new Promise((r) => setTimeout(r, 30));
    unpublish();
    assertEquals(job.status.state, "failed", "the source's end hid the failure");
    publishSource();
    assertEquals(lines(log, "error"), [message]);
    assertEquals(job.status.state, "failed");
  }, { settings: { ffmpeg: "sluice-no-such-ffmpeg" }, ctx: { spawn: undefined } });
});

Deno.test("TranscodeJob without --allow-run says so, from the permission query or from NotCapable", async () => {
  const message =
    "Cannot run transcode live/small: ffmpeg needs --allow-run (deno run --allow-run=ffmpeg ...)";
  await withJob(({ job, spawner, log, publishSource }) => {
    publishSource();
    job.start();
    assertEquals(spawner.calls.length, 0);
    assertEquals(lines(log, "error"), [message]);
  }, { ctx: { queryRun: () => "prompt" } });
  await withJob(({ job, spawner, log, publishSource }) => {
    spawner.failWith = new Deno.errors.NotCapable('Requires run access to "ffmpeg"');
    publishSource();
    job.start();
    assertEquals(lines(log, "error"), [message]);
    assertEquals(job.status.state, "failed");
  });
});

Deno.test("TranscodeJob.stop() stops ffmpeg, resolves once it is gone and ignores later publishes", async () => {
  await withJob(async ({ job, spawner, log, publishSource }) => {
    const unpublish = publishSource();
    job.start();
    const p = spawner.last;
    p.ignoreTerm = true;
    await job.stop();
    assert(p.exited, "ffmpeg still runs after stop()");
    assertEquals(p.signals, ["SIGTERM", "SIGKILL"]);
    assertEquals(job.status.state, "idle");
    assertMatch(lines(log, "info").at(-1)!, /exited with code 137 \(SIGKILL\) after 0\.0 s: job stopped$/);
    unpublish();
    publishSource();
    assertEquals(spawner.calls.length, 1);
  });
});

Deno.test("TranscodeJob started again by a publish that comes while ffmpeg is stopping", async () => {
  await withJob(async ({ job, spawner, publishSource }) => {
    const unpublish = publishSource();
    job.start();
    const first = spawner.last;
    first.ignoreTerm = true;
    unpublish(); // end: SIGTERM, ignored
    publishSource(); // back before the old ffmpeg is gone
    assertEquals(spawner.calls.length, 1);
    await until(() => spawner.calls.length === 2, "the new ffmpeg");
    assert(first.exited);
    assertEquals(job.status.state, "running");
    assertEquals(job.status.restarts, 0);
  });
});

Deno.test("TranscodeJob runs a real process with Deno.Command: reads its stderr and restarts it when it exits", async () => {
  // `sh` given ffmpeg's arguments refuses its first option on stderr and exits: a real quick death.
  await withJob(async ({ job, log, publishSource }) => {
    publishSource();
    job.start();
    assert(job.status.pid !== undefined && job.status.pid > 0);
    await until(() => job.status.restarts >= 1, "a restart of the real process", 5_000);
    const warned = lines(log, "warn");
    assert(warned.some((l) => l.startsWith("sh: ")), `no stderr line in ${JSON.stringify(warned)}`);
    assertMatch(
      warned.find((l) => l.includes("exited"))!,
      /^sh \(pid \d+\) exited with code [1-9]\d* after \d+\.\d s; restarting in 5 ms$/,
    );
  }, { settings: { ffmpeg: "sh" }, ctx: { spawn: undefined, queryRun: undefined, clock: undefined } });
});

Deno.test("TranscodeJob in a process without --allow-run logs the --allow-run error and spawns nothing", async () => {
  const module = new URL("../../src/jobs/transcode_job.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ prefix: "sluice_job_", suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { DEFAULT_JOBS_SETTINGS, TranscodeJob } from ${JSON.stringify(module)};
const lines = [];
const log = { child: () => log, error: (m) => lines.push(m), warn() {}, info() {}, debug() {} };
const job = new TranscodeJob({ key: "live/small", from: "live/cam" }, {
  settings: DEFAULT_JOBS_SETTINGS,
  hub: { on: () => () => {}, get: () => ({ state: "live" }) },
  rtmpUrl: () => "rtmp://127.0.0.1:1935",
  httpUrl: () => "http://127.0.0.1:8080",
  log,
});
job.start();
await job.stop();
console.log(JSON.stringify({ lines, state: job.status.state }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-config", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      lines: ["Cannot run transcode live/small: ffmpeg needs --allow-run (deno run --allow-run=ffmpeg ...)"],
      state: "idle",
    });
  } finally {
    await Deno.remove(script);
  }
});
