/**
 * A process of N light HLS players for `deno task bench --proto hls`. Each
 * player loads as hls.js does without `lowLatencyMode` (plain RFC 8216, no
 * blocking reloads, parts ignored): the playlist (a multivariant playlist's
 * first variant), the init section an `EXT-X-MAP` names, then every segment
 * not yet fetched, one at a time, starting LIVE_SYNC_SEGMENTS from the end
 * (hls.js's liveSyncDurationCount), and a reload one target duration after
 * the last one began (half of it when the playlist had not changed, RFC 8216
 * 6.3.4). Every player has its own HTTP client, so its own keep-alive
 * connection, as a browser has; all run in this one process.
 *
 * A player counts the bytes of every response, its time to first segment
 * (from its first request to the first segment's last byte), and plays in
 * simulation: playback starts at the first segment and needs each next one
 * by the end of the ones before; one that comes later is a stall, and one
 * that left the playlist (or is gone) before it was fetched is a gap. A
 * player kept up when it had neither, and no error. Its lag is
 * `now - PROGRAM-DATE-TIME - duration` at the newest segment's last byte;
 * null when the playlist has no EXT-X-PROGRAM-DATE-TIME.
 *
 * A probe player starts first and waits for the stream: it prints "probe
 * ready" at once (the bench starts the publisher) and "live" once the
 * playlist holds LIVE_SYNC_SEGMENTS segments. Then stdin says "go" (the
 * players join, one after another over a target duration), and "mark" twice: the measured window, whose
 * bytes each player reports apart.
 *
 * Usage: deno run -A bench/hls_players.ts URL N SECONDS  -> prints one JSON line of results.
 *
 * @module
 */

/** hls.js's liveSyncDurationCount: a live start this many segments from the end. */
export const LIVE_SYNC_SEGMENTS = 3;
/** Most bytes a playlist may have. */
export const MAX_PLAYLIST_BYTES = 1024 * 1024;
/** Most segments a playlist may list. */
export const MAX_PLAYLIST_SEGMENTS = 10_000;
/** How long a player waits before it asks again for a playlist that is not there yet, ms. */
const RETRY_MS = 200;
/** Players join one after another over this many target durations: their reloads spread as an audience's do. */
const JOIN_SPREAD_TARGET_DURATIONS = 1;

/** Playlist tags the players read (RFC 8216 4.3). */
const Tag = {
  /** 4.3.3.1 */
  TargetDuration: "#EXT-X-TARGETDURATION:",
  /** 4.3.3.2 */
  MediaSequence: "#EXT-X-MEDIA-SEQUENCE:",
  /** 4.3.2.1: duration, then an optional title after a comma. */
  Inf: "#EXTINF:",
  /** 4.3.2.5: the init section of the segments after it. */
  Map: "#EXT-X-MAP:",
  /** 4.3.2.6: the wall time of the next segment's first sample. */
  ProgramDateTime: "#EXT-X-PROGRAM-DATE-TIME:",
  /** 4.3.3.4 */
  EndList: "#EXT-X-ENDLIST",
  /** 4.3.4.2: a variant stream; its URI is the next line. */
  StreamInf: "#EXT-X-STREAM-INF:",
} as const;

/** One segment of a media playlist. */
export interface SegmentRef {
  msn: number;
  /** As the playlist writes it (relative to the playlist's URL). */
  uri: string;
  durationMs: number;
  /** EXT-X-PROGRAM-DATE-TIME, given or carried on from an earlier segment (4.3.2.6); undefined without. */
  pdtMs?: number;
  /** The URI of the init section in effect (EXT-X-MAP), if any. */
  map?: string;
}

/** What a player needs of a playlist. */
export interface Playlist {
  /** A multivariant playlist's variant URIs, in order; empty for a media playlist. */
  variants: string[];
  targetDurationS: number;
  segments: SegmentRef[];
  ended: boolean;
}

