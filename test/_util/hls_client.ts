/**
 * HlsClient: a light HLS player for tests and benchmarks, the way a plain
 * (RFC 8216, not low-latency) player reads a live stream: the multivariant
 * playlist (its first variant), the media playlist, then the init section
 * (EXT-X-MAP) and every new segment as it appears, one at a time, reloading
 * the playlist about once per target duration (RFC 8216 6.3.4). It starts
 * `startSegments` segments back from the live edge (RFC 8216 6.3.3: not less
 * than three target durations from the end) and follows the media sequence
 * numbers from there. Nothing is decoded: each body is read whole and hashed
 * (SHA-256), so clients can be compared byte for byte.
 *
 * Written apart from `src/hls/`: it parses only what a player needs
 * (EXT-X-TARGETDURATION, EXT-X-MEDIA-SEQUENCE, EXT-X-MAP, EXTINF, EXT-X-ENDLIST,
 * EXT-X-STREAM-INF) and ignores every other tag, as RFC 8216 6.3.1 asks.
 *
 * @module
 */

/** One resource the client fetched (an init section or a segment). */
export interface HlsFetch {
  /** The URL's path (no query): what a cache keys it by. */
  path: string;
  /** The media sequence number of a segment; -1 for an init section. */
  msn: number;
  status: number;
  /** Body bytes read. */
  size: number;
  /** SHA-256 of the body, hex. */
  sha256: string;
  /** From sending the request to the end of the body, ms. */
  ms: number;
  /** The `X-Cache-Status` response header when there is one (a cache in front says HIT, MISS...). */
  cache: string | null;
}

/** What a run of the client saw. */
export interface HlsClientResult {
  /** Media playlist loads (the first one included). */
  reloads: number;
  /** Every request sent: playlists, init sections, segments. */
  requests: number;
  /** The paths of the segments it decided to play, in order (from its start point on). */
  listed: string[];
  /** Init sections and segments fetched, by path, in the order fetched. */
  fetched: Map<string, HlsFetch>;
  /** Problems (a playlist that was not 200, a request that threw), as text; empty on a clean run. */
  errors: string[];
  /** Whether a playlist ended with EXT-X-ENDLIST. */
  ended: boolean;
}

/** How the client plays. */
export interface HlsClientOptions {
  /** Segments back from the newest to start with (RFC 8216 6.3.3 asks for 3 target durations). Default 3. */
  startSegments?: number;
  /** Each request's bound, ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Stops the run early (requests in flight are aborted). */
  signal?: AbortSignal;
}

/** A media playlist as a player reads it. */
interface MediaPlaylist {
  targetDurationS: number;
  segments: { msn: number; uri: URL; map: URL | undefined }[];
  ended: boolean;
}

/** Tags the client reads (RFC 8216 section of each). */
const Tag = {
  /** 4.3.3.1 */
  TargetDuration: "#EXT-X-TARGETDURATION:",
  /** 4.3.3.2 */
  MediaSequence: "#EXT-X-MEDIA-SEQUENCE:",
  /** 4.3.2.5 */
  Map: "#EXT-X-MAP:",
  /** 4.3.2.1 */
  Inf: "#EXTINF:",
  /** 4.3.3.4 */
  EndList: "#EXT-X-ENDLIST",
  /** 4.3.4.2 */
  StreamInf: "#EXT-X-STREAM-INF:",
} as const;

/** Most bytes of one playlist the client reads. */
const PLAYLIST_MAX_BYTES = 1024 * 1024;

