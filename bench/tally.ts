/**
 * What one bench player counts (PlayerResult), and the live edge its lag is
 * measured against: the probe player, which joins before the publisher starts
 * and reads eagerly, records the wall time at which it saw each video
 * timestamp; every other player's lag is the time since the probe saw the
 * newest timestamp that player has.
 *
 * Timestamps are ms and must not go down within a player (RTMP and FLV: the
 * DTS; RTSP: the highest presentation time so far, see rtsp_player.ts).
 *
 * @module
 */
import { classify } from "../src/media/frame.ts";
import { MessageType } from "../src/rtmp/message.ts";

/**
 * The read pacing: playing players read in sweeps, one every SWEEP_MS ms on one clock shared by every
 * player of the process, as a C load generator sweeps its sockets (issue 13: 20 ms). `SWEEP_MS` in the
 * environment changes it for an experiment; the bench's header says when it is not the standard one.
 */
export const STANDARD_SWEEP_MS = 20;
export const SWEEP_MS = Number(Deno.env.get("SWEEP_MS") ?? STANDARD_SWEEP_MS);

/** The next sweep, shared: every player that waits for it resumes at the same tick. */
let nextSweep: Promise<void> | undefined;

/** Resolves at the next multiple of SWEEP_MS of this process's clock (performance.now()). */
export function sweep(): Promise<void> {
  nextSweep ??= new Promise((res) =>
    setTimeout(() => {
      nextSweep = undefined;
      res();
    }, SWEEP_MS - (performance.now() % SWEEP_MS))
  );
  return nextSweep;
}

export interface PlayerResult {
  frames: number;
  videoFrames: number;
  /** Media bytes delivered: FLV tag bodies (RTMP, HTTP-FLV, WebSocket-FLV) or RTP payloads (RTSP). */
  bytes: number;
  /** ms from connect to the first whole video keyframe. */
  firstFrameMs: number;
  firstTs: number;
  lastTs: number;
  lagMs: number;
  error?: string;
}

/** Live edge: wall time at which the probe saw each video timestamp, in timestamp order. */
const edge: { ts: number; at: number }[] = [];

function edgeAt(ts: number): number | undefined {
  let lo = 0, hi = edge.length - 1, found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (edge[mid].ts <= ts) {
      found = edge[mid].at;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** When a player stops (performance.now() ms): read at each loop, so the process can bring it forward. */
export interface PlayRun {
  stopAt: number;
}

/** Every player's tally but the probe's, for deliveredBytes(); one per player of the process. */
const players: Tally[] = [];

/** Whether `n` players have started and each has its first frame or has failed. */
export function allPlaying(n: number): boolean {
  return players.length >= n && players.every((t) => t.r.firstFrameMs >= 0 || t.r.error !== undefined);
}

/** The media bytes every player but the probe has received so far. */
export function deliveredBytes(): number {
  let n = 0;
  for (const t of players) n += t.r.bytes;
  return n;
}

/** Counts one player's frames and tracks its first frame and lag. */
export class Tally {
  readonly r: PlayerResult = {
    frames: 0,
    videoFrames: 0,
    bytes: 0,
    firstFrameMs: -1,
    firstTs: -1,
    lastTs: -1,
    lagMs: 0,
  };
  readonly t0 = performance.now();
  readonly probe: boolean;

  constructor(probe: boolean) {
    this.probe = probe;
    if (!probe) players.push(this);
  }

  /** One audio or video message (RTMP type id = FLV tag type) that arrived at `now`. */
  frame(type: number, timestamp: number, payload: Uint8Array, now: number): void {
    this.r.frames++;
    this.r.bytes += payload.length;
    if (type !== MessageType.Video) return;
    const { keyframe, sequenceHeader } = classify(type, payload);
    if (!sequenceHeader) this.picture(timestamp, keyframe, now);
  }

  /** One whole video picture with timestamp `ms` that arrived at `now`; pictures before the first keyframe do not count. */
  picture(ms: number, keyframe: boolean, now: number): void {
    const r = this.r;
    if (r.firstTs < 0 && !keyframe) return;
    r.videoFrames++;
    if (r.firstFrameMs < 0) r.firstFrameMs = now - this.t0;
    if (r.firstTs < 0) r.firstTs = ms;
    r.lastTs = ms;
    if (this.probe && (edge.length === 0 || edge[edge.length - 1].ts <= ms)) edge.push({ ts: ms, at: now });
  }

  /**
   * Before the next read: at once while the player sets up (and always for the probe, which marks the live
   * edge), at the next sweep (sweep(), every SWEEP_MS on the shared clock) once frames flow, as a real
   * player with a buffer reads; eager readers triple the server's measured CPU on loopback.
   */
  pace(): Promise<void> | undefined {
    if (this.probe || this.r.firstFrameMs < 0) return undefined;
    return sweep();
  }

  /** After a read's frames: the lag behind the probe's arrival of the same timestamp. */
  swept(now: number): void {
    if (!this.probe && this.r.lastTs >= 0) {
      const at = edgeAt(this.r.lastTs);
      if (at !== undefined) this.r.lagMs = now - at;
    }
  }
}
