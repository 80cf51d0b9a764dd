/**
 * VOD end to end: an ffmpeg-made FLV (10 s, 25 fps, a keyframe every second,
 * H.264 with B-frames + AAC) in a temp VOD root, served by an in-process
 * Sluice over HTTP (ffmpeg decodes it whole; ranges through a real socket)
 * and over RTMP (ffmpeg from the start and with -ss, rtmpdump with a start
 * time, Sluice's client for the message order, seek, pause and the end).
 * Every child process is bounded by a timeout; nothing asserts on time.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertMatch } from "../_util/assert.ts";
import { isAv, isStatus, readUntil } from "../_util/live.ts";
import {
  decodeErrors,
  haveTools,
  makeSource,
  ofType,
  type Packet,
  probePackets,
  run,
  startServer,
  type TestServer,
} from "../_util/media.ts";
import { FrameKind } from "../../src/media/frame.ts";
import {
  type MediaEvent,
  type Player,
  type PlayerEvent,
  RtmpClient,
  RtmpStatusError,
} from "../../src/rtmp/client/client.ts";
import { CommandName, StatusCode } from "../../src/rtmp/command.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
const RTMPDUMP = haveTools("rtmpdump");
/** The clip: 10 s at 25 fps, a keyframe every 25 frames (1 s). */
const SECONDS = 10;
const GOP_MS = 1000;
const CHILD_TIMEOUT_MS = 60_000;

