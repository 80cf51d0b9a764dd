/**
 * H.264 and AAC in SDP: the description Sluice writes for a real makeSource
 * FLV compared with what ffmpeg writes for the same file (`-f rtp -sdp_file`),
 * ffmpeg's RTSP server reading it in an ANNOUNCE, the round trip back to the
 * FLV sequence headers, and the tracks of ffmpeg's own ANNOUNCE.
 */
import { parseAvcConfig } from "../../src/media/avc.ts";
import { audioInfo, videoInfo } from "../../src/media/codec_info.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { AacPacketType } from "../../src/media/flv.ts";
import { aacBody, avcRecord } from "../../src/media/tag_body.ts";
import {
  aacMedia,
  announcedTracks,
  describeStream,
  h264Media,
  MAX_AAC_CONFIG_BYTES,
  MAX_SPROP_SETS,
  SdpTrack,
} from "../../src/rtsp/sdp_media.ts";
import { fmtpOf, parseSdp, rtpmapOf, type SessionDescription, writeSdp } from "../../src/rtsp/sdp.ts";
import { RtspError, RtspStatus } from "../../src/rtsp/status.ts";
import { parseRtspUrl } from "../../src/rtsp/url.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "../_util/assert.ts";
import { flvFrames } from "../_util/flv_frames.ts";
import { haveTools, makeSource, runOk } from "../_util/media.ts";
import { captureServer } from "../fixtures/rtsp/capture.ts";
import { FFMPEG_ANNOUNCE_SDP, ffmpegPublishTcp } from "../fixtures/rtsp/ffmpeg_fixtures.ts";

const HAVE_FFMPEG = haveTools("ffmpeg");

/** The sequence header bodies of an FLV file. */
async function sequenceHeaders(path: string): Promise<{ video: Uint8Array; audio: Uint8Array }> {
  const frames = flvFrames(await Deno.readFile(path));
  const video = frames.find((f) => f.kind === FrameKind.Video && f.sequenceHeader)?.payload;
  const audio = frames.find((f) => f.kind === FrameKind.Audio && f.sequenceHeader)?.payload;
  assert(video && audio, "the source has both sequence headers");
  return { video, audio };
}

/** What ffmpeg writes as the SDP of an FLV's two streams sent as RTP. */
async function ffmpegSdp(path: string, dir: string): Promise<SessionDescription> {
  const sdpFile = `${dir}/ffmpeg.sdp`;
  await runOk("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-v", "error", "-y", "-i", path],
    ...["-map", "0:v", "-c", "copy", "-f", "rtp", "rtp://127.0.0.1:9"],
    ...["-map", "0:a", "-c", "copy", "-f", "rtp", "rtp://127.0.0.1:11", "-sdp_file", sdpFile],
  ], 30_000);
  return parseSdp(await Deno.readTextFile(sdpFile));
}

/** Sources: makeSource's (mono 44.1 kHz AAC, High profile), and a stereo 48 kHz Baseline one. */
async function sources(dir: string): Promise<string[]> {
  const a = await makeSource(`${dir}/a.flv`, { seconds: 1, size: "320x240" });
  const b = `${dir}/b.flv`;
  await runOk("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-v", "error", "-y"],
    ...["-f", "lavfi", "-i", "testsrc2=size=176x144:rate=15", "-f", "lavfi", "-i", "sine=sample_rate=48000"],
    ...["-t", "1", "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p"],
    ...["-c:a", "aac", "-ac", "2", "-ar", "48000", "-f", "flv", b],
  ], 60_000);
  return [a, b];
}

