/**
 * RTSP VOD end to end: an ffmpeg-made FLV (12 s, 320x240 at 25 fps, a keyframe every second, H.264 with
 * B-frames + AAC) in a temp VOD root, served by an in-process Sluice at `rtsp://127.0.0.1:PORT/vod/x.flv`:
 * ffmpeg reads the whole file over TCP interleaved and ends by itself at the end (the RTCP BYEs); `ffmpeg -ss 5`
 * (ffmpeg PLAYs, PAUSEs, then PLAYs with `Range: npt=5.000-`) starts at the file's picture at 5 s; the test
 * client PAUSEs and resumes; ffmpeg reads over UDP once. Every child process is bounded by a timeout; nothing
 * asserts on time.
 */
import { assert, assertEquals, assertGreater, assertGreaterOrEqual, assertMatch } from "../_util/assert.ts";
import {
  COUNT_TOLERANCE,
  decodeErrors,
  haveTools,
  makeSource,
  ofType,
  type Packet,
  probePackets,
  relativeDiff,
  run,
  startServer,
  type TestServer,
} from "../_util/media.ts";
import { checkRecording, timedPackets } from "../_util/rtsp_media.ts";
import { RtspTestClient } from "../rtsp/_client.ts";
import { parseRtpInfo, parseSession } from "../../src/rtsp/headers.ts";
import type { InterleavedFrame } from "../../src/media/rtp/interleaved.ts";
import type { RtspResponse } from "../../src/rtsp/message.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** The clip: 12 s at 25 fps, a keyframe every 25 frames (1 s). */
const SECONDS = 12;
const CHILD_TIMEOUT_MS = 60_000;

/** The clip, made once for the whole file in a folder that outlives the tests (removed at unload). */
let made: Promise<{ root: string; clip: string; packets: Packet[] }> | undefined;
function clip(): Promise<{ root: string; clip: string; packets: Packet[] }> {
  return made ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "sluice_rtsp_vod_e2e_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const path = await makeSource(`${root}/x.flv`, {
      seconds: SECONDS,
      size: "320x240",
      gop: 25,
      video: "400k",
    });
    return { root, clip: path, packets: await probePackets(path) };
  })();
}

interface Vod {
  server: TestServer;
  /** `rtsp://127.0.0.1:PORT/vod/x.flv` */
  url: string;
  clip: string;
  packets: Packet[];
  dir: string;
}

function e2e(name: string, fn: (vod: Vod) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !TOOLS,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const { root, clip: path, packets } = await clip();
      const dir = await Deno.makeTempDir({ prefix: "sluice_rtsp_vod_out_" });
      const server = await startServer({ vod: { root }, rtsp: { host: "127.0.0.1", port: 0 } });
      try {
        await fn({
          server,
          url: `rtsp://127.0.0.1:${server.sluice.rtspPort}/vod/x.flv`,
          clip: path,
          packets,
          dir,
        });
      } catch (e) {
        console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
        throw e;
      } finally {
        await server.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/**
 * ffmpeg copying `url` over RTSP into `out` until the server ends it (input options before -i), as MP4 (the
 * first H.264 packet of ffmpeg's RTSP input has no timestamp; see rtsp_media.ts); its stderr at `-v debug`.
 */
async function recordToEnd(url: string, out: string, input: string[]): Promise<string> {
  const r = await run("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-nostats", "-v", "debug", "-y", ...input, "-i", url],
    ...["-c", "copy", "-f", "mp4", out],
  ], { timeoutMs: CHILD_TIMEOUT_MS });
  assertEquals(
    [r.code, r.timedOut],
    [0, false],
    `ffmpeg ${input.join(" ")} -i ${url}:\n${r.stderr.slice(-3000)}`,
  );
  return r.stderr;
}

/** A recording's length as ffprobe reads it, ms. */
async function durationMs(path: string): Promise<number> {
  const r = await run(
    "ffprobe",
    ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
    {
      timeoutMs: CHILD_TIMEOUT_MS,
    },
  );
  assertEquals(r.code, 0, r.stderr);
  return Math.round(Number(r.stdout.trim()) * 1000);
}

