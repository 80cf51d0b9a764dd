/**
 * Real clients on both sides.
 *
 * Sending: an H.264 + AAC stream made by ffmpeg is packetized
 * (H264Packetizer, AacPacketizer) and sent over UDP, with a sender report
 * first and a goodbye last, to ffmpeg reading the SDP DESCRIBE writes for
 * the same sequence headers (`describeStream`). ffmpeg must decode every
 * frame of both tracks to the same pictures and samples as the source file
 * decodes to (frame checksums, in order), printing nothing at `-v error`.
 *
 * Receiving: ffmpeg's own RTP muxer sends the same file to UDP sockets here;
 * the depacketizers (parameter sets and AAC config from ffmpeg's SDP) must
 * give back every source frame's NAL units and AAC bytes, and its RTCP
 * sender reports must read.
 */
import type dgram from "node:dgram";
import { FrameKind, type MediaFrame } from "../../../src/media/frame.ts";
import { AacPacketizer } from "../../../src/media/rtp/aac_packetizer.ts";
import { H264Packetizer } from "../../../src/media/rtp/h264_packetizer.ts";
import { rtpPackets } from "../../../src/media/rtp/interleaved.ts";
import { buildGoodbye, readRtcp, type RtcpPacket } from "../../../src/media/rtp/rtcp.ts";
import { AacDepacketizer } from "../../../src/media/rtp/aac_depacketizer.ts";
import { H264Depacketizer } from "../../../src/media/rtp/h264_depacketizer.ts";
import { avccUnits } from "../../../src/media/rtp/h264_packetizer.ts";
import type { RtpFrame } from "../../../src/media/rtp/rtp_receiver.ts";
import { aacFrame, avcFrame } from "../../../src/media/tag_body.ts";
import { NalUnitType, nalUnitType } from "../../../src/media/avc.ts";
import { concatBytes } from "../../../src/bytes.ts";
import { assert, assertEquals, assertGreater } from "../../_util/assert.ts";
import { flvFrames } from "../../_util/flv_frames.ts";
import { haveTools, makeSource, runOk } from "../../_util/media.ts";
import { describeAt, ffmpegSdpReader, frameChecksums, sourceChecksums } from "../../_util/sdp_reader.ts";
import { bindUdp, closeUdp, freeUdpPairs, LOOPBACK } from "../../_util/udp.ts";

const TOOLS = haveTools("ffmpeg");

