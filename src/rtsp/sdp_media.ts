/**
 * What H.264 and AAC tracks say in SDP, both ways, and the hub's FLV sequence
 * headers on the other side (read and written by `src/media/tag_body.ts`, as
 * the RTP packetizers read them):
 *
 * - **DESCRIBE** (`describeStream`): from a stream's FLV AVC and AAC sequence
 *   header bodies to the session description a player SETUPs from. H.264 is
 *   RFC 6184 8.1/8.2.1 (`a=rtpmap:96 H264/90000`; `a=fmtp:96
 *   packetization-mode=1;profile-level-id=<profile_idc, constraint flags,
 *   level_idc of the SPS in hex>;sprop-parameter-sets=<base64 SPS>,<base64
 *   PPS>`), AAC is RFC 3640 3.3.6 AAC-hbr (`a=rtpmap:97
 *   MPEG4-GENERIC/<rate>/<channels>`; `a=fmtp:97 streamtype=5;
 *   profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;
 *   indexdeltalength=3;config=<AudioSpecificConfig in hex>`). The AAC clock
 *   rate is the AudioSpecificConfig's output rate (the SBR rate for explicit
 *   HE-AAC), as ffmpeg writes it; an RTP packetizer counts in the same clock.
 *   Tracks are fixed per kind (`SdpTrack`): video trackID=0 with payload type
 *   96, audio trackID=1 with 97; live streams say `a=range:npt=0-`, files
 *   `npt=0-<duration>`.
 * - **ANNOUNCE** (`announcedTracks`): from a publisher's description (ffmpeg's,
 *   GStreamer's) to each track's payload type, clock, absolute control URL
 *   and, for H.264 and AAC, the FLV sequence header body the hub takes: SPS
 *   and PPS from sprop-parameter-sets through `buildAvcConfig`, the
 *   AudioSpecificConfig from `config=`. A track of another codec is listed
 *   without `codec`, for the server to refuse or skip.
 *
 * @module
 */
import { buildAvcConfig, NalUnitType, nalUnitType, parseAvcConfig } from "../media/avc.ts";
import { parseAudioSpecificConfig } from "../media/codec_info.ts";
import { AacPacketType } from "../media/flv.ts";
import { AacHbr } from "../media/rtp/aac_packetizer.ts";
import { ClockRate } from "../media/rtp/clock.ts";
import { aacBody, aacConfig, avcRecord, avcSequenceHeaderBody } from "../media/tag_body.ts";
import { formatNptRange, quote } from "./headers.ts";
import {
  attributeOf,
  fmtpOf,
  formatFmtp,
  formatRtpmap,
  resolveControl,
  rtpmapOf,
  SdpAttr,
  type SdpAttribute,
  type SdpMedia,
  type SessionDescription,
} from "./sdp.ts";
import { RtspError, RtspStatus } from "./status.ts";

/** The tracks Sluice describes: one per kind, always the same id and payload type. */
export const SdpTrack = {
  /** H.264: trackID=0, dynamic payload type 96 (RFC 3551 3: 96-127 are dynamic). */
  Video: { id: 0, payloadType: 96, control: "trackID=0" },
  /** AAC: trackID=1, payload type 97. */
  Audio: { id: 1, payloadType: 97, control: "trackID=1" },
} as const;

/** RTP clock rates and names of the payload formats here. */
export const RtpFormat = {
  /** RFC 6184 8.2.1: H.264 is always timed at 90 kHz. */
  H264: { encoding: "H264", clockRate: ClockRate.Video },
  /** RFC 3640 4.1: MPEG-4 elementary streams, here AAC. */
  Mpeg4Generic: { encoding: "MPEG4-GENERIC" },
} as const;

/** RFC 6184 5.4, 8.1 packetization-mode: 1, non-interleaved (single NAL units, STAP-A, FU-A). */
export const PACKETIZATION_MODE_NON_INTERLEAVED = 1;

/** The most parameter sets read from one sprop-parameter-sets (H.264 allows 32 SPS and 256 PPS). */
export const MAX_SPROP_SETS = 64;
/** The longest AAC `config=` read, in bytes (an AudioSpecificConfig is 2 to 5). */
export const MAX_AAC_CONFIG_BYTES = 64;

// ---------------------------------------------------------------------------------------------
// DESCRIBE: stream -> SDP

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * The media section of an H.264 track from its FLV AVC sequence header body
 * (legacy or Enhanced RTMP `avc1`); undefined when the body is not one
 * (another codec). A malformed record
 * throws ProtocolError (code "avc_config").
 */
