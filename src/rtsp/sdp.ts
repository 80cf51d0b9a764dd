/**
 * SDP, the Session Description Protocol (RFC 4566), as RTSP uses it: the body
 * of a DESCRIBE answer (what the server offers) and of an ANNOUNCE (what a
 * publisher will send). One structure both ways: `writeSdp` writes it,
 * `parseSdp` reads it (bounded), and the RTP-specific attributes (rtpmap,
 * fmtp, control, range; RFC 4566 6, RFC 2326 C.1) are read and written by the
 * helpers at the end. What each codec puts in them is ./sdp_media.ts.
 *
 * Reading is lenient where real writers differ: LF or CRLF line ends, blank
 * lines and trailing spaces skipped, unknown line types and attributes kept
 * or ignored, fmtp parameters separated by `;` with or without a space
 * (ffmpeg writes `packetization-mode=1; sprop-parameter-sets=...`) and their
 * names matched without case (RFC 4566 6: format parameters are the media
 * type's, and those of RFC 6184 and RFC 3640 are case-insensitive). It is
 * strict on shape: the first line is `v=0` and every line is `x=...`; past a
 * bound or malformed, RtspError 400 (code "sdp").
 *
 * @module
 */
import { quote } from "./headers.ts";
import { RtspError, RtspStatus } from "./status.ts";

/** The largest description read, in bytes (ffmpeg's for H.264 and AAC is about 500). */
export const MAX_SDP_BYTES = 16 * 1024;
/** The most lines read. */
export const MAX_SDP_LINES = 512;
/** The most media sections (m= lines) read. */
export const MAX_SDP_MEDIA = 16;
/** The most fmtp parameters read from one a=fmtp line. */
export const MAX_FMTP_PARAMS = 32;

/** o= (RFC 4566 5.2). */
export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: string;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

