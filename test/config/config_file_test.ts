import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";
import {
  type Config,
  type ConfigOverrides,
  defaultConfig,
  makeConfig,
  REDACTED,
} from "../../src/config/config.ts";
import {
  ConfigFileError,
  configFromObject,
  loadConfigFile,
  mergeOverrides,
  missingConfigReadMessage,
  nearestName,
} from "../../src/config/config_file.ts";
import { JSONC_MAX_BYTES } from "../../src/config/jsonc.ts";
import { ConfigError, ConfigRule, SECRET_SHOWN, validateConfig } from "../../src/config/validate.ts";

const ORIGIN = "sluice.jsonc";

/** Writes `text` to a temp file, runs `fn` with its path, removes it. */
async function withFile<T>(text: string | Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_config_" });
  const path = `${dir}/sluice.jsonc`;
  try {
    if (typeof text === "string") await Deno.writeTextFile(path, text);
    else await Deno.writeFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfigFile() reads a JSONC file with comments and trailing commas into overrides", async () => {
  const text = `{
  // the RTMP side
  "rtmp": { "port": 1936, "chunkSize": 8192, },
  /* limits */
  "limits": { "maxPlayers": 1000, "maxBandwidthKbps": 1000 },
  "log": { "level": "debug", "access": "-" },
  "vod": { "root": null },
  "sources": [
    { "key": "live/cam", "path": "cam.flv" },
    { "key": "live/loop", "path": "a.h264", "loop": false, "fps": 29.97 },
  ],
}`;
  const overrides = await withFile(text, (path) => loadConfigFile(path));
  assertEquals(overrides, {
    rtmp: { port: 1936, chunkSize: 8192 },
    limits: { maxPlayers: 1000, maxBandwidthKbps: 1000 },
    log: { level: "debug", access: "-" },
    vod: { root: null },
    sources: [
      { key: "live/cam", path: "cam.flv", loop: true },
      { key: "live/loop", path: "a.h264", loop: false, fps: 29.97 },
    ],
  });
  const config = makeConfig(overrides);
  validateConfig(config);
  assertEquals(config.rtmp.host, defaultConfig().rtmp.host, "a setting left out keeps its default");
});

Deno.test("loadConfigFile() takes an empty object: every setting at its default", async () => {
  assertEquals(await withFile("// nothing set\n{}\n", (path) => loadConfigFile(path)), {});
});

Deno.test("loadConfigFile() without the read permission says which flag to add, and never prompts", async () => {
  const asked: string[] = [];
  for (const state of ["prompt", "denied"] as const) {
    const e = await assertRejects(
      () =>
        loadConfigFile("conf/sluice.jsonc", {
          queryRead: (path) => {
            asked.push(path);
            return Promise.resolve(state);
          },
        }),
      ConfigFileError,
    );
    assertEquals(
      e.message,
      "Cannot read conf/sluice.jsonc: run with --allow-read " +
        "(deno run --allow-net --allow-read server.ts --config conf/sluice.jsonc)",
    );
    assertEquals(e.message, missingConfigReadMessage("conf/sluice.jsonc"));
    assertEquals(e.file, "conf/sluice.jsonc");
  }
  assertEquals(asked, ["conf/sluice.jsonc", "conf/sluice.jsonc"]);
});

