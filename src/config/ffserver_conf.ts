/**
 * ffserver's configuration file (`--ffserver-conf ffserver.conf`), read into
 * the overrides a JSONC config file gives: the object built here goes through
 * `configFromObject()` and `validateConfig()`, so the result is exactly what
 * the same settings written as JSONC would give. `--print-config` prints it,
 * the migrated config.
 *
 * The file is read as ffserver reads it: one directive a line, its name in any
 * case (`Port`, `port`, `PORT`), its values separated by white space, a value
 * with spaces in quotes ("..." or '...'); blank lines; `#` at the start of a
 * word comments out the rest of the line (ffserver took only whole lines, so
 * `/a#b` stays a path); blocks `<Feed NAME>`, `<Stream NAME>`, `<Redirect
 * NAME>`, each closed by its `</...>` and none inside another. Bounded:
 * `FFSERVER_MAX_BYTES`, `FFSERVER_MAX_LINES` lines, `FFSERVER_MAX_LINE_CHARS`
 * characters a line.
 *
 * The mapping:
 *
 * | ffserver                                     | Sluice                                                     |
 * | -------------------------------------------- | ---------------------------------------------------------- |
 * | `Port`, `HTTPPort` N                         | `http.port`                                                |
 * | `BindAddress`, `HTTPBindAddress` ADDR        | `http.host`                                                |
 * | `RTSPPort` N                                 | `rtsp.port`, and `rtsp.enabled` on                         |
 * | `RTSPBindAddress` ADDR                       | `rtsp.host`                                                |
 * | `MaxHTTPConnections`, `MaxClients` N         | `limits.maxHttpConnections`, `limits.maxPlayers`           |
 * | `MaxBandwidth` KBPS                          | `limits.maxBandwidthKbps`                                  |
 * | `CustomLog` FILE or `-`                      | `log.access`                                               |
 * | `<Feed NAME.ffm>`                            | a `feeds` entry: key `feed/NAME` (app "feed", the name     |
 * |                                              | without ".ffm"), push path `/NAME.ffm`, catchUp false      |
 * | `File`, `FileMaxSize` (K/M/G are 1024-based) | its `file`, `fileMaxSize` (ffserver's default 5 MiB when    |
 * |                                              | absent; below `MIN_RING_BYTES` raised to it, warned)       |
 * | `ACL allow\|deny ADDR [LAST]`                | an `acl` rule, in the file's order; `localhost` stands for |
 * |                                              | 127.0.0.1 and ::1 (ffserver looked the name up)            |
 * | `<Stream NAME>` with `Feed X.ffm`            | a `streams` entry: path `/NAME`, key `feed/X`, format flv  |
 * | `<Stream NAME>` with `File PATH`             | path `/NAME`, file PATH (an FLV file on demand)            |
 * | `Format flv`, `Format status`                | format "flv", "status" (the status page; no key)           |
 * | `Format rtp` with `Feed X.ffm`               | a `streams` entry of format rtp: path `/NAME`, key         |
 * |                                              | `feed/X`, the ACL: it plays at ffserver's                  |
 * |                                              | `rtsp://HOST:PORT/NAME` and at `rtsp://HOST:PORT/feed/X`   |
 * | `Format mpegts` with `Feed X.ffm`            | no `streams` entry: it plays at `/feed/X.ts` (MPEG-TS over |
 * |                                              | HTTP; warned with the new URL)                             |
 * | `Preroll`, `MaxTime` S                       | `prerollMs`, `maxTimeMs`                                   |
 * | `NoAudio`, `NoVideo`                         | `noAudio`, `noVideo`                                       |
 * | encoding lines in a `<Stream>` with a Feed   | a `transcodes` entry from `feed/X`, key `feed/<the stream  |
 * |                                              | name without its extension>` (`_2`, `_3`... when taken),   |
 * |                                              | and the stream serves that key (an rtp or mpegts one plays |
 * |                                              | at that key's RTSP or `.ts` URL)                           |
 *
 * A stream's format is its `Format` line, else its name's extension (`.flv`),
 * as ffserver guessed it. Encoding lines: `VideoSize` (WxH or a name ffmpeg
 * knows, `vga`, `hd720`...), `VideoFrameRate`, `VideoBitRate` (kbit/s),
 * `VideoGopSize`, `VideoIntraOnly` (a GOP of 1), `VideoCodec` (libx264, h264;
 * any other is warned and libx264 used: FLV here carries H.264), `AudioCodec`
 * (aac; any other warned, aac used), `AudioBitRate` (kbit/s),
 * `AudioSampleRate`, `AudioChannels`, and as ffmpeg arguments
 * `VideoBufferSize` (KiB, `-bufsize`), `PixelFormat` (`-pix_fmt`),
 * `AVOptionVideo NAME VALUE` (`-NAME:v VALUE`), `AVOptionAudio` (`-NAME:a`).
 *
 * Warned, one warning a line with what to use instead, and the rest of the
 * file still read (`FfserverWarning`): a `Format rtp` or `Format mpegts`
 * stream, with the URL it plays at now, and its NoAudio, NoVideo, MaxTime,
 * Preroll and ACL lines, which such a play does not apply; multicast
 * (`MulticastAddress`...) and `RTSPOption`; `Daemon` (Sluice never forks); a
 * `<Stream>` in a format other than flv, status, rtp and mpegts, a File-only
 * rtp or mpegts stream, or one with neither Feed nor File (skipped); `Launch` (not
 * run); `ReadOnlyFile` in a feed (a saved .ffm is not played, and a ring file
 * would write it); `Truncate`; `<Redirect>` and unknown blocks (one warning for
 * the block); encoding parameters with no transcode setting (`BitExact`,
 * `DctFastint`, `IdctSimple`, `VideoQMin`, presets...), warned wherever they
 * are; encoding lines of a File or status stream; a `Preroll` that cannot
 * start in the past (a File, a transcode, a feed without a File); unknown
 * directives, with the nearest known name. A warning is the line's own: the
 * mappable lines of a skipped stream add none (the skip says it), a codec
 * replaced is warned only where a transcode is made. `NoDaemon` and
 * `StartSendOnKey` are taken silently (Sluice never forks, and always starts a
 * player on a keyframe).
 *
 * Refused, with the line (`FfserverConfError`): a block not closed, a closing
 * tag with no opening, a block inside another, a directive without the value
 * it needs or with more values than it takes, a bad number or size, an ACL
 * that is no address rule (a host name other than localhost: names are not
 * looked up), a `Feed` that names no `<Feed>` of the file, and any setting
 * the schema refuses (`Cannot read FILE line N: http.port: 70000 is above the
 * maximum 65535`).
 *
 * @module
 */