/** The value of attribute `name` in an attribute list (RFC 8216 4.2), unquoted. */
function attribute(list: string, name: string): string | undefined {
  const m = list.match(new RegExp(`(?:^|,)${name}=("[^"]*"|[^,]*)`));
  return m ? m[1].replace(/^"|"$/g, "") : undefined;
}

/** Parses the tags of a playlist the players use; other tags (parts, hints, server control) are ignored. */
export function parsePlaylist(text: string): Playlist {
  const out: Playlist = { variants: [], targetDurationS: 0, segments: [], ended: false };
  const lines = text.split("\n").map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") {
    throw new SyntaxError(
      `Cannot read a playlist: current first line is ${JSON.stringify(lines[0]?.slice(0, 40))}`,
    );
  }
  let msn = 0;
  let durationMs = -1;
  let pdtMs: number | undefined;
  let map: string | undefined;
  let variant = false;
  for (const line of lines) {
    if (line === "") continue;
    if (line.startsWith(Tag.TargetDuration)) {
      out.targetDurationS = Number(line.slice(Tag.TargetDuration.length));
    } else if (line.startsWith(Tag.MediaSequence)) msn = Number(line.slice(Tag.MediaSequence.length));
    else if (line.startsWith(Tag.Inf)) durationMs = 1000 * parseFloat(line.slice(Tag.Inf.length));
    else if (line.startsWith(Tag.Map)) map = attribute(line.slice(Tag.Map.length), "URI");
    else if (line.startsWith(Tag.ProgramDateTime)) pdtMs = Date.parse(line.slice(Tag.ProgramDateTime.length));
    else if (line === Tag.EndList) out.ended = true;
    else if (line.startsWith(Tag.StreamInf)) variant = true;
    else if (line.startsWith("#")) continue;
    else if (variant) {
      out.variants.push(line);
      variant = false;
    } else if (durationMs >= 0) {
      if (out.segments.length >= MAX_PLAYLIST_SEGMENTS) {
        throw new RangeError(
          `Cannot read a playlist: current segment count is past ${MAX_PLAYLIST_SEGMENTS}`,
        );
      }
      out.segments.push({ msn, uri: line, durationMs, pdtMs, map });
      msn++;
      if (pdtMs !== undefined) pdtMs += durationMs;
      durationMs = -1;
    }
  }
  if (!Number.isFinite(out.targetDurationS) || (out.variants.length === 0 && out.targetDurationS <= 0)) {
    throw new SyntaxError(`Cannot read a playlist: current target duration is ${out.targetDurationS}`);
  }
  return out;
}

/** One player's figures. */
export interface HlsPlayerResult {
  /** Bytes of every response body: playlists, init sections, segments. */
  bytes: number;
  /** Bytes that arrived between the two marks. */
  windowBytes: number;
  segments: number;
  playlists: number;
  /** Playlist requests answered 404 or 503 (not there yet, or busy), each asked for again. */
  retries: number;
  /** ms from the first request to the first segment's last byte; -1 without one. */
  firstSegmentMs: number;
  /** ms behind the segment's PROGRAM-DATE-TIME end at its last byte, the newest segment; null without PDT. */
  lagMs: number | null;
  /** Segments that arrived after playback needed them, and the end of the run if playback ran dry. */
  stalls: number;
  /** Segments that left the playlist, or were not there, before the player fetched them. */
  gaps: number;
  keptUp: boolean;
  error?: string;
}

/** Raised when a request ends because the run did. */
class RunOver extends Error {}

class HlsPlayer {
  readonly r: HlsPlayerResult = {
    bytes: 0,
    windowBytes: 0,
    segments: 0,
    playlists: 0,
    retries: 0,
    firstSegmentMs: -1,
    lagMs: null,
    stalls: 0,
    gaps: 0,
    keptUp: false,
  };
  /** The byte count at the first mark, or -1 before it. */
  markedAt = -1;
  #url: URL;
  #stopAt = 0;
  #abort = new AbortController();
  #signal = this.#abort.signal;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #client = Deno.createHttpClient({ http2: false, poolMaxIdlePerHost: 1 });
  #t0 = performance.now();
  /** Where playback is due to run dry: the first segment's arrival plus the duration of all since. */
  #playEnd = -1;
  #map: string | undefined;

