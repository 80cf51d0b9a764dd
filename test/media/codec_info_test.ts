import { ProtocolError } from "../../src/errors.ts";
import { buildAvcConfig } from "../../src/media/avc.ts";
import {
  audioInfo,
  avcLevelName,
  avcProfileName,
  MAX_CONFIG_BYTES,
  parseAudioSpecificConfig,
  videoInfo,
} from "../../src/media/codec_info.ts";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { X264_MAIN_640X360_AVC_HEADER } from "../_util/hub_fakes.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../_util/mutate.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import {
  bits,
  concat,
  PPS_BASELINE,
  SPS_BASELINE_320X180,
  SPS_HIGH_SCALING_1080P,
  SPS_MAIN_POC1_576I,
} from "../fixtures/nal_fixtures.ts";

/** An FLV AVC sequence header tag body around `record`: 0x17 (key, AVC), 0x00 (sequence header), CTS 0. */
function avcHeader(record: Uint8Array): Uint8Array {
  return concat([hex(`17 00 00 00 00`), record]);
}

Deno.test("videoInfo() reads codec, profile, level, size and frame rate from ffmpeg's x264 sequence header", () => {
  assertEquals(videoInfo(X264_MAIN_640X360_AVC_HEADER), {
    codec: "H.264",
    profile: "Main",
    level: "3",
    width: 640,
    height: 360, // coded 368, 8 rows cropped
    frameRate: 30, // VUI time_scale 60 / (2 * num_units_in_tick 1)
  });
});

Deno.test("videoInfo() names Constrained Baseline and applies cropping and VUI timing of the hand-written SPS", () => {
  const header = avcHeader(buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [PPS_BASELINE] }));
  assertEquals(videoInfo(header), {
    codec: "H.264",
    profile: "Constrained Baseline",
    level: "1.3",
    width: 320,
    height: 180,
    frameRate: 25,
  });
});

Deno.test("videoInfo() reads a High profile 1080p SPS with scaling lists at 30000/1001 frames/s", () => {
  const header = avcHeader(buildAvcConfig({ sps: [SPS_HIGH_SCALING_1080P], pps: [PPS_BASELINE] }));
  assertEquals(videoInfo(header), {
    codec: "H.264",
    profile: "High",
    level: "4",
    width: 1920,
    height: 1080,
    frameRate: 60000 / 2002,
  });
});

Deno.test("videoInfo() leaves the frame rate out when the SPS has no VUI timing", () => {
  const header = avcHeader(buildAvcConfig({ sps: [SPS_MAIN_POC1_576I], pps: [PPS_BASELINE] }));
  assertEquals(videoInfo(header), { codec: "H.264", profile: "Main", level: "3", width: 704, height: 576 });
});

Deno.test("videoInfo() of an AVC frame that is not a sequence header gives the codec alone", () => {
  assertEquals(videoInfo(hex(`27 01 00 00 00 41 9a`)), { codec: "H.264" }); // inter frame, NALU
});

Deno.test("videoInfo() names legacy CodecIDs, the codec id 12 extension, and unknown ids by number", () => {
  assertEquals(videoInfo(hex(`12 00 00`)), { codec: "Sorenson H.263" }); // key frame, CodecID 2
  assertEquals(videoInfo(hex(`14 00 00`)), { codec: "VP6" }); // key frame, CodecID 4
  assertEquals(videoInfo(hex(`25 00 00`)), { codec: "VP6 Alpha" }); // inter frame, CodecID 5
  assertEquals(videoInfo(hex(`2c 01 00 00 00`)), { codec: "HEVC" }); // inter frame, CodecID 12, NALU
  assertEquals(videoInfo(hex(`1f 00`)), { codec: "CodecID 15" });
  assertEquals(videoInfo(new Uint8Array(0)), undefined);
});

Deno.test("videoInfo() reads an Enhanced RTMP HEVC sequence start: profile and level from the record", () => {
  const body = hex(`
    90                  # IsExHeader 1, FrameType 1 (key), VideoPacketType 0 (SequenceStart)
    68 76 63 31         # FourCC "hvc1"
    01                  # HEVCDecoderConfigurationRecord: configurationVersion 1
    01                  # general_profile_space 0, general_tier_flag 0, general_profile_idc 1 (Main)
    60 00 00 00         # general_profile_compatibility_flags
    90 00 00 00 00 00   # general_constraint_indicator_flags
    5d                  # general_level_idc 93: level 3.1 (30 times the level)
    f0 00 fc fd f8 f8 00 00 0f 00   # min_spatial_segmentation ... numOfArrays 0
  `);
  assertEquals(videoInfo(body), { codec: "HEVC", profile: "Main", level: "3.1" });
});

