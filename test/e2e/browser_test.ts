/**
 * A browser plays Sluice's FLV outputs: mpegts.js in Debian's headless
 * Chromium (driven by playwright-core) plays HTTP-FLV and WebSocket-FLV in a
 * muted, autoplaying `<video>`, from a page served on another origin than
 * Sluice's HTTP port (so every request is cross-origin: CORS is exercised).
 * ffmpeg publishes H.264 with B-frames + AAC over RTMP.
 *
 * Every wait is bounded only to keep a broken run from hanging; nothing
 * asserts on time.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  haveChromium,
  launchChromium,
  startPageServer,
  type VideoState,
  videoState,
} from "../_util/browser.ts";
import {
  haveTools,
  makeSource,
  publish,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";

const CHROMIUM = haveChromium();
if (!CHROMIUM) console.warn("browser_test: skipped: /usr/bin/chromium is not installed");
const TOOLS = haveTools("ffmpeg");

/** The video must play past this much media time. */
const PLAY_PAST_S = 3;
/** Keeps a broken run from hanging: how long the video may take to get there. */
const PLAY_TIMEOUT_MS = 30_000;

function browserTest(name: string, fn: (server: TestServer, dir: string) => Promise<void>): void {
  Deno.test({
    name: CHROMIUM ? name : `${name} (skipped: /usr/bin/chromium is not installed)`,
    ignore: !CHROMIUM || !TOOLS,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: () => withServer(fn),
  });
}

/**
 * Publishes a source as live/NAME, opens the play page for `mediaUrl(server)` in Chromium and waits until
 * the video has played past PLAY_PAST_S with a picture; returns the video's last state.
 */
async function playInBrowser(
  server: TestServer,
  dir: string,
  name: string,
  mediaUrl: string,
): Promise<VideoState> {
  const src = await makeSource(`${dir}/src.flv`, { seconds: 20, bframes: 2 });
  const publisher = publish(src, server.url(name));
  const pages = await startPageServer();
  const browser = await launchChromium();
  try {
    await waitForPublisher(server, name);
    const page = await browser.newPage();
    const pageLog: string[] = [];
    page.on("console", (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    const pageUrl = `${pages.origin}/play?src=${encodeURIComponent(mediaUrl)}`;
    await page.goto(pageUrl, { timeout: PLAY_TIMEOUT_MS });
    let state = await videoState(page);
    for (let waited = 0; !(state.currentTime > PLAY_PAST_S && state.videoWidth > 0); waited += 200) {
      if (waited > PLAY_TIMEOUT_MS || state.errors.length > 0 || state.mediaError) {
        throw new Error(
          `Cannot play ${mediaUrl} in Chromium: video at ${state.currentTime} s, ${state.videoWidth}x${state.videoHeight}, readyState ${state.readyState}, media error ${state.mediaError}, mpegts.js errors ${
            JSON.stringify(state.errors)
          }\npage console:\n${pageLog.slice(-20).join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
      state = await videoState(page);
    }
    await page.evaluate("window.stopPlayback()");
    await page.close();
    return state;
  } finally {
    await browser.close();
    await pages.stop();
    await publisher.stop();
  }
}

browserTest(
  "mpegts.js in headless Chromium plays HTTP-FLV from another origin: the video passes 3 s with a picture",
  async (server, dir) => {
    const url = `http://127.0.0.1:${server.sluice.httpPort}/live/browser.flv`;
    const state = await playInBrowser(server, dir, "browser", url);
    console.log(
      `HTTP-FLV: video at ${state.currentTime.toFixed(2)} s, ${state.videoWidth}x${state.videoHeight}`,
    );
    assertEquals(state.errors, []);
    assertEquals([state.videoWidth, state.videoHeight], [640, 360]);
    assert(
      server.logs.some((l) => /\[http-flv 127\.0\.0\.1:\d+\] playing live\/browser/.test(l)),
      "the server saw no HTTP-FLV player",
    );
  },
);

browserTest(
  "mpegts.js in headless Chromium plays WebSocket-FLV from another origin: the video passes 3 s with a picture",
  async (server, dir) => {
    const url = `ws://127.0.0.1:${server.sluice.httpPort}/live/browserws.flv`;
    const state = await playInBrowser(server, dir, "browserws", url);
    console.log(
      `WebSocket-FLV: video at ${state.currentTime.toFixed(2)} s, ${state.videoWidth}x${state.videoHeight}`,
    );
    assertEquals(state.errors, []);
    assertEquals([state.videoWidth, state.videoHeight], [640, 360]);
    assert(
      server.logs.some((l) => /\[ws-flv 127\.0\.0\.1:\d+\] playing live\/browserws/.test(l)),
      "the server saw no WebSocket-FLV player",
    );
  },
);
