/**
 * Checks a configuration against the schema (`SETTINGS` in `schema.ts`): each
 * setting's type, range, values and form, each source entry's fields, and no
 * key that is not a setting. The first problem throws a `ConfigError` with a
 * one-line message that names the setting, the value and the rule:
 *
 * ```text
 * Cannot use rtmp.chunkSize: 0 is below the minimum 128
 * Cannot use http.port: 70000 is above the maximum 65535
 * Cannot use rtmp.port: "abc" is not an integer
 * Cannot use log.level: "loud" is not one of error, warn, info, debug
 * Cannot use sources[0].key: "cam" is not an app/name key
 * Cannot use admin.token: the secret given is not a token of 16 to 1024 characters: ...
 * Cannot use rtsp.udpPortFirst: 9001 is above rtsp.udpPortLast 9000
 * ```
 *
 * A `secret` setting's value is never in a message (nor in `ConfigError.value`): "the secret given"
 * stands for it.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { type Setting, SETTINGS, SettingType, valueAt } from "./schema.ts";

/** The rules a setting's value can break. */
export const ConfigRule = {
  /** The value is not of the setting's type ("is not an integer"). */
  Type: "type",
  /** Below `min` (or at it, when the minimum is exclusive). */
  Minimum: "minimum",
  /** Above `max`. */
  Maximum: "maximum",
  /** Not one of an Enum's values. */
  OneOf: "one of",
  /** A string that does not have the setting's form (`pattern`). */
  Form: "form",
  /** An empty string. */
  NonEmpty: "non-empty",
  /** A second list entry with the same key. */
  Unique: "unique",
  /** A key that is no setting. */
  Known: "known",
} as const;
export type ConfigRule = typeof ConfigRule[keyof typeof ConfigRule];

/** A configuration value breaks a rule of the schema; the server refuses to start with it. */
export class ConfigError extends Error {
  /** The setting, as a path: "rtmp.chunkSize", "sources[1].fps". */
  readonly path: string;
  /** The value given. */
  readonly value: unknown;
  readonly rule: ConfigRule;
  /** Where the value came from, when it was read from somewhere: a config file's path. */
  readonly origin?: string;

  /**
   * `value` is kept as given unless `secret`: then it is `SECRET_SHOWN`, so nothing that prints the error
   * shows it. `origin` is kept on the error; the message is the same wherever the value came from.
   */
  constructor(
    path: string,
    value: unknown,
    problem: Problem,
    options?: ErrorOptions & { secret?: boolean; origin?: string },
  ) {
    super(`Cannot use ${path}: ${problem.detail}`, options);
    this.name = "ConfigError";
    this.path = path;
    this.value = hidden(options?.secret, value) ? SECRET_SHOWN : value;
    this.rule = problem.rule;
    if (options?.origin !== undefined) this.origin = options.origin;
  }
}

/** A broken rule and the words for it, with the value: `0 is below the minimum 128`. */
export interface Problem {
  readonly rule: ConfigRule;
  readonly detail: string;
}

/** A value as messages show it: strings quoted, numbers plain. */
export function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value !== "object" || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** What a message says in place of a secret setting's value. */
export const SECRET_SHOWN = "the secret given";

/** Whether a value given for a setting is a secret not to be shown: any value of a secret setting but null. */
function hidden(secret: boolean | undefined, value: unknown): boolean {
  return secret === true && value !== null && value !== undefined;
}

/** A setting's value as its messages show it: `showValue()`, save a secret's, which is not shown. */
function shown(setting: Setting, value: unknown): string {
  return hidden(setting.secret, value) ? SECRET_SHOWN : showValue(value);
}

/** The type's name in "is not ..." messages. */
const TYPE_WORDS: Readonly<Record<SettingType, string>> = {
  [SettingType.Integer]: "an integer",
  [SettingType.Number]: "a number",
  [SettingType.Boolean]: "a boolean",
  [SettingType.String]: "a string",
  [SettingType.Enum]: "a string",
  [SettingType.NullablePath]: "a string or null",
  [SettingType.NullableString]: "a string or null",
  [SettingType.List]: "a list",
  [SettingType.StringList]: "a list of strings",
};

