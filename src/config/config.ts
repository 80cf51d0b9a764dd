/**
 * Sluice's configuration: one typed object with a documented default for every
 * field. `deno task start` runs on these defaults alone. The defaults, ranges
 * and flags live in one table, `SETTINGS` in `schema.ts`; `validate.ts` checks
 * a configuration against it.
 *
 * @module
 */
import { type Setting, SETTINGS, setValueAt, valueAt } from "./schema.ts";

/** RTMP listener and session settings. */
export interface RtmpConfig {
  /** Address the RTMP listener binds. Default "0.0.0.0". */
  host: string;
  /** RTMP port. Default 1935; 0 picks a free port (tests). */
  port: number;
  /** Outgoing chunk size in bytes, the same for every player (so all get the same bytes). Default 4096. */
  chunkSize: number;
  /** Largest message a peer may send, in bytes. Default 8 MiB; ceiling 9 MiB (the codec region). */
  maxMessageLength: number;
  /** Window Acknowledgement Size sent to peers, in bytes. Default 2,500,000 (as nginx-rtmp, SRS). */
  windowAckSize: number;
  /** Time allowed for the handshake, in ms. Default 10,000. */
  handshakeTimeoutMs: number;
  /** Time allowed from accept to a publish or play, in ms. Default 15,000. */
  startTimeoutMs: number;
  /** A publisher that sends no media for this long is closed, in ms. Default 20,000. */
  idleTimeoutMs: number;
  /** Most RTMP connections at once; more are refused at accept. Default 2,000. */
  maxConnections: number;
}

/** RTSP listener settings (live streams to RTSP players over TCP interleaved or UDP RTP). */
export interface RtspConfig {
  /** Serve RTSP at all. Default true (`--no-rtsp`: off). */
  enabled: boolean;
  /** Address the RTSP listener binds. Default "0.0.0.0". */
  host: string;
  /** RTSP port. Default 8554; 0 picks a free port (tests). */
  port: number;
  /** A connection that sends nothing for this long is closed, ms; the Session header's timeout. Default 60,000. */
  sessionTimeoutMs: number;
  /** Largest RTP payload in bytes (NAL units past it go in FU-A fragments). Default 1400. */
  mtu: number;
  /** Most RTSP connections at once; more are refused at accept. Default 2,000. */
  maxConnections: number;
  /** First server UDP port for RTP over UDP (even: RTP, next: RTCP). Default 8000; 0 with udpPortLast 0: any free ports. */
  udpPortFirst: number;
  /** Last server UDP port for RTP over UDP. Default 8999; 0 with udpPortFirst 0: any free ports. */
  udpPortLast: number;
}

/** HTTP listener settings (HTTP-FLV, WebSocket-FLV, push ingest, VOD, the API). */
export interface HttpConfig {
  /** Address the HTTP listener binds. Default "0.0.0.0". */
  host: string;
  /** HTTP port. Default 8000; 0 picks a free port. */
  port: number;
  /**
   * Reverse proxies (addresses or CIDR blocks) trusted to name the client in X-Forwarded-For; a request from
   * one is taken as from the client the header names (`src/http/forwarded.ts`). Default none.
   */
  trustedProxies: string[];
}

/** HTTP and WebSocket push ingest settings. */
export interface IngestConfig {
  /** Largest FLV tag a pusher may send, in bytes. Default 8 MiB; ceiling 16 MiB - 1 (FLV's 24-bit size). */
  maxTagBytes: number;
  /** A pusher that sends no bytes for this long is closed, in ms. Default 20,000. */
  idleTimeoutMs: number;
}

/** The admission gate (who may publish and play). */
export interface AdmissionConfig {
  /** How long the admission policy may take to answer, in ms; past it the request is denied. Default 5,000. */
  timeoutMs: number;
}

/**
 * The admin dashboard (`/admin/`), the JSON API (`/api/v1/`) and metrics (`/metrics`): who may see them
 * (`src/admin/auth.ts`) and their bounds. Secure by default: with no credential set only loopback peers
 * are served.
 */
export interface AdminConfig {
  /** Bearer token for scripts and Prometheus (`Authorization: Bearer TOKEN`); a secret. Default null. */
  token: string | null;
  /** The user name of the login at /admin/login. Default "admin". */
  user: string;
  /** The login's salted hash, `pbkdf2-sha256$ITERATIONS$SALT$HASH` (`server.ts hash-password`); a secret. Default null. */
  passwordHash: string | null;
  /**
   * With no token and no password hash set, loopback peers (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) are
   * served and everyone else refused; false serves nobody until a credential is set. Default true.
   */
  loopbackOpen: boolean;
  /** /metrics is served to anyone, with no credential (Prometheus on other hosts). Default false. */
  metricsOpen: boolean;
  /** How long a login's session cookie lasts, in ms. Default 12 h. */
  sessionTtlMs: number;
  /** Failed logins (and wrong tokens) allowed per address within a minute; past them 429. Default 5. */
  loginAttemptsPerMinute: number;
  /** Most event streams (`/api/v1/events`) at once; more get 503. Default 32. */
  maxSseClients: number;
  /** Samples the history rings keep, one a second. Default 300. */
  historySamples: number;
}

