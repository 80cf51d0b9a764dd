/**
 * The admin guard as pure `Request -> Response` calls: who is served with no credential configured
 * (loopback only, and only as localhost, from no other origin), tokens and session cookies when one is
 * configured, the login and its rate limit, the same-origin rule for cookie posts, session expiry, and
 * that no credential ever reaches a log line or an answer. The clock is the test's.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import {
  AdminArea,
  AdminGuard,
  type AdminGuardOptions,
  AdminPath,
  ATTEMPT_WINDOW_MS,
  isLoopbackAddress,
  LoginNote,
  MAX_LOGIN_BODY_BYTES,
  MAX_LOGINS_IN_FLIGHT,
  MAX_TRACKED_ADDRESSES,
  SESSION_COOKIE,
} from "../../src/admin/auth.ts";
import { hashPassword, MIN_ITERATIONS } from "../../src/admin/password.ts";
import { makeConfig } from "../../src/config/config.ts";
import { Logger, setLogSink } from "../../src/log.ts";

const TOKEN = "s3cret-T0ken-for-tests-0123456789";
const PASSWORD = "correct horse battery staple";
const HASH = await hashPassword(PASSWORD, MIN_ITERATIONS);
const BASE = "http://sluice.example:8000";
const LOCAL = "http://127.0.0.1:8000";

function addr(hostname: string, port = 50_000): Deno.NetAddr {
  return { transport: "tcp", hostname, port };
}
const REMOTE = addr("203.0.113.7");
const LOOPBACK = addr("127.0.0.1");

/** The guard's options: no credential, as the defaults, unless given. */
function options(over: Partial<AdminGuardOptions> = {}): AdminGuardOptions {
  return { ...makeConfig().admin, ...over };
}

/** A guard over a clock the test moves, with every log line captured; the sink is put back after. */
async function withGuard(
  over: Partial<AdminGuardOptions>,
  fn: (g: AdminGuard, t: { lines: string[]; advance(ms: number): void }) => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  const prev = setLogSink((line) => lines.push(line));
  let now = 1_700_000_000_000;
  try {
    const guard = new AdminGuard(options(over), new Logger("[admin] "), () => now);
    await fn(guard, { lines, advance: (ms) => now += ms });
  } finally {
    setLogSink(prev);
  }
  return lines;
}

function get(url: string, headers: HeadersInit = {}): Request {
  return new Request(url, { headers });
}

function post(url: string, headers: HeadersInit = {}, body?: BodyInit): Request {
  return new Request(url, { method: "POST", headers, body });
}

function formLogin(user: string, password: string, base = BASE, headers: HeadersInit = {}): Request {
  return post(`${base}${AdminPath.Login}`, {
    "content-type": "application/x-www-form-urlencoded",
    origin: base,
    ...headers,
  }, new URLSearchParams({ user, password }).toString());
}

function jsonLogin(user: string, password: string, base = BASE): Request {
  return post(
    `${base}${AdminPath.Login}`,
    { "content-type": "application/json" },
    JSON.stringify({ user, password }),
  );
}

/** Logs in with the right password and returns the cookie pair (`sluice_session=...`). */
async function logIn(guard: AdminGuard, remote: Deno.Addr = REMOTE): Promise<string> {
  const res = await guard.login(formLogin("admin", PASSWORD), remote);
  assertEquals(res.status, 303);
  return res.headers.get("set-cookie")!.split(";")[0];
}

/** Checks that `res` is a JSON error with `status` and returns its message. */
async function jsonError(res: Response | undefined, status: number): Promise<string> {
  assert(res, `served, wanted ${status}`);
  assertEquals(res.status, status);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  const body = await res.json();
  assertEquals(Object.keys(body), ["error"]);
  assertMatch(body.error, /^Cannot /);
  return body.error;
}

// ---- no credential configured

Deno.test("AdminGuard.check() refuses a non-loopback peer with 403 JSON saying how to set a credential when none is configured", async () => {
  await withGuard({}, async (g) => {
    for (const area of Object.values(AdminArea)) {
      const error = await jsonError(await g.check(get(`${BASE}/api/v1/server`), REMOTE, area), 403);
      assertMatch(error, /203\.0\.113\.7/);
      assertMatch(error, /admin\.token \(--admin-token\)/);
      assertMatch(error, /hash-password/);
    }
    // A token sent while none is configured changes nothing.
    const res = await g.check(
      get(`${BASE}/api/v1/server`, { authorization: `Bearer ${TOKEN}` }),
      REMOTE,
      "api",
    );
    await jsonError(res, 403);
    await jsonError(await g.check(get(`${BASE}/api/v1/server`), undefined, AdminArea.Api), 403);
  });
});

