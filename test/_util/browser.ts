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
// hls.js's browser build (UMD: defines `window.Hls`), as text, to serve to the page.
import HLS_JS from "hls.js/dist/hls.js" with { type: "text" };

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

// ---- hls.js

/**
 * Serves `/hls.js` and `/hls?src=URL&config=JSON`: a page with a muted,
 * autoplaying `<video>` that hls.js plays from `src` (a multivariant or media
 * playlist) with `config` (hls.js's `HlsConfig`, as JSON) over its defaults.
 * The page keeps every hls.js ERROR event in `window.playback.errors` and the
 * player in `window.hls`; `window.stopPlayback()` destroys it.
 */
export async function startHlsPageServer(): Promise<PageServer> {
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => ready.resolve(addr.port) },
    (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/hls.js") {
        return new Response(HLS_JS, { headers: { "content-type": "text/javascript; charset=utf-8" } });
      }
      if (url.pathname === "/hls") {
        const src = url.searchParams.get("src") ?? "";
        const config = url.searchParams.get("config") ?? "{}";
        return new Response(hlsPage(src, config), {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      }
      return new Response("not found\n", { status: 404 });
    },
  );
  const port = await ready.promise;
  return { origin: `http://127.0.0.1:${port}`, stop: () => server.shutdown() };
}

function hlsPage(src: string, config: string): string {
  // The config is parsed here so that a bad one fails the test, not the page.
  const configJson = JSON.stringify(JSON.parse(config));
  return `<!doctype html>
<meta charset="utf-8">
<title>Sluice hls.js test</title>
<style>body { margin: 0; background: #000; } video { width: 100vw; height: 100vh; }</style>
<video id="video" muted autoplay playsinline></video>
<script src="/hls.js"></script>
<script>
  window.playback = { errors: [], initPts: null };
  const video = document.getElementById("video");
  if (!Hls.isSupported()) window.playback.errors.push({ type: "page", details: "Hls.isSupported() is false" });
  const hls = new Hls(${configJson});
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_event, d) => {
    window.playback.errors.push({
      type: d.type,
      details: d.details,
      fatal: d.fatal,
      url: (d.frag && d.frag.url) || d.url || (d.context && d.context.url) || null,
      code: (d.response && d.response.code) || null,
      reason: d.reason || (d.error && d.error.message) || null,
      at: Date.now(),
    });
  });
  // The media time that playlist time 0 stands for (the first fragment's initPTS), per discontinuity.
  hls.on(Hls.Events.INIT_PTS_FOUND, (_event, d) => {
    if (d.frag.cc === 0) window.playback.initPts = d.initPTS / d.timescale;
  });
  hls.loadSource(${JSON.stringify(src)});
  hls.attachMedia(video);
  video.play().catch((e) => window.playback.errors.push({ type: "page", details: "play(): " + e }));
  window.stopPlayback = () => { hls.destroy(); };
</script>
`;
}

/** One hls.js ERROR event as the page kept it. */
export interface HlsError {
  type: string;
  details: string;
  fatal?: boolean;
  url?: string | null;
  code?: number | null;
  reason?: string | null;
  /** Page wall clock (ms since the epoch). */
  at?: number;
}

/** What the hls.js page's video element and player show. */
export interface HlsState {
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  readyState: number;
  /** `getVideoPlaybackQuality()`. */
  totalVideoFrames: number;
  droppedVideoFrames: number;
  /** Seconds buffered ahead of the playhead. */
  bufferAheadS: number;
  /** `Date.now() - hls.playingDate` (ms): wall-clock latency by EXT-X-PROGRAM-DATE-TIME; null before it is known. */
  latencyMs: number | null;
  /**
   * The media time at the playhead (s): `currentTime` plus the first fragment's initPTS (the stream's own
   * timestamps; before a discontinuity); null before hls.js found it.
   */
  mediaTimeS: number | null;
  /** The page's `Date.now()` when the state was read. */
  nowMs: number;
  /** hls.js's own `hls.latency` and `hls.targetLatency` (s), null when it has none. */
  hlsLatencyS: number | null;
  targetLatencyS: number | null;
  errors: HlsError[];
  mediaError: string | null;
}

/** Reads the hls.js page's `<video>`, playback quality, latency and hls.js errors. */
export function hlsState(page: Page): Promise<HlsState> {
  return page.evaluate<HlsState>(`(() => {
    const v = document.getElementById("video");
    const q = v.getVideoPlaybackQuality();
    const hls = window.hls;
    let ahead = 0;
    for (let i = 0; i < v.buffered.length; i++) {
      if (v.buffered.start(i) <= v.currentTime && v.currentTime <= v.buffered.end(i)) {
        ahead = v.buffered.end(i) - v.currentTime;
      }
    }
    const date = hls && hls.playingDate;
    const finite = (x) => (typeof x === "number" && isFinite(x) ? x : null);
    return {
      currentTime: v.currentTime,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      readyState: v.readyState,
      totalVideoFrames: q.totalVideoFrames,
      droppedVideoFrames: q.droppedVideoFrames,
      bufferAheadS: ahead,
      latencyMs: date ? Date.now() - date.getTime() : null,
      mediaTimeS: window.playback.initPts === null ? null : v.currentTime + window.playback.initPts,
      nowMs: Date.now(),
      hlsLatencyS: hls ? finite(hls.latency) : null,
      targetLatencyS: hls ? finite(hls.targetLatency) : null,
      errors: window.playback.errors,
      mediaError: v.error ? v.error.code + " " + v.error.message : null,
    };
  })()`);
}
