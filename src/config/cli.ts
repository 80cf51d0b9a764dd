/**
 * The command line, made from the schema (`SETTINGS` in `schema.ts`): every
 * flag there parses to its setting, and `--help` lists them all by section.
 *
 * The parser reads each flag's value into its setting's type and names the
 * flag when it cannot (`Cannot parse --rtmp-port: "x" is not an integer`);
 * ranges are `validateConfig()`'s, after the overrides are laid over the
 * defaults, save a flag on a field of a list's entries (`--source-fps`): it
 * goes to every entry the command line adds, perhaps none, so it is checked
 * here.
 *
 * Three options are no setting, so they are declared here beside `-h/--help`
 * rather than in the schema: `--config FILE` (the settings file the flags are
 * laid over, `config_file.ts`), `--ffserver-conf FILE` (an ffserver
 * configuration read in its place, `ffserver_conf.ts`) and `--print-config`
 * (`print_config.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { ConfigOverrides } from "./config.ts";
import {
  allFlags,
  type Flag,
  type FlagEntry,
  sectionOf,
  SECTIONS,
  type Setting,
  SETTINGS,
  SettingType,
  setValueAt,
  STREAM_KEY,
} from "./schema.ts";
import { settingProblem, showValue, typeProblem } from "./validate.ts";

/** The help flag: not a setting, so not in the schema. */
export const HELP_FLAG = { name: "--help", short: "-h", help: "print this text and exit" } as const;
/** The config file flag: not a setting (it says where settings come from), so not in the schema. */
export const CONFIG_FLAG = {
  name: "--config",
  value: "FILE",
  help: "read settings from FILE, JSON with comments (docs/sluice.example.jsonc has every setting); " +
    "flags given here override it; needs --allow-read",
} as const;
/** The ffserver configuration flag: `--config`'s twin for an ffserver.conf; not a setting, so not in the schema. */
export const FFSERVER_CONF_FLAG = {
  name: "--ffserver-conf",
  value: "FILE",
  help: "read settings from FILE, an ffserver.conf (its feeds, streams, encodings and limits; what Sluice " +
    "does not serve is warned), instead of --config; flags given here override it; with --print-config " +
    "it prints the Sluice config to migrate to; needs --allow-read",
} as const;
/** The flag that prints the effective configuration: not a setting, so not in the schema. */
export const PRINT_CONFIG_FLAG = {
  name: "--print-config",
  help: "print the effective configuration (defaults, the file, the flags; secrets redacted) as a " +
    "config file, and exit",
} as const;

/** A command line: the settings its flags give, and its options that are no setting. */
export interface CommandLine {
  /** What the settings' flags set, and nothing else. */
  overrides: ConfigOverrides;
  /** `--config FILE`: the config file to read under the flags. */
  configFile?: string;
  /** `--ffserver-conf FILE`: an ffserver.conf to read under the flags (never with `configFile`). */
  ffserverConf?: string;
  /** `--print-config`: print the effective configuration instead of starting. */
  printConfig: boolean;
}

const USAGE = "Usage: deno run --allow-net server.ts [flags]";
const TITLE = "Sluice: a live streaming server. In: RTMP, HTTP and WebSocket push, files.\n" +
  "Out: RTMP, HTTP-FLV, WebSocket-FLV, VOD files.";
/** `--help`'s width and the column help text starts at. */
const WIDTH = 110;
const HELP_COLUMN = 32;

/** A Sources flag's value: `app/name=PATH` (the path may hold "=" too). */
const SOURCE_VALUE = new RegExp(`^(${STREAM_KEY.source.slice(1, -1)})=(.+)$`);

/** The flags by their name without dashes, as node:util's parseArgs names them. */
const BY_NAME: ReadonlyMap<string, FlagEntry> = new Map(allFlags().map((e) => [e.flag.name.slice(2), e]));

/** A flag's value read into its setting's type; an unreadable number stays the string it was. */
function readValue(setting: Setting, raw: string): unknown {
  // A list of strings on the command line: comma-separated (`--trusted-proxies 127.0.0.1,10.0.0.0/8`).
  if (setting.type === SettingType.StringList) {
    return raw.split(",").map((v) => v.trim()).filter((v) => v !== "");
  }
  if (setting.type !== SettingType.Integer && setting.type !== SettingType.Number) return raw;
  return raw.trim() === "" || Number.isNaN(Number(raw)) ? raw : Number(raw);
}

/**
 * Parses the flags into config overrides, or "help" for `-h`/`--help`; throws TypeError naming the flag
 * and the value it cannot read. The overrides hold only what the settings' flags set (`parseCommandLine()`
 * gives `--config`, `--ffserver-conf` and `--print-config` too).
 */