import { aclRuleProblem, parseAddress } from "./acl.ts";
import { type ConfigOverrides, makeConfig } from "./config.ts";
import { configFromObject, type LoadOptions, nearestName, type ReadPermissionQuery } from "./config_file.ts";
import { MIN_RING_BYTES, setValueAt } from "./schema.ts";
import { ConfigError, showValue, validateConfig } from "./validate.ts";

/** The largest ffserver.conf read, in bytes (UTF-8). */
export const FFSERVER_MAX_BYTES = 1024 * 1024;
/** The most lines an ffserver.conf may have. */
export const FFSERVER_MAX_LINES = 10_000;
/** The longest line, in characters. */
export const FFSERVER_MAX_LINE_CHARS = 4096;
/** The app of every feed's stream key: `<Feed feed1.ffm>` is published as `feed/feed1`. */
export const FFSERVER_FEED_APP = "feed";
/** ffserver's `FileMaxSize` when a feed gives none: 5 MiB. */
export const FFSERVER_DEFAULT_FILE_MAX_SIZE = 5 * 1024 * 1024;

/** One line Sluice reads differently from ffserver, or not at all. */
export interface FfserverWarning {
  /** The line number, from 1. */
  line: number;
  /** The directive as written (`RTSPPort`), or the block (`<Stream>`). */
  directive: string;
  /** What happens instead, and what to use. */
  text: string;
}

/** What an ffserver.conf gives: the overrides (checked, list defaults filled) and its warnings in line order. */
export interface FfserverConf {
  overrides: ConfigOverrides;
  warnings: FfserverWarning[];
}

/** An ffserver.conf that cannot be read or used; `line` is the line at fault, 0 for the file as a whole. */
export class FfserverConfError extends Error {
  /** The file's path, as given. */
  readonly path: string;
  /** The line number, from 1; 0 when the problem is the whole file (missing, too large). */
  readonly line: number;

  constructor(path: string, line: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FfserverConfError";
    this.path = path;
    this.line = line;
  }
}

/** A warning as the server prints it: `ffserver.conf:12: TEXT`, as ffserver printed its own. */
export function ffserverWarningLine(path: string, warning: FfserverWarning): string {
  return `${path}:${warning.line}: ${warning.text}`;
}

// ---- reading a line

/** One directive line: its name as written, its values (quotes removed), its line and usage. */
interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  readonly line: number;
  /** How it is written, for messages: "Port N". */
  readonly usage: string;
}

/**
 * What separates words: ffserver's `av_isspace()`, the ASCII white space. Other white space (a no-break
 * space pasted from a web page) is part of a word, as in ffserver.
 */
const SPACE = /[ \t\n\v\f\r]/;

/** The words of a line, quotes removed, up to a `#` that starts a word; throws (via `fail`) on an open quote. */
function wordsOf(text: string, fail: (message: string) => never): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === "#") break;
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail(`a quote is not closed (${c})`);
      words.push(text.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    let end = i;
    while (end < text.length && !SPACE.test(text[end])) end++;
    words.push(text.slice(i, end));
    i = end;
  }
  return words;
}

// ---- values

const WHOLE = /^\d{1,15}$/;
const DECIMAL = /^\d{1,15}(\.\d{1,15})?$/;
const SIZE = /^(\d{1,15}(?:\.\d{1,15})?)([KMG])?$/i;
const SIZE_UNITS: Readonly<Record<string, number>> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
/** The characters of an ffmpeg option name (`AVOptionVideo flags +global_header`). */
const OPTION_NAME = /^[A-Za-z0-9_]{1,64}$/;
const PIXEL_FORMAT = /^[a-z0-9_]{1,32}$/;

/**
 * The picture size names ffmpeg's `av_parse_video_size()` knows that ffserver configurations use
 * (libavutil/parseutils.c has the full table).
 */
const VIDEO_SIZES: Readonly<Record<string, string>> = {
  sqcif: "128x96",
  qcif: "176x144",
  cif: "352x288",
  "4cif": "704x576",
  "16cif": "1408x1152",
  qqvga: "160x120",
  qvga: "320x240",
  vga: "640x480",
  svga: "800x600",
  xga: "1024x768",
  sxga: "1280x1024",
  uxga: "1600x1200",
  wvga: "852x480",
  wxga: "1366x768",
  wuxga: "1920x1200",
  hvga: "480x320",
  nhd: "640x360",
  qhd: "960x540",
  cga: "320x200",
  ega: "640x350",
  ntsc: "720x480",
  pal: "720x576",
  qntsc: "352x240",
  qpal: "352x288",
  sntsc: "640x480",
  spal: "768x576",
  film: "352x240",
  hd480: "852x480",
  hd720: "1280x720",
  hd1080: "1920x1080",
};

/** What `localhost` stands for in an ACL: ffserver looked the name up; Sluice takes both loopbacks. */
const LOCALHOST = ["127.0.0.1", "::1"] as const;

// ---- the blocks

/** A `<Feed>` block as read. */
interface FeedBlock {
  readonly kind: "feed";
  /** The tag as written ("Feed"). */
  readonly tag: string;
  readonly name: string;
  readonly line: number;
  file?: { path: string; line: number };
  fileMaxSize?: { bytes: number; line: number };
  acl: string[];
  aclLine?: number;
}

/** One encoding line of a `<Stream>`: what it sets on the transcode, and its note when one is made. */
interface EncodingLine {
  readonly d: Directive;
  /** The transcode field it sets (for the line of a refused value), when it sets one. */
  readonly field?: string;
  readonly apply: (job: Record<string, unknown>) => void;
  readonly note?: string;
}

/** A `<Stream>` block as read. */
interface StreamBlock {
  readonly kind: "stream";
  readonly tag: string;
  readonly name: string;
  readonly line: number;
  feed?: { name: string; d: Directive };
  file?: { path: string; d: Directive };
  format?: { value: string; d: Directive };
  preroll?: { ms: number; d: Directive };
  maxTime?: { ms: number; d: Directive };
  noAudio?: Directive;
  noVideo?: Directive;
  acl: string[];
  aclLine?: number;
  encoding: EncodingLine[];
}

/** A `<Redirect>` or unknown block: warned once, its lines not read. */
interface SkippedBlock {
  readonly kind: "redirect" | "other";
  readonly tag: string;
  readonly name: string;
  readonly line: number;
  url?: string;
}

type Block = FeedBlock | StreamBlock | SkippedBlock;

/** How one directive is read where it stands (`block` is null outside any block). */
interface Spec<B> {
  /** How it is written, for messages: "Port N". */
  readonly usage: string;
  readonly read: (r: Reader, block: B, d: Directive) => void;
}
type Table<B> = Readonly<Record<string, Spec<B>>>;

// ---- the reader