Deno.test("AdminGuard.check() serves loopback peers when loopbackOpen and no credential is configured", async () => {
  await withGuard({}, async (g) => {
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "0:0:0:0:0:0:0:1"]) {
      for (const area of Object.values(AdminArea)) {
        assertEquals(
          await g.check(get(`${LOCAL}/api/v1/server`), addr(host), area),
          undefined,
          `${host} ${area}`,
        );
      }
    }
    for (const url of ["http://localhost:8000/admin/", "http://[::1]:8000/admin/", "http://app.localhost/"]) {
      assertEquals(await g.check(get(url), LOOPBACK, AdminArea.Page), undefined, url);
    }
    // A script's POST (no Origin) and a same-origin POST are served; so is a navigation.
    assertEquals(await g.check(post(`${LOCAL}/api/v1/clients/1/kick`), LOOPBACK, AdminArea.Api), undefined);
    const same = post(`${LOCAL}/api/v1/clients/1/kick`, { origin: LOCAL, "sec-fetch-site": "same-origin" });
    assertEquals(await g.check(same, LOOPBACK, AdminArea.Api), undefined);
    assertEquals(
      await g.check(get(`${LOCAL}/admin/`, { "sec-fetch-site": "none" }), LOOPBACK, "page"),
      undefined,
    );
  });
});

Deno.test("AdminGuard.check() refuses loopback peers too when loopbackOpen is false and no credential is configured", async () => {
  await withGuard({ loopbackOpen: false }, async (g) => {
    for (const area of Object.values(AdminArea)) {
      const error = await jsonError(await g.check(get(`${LOCAL}/api/v1/server`), LOOPBACK, area), 403);
      assertMatch(error, /admin\.loopbackOpen is off/);
      assertMatch(error, /--admin-password-hash/);
    }
  });
});

Deno.test("AdminGuard.check() serves an IPv4-mapped IPv6 loopback peer (::ffff:127.0.0.1) and refuses a mapped remote one", async () => {
  await withGuard({}, async (g) => {
    assertEquals(await g.check(get(`${LOCAL}/api/v1/server`), addr("::ffff:127.0.0.1"), "api"), undefined);
    assertEquals(await g.check(get(`${LOCAL}/api/v1/server`), addr("::FFFF:7f00:2"), "api"), undefined);
    await jsonError(await g.check(get(`${LOCAL}/api/v1/server`), addr("::ffff:10.0.0.1"), "api"), 403);
    await jsonError(await g.check(get(`${LOCAL}/api/v1/server`), addr("::2"), "api"), 403);
  });
});

Deno.test("isLoopbackAddress() knows 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 in every spelling, and nothing else", () => {
  const yes = [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "[::1]",
    "0::1",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "0:0:0:0:0:ffff:127.1.2.3",
    "::1%lo",
  ];
  const no = [
    "128.0.0.1",
    "10.0.0.1",
    "0.0.0.0",
    "::",
    "::2",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "1::1",
    "fe80::1",
    "127.0.0.256",
    "localhost",
    "",
    "127.0.0",
    "::ffff:127.0.0.1.1",
    "1:2:3:4:5:6:7:8:9",
    "1::2::1",
  ];
  for (const a of yes) assertEquals(isLoopbackAddress(a), true, a);
  for (const a of no) assertEquals(isLoopbackAddress(a), false, a);
});

Deno.test("AdminGuard.check() refuses a loopback request for another host name (DNS rebinding) with no credential", async () => {
  await withGuard({}, async (g) => {
    const error = await jsonError(
      await g.check(get("http://evil.example:8000/api/v1/server"), LOOPBACK, "api"),
      403,
    );
    assertMatch(error, /"evil\.example"/);
    assertMatch(error, /DNS rebinding/);
  });
});

Deno.test("AdminGuard.check() refuses a loopback request another origin's page makes when no credential is configured", async () => {
  await withGuard({}, async (g) => {
    const foreign: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: "null" },
    ];
    for (const headers of foreign) {
      await jsonError(await g.check(get(`${LOCAL}/api/v1/streams`, headers), LOOPBACK, "api"), 403);
      await jsonError(
        await g.check(post(`${LOCAL}/api/v1/streams/live/a/stop`, headers), LOOPBACK, "api"),
        403,
      );
    }
  });
});

