/**
 * HLS playlists as text (RFC 8216 and draft-pantos-hls-rfc8216bis): pure
 * functions over a Segmenter snapshot and plain data. The caller names every
 * resource (`PlaylistUris`), so it decides the naming and the query strings
 * (session id, signed-URL token); a URI that cannot go into a quoted-string
 * or a line is refused (TypeError).
 *
 * Media playlist, in order: the header (`#EXTM3U`, `#EXT-X-VERSION`: the
 * lowest that fits, `#EXT-X-TARGETDURATION`, `#EXT-X-MEDIA-SEQUENCE`,
 * `#EXT-X-DISCONTINUITY-SEQUENCE` when nonzero, `#EXT-X-INDEPENDENT-SEGMENTS`
 * when every segment starts at a keyframe; low-latency: `#EXT-X-SERVER-CONTROL`
 * and `#EXT-X-PART-INF`), `#EXT-X-SKIP` in a delta update, then per segment
 * `#EXT-X-DISCONTINUITY`, `#EXT-X-MAP` (fMP4: before the first segment and
 * wherever the init changes), `#EXT-X-PROGRAM-DATE-TIME`, its `#EXT-X-PART`s
 * (low-latency, the segments that start within three Target Durations of the
 * end, rfc8216bis 6.2.2), `#EXTINF` and the URI; the open segment's parts;
 * then `#EXT-X-PRELOAD-HINT` and `#EXT-X-RENDITION-REPORT`s; `#EXT-X-ENDLIST`
 * once the stream ended (no parts, server control or hint then: 4.4.5.3 bars
 * a hint with ENDLIST, and there is no live edge to block on).
 *
 * One playlist serves every client: those that do not know LL-HLS ignore the
 * tags they do not know (RFC 8216 6.3.1) and play the segments.
 *
 * @module
 */
import type { SegmenterSnapshot, SegmentSnapshot } from "./segmenter.ts";

/** Numbers from the specs the playlists apply. */
export const PlaylistRule = {
  /** RFC 8216 7: a decimal-floating-point EXTINF needs version 3. */
  versionFloatDurations: 3,
  /**
   * rfc8216bis 4.4.4.5: EXT-X-MAP (without I-FRAMES-ONLY) needs version 6; low-latency playlists
   * (EXT-X-PART) say 6 as well, as Apple's examples do.
   */
  versionMapOrParts: 6,
  /** rfc8216bis 8: EXT-X-SKIP needs version 9. */
  versionSkip: 9,
  /** rfc8216bis 4.4.3.8: PART-HOLD-BACK MUST be >= 2 and SHOULD be >= 3 Part Target Durations: 3. */
  partHoldBackParts: 3,
  /** rfc8216bis 4.4.3.8: the Skip Boundary (CAN-SKIP-UNTIL) MUST be >= 6 Target Durations: 6. */
  skipBoundaryTargetDurations: 6,
  /** rfc8216bis 6.2.2: EXT-X-PART tags SHOULD go once more than 3 Target Durations from the end. */
  partTagsTargetDurations: 3,
} as const;

/** Names every resource a playlist points at. */
export interface PlaylistUris {
  /** A complete segment. */
  segment(msn: number): string;
  /** A part. */
  part(msn: number, index: number): string;
  /** The fMP4 init section of a version (Segmenter.init()); needed for fMP4. */
  init?(version: number): string;
  /** The next part, for EXT-X-PRELOAD-HINT; `part` when not given (the hint MUST match the later EXT-X-PART). */
  hint?(msn: number, index: number): string;
}

/** The newest part of another rendition (EXT-X-RENDITION-REPORT, rfc8216bis 4.4.5.4). */
export interface RenditionReport {
  /** Relative to the playlist that carries the report. */
  uri: string;
  lastMsn: number;
  lastPart?: number;
}

/** How to write a media playlist. */
export interface MediaPlaylistOptions {
  uris: PlaylistUris;
  /** LL-HLS: server control, part info, parts, preload hint, rendition reports. */
  lowLatency?: boolean;
  /**
   * A Playlist Delta Update (`_HLS_skip=YES`): the segments further from the end than CAN-SKIP-UNTIL
   * become one EXT-X-SKIP. Ignored without lowLatency or once ended (rfc8216bis 6.2.5.1: a server MUST
   * ignore `_HLS_skip` without CAN-SKIP-UNTIL or with EXT-X-ENDLIST); with nothing to skip the full
   * playlist is the delta update.
   */
  skip?: boolean;
  /** Low-latency: one report per other rendition of the multivariant playlist. */
  renditionReports?: readonly RenditionReport[];
}

