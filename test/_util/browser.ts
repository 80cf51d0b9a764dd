/**
 * Helpers for tests that play a stream in a real browser: Debian's headless
 * Chromium driven by playwright-core (never a downloaded browser), and a small
 * page server on its own port (so the page's origin differs from Sluice's and
 * every media request is cross-origin) serving a test page and mpegts.js's
 * browser build.
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";
// mpegts.js's browser build (UMD: defines `window.mpegts`), as text, to serve to the page.
import MPEGTS_JS from "mpegts.js/dist/mpegts.js" with { type: "text" };

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether CHROMIUM is installed. Sync, for `Deno.test({ ignore })`. */
export function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Launches headless Chromium: no sandbox, GPU, QUIC or background traffic; media may autoplay. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/** A page server on 127.0.0.1, port 0. */
export interface PageServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  stop(): Promise<void>;
}

/**
 * Serves `/mpegts.js` and `/play?src=URL`: a page with a muted, autoplaying
 * `<video>` that mpegts.js plays from `src` (HTTP-FLV, or WebSocket-FLV for a
 * ws:// URL). The page keeps what a test reads in `window.playback`: mpegts.js
 * errors and the player's statistics.
 */
export async function startPageServer(): Promise<PageServer> {
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr.port) },
    (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/mpegts.js") {
        return new Response(MPEGTS_JS, { headers: { "content-type": "text/javascript; charset=utf-8" } });
      }
      if (url.pathname === "/play") {
        return new Response(playPage(url.searchParams.get("src") ?? ""), {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      }
      return new Response("not found\n", { status: 404 });
    },
  );
  const port = await ready.promise;
  return { origin: `http://127.0.0.1:${port}`, stop: () => server.shutdown() };
}

function playPage(src: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>Sluice play test</title>
<video id="video" muted autoplay playsinline></video>
<script src="/mpegts.js"></script>
<script>
  window.playback = { errors: [], stats: null };
  const video = document.getElementById("video");
  const player = mpegts.createPlayer(
    { type: "flv", isLive: true, url: ${JSON.stringify(src)} },
    { enableWorker: false, enableStashBuffer: false },
  );
  player.on(mpegts.Events.ERROR, (type, detail, info) => {
    window.playback.errors.push(type + " " + detail + " " + JSON.stringify(info));
  });
  player.on(mpegts.Events.STATISTICS_INFO, (s) => { window.playback.stats = s; });
  player.attachMediaElement(video);
  player.load();
  video.play().catch((e) => window.playback.errors.push("play(): " + e));
  window.stopPlayback = () => { player.pause(); player.unload(); player.detachMediaElement(); player.destroy(); };
</script>
`;
}

/** What the page's video element shows. */
export interface VideoState {
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  readyState: number;
  errors: string[];
  mediaError: string | null;
}

/**
 * Reads the page's `<video>` and mpegts.js errors. (The page-side code is a string: this project's type
 * check has no DOM library.)
 */
export function videoState(page: Page): Promise<VideoState> {
  return page.evaluate<VideoState>(`(() => {
    const v = document.getElementById("video");
    return {
      currentTime: v.currentTime,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      readyState: v.readyState,
      errors: window.playback.errors,
      mediaError: v.error ? v.error.code + " " + v.error.message : null,
    };
  })()`);
}
