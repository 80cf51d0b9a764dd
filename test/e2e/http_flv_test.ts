/**
 * HTTP-FLV play with real ffmpeg clients against an in-process Sluice: ffmpeg
 * publishes over RTMP (H.264 with B-frames + AAC, made at test time) and ffmpeg
 * plays `http://127.0.0.1:PORT/live/NAME.flv`. The recording is compared with
 * its source packet by packet (matched by the MD5 of their data).
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  checkPlayback,
  compositionOffsets,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  publish,
  record,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** The recording length, in seconds of media; sources run longer so the publisher outlasts the player. */
const RECORD_S = 5;
const SOURCE_S = 8;
/** Played packet counts may differ from the published ones over the same window by this much. */

function e2e(name: string, fn: (server: TestServer, dir: string) => Promise<void>): void {
  Deno.test({ name, ignore: !TOOLS, sanitizeOps: true, sanitizeResources: true, fn: () => withServer(fn) });
}

function flvUrl(server: TestServer, name: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/live/${name}.flv`;
}

e2e(
  "HTTP-FLV play by ffmpeg of an RTMP publish (H.264 with B-frames + AAC) decodes, starts on a keyframe and keeps every frame",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
    const out = `${dir}/out.flv`;
    const publisher = publish(src, server.url("x"));
    try {
      await waitForPublisher(server, "x");
      const rec = await record(flvUrl(server, "x"), out, RECORD_S);
      assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
    } finally {
      await publisher.stop();
    }
    await checkPlayback(src, out, "http-flv", { sameFrames: true });
    const offsets = compositionOffsets(ofType(await probePackets(out), "video"));
    assert(offsets.some((d) => d > 0), "the source has no B-frames: every PTS equals its DTS");
  },
);

e2e(
  "HTTP-FLV play by ffmpeg that starts before the publisher waits for it and then plays from the first keyframe",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
    const out = `${dir}/out.flv`;
    const player = record(flvUrl(server, "early"), out, RECORD_S);
    // The player's request is waiting in the hub before the publisher connects (bounded poll).
    for (
      let waited = 0;
      !server.logs.some((l) => l.includes("waiting up to")) && waited < 10_000;
      waited += 50
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const publisher = publish(src, server.url("early"));
    try {
      const rec = await player;
      assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
    } finally {
      await publisher.stop();
    }
    await checkPlayback(src, out, "early", { sameFrames: true });
  },
);