Deno.test({
  name: "describeStream() writes the fmtp and rtpmap values ffmpeg writes for the same FLV",
  ignore: !HAVE_FFMPEG,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      for (const path of await sources(dir)) {
        const ours = parseSdp(writeSdp(describeStream(await sequenceHeaders(path))));
        const theirs = await ffmpegSdp(path, dir);
        assertEquals(ours.media.map((m) => m.media), ["video", "audio"]);
        for (const [i, pt] of [[0, 96], [1, 97]]) {
          assertEquals(rtpmapOf(ours.media[i], pt), rtpmapOf(theirs.media[i], pt), `${path} rtpmap ${pt}`);
          const mine = fmtpOf(ours.media[i], pt);
          const ff = fmtpOf(theirs.media[i], pt);
          // Every parameter ffmpeg writes, we write with the same value (we add streamtype=5 for AAC).
          for (const [k, v] of ff) assertEquals(mine.get(k), v, `${path} fmtp ${pt} ${k}`);
        }
        assertEquals(fmtpOf(ours.media[1], 97).get("streamtype"), "5");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "describeStream() writes an SDP that ffmpeg's RTSP server takes in an ANNOUNCE",
  ignore: !HAVE_FFMPEG,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const [path] = await sources(dir);
      const headers = await sequenceHeaders(path);
      const sdp = writeSdp(describeStream(headers));
      // ffmpeg logs profile_idc, the constraint flags and level_idc of the SPS in unpadded hex.
      const sps = parseAvcConfig(avcRecord(headers.video)!).sps[0];
      const idc = [...sps.subarray(1, 4)].map((b) => b.toString(16));
      const bytes = new TextEncoder().encode(sdp);
      const { bytes: answers, stderr } = await captureServer(
        "ffmpeg",
        (p) => [
          ...["-hide_banner", "-nostdin", "-v", "debug", "-rtsp_flags", "listen", "-timeout", "10"],
          ...["-i", `rtsp://127.0.0.1:${p}/live/x`, "-f", "null", "-"],
        ],
        (p) => [
          `OPTIONS rtsp://127.0.0.1:${p}/live/x RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
          `ANNOUNCE rtsp://127.0.0.1:${p}/live/x RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n` +
          `Content-Length: ${bytes.length}\r\n\r\n${sdp}`,
        ],
      );
      const text = new TextDecoder().decode(answers);
      assertMatch(text, /^RTSP\/1\.0 200 OK\r\nCSeq: 1\r\n[\s\S]*RTSP\/1\.0 200 OK\r\nCSeq: 2\r\n/);
      for (
        const line of [
          "video codec set to: h264",
          "RTP Packetization Mode: 1",
          `RTP Profile IDC: ${idc[0]} Profile IOP: ${idc[1]} Level: ${idc[2]}`,
          "audio codec set to: aac",
          "audio samplerate set to: 44100",
          "audio channels set to: 1",
        ]
      ) assert(stderr.includes(line), `ffmpeg logged "${line}":\n${stderr}`);
      assertMatch(stderr, /Extradata set to 0x[0-9a-f]+ \(size: \d+\)/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "announcedTracks() gives back the FLV sequence headers describeStream() was made from",
  ignore: !HAVE_FFMPEG,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      for (const path of await sources(dir)) {
        const headers = await sequenceHeaders(path);
        const tracks = announcedTracks(parseSdp(writeSdp(describeStream(headers))), "rtsp://h/live/x/");
        assertEquals(tracks.map((t) => [t.media, t.payloadType, t.encoding, t.control]), [
          ["video", 96, "H264", "rtsp://h/live/x/trackID=0"],
          ["audio", 97, "MPEG4-GENERIC", "rtsp://h/live/x/trackID=1"],
        ]);
        const [video, audio] = tracks;
        assert(video.codec?.codec === "H264" && audio.codec?.codec === "AAC");
        assertEquals(video.codec.sequenceHeader, headers.video, path);
        assertEquals(audio.codec.sequenceHeader, headers.audio, path);
        assertEquals(videoInfo(video.codec.sequenceHeader!), videoInfo(headers.video));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("describeStream() writes a live stream's and a file's description", () => {
  // The fixture's SPS and PPS, as an FLV sequence header.
  const [track] = announcedTracks(parseSdp(FFMPEG_ANNOUNCE_SDP), "rtsp://h/live/x");
  assert(track.codec?.codec === "H264");
  const video = track.codec.sequenceHeader!;
  const audio = aacBody(AacPacketType.SequenceHeader, Uint8Array.of(0x12, 0x10));
  const live = writeSdp(
    describeStream({ video, audio, sessionId: "3912345678", sessionName: "live/x", tool: "Sluice" }),
  );
  assertEquals(live.split("\r\n"), [
    "v=0",
    "o=- 3912345678 1 IN IP4 0.0.0.0",
    "s=live/x",
    "c=IN IP4 0.0.0.0",
    "t=0 0",
    "a=tool:Sluice",
    "a=control:*",
    "a=range:npt=0-",
    "m=video 0 RTP/AVP 96",
    "a=rtpmap:96 H264/90000",
    "a=fmtp:96 packetization-mode=1;profile-level-id=64000A;sprop-parameter-sets=Z2QACqyyCE2AiAAAAwAIAAADAFB4kTJA,aOvDyyLA",
    "a=control:trackID=0",
    "m=audio 0 RTP/AVP 97",
    "a=rtpmap:97 MPEG4-GENERIC/44100/2",
    "a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210",
    "a=control:trackID=1",
    "",
  ]);
  const file = describeStream({ audio, durationSec: 12.5, address: "::1" });
  assertEquals(file.attributes, [{ name: "control", value: "*" }, { name: "range", value: "npt=0-12.5" }]);
  assertEquals([file.origin.addrType, file.origin.address, file.connection?.address], ["IP6", "::1", "::"]);
  assertEquals(file.media.map((m) => m.media), ["audio"]);
});

Deno.test("h264Media() and aacMedia() describe nothing for other codecs' sequence headers", () => {
  assertEquals(h264Media(Uint8Array.of(0x1c, 0x00, 0, 0, 0, 1)), undefined); // CodecID 12 (HEVC)
  assertEquals(h264Media(Uint8Array.of(0x17, 0x01, 0, 0, 0, 1)), undefined); // a NALU packet, not the header
  assertEquals(aacMedia(Uint8Array.of(0x2f, 0x00, 0x12)), undefined); // MP3
  assertEquals(aacMedia(Uint8Array.of(0xaf, 0x01, 0x12)), undefined); // a raw AAC frame
  assertEquals(describeStream({ video: Uint8Array.of(0x12, 0) }).media, []);
});

Deno.test("h264Media() and aacMedia() describe Enhanced RTMP avc1 and mp4a sequence headers as the legacy ones", () => {
  const [track] = announcedTracks(parseSdp(FFMPEG_ANNOUNCE_SDP), "rtsp://h/live/x");
  assert(track.codec?.codec === "H264");
  const record = avcRecord(track.codec.sequenceHeader!)!;
  // ExHeader, FrameType key, PacketType SequenceStart, FourCC "avc1" / "mp4a", then the record / config.
  const avc1 = Uint8Array.of(0x90, 0x61, 0x76, 0x63, 0x31, ...record);
  assertEquals(h264Media(avc1), h264Media(track.codec.sequenceHeader!));
  const mp4a = Uint8Array.of(0x90, 0x6d, 0x70, 0x34, 0x61, 0x12, 0x10);
  assertEquals(aacMedia(mp4a), aacMedia(aacBody(AacPacketType.SequenceHeader, Uint8Array.of(0x12, 0x10))));
  assertEquals(aacMedia(Uint8Array.of(0xaf, 0x00)), undefined, "an AAC sequence header without a config");
});

Deno.test("announcedTracks() reads ffmpeg's ANNOUNCE: the controls it SETUPs, SPS and PPS, the AAC config", () => {
  const uri = "rtsp://127.0.0.1:35335/live/x?key=abc";
  const [video, audio] = announcedTracks(parseSdp(FFMPEG_ANNOUNCE_SDP), uri);
  // The control URLs are the SETUP URIs ffmpeg then sent (the capture), and name tracks 0 and 1.
  const setups = ffmpegPublishTcp.parts.flatMap((p) =>
    p.expect.type === "request" && p.expect.method === "SETUP" ? [p.expect.uri] : []
  );
  assertEquals([video.control, audio.control], setups);
  assertEquals(setups.map((u) => parseRtspUrl(u).track), [0, 1]);
  assert(video.codec?.codec === "H264");
  assertEquals([video.codec.packetizationMode, video.codec.profileLevelId], [1, "64000A"]);
  assertEquals(video.codec.sps.map((s) => [s.length, s[0], s[1], s[3]]), [[24, 0x67, 0x64, 0x0a]]);
  assertEquals(video.codec.pps.map((p) => [...p]), [[0x68, 0xeb, 0xc3, 0xcb, 0x22, 0xc0]]);
  assertEquals(videoInfo(video.codec.sequenceHeader!), {
    codec: "H.264",
    profile: "High",
    level: "1",
    width: 64,
    height: 64,
    frameRate: 5,
  });
  assert(audio.codec?.codec === "AAC");
  assertEquals([audio.clockRate, audio.channels, audio.codec.sizeLength, audio.codec.indexLength], [
    8000,
    1,
    13,
    3,
  ]);
  assertEquals([...audio.codec.config], [0x15, 0x88, 0x56, 0xe5, 0x00]);
  assertEquals(audioInfo(audio.codec.sequenceHeader), {
    codec: "AAC",
    sampleRate: 8000,
    channels: 1,
    profile: "LC",
  });
});

Deno.test("announcedTracks() lists other codecs without codec parameters, and static payload types", () => {
  const sdp = parseSdp(
    "v=0\r\ns=-\r\nt=0 0\r\na=control:rtsp://cam/stream\r\n" +
      "m=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\na=control:track1\r\n" +
      "m=audio 0 RTP/AVP 8\r\n" +
      "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/16000/1\r\na=fmtp:97 mode=CELP-cbr;config=1408\r\n" +
      "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:rtsp://cam/stream/v\r\n",
  );
  const tracks = announcedTracks(sdp, "rtsp://ignored/");
  assertEquals(tracks.map((t) => [t.encoding, t.clockRate, t.control, t.codec?.codec]), [
    ["H265", 90000, "rtsp://cam/stream/track1", undefined],
    ["PCMA", 8000, "rtsp://cam/stream", undefined],
    ["MPEG4-GENERIC", 16000, "rtsp://cam/stream", undefined],
    // No sprop-parameter-sets: the parameter sets come in band, no sequence header yet.
    ["H264", 90000, "rtsp://cam/stream/v", "H264"],
  ]);
  assert(tracks[3].codec?.codec === "H264");
  assertEquals([tracks[3].codec.sequenceHeader, tracks[3].codec.packetizationMode], [undefined, 0]);
});

Deno.test("announcedTracks() refuses broken codec parameters with 400", () => {
  const video = (fmtp: string) =>
    `v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 ${fmtp}\r\n`;
  const audio = (fmtp: string) =>
    `v=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=fmtp:97 mode=AAC-hbr;${fmtp}\r\n`;
  const bad: [string, string][] = [
    [video("packetization-mode=3"), 'current packetization-mode is "3"'],
    [video("sprop-parameter-sets=!!!,aOvDyyLA"), 'entry "!!!" is not base64'],
    [video("sprop-parameter-sets=Z2Q="), "cannot make an AVC configuration"],
    [
      video(`sprop-parameter-sets=${Array(MAX_SPROP_SETS + 1).fill("aOvDyyLA").join(",")}`),
      `limit ${MAX_SPROP_SETS}`,
    ],
    [audio("config=12G0"), 'current AAC config is "12G0"'],
    [audio("config=1"), 'current AAC config is "1"'],
    [audio(`config=${"12".repeat(MAX_AAC_CONFIG_BYTES + 1)}`), `limit ${MAX_AAC_CONFIG_BYTES}`],
    [audio("config=00"), "is not an AudioSpecificConfig"],
    [audio("config=1210;sizelength=99"), 'current sizelength is "99"'],
    ["v=0\r\nm=video 0 RTP/AVP x\r\n", 'current payload type of media 0 is "x"'],
  ];
  for (const [text, message] of bad) {
    const e = assertThrows(() => announcedTracks(parseSdp(text), "rtsp://h/a/b"), RtspError, message);
    assertEquals(e.status, RtspStatus.BadRequest, text);
  }
});

Deno.test("SdpTrack fixes video as trackID=0 on payload type 96 and audio as trackID=1 on 97", () => {
  assertEquals(SdpTrack.Video, { id: 0, payloadType: 96, control: "trackID=0" });
  assertEquals(SdpTrack.Audio, { id: 1, payloadType: 97, control: "trackID=1" });
});
