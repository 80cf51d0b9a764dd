/**
 * Limits (issue 9 item 5) seen from real clients: an in-process Sluice whose
 * admission is a LimitsPolicy over its own hub and a BandwidthMeter (the lead
 * wires the same in src/sluice.ts). Sluice's RtmpClient publishes a synthetic
 * stream of known bitrate in real time; RtmpClient, fetch and ffmpeg play it.
 *
 * - maxPlayers 2: the third player is refused over HTTP-FLV (503 with the
 *   limit in the JSON error) and over RTMP (NetStream.Play.Failed with the
 *   reason; ffmpeg exits non-zero), and the two admitted go on receiving;
 * - maxBandwidthKbps at 2.5 players' worth of the stream: once the meter
 *   shows the two players' traffic, the third is refused with 503 and
 *   Retry-After, and the first two play on.
 *
 * Nothing asserts on time: waits poll a condition and their timeouts only
 * keep a broken test from hanging.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { haveTools, record, type TestServer, withServer } from "../_util/media.ts";
import { sleep, SyntheticStream, waitFor } from "../_util/live.ts";
import { BandwidthMeter } from "../../src/auth/bandwidth_meter.ts";
import { LimitsPolicy } from "../../src/auth/limits.ts";
import type { LimitsConfig } from "../../src/config/config.ts";
import { Role } from "../../src/hub/session_kind.ts";
import {
  type OutgoingFrame,
  type Player,
  RtmpClient,
  RtmpStatusError,
} from "../../src/rtmp/client/client.ts";

const FFMPEG = haveTools("ffmpeg");
/** How long a wait for frames or a rate may take before the test fails instead of hanging. */
const WAIT_MS = 20_000;
/** The synthetic stream: video only, 25 frames/s of 5000 bytes each, a keyframe a second: 1000 kbit/s. */
const FPS = 25;
const FRAME_BYTES = 5_000;
const STREAM_BPS = FPS * FRAME_BYTES * 8;
/** Frames a still-playing player must receive after a refusal: one second of the stream. */
const MORE_FRAMES = FPS;

function e2e(name: string, fn: (server: TestServer, dir: string) => Promise<void>): void {
  Deno.test({ name, sanitizeOps: true, sanitizeResources: true, fn: () => withServer(fn) });
}

/** Puts a LimitsPolicy over the server's hub (with `limits` over the config's) and starts its meter. */
function limit(server: TestServer, limits: Partial<LimitsConfig>): BandwidthMeter {
  const hub = server.sluice.hub;
  const meter = new BandwidthMeter(hub);
  meter.start();
  hub.admission = new LimitsPolicy({ ...server.sluice.config.limits, ...limits }, { hub, meter });
  return meter;
}