Deno.test("AdminGuard.check() serves /metrics to anyone when metricsOpen, and nothing else", async () => {
  await withGuard({ metricsOpen: true, token: TOKEN }, async (g) => {
    assertEquals(await g.check(get(`${BASE}/metrics`), REMOTE, AdminArea.Metrics), undefined);
    await jsonError(await g.check(get(`${BASE}/api/v1/server`), REMOTE, AdminArea.Api), 401);
  });
  await withGuard({ metricsOpen: true, loopbackOpen: false }, async (g) => {
    assertEquals(await g.check(get(`${BASE}/metrics`), REMOTE, AdminArea.Metrics), undefined);
  });
});

// ---- a credential configured

Deno.test("AdminGuard.check() serves a non-loopback peer with the valid bearer token", async () => {
  await withGuard({ token: TOKEN }, async (g) => {
    for (const area of Object.values(AdminArea)) {
      const req = get(`${BASE}/api/v1/server`, { authorization: `Bearer ${TOKEN}` });
      assertEquals(await g.check(req, REMOTE, area), undefined, area);
    }
    assertEquals(
      await g.check(get(`${BASE}/metrics`, { authorization: `bearer ${TOKEN}` }), REMOTE, "metrics"),
      undefined,
    );
  });
});

Deno.test("AdminGuard.check() answers 401 JSON to the API and metrics and 303 to the login for the page without a credential", async () => {
  await withGuard({ token: TOKEN }, async (g) => {
    for (const area of [AdminArea.Api, AdminArea.Metrics]) {
      const res = await g.check(get(`${BASE}/api/v1/server`), REMOTE, area);
      assertEquals(res?.headers.get("www-authenticate"), 'Bearer realm="sluice"');
      assertMatch(await jsonError(res, 401), /Authorization: Bearer TOKEN/);
    }
    const page = await g.check(get(`${BASE}/admin/`), REMOTE, AdminArea.Page);
    assertEquals(page?.status, 303);
    assertEquals(page?.headers.get("location"), AdminPath.Login);
    // Loopback peers need the credential too once one is configured.
    await jsonError(await g.check(get(`${LOCAL}/api/v1/server`), LOOPBACK, AdminArea.Api), 401);
  });
});

Deno.test("AdminGuard.check() refuses a wrong or malformed bearer token with 401 invalid_token", async () => {
  await withGuard({ token: TOKEN }, async (g) => {
    for (
      const authorization of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        `Basic ${btoa(`a:${TOKEN}`)}`,
        "Bearer",
      ]
    ) {
      const res = await g.check(
        get(`${BASE}/api/v1/server`, { authorization }),
        addr(`198.51.100.${authorization.length}`),
        "api",
      );
      assertEquals(res?.headers.get("www-authenticate"), 'Bearer realm="sluice", error="invalid_token"');
      await jsonError(res, 401);
    }
  });
});

Deno.test("AdminGuard.check() lets a bearer POST through without Origin or Sec-Fetch-Site", async () => {
  await withGuard({ token: TOKEN, passwordHash: HASH }, async (g) => {
    const req = post(`${BASE}/api/v1/clients/3/kick`, { authorization: `Bearer ${TOKEN}` });
    assertEquals(await g.check(req, REMOTE, AdminArea.Api), undefined);
  });
});

Deno.test("AdminGuard.check() rate-limits wrong bearer tokens per address: 429 past the limit, even for the right one", async () => {
  await withGuard({ token: TOKEN, loginAttemptsPerMinute: 3 }, async (g, t) => {
    const wrong = () => get(`${BASE}/api/v1/server`, { authorization: "Bearer wrong-token-wrong-token" });
    for (let i = 0; i < 3; i++) await jsonError(await g.check(wrong(), REMOTE, "api"), 401);
    const right = get(`${BASE}/api/v1/server`, { authorization: `Bearer ${TOKEN}` });
    const limited = await g.check(right, REMOTE, "api");
    assertEquals(limited?.headers.get("retry-after"), "60");
    await jsonError(limited, 429);
    // Another address is not limited; the same one is again after the window.
    assertEquals(
      await g.check(get(`${BASE}/x`, { authorization: `Bearer ${TOKEN}` }), addr("198.51.100.1"), "api"),
      undefined,
    );
    t.advance(ATTEMPT_WINDOW_MS);
    assertEquals(
      await g.check(get(`${BASE}/x`, { authorization: `Bearer ${TOKEN}` }), REMOTE, "api"),
      undefined,
    );
  });
});