Deno.test("loadConfigFile() names a missing file, a folder, a file over the bound and bytes that are not UTF-8", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_config_" });
  try {
    const cases: [string, string][] = [[`${dir}/none.jsonc`, "there is no such file"], [
      dir,
      "it is a folder, not a file",
    ]];
    for (const [path, why] of cases) {
      const e = await assertRejects(() => loadConfigFile(path), ConfigFileError);
      assertEquals(e.message, `Cannot read ${path}: ${why}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const big = `{"a": "${"x".repeat(JSONC_MAX_BYTES)}"}`;
  await withFile(big, async (path) => {
    const e = await assertRejects(() => loadConfigFile(path), ConfigFileError);
    assertEquals(
      e.message,
      `Cannot read ${path}: current size ${big.length} bytes is above the maximum ${JSONC_MAX_BYTES}`,
    );
  });
  await withFile(new Uint8Array([0x7b, 0xff, 0x7d]), async (path) => {
    const e = await assertRejects(() => loadConfigFile(path), ConfigFileError);
    assertEquals(e.message, `Cannot read ${path}: it is not UTF-8 text`);
  });
});

Deno.test("loadConfigFile() names the file, line and column of a syntax error", async () => {
  await withFile('{\n  "rtmp": { "port": 1935 }\n  "http": {}\n}', async (path) => {
    const e = await assertRejects(() => loadConfigFile(path), ConfigFileError);
    assertEquals(
      e.message,
      `Cannot parse ${path}: line 3, column 3: expected "," or "}" after a member, found the string "http"`,
    );
    assert(e.cause instanceof SyntaxError);
  });
});

Deno.test("loadConfigFile() refuses a key that is no setting with its path and the nearest name, origin the file", async () => {
  await withFile('{ "rtmp": { "chunksize": 4096 } }', async (path) => {
    const e = await assertRejects(() => loadConfigFile(path), ConfigError);
    assertEquals(
      e.message,
      "Cannot use rtmp.chunksize: there is no such setting (did you mean rtmp.chunkSize?)",
    );
    assertEquals([e.path, e.value, e.rule, e.origin], ["rtmp.chunksize", 4096, ConfigRule.Known, path]);
  });
});

/** Keys that are no setting, and exactly what configFromObject() says. */
const UNKNOWN: [Record<string, unknown>, string][] = [
  [
    { rtmp: { chunksize: 1 } },
    "Cannot use rtmp.chunksize: there is no such setting (did you mean rtmp.chunkSize?)",
  ],
  [{ rmtp: { port: 1 } }, "Cannot use rmtp: there is no such setting (did you mean rtmp?)"],
  [
    { limits: { maxPlayer: 1 } },
    "Cannot use limits.maxPlayer: there is no such setting (did you mean limits.maxPlayers?)",
  ],
  [{ log: { levl: "info" } }, "Cannot use log.levl: there is no such setting (did you mean log.level?)"],
  // A setting in the wrong section, and one outside any section, are found by their name.
  [
    { hub: { chunkSize: 1 } },
    "Cannot use hub.chunkSize: there is no such setting (did you mean rtmp.chunkSize?)",
  ],
  [{ maxPlayers: 1 }, "Cannot use maxPlayers: there is no such setting (did you mean limits.maxPlayers?)"],
  [
    { sources: [{ key: "live/a", path: "a.flv", lop: false }] },
    "Cannot use sources[0].lop: there is no such setting (did you mean sources[0].loop?)",
  ],
  // Nothing near: what there is instead.
  [
    { foo: {} },
    "Cannot use foo: there is no such setting (the sections are rtmp, rtsp, http, hub, player, ingest, vod, hls, " +
    "admission, admin, auth, tls, limits, log, sources, feeds, streams, transcodes, rules, jobs)",
  ],
  [
    { http: { tls: true } },
    "Cannot use http.tls: there is no such setting (http has host, port, trustedProxies)",
  ],
  [
    { sources: [{ key: "live/a", path: "a.flv", speed: 2 }] },
    "Cannot use sources[0].speed: there is no such setting (an entry has key, path, loop, fps)",
  ],
  [
    JSON.parse('{"__proto__": {}}'),
    "Cannot use __proto__: there is no such setting (the sections are rtmp, rtsp, http, hub, player, ingest, vod, hls, " +
    "admission, admin, auth, tls, limits, log, sources, feeds, streams, transcodes, rules, jobs)",
  ],
  [
    { rtmp: { ["x".repeat(100)]: 1 } },
    `Cannot use rtmp.${"x".repeat(59)}...: there is no such setting (rtmp has host, port, chunkSize, ` +
    "maxMessageLength, windowAckSize, handshakeTimeoutMs, startTimeoutMs, idleTimeoutMs, maxConnections)",
  ],
];

for (const [obj, message] of UNKNOWN) {
  Deno.test(`configFromObject() says: ${message.slice(0, 60)}`, () => {
    const e = assertThrows(() => configFromObject(obj, ORIGIN), ConfigError);
    assertEquals(e.message, message);
    assertEquals([e.rule, e.origin], [ConfigRule.Known, ORIGIN]);
  });
}

/** Bad values, refused by configFromObject() with the message validateConfig() gives for the same value. */
const BAD_VALUES: ConfigOverrides[] = [
  { rtmp: { chunkSize: 0 } },
  { rtmp: { chunkSize: 4096.5 } },
  { http: { port: 70_000 } },
  { rtmp: { port: "1935" as unknown as number } },
  { rtmp: { host: "" } },
  { hub: { publishTakeover: "yes" as unknown as boolean } },
  { log: { level: "loud" as Config["log"]["level"] } },
  { vod: { app: "a/b" } },
  { limits: { maxPlayers: -1 } },
  { limits: { maxBandwidthKbps: 1e9 } },
  { admin: { token: "short" } },
  { rtmp: 1935 as unknown as Config["rtmp"] },
  { sources: {} as unknown as Config["sources"] },
  { sources: ["live/a=a.flv"] as unknown as Config["sources"] },
  { sources: [{ key: "cam", path: "a.flv", loop: true }] },
  { sources: [{ key: "live/a", path: "a.flv", loop: true, fps: 0 }] },
  { sources: [{ key: "live/a", path: "a.flv", loop: "no" as unknown as boolean }] },
  {
    sources: [{ key: "live/a", path: "a.flv", loop: true }, { key: "live/a", path: "b.flv", loop: true }],
  },
];

for (const overrides of BAD_VALUES) {
  Deno.test(`configFromObject() refuses ${JSON.stringify(overrides)} as validateConfig() does`, () => {
    const want = assertThrows(() => validateConfig(makeConfig(overrides)), ConfigError);
    const e = assertThrows(() => configFromObject(overrides, ORIGIN), ConfigError);
    assertEquals([e.message, e.path, e.value, e.rule], [want.message, want.path, want.value, want.rule]);
    assertEquals(e.origin, ORIGIN);
  });
}

Deno.test("configFromObject() never puts a secret's value in its message or its error", () => {
  const secret = "not a token at all!";
  const e = assertThrows(() => configFromObject({ admin: { token: secret } }, ORIGIN), ConfigError);
  assert(!e.message.includes(secret) && !JSON.stringify(e).includes(secret), e.message);
  assertEquals(e.value, SECRET_SHOWN);
});

Deno.test("configFromObject() refuses a secret that reads [redacted], saying to write the secret itself", () => {
  const e = assertThrows(() => configFromObject({ admin: { token: REDACTED } }, ORIGIN), ConfigError);
  assertEquals(
    e.message,
    'Cannot use admin.token: "[redacted]" stands for a secret --print-config does not show: write the ' +
      "secret itself here, or give --admin-token",
  );
});

Deno.test("configFromObject() takes every setting of the schema at its default", () => {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  assertEquals(makeConfig(configFromObject(config, ORIGIN)), defaultConfig());
});

Deno.test("configFromObject() refuses a file that is not one object, and a source entry without its key or path", () => {
  for (const value of [[], null, 1, "x"]) {
    const e = assertThrows(() => configFromObject(value, ORIGIN), ConfigError);
    assertEquals(e.path, "config");
    assertEquals(e.origin, ORIGIN);
  }
  assertEquals(
    assertThrows(() => configFromObject({ sources: [{ key: "live/a" }] }, ORIGIN), ConfigError).message,
    "Cannot use sources[0].path: it is missing (an entry needs key and path)",
  );
  assertEquals(
    assertThrows(() => configFromObject({ sources: [{ path: "a.flv" }] }, ORIGIN), ConfigError).message,
    "Cannot use sources[0].key: it is missing (an entry needs key and path)",
  );
});

Deno.test("configFromObject() copies the values: changing the result leaves the object as it was", () => {
  const obj = { rtmp: { port: 1 }, sources: [{ key: "live/a", path: "a.flv" }] };
  const out = configFromObject(obj, ORIGIN);
  out.rtmp!.port = 2;
  out.sources![0].path = "b.flv";
  assertEquals(obj, { rtmp: { port: 1 }, sources: [{ key: "live/a", path: "a.flv" }] });
});

Deno.test("mergeOverrides() lays the flags over the file section by section, and replaces a list whole", () => {
  const file: ConfigOverrides = {
    rtmp: { port: 1936, chunkSize: 8192 },
    log: { level: "debug" },
    sources: [{ key: "live/a", path: "a.flv", loop: true }, { key: "live/b", path: "b.flv", loop: true }],
  };
  const flags: ConfigOverrides = {
    rtmp: { port: 0 },
    http: { port: 0 },
    sources: [{ key: "live/c", path: "c.flv", loop: false }],
  };
  assertEquals(mergeOverrides(file, flags), {
    rtmp: { port: 0, chunkSize: 8192 },
    log: { level: "debug" },
    http: { port: 0 },
    sources: [{ key: "live/c", path: "c.flv", loop: false }],
  });
  assertEquals(mergeOverrides(file, {}), file);
  assertEquals(file.rtmp, { port: 1936, chunkSize: 8192 }, "the file's overrides are not changed");
});

Deno.test("nearestName() finds a name by its case, a swap or a typo, and nothing for a far one", () => {
  const names = ["rtmp", "http", "rtmp.chunkSize", "rtmp.port", "http.port"];
  assertEquals(nearestName("RTMP", names), "rtmp");
  assertEquals(nearestName("rmtp", names), "rtmp");
  assertEquals(nearestName("rtmp.chunkSise", names), "rtmp.chunkSize");
  assertEquals(nearestName("http.prot", names), "http.port");
  assertEquals(nearestName("foo", names), undefined);
  assertEquals(nearestName("x".repeat(65), names), undefined);
});
