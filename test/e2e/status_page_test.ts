/**
 * The status page in headless Chromium with JavaScript switched off, over a
 * real server: Sluice's RtmpClient publishes H.264 (a real 320x180 sequence
 * header) and AAC, an RTMP player and an HTTP-FLV player play it, and the page
 * (served by this test's own port-0 server around the real hub, as the admin
 * routes will serve it at `/status`) shows the stream, its publisher, codecs,
 * viewers by protocol and play URLs, and lists the three clients; its style
 * applies under its CSP; at 390 px it does not scroll sideways. Screenshots
 * (full width and 390 px) are saved under `test/artifacts/` (or `$SLUICE_ARTIFACTS`).
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import type { Page } from "playwright-core";
import { haveChromium, launchChromium } from "../_util/browser.ts";
import { aacSequenceHeader } from "../_util/hub_fakes.ts";
import { type LiveServer, sleep, startServer, SyntheticStream, waitFor } from "../_util/live.ts";
import { AVC_CONFIG_BASELINE } from "../fixtures/flv_fixtures.ts";
import { serveStatus, type StatusContext } from "../../src/admin/status_page.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { AvcPacketType, FrameKind, VideoCodecId, VideoFrameType } from "../../src/media/frame.ts";
import type { Publisher } from "../../src/rtmp/client/publisher.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";

const ARTIFACTS = Deno.env.get("SLUICE_ARTIFACTS") ?? new URL("../artifacts/", import.meta.url).pathname;
/** How long the page may take to load before the test gives up (a bound, not an assertion). */
const PAGE_WAIT_MS = 15_000;

/** An AVC sequence header tag: 0x17 (key, AVC), 0x00 (sequence header), CTS 0, then a real 320x180 record. */
function avcSequenceHeaderTag(): Uint8Array {
  const head = [(VideoFrameType.Key << 4) | VideoCodecId.Avc, AvcPacketType.SequenceHeader, 0, 0, 0];
  return Uint8Array.of(...head, ...AVC_CONFIG_BASELINE);
}

/** Sends the stream at its own pace (25 frames a second) until `stop` resolves. */
async function paced(pub: Publisher<RtmpClient>, syn: SyntheticStream, stop: Promise<void>): Promise<void> {
  let stopped = false;
  stop.then(() => stopped = true);
  while (!stopped) {
    await pub.sendFrames(syn.next());
    await sleep(40);
  }
}

/** The admin context the wiring builds (src/sluice.ts), around the running server's hub. */
function statusContext(server: LiveServer): StatusContext {
  const s = server.sluice;
  return {
    hub: s.hub,
    history: s.history,
    log: s.log,
    startedAt: Date.now(),
    listeners: () => s.listeners(),
    sseMaxClients: 1,
    sseMaxBacklogBytes: 1 << 20,
  };
}

/** The page's background colour as the browser paints it. */
function background(page: Page): Promise<string> {
  return page.evaluate<string>("getComputedStyle(document.documentElement).backgroundColor");
}

/** A port-0 server answering every request with the status page. */
function serveStatusPage(ctx: StatusContext): { url: Promise<string>; server: Deno.HttpServer } {
  const ready = Promise.withResolvers<string>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(`http://127.0.0.1:${a.port}/status`) },
    (req) => serveStatus(ctx, req),
  );
  return { url: ready.promise, server };
}

