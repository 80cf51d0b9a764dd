/**
 * Feeds with a ring buffer file, with real clients: ffmpeg pushes a feed over HTTP to its push path
 * (`/feed1.ffm`, as it pushed to ffserver), the ring file never grows past its size while the feed runs
 * past it, a player with `?preroll=5` starts on a keyframe about 5 s before live (and again after a
 * restart of the server over the same file), and what it gets decodes clean in ffprobe.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertLess } from "../_util/assert.ts";
import {
  decodeErrors,
  type FlvTag,
  FlvTagReader,
  haveTools,
  makeSource,
  probeFrames,
  publish,
  runOk,
  startServer,
  type TestServer,
} from "../_util/media.ts";
import type { ConfigOverrides, FeedConfig } from "../../src/config/config.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
/** Bounds every wait (asserts nothing about time). */
const BOUND_MS = 30_000;
const KEY = "feed/feed1";
/** The source's keyframe interval: 25 frames at 25 fps. */
const GOP_MS = 1000;
/** The ring's size: about 8 s of the ~600 kbit/s source, so a 14 s push wraps it. */
const RING_BYTES = 640 * 1024;

function feedConfig(file: string): ConfigOverrides {
  const feed: FeedConfig = {
    key: KEY,
    push: "/feed1.ffm",
    file,
    fileMaxSize: RING_BYTES,
    catchUp: true,
    acl: [],
  };
  return { feeds: [feed] };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Reads `url` as FLV until `enough(tags)` or the body ends; returns the tags and the complete bytes. */
async function readFlv(url: string, enough: (tags: FlvTag[]) => boolean) {
  const res = await fetch(url);
  assertEquals(res.status, 200, `GET ${url}`);
  const reader = res.body!.getReader();
  const flv = new FlvTagReader();
  const tags: FlvTag[] = [];
  const deadline = Date.now() + BOUND_MS;
  while (!enough(tags) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    tags.push(...flv.push(value));
  }
  await reader.cancel();
  return { tags, bytes: flv.completeBytes.slice() };
}

/** The first video keyframe's timestamp, and the tags read to reach 2 s of video past it. */
function firstKeyframe(tags: FlvTag[]): number {
  const k = tags.find((t) => t.type === 9 && t.keyframe);
  assert(k, "no video keyframe");
  return k.timestamp;
}

Deno.test({
  name:
    "a feed pushed by ffmpeg to /feed1.ffm runs past its ring's size and the file never grows beyond it; " +
    "?preroll=5 starts on a keyframe about 5 s before live, before and after a restart",
  ignore: !TOOLS,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_feed_" });
    const ring = `${dir}/feed1.ring`;
    let server: TestServer | undefined;
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 16, gop: 25, bframes: 0, video: "500k" });
      server = await startServer(feedConfig(ring));
      const base = `http://127.0.0.1:${server.sluice.httpPort}`;
      const pusher = publish(src, `${base}/feed1.ffm`);
      let largest = 0;
      // The file is watched while the feed runs: never above its size.
      for (let t = 0; t < 13_000; t += 250) {
        await sleep(250);
        const size = (await Deno.stat(ring).catch(() => ({ size: 0 }))).size;
        largest = Math.max(largest, size);
        assert(size <= RING_BYTES, `the ring file is ${size} bytes, above ${RING_BYTES}`);
      }
      // What an operator's script reads while the push runs.
      const api = await fetch(`${base}/api/v1/feeds`);
      assertEquals(api.status, 200, "GET /api/v1/feeds");
      const { feeds } = await api.json();
      assertEquals(feeds.length, 1, JSON.stringify(feeds));
      const shown = feeds[0];
      assertEquals(
        [shown.name, shown.path, shown.key, shown.receiving, shown.file, shown.maxSizeBytes],
        ["feed1.ffm", "/feed1.ffm", KEY, true, ring, RING_BYTES],
      );
      assert(shown.sizeBytes > 0 && shown.sizeBytes <= RING_BYTES, `the API shows ${shown.sizeBytes} bytes`);
      assertGreaterOrEqual(shown.spanMs, 5_000, "the API shows the media time the ring holds");
      const feedRing = server.sluice.feeds.ring(KEY);
      assert(feedRing, "the feed has a ring");
      assertGreaterOrEqual(feedRing.stats().wraps, 1, "the feed ran past the ring's size");
      assertGreaterOrEqual(largest, RING_BYTES - 2 * 4096 * 16, "the file grew to about its size");

      const newest = feedRing.newestTimestamp!;
      const past = await readFlv(`${base}/${KEY}.flv?preroll=5`, (tags) => {
        const v = tags.filter((t) => t.type === 9 && !t.sequenceHeader);
        return v.length > 0 && v[v.length - 1].timestamp - v[0].timestamp >= 2000;
      });
      const start = firstKeyframe(past.tags);
      // The keyframe at or before newest - 5 s: within a GOP of it (and a little for the request's time).
      assertLess(start, newest - 5000 + 300, `the first keyframe ${start} is not 5 s before live ${newest}`);
      assertGreaterOrEqual(
        start,
        newest - 5000 - GOP_MS - 300,
        `the first keyframe ${start} vs live ${newest}`,
      );
      const first = past.tags.find((t) => t.type === 9 && !t.sequenceHeader)!;
      assert(first.keyframe, "the first video tag is a keyframe");
      const file = `${dir}/past.flv`;
      await Deno.writeFile(file, past.bytes);
      assertEquals(await decodeErrors(file), "", "the past decodes clean");
      assertEquals(ofVideo(await probeFrames(file))[0]?.pictType, "I", "the first picture is an I-frame");
      // RTMP: the same past, asked in the stream name's query.
      const rtmpNewest = feedRing.newestTimestamp!;
      const rtmp = `rtmp://127.0.0.1:${server.sluice.rtmpPort}/feed/feed1?preroll=5`;
      const probed = await runOk("ffprobe", [
        "-v",
        "error",
        "-read_intervals",
        "%+2",
        "-show_entries",
        "packet=codec_type,pts,flags",
        "-of",
        "json",
        rtmp,
      ], BOUND_MS);
      const packets =
        (JSON.parse(probed.stdout).packets as { codec_type: string; pts: number; flags: string }[])
          .filter((p) => p.codec_type === "video");
      assert(packets[0]?.flags.includes("K"), "RTMP: the first video packet is a keyframe");
      assertLess(packets[0].pts, rtmpNewest - 5000 + 300, `RTMP: ${packets[0].pts} vs live ${rtmpNewest}`);
      assertGreaterOrEqual(packets[0].pts, rtmpNewest - 5000 - GOP_MS - 300, `RTMP: ${packets[0].pts}`);
      await pusher.stop();

      // A restart over the same file: the past is still there.
      await server.stop();
      server = await startServer(feedConfig(ring));
      const reopened = server.sluice.feeds.ring(KEY)!;
      assert(reopened, "the restarted server reopened the ring");
      const newestAfter = reopened.newestTimestamp!;
      assert(
        Math.abs(newestAfter - newest) < 4000,
        `the reopened ring ends at ${newestAfter}, was ${newest}`,
      );
      const after = await readFlv(
        `http://127.0.0.1:${server.sluice.httpPort}/${KEY}.flv?preroll=5`,
        (tags) => tags.some((t) => t.type === 9 && t.timestamp >= newestAfter - 100),
      );
      const startAfter = firstKeyframe(after.tags);
      assertLess(startAfter, newestAfter - 5000 + 300, `after a restart: ${startAfter} vs ${newestAfter}`);
      assertGreaterOrEqual(startAfter, newestAfter - 5000 - GOP_MS - 300, `after a restart: ${startAfter}`);
      const fileAfter = `${dir}/after.flv`;
      await Deno.writeFile(fileAfter, after.bytes);
      assertEquals(await decodeErrors(fileAfter), "", "the past after a restart decodes clean");
      assert((await Deno.stat(ring)).size <= RING_BYTES, "the ring file is still within its size");
    } catch (e) {
      if (server) console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
      throw e;
    } finally {
      await server?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function ofVideo<T extends { type: string }>(items: T[]): T[] {
  return items.filter((x) => x.type === "video");
}