/** Reads one live HLS stream like a plain player (see the module doc). */
export class HlsClient {
  readonly url: URL;
  #startSegments: number;
  #timeoutMs: number;
  #signal: AbortSignal | undefined;
  #result: HlsClientResult = {
    reloads: 0,
    requests: 0,
    listed: [],
    fetched: new Map(),
    errors: [],
    ended: false,
  };

  /** `url`: a multivariant or a media playlist. */
  constructor(url: string | URL, options: HlsClientOptions = {}) {
    this.url = new URL(url);
    this.#startSegments = options.startSegments ?? 3;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#signal = options.signal;
    if (!Number.isInteger(this.#startSegments) || this.#startSegments < 1) {
      throw new RangeError(`Cannot start an HlsClient: current startSegments is ${options.startSegments}`);
    }
  }

  /** What the client saw so far (the same object run() resolves with). */
  get result(): HlsClientResult {
    return this.#result;
  }

  /**
   * Plays for `ms`: no reload starts after that, but the segments the last reload listed are still fetched
   * (so every listed segment is fetched). Resolves with the result; problems are in `errors`, never thrown.
   */
  async run(ms: number): Promise<HlsClientResult> {
    const deadline = Date.now() + ms;
    const r = this.#result;
    try {
      let media = this.url;
      let loadedAt = Date.now();
      let text = await this.#playlist(media);
      if (text?.includes(Tag.StreamInf)) {
        const variant = firstVariant(text);
        if (variant === undefined) {
          r.errors.push(`the multivariant playlist ${this.url} lists no variant`);
          return r;
        }
        media = new URL(variant, this.url);
        loadedAt = Date.now();
        text = await this.#playlist(media);
      }
      let next = -1;
      let map = "";
      for (;;) {
        r.reloads++;
        let targetMs = 1000;
        if (text !== undefined) {
          const pl = parseMedia(text, media);
          targetMs = pl.targetDurationS * 1000;
          r.ended ||= pl.ended;
          if (next < 0 && pl.segments.length > 0) {
            next = pl.segments[Math.max(0, pl.segments.length - this.#startSegments)].msn;
          }
          for (const seg of pl.segments) {
            if (seg.msn < next) continue;
            if (seg.map && seg.map.pathname !== map) {
              map = seg.map.pathname;
              await this.#fetchResource(seg.map, -1);
            }
            r.listed.push(seg.uri.pathname);
            await this.#fetchResource(seg.uri, seg.msn);
            next = seg.msn + 1;
          }
          if (pl.ended) break;
        }
        if (Date.now() >= deadline || this.#signal?.aborted) break;
        // RFC 8216 6.3.4: the next reload about one target duration after the previous one.
        const wait = Math.min(targetMs - (Date.now() - loadedAt), deadline - Date.now());
        if (wait > 0) await sleep(wait, this.#signal);
        if (this.#signal?.aborted) break;
        loadedAt = Date.now();
        text = await this.#playlist(media);
      }
    } catch (e) {
      r.errors.push(`${this.url}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return r;
  }

  /** A playlist's text, or undefined (with an error noted) when it is not a 200. */
  async #playlist(url: URL): Promise<string | undefined> {
    this.#result.requests++;
    const res = await fetch(url, { signal: this.#requestSignal() });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) {
      this.#result.errors.push(`playlist ${url.pathname}: status ${res.status}`);
      return undefined;
    }
    if (body.length > PLAYLIST_MAX_BYTES) {
      this.#result.errors.push(
        `Cannot read playlist ${url.pathname}: current size ${body.length} is over ${PLAYLIST_MAX_BYTES}`,
      );
      return undefined;
    }
    return new TextDecoder().decode(body);
  }

  async #fetchResource(url: URL, msn: number): Promise<void> {
    this.#result.requests++;
    const t0 = performance.now();
    const res = await fetch(url, { signal: this.#requestSignal() });
    const body = new Uint8Array(await res.arrayBuffer());
    const ms = performance.now() - t0;
    this.#result.fetched.set(url.pathname, {
      path: url.pathname,
      msn,
      status: res.status,
      size: body.length,
      sha256: await sha256(body),
      ms,
      cache: res.headers.get("x-cache-status"),
    });
  }

  #requestSignal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    return this.#signal ? AbortSignal.any([this.#signal, timeout]) : timeout;
  }
}

/** The URI of the first EXT-X-STREAM-INF of a multivariant playlist. */
function firstVariant(text: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => l.startsWith(Tag.StreamInf));
  return at < 0 ? undefined : lines.slice(at + 1).find((l) => l !== "" && !l.startsWith("#"));
}

/** The segments of a media playlist, numbered from EXT-X-MEDIA-SEQUENCE, each with the EXT-X-MAP before it. */
function parseMedia(text: string, base: URL): MediaPlaylist {
  let targetDurationS = 1;
  let msn = 0;
  let map: URL | undefined;
  let inSegment = false;
  const segments: MediaPlaylist["segments"] = [];
  let ended = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(Tag.TargetDuration)) targetDurationS = Number(line.slice(Tag.TargetDuration.length));
    else if (line.startsWith(Tag.MediaSequence)) msn = Number(line.slice(Tag.MediaSequence.length));
    else if (line.startsWith(Tag.Map)) {
      const uri = /URI="([^"]*)"/.exec(line)?.[1];
      map = uri === undefined ? undefined : new URL(uri, base);
    } else if (line.startsWith(Tag.Inf)) inSegment = true;
    else if (line.startsWith(Tag.EndList)) ended = true;
    else if (line !== "" && !line.startsWith("#") && inSegment) {
      segments.push({ msn: msn++, uri: new URL(line, base), map });
      inSegment = false;
    }
  }
  if (!(targetDurationS > 0)) targetDurationS = 1;
  return { targetDurationS, segments, ended };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
