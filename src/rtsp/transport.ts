/**
 * The Transport header (RFC 2326 12.39): a client's SETUP lists the transports
 * it can take, most preferred first; the server picks one and answers with it
 * filled in (its own ports, or the interleaved channels, and the SSRC).
 *
 * ```
 * Transport      = "Transport" ":" 1#transport-spec
 * transport-spec = transport-protocol/profile[/lower-transport] *parameter
 * parameter      = ( "unicast" | "multicast" ) | ";" "destination" [ "=" address ]
 *                | ";" "interleaved" "=" channel [ "-" channel ] | ";" "append"
 *                | ";" "ttl" "=" ttl | ";" "layers" "=" 1*DIGIT
 *                | ";" "port" "=" port [ "-" port ] | ";" "client_port" "=" port [ "-" port ]
 *                | ";" "server_port" "=" port [ "-" port ] | ";" "ssrc" "=" ssrc
 *                | ";" "mode" = <"> 1#mode <">
 * ```
 *
 * Read as real clients write it: `RTP/AVP` and `RTP/AVP/UDP` are the same;
 * names and the protocol are matched without case; `mode=record`,
 * `mode="RECORD"` and `mode=receive` (ffmpeg's listen mode answers so, from
 * RFC 2326's drafts) all mean RECORD; a single channel or port `n` means
 * `n-(n+1)` (RTP on the even one, RTCP on the next, RFC 3550 11); unknown
 * parameters are skipped. A spec with no unicast/multicast word is taken as
 * unicast by `chooseTransport` (RFC 2326 says multicast by default, but no
 * client that leaves it out means that). Malformed values throw RtspError 400.
 *
 * The server never sends to a `destination` other than the client's own
 * address (RFC 2326 15.6's warning); this file only reads it.
 *
 * @module
 */
import { quote } from "./headers.ts";
import { RtspError, RtspStatus } from "./status.ts";

/** lower-transport (12.39). */
export const LowerTransport = {
  /** RTP over UDP: `client_port` and `server_port`. */
  Udp: "UDP",
  /** RTP interleaved on the RTSP connection (10.12): `interleaved` channels. */
  Tcp: "TCP",
} as const;
export type LowerTransport = typeof LowerTransport[keyof typeof LowerTransport];

/** mode (12.39): the methods the session is for; PLAY by default. */
export const TransportMode = {
  Play: "PLAY",
  Record: "RECORD",
} as const;
export type TransportMode = typeof TransportMode[keyof typeof TransportMode];

/** unicast | multicast (12.39). */
export const Delivery = {
  Unicast: "unicast",
  Multicast: "multicast",
} as const;
export type Delivery = typeof Delivery[keyof typeof Delivery];

/** The most transport-specs read from one header (clients send 1 to 3). */
export const MAX_TRANSPORT_SPECS = 16;

/** A pair of ports or channels: RTP, then RTCP. */
export type PortPair = readonly [number, number];

/** One transport-spec. */
export interface TransportSpec {
  /** transport-protocol, upper case: "RTP" (anything else is never chosen). */
  readonly protocol: string;
  /** profile, upper case: "AVP" (AVPF, SAVP... are never chosen). */
  readonly profile: string;
  readonly lower: LowerTransport;
  /** As the client said; absent when it said neither. */
  readonly delivery?: Delivery;
  readonly destination?: string;
  readonly source?: string;
  /** interleaved=: the RTP and RTCP channels on the RTSP connection (0..255). */
  readonly interleaved?: PortPair;
  /** client_port=: where the client receives (PLAY) or sends from (RECORD). */
  readonly clientPort?: PortPair;
  /** server_port=: the server's pair, in its answer. */
  readonly serverPort?: PortPair;
  /** port=: a multicast pair. */
  readonly port?: PortPair;
  /** ttl= (multicast), 0..255. */
  readonly ttl?: number;
  /** ssrc=, a 32-bit number. */
  readonly ssrc?: number;
  /** mode=: upper case, `receive` read as RECORD; absent means PLAY. */
  readonly modes?: readonly string[];
  readonly append?: boolean;
  readonly layers?: number;
}

/** What a server offers for one SETUP. */
export interface TransportSupport {
  /** The lower transports it takes; the client's order picks among them. */
  readonly lower: readonly LowerTransport[];
  /** What the session is for: PLAY after DESCRIBE, RECORD after ANNOUNCE. */
  readonly mode: TransportMode;
}