function flvUrl(server: TestServer, name: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/live/${name}.flv`;
}

/** RtmpClient publishing a SyntheticStream paced by the wall clock (its bitrate is the nominal one). */
async function publishSynthetic(server: TestServer, name: string) {
  const pub = await (await RtmpClient.connect(server.url(name))).publish();
  const syn = new SyntheticStream({
    marker: 0x5c,
    audio: false,
    fps: FPS,
    gopFrames: FPS,
    keyBytes: FRAME_BYTES,
    interBytes: FRAME_BYTES,
  });
  await pub.sendFrames(syn.headers());
  let running = true;
  const t0 = Date.now();
  const pumping = (async () => {
    while (running && !pub.client.closed) {
      const due: OutgoingFrame[] = [];
      while (syn.elapsedMs <= Date.now() - t0) due.push(...syn.next());
      if (due.length) await pub.sendFrames(due);
      await sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await pumping;
      await pub.close();
    },
  };
}

/** An RTMP player whose events are drained in the background; `video` counts its video frames. */
async function rtmpPlayer(server: TestServer, name: string) {
  const player: Player<RtmpClient> = await (await RtmpClient.connect(server.url(name))).play();
  const draining = (async () => {
    try {
      while (await player.read() !== undefined) { /* counted by player.stats */ }
    } catch {
      // the connection ended with an error: the counts say what arrived
    }
  })();
  return {
    get video() {
      return player.stats.video;
    },
    async close() {
      await player.close();
      await draining;
    },
  };
}

/** Counts FLV tags as bytes arrive, keeping no more than one tag header (FLV spec v10.1 E.2, E.4.1). */
class FlvTagCounter {
  video = 0;
  /** Bytes to pass over before the next tag header: the FLV header and PreviousTagSize0 first. */
  #skip = 9 + 4;
  #head = new Uint8Array(11);
  #have = 0;

  push(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, bytes.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(11 - this.#have, bytes.length - i);
      this.#head.set(bytes.subarray(i, i + n), this.#have);
      this.#have += n;
      i += n;
      if (this.#have < 11) return;
      const h = this.#head;
      if ((h[0] & 0x1f) === 9) this.video++; // TagType 9: video
      this.#skip = ((h[1] << 16) | (h[2] << 8) | h[3]) + 4; // DataSize, then PreviousTagSize
      this.#have = 0;
    }
  }
}

/** An HTTP-FLV player (fetch) reading its body in the background; `video` counts its video tags. */
async function httpPlayer(server: TestServer, name: string) {
  const res = await fetch(flvUrl(server, name));
  assertEquals(res.status, 200, `the HTTP-FLV player was refused: ${res.status}`);
  const reader = res.body!.getReader();
  const counter = new FlvTagCounter();
  const reading = (async () => {
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return;
        counter.push(value);
      }
    } catch {
      // cancelled by close(), or the server ended the body
    }
  })();
  return {
    get video() {
      return counter.video;
    },
    async close() {
      await reader.cancel();
      await reading;
    },
  };
}

interface Counting {
  readonly video: number;
}

/** Waits until every player has received at least `more` video frames past what it has now. */
async function keepPlaying(players: Counting[], more: number, what: string): Promise<void> {
  const from = players.map((p) => p.video);
  await waitFor(() => players.every((p, i) => p.video >= from[i] + more), what, WAIT_MS);
}

e2e(
  "limits: the player one past limits.maxPlayers is refused over HTTP-FLV (503) and RTMP (NetStream.Play.Failed, ffmpeg fails) while the two admitted keep receiving frames",
  async (server, dir) => {
    const meter = limit(server, { maxPlayers: 2 });
    const publisher = await publishSynthetic(server, "cam");
    const rtmp = await rtmpPlayer(server, "cam");
    const http = await httpPlayer(server, "cam");
    try {
      await keepPlaying([rtmp, http], 1, "frames at both admitted players");
      const reason = "players 2 of 2 (limits.maxPlayers)";

      const refused = await fetch(flvUrl(server, "cam"));
      assertEquals(refused.status, 503);
      assertEquals(await refused.json(), { error: `Cannot play live/cam: ${reason}` });
      assertEquals(refused.headers.get("retry-after"), null, "a count limit gives no Retry-After");

      const client = await RtmpClient.connect(server.url("cam"));
      try {
        const err = await client.play().then(() => undefined, (e) => e);
        assert(err instanceof RtmpStatusError, `the third RTMP play resolved or failed otherwise: ${err}`);
        assertEquals(err.code, "NetStream.Play.Failed");
        assertEquals(err.description, `denied: ${reason}`);
      } finally {
        await client.close();
      }

      if (FFMPEG) {
        const ff = await record(server.url("cam"), `${dir}/refused.flv`, 2);
        assert(ff.code !== 0 && !ff.timedOut, `ffmpeg exited ${ff.code}`);
        assertMatch(ff.stderr, /players 2 of 2 \(limits\.maxPlayers\)/);
      }

      await keepPlaying([rtmp, http], MORE_FRAMES, "frames at both admitted players after the refusals");
      assertEquals(server.sluice.hub.sessions.list({ role: Role.Player }).length, 2);
    } finally {
      await http.close();
      await rtmp.close();
      await publisher.stop();
      meter.stop();
    }
  },
);

e2e(
  "limits: with limits.maxBandwidthKbps at 2.5 players' worth of the stream, the third player is refused with 503 and Retry-After and the first two play on",
  async (server) => {
    const capKbps = Math.round(2.5 * STREAM_BPS / 1000);
    const meter = limit(server, { maxBandwidthKbps: capKbps });
    const publisher = await publishSynthetic(server, "cam");
    const first = await rtmpPlayer(server, "cam");
    const second = await httpPlayer(server, "cam");
    try {
      await keepPlaying([first, second], 1, "frames at the first two players");
      // The meter's window holds the two players' traffic and the stream's bitrate is measured: one more
      // stream's worth now passes the cap by a clear margin (2 + 1 players' worth against 2.5).
      const stream = server.sluice.hub.get("live/cam")!;
      await waitFor(
        () => meter.bps() >= 1.8 * STREAM_BPS && stream.snapshot().bitrate.video >= 0.9 * STREAM_BPS,
        "two players' worth of outgoing traffic and the stream's own bitrate",
        WAIT_MS,
      );

      const refused = await fetch(flvUrl(server, "cam"));
      assertEquals(refused.status, 503);
      assertEquals(refused.headers.get("retry-after"), String(meter.windowS));
      const { error } = await refused.json();
      assertMatch(
        error,
        new RegExp(
          `^Cannot play live/cam: bandwidth \\d+ kbit/s out \\+ \\d+ kbit/s for live/cam would pass ${capKbps} ` +
            `kbit/s \\(limits\\.maxBandwidthKbps\\)$`,
        ),
      );

      const client = await RtmpClient.connect(server.url("cam"));
      try {
        const err = await client.play().then(() => undefined, (e) => e);
        assert(err instanceof RtmpStatusError, `the third RTMP play resolved or failed otherwise: ${err}`);
        assertEquals(err.code, "NetStream.Play.Failed");
        assertMatch(err.description, /limits\.maxBandwidthKbps/);
      } finally {
        await client.close();
      }

      await keepPlaying([first, second], MORE_FRAMES, "frames at the first two players after the refusal");
    } finally {
      await second.close();
      await first.close();
      await publisher.stop();
      meter.stop();
    }
  },
);
