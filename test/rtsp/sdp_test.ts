/**
 * SDP (RFC 4566): ffmpeg's own descriptions (an ANNOUNCE body and an
 * `-sdp_file`) read and written back to the same text, a full description
 * round trip, the lenient and the strict sides of the reader, every bound,
 * rtpmap/fmtp/control helpers, and mutations.
 */
import {
  attributeOf,
  fmtpOf,
  formatFmtp,
  formatRtpmap,
  MAX_FMTP_PARAMS,
  MAX_SDP_BYTES,
  MAX_SDP_LINES,
  MAX_SDP_MEDIA,
  parseFmtpParameters,
  parseSdp,
  resolveControl,
  rtpmapOf,
  type SessionDescription,
  writeSdp,
} from "../../src/rtsp/sdp.ts";
import { RtspError, RtspStatus } from "../../src/rtsp/status.ts";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom } from "../_util/mutate.ts";
import { FFMPEG_ANNOUNCE_SDP } from "../fixtures/rtsp/ffmpeg_fixtures.ts";

/** What `ffmpeg -i src.flv -c copy -f rtp rtp://127.0.0.1:9 ... -sdp_file x.sdp` wrote for a test source. */
const FFMPEG_SDP_FILE = [
  "v=0",
  "o=- 0 0 IN IP4 127.0.0.1",
  "s=No Name",
  "t=0 0",
  "a=tool:libavformat LIBAVFORMAT_VERSION",
  "m=video 9 RTP/AVP 96",
  "c=IN IP4 127.0.0.1",
  "a=rtpmap:96 H264/90000",
  "a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+Pyw==; " +
  "profile-level-id=64000D",
  "m=audio 11 RTP/AVP 97",
  "c=IN IP4 127.0.0.1",
  "b=AS:96",
  "a=rtpmap:97 MPEG4-GENERIC/44100/1",
  "a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=120856E500",
  "",
].join("\r\n");

Deno.test("parseSdp() reads ffmpeg's ANNOUNCE body", () => {
  const sdp = parseSdp(FFMPEG_ANNOUNCE_SDP);
  assertEquals(sdp.origin, {
    username: "-",
    sessionId: "0",
    sessionVersion: "0",
    netType: "IN",
    addrType: "IP4",
    address: "127.0.0.1",
  });
  assertEquals(sdp.sessionName, "No Name");
  assertEquals(sdp.connection, { netType: "IN", addrType: "IP4", address: "127.0.0.1" });
  assertEquals(sdp.timing, "0 0");
  assertEquals(attributeOf(sdp.attributes, "tool"), "libavformat LIBAVFORMAT_VERSION");
  assertEquals(sdp.media.map((m) => [m.media, m.port, m.proto, m.formats]), [
    ["video", 0, "RTP/AVP", ["96"]],
    ["audio", 0, "RTP/AVP", ["97"]],
  ]);
  const [video, audio] = sdp.media;
  assertEquals(rtpmapOf(video, 96), { payloadType: 96, encoding: "H264", clockRate: 90000 });
  assertEquals(rtpmapOf(audio, 97), {
    payloadType: 97,
    encoding: "MPEG4-GENERIC",
    clockRate: 8000,
    channels: 1,
  });
  assertEquals(rtpmapOf(audio, 96), undefined);
  assertEquals([...fmtpOf(video, 96)], [
    ["packetization-mode", "1"],
    ["sprop-parameter-sets", "Z2QACqyyCE2AiAAAAwAIAAADAFB4kTJA,aOvDyyLA"],
    ["profile-level-id", "64000A"],
  ]);
  assertEquals(fmtpOf(audio, 97).get("config"), "158856E500");
  assertEquals(audio.bandwidths, ["AS:16"]);
  assertEquals(attributeOf(video.attributes, "control"), "streamid=0");
});

Deno.test("writeSdp() gives back ffmpeg's own descriptions byte for byte", () => {
  for (const text of [FFMPEG_ANNOUNCE_SDP, FFMPEG_SDP_FILE]) assertEquals(writeSdp(parseSdp(text)), text);
});

Deno.test("writeSdp() writes every field that parseSdp() reads back", () => {
  const full: SessionDescription = {
    origin: {
      username: "-",
      sessionId: "3912345678",
      sessionVersion: "2",
      netType: "IN",
      addrType: "IP6",
      address: "::1",
    },
    sessionName: "live/x",
    information: "a test",
    connection: { netType: "IN", addrType: "IP6", address: "::" },
    bandwidths: ["AS:1000"],
    timing: "0 0",
    attributes: [{ name: "control", value: "*" }, { name: "recvonly" }],
    media: [{
      media: "video",
      port: 0,
      proto: "RTP/AVP",
      formats: ["96", "97"],
      connection: { netType: "IN", addrType: "IP4", address: "0.0.0.0" },
      bandwidths: ["AS:900"],
      attributes: [{ name: "rtpmap", value: "96 H264/90000" }, { name: "control", value: "trackID=0" }],
    }],
  };
  assertEquals(parseSdp(writeSdp(full)), full);
  assertEquals(writeSdp({ ...full, sessionName: "" }).split("\r\n")[2], "s=-");
  assertThrows(
    () => writeSdp({ ...full, attributes: [{ name: "x", value: "a\r\nm=evil" }] }),
    TypeError,
    "line break",
  );
});

Deno.test("parseSdp() takes LF line ends, blank lines, trailing spaces and a UTF-8 body", () => {
  const sdp = parseSdp(new TextEncoder().encode("v=0\n\ns=Café \nt=0 0\nm=audio 0 RTP/AVP 0\n"));
  assertEquals(sdp.sessionName, "Café");
  assertEquals(sdp.media[0].formats, ["0"]);
});

