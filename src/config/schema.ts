/**
 * The configuration schema: one table, `SETTINGS`, with every setting of
 * `Config` (its path, type, unit, default, allowed range or values, help and
 * command-line flags). The defaults (`defaultConfig()`), the validation
 * (`validateConfig()`), the CLI parser (`parseCliArgs()`) and `--help` are all
 * made from it, so a setting is added here and nowhere else.
 *
 * Rules every setting follows:
 * - a string is never empty; a `pattern` narrows it further;
 * - `min` and `max` are inclusive, save a `min` marked `minExclusive`;
 * - a timer's delay is at most `TIMER_MAX_MS` (a longer `setTimeout` fires at once);
 * - a flag on a field of a list setting (`--source-fps`) applies to every entry the command line adds;
 * - a `secret` (a credential) defaults to null and is never shown: `--help` prints no value of it, a
 *   validation message names the setting but not the value, and `redactConfig()` hides it wherever a
 *   configuration is printed.
 *
 * @module
 */
import { aclRuleProblem, MAX_ACL_RULES } from "./acl.ts";
import { LogLevel } from "../log.ts";
import { abi } from "../wasm/module.ts";

/** The kinds of value a setting holds. */
export const SettingType = {
  /** A whole number. */
  Integer: "integer",
  /** A finite number. */
  Number: "number",
  /** true or false; its flag takes no value and sets true, or its `sets` (`--no-loopback-open`). */
  Boolean: "boolean",
  /** A non-empty string. */
  String: "string",
  /** One of the setting's `values`. */
  Enum: "enum",
  /** A file system path (non-empty), or null: the feature is off. */
  NullablePath: "nullable path",
  /** A non-empty string, or null: not set. */
  NullableString: "nullable string",
  /** A list of entries (`sources`, `feeds`, ...); each entry's fields are the setting's `fields`. */
  List: "list",
  /** A list of non-empty strings (an entry's `acl`, `args`); each is checked by the setting's `item`. */
  StringList: "string list",
} as const;
export type SettingType = typeof SettingType[keyof typeof SettingType];

/** The units a numeric setting is given in. */
export const Unit = {
  Bytes: "bytes",
  Ms: "ms",
  /** Frames per second. */
  Fps: "fps",
  /** Kilobits per second. */
  Kbps: "kbit/s",
} as const;
export type Unit = typeof Unit[keyof typeof Unit];

/** The sections of the configuration, by concern, with the line `--help` heads each one with. */
export const SECTIONS = {
  rtmp: "RTMP listener and sessions",
  rtsp:
    "RTSP listener: live streams to RTSP players, RTP on the RTSP connection (TCP interleaved) or over UDP",
  http: "HTTP listener (HTTP-FLV, WebSocket-FLV, push ingest, VOD, the API)",
  hub: "Stream hub: publish rules, waiting players, caches",
  player: "Per-player delivery bounds",
  ingest: "HTTP and WebSocket push ingest",
  vod: "Files served on demand",
  hls:
    "HLS and Low-Latency HLS (/{app}/{stream}.m3u8) and MPEG-TS over HTTP (/{app}/{stream}.ts), from memory",
  admission: "The admission gate (who may publish and play)",
  admin: "The admin dashboard, JSON API and metrics: credentials and bounds",
  auth: "Who may publish and play: stream keys, signed URLs, JWT, HTTP callbacks (see rules for patterns)",
  tls: "TLS: RTMPS and HTTPS listeners, from a certificate and key file",
  limits: "Limits on players, connections, publishers and outgoing bandwidth (0: no limit)",
  log: "Logging",
  sources: "Files played out as live streams",
  feeds: "Feeds: streams written into a ring buffer file as they arrive (time-shift), with a push path",
  streams: "Streams served at a path of their own: a stream (or a feed) in a format, or a file",
  transcodes: "Streams made by ffmpeg from another stream (renditions); needs --allow-run",
  rules:
    "Access rules per app/stream pattern: the first that matches a publish or play decides what it needs",
  jobs: "How transcoding jobs run",
} as const;
export type SectionName = keyof typeof SECTIONS;

/** A command-line flag of a setting. */
export interface Flag {
  /** The flag with its dashes: "--chunk-size". */
  readonly name: string;
  /** The value's placeholder in `--help` ("N", "ADDR"); a Boolean setting's flag has none. */
  readonly value?: string;
  /** The value a Boolean setting's flag sets; true unless given (`--no-loopback-open` sets false). */
  readonly sets?: boolean;
  /** Further settings that get the same value (`--host` sets rtmp.host and http.host). */
  readonly alsoSets?: readonly string[];
  /** Help for this flag when it is not the setting's. */
  readonly help?: string;
  /** A list's flag (`--source KEY=PATH`): the field the value after "=" goes in (default "path"). */
  readonly field?: string;
  /** A `sources` flag: the `loop` of each entry it adds. */
  readonly loop?: boolean;
}

/** One setting: a leaf of `Config`, or a field of a list setting's entries. */
export interface Setting {
  /** Where it lives: "rtmp.chunkSize"; a field of a list's entries is named alone ("fps"). */
  readonly path: string;
  readonly type: SettingType;
  readonly unit?: Unit;
  /** The default; undefined for a list entry's field that has none (it must be given, or is `optional`). */
  readonly default: number | string | boolean | null | readonly never[] | undefined;
  /** `--help`'s words for the default where the value alone says too little. */
  readonly defaultText?: string;
  /** The smallest value allowed (inclusive unless `minExclusive`). */
  readonly min?: number;
  /** The value `min` itself is not allowed. */
  readonly minExclusive?: boolean;
  /** The largest value allowed (inclusive). */
  readonly max?: number;
  /** An Enum's values. */
  readonly values?: readonly string[];
  /** The form a String must have, and its name in messages ("an app/name key"). */
  readonly pattern?: { readonly regex: RegExp; readonly what: string };
  /** A field that may be left out (undefined). */
  readonly optional?: boolean;
  /** A credential: its default is null, and no help text, message or printed configuration shows it. */
  readonly secret?: boolean;
  /**
   * A change takes effect on a reload (SIGHUP re-reading `--config`) without a restart and without
   * dropping a client; a setting without it (a listener's host or port, the RTMP wire settings) keeps its
   * running value until the next start (`src/config/reload.ts`).
   */
  readonly live?: boolean;
  /** One line, lower case, no final period: what it does. */
  readonly help: string;
  readonly flags?: readonly Flag[];
  /** A list setting's entry fields. */
  readonly fields?: readonly Setting[];
  /** A list setting: the field no two entries may share (default "key"). */
  readonly unique?: string;
  /** A StringList: the problem of one item, or undefined when it is fine. */
  readonly item?: (text: string) => string | undefined;
  /** A list entry's field: the value shown in the example entry of `--print-config`. */
  readonly example?: unknown;
}