/** Logging. */
export interface LogConfig {
  /** The most verbose level printed. Default "info". */
  level: "error" | "warn" | "info" | "debug";
  /** The access log: "-" for stdout, a file path, or null (off). Default null. */
  access: string | null;
}

/** Who may publish and play (`src/auth/`): the shortcuts, the token keys, the HTTP callbacks. */
export interface AuthConfig {
  /** Every publish no rule matches needs this stream key; a secret. Default null. */
  publishKey: string | null;
  /** The URL signing secret; with it, every play no rule matches needs a signed URL. A secret. Default null. */
  signSecret: string | null;
  /** A second signing secret still accepted (rotation); a secret. Default null. */
  signSecretPrevious: string | null;
  /** The HS256 secret of JWTs; a secret. Default null. */
  jwtSecret: string | null;
  /** A PEM public key (RS256, ES256) of JWTs. Default null. */
  jwtKeyFile: string | null;
  /** A JWKS file of JWT public keys. Default null. */
  jwksFile: string | null;
  /** Callback URLs (JSON POST; 2xx allows). Default null each. */
  onConnect: string | null;
  onPublish: string | null;
  onPlay: string | null;
  /** Fire-and-forget notices of a finished publish or play. Default null each. */
  onPublishDone: string | null;
  onPlayDone: string | null;
  /** How long a callback may take, ms. Default 3,000. */
  callbackTimeoutMs: number;
  /** How long a callback's answer is reused for the same request, ms; 0 never. Default 0. */
  callbackCacheMs: number;
  /** Done-callbacks queued at most. Default 1,000. */
  callbackQueue: number;
}

/** TLS listeners (RTMPS, HTTPS): on when both files are set. */
export interface TlsConfig {
  cert: string | null;
  key: string | null;
  /** Default 1936. */
  rtmpsPort: number;
  /** Default 8443. */
  httpsPort: number;
}

/** An access rule: what a publish or play of a matching app/stream needs (all of what is set). */
export interface RuleConfig {
  /** `app/stream` with `*` wildcards, or `*`. */
  match: string;
  /** Default "any". */
  action: "publish" | "play" | "any";
  /** Stream keys, one of which must be given (`?key=`); secrets. Default none. */
  keys: string[];
  /** A signed URL is needed. Default false. */
  sign: boolean;
  /** The signature binds the client's address. Default false. */
  signAddress: boolean;
  /** A JWT is needed. Default false. */
  jwt: boolean;
  /** Address rules. Default none. */
  acl: string[];
}

/** Limits on players, connections, publishers and bandwidth; 0 means no limit. Every default is 0. */
export interface LimitsConfig {
  /** Players of every protocol in total (ffserver MaxClients). */
  maxPlayers: number;
  /** HTTP players and pushers at once (ffserver MaxHTTPConnections). */
  maxHttpConnections: number;
  /** Players and publishers from one client address at once. */
  maxConnectionsPerAddress: number;
  /** Players of one stream at once. */
  maxPlayersPerStream: number;
  /** Publishers of every protocol in total. */
  maxPublishers: number;
  /** Total outgoing bandwidth in kbit/s over a sliding window (ffserver MaxBandwidth). */
  maxBandwidthKbps: number;
}

/** Stream hub settings: publish rules, waiting players, caches. */
export interface HubConfig {
  /** A second publisher of a live name takes the stream over instead of getting BadName. Default false. */
  publishTakeover: boolean;
  /**
   * How long a play of a name with no publisher waits for one, in ms (nginx-rtmp's idle streams);
   * 0 answers NetStream.Play.StreamNotFound at once. Default 30,000.
   */
  playWaitMs: number;
  /** How long players stay attached after their publisher leaves, waiting for it to return, in ms. Default 10,000. */
  reconnectGraceMs: number;
  /** GOP cache bound in bytes, per stream. Default 16 MiB. */
  gopCacheMaxBytes: number;
  /** GOP cache bound in media time, in ms, per stream. Default 10,000. */
  gopCacheMaxMs: number;
  /**
   * Frames arriving within this window share one write per player, in ms (SRS's mw_sleep); 0 writes once
   * per publisher read. Default 50: at 200 players it cuts server CPU per delivered Mbit by 40 %.
   */
  mergeWindowMs: number;
  /**
   * The window a stream with many players widens to, in ms: from mergeWindowMs at MERGE_GROW_FROM
   * subscribers to this at MERGE_FULL_AT (src/hub/stream.ts), so a lone player keeps mergeWindowMs.
   * Default 100: at 800 players each write costs ~24 us, and half the writes is ~30 % of the CPU.
   */
  mergeWindowMaxMs: number;
}

