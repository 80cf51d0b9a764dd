/**
 * A light RTSP player for `deno task bench --proto rtsp` (RFC 2326, RTP over
 * the RTSP connection): TCP connect, OPTIONS, DESCRIBE (retried while the
 * stream has no publisher yet: the probe asks before the publisher starts),
 * SETUP of trackID=0 with `RTP/AVP/TCP;unicast;interleaved=0-1` and of
 * trackID=1 with `interleaved=2-3`, PLAY with the Session, then interleaved
 * frames, read in sweeps as the FLV players do. Each request waits for its
 * answer as ffmpeg and VLC do; every wait has a deadline, so nothing hangs.
 *
 * What it counts, to compare with the FLV players:
 * - bytes: RTP payload bytes (after the fixed header, CSRCs, extension and
 *   padding) on the RTP channels, as the FLV players count tag bodies and
 *   not the RTMP chunk or FLV tag headers; RTCP is not counted;
 * - a picture: a video packet with the marker bit (RFC 6184 5.1: the last
 *   packet of an access unit), so the first frame is the first whole
 *   keyframe, as the RTMP player's is its first whole keyframe message. A
 *   picture is a keyframe when one of its packets starts an IDR slice
 *   (single NAL unit or FU-A), looked at only until the first one;
 * - timestamps: the RTP timestamp is the presentation time (90 kHz), in ms
 *   from one base shared by the players of the process (the stream's packets
 *   are packed once, so all players see the same RTP times). With B-frames it
 *   goes back and forth, and the pictures that present before the newest one
 *   arrive after it; so the tally is given the highest presentation time so
 *   far less the largest step back seen (the reorder depth), never going
 *   down: the pictures up to it have come (within one), as they have up to
 *   an FLV player's DTS, so pictures counted over the time spanned compare
 *   as they do for RTMP. The probe's edge is made the same way. Nothing
 *   else of RTP is read.
 *
 * @module
 */
import { ClockRate } from "../src/media/rtp/clock.ts";
import { NalHeader, RtpH264Type } from "../src/media/rtp/h264_payload.ts";
import { RTP_FIXED_HEADER_SIZE } from "../src/media/rtp/rtp_header.ts";
import { NalUnitType } from "../src/media/avc.ts";
import { HeaderName, parseSession, type SessionHeader } from "../src/rtsp/headers.ts";
import { RtspMethod, type RtspResponse, writeRequest } from "../src/rtsp/message.ts";
import { RtspStatus } from "../src/rtsp/status.ts";
import { type OnPacket, RtspPlayReader } from "./rtsp_play_reader.ts";
import { type PlayerResult, type PlayRun, Tally } from "./tally.ts";

/** How long a request may wait for its answer, ms. */
const ANSWER_MS = 10_000;
/** How long DESCRIBE is retried while the stream has no publisher (404), and how often, ms. */
const LIVE_WAIT_MS = 20_000;
const DESCRIBE_RETRY_MS = 100;
/** Past its end, how long a read may wait before the player gives up on a stalled server, ms. */
const STALL_MS = 3_000;

/** The interleaved channels asked for (RFC 2326 10.12; RTP on the even one, RTCP on the next). */
const Channel = { Video: 0, Audio: 2 } as const;

/** RFC 3550 5.1: bits of the RTP header's first two bytes, and where the timestamp is. */
const RtpBits = {
  /** Byte 0 bit 5: P, padding at the end, its last byte the count. */
  Padding: 0x20,
  /** Byte 0 bit 4: X, a header extension after the CSRCs (5.3.1: 16-bit profile, 16-bit length in words). */
  Extension: 0x10,
  /** Byte 0 bits 3-0: CC, the number of 32-bit CSRCs. */
  CsrcCount: 0x0f,
  /** Byte 1 bit 7: M, for H.264 the last packet of an access unit (RFC 6184 5.1). */
  Marker: 0x80,
  /** Bytes 4-7: the timestamp. */
  TimestampOffset: 4,
} as const;

/** The first video RTP timestamp any player of this process saw: the base of every player's ms. */
let rtpBase: number | undefined;

