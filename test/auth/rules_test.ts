import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";
import { compilePattern, patternMatches, type RulesAuth, RulesPolicy } from "../../src/auth/rules.ts";
import { signQuery } from "../../src/auth/signed_url.ts";
import type { RuleConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/validate.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
} from "../../src/hub/admission.ts";
import { Protocol } from "../../src/hub/session_kind.ts";

const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;
const SIGN_SECRET = "url-signing-secret";
const JWT_SECRET = "jwt-hs256-secret";
const NO_AUTH: RulesAuth = {
  publishKey: null,
  signSecret: null,
  signSecretPrevious: null,
  jwtSecret: null,
  jwtKeyFile: null,
  jwksFile: null,
};
const encoder = new TextEncoder();

function rule(r: Partial<RuleConfig> & { match: string }): RuleConfig {
  return { action: "any", keys: [], sign: false, signAddress: false, jwt: false, acl: [], ...r };
}

function request(
  key: string,
  action: AdmissionAction,
  query: Record<string, string> = {},
  hostname = "127.0.0.1",
): AdmissionRequest {
  const [app, name] = key.split("/");
  return { action, protocol: Protocol.Rtmp, app, name, key, query, remote: { hostname, port: 50000 } };
}
const publish = (key: string, query?: Record<string, string>, host?: string) =>
  request(key, AdmissionAction.Publish, query, host);
const play = (key: string, query?: Record<string, string>, host?: string) =>
  request(key, AdmissionAction.Play, query, host);

function policy(rules: RuleConfig[], auth: Partial<RulesAuth> = {}) {
  return new RulesPolicy(rules, { ...NO_AUTH, ...auth }, { now: () => NOW_MS });
}

/** The policy's answer for `req`, which must come at once (no promise). */
function now(p: RulesPolicy, req: AdmissionRequest): AdmissionDecision {
  const d = p.admit(req);
  assert(!(d instanceof Promise), `${req.action} of ${req.key}: the answer came as a promise`);
  return d;
}

/** The policy's answer for `req`, which must come as a promise (it needs crypto). */
async function later(p: RulesPolicy, req: AdmissionRequest): Promise<AdmissionDecision> {
  const d = p.admit(req);
  assert(d instanceof Promise, `${req.action} of ${req.key}: the answer came at once`);
  return await d;
}

async function signed(
  action: AdmissionAction,
  key: string,
  expires: number,
  addr?: string,
  secret = SIGN_SECRET,
) {
  return Object.fromEntries(new URLSearchParams(await signQuery(secret, { action, key, addr }, expires)));
}

async function jwt(payload: object, secret = JWT_SECRET): Promise<string> {
  const b64 = (s: string | Uint8Array) =>
    (typeof s === "string" ? encoder.encode(s) : s).toBase64({ alphabet: "base64url", omitPadding: true });
  const head = `${b64(JSON.stringify({ alg: "HS256" }))}.${b64(JSON.stringify(payload))}`;
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return `${head}.${b64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(head))))}`;
}

Deno.test("patternMatches(): * is any run of name characters within one part; * alone is every stream", () => {
  assert(patternMatches("live/*", "live/cam"));
  assert(patternMatches("live/*", "live/"), "an empty run");
  assert(!patternMatches("live/*", "vod/cam"));
  assert(patternMatches("*/cam", "live/cam"));
  assert(patternMatches("*/cam", "other/cam"));
  assert(!patternMatches("*/cam", "live/cam2"));
  assert(patternMatches("live/cam-*", "live/cam-1.hd"));
  assert(!patternMatches("live/cam-*", "live/cam"));
  assert(patternMatches("*", "anything/at.all"));
  assert(patternMatches("live/cam", "live/cam"));
  assert(!patternMatches("live/cam", "live/camera"));
  assert(!patternMatches("live.x/cam", "liveAx/cam"), "a dot is a dot");
  assert(
    compilePattern("a/*").test("a/b.c-d_e~f") && !compilePattern("a/*").test("a/b c"),
    "* is name characters",
  );
});

Deno.test("RulesPolicy with no rules and no auth allows everything at once", () => {
  const p = policy([]);
  assertEquals(now(p, publish("live/cam")), allow());
  assertEquals(now(p, play("live/cam")), allow());
});

Deno.test("RulesPolicy with auth.publishKey: a publish no rule matches needs the key; plays stay open", () => {
  const p = policy([], { publishKey: "the-publish-key" });
  assertEquals(now(p, publish("live/cam", { key: "the-publish-key" })), allow());
  assertEquals(
    now(p, publish("live/cam")),
    deny("publish of live/cam needs a stream key (?key=)", DenyKind.Unauthorized),
  );
  assertEquals(
    now(p, publish("live/cam", { key: "guess-guess" })),
    deny("wrong stream key for live/cam", DenyKind.Unauthorized),
  );
  assertEquals(now(p, play("live/cam")), allow());
});

