/**
 * HTTP-FLV play with real ffmpeg clients against an in-process Sluice: ffmpeg
 * publishes over RTMP (H.264 with B-frames + AAC, made at test time) and ffmpeg
 * plays `http://127.0.0.1:PORT/live/NAME.flv`. The recording is compared with
 * its source packet by packet (matched by the MD5 of their data).
 */
import { assert, assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";
import {
  compareWindow,
  compositionOffsets,
  decodeErrors,
  dtsBackwards,
  haveTools,
  makeSource,
  ofType,
  probeFrames,
  probePackets,
  publish,
  record,
  relativeDiff,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** The recording length, in seconds of media; sources run longer so the publisher outlasts the player. */
const RECORD_S = 5;
const SOURCE_S = 8;
/** Played packet counts may differ from the published ones over the same window by this much. */
const COUNT_TOLERANCE = 0.05;

function e2e(name: string, fn: (server: TestServer, dir: string) => Promise<void>): void {
  Deno.test({ name, ignore: !TOOLS, sanitizeOps: true, sanitizeResources: true, fn: () => withServer(fn) });
}

function flvUrl(server: TestServer, name: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}/live/${name}.flv`;
}

/**
 * What every HTTP-FLV recording passes: it decodes without an error line; per kind, its packet count is
 * within 5 % of the source's over the same DTS window (and holds at least 3 s) and DTS never goes back;
 * its first video packet and first decoded picture are a keyframe; composition times are the source's.
 */
async function checkRecording(src: string, out: string, label: string): Promise<void> {
  assertEquals(await decodeErrors(out), "", `${label}: decoding the recording printed errors`);
  const [played, source] = await Promise.all([probePackets(out), probePackets(src)]);
  for (const kind of ["video", "audio"]) {
    const p = ofType(played, kind);
    const s = ofType(source, kind);
    const w = compareWindow(p, s);
    console.log(
      `${label} ${kind}: ${w.played} packets played, ${w.published} published over the same ${w.spanMs} ms`,
    );
    assert(w.sourceIndex >= 0, `${label} ${kind}: the first played packet is not in the source`);
    assertGreaterOrEqual(w.spanMs, 3000, `${label} ${kind}: the recording holds only ${w.spanMs} ms`);
    assert(
      relativeDiff(w.played, w.published) <= COUNT_TOLERANCE,
      `${label} ${kind}: ${w.played} packets played vs ${w.published} published over the same window`,
    );
    assertEquals(dtsBackwards(p), [], `${label} ${kind}: DTS goes backwards`);
    if (kind === "video") {
      assert(p[0].keyframe, `${label}: the first video packet is not a keyframe`);
      const pictures = ofType(await probeFrames(out), "video");
      assertEquals(pictures.length, p.length, `${label}: pictures decoded vs packets`);
      assertEquals(pictures[0].pictType, "I", `${label}: the first decoded picture`);
      const sv = s.slice(w.sourceIndex, w.sourceIndex + p.length);
      assertEquals(
        p.map((x) => x.hash),
        sv.map((x) => x.hash),
        `${label}: the played frames are the source's`,
      );
      assertEquals(compositionOffsets(p), compositionOffsets(sv), `${label}: composition times`);
    }
  }
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
    await checkRecording(src, out, "http-flv");
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
    await checkRecording(src, out, "early");
  },
);