Deno.test("AdminGuard.check() counts an IPv6 peer's failures by its /64 and a mapped IPv4 peer's by its IPv4 address", async () => {
  await withGuard({ token: TOKEN, loginAttemptsPerMinute: 2 }, async (g) => {
    const wrong = () => get(`${BASE}/api/v1/server`, { authorization: "Bearer wrong-token-wrong-token" });
    await jsonError(await g.check(wrong(), addr("2001:db8:1:2::a"), "api"), 401);
    await jsonError(await g.check(wrong(), addr("2001:db8:1:2:ffff::b"), "api"), 401);
    await jsonError(await g.check(wrong(), addr("2001:db8:1:2::c"), "api"), 429);
    await jsonError(await g.check(wrong(), addr("2001:db8:1:3::a"), "api"), 401);
    await jsonError(await g.check(wrong(), addr("192.0.2.9"), "api"), 401);
    await jsonError(await g.check(wrong(), addr("::ffff:192.0.2.9"), "api"), 401);
    await jsonError(await g.check(wrong(), addr("192.0.2.9"), "api"), 429);
  });
});

Deno.test("AdminGuard.check() keeps at most MAX_TRACKED_ADDRESSES addresses' failures", async () => {
  await withGuard({ token: TOKEN }, async (g) => {
    const wrong = get(`${BASE}/api/v1/server`, { authorization: "Bearer wrong-token-wrong-token" });
    for (let i = 0; i <= MAX_TRACKED_ADDRESSES; i++) {
      await g.check(wrong, addr(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), "api");
    }
    assertEquals(g.trackedAddresses, MAX_TRACKED_ADDRESSES);
  });
});

// ---- login, sessions, logout

Deno.test("AdminGuard.loginPage() is a self-contained HTML form, readable light and dark, with a strict CSP", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    const res = g.loginPage();
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/html; charset=utf-8");
    assertEquals(res.headers.get("cache-control"), "no-store");
    assertEquals(res.headers.get("x-frame-options"), "DENY");
    const csp = res.headers.get("content-security-policy") ?? "";
    assertMatch(
      csp,
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'; frame-ancestors 'none'/,
    );
    const html = await res.text();
    assertMatch(html, /<form method="post" action="\/admin\/login">/);
    assertMatch(html, /name="user"/);
    assertMatch(html, /name="password" type="password"/);
    assertMatch(html, /<meta name="color-scheme" content="light dark">/);
    assertMatch(html, /prefers-color-scheme: dark/);
    assert(!/<script|<link|src=|https?:\/\//.test(html), "the page loads nothing");
    // The CSP's hash is that of the one style block.
    const style = html.match(/<style>([\s\S]*)<\/style>/)![1];
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(style)));
    assert(csp.includes(`'sha256-${btoa(String.fromCharCode(...digest))}'`), csp);
  });
  await withGuard({}, async (g) => {
    assert((await g.loginPage().text()).includes("No password is set"));
  });
});

Deno.test("AdminGuard.login() keeps at most maxSessions sessions, dropping the oldest", async () => {
  await withGuard({ passwordHash: HASH, maxSessions: 3 }, async (g) => {
    const cookies = [];
    for (let i = 0; i < 4; i++) cookies.push(await logIn(g));
    assertEquals(g.sessionCount, 3);
    await jsonError(await g.check(get(`${BASE}/api/v1/streams`, { cookie: cookies[0] }), REMOTE, "api"), 401);
    for (const cookie of cookies.slice(1)) {
      assertEquals(await g.check(get(`${BASE}/api/v1/streams`, { cookie }), REMOTE, "api"), undefined);
    }
  });
});