export function h264Media(sequenceHeader: Uint8Array): SdpMedia | undefined {
  const record = avcRecord(sequenceHeader);
  if (!record) return undefined;
  const config = parseAvcConfig(record);
  const sps = config.sps[0];
  // RFC 6184 8.1: profile_idc, the constraint flags byte and level_idc of the SPS, in base16.
  const profileLevelId = sps && sps.length >= 4
    ? hex(sps.subarray(1, 4))
    : hex(Uint8Array.of(config.profileIdc, config.profileCompatibility, config.levelIdc));
  const params: [string, string][] = [
    ["packetization-mode", String(PACKETIZATION_MODE_NON_INTERLEAVED)],
    ["profile-level-id", profileLevelId],
  ];
  const sets = [...config.sps, ...config.pps].map(base64);
  if (sets.length > 0) params.push(["sprop-parameter-sets", sets.join(",")]);
  const pt = SdpTrack.Video.payloadType;
  return {
    media: "video",
    port: 0,
    proto: "RTP/AVP",
    formats: [String(pt)],
    attributes: [
      { name: SdpAttr.Rtpmap, value: formatRtpmap({ payloadType: pt, ...RtpFormat.H264 }) },
      { name: SdpAttr.Fmtp, value: formatFmtp(pt, params) },
      { name: SdpAttr.Control, value: SdpTrack.Video.control },
    ],
  };
}

/**
 * The media section of an AAC track from its FLV AAC sequence header body
 * (legacy or Enhanced RTMP `mp4a`); undefined when the body is not one, or
 * carries no AudioSpecificConfig. A malformed AudioSpecificConfig throws
 * ProtocolError (code "aac_config").
 */
export function aacMedia(sequenceHeader: Uint8Array): SdpMedia | undefined {
  const config = aacConfig(sequenceHeader);
  if (!config || config.length === 0) return undefined;
  const asc = parseAudioSpecificConfig(config);
  const pt = SdpTrack.Audio.payloadType;
  const rtpmap = formatRtpmap({
    payloadType: pt,
    encoding: RtpFormat.Mpeg4Generic.encoding,
    clockRate: asc.sampleRate,
    ...(asc.channels > 0 && { channels: asc.channels }),
  });
  const fmtp = formatFmtp(pt, [
    ["streamtype", String(AacHbr.StreamType)],
    ["profile-level-id", String(AacHbr.ProfileLevelId)],
    ["mode", AacHbr.Mode],
    ["sizelength", String(AacHbr.SizeLength)],
    ["indexlength", String(AacHbr.IndexLength)],
    ["indexdeltalength", String(AacHbr.IndexDeltaLength)],
    ["config", hex(config)],
  ]);
  return {
    media: "audio",
    port: 0,
    proto: "RTP/AVP",
    formats: [String(pt)],
    attributes: [
      { name: SdpAttr.Rtpmap, value: rtpmap },
      { name: SdpAttr.Fmtp, value: fmtp },
      { name: SdpAttr.Control, value: SdpTrack.Audio.control },
    ],
  };
}

/** What a DESCRIBE answer describes. */
export interface StreamDescription {
  /** The stream's FLV AVC sequence header body, if it has video. */
  readonly video?: Uint8Array;
  /** The stream's FLV AAC sequence header body, if it has audio. */
  readonly audio?: Uint8Array;
  /** A file's length in seconds; absent for a live stream (`npt=0-`). */
  readonly durationSec?: number;
  /** The server's address for o= (default 0.0.0.0). */
  readonly address?: string;
  /** o= sess-id: a number unique to this stream run (RFC 4566 5.2 suggests an NTP timestamp). */
  readonly sessionId?: string;
  /** s=: the stream's name (default "-"). */
  readonly sessionName?: string;
  /** a=tool: (e.g. "Sluice 1.2"). */
  readonly tool?: string;
}

/**
 * The session description of a stream: v=, o=, s=, c=IN IP4 0.0.0.0 (RFC
 * 2326 C.1.7: the address comes with SETUP), t=0 0, a=control:*, a=range,
 * then the video and audio tracks whose sequence headers are H.264 and AAC.
 */