/** Per-player delivery bounds. */
export interface PlayerConfig {
  /** A player's queue bound in bytes; past it the player skips to the newest keyframe. Default 8 MiB. */
  queueMaxBytes: number;
  /** A player's queue bound in media time, in ms; past it the player skips to the newest keyframe. Default 3,000. */
  queueMaxMs: number;
  /** A player whose writes make no progress for this long is closed, in ms. Default 10,000. */
  stallTimeoutMs: number;
  /** A player that had to skip this many times within a minute is closed as too slow. Default 10. */
  maxSkipsPerMinute: number;
}

/** A file played out as a live stream (`--source app/name=PATH`). */
export interface SourceConfig {
  /** Stream key, `app/name`. */
  key: string;
  /** Path of an H.264 Annex B elementary stream (.h264/.264) or an FLV file. */
  path: string;
  /** Start again at the end, with continuous timestamps. Default true. */
  loop: boolean;
  /**
   * Frame rate of an Annex B file, frames per second: overrides the SPS's VUI timing. Default: the SPS's
   * timing, else 25. Ignored for FLV files (their tags carry timestamps).
   */
  fps?: number;
}

/** A feed: a stream written into a ring buffer file as it arrives, with an optional push path. */
export interface FeedConfig {
  /** The stream key it is published as, `app/name`. */
  key: string;
  /** An HTTP path ffmpeg may push FLV to besides `/app/name` (ffserver's `/feed1.ffm`). */
  push?: string;
  /** The ring buffer file; left out: no ring (and no time-shift). */
  file?: string;
  /** The ring file's size in bytes, where it wraps. Default 64 MiB. */
  fileMaxSize: number;
  /** Players that start in the past catch up to the live edge instead of staying behind. Default false. */
  catchUp: boolean;
  /** Who may publish it: address rules (`src/config/acl.ts`). Default none (anyone). */
  acl: string[];
}

/** A stream served at a path of its own (ffserver's `<Stream>`). */
export interface StreamConfig {
  /** The HTTP path, one segment: "/live.flv"; for format "rtp", the RTSP path (`rtsp://HOST:PORT/live`). */
  path: string;
  /** The live stream (or feed) served; one of `key` and `file`, unless the format is "status". */
  key?: string;
  /** A file served on demand. */
  file?: string;
  /**
   * "flv": HTTP-FLV (WebSocket-FLV on upgrade); "status": the status page; "rtp": the live `key` over RTSP at
   * the path (ffserver's `Format rtp` URL), with `acl` (no file, preroll, track or time options). Default "flv".
   */
  format: "flv" | "status" | "rtp";
  /** A player starts this far in the past, in ms (needs the key's feed to have a file). Default 0. */
  prerollMs: number;
  /** The audio track is left out. Default false. */
  noAudio: boolean;
  /** The video track is left out. Default false. */
  noVideo: boolean;
  /** A play ends after this long, in ms; 0: no limit. Default 0. */
  maxTimeMs: number;
  /** Who may play it: address rules. Default none (anyone). */
  acl: string[];
}

/** A stream made by ffmpeg from another stream. */
export interface TranscodeConfig {
  /** The stream ffmpeg publishes, `app/name`. */
  key: string;
  /** The stream ffmpeg reads; the job runs while it is live. */
  from: string;
  /** How ffmpeg reads the source. Default "rtmp". */
  input: "rtmp" | "http-flv";
  /** The ffmpeg video encoder, "copy", or "none". Default "libx264". */
  videoCodec: string;
  videoSize?: string;
  videoBitrateKbps?: number;
  videoFps?: number;
  videoGop?: number;
  /** The ffmpeg audio encoder, "copy", or "none". Default "aac". */
  audioCodec: string;
  audioBitrateKbps?: number;
  audioSampleRate?: number;
  audioChannels?: number;
  /** More ffmpeg output options. Default none. */
  args: string[];
}

/** How transcoding jobs run. */
export interface JobsConfig {
  /** The ffmpeg command. Default "ffmpeg". */
  ffmpeg: string;
  /** The first restart delay of a job that died, in ms. Default 1,000. */
  restartMinMs: number;
  /** The longest restart delay, in ms. Default 30,000. */
  restartMaxMs: number;
  /** Lines of a job's stderr logged per minute. Default 30. */
  stderrLinesPerMinute: number;
}