/** `p`, or an error once `ms` have passed (then `onTimeout` runs, to release what `p` waits on). */
async function within<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`Cannot play over RTSP: no ${what} within ${ms} ms`));
    }, Math.max(0, ms));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The channel pair a SETUP answer's Transport names (the server may pick other ones). */
function interleavedOf(res: RtspResponse, asked: number): number {
  const m = res.headers.get(HeaderName.Transport)?.match(/interleaved=(\d+)-\d+/);
  return m ? Number(m[1]) : asked;
}

/** Plays `rtsp://host:port{path}` until `run.stopAt` (performance.now() ms); never throws. */
export async function rtspPlayer(
  host: string,
  port: number,
  path: string,
  run: PlayRun,
  probe: boolean,
  ready?: () => void,
): Promise<PlayerResult> {
  const url = `rtsp://${host}:${port}${path}`;
  const tally = new Tally(probe);
  const r = tally.r;
  const reader = new RtspPlayReader();
  const answers: RtspResponse[] = [];
  let conn: Deno.Conn | undefined;
  const close = () => {
    try {
      conn?.close();
    } catch {
      // closed
    }
  };
  let stall: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  let cseq = 0;
  let session: SessionHeader | undefined;
  let video: number = Channel.Video;
  let audio: number = Channel.Audio;
  let now = performance.now();
  /** Whether the picture being received has an IDR slice (looked at until the first keyframe). */
  let idr = false;
  /** The highest presentation time so far, how far a picture came below it, and what the tally is given. */
  let highestMs = -Infinity;
  let reorderMs = 0;
  let shownMs = -Infinity;
  const onPacket: OnPacket = (channel, b, start, end) => {
    if (channel !== video && channel !== audio) return; // RTCP sender reports
    const b0 = b[start];
    let head = RTP_FIXED_HEADER_SIZE + 4 * (b0 & RtpBits.CsrcCount);
    if (b0 & RtpBits.Extension && start + head + 4 <= end) {
      head += 4 + 4 * ((b[start + head + 2] << 8) | b[start + head + 3]);
    }
    const size = end - start - head - (b0 & RtpBits.Padding ? b[end - 1] : 0);
    if (size <= 0) return;
    r.bytes += size;
    const marker = (b[start + 1] & RtpBits.Marker) !== 0;
    if (channel === audio) {
      if (marker) r.frames++;
      return;
    }
    if (r.firstTs < 0 && !idr) {
      const p = start + head;
      const type = b[p] & NalHeader.Type;
      idr = type === NalUnitType.Idr ||
        (type === RtpH264Type.FuA && size > 1 && (b[p + 1] & NalHeader.Type) === NalUnitType.Idr);
    }
    if (!marker) return;
    r.frames++;
    const t = start + RtpBits.TimestampOffset;
    const ts = ((b[t] << 24) | (b[t + 1] << 16) | (b[t + 2] << 8) | b[t + 3]) >>> 0;
    rtpBase ??= ts;
    // Signed 32-bit difference: the first pictures may present a little before the base.
    const ms = ((ts - rtpBase) | 0) / (ClockRate.Video / 1000);
    if (ms > highestMs) highestMs = ms;
    else reorderMs = Math.max(reorderMs, highestMs - ms);
    shownMs = Math.max(shownMs, highestMs - reorderMs);
    tally.picture(shownMs, idr, now);
    idr = false;
  };
  /** Reads once (within `ms`, when given); false when the server closed. */
  const fill = async (what: string, ms?: number): Promise<boolean> => {
    const read = conn!.read(reader.readable());
    const n = ms === undefined ? await read : await within(read, ms, what, close);
    if (n === null) return false;
    now = performance.now();
    answers.push(...reader.commit(n, onPacket));
    return true;
  };
  const send = async (method: string, uri: string, transport?: string): Promise<number> => {
    const c = ++cseq;
    const bytes = writeRequest({
      method,
      uri,
      cseq: c,
      ...(session && { session: { id: session.id } }),
      ...(transport !== undefined && { transport }),
      headers: [[HeaderName.UserAgent, "sluice-bench"]],
    });
    for (let o = 0; o < bytes.length;) o += await conn!.write(bytes.subarray(o));
    return c;
  };
  const ask = async (method: string, uri: string, transport?: string): Promise<RtspResponse> => {
    const c = await send(method, uri, transport);
    const deadline = performance.now() + ANSWER_MS;
    for (;;) {
      const i = answers.findIndex((a) => a.cseq === c);
      if (i >= 0) return answers.splice(i, 1)[0];
      if (!(await fill(`answer to ${method}`, deadline - performance.now()))) {
        throw new Error(
          `Cannot play over RTSP: the server closed the connection before the answer to ${method}`,
        );
      }
    }
  };
  const ok = (res: RtspResponse, method: string): RtspResponse => {
    if (res.status !== RtspStatus.Ok) {
      throw new Error(
        `Cannot play over RTSP: current answer to ${method} is ${res.status} ${res.reason}, expected 200`,
      );
    }
    return res;
  };
  try {
    conn = await within(Deno.connect({ hostname: host, port }), ANSWER_MS, "connection", () => {});
    (conn as Deno.TcpConn).setNoDelay(true); // as ffmpeg does: small requests are not held back by Nagle
    ok(await ask(RtspMethod.Options, url), RtspMethod.Options);
    ready?.();
    const liveBy = performance.now() + LIVE_WAIT_MS;
    let described: RtspResponse;
    for (;;) {
      described = await ask(RtspMethod.Describe, url);
      if (described.status !== RtspStatus.NotFound || performance.now() > liveBy) break;
      await new Promise((res) => setTimeout(res, DESCRIBE_RETRY_MS));
    }
    ok(described, RtspMethod.Describe);
    const sdp = new TextDecoder().decode(described.body);
    if (!/^m=video /m.test(sdp)) throw new Error("Cannot play over RTSP: current SDP has no video");
    const base = described.headers.get(HeaderName.ContentBase) ?? `${url}/`;
    const setup = ok(
      await ask(
        RtspMethod.Setup,
        `${base}trackID=0`,
        `RTP/AVP/TCP;unicast;interleaved=${video}-${video + 1}`,
      ),
      RtspMethod.Setup,
    );
    video = interleavedOf(setup, video);
    session = parseSession(setup.headers.get(HeaderName.Session) ?? "");
    if (/^m=audio /m.test(sdp)) {
      const a = ok(
        await ask(
          RtspMethod.Setup,
          `${base}trackID=1`,
          `RTP/AVP/TCP;unicast;interleaved=${audio}-${audio + 1}`,
        ),
        RtspMethod.Setup,
      );
      audio = interleavedOf(a, audio);
    } else {
      audio = -1;
    }
    // The answer and the first packets may come in one read: fill() hands the packets on as it goes.
    ok(await ask(RtspMethod.Play, url), RtspMethod.Play);
    tally.swept(now);
    // A keep-alive well inside the session's timeout (RFC 2326 12.37), for runs longer than it.
    const keepAliveMs = ((session.timeoutSec ?? 60) * 1000) / 2;
    let keepAliveAt = performance.now() + keepAliveMs;
    // One deadline for the whole play (a timer per read would cost the load generator): a stalled server
    // is given up on STALL_MS past the end.
    stall = setTimeout(() => {
      stalled = true;
      close();
    }, Math.max(0, run.stopAt + STALL_MS - performance.now()));
    while (performance.now() < run.stopAt) {
      if (!(await fill("bytes"))) throw new Error("server closed the connection");
      tally.swept(now);
      for (const res of answers.splice(0)) ok(res, RtspMethod.GetParameter);
      if (now >= keepAliveAt) {
        keepAliveAt = now + keepAliveMs;
        await send(RtspMethod.GetParameter, url);
      }
      await tally.pace();
    }
  } catch (e) {
    r.error = stalled
      ? `Cannot play over RTSP: no bytes for ${STALL_MS} ms past the end`
      : e instanceof Error
      ? e.message
      : String(e);
  } finally {
    clearTimeout(stall);
    close();
  }
  return r;
}
