/**
 * RTMP publish and play with real ffmpeg clients against an in-process Sluice.
 * The media is made at test time (lavfi test sources, H.264 with B-frames and
 * AAC); a recording made through the server is compared with its source file
 * packet by packet (packets are matched by the MD5 of their data).
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  checkPlayback,
  compositionOffsets,
  dtsBackwards,
  FlvTagReader,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  publish,
  record,
  start,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import { FrameKind } from "../../src/media/frame.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** The recording length, in seconds of media; sources run longer so the publisher outlasts the player. */
const RECORD_S = 5;
const SOURCE_S = 8;
/** Played packet counts may differ from the published ones over the same window by this much. */

function e2e(name: string, fn: (server: TestServer, dir: string) => Promise<void>, ignore = !TOOLS): void {
  Deno.test({ name, ignore, sanitizeOps: true, sanitizeResources: true, fn: () => withServer(fn) });
}

/**
 * Publishes `src` in real time as live/NAME and records RECORD_S seconds of it
 * through the server into `out`; stops the publisher afterwards.
 */
async function publishAndRecord(
  server: TestServer,
  src: string,
  out: string,
  name: string,
  o: { publishArgs?: string[]; playArgs?: string[] } = {},
): Promise<void> {
  const publisher = publish(src, server.url(name), o.publishArgs);
  try {
    await waitForPublisher(server, name);
    const rec = await record(server.url(name), out, RECORD_S, o.playArgs);
    assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
  } finally {
    await publisher.stop();
  }
}

/**
 * Keeps the smallest and largest publisher timestamp (as the session read it off the wire, before the hub
 * rebases it) of the audio and video frames, sequence headers aside (ffmpeg sends those at 0 whatever
 * the offset), of every stream published from now on.
 */
function spyRawTimestamps(server: TestServer): { min: number; max: number } {
  const seen = { min: Infinity, max: -Infinity };
  const hub = server.sluice.hub;
  const publishStream = hub.publish.bind(hub);
  hub.publish = (key, publisher) => {
    const stream = publishStream(key, publisher);
    const push = stream.push.bind(stream);
    stream.push = (kind, rawTimestamp, payload) => {
      const frame = push(kind, rawTimestamp, payload);
      if (kind !== FrameKind.Data && !frame.sequenceHeader) {
        seen.min = Math.min(seen.min, rawTimestamp);
        seen.max = Math.max(seen.max, rawTimestamp);
      }
      return frame;
    };
    return stream;
  };
  return seen;
}

e2e(
  "RTMP play of an ffmpeg publish (H.264 with B-frames + AAC) decodes, starts on a keyframe and keeps every frame and composition time",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
    const out = `${dir}/out.flv`;
    await publishAndRecord(server, src, out, "bframes");
    const { played, source, sourceIndex } = await checkPlayback(src, out, "bframes");

    // (e) composition times: the played PTS-DTS offsets are the source's, frame for frame.
    const pv = ofType(played, "video");
    const sv = ofType(source, "video").slice(sourceIndex.video, sourceIndex.video + pv.length);
    assertEquals(
      pv.map((p) => p.hash),
      sv.map((p) => p.hash),
      "the played video frames are not the source's",
    );
    const offsets = compositionOffsets(pv);
    assertEquals(offsets, compositionOffsets(sv));
    assert(offsets.some((d) => d > 0), "the source has no B-frames: every PTS equals its DTS");
  },
);

e2e(
  "RTMP play of a publish with timestamps past 0xFFFFFF ms (extended timestamps) is correct",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
    const out = `${dir}/out.flv`;
    const raw = spyRawTimestamps(server);
    // 20,000 s = 20,000,000 ms: every message's timestamp needs the 32-bit extended field (RTMP 5.3.1.3).
    // -copyts: the recording keeps the timestamps the player read off the wire.
    await publishAndRecord(server, src, out, "extended", {
      publishArgs: ["-output_ts_offset", "20000"],
      playArgs: ["-copyts"],
    });
    console.log(`extended: the publisher's timestamps ran from ${raw.min} to ${raw.max} ms`);
    assert(raw.min > 0xffffff, `the server read a timestamp of ${raw.min} ms, which needs no extended field`);
    const { played } = await checkPlayback(src, out, "extended");
    // The server rebases each stream to start at 0 (sequence headers, which ffmpeg stamps 0, aside).
    const firstDts = Math.min(...played.map((p) => p.dts));
    assert(firstDts < 1000, `the player's first timestamp is ${firstDts} ms, not near 0`);
  },
);

e2e("RTMP play of keyframes larger than 64 KiB keeps their sizes", async (server, dir) => {
  const src = await makeSource(`${dir}/src.flv`, {
    seconds: 6,
    size: "1280x720",
    gop: 25,
    bframes: 2,
    video: 2, // x264 -qp 2: near-lossless, so every keyframe is big
  });
  const source = await probePackets(src);
  const sourceKeys = ofType(source, "video").filter((p) => p.keyframe);
  assert(
    sourceKeys.some((p) => p.size > 65536),
    `the source's keyframes are all small: ${sourceKeys.map((p) => p.size)}`,
  );
  const out = `${dir}/out.flv`;
  await publishAndRecord(server, src, out, "bigkeys");
  const { played, sourceIndex } = await checkPlayback(src, out, "bigkeys");
  const pv = ofType(played, "video");
  const sv = ofType(source, "video").slice(sourceIndex.video, sourceIndex.video + pv.length);
  const playedKeys = pv.filter((p) => p.keyframe).map((p) => p.size);
  console.log(`bigkeys: played keyframe sizes ${playedKeys.join(", ")}`);
  assert(playedKeys.some((n) => n > 65536), "no played keyframe is over 64 KiB");
  assertEquals(playedKeys, sv.filter((p) => p.keyframe).map((p) => p.size));
  assertEquals(pv.map((p) => p.size), sv.map((p) => p.size));
});