function isType(setting: Setting, value: unknown): boolean {
  switch (setting.type) {
    case SettingType.Integer:
      return Number.isInteger(value);
    case SettingType.Number:
      return Number.isFinite(value);
    case SettingType.Boolean:
      return typeof value === "boolean";
    case SettingType.String:
    case SettingType.Enum:
      return typeof value === "string";
    case SettingType.NullablePath:
    case SettingType.NullableString:
      return value === null || typeof value === "string";
    case SettingType.List:
      return Array.isArray(value);
    case SettingType.StringList:
      return Array.isArray(value) && value.every((v) => typeof v === "string");
  }
}

/** Whether `value` is of the setting's type (an Enum's values are checked here too); undefined when it is. */
export function typeProblem(setting: Setting, value: unknown): Problem | undefined {
  if (setting.type === SettingType.Enum && !setting.values?.includes(value as string)) {
    return {
      rule: ConfigRule.OneOf,
      detail: `${shown(setting, value)} is not one of ${setting.values?.join(", ")}`,
    };
  }
  if (isType(setting, value)) return undefined;
  return { rule: ConfigRule.Type, detail: `${shown(setting, value)} is not ${TYPE_WORDS[setting.type]}` };
}

/** A value of the right type against the setting's range and form; undefined when it keeps them. */
function boundsProblem(setting: Setting, value: unknown): Problem | undefined {
  if (typeof value === "number") {
    const { min, max } = setting;
    if (min !== undefined && setting.minExclusive && value <= min) {
      return { rule: ConfigRule.Minimum, detail: `${value} is not greater than ${min}` };
    }
    if (min !== undefined && value < min) {
      return { rule: ConfigRule.Minimum, detail: `${value} is below the minimum ${min}` };
    }
    if (max !== undefined && value > max) {
      return { rule: ConfigRule.Maximum, detail: `${value} is above the maximum ${max}` };
    }
  }
  if (Array.isArray(value) && setting.type === SettingType.StringList) {
    if (setting.max !== undefined && value.length > setting.max) {
      return { rule: ConfigRule.Maximum, detail: `${value.length} items, above the maximum ${setting.max}` };
    }
    for (const item of value as string[]) {
      const problem = item === "" ? "is empty" : setting.item?.(item);
      if (problem) return { rule: ConfigRule.Form, detail: `${shown(setting, item)}: ${problem}` };
    }
  }
  if (typeof value === "string") {
    if (value === "") return { rule: ConfigRule.NonEmpty, detail: `${shown(setting, "")} is empty` };
    if (setting.pattern && !setting.pattern.regex.test(value)) {
      return { rule: ConfigRule.Form, detail: `${shown(setting, value)} is not ${setting.pattern.what}` };
    }
  }
  return undefined;
}

/** Every rule of one setting (a list's entries aside); undefined when `value` keeps them all. */
export function settingProblem(setting: Setting, value: unknown): Problem | undefined {
  if (setting.optional && value === undefined) return undefined;
  return typeProblem(setting, value) ?? boundsProblem(setting, value);
}

/** Whether `value` is an object that is not an array (nor null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problem of a section, an entry or a whole configuration that is not an object. */
export const NOT_AN_OBJECT = (value: unknown): Problem => ({
  rule: ConfigRule.Type,
  detail: `${showValue(value)} is not an object`,
});
const NOT_A_SETTING: Problem = { rule: ConfigRule.Known, detail: "there is no such setting" };

/**
 * Throws a ConfigError for the first entry of a list setting (`sources`) that breaks a rule of its fields,
 * has a key that is no field, or repeats an earlier entry's key; `origin` goes on the error.
 */