/** Reads one file: the state between lines, the warnings, the lines of the settings set. */
class Reader {
  readonly path: string;
  readonly warnings: FfserverWarning[] = [];
  /** The leaf settings set outside blocks (`http.port`), by section. */
  readonly globals: Record<string, unknown> = {};
  readonly feeds: FeedBlock[] = [];
  readonly streams: StreamBlock[] = [];
  /** The line each setting path came from (`http.port`, `feeds[0].file`), for refused values. */
  readonly lines = new Map<string, number>();
  block: Block | undefined;

  constructor(path: string) {
    this.path = path;
  }

  fail(line: number, message: string, options?: ErrorOptions): never {
    const where = line > 0 ? `${this.path} line ${line}` : this.path;
    throw new FfserverConfError(this.path, line, `Cannot read ${where}: ${message}`, options);
  }

  warn(line: number, directive: string, text: string): void {
    this.warnings.push({ line, directive, text });
  }

  /** Sets a leaf setting outside blocks; a later line wins, as in ffserver. */
  set(path: string, value: unknown, d: Directive): void {
    setValueAt(this.globals, path, value);
    this.lines.set(path, d.line);
  }

  read(text: string): void {
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    if (lines.length > FFSERVER_MAX_LINES) {
      this.fail(
        FFSERVER_MAX_LINES + 1,
        `current ${lines.length} lines is above the maximum ${FFSERVER_MAX_LINES}`,
      );
    }
    lines.forEach((raw, i) => this.readLine(raw, i + 1));
  }

  readLine(raw: string, n: number): void {
    if (raw.length > FFSERVER_MAX_LINE_CHARS) {
      this.fail(n, `current length ${raw.length} characters is above the maximum ${FFSERVER_MAX_LINE_CHARS}`);
    }
    const words = wordsOf(raw, (message) => this.fail(n, message));
    if (words.length === 0) return;
    const first = words[0];
    if (first.startsWith("</")) return this.close(words, n);
    if (first.startsWith("<")) return this.open(words, n);
    const block = this.block;
    if (block === undefined) return this.directive(GLOBAL, null, words, n, "outside a block");
    if (block.kind === "feed") return this.directive(FEED, block, words, n, "in <Feed>");
    if (block.kind === "stream") return this.directive(STREAM, block, words, n, "in <Stream>");
    if (block.kind === "redirect" && first.toLowerCase() === "url") block.url = words[1];
  }

  /** `<Feed NAME>`, `<Stream NAME>`, `<Redirect NAME>`, or an unknown block (warned, skipped). */
  open(words: string[], n: number): void {
    const tag = words[0].slice(1);
    const rest = words.slice(1).join(" ");
    if (!/^[A-Za-z]+>?$/.test(tag)) this.fail(n, `${showValue(words[0])} is not a tag (<Stream NAME>)`);
    if (tag.endsWith(">") || rest === ">" || rest === "") {
      const bare = tag.replace(/>$/, "");
      this.fail(n, `<${bare}> is missing its name (<${bare} NAME>)`);
    }
    if (!rest.endsWith(">")) this.fail(n, `<${tag} ${rest} has no closing ">" (<${tag} NAME>)`);
    const name = rest.slice(0, -1).trim();
    const open = this.block;
    if (open !== undefined) {
      this.fail(
        n,
        `<${tag} ${name}> is inside <${open.tag} ${open.name}> (line ${open.line}): close that with ` +
          `</${open.tag}> first`,
      );
    }
    const kind = tag.toLowerCase();
    if (kind === "feed") {
      const feed: FeedBlock = { kind, tag, name, line: n, acl: [] };
      this.feeds.push(feed);
      this.block = feed;
    } else if (kind === "stream") {
      const stream: StreamBlock = { kind, tag, name, line: n, acl: [], encoding: [] };
      this.streams.push(stream);
      this.block = stream;
    } else {
      this.block = { kind: kind === "redirect" ? "redirect" : "other", tag, name, line: n };
    }
  }

  /** `</Feed>` and the others: closes the block open, which must be of the same kind. */
  close(words: string[], n: number): void {
    const written = words.join(" ");
    const m = written.match(/^<\/([A-Za-z]+)\s*>$/);
    if (!m) this.fail(n, `${showValue(written)} is not a closing tag (</Stream>)`);
    const tag = m[1];
    const open = this.block;
    if (open === undefined) this.fail(n, `</${tag}> closes nothing: no <${tag}> is open`);
    if (open.tag.toLowerCase() !== tag.toLowerCase()) {
      this.fail(
        n,
        `</${tag}> does not close <${open.tag} ${open.name}> (line ${open.line}): close it with </${open.tag}>`,
      );
    }
    this.block = undefined;
    if (open.kind === "redirect") {
      const to = open.url === undefined ? "" : ` to ${open.url}`;
      this.warn(
        open.line,
        `<${open.tag}>`,
        `<${open.tag} ${open.name}>${to} is not served: Sluice has no redirects yet (put the redirect in a ` +
          `reverse proxy in front of it)`,
      );
    } else if (open.kind === "other") {
      this.warn(
        open.line,
        `<${open.tag}>`,
        `ignored: <${open.tag} ${open.name}> is no ffserver block Sluice reads`,
      );
    }
  }

  /** One directive line, read by the table of where it stands; an unknown one is warned. */
  directive<B>(table: Table<B>, block: B, words: string[], n: number, here: string): void {
    const name = words[0];
    const entry = lookup(table, name);
    if (entry === undefined) return this.warn(n, name, unknownText(name, here));
    entry.read(this, block, { name, args: words.slice(1), line: n, usage: entry.usage });
  }

  /** The overrides, checked by the schema, and the warnings in line order. */
  finish(): FfserverConf {
    const open = this.block;
    if (open !== undefined) {
      this.fail(open.line, `<${open.tag} ${open.name}> is not closed: </${open.tag}> is missing`);
    }
    const obj: Record<string, unknown> = { ...this.globals };
    const feedsByName = new Map(this.feeds.map((f) => [f.name, f]));
    const feeds = this.feeds.map((f, i) => this.feedEntry(f, i));
    const taken = new Set(feeds.map((f) => f.key as string));
    const streams: Record<string, unknown>[] = [];
    const transcodes: Record<string, unknown>[] = [];
    for (const s of this.streams) {
      const entry = this.streamEntry(s, feedsByName, taken, transcodes);
      if (entry === undefined) continue;
      this.blockLines(`streams[${streams.length}]`, s);
      streams.push(entry);
    }
    if (feeds.length > 0) obj.feeds = feeds;
    if (streams.length > 0) obj.streams = streams;
    if (transcodes.length > 0) obj.transcodes = transcodes;
    let overrides: ConfigOverrides;
    try {
      overrides = configFromObject(obj, this.path);
      validateConfig(makeConfig(overrides));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const detail = e.message.startsWith(`Cannot use ${e.path}: `)
        ? e.message.slice(`Cannot use ${e.path}: `.length)
        : e.message;
      this.fail(this.lineOf(e.path), `${e.path}: ${detail}`, { cause: e });
    }
    const warnings = this.warnings.map((w, i) => ({ w, i }))
      .sort((a, b) => a.w.line - b.w.line || a.i - b.i).map(({ w }) => w);
    return { overrides, warnings };
  }