Deno.test("RulesPolicy with auth.signSecret: a play no rule matches needs a signed URL; either secret signs", async () => {
  const p = policy([], { signSecret: SIGN_SECRET, signSecretPrevious: "previous-secret" });
  assertEquals(await later(p, play("live/cam", await signed("play", "live/cam", NOW_S + 60))), allow());
  assertEquals(
    await later(
      p,
      play("live/cam", await signed("play", "live/cam", NOW_S + 60, undefined, "previous-secret")),
    ),
    allow(),
  );
  assertEquals(
    await later(p, play("live/cam", await signed("play", "live/cam", NOW_S - 12))),
    deny("signed URL: expired 12 s ago", DenyKind.Unauthorized),
  );
  assertEquals(
    await later(p, play("live/cam", await signed("play", "live/other", NOW_S + 60))),
    deny("signed URL: signature does not match", DenyKind.Unauthorized),
  );
  assertEquals(await later(p, play("live/cam")), deny("signed URL: missing sign", DenyKind.Unauthorized));
  assertEquals(now(p, publish("live/cam")), allow(), "publishes stay open");
});

Deno.test("RulesPolicy: the first rule whose pattern and action fit decides; later ones are not asked", () => {
  const p = policy([
    rule({ match: "live/open", action: "play" }),
    rule({ match: "live/*", action: "publish", keys: ["live-publish-key"] }),
    rule({ match: "live/*", acl: ["deny all"] }),
  ], { publishKey: "global-publish-key" });
  assertEquals(now(p, play("live/open")), allow(), "the first rule sets nothing: open");
  assertEquals(now(p, publish("live/open", { key: "live-publish-key" })), allow(), "the second rule's key");
  assertEquals(
    now(p, publish("live/open", { key: "global-publish-key" })),
    deny("wrong stream key for live/open", DenyKind.Unauthorized),
    "a matching rule replaces the shortcut",
  );
  assertEquals(
    now(p, play("live/cam")),
    deny('address 127.0.0.1 may not play live/cam (rule "deny all")', DenyKind.Forbidden),
  );
  assertEquals(now(p, publish("other/cam", { key: "global-publish-key" })), allow(), "no rule: the shortcut");
});

Deno.test("RulesPolicy: a rule's keys are any one of them, for the action it names", () => {
  const p = policy([rule({ match: "*", action: "play", keys: ["viewer-key-1", "viewer-key-2"] })]);
  assertEquals(now(p, play("live/cam", { key: "viewer-key-2" })), allow());
  assertEquals(
    now(p, play("live/cam", { key: "viewer-key-3" })),
    deny("wrong stream key for live/cam", DenyKind.Unauthorized),
  );
  assertEquals(now(p, publish("live/cam")), allow(), "the rule is for plays only");
});

Deno.test("RulesPolicy: address rules decide by the peer's address, IPv4-mapped or not, and a file source passes", () => {
  const p = policy([
    rule({ match: "live/*", action: "publish", acl: ["deny 127.0.0.1/32"] }),
    rule({ match: "live/*", action: "play", acl: ["allow ::1/128", "deny all"] }),
  ]);
  assertEquals(
    now(p, publish("live/cam", {}, "::ffff:127.0.0.1")),
    deny('address ::ffff:127.0.0.1 may not publish live/cam (rule "deny 127.0.0.1/32")', DenyKind.Forbidden),
  );
  assertEquals(now(p, publish("live/cam", {}, "10.1.2.3")), allow());
  assertEquals(now(p, play("live/cam", {}, "::1")), allow());
  assertEquals(
    now(p, play("live/cam", {}, "127.0.0.1")),
    deny('address 127.0.0.1 may not play live/cam (rule "deny all")', DenyKind.Forbidden),
  );
  const file: AdmissionRequest = { ...publish("live/cam"), protocol: Protocol.File, remote: undefined };
  assertEquals(now(p, file), allow(), "the server's own file source");
});