/** setTimeout's longest delay: a signed 32-bit count of ms (HTML timers); a longer one fires at once. */
export const TIMER_MAX_MS = 2 ** 31 - 1;
/** The largest port number (a 16-bit field). */
const MAX_PORT = 0xffff;
/** The characters of a stream name or an app name, as the HTTP router matches them. */
const NAME = "[A-Za-z0-9_.\\-~]+";
/** A stream key: `app/name`. */
export const STREAM_KEY: RegExp = new RegExp(`^${NAME}/${NAME}$`);
/** The least message or tag cap that keeps a live stream working: commands, metadata, small frames. */
const MIN_MEDIA_CAP = 64 * 1024;
/** FLV's DataSize is 24 bits (FLV spec v10.1, E.4.1). */
const MAX_FLV_TAG = 0xffffff;
/** The 32-bit window size field of Window Acknowledgement Size (RTMP 5.4.4). */
const MAX_U32 = 0xffffffff;

const MiB = 1024 * 1024;
/** A shared secret (stream key, signing secret, JWT HS256 secret): 8 to 256 printable characters. */
export const SHARED_SECRET: RegExp = /^[\x21-\x7e]{8,256}$/;
/** An http(s) URL of a callback. */
const CALLBACK_URL: RegExp = /^https?:\/\/[^\s]{1,2000}$/;
/** A rule's pattern: app/stream where `*` matches any run of name characters. */
export const STREAM_PATTERN: RegExp = /^[A-Za-z0-9_.\-~*]+\/[A-Za-z0-9_.\-~*]+$|^\*$/;
/** A path of one segment, as ffserver names its feeds and streams: "/feed1.ffm", "/live.flv". */
export const TOP_PATH: RegExp = new RegExp(`^/${NAME}$`);
/** The smallest feed ring file: its header block and 16 data blocks of 4,096 bytes. */
export const MIN_RING_BYTES = 17 * 4096;
/** A day, in ms: the longest preroll. */
const DAY_MS = 24 * 3600 * 1000;
/** The most items of a string list (address rules, ffmpeg arguments). */
const MAX_LIST_ITEMS = MAX_ACL_RULES;

/** The problem of an address rule (`allow 10.0.0.0/8`), or undefined. */
const aclItem = (text: string): string | undefined => aclRuleProblem(text);
/** The problem of a trusted proxy (an address or a CIDR block, as an address rule takes it), or undefined. */
const proxyItem = (text: string): string | undefined =>
  /\s/.test(text.trim()) ? "is one address or CIDR block" : aclRuleProblem(`allow ${text}`);
/** An `acl` field: address rules in order (`src/config/acl.ts`). */
function aclField(who: string): Setting {
  return {
    path: "acl",
    type: SettingType.StringList,
    default: [],
    max: MAX_LIST_ITEMS,
    item: aclItem,
    help: `who may ${who}: address rules tried in order, "allow|deny ADDR[/BITS]", "allow|deny FIRST LAST" ` +
      `or "allow|deny all"; the first that matches decides, none matching means the opposite of the last ` +
      `rule; empty: anyone`,
    example: ["allow 127.0.0.1"],
  };
}

/**
 * An admin bearer token: 16 to 1,024 characters of an RFC 6750 token (b64token: letters, digits,
 * `-._~+/`, then up to two `=` of padding), so it travels in `Authorization: Bearer ...` as it is.
 */
export const ADMIN_TOKEN: RegExp = /^[A-Za-z0-9\-._~+/]{16,1024}={0,2}$/;
/**
 * A stored admin password: `pbkdf2-sha256$ITERATIONS$SALT$HASH`, made by `server.ts hash-password`
 * (`src/admin/password.ts`). ITERATIONS is 100,000 to 9,999,999; SALT is standard base64 of 16 to 64
 * bytes; HASH is standard base64 of the 32-byte PBKDF2-HMAC-SHA256 output. Groups: iterations, salt, hash.
 */
export const PASSWORD_HASH: RegExp =
  /^pbkdf2-sha256\$([1-9][0-9]{5,6})\$([A-Za-z0-9+/]{22,86}={0,2})\$([A-Za-z0-9+/]{43}=)$/;
/** An admin user name: 1 to 64 printable ASCII characters, no spaces. */
const ADMIN_USER = /^[\x21-\x7e]{1,64}$/;
/** An hour, in ms. */
const HOUR_MS = 3_600_000;