  /** The line a setting path came from: its own, else its entry's, else 0. */
  lineOf(path: string): number {
    for (let p = path; p !== "";) {
      const line = this.lines.get(p);
      if (line !== undefined) return line;
      const cut = p.search(/(\.[^.[\]]+|\[\d+\])$/);
      if (cut <= 0) break;
      p = p.slice(0, cut);
    }
    return 0;
  }

  /** Records the lines of a stream entry's fields under `at` ("streams[1]"). */
  blockLines(at: string, s: StreamBlock): void {
    this.lines.set(at, s.line);
    if (s.feed) this.lines.set(`${at}.key`, s.feed.d.line);
    if (s.file) this.lines.set(`${at}.file`, s.file.d.line);
    if (s.format) this.lines.set(`${at}.format`, s.format.d.line);
    if (s.preroll) this.lines.set(`${at}.prerollMs`, s.preroll.d.line);
    if (s.maxTime) this.lines.set(`${at}.maxTimeMs`, s.maxTime.d.line);
    if (s.aclLine !== undefined) this.lines.set(`${at}.acl`, s.aclLine);
  }

  feedEntry(f: FeedBlock, i: number): Record<string, unknown> {
    const at = `feeds[${i}]`;
    this.lines.set(at, f.line);
    const entry: Record<string, unknown> = {
      key: feedKey(f.name),
      push: `/${f.name}`,
      fileMaxSize: f.fileMaxSize?.bytes ?? FFSERVER_DEFAULT_FILE_MAX_SIZE,
      catchUp: false,
      acl: f.acl,
    };
    if (f.file) {
      entry.file = f.file.path;
      this.lines.set(`${at}.file`, f.file.line);
    }
    if (f.fileMaxSize) this.lines.set(`${at}.fileMaxSize`, f.fileMaxSize.line);
    if (f.aclLine !== undefined) this.lines.set(`${at}.acl`, f.aclLine);
    return entry;
  }

  /**
   * A stream's entry, or undefined when it is skipped (warned); a transcode it needs is added to
   * `transcodes`, its key to `taken`.
   */
  streamEntry(
    s: StreamBlock,
    feedsByName: ReadonlyMap<string, FeedBlock>,
    taken: Set<string>,
    transcodes: Record<string, unknown>[],
  ): Record<string, unknown> | undefined {
    const title = `<${s.tag} ${s.name}>`;
    const path = `/${s.name}`;
    const format = s.format?.value.toLowerCase() ?? (/\.flv$/i.test(s.name) ? "flv" : undefined);
    if (format === "status") {
      const media = [s.feed?.d, s.file?.d, s.preroll?.d, s.maxTime?.d, s.noAudio, s.noVideo];
      for (const d of [...media, ...s.encoding.map((e) => e.d)]) {
        if (d) this.warn(d.line, d.name, `ignored: ${d.name} (a status stream serves no media)`);
      }
      return { path, format: "status", acl: s.acl };
    }
    if (format === undefined) {
      this.warn(
        s.line,
        `<${s.tag}>`,
        `${title} has no Format, and ffserver would serve the format its name says: skipped (add ` +
          `Format flv to serve it as FLV)`,
      );
      return undefined;
    }
    if (format !== "flv" && !isKeyFormat(format)) {
      const d = s.format!.d;
      this.warn(d.line, d.name, formatText(s.format!.value, title));
      return undefined;
    }
    if (!s.feed && !s.file) {
      this.warn(
        s.line,
        `<${s.tag}>`,
        `${title} has no Feed and no File: skipped (Feed NAME.ffm serves a feed, File PATH.flv a file)`,
      );
      return undefined;
    }
    if (format !== "flv") return this.servedByKey(s, format, feedsByName, taken, transcodes);
    const entry: Record<string, unknown> = { path, format: "flv", acl: s.acl };
    if (s.noAudio) entry.noAudio = true;
    if (s.noVideo) entry.noVideo = true;
    if (s.maxTime) entry.maxTimeMs = s.maxTime.ms;
    const preroll = prerollOf(s);
    if (!s.feed) {
      const file = s.file!;
      entry.file = file.path;
      if (!/\.flv$/i.test(file.path)) {
        this.warn(
          file.d.line,
          file.d.name,
          `Sluice serves FLV files only: ${showValue(file.path)} plays only if it is FLV`,
        );
      }
      if (preroll) {
        this.warn(preroll.d.line, preroll.d.name, `ignored: ${preroll.d.name} (a File plays from its start)`);
      }
      for (const { d } of s.encoding) {
        this.warn(d.line, d.name, `ignored: ${d.name} (a File is served as it is, not transcoded)`);
      }
      return entry;
    }
    const feed = this.feedOf(s, feedsByName);
    const { key, transcoded } = this.liveKey(s, feed, taken, transcodes);
    entry.key = key;
    if (preroll && transcoded) {
      this.warn(
        preroll.d.line,
        preroll.d.name,
        `ignored: ${preroll.d.name} (a transcoded stream has no ring file to start in the past; only a ` +
          `feed's File does)`,
      );
    } else if (preroll && feed.file === undefined) {
      this.warn(
        preroll.d.line,
        preroll.d.name,
        `ignored: ${preroll.d.name} (it needs a File in <${feed.tag} ${feed.name}>, the ring buffer a ` +
          `player starts in the past from)`,
      );
    } else if (preroll) {
      entry.prerollMs = preroll.ms;
    }
    return entry;
  }

  /** The `<Feed>` a stream's Feed line names (refused when the file has none); a File beside it is warned. */
  feedOf(s: StreamBlock, feedsByName: ReadonlyMap<string, FeedBlock>): FeedBlock {
    const feed = feedsByName.get(s.feed!.name);
    if (feed === undefined) {
      this.fail(s.feed!.d.line, `Feed ${showValue(s.feed!.name)} names no <Feed> of this file`);
    }
    if (s.file) {
      this.warn(
        s.file.d.line,
        s.file.d.name,
        `ignored: ${s.file.d.name} (the stream has a Feed, which it serves)`,
      );
    }
    return feed;
  }