Deno.test("RulesPolicy: a sign rule checks the action and the stream, and with signAddress the peer's address", async () => {
  const p = policy([
    rule({ match: "live/bound", sign: true, signAddress: true }),
    rule({ match: "live/*", sign: true }),
  ], { signSecret: SIGN_SECRET });
  assertEquals(await later(p, publish("live/cam", await signed("publish", "live/cam", NOW_S + 5))), allow());
  assertEquals(
    await later(p, publish("live/cam", await signed("play", "live/cam", NOW_S + 5))),
    deny("signed URL: signature does not match", DenyKind.Unauthorized),
  );
  const bound = await signed("play", "live/bound", NOW_S + 5, "10.0.0.7");
  assertEquals(await later(p, play("live/bound", bound, "::ffff:10.0.0.7")), allow());
  assertEquals(
    await later(p, play("live/bound", bound, "10.0.0.8")),
    deny("signed URL: signature does not match", DenyKind.Unauthorized),
  );
});

Deno.test("RulesPolicy: every requirement of the deciding rule must pass, address rules first", async () => {
  const p = policy([
    rule({ match: "live/*", keys: ["the-right-key"], sign: true, acl: ["deny 10.0.0.0/8"] }),
  ], { signSecret: SIGN_SECRET });
  const good = { key: "the-right-key", ...await signed("play", "live/cam", NOW_S + 5) };
  assertEquals(await later(p, play("live/cam", good)), allow());
  assertEquals(
    now(p, play("live/cam", good, "10.0.0.1")),
    deny('address 10.0.0.1 may not play live/cam (rule "deny 10.0.0.0/8")', DenyKind.Forbidden),
  );
  assertEquals(
    now(p, play("live/cam", { ...good, key: "wrong-key!" })),
    deny("wrong stream key for live/cam", DenyKind.Unauthorized),
  );
  assertEquals(
    await later(p, play("live/cam", { key: "the-right-key" })),
    deny("signed URL: missing sign", DenyKind.Unauthorized),
  );
});

Deno.test("RulesPolicy: a jwt rule needs a token that verifies (401) and grants this action and stream (403)", async () => {
  const p = policy([rule({ match: "live/*", jwt: true })], { jwtSecret: JWT_SECRET });
  await p.ready();
  const alice = await jwt({ sub: "alice", sluice: [{ action: "play", path: "live/cam" }] });
  assertEquals(await later(p, play("live/cam", { token: alice })), allow());
  assertEquals(
    await later(p, play("live/other", { token: alice })),
    deny('the token of "alice" does not allow play of live/other', DenyKind.Forbidden),
  );
  assertEquals(
    await later(p, publish("live/cam", { token: alice })),
    deny('the token of "alice" does not allow publish of live/cam', DenyKind.Forbidden),
  );
  const any = await jwt({ sluice: [{ action: "any", path: "*" }], exp: NOW_S + 60 });
  assertEquals(await later(p, publish("live/cam", { token: any })), allow());
  assertEquals(
    await later(p, play("live/cam")),
    deny("token: missing (?token= or Authorization: Bearer)", DenyKind.Unauthorized),
  );
  assertEquals(
    await later(p, play("live/cam", { token: await jwt({ sluice: [] }, "some-other-secret") })),
    deny("token: signature does not match", DenyKind.Unauthorized),
  );
  assertEquals(
    await later(p, play("live/cam", { token: await jwt({ exp: NOW_S - 100, sluice: [] }) })),
    deny("token: expired 100 s ago", DenyKind.Unauthorized),
  );
});

Deno.test("RulesPolicy: a reason never holds the key, signature or token given", async () => {
  const p = policy([rule({ match: "live/*", keys: ["right-key-1"], jwt: true })], { jwtSecret: JWT_SECRET });
  const token = await jwt({ sluice: [{ action: "play", path: "vod/*" }] });
  const answers = [
    await p.admit(play("live/cam", { key: "secret-guess-1" })),
    await p.admit(play("live/cam", { key: "right-key-1", token })),
    await p.admit(play("live/cam", { key: "right-key-1", token: `${token}x` })),
  ];
  for (const d of answers) {
    assert(d.kind === "deny");
    for (const secret of ["secret-guess-1", "right-key-1", token, token.split(".")[2]]) {
      assert(!d.reason.includes(secret), `"${d.reason}" shows a credential`);
    }
  }
});

Deno.test("RulesPolicy refuses a rule that asks for what auth does not configure, naming the setting", () => {
  const fail = (rules: RuleConfig[], auth: Partial<RulesAuth> = {}) =>
    assertThrows(() => policy(rules, auth), ConfigError).message;
  assertEquals(
    fail([rule({ match: "*" }), rule({ match: "live/*", sign: true })]),
    "Cannot use rules[1].sign: a signed URL needs auth.signSecret",
  );
  assertEquals(
    fail([rule({ match: "*", signAddress: true })], { signSecret: SIGN_SECRET }),
    "Cannot use rules[0].signAddress: it binds the signature: set sign too",
  );
  assertEquals(
    fail([rule({ match: "*", jwt: true })]),
    "Cannot use rules[0].jwt: a JWT needs a key: auth.jwtSecret, auth.jwtKeyFile or auth.jwksFile",
  );
  assertThrows(() => policy([rule({ match: "*", acl: ["permit all"] })]), SyntaxError);
});