export function checkEntries(list: Setting, entries: readonly unknown[], origin?: string): void {
  const fields = list.fields ?? [];
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const at = `${list.path}[${i}]`;
    if (!isPlainObject(entry)) throw new ConfigError(at, entry, NOT_AN_OBJECT(entry), { origin });
    for (const field of fields) {
      const problem = settingProblem(field, entry[field.path]);
      if (problem) {
        throw new ConfigError(`${at}.${field.path}`, entry[field.path], problem, {
          origin,
          secret: field.secret,
        });
      }
    }
    for (const key of Object.keys(entry)) {
      if (!fields.some((f) => f.path === key)) {
        throw new ConfigError(`${at}.${key}`, entry[key], NOT_A_SETTING, { origin });
      }
    }
    const unique = list.unique ?? "key";
    const key = String(entry[unique]);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigError(`${at}.${unique}`, entry[unique], {
        rule: ConfigRule.Unique,
        detail: `${showValue(entry[unique])} is already the ${unique} of ${list.path}[${first}]`,
      }, { origin });
    }
    seen.set(key, i);
  });
}

/**
 * Throws a ConfigError for the first setting of `config` that breaks a rule of the schema, in table order,
 * then for the first key that is no setting (a plain object read from elsewhere may have one).
 */
export function validateConfig(config: Config): void {
  const root: unknown = config;
  if (!isPlainObject(root)) throw new ConfigError("config", root, NOT_AN_OBJECT(root));
  for (const setting of SETTINGS as readonly Setting[]) {
    const section = setting.path.split(".")[0];
    if (section !== setting.path && !isPlainObject(root[section])) {
      throw new ConfigError(section, root[section], NOT_AN_OBJECT(root[section]));
    }
    const value = valueAt(root, setting.path);
    const problem = settingProblem(setting, value);
    if (problem) throw new ConfigError(setting.path, value, problem, { secret: setting.secret });
    if (setting.type === SettingType.List) checkEntries(setting, value as unknown[]);
  }
  crossCheck(config);
  const known = new Set<string>(SETTINGS.map((s) => s.path));
  for (const [name, section] of Object.entries(root)) {
    if (known.has(name)) continue;
    if (!isPlainObject(section) || ![...known].some((p) => p.startsWith(`${name}.`))) {
      throw new ConfigError(name, section, NOT_A_SETTING);
    }
    for (const [key, value] of Object.entries(section)) {
      if (!known.has(`${name}.${key}`)) throw new ConfigError(`${name}.${key}`, value, NOT_A_SETTING);
    }
  }
}

/** A rule between a list entry's fields, or between lists, broken: the ConfigError for it. */
function broken(path: string, value: unknown, detail: string): ConfigError {
  return new ConfigError(path, value, { rule: ConfigRule.Form, detail });
}

/**
 * The rules between fields and lists: a served stream is one of a live key and a file (a status page
 * neither), a preroll needs a live key, a feed's push path is no served stream's path nor another feed's,
 * a transcode does not read its own output, a rule's sign/signAddress/jwt has what it needs, TLS has both
 * files or neither, the RTSP UDP range is 0..0 or holds an RTP/RTCP pair (`checkUdpRange()`).
 */