/**
 * The checks of a recording made with `-ss`: ffmpeg keeps the packets from the keyframe before the start
 * marked discarded (decoded, not shown: an MP4 edit list), so what is shown is checked: a clean decode, the
 * first packet shown a keyframe, the file's packet rate per track (within COUNT_TOLERANCE) over at least
 * 3.5 s, DTS monotonic, audio and video starting within 200 ms.
 */
async function checkSeekRecording(out: string, src: string, label: string): Promise<void> {
  assertEquals(await decodeErrors(out), "", `${label}: decoding printed errors`);
  const [played, source] = await Promise.all([timedPackets(out), probePackets(src)]);
  const shown = played.filter((p) => !p.discard);
  for (const kind of ["video", "audio"]) {
    const p = ofType(shown, kind);
    const s = ofType(source, kind);
    const span = p[p.length - 1].dts - p[0].dts;
    const expected = (s.length - 1) * span / (s[s.length - 1].dts - s[0].dts) + 1;
    console.log(
      `${label} ${kind}: ${p.length} packets shown over ${span} ms (${
        expected.toFixed(1)
      } at the file's rate)`,
    );
    assertGreaterOrEqual(span, 3500);
    assert(
      relativeDiff(p.length, expected) <= COUNT_TOLERANCE,
      `${label} ${kind}: ${p.length} vs ${expected}`,
    );
    for (let i = 1; i < p.length; i++) {
      assert(p[i].dts >= p[i - 1].dts, `${label} ${kind}: DTS goes back at ${i}`);
    }
  }
  const video = ofType(shown, "video");
  assert(video[0].keyframe, `${label}: the first video packet shown is a keyframe`);
  const gap = Math.abs(Math.min(...video.slice(0, 10).map((p) => p.pts)) - ofType(shown, "audio")[0].pts);
  assert(gap <= 200, `${label}: the first audio and video presentation times are ${gap} ms apart`);
}

