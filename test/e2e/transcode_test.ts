/**
 * Transcodes with real ffmpeg against an in-process Sluice: a Transcoder built
 * on the server's hub turns a 640x360 publish of live/cam into live/small at
 * 320x240, which plays over HTTP-FLV (decodes, starts on a keyframe); the job
 * stops when the source ends, and a job whose ffmpeg is killed is restarted
 * and plays again.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  haveTools,
  makeSource,
  ofType,
  probeFrames,
  probePackets,
  publish,
  record,
  runOk,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import type { TranscodeSpec, TranscodeStatus } from "../../src/jobs/transcode_job.ts";
import { Transcoder } from "../../src/jobs/transcoder.ts";
import type { TranscodeConfig } from "../../src/config/config.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** Long enough to outlast every test; each stops its publisher itself. */
const SOURCE_S = 40;
const SMALL: TranscodeSpec = {
  key: "live/small",
  from: "live/cam",
  videoSize: "320x240",
  videoBitrateKbps: 300,
};

function e2e(name: string, fn: (server: TestServer, dir: string) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !TOOLS,
    sanitizeOps: true,
    sanitizeResources: true,
    // A short grace: the source's end (and so the job's stop) comes soon after its publisher leaves.
    fn: () => withServer(fn, { hub: { reconnectGraceMs: 300 } }),
  });
}

/** A Transcoder of `spec` on the server's hub; its log lines are kept (and printed when a test fails). */
function transcoder(
  server: TestServer,
  spec: TranscodeSpec,
): { transcoder: Transcoder; log: RecordingLogger } {
  const log = new RecordingLogger();
  const t = new Transcoder([spec], {
    settings: { ffmpeg: "ffmpeg", restartMinMs: 200, restartMaxMs: 2_000, stderrLinesPerMinute: 30 },
    hub: server.sluice.hub,
    rtmpUrl: () => `rtmp://127.0.0.1:${server.sluice.rtmpPort}`,
    httpUrl: () => `http://127.0.0.1:${server.sluice.httpPort}`,
    log,
  });
  return { transcoder: t, log };
}

