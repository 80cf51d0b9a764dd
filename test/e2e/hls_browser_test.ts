/**
 * A browser plays Sluice's HLS: hls.js (the npm package's browser build) in
 * Debian's headless Chromium (driven by playwright-core) plays
 * `http://127.0.0.1:PORT/live/NAME.m3u8` in a muted, autoplaying `<video>`,
 * from a page served on another origin than Sluice's HTTP port (every request
 * is cross-origin: CORS is exercised). ffmpeg publishes H.264 with B-frames +
 * AAC over RTMP.
 *
 * - fMP4 and MPEG-TS segments, hls.js as a plain HLS player
 *   (`lowLatencyMode: false`): the playhead moves PLAY_S seconds, the video
 *   decodes about a frame per 1/25 s of play with few dropped, at 640x360;
 * - LL-HLS (fMP4 parts of LL_PART_TARGET_MS, hls.js `lowLatencyMode: true`):
 *   the same, and hls.js fetched parts (`-MSN.PART.m4s`) and made blocking
 *   reloads (`_HLS_msn`); the latency at the playhead (`Date.now() -
 *   hls.playingDate`, the EXT-X-PROGRAM-DATE-TIME-based wall time) is sampled
 *   once a second and its median and p90 printed, beside the same by the
 *   publisher's clock (ffmpeg `-re` sends media time t at publish time + t).
 *   This one measures a viewer joining a running stream: `hls.alwaysOn`, and
 *   the page opens once the playlist has a complete segment. (The first viewer
 *   of a stream muxed on demand starts from the GOP cache's burst; the fMP4
 *   and MPEG-TS tests play that start.)
 *
 * Every hls.js ERROR event, every HTTP answer >= 400 and every failed request
 * is printed; a fatal error fails the test. One screenshot per run goes to
 * `test/artifacts/` (or `$SLUICE_ARTIFACTS`). Every wait is bounded only to
 * keep a broken run from hanging; nothing asserts on time.
 */