  constructor(url: string, stopAt: number) {
    this.#url = new URL(url);
    this.stopAt(stopAt);
  }

  /** Sets when the run ends (performance.now() time): a request under way then is cut off. */
  stopAt(at: number): void {
    this.#stopAt = at;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#abort.abort(new RunOver()), Math.max(1, at - performance.now()));
  }

  /** The second mark: the bytes since the first. */
  mark(): void {
    if (this.markedAt < 0) this.markedAt = this.r.bytes;
    else this.r.windowBytes = this.r.bytes - this.markedAt;
  }

  /**
   * Runs until the stop time; `live` is called with the target duration (s) once the playlist holds
   * LIVE_SYNC_SEGMENTS segments.
   */
  async run(live?: (targetDurationS: number) => void): Promise<HlsPlayerResult> {
    const r = this.r;
    try {
      let url = this.#url;
      let pl = await this.#playlist(url, true);
      if (pl.variants.length > 0) {
        url = new URL(pl.variants[0], url);
        pl = await this.#playlist(url, true);
      }
      while (live && pl.segments.length < LIVE_SYNC_SEGMENTS && !pl.ended) {
        await this.#pause(RETRY_MS);
        pl = await this.#playlist(url, true);
      }
      live?.(pl.targetDurationS);
      let next = pl.segments[Math.max(0, pl.segments.length - LIVE_SYNC_SEGMENTS)]?.msn ?? 0;
      let loadedAt = performance.now();
      let changed = true;
      for (;;) {
        const first = pl.segments[0]?.msn ?? next;
        if (first > next) {
          r.gaps += first - next;
          next = first;
        }
        for (const seg of pl.segments) {
          if (seg.msn < next) continue;
          await this.#segment(seg, url);
          next = seg.msn + 1;
        }
        if (pl.ended) break;
        await this.#pause(loadedAt + pl.targetDurationS * (changed ? 1000 : 500) - performance.now());
        loadedAt = performance.now();
        const last = pl.segments.at(-1)?.msn ?? -1;
        pl = await this.#playlist(url, false) ?? pl;
        changed = (pl.segments.at(-1)?.msn ?? -1) > last;
      }
    } catch (e) {
      if (!(e instanceof RunOver) && !this.#signal.aborted) {
        r.error = e instanceof Error ? e.message : String(e);
      }
    } finally {
      clearTimeout(this.#timer);
      this.#client.close();
    }
    // Playback that ran dry before the run ended stalled too.
    if (this.#playEnd >= 0 && this.#playEnd < this.#stopAt) r.stalls++;
    r.keptUp = r.error === undefined && r.segments > 0 && r.stalls === 0 && r.gaps === 0;
    return r;
  }

  async #pause(ms: number): Promise<void> {
    if (performance.now() + ms >= this.#stopAt) throw new RunOver();
    if (ms > 0) await new Promise((res) => setTimeout(res, ms));
  }

  /** A playlist; while `wait`, one that is not there yet (404, 503) is asked for again. */
  async #playlist(url: URL, wait: true): Promise<Playlist>;
  async #playlist(url: URL, wait: false): Promise<Playlist | undefined>;
  async #playlist(url: URL, wait: boolean): Promise<Playlist | undefined> {
    for (;;) {
      const res = await fetch(url, { client: this.#client, signal: this.#signal });
      if (res.status === 200) {
        const body = await this.#body(res, MAX_PLAYLIST_BYTES);
        this.r.playlists++;
        return parsePlaylist(new TextDecoder().decode(body));
      }
      await res.body?.cancel();
      this.r.retries++;
      if (!wait) return undefined; // the next reload tries again
      if (res.status !== 404 && res.status !== 503) {
        throw new Error(`HTTP status ${res.status} for ${url.pathname}`);
      }
      await this.#pause(RETRY_MS);
    }
  }

  /** Fetches a segment (after its init section when that changed) and plays it in simulation. */
  async #segment(seg: SegmentRef, base: URL): Promise<void> {
    if (seg.map !== undefined && seg.map !== this.#map) {
      const res = await fetch(new URL(seg.map, base), { client: this.#client, signal: this.#signal });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`HTTP status ${res.status} for the init section`);
      }
      await this.#body(res);
      this.#map = seg.map;
    }
    const res = await fetch(new URL(seg.uri, base), { client: this.#client, signal: this.#signal });
    if (res.status !== 200) {
      await res.body?.cancel();
      this.r.gaps++;
      return;
    }
    await this.#body(res);
    const now = performance.now();
    const r = this.r;
    r.segments++;
    if (r.firstSegmentMs < 0) {
      r.firstSegmentMs = now - this.#t0;
      this.#playEnd = now;
    } else if (now > this.#playEnd) {
      r.stalls++;
      this.#playEnd = now; // playback resumes once the segment is in
    }
    this.#playEnd += seg.durationMs;
    if (seg.pdtMs !== undefined) r.lagMs = Date.now() - seg.pdtMs - seg.durationMs;
  }

  /** Reads a body to its end, counting its bytes; the bytes are kept only up to `keep`. */
  async #body(res: Response, keep = 0): Promise<Uint8Array> {
    const kept: Uint8Array[] = [];
    let size = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      this.r.bytes += value.length;
      size += value.length;
      if (keep > 0) {
        if (size > keep) {
          await reader.cancel();
          throw new RangeError(`Cannot read a playlist: current size ${size} is past ${keep}`);
        }
        kept.push(value);
      }
    }
    const out = new Uint8Array(keep > 0 ? size : 0);
    let o = 0;
    for (const k of kept) {
      out.set(k, o);
      o += k.length;
    }
    return out;
  }
}

/** stdin's lines, one at a time. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buf += text;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      yield buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
    }
  }
}

/** How long the probe may wait for the stream and the bench's "go", ms. */
const PROBE_WAIT_MS = 60_000;

if (import.meta.main) {
  const [url, nArg, secArg] = Deno.args;
  const n = Number(nArg), seconds = Number(secArg);
  // The probe waits for the stream; the bench starts the publisher when it sees "probe ready".
  const probe = new HlsPlayer(url, performance.now() + PROBE_WAIT_MS);
  let targetDurationS = 0;
  const probeDone = probe.run((td) => {
    targetDurationS = td;
    console.log("live");
  });
  console.log("probe ready");
  const input = lines(Deno.stdin.readable);
  if ((await input.next()).value !== "go") Deno.exit(1);
  // The run lasts SECONDS from "go".
  const stopAt = performance.now() + seconds * 1000;
  probe.stopAt(stopAt + 500);
  const players: HlsPlayer[] = [];
  const runs: Promise<HlsPlayerResult>[] = [];
  const joinStarted = performance.now();
  const marks = (async () => {
    for await (const line of input) if (line === "mark") { for (const p of players) p.mark(); }
  })();
  const spreadMs = targetDurationS * 1000 * JOIN_SPREAD_TARGET_DURATIONS;
  for (let i = 0; i < n; i++) {
    const wait = joinStarted + (i * spreadMs) / n - performance.now();
    if (wait >= 1) await new Promise((res) => setTimeout(res, wait));
    const p = new HlsPlayer(url, stopAt);
    players.push(p);
    runs.push(p.run());
  }
  const all = await Promise.all(runs);
  const p = await probeDone;
  console.log(JSON.stringify({ probe: p, players: all, joinMs: performance.now() - joinStarted }));
  void marks;
  Deno.exit(0);
}
