/**
 * Where a VOD request points: a request path (HTTP, still percent-encoded) or
 * a play path (RTMP, raw) becomes the real path of a regular `.flv` file
 * inside the VOD root, or a refusal. Nothing outside the root is ever named.
 *
 * A path is refused when:
 * - it is empty, longer than 1024 bytes, absolute (a leading `/`), or has an
 *   empty segment (`a//b`) or a segment longer than 255 bytes;
 * - a segment is `.` or `..`, also percent-encoded (`%2e%2e`, `%2E%2E`), or
 *   starts with `.` at all (hidden files and folders are not served);
 * - it holds a backslash, a NUL or another control character, raw or
 *   percent-encoded, or an encoded slash (`%2f`): a segment never names two;
 * - its percent-encoding is malformed;
 * - it does not end in `.flv`: the folder may hold files nobody meant to
 *   publish (recordings being written, notes), and FLV is what both the HTTP
 *   and the RTMP side serve;
 * - the file does not exist or is not a regular file;
 * - its real path (every symlink resolved, `Deno.realPath`) is not inside the
 *   root's real path. A symlink inside the root that points inside is fine.
 *
 * Callers answer every refusal the same way (HTTP 404, RTMP StreamNotFound),
 * so a client cannot tell a refused path from a missing file; the reason is
 * for the server's log. The file is then opened by its real path, so a
 * symlink swapped after the check is not followed (a folder on the path
 * swapped in between still could be: the root is trusted to its owner).
 *
 * Reading needs `--allow-read`; {@linkcode vodReadDenied} says what to add
 * when it is missing, without prompting.
 *
 * @module
 */

/** The one file type VOD serves. */
export const VOD_EXTENSION = ".flv";

/** Longest request or play path accepted, in bytes of its (encoded) text. */
export const MAX_VOD_PATH = 1024;

/** Longest path segment accepted, in characters after decoding (a common file-system name limit). */
const MAX_SEGMENT = 255;

/** The separator of the host's file paths. */
const SEP = Deno.build.os === "windows" ? "\\" : "/";

/** A resolved VOD file. */
export interface VodFile {
  /** Real path of the file (symlinks resolved); open this one. */
  readonly path: string;
  /** Size in bytes when it was checked. */
  readonly size: number;
  /** Last modification time, when the file system keeps it. */
  readonly mtime: Date | null;
}

/** A result, or why there is none (for the log, never for the client). */
export type Resolved<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly reason: string;
};

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** Control characters (C0 and DEL), backslash and slash: never inside one segment. */
// deno-lint-ignore no-control-regex
const BAD_IN_SEGMENT = /[\u0000-\u001f\u007f\\/]/;

/** Checks decoded segments (see the module doc); returns them or the first rule broken. */
export function checkSegments(segments: readonly string[]): Resolved<string[]> {
  if (segments.length === 0) return refuse("the path is empty");
  for (const s of segments) {
    if (s === "") return refuse("the path is absolute or has an empty segment");
    if (s === "." || s === "..") return refuse(`a segment is "${s}"`);
    if (BAD_IN_SEGMENT.test(s)) return refuse("a segment holds a slash, a backslash or a control character");
    if (s.startsWith(".")) return refuse("a segment names a hidden file or folder");
    if (s.length > MAX_SEGMENT) return refuse(`a segment is ${s.length} characters, limit ${MAX_SEGMENT}`);
  }
  const last = segments[segments.length - 1];
  if (!last.toLowerCase().endsWith(VOD_EXTENSION)) {
    return refuse(`the file name does not end in ${VOD_EXTENSION}`);
  }
  return { ok: true, value: [...segments] };
}

/**
 * The segments of an HTTP request path below the VOD prefix, as the router
 * passes it: still percent-encoded. Split on raw `/` first, then each segment
 * decoded on its own, so `%2f` can never make a new segment.
 */
export function parseUrlPath(relPath: string): Resolved<string[]> {
  if (relPath.length > MAX_VOD_PATH) {
    return refuse(`the path is ${relPath.length} bytes, limit ${MAX_VOD_PATH}`);
  }
  const segments: string[] = [];
  for (const raw of relPath.split("/")) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return refuse("the path's percent-encoding is malformed");
    }
    segments.push(s);
  }
  return checkSegments(segments);
}

/** The segments of an RTMP play path (raw text, `/` between folders). */
export function parsePlayPath(path: string): Resolved<string[]> {
  if (path.length > MAX_VOD_PATH) return refuse(`the path is ${path.length} bytes, limit ${MAX_VOD_PATH}`);
  return checkSegments(path.split("/"));
}

/**
 * The real path, size and time of the file that checked `segments` name
 * below `root`, or why not. Needs read access to the root; call
 * {@linkcode vodReadDenied} first, since a missing permission would prompt.
 */
export async function resolveVodFile(root: string, segments: readonly string[]): Promise<Resolved<VodFile>> {
  const checked = checkSegments(segments);
  if (!checked.ok) return checked;
  let rootReal: string;
  try {
    rootReal = await Deno.realPath(root);
  } catch (e) {
    return refuse(`the VOD root ${root} cannot be resolved (${errorName(e)})`);
  }
  const inside = rootReal.endsWith(SEP) ? rootReal : rootReal + SEP;
  let real: string;
  try {
    real = await Deno.realPath(inside + checked.value.join(SEP));
  } catch (e) {
    return refuse(`no such file (${errorName(e)})`);
  }
  if (!real.startsWith(inside)) return refuse(`it resolves to ${real}, outside the VOD root ${rootReal}`);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(real);
  } catch (e) {
    return refuse(`it cannot be read (${errorName(e)})`);
  }
  if (!info.isFile) return refuse("it is not a regular file");
  return { ok: true, value: { path: real, size: info.size, mtime: info.mtime } };
}

/** Roots whose missing read permission was logged already (once per process). */
const warnedRoots = new Set<string>();

/**
 * Undefined when the process may read `root`; otherwise the sentence to show
 * the client, naming the exact flag to add. `onFirst` runs once per root with
 * that sentence, for the log. Never prompts.
 */
export async function vodReadDenied(
  root: string,
  onFirst?: (message: string) => void,
): Promise<string | undefined> {
  const status = await Deno.permissions.query({ name: "read", path: root });
  if (status.state === "granted") return undefined;
  const message =
    `read access to the VOD root ${root} is not granted; start the server with --allow-read=${root}`;
  if (!warnedRoots.has(root)) {
    warnedRoots.add(root);
    onFirst?.(message);
  }
  return message;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}
