/**
 * Files played out as live streams, as a user sets them up: raw H.264 made by
 * ffmpeg at test time (with and without VUI timing) and an FLV file, configured
 * as sources of an in-process Sluice and played by ffmpeg over RTMP; a source
 * the admission policy denies, which must say so and leave the others
 * playing; and the command line without `--allow-read`, which must say which
 * flag to add and keep serving.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../_util/assert.ts";
import { makeAnnexB, withoutVui } from "../_util/h264.ts";
import { FakePolicy } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import {
  COUNT_TOLERANCE,
  decodeErrors,
  dtsBackwards,
  haveTools,
  lines,
  makeSource,
  ofType,
  type Packet,
  probePackets,
  record,
  relativeDiff,
  run,
  startServer,
  type TestServer,
} from "../_util/media.ts";
import type { SourceConfig } from "../../src/config/config.ts";
import { allow, deny } from "../../src/hub/admission.ts";
import { FileSource, missingReadPermissionMessage } from "../../src/ingest/sources.ts";
import { parseArgs } from "../../server.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
const ROOT = new URL("../../", import.meta.url).pathname;
/** Played frame counts may differ from the played duration times the frame rate by this much. */

/** Bounds waits and child processes so that a broken test ends; nothing asserts on time. */
const BOUND_MS = 30_000;

/** Width and height of the first video stream, as ffprobe sees them. */
async function videoSize(path: string): Promise<string> {
  const r = await run("ffprobe", [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0"],
    path,
  ], { timeoutMs: BOUND_MS });
  return r.stdout.trim().replace(",", "x");
}

/** The gaps between consecutive DTS, each distinct value once, sorted. */
function steps(packets: Packet[]): number[] {
  const out = new Set<number>();
  for (let i = 1; i < packets.length; i++) out.add(packets[i].dts - packets[i - 1].dts);
  return [...out].sort((a, b) => a - b);
}

/**
 * What every played Annex B source passes: it decodes without an error line at the file's size; the first
 * video packet is a keyframe; DTS never goes back and steps by one frame at `fps` (rounded to ms: a loop
 * boundary shows no gap); the frame count matches the played duration at `fps`.
 */
async function checkLive(out: string, fps: number, label: string): Promise<Packet[]> {
  assertEquals(await decodeErrors(out), "", `${label}: decoding the recording printed errors`);
  assertEquals(await videoSize(out), "640x360", `${label}: size`);
  const video = ofType(await probePackets(out), "video");
  assert(video[0].keyframe, `${label}: the first video packet is not a keyframe`);
  assertEquals(dtsBackwards(video), [], `${label}: DTS goes backwards`);
  const frameMs = 1000 / fps;
  assertEquals(steps(video), [...new Set([Math.floor(frameMs), Math.ceil(frameMs)])], `${label}: DTS steps`);
  const spanMs = video[video.length - 1].dts - video[0].dts;
  const expected = Math.round(spanMs / frameMs) + 1;
  console.log(`${label}: ${video.length} frames over ${spanMs} ms at ${fps} fps (expected ${expected})`);
  assert(
    relativeDiff(video.length, expected) <= COUNT_TOLERANCE,
    `${label}: ${video.length} vs ${expected} frames`,
  );
  return video;
}