/** The first decoded picture of `path` from `ss` seconds on, as 8-bit gray pixels. */
async function picture(path: string, ss?: number): Promise<Uint8Array> {
  const child = new Deno.Command("ffmpeg", {
    args: [
      ...[
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        ...(ss === undefined ? [] : ["-ss", String(ss)]),
        "-i",
        path,
      ],
      ...["-frames:v", "1", "-pix_fmt", "gray", "-f", "rawvideo", "-"],
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  const out = await child.output();
  clearTimeout(timer);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

e2e(
  "ffmpeg -rtsp_transport tcp reads rtsp://host/vod/x.flv to its end: clean, keyframe first, every frame, audio with video",
  async (vod) => {
    const out = `${vod.dir}/all.mp4`;
    const log = await recordToEnd(vod.url, out, ["-rtsp_transport", "tcp"]);
    assert(
      /Received BYE for stream 0/.test(log) && /Received BYE for stream 1/.test(log),
      "ffmpeg ended on the BYEs",
    );
    await checkRecording(out, vod.clip, "vod tcp");
    const played = await timedPackets(out);
    for (const kind of ["video", "audio"]) {
      const n = ofType(played, kind).length;
      const source = ofType(vod.packets, kind).length;
      console.log(`rtsp vod tcp ${kind}: ${n} of the file's ${source} packets`);
      assert(Math.abs(n - source) <= source * 0.05, `${kind}: ${n} packets, the file has ${source}`);
    }
    const length = await durationMs(out);
    assert(Math.abs(length - SECONDS * 1000) <= 500, `the recording is ${length} ms long`);
  },
);

e2e(
  "ffmpeg -ss 5 -i rtsp://host/vod/x.flv starts at the file's picture at 5 s, from the keyframe the server seeked to, and about 7 s follow",
  async (vod) => {
    const out = `${vod.dir}/ss.mp4`;
    await recordToEnd(vod.url, out, ["-ss", "5", "-rtsp_transport", "tcp"]);
    // ffmpeg PLAYs from 0, PAUSEs, then PLAYs with a Range a little before 5 s (it allows for B-frame delay).
    const seek = vod.server.logs.map((l) => l.match(/playing vod\/x\.flv from (\d+) ms \(asked (\d+) ms/))
      .filter((m) => m !== null).map((m) => ({ from: Number(m[1]), asked: Number(m[2]) })).at(-1)!;
    assert(Math.abs(seek.asked - 5000) <= 200, `ffmpeg asked for npt=${seek.asked / 1000}`);
    const keyframes = ofType(vod.packets, "video").filter((p) => p.keyframe);
    assertEquals(
      seek.from,
      keyframes.filter((p) => p.dts <= seek.asked).at(-1)!.dts,
      "the keyframe at or before",
    );
    // The recording shows what `ffmpeg -ss 5 -i x.flv` shows, to the pixel: the npt ffmpeg reads off the
    // answer's Range and RTP-Info is the file's time.
    const first = await picture(out);
    const expected = await picture(vod.clip, 5);
    assertEquals(first.length, 320 * 240);
    assert(first.every((v, i) => v === expected[i]), "the first picture shown is not the file's at 5 s");
    const length = await durationMs(out);
    assert(Math.abs(length - (SECONDS - 5) * 1000) <= 500, `the recording is ${length} ms long`);
    await checkSeekRecording(out, vod.clip, "vod -ss 5");
  },
);

e2e(
  "ffmpeg -rtsp_transport udp -ss 6 reads the rest of the file over UDP: clean, keyframe first, the file's rate",
  async (vod) => {
    const out = `${vod.dir}/udp.mp4`;
    const log = await recordToEnd(vod.url, out, ["-ss", "6", "-rtsp_transport", "udp"]);
    // -rtsp_transport udp offers UDP only: a server that refused it would have ended ffmpeg with an error.
    assert(/Received BYE for stream 1/.test(log), "ffmpeg ended on the BYEs");
    await checkSeekRecording(out, vod.clip, "vod udp");
    const length = await durationMs(out);
    assert(Math.abs(length - (SECONDS - 6) * 1000) <= 500, `the recording is ${length} ms long`);
  },
);

/** Reads until the response to the request just sent; the interleaved frames before it. */
async function untilResponse(c: RtspTestClient): Promise<{ res: RtspResponse; before: InterleavedFrame[] }> {
  const before: InterleavedFrame[] = [];
  for (;;) {
    const item = await c.next();
    assert(item, "the server closed the connection");
    if (item.type === "response") return { res: item, before };
    before.push(item);
  }
}

/** Interleaved frames until `n` video RTP packets came. */
async function videoPackets(c: RtspTestClient, n: number): Promise<Uint8Array[]> {
  const video: Uint8Array[] = [];
  while (video.length < n) {
    const item = await c.next();
    assert(item?.type === "interleaved", `only media here, got ${item?.type}`);
    if (item.channel === 0) video.push(item.payload);
  }
  return video;
}

/** DESCRIBE, then SETUP of both tracks over TCP (video on channels 0-1, audio on 2-3); the session id. */
async function setupBoth(c: RtspTestClient, url: string): Promise<string> {
  assertEquals((await c.request({ method: "DESCRIBE", uri: url })).status, 200);
  const v = await c.request({ method: "SETUP", uri: `${url}/trackID=0`, transport: TCP_VIDEO });
  const id = parseSession(v.headers.get("Session")!).id;
  const a = await c.request({
    method: "SETUP",
    uri: `${url}/trackID=1`,
    transport: TCP_AUDIO,
    session: { id },
  });
  assertEquals([v.status, a.status], [200, 200]);
  return id;
}

const TCP_VIDEO = "RTP/AVP/TCP;unicast;interleaved=0-1";
const TCP_AUDIO = "RTP/AVP/TCP;unicast;interleaved=2-3";

const seqOf = (p: Uint8Array) => (p[2] << 8) | p[3];
const tsOf = (p: Uint8Array) => ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0;

e2e(
  "RTSP PAUSE stops the packets of a VOD play and PLAY resumes them where they stopped, timestamps going on",
  async (vod) => {
    const c = await RtspTestClient.connect(vod.server.sluice.rtspPort);
    try {
      const id = await setupBoth(c, vod.url);
      const play = await c.request({
        method: "PLAY",
        uri: vod.url,
        session: { id },
        headers: [["Range", "npt=0-"]],
      });
      assertMatch(play.headers.get("Range")!, /^npt=0-1[12](\.\d+)?$/, "from 0 to the file's duration");
      const start = parseRtpInfo(play.headers.get("RTP-Info")!)[0];
      const first = await videoPackets(c, 60);
      await c.send({ method: "PAUSE", uri: vod.url, session: { id } });
      const paused = await untilResponse(c);
      assertEquals(paused.res.status, 200);
      const before = paused.before.filter((f) => f.channel === 0).at(-1)?.payload ?? first.at(-1)!;
      // Give a paused play the chance to (wrongly) send; nothing below depends on how long this is.
      await new Promise((r) => setTimeout(r, 500));
      await c.send({ method: "GET_PARAMETER", uri: vod.url, session: { id } });
      const quiet = await untilResponse(c);
      assertEquals([quiet.res.status, quiet.before.length], [200, 0], "no packets while paused");
      const resumed = await c.request({ method: "PLAY", uri: vod.url, session: { id } });
      assertEquals(resumed.status, 200);
      const range = resumed.headers.get("Range")!;
      const at = parseRtpInfo(resumed.headers.get("RTP-Info")!)[0];
      const npt = Number(range.match(/^npt=([\d.]+)-/)![1]);
      assertGreater(npt, 0, `resumed where it stopped, not at the start: ${range}`);
      assertEquals(
        (at.rtptime! - start.rtptime!) | 0,
        Math.round(npt * 90_000),
        "RTP time is the file's time",
      );
      const next = (await videoPackets(c, 1))[0];
      assertEquals(seqOf(next), (seqOf(before) + 1) & 0xffff, "the next packet, none lost or repeated");
      // B-frames move presentation times back and forth by a few frames, never by seconds.
      const step = ((tsOf(next) - tsOf(before)) | 0) / 90;
      assert(step > -200 && step < 1000, `the timestamps jump ${step} ms at the resume`);
      assertGreaterOrEqual(
        ((tsOf(next) - start.rtptime!) | 0) / 90,
        npt * 1000 - 200,
        "no jump back to the start",
      );
    } finally {
      c.close();
    }
  },
);

/** Whether an RTCP compound packet holds a BYE (RFC 3550 6.6: packet type 203). */
function hasBye(rtcp: Uint8Array): boolean {
  for (let at = 0; at + 4 <= rtcp.length; at += 4 * (((rtcp[at + 2] << 8) | rtcp[at + 3]) + 1)) {
    if (rtcp[at + 1] === 203) return true;
  }
  return false;
}

e2e(
  "RTSP PLAY with a Range end (npt=3-5) plays from the keyframe at 3 s to 5 s, then says BYE on each track",
  async (vod) => {
    const c = await RtspTestClient.connect(vod.server.sluice.rtspPort);
    try {
      const id = await setupBoth(c, vod.url);
      const play = await c.request({
        method: "PLAY",
        uri: vod.url,
        session: { id },
        headers: [["Range", "npt=3-5"]],
      });
      assertEquals(play.status, 200);
      assertEquals(play.headers.get("Range"), "npt=3-5", "from the keyframe at 3 s to the end asked");
      const [start] = parseRtpInfo(play.headers.get("RTP-Info")!);
      const video: Uint8Array[] = [];
      const byes = new Set<number>();
      while (byes.size < 2) {
        const item = await c.next();
        assert(item?.type === "interleaved", `only media here, got ${item?.type}`);
        if (item.channel === 0) video.push(item.payload);
        else if ((item.channel === 1 || item.channel === 3) && hasBye(item.payload)) byes.add(item.channel);
      }
      assertEquals(seqOf(video[0]), start.seq, "the first packet is the one RTP-Info names");
      // Presentation times (B-frames) run up to a few frames past the last decode time at or before 5 s.
      // RTP-Info's rtptime is the Range's start (3 s): file time is 3 s plus the RTP time since.
      const npt = video.map((p) => 3 + ((tsOf(p) - start.rtptime!) | 0) / 90_000);
      const last = Math.max(...npt);
      assert(last <= 5.2, `the play ran on to ${last} s, past the end asked`);
      assertGreaterOrEqual(last, 4.8, `the play stopped at ${last} s, before the end asked`);
      const keep = await c.request({ method: "GET_PARAMETER", uri: vod.url, session: { id } });
      assertEquals(keep.status, 200, "the session stays after the end");
    } finally {
      c.close();
    }
  },
);