  /**
   * The live key a stream of `feed` plays: the feed's own, or, with encoding lines, a transcode's made
   * from them (added to `transcodes`, its key to `taken`).
   */
  liveKey(
    s: StreamBlock,
    feed: FeedBlock,
    taken: Set<string>,
    transcodes: Record<string, unknown>[],
  ): { key: string; transcoded: boolean } {
    const from = feedKey(feed.name);
    if (s.encoding.length === 0) return { key: from, transcoded: false };
    const at = `transcodes[${transcodes.length}]`;
    const key = freeKey(`${FFSERVER_FEED_APP}/${s.name.replace(/\.[^.]*$/, "")}`, taken);
    taken.add(key);
    const job: Record<string, unknown> = { key, from, args: [] };
    this.lines.set(at, s.line);
    for (const line of s.encoding) {
      line.apply(job);
      if (line.field) this.lines.set(`${at}.${line.field}`, line.d.line);
      if (line.note) this.warn(line.d.line, line.d.name, line.note);
    }
    transcodes.push(job);
    return { key, transcoded: true };
  }

  /**
   * A `Format rtp` or `Format mpegts` stream, played by its key (the feed's, or its transcode's). An rtp
   * one keeps ffserver's URL too: a `streams` entry of format rtp at `/NAME` (`rtsp://HOST:PORT/NAME`), its
   * ACL with it, and a note on the Format line with both URLs. An mpegts one plays at the key's URL only
   * (no `streams` entry; warned with the new URL). The lines that have no meaning for such a play (NoAudio,
   * NoVideo, MaxTime, Preroll, and an mpegts stream's ACL) are warned. A File-only stream is skipped: files
   * are served as FLV.
   */
  servedByKey(
    s: StreamBlock,
    format: KeyFormat,
    feedsByName: ReadonlyMap<string, FeedBlock>,
    taken: Set<string>,
    transcodes: Record<string, unknown>[],
  ): Record<string, unknown> | undefined {
    const title = `<${s.tag} ${s.name}>`;
    const { how, player, setting, scheme, suffix } = KEY_FORMATS[format];
    const d = s.format!.d;
    const written = `${d.name} ${s.format!.value}`;
    if (!s.feed) {
      this.warn(
        d.line,
        d.name,
        `${written}: ${title} serves a File, and Sluice serves files as FLV only: skipped (Format flv ` +
          `serves it at /${s.name})`,
      );
      return undefined;
    }
    const feed = this.feedOf(s, feedsByName);
    const { key, transcoded } = this.liveKey(s, feed, taken, transcodes);
    const section = this.globals[setting] as Record<string, unknown> | undefined;
    const base = `${scheme}://${urlHost(section?.host)}:${section?.port ?? makeConfig()[setting].port}`;
    const url = `${base}/${key}${suffix}`;
    const what = transcoded ? "the transcode's stream" : `the stream of <${feed.tag} ${feed.name}>`;
    const aliased = format === "rtp";
    this.warn(
      d.line,
      d.name,
      aliased
        ? `${written}: ${title} plays ${how} at ffserver's ${base}/${s.name} and at ${url} (${what})`
        : `${written}: ${title} plays ${how} at ${url} (${what}), not at ffserver's ${base}/${s.name}`,
    );
    const unused: [Directive | undefined, string][] = [
      [s.noAudio, `${player} plays every track of ${key}`],
      [s.noVideo, `${player} plays every track of ${key}`],
      [s.maxTime && s.maxTime.ms > 0 ? s.maxTime.d : undefined, `${player} plays have no time limit`],
      [prerollOf(s)?.d, `${player} plays start live`],
    ];
    for (const [line, why] of unused) {
      if (line) this.warn(line.line, line.name, `ignored: ${line.name} (${why})`);
    }
    if (s.aclLine !== undefined) {
      this.warn(
        s.aclLine,
        "ACL",
        aliased
          ? `ACL guards ${base}/${s.name}; ${player} plays ${url} by its key with no ACL: restrict that with ` +
            `a rules[] entry, match "${key}", action "play", acl ${JSON.stringify(s.acl)}`
          : `ignored: ACL (a stream's ACL guards its own HTTP path, and ${player} plays ${key} by its key: ` +
            `restrict it with a rules[] entry, match "${key}", action "play", acl ${JSON.stringify(s.acl)})`,
      );
    }
    return aliased ? { path: `/${s.name}`, key, format: "rtp", acl: s.acl } : undefined;
  }
}

/** A stream's Preroll when it asks for a start in the past (above 0 s). */
function prerollOf(s: StreamBlock): { ms: number; d: Directive } | undefined {
  return s.preroll !== undefined && s.preroll.ms > 0 ? s.preroll : undefined;
}

/** The stream key of a feed: app "feed", the name without ".ffm" (`feed1.ffm` is `feed/feed1`). */
export function feedKey(name: string): string {
  return `${FFSERVER_FEED_APP}/${name.replace(/\.ffm$/i, "")}`;
}

/** `base`, or `base_2`, `base_3`... the first not in `taken`. */
function freeKey(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2;; i++) {
    if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
  }
}

/** The warning of a stream skipped for its format. */
function formatText(written: string, title: string): string {
  return `Format ${written} is not served: ${title} is skipped; use Format flv (HTTP-FLV, and ` +
    `WebSocket-FLV on upgrade), rtp (RTSP) or mpegts (MPEG-TS over HTTP)`;
}

/**
 * The formats a feed's stream is played in at a URL of its key rather than at the `<Stream>`'s own
 * path (ffserver's URL): how the warning says it plays, the player's name, the section of the
 * listener it plays on (its host and port make the URL), and the URL's scheme and ending after the key.
 */
const KEY_FORMATS = {
  /** ffserver: `rtsp://HOST:RTSPPort/NAME`; Sluice: `rtsp://HOST:PORT/{app}/{stream}` (src/rtsp/). */
  rtp: { how: "over RTSP", player: "RTSP", setting: "rtsp", scheme: "rtsp", suffix: "" },
  /** ffserver: `http://HOST:Port/NAME`; Sluice: `http://HOST:PORT/{app}/{stream}.ts` (src/outputs/http_ts.ts). */
  mpegts: { how: "as MPEG-TS over HTTP", player: "HTTP-TS", setting: "http", scheme: "http", suffix: ".ts" },
} as const;
type KeyFormat = keyof typeof KEY_FORMATS;

function isKeyFormat(format: string): format is KeyFormat {
  return Object.hasOwn(KEY_FORMATS, format);
}

/** A host as a URL shows it: `HOST` for an address that binds every interface (or none given). */
function urlHost(host: unknown): string {
  if (typeof host !== "string" || host === "" || host === "0.0.0.0" || host === "::") return "HOST";
  return host.includes(":") ? `[${host}]` : host;
}

// ---- value readers (they throw FfserverConfError through the reader)

function tooMany(r: Reader, d: Directive, most: number): never {
  const takes = most === 0 ? "takes no value" : most === 1 ? "takes one value" : `takes ${most} values`;
  r.fail(
    d.line,
    `${d.name} ${takes}, current ${d.args.length} (${d.usage}; quote a value that has spaces)`,
  );
}

/** No value: the directive is a flag. */
function none(r: Reader, d: Directive): void {
  if (d.args.length > 0) tooMany(r, d, 0);
}

