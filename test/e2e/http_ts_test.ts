/**
 * MPEG-TS over HTTP with real clients: ffmpeg publishes over RTMP (H.264 with B-frames + AAC) and ffmpeg
 * records `http://127.0.0.1:PORT/live/NAME.ts`, alone and while the same stream is read as MPEG-TS HLS (one
 * shared muxer): each recording decodes clean, starts on a keyframe and keeps the source's frame rate.
 */
import { assert, assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";
import {
  COUNT_TOLERANCE,
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

function http(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}${path}`;
}

/** What a viewer sees: decodes clean, keyframe and I picture first, DTS monotonic, the source's rate. */
async function judge(src: string, out: string, label: string): Promise<void> {
  assertEquals(await decodeErrors(out), "", `${label}: decoding printed errors`);
  const [played, source] = await Promise.all([probePackets(out), probePackets(src)]);
  for (const kind of ["video", "audio"]) {
    const p = ofType(played, kind);
    const s = ofType(source, kind);
    const span = p[p.length - 1].dts - p[0].dts;
    const expected = (s.length - 1) * span / (s[s.length - 1].dts - s[0].dts) + 1;
    console.log(
      `${label} ${kind}: ${p.length} packets over ${span} ms (${expected.toFixed(1)} at the source rate)`,
    );
    assertGreaterOrEqual(span, 3500);
    assert(
      relativeDiff(p.length, expected) <= COUNT_TOLERANCE,
      `${label} ${kind}: ${p.length} vs ${expected}`,
    );
    assertEquals(dtsBackwards(p), [], `${label} ${kind}: DTS goes backwards`);
  }
  const pv = ofType(played, "video");
  assert(pv[0].keyframe, `${label}: the first video packet is a keyframe`);
  const pictures = ofType(await probeFrames(out), "video");
  assertEquals(pictures.length, pv.length, `${label}: a picture per packet`);
  assertEquals(pictures[0].pictType, "I");
}

Deno.test({
  name: "HTTP-TS play by ffmpeg, alone and beside an MPEG-TS HLS reader of the same stream, decodes clean",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 12, bframes: 2 });
      const publisher = publish(src, server.url("t"));
      try {
        await waitForPublisher(server, "t");
        const [ts, hls] = await Promise.all([
          record(http(server, "/live/t.ts"), `${dir}/ts.flv`, 5),
          record(http(server, "/live/t.m3u8"), `${dir}/hls.flv`, 5),
        ]);
        assertEquals(ts.code, 0, `the HTTP-TS ffmpeg failed:\n${ts.stderr}`);
        assertEquals(hls.code, 0, `the HLS ffmpeg failed:\n${hls.stderr}`);
      } finally {
        await publisher.stop();
      }
      await judge(src, `${dir}/ts.flv`, "http-ts");
      await judge(src, `${dir}/hls.flv`, "hls ts beside it");
    }, { hls: { container: "ts" } }),
});
