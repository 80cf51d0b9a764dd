/**
 * MPEG-TS over HTTP with real clients: ffmpeg publishes over RTMP (H.264 with B-frames + AAC) and ffmpeg
 * records `http://127.0.0.1:PORT/live/NAME.ts`, alone and while the same stream is read as MPEG-TS HLS (one
 * shared muxer): each recording decodes clean, starts on a keyframe and keeps the source's frame rate.
 */
import { assertEquals } from "../_util/assert.ts";
import { checkByRate } from "../_util/rate_check.ts";
import {
  haveTools,
  makeSource,
  publish,
  record,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");

function http(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}${path}`;
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
      await checkByRate(src, `${dir}/ts.flv`, "http-ts");
      await checkByRate(src, `${dir}/hls.flv`, "hls ts beside it");
    }, { hls: { container: "ts" } }),
});
