import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import {
  LATENCY_TICK_MS,
  latencyMs,
  latencyText,
  PLAYER_ERROR,
  type PlayerLib,
  Preview,
  PREVIEW_CONFIG,
  type PreviewConfig,
  type PreviewMedia,
  type PreviewPlayer,
  type PreviewSource,
  type PreviewTimers,
} from "../../../src/admin/page/preview.ts";

class FakeMedia implements PreviewMedia {
  muted = false;
  currentTime = 0;
  ends: number[] = [];
  plays = 0;
  get buffered(): { length: number; end(i: number): number } {
    return { length: this.ends.length, end: (i) => this.ends[i] };
  }
  play(): Promise<void> {
    this.plays++;
    return Promise.reject(new Error("autoplay refused"));
  }
}

class FakePlayer implements PreviewPlayer {
  calls: string[] = [];
  listeners = new Map<string, (type: string, detail: string) => void>();
  constructor(readonly source: PreviewSource, readonly config: PreviewConfig) {}
  on(event: string, listener: (type: string, detail: string) => void): void {
    this.listeners.set(event, listener);
  }
  attachMediaElement(): void {
    this.calls.push("attach");
  }
  load(): void {
    this.calls.push("load");
  }
  unload(): void {
    this.calls.push("unload");
  }
  detachMediaElement(): void {
    this.calls.push("detach");
  }
  destroy(): void {
    this.calls.push("destroy");
  }
}

class FakeLib implements PlayerLib {
  supported = true;
  players: FakePlayer[] = [];
  isSupported(): boolean {
    return this.supported;
  }
  createPlayer(source: PreviewSource, config: PreviewConfig): FakePlayer {
    const p = new FakePlayer(source, config);
    this.players.push(p);
    return p;
  }
}

class FakeTimers implements PreviewTimers {
  timers = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;
  setInterval(fn: () => void, ms: number): number {
    this.timers.set(this.#next, { fn, ms });
    return this.#next++;
  }
  clearInterval(id: number): void {
    this.timers.delete(id);
  }
  tick(): void {
    for (const t of this.timers.values()) t.fn();
  }
}

function setup() {
  const lib = new FakeLib(), media = new FakeMedia(), timers = new FakeTimers();
  const readouts: (number | null)[] = [];
  const errors: string[] = [];
  const preview = new Preview(lib, media, timers, (ms) => readouts.push(ms), (m) => errors.push(m));
  return { lib, media, timers, readouts, errors, preview };
}

Deno.test("latencyMs() is the end of the last buffered range minus the play position", () => {
  const media = new FakeMedia();
  assertEquals(latencyMs(media), null);
  media.ends = [4, 10.42];
  media.currentTime = 10;
  assertEquals(latencyMs(media), 420);
  media.currentTime = 11;
  assertEquals(latencyMs(media), 0, "never negative");
});

Deno.test("latencyText() reads the latency, or buffering before there is any", () => {
  assertEquals(latencyText(420), "latency 420 ms");
  assertEquals(latencyText(null), "buffering…");
});

Deno.test("Preview.start() plays the URL muted as a live FLV with the low-latency options", () => {
  const { lib, media, preview, timers } = setup();
  preview.start("live/cam", "http://h/live/cam.flv");
  const p = lib.players[0];
  assertEquals(p.source, { type: "flv", isLive: true, url: "http://h/live/cam.flv" });
  assertEquals(p.config, PREVIEW_CONFIG);
  assertEquals(p.config.enableWorker, false, "no worker: the page's CSP has worker-src 'none'");
  assertEquals(p.calls, ["attach", "load"]);
  assertEquals([media.muted, media.plays, preview.key], [true, 1, "live/cam"]);
  assertEquals([...timers.timers.values()].map((t) => t.ms), [LATENCY_TICK_MS]);
});

Deno.test("Preview.start() reports the latency on every tick", () => {
  const { media, preview, timers, readouts } = setup();
  preview.start("live/cam", "u");
  media.ends = [2.5];
  media.currentTime = 2;
  timers.tick();
  assertEquals(readouts, [null, 500]);
});

Deno.test("Preview.start() stops the previous preview first", () => {
  const { lib, preview, timers } = setup();
  preview.start("live/a", "a");
  preview.start("live/b", "b");
  assertEquals(lib.players[0].calls, ["attach", "load", "unload", "detach", "destroy"]);
  assertEquals([timers.timers.size, preview.key], [1, "live/b"]);
});

Deno.test("Preview.stop() destroys the player and clears its timer", () => {
  const { lib, preview, timers } = setup();
  preview.stop(); // nothing playing: nothing to do
  preview.start("live/a", "a");
  preview.stop();
  assertEquals(lib.players[0].calls.slice(2), ["unload", "detach", "destroy"]);
  assertEquals([timers.timers.size, preview.key], [0, null]);
});

Deno.test("Preview.start() throws when the browser has no MSE, and reports player errors", () => {
  const { lib, preview, errors } = setup();
  lib.supported = false;
  assertThrows(() => preview.start("live/a", "a"), Error, "Cannot preview: this browser has no Media Source");
  lib.supported = true;
  preview.start("live/a", "a");
  const onError = lib.players[0].listeners.get(PLAYER_ERROR);
  assert(onError, "listens to errors");
  onError("NetworkError", "HttpStatusCodeInvalid");
  assertEquals(errors, ["Cannot play live/a: NetworkError HttpStatusCodeInvalid"]);
  preview.stop();
  onError("NetworkError", "late");
  assertEquals(errors.length, 1, "a stopped player's errors are not reported");
});