/** The outcome of `chooseTransport`. */
export type TransportChoice =
  | { readonly ok: true; readonly spec: TransportSpec }
  | {
    readonly ok: false;
    /** 461 Unsupported transport: what the server answers. */
    readonly status: typeof RtspStatus.UnsupportedTransport;
    /** Why each spec was passed over, for the log. */
    readonly reason: string;
  };

function bad(detail: string): RtspError {
  return new RtspError(RtspStatus.BadRequest, "rtsp_transport", `Cannot read Transport: ${detail}`);
}

/** Splits at `sep` outside double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  if (quoted) throw bad(`current value ${quote(text)} has an unclosed quote`);
  out.push(text.slice(from));
  return out;
}

/** `n` or `a-b` within 0..max (min..max for the first); `n` alone means n, n+1. */
function pair(name: string, value: string, min: number, max: number): PortPair {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? (m[2] === undefined ? a + 1 : Number(m[2])) : NaN;
  if (!m || a < min || a > max || b < min || b > max) {
    throw bad(`current ${name} is ${quote(value)}, expected ${min}..${max} or a pair of them`);
  }
  return [a, b];
}

function uint(name: string, value: string, digits: RegExp, max: number, radix = 10): number {
  const n = digits.test(value) ? parseInt(value, radix) : NaN;
  if (!(n >= 0 && n <= max)) throw bad(`current ${name} is ${quote(value)}`);
  return n;
}

/** Reads one transport-spec. */
function parseSpec(text: string): TransportSpec {
  const [head, ...params] = splitOutsideQuotes(text.trim(), ";");
  const parts = head.trim().toUpperCase().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Z0-9_\-.]+$/.test(p))) {
    throw bad(`current transport is ${quote(head)}, expected RTP/AVP[/UDP|/TCP]`);
  }
  const lower = parts[2] ?? LowerTransport.Udp;
  if (lower !== LowerTransport.Udp && lower !== LowerTransport.Tcp) {
    throw bad(`current lower transport is ${quote(lower)}, expected UDP or TCP`);
  }
  const spec: { -readonly [K in keyof TransportSpec]: TransportSpec[K] } = {
    protocol: parts[0],
    profile: parts[1],
    lower,
  };
  for (const raw of params) {
    const param = raw.trim();
    if (param === "") continue;
    const eq = param.indexOf("=");
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? "" : param.slice(eq + 1).trim();
    switch (name) {
      case Delivery.Unicast:
      case Delivery.Multicast:
        spec.delivery = name;
        break;
      case "destination":
        if (value !== "") spec.destination = host(name, value);
        break;
      case "source":
        spec.source = host(name, value);
        break;
      case "interleaved":
        spec.interleaved = pair(name, value, 0, 255);
        break;
      case "client_port":
        spec.clientPort = pair(name, value, 1, 65535);
        break;
      case "server_port":
        spec.serverPort = pair(name, value, 1, 65535);
        break;
      case "port":
        spec.port = pair(name, value, 1, 65535);
        break;
      case "ttl":
        spec.ttl = uint(name, value, /^\d{1,3}$/, 255);
        break;
      case "layers":
        spec.layers = uint(name, value, /^\d{1,3}$/, 255);
        break;
      case "ssrc":
        // 12.39 says 8 hex digits; some clients drop leading zeros.
        spec.ssrc = uint(name, value, /^[0-9A-Fa-f]{1,8}$/, 0xffff_ffff, 16);
        break;
      case "mode":
        spec.modes = modes(value);
        break;
      case "append":
        spec.append = true;
        break;
      default:
        break; // unknown parameters are skipped
    }
  }
  return spec;
}

function host(name: string, value: string): string {
  if (!/^[\w.:\-\[\]%]{1,255}$/.test(value)) throw bad(`current ${name} is ${quote(value)}`);
  return value;
}

