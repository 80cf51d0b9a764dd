import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { type Config, defaultConfig, makeConfig, REDACTED } from "../../src/config/config.ts";
import { configFromObject, loadConfigFile } from "../../src/config/config_file.ts";
import { parseJsonc } from "../../src/config/jsonc.ts";
import { printConfig } from "../../src/config/print_config.ts";
import { SECTIONS, type Setting, SETTINGS, SettingType, setValueAt } from "../../src/config/schema.ts";
import { ConfigError, validateConfig } from "../../src/config/validate.ts";

const EXAMPLE = new URL("../../docs/sluice.example.jsonc", import.meta.url);

/** A printed config read back as `--config` reads a file. */
function loadBack(text: string): Config {
  const config = makeConfig(configFromObject(parseJsonc(text, "printed"), "printed"));
  validateConfig(config);
  return config;
}

/** A valid value other than the default for every setting but the secrets. */
/** Entries of each list setting with fields changed from their defaults. */
const CHANGED_LISTS: Readonly<Record<string, unknown[]>> = {
  sources: [
    { key: "live/a", path: "/srv/a.flv", loop: true },
    { key: "live/b", path: "b.h264", loop: false, fps: 29.97 },
  ],
  feeds: [
    {
      key: "feed/a",
      push: "/a.ffm",
      file: "/srv/a.ring",
      fileMaxSize: 1 << 20,
      catchUp: true,
      acl: ["allow ::1"],
    },
    { key: "feed/b", fileMaxSize: 1 << 21, catchUp: false, acl: [] },
  ],
  streams: [
    {
      path: "/live.flv",
      key: "feed/a",
      format: "flv",
      prerollMs: 5000,
      noAudio: true,
      noVideo: false,
      maxTimeMs: 60_000,
      acl: ["deny 10.0.0.0/8", "allow all"],
    },
    {
      path: "/stat.html",
      format: "status",
      prerollMs: 0,
      noAudio: false,
      noVideo: false,
      maxTimeMs: 0,
      acl: [],
    },
  ],
  rules: [
    {
      match: "live/*",
      action: "publish",
      keys: [],
      sign: false,
      signAddress: false,
      jwt: true,
      acl: ["deny all"],
    },
    // sign needs auth.signSecret, a secret this test leaves at its default
    { match: "*", action: "any", keys: [], sign: false, signAddress: false, jwt: true, acl: ["allow all"] },
  ],
  transcodes: [{
    key: "feed/small",
    from: "feed/a",
    input: "http-flv",
    videoCodec: "libx264",
    videoSize: "320x240",
    videoBitrateKbps: 300,
    videoFps: 15,
    videoGop: 30,
    audioCodec: "aac",
    audioBitrateKbps: 64,
    audioSampleRate: 44100,
    audioChannels: 1,
    args: ["-tune", "film"],
  }],
};

function changedConfig(): Config {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.secret) continue;
    const value = (() => {
      switch (s.type) {
        case SettingType.Integer:
          return s.max ?? (s.min ?? 0) + 7;
        case SettingType.Number:
          return 1.5;
        case SettingType.Boolean:
          return !s.default;
        case SettingType.Enum:
          return s.values!.find((v) => v !== s.default);
        case SettingType.String:
          return s.pattern ? "ops_1" : "127.0.0.2";
        case SettingType.NullablePath:
        case SettingType.NullableString:
          if (s.path === "hls.tsApps") return "tv,radio";
          return s.pattern ? 'http://127.0.0.1:9/callback?x="1"' : `/srv/"quoted" \\ path é`;
        case SettingType.List:
          return CHANGED_LISTS[s.path];
        case SettingType.StringList:
          return s.path === "http.trustedProxies" ? ["127.0.0.1", "10.0.0.0/8"] : ["-tune", "film"];
      }
    })();
    setValueAt(config, s.path, value);
  }
  // The UDP range is cross-checked (first <= last, one even/odd pair): both changed, to a range that holds one.
  setValueAt(config, "rtsp.udpPortFirst", 40_000);
  setValueAt(config, "rtsp.udpPortLast", 40_001);
  validateConfig(config as unknown as Config);
  return config as unknown as Config;
}

Deno.test("printConfig() of the defaults loads back to the defaults", () => {
  assertEquals(loadBack(printConfig(defaultConfig())), defaultConfig());
});

Deno.test("printConfig() of a config with every setting changed loads back to the same config", () => {
  const config = changedConfig();
  const text = printConfig(config);
  assertEquals(loadBack(text), config);
  assert(text.includes('{ "key": "live/b", "path": "b.h264", "loop": false, "fps": 29.97 }'), text);
});