/** Every setting. The first segment of a path is its section (`SECTIONS`). */
export const SETTINGS = [
  // ---- rtmp
  {
    path: "rtmp.host",
    type: SettingType.String,
    default: "0.0.0.0",
    help: "address the RTMP listener binds",
    flags: [
      { name: "--host", value: "ADDR", alsoSets: ["http.host"], help: "address both listeners bind" },
      { name: "--rtmp-host", value: "ADDR" },
    ],
  },
  {
    path: "rtmp.port",
    type: SettingType.Integer,
    default: 1935,
    min: 0,
    max: MAX_PORT,
    help: "RTMP port; 0 picks a free port",
    flags: [{ name: "--rtmp-port", value: "N" }],
  },
  {
    path: "rtmp.chunkSize",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    default: 4096,
    // nginx-rtmp's least chunk size; the chunk writer's ceiling (abi.MAX_CHUNK_SIZE) is far above 64 KiB.
    min: 128,
    max: Math.min(65_536, abi.MAX_CHUNK_SIZE),
    help: "outgoing RTMP chunk size, the same for every player",
    flags: [{ name: "--chunk-size", value: "N" }],
  },
  {
    path: "rtmp.maxMessageLength",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    default: 8 * MiB,
    min: MIN_MEDIA_CAP,
    // The WASM demux's hard cap: the codec input region.
    max: abi.MAX_MESSAGE_LENGTH,
    help: "largest message a peer may send",
    flags: [{ name: "--max-message-bytes", value: "N" }],
  },
  {
    path: "rtmp.windowAckSize",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    default: 2_500_000,
    min: 1,
    max: MAX_U32,
    help: "Window Acknowledgement Size sent to peers",
    flags: [{ name: "--window-ack-size", value: "N" }],
  },
  {
    path: "rtmp.handshakeTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 10_000,
    min: 1,
    max: TIMER_MAX_MS,
    help: "time allowed for the handshake",
    flags: [{ name: "--handshake-timeout-ms", value: "N" }],
  },
  {
    path: "rtmp.startTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 15_000,
    min: 1,
    max: TIMER_MAX_MS,
    help: "time allowed from accept to a publish or play",
    flags: [{ name: "--start-timeout-ms", value: "N" }],
  },
  {
    path: "rtmp.idleTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 20_000,
    min: 1,
    max: TIMER_MAX_MS,
    help: "an RTMP publisher that sends no media for this long is closed",
    flags: [{ name: "--idle-timeout-ms", value: "N" }],
  },
  {
    path: "rtmp.maxConnections",
    type: SettingType.Integer,
    default: 2_000,
    min: 1,
    help: "most RTMP connections at once; more are refused at accept",
    flags: [{ name: "--max-connections", value: "N" }],
  },
  // ---- rtsp (RFC 2326; ffserver's RTSPPort)
  {
    path: "rtsp.enabled",
    type: SettingType.Boolean,
    default: true,
    help: "serve live streams to RTSP players at rtsp://host:port/{app}/{stream}",
    flags: [{ name: "--no-rtsp", sets: false }],
  },
  {
    path: "rtsp.host",
    type: SettingType.String,
    default: "0.0.0.0",
    help: "address the RTSP listener binds",
    flags: [{ name: "--rtsp-host", value: "ADDR" }],
  },
  {
    path: "rtsp.port",
    type: SettingType.Integer,
    // 8554: the unprivileged port MediaMTX, live555 and GStreamer's examples use (RFC 2326 3.2 names 554).
    default: 8554,
    min: 0,
    max: MAX_PORT,
    help: "RTSP port; 0 picks a free port",
    flags: [{ name: "--rtsp-port", value: "N" }],
  },
  {
    path: "rtsp.sessionTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    // RFC 2326 12.37: a session's default timeout is 60 s; the Session header's `;timeout=` says it.
    default: 60_000,
    min: 1_000,
    max: 86_400_000,
    help: "an RTSP connection that sends nothing for this long is closed (the Session header's timeout)",
    flags: [{ name: "--rtsp-session-timeout-ms", value: "N" }],
  },
  {
    path: "rtsp.mtu",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    // The RTP payload bound: 1400 keeps a packet with its headers under a 1500-byte Ethernet MTU.
    default: 1400,
    min: 64,
    max: 65_495,
    help: "largest RTP payload; larger NAL units are split into FU-A fragments",
    flags: [{ name: "--rtsp-mtu", value: "N" }],
  },
  {
    path: "rtsp.maxConnections",
    type: SettingType.Integer,
    default: 2_000,
    min: 1,
    help: "most RTSP connections at once; more are refused at accept",
    flags: [{ name: "--rtsp-max-connections", value: "N" }],
  },
  {
    path: "rtsp.udpPortFirst",
    type: SettingType.Integer,
    // RFC 2326 12.39 server_port: RTP on an even port, RTCP on the next (RFC 3550 11); 8000-8999 is
    // MediaMTX's and live555's habit. 0 (with udpPortLast 0): any free ports.
    default: 8000,
    min: 0,
    max: MAX_PORT,
    help:
      "first UDP port for RTP over UDP (server_port pairs); 0 with --rtsp-udp-port-last 0: any free ports",
    flags: [{ name: "--rtsp-udp-port-first", value: "N" }],
  },
  {
    path: "rtsp.udpPortLast",
    type: SettingType.Integer,
    default: 8999,
    min: 0,
    max: MAX_PORT,
    help:
      "last UDP port for RTP over UDP (an RTCP port at most); 0 with --rtsp-udp-port-first 0: any free ports",
    flags: [{ name: "--rtsp-udp-port-last", value: "N" }],
  },
  // ---- http
  {
    path: "http.host",
    type: SettingType.String,
    default: "0.0.0.0",
    help: "address the HTTP listener binds",
    flags: [{ name: "--http-host", value: "ADDR" }],
  },
  {
    path: "http.port",
    type: SettingType.Integer,
    default: 8000,
    min: 0,
    max: MAX_PORT,
    help: "HTTP port; 0 picks a free port",
    flags: [{ name: "--http-port", value: "N" }],
  },
  {
    path: "http.trustedProxies",
    type: SettingType.StringList,
    live: true,
    default: [],
    max: MAX_LIST_ITEMS,
    item: proxyItem,
    help: "reverse proxies (addresses, CIDR blocks) trusted to name the client in X-Forwarded-For; empty: " +
      "the header is ignored",
    example: ["127.0.0.1", "10.0.0.0/8"],
    flags: [{ name: "--trusted-proxies", value: "LIST" }],
  },
  // ---- hub
  {
    path: "hub.publishTakeover",
    type: SettingType.Boolean,
    default: false,
    help: "a second publisher of a live name takes the stream over instead of being refused",
    flags: [{ name: "--takeover" }],
  },
  {
    path: "hub.playWaitMs",
    type: SettingType.Integer,
    live: true,
    unit: Unit.Ms,
    default: 30_000,
    min: 0,
    max: TIMER_MAX_MS,
    help: "how long a play of a name with no publisher waits for one; 0 answers StreamNotFound at once",
    flags: [{ name: "--play-wait-ms", value: "N" }],
  },
  {
    path: "hub.reconnectGraceMs",
    type: SettingType.Integer,
    live: true,
    unit: Unit.Ms,
    default: 10_000,
    min: 0,
    max: TIMER_MAX_MS,
    help: "how long players stay attached after their publisher leaves, waiting for it to return",
    flags: [{ name: "--grace-ms", value: "N" }],
  },
  {
    path: "hub.gopCacheMaxBytes",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    default: 16 * MiB,
    min: 0,
    help: "GOP cache bound per stream; 0 keeps no GOP, so players start at the next keyframe",
    flags: [{ name: "--gop-cache-bytes", value: "N" }],
  },
  {
    path: "hub.gopCacheMaxMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 10_000,
    min: 0,
    help: "GOP cache bound in media time per stream; 0 keeps no GOP",
    flags: [{ name: "--gop-cache-ms", value: "N" }],
  },
  {
    path: "hub.mergeWindowMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 50,
    min: 0,
    // Every frame may wait this long: past a second it is latency, not batching.
    max: 1_000,
    help: "frames within this window share one write per player; 0 writes once per publisher read",
    flags: [{ name: "--merge-ms", value: "N" }],
  },
  {
    path: "hub.mergeWindowMaxMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 100,
    min: 0,
    max: 1_000,
    help: "the merge window a stream widens to with many players (from hub.mergeWindowMs at 200 to this at " +
      "800); at or below hub.mergeWindowMs it never widens",
    flags: [{ name: "--merge-max-ms", value: "N" }],
  },
  // ---- player
  {
    path: "player.queueMaxBytes",
    type: SettingType.Integer,
    live: true,
    unit: Unit.Bytes,
    default: 8 * MiB,
    min: 1,
    help: "a player's queue bound; past it the player skips to the newest keyframe",
    flags: [{ name: "--queue-bytes", value: "N" }],
  },
  {
    path: "player.queueMaxMs",
    type: SettingType.Integer,
    live: true,
    unit: Unit.Ms,
    default: 3_000,
    min: 1,
    help: "a player's queue bound in media time; past it the player skips to the newest keyframe",
    flags: [{ name: "--queue-ms", value: "N" }],
  },
  {
    path: "player.stallTimeoutMs",
    type: SettingType.Integer,
    live: true,
    unit: Unit.Ms,
    default: 10_000,
    min: 1,
    max: TIMER_MAX_MS,
    help: "a player whose writes make no progress for this long is closed",
    flags: [{ name: "--stall-timeout-ms", value: "N" }],
  },
  {
    path: "player.maxSkipsPerMinute",
    type: SettingType.Integer,
    live: true,
    default: 10,
    min: 0,
    help: "a player that skips more often than this within a minute is closed as too slow",
    flags: [{ name: "--max-skips-per-minute", value: "N" }],
  },
  // ---- ingest
  {
    path: "ingest.maxTagBytes",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    default: 8 * MiB,
    min: MIN_MEDIA_CAP,
    max: MAX_FLV_TAG,
    help: "largest FLV tag a pusher may send",
    flags: [{ name: "--max-tag-bytes", value: "N" }],
  },
  {
    path: "ingest.idleTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 20_000,
    min: 1,
    max: TIMER_MAX_MS,
    help: "a pusher that sends no bytes for this long is closed",
    flags: [{ name: "--push-idle-timeout-ms", value: "N" }],
  },
  // ---- vod
  {
    path: "vod.root",
    type: SettingType.NullablePath,
    default: null,
    defaultText: "none, VOD off",
    help: "folder of FLV files served at http://host:port/{app}/{path}.flv and rtmp://host/{app}/{path}; " +
      "needs --allow-read",
    flags: [{ name: "--vod-root", value: "DIR" }],
  },
  {
    path: "vod.app",
    type: SettingType.String,
    default: "vod",
    // One name, as the HTTP router matches an app; not "." or "..".
    pattern: { regex: new RegExp(`^(?!\\.+$)${NAME}$`), what: "an app name (letters, digits, _ . - ~)" },
    help: "the RTMP app and the HTTP path prefix for VOD",
    flags: [{ name: "--vod-app", value: "NAME" }],
  },
  // ---- hls
  {
    path: "hls.enabled",
    type: SettingType.Boolean,
    default: true,
    help: "serve HLS playlists, segments and parts, and MPEG-TS over HTTP, on the HTTP port",
    flags: [{ name: "--no-hls", sets: false }],
  },
  {
    path: "hls.container",
    type: SettingType.Enum,
    default: "fmp4",
    values: ["fmp4", "ts"],
    help: "the segment container of every app not in hls.tsApps: fmp4 (CMAF, for LL-HLS) or ts (MPEG-TS)",
    flags: [{ name: "--hls-container", value: "fmp4|ts" }],
  },
  {
    path: "hls.tsApps",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    pattern: {
      regex: new RegExp(`^${NAME}(,${NAME})*$`),
      what: "app names separated by commas (letters, digits, _ . - ~)",
    },
    help: "apps whose HLS segments are MPEG-TS whatever hls.container says, comma-separated",
    flags: [{ name: "--hls-ts-apps", value: "APP,APP" }],
  },
  {
    path: "hls.lowLatency",
    type: SettingType.Boolean,
    default: true,
    help: "Low-Latency HLS: parts, blocking playlist reload, preload hints, delta updates (players that " +
      "do not know LL-HLS play the same playlist)",
    flags: [{ name: "--no-ll-hls", sets: false }],
  },
  {
    path: "hls.targetDurationMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 2_000,
    min: 1_000,
    max: 30_000,
    help: "the segment duration aimed at; segments start at keyframes, so a longer GOP makes them longer",
    flags: [{ name: "--hls-segment-ms", value: "N" }],
  },
  {
    path: "hls.partTargetMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 333,
    min: 200,
    max: 500,
    help: "LL-HLS part duration (PART-TARGET)",
    flags: [{ name: "--hls-part-ms", value: "N" }],
  },
  {
    path: "hls.windowSegments",
    type: SettingType.Integer,
    default: 6,
    min: 3,
    max: 1_000,
    help: "complete segments a playlist lists",
    flags: [{ name: "--hls-window", value: "N" }],
  },
  {
    path: "hls.alwaysOn",
    type: SettingType.Boolean,
    default: false,
    help: "mux every live stream for HLS from its publish on, not only while someone plays it over HLS",
    flags: [{ name: "--hls-always-on" }],
  },
  {
    path: "hls.idleTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 30_000,
    min: 1_000,
    max: TIMER_MAX_MS,
    help: "a stream's HLS muxing stops this long after its last HLS request (unless hls.alwaysOn)",
    flags: [{ name: "--hls-idle-ms", value: "N" }],
  },
  {
    path: "hls.sessionTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 10_000,
    min: 1_000,
    max: TIMER_MAX_MS,
    help: "an HLS viewer (a session id in its URIs) ends this long after its last request",
    flags: [{ name: "--hls-session-ms", value: "N" }],
  },
  {
    path: "hls.maxBytes",
    type: SettingType.Integer,
    unit: Unit.Bytes,
    default: 128 * MiB,
    min: 1 * MiB,
    max: 8 * 1024 * MiB,
    help: "memory one stream's segments and parts may hold; past it the oldest go first",
    flags: [{ name: "--hls-max-bytes", value: "N" }],
  },
  {
    path: "hls.maxWaiting",
    type: SettingType.Integer,
    default: 10_000,
    min: 1,
    max: 1_000_000,
    help: "blocked playlist and part requests held at once (all streams); past it requests get 503",
    flags: [{ name: "--hls-max-waiting", value: "N" }],
  },
  // ---- admission
  {
    path: "admission.timeoutMs",
    type: SettingType.Integer,
    live: true,
    unit: Unit.Ms,
    default: 5_000,
    min: 1,
    max: TIMER_MAX_MS,
    help: "how long the admission policy may take to answer; past it the request is denied",
    flags: [{ name: "--admission-timeout-ms", value: "N" }],
  },
  // ---- admin
  {
    path: "admin.token",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    secret: true,
    pattern: { regex: ADMIN_TOKEN, what: "a token of 16 to 1024 characters: letters, digits, - . _ ~ + /" },
    help: "bearer token of scripts and Prometheus for the API and /metrics (Authorization: Bearer TOKEN); " +
      "mind that a flag's value shows in the process list",
    flags: [{ name: "--admin-token", value: "TOKEN" }],
  },
  {
    path: "admin.user",
    type: SettingType.String,
    default: "admin",
    pattern: { regex: ADMIN_USER, what: "a user name of 1 to 64 printable characters without spaces" },
    help: "the user name of the login at /admin/login",
    flags: [{ name: "--admin-user", value: "NAME" }],
  },
  {
    path: "admin.passwordHash",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none, no login",
    secret: true,
    pattern: {
      regex: PASSWORD_HASH,
      what: "a hash printed by `server.ts hash-password` (pbkdf2-sha256$ITERATIONS$SALT$HASH)",
    },
    help: "the salted password hash of the login at /admin/login; make it with " +
      "`deno run server.ts hash-password`",
    flags: [{ name: "--admin-password-hash", value: "HASH" }],
  },
  {
    path: "admin.loopbackOpen",
    type: SettingType.Boolean,
    default: true,
    help: "with no token and no password set, serve the dashboard, API and metrics to loopback peers " +
      "(127.0.0.0/8, ::1) and nobody else",
    flags: [{
      name: "--no-loopback-open",
      sets: false,
      help:
        "serve nobody while no credential is set, loopback peers included (e.g. behind a proxy on this host)",
    }],
  },
  {
    path: "admin.metricsOpen",
    type: SettingType.Boolean,
    live: true,
    default: false,
    help: "serve /metrics to anyone, with no credential (Prometheus on other hosts)",
    flags: [{ name: "--metrics-open" }],
  },
  {
    path: "admin.sessionTtlMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 12 * HOUR_MS,
    min: 60_000,
    max: TIMER_MAX_MS,
    help: "how long a login lasts",
    flags: [{ name: "--admin-session-ttl-ms", value: "N" }],
  },
  {
    path: "admin.loginAttemptsPerMinute",
    type: SettingType.Integer,
    default: 5,
    min: 1,
    max: 1_000,
    help: "failed logins (and wrong tokens) allowed per address within a minute; past them 429",
    flags: [{ name: "--admin-login-attempts", value: "N" }],
  },
  {
    path: "admin.maxSseClients",
    type: SettingType.Integer,
    default: 32,
    min: 1,
    max: 10_000,
    help: "most dashboard event streams (/api/v1/events) at once; more get 503",
    flags: [{ name: "--admin-max-sse-clients", value: "N" }],
  },
  {
    path: "admin.historySamples",
    type: SettingType.Integer,
    default: 300,
    min: 1,
    max: 86_400,
    help: "samples of history the dashboard's charts keep, one a second",
    flags: [{ name: "--admin-history-samples", value: "N" }],
  },
  // ---- auth (issue 10)
  {
    path: "auth.publishKey",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    secret: true,
    live: true,
    pattern: { regex: SHARED_SECRET, what: "a key of 8 to 256 printable characters" },
    help: "every publish no rule matches needs this stream key (`cam?key=KEY`, OBS's Stream Key field)",
    flags: [{ name: "--publish-key", value: "KEY" }],
  },
  {
    path: "auth.signSecret",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    secret: true,
    live: true,
    pattern: { regex: SHARED_SECRET, what: "a secret of 8 to 256 printable characters" },
    help: "the URL signing secret (HMAC-SHA256, `?expires=UNIX&sign=...`, `server.ts sign`); every play no " +
      "rule matches then needs a signed URL",
    flags: [{ name: "--sign-secret", value: "SECRET" }],
  },
  {
    path: "auth.signSecretPrevious",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    secret: true,
    live: true,
    pattern: { regex: SHARED_SECRET, what: "a secret of 8 to 256 printable characters" },
    help: "a second signing secret still accepted, while URLs signed with it are out (rotation)",
    flags: [{ name: "--sign-secret-old", value: "SECRET" }],
  },
  {
    path: "auth.jwtSecret",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    secret: true,
    live: true,
    pattern: { regex: SHARED_SECRET, what: "a secret of 8 to 256 printable characters" },
    help: "the HS256 secret JWTs are verified with",
    flags: [{ name: "--jwt-secret", value: "SECRET" }],
  },
  {
    path: "auth.jwtKeyFile",
    type: SettingType.NullablePath,
    default: null,
    defaultText: "none",
    live: true,
    help: "a PEM public key (RS256 or ES256) JWTs are verified with; needs --allow-read",
    flags: [{ name: "--jwt-key-file", value: "FILE" }],
  },
  {
    path: "auth.jwksFile",
    type: SettingType.NullablePath,
    default: null,
    defaultText: "none",
    live: true,
    help: "a JWKS file of public keys (RS256, ES256; by kid) JWTs are verified with; needs --allow-read",
    flags: [{ name: "--jwks-file", value: "FILE" }],
  },
  {
    path: "auth.onConnect",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    live: true,
    pattern: { regex: CALLBACK_URL, what: "an http:// or https:// URL" },
    help: "an RTMP connect is POSTed here as JSON; 2xx allows, anything else or no answer in time denies",
    flags: [{ name: "--on-connect", value: "URL" }],
  },
  {
    path: "auth.onPublish",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    live: true,
    pattern: { regex: CALLBACK_URL, what: "an http:// or https:// URL" },
    help: "every publish is POSTed here as JSON; 2xx allows, anything else or no answer in time denies",
    flags: [{ name: "--on-publish", value: "URL" }],
  },
  {
    path: "auth.onPlay",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    live: true,
    pattern: { regex: CALLBACK_URL, what: "an http:// or https:// URL" },
    help: "every play is POSTed here as JSON; 2xx allows, anything else or no answer in time denies",
    flags: [{ name: "--on-play", value: "URL" }],
  },
  {
    path: "auth.onPublishDone",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    live: true,
    pattern: { regex: CALLBACK_URL, what: "an http:// or https:// URL" },
    help: "the end of every publish is POSTed here (fire and forget, bounded queue)",
    flags: [{ name: "--on-publish-done", value: "URL" }],
  },
  {
    path: "auth.onPlayDone",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    live: true,
    pattern: { regex: CALLBACK_URL, what: "an http:// or https:// URL" },
    help: "the end of every play is POSTed here (fire and forget, bounded queue)",
    flags: [{ name: "--on-play-done", value: "URL" }],
  },
  {
    path: "auth.callbackTimeoutMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 3000,
    min: 1,
    max: 60_000,
    live: true,
    help: "how long a callback may take to answer; past it the request is denied",
    flags: [{ name: "--callback-timeout-ms", value: "MS" }],
  },
  {
    path: "auth.callbackCacheMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 0,
    min: 0,
    max: 24 * 3600 * 1000,
    live: true,
    help: "a callback's answer is kept this long for the same request (0: asked every time)",
    flags: [{ name: "--callback-cache-ms", value: "MS" }],
  },
  {
    path: "auth.callbackQueue",
    type: SettingType.Integer,
    default: 1000,
    min: 1,
    max: 100_000,
    live: true,
    help: "done-callbacks waiting to be sent at most; more are dropped and counted",
    flags: [{ name: "--callback-queue", value: "N" }],
  },
  // ---- tls
  {
    path: "tls.cert",
    type: SettingType.NullablePath,
    default: null,
    defaultText: "none (no TLS listeners)",
    help:
      "the PEM certificate (chain) of the RTMPS and HTTPS listeners; reloaded on SIGHUP; needs --allow-read",
    flags: [{ name: "--tls-cert", value: "FILE" }],
  },
  {
    path: "tls.key",
    type: SettingType.NullablePath,
    default: null,
    defaultText: "none",
    help: "the PEM private key of the certificate; reloaded on SIGHUP; needs --allow-read",
    flags: [{ name: "--tls-key", value: "FILE" }],
  },
  {
    path: "tls.rtmpsPort",
    type: SettingType.Integer,
    default: 1936,
    min: 0,
    max: MAX_PORT,
    help: "RTMPS port (with a certificate); 0 picks a free port",
    flags: [{ name: "--rtmps-port", value: "N" }],
  },
  {
    path: "tls.httpsPort",
    type: SettingType.Integer,
    default: 8443,
    min: 0,
    max: MAX_PORT,
    help: "HTTPS port (with a certificate; HTTP/2 where the client asks); 0 picks a free port",
    flags: [{ name: "--https-port", value: "N" }],
  },
  // ---- limits (ffserver's MaxClients, MaxHTTPConnections, MaxBandwidth; nginx-rtmp's max_connections)
  {
    path: "limits.maxPlayers",
    type: SettingType.Integer,
    live: true,
    default: 0,
    min: 0,
    max: 1_000_000,
    help: "players of every protocol in total (ffserver MaxClients); past it a play is refused",
    flags: [{ name: "--max-players", value: "N" }],
  },
  {
    path: "limits.maxHttpConnections",
    type: SettingType.Integer,
    live: true,
    default: 0,
    min: 0,
    max: 1_000_000,
    help: "HTTP players and pushers at once (ffserver MaxHTTPConnections)",
    flags: [{ name: "--max-http-connections", value: "N" }],
  },
  {
    path: "limits.maxConnectionsPerAddress",
    type: SettingType.Integer,
    live: true,
    default: 0,
    min: 0,
    max: 1_000_000,
    help: "players and publishers from one client address at once (and RTMP connections, at accept)",
    flags: [{ name: "--max-per-address", value: "N" }],
  },
  {
    path: "limits.maxPlayersPerStream",
    type: SettingType.Integer,
    live: true,
    default: 0,
    min: 0,
    max: 1_000_000,
    help: "players of one stream at once",
    flags: [{ name: "--max-players-per-stream", value: "N" }],
  },
  {
    path: "limits.maxPublishers",
    type: SettingType.Integer,
    live: true,
    default: 0,
    min: 0,
    max: 1_000_000,
    help: "publishers of every protocol in total",
    flags: [{ name: "--max-publishers", value: "N" }],
  },
  {
    path: "limits.maxBandwidthKbps",
    type: SettingType.Integer,
    live: true,
    default: 0,
    min: 0,
    max: 100_000_000,
    unit: Unit.Kbps,
    help: "total outgoing bandwidth, kbit/s over a sliding window (ffserver MaxBandwidth); a play that " +
      "would pass it is refused (HTTP 503 with Retry-After, RTMP NetStream.Play.Failed)",
    flags: [{ name: "--max-bandwidth-kbps", value: "KBPS" }],
  },
  // ---- log
  {
    path: "log.access",
    type: SettingType.NullableString,
    default: null,
    defaultText: "none",
    help: "access log, one line per finished session (HTTP in Combined Log Format): - for stdout, or a " +
      "file path (needs --allow-write; reopened on SIGUSR1)",
    flags: [{ name: "--access-log", value: "FILE" }],
  },
  {
    path: "log.level",
    type: SettingType.Enum,
    live: true,
    default: "info",
    values: Object.keys(LogLevel),
    help: "the most verbose level printed",
    flags: [{ name: "--log-level", value: "LEVEL" }],
  },
  // ---- sources
  {
    path: "sources",
    type: SettingType.List,
    live: true,
    default: [],
    help: "files played out as live streams",
    flags: [
      {
        name: "--source",
        value: "KEY=PATH",
        loop: true,
        help: "play a file as the live stream KEY (app/name), looped: an H.264 Annex B stream (.h264) or " +
          "an FLV file; repeatable; needs --allow-read",
      },
      { name: "--source-once", value: "KEY=PATH", loop: false, help: "the same, played once" },
    ],
    fields: [
      {
        path: "key",
        type: SettingType.String,
        default: undefined,
        pattern: { regex: STREAM_KEY, what: "an app/name key" },
        help: "stream key, app/name",
        example: "live/cam",
      },
      {
        path: "path",
        type: SettingType.String,
        default: undefined,
        help: "path of an H.264 Annex B elementary stream (.h264/.264) or an FLV file",
        example: "cam.flv",
      },
      {
        path: "loop",
        type: SettingType.Boolean,
        default: true,
        help: "start again at the end, with continuous timestamps",
      },
      {
        path: "fps",
        type: SettingType.Number,
        unit: Unit.Fps,
        default: undefined,
        defaultText: "the SPS timing, else 25",
        optional: true,
        min: 0,
        minExclusive: true,
        max: 300,
        help: "frame rate of Annex B sources; FLV tags carry their own timestamps",
        example: 25,
        flags: [{ name: "--source-fps", value: "N" }],
      },
    ],
  },
  // ---- rules
  {
    path: "rules",
    type: SettingType.List,
    live: true,
    default: [],
    unique: "match",
    help: "access rules per app/stream pattern",
    fields: [
      {
        path: "match",
        type: SettingType.String,
        default: undefined,
        pattern: { regex: STREAM_PATTERN, what: "an app/stream pattern (* for any run of characters)" },
        help: "the app/stream it applies to: live/cam, live/*, */cam, or * for all; the first rule that " +
          "matches a request's action decides",
        example: "live/*",
      },
      {
        path: "action",
        type: SettingType.Enum,
        default: "any",
        values: ["publish", "play", "any"],
        help: "the requests it applies to",
        example: "publish",
      },
      {
        path: "keys",
        type: SettingType.StringList,
        default: [],
        secret: true,
        max: 16,
        item: (t: string) => SHARED_SECRET.test(t) ? undefined : "is not 8 to 256 printable characters",
        help: "stream keys, one of which the request must carry (`?key=`); compared in constant time",
        example: ["a-long-secret-key"],
      },
      {
        path: "sign",
        type: SettingType.Boolean,
        default: false,
        help: "the URL must be signed with auth.signSecret (or auth.signSecretPrevious) and not expired",
      },
      {
        path: "signAddress",
        type: SettingType.Boolean,
        default: false,
        help: "the signature also binds the client's address (`server.ts sign --addr`)",
      },
      {
        path: "jwt",
        type: SettingType.Boolean,
        default: false,
        help: "the request must carry a JWT (`?token=` or Authorization: Bearer) verified with the auth " +
          "keys, whose claims allow the action and the stream",
      },
      aclField("publish or play (as action says)"),
    ],
  },
  // ---- feeds
  {
    path: "feeds",
    type: SettingType.List,
    live: true,
    default: [],
    help: "feeds: streams written into a ring buffer file as they arrive",
    flags: [
      {
        name: "--feed",
        value: "KEY=FILE",
        field: "file",
        help: "write the stream KEY (app/name) into the ring buffer file FILE as it arrives, so players " +
          "can start in the past (?preroll=S); repeatable; needs --allow-read and --allow-write",
      },
    ],
    fields: [
      {
        path: "key",
        type: SettingType.String,
        default: undefined,
        pattern: { regex: STREAM_KEY, what: "an app/name key" },
        help: "the stream key the feed is published as (over any protocol), app/name",
        example: "feed/feed1",
      },
      {
        path: "push",
        type: SettingType.String,
        default: undefined,
        optional: true,
        pattern: { regex: TOP_PATH, what: "a path of one segment (/name)" },
        help: "an HTTP path ffmpeg may push FLV to besides /app/name (ffserver's /feed1.ffm)",
        example: "/feed1.ffm",
      },
      {
        path: "file",
        type: SettingType.String,
        default: undefined,
        optional: true,
        help: "the ring buffer file, written whether or not anyone plays; needs --allow-read and " +
          "--allow-write; left out: no ring, no time-shift",
        example: "/var/lib/sluice/feed1.ring",
      },
      {
        path: "fileMaxSize",
        type: SettingType.Integer,
        unit: Unit.Bytes,
        default: 64 * MiB,
        min: MIN_RING_BYTES,
        max: 2 ** 40,
        help: "the ring file's size, where it wraps (ffserver FileMaxSize)",
        flags: [{ name: "--feed-max-size", value: "BYTES" }],
      },
      {
        path: "catchUp",
        type: SettingType.Boolean,
        default: false,
        help: "a player that starts in the past is sent the past as fast as it reads, up to the live " +
          "edge; false plays it at normal speed, staying behind",
      },
      aclField("publish it"),
    ],
  },
  // ---- streams
  {
    path: "streams",
    type: SettingType.List,
    live: true,
    default: [],
    unique: "path",
    help: "streams served at a path of their own",
    fields: [
      {
        path: "path",
        type: SettingType.String,
        default: undefined,
        pattern: { regex: TOP_PATH, what: "a path of one segment (/name)" },
        help: "the HTTP path it is served at (format rtp: the RTSP path, rtsp://HOST:PORT/name)",
        example: "/live.flv",
      },
      {
        path: "key",
        type: SettingType.String,
        default: undefined,
        optional: true,
        pattern: { regex: STREAM_KEY, what: "an app/name key" },
        help: "the live stream (or feed) served, app/name",
        example: "feed/feed1",
      },
      {
        path: "file",
        type: SettingType.String,
        default: undefined,
        optional: true,
        help: "or a file served on demand (FLV); needs --allow-read",
      },
      {
        path: "format",
        type: SettingType.Enum,
        default: "flv",
        values: ["flv", "status", "rtp"],
        help:
          "flv: HTTP-FLV (WebSocket-FLV on upgrade); status: the status page; rtp: the live key over RTSP " +
          "at rtsp://HOST:PORT/name (ffserver's RTSP URL; key and acl only)",
      },
      {
        path: "prerollMs",
        type: SettingType.Integer,
        unit: Unit.Ms,
        default: 0,
        min: 0,
        max: DAY_MS,
        help: "a player starts this far in the past (needs the key's feed to have a file); ?preroll=S " +
          "overrides it",
      },
      {
        path: "noAudio",
        type: SettingType.Boolean,
        default: false,
        help: "the audio track is left out",
      },
      {
        path: "noVideo",
        type: SettingType.Boolean,
        default: false,
        help: "the video track is left out",
      },
      {
        path: "maxTimeMs",
        type: SettingType.Integer,
        unit: Unit.Ms,
        default: 0,
        min: 0,
        max: TIMER_MAX_MS,
        help: "a play ends after this long; 0: no limit (ffserver MaxTime)",
      },
      aclField("play it"),
    ],
  },
  // ---- transcodes
  {
    path: "transcodes",
    type: SettingType.List,
    live: true,
    default: [],
    help: "streams made by ffmpeg from another stream",
    fields: [
      {
        path: "key",
        type: SettingType.String,
        default: undefined,
        pattern: { regex: STREAM_KEY, what: "an app/name key" },
        help: "the stream ffmpeg publishes, app/name",
        example: "feed/small",
      },
      {
        path: "from",
        type: SettingType.String,
        default: undefined,
        pattern: { regex: STREAM_KEY, what: "an app/name key" },
        help: "the stream ffmpeg reads, app/name; the job runs while it is live",
        example: "feed/feed1",
      },
      {
        path: "input",
        type: SettingType.Enum,
        default: "rtmp",
        values: ["rtmp", "http-flv"],
        help: "how ffmpeg reads the source from this server",
      },
      {
        path: "videoCodec",
        type: SettingType.String,
        default: "libx264",
        help: "the ffmpeg video encoder; copy copies; none drops the video",
      },
      {
        path: "videoSize",
        type: SettingType.String,
        default: undefined,
        optional: true,
        pattern: { regex: /^[1-9]\d{0,4}x[1-9]\d{0,4}$/, what: "WIDTHxHEIGHT" },
        help: "the picture size, WIDTHxHEIGHT; left out: the source's",
        example: "320x240",
      },
      {
        path: "videoBitrateKbps",
        type: SettingType.Integer,
        unit: Unit.Kbps,
        default: undefined,
        optional: true,
        min: 1,
        max: 1_000_000,
        help: "the video bitrate; left out: the encoder's default",
        example: 300,
      },
      {
        path: "videoFps",
        type: SettingType.Number,
        unit: Unit.Fps,
        default: undefined,
        optional: true,
        min: 0,
        minExclusive: true,
        max: 300,
        help: "the frame rate; left out: the source's",
      },
      {
        path: "videoGop",
        type: SettingType.Integer,
        default: undefined,
        optional: true,
        min: 1,
        max: 10_000,
        help: "frames from one keyframe to the next; left out: about 2 s",
      },
      {
        path: "audioCodec",
        type: SettingType.String,
        default: "aac",
        help: "the ffmpeg audio encoder; copy copies; none drops the audio",
      },
      {
        path: "audioBitrateKbps",
        type: SettingType.Integer,
        unit: Unit.Kbps,
        default: undefined,
        optional: true,
        min: 1,
        max: 10_000,
        help: "the audio bitrate; left out: the encoder's default",
      },
      {
        path: "audioSampleRate",
        type: SettingType.Integer,
        default: undefined,
        optional: true,
        min: 8000,
        max: 192_000,
        help: "the audio sample rate in Hz; left out: the source's",
      },
      {
        path: "audioChannels",
        type: SettingType.Integer,
        default: undefined,
        optional: true,
        min: 1,
        max: 8,
        help: "the audio channels; left out: the source's",
      },
      {
        path: "args",
        type: SettingType.StringList,
        default: [],
        max: MAX_LIST_ITEMS,
        help: "more ffmpeg output options, given before the output URL",
      },
    ],
  },
  // ---- jobs
  {
    path: "jobs.ffmpeg",
    type: SettingType.String,
    default: "ffmpeg",
    live: true,
    help: "the ffmpeg command transcodes run (a name on PATH or a path)",
    flags: [{ name: "--ffmpeg", value: "CMD" }],
  },
  {
    path: "jobs.restartMinMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 1000,
    min: 1,
    max: TIMER_MAX_MS,
    live: true,
    help: "a job that dies is restarted after this long, doubling each time it dies soon again",
    flags: [{ name: "--job-restart-min-ms", value: "MS" }],
  },
  {
    path: "jobs.restartMaxMs",
    type: SettingType.Integer,
    unit: Unit.Ms,
    default: 30_000,
    min: 1,
    max: TIMER_MAX_MS,
    live: true,
    help: "the longest restart delay",
    flags: [{ name: "--job-restart-max-ms", value: "MS" }],
  },
  {
    path: "jobs.stderrLinesPerMinute",
    type: SettingType.Integer,
    default: 30,
    min: 0,
    max: 10_000,
    live: true,
    help: "lines of a job's ffmpeg stderr logged per minute; the rest are counted",
    flags: [{ name: "--job-stderr-lines", value: "N" }],
  },
] as const satisfies readonly Setting[];

