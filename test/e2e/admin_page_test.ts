/**
 * The admin dashboard in headless Chromium against a real server: ffmpeg
 * publishes 1280x720 H.264 + AAC, ffmpeg plays it over RTMP and over HTTP-FLV,
 * and the page (fed by its EventSource) shows the stream's resolution, frame
 * rate, codecs and bitrate, lists both players, draws its graphs and plays a
 * preview; its Kick button disconnects the RTMP player and its Stop button
 * disconnects ffmpeg. Screenshots (full width and 390 px) are saved under
 * `test/artifacts/` (or `$SLUICE_ARTIFACTS`).
 */
import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import { haveChromium, launchChromium } from "../_util/browser.ts";
import {
  haveTools,
  makeSource,
  type Proc,
  publish,
  start,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { waitFor } from "../_util/live.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe") && haveChromium();
const ARTIFACTS = Deno.env.get("SLUICE_ARTIFACTS") ?? new URL("../artifacts/", import.meta.url).pathname;
/** How long a UI change may take to show up before the test gives up (a bound, not an assertion). */
const UI_WAIT_MS = 15_000;

/** ffmpeg reading `url` to nowhere (a player that keeps up), until stopped or disconnected. */
function player(url: string): Proc {
  return start("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-i",
    url,
    "-c",
    "copy",
    "-f",
    "null",
    "-",
  ], {
    timeoutMs: 120_000,
  });
}

/** The source's audio + video bit rate from its packets, bits per second. */
async function sourceBitrate(path: string): Promise<number> {
  const r = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-show_entries", "packet=size,dts_time", "-of", "csv=p=0", path],
    stdout: "piped",
  }).output();
  const rows = new TextDecoder().decode(r.stdout).trim().split("\n").map((l) => l.split(","));
  let bytes = 0;
  let last = 0;
  for (const [t, size] of rows) {
    bytes += Number(size);
    last = Math.max(last, Number(t));
  }
  return (bytes * 8) / last;
}

/** "2.13 Mbit/s" -> 2_130_000. */
function parseBitrate(text: string): number {
  const m = text.match(/([\d.]+)\s*(bit|kbit|Mbit|Gbit)\/s/);
  if (!m) return NaN;
  return Number(m[1]) * ({ bit: 1, kbit: 1e3, Mbit: 1e6, Gbit: 1e9 } as Record<string, number>)[m[2]];
}

