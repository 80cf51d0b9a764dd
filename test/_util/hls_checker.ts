/**
 * A spec-rule checker for HLS playlists (RFC 8216, draft-pantos-hls-rfc8216bis
 * with Low-Latency HLS), written apart from `src/hls/playlist.ts` so that it
 * checks the rules and not the writer's own idea of them.
 *
 * - `checkMediaPlaylist(text, previous?)`: the violations of one media
 *   playlist, and of its changes since `previous` when given.
 * - `PlaylistChecker`: fed every reload of one media playlist in order; keeps
 *   what it saw (segments by media sequence number, parts by msn and index)
 *   and checks each reload against all of it. `uris()` lists every segment,
 *   part and init URI advertised (for a test that fetches each), `hints()`
 *   the preload hints.
 * - `checkMultivariant(text)`.
 *
 * Each violation is a string: the rule (a `HlsRule` value, which cites the
 * section), the line, and what was found. Parts are numbered by their
 * position before their parent's EXTINF (the first listed part of a segment
 * is taken as index 0: a server is assumed to list or drop a segment's parts
 * together).
 *
 * @module
 */

/** The rules checked; sections are rfc8216bis unless marked RFC 8216. */
export const HlsRule = {
  Extm3uFirst: "EXTM3U first (4.4.1.1)",
  TagOnce: "tag at most once (4.4.1.2, 4.4.2, 4.4.3, 4.4.5)",
  TargetDurationRequired: "EXT-X-TARGETDURATION required (4.4.3.1)",
  HeaderBeforeSegments: "playlist tags before the first segment (4.4.3.2, 4.4.3.3)",
  MapBeforeSegments: "EXT-X-MAP before the segments it applies to (4.4.4.5)",
  SegmentTagsBeforeParts: "segment tags before the segment's first EXT-X-PART (4.4.4.9)",
  SkipAfterHeader: "EXT-X-SKIP right after the playlist tags (4.4.5.2)",
  TrailingTags:
    "EXT-X-PRELOAD-HINT and EXT-X-RENDITION-REPORT after the last segment and part (4.4.5.3, 4.4.5.4)",
  Syntax: "syntax (4.2, 4.4.4.1)",
  ExtinfWithinTarget: "EXTINF rounded <= EXT-X-TARGETDURATION (4.4.3.1)",
  TargetDurationSteady: "EXT-X-TARGETDURATION never decreases",
  PartWithinTarget: "EXT-X-PART DURATION <= PART-TARGET (4.4.4.9)",
  PartFloor: "EXT-X-PART DURATION >= 85% of PART-TARGET unless INDEPENDENT or last (4.4.4.9)",
  PartsMakeSegment: "a segment's parts add up to its EXTINF (3.2)",
  PartInfRequired: "EXT-X-PART-INF required with EXT-X-PART (4.4.3.7)",
  PartHoldBack: "PART-HOLD-BACK required and >= 2x PART-TARGET (4.4.3.8)",
  SkipBoundary: "CAN-SKIP-UNTIL >= 6x EXT-X-TARGETDURATION (4.4.3.8)",
  SkipRules: "EXT-X-SKIP only with CAN-SKIP-UNTIL, only segments beyond it (4.4.5.2, 6.2.5.1)",
  Version: "EXT-X-VERSION high enough (8)",
  MediaSequenceMonotonic: "EXT-X-MEDIA-SEQUENCE never decreases (6.2.1)",
  SegmentSteady: "a media sequence number keeps its URI, duration and date (6.2.1)",
  DiscontinuitySequence: "EXT-X-DISCONTINUITY-SEQUENCE consistent (4.4.3.3, 6.2.2)",
  ProgramDateTime: "EXT-X-PROGRAM-DATE-TIME with ms and zone, increasing (4.4.4.6)",
  PartSteady: "a part is listed identically until it goes, and does not come back (6.2.1)",
  PartsRemovedInOrder: "parts removed in the order they appear (6.2.2)",
  PreloadHint: "EXT-X-PRELOAD-HINT: TYPE and URI, one per TYPE, none with ENDLIST (4.4.5.3)",
  RenditionReport: "EXT-X-RENDITION-REPORT: URI and LAST-MSN (4.4.5.4)",
  MixedTags:
    "no media tags in a multivariant playlist and no multivariant tags in a media one (4.4.3, 4.4.6)",
  StreamInf: "EXT-X-STREAM-INF attributes and URI line (4.4.6.2)",
} as const;
export type HlsRule = typeof HlsRule[keyof typeof HlsRule];

