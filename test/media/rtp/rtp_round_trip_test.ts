/**
 * Every frame of a real H.264 + AAC stream (made by ffmpeg) packetized and
 * depacketized again: the same NAL units, keyframes and presentation times,
 * the same AAC frames; then with packets lost and reordered, the
 * depacketizer emits only whole, untouched frames, starts again at the next
 * IDR after each loss, and holds no more than one access unit.
 */
import { AvcPacketType, FrameKind, type MediaFrame } from "../../../src/media/frame.ts";
import { NalUnitType, nalUnitType } from "../../../src/media/avc.ts";
import { AacDepacketizer } from "../../../src/media/rtp/aac_depacketizer.ts";
import { AacPacketizer } from "../../../src/media/rtp/aac_packetizer.ts";
import { H264Depacketizer } from "../../../src/media/rtp/h264_depacketizer.ts";
import { avccUnits, H264Packetizer } from "../../../src/media/rtp/h264_packetizer.ts";
import { rtpPackets } from "../../../src/media/rtp/interleaved.ts";
import type { RtpFrame } from "../../../src/media/rtp/rtp_receiver.ts";
import { avcFrame, avcRecord } from "../../../src/media/tag_body.ts";
import { parseAvcConfig } from "../../../src/media/avc.ts";
import { assert, assertEquals, assertGreater } from "../../_util/assert.ts";
import { flvFrames } from "../../_util/flv_frames.ts";
import { haveTools, makeSource } from "../../_util/media.ts";
import { seededRandom } from "../../_util/mutate.ts";

const TOOLS = haveTools("ffmpeg");

