/**
 * LimitsPolicy: the `limits` section of the config as an admission policy
 * (issue 9 item 5; ffserver's MaxClients, MaxHTTPConnections and
 * MaxBandwidth, nginx-rtmp's max_connections). Composed with the configured
 * policy through `chain()`.
 *
 * Policy:
 * - every limit is a ceiling on what the session registry holds at the moment
 *   of asking, the asking session itself not counted; 0 means no limit:
 *
 *   | limit                      | refuses                   | counts                                           |
 *   | -------------------------- | ------------------------- | ------------------------------------------------ |
 *   | `maxPlayers`               | a play                    | players and VOD players, every protocol           |
 *   | `maxPlayersPerStream`      | a play                    | players and VOD players of the same key           |
 *   | `maxPublishers`            | a publish                 | publishers, every protocol (file sources too)     |
 *   | `maxHttpConnections`       | an HTTP play or push      | HTTP sessions (`HTTP_PROTOCOLS`) in any role      |
 *   | `maxConnectionsPerAddress` | a play or publish         | players and publishers from the same host         |
 *   | `maxBandwidthKbps`         | a play                    | the meter's outgoing rate plus the stream's rate  |
 *
 * - a refusal is a deny of kind Unavailable (HTTP 503, RTMP
 *   NetStream.Play.Failed / Publish.BadName) whose reason names the figure and
 *   the setting: `players 1000 of 1000 (limits.maxPlayers)`;
 * - the bandwidth cap refuses a play when the outgoing rate now (a sliding
 *   window, `BandwidthMeter`) plus the stream's own bitrate (its snapshot's
 *   audio + video) would pass the cap; a stream not live yet adds nothing.
 *   That refusal carries `retryAfterS`, the meter's window: by then the rate
 *   has forgotten whoever left (HTTP `Retry-After`);
 * - it answers synchronously, so RTMP's admission keeps its same-turn path;
 *   the registry is read once per request, and only when a counting limit
 *   applies to it;
 * - `update()` replaces the limits (a reload): the next request is measured
 *   against the new ones; clients already admitted are never touched;
 * - a limit that is not a whole number 0 or more is refused (constructor and
 *   update()), and a refused update keeps the limits in force;
 * - counts are as exact as the registry, plus what was just admitted: a
 *   request admitted before its session is in the registry (an HTTP play,
 *   whose player registers a few microtasks after the answer) is held as a
 *   reservation for RESERVE_MS, and each count within that time is at least
 *   the count when the first reservation was made plus the reservations
 *   since. So a burst of requests answered in the same turn (a connect flood)
 *   cannot all see the same room; a burst may be refused a little early
 *   while sessions also leave within those few milliseconds.
 *
 * @module
 */
import type { LimitsConfig } from "../config/config.ts";
import {
  type Admission,
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  DecisionKind,
  deny,
  DenyKind,
} from "../hub/admission.ts";
import { hostOf, type SessionSnapshot } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";

/** The limits, by their key in the `limits` section (each entry names its setting in a refusal). */
export const LimitName = {
  MaxPlayers: "maxPlayers",
  MaxHttpConnections: "maxHttpConnections",
  MaxConnectionsPerAddress: "maxConnectionsPerAddress",
  MaxPlayersPerStream: "maxPlayersPerStream",
  MaxPublishers: "maxPublishers",
  MaxBandwidthKbps: "maxBandwidthKbps",
} as const satisfies Record<string, keyof LimitsConfig>;
export type LimitName = typeof LimitName[keyof typeof LimitName];

const LIMIT_NAMES: readonly LimitName[] = Object.values(LimitName);

/** The protocols `maxHttpConnections` counts and applies to: every session on the HTTP port. */
export const HTTP_PROTOCOLS: ReadonlySet<Protocol> = new Set([
  Protocol.HttpFlv,
  Protocol.WsFlv,
  Protocol.HttpPush,
  Protocol.WsPush,
  Protocol.HttpVod,
]);

/** A session as the limits read it (a `SessionSnapshot` has these and more). */
export type LimitsSession = Pick<SessionSnapshot, "id" | "protocol" | "role" | "remote" | "key">;