Deno.test("parseSdp() refuses a malformed description with 400", () => {
  const bad: [string, string][] = [
    ["", 'current first line is "", expected v=0'],
    ["v=1\r\n", 'current first line is "v=1"'],
    ["s=x\r\nv=0\r\n", 'current first line is "s=x"'],
    ["v=0\r\nhello\r\n", 'current line "hello" is not type=value'],
    ["v=0\r\no=- 0 0 IN IP4\r\n", "does not have 6 fields"],
    ["v=0\r\nc=IN IP4\r\n", "does not have 3 fields"],
    ["v=0\r\nm=video x RTP/AVP 96\r\n", 'current m= line "m=video x RTP/AVP 96"'],
    ["v=0\r\nm=video 0 RTP/AVP\r\n", 'is not "media port proto fmt..."'],
  ];
  for (const [text, message] of bad) {
    const e = assertThrows(() => parseSdp(text), RtspError, message);
    assertEquals([e.status, e.code], [RtspStatus.BadRequest, "sdp"], text);
  }
});

Deno.test("parseSdp() refuses a description past each of its bounds", () => {
  const media = (n: number) => "v=0\r\n" + "m=audio 0 RTP/AVP 0\r\n".repeat(n);
  const cases: [string, string][] = [
    ["v=0\r\n" + "a=x\r\n".repeat(MAX_SDP_BYTES / 5), `limit ${MAX_SDP_BYTES}`],
    [
      "v=0\n" + "a\n".repeat(MAX_SDP_LINES),
      `current line count ${MAX_SDP_LINES + 1}, limit ${MAX_SDP_LINES}`,
    ],
    [media(MAX_SDP_MEDIA + 1), `current media count over ${MAX_SDP_MEDIA}, limit ${MAX_SDP_MEDIA}`],
  ];
  for (const [text, message] of cases) assertThrows(() => parseSdp(text), RtspError, message);
  assertEquals(parseSdp(media(MAX_SDP_MEDIA)).media.length, MAX_SDP_MEDIA);
  const params = Array.from({ length: MAX_FMTP_PARAMS + 1 }, (_, i) => `p${i}=1`).join(";");
  assertThrows(() => parseFmtpParameters(params), RtspError, `limit ${MAX_FMTP_PARAMS}`);
});

Deno.test("rtpmapOf() and fmtpOf() refuse lines that are not theirs' shape", () => {
  const sdp = parseSdp("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264\r\na=fmtp:x y=1\r\n");
  assertThrows(() => rtpmapOf(sdp.media[0], 96), RtspError, 'current rtpmap "96 H264"');
  assertThrows(() => fmtpOf(sdp.media[0], 96), RtspError, 'current fmtp "x y=1"');
});

Deno.test("parseFmtpParameters() lowers names, keeps the first of a repeat and takes spaces around ;", () => {
  assertEquals([...parseFmtpParameters("Packetization-Mode=1 ;  sprop-parameter-sets=a,b;x=1;x=2;flag")], [
    ["packetization-mode", "1"],
    ["sprop-parameter-sets", "a,b"],
    ["x", "1"],
    ["flag", ""],
  ]);
});

Deno.test("formatRtpmap() and formatFmtp() write what their readers read", () => {
  assertEquals(
    formatRtpmap({ payloadType: 97, encoding: "MPEG4-GENERIC", clockRate: 48000, channels: 2 }),
    "97 MPEG4-GENERIC/48000/2",
  );
  assertEquals(formatRtpmap({ payloadType: 96, encoding: "H264", clockRate: 90000 }), "96 H264/90000");
  assertEquals(
    formatFmtp(96, [["packetization-mode", "1"], ["profile-level-id", "42C01F"]]),
    "96 packetization-mode=1;profile-level-id=42C01F",
  );
});

Deno.test("resolveControl() appends relative controls as clients do and keeps absolute ones", () => {
  assertEquals(resolveControl("rtsp://h/live/x/", "trackID=0"), "rtsp://h/live/x/trackID=0");
  assertEquals(resolveControl("rtsp://h/live/x", "trackID=0"), "rtsp://h/live/x/trackID=0");
  // What ffmpeg then SETUPs when it published to a URL with a query (see the capture).
  assertEquals(
    resolveControl("rtsp://h:1/live/x?key=abc", "streamid=0"),
    "rtsp://h:1/live/x?key=abc/streamid=0",
  );
  assertEquals(resolveControl("rtsp://h/live/x", "*"), "rtsp://h/live/x");
  assertEquals(resolveControl("rtsp://h/live/x", "rtsp://other/a/trackID=3"), "rtsp://other/a/trackID=3");
  assertEquals(resolveControl("rtsp://h/live/x", "RTSPS://other/a"), "RTSPS://other/a");
});

Deno.test("parseSdp() throws nothing but ProtocolError on mutated descriptions", () => {
  const random = seededRandom(4566);
  const enc = new TextEncoder();
  for (const text of [FFMPEG_ANNOUNCE_SDP, FFMPEG_SDP_FILE]) {
    for (const m of mutations(enc.encode(text), random, 300)) {
      expectOnlyProtocolError(m, (b) => {
        const sdp = parseSdp(b);
        for (const media of sdp.media) {
          const pt = Number(media.formats[0]);
          rtpmapOf(media, pt);
          fmtpOf(media, pt);
        }
      });
    }
  }
});
