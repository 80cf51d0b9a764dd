/**
 * TrustedProxies: which address X-Forwarded-For names as the client, and when the peer's address stays.
 */
import { assertEquals } from "../_util/assert.ts";
import { MAX_HEADER_CHARS, MAX_HOPS, TrustedProxies } from "../../src/http/forwarded.ts";

const PROXY: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40_000 };

function client(proxies: TrustedProxies, xff: string | string[] | undefined, peer: Deno.Addr = PROXY) {
  const headers = new Headers();
  for (const v of xff === undefined ? [] : Array.isArray(xff) ? xff : [xff]) {
    headers.append("x-forwarded-for", v);
  }
  return proxies.clientOf(peer, headers);
}

function at(hostname: string): Deno.NetAddr {
  return { transport: "tcp", hostname, port: 0 };
}

Deno.test("TrustedProxies with no proxy configured ignores X-Forwarded-For", () => {
  assertEquals(client(new TrustedProxies([]), "203.0.113.7"), PROXY);
});

Deno.test("TrustedProxies takes the client X-Forwarded-For names from a trusted peer, and keeps an untrusted peer", () => {
  const proxies = new TrustedProxies(["127.0.0.1"]);
  assertEquals(client(proxies, "203.0.113.7"), at("203.0.113.7"));
  const other: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.1", port: 5000 };
  assertEquals(client(proxies, "203.0.113.7", other), other, "an untrusted peer cannot name a client");
  assertEquals(client(proxies, undefined), PROXY, "no header: the proxy itself");
  const unix: Deno.UnixAddr = { transport: "unix", path: "/run/sluice.sock" };
  assertEquals(client(proxies, "203.0.113.7", unix), unix);
});

Deno.test("TrustedProxies reads from the right and skips trusted hops, so a spoofed leftmost entry is not taken", () => {
  const proxies = new TrustedProxies(["127.0.0.1", "10.0.0.0/8"]);
  // The client wrote 198.51.100.1 itself; 203.0.113.7 is who reached the first trusted proxy.
  assertEquals(client(proxies, "198.51.100.1, 203.0.113.7, 10.0.0.5"), at("203.0.113.7"));
  // Two headers read as one list, the later one nearer to us.
  assertEquals(client(proxies, ["198.51.100.1", "203.0.113.7, 10.1.2.3"]), at("203.0.113.7"));
  // Every hop trusted: the leftmost.
  assertEquals(client(proxies, "10.9.9.9, 10.0.0.5"), at("10.9.9.9"));
});

Deno.test("TrustedProxies stops at an entry that is no address: the hop that forwarded it is the client", () => {
  const proxies = new TrustedProxies(["127.0.0.1", "10.0.0.0/8"]);
  assertEquals(client(proxies, "garbage, 10.0.0.5"), at("10.0.0.5"));
  assertEquals(client(proxies, "unknown"), PROXY);
  assertEquals(client(proxies, ""), PROXY);
  assertEquals(client(proxies, "203.0.113.7, evil.example"), PROXY);
});

Deno.test("TrustedProxies reads entries with ports and bracketed IPv6, and a dual-stack peer's mapped address", () => {
  const proxies = new TrustedProxies(["127.0.0.1", "::1"]);
  assertEquals(client(proxies, "203.0.113.7:5678"), at("203.0.113.7"));
  assertEquals(client(proxies, "[2001:db8::1]:443"), at("2001:db8::1"));
  assertEquals(client(proxies, "2001:db8::2"), at("2001:db8::2"));
  const mapped: Deno.NetAddr = { transport: "tcp", hostname: "::ffff:127.0.0.1", port: 1 };
  assertEquals(client(proxies, "203.0.113.7", mapped), at("203.0.113.7"));
  const v6: Deno.NetAddr = { transport: "tcp", hostname: "::1", port: 1 };
  assertEquals(client(proxies, "203.0.113.8", v6), at("203.0.113.8"));
});

Deno.test("TrustedProxies is bounded: a header too long is ignored, and only the last MAX_HOPS hops are read", () => {
  const proxies = new TrustedProxies(["127.0.0.1", "10.0.0.0/8"]);
  const long = `${"1.1.1.1, ".repeat(MAX_HEADER_CHARS / 9)}203.0.113.7`;
  assertEquals(client(proxies, long), PROXY);
  const trustedHops = Array.from({ length: MAX_HOPS + 5 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  // All trusted, more than MAX_HOPS: the leftmost of the last MAX_HOPS.
  assertEquals(client(proxies, trustedHops.join(", ")), at(trustedHops[5]));
});