/** The one value of `d`. */
function one(r: Reader, d: Directive): string {
  if (d.args.length === 0) r.fail(d.line, `${d.name} is missing its value (${d.usage})`);
  if (d.args.length > 1) tooMany(r, d, 1);
  return d.args[0];
}

/** The one value of `d`, a whole number. */
function whole(r: Reader, d: Directive): number {
  const v = one(r, d);
  if (!WHOLE.test(v)) r.fail(d.line, `${d.name} ${showValue(v)} is not a whole number (${d.usage})`);
  return Number(v);
}

/** The one value of `d`, a number (a fraction allowed). */
function decimal(r: Reader, d: Directive): number {
  const v = one(r, d);
  if (!DECIMAL.test(v)) r.fail(d.line, `${d.name} ${showValue(v)} is not a number (${d.usage})`);
  return Number(v);
}

/** The one value of `d`, seconds, as whole ms. */
function seconds(r: Reader, d: Directive): number {
  return Math.round(decimal(r, d) * 1000);
}

/**
 * An ffserver size in bytes: a number of bytes, or a number and K, M or G (1024-based, any case; "1.5M"
 * too); undefined when `text` is none.
 */
export function ffserverSize(text: string): number | undefined {
  const m = text.match(SIZE);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (m[2] === undefined ? 1 : SIZE_UNITS[m[2].toUpperCase()]));
}

/** The ACL rules of `ACL allow|deny ADDR [LAST]`, as `src/config/acl.ts` reads them. */
function aclRules(r: Reader, d: Directive): string[] {
  if (d.args.length < 2) {
    r.fail(d.line, `ACL is missing its ${d.args.length === 0 ? "action" : "address"} (${d.usage})`);
  }
  if (d.args.length > 3) tooMany(r, d, 3);
  const action = d.args[0].toLowerCase();
  if (action !== "allow" && action !== "deny") {
    r.fail(d.line, `ACL action ${showValue(d.args[0])} is neither allow nor deny (${d.usage})`);
  }
  const addresses = d.args.slice(1);
  for (const a of addresses) {
    if (a.toLowerCase() === "localhost" || a.toLowerCase() === "all" || a.includes("/")) continue;
    if (parseAddress(a) === undefined) {
      r.fail(
        d.line,
        `ACL ${showValue(a)} is no IP address: Sluice does not look host names up (write the address; ` +
          `localhost stands for 127.0.0.1 and ::1)`,
      );
    }
  }
  const rules = addresses.length === 1 && addresses[0].toLowerCase() === "localhost"
    ? LOCALHOST.map((a) => `${action} ${a}`)
    : [`${action} ${addresses.map((a) => a.toLowerCase() === "localhost" ? LOCALHOST[0] : a).join(" ")}`];
  for (const rule of rules) {
    const problem = aclRuleProblem(rule);
    if (problem !== undefined) r.fail(d.line, `ACL ${showValue(rule)}: ${problem}`);
  }
  return rules;
}

// ---- the tables: what each directive does where it stands

/** A table entry by name, any case. */
function lookup<B>(table: Table<B>, name: string): Spec<B> | undefined {
  const lower = name.toLowerCase();
  for (const [key, spec] of Object.entries(table)) if (key.toLowerCase() === lower) return spec;
  return undefined;
}

/** An entry that only warns: `ignored: NAME (why)`. */
function ignored<B>(why: string): Spec<B> {
  return { usage: "", read: (r, _b, d) => r.warn(d.line, d.name, `ignored: ${d.name} (${why})`) };
}

/** A global leaf setting from a whole number. */
function wholeSetting(path: string, usage: string): Spec<null> {
  return { usage, read: (r, _b, d) => r.set(path, whole(r, d), d) };
}

/** A global leaf setting from one value as written. */
function textSetting(path: string, usage: string): Spec<null> {
  return { usage, read: (r, _b, d) => r.set(path, one(r, d), d) };
}

const NO_DEFAULTS = "a transcode leaves what it does not set to ffmpeg's defaults";

/** The directives outside blocks. */
const GLOBAL: Table<null> = {
  Port: wholeSetting("http.port", "Port N"),
  HTTPPort: wholeSetting("http.port", "HTTPPort N"),
  BindAddress: textSetting("http.host", "BindAddress ADDR"),
  HTTPBindAddress: textSetting("http.host", "HTTPBindAddress ADDR"),
  RTSPPort: {
    usage: "RTSPPort N",
    read: (r, _b, d) => {
      r.set("rtsp.port", whole(r, d), d);
      r.set("rtsp.enabled", true, d);
    },
  },
  RTSPBindAddress: textSetting("rtsp.host", "RTSPBindAddress ADDR"),
  MaxHTTPConnections: wholeSetting("limits.maxHttpConnections", "MaxHTTPConnections N"),
  MaxClients: wholeSetting("limits.maxPlayers", "MaxClients N"),
  MaxBandwidth: wholeSetting("limits.maxBandwidthKbps", "MaxBandwidth KBPS"),
  CustomLog: textSetting("log.access", "CustomLog FILE|-"),
  NoDaemon: { usage: "NoDaemon", read: (r, _b, d) => none(r, d) },
  Daemon: {
    usage: "Daemon",
    read: (r, _b, d) =>
      r.warn(
        d.line,
        d.name,
        `Sluice never forks: ${d.name} is ignored and it runs in the foreground (a service manager runs ` +
          `it in the background)`,
      ),
  },
  NoDefaults: ignored(NO_DEFAULTS),
  UseDefaults: ignored(NO_DEFAULTS),
};

/** The directives of a `<Feed>`. */
const FEED: Table<FeedBlock> = {
  File: { usage: "File PATH", read: (r, f, d) => void (f.file = { path: one(r, d), line: d.line }) },
  FileMaxSize: {
    usage: "FileMaxSize BYTES|NK|NM|NG",
    read: (r, f, d) => {
      const v = one(r, d);
      const size = ffserverSize(v);
      if (size === undefined) {
        return r.fail(d.line, `${d.name} ${showValue(v)} is not a size (bytes, or a number and K, M or G)`);
      }
      let bytes = size;
      if (bytes < MIN_RING_BYTES) {
        r.warn(
          d.line,
          d.name,
          `${d.name} ${v} (${bytes} bytes) is below Sluice's smallest ring file, ${MIN_RING_BYTES} bytes: ` +
            `raised to it`,
        );
        bytes = MIN_RING_BYTES;
      }
      f.fileMaxSize = { bytes, line: d.line };
    },
  },
  ACL: {
    usage: "ACL allow|deny ADDR [LAST]",
    read: (r, f, d) => {
      f.acl.push(...aclRules(r, d));
      f.aclLine ??= d.line;
    },
  },
  Launch: {
    usage: "Launch ffmpeg ...",
    read: (r, f, d) =>
      r.warn(
        d.line,
        d.name,
        `${d.name} is not run: use a transcode, or run ffmpeg yourself (ffmpeg -re -i INPUT -c:v libx264 ` +
          `-c:a aac -f flv http://HOST:PORT/${f.name})`,
      ),
  },
  ReadOnlyFile: {
    usage: "ReadOnlyFile PATH",
    read: (r, _f, d) =>
      r.warn(
        d.line,
        d.name,
        `${d.name} is not read: Sluice does not play a saved .ffm file, and the feed gets no ring file ` +
          `(serve a recording as FLV with File in a <Stream>)`,
      ),
  },
  Truncate: ignored("Sluice has no setting for it"),
};