/** Rounding slack for durations written with three decimals. */
const EPSILON = 0.0005;

/** Tags of the playlist as a whole (4.4.2, 4.4.3): before the first segment. */
const PLAYLIST_TAGS = new Set([
  "EXT-X-VERSION",
  "EXT-X-TARGETDURATION",
  "EXT-X-MEDIA-SEQUENCE",
  "EXT-X-DISCONTINUITY-SEQUENCE",
  "EXT-X-PLAYLIST-TYPE",
  "EXT-X-I-FRAMES-ONLY",
  "EXT-X-PART-INF",
  "EXT-X-SERVER-CONTROL",
  "EXT-X-INDEPENDENT-SEGMENTS",
  "EXT-X-START",
  "EXT-X-DEFINE",
]);
/** Tags that may appear at most once. */
const ONCE_TAGS = new Set([
  "EXT-X-VERSION",
  "EXT-X-TARGETDURATION",
  "EXT-X-MEDIA-SEQUENCE",
  "EXT-X-DISCONTINUITY-SEQUENCE",
  "EXT-X-PLAYLIST-TYPE",
  "EXT-X-I-FRAMES-ONLY",
  "EXT-X-PART-INF",
  "EXT-X-SERVER-CONTROL",
  "EXT-X-INDEPENDENT-SEGMENTS",
  "EXT-X-START",
  "EXT-X-SKIP",
  "EXT-X-ENDLIST",
]);
/** Media segment tags that, for a parent segment, must come before its first EXT-X-PART. */
const PRE_PART_TAGS = new Set(["EXT-X-DISCONTINUITY", "EXT-X-MAP", "EXT-X-PROGRAM-DATE-TIME", "EXT-X-KEY"]);
/** Tags of multivariant playlists only (4.4.6). */
const MULTIVARIANT_TAGS = new Set([
  "EXT-X-STREAM-INF",
  "EXT-X-MEDIA",
  "EXT-X-I-FRAME-STREAM-INF",
  "EXT-X-SESSION-DATA",
  "EXT-X-SESSION-KEY",
  "EXT-X-CONTENT-STEERING",
]);
/** Tags of media playlists only (4.4.3, 4.4.4, 4.4.5). */
const MEDIA_TAGS = new Set([
  ...PLAYLIST_TAGS,
  "EXTINF",
  "EXT-X-BYTERANGE",
  "EXT-X-DISCONTINUITY",
  "EXT-X-KEY",
  "EXT-X-MAP",
  "EXT-X-PROGRAM-DATE-TIME",
  "EXT-X-GAP",
  "EXT-X-BITRATE",
  "EXT-X-PART",
  "EXT-X-DATERANGE",
  "EXT-X-SKIP",
  "EXT-X-PRELOAD-HINT",
  "EXT-X-RENDITION-REPORT",
  "EXT-X-ENDLIST",
]);
for (const t of ["EXT-X-INDEPENDENT-SEGMENTS", "EXT-X-START", "EXT-X-DEFINE", "EXT-X-VERSION"]) {
  MEDIA_TAGS.delete(t);
}

/** date-time-msec with a zone (4.4.4.6; the SHOULD on ms and zone taken as the rule). */
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,}(Z|[+-]\d\d:\d\d)$/;
const DECIMAL_INTEGER = /^\d+$/;
const DECIMAL_FLOAT = /^\d+(\.\d+)?$/;

interface Attr {
  value: string;
  quoted: boolean;
}

/** An attribute-list (4.2); a string on a syntax error. */
export function parseAttributes(text: string): Map<string, Attr> | string {
  const out = new Map<string, Attr>();
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) return `attribute without "=" at ${JSON.stringify(text.slice(i))}`;
    const name = text.slice(i, eq);
    if (!/^[A-Z0-9-]+$/.test(name)) return `bad attribute name ${JSON.stringify(name)}`;
    if (out.has(name)) return `attribute ${name} twice`;
    let value: string;
    let quoted = false;
    if (text[eq + 1] === '"') {
      const close = text.indexOf('"', eq + 2);
      if (close < 0) return `unterminated quoted-string for ${name}`;
      value = text.slice(eq + 2, close);
      quoted = true;
      i = close + 1;
    } else {
      const comma = text.indexOf(",", eq + 1);
      value = text.slice(eq + 1, comma < 0 ? text.length : comma);
      i = comma < 0 ? text.length : comma;
    }
    out.set(name, { value, quoted });
    if (i < text.length) {
      if (text[i] !== ",") return `expected "," after ${name}`;
      i++;
    }
  }
  return out;
}

