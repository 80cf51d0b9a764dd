import { assert, assertEquals, assertNotEquals } from "../_util/assert.ts";
import { defaultConfig, makeConfig, redactConfig, REDACTED } from "../../src/config/config.ts";

Deno.test("makeConfig() with no overrides returns the defaults", () => {
  assertEquals(makeConfig(), defaultConfig());
});

Deno.test("makeConfig() lays overrides over the defaults section by section", () => {
  const c = makeConfig({ rtmp: { port: 0 }, hub: { playWaitMs: 0 }, player: { queueMaxMs: 500 } });
  const d = defaultConfig();
  assertEquals(c.rtmp.port, 0);
  assertEquals(c.rtmp.chunkSize, d.rtmp.chunkSize);
  assertEquals(c.http.port, d.http.port);
  assertEquals(c.hub, { ...d.hub, playWaitMs: 0 });
  assertEquals(c.player, { ...d.player, queueMaxMs: 500 });
  assertEquals(c.rtmp, { ...d.rtmp, port: 0 });
});

Deno.test("makeConfig() never changes the defaults a later call sees", () => {
  const c = makeConfig();
  c.hub.publishTakeover = true;
  c.player.queueMaxBytes = 1;
  assertNotEquals(makeConfig().hub.publishTakeover, true);
  assertEquals(makeConfig().player.queueMaxBytes, defaultConfig().player.queueMaxBytes);
});

Deno.test("redactConfig() hides every secret that is set and keeps the rest", () => {
  const token = "0123456789abcdef-secret";
  const passwordHash = `pbkdf2-sha256$600000$${"A".repeat(22)}==$${"B".repeat(43)}=`;
  const c = makeConfig({ admin: { token, passwordHash, user: "ops" }, rtmp: { port: 1936 } });
  const shown = redactConfig(c);
  assertEquals(shown.admin.token, REDACTED);
  assertEquals(shown.admin.passwordHash, REDACTED);
  assertEquals(shown.admin.user, "ops");
  assertEquals(shown.rtmp, c.rtmp);
  const text = JSON.stringify(shown);
  assert(!text.includes(token) && !text.includes(passwordHash), text);
  // The configuration itself is not changed.
  assertEquals(c.admin.token, token);
  assertEquals(c.admin.passwordHash, passwordHash);
});

Deno.test("redactConfig() keeps an unset secret null, so the copy says no credential is set", () => {
  const shown = redactConfig(makeConfig());
  assertEquals(shown, defaultConfig());
  assertEquals(shown.admin.token, null);
});