Deno.test("videoInfo() reads an Enhanced RTMP AV1 sequence start: seq_profile and seq_level_idx_0", () => {
  const body = hex(`
    90                  # IsExHeader 1, FrameType 1 (key), VideoPacketType 0 (SequenceStart)
    61 76 30 31         # FourCC "av01"
    81                  # AV1CodecConfigurationRecord: marker 1, version 1
    08                  # seq_profile 0 (Main), seq_level_idx_0 8 (level 4.0)
    0c 00               # tier, bit depth, chroma ...; initial_presentation_delay
  `);
  assertEquals(videoInfo(body), { codec: "AV1", profile: "Main", level: "4.0" });
});

Deno.test("videoInfo() reads an Enhanced RTMP VP9 sequence start with or without the vpcC FullBox header", () => {
  const record = hex(`
    00                  # profile 0
    1f                  # level 31 (3.1)
    80                  # bitDepth 8, chromaSubsampling 0, videoFullRangeFlag 0
    01 01 01            # colourPrimaries, transferCharacteristics, matrixCoefficients
    00 00               # codecInitializationDataSize 0
  `);
  const fourCc = hex(`90 76 70 30 39`); // ex, key, SequenceStart, "vp09"
  assertEquals(videoInfo(concat([fourCc, record])), { codec: "VP9", profile: "0", level: "3.1" });
  const box = hex(`01 00 00 00`); // FullBox: version 1, flags 0
  assertEquals(videoInfo(concat([fourCc, box, record])), { codec: "VP9", profile: "0", level: "3.1" });
});

Deno.test("videoInfo() of Enhanced RTMP coded frames gives the FourCC's codec; an unknown FourCC is its text", () => {
  assertEquals(videoInfo(hex(`91 68 76 63 31 00 00 00`)), { codec: "HEVC" }); // key, CodedFrames, "hvc1"
  assertEquals(videoInfo(hex(`a3 61 76 30 31`)), { codec: "AV1" }); // inter, CodedFramesX, "av01"
  assertEquals(videoInfo(hex(`93 78 79 7a 31`)), { codec: "xyz1" });
  assertEquals(videoInfo(hex(`96 01 68 76 63 31`)), undefined, "multitrack: the FourCC is elsewhere");
});

Deno.test("videoInfo() of a sequence header with a broken record gives the codec alone (never throws)", () => {
  assertEquals(videoInfo(hex(`17 00 00 00 00 02 4d 40`)), { codec: "H.264" }); // configurationVersion 2
  const random = seededRandom(7);
  for (
    const bad of [
      ...truncations(X264_MAIN_640X360_AVC_HEADER),
      ...mutations(X264_MAIN_640X360_AVC_HEADER, random, 300),
    ]
  ) {
    const info = videoInfo(bad);
    if (info !== undefined && typeof info.codec !== "string") throw new Error("no codec name");
  }
});

Deno.test("videoInfo() does not parse a record over MAX_CONFIG_BYTES", () => {
  const record = buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [PPS_BASELINE] });
  const big = concat([avcHeader(record), new Uint8Array(MAX_CONFIG_BYTES)]);
  assertEquals(videoInfo(big), { codec: "H.264" });
});

Deno.test("avcProfileName() and avcLevelName() follow H.264 Annex A, 1b included", () => {
  assertEquals(avcProfileName(66, 0x00), "Baseline");
  assertEquals(avcProfileName(66, 0x40), "Constrained Baseline");
  assertEquals(avcProfileName(100, 0), "High");
  assertEquals(avcProfileName(244, 0), "High 4:4:4 Predictive");
  assertEquals(avcProfileName(7, 0), "profile_idc 7");
  assertEquals(avcLevelName(31, 100, 0), "3.1");
  assertEquals(avcLevelName(40, 100, 0), "4");
  assertEquals(avcLevelName(9, 100, 0), "1b");
  assertEquals(avcLevelName(11, 66, 0x10), "1b", "level_idc 11 with constraint_set3 in Baseline");
  assertEquals(avcLevelName(11, 100, 0x10), "1.1");
});

Deno.test("audioInfo() reads ffmpeg's AAC sequence header: LC, 48 kHz, stereo", () => {
  const body = hex(`
    af                  # SoundFormat 10 (AAC), SoundRate 3, SoundSize 1, SoundType 1 (always, for AAC)
    00                  # AACPacketType 0: sequence header
    11 90               # AudioSpecificConfig: object type 2 (LC), frequency index 3 (48000), channels 2
    56 e5 00            # ffmpeg's sync extension (not read)
  `);
  assertEquals(audioInfo(body), { codec: "AAC", sampleRate: 48000, channels: 2, profile: "LC" });
});

Deno.test("parseAudioSpecificConfig() reads object type, frequency index and channel configuration", () => {
  const asc = bits(`
    00010                   # audioObjectType 2 (AAC LC)
    0100                    # samplingFrequencyIndex 4: 44100
    0010                    # channelConfiguration 2
    000                     # GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag
  `);
  assertEquals(parseAudioSpecificConfig(asc), {
    objectType: 2,
    coreObjectType: 2,
    sampleRate: 44100,
    coreSampleRate: 44100,
    channelConfiguration: 2,
    channels: 2,
  });
});