export function parseCliArgs(args: string[]): ConfigOverrides | "help" {
  const line = parseCommandLine(args);
  return line === "help" ? "help" : line.overrides;
}

/** The file a `--config`-like flag names; TypeError when it is missing or a second one. */
function fileValue(
  flag: { readonly name: string; readonly value: string },
  token: { value?: string; inlineValue?: boolean },
  before: string | undefined,
  what: string,
): string {
  // `--config --print-config`: parseArgs takes the next flag for the missing value.
  if (
    token.value === undefined || token.value === "" || (!token.inlineValue && token.value.startsWith("--"))
  ) {
    throw new TypeError(`Cannot parse ${flag.name}: current value is missing (${flag.name} ${flag.value})`);
  }
  if (before !== undefined) {
    throw new TypeError(
      `Cannot parse ${flag.name}: current value ${showValue(token.value)} is a second file ` +
        `after ${showValue(before)} (one ${what} at most)`,
    );
  }
  return token.value;
}

/**
 * Parses the whole command line: the settings' flags into overrides, `--config FILE` or
 * `--ffserver-conf FILE` (one of them, at most once) and `--print-config`; or "help" for `-h`/`--help`.
 * Throws TypeError naming the flag and the value it cannot read.
 */
export function parseCommandLine(args: string[]): CommandLine | "help" {
  const options = Object.fromEntries(
    [...BY_NAME].map(([name, { flag }]) => [name, { type: flag.value === undefined ? "boolean" : "string" }]),
  ) as Record<string, { type: "boolean" | "string"; short?: string }>;
  options[HELP_FLAG.name.slice(2)] = { type: "boolean", short: HELP_FLAG.short.slice(1) };
  options[CONFIG_FLAG.name.slice(2)] = { type: "string" };
  options[FFSERVER_CONF_FLAG.name.slice(2)] = { type: "string" };
  options[PRINT_CONFIG_FLAG.name.slice(2)] = { type: "boolean" };
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });

  let configFile: string | undefined;
  let ffserverConf: string | undefined;
  let printConfig = false;
  const out: Record<string, unknown> = {};
  /** Entries the command line adds to each list setting, by the list's path. */
  const lists = new Map<string, Record<string, unknown>[]>();
  /** Values of flags on a list's fields, for every entry of the list: list path -> field -> value. */
  const forEvery = new Map<string, Map<string, unknown>>();

  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      throw new TypeError(
        `Cannot parse arguments: current argument ${showValue(token.value)} is not a flag (see --help)`,
      );
    }
    if (token.name === HELP_FLAG.name.slice(2)) return "help";
    if (token.name === CONFIG_FLAG.name.slice(2)) {
      configFile = fileValue(CONFIG_FLAG, token, configFile, "config file");
      continue;
    }
    if (token.name === FFSERVER_CONF_FLAG.name.slice(2)) {
      ffserverConf = fileValue(FFSERVER_CONF_FLAG, token, ffserverConf, "ffserver.conf");
      continue;
    }
    if (token.name === PRINT_CONFIG_FLAG.name.slice(2)) {
      if (token.value !== undefined) {
        throw new TypeError(
          `Cannot parse ${PRINT_CONFIG_FLAG.name}: current value ${showValue(token.value)} is not allowed ` +
            "(it takes none)",
        );
      }
      printConfig = true;
      continue;
    }
    const entry = BY_NAME.get(token.name);
    if (!entry) {
      throw new TypeError(`Cannot parse arguments: current flag ${token.rawName} is unknown (see --help)`);
    }
    const { flag, setting, list } = entry;
    if (flag.value === undefined) {
      if (token.value !== undefined) {
        const given = showValue(token.value);
        throw new TypeError(
          `Cannot parse ${flag.name}: current value ${given} is not allowed (it takes none)`,
        );
      }
      setAll(out, flag, setting, flag.sets ?? true);
      continue;
    }
    if (token.value === undefined) {
      throw new TypeError(`Cannot parse ${flag.name}: current value is missing (${flag.name} ${flag.value})`);
    }
    if (setting.type === SettingType.List) {
      const m = token.value.match(SOURCE_VALUE);
      if (!m) {
        throw new TypeError(`Cannot parse ${flag.name}: ${showValue(token.value)} is not app/name=PATH`);
      }
      const entries = lists.get(setting.path) ?? [];
      // The fields in table order, as a config file's entry has them (--print-config prints them so).
      const given: Record<string, unknown> = { key: m[1], [flag.field ?? "path"]: m[2] };
      if (flag.loop !== undefined) given.loop = flag.loop;
      const entry: Record<string, unknown> = {};
      for (const field of setting.fields ?? []) {
        if (Object.hasOwn(given, field.path)) entry[field.path] = given[field.path];
        else if (field.default !== undefined) entry[field.path] = structuredClone(field.default);
      }
      entries.push(entry);
      lists.set(setting.path, entries);
      continue;
    }
    const value = readValue(setting, token.value);
    const problem = list ? settingProblem(setting, value) : typeProblem(setting, value);
    if (problem) throw new TypeError(`Cannot parse ${flag.name}: ${problem.detail}`);
    if (list) {
      const fields = forEvery.get(list.path) ?? new Map<string, unknown>();
      fields.set(setting.path, value);
      forEvery.set(list.path, fields);
    } else {
      setAll(out, flag, setting, value);
    }
  }
  for (const [path, entries] of lists) {
    const fields = forEvery.get(path);
    setValueAt(out, path, entries.map((e) => fields ? { ...e, ...Object.fromEntries(fields) } : e));
  }
  if (configFile !== undefined && ffserverConf !== undefined) {
    throw new TypeError(
      `Cannot parse ${FFSERVER_CONF_FLAG.name}: current value ${showValue(ffserverConf)} comes with ` +
        `${CONFIG_FLAG.name} ${showValue(configFile)} (use one of them)`,
    );
  }
  const line: CommandLine = { overrides: out as ConfigOverrides, printConfig };
  if (configFile !== undefined) line.configFile = configFile;
  if (ffserverConf !== undefined) line.ffserverConf = ffserverConf;
  return line;
}