e2e(
  "RTMP play of an audio-only and a video-only publish each decode with every frame",
  async (server, dir) => {
    const [audioSrc, videoSrc] = await Promise.all([
      makeSource(`${dir}/audio.flv`, { seconds: SOURCE_S, video: false }),
      makeSource(`${dir}/video.flv`, { seconds: SOURCE_S, audio: false }),
    ]);
    await Promise.all([
      publishAndRecord(server, audioSrc, `${dir}/audio_out.flv`, "audioonly"),
      publishAndRecord(server, videoSrc, `${dir}/video_out.flv`, "videoonly"),
    ]);
    await checkPlayback(audioSrc, `${dir}/audio_out.flv`, "audio-only", { kinds: ["audio"] });
    await checkPlayback(videoSrc, `${dir}/video_out.flv`, "video-only", { kinds: ["video"] });
  },
);

e2e(
  "RTMP play with -rtmp_live live of a publish without B-frames keeps PTS equal to DTS",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 0 });
    const out = `${dir}/out.flv`;
    // rtmp_live is a play option (it sets play's Start to -1, live only); ffmpeg accepts it when publishing too.
    await publishAndRecord(server, src, out, "nobframes", {
      publishArgs: ["-rtmp_live", "live"],
      playArgs: ["-rtmp_live", "live"],
    });
    const { played } = await checkPlayback(src, out, "no B-frames");
    assertEquals(compositionOffsets(ofType(played, "video")).filter((d) => d !== 0), []);
  },
);

/** ffmpeg's RTMP option for AMF3 object encoding, if this ffmpeg has one (5.1 does not). */
function amf3Option(): string | undefined {
  if (!TOOLS) return undefined;
  const help = new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-h", "protocol=rtmp"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const m = new TextDecoder().decode(help.stdout).match(/^\s*-(rtmp_\w*(?:amf|object_?encoding)\w*)\s/im);
  return m?.[1];
}
const AMF3_OPTION = amf3Option();

e2e("RTMP play of an ffmpeg publish that asks for AMF3 object encoding", async (server, dir) => {
  const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S });
  const out = `${dir}/out.flv`;
  await publishAndRecord(server, src, out, "amf3", { publishArgs: [`-${AMF3_OPTION}`, "3"] });
  await checkPlayback(src, out, "amf3");
}, !TOOLS || AMF3_OPTION === undefined);

e2e("RTMP play joining 3 s into a publish starts on the cached GOP's keyframe", async (server, dir) => {
  const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, gop: 50 }); // keyframes at 0, 2, 4, 6 s
  const source = await probePackets(src);
  const name = "midgop";
  const publisher = publish(src, server.url(name));
  try {
    await waitForPublisher(server, name);
    await new Promise((r) => setTimeout(r, 3000));
    const gop = server.sluice.hub.get(`live/${name}`)?.gop.frames ?? [];
    assert(gop.length > 1, "the server has no GOP cached 3 s into the publish");
    console.log(
      `midgop: joining with ${gop.length} frames cached, from the keyframe at ${gop[0].timestamp} ms to ${
        gop[gop.length - 1].timestamp
      } ms`,
    );

    // The player writes FLV to stdout, flushed per packet, so the first video tag's arrival is visible.
    const spawnedAt = performance.now();
    const player = start("ffmpeg", [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      "-i",
      server.url(name),
      "-c",
      "copy",
      "-t",
      "2",
      "-flush_packets",
      "1",
      "-f",
      "flv",
      "pipe:1",
    ], { timeoutMs: 20_000, streamStdout: true });
    const flv = new FlvTagReader();
    let firstVideoMs = -1;
    let firstVideoIsKey = false;
    for await (const chunk of player.child.stdout) {
      for (const tag of flv.push(chunk)) {
        if (firstVideoMs < 0 && tag.type === FrameKind.Video && !tag.sequenceHeader) {
          firstVideoMs = performance.now() - spawnedAt;
          firstVideoIsKey = tag.keyframe;
        }
      }
    }
    const result = await player.done;
    assertEquals(result.code, 0, `the player ffmpeg failed:\n${result.stderr}`);
    assert(firstVideoMs >= 0, "the player got no video");
    console.log(`midgop: time to first video frame ${firstVideoMs.toFixed(0)} ms (from spawning ffmpeg)`);
    assert(firstVideoIsKey, "the first video frame the player got is not a keyframe");

    // The same on the packet level: the first frame is the source's keyframe that opened the cached GOP.
    const out = `${dir}/out.flv`;
    await Deno.writeFile(out, flv.completeBytes);
    const pv = ofType(await probePackets(out), "video");
    const sv = ofType(source, "video");
    const at = sv.findIndex((p) => p.hash === pv[0].hash);
    assert(
      at > 0 && sv[at].keyframe,
      `the first played frame is source video packet ${at}, not a later keyframe`,
    );
    assertEquals(dtsBackwards(pv), []);
  } finally {
    await publisher.stop();
  }
});
