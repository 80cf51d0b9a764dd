/**
 * The preview player: one muted HTTP-FLV player (mpegts.js, given by main.ts
 * behind the small PlayerLib this file declares) on the page's `<video>`, and
 * its latency readout: the end of what is buffered minus the play position.
 *
 * Policy: one preview at a time (starting another stops the first); the
 * readout is refreshed by one timer while a preview plays (every
 * LATENCY_TICK_MS) and the timer goes with the player.
 *
 * @module
 */

/** How often the latency readout is refreshed, ms. */
export const LATENCY_TICK_MS = 250;

/** The `<video>` as the preview uses it. */
export interface PreviewMedia {
  muted: boolean;
  readonly currentTime: number;
  readonly buffered: { readonly length: number; end(index: number): number };
  play(): Promise<void> | void;
}

/** The player event that reports a failure (mpegts.js `Events.ERROR`): listeners get (type, detail). */
export const PLAYER_ERROR = "error";

/** An mpegts.js player, as the preview uses it. */
export interface PreviewPlayer {
  on(event: string, listener: (type: string, detail: string) => void): void;
  attachMediaElement(media: PreviewMedia): void;
  load(): void;
  unload(): void;
  detachMediaElement(): void;
  destroy(): void;
}

/** The mpegts.js source description the preview passes. */
export interface PreviewSource {
  type: "flv";
  isLive: true;
  url: string;
  hasAudio?: boolean;
  hasVideo?: boolean;
}

/** The mpegts.js options the preview passes (low latency, no worker: the page's CSP allows none). */
export interface PreviewConfig {
  enableWorker: false;
  enableStashBuffer: false;
  liveBufferLatencyChasing: true;
  liveBufferLatencyMaxLatency: number;
  liveBufferLatencyMinRemain: number;
  lazyLoad: false;
}

/** mpegts.js, as the preview uses it. */
export interface PlayerLib {
  isSupported(): boolean;
  createPlayer(source: PreviewSource, config: PreviewConfig): PreviewPlayer;
}

/** Timers (the browser's, or a fake). */
export interface PreviewTimers {
  setInterval(fn: () => void, ms: number): number;
  clearInterval(id: number): void;
}

/** The player options: chase the live edge, keep at most 1.5 s buffered, keep 0.3 s. */
export const PREVIEW_CONFIG: PreviewConfig = {
  enableWorker: false,
  enableStashBuffer: false,
  liveBufferLatencyChasing: true,
  liveBufferLatencyMaxLatency: 1.5,
  liveBufferLatencyMinRemain: 0.3,
  lazyLoad: false,
};

/** The end of the buffer minus the play position, in ms; null when nothing is buffered. */
export function latencyMs(media: Pick<PreviewMedia, "currentTime" | "buffered">): number | null {
  const n = media.buffered.length;
  if (n === 0) return null;
  return Math.max(0, Math.round((media.buffered.end(n - 1) - media.currentTime) * 1000));
}

/** The readout text: "latency 420 ms", or "buffering…" before anything is buffered. */
export function latencyText(ms: number | null): string {
  return ms === null ? "buffering…" : `latency ${ms} ms`;
}

export class Preview {
  #lib: PlayerLib;
  #media: PreviewMedia;
  #timers: PreviewTimers;
  #onLatency: (ms: number | null) => void;
  #onError: (message: string) => void;
  #player: PreviewPlayer | undefined;
  #timer: number | undefined;
  #key: string | null = null;

  /** `onLatency` gets each readout (null: nothing buffered yet), `onError` the player's failures. */
  constructor(
    lib: PlayerLib,
    media: PreviewMedia,
    timers: PreviewTimers,
    onLatency: (ms: number | null) => void,
    onError: (message: string) => void,
  ) {
    this.#lib = lib;
    this.#media = media;
    this.#timers = timers;
    this.#onLatency = onLatency;
    this.#onError = onError;
  }

  /** The stream playing, or null. */
  get key(): string | null {
    return this.#key;
  }

  /** Plays `url` (the stream `key`'s HTTP-FLV) muted, after stopping any preview; throws if MSE is missing. */
  start(key: string, url: string): void {
    this.stop();
    if (!this.#lib.isSupported()) {
      throw new Error("Cannot preview: this browser has no Media Source Extensions");
    }
    const player = this.#lib.createPlayer({ type: "flv", isLive: true, url }, PREVIEW_CONFIG);
    player.on(PLAYER_ERROR, (type, detail) => {
      if (this.#player === player) this.#onError(`Cannot play ${key}: ${type} ${detail}`);
    });
    this.#media.muted = true;
    player.attachMediaElement(this.#media);
    player.load();
    this.#player = player;
    this.#key = key;
    const playing = this.#media.play();
    if (playing) playing.catch(() => {}); // autoplay refused: the controls still play it
    this.#onLatency(null);
    this.#timer = this.#timers.setInterval(() => this.#onLatency(latencyMs(this.#media)), LATENCY_TICK_MS);
  }

  /** Stops and forgets the player and its timer; nothing if none plays. */
  stop(): void {
    if (this.#timer !== undefined) this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
    const player = this.#player;
    this.#player = undefined;
    this.#key = null;
    if (!player) return;
    player.unload();
    player.detachMediaElement();
    player.destroy();
  }
}
