/**
 * Extended timestamps on the play side (RTMP spec 5.3.1.3): a file whose
 * timestamps pass 0xFFFFFF ms, played over RTMP VOD (which keeps the file's
 * timestamps, as nginx-rtmp does), reaches Sluice's client with those exact
 * timestamps and ffmpeg with a stream that decodes. The publish side is covered
 * by ffmpeg_rtmp_test.ts (-output_ts_offset 20000).
 */
import { assert, assertEquals } from "../_util/assert.ts";
import { isAv, readMedia } from "../_util/live.ts";
import {
  decodeErrors,
  dtsBackwards,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  runOk,
  startServer,
} from "../_util/media.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
const OFFSET_S = 20_000; // 20,000,000 ms > 0xFFFFFF (16,777,215)

Deno.test({
  name: "RTMP play: timestamps above 0xFFFFFF reach the player exact (extended timestamps on the way out)",
  ignore: !TOOLS,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_extts_" });
    const server = await startServer({ vod: { root: dir, app: "vod" } });
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 4, fps: 25, gop: 25, bframes: 2 });
      await runOk("ffmpeg", [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        src,
        "-c",
        "copy",
        "-output_ts_offset",
        String(OFFSET_S),
        "-f",
        "flv",
        `${dir}/late.flv`,
      ], 60_000);
      const filePackets = await probePackets(`${dir}/late.flv`);
      assert(filePackets[0].dts > 0xffffff, `the file starts at ${filePackets[0].dts} ms`);

      // Sluice's client sees the raw RTMP timestamps.
      const url = `rtmp://127.0.0.1:${server.sluice.rtmpPort}/vod/late.flv`;
      const client = await RtmpClient.connect(url);
      try {
        const player = await client.play("late.flv");
        const media = (await readMedia(player, 40)).filter(isAv);
        const fileVideo = ofType(filePackets, "video").map((p) => p.dts);
        const gotVideo = media.filter((m) => m.kind === 9 && m.payload[1] === 1).map((m) => m.timestamp);
        assert(gotVideo.length > 5, `only ${gotVideo.length} video frames`);
        assert(gotVideo.every((t) => t > 0xffffff), `timestamps ${gotVideo.slice(0, 3)} not above 0xFFFFFF`);
        assertEquals(
          gotVideo,
          fileVideo.slice(0, gotVideo.length),
          "video timestamps differ from the file's",
        );
      } finally {
        await client.close();
      }

      // ffmpeg records it with its timestamps kept: decodes, DTS monotonic, all frames there.
      await runOk("ffmpeg", [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-copyts",
        "-i",
        url,
        "-c",
        "copy",
        "-f",
        "flv",
        `${dir}/out.flv`,
      ], 60_000);
      assertEquals(await decodeErrors(`${dir}/out.flv`), "");
      const played = await probePackets(`${dir}/out.flv`);
      assertEquals(dtsBackwards(played), []);
      assert(played[0].dts > 0xffffff, `played from ${played[0].dts} ms`);
      assertEquals(ofType(played, "video").length, ofType(filePackets, "video").length);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