/** Polls the job until `cond` holds; fails after `timeoutMs`. */
async function waitForJob(
  t: Transcoder,
  cond: (s: TranscodeStatus) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<TranscodeStatus> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const s = t.jobs()[0];
    if (cond(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Cannot see ${what}: current status is ${JSON.stringify(t.jobs()[0])}`);
}

/** The video stream's width and height in a media file. */
async function videoSize(path: string): Promise<{ width: number; height: number }> {
  const r = await runOk("ffprobe", [
    "-hide_banner",
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=width,height",
    "-of",
    "json",
    path,
  ], 30_000);
  const s = (JSON.parse(r.stdout) as { streams: { width: number; height: number }[] }).streams[0];
  return { width: s.width, height: s.height };
}

/** Records `seconds` of live/small over HTTP-FLV and checks it: 320x240, decodes, keyframe first. */
async function checkSmall(server: TestServer, out: string, seconds: number): Promise<void> {
  const rec = await record(`http://127.0.0.1:${server.sluice.httpPort}/live/small.flv`, out, seconds);
  assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
  assertEquals(await videoSize(out), { width: 320, height: 240 });
  const video = ofType(await probePackets(out), "video");
  assert(video.length > seconds * 15, `only ${video.length} video packets in ${seconds} s`);
  assert(video[0].keyframe, "the first video packet of live/small is not a keyframe");
  const pictures = ofType(await probeFrames(out), "video");
  assertEquals(pictures.length, video.length, "pictures decoded vs packets");
  assertEquals(pictures[0].pictType, "I");
  assert(ofType(await probePackets(out), "audio").length > 0, "live/small has no audio");
}

/** Runs `fn` with the transcoder of `spec` (default SMALL) started and live/cam published; stops both (and prints the job log on failure). */
async function withTranscode(
  server: TestServer,
  dir: string,
  fn: (t: Transcoder, stopSource: () => Promise<void>) => Promise<void>,
  spec: TranscodeSpec = SMALL,
): Promise<void> {
  const src = await makeSource(`${dir}/cam.flv`, { seconds: SOURCE_S, size: "640x360" });
  const { transcoder: t, log } = transcoder(server, spec);
  t.start();
  const source = publish(src, server.url("cam"));
  try {
    await fn(t, async () => void await source.stop());
  } catch (e) {
    console.error(`transcoder log:\n${log.lines.map((l) => `${l.level} ${l.msg}`).join("\n")}`);
    throw e;
  } finally {
    await source.stop();
    await t.stop();
  }
}

e2e(
  "Transcoder turns a 640x360 publish into a 320x240 stream that plays, and stops it when the source ends",
  async (server, dir) => {
    await withTranscode(server, dir, async (t, stopSource) => {
      await waitForPublisher(server, "cam");
      const running = await waitForJob(t, (s) => s.state === "running", "the job running");
      await waitForPublisher(server, "small", 15_000);
      await checkSmall(server, `${dir}/small.flv`, 3);

      await stopSource();
      const idle = await waitForJob(t, (s) => s.state === "idle", "the job idle after the source ended");
      assertEquals(idle.pid, undefined);
      assert(idle.lastExit !== undefined, "no exit recorded");
      assert(running.pid !== undefined);
      // ffmpeg 5.1 ends its RTMP input at NetStream.Play.UnpublishNotify, so it may have exited (and been
      // restarted once) in the grace window; after the end nothing runs and nothing restarts.
      await new Promise((r) => setTimeout(r, 500));
      assertEquals(t.jobs()[0], idle);
      // The output stream ends too once the job's ffmpeg is gone (the same short grace).
      for (let waited = 0; server.sluice.hub.get("live/small") && waited < 5_000; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(server.sluice.hub.get("live/small"), undefined, "live/small still exists");
    });
  },
);

e2e(
  "Transcoder restarts a job whose ffmpeg is killed while the source is live, and it plays again",
  async (server, dir) => {
    await withTranscode(server, dir, async (t) => {
      await waitForPublisher(server, "cam");
      const first = await waitForJob(t, (s) => s.state === "running", "the job running");
      await waitForPublisher(server, "small", 15_000);
      Deno.kill(first.pid!, "SIGKILL");
      const again = await waitForJob(
        t,
        (s) => s.state === "running" && s.restarts === 1 && s.pid !== first.pid,
        "the job restarted",
      );
      assertEquals(again.lastExit?.signal, "SIGKILL");
      // The new ffmpeg publishes live/small again (a "resume": its players stayed through the grace).
      for (let waited = 0; !server.sluice.hub.get("live/small")?.publisher && waited < 10_000; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert(server.sluice.hub.get("live/small")?.publisher, "live/small has no publisher after the restart");
      await checkSmall(server, `${dir}/small_again.flv`, 2);
    });
  },
);

e2e(
  "Transcoder reading its source over HTTP-FLV publishes a 320x240 stream that plays",
  async (server, dir) => {
    await withTranscode(server, dir, async (t) => {
      await waitForPublisher(server, "cam");
      await waitForJob(t, (s) => s.state === "running", "the job running");
      await waitForPublisher(server, "small", 15_000);
      const readers = server.sluice.hub.sessions.list({ key: "live/cam", role: "player" });
      assertEquals(readers.map((s) => s.protocol), ["http-flv"]);
      await checkSmall(server, `${dir}/small.flv`, 2);
    }, { ...SMALL, input: "http-flv" });
  },
);

/** SMALL as the config file would give it (its defaults filled in). */
const CONFIGURED: TranscodeConfig = {
  ...SMALL,
  input: "rtmp",
  videoCodec: "libx264",
  audioCodec: "aac",
  args: [],
};

Deno.test({
  name:
    "a transcode from the config runs when its source publishes: GET /api/v1/transcodes shows it running with ffmpeg's pid, " +
    "its output plays, it goes idle when the source ends, and its internal key never reaches the log",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: () =>
    withServer(async (server, dir) => {
      const api = async () => {
        const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/api/v1/transcodes`);
        assertEquals(res.status, 200, "GET /api/v1/transcodes");
        return (await res.json()).transcodes as TranscodeStatus[];
      };
      assertEquals(await api(), [{ key: "live/small", from: "live/cam", state: "idle", restarts: 0 }]);
      const src = await makeSource(`${dir}/cam.flv`, { seconds: SOURCE_S, size: "640x360" });
      const source = publish(src, server.url("cam"));
      try {
        await waitForPublisher(server, "small", 15_000);
        const [running] = await api();
        assertEquals(running.state, "running", JSON.stringify(running));
        assert(Number.isInteger(running.pid) && running.pid! > 0, `pid ${running.pid}`);
        await checkSmall(server, `${dir}/small.flv`, 3);
        await source.stop();
        let shown = await api();
        for (let waited = 0; shown[0].state !== "idle" && waited < 10_000; waited += 100) {
          await new Promise((r) => setTimeout(r, 100));
          shown = await api();
        }
        assertEquals(shown[0].state, "idle", JSON.stringify(shown[0]));
        assertEquals(shown[0].pid, undefined, "no pid once ffmpeg is gone");
        assert(shown[0].lastExit !== undefined, "the API shows how ffmpeg last exited");
      } finally {
        await source.stop();
      }
      const started = server.logs.filter((l) => /started ffmpeg \(pid \d+\)/.test(l));
      assertEquals(started.length, 1, server.logs.join("\n"));
      assert(started[0].includes("job_key=***"), started[0]);
      const leaks = server.logs.filter((l) => /job_key=(?!\*\*\*)/.test(l));
      assertEquals(leaks, [], "a log line shows the internal key");
    }, { hub: { reconnectGraceMs: 300 }, transcodes: [CONFIGURED] }),
});
