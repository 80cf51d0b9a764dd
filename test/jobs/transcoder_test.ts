/**
 * Transcoder: the list checked as a whole (duplicates, cycles), every job
 * started and stopped, and update() semantics (new jobs start, removed ones
 * stop, changed ones restart, unchanged ones keep their ffmpeg) over a real
 * StreamHub with fake publishers and a fake process spawner.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../_util/assert.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import type { JobProcess, JobsSettings, Spawn, TranscodeSpec } from "../../src/jobs/transcode_job.ts";
import { Transcoder, validateSpecs } from "../../src/jobs/transcoder.ts";

/** A child process that exits on any signal. */
class FakeProcess implements JobProcess {
  readonly pid: number;
  readonly args: string[];
  readonly status: Promise<{ code: number; signal?: string | null }>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly signals: string[] = [];
  exited = false;
  #out!: ReadableStreamDefaultController<Uint8Array>;
  #resolve!: (s: { code: number; signal?: string | null }) => void;

  constructor(pid: number, args: string[]) {
    this.pid = pid;
    this.args = args;
    this.status = new Promise((resolve) => this.#resolve = resolve);
    this.stderr = new ReadableStream({ start: (c) => void (this.#out = c) });
  }

  kill(signal: Deno.Signal): void {
    if (this.exited) throw new TypeError("Child process has already terminated");
    this.signals.push(signal);
    this.exited = true;
    this.#out.close();
    this.#resolve({ code: 255, signal });
  }
}

const SETTINGS: JobsSettings = {
  ffmpeg: "ffmpeg",
  restartMinMs: 5,
  restartMaxMs: 20,
  stderrLinesPerMinute: 30,
};

interface Env {
  hub: StreamHub;
  log: RecordingLogger;
  procs: FakeProcess[];
  make(specs: TranscodeSpec[]): Transcoder;
  publish(key: string): void;
}

async function withHub(fn: (env: Env) => Promise<void>): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: 0 }, log);
  const procs: FakeProcess[] = [];
  const spawn: Spawn = (_cmd, args) => {
    const p = new FakeProcess(2000 + procs.length, args);
    procs.push(p);
    return p;
  };
  const made: Transcoder[] = [];
  const make = (specs: TranscodeSpec[]) => {
    const t = new Transcoder(specs, {
      settings: SETTINGS,
      hub,
      rtmpUrl: () => "rtmp://127.0.0.1:1935",
      httpUrl: () => "http://127.0.0.1:8080",
      log,
      spawn,
      queryRun: () => "granted",
    });
    made.push(t);
    return t;
  };
  try {
    await fn({
      hub,
      log,
      procs,
      make,
      publish: (key) => void hub.publish(key, new FakePublisher(`fake ${key}`)),
    });
  } finally {
    for (const t of made) await t.stop();
    hub.stop();
  }
}

/** The process running for `key` now (by the output URL in its arguments). */
function running(procs: FakeProcess[], key: string): FakeProcess[] {
  return procs.filter((p) => !p.exited && p.args.at(-1)!.endsWith(`/${key}`));
}

Deno.test("validateSpecs() refuses a key defined twice and a chain that reads its own output", () => {
  const a = { key: "live/a", from: "live/cam" };
  assertMatch(
    assertThrows(() => validateSpecs([a, { ...a }])).message,
    /^Cannot use transcodes: live\/a is defined twice$/,
  );
  assertMatch(
    assertThrows(() =>
      validateSpecs([{ key: "live/a", from: "live/c" }, { key: "live/b", from: "live/a" }, {
        key: "live/c",
        from: "live/b",
      }])
    ).message,
    /^Cannot use transcodes: live\/a <- live\/c <- live\/b <- live\/a reads its own output$/,
  );
  assertMatch(
    assertThrows(() => validateSpecs([{ key: "live/a", from: "live/a" }])).message,
    /from is its own key/,
  );
  // A chain is fine: cam -> small -> tiny.
  validateSpecs([{ key: "live/small", from: "live/cam" }, { key: "live/tiny", from: "live/small" }]);
});

Deno.test("Transcoder.start() runs the jobs whose source is live; jobs() lists every job in order", async () => {
  await withHub(async ({ make, publish, procs }) => {
    publish("live/cam");
    const t = make([{ key: "live/small", from: "live/cam" }, { key: "live/other", from: "live/nothing" }]);
    assertEquals(procs.length, 0, "the constructor started something");
    t.start();
    assertEquals(t.jobs().map((j) => [j.key, j.state, j.pid]), [
      ["live/small", "running", 2000],
      ["live/other", "idle", undefined],
    ]);
    publish("live/nothing");
    assertEquals(t.jobs()[1].state, "running");
    await t.stop();
    assert(procs.every((p) => p.exited), "an ffmpeg outlived stop()");
    assertEquals(t.jobs().map((j) => j.state), ["idle", "idle"]);
  });
});

Deno.test("Transcoder.update() starts new jobs, stops removed ones, restarts changed ones and keeps the others", async () => {
  await withHub(async ({ make, publish, procs }) => {
    publish("live/cam");
    const t = make([
      { key: "live/same", from: "live/cam", input: "rtmp" },
      { key: "live/changed", from: "live/cam", videoBitrateKbps: 300 },
      { key: "live/removed", from: "live/cam" },
    ]);
    t.start();
    const [same, changed, removed] = procs;
    await t.update([
      { key: "live/added", from: "live/cam", audioCodec: "none" },
      { key: "live/same", from: "live/cam" }, // no input is "rtmp": the same job
      { key: "live/changed", from: "live/cam", videoBitrateKbps: 500 },
    ]);
    assertEquals(same.signals, [], "the unchanged job's ffmpeg was touched");
    assertEquals(changed.signals, ["SIGTERM"]);
    assertEquals(removed.signals, ["SIGTERM"]);
    assertEquals(running(procs, "live/same"), [same]);
    assert(running(procs, "live/changed")[0].args.includes("500k"), "the changed job runs the old arguments");
    assertEquals(running(procs, "live/added").length, 1);
    assertEquals(running(procs, "live/removed").length, 0);
    assertEquals(t.jobs().map((j) => j.key), ["live/added", "live/same", "live/changed"]);
  });
});

Deno.test("Transcoder.update() with new settings restarts every job", async () => {
  await withHub(async ({ make, publish, procs }) => {
    publish("live/cam");
    const t = make([{ key: "live/a", from: "live/cam" }, { key: "live/b", from: "live/cam" }]);
    t.start();
    await t.update([{ key: "live/a", from: "live/cam" }, { key: "live/b", from: "live/cam" }], {
      ...SETTINGS,
      restartMaxMs: 40,
    });
    assertEquals(procs.map((p) => p.signals), [["SIGTERM"], ["SIGTERM"], [], []]);
  });
});

Deno.test("Transcoder.update() with a bad list throws and changes nothing", async () => {
  await withHub(async ({ make, publish, procs }) => {
    publish("live/cam");
    const t = make([{ key: "live/a", from: "live/cam" }]);
    t.start();
    assertThrows(() => t.update([{ key: "live/b", from: "live/cam" }, { key: "live/b", from: "live/x" }]));
    assertThrows(() => t.update([{ key: "live/b", from: "live/cam", videoSize: "big" }]));
    await t.update([{ key: "live/a", from: "live/cam" }]);
    assertEquals(procs.length, 1);
    assertEquals(procs[0].signals, []);
    assertEquals(t.jobs().map((j) => j.key), ["live/a"]);
  });
});

Deno.test("Transcoder.update() before start() only replaces the list; start() then runs it", async () => {
  await withHub(async ({ make, publish, procs }) => {
    publish("live/cam");
    const t = make([{ key: "live/a", from: "live/cam" }]);
    await t.update([{ key: "live/b", from: "live/cam" }]);
    assertEquals(procs.length, 0);
    t.start();
    assertEquals(t.jobs().map((j) => [j.key, j.state]), [["live/b", "running"]]);
  });
});

Deno.test("Transcoder.update() sees settings changed in place on the object it was given (a reload)", async () => {
  await withHub(async ({ hub, log, publish, procs }) => {
    publish("live/cam");
    const settings = { ...SETTINGS };
    const spawn: Spawn = (_cmd, args) => {
      const p = new FakeProcess(3000 + procs.length, args);
      procs.push(p);
      return p;
    };
    const t = new Transcoder([{ key: "live/a", from: "live/cam" }], {
      settings,
      hub,
      rtmpUrl: () => "rtmp://127.0.0.1:1935",
      httpUrl: () => "http://127.0.0.1:8080",
      log,
      spawn,
      queryRun: () => "granted",
    });
    try {
      t.start();
      await t.update([{ key: "live/a", from: "live/cam" }], settings); // nothing changed
      assertEquals(procs.length, 1);
      settings.ffmpeg = "/opt/ffmpeg/bin/ffmpeg";
      await t.update([{ key: "live/a", from: "live/cam" }], settings);
      assertEquals(procs.map((p) => p.signals), [["SIGTERM"], []]);
    } finally {
      await t.stop();
    }
  });
});

Deno.test("Transcoder's jobs share one hub listener, so a list longer than the hub's listener bound runs", async () => {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: 0 }, log, {
    maxListeners: 2,
  });
  const procs: FakeProcess[] = [];
  const t = new Transcoder(
    Array.from({ length: 10 }, (_, i) => ({ key: `live/r${i}`, from: "live/cam" })),
    {
      settings: SETTINGS,
      hub,
      rtmpUrl: () => "rtmp://127.0.0.1:1935",
      httpUrl: () => "http://127.0.0.1:8080",
      log,
      spawn: (_cmd, args) => {
        const p = new FakeProcess(4000 + procs.length, args);
        procs.push(p);
        return p;
      },
      queryRun: () => "granted",
    },
  );
  try {
    t.start();
    hub.on(() => {}); // the second listener still fits: the transcoder took one
    hub.publish("live/cam", new FakePublisher());
    assertEquals(t.jobs().filter((j) => j.state === "running").length, 10);
    await t.stop();
    hub.on(() => {}); // and stop() gave it back
  } finally {
    await t.stop();
    hub.stop();
  }
});
