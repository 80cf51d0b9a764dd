import { assert, assertEquals, assertMatch, assertRejects } from "../_util/assert.ts";
import { JwtAlg, JwtVerifier, LEEWAY_S, MAX_GRANTS, MAX_TOKEN_LENGTH, tokenOf } from "../../src/auth/jwt.ts";
import { ConfigError } from "../../src/config/validate.ts";

const SECRET = "a-jwt-hs256-secret";
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;
const encoder = new TextEncoder();

function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** A token of `header` and `payload` (objects, or raw text for the malformed cases), signed by `sign`. */
async function token(
  header: object | string,
  payload: object | string,
  sign: (data: Uint8Array<ArrayBuffer>) => Promise<ArrayBuffer>,
): Promise<string> {
  const part = (v: object | string) => b64url(typeof v === "string" ? v : JSON.stringify(v));
  const head = `${part(header)}.${part(payload)}`;
  return `${head}.${b64url(new Uint8Array(await sign(encoder.encode(head))))}`;
}

async function hmacSigner(secret: string) {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return (data: Uint8Array<ArrayBuffer>) => crypto.subtle.sign("HMAC", key, data);
}

function hs256(
  payload: object | string,
  secret = SECRET,
  header: object | string = { alg: "HS256", typ: "JWT" },
) {
  return hmacSigner(secret).then((s) => token(header, payload, s));
}

