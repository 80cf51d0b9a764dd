import { assert, assertEquals } from "../_util/assert.ts";
import { Protocol, PROTOCOLS, Role, zeroByProtocol } from "../../src/hub/session_kind.ts";

Deno.test("Protocol has one distinct lowercase name per protocol", () => {
  const names = Object.values(Protocol);
  assertEquals(new Set(names).size, names.length);
  for (const n of names) assert(/^[a-z]+(-[a-z]+)*$/.test(n), `${n} is not lowercase-with-dashes`);
  assertEquals([...PROTOCOLS], names);
});

Deno.test("Role has pending, publisher, player and vod", () => {
  assertEquals(Object.values(Role), ["pending", "publisher", "player", "vod"]);
});

Deno.test("zeroByProtocol() has a 0 for every protocol and a fresh record each call", () => {
  const a = zeroByProtocol();
  assertEquals(Object.keys(a), [...PROTOCOLS]);
  assert(Object.values(a).every((n) => n === 0));
  a[Protocol.Rtmp]++;
  assertEquals(zeroByProtocol()[Protocol.Rtmp], 0);
});