/** One source, made once: 6 s, B-frames, 1 s GOP, a bit rate that gives frames well over the MTU. */
let source: MediaFrame[] | undefined;
async function sourceFrames(): Promise<MediaFrame[]> {
  if (source) return source;
  const dir = await Deno.makeTempDir({ prefix: "sluice_rtp_" });
  try {
    const path = await makeSource(`${dir}/src.flv`, { seconds: 6, bframes: 2, gop: 25, video: "1500k" });
    source = flvFrames(await Deno.readFile(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return source;
}

/** A fresh copy of the frames (packetizers cache on `packed`). */
function fresh(frames: MediaFrame[]): MediaFrame[] {
  return frames.map((f) => ({ ...f, packed: {} }));
}

interface Sent {
  /** Each media frame's RTP packets (UDP datagrams). */
  readonly packets: Uint8Array[][];
  readonly frames: MediaFrame[];
}

function packetizeVideo(frames: MediaFrame[], maxPayloadSize: number): Sent & { p: H264Packetizer } {
  const p = new H264Packetizer({ maxPayloadSize });
  const out: Sent = { packets: [], frames: [] };
  for (const f of fresh(frames)) {
    if (f.kind !== FrameKind.Video) continue;
    if (f.sequenceHeader) p.configure(f);
    else {
      const framed = p.packetize(f);
      if (framed.length === 0) continue;
      out.packets.push(rtpPackets(framed));
      out.frames.push(f);
    }
  }
  return { ...out, p };
}

/** What a depacketized frame must hold: the source frame's NAL units less SPS and PPS, its keyframe flag. */
function mediaUnits(f: MediaFrame, lengthSize: number): Uint8Array[] {
  return avccUnits(avcFrame(f.payload)!.avcc, lengthSize).filter((u) => {
    const t = nalUnitType(u[0]);
    return t !== NalUnitType.Sps && t !== NalUnitType.Pps;
  });
}

function lengthSizeOf(frames: MediaFrame[]): number {
  const header = frames.find((f) => f.kind === FrameKind.Video && f.sequenceHeader)!;
  return parseAvcConfig(avcRecord(header.payload)!).lengthSize;
}

function pts(f: MediaFrame): number {
  return f.timestamp + avcFrame(f.payload)!.cts;
}

for (const maxPayloadSize of [1400, 200]) {
  Deno.test({
    name:
      `H264Depacketizer.push() gives back every NAL unit H264Packetizer sent, at ${maxPayloadSize}-byte payloads`,
    ignore: !TOOLS,
    async fn() {
      const frames = await sourceFrames();
      const lengthSize = lengthSizeOf(frames);
      const sent = packetizeVideo(frames, maxPayloadSize);
      const d = new H264Depacketizer();
      const got: RtpFrame[] = [];
      for (const packets of sent.packets) for (const packet of packets) got.push(...d.push(packet));
      const media = got.filter((f) => !f.sequenceHeader);
      assertEquals(media.length, sent.frames.length, "a frame per access unit");
      assertEquals(got[0].sequenceHeader, true, "the sequence header first");
      assertEquals(
        parseAvcConfig(got[0].data.subarray(5)).sps,
        parseAvcConfig(
          avcRecord(frames.find((f) => f.sequenceHeader && f.kind === FrameKind.Video)!.payload)!,
        ).sps,
      );
      const fu = sent.packets.flat().filter((p) => (p[12] & 0x1f) === 28).length;
      if (maxPayloadSize === 200) assertGreater(fu, sent.frames.length, "FU-A carried most of it");
      const first = pts(sent.frames[0]);
      media.forEach((g, i) => {
        const f = sent.frames[i];
        assertEquals(g.keyframe, f.keyframe, `frame ${i} keyframe`);
        assertEquals(g.data[1], AvcPacketType.Nalu);
        assertEquals(avccUnits(g.data.subarray(5), 4), mediaUnits(f, lengthSize), `frame ${i} NAL units`);
        assertEquals(g.timestamp, pts(f) - first, `frame ${i} presentation time`);
      });
      assertEquals(d.stats.brokenAccessUnits + d.stats.oversizedAccessUnits + d.stats.skippedAccessUnits, 0);
    },
  });
}

Deno.test({
  name: "AacDepacketizer.push() gives back every AAC frame AacPacketizer sent, on the frame grid",
  ignore: !TOOLS,
  async fn() {
    const frames = fresh(await sourceFrames()).filter((f) => f.kind === FrameKind.Audio);
    const p = new AacPacketizer({ maxPayloadSize: 200 });
    p.configure(frames[0]);
    const asc = frames[0].payload.subarray(2);
    const d = new AacDepacketizer({ config: asc });
    const sent = frames.filter((f) => !f.sequenceHeader);
    const got: RtpFrame[] = [];
    for (const f of sent) for (const packet of rtpPackets(p.packetize(f))) got.push(...d.push(packet));
    assertEquals(got.length, sent.length);
    got.forEach((g, i) => {
      assertEquals(g.data, sent[i].payload, `frame ${i} bytes`);
      assert(Math.abs(g.timestamp - (sent[i].timestamp - sent[0].timestamp)) <= 1, `frame ${i} time`);
    });
    assertEquals([d.stats.malformedPackets, d.stats.brokenFragments], [0, 0]);
  },
});

Deno.test({
  name:
    "H264Depacketizer.push() recovers at the next IDR from lost and reordered packets, emitting only whole frames",
  ignore: !TOOLS,
  async fn() {
    const frames = await sourceFrames();
    const lengthSize = lengthSizeOf(frames);
    const sent = packetizeVideo(frames, 600);
    // Which source frame each packet belongs to, and the stream with losses and swaps.
    const flat: { packet: Uint8Array; frame: number }[] = [];
    sent.packets.forEach((ps, i) => ps.forEach((packet) => flat.push({ packet, frame: i })));
    const random = seededRandom(0x1d5);
    const damaged: number[] = []; // frames that lost or had a packet reordered
    for (let i = 0; i < flat.length; i++) {
      const r = random();
      if (r < 0.0012) {
        damaged.push(flat[i].frame);
        flat.splice(i, 1);
      } else if (r < 0.002 && i + 1 < flat.length) {
        damaged.push(flat[i].frame, flat[i + 1].frame);
        [flat[i], flat[i + 1]] = [flat[i + 1], flat[i]];
        i++;
      }
    }
    assertGreater(damaged.length, 3, "the seed damages several frames");
    const d = new H264Depacketizer();
    const byPts = new Map(sent.frames.map((f, i) => [pts(f) - pts(sent.frames[0]), i]));
    const emitted: number[] = [];
    for (const { packet } of flat) {
      for (const g of d.push(packet)) {
        if (g.sequenceHeader) continue;
        const i = byPts.get(g.timestamp);
        assert(i !== undefined, `a frame at ${g.timestamp} ms that was never sent`);
        assert(!damaged.includes(i), `damaged frame ${i} was emitted`);
        assertEquals(avccUnits(g.data.subarray(5), 4), mediaUnits(sent.frames[i], lengthSize), `frame ${i}`);
        emitted.push(i);
      }
    }
    // After each damaged frame, nothing until a keyframe; every frame from the next keyframe on (until the
    // next damage) is there.
    const keyframes = sent.frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0);
    const want: number[] = [];
    let waiting = false;
    for (let i = 0; i < sent.frames.length; i++) {
      if (sent.frames[i].keyframe) waiting = false;
      if (damaged.includes(i)) waiting = true;
      // The frame right after a gap is dropped too (its first packets may be the lost ones).
      if (!waiting) want.push(i);
    }
    const lost = new Set(want.filter((i) => !emitted.includes(i)));
    for (const i of lost) {
      // Allowed only where a damage sits right before the keyframe that would restart it.
      assert(keyframes.includes(i) || damaged.includes(i - 1), `frame ${i} went missing`);
    }
    console.log(
      `${flat.length} packets, damage to frames ${
        [...new Set(damaged)].join(" ")
      }: ${emitted.length} of ${sent.frames.length} frames emitted`,
    );
    assertGreater(emitted.length, sent.frames.length / 2, "most frames arrive");
    assertEquals(d.stats.frames, emitted.length);
    assertGreater(d.stats.brokenAccessUnits + d.stats.skippedAccessUnits, 0);
  },
});