/** c= (5.7). */
export interface SdpConnection {
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

/** a=name or a=name:value (5.13). */
export interface SdpAttribute {
  readonly name: string;
  readonly value?: string;
}

/** One media section: m= (5.14) and the lines under it. */
export interface SdpMedia {
  /** "video", "audio", "application", ... */
  readonly media: string;
  /** 0 in RTSP: the transport is agreed in SETUP. */
  readonly port: number;
  /** "RTP/AVP". */
  readonly proto: string;
  /** The format list: RTP payload types, as text. */
  readonly formats: readonly string[];
  readonly connection?: SdpConnection;
  /** b= lines as written ("AS:96"). */
  readonly bandwidths?: readonly string[];
  readonly attributes: readonly SdpAttribute[];
}

/** A whole description. */
export interface SessionDescription {
  readonly origin: SdpOrigin;
  /** s= (5.3); "-" or a name. */
  readonly sessionName: string;
  readonly information?: string;
  readonly connection?: SdpConnection;
  readonly bandwidths?: readonly string[];
  /** t= (5.9); "0 0" for a session with no set time, as RTSP's are. */
  readonly timing: string;
  readonly attributes: readonly SdpAttribute[];
  readonly media: readonly SdpMedia[];
}

/** SDP attribute names Sluice reads or writes. */
export const SdpAttr = {
  /** RFC 2326 C.1.1: the URL (relative or absolute) to SETUP a track, or `*` for the aggregate. */
  Control: "control",
  /** RFC 2326 C.1.5: the range, `npt=0-` for live. */
  Range: "range",
  /** RFC 4566 6: payload type to encoding name, clock rate and channels. */
  Rtpmap: "rtpmap",
  /** RFC 4566 6: the format's parameters. */
  Fmtp: "fmtp",
  /** RFC 4566 6: the tool that wrote the description. */
  Tool: "tool",
} as const;

function bad(detail: string): RtspError {
  return new RtspError(RtspStatus.BadRequest, "sdp", `Cannot read SDP: ${detail}`);
}

const dec = new TextDecoder();

/** Reads a session description (see the module doc for what is lenient and what is not). */
export function parseSdp(input: string | Uint8Array): SessionDescription {
  const size = typeof input === "string" ? input.length : input.length;
  if (size > MAX_SDP_BYTES) throw bad(`current size ${size} bytes, limit ${MAX_SDP_BYTES}`);
  const text = typeof input === "string" ? input : dec.decode(input);
  const lines = text.split("\n").map((l) => l.replace(/[\r\s]+$/, "")).filter((l) => l !== "");
  if (lines.length > MAX_SDP_LINES) throw bad(`current line count ${lines.length}, limit ${MAX_SDP_LINES}`);
  if (lines[0] !== "v=0") throw bad(`current first line is ${quote(lines[0] ?? "")}, expected v=0`);
  let origin: SdpOrigin = {
    username: "-",
    sessionId: "0",
    sessionVersion: "0",
    netType: "IN",
    addrType: "IP4",
    address: "0.0.0.0",
  };
  let sessionName = "";
  let information: string | undefined;
  let connection: SdpConnection | undefined;
  let timing = "0 0";
  const bandwidths: string[] = [];
  const attributes: SdpAttribute[] = [];
  const media: {
    media: string;
    port: number;
    proto: string;
    formats: string[];
    connection?: SdpConnection;
    bandwidths: string[];
    attributes: SdpAttribute[];
  }[] = [];
  for (const line of lines.slice(1)) {
    if (!/^[a-z]=/.test(line)) throw bad(`current line ${quote(line)} is not type=value`);
    const type = line[0];
    const value = line.slice(2);
    const current = media[media.length - 1];
    switch (type) {
      case "o": {
        const f = value.split(" ");
        if (f.length !== 6) throw bad(`current o= line ${quote(line)} does not have 6 fields`);
        origin = {
          username: f[0],
          sessionId: f[1],
          sessionVersion: f[2],
          netType: f[3],
          addrType: f[4],
          address: f[5],
        };
        break;
      }
      case "s":
        sessionName = value;
        break;
      case "i":
        if (!current) information = value;
        break;
      case "c": {
        const f = value.split(" ");
        if (f.length !== 3) throw bad(`current c= line ${quote(line)} does not have 3 fields`);
        const c = { netType: f[0], addrType: f[1], address: f[2] };
        if (current) current.connection = c;
        else connection = c;
        break;
      }
      case "b":
        (current ? current.bandwidths : bandwidths).push(value);
        break;
      case "t":
        timing = value;
        break;
      case "a": {
        const colon = value.indexOf(":");
        const a = colon < 0
          ? { name: value }
          : { name: value.slice(0, colon), value: value.slice(colon + 1) };
        (current ? current.attributes : attributes).push(a);
        break;
      }
      case "m": {
        if (media.length === MAX_SDP_MEDIA) {
          throw bad(`current media count over ${MAX_SDP_MEDIA}, limit ${MAX_SDP_MEDIA}`);
        }
        const f = value.split(" ");
        const port = /^\d{1,5}(\/\d+)?$/.test(f[1] ?? "") ? parseInt(f[1], 10) : NaN;
        if (f.length < 4 || !(port >= 0 && port <= 65535) || f[0] === "") {
          throw bad(`current m= line ${quote(line)} is not "media port proto fmt..."`);
        }
        media.push({ media: f[0], port, proto: f[2], formats: f.slice(3), bandwidths: [], attributes: [] });
        break;
      }
      default:
        break; // u= e= p= z= k= r=: nothing RTSP needs
    }
  }
  return {
    origin,
    sessionName,
    ...(information !== undefined && { information }),
    ...(connection && { connection }),
    ...(bandwidths.length > 0 && { bandwidths }),
    timing,
    attributes,
    media: media.map((m) => ({
      media: m.media,
      port: m.port,
      proto: m.proto,
      formats: m.formats,
      ...(m.connection && { connection: m.connection }),
      ...(m.bandwidths.length > 0 && { bandwidths: m.bandwidths }),
      attributes: m.attributes,
    })),
  };
}

/** Writes a description, lines in RFC 4566 5's order, each ending in CRLF. */
export function writeSdp(sdp: SessionDescription): string {
  const lines: string[] = [];
  const o = sdp.origin;
  lines.push("v=0");
  lines.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  lines.push(`s=${sdp.sessionName === "" ? "-" : sdp.sessionName}`); // 5.3: s= is never empty
  if (sdp.information !== undefined) lines.push(`i=${sdp.information}`);
  if (sdp.connection) lines.push(connectionLine(sdp.connection));
  for (const b of sdp.bandwidths ?? []) lines.push(`b=${b}`);
  lines.push(`t=${sdp.timing}`);
  for (const a of sdp.attributes) lines.push(attributeLine(a));
  for (const m of sdp.media) {
    lines.push(`m=${m.media} ${m.port} ${m.proto} ${m.formats.join(" ")}`);
    if (m.connection) lines.push(connectionLine(m.connection));
    for (const b of m.bandwidths ?? []) lines.push(`b=${b}`);
    for (const a of m.attributes) lines.push(attributeLine(a));
  }
  for (const l of lines) {
    if (/[\r\n\0]/.test(l)) {
      throw new TypeError(`Cannot write SDP: current line ${quote(l)} has a line break`);
    }
  }
  return lines.map((l) => `${l}\r\n`).join("");
}

function connectionLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function attributeLine(a: SdpAttribute): string {
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

/** The value of the first attribute `name` (a=name:value), or undefined. */
export function attributeOf(attributes: readonly SdpAttribute[], name: string): string | undefined {
  return attributes.find((a) => a.name === name)?.value;
}

// ---------------------------------------------------------------------------------------------
// rtpmap and fmtp (RFC 4566 6)

/** a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]. */
export interface RtpMap {
  readonly payloadType: number;
  /** As written ("H264", "MPEG4-GENERIC"); compare without case. */
  readonly encoding: string;
  readonly clockRate: number;
  /** For audio, the channel count (the encoding parameters). */
  readonly channels?: number;
}

/** The rtpmap of payload type `pt` in a media section, or undefined. */
export function rtpmapOf(media: SdpMedia, pt: number): RtpMap | undefined {
  for (const a of media.attributes) {
    if (a.name !== SdpAttr.Rtpmap || a.value === undefined) continue;
    const m = /^(\d{1,3})\s+([^/\s]+)\/(\d{1,10})(?:\/(\d{1,3}))?\s*$/.exec(a.value);
    if (!m) throw bad(`current rtpmap ${quote(a.value)} is not "pt encoding/rate[/channels]"`);
    if (Number(m[1]) !== pt) continue;
    return {
      payloadType: pt,
      encoding: m[2],
      clockRate: Number(m[3]),
      ...(m[4] !== undefined && { channels: Number(m[4]) }),
    };
  }
  return undefined;
}

/** The a=rtpmap value for `map`. */
export function formatRtpmap(map: RtpMap): string {
  return `${map.payloadType} ${map.encoding}/${map.clockRate}${
    map.channels === undefined ? "" : `/${map.channels}`
  }`;
}

/**
 * The fmtp parameters of payload type `pt` in a media section (names lower
 * case, first of a repeated name kept), or an empty map when it has none.
 */
export function fmtpOf(media: SdpMedia, pt: number): ReadonlyMap<string, string> {
  for (const a of media.attributes) {
    if (a.name !== SdpAttr.Fmtp || a.value === undefined) continue;
    const m = /^(\d{1,3})\s+(.*)$/.exec(a.value);
    if (!m) throw bad(`current fmtp ${quote(a.value)} is not "pt parameters"`);
    if (Number(m[1]) === pt) return parseFmtpParameters(m[2]);
  }
  return new Map();
}

/** `name=value;name=value` (spaces around `;` allowed) as a map with lower-case names. */
export function parseFmtpParameters(text: string): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(";").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length > MAX_FMTP_PARAMS) {
    throw bad(`current fmtp has ${parts.length} parameters, limit ${MAX_FMTP_PARAMS}`);
  }
  for (const p of parts) {
    const eq = p.indexOf("=");
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? "" : p.slice(eq + 1).trim();
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/** The a=fmtp value: the payload type, then `name=value` joined with `;`. */
export function formatFmtp(pt: number, params: readonly (readonly [string, string])[]): string {
  return `${pt} ${params.map(([k, v]) => `${k}=${v}`).join(";")}`;
}

// ---------------------------------------------------------------------------------------------
// control URLs (RFC 2326 C.1.1)

/**
 * A track's control URL made absolute: `*` is the base itself; an absolute
 * URL (`rtsp://...`) stays; a relative one is appended to the base with one
 * "/" between, as ffmpeg, live555 and GStreamer do it (not RFC 3986
 * resolution, which would replace the base's last segment: the reason servers
 * send a Content-Base ending in "/"). The base is the Content-Base, else the
 * request URL (DESCRIBE's, or ANNOUNCE's for a publish).
 */
export function resolveControl(base: string, control: string): string {
  if (control === "*" || control === "") return base;
  if (/^[a-z][a-z0-9+.\-]*:\/\//i.test(control)) return control;
  return base.endsWith("/") ? `${base}${control}` : `${base}/${control}`;
}