/**
 * What the limits read (STYLE 10): `{ hub, meter }` with the StreamHub and a
 * started BandwidthMeter satisfies it.
 */
export interface LimitsView {
  hub: {
    /** The session registry: every live session of every protocol. */
    readonly sessions: { list(): readonly LimitsSession[] };
    /** The live stream of a key, for its bitrate (bits per second, audio and video). */
    get(key: string): { snapshot(): { bitrate: { video: number; audio: number } } } | undefined;
  };
  meter: {
    /** Outgoing bits per second over the sliding window. */
    bps(): number;
    /** The window, seconds: a refused player's `Retry-After`. */
    readonly windowS: number;
  };
}

/** Roles a player counts as (a VOD play is a player of a file). */
const PLAYER_ROLES: ReadonlySet<string> = new Set([Role.Player, Role.Vod]);
/** Roles `maxConnectionsPerAddress` counts: players and publishers (not connections yet to choose). */
const ADDRESS_ROLES: ReadonlySet<string> = new Set([Role.Player, Role.Vod, Role.Publisher]);

/** The counts one request is measured against. */
interface Counts {
  players: number;
  streamPlayers: number;
  publishers: number;
  http: number;
  fromAddress: number;
}

/** How long an admission whose session is not registered yet still counts, ms. */
export const RESERVE_MS = 5;

/** The counts reserved since `at`: the count then (`base`) and the admissions since. */
interface Reservation {
  at: number;
  base: number;
  reserved: number;
}

export class LimitsPolicy implements Admission {
  #limits: Readonly<LimitsConfig>;
  #view: LimitsView;
  /** Per counter (`players`, `stream KEY`, `publishers`, `http`, `from HOST`). */
  #reserved = new Map<string, Reservation>();

  constructor(limits: LimitsConfig, view: LimitsView) {
    this.#limits = checked(limits);
    this.#view = view;
  }

  /** The limits in force (a copy). */
  get limits(): LimitsConfig {
    return { ...this.#limits };
  }

  /** Replaces the limits for requests from now on; throws (keeping the old ones) for a bad value. */
  update(limits: LimitsConfig): void {
    this.#limits = checked(limits);
  }

  admit(req: AdmissionRequest): AdmissionDecision {
    const l = this.#limits;
    const play = req.action === AdmissionAction.Play;
    const http = HTTP_PROTOCOLS.has(req.protocol);
    const host = req.remote?.hostname;
    const counting = (play && (l.maxPlayers > 0 || l.maxPlayersPerStream > 0)) ||
      (!play && l.maxPublishers > 0) || (http && l.maxHttpConnections > 0) ||
      (host !== undefined && l.maxConnectionsPerAddress > 0);
    let c: Counts | undefined;
    if (counting) {
      c = this.#count(req, host);
      this.#withReservations(c, req.key, host);
      if (play) {
        if (over(c.players, l.maxPlayers)) {
          return full(`players ${c.players} of ${l.maxPlayers}`, LimitName.MaxPlayers);
        }
        if (over(c.streamPlayers, l.maxPlayersPerStream)) {
          return full(
            `players of ${req.key} ${c.streamPlayers} of ${l.maxPlayersPerStream}`,
            LimitName.MaxPlayersPerStream,
          );
        }
      } else if (over(c.publishers, l.maxPublishers)) {
        return full(`publishers ${c.publishers} of ${l.maxPublishers}`, LimitName.MaxPublishers);
      }
      if (http && over(c.http, l.maxHttpConnections)) {
        return full(`HTTP connections ${c.http} of ${l.maxHttpConnections}`, LimitName.MaxHttpConnections);
      }
      if (host !== undefined && over(c.fromAddress, l.maxConnectionsPerAddress)) {
        return full(
          `connections from ${host} ${c.fromAddress} of ${l.maxConnectionsPerAddress}`,
          LimitName.MaxConnectionsPerAddress,
        );
      }
    }
    const answer = play && l.maxBandwidthKbps > 0 ? this.#bandwidth(req.key, l.maxBandwidthKbps) : allow();
    if (c !== undefined && req.sessionId === undefined && answer.kind === DecisionKind.Allow) {
      this.#reserve(c, play, http, req.key, host);
    }
    return answer;
  }

  /** Raises `c`'s counts to what the reservations still running say. */
  #withReservations(c: Counts, key: string, host: string | undefined): void {
    if (this.#reserved.size === 0) return;
    const now = performance.now();
    for (const [name, r] of this.#reserved) if (now - r.at > RESERVE_MS) this.#reserved.delete(name);
    const at = (name: string, count: number) => {
      const r = this.#reserved.get(name);
      return r ? Math.max(count, r.base + r.reserved) : count;
    };
    c.players = at("players", c.players);
    c.streamPlayers = at(`stream ${key}`, c.streamPlayers);
    c.publishers = at("publishers", c.publishers);
    c.http = at("http", c.http);
    if (host !== undefined) c.fromAddress = at(`from ${host}`, c.fromAddress);
  }

  /** Counts an admitted request whose session is not in the registry yet. */
  #reserve(c: Counts, play: boolean, http: boolean, key: string, host: string | undefined): void {
    const now = performance.now();
    const add = (name: string, count: number) => {
      const r = this.#reserved.get(name);
      if (r === undefined || now - r.at > RESERVE_MS) {
        this.#reserved.set(name, { at: now, base: count, reserved: 1 });
      } else r.reserved++;
    };
    if (play) {
      add("players", c.players);
      add(`stream ${key}`, c.streamPlayers);
    } else add("publishers", c.publishers);
    if (http) add("http", c.http);
    if (host !== undefined) add(`from ${host}`, c.fromAddress);
  }

  /** One pass over the registry, the asking session left out. */
  #count(req: AdmissionRequest, host: string | undefined): Counts {
    const c: Counts = { players: 0, streamPlayers: 0, publishers: 0, http: 0, fromAddress: 0 };
    for (const s of this.#view.hub.sessions.list()) {
      if (req.sessionId !== undefined && s.id === req.sessionId) continue;
      if (PLAYER_ROLES.has(s.role)) {
        c.players++;
        if (s.key === req.key) c.streamPlayers++;
      } else if (s.role === Role.Publisher) {
        c.publishers++;
      }
      if (HTTP_PROTOCOLS.has(s.protocol)) c.http++;
      if (
        host !== undefined && ADDRESS_ROLES.has(s.role) && s.remote !== undefined && hostOf(s.remote) === host
      ) {
        c.fromAddress++;
      }
    }
    return c;
  }