Deno.test({
  name:
    "Annex B and FLV files play as live streams over RTMP: frame rate from the SPS, else 25, else the configured one; loops keep timestamps monotonic",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_sources_" });
    let server: TestServer | undefined;
    try {
      // 3 s each: every 5 s recording crosses a loop boundary.
      const vui = `${dir}/vui.h264`;
      const noVui = `${dir}/novui.h264`;
      await Deno.writeFile(vui, await makeAnnexB({ frames: 75, fps: 25, gop: 25 }));
      await Deno.writeFile(noVui, withoutVui(await makeAnnexB({ frames: 90, fps: 30, gop: 30 })));
      const flv = await makeSource(`${dir}/clip.flv`, { seconds: 3, gop: 25 });
      const sources: SourceConfig[] = [
        { key: "live/vui", path: vui, loop: true },
        { key: "live/novui", path: noVui, loop: true },
        { key: "live/fps50", path: noVui, loop: true, fps: 50 },
        { key: "live/flv", path: flv, loop: true },
      ];
      server = await startServer({ sources });
      const srv = server;
      const recordings = await Promise.all(sources.map(async ({ key }) => {
        const name = key.slice("live/".length);
        const out = `${dir}/${name}.out.flv`;
        return { name, out, result: await record(srv.url(name), out, 5) };
      }));
      for (const r of recordings) {
        assertEquals(r.result.code, 0, `${r.name}: the player failed:\n${r.result.stderr}`);
      }

      await checkLive(`${dir}/vui.out.flv`, 25, "SPS timing 25 fps");
      await checkLive(`${dir}/novui.out.flv`, 25, "no VUI timing (encoded at 30 fps): the default 25");
      await checkLive(`${dir}/fps50.out.flv`, 50, "configured 50 fps");
      assert(server.logs.some((l) => l.includes("[live/vui] H.264 640x360, 25 fps (from the SPS timing)")));
      assert(
        server.logs.some((l) => l.includes("[live/novui] H.264 640x360, 25 fps (default: no SPS timing)")),
      );

      const out = `${dir}/flv.out.flv`;
      assertEquals(await decodeErrors(out), "", "FLV source: decoding the recording printed errors");
      const played = await probePackets(out);
      for (const kind of ["video", "audio"]) {
        assertEquals(dtsBackwards(ofType(played, kind)), [], `FLV source ${kind}: DTS goes backwards`);
      }
      const video = ofType(played, "video");
      assert(video[0].keyframe, "FLV source: the first video packet is not a keyframe");
      const spanMs = video[video.length - 1].dts - video[0].dts;
      assert(spanMs >= 3000, `FLV source: the recording holds only ${spanMs} ms, less than the file`);
      // The video steps 40 ms but at a loop boundary, where its gap makes up for the audio ending later.
      const gaps = video.slice(1).map((p, i) => p.dts - video[i].dts).filter((step) => step !== 40);
      assert(
        gaps.length <= 2 && gaps.every((g) => g > 40 && g < 140),
        `FLV source: DTS steps other than 40: ${gaps}`,
      );
      const expected = Math.round(spanMs / 40) + 1;
      assert(
        relativeDiff(video.length, expected) <= COUNT_TOLERANCE,
        `FLV source: ${video.length} vs ${expected}`,
      );
    } finally {
      await server?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "An Annex B file played once is played whole, then its stream ends",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_sources_" });
    const server = await startServer({ hub: { reconnectGraceMs: 200 } });
    try {
      const path = `${dir}/once.h264`;
      await Deno.writeFile(path, await makeAnnexB({ frames: 50, fps: 25, gop: 25 }));
      // The player waits for the publisher, so it sees the file from its first picture.
      const out = `${dir}/once.out.flv`;
      const player = record(server.url("once"), out, 30);
      await waitFor(
        () => [...server.sluice.rtmp!.sessions].some((s) => s.role === "player"),
        "the player to wait for live/once",
        BOUND_MS,
      );
      const source = new FileSource(
        { key: "live/once", path, loop: false },
        { hub: server.sluice.hub, log: server.sluice.log },
      );
      source.start();
      await source.done;
      const rec = await player; // ends by itself when the stream does
      assertEquals(rec.code, 0, `the player failed:\n${rec.stderr}`);
      const video = await checkLive(out, 25, "played once");
      assertEquals(video.length, 50);
      assertEquals(server.sluice.hub.get("live/once"), undefined, "the stream ended after the grace");
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "A source the admission policy denies logs the reason naming its key and is not published; another source plays",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_sources_" });
    let server: TestServer | undefined;
    try {
      const path = `${dir}/clip.h264`;
      await Deno.writeFile(path, await makeAnnexB({ frames: 50, fps: 25, gop: 25 }));
      const policy = new FakePolicy((req) =>
        req.action === "publish" && req.key === "live/denied" ? deny("not on the list") : allow()
      );
      server = await startServer({
        sources: [{ key: "live/denied", path, loop: true }, { key: "live/ok", path, loop: true }],
      }, policy);
      const srv = server;
      await waitFor(
        () => srv.logs.some((l) => l.includes("Cannot publish live/denied")),
        "the denied source's line",
        BOUND_MS,
      );
      const out = `${dir}/ok.out.flv`;
      const rec = await record(server.url("ok"), out, 2);
      assertEquals(rec.code, 0, `the player of the allowed source failed:\n${rec.stderr}`);
      assert(ofType(await probePackets(out), "video").length > 0, "the allowed source played");

      const denied = server.logs.filter((l) => l.includes("Cannot publish live/denied"));
      assertEquals(denied.length, 1, denied.join("\n"));
      assertMatch(denied[0], /ERROR .*\[live\/denied\] /);
      assert(
        denied[0].endsWith(`Cannot publish live/denied from ${path}: denied: not on the list`),
        denied[0],
      );
      assertEquals(server.sluice.hub.get("live/denied"), undefined, "the denied source is not published");
      const files = server.sluice.hub.sessions.list({ protocol: "file" });
      assertEquals(files.map((s) => [s.role, s.key, s.remote]), [["publisher", "live/ok", undefined]]);
      assertEquals(server.sluice.hub.get("live/ok")!.snapshot().publisher!.protocol, "file");
    } finally {
      await server?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "server.ts --source without --allow-read prints the flag to add and keeps serving",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--allow-net", "server.ts", "--source", "live/a=/tmp/x.h264"],
        ...["--rtmp-port", "0", "--http-port", "0", "--rtsp-port", "0", "--host", "127.0.0.1"],
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), BOUND_MS);
    const log: string[] = [];
    try {
      let health = "";
      let hint = "";
      for await (const line of lines(child.stderr)) {
        log.push(line);
        health ||= line.match(/health: +(http:\S+)/)?.[1] ?? "";
        if (line.includes("Cannot read")) hint = line;
        if (health && hint) break;
      }
      assertMatch(hint, /ERROR .*\[live\/a\] /, log.join("\n"));
      assert(hint.endsWith(missingReadPermissionMessage("/tmp/x.h264")), hint);
      assert(
        hint.endsWith(
          "Cannot read /tmp/x.h264: run with --allow-read (deno run --allow-net --allow-read server.ts ...)",
        ),
      );
      const res = await fetch(health);
      assertEquals([res.status, (await res.json()).status], [200, "ok"], "the server still answers");
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.stderr.cancel().catch(() => {});
      await child.status;
      clearTimeout(timer);
    }
  },
});

Deno.test("parseArgs() reads --source (looped), --source-once and --source-fps for every source", () => {
  assertEquals(
    parseArgs(["--source", "live/a=./a.h264", "--source-once=live/b=/x/b=c.flv", "--source-fps", "29.97"]),
    {
      sources: [
        { key: "live/a", path: "./a.h264", loop: true, fps: 29.97 },
        { key: "live/b", path: "/x/b=c.flv", loop: false, fps: 29.97 },
      ],
    },
  );
  assertThrows(() => parseArgs(["--source", "a.h264"]), TypeError, "is not app/name=PATH");
  assertThrows(() => parseArgs(["--source-fps", "0"]), TypeError, "--source-fps");
});