Deno.test("AdminGuard.login() runs at most MAX_LOGINS_IN_FLIGHT password checks at once; past it 503", async () => {
  await withGuard({ passwordHash: HASH, loginAttemptsPerMinute: 100 }, async (g) => {
    const n = MAX_LOGINS_IN_FLIGHT + 1;
    const all = await Promise.all(
      Array.from(
        { length: n },
        (_, i) => g.login(jsonLogin("admin", PASSWORD), addr(`198.51.100.${20 + i}`)),
      ),
    );
    assertEquals(all.map((r) => r.status).sort(), [...new Array(MAX_LOGINS_IN_FLIGHT).fill(303), 503]);
    const busy = all.find((r) => r.status === 503)!;
    assertEquals(busy.headers.get("retry-after"), "1");
    assertMatch(await jsonError(busy, 503), /too many logins at once/);
    // Afterwards a login goes through again.
    assertEquals((await g.login(jsonLogin("admin", PASSWORD), REMOTE)).status, 303);
  });
});

Deno.test("AdminGuard.login() with the right form sets an HttpOnly SameSite=Strict session cookie and 303s to /admin/", async () => {
  await withGuard({ passwordHash: HASH, sessionTtlMs: 3_600_000 }, async (g) => {
    const res = await g.login(formLogin("admin", PASSWORD), REMOTE);
    assertEquals(res.status, 303);
    assertEquals(res.headers.get("location"), "/admin/");
    const cookie = res.headers.get("set-cookie")!;
    assertMatch(
      cookie,
      new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600$`),
    );
    const pair = cookie.split(";")[0];
    assertEquals(await g.check(get(`${BASE}/admin/`, { cookie: pair }), REMOTE, AdminArea.Page), undefined);
    assertEquals(
      await g.check(get(`${BASE}/api/v1/streams`, { cookie: `a=b; ${pair}` }), REMOTE, "api"),
      undefined,
    );
    assertEquals(g.sessionCount, 1);
    // Two logins are two sessions with two ids.
    assert(await logIn(g) !== pair);
  });
});

Deno.test("AdminGuard.login() takes JSON and multipart bodies too, and marks the cookie Secure over HTTPS", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    assertEquals((await g.login(jsonLogin("admin", PASSWORD), REMOTE)).status, 303);
    const form = new FormData();
    form.set("user", "admin");
    form.set("password", PASSWORD);
    const multipart = await g.login(
      new Request(`${BASE}${AdminPath.Login}`, { method: "POST", body: form }),
      REMOTE,
    );
    assertEquals(multipart.status, 303);
    const https = await g.login(jsonLogin("admin", PASSWORD, "https://sluice.example"), REMOTE);
    assertMatch(https.headers.get("set-cookie")!, /; Secure$/);
    const proxied = await g.login(
      post(
        `${BASE}${AdminPath.Login}`,
        { "content-type": "application/json", "x-forwarded-proto": "https" },
        JSON.stringify({ user: "admin", password: PASSWORD }),
      ),
      REMOTE,
    );
    assertMatch(proxied.headers.get("set-cookie")!, /; Secure$/);
  });
});

Deno.test("AdminGuard.login() refuses a wrong user or password with 401: the form again with a note, or JSON", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    const form = await g.login(formLogin("admin", "wrong password"), REMOTE);
    assertEquals(form.status, 401);
    assertEquals(form.headers.get("set-cookie"), null);
    assert((await form.text()).includes(LoginNote.Failed));
    assertEquals(
      await jsonError(await g.login(jsonLogin("root", PASSWORD), addr("198.51.100.2")), 401),
      "Cannot log in: wrong user name or password",
    );
    assertEquals(g.sessionCount, 0);
  });
});

Deno.test("AdminGuard.login() rate-limits wrong passwords per address: 429 with a JSON reason after N attempts", async () => {
  await withGuard({ passwordHash: HASH, loginAttemptsPerMinute: 3 }, async (g, t) => {
    for (let i = 0; i < 3; i++) await jsonError(await g.login(jsonLogin("admin", `wrong ${i}`), REMOTE), 401);
    const limited = await g.login(jsonLogin("admin", "wrong 3"), REMOTE);
    assertEquals(limited.headers.get("retry-after"), "60");
    assertMatch(await jsonError(limited, 429), /too many failed attempts/);
    // Past the limit even the right password is refused, unchecked; the form gets the page with a note.
    await jsonError(await g.login(jsonLogin("admin", PASSWORD), REMOTE), 429);
    const form = await g.login(formLogin("admin", PASSWORD), REMOTE);
    assertEquals(form.status, 429);
    assert((await form.text()).includes(LoginNote.Limited));
    // Another address may log in; the limited one may again once the minute is over.
    assertEquals((await g.login(jsonLogin("admin", PASSWORD), addr("198.51.100.3"))).status, 303);
    t.advance(ATTEMPT_WINDOW_MS - 1_000);
    await jsonError(await g.login(jsonLogin("admin", PASSWORD), REMOTE), 429);
    t.advance(1_000);
    assertEquals((await g.login(jsonLogin("admin", PASSWORD), REMOTE)).status, 303);
  });
});

Deno.test("AdminGuard.login() clears an address's failures when it logs in", async () => {
  await withGuard({ passwordHash: HASH, loginAttemptsPerMinute: 2 }, async (g) => {
    await jsonError(await g.login(jsonLogin("admin", "wrong"), REMOTE), 401);
    assertEquals((await g.login(jsonLogin("admin", PASSWORD), REMOTE)).status, 303);
    await jsonError(await g.login(jsonLogin("admin", "wrong"), REMOTE), 401);
    await jsonError(await g.login(jsonLogin("admin", "wrong"), REMOTE), 401);
    await jsonError(await g.login(jsonLogin("admin", "wrong"), REMOTE), 429);
  });
});

Deno.test("AdminGuard.login() refuses a post from another origin, a body it cannot read, and a login with no password set", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    const csrf = formLogin("admin", PASSWORD, BASE, { origin: "http://evil.example" });
    assertMatch(await jsonError(await g.login(csrf, REMOTE), 403), /another origin/);
    const site = formLogin("admin", PASSWORD, BASE, { origin: "", "sec-fetch-site": "cross-site" });
    await jsonError(await g.login(site, REMOTE), 403);
    const big = post(
      `${BASE}${AdminPath.Login}`,
      { "content-type": "application/json" },
      "x".repeat(MAX_LOGIN_BODY_BYTES + 1),
    );
    await jsonError(await g.login(big, REMOTE), 413);
    await jsonError(
      await g.login(post(`${BASE}${AdminPath.Login}`, { "content-type": "text/plain" }, "admin"), REMOTE),
      415,
    );
    await jsonError(
      await g.login(post(`${BASE}${AdminPath.Login}`, { "content-type": "application/json" }, "{"), REMOTE),
      400,
    );
    await jsonError(
      await g.login(
        post(`${BASE}${AdminPath.Login}`, { "content-type": "application/json" }, '{"user":"admin"}'),
        REMOTE,
      ),
      400,
    );
  });
  await withGuard({ token: TOKEN }, async (g) => {
    assertMatch(
      await jsonError(await g.login(jsonLogin("admin", PASSWORD), REMOTE), 403),
      /no password is configured/,
    );
  });
});

Deno.test("AdminGuard.check() refuses a cookie POST without same-origin proof with 403, and passes it with a matching Origin", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    const cookie = await logIn(g);
    const url = `${BASE}/api/v1/streams/live/cam/stop`;
    for (
      const headers of <Record<string, string>[]> [{}, { origin: "http://evil.example" }, {
        "sec-fetch-site": "cross-site",
      }, {
        origin: "null",
      }]
    ) {
      const res = await g.check(post(url, { cookie, ...headers }), REMOTE, AdminArea.Api);
      assertMatch(await jsonError(res, 403), /must come from this origin/);
    }
    assertEquals(await g.check(post(url, { cookie, origin: BASE }), REMOTE, AdminArea.Api), undefined);
    assertEquals(
      await g.check(post(url, { cookie, "sec-fetch-site": "same-origin" }), REMOTE, AdminArea.Api),
      undefined,
    );
    // A GET with the cookie needs no such proof.
    assertEquals(await g.check(get(`${BASE}/api/v1/streams`, { cookie }), REMOTE, AdminArea.Api), undefined);
  });
});

Deno.test("AdminGuard.check() ends a session at its expiry: the page 303s to the login, the API answers 401", async () => {
  await withGuard({ passwordHash: HASH, sessionTtlMs: 60_000 }, async (g, t) => {
    const cookie = await logIn(g);
    t.advance(59_999);
    assertEquals(await g.check(get(`${BASE}/admin/`, { cookie }), REMOTE, AdminArea.Page), undefined);
    t.advance(1);
    const page = await g.check(get(`${BASE}/admin/`, { cookie }), REMOTE, AdminArea.Page);
    assertEquals([page?.status, page?.headers.get("location")], [303, AdminPath.Login]);
    await jsonError(await g.check(get(`${BASE}/api/v1/streams`, { cookie }), REMOTE, AdminArea.Api), 401);
    assertEquals(g.sessionCount, 0);
  });
});

Deno.test("AdminGuard.check() refuses a made-up or malformed session cookie", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    await logIn(g);
    for (const value of ["A".repeat(43), "x", "A".repeat(44), ""]) {
      await jsonError(
        await g.check(get(`${BASE}/api/v1/streams`, { cookie: `${SESSION_COOKIE}=${value}` }), REMOTE, "api"),
        401,
      );
    }
  });
});

Deno.test("AdminGuard.logout() ends the session and clears the cookie; from another origin it ends nothing", async () => {
  await withGuard({ passwordHash: HASH }, async (g) => {
    const cookie = await logIn(g);
    const csrf = await g.logout(
      post(`${BASE}${AdminPath.Logout}`, { cookie, origin: "http://evil.example" }),
    );
    await jsonError(csrf, 403);
    assertEquals(await g.check(get(`${BASE}/admin/`, { cookie }), REMOTE, AdminArea.Page), undefined);
    const res = await g.logout(post(`${BASE}${AdminPath.Logout}`, { cookie, origin: BASE }));
    assertEquals([res.status, res.headers.get("location")], [303, AdminPath.Login]);
    assertEquals(
      res.headers.get("set-cookie"),
      `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
    );
    assertEquals((await g.check(get(`${BASE}/admin/`, { cookie }), REMOTE, AdminArea.Page))?.status, 303);
    assertEquals(g.sessionCount, 0);
  });
});

