import {
  type AudioTrackConfig,
  initSegment,
  type VideoTrackConfig,
} from "../../../src/media/fmp4/init_segment.ts";
import { buildAvcConfig } from "../../../src/media/avc.ts";
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import { haveTools, runOk } from "../../_util/media.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { PPS_BASELINE, SPS_BASELINE_320X180 } from "../../fixtures/nal_fixtures.ts";
import { all, bodyOf, type Box, find, parseBoxes } from "./mp4_boxes.ts";

const AVC_C = buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [PPS_BASELINE] });
const VIDEO: VideoTrackConfig = { kind: "video", trackId: 1, avcC: AVC_C, width: 320, height: 180 };
/** AAC LC, 44.1 kHz, stereo. */
const AUDIO: AudioTrackConfig = {
  kind: "audio",
  trackId: 2,
  asc: hex(`12 10`),
  sampleRate: 44100,
  channels: 2,
};

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(at);
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function text(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

function brands(b: Uint8Array, boxes: Box[]): { major: string; compatible: string[] } {
  const ftyp = find(boxes, "ftyp");
  const compatible: string[] = [];
  for (let at = ftyp.body + 8; at < ftyp.start + ftyp.size; at += 4) compatible.push(text(b, at, at + 4));
  return { major: text(b, ftyp.body, ftyp.body + 4), compatible };
}

/** A descriptor's tag, body start and body size (ISO/IEC 14496-1 8.3.3 expandable size). */
function descriptor(b: Uint8Array, at: number): { tag: number; body: number; size: number } {
  let size = 0;
  let p = at + 1;
  for (;;) {
    const byte = b[p++];
    size = (size << 7) | (byte & 0x7f);
    if (!(byte & 0x80)) break;
  }
  return { tag: b[at], body: p, size };
}

/** The AudioSpecificConfig inside an esds: ES_Descriptor > DecoderConfigDescriptor > DecoderSpecificInfo. */
function ascOf(b: Uint8Array, esds: Box): Uint8Array {
  const es = descriptor(b, esds.body);
  assertEquals(es.tag, 0x03, "ES_Descriptor");
  assertEquals(es.body + es.size, esds.start + esds.size, "the ES_Descriptor fills the esds");
  const dc = descriptor(b, es.body + 3); // after ES_ID and flags
  assertEquals(dc.tag, 0x04, "DecoderConfigDescriptor");
  assertEquals([b[dc.body], b[dc.body + 1]], [0x40, 0x15], "objectTypeIndication 0x40, AudioStream");
  const dsi = descriptor(b, dc.body + 13);
  assertEquals(dsi.tag, 0x05, "DecoderSpecificInfo");
  assertEquals(
    dsi.body + dsi.size,
    dc.body + dc.size,
    "the DecoderSpecificInfo ends the DecoderConfigDescriptor",
  );
  const sl = descriptor(b, dc.body + dc.size);
  assertEquals([sl.tag, sl.size, b[sl.body]], [0x06, 1, 0x02], "SLConfigDescriptor predefined 2");
  return b.subarray(dsi.body, dsi.body + dsi.size);
}

Deno.test("initSegment() writes ftyp and a moov whose boxes nest and add up, a trak and trex per track", () => {
  const b = initSegment([VIDEO, AUDIO]);
  const boxes = parseBoxes(b); // asserts every size adds up
  assertEquals(boxes.map((x) => x.type), ["ftyp", "moov"]);
  assertEquals(brands(b, boxes), { major: "iso6", compatible: ["iso6", "iso5", "iso4", "mp41"] });
  const moov = find(boxes, "moov").children!;
  assertEquals(moov.map((x) => x.type), ["mvhd", "trak", "trak", "mvex"]);
  assertEquals(u32(b, find(moov, "mvhd").body + 92), 3, "mvhd next_track_ID");
  const [vt, at] = all(moov, "trak");
  for (const trak of [vt, at]) {
    assertEquals(trak.children!.map((x) => x.type), ["tkhd", "mdia"]);
    const stbl = find(trak.children!, "mdia", "minf", "stbl").children!;
    assertEquals(stbl.map((x) => x.type), ["stsd", "stts", "stsc", "stsz", "stco"]);
    for (const table of stbl.slice(1)) {
      assert(bodyOf(b, table).every((x) => x === 0), `${table.type} has no entries`);
    }
    const dref = find(trak.children!, "mdia", "minf", "dinf", "dref");
    assertEquals(dref.children!.map((x) => [x.type, x.flags]), [["url ", 1]], "one self-contained entry");
  }
  // tkhd: track_ID, volume, width and height in 16.16.
  const vTkhd = find(vt.children!, "tkhd");
  assertEquals([vTkhd.flags, u32(b, vTkhd.body + 8)], [3, 1], "enabled, in movie; track 1");
  assertEquals([u32(b, vTkhd.body + 72), u32(b, vTkhd.body + 76)], [320 << 16, 180 << 16]);
  const aTkhd = find(at.children!, "tkhd");
  assertEquals([u32(b, aTkhd.body + 8), u16(b, aTkhd.body + 32)], [2, 0x0100], "track 2, full volume");
  // mdhd timescales, hdlr types, media headers.
  assertEquals(u32(b, find(vt.children!, "mdia", "mdhd").body + 8), 90000);
  assertEquals(u32(b, find(at.children!, "mdia", "mdhd").body + 8), 44100);
  assertEquals(
    text(b, find(vt.children!, "mdia", "hdlr").body + 4, find(vt.children!, "mdia", "hdlr").body + 8),
    "vide",
  );
  assertEquals(
    text(b, find(at.children!, "mdia", "hdlr").body + 4, find(at.children!, "mdia", "hdlr").body + 8),
    "soun",
  );
  find(vt.children!, "mdia", "minf", "vmhd");
  find(at.children!, "mdia", "minf", "smhd");
  // Sample entries.
  const avc1 = find(vt.children!, "mdia", "minf", "stbl", "stsd", "avc1");
  assertEquals([u16(b, avc1.start + 32), u16(b, avc1.start + 34)], [320, 180], "avc1 width, height");
  assertEquals(bodyOf(b, find(avc1.children!, "avcC")), AVC_C, "avcC holds the record as given");
  const mp4a = find(at.children!, "mdia", "minf", "stbl", "stsd", "mp4a");
  assertEquals([u16(b, mp4a.start + 24), u16(b, mp4a.start + 26)], [2, 16], "channelcount, samplesize");
  assertEquals(u32(b, mp4a.start + 32), 44100 * 65536, "samplerate 16.16");
  assertEquals(ascOf(b, find(mp4a.children!, "esds")), AUDIO.asc);
  // mvex: a trex per track, sample description 1.
  const trex = all(find(moov, "mvex").children!, "trex");
  assertEquals(trex.map((t) => [u32(b, t.body), u32(b, t.body + 4)]), [[1, 1], [2, 1]]);
});

Deno.test("initSegment() claims the CMAF brand only for a single track", () => {
  for (const track of [VIDEO, AUDIO]) {
    const b = initSegment([track]);
    assertEquals(brands(b, parseBoxes(b)).compatible, ["iso6", "iso5", "iso4", "mp41", "cmfc"]);
  }
});

Deno.test("initSegment() writes long descriptor sizes of the esds in several bytes", () => {
  const asc = new Uint8Array(300).fill(0x12);
  const b = initSegment([{ ...AUDIO, asc }]);
  const esds = find(parseBoxes(b), "moov", "trak", "mdia", "minf", "stbl", "stsd", "mp4a", "esds");
  assertEquals(ascOf(b, esds), asc);
});

Deno.test("initSegment() throws RangeError for no track, a reused track_ID or a size the fields cannot hold", () => {
  assertThrows(() => initSegment([]), RangeError, "current track count 0");
  assertThrows(() => initSegment([VIDEO, { ...AUDIO, trackId: 1 }]), RangeError, "current track_ID 1");
  assertThrows(
    () => initSegment([{ ...VIDEO, width: 70000 }]),
    RangeError,
    "current width 70000, limit 65535",
  );
  assertThrows(() => initSegment([{ ...AUDIO, sampleRate: 0 }]), RangeError, "current sample rate 0");
});

Deno.test({
  name: "initSegment() alone is read by ffprobe as H.264 320x180 at 90 kHz and AAC 44.1 kHz stereo",
  ignore: !haveTools("ffprobe"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_fmp4_" });
    try {
      const path = `${dir}/init.mp4`;
      await Deno.writeFile(path, initSegment([VIDEO, AUDIO]));
      const r = await runOk("ffprobe", [
        ...["-v", "error", "-show_entries"],
        "stream=codec_name,profile,width,height,sample_rate,channels,time_base",
        ...["-of", "json", path],
      ], 30_000);
      const streams = (JSON.parse(r.stdout) as { streams: Record<string, unknown>[] }).streams;
      assertEquals(streams.map((s) => [s.codec_name, s.time_base]), [["h264", "1/90000"], [
        "aac",
        "1/44100",
      ]]);
      assertEquals([streams[0].width, streams[0].height], [320, 180]);
      assertEquals([streams[1].sample_rate, streams[1].channels], ["44100", 2]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
