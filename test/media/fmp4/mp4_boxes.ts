/**
 * A strict ISO BMFF box reader for the fMP4 tests: splits bytes into a box
 * tree (asserting every size adds up: children fill their parent exactly,
 * top-level boxes fill the input) and reads the fields of the boxes the
 * muxer writes. Independent of the writer: it reads with a DataView.
 *
 * @module
 */
import { assert, assertEquals } from "../../_util/assert.ts";

/** One box: its type, where it starts, its size, and its children when it is a container. */
export interface Box {
  type: string;
  start: number;
  size: number;
  /** Where the content starts (after size, type and, for a FullBox, version and flags). */
  body: number;
  version?: number;
  flags?: number;
  children?: Box[];
}

/** Boxes that hold only boxes (14496-12 8.x), with bytes before the children for some. */
const CONTAINERS: Record<string, { full?: boolean; skip: number }> = {
  moov: { skip: 0 },
  trak: { skip: 0 },
  mdia: { skip: 0 },
  minf: { skip: 0 },
  dinf: { skip: 0 },
  stbl: { skip: 0 },
  mvex: { skip: 0 },
  moof: { skip: 0 },
  traf: { skip: 0 },
  dref: { full: true, skip: 4 }, // entry_count
  stsd: { full: true, skip: 4 }, // entry_count
  avc1: { skip: 78 }, // VisualSampleEntry fields (12.1.3.2)
  mp4a: { skip: 28 }, // AudioSampleEntry fields (12.2.3.2)
};

/** FullBoxes among the leaves (so their version and flags are read). */
const FULL_LEAVES = new Set([
  "mvhd",
  "tkhd",
  "mdhd",
  "hdlr",
  "vmhd",
  "smhd",
  "url ",
  "stts",
  "stsc",
  "stsz",
  "stco",
  "trex",
  "mfhd",
  "tfhd",
  "tfdt",
  "trun",
  "esds",
]);

function fourCc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

/** The boxes in b[from, to), recursively; asserts the sizes tile the range exactly. */
export function parseBoxes(b: Uint8Array, from = 0, to = b.length): Box[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Box[] = [];
  let at = from;
  while (at < to) {
    assert(at + 8 <= to, `a box header at ${at} runs past ${to}`);
    const size = v.getUint32(at);
    const type = fourCc(b, at + 4);
    assert(size >= 8 && at + size <= to, `box ${type} at ${at}: size ${size} does not fit in ${to - at}`);
    const container = CONTAINERS[type];
    const full = container?.full || FULL_LEAVES.has(type);
    const box: Box = { type, start: at, size, body: at + (full ? 12 : 8) };
    if (full) {
      box.version = b[at + 8];
      box.flags = (b[at + 9] << 16) | (b[at + 10] << 8) | b[at + 11];
    }
    if (container) box.children = parseBoxes(b, box.body + container.skip, at + size);
    out.push(box);
    at += size;
  }
  assertEquals(at, to, "boxes end where their parent ends");
  return out;
}

/** The first box of `type` along a path of types (`find(boxes, "moov", "trak", "tkhd")`). */
export function find(boxes: Box[], ...path: string[]): Box {
  let list = boxes;
  let found: Box | undefined;
  for (const type of path) {
    found = list.find((x) => x.type === type);
    assert(found, `no ${type} in ${list.map((x) => x.type).join(",")} (path ${path.join("/")})`);
    list = found.children ?? [];
  }
  return found!;
}

/** Every box of `type` directly in `boxes`. */
export function all(boxes: Box[], type: string): Box[] {
  return boxes.filter((x) => x.type === type);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A 64-bit unsigned field as a number (exact below 2^53). */
function u64(v: DataView, at: number): number {
  return v.getUint32(at) * 2 ** 32 + v.getUint32(at + 4);
}

/** One `trun` sample entry. */
export interface TrunSample {
  duration: number;
  size: number;
  flags: number;
  compositionOffset: number;
}

/** One `traf` read whole. */
export interface Traf {
  trackId: number;
  tfhdFlags: number;
  tfdtVersion: number;
  baseMediaDecodeTime: number;
  trunVersion: number;
  trunFlags: number;
  dataOffset: number;
  samples: TrunSample[];
}

/** One `moof` + `mdat` pair read whole. */
export interface Fragment {
  /** Where the moof starts in the bytes given. */
  moofStart: number;
  sequenceNumber: number;
  trafs: Traf[];
  /** Where the mdat's payload starts and ends in the bytes given. */
  mdatBody: number;
  mdatEnd: number;
}

/** The trafs of a `moof` (samples read per the trun flags of 8.8.8). */
export function readFragments(b: Uint8Array): Fragment[] {
  const v = view(b);
  const boxes = parseBoxes(b);
  const out: Fragment[] = [];
  for (let i = 0; i < boxes.length; i++) {
    const moof = boxes[i];
    if (moof.type !== "moof") continue;
    const mdat = boxes[i + 1];
    assert(mdat?.type === "mdat", `the moof at ${moof.start} is not followed by an mdat`);
    const mfhd = find(moof.children!, "mfhd");
    const trafs = all(moof.children!, "traf").map((traf): Traf => {
      const tfhd = find(traf.children!, "tfhd");
      const tfdt = find(traf.children!, "tfdt");
      const trun = find(traf.children!, "trun");
      const flags = trun.flags!;
      let p = trun.body;
      const count = v.getUint32(p);
      p += 4;
      const dataOffset = flags & 0x1 ? v.getInt32(p) : 0;
      if (flags & 0x1) p += 4;
      if (flags & 0x4) p += 4; // first_sample_flags
      const samples: TrunSample[] = [];
      for (let k = 0; k < count; k++) {
        const s: TrunSample = { duration: 0, size: 0, flags: 0, compositionOffset: 0 };
        if (flags & 0x100) (s.duration = v.getUint32(p), p += 4);
        if (flags & 0x200) (s.size = v.getUint32(p), p += 4);
        if (flags & 0x400) (s.flags = v.getUint32(p), p += 4);
        if (flags & 0x800) (s.compositionOffset = trun.version ? v.getInt32(p) : v.getUint32(p), p += 4);
        samples.push(s);
      }
      assertEquals(p, trun.start + trun.size, "the trun entries fill the trun");
      return {
        trackId: v.getUint32(tfhd.body),
        tfhdFlags: tfhd.flags!,
        tfdtVersion: tfdt.version!,
        baseMediaDecodeTime: tfdt.version ? u64(v, tfdt.body) : v.getUint32(tfdt.body),
        trunVersion: trun.version!,
        trunFlags: flags,
        dataOffset,
        samples,
      };
    });
    out.push({
      moofStart: moof.start,
      sequenceNumber: v.getUint32(mfhd.body),
      trafs,
      mdatBody: mdat.start + 8,
      mdatEnd: mdat.start + mdat.size,
    });
  }
  return out;
}

/** The box's content bytes (after its header). */
export function bodyOf(b: Uint8Array, box: Box): Uint8Array {
  return b.subarray(box.body, box.start + box.size);
}
