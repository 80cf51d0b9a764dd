import { assertEquals, assertThrows } from "../_util/assert.ts";
import {
  aclAllows,
  aclRefusal,
  aclRuleProblem,
  entryAcl,
  formatIpv4,
  isLoopback,
  MAX_ACL_RULES,
  parseAcl,
  parseAddress,
} from "../../src/config/acl.ts";

Deno.test("parseAddress() reads IPv4, IPv6 (with :: and a dotted tail) and takes IPv4-mapped IPv6 as IPv4", () => {
  assertEquals(parseAddress("10.1.2.3"), { family: 4, value: 0x0a010203n });
  assertEquals(parseAddress("::1"), { family: 6, value: 1n });
  assertEquals(parseAddress("[::1]"), { family: 6, value: 1n });
  assertEquals(parseAddress("2001:db8::"), { family: 6, value: 0x20010db8n << 96n });
  assertEquals(parseAddress("1:2:3:4:5:6:7:8"), { family: 6, value: 0x00010002000300040005000600070008n });
  assertEquals(parseAddress("::ffff:10.1.2.3"), { family: 4, value: 0x0a010203n });
  assertEquals(parseAddress("::ffff:a01:203"), { family: 4, value: 0x0a010203n });
  assertEquals(parseAddress("64:ff9b::1.2.3.4"), { family: 6, value: (0x64ff9bn << 96n) | 0x01020304n });
  for (
    const bad of ["", "1.2.3", "1.2.3.256", "1:2:3:4:5:6:7", "1::2::3", "12345::", "fe80::1%eth0", "host"]
  ) {
    assertEquals(parseAddress(bad), undefined, bad);
  }
});

Deno.test("aclAllows(): the first matching rule decides; none matching is the opposite of the last rule", () => {
  const onlyLoopback = parseAcl(["allow 127.0.0.1"]);
  assertEquals(aclAllows(onlyLoopback, "127.0.0.1").allowed, true);
  assertEquals(aclAllows(onlyLoopback, "::ffff:127.0.0.1").allowed, true);
  assertEquals(aclAllows(onlyLoopback, "10.0.0.1").allowed, false);
  assertEquals(aclAllows(onlyLoopback, "::1").allowed, false);
  const denyNet = parseAcl(["deny 10.0.0.0/8"]);
  assertEquals(aclAllows(denyNet, "10.200.0.1").allowed, false);
  assertEquals(aclAllows(denyNet, "11.0.0.1").allowed, true);
  const ordered = parseAcl(["allow 10.1.0.0/16", "deny 10.0.0.0/8", "allow all"]);
  assertEquals(aclAllows(ordered, "10.1.9.9").allowed, true);
  assertEquals(aclAllows(ordered, "10.2.9.9").allowed, false);
  assertEquals(aclAllows(ordered, "2001:db8::1").allowed, true);
  assertEquals(aclAllows(ordered, "10.2.9.9").rule?.text, "deny 10.0.0.0/8");
  assertEquals(aclAllows([], "10.0.0.1").allowed, true);
});

Deno.test("aclAllows() matches ranges, IPv6 blocks and mapped prefixes; an unreadable address only by all", () => {
  const rules = parseAcl([
    "allow 192.168.0.1 192.168.0.9",
    "allow 2001:db8::/32",
    "allow ::ffff:172.16.0.0/108",
  ]);
  assertEquals(aclAllows(rules, "192.168.0.5").allowed, true);
  assertEquals(aclAllows(rules, "192.168.0.10").allowed, false);
  assertEquals(aclAllows(rules, "2001:db8:ffff::1").allowed, true);
  assertEquals(aclAllows(rules, "2001:db9::1").allowed, false);
  assertEquals(aclAllows(rules, "172.31.255.255").allowed, true);
  assertEquals(aclAllows(rules, "172.32.0.0").allowed, false);
  assertEquals(aclAllows(rules, "unix-socket").allowed, false);
  assertEquals(aclAllows(parseAcl(["deny all"]), "unix-socket").allowed, false);
  assertEquals(aclAllows(parseAcl(["allow all"]), "unix-socket").allowed, true);
});

Deno.test("parseAcl() refuses a bad rule with what is wrong, and more than MAX_ACL_RULES rules", () => {
  assertEquals(aclRuleProblem("permit 1.2.3.4"), "it starts with allow or deny");
  assertEquals(aclRuleProblem("allow"), "it takes one address, a CIDR block, two addresses (a range) or all");
  assertEquals(aclRuleProblem("allow 1.2.3.400"), '"1.2.3.400" is no IPv4 or IPv6 address');
  assertEquals(aclRuleProblem("allow 10.0.0.0/33"), "the prefix length is 0 to 32");
  assertEquals(aclRuleProblem("allow ::/129"), "the prefix length is 0 to 128");
  assertEquals(
    aclRuleProblem("allow 10.0.0.9 10.0.0.1"),
    "a range is two addresses of one family, the lower first",
  );
  assertEquals(aclRuleProblem("ALLOW 10.0.0.0/8"), undefined);
  assertThrows(() => parseAcl(new Array(MAX_ACL_RULES + 1).fill("allow all")), SyntaxError);
});

Deno.test("isLoopback() holds for 127.0.0.0/8, ::1 and mapped 127.x only; formatIpv4() writes dotted form", () => {
  for (const a of ["127.0.0.1", "127.255.0.9", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assertEquals(isLoopback(a), true, a);
  }
  for (const a of ["128.0.0.1", "::2", "::ffff:10.0.0.1", "localhost", ""]) {
    assertEquals(isLoopback(a), false, a);
  }
  assertEquals(formatIpv4(parseAddress("::ffff:10.1.2.3")!.value), "10.1.2.3");
});

Deno.test("aclRefusal() names the rule that refused, or that none allowed; entryAcl() parses an entry's rules once", () => {
  const entry = { acl: ["deny 10.0.0.0/8", "allow 192.168.0.0/16"] };
  const rules = entryAcl(entry);
  assertEquals(entryAcl(entry) === rules, true, "the same parsed rules for the same entry");
  assertEquals(aclRefusal(rules, "10.1.2.3"), 'rule "deny 10.0.0.0/8"');
  assertEquals(aclRefusal(rules, "203.0.113.7"), "no rule allows it");
  assertEquals(aclRefusal(rules, "192.168.1.1"), undefined);
  assertEquals(aclRefusal([], "203.0.113.7"), undefined, "no rules: anyone");
});