/** Files served on demand. */
export interface VodConfig {
  /** Folder served under `/vod/` (HTTP) and `rtmp://host/vod/` (RTMP); null: VOD off. Default null. */
  root: string | null;
  /** The RTMP app and the HTTP path prefix for VOD. Default "vod". */
  app: string;
}

/** HLS and MPEG-TS over HTTP. */
export interface HlsConfig {
  /** Serve HLS and HTTP-TS. Default true. */
  enabled: boolean;
  /** Segment container of apps not in tsApps. Default "fmp4". */
  container: "fmp4" | "ts";
  /** Apps whose segments are MPEG-TS, comma-separated. Default null (none). */
  tsApps: string | null;
  /** LL-HLS tags and blocking requests. Default true. */
  lowLatency: boolean;
  /** Segment duration aimed at, ms. Default 2,000. */
  targetDurationMs: number;
  /** PART-TARGET, ms. Default 333. */
  partTargetMs: number;
  /** Complete segments listed. Default 6. */
  windowSegments: number;
  /** Mux every live stream from its publish on. Default false. */
  alwaysOn: boolean;
  /** A stream's muxing stops this long after its last HLS request, ms. Default 30,000. */
  idleTimeoutMs: number;
  /** An HLS viewer ends this long after its last request, ms. Default 10,000. */
  sessionTimeoutMs: number;
  /** Bytes one stream's segments may hold. Default 128 MiB. */
  maxBytes: number;
  /** Blocked requests held at once. Default 10,000. */
  maxWaiting: number;
}

/** The whole configuration. */
export interface Config {
  rtmp: RtmpConfig;
  rtsp: RtspConfig;
  http: HttpConfig;
  hub: HubConfig;
  player: PlayerConfig;
  ingest: IngestConfig;
  vod: VodConfig;
  hls: HlsConfig;
  admission: AdmissionConfig;
  admin: AdminConfig;
  auth: AuthConfig;
  tls: TlsConfig;
  limits: LimitsConfig;
  log: LogConfig;
  /** Files played out as live streams. Default none. */
  sources: SourceConfig[];
  /** Feeds with a ring buffer file and a push path. Default none. */
  feeds: FeedConfig[];
  /** Streams served at a path of their own. Default none. */
  streams: StreamConfig[];
  /** Streams made by ffmpeg. Default none. */
  transcodes: TranscodeConfig[];
  /** Access rules, first match decides. Default none (open, or the auth shortcuts). */
  rules: RuleConfig[];
  jobs: JobsConfig;
}

/** The embedded defaults: every setting's `default` in the schema (`src/config/schema.ts`). */
export function defaultConfig(): Config {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = setting.default;
    setValueAt(out, setting.path, Array.isArray(value) ? [...value] : value);
  }
  return out as unknown as Config;
}

/** A partial configuration, as tests and the CLI give it. */
export type ConfigOverrides = {
  [K in keyof Config]?: Config[K] extends unknown[] ? Config[K]
    : Config[K] extends object ? Partial<Config[K]>
    : Config[K];
};

/**
 * The defaults with `overrides` laid over them, section by section; a list (`sources`) is replaced whole.
 * A section or list given as something else is kept as given, for `validateConfig()` to name.
 */
export function makeConfig(overrides: ConfigOverrides = {}): Config {
  const given = overrides as Record<string, unknown>;
  const out: Record<string, unknown> = { ...given };
  for (const [name, base] of Object.entries(defaultConfig())) {
    const over = given[name];
    if (over === undefined) out[name] = base;
    else if (Array.isArray(base)) out[name] = Array.isArray(over) ? [...over] : over;
    else out[name] = typeof over === "object" && over !== null ? { ...base, ...over } : over;
  }
  return out as unknown as Config;
}

/** What a printed configuration shows in place of a secret that is set. */
export const REDACTED = "[redacted]";

/**
 * A copy of `config` fit to print (`--print-config`, a log line, an API answer): every `secret` setting
 * (`admin.token`, `admin.passwordHash`) that is set reads `REDACTED`; unset (null) ones stay null, so the
 * copy still says whether a credential is configured. `config` itself is not changed.
 */
export function redactConfig(config: Config): Config {
  const out = structuredClone(config) as unknown as Record<string, unknown>;
  for (const setting of SETTINGS as readonly Setting[]) {
    for (const field of setting.fields ?? []) {
      if (!field.secret) continue;
      for (const entry of (valueAt(out, setting.path) ?? []) as Record<string, unknown>[]) {
        const v = entry[field.path];
        if (Array.isArray(v)) entry[field.path] = v.map(() => REDACTED);
        else if (v !== null && v !== undefined) entry[field.path] = REDACTED;
      }
    }
    if (!setting.secret) continue;
    const value = valueAt(out, setting.path);
    if (value !== null && value !== undefined) setValueAt(out, setting.path, REDACTED);
  }
  return out as unknown as Config;
}