/** An encoding line of a `<Stream>`: read now (a bad value fails here), applied if a transcode is made. */
function encoding(
  usage: string,
  make: (r: Reader, d: Directive) => Omit<EncodingLine, "d"> | undefined,
): Spec<StreamBlock> {
  return {
    usage,
    read: (r, s, d) => {
      const line = make(r, d);
      if (line !== undefined) s.encoding.push({ d, ...line });
    },
  };
}

/** An encoding line that sets one transcode field. */
function field(usage: string, name: string, value: (r: Reader, d: Directive) => unknown): Spec<StreamBlock> {
  return encoding(usage, (r, d) => {
    const v = value(r, d);
    return { field: name, apply: (job) => void (job[name] = v) };
  });
}

/** `AVOptionVideo NAME VALUE` / `AVOptionAudio`: `-NAME:v VALUE` in the transcode's args. */
function avOption(usage: string, stream: "v" | "a", codecs: readonly string[]): Spec<StreamBlock> {
  return encoding(usage, (r, d) => {
    if (d.args.length < 2) {
      r.fail(d.line, `${d.name} is missing its ${d.args.length === 0 ? "name" : "value"} (${usage})`);
    }
    if (d.args.length > 2) tooMany(r, d, 2);
    const [written, value] = d.args;
    const colon = written.indexOf(":");
    const codec = colon < 0 ? undefined : written.slice(0, colon);
    const name = colon < 0 ? written : written.slice(colon + 1);
    if (!OPTION_NAME.test(name)) {
      r.fail(d.line, `${d.name} ${showValue(written)} is no option name (${usage})`);
    }
    if (codec !== undefined && !codecs.includes(codec.toLowerCase())) {
      r.warn(
        d.line,
        d.name,
        `ignored: ${d.name} ${written} (an option of ${codec}; the transcode uses ${codecs[0]})`,
      );
      return undefined;
    }
    return { field: "args", apply: (job) => void (job.args as string[]).push(`-${name}:${stream}`, value) };
  });
}

const NO_SETTING = "a transcode has no such setting; AVOptionVideo NAME VALUE passes an ffmpeg option";
const NO_MULTICAST = "Sluice's RTSP sends no multicast: a player gets RTP over TCP or UDP unicast";
const METADATA = "Sluice passes the publisher's metadata through";

/** The directives of a `<Stream>`. */
const STREAM: Table<StreamBlock> = {
  Feed: { usage: "Feed NAME.ffm", read: (r, s, d) => void (s.feed = { name: one(r, d), d }) },
  File: { usage: "File PATH", read: (r, s, d) => void (s.file = { path: one(r, d), d }) },
  ReadOnlyFile: { usage: "ReadOnlyFile PATH", read: (r, s, d) => void (s.file = { path: one(r, d), d }) },
  Format: {
    usage: "Format flv|status|rtp|mpegts",
    read: (r, s, d) => void (s.format = { value: one(r, d), d }),
  },
  Preroll: { usage: "Preroll SECONDS", read: (r, s, d) => void (s.preroll = { ms: seconds(r, d), d }) },
  MaxTime: { usage: "MaxTime SECONDS", read: (r, s, d) => void (s.maxTime = { ms: seconds(r, d), d }) },
  StartSendOnKey: { usage: "StartSendOnKey", read: (r, _s, d) => none(r, d) },
  NoAudio: {
    usage: "NoAudio",
    read: (r, s, d) => {
      none(r, d);
      s.noAudio = d;
    },
  },
  NoVideo: {
    usage: "NoVideo",
    read: (r, s, d) => {
      none(r, d);
      s.noVideo = d;
    },
  },
  ACL: {
    usage: "ACL allow|deny ADDR [LAST]",
    read: (r, s, d) => {
      s.acl.push(...aclRules(r, d));
      s.aclLine ??= d.line;
    },
  },
  // encoding lines that map
  VideoSize: field("VideoSize WxH|NAME", "videoSize", (r, d) => videoSize(r, d)),
  VideoFrameRate: field("VideoFrameRate FPS", "videoFps", (r, d) => decimal(r, d)),
  VideoBitRate: field("VideoBitRate KBPS", "videoBitrateKbps", (r, d) => Math.round(decimal(r, d))),
  VideoGopSize: field("VideoGopSize FRAMES", "videoGop", (r, d) => whole(r, d)),
  VideoIntraOnly: field("VideoIntraOnly", "videoGop", (r, d) => {
    none(r, d);
    return 1;
  }),
  VideoCodec: encoding("VideoCodec NAME", (r, d) => {
    const v = one(r, d);
    const note = ["libx264", "h264"].includes(v.toLowerCase())
      ? undefined
      : `${d.name} ${v}: FLV here carries H.264, so the transcode uses libx264`;
    return { field: "videoCodec", apply: (job) => void (job.videoCodec = "libx264"), note };
  }),
  AudioCodec: encoding("AudioCodec NAME", (r, d) => {
    const v = one(r, d);
    const note = v.toLowerCase() === "aac"
      ? undefined
      : `${d.name} ${v}: the transcode uses aac, the audio FLV here carries`;
    return { field: "audioCodec", apply: (job) => void (job.audioCodec = "aac"), note };
  }),
  AudioBitRate: field("AudioBitRate KBPS", "audioBitrateKbps", (r, d) => Math.round(decimal(r, d))),
  AudioSampleRate: field("AudioSampleRate HZ", "audioSampleRate", (r, d) => whole(r, d)),
  AudioChannels: field("AudioChannels N", "audioChannels", (r, d) => whole(r, d)),
  VideoBufferSize: encoding("VideoBufferSize KIB", (r, d) => {
    const bits = String(whole(r, d) * 8 * 1024);
    return { field: "args", apply: (job) => void (job.args as string[]).push("-bufsize", bits) };
  }),
  PixelFormat: encoding("PixelFormat NAME", (r, d) => {
    const v = one(r, d);
    if (!PIXEL_FORMAT.test(v)) r.fail(d.line, `${d.name} ${showValue(v)} is no pixel format (${d.usage})`);
    return { field: "args", apply: (job) => void (job.args as string[]).push("-pix_fmt", v) };
  }),
  AVOptionVideo: avOption("AVOptionVideo NAME VALUE", "v", ["libx264", "h264"]),
  AVOptionAudio: avOption("AVOptionAudio NAME VALUE", "a", ["aac"]),
  // encoding lines with no transcode setting
  BitExact: ignored(NO_SETTING),
  DctFastint: ignored(NO_SETTING),
  IdctSimple: ignored(NO_SETTING),
  VideoQMin: ignored(NO_SETTING),
  VideoQMax: ignored(NO_SETTING),
  VideoQDiff: ignored(NO_SETTING),
  Qscale: ignored(NO_SETTING),
  LumiMask: ignored(NO_SETTING),
  DarkMask: ignored(NO_SETTING),
  VideoHighQuality: ignored(NO_SETTING),
  Video4MotionVector: ignored(NO_SETTING),
  VideoTag: ignored(NO_SETTING),
  VideoBitRateTolerance: ignored(NO_SETTING),
  VideoBitRateRange: ignored(NO_SETTING),
  Debug: ignored(NO_SETTING),
  Strict: ignored(NO_SETTING),
  AVPresetVideo: ignored("preset files are not read; AVOptionVideo NAME VALUE passes an ffmpeg option"),
  AVPresetAudio: ignored("preset files are not read; AVOptionAudio NAME VALUE passes an ffmpeg option"),
  NoDefaults: ignored(NO_DEFAULTS),
  UseDefaults: ignored(NO_DEFAULTS),
  // the rest
  Metadata: ignored(METADATA),
  Title: ignored(METADATA),
  Author: ignored(METADATA),
  Comment: ignored(METADATA),
  Copyright: ignored(METADATA),
  MulticastAddress: ignored(NO_MULTICAST),
  MulticastPort: ignored(NO_MULTICAST),
  MulticastTTL: ignored(NO_MULTICAST),
  NoLoop: ignored(NO_MULTICAST),
  RTSPOption: ignored("Sluice's RTSP has no options per stream"),
  InputFormat: ignored("a File is read as FLV"),
  FaviconURL: ignored("the status page has no favicon setting"),
  DynamicACL: ignored("write ACL lines: the file is read again on SIGHUP"),
};

