/**
 * The config file (`--config sluice.jsonc`): JSON with comments (`jsonc.ts`)
 * holding any of the schema's settings by section, as `--print-config` prints
 * them and `docs/sluice.example.jsonc` shows them all:
 *
 * ```jsonc
 * {
 *   "rtmp": { "port": 1935 },          // a section holds settings by their name
 *   "limits": { "maxPlayers": 1000, }, // trailing commas are fine
 *   "sources": [{ "key": "live/cam", "path": "cam.flv" }], // loop defaults to true, fps may be left out
 * }
 * ```
 *
 * A setting left out keeps its default; flags given on the command line
 * override the file (`mergeOverrides()`; a list, `sources`, is replaced whole).
 * The file is checked as the command line is: the same messages for a wrong
 * type or range (`validate.ts`), a secret's value never in one, and a key that
 * is no setting refused with its path and the nearest known name:
 *
 * ```text
 * Cannot use rtmp.chunksize: there is no such setting (did you mean rtmp.chunkSize?)
 * ```
 *
 * Reading it needs the read permission for its path; without it the message
 * says which flag to add. It is read at most `JSONC_MAX_BYTES` long, as UTF-8.
 *
 * @module
 */
import { type ConfigOverrides, REDACTED } from "./config.ts";
import { JSONC_MAX_BYTES, parseJsonc } from "./jsonc.ts";
import { SECTIONS, type Setting, SETTINGS, SettingType } from "./schema.ts";
import {
  checkEntries,
  ConfigError,
  ConfigRule,
  isPlainObject,
  NOT_AN_OBJECT,
  type Problem,
  settingProblem,
} from "./validate.ts";

/** The config file cannot be read or is not JSONC; `file` is its path as given, `cause` the reason. */
export class ConfigFileError extends Error {
  /** The file's path, as `--config` gave it. */
  readonly file: string;

  constructor(file: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigFileError";
    this.file = file;
  }
}

/** What loading `path` says without the read permission: the flag to add (as file sources say it). */
export function missingConfigReadMessage(path: string): string {
  return `Cannot read ${path}: run with --allow-read ` +
    `(deno run --allow-net --allow-read server.ts --config ${path})`;
}

/** Asks whether `path` may be read (Deno.permissions.query, replaceable in tests). */
export type ReadPermissionQuery = (path: string) => Promise<Deno.PermissionState>;

const queryRead: ReadPermissionQuery = async (path) =>
  (await Deno.permissions.query({ name: "read", path })).state;

/** Options of `loadConfigFile()`. */
export interface LoadOptions {
  /** Replaces the read permission query (tests). */
  queryRead?: ReadPermissionQuery;
}

/** The bytes read from a file at a time. */
const READ_CHUNK_BYTES = 64 * 1024;