/** The path of every setting in `SETTINGS`. */
export type SettingPath = typeof SETTINGS[number]["path"];

/** The section a setting path belongs to: its first segment. */
export function sectionOf(path: string): SectionName {
  return path.split(".")[0] as SectionName;
}

/** A flag with the setting it belongs to, and the list setting when that is a field of its entries. */
export interface FlagEntry {
  readonly flag: Flag;
  readonly setting: Setting;
  readonly list?: Setting;
}

/** Every flag of the schema in table order, fields' flags after their list's. */
export function allFlags(settings: readonly Setting[] = SETTINGS): FlagEntry[] {
  const out: FlagEntry[] = [];
  for (const setting of settings) {
    for (const flag of setting.flags ?? []) out.push({ flag, setting });
    for (const field of setting.fields ?? []) {
      for (const flag of field.flags ?? []) out.push({ flag, setting: field, list: setting });
    }
  }
  return out;
}

/** The value at a dotted `path` of `root`, or undefined when a step is missing. */
export function valueAt(root: unknown, path: string): unknown {
  let at = root;
  for (const step of path.split(".")) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[step];
  }
  return at;
}

/** Sets the value at a dotted `path` of `root`, making the objects on the way. */
export function setValueAt(root: Record<string, unknown>, path: string, value: unknown): void {
  const steps = path.split(".");
  let at = root;
  for (const step of steps.slice(0, -1)) at = (at[step] ??= {}) as Record<string, unknown>;
  at[steps[steps.length - 1]] = value;
}
