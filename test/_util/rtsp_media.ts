/**
 * RTSP helpers for the e2e tests: ffmpeg recording an RTSP URL, a recording's packets with times, the checks a
 * user would make of a recording (clean decode, the source's rate, DTS order, keyframe first, audio and video
 * together), and one raw request on a fresh connection.
 *
 * @module
 */
import { assert, assertEquals, assertGreaterOrEqual } from "./assert.ts";
import {
  COUNT_TOLERANCE,
  decodeErrors,
  ofType,
  probeFrames,
  probePackets,
  relativeDiff,
  run,
  type TestServer,
} from "./media.ts";
import { RtspReader } from "../../src/rtsp/reader.ts";
import { type RequestInit, type RtspResponse, writeRequest } from "../../src/rtsp/message.ts";

/**
 * ffmpeg recording `seconds` of `url` over RTSP (`transport`: tcp or udp) into `out` (stream copy), as MP4: ffmpeg's RTSP
 * input gives the first H.264 packet no timestamp (its parser drops the first frame's, with any server;
 * MediaMTX issue 197), which the FLV and Matroska muxers refuse; the MP4 muxer gives it one and marks it
 * discarded.
 */
export function recordRtsp(url: string, out: string, seconds: number, transport: "tcp" | "udp" = "tcp") {
  return run("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-y",
    "-rtsp_transport",
    transport,
    "-i",
    url,
    "-c",
    "copy",
    "-t",
    String(seconds),
    "-f",
    "mp4",
    out,
  ], { timeoutMs: (seconds + 20) * 1000 });
}

/** One packet of a recording, its times in ms (MP4 time bases differ per track). */
export interface TimedPacket {
  type: string;
  pts: number;
  dts: number;
  keyframe: boolean;
  /** ffmpeg marked it to be dropped after decoding (the first packet, see recordRtsp). */
  discard: boolean;
}

export async function timedPackets(path: string): Promise<TimedPacket[]> {
  const r = await run("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "packet=codec_type,pts_time,dts_time,flags",
    "-of",
    "json",
    path,
  ], { timeoutMs: 60_000 });
  assertEquals(r.code, 0, r.stderr);
  const ms = (t: string | undefined) => t === undefined ? NaN : Math.round(Number(t) * 1000);
  return (JSON.parse(r.stdout).packets as {
    codec_type: string;
    pts_time?: string;
    dts_time?: string;
    flags: string;
  }[])
    .map((p) => ({
      type: p.codec_type,
      pts: ms(p.pts_time),
      dts: ms(p.dts_time),
      keyframe: p.flags.includes("K"),
      discard: p.flags.includes("D"),
    }));
}

/**
 * The checks a recording `out` of source `src` passes: a clean decode, the source's packet rate per track
 * (within COUNT_TOLERANCE), DTS monotonic, a keyframe first, B-frames kept, the first audio and video
 * presentations within 200 ms, a picture per video packet kept.
 */
export async function checkRecording(out: string, src: string, transport: string): Promise<void> {
  assertEquals(await decodeErrors(out), "", "decoding printed errors");
  const [played, source] = await Promise.all([timedPackets(out), probePackets(src)]);
  for (const kind of ["video", "audio"]) {
    const p = ofType(played, kind);
    const s = ofType(source, kind);
    const span = p[p.length - 1].dts - p[0].dts;
    const expected = (s.length - 1) * span / (s[s.length - 1].dts - s[0].dts) + 1;
    console.log(
      `rtsp ${transport} ${kind}: ${p.length} packets over ${span} ms (${
        expected.toFixed(1)
      } at the source rate)`,
    );
    assertGreaterOrEqual(span, 3500);
    assert(relativeDiff(p.length, expected) <= COUNT_TOLERANCE, `${kind}: ${p.length} vs ${expected}`);
    for (let i = 1; i < p.length; i++) assert(p[i].dts >= p[i - 1].dts, `${kind}: DTS goes back at ${i}`);
  }
  const pv = ofType(played, "video");
  const pa = ofType(played, "audio");
  assert(pv[0].keyframe, "the first video packet is a keyframe");
  assert(pv.some((p) => p.pts !== p.dts), "B-frames keep pts != dts");
  // The first picture shown: the least presentation time of the first GOP's packets ffmpeg keeps.
  const firstVideo = Math.min(...pv.slice(0, 10).filter((p) => !p.discard).map((p) => p.pts));
  const gap = Math.abs(firstVideo - pa[0].pts);
  console.log(`rtsp ${transport} first presentation: video ${firstVideo} ms, audio ${pa[0].pts} ms`);
  assert(gap <= 200, `the first audio and video presentation times are ${gap} ms apart`);
  const pictures = ofType(await probeFrames(out), "video");
  assertEquals(pictures.length, pv.filter((p) => !p.discard).length, "a picture per packet kept");
}

/** One request on a fresh connection; the response. */
export async function ask(server: TestServer, init: Omit<RequestInit, "cseq">): Promise<RtspResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtspPort });
  try {
    await conn.write(writeRequest({ ...init, cseq: 1 }));
    const reader = new RtspReader();
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("connection closed before a response");
      for (const item of reader.push(buf.subarray(0, n))) if (item.type === "response") return item;
    }
  } finally {
    conn.close();
  }
}
