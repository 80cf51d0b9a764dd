/**
 * ffmpeg as an RTP receiver for the packetizer and UDP tests: it reads the SDP
 * DESCRIBE writes (`describeStream`), its tracks at loopback ports, and decodes
 * what arrives to per-frame checksums (`-f framecrc`), to compare with the
 * source file decoded the same way. (`-c copy` to a file is no use here:
 * ffmpeg 5.1 copying H.264 with B-frames from RTP stops at "Can't write packet
 * with unknown timestamp", with its own RTP muxer as the sender too.)
 *
 * @module
 */
import { describeStream } from "../../src/rtsp/sdp_media.ts";
import { type SessionDescription, writeSdp } from "../../src/rtsp/sdp.ts";
import { type Proc, runOk, start } from "./media.ts";
import { LOOPBACK, waitUdpBound } from "./udp.ts";

/** ffmpeg's output arguments: every frame decoded, one checksum line each. */
export const DECODE_TO_FRAMECRC = ["-fps_mode", "passthrough", "-f", "framecrc", "-"];

/** The checksums of decoded frames per stream index, from `-f framecrc` output. */
export function frameChecksums(framecrc: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of framecrc.split("\n")) {
    if (!/^\d+,/.test(line)) continue;
    const fields = line.split(",").map((s) => s.trim());
    const list = out.get(Number(fields[0])) ?? [];
    list.push(fields[5]);
    out.set(Number(fields[0]), list);
  }
  return out;
}

/** The checksums of `file` decoded by ffmpeg, per stream index. */
export async function sourceChecksums(file: string): Promise<Map<number, string[]>> {
  return frameChecksums(
    (await runOk("ffmpeg", ["-v", "error", "-i", file, ...DECODE_TO_FRAMECRC], 60_000)).stdout,
  );
}

/** The description DESCRIBE gives for these FLV sequence headers, its tracks at 127.0.0.1 on the RTP ports given. */
export function describeAt(
  headers: { video: Uint8Array; audio: Uint8Array },
  ports: { video: number; audio: number },
): SessionDescription {
  const desc = describeStream({ ...headers, address: LOOPBACK });
  return {
    ...desc,
    connection: { netType: "IN", addrType: "IP4", address: LOOPBACK },
    media: desc.media.map((m) => ({ ...m, port: m.media === "video" ? ports.video : ports.audio })),
  };
}

/**
 * ffmpeg reading `desc` from an SDP file in `dir` and decoding to checksums on
 * its stdout, at `-v error`; resolves once it has bound every track's RTP and
 * RTCP port (bounded), so nothing sent after is lost.
 */
export async function ffmpegSdpReader(dir: string, desc: SessionDescription): Promise<Proc> {
  await Deno.writeTextFile(`${dir}/in.sdp`, writeSdp(desc));
  const reader = start("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-protocol_whitelist",
    "file,udp,rtp",
    "-i",
    `${dir}/in.sdp`,
    ...DECODE_TO_FRAMECRC,
  ], { timeoutMs: 30_000 });
  await waitUdpBound(desc.media.flatMap((m) => [m.port, m.port + 1]), 10_000);
  return reader;
}