function pem(spki: ArrayBuffer): string {
  const body = new Uint8Array(spki).toBase64().replace(/.{64}/g, "$&\n");
  return `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
}

async function rsaPair() {
  return await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
}

async function ecPair() {
  return await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

const rsaSign = (k: CryptoKey) => (d: Uint8Array<ArrayBuffer>) =>
  crypto.subtle.sign("RSASSA-PKCS1-v1_5", k, d);
const ecSign = (k: CryptoKey) => (d: Uint8Array<ArrayBuffer>) =>
  crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, k, d);

/** A file reader over an in-memory map of files. */
function files(map: Record<string, string>) {
  return (path: string) =>
    Object.hasOwn(map, path) ? Promise.resolve(map[path]) : Promise.reject(
      new Deno.errors.NotFound(`No such file or directory (os error 2): readfile '${path}'`),
    );
}

const PLAY_ALL = { sluice: [{ action: "play", path: "live/*" }] };

Deno.test("tokenOf() reads ?token= from a request's query, and nothing from its prototype", () => {
  assertEquals(tokenOf({ token: "abc" }), "abc");
  assertEquals(tokenOf({}), undefined);
  assertEquals(tokenOf(Object.create({ token: "x" })), undefined);
});

Deno.test("JwtVerifier.verify() accepts an HS256 token and returns its grants and subject", async () => {
  const v = await JwtVerifier.load({ jwtSecret: SECRET });
  assertEquals(v.algorithms, [JwtAlg.HS256]);
  const t = await hs256({ sub: "alice", exp: NOW_S + 60, ...PLAY_ALL });
  assertEquals(await v.verify(t, NOW_MS), {
    ok: true,
    grants: [{ action: "play", path: "live/*" }],
    subject: "alice",
  });
  assertEquals(await v.verify(await hs256({}), NOW_MS), { ok: true, grants: [] }, "no claim grants nothing");
});

Deno.test("JwtVerifier.verify() refuses a token signed with another secret, or altered", async () => {
  const v = await JwtVerifier.load({ jwtSecret: SECRET });
  const no = { ok: false, reason: "signature does not match" } as const;
  assertEquals(await v.verify(await hs256(PLAY_ALL, "another-secret-1"), NOW_MS), no);
  const t = await hs256({ sluice: [{ action: "play", path: "live/cam" }] });
  const [h, , s] = t.split(".");
  const forged = `${h}.${b64url(JSON.stringify({ sluice: [{ action: "any", path: "*" }] }))}.${s}`;
  assertEquals(await v.verify(forged, NOW_MS), no);
});

Deno.test("JwtVerifier.verify() checks exp and nbf with LEEWAY_S of clock skew", async () => {
  const v = await JwtVerifier.load({ jwtSecret: SECRET });
  const check = async (claims: object) => await v.verify(await hs256(claims), NOW_MS);
  assertEquals((await check({ exp: NOW_S - LEEWAY_S + 1 })).ok, true, "within the leeway");
  assertEquals(await check({ exp: NOW_S - LEEWAY_S - 10 }), { ok: false, reason: "expired 40 s ago" });
  assertEquals((await check({ nbf: NOW_S + LEEWAY_S - 1 })).ok, true, "within the leeway");
  assertEquals(await check({ nbf: NOW_S + 100 }), { ok: false, reason: "not valid for another 100 s" });
  assertEquals(await check({ exp: "tomorrow" }), {
    ok: false,
    reason: "claim exp is not a number of seconds",
  });
  assertEquals(await check({ nbf: null }), { ok: false, reason: "claim nbf is not a number of seconds" });
});

Deno.test("JwtVerifier.verify() refuses alg none, an unknown alg, and HS256 when it has only a public key", async () => {
  const hsOnly = await JwtVerifier.load({ jwtSecret: SECRET });
  const none = `${b64url(JSON.stringify({ alg: "none" }))}.${b64url(JSON.stringify(PLAY_ALL))}.x`;
  assertEquals(await hsOnly.verify(none, NOW_MS), {
    ok: false,
    reason: 'alg "none" is not accepted (HS256, RS256, ES256)',
  });
  assertEquals(await hsOnly.verify(await hs256(PLAY_ALL, SECRET, { alg: "HS512" }), NOW_MS), {
    ok: false,
    reason: 'alg "HS512" is not accepted (HS256, RS256, ES256)',
  });
  assertEquals(await hsOnly.verify(await hs256(PLAY_ALL, SECRET, { typ: "JWT" }), NOW_MS), {
    ok: false,
    reason: "alg null is not accepted (HS256, RS256, ES256)",
  });
  const { publicKey } = await rsaPair();
  const pemText = pem(await crypto.subtle.exportKey("spki", publicKey));
  const rsOnly = await JwtVerifier.load({ jwtKeyFile: "k.pem" }, files({ "k.pem": pemText }));
  // The classic confusion: an HS256 token "signed" with the public key's text.
  const confused = await hs256(PLAY_ALL, pemText);
  assertEquals(await rsOnly.verify(confused, NOW_MS), { ok: false, reason: "no key for HS256" });
});

Deno.test("JwtVerifier.verify() refuses malformed tokens with a reason, never throwing", async () => {
  const v = await JwtVerifier.load({ jwtSecret: SECRET });
  const check = (t: string | undefined) => v.verify(t, NOW_MS);
  assertEquals(await check(undefined), { ok: false, reason: "missing (?token= or Authorization: Bearer)" });
  assertEquals(await check(""), { ok: false, reason: "missing (?token= or Authorization: Bearer)" });
  assertEquals(await check("a".repeat(MAX_TOKEN_LENGTH + 1)), {
    ok: false,
    reason: `longer than ${MAX_TOKEN_LENGTH} characters`,
  });
  for (const t of ["abc", "a.b", "a.b.c.d", "a..c", "a.b.c=", "a+b.c.d"]) {
    assertEquals(await check(t), { ok: false, reason: "is not three base64url parts" }, t);
  }
  assertEquals(await check(await hs256(PLAY_ALL, SECRET, "{not json")), {
    ok: false,
    reason: "header is not JSON",
  });
  assertEquals(await check(await hs256(PLAY_ALL, SECRET, "[1]")), {
    ok: false,
    reason: "header is not a JSON object",
  });
  assertEquals(await check(await hs256("{not json")), { ok: false, reason: "payload is not JSON" });
  assertEquals(await check(await hs256("42")), { ok: false, reason: "payload is not a JSON object" });
  assertEquals(await check(await hs256(PLAY_ALL, SECRET, { alg: "HS256", kid: 7 })), {
    ok: false,
    reason: "header kid is not a string",
  });
  // Not UTF-8.
  const bad = await hmacSigner(SECRET).then((s) => token({ alg: "HS256" }, "\u00ff", s));
  const raw = `${bad.split(".")[0]}.${b64url(new Uint8Array([0xff, 0xfe]))}`;
  const sig = b64url(new Uint8Array(await (await hmacSigner(SECRET))(encoder.encode(raw))));
  assertEquals(await check(`${raw}.${sig}`), { ok: false, reason: "payload is not JSON" });
});

Deno.test("JwtVerifier.verify() reads the sluice claim's grants within bounds, refusing a wrong shape", async () => {
  const v = await JwtVerifier.load({ jwtSecret: SECRET });
  const check = async (claim: unknown) => await v.verify(await hs256({ sluice: claim }), NOW_MS);
  const bad = "claim sluice is not a list of { action: publish|play|any, path: app/stream }";
  assertEquals(await check([{ action: "publish", path: "live/cam" }, { action: "any", path: "*" }]), {
    ok: true,
    grants: [{ action: "publish", path: "live/cam" }, { action: "any", path: "*" }],
  });
  for (
    const claim of [
      "live/*",
      { action: "play", path: "live/*" },
      [{ action: "watch", path: "live/*" }],
      [{ action: "play" }],
      [{ action: "play", path: "live" }],
      [{ action: "play", path: "live/c?m" }],
      [null],
    ]
  ) {
    assertEquals(await check(claim), { ok: false, reason: bad }, JSON.stringify(claim));
  }
  const many = Array.from({ length: MAX_GRANTS + 1 }, () => ({ action: "play", path: "live/*" }));
  assertEquals(await check(many), {
    ok: false,
    reason: `claim sluice has ${MAX_GRANTS + 1} grants, the most is ${MAX_GRANTS}`,
  });
});

Deno.test("JwtVerifier verifies RS256 and ES256 with a PEM SPKI public key file", async () => {
  const rsa = await rsaPair();
  const ec = await ecPair();
  const read = files({
    "rsa.pem": pem(await crypto.subtle.exportKey("spki", rsa.publicKey)),
    "ec.pem": pem(await crypto.subtle.exportKey("spki", ec.publicKey)),
  });
  const rs = await JwtVerifier.load({ jwtKeyFile: "rsa.pem" }, read);
  assertEquals(rs.algorithms, [JwtAlg.RS256]);
  const rsToken = await token({ alg: "RS256" }, PLAY_ALL, rsaSign(rsa.privateKey));
  assertEquals((await rs.verify(rsToken, NOW_MS)).ok, true);
  const other = await rsaPair();
  assertEquals(await rs.verify(await token({ alg: "RS256" }, PLAY_ALL, rsaSign(other.privateKey)), NOW_MS), {
    ok: false,
    reason: "signature does not match",
  });
  const es = await JwtVerifier.load({ jwtKeyFile: "ec.pem", jwtSecret: SECRET }, read);
  assertEquals(es.algorithms, [JwtAlg.HS256, JwtAlg.ES256]);
  const esToken = await token({ alg: "ES256" }, PLAY_ALL, ecSign(ec.privateKey));
  assertEquals(esToken.split(".")[2].length, 86, "ES256 signatures are the 64 bytes of r and s");
  assertEquals((await es.verify(esToken, NOW_MS)).ok, true);
  assertEquals(await es.verify(rsToken, NOW_MS), { ok: false, reason: "no key for RS256" });
  assertEquals((await es.verify(await hs256(PLAY_ALL), NOW_MS)).ok, true, "and the secret beside it");
});

Deno.test("JwtVerifier picks a JWKS key by kid; a token without a known kid is refused", async () => {
  const a = await rsaPair();
  const b = await ecPair();
  const jwk = async (k: CryptoKey, extra: object) => ({
    ...await crypto.subtle.exportKey("jwk", k),
    ...extra,
  });
  const jwks = JSON.stringify({
    keys: [
      await jwk(a.publicKey, { kid: "rsa-1", use: "sig", alg: "RS256" }),
      await jwk(b.publicKey, { kid: "ec-1" }),
      { kty: "oct", k: "c2VjcmV0", kid: "sym" },
      await jwk((await rsaPair()).publicKey, { kid: "enc", use: "enc" }),
    ],
  });
  const v = await JwtVerifier.load({ jwksFile: "keys.json" }, files({ "keys.json": jwks }));
  assertEquals(v.algorithms, [JwtAlg.RS256, JwtAlg.ES256]);
  const rs = await token({ alg: "RS256", kid: "rsa-1" }, PLAY_ALL, rsaSign(a.privateKey));
  assertEquals((await v.verify(rs, NOW_MS)).ok, true);
  const es = await token({ alg: "ES256", kid: "ec-1" }, PLAY_ALL, ecSign(b.privateKey));
  assertEquals((await v.verify(es, NOW_MS)).ok, true);
  const unknown = await token({ alg: "RS256", kid: "rsa-2" }, PLAY_ALL, rsaSign(a.privateKey));
  assertEquals(await v.verify(unknown, NOW_MS), { ok: false, reason: 'no key for RS256 with kid "rsa-2"' });
  const noKid = await token({ alg: "RS256" }, PLAY_ALL, rsaSign(a.privateKey));
  assertEquals(await v.verify(noKid, NOW_MS), { ok: false, reason: "no key for RS256" });
});

Deno.test("JwtVerifier.load() refuses unreadable or keyless files with a ConfigError naming the setting", async () => {
  const fail = async (sources: object, read: (p: string) => Promise<string>) =>
    (await assertRejects(() => JwtVerifier.load(sources, read), ConfigError)).message;
  const none = files({
    "rsa-pkcs1.pem": "-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----\n",
    "junk.pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    "empty.json": '{"keys": []}',
    "not.json": "{",
    "nolist.json": '{"kty": "RSA"}',
  });
  assertEquals(
    await fail({}, none),
    "Cannot use auth.jwtSecret: JWTs need a key: auth.jwtSecret, auth.jwtKeyFile or auth.jwksFile",
  );
  assertMatch(
    await fail({ jwtKeyFile: "missing.pem" }, none),
    /^Cannot use auth\.jwtKeyFile: cannot read missing\.pem: /,
  );
  assertEquals(
    await fail({ jwtKeyFile: "rsa-pkcs1.pem" }, none),
    "Cannot use auth.jwtKeyFile: rsa-pkcs1.pem holds no PEM public key (-----BEGIN PUBLIC KEY-----, SPKI)",
  );
  assertEquals(
    await fail({ jwtKeyFile: "junk.pem" }, none),
    "Cannot use auth.jwtKeyFile: junk.pem is neither an RSA nor an EC P-256 public key",
  );
  assertEquals(
    await fail({ jwksFile: "empty.json" }, none),
    "Cannot use auth.jwksFile: empty.json has no RS256 or ES256 signing key",
  );
  assertMatch(
    await fail({ jwksFile: "not.json" }, none),
    /^Cannot use auth\.jwksFile: not\.json is not JSON: /,
  );
  assertEquals(
    await fail({ jwksFile: "nolist.json" }, none),
    'Cannot use auth.jwksFile: nolist.json has no "keys" list (a JWKS)',
  );
});

Deno.test("JwtVerifier.load() reads a real key file, and says to add --allow-read when it may not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_jwt_" });
  try {
    const { publicKey } = await ecPair();
    await Deno.writeTextFile(`${dir}/key.pem`, pem(await crypto.subtle.exportKey("spki", publicKey)));
    const v = await JwtVerifier.load({ jwtKeyFile: `${dir}/key.pem` });
    assertEquals(v.algorithms, [JwtAlg.ES256]);
    const denied = () => Promise.reject(new Deno.errors.NotCapable("Requires read access"));
    const e = await assertRejects(
      () => JwtVerifier.load({ jwtKeyFile: `${dir}/key.pem` }, denied),
      ConfigError,
    );
    assert(e.message.endsWith("(add --allow-read)"), e.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