export function describeStream(desc: StreamDescription): SessionDescription {
  const address = desc.address ?? "0.0.0.0";
  const addrType = address.includes(":") ? "IP6" : "IP4";
  const attributes: SdpAttribute[] = [];
  if (desc.tool !== undefined) attributes.push({ name: SdpAttr.Tool, value: desc.tool });
  attributes.push({ name: SdpAttr.Control, value: "*" });
  attributes.push({ name: SdpAttr.Range, value: formatNptRange({ start: 0, end: desc.durationSec }) });
  const media: SdpMedia[] = [];
  const video = desc.video && h264Media(desc.video);
  if (video) media.push(video);
  const audio = desc.audio && aacMedia(desc.audio);
  if (audio) media.push(audio);
  return {
    origin: {
      username: "-",
      sessionId: desc.sessionId ?? "0",
      sessionVersion: "1",
      netType: "IN",
      addrType,
      address,
    },
    sessionName: desc.sessionName ?? "-",
    connection: { netType: "IN", addrType, address: addrType === "IP6" ? "::" : "0.0.0.0" },
    timing: "0 0",
    attributes,
    media,
  };
}

// ---------------------------------------------------------------------------------------------
// ANNOUNCE: SDP -> tracks

/** H.264 from an announced track's fmtp. */
export interface H264Params {
  readonly codec: "H264";
  /** 0 single NAL, 1 non-interleaved, 2 interleaved (RFC 6184 5.4); 0 when not given. */
  readonly packetizationMode: number;
  readonly profileLevelId?: string;
  readonly sps: readonly Uint8Array[];
  readonly pps: readonly Uint8Array[];
  /** The FLV AVC sequence header body, when sprop-parameter-sets has an SPS (else it comes in band). */
  readonly sequenceHeader?: Uint8Array;
}

/** AAC from an announced MPEG4-GENERIC track's fmtp. */
export interface AacParams {
  readonly codec: "AAC";
  /** "AAC-hbr" or "AAC-lbr" (RFC 3640 3.3.5, 3.3.6). */
  readonly mode: string;
  readonly sizeLength: number;
  readonly indexLength: number;
  readonly indexDeltaLength: number;
  /** The AudioSpecificConfig. */
  readonly config: Uint8Array;
  /** The FLV AAC sequence header body. */
  readonly sequenceHeader: Uint8Array;
}

/** One track of an announced description. */
export interface AnnouncedTrack {
  /** m= media: "video", "audio", ... */
  readonly media: string;
  readonly payloadType: number;
  /** The encoding name in upper case ("H264", "MPEG4-GENERIC", "PCMA"...); "" when unknown. */
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
  /** The absolute URL the publisher will SETUP this track with. */
  readonly control: string;
  /** The fmtp parameters, names in lower case. */
  readonly fmtp: ReadonlyMap<string, string>;
  /** Set for the codecs Sluice takes in: H.264 and AAC. */
  readonly codec?: H264Params | AacParams;
}

/** Static payload types a publisher may use without an rtpmap (RFC 3551 6, Table 4 and 5). */
const STATIC_PAYLOAD_TYPES: Readonly<
  Record<number, { encoding: string; clockRate: number; channels?: number }>
> = {
  0: { encoding: "PCMU", clockRate: 8000, channels: 1 },
  8: { encoding: "PCMA", clockRate: 8000, channels: 1 },
  14: { encoding: "MPA", clockRate: 90_000 },
  26: { encoding: "JPEG", clockRate: 90_000 },
  32: { encoding: "MPV", clockRate: 90_000 },
  33: { encoding: "MP2T", clockRate: 90_000 },
};

function bad(detail: string, cause?: unknown): RtspError {
  return new RtspError(RtspStatus.BadRequest, "sdp", `Cannot read SDP: ${detail}`, { cause });
}

/**
 * The tracks of an announced description, in order: for each m= section its
 * first payload type, rtpmap (or the static table), fmtp, control made
 * absolute against `base` (the Content-Base or the ANNOUNCE URL; `resolveControl`)
 * and, for H.264 and AAC, the codec parameters. Malformed sprop-parameter-sets
 * or config: RtspError 400.
 */
