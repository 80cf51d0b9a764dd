import { createHmac } from "node:crypto";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../_util/assert.ts";
import {
  canonicalAddress,
  MAX_TTL_S,
  signature,
  signedUrls,
  SignedUrlVerifier,
  signingText,
  signQuery,
  verify,
} from "../../src/auth/signed_url.ts";
import { AdmissionAction, parseQuery } from "../../src/hub/admission.ts";

const SECRET = "a-signing-secret";
const OLD_SECRET = "the-previous-secret";
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;
const PLAY_CAM = { action: AdmissionAction.Play, key: "live/cam" };

/** The query of a URL signed with `secret` for `target` until `expires`, read as the gate reads it. */
async function signed(secret: string, target: typeof PLAY_CAM & { addr?: string }, expires: number) {
  return parseQuery(await signQuery(secret, target, expires));
}

Deno.test("signingText() is ACTION, APP/STREAM, EXPIRES and, when bound, the canonical address, one per line", () => {
  assertEquals(signingText(PLAY_CAM, 1700000060), "play\nlive/cam\n1700000060");
  assertEquals(
    signingText({ action: AdmissionAction.Publish, key: "live/cam", addr: "::ffff:10.0.0.1" }, 5),
    "publish\nlive/cam\n5\n10.0.0.1",
  );
});

Deno.test("signature() is base64url HMAC-SHA256 of the signing text with the secret's UTF-8 bytes", async () => {
  const expected = createHmac("sha256", SECRET).update("play\nlive/cam\n1700000060").digest("base64url");
  assertEquals(await signature(SECRET, PLAY_CAM, 1700000060), expected);
  assertMatch(expected, /^[A-Za-z0-9_-]{43}$/);
  assertEquals(
    await signQuery(SECRET, PLAY_CAM, 1700000060),
    `expires=1700000060&sign=${expected}`,
  );
});