/** Sets a flag's value on its setting and on the settings it `alsoSets`. */
function setAll(out: Record<string, unknown>, flag: Flag, setting: Setting, value: unknown): void {
  for (const path of [setting.path, ...flag.alsoSets ?? []]) setValueAt(out, path, value);
}

/** The range of a numeric setting in words: "128..65536", ">= 1", "> 0 and <= 300". */
function rangeText(s: Setting): string | undefined {
  const { min, max } = s;
  if (min !== undefined && s.minExclusive) return max === undefined ? `> ${min}` : `> ${min} and <= ${max}`;
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (min !== undefined) return `>= ${min}`;
  if (max !== undefined) return `<= ${max}`;
  return undefined;
}

/**
 * What `--help` says after a setting's help, and a printed config file's comment too: unit, range or
 * values, default (" (bytes; 128..65536; default 4096)"); "" when there is nothing to say.
 */
export function detailText(s: Setting): string {
  const parts: string[] = [];
  if (s.unit) parts.push(s.unit);
  const range = rangeText(s);
  if (range) parts.push(range);
  if (s.values) parts.push(s.values.join(" | "));
  const shown = s.defaultText ?? (s.type === SettingType.Boolean ? (s.default ? "on" : "off") : s.default);
  if (shown !== undefined && !Array.isArray(shown)) parts.push(`default ${shown}`);
  return parts.length === 0 ? "" : ` (${parts.join("; ")})`;
}

/** One flag's lines: the flag and its placeholder, then its help wrapped at the help column. */
function flagLines(left: string, text: string): string[] {
  const lines: string[] = [];
  let line = `  ${left}`.padEnd(HELP_COLUMN - 1);
  if (line.length >= HELP_COLUMN) {
    lines.push(line);
    line = "".padEnd(HELP_COLUMN - 1);
  }
  for (const word of text.split(" ")) {
    if (line.length >= HELP_COLUMN && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = "".padEnd(HELP_COLUMN - 1);
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** The `--help` text: the usage line, then per section its flags with their value, help, unit, range, default. */
export function helpText(): string {
  const out = [TITLE, "", USAGE, ""];
  for (const [section, about] of Object.entries(SECTIONS)) {
    const entries = allFlags(SETTINGS.filter((s) => sectionOf(s.path) === section));
    if (entries.length === 0) continue;
    out.push(`${about} [${section}]`);
    for (const { flag, setting } of entries) {
      const left = flag.value === undefined ? flag.name : `${flag.name} ${flag.value}`;
      out.push(...flagLines(left, (flag.help ?? setting.help) + detailText(setting)));
    }
    out.push("");
  }
  out.push(
    "Config file and help",
    ...flagLines(`${CONFIG_FLAG.name} ${CONFIG_FLAG.value}`, CONFIG_FLAG.help),
    ...flagLines(`${FFSERVER_CONF_FLAG.name} ${FFSERVER_CONF_FLAG.value}`, FFSERVER_CONF_FLAG.help),
    ...flagLines(PRINT_CONFIG_FLAG.name, PRINT_CONFIG_FLAG.help),
    ...flagLines(`${HELP_FLAG.short}, ${HELP_FLAG.name}`, HELP_FLAG.help),
    "",
  );
  return out.join("\n");
}