/** The clip, made once for the whole file in a folder that outlives the tests (removed at unload). */
let made: Promise<{ base: string; clip: string; packets: Packet[] }> | undefined;
function clip(): Promise<{ base: string; clip: string; packets: Packet[] }> {
  return made ??= (async () => {
    const base = await Deno.makeTempDir({ prefix: "sluice_vod_e2e_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));
    await Deno.mkdir(`${base}/root/sub`, { recursive: true });
    await Deno.mkdir(`${base}/outside`);
    const path = await makeSource(`${base}/root/clip.flv`, {
      seconds: SECONDS,
      fps: 25,
      gop: 25,
      bframes: 2,
    });
    await Deno.symlink("../clip.flv", `${base}/root/sub/clip.flv`); // a symlink that stays inside
    await Deno.copyFile(path, `${base}/outside/secret.flv`);
    await Deno.symlink(`${base}/outside/secret.flv`, `${base}/root/escape.flv`); // one that leaves
    return { base, clip: path, packets: await probePackets(path) };
  })();
}

interface Vod {
  server: TestServer;
  /** `http://127.0.0.1:PORT/vod/` */
  http: string;
  /** `rtmp://127.0.0.1:PORT/vod/` */
  rtmp: string;
  clip: string;
  packets: Packet[];
  dir: string;
}

function e2e(name: string, fn: (vod: Vod) => Promise<void>, ignore = !TOOLS): void {
  Deno.test({
    name,
    ignore,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const { base, clip: path, packets } = await clip();
      const dir = await Deno.makeTempDir({ prefix: "sluice_vod_out_" });
      const server = await startServer({ vod: { root: `${base}/root` }, hub: { playWaitMs: 0 } });
      try {
        await fn({
          server,
          http: `http://127.0.0.1:${server.sluice.httpPort}/vod/`,
          rtmp: `rtmp://127.0.0.1:${server.sluice.rtmpPort}/vod/`,
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

/** The source's video keyframes. */
function keyframes(packets: Packet[]): Packet[] {
  return ofType(packets, "video").filter((p) => p.keyframe);
}

/** ffmpeg copying `seconds` of `url` into an FLV file (input options before -i). */
async function recordRtmp(url: string, out: string, seconds: number, input: string[] = []): Promise<void> {
  const r = await run("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-v", "error", "-y", ...input, "-i", url],
    ...["-t", String(seconds), "-c", "copy", "-f", "flv", out],
  ], { timeoutMs: CHILD_TIMEOUT_MS });
  assertEquals([r.code, r.timedOut, r.stderr], [0, false, ""], `ffmpeg ${input.join(" ")} -i ${url}`);
}

// ---- HTTP

e2e(
  "GET /vod/clip.flv: ffmpeg decodes the whole file over HTTP with no error and every frame",
  async (vod) => {
    const r = await run("ffmpeg", [
      ...["-hide_banner", "-nostdin", "-v", "error", "-i", `${vod.http}clip.flv`],
      ...["-map", "0:v", "-f", "null", "-", "-progress", "pipe:1", "-nostats"],
    ], { timeoutMs: CHILD_TIMEOUT_MS });
    assertEquals([r.code, r.timedOut, r.stderr], [0, false, ""]);
    const frames = [...r.stdout.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
    assertEquals(frames[frames.length - 1], ofType(vod.packets, "video").length);
    assertEquals(frames[frames.length - 1], SECONDS * 25);
  },
);

e2e(
  "GET and HEAD /vod/clip.flv over a socket: Content-Length, ranges with the exact bytes, 416",
  async (vod) => {
    const bytes = await Deno.readFile(vod.clip);
    const head = await fetch(`${vod.http}clip.flv`, { method: "HEAD" });
    await head.body?.cancel();
    assertEquals(head.status, 200);
    assertEquals(head.headers.get("content-length"), String(bytes.length));
    assertEquals(head.headers.get("content-type"), "video/x-flv");
    for (
      const [range, start, end] of [["bytes=100-70000", 100, 70000], [
        "bytes=-5000",
        bytes.length - 5000,
        bytes.length - 1,
      ]] as const
    ) {
      const res = await fetch(`${vod.http}clip.flv`, { headers: { range } });
      assertEquals(res.status, 206, range);
      assertEquals(res.headers.get("content-range"), `bytes ${start}-${end}/${bytes.length}`, range);
      assertEquals(new Uint8Array(await res.arrayBuffer()), bytes.slice(start, end + 1), range);
    }
    const whole = await fetch(`${vod.http}clip.flv`);
    assertEquals(new Uint8Array(await whole.arrayBuffer()), bytes);
    const past = await fetch(`${vod.http}clip.flv`, { headers: { range: `bytes=${bytes.length}-` } });
    await past.body?.cancel();
    assertEquals(past.status, 416);
    assertEquals(past.headers.get("content-range"), `bytes */${bytes.length}`);
  },
);

e2e("GET /vod/ with an encoded escape or a symlink out, sent raw on a socket, is a 404", async (vod) => {
  for (
    const target of ["/vod/..%2f..%2foutside%2fsecret.flv", "/vod/escape.flv", "/vod/sub%5c..%5cclip.flv"]
  ) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: vod.server.sluice.httpPort });
    try {
      await conn.write(
        new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      );
      const answer = await new Response(conn.readable).text();
      assertMatch(answer, /^HTTP\/1\.1 404 /, target);
      assertMatch(answer, /no such file/, target);
    } catch (e) {
      try {
        conn.close();
      } catch {
        // closed by the readable's end
      }
      throw e;
    }
  }
});

// ---- RTMP with ffmpeg and rtmpdump

e2e(
  "rtmp://host/vod/clip.flv: ffmpeg plays from the start, first video packet the file's first keyframe, and decodes",
  async (vod) => {
    const out = `${vod.dir}/start.flv`;
    await recordRtmp(`${vod.rtmp}clip.flv`, out, 3);
    assertEquals(await decodeErrors(out), "");
    const played = ofType(await probePackets(out), "video");
    const source = ofType(vod.packets, "video");
    assert(played[0].keyframe, "the first video packet is not a keyframe");
    assertEquals(played[0].hash, source[0].hash, "the first video packet is not the file's first");
    assertGreaterOrEqual(played.length, 70); // 3 s at 25 fps, give or take ffmpeg's -t cut
  },
);

e2e(
  "rtmp://host/vod/sub/clip.flv: ffmpeg plays a file in a subfolder (app vod/sub, name clip)",
  async (vod) => {
    const out = `${vod.dir}/sub.flv`;
    const keys: (string | undefined)[] = [];
    const off = vod.server.sluice.hub.sessions.on((ev) => {
      if (ev.type === "close" && ev.session.role === "vod") keys.push(ev.session.key);
    });
    await recordRtmp(`${vod.rtmp}sub/clip.flv`, out, 1);
    const played = ofType(await probePackets(out), "video");
    assertEquals(played[0].hash, ofType(vod.packets, "video")[0].hash);
    for (let i = 0; i < 50 && keys.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    off();
    assertEquals(keys, ["vod/sub/clip.flv"], "the registry names the file once (app vod, path sub/clip.flv)");
  },
);

e2e(
  "ffmpeg -ss 4 -i rtmp://host/vod/clip.flv seeks and plays from a keyframe at or before 4 s",
  async (vod) => {
    const out = `${vod.dir}/ss.flv`;
    await recordRtmp(`${vod.rtmp}clip.flv`, out, 2, ["-ss", "4"]);
    assertEquals(await decodeErrors(out), "");
    const first = ofType(await probePackets(out), "video")[0];
    assert(first.keyframe, "the first video packet is not a keyframe");
    const at = keyframes(vod.packets).find((k) => k.hash === first.hash);
    assert(at, "the first video packet is not one of the file's keyframes");
    assert(at.dts <= 4000 && at.dts > 4000 - 2 * GOP_MS, `ffmpeg started at the keyframe at ${at.dts} ms`);
    assert(vod.server.logs.some((l) => /seek to \d+ ms/.test(l)), "ffmpeg did not seek");
  },
);

e2e("rtmpdump --start 4.5 (play's Start argument 4500) begins at the keyframe at 4 s", async (vod) => {
  const out = `${vod.dir}/rtmpdump.flv`;
  // Plays to the end (~5 s). librtmp adds the start to every timestamp it writes, so only data is compared.
  const r = await run("rtmpdump", ["-q", "-r", `${vod.rtmp}clip.flv`, "-A", "4.5", "-o", out], {
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  assertEquals([r.code, r.timedOut], [0, false], r.stderr);
  const first = ofType(await probePackets(out), "video")[0];
  assertEquals(first.hash, keyframes(vod.packets).find((k) => k.dts === 4000)?.hash);
  assert(vod.server.logs.some((l) => l.includes("playing vod/clip.flv from 4500 ms")));
}, !TOOLS || !RTMPDUMP);

// ---- RTMP with Sluice's client

/** Reads events until `pred`, keeping every event read (those before and the match) in `log`. */
async function readUntilLogged(
  player: Player,
  pred: (ev: PlayerEvent) => boolean,
  what: string,
  log: PlayerEvent[],
): Promise<PlayerEvent[]> {
  const { before, match } = await readUntil(player, pred, what);
  log.push(...before, match);
  return [...before, match];
}

function isVideoFrame(ev: PlayerEvent): ev is MediaEvent {
  return isAv(ev) && ev.kind === FrameKind.Video && !ev.sequenceHeader;
}

function describe(ev: PlayerEvent): string {
  if (ev.type === "status") return ev.code;
  if (ev.type === "control") return ev.control.kind;
  if (ev.kind === FrameKind.Data) return `data ${ev.name}`;
  const kind = ev.kind === FrameKind.Video ? "video" : "audio";
  return `${kind}${ev.sequenceHeader ? " header" : ev.keyframe ? " key" : ""} @${ev.timestamp}`;
}

e2e(
  "RTMP play of a VOD file sends StreamBegin, Reset, Start, |RtmpSampleAccess, onMetaData, headers, then a keyframe at 0",
  async (vod) => {
    const client = await RtmpClient.connect(`${vod.rtmp.slice(0, -1)}`);
    try {
      const player = await client.play("clip.flv");
      const events = await readUntilLogged(player, isVideoFrame, "the first video frame", []);
      assertEquals(events.map(describe).slice(0, 9), [
        "streamBegin",
        "streamIsRecorded",
        StatusCode.PlayReset,
        StatusCode.PlayStart,
        "data |RtmpSampleAccess",
        "data onMetaData",
        "video header @0",
        "audio header @0",
        "video key @0",
      ]);
    } finally {
      await client.close();
    }
  },
);

e2e(
  "RTMP seek to 4500 ms lands on a keyframe at or before it, within one GOP, after Seek.Notify",
  async (vod) => {
    const client = await RtmpClient.connect(vod.rtmp.slice(0, -1));
    try {
      const player = await client.play("clip.flv");
      await readUntil(player, isVideoFrame, "the first video frame");
      await client.sendStreamCommand(player.streamId, CommandName.Seek, 4500);
      await readUntil(player, isStatus(StatusCode.SeekNotify), "Seek.Notify");
      const after = await readUntilLogged(player, isVideoFrame, "the first video frame after the seek", []);
      const frame = after[after.length - 1] as MediaEvent;
      assert(frame.keyframe, `the first video frame after Seek.Notify is not a keyframe: ${describe(frame)}`);
      assert(frame.timestamp <= 4500 && frame.timestamp > 4500 - GOP_MS, `it is at ${frame.timestamp} ms`);
      const kinds = after.map(describe);
      assertEquals(kinds.slice(0, 2), [StatusCode.PlayStart, "streamBegin"]);
      assert(kinds.includes(`video header @${frame.timestamp}`), `no sequence header before it: ${kinds}`);
      assert(
        after.every((ev) => !isAv(ev) || ev.timestamp >= frame.timestamp),
        `older media after the seek: ${kinds}`,
      );
    } finally {
      await client.close();
    }
  },
);

e2e(
  "RTMP pause stops the tags and unpause resumes them with the next frame, none lost or repeated",
  async (vod) => {
    const client = await RtmpClient.connect(vod.rtmp.slice(0, -1));
    try {
      const player = await client.play("clip.flv");
      const log: PlayerEvent[] = [];
      await readUntilLogged(player, (ev) => isVideoFrame(ev) && ev.timestamp >= 200, "video at 200 ms", log);
      await client.sendStreamCommand(player.streamId, CommandName.Pause, true, 200);
      await readUntilLogged(player, isStatus(StatusCode.PauseNotify), "Pause.Notify", log);
      const lastBefore = log.filter(isVideoFrame).at(-1)!.timestamp;
      // Give a paused server the chance to (wrongly) send more; nothing below depends on how long this is.
      await new Promise((r) => setTimeout(r, 300));
      await client.sendStreamCommand(player.streamId, CommandName.Pause, false, 200);
      const whilePaused = await readUntilLogged(
        player,
        isStatus(StatusCode.UnpauseNotify),
        "Unpause.Notify",
        [],
      );
      assertEquals(whilePaused.filter(isAv).map(describe), [], "media arrived while paused");
      const next = (await readUntilLogged(player, isVideoFrame, "the next video frame", [])).at(
        -1,
      ) as MediaEvent;
      assertEquals(next.timestamp, lastBefore + 40);
    } finally {
      await client.close();
    }
  },
);

e2e(
  "RTMP play to the end sends StreamEOF, onPlayStatus Complete, Play.Stop, and keeps the connection for a seek back",
  async (vod) => {
    const client = await RtmpClient.connect(vod.rtmp.slice(0, -1));
    try {
      const player = await client.play("clip.flv");
      await client.sendStreamCommand(player.streamId, CommandName.Seek, 9500);
      await readUntil(player, isStatus(StatusCode.SeekNotify), "Seek.Notify");
      const tail = await readUntilLogged(player, isStatus(StatusCode.PlayStop), "Play.Stop", []);
      const kinds = tail.map(describe);
      assertEquals(kinds.slice(-3), ["streamEof", "data onPlayStatus", StatusCode.PlayStop]);
      const last = tail.filter(isAv).at(-1)!;
      assertGreaterOrEqual(last.timestamp, SECONDS * 1000 - 100);
      assert(!client.closed, "the server closed the connection at the end");
      await client.sendStreamCommand(player.streamId, CommandName.Seek, 0);
      await readUntil(player, isStatus(StatusCode.SeekNotify), "Seek.Notify after the end");
      const again = (await readUntilLogged(player, isVideoFrame, "a video frame after seeking back", [])).at(
        -1,
      );
      assertEquals(again && describe(again), "video key @0");
    } finally {
      await client.close();
    }
  },
);

e2e(
  "RTMP play of a missing file, a dot-dot path or a symlink out is NetStream.Play.StreamNotFound",
  async (vod) => {
    for (const name of ["missing.flv", "../outside/secret.flv", "escape.flv", "sub\\..\\clip.flv"]) {
      const client = await RtmpClient.connect(vod.rtmp.slice(0, -1));
      try {
        let code = "";
        try {
          await client.play(name);
        } catch (e) {
          if (!(e instanceof RtmpStatusError)) throw e;
          code = e.code;
        }
        assertEquals(code, StatusCode.PlayStreamNotFound, name);
        assertMatch(await client.done, /closed by the server/, name);
      } finally {
        await client.close();
      }
    }
  },
);
