/** node-media-server's config for a bench run: loopback, the two ports, nothing else served or written. */
import { nmsConfig } from "../../bench/nms.ts";
import { assertEquals } from "../_util/assert.ts";

Deno.test("nmsConfig() binds loopback RTMP and HTTP on the given ports, with no admin, API or recording", () => {
  const c = nmsConfig("/tmp/x", 1936, 8001);
  assertEquals(c.bind, "127.0.0.1");
  assertEquals(c.rtmp, { port: 1936 });
  assertEquals(c.http, { port: 8001 });
  // No https or rtmps section: no TLS listeners; no auth section: no JWT API, no secret written back.
  assertEquals(["https", "rtmps", "auth"].filter((k) => k in c), []);
  assertEquals(c.webadmin, { enable: false });
  assertEquals(c.record, { auto: false, path: "/tmp/x/record" });
  assertEquals(c.store, { path: "/tmp/x/data" });
});
