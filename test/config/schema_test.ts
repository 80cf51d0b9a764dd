import { assert, assertEquals } from "../_util/assert.ts";
import { type Config, defaultConfig, type SourceConfig } from "../../src/config/config.ts";
import {
  ADMIN_TOKEN,
  allFlags,
  PASSWORD_HASH,
  sectionOf,
  SECTIONS,
  type Setting,
  type SettingPath,
  SETTINGS,
  SettingType,
  setValueAt,
  valueAt,
} from "../../src/config/schema.ts";
import { settingProblem, validateConfig } from "../../src/config/validate.ts";

/** Every leaf path of Config ("rtmp.chunkSize"; a list is a leaf: "sources"). */
type ConfigPath = {
  [S in keyof Config]: Config[S] extends unknown[] ? S : `${S}.${keyof Config[S] & string}`;
}[keyof Config];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The leaf paths of a value, walking plain objects; arrays are leaves. */
function leafPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix === "" ? k : `${prefix}.${k}`));
}

Deno.test("SETTINGS has the paths of Config, checked by the type checker", () => {
  const same: Same<SettingPath, ConfigPath> = true;
  assert(same);
});

Deno.test("SETTINGS has exactly one entry for every leaf of defaultConfig() and none besides", () => {
  const paths = SETTINGS.map((s) => s.path);
  assertEquals(new Set(paths).size, paths.length, "a path is in the table twice");
  assertEquals([...paths].sort(), leafPaths(defaultConfig()).sort());
});

Deno.test("SETTINGS' sources entry has a field for every SourceConfig key and none besides", () => {
  const sources: Setting = SETTINGS.find((s) => s.type === SettingType.List)!;
  const full: Required<SourceConfig> = { key: "live/a", path: "a.h264", loop: true, fps: 25 };
  assertEquals(sources.fields?.map((f) => f.path).sort(), Object.keys(full).sort());
});

Deno.test("SETTINGS' defaults pass validation, one by one and as defaultConfig()", () => {
  for (const s of SETTINGS) assertEquals(settingProblem(s, s.default), undefined, s.path);
  validateConfig(defaultConfig());
});

Deno.test("SETTINGS puts every setting in a section of SECTIONS", () => {
  for (const s of SETTINGS) assert(sectionOf(s.path) in SECTIONS, `${s.path} has no section`);
});

Deno.test("SETTINGS gives every numeric setting a number default and a min below its max", () => {
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.type !== SettingType.Integer && s.type !== SettingType.Number) continue;
    const { min, max } = s;
    if (min !== undefined && max !== undefined) assert(min < max, `${s.path}: ${min}..${max}`);
    assertEquals(typeof s.default, "number", s.path);
  }
});

Deno.test("allFlags() gives every flag once, with two dashes and a placeholder unless boolean", () => {
  const flags = allFlags();
  const names = flags.map((e) => e.flag.name);
  assertEquals(new Set(names).size, names.length, `a flag is twice: ${names.join(" ")}`);
  for (const { flag, setting } of flags) {
    assert(/^--[a-z][a-z0-9-]*$/.test(flag.name), flag.name);
    assertEquals(flag.value === undefined, setting.type === SettingType.Boolean, flag.name);
  }
  // Every leaf setting can be set from the command line.
  // streams and transcodes are config-file only: their entries have too many fields for a flag.
  for (const s of SETTINGS) {
    if (s.path === "streams" || s.path === "transcodes" || s.path === "rules") continue;
    assert(flags.some((e) => e.setting === s), `${s.path} has no flag`);
  }
});

Deno.test("allFlags() keeps the flags of the command line before this schema", () => {
  const flags = new Map(allFlags().map((e) => [e.flag.name, e]));
  const old: [string, string][] = [
    ["--host", "rtmp.host"],
    ["--rtmp-port", "rtmp.port"],
    ["--http-port", "http.port"],
    ["--chunk-size", "rtmp.chunkSize"],
    ["--play-wait-ms", "hub.playWaitMs"],
    ["--grace-ms", "hub.reconnectGraceMs"],
    ["--merge-ms", "hub.mergeWindowMs"],
    ["--vod-root", "vod.root"],
    ["--takeover", "hub.publishTakeover"],
    ["--source", "sources"],
    ["--source-once", "sources"],
    ["--source-fps", "fps"],
    ["--log-level", "log.level"],
  ];
  for (const [name, path] of old) assertEquals(flags.get(name)?.setting.path, path, name);
  assertEquals(flags.get("--host")?.flag.alsoSets, ["http.host"]);
});