/** `VideoSize WxH` or a size name (`vga`, `hd720`), as "WxH"; an odd size is refused by libx264, so warned. */
function videoSize(r: Reader, d: Directive): string {
  const v = one(r, d);
  const size = VIDEO_SIZES[v.toLowerCase()] ?? v;
  if (!/^[1-9]\d{0,4}x[1-9]\d{0,4}$/.test(size)) {
    r.fail(d.line, `${d.name} ${showValue(v)} is not WIDTHxHEIGHT nor a size name (vga, hd720...)`);
  }
  return size;
}

/** Where each directive is read, for the warning of one in the wrong place. */
const PLACES: readonly [string, Table<unknown>][] = [
  ["outside a block", GLOBAL as Table<unknown>],
  ["in <Feed>", FEED as Table<unknown>],
  ["in <Stream>", STREAM as Table<unknown>],
];
/** Every directive name Sluice reads, for the nearest name to an unknown one. */
const ALL_NAMES: readonly string[] = [...new Set(PLACES.flatMap(([, t]) => Object.keys(t)))];

/** The warning of a directive not read `here`: where it belongs, or the nearest known name. */
function unknownText(name: string, here: string): string {
  const places = PLACES.filter(([, t]) => lookup(t, name) !== undefined).map(([p]) => p);
  if (places.length > 0) return `ignored: ${name} is not read ${here} (it belongs ${places.join(" or ")})`;
  const near = nearestName(name, ALL_NAMES);
  return `ignored: ${name} is not an ffserver directive Sluice reads` +
    (near === undefined ? "" : ` (did you mean ${near}?)`);
}

// ---- the entry points

/**
 * Reads the text of an ffserver.conf (`path` names it in messages) into config overrides and its
 * warnings, in line order. Pure: no file is read. Throws FfserverConfError naming the line for a syntax
 * error, a bound passed, or a value the schema refuses.
 */
export function parseFfserverConf(text: string, path: string): FfserverConf {
  const reader = new Reader(path);
  // A character is one to three UTF-8 bytes (a surrogate pair four for two): only a text near the bound
  // is encoded to count them.
  if (text.length > FFSERVER_MAX_BYTES) {
    reader.fail(0, `current size is above the maximum ${FFSERVER_MAX_BYTES} bytes`);
  }
  if (text.length * 3 > FFSERVER_MAX_BYTES) {
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > FFSERVER_MAX_BYTES) {
      reader.fail(0, `current size ${bytes} bytes is above the maximum ${FFSERVER_MAX_BYTES}`);
    }
  }
  reader.read(text.startsWith("\uFEFF") ? text.slice(1) : text);
  return reader.finish();
}

/** What loading `path` says without the read permission: the flag to add. */
export function missingFfserverReadMessage(path: string): string {
  return `Cannot read ${path}: run with --allow-read ` +
    `(deno run --allow-net --allow-read server.ts --ffserver-conf ${path})`;
}

const queryRead: ReadPermissionQuery = async (path) =>
  (await Deno.permissions.query({ name: "read", path })).state;

/** The text of `path`: UTF-8, at most FFSERVER_MAX_BYTES (a pipe or a device is bounded too). */
async function readText(path: string): Promise<string> {
  const failed = (message: string, cause?: unknown) =>
    new FfserverConfError(path, 0, `Cannot read ${path}: ${message}`, { cause });
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new FfserverConfError(path, 0, missingFfserverReadMessage(path));
    }
    throw failed(e instanceof Deno.errors.NotFound ? "there is no such file" : (e as Error).message, e);
  }
  try {
    if ((await file.stat()).isDirectory) throw failed("it is a folder, not a file");
    const buf = new Uint8Array(FFSERVER_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = await file.read(buf.subarray(n));
      if (got === null) break;
      n += got;
      if (n > FFSERVER_MAX_BYTES) {
        throw failed(`current size is above the maximum ${FFSERVER_MAX_BYTES} bytes`);
      }
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(0, n));
    } catch (e) {
      throw failed("it is not UTF-8 text", e);
    }
  } catch (e) {
    if (e instanceof FfserverConfError) throw e;
    throw failed((e as Error).message, e);
  } finally {
    file.close();
  }
}

/**
 * Reads the ffserver.conf at `path` (needs `--allow-read`; never prompts: without the permission the
 * message says which flag to add) and parses it with `parseFfserverConf()`. Throws FfserverConfError.
 */
export async function loadFfserverConf(path: string, options: LoadOptions = {}): Promise<FfserverConf> {
  if ((await (options.queryRead ?? queryRead)(path)) !== "granted") {
    throw new FfserverConfError(path, 0, missingFfserverReadMessage(path));
  }
  return parseFfserverConf(await readText(path), path);
}
