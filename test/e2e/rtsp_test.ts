/**
 * RTSP play with real clients: ffmpeg publishes over RTMP (H.264 with B-frames + AAC) and ffmpeg records
 * `rtsp://127.0.0.1:PORT/live/NAME` with `-rtsp_transport tcp` (RTP interleaved on the RTSP connection)
 * and with `-rtsp_transport udp` (RTP and RTCP on server_port pairs): each recording decodes clean, starts
 * on a keyframe, keeps the source's frame rate and DTS order, and its audio and video start together;
 * ffprobe reads the codecs off the SDP; refusals have their statuses.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertMatch, assertNotEquals } from "../_util/assert.ts";
import {
  haveTools,
  makeSource,
  publish,
  RTSP_TEST_CONFIG,
  rtspUrl,
  run,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { ask, checkRecording, recordRtsp } from "../_util/rtsp_media.ts";
import { deny, DenyKind } from "../../src/hub/admission.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");

Deno.test({
  name:
    "RTSP play by ffmpeg over TCP interleaved decodes clean at the source's rate, audio and video together",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 12, bframes: 2 });
      const publisher = publish(src, server.url("x"));
      const out = `${dir}/out.mkv`;
      try {
        await waitForPublisher(server, "x");
        const probe = await run("ffprobe", [
          "-v",
          "error",
          "-rtsp_transport",
          "tcp",
          "-show_entries",
          "stream=codec_name,width,height",
          "-of",
          "json",
          rtspUrl(server, "x"),
        ], { timeoutMs: 20_000 });
        assertEquals(probe.code, 0, probe.stderr);
        const streams = JSON.parse(probe.stdout).streams as {
          codec_name: string;
          width?: number;
          height?: number;
        }[];
        assertEquals(
          streams.map((s) => s.codec_name).sort(),
          ["aac", "h264"],
          "ffprobe reads h264 and aac from the SDP",
        );
        const v = streams.find((s) => s.codec_name === "h264");
        assertEquals([v?.width, v?.height], [640, 360]);
        // What ffmpeg's RTSP input itself hands a player, timed by the sender reports' NTP mapping.
        const live = await run("ffprobe", [
          "-v",
          "error",
          "-rtsp_transport",
          "tcp",
          "-read_intervals",
          "%+3",
          "-show_entries",
          "packet=codec_type,pts_time,flags",
          "-of",
          "json",
          rtspUrl(server, "x"),
        ], { timeoutMs: 20_000 });
        assertEquals(live.code, 0, live.stderr);
        const got = JSON.parse(live.stdout).packets as {
          codec_type: string;
          pts_time?: string;
          flags: string;
        }[];
        const lv = got.filter((p) => p.codec_type === "video");
        assert(lv[0].flags.startsWith("K"), "the first video packet a player gets is a keyframe");
        const timed = (kind: string) =>
          got.filter((p) => p.codec_type === kind && p.pts_time !== undefined).slice(0, 10).map((p) =>
            Number(p.pts_time) * 1000
          );
        const liveGap = Math.abs(Math.min(...timed("video")) - timed("audio")[0]);
        console.log(
          `rtsp live: first audio ${timed("audio")[0]} ms, first video ${Math.min(...timed("video"))} ms`,
        );
        assert(liveGap <= 200, `live: the first audio and video presentation times are ${liveGap} ms apart`);
        const rec = await recordRtsp(rtspUrl(server, "x"), out, 5);
        assertEquals(rec.code, 0, `the RTSP ffmpeg failed:\n${rec.stderr}`);
        const players = server.sluice.hub.sessions.totals();
        assertGreaterOrEqual(players.openedByProtocol.rtsp, 2, "each RTSP connection is a registry session");
      } finally {
        await publisher.stop();
      }
      await checkRecording(out, src, "tcp");
    }, RTSP_TEST_CONFIG),
});

Deno.test({
  name: "RTSP play by ffmpeg over UDP decodes clean at the source's rate, audio and video together",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 12, bframes: 2 });
      const publisher = publish(src, server.url("x"));
      const out = `${dir}/out.mp4`;
      try {
        await waitForPublisher(server, "x");
        const rec = await recordRtsp(rtspUrl(server, "x"), out, 5, "udp");
        assertEquals(rec.code, 0, `the RTSP ffmpeg failed:\n${rec.stderr}`);
        // ffmpeg's TEARDOWN (or its closed connection) ends the session, which gives its UDP pairs back.
        const until = Date.now() + 5_000;
        while (server.sluice.hub.sessions.list({ protocol: "rtsp" }).length > 0 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assertEquals(
          server.sluice.hub.sessions.list({ protocol: "rtsp" }).length,
          0,
          "the UDP session ended",
        );
      } finally {
        await publisher.stop();
      }
      await checkRecording(out, src, "udp");
    }, RTSP_TEST_CONFIG),
});

Deno.test({
  name: "RTSP answers 404 to a DESCRIBE of a stream nobody publishes and a UDP SETUP with its server_port",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(async (server, dir) => {
      const none = await ask(server, { method: "DESCRIBE", uri: rtspUrl(server, "nobody") });
      assertEquals(none.status, 404);
      const src = await makeSource(`${dir}/src.flv`, { seconds: 8 });
      const publisher = publish(src, server.url("u"));
      try {
        await waitForPublisher(server, "u");
        const udp = await ask(server, {
          method: "SETUP",
          uri: `${rtspUrl(server, "u")}/trackID=0`,
          transport: "RTP/AVP;unicast;client_port=5000-5001",
        });
        assertEquals(udp.status, 200);
        assertMatch(
          udp.headers.get("Transport")!,
          /^RTP\/AVP;unicast;client_port=5000-5001;server_port=\d*[02468]-\d+;ssrc=[0-9A-F]{8}$/,
        );
      } finally {
        await publisher.stop();
      }
    }, RTSP_TEST_CONFIG),
});

for (const [kind, status] of [[DenyKind.Unauthorized, 401], [DenyKind.Forbidden, 403]] as const) {
  Deno.test({
    name: `RTSP answers a play the gate refuses as ${kind} with ${status}, and ffmpeg exits non-zero`,
    ignore: !TOOLS,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice_rtsp_" });
      const { startServer } = await import("../_util/media.ts");
      const server = await startServer(RTSP_TEST_CONFIG, {
        admit: (req) => req.protocol === "rtsp" ? deny("no RTSP here", kind) : { kind: "allow" },
      });
      try {
        const src = await makeSource(`${dir}/src.flv`, { seconds: 8 });
        const publisher = publish(src, server.url("d"));
        try {
          await waitForPublisher(server, "d");
          const res = await ask(server, { method: "DESCRIBE", uri: rtspUrl(server, "d") });
          assertEquals(res.status, status);
          if (status === 401) assert(res.headers.has("WWW-Authenticate"), "a 401 carries WWW-Authenticate");
          const ff = await run("ffmpeg", [
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-i",
            rtspUrl(server, "d"),
            "-t",
            "1",
            "-f",
            "null",
            "-",
          ], { timeoutMs: 20_000 });
          assertNotEquals(ff.code, 0, "ffmpeg refused exits non-zero");
        } finally {
          await publisher.stop();
        }
      } finally {
        await server.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
