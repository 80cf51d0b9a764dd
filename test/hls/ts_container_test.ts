import { TsContainer } from "../../src/hls/ts_container.ts";
import { classify, FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { TsMuxer } from "../../src/media/ts/ts_muxer.ts";
import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { flvFrames } from "../_util/flv_frames.ts";
import { decodeErrors, haveTools, makeSource, ofType, probePackets } from "../_util/media.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../fixtures/flv_fixtures.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { readTransportStream } from "../media/ts/ts_stream_check.ts";

function frame(kind: FrameKind, timestamp: number, payload: Uint8Array): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq: 1, prevTimestamp: -1, packed: {} };
}

const AVC_HEADER = () => frame(FrameKind.Video, 0, concat([hex(`17 00 00 00 00`), AVC_CONFIG_BASELINE]));
const AAC_HEADER = () => frame(FrameKind.Audio, 0, hex(`af 00 12 08`));
const KEY = (t: number) => frame(FrameKind.Video, t, hex(`17 01 00 00 00  00 00 00 03 65 88 84`));
const AUDIO = (t: number) => frame(FrameKind.Audio, t, hex(`af 01 21 10 05`));

Deno.test("TsContainer is the ts kind with no init segment and the muxer's codec strings", () => {
  const c = new TsContainer();
  assertEquals(c.kind, "ts");
  assertEquals(c.init(), undefined);
  assertEquals(c.configure(AVC_HEADER()), false);
  assertEquals(c.configure(AAC_HEADER()), false);
  assertEquals(c.codecs(), ["avc1.42c00d", "mp4a.40.2"]);
});

Deno.test("TsContainer.pack() writes the tables at a segment start, then each frame's packets", () => {
  const c = new TsContainer();
  c.configure(AVC_HEADER());
  c.configure(AAC_HEADER());
  const frames = [KEY(0), AUDIO(10), AUDIO(33)];
  const first = c.pack(frames, 40, true);
  const reference = new TsMuxer();
  reference.configure(AVC_HEADER());
  reference.configure(AAC_HEADER());
  assertEquals(
    first,
    concat([
      reference.tables(),
      ...frames.map((f) => reference.packFrame(frame(f.kind, f.timestamp, f.payload))),
    ]),
  );
  const part = c.pack([AUDIO(56)], 80, false);
  assertEquals(part.length, 188, "no tables inside a segment");
  assertEquals(readTransportStream(concat([first, part])).errors, []);
  assertEquals(c.pack([], 80, false).length, 0);
});

Deno.test("TsContainer shares a muxer given to it, so frames packed elsewhere keep their bytes", () => {
  const muxer = new TsMuxer();
  const c = new TsContainer(muxer);
  assertStrictEquals(c.muxer, muxer);
  c.configure(AVC_HEADER());
  const f = KEY(0);
  const elsewhere = muxer.packFrame(f);
  assertEquals(c.pack([f], 40, false), elsewhere);
});

Deno.test({
  name: "TsContainer.pack() segments cut at keyframes each decode alone, and back to back make one stream",
  ignore: !haveTools("ffmpeg", "ffprobe"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_hls_ts_" });
    try {
      const flv = await makeSource(`${dir}/src.flv`, { seconds: 6, bframes: 2, gop: 50 });
      const c = new TsContainer();
      // The segmenter's job, plainly: a segment from each video keyframe, two parts per segment.
      const segments: MediaFrame[][] = [];
      for (const f of flvFrames(await Deno.readFile(flv))) {
        if (f.sequenceHeader || f.kind === FrameKind.Data) {
          c.configure(f);
          continue;
        }
        if (segments.length === 0 || (f.keyframe && segments[segments.length - 1].some((g) => g.keyframe))) {
          segments.push([]);
        }
        segments[segments.length - 1].push(f);
      }
      assertEquals(segments.length, 3, "a 6 s source with a 2 s GOP");
      const files: Uint8Array[] = [];
      for (const [i, s] of segments.entries()) {
        const half = Math.floor(s.length / 2);
        const next = i + 1 < segments.length ? segments[i + 1][0].timestamp : s[s.length - 1].timestamp + 40;
        const bytes = concat([
          c.pack(s.slice(0, half), s[half].timestamp, true),
          c.pack(s.slice(half), next, false),
        ]);
        files.push(bytes);
        const path = `${dir}/seg${i}.ts`;
        await Deno.writeFile(path, bytes);
        assertEquals(readTransportStream(bytes).errors, [], `segment ${i}: the strict reader`);
        assertEquals(await decodeErrors(path), "", `segment ${i} decodes alone`);
        const packets = await probePackets(path);
        const video = ofType(packets, "video");
        assert(video[0].keyframe, `segment ${i} starts with a keyframe`);
        // Frames that carry media (the stream's last video tag is an AVC end of sequence, packed to nothing).
        const carried = (kind: FrameKind) =>
          s.filter((f) => f.kind === kind && c.muxer.packFrame(f).length > 0);
        assertEquals(video.length, carried(FrameKind.Video).length, `segment ${i} video`);
        assertEquals(ofType(packets, "audio").length, carried(FrameKind.Audio).length, `segment ${i} audio`);
        assert(carried(FrameKind.Video).length >= 49, `segment ${i} holds its GOP`);
      }
      const whole = concat(files);
      assertEquals(readTransportStream(whole).errors, [], "the segments back to back: counters continue");
      await Deno.writeFile(`${dir}/all.ts`, whole);
      assertEquals(await decodeErrors(`${dir}/all.ts`), "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