  #bandwidth(key: string, maxKbps: number): AdmissionDecision {
    const { hub, meter } = this.#view;
    const outBps = meter.bps();
    const rate = hub.get(key)?.snapshot().bitrate;
    const streamBps = rate ? rate.video + rate.audio : 0;
    if (outBps + streamBps <= maxKbps * 1000) return allow();
    return deny(
      `bandwidth ${kbps(outBps)} kbit/s out + ${
        kbps(streamBps)
      } kbit/s for ${key} would pass ${maxKbps} kbit/s ` +
        `(limits.${LimitName.MaxBandwidthKbps})`,
      DenyKind.Unavailable,
      meter.windowS,
    );
  }
}

/** Whether a count leaves no room under `max` (0: no limit). */
function over(count: number, max: number): boolean {
  return max > 0 && count >= max;
}

function full(figure: string, limit: LimitName): AdmissionDecision {
  return deny(`${figure} (limits.${limit})`, DenyKind.Unavailable);
}

function kbps(bps: number): number {
  return Math.round(bps / 1000);
}

/** A copy of the limits, each a whole number 0 or more (TypeError / RangeError otherwise). */
function checked(limits: LimitsConfig): Readonly<LimitsConfig> {
  if (typeof limits !== "object" || limits === null) {
    throw new TypeError(`Cannot use limits: ${limits === null ? "null" : typeof limits}, expected an object`);
  }
  const out = {} as LimitsConfig;
  for (const name of LIMIT_NAMES) {
    const v: unknown = limits[name];
    if (typeof v !== "number") {
      throw new TypeError(`Cannot use limits.${name}: ${typeof v}, expected a whole number 0 or more`);
    }
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`Cannot use limits.${name}: ${v}, expected a whole number 0 or more`);
    }
    out[name] = v;
  }
  return Object.freeze(out);
}
