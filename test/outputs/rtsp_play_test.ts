import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import {
  AAC_LC_48K_STEREO_HEADER,
  FakePublisher,
  RecordingLogger,
  X264_MAIN_640X360_AVC_HEADER,
} from "../_util/hub_fakes.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { readRtcp } from "../../src/media/rtp/rtcp.ts";
import { rtpPackets } from "../../src/media/rtp/interleaved.ts";
import { REANCHOR_MS, RtpChannel, rtpOf, RtpPacker } from "../../src/outputs/rtsp_play.ts";

const KEYFRAME = hex(`17 01 00 00 00  00 00 00 06  65 88 84 00 33 ff`);
const INTER = hex(`27 01 00 00 00  00 00 00 04  41 9a 00 10`);
const BROKEN = hex(`27 01 00 00 00  00 00 ff ff  41 9a`);
const AAC_FRAME = hex(`af 01 21 10 04 60 8c 1c`);
const BOTH = { video: { rtp: 0, rtcp: 1 }, audio: { rtp: 2, rtcp: 3 } } as const;

/** Interleaved frames as [channel, first payload byte] pairs. */
function channels(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o < bytes.length; o += 4 + ((bytes[o + 2] << 8) | bytes[o + 3])) out.push(bytes[o + 1]);
  return out;
}

function live() {
  const hub = new StreamHub(makeConfig({}).hub, new RecordingLogger());
  const stream = hub.publish("live/x", new FakePublisher());
  const vh = stream.push(FrameKind.Video, 0, X264_MAIN_640X360_AVC_HEADER);
  const ah = stream.push(FrameKind.Audio, 0, AAC_LC_48K_STEREO_HEADER);
  return { hub, stream, vh, ah };
}

Deno.test("rtpOf() makes one pair of packetizers per stream, configured from its sequence headers", () => {
  const { hub, stream } = live();
  const rtp = rtpOf(stream, 1400);
  assertStrictEquals(rtpOf(stream, 1400), rtp, "the same for every player of the stream");
  assert(rtp.video.config !== undefined, "H.264 configured");
  assertEquals(rtp.audio.track?.sampleRate, 48_000);
  assertEquals([rtp.video.sender.channel, rtp.audio.sender.channel], [RtpChannel.Video, RtpChannel.Audio]);
  assertEquals([rtp.video.sender.payloadType, rtp.audio.sender.payloadType], [96, 97]);
  hub.stop();
});

Deno.test("RtpPacker.pack() starts at a keyframe with a sender report per track, then shares the stream's packets", () => {
  const { hub, stream, vh, ah } = live();
  const rtp = rtpOf(stream, 1400);
  const a = new RtpPacker(rtp, BOTH);
  const b = new RtpPacker(rtp, BOTH);
  assertEquals(a.pack(vh).length, 0, "a sequence header packs to nothing");
  assertEquals(a.pack(ah).length, 0);
  assertEquals(
    a.pack(stream.push(FrameKind.Audio, 5, AAC_FRAME)).length,
    0,
    "audio before the first keyframe waits",
  );
  const key = stream.push(FrameKind.Video, 10, KEYFRAME);
  const first = a.pack(key);
  assertEquals(channels(first).slice(0, 2), [1, 3], "sender reports on the RTCP channels first");
  const [srv, sra] = rtpPackets(first);
  assertEquals(readRtcp(srv)[0].type, "sr");
  assertEquals(readRtcp(sra)[0].type, "sr");
  assertEquals(channels(first).slice(2), [0, 0], "then the STAP-A and the IDR");
  const start = a.first("video")!;
  const packets = rtpPackets(first).slice(2);
  assertEquals(start.seq, (packets[0][2] << 8) | packets[0][3]);
  b.pack(key);
  const inter = stream.push(FrameKind.Video, 50, INTER);
  const pa = a.pack(inter);
  assertStrictEquals(pa, b.pack(inter), "players on the same channels write the very same bytes");
  assertStrictEquals(pa, inter.packed.rtp, "cached on the frame");
  hub.stop();
});

Deno.test("RtpPacker.pack() copies the packets onto the channels a session chose, never changing the shared ones", () => {
  const { hub, stream } = live();
  const rtp = rtpOf(stream, 1400);
  const own = new RtpPacker(rtp, { video: { rtp: 6, rtcp: 7 } });
  const key = stream.push(FrameKind.Video, 10, KEYFRAME);
  const out = own.pack(key);
  assertEquals(channels(out), [7, 6, 6]);
  assertEquals(channels(key.packed.rtp!), [0, 0], "the shared packets keep channel 0");
  assert(out !== key.packed.rtp, "a copy");
  hub.stop();
});

Deno.test("RtpPacker.reset() waits for the next keyframe, and a malformed frame packs to nothing", () => {
  const { hub, stream } = live();
  const p = new RtpPacker(rtpOf(stream, 1400), BOTH);
  p.pack(stream.push(FrameKind.Video, 10, KEYFRAME));
  assertEquals(p.pack(stream.push(FrameKind.Video, 20, BROKEN)).length, 0, "no throw into the publisher");
  assertEquals(
    p.pack(stream.push(FrameKind.Video, 30, hex(`17 00 00 00 00  01 64`))).length,
    0,
    "a bad header",
  );
  p.reset();
  assertEquals(p.pack(stream.push(FrameKind.Video, 50, INTER)).length, 0);
  assertEquals(p.pack(stream.push(FrameKind.Audio, 55, AAC_FRAME)).length, 0);
  assertEquals(channels(p.pack(stream.push(FrameKind.Video, 90, KEYFRAME))), [0, 0], "no second report");
  hub.stop();
});

Deno.test("RtpPacker.senderReports() maps one instant for both tracks: NTP now, RTP time of the newest frame", () => {
  const { hub, stream } = live();
  const rtp = rtpOf(stream, 1400);
  const p = new RtpPacker(rtp, BOTH);
  const key = stream.push(FrameKind.Video, 1_000, KEYFRAME);
  p.pack(key);
  const now = stream.newest.at;
  const [v, a] = rtpPackets(p.senderReports(now)).map((x) => readRtcp(x)[0]);
  assert(v.type === "sr" && a.type === "sr");
  assertEquals(v.ntp, a.ntp, "the same wall-clock instant");
  assertEquals(v.rtpTimestamp, rtp.video.sender.clock!.at(key.timestamp));
  assertEquals(a.rtpTimestamp, rtp.audio.sender.clock!.at(key.timestamp));
  hub.stop();
});

Deno.test("StreamRtp.hubTimeAt(): a live stream's reports keep one line through arrival jitter, redrawn past 1 s", () => {
  const { hub, stream } = live();
  const rtp = rtpOf(stream, 1400);
  stream.push(FrameKind.Video, 1_000, KEYFRAME);
  const t0 = stream.newest.at;
  assertEquals(rtp.hubTimeAt(t0), stream.newest.timestamp, "drawn from the newest frame pushed");
  const first = rtp.hubTimeAt(t0);
  // Later reports advance with the wall clock alone, whatever the frames' arrival did meanwhile.
  assertEquals(rtp.hubTimeAt(t0 + 5_000), first + 5_000);
  // Frames that moved off the line by more than REANCHOR_MS (a publisher that came back later): redrawn.
  stream.push(FrameKind.Video, 1_000 + 40 + REANCHOR_MS + 500, INTER);
  const t1 = stream.newest.at;
  assertEquals(rtp.hubTimeAt(t1), stream.newest.timestamp);
  hub.stop();
});