/** One EXT-X-PART as listed. */
export interface ListedPart {
  msn: number;
  index: number;
  duration: number;
  uri: string;
  independent: boolean;
  line: number;
}

/** One media segment as listed. */
export interface ListedSegment {
  msn: number;
  duration: number;
  uri: string;
  line: number;
  discontinuity: boolean;
  pdt?: number;
  /** The Discontinuity Sequence Number, when it can be known (not after an unknown EXT-X-SKIP). */
  dsn?: number;
  parts: ListedPart[];
}

/** A media playlist as the checker reads it. */
export interface ParsedMediaPlaylist {
  version: number;
  targetDuration?: number;
  mediaSequence: number;
  discontinuitySequence: number;
  partTarget?: number;
  partHoldBack?: number;
  canSkipUntil?: number;
  skipped: number;
  segments: ListedSegment[];
  /** Parts after the last EXTINF: the open segment's. */
  openParts: ListedPart[];
  openMsn: number;
  openDiscontinuity: boolean;
  openPdt?: number;
  maps: string[];
  hints: { type: string; uri: string; line: number }[];
  endList: boolean;
}

interface Tag {
  name: string;
  value: string;
  line: number;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function tagOf(line: string, n: number): Tag | undefined {
  if (!line.startsWith("#EXT")) return undefined;
  const colon = line.indexOf(":");
  return colon < 0
    ? { name: line.slice(1), value: "", line: n }
    : { name: line.slice(1, colon), value: line.slice(colon + 1), line: n };
}

/** Reads a media playlist and finds the violations visible in it alone. */
export function parseMediaPlaylist(text: string): { playlist: ParsedMediaPlaylist; violations: string[] } {
  const v: string[] = [];
  const fail = (rule: HlsRule, line: number, detail: string) => v.push(`${rule}: line ${line}: ${detail}`);
  const lines = splitLines(text);
  if (lines[0] !== "#EXTM3U") fail(HlsRule.Extm3uFirst, 1, `first line is ${JSON.stringify(lines[0] ?? "")}`);

  const p: ParsedMediaPlaylist = {
    version: 1,
    mediaSequence: 0,
    discontinuitySequence: 0,
    skipped: 0,
    segments: [],
    openParts: [],
    openMsn: 0,
    openDiscontinuity: false,
    maps: [],
    hints: [],
    endList: false,
  };
  const seen = new Map<string, number>();
  let versionSeen = false;
  let firstMediaLine = 0;
  let skipLine = 0;
  let trailingLine = 0;
  let mapSeen = false;
  let mapChecked = false;
  let needsVersion = 1;
  let serverControl: Map<string, Attr> | undefined;
  // The segment being read: its tags so far.
  let pending = { discontinuity: false, pdt: undefined as number | undefined, parts: [] as ListedPart[] };
  let extinf: { duration: number; line: number } | undefined;

  const media = (t: number) => {
    if (firstMediaLine === 0) firstMediaLine = t;
    if (trailingLine > 0) {
      fail(HlsRule.TrailingTags, t, `media line after the trailing tags of line ${trailingLine}`);
      trailingLine = -1; // once
    }
  };
  const firstSegmentOrPart = (t: number) => {
    if (mapChecked) return;
    mapChecked = true;
    if (p.maps.length > 0 && !mapSeen) {
      fail(HlsRule.MapBeforeSegments, t, "the first segment has no EXT-X-MAP before it");
    }
  };
  const attrs = (tag: Tag): Map<string, Attr> | undefined => {
    const a = parseAttributes(tag.value);
    if (typeof a === "string") {
      fail(HlsRule.Syntax, tag.line, `${tag.name}: ${a}`);
      return undefined;
    }
    return a;
  };
  const float = (tag: Tag, a: Map<string, Attr>, name: string): number | undefined => {
    const x = a.get(name);
    if (x === undefined) return undefined;
    if (x.quoted || !DECIMAL_FLOAT.test(x.value)) {
      fail(HlsRule.Syntax, tag.line, `${tag.name} ${name}=${x.value} is no decimal-floating-point`);
      return undefined;
    }
    return Number(x.value);
  };
  const integer = (tag: Tag, s: string): number | undefined => {
    if (!DECIMAL_INTEGER.test(s)) {
      fail(HlsRule.Syntax, tag.line, `${tag.name}:${s} is no decimal-integer`);
      return undefined;
    }
    return Number(s);
  };

  // The URIs of EXT-X-MAP tags, in order, for the first-segment check (they may precede it).
  for (let i = 0; i < lines.length; i++) {
    const t = tagOf(lines[i], i + 1);
    if (t?.name === "EXT-X-MAP") {
      const a = parseAttributes(t.value);
      if (typeof a !== "string" && a.get("URI")) p.maps.push(a.get("URI")!.value);
    }
  }

  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i];
    if (line.trim() === "") continue;
    if (!line.startsWith("#")) {
      // A segment URI line.
      media(n);
      if (!extinf) {
        fail(HlsRule.Syntax, n, `URI ${JSON.stringify(line)} without EXTINF`);
        continue;
      }
      const msn = p.mediaSequence + p.skipped + p.segments.length;
      for (const part of pending.parts) part.msn = msn;
      p.segments.push({
        msn,
        duration: extinf.duration,
        uri: line,
        line: extinf.line,
        discontinuity: pending.discontinuity,
        pdt: pending.pdt,
        parts: pending.parts,
      });
      pending = { discontinuity: false, pdt: undefined, parts: [] };
      extinf = undefined;
      continue;
    }
    const tag = tagOf(line, n);
    if (!tag) continue; // a comment
    const name = tag.name;
    if (ONCE_TAGS.has(name)) {
      if (seen.has(name)) fail(HlsRule.TagOnce, n, `${name} again (first on line ${seen.get(name)})`);
      else seen.set(name, n);
    }
    if (MULTIVARIANT_TAGS.has(name)) fail(HlsRule.MixedTags, n, `${name} in a media playlist`);
    if (PLAYLIST_TAGS.has(name)) {
      if (firstMediaLine > 0) {
        fail(HlsRule.HeaderBeforeSegments, n, `${name} after the first segment line ${firstMediaLine}`);
      }
      if (skipLine > 0) fail(HlsRule.SkipAfterHeader, n, `${name} after EXT-X-SKIP on line ${skipLine}`);
    }
    if (PRE_PART_TAGS.has(name) && pending.parts.length > 0) {
      fail(
        HlsRule.SegmentTagsBeforeParts,
        n,
        `${name} after the segment's EXT-X-PART on line ${pending.parts[0].line}`,
      );
    }
    switch (name) {
      case "EXTM3U":
        fail(HlsRule.Extm3uFirst, n, "EXTM3U again");
        break;
      case "EXT-X-VERSION": {
        const x = integer(tag, tag.value);
        if (x !== undefined) p.version = x;
        versionSeen = true;
        break;
      }
      case "EXT-X-TARGETDURATION": {
        const x = integer(tag, tag.value);
        if (x !== undefined) p.targetDuration = x;
        break;
      }
      case "EXT-X-MEDIA-SEQUENCE": {
        const x = integer(tag, tag.value);
        if (x !== undefined) p.mediaSequence = x;
        break;
      }
      case "EXT-X-DISCONTINUITY-SEQUENCE": {
        const x = integer(tag, tag.value);
        if (x !== undefined) p.discontinuitySequence = x;
        break;
      }
      case "EXT-X-PART-INF": {
        const a = attrs(tag);
        if (a) p.partTarget = float(tag, a, "PART-TARGET");
        if (p.partTarget === undefined) fail(HlsRule.Syntax, n, "EXT-X-PART-INF without PART-TARGET");
        break;
      }
      case "EXT-X-SERVER-CONTROL": {
        serverControl = attrs(tag);
        if (serverControl) {
          p.partHoldBack = float(tag, serverControl, "PART-HOLD-BACK");
          p.canSkipUntil = float(tag, serverControl, "CAN-SKIP-UNTIL");
        }
        break;
      }
      case "EXT-X-SKIP": {
        needsVersion = Math.max(needsVersion, 9);
        if (firstMediaLine > 0 || trailingLine !== 0) {
          fail(HlsRule.SkipAfterHeader, n, `EXT-X-SKIP after the first segment line ${firstMediaLine}`);
        }
        skipLine = n;
        const a = attrs(tag);
        const x = a?.get("SKIPPED-SEGMENTS");
        if (!x || x.quoted || !DECIMAL_INTEGER.test(x.value)) {
          fail(HlsRule.Syntax, n, "EXT-X-SKIP without a decimal-integer SKIPPED-SEGMENTS");
        } else {
          p.skipped = Number(x.value);
        }
        break;
      }
      case "EXT-X-MAP": {
        needsVersion = Math.max(needsVersion, 6);
        media(n);
        mapSeen = true;
        const a = attrs(tag);
        if (a && !a.get("URI")?.quoted) fail(HlsRule.Syntax, n, "EXT-X-MAP without a quoted URI");
        break;
      }
      case "EXT-X-DISCONTINUITY":
        media(n);
        pending.discontinuity = true;
        break;
      case "EXT-X-PROGRAM-DATE-TIME": {
        media(n);
        if (!DATE_TIME.test(tag.value)) {
          fail(HlsRule.ProgramDateTime, n, `${tag.value} is no date-time with milliseconds and a zone`);
        }
        const ms = Date.parse(tag.value);
        if (Number.isNaN(ms)) fail(HlsRule.Syntax, n, `EXT-X-PROGRAM-DATE-TIME ${tag.value} is no date`);
        else pending.pdt = ms;
        break;
      }
      case "EXTINF": {
        media(n);
        firstSegmentOrPart(n);
        if (extinf) fail(HlsRule.Syntax, n, `EXTINF after the EXTINF of line ${extinf.line} without a URI`);
        const m = /^(\d+(?:\.\d+)?),/.exec(tag.value);
        if (!m) {
          fail(HlsRule.Syntax, n, `EXTINF:${tag.value} is no "<duration>,"`);
          extinf = { duration: 0, line: n };
        } else {
          if (m[1].includes(".")) needsVersion = Math.max(needsVersion, 3);
          extinf = { duration: Number(m[1]), line: n };
        }
        break;
      }
      case "EXT-X-BYTERANGE":
        needsVersion = Math.max(needsVersion, 4);
        media(n);
        break;
      case "EXT-X-PART": {
        media(n);
        firstSegmentOrPart(n);
        const a = attrs(tag);
        if (!a) break;
        const duration = float(tag, a, "DURATION");
        const uri = a.get("URI");
        if (duration === undefined || !uri?.quoted) {
          fail(HlsRule.Syntax, n, "EXT-X-PART needs DURATION and a quoted URI");
          break;
        }
        const independent = a.get("INDEPENDENT")?.value === "YES";
        pending.parts.push({
          msn: -1,
          index: pending.parts.length,
          duration,
          uri: uri.value,
          independent,
          line: n,
        });
        break;
      }
      case "EXT-X-PRELOAD-HINT": {
        if (trailingLine === 0) trailingLine = n;
        const a = attrs(tag);
        const type = a?.get("TYPE")?.value;
        const uri = a?.get("URI");
        if (!type || !uri?.quoted || (type !== "PART" && type !== "MAP")) {
          fail(HlsRule.PreloadHint, n, "needs TYPE=PART|MAP and a quoted URI");
        } else {
          if (p.hints.some((h) => h.type === type)) {
            fail(HlsRule.PreloadHint, n, `a second hint of TYPE=${type}`);
          }
          p.hints.push({ type, uri: uri.value, line: n });
        }
        break;
      }
      case "EXT-X-RENDITION-REPORT": {
        if (trailingLine === 0) trailingLine = n;
        const a = attrs(tag);
        if (!a?.get("URI")?.quoted || !DECIMAL_INTEGER.test(a.get("LAST-MSN")?.value ?? "")) {
          fail(HlsRule.RenditionReport, n, "needs a quoted URI and a decimal-integer LAST-MSN");
        }
        break;
      }
      case "EXT-X-ENDLIST":
        p.endList = true;
        break;
    }
  }
  if (extinf) fail(HlsRule.Syntax, extinf.line, "EXTINF without a URI line");
  p.openMsn = p.mediaSequence + p.skipped + p.segments.length;
  for (const part of pending.parts) part.msn = p.openMsn;
  p.openParts = pending.parts;
  p.openDiscontinuity = pending.discontinuity;
  p.openPdt = pending.pdt;

  // Discontinuity Sequence Numbers: known from the top unless segments were skipped.
  if (p.skipped === 0) {
    let dsn = p.discontinuitySequence;
    for (const s of p.segments) {
      if (s.discontinuity) dsn++;
      s.dsn = dsn;
    }
  }

  // Playlist-wide rules.
  if (p.targetDuration === undefined) fail(HlsRule.TargetDurationRequired, 1, "no EXT-X-TARGETDURATION");
  const td = p.targetDuration ?? Infinity;
  for (const s of p.segments) {
    if (Math.round(s.duration) > td) {
      fail(
        HlsRule.ExtinfWithinTarget,
        s.line,
        `EXTINF ${s.duration} rounds to ${Math.round(s.duration)} > ${td}`,
      );
    }
  }
  const allParts = [...p.segments.flatMap((s) => s.parts), ...p.openParts];
  if (allParts.length > 0 && p.partTarget === undefined) {
    fail(HlsRule.PartInfRequired, allParts[0].line, "EXT-X-PART without EXT-X-PART-INF");
  }
  if (p.partTarget !== undefined) {
    const target = p.partTarget;
    if (p.partHoldBack === undefined) fail(HlsRule.PartHoldBack, 1, "EXT-X-PART-INF without PART-HOLD-BACK");
    else if (p.partHoldBack + EPSILON < 2 * target) {
      fail(HlsRule.PartHoldBack, 1, `PART-HOLD-BACK ${p.partHoldBack} < 2 x PART-TARGET ${target}`);
    }
    for (const part of allParts) {
      if (part.duration > target + EPSILON / 10) {
        fail(HlsRule.PartWithinTarget, part.line, `DURATION ${part.duration} > PART-TARGET ${target}`);
      }
    }
    const floor = (parts: ListedPart[]) => {
      for (const part of parts.slice(0, -1)) {
        if (!part.independent && part.duration + EPSILON < 0.85 * target) {
          fail(HlsRule.PartFloor, part.line, `DURATION ${part.duration} < 85% of PART-TARGET ${target}`);
        }
      }
    };
    for (const s of p.segments) floor(s.parts);
    floor(p.openParts);
  }
  for (const s of p.segments) {
    if (s.parts.length === 0) continue;
    const sum = s.parts.reduce((n, x) => n + x.duration, 0);
    if (Math.abs(sum - s.duration) > EPSILON * 2 * (s.parts.length + 1)) {
      fail(HlsRule.PartsMakeSegment, s.line, `parts add up to ${sum.toFixed(3)}, EXTINF is ${s.duration}`);
    }
  }
  if (p.canSkipUntil !== undefined && p.canSkipUntil + EPSILON < 6 * td) {
    fail(HlsRule.SkipBoundary, 1, `CAN-SKIP-UNTIL ${p.canSkipUntil} < 6 x ${td}`);
  }
  if (skipLine > 0) {
    if (p.canSkipUntil === undefined) fail(HlsRule.SkipRules, skipLine, "EXT-X-SKIP without CAN-SKIP-UNTIL");
    else {
      const kept = p.segments.reduce((n, s) => n + s.duration, 0);
      if (p.skipped > 0 && kept + EPSILON < p.canSkipUntil) {
        fail(
          HlsRule.SkipRules,
          skipLine,
          `skipped a segment within the Skip Boundary: kept ${kept} < ${p.canSkipUntil}`,
        );
      }
    }
    if (p.endList) fail(HlsRule.SkipRules, skipLine, "EXT-X-SKIP with EXT-X-ENDLIST");
  }
  if (!versionSeen) p.version = 1;
  if (p.version < needsVersion) {
    fail(HlsRule.Version, 1, `EXT-X-VERSION ${p.version} < ${needsVersion} needed`);
  }
  let lastPdt = -Infinity;
  for (const s of [...p.segments, { pdt: p.openPdt, line: p.openParts[0]?.line ?? 0 }]) {
    if (s.pdt === undefined) continue;
    if (s.pdt <= lastPdt) {
      fail(HlsRule.ProgramDateTime, s.line, "EXT-X-PROGRAM-DATE-TIME not after the previous one");
    }
    lastPdt = s.pdt;
  }
  if (p.endList && p.hints.length > 0) {
    fail(HlsRule.PreloadHint, p.hints[0].line, "EXT-X-PRELOAD-HINT with EXT-X-ENDLIST");
  }
  return { playlist: p, violations: v };
}