Deno.test("AdminGuard never puts the token, the password or a session id in a log line or an answer", async () => {
  const answers: string[] = [];
  const keep = async (res: Response | undefined) => {
    if (res) answers.push([...res.headers].join("\n"), await res.text());
  };
  let sessionId = "";
  const lines = await withGuard(
    { token: TOKEN, passwordHash: HASH, loginAttemptsPerMinute: 2 },
    async (g) => {
      await keep(
        await g.check(get(`${BASE}/api/v1/server`, { authorization: `Bearer ${TOKEN}x` }), REMOTE, "api"),
      );
      await keep(
        await g.check(get(`${BASE}/api/v1/server`, { authorization: `Bearer ${TOKEN}` }), REMOTE, "api"),
      );
      const other = addr("198.51.100.9");
      await keep(await g.login(jsonLogin("admin", `${PASSWORD}!`), other));
      await keep(await g.login(formLogin("admin", `${PASSWORD}?`), other));
      await keep(await g.login(jsonLogin("admin", PASSWORD), other));
      const ok = await g.login(formLogin("admin", PASSWORD), addr("198.51.100.10"));
      sessionId = ok.headers.get("set-cookie")!.split(";")[0].split("=")[1];
      await keep(
        await g.logout(post(`${BASE}${AdminPath.Logout}`, { cookie: `${SESSION_COOKIE}=${sessionId}` })),
      );
    },
  );
  assert(
    lines.some((l) => /WARN {2}\[admin\] login failed for user "admin" from 198\.51\.100\.9$/.test(l)),
    lines.join("\n"),
  );
  assert(
    lines.some((l) => /wrong bearer token for the admin API from 203\.0\.113\.7$/.test(l)),
    lines.join("\n"),
  );
  assert(lines.some((l) => /refusing the login to 198\.51\.100\.9 for 60 s/.test(l)), lines.join("\n"));
  assert(
    lines.some((l) => /INFO {2}\[admin\] login of user "admin" from 198\.51\.100\.10$/.test(l)),
    lines.join("\n"),
  );
  for (const text of [...lines, ...answers]) {
    for (const secret of [TOKEN, PASSWORD, HASH, HASH.split("$")[3], sessionId]) {
      assert(!text.includes(secret), `a secret in: ${text}`);
    }
  }
});

Deno.test("AdminGuard takes config.admin as it is", async () => {
  const config = makeConfig({ admin: { token: TOKEN, passwordHash: HASH } });
  const guard = new AdminGuard(config.admin, new Logger());
  assert(guard.hasCredential);
  assertEquals(
    await guard.check(get(`${BASE}/metrics`, { authorization: `Bearer ${TOKEN}` }), REMOTE, "metrics"),
    undefined,
  );
  assertEquals(new AdminGuard(makeConfig().admin, new Logger()).hasCredential, false);
});
