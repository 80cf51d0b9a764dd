/**
 * Sluice run from an ffserver.conf, with real clients: the second fixture (`live.conf`: a feed, `live.flv`
 * and a 320x240 `small.flv` made by a transcode), with doc.conf's `<Stream test.flv>` added pointing at a
 * test file and a `<Stream live.sdp>` of `Format rtp`. ffmpeg pushes to `/feed1.ffm` as it pushed to
 * ffserver; ffmpeg records `/live.flv`, `/small.flv` and, over RTSP, ffserver's own URL of `live.sdp`
 * (`rtsp://HOST:PORT/live.sdp`; keyframe first, decodes clean, 320x240 for the rendition); `/test.flv` serves the file;
 * `/stat.html` is the status page with the feed; the same file with `ACL deny` on the feed refuses the push
 * with 403.
 */
import { assert, assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";
import { waitFor } from "../_util/live.ts";
import {
  decodeErrors,
  haveTools,
  makeSource,
  ofType,
  probeFrames,
  probePackets,
  publish,
  record,
  refusal,
  runOk,
  startServer,
} from "../_util/media.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";
import { parseFfserverConf } from "../../src/config/ffserver_conf.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
const LIVE_CONF = new URL("../fixtures/ffserver/live.conf", import.meta.url);
const BOUND_MS = 30_000;
const RECORD_S = 4;
const PUBLISH_KEY = "the-feed-publish-key";

/** The `Format rtp` stream added to live.conf, and ffserver's RTSP path of it, which Sluice keeps. */
const RTP_STREAM = "<Stream live.sdp>\nFeed feed1.ffm\nFormat rtp\n</Stream>\n";
const RTP_PATH = "/live.sdp";

/**
 * live.conf with a `<Stream test.flv>` serving `file` and RTP_STREAM, `edit` applied to its text, as
 * overrides, and the import's warnings.
 */
async function liveConf(
  file: string,
  edit: (text: string) => string = (t) => t,
): Promise<ConfigOverrides & { warnings: string[] }> {
  const text = edit(await Deno.readTextFile(LIVE_CONF)) + `\n<Stream test.flv>\nFile "${file}"\n</Stream>\n` +
    "<Stream stat.html>\nFormat status\nACL allow localhost\n</Stream>\n" + RTP_STREAM;
  const { overrides, warnings } = parseFfserverConf(text, "live.conf");
  return {
    ...overrides,
    // RTSPPort 5454 is the file's; a test binds a free port (parallel-safe), as --rtsp-port 0 does.
    rtsp: { ...overrides.rtsp, port: 0 },
    // CustomLog - would print the access log among the test's output; the log itself is tested elsewhere.
    log: { ...overrides.log, access: null },
    warnings: warnings.map((w) => w.text),
  };
}

/** The width and height of a file's video stream. */
async function videoSize(path: string): Promise<string> {
  const r = await runOk("ffprobe", [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=width,height",
    "-of",
    "csv=p=0:s=x",
    path,
  ], 60_000);
  return r.stdout.trim();
}

/** A recording a viewer would accept: decodes clean, video first a keyframe and an I picture, enough frames. */
async function checkRecording(file: string, label: string): Promise<void> {
  assertEquals(await decodeErrors(file), "", `${label}: decodes clean`);
  const video = ofType(await probePackets(file), "video");
  assertGreaterOrEqual(video.length, RECORD_S * 25 * 0.8, `${label}: video frames`);
  assert(video[0].keyframe, `${label}: the first video packet is a keyframe`);
  assertEquals(ofType(await probeFrames(file), "video")[0].pictType, "I", `${label}: the first picture`);
}

function e2e(name: string, fn: (dir: string, src: string) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !TOOLS,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice_ffserver_" });
      try {
        await fn(dir, `${dir}/src.flv`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

e2e(
  "ffserver live.conf: ffmpeg pushes to /feed1.ffm; /live.flv, the 320x240 /small.flv and live.sdp over RTSP play; /test.flv serves the file",
  async (dir, src) => {
    await makeSource(src, { seconds: 20, gop: 25, bframes: 0 });
    // With a publish key: ffmpeg's push carries it; the transcode's own ffmpeg gets in with the server's key.
    const { warnings, ...overrides } = await liveConf(src);
    assertEquals(warnings, [
      "Format rtp: <Stream live.sdp> plays over RTSP at ffserver's rtsp://HOST:5454/live.sdp and at " +
      "rtsp://HOST:5454/feed/feed1 (the stream of <Feed feed1.ffm>)",
    ]);
    const server = await startServer({ ...overrides, auth: { publishKey: PUBLISH_KEY } });
    try {
      const base = `http://127.0.0.1:${server.sluice.httpPort}`;
      const pusher = publish(src, `${base}/feed1.ffm?key=${PUBLISH_KEY}`);
      await waitFor(
        () => (server.sluice.hub.get("feed/feed1")?.stats.videoFrames ?? 0) > 0,
        "the feed",
        BOUND_MS,
      );
      const live = `${dir}/live.flv`;
      const recorded = record(`${base}/live.flv`, live, RECORD_S);
      const transcoded = () => (server.sluice.hub.get("feed/small")?.stats.videoFrames ?? 0) > 0;
      await waitFor(transcoded, "the transcode's stream", BOUND_MS);
      const small = `${dir}/small.flv`;
      const smallRecorded = record(`${base}/small.flv`, small, RECORD_S);
      const rtsp = `${dir}/live_sdp.flv`;
      const rtspRecorded = record(
        `rtsp://127.0.0.1:${server.sluice.rtspPort}${RTP_PATH}`,
        rtsp,
        RECORD_S,
        ["-rtsp_transport", "tcp"],
      );
      const [r1, r2, r3] = await Promise.all([recorded, smallRecorded, rtspRecorded]);
      assertEquals(r1.code, 0, `live.flv: ${r1.stderr}`);
      assertEquals(r2.code, 0, `small.flv: ${r2.stderr}`);
      assertEquals(r3.code, 0, `live.sdp over RTSP: ${r3.stderr}`);
      await checkRecording(live, "/live.flv");
      assertEquals(await videoSize(live), "640x360", "/live.flv is the feed as pushed");
      await checkRecording(small, "/small.flv");
      assertEquals(await videoSize(small), "320x240", "/small.flv is the rendition");
      await checkRecording(rtsp, `live.sdp at rtsp://...${RTP_PATH}`);
      assertEquals(await videoSize(rtsp), "640x360", "live.sdp plays the feed as pushed");

      const res = await fetch(`${base}/test.flv`);
      assertEquals(res.status, 200);
      assertEquals(Number(res.headers.get("content-length")), (await Deno.stat(src)).size);
      await res.body?.cancel();
      const status = await fetch(`${base}/stat.html`);
      assertEquals(status.status, 200, "/stat.html (Format status, ACL allow localhost)");
      const html = await status.text();
      assert(html.includes("feed/feed1") && html.includes("/feed1.ffm"), "the status page lists the feed");
      assert(html.includes("feed/small"), "the status page lists the transcode's stream");
      const frames = ofType(await probeFrames(`${base}/test.flv`), "video");
      assertEquals(frames.length, 20 * 25, "/test.flv: every frame of the file decodes");
      await pusher.stop();
    } catch (e) {
      console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
      throw e;
    } finally {
      await server.stop();
    }
  },
);

e2e(
  "ffserver live.conf with ACL deny on the feed: a push to /feed1.ffm is refused with 403",
  async (_dir, src) => {
    await makeSource(src, { seconds: 3, gop: 25, bframes: 0 });
    const { warnings: _, ...overrides } = await liveConf(
      src,
      (t) => t.replace("ACL allow localhost", "ACL deny localhost"),
    );
    const server = await startServer(overrides);
    try {
      const base = `http://127.0.0.1:${server.sluice.httpPort}`;
      const body = await Deno.readFile(src);
      const res = await fetch(`${base}/feed1.ffm`, { method: "POST", body: body.subarray(0, 64 * 1024) });
      assertEquals(res.status, 403);
      const { error } = await refusal(res);
      assertEquals(
        error,
        'Cannot publish feed/feed1: address 127.0.0.1 may not publish feed/feed1 (rule "deny 127.0.0.1")',
      );
      const pusher = await publish(src, `${base}/feed1.ffm`).done;
      assert(pusher.code !== 0, "ffmpeg's push fails");
      assertEquals(server.sluice.hub.get("feed/feed1"), undefined, "nothing was published");
    } finally {
      await server.stop();
    }
  },
);
