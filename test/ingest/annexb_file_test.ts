import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import { annexBToFlv, makeAnnexB, withoutVui } from "../_util/h264.ts";
import { MemoryFile } from "../_util/ingest_fakes.ts";
import { haveTools } from "../_util/media.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { ProtocolError } from "../../src/errors.ts";
import {
  type AnnexBFormat,
  type AnnexBOptions,
  annexBTags,
  chooseFrameRate,
} from "../../src/ingest/annexb_file.ts";
import type { SourceTag } from "../../src/ingest/flv_publisher.ts";
import { parseAvcConfig } from "../../src/media/avc.ts";
import { FlvReader, TagType } from "../../src/media/flv.ts";
import { classify } from "../../src/media/frame.ts";

const FFMPEG = haveTools("ffmpeg");

function ffmpegTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !FFMPEG, fn });
}

/** The first `limit` tags of the file (all of them when it is played once). */
async function tagsOf(bytes: Uint8Array, options: AnnexBOptions, limit = Infinity): Promise<SourceTag[]> {
  const out: SourceTag[] = [];
  if (limit <= 0) return out;
  for await (const tag of annexBTags(new MemoryFile(bytes, 5000), options)) {
    out.push(tag);
    if (out.length >= limit) break;
  }
  return out;
}

function isHeader(t: SourceTag): boolean {
  return classify(t.type, t.data).sequenceHeader;
}

Deno.test("chooseFrameRate() takes the configured rate, else the SPS timing, else 25", () => {
  assertEquals(chooseFrameRate(50, 30), { fps: 50, fpsFrom: "config" });
  assertEquals(chooseFrameRate(undefined, 30), { fps: 30, fpsFrom: "sps" });
  assertEquals(chooseFrameRate(undefined, undefined), { fps: 25, fpsFrom: "default" });
  assertEquals(
    chooseFrameRate(undefined, 100_000),
    { fps: 25, fpsFrom: "default" },
    "a wild SPS rate is ignored",
  );
});

ffmpegTest(
  "annexBTags() gives the sequence header and picture tags ffmpeg's stream copy to FLV gives, byte for byte",
  async () => {
    for (
      const o of [{ frames: 30, gop: 10 }, { frames: 20, gop: 10, slices: 3 }, {
        frames: 20,
        gop: 5,
        aud: true,
      }]
    ) {
      const bytes = await makeAnnexB(o);
      const ours = await tagsOf(bytes, { loop: false });
      // ffmpeg also ends its FLV with an AVC end-of-sequence tag, which the file does not hold.
      const theirs = new FlvReader().push(await annexBToFlv(bytes)).filter((t) => t.type === TagType.Video);
      assertEquals(
        ours.length,
        o.frames + 1,
        `${JSON.stringify(o)}: a sequence header, then one tag per picture`,
      );
      for (let i = 0; i < ours.length; i++) {
        assertEquals(toHex(ours[i].data), toHex(theirs[i].data), `${JSON.stringify(o)}: tag ${i}`);
        assertEquals(ours[i].timestamp, theirs[i].timestamp, `${JSON.stringify(o)}: timestamp of tag ${i}`);
      }
    }
  },
);

ffmpegTest(
  "annexBTags() sends the sequence header first: an AVCDecoderConfigurationRecord of the stream's SPS and PPS",
  async () => {
    const bytes = await makeAnnexB({ frames: 5, size: "320x240", profile: "main" });
    const [header, first] = await tagsOf(bytes, { loop: false }, 2);
    assertEquals(
      toHex(header.data.subarray(0, 5)),
      "17 00 00 00 00",
      "keyframe, AVC, sequence header, CTS 0",
    );
    const record = parseAvcConfig(header.data.subarray(5));
    assertEquals([record.profileIdc, record.lengthSize, record.sps.length, record.pps.length], [77, 4, 1, 1]);
    assertEquals(toHex(first.data.subarray(0, 5)), "17 01 00 00 00", "keyframe, AVC, NALU, CTS 0");
  },
);