export function announcedTracks(sdp: SessionDescription, base: string): AnnouncedTrack[] {
  const sessionControl = attributeOf(sdp.attributes, SdpAttr.Control);
  const root = sessionControl === undefined ? base : resolveControl(base, sessionControl);
  return sdp.media.map((m, i) => {
    const pt = Number(m.formats[0]);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) {
      throw bad(`current payload type of media ${i} is ${quote(m.formats[0] ?? "")}, expected 0..127`);
    }
    const map = rtpmapOf(m, pt) ??
      (Object.hasOwn(STATIC_PAYLOAD_TYPES, pt)
        ? { payloadType: pt, ...STATIC_PAYLOAD_TYPES[pt] }
        : { payloadType: pt, encoding: "", clockRate: 0 });
    const encoding = map.encoding.toUpperCase();
    const fmtp = fmtpOf(m, pt);
    const control = attributeOf(m.attributes, SdpAttr.Control);
    const track = {
      media: m.media,
      payloadType: pt,
      encoding,
      clockRate: map.clockRate,
      ...(map.channels !== undefined && { channels: map.channels }),
      // RFC 2326 C.1.1: a media section without control is the session's URL.
      control: control === undefined ? root : resolveControl(root, control),
      fmtp,
    };
    if (m.media === "video" && encoding === RtpFormat.H264.encoding) {
      return { ...track, codec: h264Params(fmtp) };
    }
    if (m.media === "audio" && encoding === RtpFormat.Mpeg4Generic.encoding) {
      const aac = aacParams(fmtp);
      if (aac) return { ...track, codec: aac };
    }
    return track;
  });
}

function h264Params(fmtp: ReadonlyMap<string, string>): H264Params {
  const modeText = fmtp.get("packetization-mode") ?? "0";
  if (!/^[0-2]$/.test(modeText)) {
    throw bad(`current packetization-mode is ${quote(modeText)}, expected 0, 1 or 2`);
  }
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  const sprop = fmtp.get("sprop-parameter-sets");
  if (sprop) {
    const sets = sprop.split(",").filter((s) => s !== "");
    if (sets.length > MAX_SPROP_SETS) {
      throw bad(`current sprop-parameter-sets has ${sets.length} sets, limit ${MAX_SPROP_SETS}`);
    }
    for (const s of sets) {
      let nal: Uint8Array;
      try {
        nal = Uint8Array.from(atob(s.trim()), (c) => c.charCodeAt(0));
      } catch (e) {
        throw bad(`current sprop-parameter-sets entry ${quote(s)} is not base64`, e);
      }
      if (nal.length === 0) continue;
      const type = nalUnitType(nal[0]);
      if (type === NalUnitType.Sps) sps.push(nal);
      else if (type === NalUnitType.Pps) pps.push(nal);
    }
  }
  const profileLevelId = fmtp.get("profile-level-id");
  let sequenceHeader: Uint8Array | undefined;
  if (sps.length > 0) {
    try {
      sequenceHeader = avcSequenceHeaderBody(buildAvcConfig({ sps, pps }));
    } catch (e) {
      throw bad(`current sprop-parameter-sets cannot make an AVC configuration (${(e as Error).message})`, e);
    }
  }
  return {
    codec: "H264",
    packetizationMode: Number(modeText),
    ...(profileLevelId !== undefined && { profileLevelId }),
    sps,
    pps,
    ...(sequenceHeader && { sequenceHeader }),
  };
}

/** AAC parameters, or undefined for an MPEG4-GENERIC stream that is not AAC-hbr/lbr with a config. */
function aacParams(fmtp: ReadonlyMap<string, string>): AacParams | undefined {
  const mode = fmtp.get("mode") ?? "";
  const config = fmtp.get("config");
  if (!/^aac-(hbr|lbr)$/i.test(mode) || config === undefined) return undefined;
  if (config.length > 2 * MAX_AAC_CONFIG_BYTES) {
    throw bad(`current AAC config is ${config.length / 2} bytes, limit ${MAX_AAC_CONFIG_BYTES}`);
  }
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(config)) {
    throw bad(`current AAC config is ${quote(config)}, expected hex`);
  }
  const bytes = Uint8Array.from(config.match(/../g)!, (h) => parseInt(h, 16));
  try {
    parseAudioSpecificConfig(bytes);
  } catch (e) {
    throw bad(`current AAC config ${config} is not an AudioSpecificConfig`, e);
  }
  const int = (name: string, fallback: number) => {
    const v = fmtp.get(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,2}$/.test(v) || Number(v) > 32) throw bad(`current ${name} is ${quote(v)}, expected 0..32`);
    return Number(v);
  };
  const hbr = /hbr/i.test(mode);
  return {
    codec: "AAC",
    mode,
    // RFC 3640 3.3.5, 3.3.6: the modes fix these; a writer may still say them.
    sizeLength: int("sizelength", hbr ? AacHbr.SizeLength : 6),
    indexLength: int("indexlength", hbr ? AacHbr.IndexLength : 2),
    indexDeltaLength: int("indexdeltalength", hbr ? AacHbr.IndexDeltaLength : 2),
    config: bytes,
    sequenceHeader: aacBody(AacPacketType.SequenceHeader, bytes),
  };
}