/** The text of `path`, read as UTF-8 and at most `JSONC_MAX_BYTES` (a pipe or a device is bounded too). */
async function readConfigText(path: string): Promise<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "there is no such file" : (e as Error).message;
    throw new ConfigFileError(path, `Cannot read ${path}: ${why}`, { cause: e });
  }
  try {
    const info = await file.stat();
    if (info.isDirectory) throw new ConfigFileError(path, `Cannot read ${path}: it is a folder, not a file`);
    if (info.isFile && info.size > JSONC_MAX_BYTES) {
      throw new ConfigFileError(
        path,
        `Cannot read ${path}: current size ${info.size} bytes is above the maximum ${JSONC_MAX_BYTES}`,
      );
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(READ_CHUNK_BYTES);
      const n = await file.read(chunk);
      if (n === null) break;
      total += n;
      if (total > JSONC_MAX_BYTES) {
        throw new ConfigFileError(
          path,
          `Cannot read ${path}: current size is above the maximum ${JSONC_MAX_BYTES}`,
        );
      }
      chunks.push(chunk.subarray(0, n));
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (e) {
      throw new ConfigFileError(path, `Cannot read ${path}: it is not UTF-8 text`, { cause: e });
    }
  } catch (e) {
    if (e instanceof ConfigFileError) throw e;
    throw new ConfigFileError(path, `Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    file.close();
  }
}

/**
 * Reads the config file at `path` into config overrides: only what it sets, to lay over the defaults
 * (`makeConfig()`) under the command line's flags (`mergeOverrides()`). Throws ConfigFileError when it
 * may not or cannot be read (never prompting for the permission) or is not JSONC, and ConfigError (its
 * `origin` the path) for the first value or key the schema refuses.
 */
export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<ConfigOverrides> {
  if ((await (options.queryRead ?? queryRead)(path)) !== "granted") {
    throw new ConfigFileError(path, missingConfigReadMessage(path));
  }
  const text = await readConfigText(path);
  let value: unknown;
  try {
    value = parseJsonc(text, path);
  } catch (e) {
    if (!(e instanceof SyntaxError || e instanceof RangeError)) throw e;
    throw new ConfigFileError(path, e.message, { cause: e });
  }
  return configFromObject(value, path);
}

/** The list settings (`sources`), by path: each is a section of its own, a list of entries. */
const LISTS: ReadonlyMap<string, Setting> = new Map(
  (SETTINGS as readonly Setting[]).filter((s) => s.type === SettingType.List).map((s) => [s.path, s]),
);
/** The other settings, by path. */
const LEAVES: ReadonlyMap<string, Setting> = new Map(
  (SETTINGS as readonly Setting[]).filter((s) => s.type !== SettingType.List).map((s) => [s.path, s]),
);

/**
 * The settings `obj` gives (a config file's object), checked: each section an object of known settings
 * (a list setting a list of entries), each value of its setting's type, range and form. `origin` (the
 * file's path) goes on every error. A list entry's field left out gets its default (`loop: true`), an
 * optional one without a default stays out (`fps`). The values are copied; `obj` is not changed.
 */
export function configFromObject(obj: unknown, origin: string): ConfigOverrides {
  if (!isPlainObject(obj)) throw new ConfigError("config", obj, NOT_AN_OBJECT(obj), { origin });
  const out: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(obj)) {
    const list = LISTS.get(name);
    if (list) {
      out[name] = entriesFrom(list, section, origin);
      continue;
    }
    if (!Object.hasOwn(SECTIONS, name)) {
      const problem = unknownProblem(name, TOP_NAMES, `the sections are ${SECTION_LIST}`);
      throw new ConfigError(shownPath(name), section, problem, { origin });
    }
    if (!isPlainObject(section)) throw new ConfigError(name, section, NOT_AN_OBJECT(section), { origin });
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(section)) {
      const path = `${name}.${key}`;
      const setting = LEAVES.get(path);
      if (!setting) {
        const names = [...LEAVES.keys()].filter((p) => p.startsWith(`${name}.`)).map((p) =>
          p.slice(name.length + 1)
        );
        throw new ConfigError(
          shownPath(path),
          value,
          unknownProblem(path, [...LEAVES.keys()], `${name} has ${names.join(", ")}`),
          { origin },
        );
      }
      if (setting.secret && value === REDACTED) {
        throw new ConfigError(path, value, redactedProblem(setting), { origin });
      }
      const problem = settingProblem(setting, value);
      if (problem) throw new ConfigError(path, value, problem, { secret: setting.secret, origin });
      values[key] = value;
    }
    out[name] = values;
  }
  return out as ConfigOverrides;
}

/** A list setting's entries from the file, unknown fields refused, defaults filled in, then checked. */
function entriesFrom(list: Setting, value: unknown, origin: string): Record<string, unknown>[] {
  const problem = settingProblem(list, value);
  if (problem) throw new ConfigError(list.path, value, problem, { origin });
  const fields = list.fields ?? [];
  const entries = (value as unknown[]).map((entry, i) => {
    const at = `${list.path}[${i}]`;
    if (!isPlainObject(entry)) throw new ConfigError(at, entry, NOT_AN_OBJECT(entry), { origin });
    for (const [key, given] of Object.entries(entry)) {
      if (fields.some((f) => f.path === key)) continue;
      const names = fields.map((f) => f.path);
      throw new ConfigError(
        shownPath(`${at}.${key}`),
        given,
        unknownProblem(`${at}.${key}`, names.map((n) => `${at}.${n}`), `an entry has ${names.join(", ")}`),
        { origin },
      );
    }
    for (const field of fields) {
      const v = entry[field.path];
      if (field.secret && (v === REDACTED || (Array.isArray(v) && v.includes(REDACTED)))) {
        throw new ConfigError(`${at}.${field.path}`, v, redactedProblem(field), { origin, secret: true });
      }
    }
    const filled: Record<string, unknown> = {};
    for (const field of fields) {
      if (Object.hasOwn(entry, field.path)) filled[field.path] = entry[field.path];
      else if (Array.isArray(field.default)) filled[field.path] = [...field.default];
      else if (field.default !== undefined) filled[field.path] = field.default;
      else if (!field.optional) {
        const required = fields.filter((f) => f.default === undefined && !f.optional).map((f) => f.path);
        throw new ConfigError(`${at}.${field.path}`, undefined, {
          rule: ConfigRule.Type,
          detail: `it is missing (an entry needs ${required.join(" and ")})`,
        }, { origin });
      }
    }
    return filled;
  });
  checkEntries(list, entries, origin);
  return entries;
}

/**
 * `under` with `over` laid on it, section by section (a setting `over` gives wins; a list is replaced
 * whole): the config file's overrides under the command line's.
 */
export function mergeOverrides(under: ConfigOverrides, over: ConfigOverrides): ConfigOverrides {
  const out: Record<string, unknown> = { ...under };
  for (const [name, value] of Object.entries(over)) {
    const base = out[name];
    out[name] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return out as ConfigOverrides;
}

// ---- unknown keys: the nearest known name

/** The names a top-level key may be: the sections (a list setting is one), and full paths for a bare leaf. */
const TOP_NAMES: readonly string[] = [...Object.keys(SECTIONS), ...LEAVES.keys()];
const SECTION_LIST = Object.keys(SECTIONS).join(", ");
/** The longest key a suggestion is looked for (the longest path is far shorter); the longer shown cut. */
const NAME_MAX_CHARS = 64;

/** A path as a message shows it: cut past `NAME_MAX_CHARS`. */
function shownPath(path: string): string {
  return path.length > NAME_MAX_CHARS ? `${path.slice(0, NAME_MAX_CHARS)}...` : path;
}

/**
 * The edit distance of two short strings: inserts, deletes, replacements and swaps of two neighbours
 * ("rmtp" is one from "rtmp"), each one edit (the optimal string alignment distance).
 */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const same = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + same);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The last segment of a path ("chunkSize" of "rtmp.chunkSize"). */
function leafOf(path: string): string {
  return path.slice(path.lastIndexOf(".") + 1);
}

/**
 * The known name nearest `path`, case aside: by the whole path, or by its last segment (one more, so a
 * setting put in the wrong section is found); undefined when none is near (more edits than a third of
 * the last segment's length, or than one for a short one). Ties go to the first in table order.
 */
export function nearestName(path: string, candidates: readonly string[]): string | undefined {
  if (path.length > NAME_MAX_CHARS) return undefined;
  const p = path.toLowerCase();
  const leaf = leafOf(p);
  const bound = Math.max(1, Math.floor(leaf.length / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const score = Math.min(editDistance(p, c), editDistance(leaf, leafOf(c)) + 1);
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  return bestScore <= bound ? best : undefined;
}

/** The problem of a key that is no setting: the nearest name, else what there is (`fallback`). */
function unknownProblem(path: string, candidates: readonly string[], fallback: string): Problem {
  const near = nearestName(path, candidates);
  return {
    rule: ConfigRule.Known,
    detail: `there is no such setting (${near === undefined ? fallback : `did you mean ${near}?`})`,
  };
}

/** The problem of a secret that reads `REDACTED`: a printed config loaded back without its secret put in. */
function redactedProblem(setting: Setting): Problem {
  const flag = setting.flags?.[0]?.name;
  return {
    rule: ConfigRule.Form,
    detail:
      `${JSON.stringify(REDACTED)} stands for a secret --print-config does not show: write the secret ` +
      `itself here${flag === undefined ? "" : `, or give ${flag}`}`,
  };
}
