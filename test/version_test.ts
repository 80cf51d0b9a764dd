/** The one version constant. */
import { assertEquals, assertMatch } from "./_util/assert.ts";
import { VERSION } from "../src/version.ts";

Deno.test("VERSION is a semver MAJOR.MINOR.PATCH string", () => {
  assertMatch(VERSION, /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/);
});

Deno.test("VERSION is 0.3.0, the release of the admin dashboard", () => {
  assertEquals(VERSION, "0.3.0");
});