ffmpegTest(
  "annexBTags() stamps pictures at the SPS frame rate, flags IDR pictures as keyframes",
  async () => {
    const formats: AnnexBFormat[] = [];
    const tags = await tagsOf(await makeAnnexB({ frames: 30, fps: 30, gop: 10 }), {
      loop: false,
      onFormat: (f) => formats.push(f),
    });
    const pictures = tags.filter((t) => !isHeader(t));
    assertEquals(pictures.map((t) => t.timestamp), pictures.map((_, n) => Math.round(n * 1000 / 30)));
    assertEquals(pictures.flatMap((t, i) => classify(t.type, t.data).keyframe ? [i] : []), [0, 10, 20]);
    assertEquals(formats, [{ width: 640, height: 360, fps: 30, fpsFrom: "sps" }]);
  },
);

ffmpegTest(
  "annexBTags() stamps pictures at 25 fps when the SPS has no VUI timing, and at the configured rate when given",
  async () => {
    const bytes = withoutVui(await makeAnnexB({ frames: 10, fps: 30 }));
    const formats: AnnexBFormat[] = [];
    const plain = await tagsOf(bytes, { loop: false, onFormat: (f) => formats.push(f) });
    assertEquals(plain.filter((t) => !isHeader(t)).map((t) => t.timestamp), [
      0,
      40,
      80,
      120,
      160,
      200,
      240,
      280,
      320,
      360,
    ]);
    const configured = await tagsOf(bytes, { loop: false, fps: 50, onFormat: (f) => formats.push(f) });
    assertEquals(configured.filter((t) => !isHeader(t)).map((t) => t.timestamp).slice(0, 4), [0, 20, 40, 60]);
    assertEquals(formats.map((f) => [f.fps, f.fpsFrom]), [[25, "default"], [50, "config"]]);
  },
);

ffmpegTest(
  "annexBTags() loops with timestamps that go on counting across the loop boundary and one sequence header",
  async () => {
    const bytes = await makeAnnexB({ frames: 10, gop: 5 });
    const file = new MemoryFile(bytes, 7000);
    const tags: SourceTag[] = [];
    for await (const tag of annexBTags(file, { loop: true })) {
      tags.push(tag);
      if (tags.length === 1 + 25) break;
    }
    assertEquals(tags.filter(isHeader).length, 1);
    const pictures = tags.filter((t) => !isHeader(t));
    assertEquals(pictures.map((t) => t.timestamp), pictures.map((_, n) => n * 40));
    assertEquals(pictures.flatMap((t, i) => classify(t.type, t.data).keyframe ? [i] : []), [
      0,
      5,
      10,
      15,
      20,
    ]);
    assertEquals(file.rewinds, 2);
  },
);

ffmpegTest("annexBTags() sends a new sequence header when the SPS changes mid-stream", async () => {
  const a = await makeAnnexB({ frames: 3, size: "320x240" });
  const b = await makeAnnexB({ frames: 3, size: "640x360" });
  const tags = await tagsOf(concat([a, b]), { loop: false });
  assertEquals(tags.map((t) => isHeader(t) ? "header" : t.timestamp), [
    "header",
    0,
    40,
    80,
    "header",
    120,
    160,
    200,
  ]);
});

ffmpegTest("annexBTags() skips pictures that come before the first SPS and PPS", async () => {
  const orphan = hex("00 00 00 01 41 9a 00 11"); // a non-IDR slice, first_mb 0
  const tags = await tagsOf(concat([orphan, await makeAnnexB({ frames: 3 })]), { loop: false });
  assert(isHeader(tags[0]), "the sequence header comes first");
  assertEquals(tags.length, 4);
});

Deno.test("annexBTags() throws ProtocolError for a stream with no picture, even when looping", async () => {
  const noPicture = hex("00 00 00 01 09 f0  00 00 00 01 06 05 01 aa 80");
  await assertRejects(() => tagsOf(noPicture, { loop: true }), ProtocolError, "no picture");
});