Deno.test("printConfig() puts a // comment with the help, unit, range and default before each setting", () => {
  const lines = printConfig(defaultConfig()).split("\n");
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.type === SettingType.List) continue;
    const [section, key] = s.path.split(".");
    const sectionAt = lines.indexOf(`  ${JSON.stringify(section)}: {`);
    const at = lines.findIndex((l, i) => i > sectionAt && l.startsWith(`    ${JSON.stringify(key)}: `));
    assert(at > 0, `${s.path} is not printed`);
    // The comment: the lines right above, unwrapped.
    let start = at;
    while (lines[start - 1].trimStart().startsWith("//")) start--;
    const text = lines.slice(start, at).map((l) => l.trim().replace(/^\/\/ ?/, "")).join(" ");
    assert(text.startsWith(s.help), `${s.path}: ${text}`);
  }
  const text = lines.join("\n").replace(/\n\s*\/\/ /g, " ");
  assert(
    text.includes("outgoing RTMP chunk size, the same for every player (bytes; 128..65536; default 4096)"),
  );
  assert(
    text.includes(
      "the most verbose level printed (error | warn | info | debug; default info; live on SIGHUP)",
    ),
  );
  assert(text.includes("RTMP port; 0 picks a free port (0..65535; default 1935)\n"), "a port is not live");
});

Deno.test("printConfig() heads each section with its SECTIONS line, in SECTIONS order", () => {
  const lines = printConfig(defaultConfig()).split("\n");
  let last = -1;
  for (const [section, heading] of Object.entries(SECTIONS)) {
    const at = lines.findIndex((l) => l.startsWith(`  ${JSON.stringify(section)}: `));
    assert(at > last, `${section} is not printed after the section before it`);
    const above = lines.slice(last + 1, at);
    assert(above.includes(`  // ${heading}`), `${section}: no heading ${JSON.stringify(heading)}`);
    last = at;
  }
});

Deno.test("printConfig() describes a source entry's fields and prints entries one a line", () => {
  const text = printConfig(defaultConfig());
  assert(
    text.includes('  // each entry: { "key": "live/cam", "path": "cam.flv", "loop": true, "fps": 25 }'),
    text,
  );
  assert(text.includes("  //   key: stream key, app/name (required)"), text);
  assert(text.includes('  "sources": [],\n'), text);
  assert(text.includes('    "stderrLinesPerMinute": 30\n  }\n}'), text);
});

Deno.test("printConfig() redacts a secret that is set, and the loader refuses the placeholder by name", () => {
  const token = "0123456789abcdef-secret-token";
  const hash = `pbkdf2-sha256$600000$${"A".repeat(22)}==$${"B".repeat(43)}=`;
  const config = makeConfig({ admin: { token, passwordHash: hash } });
  const text = printConfig(config);
  assert(!text.includes(token) && !text.includes(hash), text);
  assert(text.includes(`"token": ${JSON.stringify(REDACTED)}`), text);
  assert(text.includes(`    // ${REDACTED}: set, and not printed; write it here to load this file`), text);
  assertEquals(config.admin.token, token, "the config itself is not changed");
  const e = assertThrows(() => loadBack(text), ConfigError);
  assertEquals(e.path, "admin.token");
  // With the secrets written back in, it loads to the config.
  const restored = text.replace(`"token": "${REDACTED}"`, `"token": "${token}"`)
    .replace(`"passwordHash": "${REDACTED}"`, `"passwordHash": ${JSON.stringify(hash)}`);
  assertEquals(loadBack(restored), config);
  // An unset secret prints as null: the file says no credential is configured.
  assert(printConfig(defaultConfig()).includes('"token": null'));
});

Deno.test("printConfig() keeps every line within 110 characters", () => {
  for (const line of printConfig(defaultConfig()).split("\n")) assert(line.length <= 110, line);
});

Deno.test("docs/sluice.example.jsonc is a comment header over printConfig(defaultConfig()), exactly", async () => {
  const text = await Deno.readTextFile(EXAMPLE);
  const start = text.indexOf("\n{\n") + 1;
  const header = text.slice(0, start);
  assert(start > 0 && header.split("\n").slice(0, -1).every((l) => l.startsWith("//")), header);
  assertEquals(
    text.slice(start),
    printConfig(defaultConfig()) + "\n",
    "docs/sluice.example.jsonc is stale: keep its header and replace the rest with the output of " +
      "`deno run server.ts --print-config`",
  );
});

Deno.test("docs/sluice.example.jsonc loads with loadConfigFile() to the defaults", async () => {
  assertEquals(makeConfig(await loadConfigFile(EXAMPLE.pathname)), defaultConfig());
});

Deno.test("printConfig() redacts a rule's stream keys, and the loader refuses the placeholder by its path", () => {
  const rule = {
    match: "live/*",
    action: "publish" as const,
    keys: ["a-stream-key-1", "a-stream-key-2"],
    sign: false,
    signAddress: false,
    jwt: false,
    acl: [],
  };
  const config = makeConfig({ rules: [rule] });
  const text = printConfig(config);
  assert(!text.includes("a-stream-key-1") && !text.includes("a-stream-key-2"), text);
  assert(text.includes(`"keys": ${JSON.stringify([REDACTED, REDACTED])}`), text);
  assertEquals(config.rules[0].keys, rule.keys, "the config itself is not changed");
  const e = assertThrows(() => loadBack(text), ConfigError);
  assertEquals(e.path, "rules[0].keys");
  assert(!e.message.includes("a-stream-key"), e.message);
});