/** One variant stream of a multivariant playlist (EXT-X-STREAM-INF, rfc8216bis 4.4.6.2). */
export interface Variant {
  /** The media playlist. */
  uri: string;
  /** Peak segment bit rate, bits/s. */
  bandwidth: number;
  /** Average segment bit rate, bits/s. */
  averageBandwidth?: number;
  resolution?: { width: number; height: number };
  /** Frames per second (written with three decimals). */
  frameRate?: number;
  /** RFC 6381 codec strings (HlsContainer.codecs()). */
  codecs: readonly string[];
}

/** Seconds with three decimals from ms (EXTINF, DURATION, the SERVER-CONTROL times). */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** EXT-X-PROGRAM-DATE-TIME's date-time-msec: ISO 8601 with milliseconds and Z (rfc8216bis 4.4.4.6). */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** A quoted-string attribute value (RFC 8216 4.2: no `"`, CR or LF inside). */
function quoted(value: string, what: string): string {
  if (/["\r\n]/.test(value)) {
    throw new TypeError(
      `Cannot write ${what}: current value ${JSON.stringify(value)} has a quote or a line break`,
    );
  }
  return `"${value}"`;
}

/** A URI line (no line break inside, and not starting with `#`). */
function uriLine(value: string, what: string): string {
  if (/[\r\n]/.test(value) || value.startsWith("#") || value === "") {
    throw new TypeError(`Cannot write ${what}: current value ${JSON.stringify(value)} is no URI line`);
  }
  return value;
}

/** How many of the oldest segments a delta update skips: all but the shortest tail lasting the Skip Boundary. */
function skippedSegments(segments: readonly SegmentSnapshot[], boundaryMs: number): number {
  let keptMs = 0;
  for (let i = segments.length - 1; i >= 0; i--) {
    keptMs += segments[i].durationMs;
    // Segments before i end keptMs or more from the end: further than the boundary (6.2.5.1).
    if (keptMs >= boundaryMs) return i;
  }
  return 0;
}

/** The media playlist of a snapshot. */
export function mediaPlaylist(snap: SegmenterSnapshot, options: MediaPlaylistOptions): string {
  const { uris } = options;
  const ll = options.lowLatency === true && !snap.ended;
  const td = snap.targetDurationS;
  const tdMs = td * 1000;
  const open = ll && snap.open && snap.open.parts.length > 0 ? snap.open : undefined;
  const skipBoundaryMs = PlaylistRule.skipBoundaryTargetDurations * tdMs;
  const skipped = ll && options.skip === true ? skippedSegments(snap.segments, skipBoundaryMs) : 0;
  const written = snap.segments.slice(skipped);
  const all = open ? [...snap.segments, open] : snap.segments;
  const fmp4 = snap.container === "fmp4";
  if (fmp4 && !uris.init) throw new TypeError(`Cannot write an fMP4 playlist: current uris have no init()`);
  const maps = fmp4 && [...written, ...(open ? [open] : [])].some((s) => s.initVersion > 0);
  const version = skipped > 0
    ? PlaylistRule.versionSkip
    : maps || ll
    ? PlaylistRule.versionMapOrParts
    : PlaylistRule.versionFloatDurations;

  const lines = ["#EXTM3U", `#EXT-X-VERSION:${version}`, `#EXT-X-TARGETDURATION:${td}`];
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${snap.mediaSequence}`);
  if (snap.discontinuitySequence > 0) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${snap.discontinuitySequence}`);
  }
  if (all.length > 0 && all.every((s) => s.independent)) lines.push("#EXT-X-INDEPENDENT-SEGMENTS");
  if (ll) {
    const holdBack = seconds(PlaylistRule.partHoldBackParts * snap.partTargetMs);
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${holdBack},CAN-SKIP-UNTIL=${
        seconds(skipBoundaryMs)
      }`,
    );
    lines.push(`#EXT-X-PART-INF:PART-TARGET=${seconds(snap.partTargetMs)}`);
  }
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);

  const totalMs = all.reduce((n, s) => n + s.durationMs, 0);
  const partsFromMs = totalMs - PlaylistRule.partTagsTargetDurations * tdMs;
  let startMs = snap.segments.slice(0, skipped).reduce((n, s) => n + s.durationMs, 0);
  let mapVersion = 0;
  const writeSegment = (seg: SegmentSnapshot, complete: boolean) => {
    if (seg.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
    if (fmp4 && seg.initVersion > 0 && seg.initVersion !== mapVersion) {
      mapVersion = seg.initVersion;
      lines.push(`#EXT-X-MAP:URI=${quoted(uris.init!(seg.initVersion), "EXT-X-MAP URI")}`);
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${dateTime(seg.programDateTimeMs)}`);
    if (ll && (!complete || startMs >= partsFromMs)) {
      for (const p of seg.parts) {
        const uri = quoted(uris.part(seg.msn, p.index), "EXT-X-PART URI");
        lines.push(
          `#EXT-X-PART:DURATION=${seconds(p.durationMs)},URI=${uri}${
            p.independent ? ",INDEPENDENT=YES" : ""
          }`,
        );
      }
    }
    if (complete) {
      lines.push(`#EXTINF:${seconds(seg.durationMs)},`);
      lines.push(uriLine(uris.segment(seg.msn), "a segment URI"));
    }
    startMs += seg.durationMs;
  };
  for (const seg of written) writeSegment(seg, true);
  if (open) writeSegment(open, false);

  if (ll) {
    if (snap.nextPart) {
      const { msn, index } = snap.nextPart;
      const hint = (uris.hint ?? uris.part).call(uris, msn, index);
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(hint, "EXT-X-PRELOAD-HINT URI")}`);
    }
    for (const r of options.renditionReports ?? []) {
      const last = r.lastPart === undefined ? "" : `,LAST-PART=${r.lastPart}`;
      lines.push(
        `#EXT-X-RENDITION-REPORT:URI=${
          quoted(r.uri, "EXT-X-RENDITION-REPORT URI")
        },LAST-MSN=${r.lastMsn}${last}`,
      );
    }
  }
  if (snap.ended) lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}

/**
 * What another rendition's playlist reports about this one: its newest part
 * (LAST-MSN, LAST-PART); undefined before the first part.
 */
export function renditionReport(snap: SegmenterSnapshot, uri: string): RenditionReport | undefined {
  const open = snap.open;
  if (open && open.parts.length > 0) return { uri, lastMsn: open.msn, lastPart: open.parts.length - 1 };
  const last = snap.segments.at(-1);
  if (!last) return undefined;
  return { uri, lastMsn: last.msn, lastPart: last.parts.length - 1 };
}

/** RFC 6381 codec strings as rfc8216bis 4.4.6.2 puts them in CODECS. */
const CODEC = /^[A-Za-z0-9][A-Za-z0-9.\-]*$/;

/** The multivariant playlist of some variant streams, highest first as given. */
export function multivariantPlaylist(variants: readonly Variant[]): string {
  if (variants.length === 0) {
    throw new TypeError(`Cannot write a multivariant playlist: current variants are none`);
  }
  // EXT-X-INDEPENDENT-SEGMENTS goes in the media playlists, which know (rfc8216bis 4.4.2.1: SHOULD NOT be
  // in both; a media playlist leaves it out while a segment without a keyframe start is listed).
  const lines = ["#EXTM3U"];
  for (const v of variants) {
    const what = `the variant ${JSON.stringify(v.uri)}`;
    if (!Number.isInteger(v.bandwidth) || v.bandwidth <= 0) {
      throw new RangeError(`Cannot write ${what}: bandwidth is ${v.bandwidth}, expected a positive integer`);
    }
    const attrs = [`BANDWIDTH=${v.bandwidth}`];
    if (v.averageBandwidth !== undefined) {
      if (
        !Number.isInteger(v.averageBandwidth) || v.averageBandwidth <= 0 || v.averageBandwidth > v.bandwidth
      ) {
        throw new RangeError(
          `Cannot write ${what}: averageBandwidth is ${v.averageBandwidth}, expected a positive integer up to bandwidth`,
        );
      }
      attrs.push(`AVERAGE-BANDWIDTH=${v.averageBandwidth}`);
    }
    if (v.resolution) {
      const { width, height } = v.resolution;
      if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
        throw new RangeError(
          `Cannot write ${what}: resolution is ${width}x${height}, expected positive integers`,
        );
      }
      attrs.push(`RESOLUTION=${width}x${height}`);
    }
    if (v.frameRate !== undefined) {
      if (!(v.frameRate > 0) || !Number.isFinite(v.frameRate)) {
        throw new RangeError(`Cannot write ${what}: frameRate is ${v.frameRate}, expected a positive number`);
      }
      attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    }
    if (v.codecs.length > 0) {
      const bad = v.codecs.find((c) => !CODEC.test(c));
      if (bad !== undefined) {
        throw new TypeError(`Cannot write ${what}: codec ${JSON.stringify(bad)} is no RFC 6381 codec string`);
      }
      attrs.push(`CODECS="${v.codecs.join(",")}"`);
    }
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`);
    lines.push(uriLine(v.uri, what));
  }
  return lines.join("\n") + "\n";
}