/** mode = <"> 1#mode <"> | mode; upper case, RECEIVE read as RECORD. */
function modes(value: string): string[] {
  const unquoted = value.startsWith('"') && value.endsWith('"') && value.length >= 2
    ? value.slice(1, -1)
    : value;
  const list = unquoted.split(",").map((m) => m.trim().toUpperCase()).filter((m) => m !== "");
  if (list.length === 0 || list.some((m) => !/^[A-Z_]+$/.test(m))) {
    throw bad(`current mode is ${quote(value)}`);
  }
  return list.map((m) => (m === "RECEIVE" ? TransportMode.Record : m));
}

/** Reads a Transport value into its specs, in the client's order. Malformed: RtspError 400. */
export function parseTransport(value: string): TransportSpec[] {
  const specs = splitOutsideQuotes(value, ",").map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length === 0) throw bad("current value is empty");
  if (specs.length > MAX_TRANSPORT_SPECS) {
    throw bad(`current value has ${specs.length} transports, limit ${MAX_TRANSPORT_SPECS}`);
  }
  return specs.map(parseSpec);
}

/** Why a spec cannot be used, or undefined when it can. */
function unsupported(spec: TransportSpec, support: TransportSupport): string | undefined {
  const name = `${spec.protocol}/${spec.profile}/${spec.lower}`;
  if (spec.protocol !== "RTP" || spec.profile !== "AVP") return `${name}: only RTP/AVP`;
  if (!support.lower.includes(spec.lower)) return `${name}: ${spec.lower} is not offered`;
  if (spec.delivery === Delivery.Multicast) return `${name}: multicast is not offered`;
  const modes = spec.modes ?? [TransportMode.Play];
  if (!modes.includes(support.mode)) {
    return `${name}: mode ${modes.join(",")}, this session is ${support.mode}`;
  }
  if (spec.lower === LowerTransport.Udp && !spec.clientPort) return `${name}: no client_port`;
  return undefined;
}

/**
 * Reads a client's Transport value and picks its first spec the server
 * supports (RTP/AVP, a lower transport in `support.lower`, unicast, the
 * session's mode, and for UDP a client_port pair). None: `{ ok: false,
 * status: 461 }`. A malformed value throws RtspError 400.
 */
export function chooseTransport(value: string, support: TransportSupport): TransportChoice {
  const reasons: string[] = [];
  for (const spec of parseTransport(value)) {
    const why = unsupported(spec, support);
    if (why === undefined) return { ok: true, spec };
    reasons.push(why);
  }
  return { ok: false, status: RtspStatus.UnsupportedTransport, reason: reasons.join("; ") };
}

/**
 * Writes one transport-spec: what a server answers (the chosen spec with its
 * `serverPort` or `interleaved`, and `ssrc`), or what a client asks. UDP is
 * written `RTP/AVP` (12.39: UDP is the default), TCP `RTP/AVP/TCP`; the SSRC as
 * 8 hex digits; modes quoted.
 */
export function formatTransport(spec: TransportSpec): string {
  const out = [
    spec.lower === LowerTransport.Tcp
      ? `${spec.protocol}/${spec.profile}/TCP`
      : `${spec.protocol}/${spec.profile}`,
  ];
  out.push(spec.delivery ?? Delivery.Unicast);
  const pairText = (p: PortPair) => `${p[0]}-${p[1]}`;
  if (spec.destination !== undefined) out.push(`destination=${spec.destination}`);
  if (spec.source !== undefined) out.push(`source=${spec.source}`);
  if (spec.interleaved) out.push(`interleaved=${pairText(spec.interleaved)}`);
  if (spec.clientPort) out.push(`client_port=${pairText(spec.clientPort)}`);
  if (spec.serverPort) out.push(`server_port=${pairText(spec.serverPort)}`);
  if (spec.port) out.push(`port=${pairText(spec.port)}`);
  if (spec.ttl !== undefined) out.push(`ttl=${spec.ttl}`);
  if (spec.layers !== undefined) out.push(`layers=${spec.layers}`);
  if (spec.ssrc !== undefined) {
    if (!Number.isInteger(spec.ssrc) || spec.ssrc < 0 || spec.ssrc > 0xffff_ffff) {
      throw new RangeError(`Cannot write Transport: current ssrc ${spec.ssrc} is not 32 bits`);
    }
    out.push(`ssrc=${spec.ssrc.toString(16).toUpperCase().padStart(8, "0")}`);
  }
  if (spec.modes) out.push(`mode="${spec.modes.join(",")}"`);
  if (spec.append) out.push("append");
  return out.join(";");
}
