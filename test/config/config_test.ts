import { assertEquals, assertNotEquals } from "../_util/assert.ts";
import { defaultConfig, makeConfig } from "../../src/config/config.ts";

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