Deno.test("parseAudioSpecificConfig() reads explicit HE-AACv2 signalling: the SBR rate out, a mono core as stereo", () => {
  const asc = bits(`
    11101                   # audioObjectType 29 (PS: HE-AACv2)
    0110                    # samplingFrequencyIndex 6: 24000 (the core rate)
    0001                    # channelConfiguration 1 (mono core; PS makes it stereo)
    0011                    # extensionSamplingFrequencyIndex 3: 48000
    00010                   # audioObjectType 2 (the core: AAC LC)
    000                     # GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag
    0000000                 # padding to a byte
  `);
  assertEquals(parseAudioSpecificConfig(asc), {
    objectType: 29,
    coreObjectType: 2,
    sampleRate: 48000,
    coreSampleRate: 24000,
    channelConfiguration: 1,
    channels: 2,
  });
  assertEquals(audioInfo(concat([hex(`af 00`), asc])), {
    codec: "AAC",
    sampleRate: 48000,
    channels: 2,
    profile: "HE-AACv2",
  });
});

Deno.test("parseAudioSpecificConfig() reads an escaped object type and an explicit 24-bit sampling frequency", () => {
  const asc = bits(`
    11111 000111            # audioObjectType 31 (escape): 32 + 7 = 39 (ER AAC ELD)
    1111                    # samplingFrequencyIndex 15: explicit
    0000 0000 1111 1010 0000 0000   # samplingFrequency 64000
    0001                    # channelConfiguration 1
    00000                   # padding to a byte (ELDSpecificConfig is not read)
  `);
  const c = parseAudioSpecificConfig(asc);
  assertEquals([c.objectType, c.sampleRate, c.channels], [39, 64000, 1]);
});

Deno.test("parseAudioSpecificConfig() throws ProtocolError naming the bit position when the config ends early", () => {
  const e = assertThrows(() => parseAudioSpecificConfig(hex(`12`)), ProtocolError);
  assertEquals(e.code, "aac_config");
  assertEquals(e.message, "Cannot read AudioSpecificConfig: 4 bits at bit 5 run past the end (8 bits)");
  for (const cut of truncations(hex(`2b 11 88 00`))) {
    expectOnlyProtocolError(cut, parseAudioSpecificConfig);
  }
});

Deno.test("audioInfo() reads legacy FLV audio headers: format, rate and channels, fixed ones where the spec fixes them", () => {
  assertEquals(audioInfo(hex(`2f ff`)), { codec: "MP3", sampleRate: 44100, channels: 2 }); // 2, 44k, 16-bit, stereo
  assertEquals(audioInfo(hex(`2a ff`)), { codec: "MP3", sampleRate: 22050, channels: 1 }); // 2, 22k, 16-bit, mono
  assertEquals(audioInfo(hex(`32 00`)), { codec: "PCM", sampleRate: 5512, channels: 1 }); // 3, 5.5k, 16-bit, mono
  assertEquals(audioInfo(hex(`b2 00`)), { codec: "Speex", sampleRate: 16000, channels: 1 }); // 11, fixed 16 kHz
  assertEquals(audioInfo(hex(`5e 00`)), { codec: "Nellymoser", sampleRate: 8000, channels: 1 }); // 5: 8 kHz mono
  assertEquals(audioInfo(hex(`72 00`)), { codec: "G.711 A-law", sampleRate: 8000, channels: 1 });
  assertEquals(audioInfo(hex(`af 01 21 00`)), { codec: "AAC" }, "an AAC raw frame says nothing more");
  assertEquals(audioInfo(new Uint8Array(0)), undefined);
});

Deno.test("audioInfo() reads an Enhanced RTMP Opus sequence start: 48 kHz and the ID header's channels", () => {
  const body = hex(`
    90                  # SoundFormat 9 (ExHeader), AudioPacketType 0 (SequenceStart)
    4f 70 75 73         # FourCC "Opus"
    4f 70 75 73 48 65 61 64   # "OpusHead"
    01                  # version 1
    02                  # channel count 2
    38 01               # pre-skip 312 (little-endian)
    44 ac 00 00         # input_sample_rate 44100 (little-endian; decoding is at 48 kHz)
    00 00 00            # output gain 0, channel mapping family 0
  `);
  assertEquals(audioInfo(body), { codec: "Opus", sampleRate: 48000, channels: 2 });
  assertEquals(audioInfo(hex(`91 4f 70 75 73 00`)), { codec: "Opus" }, "coded frames");
  assertEquals(audioInfo(hex(`91 66 4c 61 43 00`)), { codec: "FLAC" });
});

Deno.test("audioInfo() reads an Enhanced RTMP AAC ('mp4a') sequence start as the AudioSpecificConfig", () => {
  const body = hex(`90 6d 70 34 61 12 10`); // ExHeader SequenceStart, "mp4a", LC 44.1 kHz stereo
  assertEquals(audioInfo(body), { codec: "AAC", sampleRate: 44100, channels: 2, profile: "LC" });
});
