/**
 * RTSP publishing in with real clients: ffmpeg publishes an MP4 (H.264 with B-frames + AAC) with
 * `-f rtsp -rtsp_transport tcp` and `udp` (ANNOUNCE, SETUP mode=record, RECORD), and ffmpeg plays the
 * result over RTMP and over RTSP (and, once, HTTP-FLV and HLS): each recording decodes clean, starts on a keyframe, keeps the source's
 * rate, DTS order and B-frames, and its audio and video start together. The registry shows the publisher
 * with protocol rtsp. A publisher whose FU-A never ends is dropped at the cap and logged once while a
 * normal player of another stream plays on; refusals have their statuses.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import {
  checkPlayback,
  haveTools,
  makeSource,
  publish,
  record,
  RTSP_TEST_CONFIG,
  rtspUrl,
  runOk,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { ask, checkRecording, recordRtsp } from "../_util/rtsp_media.ts";
import { RtspTestClient } from "../rtsp/_client.ts";
import { deny, DenyKind } from "../../src/hub/admission.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");

/** The FLV source as an MP4 (what users publish over RTSP: `ffmpeg -re -i in.mp4 -c copy -f rtsp`). */
async function mp4Source(dir: string, seconds: number): Promise<{ flv: string; mp4: string }> {
  const flv = await makeSource(`${dir}/src.flv`, { seconds, bframes: 2 });
  const mp4 = `${dir}/src.mp4`;
  await runOk(
    "ffmpeg",
    ["-hide_banner", "-nostdin", "-v", "error", "-y", "-i", flv, "-c", "copy", mp4],
    60_000,
  );
  return { flv, mp4 };
}

/** ffmpeg publishing `file` in real time over RTSP to `url`. */
function publishRtsp(file: string, url: string, transport: "tcp" | "udp") {
  return publish(file, url, ["-rtsp_transport", transport], 60_000, "rtsp");
}

async function publishAndPlay(server: TestServer, dir: string, transport: "tcp" | "udp"): Promise<void> {
  const { flv, mp4 } = await mp4Source(dir, 14);
  const name = `cam_${transport}`;
  const publisher = publishRtsp(mp4, rtspUrl(server, name), transport);
  try {
    await waitForPublisher(server, name);
    const pub = server.sluice.hub.sessions.list().find((s) => s.role === Role.Publisher);
    assertEquals(pub?.protocol, Protocol.Rtsp, "the publisher is an rtsp session");
    assertEquals(pub?.key, `live/${name}`);
    assertEquals(server.sluice.hub.get(`live/${name}`)?.snapshot().publisher?.protocol, Protocol.Rtsp);
    const rtmpOut = `${dir}/rtmp_${transport}.flv`;
    const rtspOut = `${dir}/rtsp_${transport}.mp4`;
    const flvOut = `${dir}/http_${transport}.flv`;
    const hlsOut = `${dir}/hls_${transport}.flv`;
    const http = (path: string) => `http://127.0.0.1:${server.sluice.httpPort}${path}`;
    const [overRtmp, overRtsp, overHttp, overHls] = await Promise.all([
      record(server.url(name), rtmpOut, 6),
      recordRtsp(rtspUrl(server, name), rtspOut, 6, "tcp"),
      // HTTP-FLV and HLS once (over TCP in): the same hub stream, other packers.
      transport === "tcp" ? record(http(`/live/${name}.flv`), flvOut, 6) : undefined,
      transport === "tcp" ? record(http(`/live/${name}.m3u8`), hlsOut, 6) : undefined,
    ]);
    assertEquals(overRtmp.code, 0, overRtmp.stderr);
    assertEquals(overRtsp.code, 0, overRtsp.stderr);
    const played = await checkPlayback(flv, rtmpOut, `rtsp ${transport} in, rtmp out`, { minSpanMs: 4000 });
    const video = played.played.filter((p) => p.type === "video");
    assert(video.some((p) => p.pts !== p.dts), "B-frames keep their composition times over RTMP");
    await checkRecording(rtspOut, flv, `${transport} in, tcp out`);
    if (overHttp && overHls) {
      assertEquals(overHttp.code, 0, overHttp.stderr);
      assertEquals(overHls.code, 0, overHls.stderr);
      await checkPlayback(flv, flvOut, `rtsp ${transport} in, http-flv out`, { minSpanMs: 4000 });
      await checkPlayback(flv, hlsOut, `rtsp ${transport} in, hls out`, { minSpanMs: 2000 });
    }
  } finally {
    await publisher.stop();
  }
  const log = server.logs.join("\n");
  assertMatch(
    log,
    new RegExp(`publishing live/${name} \\(video and audio over ${transport.toUpperCase()}\\)`),
  );
}

Deno.test({
  name:
    "RTSP publish by ffmpeg over TCP plays over RTMP and RTSP: clean, at rate, keyframe first, A/V together",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => withServer((server, dir) => publishAndPlay(server, dir, "tcp"), RTSP_TEST_CONFIG),
});

Deno.test({
  name:
    "RTSP publish by ffmpeg over UDP plays over RTMP and RTSP: clean, at rate, keyframe first, A/V together",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => withServer((server, dir) => publishAndPlay(server, dir, "udp"), RTSP_TEST_CONFIG),
});

