/**
 * What a reload of the config file changes (SIGHUP): the settings whose
 * values differ, split by whether they can change while the server runs.
 * A `live` setting of the schema (log level, limits, player bounds, the play
 * wait and reconnect grace, the admission timeout, open metrics) takes effect
 * without dropping a client; the others (a listener's host and port, the RTMP
 * wire settings, caches, sources, credentials...) keep their running values
 * until the next start, and the reload names them in one warning.
 *
 * `reloadConfig()` is the whole reload but applying it: it reads the file
 * again, lays the same command-line flags over it (they still win), checks the
 * result as a start does, and gives the configuration to run with now, with
 * the restart settings kept at their running values.
 *
 * @module
 */
import { type Config, type ConfigOverrides, makeConfig } from "./config.ts";
import { loadConfigFile, type LoadOptions, mergeOverrides } from "./config_file.ts";
import { type Setting, SETTINGS, setValueAt, valueAt } from "./schema.ts";
import { validateConfig } from "./validate.ts";

/** The settings a reload changed: paths in table order ("limits.maxPlayers", "sources"). */
export interface ConfigDiff {
  /** Changed, and can change while running. */
  live: string[];
  /** Changed, and keep their running value until a restart. */
  restart: string[];
}

/** The paths of the settings marked `live` in the schema, in table order. */
export const LIVE_SETTINGS: readonly string[] = (SETTINGS as readonly Setting[])
  .filter((s) => s.live === true).map((s) => s.path);

/** Whether two setting values are the same: primitives by value, lists and entries member by member. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  return [...keys].every((k) => same(x[k], y[k]));
}

/** The settings whose values differ between `old` and `next`, split by whether they can change live. */
export function diffConfig(old: Config, next: Config): ConfigDiff {
  const out: ConfigDiff = { live: [], restart: [] };
  for (const setting of SETTINGS as readonly Setting[]) {
    if (same(valueAt(old, setting.path), valueAt(next, setting.path))) continue;
    (setting.live ? out.live : out.restart).push(setting.path);
  }
  return out;
}

/** The warning a reload logs for the changed settings it cannot apply; undefined when there are none. */
export function restartWarning(file: string, restart: readonly string[]): string | undefined {
  if (restart.length === 0) return undefined;
  const them = restart.length === 1 ? "it keeps its" : "they keep their";
  return `Cannot apply ${
    restart.join(", ")
  } from ${file} without a restart: ${them} running value until then`;
}

/** A checked reload: the configuration to run with now, and what changed. */
export interface ConfigReload extends ConfigDiff {
  /** `running` with the live changes made: the restart settings keep their running values. */
  config: Config;
}

/**
 * Reads `file` again, lays the command line's `flags` over it and checks the result as a start does,
 * then compares it with `running`. Throws, changing nothing, as a start refuses: ConfigFileError (the
 * file cannot be read or is not JSONC) or ConfigError (a setting the schema refuses).
 */
export async function reloadConfig(
  file: string,
  flags: ConfigOverrides,
  running: Config,
  options: LoadOptions = {},
): Promise<ConfigReload> {
  const next = makeConfig(mergeOverrides(await loadConfigFile(file, options), flags));
  validateConfig(next);
  const diff = diffConfig(running, next);
  const config = structuredClone(next);
  for (const path of diff.restart) {
    setValueAt(config as unknown as Record<string, unknown>, path, structuredClone(valueAt(running, path)));
  }
  return { config, ...diff };
}