import { assert, assertEquals, assertGreater, assertGreaterOrEqual } from "../_util/assert.ts";
import {
  haveChromium,
  type HlsState,
  hlsState,
  launchChromium,
  startHlsPageServer,
} from "../_util/browser.ts";
import {
  haveTools,
  makeSource,
  publish,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";

const CHROMIUM = haveChromium();
if (!CHROMIUM) console.warn("hls_browser_test: skipped: /usr/bin/chromium is not installed");
const TOOLS = haveTools("ffmpeg");
const ARTIFACTS = Deno.env.get("SLUICE_ARTIFACTS") ?? new URL("../artifacts/", import.meta.url).pathname;

/** Media seconds the playhead must move once playing has started. */
const PLAY_S = 10;
/** The source: long enough for the start-up and PLAY_S of play. */
const SOURCE_S = 40;
/** makeSource's frame rate (its default). */
const SOURCE_FPS = 25;
/** Decoded frames over the play, at least this share of the frames the media time holds. */
const MIN_DECODED_SHARE = 0.9;
/** Dropped frames, at most this share of the decoded ones. */
const MAX_DROPPED_SHARE = 0.05;
/** The LL-HLS part target: of 200, 250 and 333 ms, the one that gave the lowest median latency. */
const LL_PART_TARGET_MS = 200;
/** How often the latency is sampled while playing. */
const SAMPLE_EVERY_MS = 1_000;
/** Keeps a broken run from hanging: how long the video may take to start, and then to play PLAY_S. */
const START_TIMEOUT_MS = 30_000;
const PLAY_TIMEOUT_MS = PLAY_S * 1000 + 30_000;
/** Keeps a broken run from hanging: how long the stream may take to have a complete segment. */
const SEGMENT_TIMEOUT_MS = 15_000;

/** A part's URI: `{epoch}-{msn}.{part}.m4s` (hls_routes.ts). */
const PART_URI = /\/[0-9a-z]+-\d+\.\d+\.m4s(\?|$)/;
/** A blocking playlist reload (rfc8216bis 6.2.5.2). */
const BLOCKING_RELOAD = /\/index\.m3u8\?.*_HLS_msn=/;

function browserTest(
  name: string,
  fn: (server: TestServer, dir: string) => Promise<void>,
  overrides: ConfigOverrides,
): void {
  Deno.test({
    name: CHROMIUM ? name : `${name} (skipped: /usr/bin/chromium is not installed)`,
    ignore: !CHROMIUM || !TOOLS,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: () => withServer(fn, overrides),
  });
}

/** What one playback showed. */
interface HlsRun {
  /** The state when playing had started (a picture, the playhead moving), and after PLAY_S of play. */
  first: HlsState;
  last: HlsState;
  /** `Date.now() - hls.playingDate` once a second while playing (ms). */
  latencyMs: number[];
  /** `now - publishedAt - media time at the playhead` at the same moments (ms): the publisher's clock. */
  publisherLatencyMs: number[];
  /** hls.js's own latency estimate and target at the same moments (s). */
  hlsLatencyS: number[];
  targetLatencyS: number[];
  /** Every URL the page requested from Sluice, in order. */
  requests: string[];
  /** Answers >= 400 and failed requests ("STATUS URL" / "failed: REASON URL"). */
  problems: string[];
}

/** Resolves once the stream's HLS playlist lists a complete segment (polls the HLS service; bounded). */
async function waitForSegment(server: TestServer, key: string): Promise<void> {
  for (let waited = 0; waited < SEGMENT_TIMEOUT_MS; waited += 50) {
    if ((server.sluice.hls.stream(key)?.segmenter.snapshot().segments.length ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Cannot play ${key} over HLS: current state is no segment after ${SEGMENT_TIMEOUT_MS} ms`);
}

/**
 * Publishes a source as live/NAME, opens the hls.js page for its multivariant playlist with `hlsConfig`
 * (with `joinRunning`, once the muxer has a complete segment), waits until it plays, then samples it once
 * a second until the playhead has moved PLAY_S; saves a screenshot as `shot` in ARTIFACTS. Throws on a
 * fatal hls.js error or a media error.
 */
async function playHls(
  server: TestServer,
  dir: string,
  name: string,
  hlsConfig: Record<string, unknown>,
  shot: string,
  joinRunning = false,
  reconnect = false,
): Promise<HlsRun> {
  // With `reconnect`: a 9 s source published twice, the second as soon as the first ends (within the hub's
  // reconnect grace): the playlist gets EXT-X-DISCONTINUITY and the player must play through it.
  const seconds = reconnect ? 9 : SOURCE_S;
  const src = await makeSource(`${dir}/src.flv`, { seconds, bframes: 2, fps: SOURCE_FPS });
  let publisher = publish(src, server.url(name));
  const again = reconnect
    ? publisher.done.then(() => {
      publisher = publish(src, server.url(name));
    })
    : Promise.resolve();
  const pages = await startHlsPageServer();
  const browser = await launchChromium();
  const sluiceOrigin = `http://127.0.0.1:${server.sluice.httpPort}`;
  const requests: string[] = [];
  const problems: string[] = [];
  const pageLog: string[] = [];
  try {
    await waitForPublisher(server, name);
    if (joinRunning) await waitForSegment(server, `live/${name}`);
    const publishedAt = server.sluice.hub.get(`live/${name}`)!.stats.publishedAt;
    const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
    page.on("console", (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    page.on("request", (r) => {
      if (r.url().startsWith(sluiceOrigin)) requests.push(r.url());
    });
    // Until the player is destroyed (which aborts its blocked reload).
    let playing = true;
    page.on("response", (r) => {
      if (playing && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on("requestfailed", (r) => {
      if (playing) problems.push(`failed: ${r.failure()?.errorText} ${r.url()}`);
    });
    const mediaUrl = `${sluiceOrigin}/live/${name}.m3u8`;
    const pageUrl = `${pages.origin}/hls?src=${encodeURIComponent(mediaUrl)}&config=${
      encodeURIComponent(JSON.stringify(hlsConfig))
    }`;
    await page.goto(pageUrl, { timeout: START_TIMEOUT_MS });
    const fail = (what: string, state: HlsState) =>
      new Error(
        `Cannot play ${mediaUrl} with hls.js: ${what}: video at ${state.currentTime} s, ${state.videoWidth}x${state.videoHeight}, readyState ${state.readyState}, media error ${state.mediaError}, hls.js errors ${
          JSON.stringify(state.errors)
        }\nanswers: ${problems.slice(-10).join("\n")}\npage console:\n${pageLog.slice(-20).join("\n")}`,
      );
    const broken = (s: HlsState) => s.mediaError !== null || s.errors.some((e) => e.fatal !== false);

    // Playing: a picture and the playhead moving.
    let first = await hlsState(page);
    for (let waited = 0; !(first.currentTime > 0 && first.videoWidth > 0); waited += 100) {
      if (waited > START_TIMEOUT_MS || broken(first)) throw fail("no start", first);
      await new Promise((r) => setTimeout(r, 100));
      first = await hlsState(page);
    }
    const run: HlsRun = {
      first,
      last: first,
      latencyMs: [],
      publisherLatencyMs: [],
      hlsLatencyS: [],
      targetLatencyS: [],
      requests,
      problems,
    };
    for (let waited = 0; run.last.currentTime < first.currentTime + PLAY_S; waited += SAMPLE_EVERY_MS) {
      if (waited > PLAY_TIMEOUT_MS || broken(run.last)) throw fail(`not ${PLAY_S} s of play`, run.last);
      await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
      run.last = await hlsState(page);
      if (run.last.latencyMs !== null) run.latencyMs.push(run.last.latencyMs);
      if (run.last.mediaTimeS !== null) {
        run.publisherLatencyMs.push(Math.round(run.last.nowMs - publishedAt - run.last.mediaTimeS * 1000));
      }
      if (run.last.hlsLatencyS !== null) run.hlsLatencyS.push(run.last.hlsLatencyS);
      if (run.last.targetLatencyS !== null) run.targetLatencyS.push(run.last.targetLatencyS);
    }
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/${shot}` });
    playing = false;
    await page.evaluate("window.stopPlayback()");
    await page.close();
    return run;
  } finally {
    await browser.close();
    await pages.stop();
    await again;
    await publisher.stop();
  }
}

/** The value at quantile `q` (0-1) of `xs`, nearest rank. */
function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Prints what the run showed: play, frames, errors, answers, requests by kind. */
function report(label: string, run: HlsRun): void {
  const { first, last } = run;
  console.log(
    `${label}: played ${(last.currentTime - first.currentTime).toFixed(2)} s (from ${
      first.currentTime.toFixed(2)
    } s) in ${
      ((last.nowMs - first.nowMs) / 1000).toFixed(2)
    } s of wall clock, ${last.videoWidth}x${last.videoHeight}, frames decoded ${first.totalVideoFrames} -> ${last.totalVideoFrames}, dropped ${last.droppedVideoFrames}, buffer ahead ${
      last.bufferAheadS.toFixed(2)
    } s`,
  );
  for (const e of last.errors) console.log(`${label}: hls.js error ${JSON.stringify(e)}`);
  for (const p of run.problems) console.log(`${label}: ${p}`);
  const count = (re: RegExp) => run.requests.filter((u) => re.test(u)).length;
  console.log(
    `${label}: requests: ${run.requests.length} (playlists ${count(/\.m3u8/)}, blocking reloads ${
      count(BLOCKING_RELOAD)
    }, parts ${count(PART_URI)}, segments ${count(/-\d+\.(m4s|ts)(\?|$)/)}, init ${count(/-init\d+\.mp4/)})`,
  );
}

/** Seconds of media hls.js reported jumping over (nudges and seeks over holes) between `fromMs` and `toMs`. */
function skippedS(errors: HlsState["errors"], fromMs: number, toMs: number): number {
  let skipped = 0;
  for (const e of errors) {
    if (e.fatal !== false || typeof e.at !== "number" || e.at < fromMs || e.at > toMs) continue;
    if (e.details !== "bufferSeekOverHole" && e.details !== "bufferNudgeOnStall") continue;
    const m = /from ([\d.]+) to ([\d.]+)/.exec(String(e.reason ?? ""));
    if (m) skipped += Math.max(0, Number(m[2]) - Number(m[1]));
  }
  return skipped;
}

/** What every container's playback must show: PLAY_S of play, 640x360, frames decoded, few dropped. */
function assertPlayed(label: string, run: HlsRun, minDecodedShare = MIN_DECODED_SHARE): void {
  const { first, last } = run;
  assertEquals(last.errors.filter((e) => e.fatal !== false), [], `${label}: fatal hls.js errors`);
  assertEquals(last.mediaError, null, `${label}: media error`);
  assertGreaterOrEqual(last.currentTime - first.currentTime, PLAY_S, `${label}: the playhead`);
  assertEquals([last.videoWidth, last.videoHeight], [640, 360], `${label}: video size`);
  const decoded = last.totalVideoFrames - first.totalVideoFrames;
  // Pictures shown over the play: the playhead's advance, or the wall clock's when that is less (hls.js
  // seeks forward to the live edge when a play that started at the stream's first segment falls too far
  // behind, and the pictures jumped over are never decoded).
  // Less the media hls.js jumped over on its own within the play (a nudge past a stall, a seek over a hole
  // left by a part it chose not to load when it fell behind the live edge), which it reports as non-fatal
  // errors with both ends.
  const playedS = Math.min(last.currentTime - first.currentTime, (last.nowMs - first.nowMs) / 1000) -
    skippedS(last.errors, first.nowMs, last.nowMs);
  const expected = playedS * SOURCE_FPS;
  assertGreaterOrEqual(decoded, minDecodedShare * expected, `${label}: frames decoded over the play`);
  assert(
    last.droppedVideoFrames <= MAX_DROPPED_SHARE * last.totalVideoFrames,
    `${label}: ${last.droppedVideoFrames} of ${last.totalVideoFrames} frames dropped`,
  );
}

for (
  const { container, shot } of [
    { container: "fmp4", shot: "hls_fmp4.png" },
    { container: "ts", shot: "hls_ts.png" },
  ] as const
) {
  browserTest(
    `hls.js in headless Chromium plays ${container} HLS from another origin: ${PLAY_S} s of play, frames decoded at 640x360`,
    async (server, dir) => {
      const run = await playHls(server, dir, `hls${container}`, { lowLatencyMode: false }, shot);
      report(`hls.js ${container}`, run);
      assertPlayed(`hls.js ${container}`, run);
      const ext = container === "ts" ? /-\d+\.ts(\?|$)/ : /-\d+\.m4s(\?|$)/;
      assertGreater(run.requests.filter((u) => ext.test(u)).length, 0, `${container} segments fetched`);
    },
    { hls: { container } },
  );
}

browserTest(
  `hls.js in low-latency mode plays LL-HLS (fMP4, ${LL_PART_TARGET_MS} ms parts): it fetches parts, blocks on reloads, and its latency is measured`,
  async (server, dir) => {
    const run = await playHls(server, dir, "hlsll", { lowLatencyMode: true }, "hls_ll.png", true);
    report("hls.js LL-HLS", run);
    assertPlayed("hls.js LL-HLS", run);
    const median = quantile(run.latencyMs, 0.5);
    const p90 = quantile(run.latencyMs, 0.9);
    console.log(
      `hls.js LL-HLS latency (Date.now() - playingDate), part target ${LL_PART_TARGET_MS} ms, ${run.latencyMs.length} samples: median ${median} ms, p90 ${p90} ms`,
    );
    console.log(
      `hls.js LL-HLS latency by the publisher's clock: median ${
        quantile(run.publisherLatencyMs, 0.5)
      } ms, p90 ${quantile(run.publisherLatencyMs, 0.9)} ms; hls.latency median ${
        quantile(run.hlsLatencyS, 0.5)?.toFixed(3)
      } s, hls.targetLatency median ${quantile(run.targetLatencyS, 0.5)?.toFixed(3)} s`,
    );
    assertGreater(run.latencyMs.length, 0, "latency samples");
    assert(Number.isFinite(median) && median > 0, `median latency ${median} ms`);
    assert(Number.isFinite(p90) && p90 > 0, `p90 latency ${p90} ms`);
    assertGreater(run.requests.filter((u) => PART_URI.test(u)).length, 0, "parts fetched");
    assertGreater(run.requests.filter((u) => BLOCKING_RELOAD.test(u)).length, 0, "blocking reloads");
  },
  { hls: { container: "fmp4", partTargetMs: LL_PART_TARGET_MS, alwaysOn: true } },
);

browserTest(
  `hls.js in low-latency mode as a stream's first HLS viewer (muxed on demand from the GOP cache) plays, and its latency is measured`,
  async (server, dir) => {
    const run = await playHls(server, dir, "hllfirst", { lowLatencyMode: true }, "hls_ll_first.png", false);
    report("hls.js LL-HLS first viewer", run);
    assertPlayed("hls.js LL-HLS first viewer", run);
    const median = quantile(run.latencyMs, 0.5);
    console.log(
      `hls.js LL-HLS first viewer latency: median ${median} ms, p90 ${quantile(run.latencyMs, 0.9)} ms; ` +
        `by the publisher's clock median ${quantile(run.publisherLatencyMs, 0.5)} ms`,
    );
    assert(Number.isFinite(median) && median > 0, `median latency ${median} ms`);
    assertGreater(run.requests.filter((u) => PART_URI.test(u)).length, 0, "parts fetched");
  },
  { hls: { container: "fmp4", partTargetMs: LL_PART_TARGET_MS } },
);

browserTest(
  "hls.js plays through a publisher reconnect (EXT-X-DISCONTINUITY): 10 s of play across it, no fatal error",
  async (server, dir) => {
    const run = await playHls(
      server,
      dir,
      "hlsre",
      { lowLatencyMode: false },
      "hls_reconnect.png",
      false,
      true,
    );
    report("hls.js reconnect", run);
    // hls.js realigns each discontinuity's timeline on its own and seeks over the hole the reconnect left
    // (about 0.2 s, plus the publisher's real gap): fewer frames than the play's length.
    assertPlayed("hls.js reconnect", run, 0.8);
    assertGreater(run.last.currentTime, 9.2, "the playhead went past the reconnect (the first run is 9 s)");
    const text = await (await fetch(`http://127.0.0.1:${server.sluice.httpPort}/live/hlsre/index.m3u8`))
      .text();
    assert(text.includes("#EXT-X-DISCONTINUITY"), `the playlist marks the reconnect:\n${text}`);
  },
  { hls: { container: "fmp4" } },
);