/** An SDP with one H.264 track, as ffmpeg announces it. */
const H264_SDP = [
  "v=0",
  "o=- 0 0 IN IP4 127.0.0.1",
  "s=test",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=video 0 RTP/AVP 96",
  "a=rtpmap:96 H264/90000",
  "a=fmtp:96 packetization-mode=1",
  "a=control:streamid=0",
  "",
].join("\r\n");

Deno.test({
  name:
    "RTSP publish: a FU-A that never ends is dropped at the cap, logged once; another stream's player plays on",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(async (server, dir) => {
      const { flv, mp4 } = await mp4Source(dir, 10);
      const good = publishRtsp(mp4, rtspUrl(server, "good"), "tcp");
      const bad = await RtspTestClient.connect(server.sluice.rtspPort);
      try {
        await waitForPublisher(server, "good");
        const url = rtspUrl(server, "bad");
        const announced = await bad.request({
          method: "ANNOUNCE",
          uri: url,
          headers: [["Content-Type", "application/sdp"]],
          body: new TextEncoder().encode(H264_SDP),
        });
        assertEquals(announced.status, 200);
        const setup = await bad.request({
          method: "SETUP",
          uri: `${url}/streamid=0`,
          headers: [["Transport", "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"]],
        });
        assertEquals(setup.status, 200);
        const session = setup.headers.get("Session")!.split(";")[0];
        assertEquals(
          (await bad.request({ method: "RECORD", uri: url, headers: [["Session", session]] })).status,
          200,
        );
        const playing = record(server.url("good"), `${dir}/good.flv`, 6);
        // A FU-A start, then middles of one timestamp, never an end: 2 MiB past the 1 MiB cap.
        const chunk = new Uint8Array(1400);
        chunk[0] = 0x7c; // FU indicator: NRI 3, type 28
        const frames: Uint8Array[] = [];
        for (let i = 0; i < 2200; i++) {
          chunk[1] = i === 0 ? 0x85 : 0x05; // FU header: S on the first, an IDR slice
          frames.push(interleavedRtp(0, 96, i, 1000, chunk));
        }
        for (const f of frames) await bad.conn.write(f);
        const ping = await bad.request({
          method: "GET_PARAMETER",
          uri: url,
          headers: [["Session", session]],
        });
        assertEquals(ping.status, 200, "the publisher's connection is still answered");
        const r = await playing;
        assertEquals(r.code, 0, r.stderr);
        await checkPlayback(flv, `${dir}/good.flv`, "the other stream", { minSpanMs: 4000 });
        const lines = server.logs.filter((l) => /publishing live\/bad, video: an access unit past/.test(l));
        assertEquals(lines.length, 1, "the drop is logged once");
        assertEquals(
          server.sluice.hub.get("live/bad")?.stats.videoFrames ?? 0,
          0,
          "nothing broken reached the hub",
        );
      } finally {
        bad.close();
        await good.stop();
      }
    }, { ...RTSP_TEST_CONFIG, ingest: { maxTagBytes: 1024 * 1024 } }),
});

/** One RTP packet (RFC 3550 5.1) in an interleaved frame. */
function interleavedRtp(
  channel: number,
  pt: number,
  seq: number,
  ts: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + 12 + payload.length);
  const v = new DataView(out.buffer);
  out[0] = 0x24;
  out[1] = channel;
  v.setUint16(2, 12 + payload.length);
  out[4] = 0x80;
  out[5] = pt;
  v.setUint16(6, seq & 0xffff);
  v.setUint32(8, ts);
  v.setUint32(12, 0x1234);
  out.set(payload, 16);
  return out;
}

Deno.test({
  name: "RTSP publish refusals: 415 for a body that is not SDP or has no H.264/AAC, 403 for a busy name, 401",
  ignore: !TOOLS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withServer(
      async (server, dir) => {
        const { mp4 } = await mp4Source(dir, 8);
        const url = rtspUrl(server, "busy");
        const notSdp = await ask(server, {
          method: "ANNOUNCE",
          uri: url,
          headers: [["Content-Type", "text/plain"]],
          body: new TextEncoder().encode("hello"),
        });
        assertEquals(notSdp.status, 415);
        const pcma = await ask(server, {
          method: "ANNOUNCE",
          uri: url,
          headers: [["Content-Type", "application/sdp"]],
          body: new TextEncoder().encode(
            H264_SDP.replace("m=video 0 RTP/AVP 96", "m=audio 0 RTP/AVP 8").replace(
              /a=rtpmap.*\r\na=fmtp.*\r\n/,
              "",
            ),
          ),
        });
        assertEquals(pcma.status, 415);
        const publisher = publishRtsp(mp4, url, "tcp");
        try {
          await waitForPublisher(server, "busy");
          const busy = await ask(server, {
            method: "ANNOUNCE",
            uri: url,
            headers: [["Content-Type", "application/sdp"]],
            body: new TextEncoder().encode(H264_SDP),
          });
          assertEquals(busy.status, 403);
        } finally {
          await publisher.stop();
        }
        const denied = await ask(server, {
          method: "ANNOUNCE",
          uri: rtspUrl(server, "keyed"),
          headers: [["Content-Type", "application/sdp"]],
          body: new TextEncoder().encode(H264_SDP),
        });
        assertEquals(denied.status, 401);
        assert(denied.headers.get("WWW-Authenticate"), "a 401 says how to authenticate");
      },
      RTSP_TEST_CONFIG,
      {
        admit: (req) =>
          req.action === "publish" && req.name === "keyed"
            ? deny("a stream key is needed", DenyKind.Unauthorized)
            : { kind: "allow" },
      },
    ),
});