Deno.test("RulesPolicy.update() swaps rules and secrets whole; a failing update changes nothing", async () => {
  const p = policy([], { publishKey: "first-publish-key" });
  await p.update([rule({ match: "live/*", action: "publish", keys: ["rule-publish-key"] })], {
    ...NO_AUTH,
    publishKey: "second-publish-key",
  });
  assertEquals(now(p, publish("live/cam", { key: "rule-publish-key" })), allow());
  assertEquals(now(p, publish("vod/cam", { key: "second-publish-key" })), allow());
  assertEquals(now(p, publish("vod/cam", { key: "first-publish-key" })).kind, "deny");
  await assertRejects(
    () => p.update([rule({ match: "*", jwt: true })], { ...NO_AUTH, jwtKeyFile: "/nonexistent/key.pem" }),
    ConfigError,
  );
  await assertRejects(() => p.update([rule({ match: "*", sign: true })], NO_AUTH), ConfigError);
  assertEquals(now(p, publish("live/cam", { key: "rule-publish-key" })), allow(), "the old rules still hold");
});

Deno.test("RulesPolicy: a JWT key file that cannot be read makes ready() reject and JWT requests 503", async () => {
  const p = new RulesPolicy([rule({ match: "live/*", jwt: true })], {
    ...NO_AUTH,
    jwtKeyFile: "keys/jwt.pem",
  }, {
    readTextFile: () => Promise.reject(new Deno.errors.NotFound("no such file")),
  });
  const e = await assertRejects(() => p.ready(), ConfigError);
  assertEquals(e.message, "Cannot use auth.jwtKeyFile: cannot read keys/jwt.pem: no such file");
  assertEquals(
    await later(p, play("live/cam", { token: "a.b.c" })),
    deny(`token keys are not loaded: ${e.message}`, DenyKind.Unavailable),
  );
  assertEquals(now(p, play("vod/cam")), allow(), "requests no JWT rule matches go on");
});

Deno.test("RulesPolicy reads the JWT key file once, not per request", async () => {
  let reads = 0;
  const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)).toBase64();
  const p = new RulesPolicy([rule({ match: "*", jwt: true })], { ...NO_AUTH, jwtKeyFile: "k.pem" }, {
    readTextFile:
      () => (reads++, Promise.resolve(`-----BEGIN PUBLIC KEY-----\n${spki}\n-----END PUBLIC KEY-----`)),
  });
  await p.ready();
  for (let i = 0; i < 3; i++) {
    assertEquals((await p.admit(play("live/cam", { token: "a.b.c" }))).kind, "deny");
  }
  assertEquals(reads, 1);
});

Deno.test("RulesPolicy lets the server's own loopback clients in with its internal key, and no one else", () => {
  const p = new RulesPolicy([rule({ match: "live/*", keys: ["a-stream-key-1"] })], {
    ...NO_AUTH,
    publishKey: "the-publish-key",
  }, { now: () => NOW_MS, internalKey: "internal-key-123" });
  assertEquals(now(p, publish("live/cam", { job_key: "internal-key-123" })).kind, "allow");
  assertEquals(now(p, publish("other/cam", { job_key: "internal-key-123" })).kind, "allow");
  assertEquals(now(p, publish("live/cam", { job_key: "wrong-key-000" })).kind, "deny");
  assertEquals(now(p, publish("live/cam", { job_key: "internal-key-123" }, "10.0.0.1")).kind, "deny");
  assertEquals(
    now(p, publish("live/cam", { job_key: "internal-key-123" }, "::ffff:127.0.0.1")).kind,
    "allow",
  );
});

Deno.test("patternMatches() is linear on a long hostile name (regression: a backtracking RegExp took 11 s)", () => {
  const name = "-".repeat(20_000) + "!";
  const t0 = performance.now();
  assertEquals(patternMatches("live/*-*-*", `live/${name}`), false);
  assertEquals(patternMatches("live/*_*", `live/${"a".repeat(20_000)}`), false);
  assertEquals(patternMatches("live/*-*-*", "live/a-b-c"), true);
  assertEquals(patternMatches("*/cam", "live/cam"), true);
  assertEquals(patternMatches("*/cam", "a/b/cam"), false, "a * never matches /");
  // A failure bound, not a speed test: the RegExp took seconds here.
  assert(performance.now() - t0 < 2000, "the match took seconds");
});
