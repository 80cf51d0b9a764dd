import { assert, assertEquals } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../fixtures/flv_fixtures.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { Stream } from "../../src/hub/stream.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { tsMuxerOf } from "../../src/outputs/stream_ts_muxer.ts";

const BIG = 1 << 30;
/** A real AVC sequence header tag body (keyframe, AVC, AVCPacketType 0) with a baseline avcC. */
const avcSequenceHeaderOf = () => concat([hex(`17 00 00 00 00`), AVC_CONFIG_BASELINE]);

Deno.test("tsMuxerOf() gives one muxer per stream, configured from the headers the stream holds", () => {
  const a = new Stream("live/a", BIG, BIG, 0);
  const b = new Stream("live/b", BIG, BIG, 0);
  a.push(FrameKind.Video, 0, avcSequenceHeaderOf());
  const ma = tsMuxerOf(a);
  assertEquals(tsMuxerOf(a), ma, "the same muxer for every consumer of a stream");
  assert(tsMuxerOf(b) !== ma);
  assert(ma.hasVideo, "the stream's AVC header configured it");
  assertEquals(tsMuxerOf(b).hasVideo, false);
});