function crossCheck(config: Config): void {
  const pushes = new Map<string, string>();
  config.feeds.forEach((feed, i) => {
    if (feed.push === undefined) return;
    const first = pushes.get(feed.push);
    if (first !== undefined) {
      throw broken(`feeds[${i}].push`, feed.push, `${showValue(feed.push)} is already the push of ${first}`);
    }
    pushes.set(feed.push, `feeds[${i}]`);
  });
  config.streams.forEach((stream, i) => {
    const at = `streams[${i}]`;
    const sources = [stream.key, stream.file].filter((v) => v !== undefined).length;
    if (stream.format === "status" && sources > 0) {
      throw broken(at, stream.path, "a status stream takes neither key nor file");
    }
    if (stream.format !== "status" && sources !== 1) {
      throw broken(at, stream.path, `it needs one of key (a live stream) and file (a file on demand)`);
    }
    if (stream.format === "rtp") {
      if (stream.key === undefined) throw broken(at, stream.path, "an rtp stream plays a live key: set key");
      const unused: [string, unknown, boolean][] = [
        ["prerollMs", stream.prerollMs, stream.prerollMs > 0],
        ["noAudio", stream.noAudio, stream.noAudio],
        ["noVideo", stream.noVideo, stream.noVideo],
        ["maxTimeMs", stream.maxTimeMs, stream.maxTimeMs > 0],
      ];
      for (const [field, value, set] of unused) {
        if (set) throw broken(`${at}.${field}`, value, "an rtp stream plays every track of its key live");
      }
    }
    if (stream.prerollMs > 0 && stream.key === undefined) {
      throw broken(`${at}.prerollMs`, stream.prerollMs, "a preroll needs a live key (a feed with a file)");
    }
    const feed = pushes.get(stream.path);
    if (feed !== undefined) {
      throw broken(`${at}.path`, stream.path, `${showValue(stream.path)} is already the push of ${feed}`);
    }
  });
  config.transcodes.forEach((job, i) => {
    if (job.key === job.from) {
      throw broken(`transcodes[${i}].from`, job.from, "a transcode cannot read itself");
    }
  });
  const { auth } = config;
  const hasSecret = !!(auth.signSecret || auth.signSecretPrevious);
  const hasJwtKey = !!(auth.jwtSecret || auth.jwtKeyFile || auth.jwksFile);
  config.rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (rule.sign && !hasSecret) throw broken(`${at}.sign`, true, "a signed URL needs auth.signSecret");
    if (rule.signAddress && !rule.sign) {
      throw broken(`${at}.signAddress`, true, "it binds the signature: set sign too");
    }
    if (rule.jwt && !hasJwtKey) {
      throw broken(`${at}.jwt`, true, "a JWT needs a key: auth.jwtSecret, auth.jwtKeyFile or auth.jwksFile");
    }
  });
  const { cert, key } = config.tls;
  if ((cert === null) !== (key === null)) {
    const [missing, given] = cert === null ? ["tls.cert", "tls.key"] : ["tls.key", "tls.cert"];
    throw broken(
      missing,
      null,
      `it is missing while ${given} is set; set both (--tls-cert FILE --tls-key FILE) or neither`,
    );
  }
  checkUdpRange(config.rtsp.udpPortFirst, config.rtsp.udpPortLast);
}

/**
 * `rtsp.udpPortFirst`..`rtsp.udpPortLast`, the server's RTP/RTCP pairs for RTSP over UDP: both 0 (the
 * system picks free ports), or a range that holds at least one pair, RTP on an even port and RTCP on the
 * next (RFC 3550 11). An odd first port is rounded up to the next even one, as the port pool does
 * (`src/rtsp/udp_ports.ts`), so 8001..8003 holds the pair 8002/8003; the message of a range too small
 * says so. Checked whether or not RTSP is on: a range that cannot work is a mistake either way.
 */
function checkUdpRange(first: number, last: number): void {
  const FIRST = "rtsp.udpPortFirst";
  const LAST = "rtsp.udpPortLast";
  if (first === 0 && last === 0) return;
  if (first === 0 || last === 0) {
    const [zero, other, value] = first === 0 ? [FIRST, LAST, last] : [LAST, FIRST, first];
    throw broken(
      zero,
      0,
      `0 (any free ports) needs ${other} 0 too, current ${other} ${value}; set both to 0 or both to ports`,
    );
  }
  if (first > last) {
    throw new ConfigError(FIRST, first, {
      rule: ConfigRule.Maximum,
      detail: `${first} is above ${LAST} ${last}`,
    });
  }
  const rtp = first + (first % 2);
  if (rtp + 1 > last) {
    const rounded = rtp === first ? "" : `; an odd first port is rounded up to ${rtp}`;
    throw broken(
      FIRST,
      first,
      `${first}..${last} holds no RTP/RTCP pair (RTP on an even port, RTCP on the next${rounded})`,
    );
  }
}
