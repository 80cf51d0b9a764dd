import { assertEquals, assertRejects } from "../_util/assert.ts";
import { defaultConfig, makeConfig } from "../../src/config/config.ts";
import { ConfigFileError } from "../../src/config/config_file.ts";
import { diffConfig, LIVE_SETTINGS, reloadConfig, restartWarning } from "../../src/config/reload.ts";
import { type Setting, SETTINGS } from "../../src/config/schema.ts";
import { ConfigError } from "../../src/config/validate.ts";

/** Writes `text` to a temp file, runs `fn` with its path, removes it. */
async function withFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_reload_" });
  const path = `${dir}/sluice.jsonc`;
  try {
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("LIVE_SETTINGS holds the settings that change without a restart, and no listener or wire setting", () => {
  assertEquals(LIVE_SETTINGS, [
    "http.trustedProxies",
    "hub.playWaitMs",
    "hub.reconnectGraceMs",
    "player.queueMaxBytes",
    "player.queueMaxMs",
    "player.stallTimeoutMs",
    "player.maxSkipsPerMinute",
    "admission.timeoutMs",
    "admin.metricsOpen",
    "auth.publishKey",
    "auth.signSecret",
    "auth.signSecretPrevious",
    "auth.jwtSecret",
    "auth.jwtKeyFile",
    "auth.jwksFile",
    "auth.onConnect",
    "auth.onPublish",
    "auth.onPlay",
    "auth.onPublishDone",
    "auth.onPlayDone",
    "auth.callbackTimeoutMs",
    "auth.callbackCacheMs",
    "auth.callbackQueue",
    "limits.maxPlayers",
    "limits.maxHttpConnections",
    "limits.maxConnectionsPerAddress",
    "limits.maxPlayersPerStream",
    "limits.maxPublishers",
    "limits.maxBandwidthKbps",
    "log.level",
    "sources",
    "rules",
    "feeds",
    "streams",
    "transcodes",
    "jobs.ffmpeg",
    "jobs.restartMinMs",
    "jobs.restartMaxMs",
    "jobs.stderrLinesPerMinute",
  ]);
  // Every limit is live, whatever is added to the section later.
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.path.startsWith("limits.") || s.path.startsWith("player.")) assertEquals(s.live, true, s.path);
  }
});

Deno.test("diffConfig() of two equal configs is empty", () => {
  assertEquals(diffConfig(defaultConfig(), defaultConfig()), { live: [], restart: [] });
});

Deno.test("diffConfig() splits the changed paths into live and restart, in table order", () => {
  const old = defaultConfig();
  const next = makeConfig({
    log: { level: "debug" },
    limits: { maxPlayers: 10, maxBandwidthKbps: 1000 },
    rtmp: { port: 1936, chunkSize: 8192 },
    http: { host: "127.0.0.1" },
    player: { queueMaxMs: 5000 },
    admin: { metricsOpen: true },
  });
  assertEquals(diffConfig(old, next), {
    live: [
      "player.queueMaxMs",
      "admin.metricsOpen",
      "limits.maxPlayers",
      "limits.maxBandwidthKbps",
      "log.level",
    ],
    restart: ["rtmp.port", "rtmp.chunkSize", "http.host"],
  });
});

Deno.test("diffConfig() compares sources entry by entry, a missing fps the same as none", () => {
  const a = makeConfig({ sources: [{ key: "live/a", path: "a.flv", loop: true }] });
  const same = makeConfig({ sources: [{ path: "a.flv", loop: true, key: "live/a", fps: undefined }] });
  assertEquals(diffConfig(a, same), { live: [], restart: [] });
  const changed = makeConfig({ sources: [{ key: "live/a", path: "a.flv", loop: false }] });
  assertEquals(diffConfig(a, changed), { live: ["sources"], restart: [] });
});

Deno.test("restartWarning() names the settings that wait for a restart, or nothing", () => {
  assertEquals(restartWarning("sluice.jsonc", []), undefined);
  assertEquals(
    restartWarning("sluice.jsonc", ["rtmp.port"]),
    "Cannot apply rtmp.port from sluice.jsonc without a restart: it keeps its running value until then",
  );
  assertEquals(
    restartWarning("sluice.jsonc", ["rtmp.port", "http.port"]),
    "Cannot apply rtmp.port, http.port from sluice.jsonc without a restart: they keep their running value " +
      "until then",
  );
});

Deno.test("reloadConfig() applies the file's live changes, keeps restart settings running and lets flags win", async () => {
  const flags = { rtmp: { port: 0 }, limits: { maxPublishers: 3 } };
  const running = makeConfig({ ...flags, limits: { maxPublishers: 3, maxPlayers: 5 } });
  const text = `{
    "rtmp": { "port": 1999, "chunkSize": 8192 }, // port: the flag wins; chunkSize: needs a restart
    "limits": { "maxPlayers": 7, "maxPublishers": 9 }, // maxPublishers: the flag wins
    "log": { "level": "warn" },
  }`;
  const reload = await withFile(text, (path) => reloadConfig(path, flags, running));
  assertEquals(reload.live, ["limits.maxPlayers", "log.level"]);
  assertEquals(reload.restart, ["rtmp.chunkSize"]);
  assertEquals(
    reload.config,
    makeConfig({ ...flags, limits: { maxPublishers: 3, maxPlayers: 7 }, log: { level: "warn" } }),
  );
  assertEquals(running.limits.maxPlayers, 5, "the running config is not changed");
});

Deno.test("reloadConfig() refuses a bad file as a start does, changing nothing", async () => {
  const running = defaultConfig();
  await withFile('{ "limits": { "maxPlayer": 1 } }', async (path) => {
    const e = await assertRejects(() => reloadConfig(path, {}, running), ConfigError);
    assertEquals(
      e.message,
      "Cannot use limits.maxPlayer: there is no such setting (did you mean limits.maxPlayers?)",
    );
  });
  await withFile('{ "limits": { "maxPlayers": -1 } }', async (path) => {
    await assertRejects(() => reloadConfig(path, {}, running), ConfigError, "below the minimum 0");
  });
  await withFile("{ oops }", async (path) => {
    await assertRejects(() => reloadConfig(path, {}, running), ConfigFileError, "line 1, column 3");
  });
  assertEquals(running, defaultConfig());
});