function partKey(msn: number, index: number): string {
  return `${msn}/${index}`;
}

function partOrder(key: string): [number, number] {
  const [m, i] = key.split("/").map(Number);
  return [m, i];
}

function before(a: string, b: string): boolean {
  const [am, ai] = partOrder(a), [bm, bi] = partOrder(b);
  return am < bm || (am === bm && ai < bi);
}

/** Checks successive reloads of one media playlist. */
export class PlaylistChecker {
  #segments = new Map<number, ListedSegment>();
  #parts = new Map<string, ListedPart>();
  #listedParts: string[] = [];
  #gone = new Set<string>();
  #targetDuration: number | undefined;
  #mediaSequence: number | undefined;
  #discontinuitySequence: number | undefined;
  #uris = new Set<string>();
  #hints = new Set<string>();
  /** Every violation found so far, over all reloads. */
  readonly violations: string[] = [];
  /** Reloads fed. */
  reloads = 0;

  /** Checks the next reload; returns its violations (also added to `violations`). */
  feed(text: string): string[] {
    this.reloads++;
    const { playlist: p, violations: v } = parseMediaPlaylist(text);
    const fail = (rule: HlsRule, line: number, detail: string) => v.push(`${rule}: line ${line}: ${detail}`);

    if (p.targetDuration !== undefined) {
      if (this.#targetDuration !== undefined && p.targetDuration < this.#targetDuration) {
        fail(
          HlsRule.TargetDurationSteady,
          1,
          `EXT-X-TARGETDURATION ${p.targetDuration} < ${this.#targetDuration} before`,
        );
      }
      this.#targetDuration = Math.max(this.#targetDuration ?? 0, p.targetDuration);
    }
    if (this.#mediaSequence !== undefined && p.mediaSequence < this.#mediaSequence) {
      fail(
        HlsRule.MediaSequenceMonotonic,
        1,
        `EXT-X-MEDIA-SEQUENCE ${p.mediaSequence} < ${this.#mediaSequence} before`,
      );
    }
    this.#mediaSequence = Math.max(this.#mediaSequence ?? 0, p.mediaSequence);
    if (this.#discontinuitySequence !== undefined && p.discontinuitySequence < this.#discontinuitySequence) {
      fail(
        HlsRule.DiscontinuitySequence,
        1,
        `EXT-X-DISCONTINUITY-SEQUENCE ${p.discontinuitySequence} < ${this.#discontinuitySequence} before`,
      );
    }
    this.#discontinuitySequence = Math.max(this.#discontinuitySequence ?? 0, p.discontinuitySequence);

    // After an EXT-X-SKIP the Discontinuity Sequence Numbers count the skipped segments' tags too, when
    // all of them are known from an earlier reload.
    if (p.skipped > 0) {
      let dsn: number | undefined = p.discontinuitySequence;
      for (let msn = p.mediaSequence; msn < p.mediaSequence + p.skipped; msn++) {
        const known = this.#segments.get(msn);
        if (!known) {
          dsn = undefined;
          break;
        }
        if (known.discontinuity) dsn++;
      }
      if (dsn !== undefined) {
        for (const s of p.segments) {
          if (s.discontinuity) dsn++;
          s.dsn = dsn;
        }
      }
    }

    for (const s of p.segments) {
      const known = this.#segments.get(s.msn);
      if (known) {
        if (known.uri !== s.uri) {
          fail(HlsRule.SegmentSteady, s.line, `msn ${s.msn} was ${known.uri}, now ${s.uri}`);
        }
        if (Math.abs(known.duration - s.duration) > EPSILON / 10) {
          fail(HlsRule.SegmentSteady, s.line, `msn ${s.msn} lasted ${known.duration}, now ${s.duration}`);
        }
        if (known.pdt !== undefined && s.pdt !== undefined && known.pdt !== s.pdt) {
          fail(HlsRule.SegmentSteady, s.line, `msn ${s.msn} date changed`);
        }
        if (known.dsn !== undefined && s.dsn !== undefined && known.dsn !== s.dsn) {
          fail(
            HlsRule.DiscontinuitySequence,
            s.line,
            `msn ${s.msn} had discontinuity sequence ${known.dsn}, now ${s.dsn}`,
          );
        }
      }
      this.#segments.set(s.msn, { ...s, dsn: s.dsn ?? known?.dsn });
      this.#uris.add(s.uri);
    }

    const listed = [...p.segments.flatMap((s) => s.parts), ...p.openParts];
    const keys = listed.map((x) => partKey(x.msn, x.index));
    for (const part of listed) {
      const key = partKey(part.msn, part.index);
      if (this.#gone.has(key)) fail(HlsRule.PartSteady, part.line, `part ${key} came back after it went`);
      const known = this.#parts.get(key);
      if (
        known &&
        (known.uri !== part.uri || Math.abs(known.duration - part.duration) > EPSILON / 10 ||
          known.independent !== part.independent)
      ) {
        fail(HlsRule.PartSteady, part.line, `part ${key} changed`);
      }
      this.#parts.set(key, part);
      this.#uris.add(part.uri);
    }
    const current = new Set(keys);
    const oldest = keys[0];
    for (const key of this.#listedParts) {
      if (current.has(key)) continue;
      // A part of a segment still listed in full in this reload went: removed out of order.
      if (oldest !== undefined && before(oldest, key)) {
        fail(HlsRule.PartsRemovedInOrder, 1, `part ${key} went while the older part ${oldest} stays`);
      }
      this.#gone.add(key);
    }
    this.#listedParts = keys;
    for (const m of p.maps) this.#uris.add(m);
    for (const h of p.hints) this.#hints.add(h.uri);
    this.violations.push(...v);
    return v;
  }

  /** Every segment, part and init URI advertised so far, in the order first seen. */
  uris(): string[] {
    return [...this.#uris];
  }

  /** Every EXT-X-PRELOAD-HINT URI so far. */
  hints(): string[] {
    return [...this.#hints];
  }
}

/** The violations of one media playlist, and of its changes since `previous` when given. */
export function checkMediaPlaylist(text: string, previous?: string): string[] {
  const checker = new PlaylistChecker();
  if (previous !== undefined) checker.feed(previous);
  return checker.feed(text);
}

/** The violations of a multivariant playlist. */
export function checkMultivariant(text: string): string[] {
  const v: string[] = [];
  const fail = (rule: HlsRule, line: number, detail: string) => v.push(`${rule}: line ${line}: ${detail}`);
  const lines = splitLines(text);
  if (lines[0] !== "#EXTM3U") fail(HlsRule.Extm3uFirst, 1, `first line is ${JSON.stringify(lines[0] ?? "")}`);
  const seen = new Map<string, number>();
  let variants = 0;
  let awaitingUri = 0;
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i];
    if (line.trim() === "") continue;
    if (!line.startsWith("#")) {
      if (awaitingUri === 0) {
        fail(HlsRule.StreamInf, n, `URI ${JSON.stringify(line)} without EXT-X-STREAM-INF`);
      }
      awaitingUri = 0;
      continue;
    }
    const tag = tagOf(line, n);
    if (!tag) continue;
    if (awaitingUri > 0) {
      fail(HlsRule.StreamInf, awaitingUri, "EXT-X-STREAM-INF not followed by its URI line");
      awaitingUri = 0;
    }
    if (MEDIA_TAGS.has(tag.name)) fail(HlsRule.MixedTags, n, `${tag.name} in a multivariant playlist`);
    if (tag.name === "EXT-X-INDEPENDENT-SEGMENTS" || tag.name === "EXT-X-VERSION") {
      if (seen.has(tag.name)) {
        fail(HlsRule.TagOnce, n, `${tag.name} again (first on line ${seen.get(tag.name)})`);
      } else seen.set(tag.name, n);
    }
    if (tag.name === "EXTM3U") fail(HlsRule.Extm3uFirst, n, "EXTM3U again");
    if (tag.name !== "EXT-X-STREAM-INF") continue;
    variants++;
    awaitingUri = n;
    const a = parseAttributes(tag.value);
    if (typeof a === "string") {
      fail(HlsRule.Syntax, n, `EXT-X-STREAM-INF: ${a}`);
      continue;
    }
    const bw = a.get("BANDWIDTH");
    if (!bw || bw.quoted || !DECIMAL_INTEGER.test(bw.value)) {
      fail(HlsRule.StreamInf, n, "no decimal-integer BANDWIDTH");
    }
    const avg = a.get("AVERAGE-BANDWIDTH");
    if (avg && (avg.quoted || !DECIMAL_INTEGER.test(avg.value))) {
      fail(HlsRule.StreamInf, n, "AVERAGE-BANDWIDTH is no decimal-integer");
    } else if (avg && bw && Number(avg.value) > Number(bw.value)) {
      fail(HlsRule.StreamInf, n, `AVERAGE-BANDWIDTH ${avg.value} above the peak BANDWIDTH ${bw.value}`);
    }
    const res = a.get("RESOLUTION");
    if (res && (res.quoted || !/^\d+x\d+$/.test(res.value))) {
      fail(HlsRule.StreamInf, n, `RESOLUTION ${res.value}`);
    }
    const fps = a.get("FRAME-RATE");
    if (fps && (fps.quoted || !DECIMAL_FLOAT.test(fps.value))) {
      fail(HlsRule.StreamInf, n, `FRAME-RATE ${fps.value}`);
    }
    const codecs = a.get("CODECS");
    if (codecs && (!codecs.quoted || codecs.value === "")) {
      fail(HlsRule.StreamInf, n, "CODECS is no quoted list");
    }
  }
  if (awaitingUri > 0) fail(HlsRule.StreamInf, awaitingUri, "EXT-X-STREAM-INF not followed by its URI line");
  if (variants === 0) fail(HlsRule.StreamInf, 1, "no EXT-X-STREAM-INF");
  return v;
}