Deno.test({
  name:
    "serveStatus() in Chromium without JavaScript: a published stream shows with its publisher, codecs, viewers and URLs; clients listed; readable at 390 px",
  ignore: !haveChromium(),
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const server = await startServer();
    const status = serveStatusPage(statusContext(server));
    const stop = Promise.withResolvers<void>();
    const clients: RtmpClient[] = [];
    let flv: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let sending: Promise<void> | undefined;
    let draining: Promise<unknown> | undefined;
    const browser = await launchChromium();
    try {
      const publishing = await RtmpClient.connect(`${server.app}/cam`);
      clients.push(publishing);
      const pub = await publishing.publish();
      const syn = new SyntheticStream({ marker: 9, keyBytes: 8_000, interBytes: 1_500 });
      await pub.sendFrames([
        { kind: FrameKind.Video, timestamp: 0, payload: avcSequenceHeaderTag() },
        { kind: FrameKind.Audio, timestamp: 0, payload: aacSequenceHeader() },
        ...syn.next(),
      ]);
      sending = paced(pub, syn, stop.promise);

      const playing = await RtmpClient.connect(`${server.app}/cam`);
      clients.push(playing);
      const player = await playing.play();
      draining = (async () => {
        while (await player.read() !== undefined) { /* a player that keeps up */ }
      })();
      const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/live/cam.flv`);
      assertEquals(res.status, 200);
      flv = res.body!.getReader();
      const reader = flv;
      const flvDrain = (async () => {
        while (!(await reader.read()).done) { /* keeps up */ }
      })().catch(() => {});
      draining = Promise.all([draining, flvDrain]);
      const hub = server.sluice.hub;
      await waitFor(
        () => (hub.get("live/cam")?.snapshot().viewers.total ?? 0) === 2,
        "both players attached",
      );
      await waitFor(
        () => (hub.get("live/cam")?.snapshot().bitrate.video ?? 0) > 0,
        "a complete second of video",
        PAGE_WAIT_MS,
      );
      const publisherRemote = hub.sessions.list({ key: "live/cam" }).find((c) => c.role === Role.Publisher)
        ?.remote;
      assert(publisherRemote, "the publisher is registered with its address");

      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        javaScriptEnabled: false,
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("console", (m) => problems.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      const url = await status.url;
      const answer = await page.goto(url, { timeout: PAGE_WAIT_MS });
      assertEquals(answer?.status(), 200);

      const row = '#streams tr[data-stream="live/cam"]';
      const text = async (sel: string) =>
        ((await page.textContent(sel, { timeout: PAGE_WAIT_MS })) ?? "").trim();
      assertEquals(await text(`${row} [data-field="key"]`), "live/cam");
      assertEquals(await text(`${row} [data-field="state"]`), "live");
      assertEquals(await text(`${row} [data-field="publisher"]`), `rtmp${publisherRemote}`);
      assertMatch(
        await text(`${row} [data-field="video"]`),
        /^H\.264 Constrained Baseline 1\.3\s*320×180, 25 fps$/,
      );
      assertMatch(await text(`${row} [data-field="audio"]`), /^AAC LC\s*44\.1 kHz, stereo$/);
      assertMatch(await text(`${row} [data-field="bitrate"]`), /^[\d.]+ (kbit|Mbit)\/s/);
      assertMatch(
        await text(`${row} [data-field="viewers"]`),
        /^2\s*(rtmp 1 · http-flv 1|http-flv 1 · rtmp 1)$/,
      );
      const port = server.sluice.httpPort;
      assert(
        (await text(`${row} [data-field="play-urls"]`)).includes(`http://127.0.0.1:${port}/live/cam.flv`),
        "the HTTP-FLV play URL",
      );
      const clientRows = page.locator("#clients tbody tr");
      const seen = (await clientRows.evaluateAll((rows) =>
        rows.map((r) =>
          `${r.querySelector('[data-field="protocol"]')?.textContent} ${r.getAttribute("data-role")}`
        )
      )).sort();
      assertEquals(seen, [
        `${Protocol.HttpFlv} ${Role.Player}`,
        `${Protocol.Rtmp} ${Role.Player}`,
        `${Protocol.Rtmp} ${Role.Publisher}`,
      ]);
      assertEquals(await text(`#feeds [data-field="empty"]`), "No feeds configured.");
      assertEquals(await page.locator("script").count(), 0, "no <script> in the page");
      const collapse = await page.evaluate<string>(
        `getComputedStyle(document.getElementById("streams")).borderCollapse`,
      );
      assertEquals(collapse, "collapse", "the inline style applies under the CSP");
      assertEquals(await background(page), "rgb(246, 247, 249)", "light colours for a light scheme");
      await page.screenshot({ path: `${ARTIFACTS}/status_page.png`, fullPage: true });

      // The phone, in dark mode.
      const narrow = await browser.newContext({
        viewport: { width: 390, height: 900 },
        javaScriptEnabled: false,
        colorScheme: "dark",
      });
      const phone = await narrow.newPage();
      phone.on("console", (m) =>
        problems.push(`${m.type()}: ${m.text()}`));
      await phone.goto(url, { timeout: PAGE_WAIT_MS });
      const key = await phone.textContent(`${row} [data-field="key"]`, { timeout: PAGE_WAIT_MS });
      assertMatch(key ?? "", /live\/cam/);
      assertEquals(await background(phone), "rgb(16, 19, 26)", "dark colours for a dark scheme");
      await phone.screenshot({ path: `${ARTIFACTS}/status_page_390.png`, fullPage: true });
      const scrollWidth = await phone.evaluate<number>("document.documentElement.scrollWidth");
      assert(scrollWidth <= 390, `the page scrolls sideways at 390 px (${scrollWidth} px wide)`);
      await narrow.close();

      assertEquals(problems, [], "console messages (a CSP violation would show here)");
      assertEquals(requests, [url], "the page loads nothing besides itself");
      await context.close();
    } finally {
      await browser.close();
      stop.resolve();
      await sending?.catch(() => {});
      await flv?.cancel().catch(() => {});
      for (const c of clients) await c.close();
      await draining?.catch(() => {});
      await status.server.shutdown();
      await server.stop();
    }
  },
});