Deno.test("canonicalAddress() writes IPv4 dotted, a mapped address as IPv4, IPv6 as RFC 5952 does", () => {
  assertEquals(canonicalAddress("10.0.0.1"), "10.0.0.1");
  assertEquals(canonicalAddress("::ffff:10.0.0.1"), "10.0.0.1");
  assertEquals(canonicalAddress("0:0:0:0:0:0:0:1"), "::1");
  assertEquals(canonicalAddress("[::1]"), "::1");
  assertEquals(canonicalAddress("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1", "the first of two equal runs");
  assertEquals(canonicalAddress("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1", "one zero group stays");
  assertEquals(canonicalAddress("2001:0db8::0001"), "2001:db8::1");
  assertEquals(canonicalAddress("::"), "::");
  assertEquals(canonicalAddress("not-an-address"), "not-an-address");
});

Deno.test("SignedUrlVerifier.verify() accepts a URL signed for this action and stream before it expires", async () => {
  const v = new SignedUrlVerifier([SECRET]);
  assertEquals(await v.verify(await signed(SECRET, PLAY_CAM, NOW_S + 60), PLAY_CAM, NOW_MS), { ok: true });
});

Deno.test("SignedUrlVerifier.verify() refuses another stream, another action and another secret", async () => {
  const v = new SignedUrlVerifier([SECRET]);
  const query = await signed(SECRET, PLAY_CAM, NOW_S + 60);
  const no = { ok: false, reason: "signature does not match" };
  assertEquals(await v.verify(query, { ...PLAY_CAM, key: "live/other" }, NOW_MS), no);
  assertEquals(await v.verify(query, { ...PLAY_CAM, action: AdmissionAction.Publish }, NOW_MS), no);
  assertEquals(await v.verify(await signed("another-secret", PLAY_CAM, NOW_S + 60), PLAY_CAM, NOW_MS), no);
  // A later expiry than the one signed is a different text.
  assertEquals(await v.verify({ ...query, expires: String(NOW_S + 3600) }, PLAY_CAM, NOW_MS), no);
});

Deno.test("SignedUrlVerifier.verify() says how long ago a URL expired, at and past its time", async () => {
  const v = new SignedUrlVerifier([SECRET]);
  const at = await signed(SECRET, PLAY_CAM, NOW_S);
  assertEquals(await v.verify(at, PLAY_CAM, NOW_MS), { ok: false, reason: "expired 0 s ago" });
  const past = await signed(SECRET, PLAY_CAM, NOW_S - 12);
  assertEquals(await v.verify(past, PLAY_CAM, NOW_MS + 999), { ok: false, reason: "expired 12 s ago" });
});

Deno.test("SignedUrlVerifier.verify() accepts both secrets of a rotation, and only them", async () => {
  const v = new SignedUrlVerifier([SECRET, OLD_SECRET]);
  assertEquals(await v.verify(await signed(SECRET, PLAY_CAM, NOW_S + 1), PLAY_CAM, NOW_MS), { ok: true });
  assertEquals(await v.verify(await signed(OLD_SECRET, PLAY_CAM, NOW_S + 1), PLAY_CAM, NOW_MS), { ok: true });
  assertEquals(await v.verify(await signed("third-secret", PLAY_CAM, NOW_S + 1), PLAY_CAM, NOW_MS), {
    ok: false,
    reason: "signature does not match",
  });
});

Deno.test("SignedUrlVerifier.verify() binds the address when asked: the peer's, in any of its spellings", async () => {
  const v = new SignedUrlVerifier([SECRET]);
  const query = await signed(SECRET, { ...PLAY_CAM, addr: "10.0.0.1" }, NOW_S + 60);
  assertEquals(await v.verify(query, { ...PLAY_CAM, addr: "10.0.0.1" }, NOW_MS), { ok: true });
  assertEquals(await v.verify(query, { ...PLAY_CAM, addr: "::ffff:10.0.0.1" }, NOW_MS), { ok: true });
  assertEquals(await v.verify(query, { ...PLAY_CAM, addr: "10.0.0.2" }, NOW_MS), {
    ok: false,
    reason: "signature does not match",
  });
  assertEquals(await v.verify(query, PLAY_CAM, NOW_MS), { ok: false, reason: "signature does not match" });
  const v6 = await signed(SECRET, { ...PLAY_CAM, addr: "0:0:0:0:0:0:0:1" }, NOW_S + 60);
  assertEquals(await v.verify(v6, { ...PLAY_CAM, addr: "::1" }, NOW_MS), { ok: true });
});

Deno.test("SignedUrlVerifier.verify() reads the query within bounds and names what is missing or malformed", async () => {
  const v = new SignedUrlVerifier([SECRET]);
  const good = await signed(SECRET, PLAY_CAM, NOW_S + 60);
  const check = (query: Record<string, string>) => v.verify(query, PLAY_CAM, NOW_MS);
  assertEquals(await check({}), { ok: false, reason: "missing sign" });
  assertEquals(await check({ sign: good.sign }), { ok: false, reason: "missing expires" });
  for (const expires of ["", "-1", "1e10", "0x10", "1234567890123", " 1"]) {
    assertEquals(await check({ ...good, expires }), {
      ok: false,
      reason: "expires is not a UNIX time in seconds",
    }, expires);
  }
  for (
    const sign of ["", good.sign.slice(1), `${good.sign}A`, `${good.sign.slice(0, 42)}+`, `${good.sign}=`]
  ) {
    assertEquals(await check({ ...good, sign }), {
      ok: false,
      reason: "sign is not 43 base64url characters (HMAC-SHA256)",
    }, sign);
  }
  const proto = Object.create({ sign: good.sign, expires: good.expires }) as Record<string, string>;
  assertEquals(await check(proto), { ok: false, reason: "missing sign" }, "no parameter from the prototype");
});

Deno.test("verify() checks one URL against a list of secrets; a verifier needs at least one", async () => {
  assertEquals(
    await verify(await signed(OLD_SECRET, PLAY_CAM, NOW_S + 5), PLAY_CAM, [SECRET, OLD_SECRET], NOW_MS),
    {
      ok: true,
    },
  );
  assertThrows(() => new SignedUrlVerifier([]), RangeError);
});

Deno.test("signedUrls() for a play gives RTMP, HTTP-FLV and WebSocket-FLV URLs that verify", async () => {
  const { expires, urls } = await signedUrls({
    secret: SECRET,
    action: AdmissionAction.Play,
    key: "live/cam",
    ttlS: 60,
    nowMs: NOW_MS + 500,
    host: "example.com",
    rtmpPort: 1935,
    httpPort: 8000,
  });
  assertEquals(expires, NOW_S + 60);
  const q = await signQuery(SECRET, PLAY_CAM, expires);
  assertEquals(urls, [
    `rtmp://example.com:1935/live/cam?${q}`,
    `http://example.com:8000/live/cam.flv?${q}`,
    `ws://example.com:8000/live/cam.flv?${q}`,
  ]);
  const v = new SignedUrlVerifier([SECRET]);
  for (const url of urls) {
    assertEquals(
      await v.verify(parseQuery(new URL(url).search.slice(1)), PLAY_CAM, NOW_MS),
      { ok: true },
      url,
    );
  }
});

Deno.test("signedUrls() for a publish gives RTMP, HTTP push and WebSocket push; TLS ports add rtmps, https, wss", async () => {
  const { expires, urls } = await signedUrls({
    secret: SECRET,
    action: AdmissionAction.Publish,
    key: "live/cam",
    ttlS: 30,
    nowMs: NOW_MS,
    addr: "192.0.2.7",
    host: "::1",
    rtmpPort: 1935,
    httpPort: 8000,
    rtmpsPort: 1936,
    httpsPort: 8443,
  });
  const q = await signQuery(
    SECRET,
    { action: AdmissionAction.Publish, key: "live/cam", addr: "192.0.2.7" },
    expires,
  );
  assert(!q.includes("192.0.2.7"), "the address is not in the URL");
  assertEquals(urls, [
    `rtmp://[::1]:1935/live/cam?${q}`,
    `rtmps://[::1]:1936/live/cam?${q}`,
    `http://[::1]:8000/live/cam?${q}`,
    `https://[::1]:8443/live/cam?${q}`,
    `ws://[::1]:8000/live/cam?${q}`,
    `wss://[::1]:8443/live/cam?${q}`,
  ]);
});

Deno.test("signedUrls() refuses a time to live below 1 s, past MAX_TTL_S or not whole", async () => {
  const base = {
    secret: SECRET,
    action: AdmissionAction.Play,
    key: "live/cam",
    nowMs: NOW_MS,
    host: "h",
    rtmpPort: 1,
    httpPort: 2,
  };
  for (const ttlS of [0, -5, 1.5, MAX_TTL_S + 1, NaN]) {
    await assertRejects(() => signedUrls({ ...base, ttlS }), RangeError);
  }
});