Deno.test({
  name: "H264Packetizer and AacPacketizer over UDP: ffmpeg reading the SDP decodes every frame of the source",
  ignore: !TOOLS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_rtp_ffmpeg_" });
    const sock = await bindUdp();
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 4, bframes: 2, gop: 50 });
      const frames: MediaFrame[] = flvFrames(await Deno.readFile(src));
      const video = new H264Packetizer({ payloadType: 96 });
      const audio = new AacPacketizer({ payloadType: 97 });
      for (const f of frames) if (f.sequenceHeader) (f.kind === FrameKind.Video ? video : audio).configure(f);
      const vHeader = frames.find((f) => f.kind === FrameKind.Video && f.sequenceHeader)!;
      const aHeader = frames.find((f) => f.kind === FrameKind.Audio && f.sequenceHeader)!;
      const [vPort, aPort] = await freeUdpPairs(2);
      const desc = describeAt({ video: vHeader.payload, audio: aHeader.payload }, {
        video: vPort,
        audio: aPort,
      });
      assertEquals(desc.media.map((m) => m.formats[0]), ["96", "97"], "the packetizers' payload types");
      const reader = await ffmpegSdpReader(dir, desc);
      const send = (b: Uint8Array, port: number) =>
        new Promise<void>((r, j) => sock.send(b, port, LOOPBACK, (e) => (e ? j(e) : r())));

      // A sender report per track first (RTP time of hub time 0 at the wall clock now).
      const t0 = Date.now();
      await send(video.sender.senderReport(t0, 0, "sluice@test"), vPort + 1);
      await send(audio.sender.senderReport(t0, 0, "sluice@test"), aPort + 1);
      let packets = 0;
      let last = 0;
      for (const f of frames) {
        if (f.sequenceHeader || f.kind === FrameKind.Data) continue;
        const isVideo = f.kind === FrameKind.Video;
        const framed = isVideo ? video.packetize(f) : audio.packetize(f);
        for (const p of rtpPackets(framed)) {
          await send(p, isVideo ? vPort : aPort);
          packets++;
        }
        last = f.timestamp;
        await new Promise((r) => setTimeout(r, 2)); // paced, so no socket buffer overflows
      }
      // A compound of a sender report and a goodbye per track: ffmpeg ends when every track said goodbye.
      const end = t0 + last;
      await send(
        concatBytes([video.sender.senderReport(end, last), buildGoodbye([video.sender.ssrc])]),
        vPort + 1,
      );
      await send(
        concatBytes([audio.sender.senderReport(end, last), buildGoodbye([audio.sender.ssrc])]),
        aPort + 1,
      );
      const r = await reader.done;
      assertEquals([r.code, r.timedOut], [0, false], r.stderr);
      assertEquals(r.stderr, "", "ffmpeg printed errors");

      const want = await sourceChecksums(src);
      const got = frameChecksums(r.stdout);
      const wantVideo = want.get(0)!;
      const wantAudio = want.get(1)!;
      console.log(
        `sent ${packets} RTP packets; ffmpeg decoded ${
          got.get(0)?.length
        } of ${wantVideo.length} pictures, ` +
          `${got.get(1)?.length} of ${wantAudio.length} audio frames`,
      );
      assertGreater(wantVideo.length, 90);
      assertEquals(got.get(0), wantVideo, "the pictures, in order");
      assertEquals(got.get(1), wantAudio, "the audio frames, in order");
    } finally {
      await closeUdp(sock);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Base64 to bytes. */
function unbase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

Deno.test({
  name: "H264Depacketizer and AacDepacketizer give back every frame ffmpeg's RTP muxer sends",
  ignore: !TOOLS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_rtp_ffmpeg_" });
    const sockets: dgram.Socket[] = [];
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 4, bframes: 2, gop: 50 });
      const frames: MediaFrame[] = flvFrames(await Deno.readFile(src));
      const [vPort, aPort] = await freeUdpPairs(2);
      const got = { video: [] as Uint8Array[], audio: [] as Uint8Array[], rtcp: [] as RtcpPacket[] };
      for (const port of [vPort, vPort + 1, aPort, aPort + 1]) {
        const sock = await bindUdp(port);
        sock.on("message", (m: Uint8Array) => {
          if (port % 2 === 1) got.rtcp.push(...readRtcp(new Uint8Array(m)));
          else (port === vPort ? got.video : got.audio).push(new Uint8Array(m));
        });
        sockets.push(sock);
      }
      const sdpFile = `${dir}/out.sdp`;
      await runOk("ffmpeg", [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-readrate",
        "4",
        "-i",
        src,
        "-map",
        "0:v",
        "-c",
        "copy",
        "-f",
        "rtp",
        `rtp://127.0.0.1:${vPort}`,
        "-map",
        "0:a",
        "-c",
        "copy",
        "-f",
        "rtp",
        `rtp://127.0.0.1:${aPort}`,
        "-sdp_file",
        sdpFile,
      ], 30_000);
      await new Promise((r) => setTimeout(r, 200)); // the last datagrams in flight
      const sdp = await Deno.readTextFile(sdpFile);
      const sprop = /sprop-parameter-sets=([^;\s]+)/.exec(sdp)![1].split(",").map(unbase64);
      const config = Uint8Array.from(
        /config=([0-9a-fA-F]+)/.exec(sdp)![1].match(/../g)!,
        (h) => parseInt(h, 16),
      );

      const h264 = new H264Depacketizer();
      const header = h264.setParameterSets(sprop.filter((u) => nalUnitType(u[0]) === NalUnitType.Sps), sprop);
      assert(header?.sequenceHeader, "a sequence header from the SDP");
      const video: RtpFrame[] = [];
      for (const p of got.video) video.push(...h264.push(p));
      video.push(...h264.flush());
      const aac = new AacDepacketizer({ config });
      const audio: RtpFrame[] = [];
      for (const p of got.audio) audio.push(...aac.push(p));

      const sourceVideo = frames.filter((f) =>
        f.kind === FrameKind.Video && !f.sequenceHeader && avcFrame(f.payload)
      );
      const sourceAudio = frames.filter((f) => f.kind === FrameKind.Audio && !f.sequenceHeader);
      const media = video.filter((f) => !f.sequenceHeader);
      console.log(
        `ffmpeg sent ${got.video.length} + ${got.audio.length} RTP packets, ${got.rtcp.length} RTCP packets; ` +
          `${media.length} of ${sourceVideo.length} video, ${audio.length} of ${sourceAudio.length} audio frames`,
      );
      assertEquals(h264.receiver.counts.lost + aac.receiver.counts.lost, 0, "no loss on loopback");
      assertEquals(
        media.map((f) => avccUnits(f.data.subarray(5), 4)),
        sourceVideo.map((f) =>
          avccUnits(avcFrame(f.payload)!.avcc, 4).filter((u) => ![7, 8].includes(nalUnitType(u[0])))
        ),
        "the NAL units of every frame",
      );
      assertEquals(media.map((f) => f.keyframe), sourceVideo.map((f) => f.keyframe));
      // ffmpeg's AAC packetizer puts several frames in a packet and, in our runs of ffmpeg 5.1, leaves the
      // last ones it holds unsent at the end: every frame it sent must be the source's, in order.
      const rawAudio = sourceAudio.map((f) => aacFrame(f.payload)!);
      assertGreater(audio.length, rawAudio.length - 6, "nearly every audio frame");
      assertEquals(audio.map((f) => f.data.subarray(2)), rawAudio.slice(0, audio.length), "the AAC frames");
      assertGreater(
        Math.max(...got.audio.map((p) => (p[12] << 8 | p[13]) / 16)),
        1,
        "several AUs per packet",
      );
      const near = (got: number[], want: number[], what: string) =>
        got.forEach((t, i) =>
          assert(Math.abs(t - want[i]) <= 1, `${what} ${i}: ${t} ms, source ${want[i]} ms`)
        );
      const pts = sourceVideo.map((f) => f.timestamp + avcFrame(f.payload)!.cts);
      near(media.map((f) => f.timestamp), pts.map((t) => t - pts[0]), "video frame");
      near(
        audio.map((f) => f.timestamp),
        sourceAudio.map((f) => f.timestamp - sourceAudio[0].timestamp),
        "audio",
      );
      const reports = got.rtcp.filter((p) => p.type === "sr");
      assertGreater(reports.length, 0, "ffmpeg's sender reports read");
    } finally {
      await closeUdp(...sockets);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
