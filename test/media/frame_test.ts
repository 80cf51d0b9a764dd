import { assertEquals } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  exVideoCodedFrames,
  exVideoSequenceStart,
  metadataPayload,
} from "../_util/hub_fakes.ts";
import { classify, ExVideoPacketType, FrameKind, VideoFrameType } from "../../src/media/frame.ts";

const none = { keyframe: false, sequenceHeader: false };
const key = { keyframe: true, sequenceHeader: false };
const header = { keyframe: false, sequenceHeader: true };

const cases: { name: string; kind: FrameKind; payload: Uint8Array; want: typeof none }[] = [
  {
    name: "an AVC keyframe (0x17 0x01) as a keyframe",
    kind: FrameKind.Video,
    payload: avcKeyframe(),
    want: key,
  },
  {
    name: "an AVC inter frame (0x27 0x01) as neither",
    kind: FrameKind.Video,
    payload: avcInterFrame(),
    want: none,
  },
  {
    name: "an AVC sequence header (0x17 0x00) as a sequence header, not a keyframe",
    kind: FrameKind.Video,
    payload: avcSequenceHeader(),
    want: header,
  },
  {
    name: "an AAC sequence header (0xAF 0x00) as a sequence header",
    kind: FrameKind.Audio,
    payload: aacSequenceHeader(),
    want: header,
  },
  { name: "an AAC raw frame (0xAF 0x01) as neither", kind: FrameKind.Audio, payload: aacRaw(), want: none },
  {
    name: "an enhanced RTMP sequence start (0x90) as a sequence header, not a keyframe",
    kind: FrameKind.Video,
    payload: exVideoSequenceStart(),
    want: header,
  },
  {
    name: "an enhanced RTMP CodedFrames keyframe (0x91) as a keyframe",
    kind: FrameKind.Video,
    payload: exVideoCodedFrames(VideoFrameType.Key, ExVideoPacketType.CodedFrames),
    want: key,
  },
  {
    name: "an enhanced RTMP CodedFramesX keyframe (0x93) as a keyframe",
    kind: FrameKind.Video,
    payload: exVideoCodedFrames(VideoFrameType.Key, ExVideoPacketType.CodedFramesX),
    want: key,
  },
  {
    name: "an enhanced RTMP CodedFrames inter frame (0xA1) as neither",
    kind: FrameKind.Video,
    payload: exVideoCodedFrames(VideoFrameType.Inter, ExVideoPacketType.CodedFrames),
    want: none,
  },
  {
    name: "an enhanced RTMP CodedFramesX inter frame (0xA3) as neither",
    kind: FrameKind.Video,
    payload: exVideoCodedFrames(VideoFrameType.Inter, ExVideoPacketType.CodedFramesX),
    want: none,
  },
  {
    name: "an empty video payload as neither",
    kind: FrameKind.Video,
    payload: new Uint8Array(0),
    want: none,
  },
  {
    name: "an empty audio payload as neither",
    kind: FrameKind.Audio,
    payload: new Uint8Array(0),
    want: none,
  },
  {
    name: "a one-byte AVC payload (no AVCPacketType) as neither: nothing to decode",
    kind: FrameKind.Video,
    payload: Uint8Array.of(0x17),
    want: none,
  },
  {
    name: "an AVC end of sequence (0x17 0x02) as neither: a player cannot start there",
    kind: FrameKind.Video,
    payload: Uint8Array.of(0x17, 0x02, 0, 0, 0),
    want: none,
  },
  {
    name: "a one-byte AAC payload (no AACPacketType) as neither",
    kind: FrameKind.Audio,
    payload: Uint8Array.of(0xaf),
    want: none,
  },
  { name: "a data message as neither", kind: FrameKind.Data, payload: metadataPayload(), want: none },
  {
    name: "a data message whose first byte looks like a keyframe as neither",
    kind: FrameKind.Data,
    payload: avcKeyframe(),
    want: none,
  },
];

for (const c of cases) {
  Deno.test(`classify() reports ${c.name}`, () => {
    assertEquals(classify(c.kind, c.payload), c.want);
  });
}