Deno.test("allFlags() gives every Boolean flag the value opposite its setting's default", () => {
  for (const { flag, setting } of allFlags()) {
    if (setting.type !== SettingType.Boolean) continue;
    assertEquals(flag.sets ?? true, !setting.default, flag.name);
  }
  assertEquals(allFlags().filter((e) => e.flag.sets !== undefined).map((e) => e.flag.name), [
    "--no-rtsp",
    "--no-hls",
    "--no-ll-hls",
    "--no-loopback-open",
  ]);
});

Deno.test("SETTINGS marks the credentials secret, each null by default with words for --help and a form", () => {
  const secrets = (SETTINGS as readonly Setting[]).filter((s) => s.secret);
  assertEquals(secrets.map((s) => s.path), [
    "admin.token",
    "admin.passwordHash",
    "auth.publishKey",
    "auth.signSecret",
    "auth.signSecretPrevious",
    "auth.jwtSecret",
  ]);
  const fields = (SETTINGS as readonly Setting[]).flatMap((s) => (s.fields ?? []).filter((f) => f.secret));
  assertEquals(fields.map((f) => f.path), ["keys"], "the secret fields of list entries");
  for (const s of secrets) {
    assertEquals(s.default, null, s.path);
    assert(s.defaultText !== undefined, `${s.path} has no defaultText`);
    assert(s.pattern !== undefined, `${s.path} has no pattern`);
  }
});

Deno.test("SETTINGS' admin section is secure by default: no credential, loopback only, metrics closed", () => {
  assertEquals(defaultConfig().admin, {
    token: null,
    user: "admin",
    passwordHash: null,
    loopbackOpen: true,
    metricsOpen: false,
    sessionTtlMs: 12 * 3_600_000,
    loginAttemptsPerMinute: 5,
    maxSseClients: 32,
    historySamples: 300,
  });
});

Deno.test("ADMIN_TOKEN takes an RFC 6750 token of 16 to 1024 characters and nothing else", () => {
  for (const ok of ["0123456789abcdef", "a".repeat(1024), "AZaz09-._~+/AZaz09==", "x".repeat(16) + "="]) {
    assert(ADMIN_TOKEN.test(ok), ok);
  }
  for (
    const bad of [
      "0123456789abcde",
      "a".repeat(1025),
      "0123456789 abcdef",
      "0123456789abcdef\n",
      "=123456789abcdef",
    ]
  ) {
    assert(!ADMIN_TOKEN.test(bad), JSON.stringify(bad));
  }
});

Deno.test("PASSWORD_HASH takes pbkdf2-sha256$ITERATIONS$SALT$HASH with 100000 to 9999999 iterations", () => {
  const salt = "c2FsdHNhbHRzYWx0c2FsdA==";
  const hash = "B".repeat(43) + "=";
  assert(PASSWORD_HASH.test(`pbkdf2-sha256$600000$${salt}$${hash}`));
  assert(PASSWORD_HASH.test(`pbkdf2-sha256$100000$${salt}$${hash}`));
  assert(PASSWORD_HASH.test(`pbkdf2-sha256$9999999$${salt}$${hash}`));
  for (
    const bad of [
      `pbkdf2-sha256$99999$${salt}$${hash}`,
      `pbkdf2-sha256$10000000$${salt}$${hash}`,
      `pbkdf2-sha256$0600000$${salt}$${hash}`,
      `pbkdf2-sha512$600000$${salt}$${hash}`,
      `pbkdf2-sha256$600000$${salt}$${hash.slice(1)}`,
      `pbkdf2-sha256$600000$$${hash}`,
      `pbkdf2-sha256$600000$${salt}$${hash}\n`,
      "hunter2",
    ]
  ) assert(!PASSWORD_HASH.test(bad), bad);
});

Deno.test("valueAt() and setValueAt() read and write a dotted path", () => {
  const root: Record<string, unknown> = {};
  setValueAt(root, "rtmp.port", 1);
  setValueAt(root, "rtmp.host", "h");
  setValueAt(root, "sources", []);
  assertEquals(root, { rtmp: { port: 1, host: "h" }, sources: [] });
  assertEquals(valueAt(root, "rtmp.port"), 1);
  assertEquals(valueAt(root, "http.port"), undefined);
  assertEquals(valueAt(root, "rtmp.port.x"), undefined);
});