Deno.test({
  name:
    "admin page: a 720p publish shows with its resolution, frame rate, codecs and bitrate; players listed; graphs, preview, kick and stop work",
  ignore: !TOOLS,
  fn: () =>
    withServer(async (server, dir) => {
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const src = await makeSource(`${dir}/src.flv`, {
        seconds: 60,
        size: "1280x720",
        video: "2M",
        bframes: 0,
      });
      const realBps = await sourceBitrate(src);
      const http = `http://127.0.0.1:${server.sluice.httpPort}`;
      const browser = await launchChromium();
      const procs: Proc[] = [];
      try {
        // bypassCSP: playwright's string predicates are evaluated in the page, which the page's strict CSP
        // (no eval) forbids; the CSP itself is checked in test/admin/page_test.ts.
        const context = await browser.newContext({
          viewport: { width: 1280, height: 1000 },
          bypassCSP: true,
        });
        const page = await context.newPage();
        const external: string[] = [];
        page.on("request", (r) => {
          const u = r.url();
          if (!u.startsWith(http) && !u.startsWith("blob:") && !u.startsWith("data:")) external.push(u);
        });
        page.on("dialog", (d) => d.accept());
        await page.goto(`${http}/admin/`);
        await page.waitForSelector('#feed-status [data-feed="live"]', { timeout: UI_WAIT_MS });

        const publisher = publish(src, server.url("cam"));
        procs.push(publisher);
        await waitForPublisher(server, "cam");
        const publishedAt = Date.now();
        const row = '[data-stream="live/cam"]';
        await page.waitForFunction(
          `document.querySelector('${row} [data-field="resolution"]')?.textContent.includes("1280")`,
          undefined,
          { timeout: UI_WAIT_MS },
        );
        console.log(`the page showed the stream ${Date.now() - publishedAt} ms after its first frame`);
        assertEquals(await page.textContent(`${row} [data-field="resolution"]`), "1280×720");
        assertMatch(await page.textContent(`${row} [data-field="frame-rate"]`) ?? "", /^25 fps$/);
        assertMatch(await page.textContent(`${row} [data-field="video-codec"]`) ?? "", /^H\.264 High/);
        assertMatch(await page.textContent(`${row} [data-field="audio-codec"]`) ?? "", /^AAC/);

        // The bitrate window is 5 s: wait until it covers 5 s of the publish, then compare.
        await waitFor(() => Date.now() - publishedAt > 6_000, "six seconds of the publish", 10_000);
        const shown = parseBitrate(await page.textContent(`${row} [data-field="bitrate"]`) ?? "");
        console.log(
          `bitrate shown ${(shown / 1e6).toFixed(2)} Mbit/s, source ${(realBps / 1e6).toFixed(2)} Mbit/s`,
        );
        assert(Math.abs(shown - realBps) / realBps <= 0.2, `bitrate ${shown} vs ${realBps}`);

        const rtmpPlayer = player(server.url("cam"));
        const flvPlayer = player(`${http}/live/cam.flv`);
        procs.push(rtmpPlayer, flvPlayer);
        const playerRow = (protocol: string) =>
          `#clients tr[data-role="player"]:has(td[data-field="protocol"]:text-is("${protocol}"))`;
        await page.waitForSelector(playerRow("rtmp"), { timeout: UI_WAIT_MS });
        await page.waitForSelector(playerRow("http-flv"), { timeout: UI_WAIT_MS });

        for (const id of ["graph-bitrate", "graph-viewers"]) {
          const inked = await page.evaluate(`(() => {
            const c = document.querySelector("#${id} canvas");
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            const first = d.slice(0, 4).join();
            for (let i = 4; i < d.length; i += 4) if (d.slice(i, i + 4).join() !== first) return true;
            return false;
          })()`);
          assert(inked, `#${id} is blank`);
        }

        await page.click(`${row} [data-action="preview"]`);
        await page.waitForFunction(
          `(() => { const v = document.getElementById("preview-video"); return v && v.currentTime > 1; })()`,
          undefined,
          { timeout: UI_WAIT_MS },
        );
        const t1 = await page.evaluate<number>(`document.getElementById("preview-video").currentTime`);
        await page.waitForFunction(
          `document.getElementById("preview-video").currentTime > ${t1}`,
          undefined,
          { timeout: UI_WAIT_MS },
        );
        const colours = await page.evaluate<number>(`(() => {
          const v = document.getElementById("preview-video");
          const c = document.createElement("canvas");
          c.width = 64; c.height = 36;
          const g = c.getContext("2d");
          g.drawImage(v, 0, 0, 64, 36);
          const d = g.getImageData(0, 0, 64, 36).data;
          const seen = new Set();
          for (let i = 0; i < d.length; i += 4) seen.add((d[i] >> 4) + "," + (d[i + 1] >> 4) + "," + (d[i + 2] >> 4));
          return seen.size;
        })()`);
        assertGreater(colours, 4, "the preview frame is a single colour");
        assertMatch(await page.textContent("#preview-latency") ?? "", /latency \d+ ms|buffering/);
        await page.screenshot({ path: `${ARTIFACTS}/admin_page_1280.png`, fullPage: true });

        await page.click(`${playerRow("rtmp")} [data-action="kick"]`);
        const kicked = await rtmpPlayer.done;
        console.log(`the kicked RTMP player exited with ${kicked.code}: ${kicked.stderr.trim().slice(-200)}`);
        await page.waitForSelector(playerRow("rtmp"), { state: "detached", timeout: UI_WAIT_MS });
        assert(
          server.sluice.hub.sessions.list({ key: "live/cam" }).every((s) =>
            s.protocol !== "rtmp" || s.role !== "player"
          ),
          "the kicked player is still registered",
        );

        const narrow = await browser.newContext({ viewport: { width: 390, height: 900 }, bypassCSP: true });
        const phone = await narrow.newPage();
        await phone.goto(`${http}/admin/`);
        await phone.waitForSelector(`${row} [data-field="resolution"]`, { timeout: UI_WAIT_MS });
        await phone.screenshot({ path: `${ARTIFACTS}/admin_page_390.png`, fullPage: true });
        const scrollWidth = await phone.evaluate<number>("document.documentElement.scrollWidth");
        assert(scrollWidth <= 390, `the page scrolls sideways at 390 px (${scrollWidth} px wide)`);
        await narrow.close();

        await page.click(`${row} [data-action="stop"]`);
        const stopped = await publisher.done;
        assert(!stopped.timedOut, "ffmpeg was not disconnected by Stop");
        await waitFor(
          () => server.sluice.hub.get("live/cam")?.publisher === undefined,
          "the publisher to leave",
        );
        assertEquals(external, [], "the page made requests to other origins");
        await context.close();
      } finally {
        for (const p of procs) await p.stop("SIGKILL");
        await browser.close();
      }
    }),
});
