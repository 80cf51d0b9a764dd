/**
 * Who may see the admin dashboard (`/admin/`), the JSON API (`/api/v1/`) and `/metrics`: secure by
 * default. `AdminGuard.check()` runs before every such handler and answers a refusal, or undefined to go
 * on; `loginPage()`, `login()` and `logout()` are the handlers of `/admin/login` and `/admin/logout`.
 *
 * The rules, in order:
 * 1. `/metrics` with `metricsOpen` is served to anyone.
 * 2. No credential configured (neither `token` nor `passwordHash`): loopback peers (127.0.0.0/8, ::1,
 *    ::ffff:127.0.0.0/104) are served while `loopbackOpen`, anyone else gets 403 JSON saying how to set
 *    a credential. A loopback request must also name a loopback host (`Host: localhost`, 127.x, [::1]),
 *    so a page on another name that resolves to 127.0.0.1 (DNS rebinding) is refused, and must not come
 *    from another origin (`Origin`, `Sec-Fetch-Site`), so a web page the local browser shows cannot read
 *    the API or post to it.
 * 3. A credential configured: a valid `Authorization: Bearer TOKEN` (compared in constant time) or a
 *    valid session cookie passes; else 401 JSON (`WWW-Authenticate: Bearer`) for the API and metrics and
 *    a 303 to `/admin/login` for the page. A request with the cookie that changes state (any method but
 *    GET, HEAD, OPTIONS) must come from this origin (`Origin` equal to the request's own origin, or
 *    `Sec-Fetch-Site: same-origin`), else 403; a bearer request needs no such check (a browser never
 *    adds the header by itself).
 *
 * Failed logins and wrong tokens count per address (an IPv6 peer by its /64) in a bounded map; past
 * `loginAttemptsPerMinute` within a minute that address gets 429 until the minute is over, without the
 * credential being checked. Sessions are random 32-byte ids in a bounded map with an expiry, checked when
 * read (no timers, nothing to close). No token, password, hash or session id is ever logged, put in a
 * message or in a URL: lines name the user and the address only.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { formatIpv4, isLoopback, parseAddress } from "../config/acl.ts";
import type { Logger } from "../log.ts";
import { jsonError } from "../http/responses.ts";
import {
  constantTimeEqual,
  MAX_PASSWORD_BYTES,
  parsePasswordHash,
  type PasswordHash,
  verifyPassword,
} from "./password.ts";

/** What a request asks for; each area has its own answer to a missing credential. */
export const AdminArea = {
  /** The JSON API, `/api/v1/...`: 401 JSON without a credential. */
  Api: "api",
  /** `/metrics`: 401 JSON without a credential, open to all with `metricsOpen`. */
  Metrics: "metrics",
  /** The dashboard page, `/admin/...`: a 303 to the login page without a credential. */
  Page: "page",
} as const;
export type AdminArea = typeof AdminArea[keyof typeof AdminArea];

/** The paths of the login flow. */
export const AdminPath = {
  /** GET: the login form; POST: log in. */
  Login: "/admin/login",
  /** POST: log out. */
  Logout: "/admin/logout",
  /** Where a login leads. */
  Home: "/admin/",
} as const;

/** The session cookie's name. */
export const SESSION_COOKIE = "sluice_session";
/** Random bytes of a session id (base64url in the cookie: 43 characters). */
export const SESSION_ID_BYTES = 32;
/** Sessions kept at once; past it the oldest is dropped (its browser logs in again). */
export const MAX_SESSIONS = 1_000;
/** Addresses whose failed attempts are counted at once; past it the oldest record is dropped. */
export const MAX_TRACKED_ADDRESSES = 10_000;
/** The window failed attempts are counted over, in ms: the "per minute" of `loginAttemptsPerMinute`. */
export const ATTEMPT_WINDOW_MS = 60_000;
/** Password derivations (PBKDF2) running at once; a login past it gets 503 (a CPU bound for floods). */
export const MAX_LOGINS_IN_FLIGHT = 4;
/** The largest login body read, in bytes; a larger one gets 413. */
export const MAX_LOGIN_BODY_BYTES = 4_096;
/** The longest user name put in a log line, in characters. */
const MAX_LOGGED_USER = 64;

/** What the guard needs of the configuration: `AdminConfig` (src/config/config.ts) satisfies it. */
export interface AdminGuardOptions {
  /** Bearer token, or null. */
  readonly token: string | null;
  /** The login's user name. */
  readonly user: string;
  /** The login's stored hash (`pbkdf2-sha256$...`), or null: no login. */
  readonly passwordHash: string | null;
  /** With no credential, serve loopback peers. */
  readonly loopbackOpen: boolean;
  /** Serve `/metrics` to anyone. */
  readonly metricsOpen: boolean;
  /** A session's life, in ms. */
  readonly sessionTtlMs: number;
  /** Failed attempts allowed per address within `ATTEMPT_WINDOW_MS`. */
  readonly loginAttemptsPerMinute: number;
  /** Sessions kept at once; `MAX_SESSIONS` unless given (tests). */
  readonly maxSessions?: number;
}

/** The words for an area in messages. */
const AREA_WORDS: Readonly<Record<AdminArea, string>> = {
  [AdminArea.Api]: "the admin API",
  [AdminArea.Metrics]: "/metrics",
  [AdminArea.Page]: "the admin page",
};

/** How to set a credential, the end of every "no credential" refusal. */
const HOW_TO_SET = "set admin.token (--admin-token) or admin.passwordHash (--admin-password-hash, made by " +
  "`deno run server.ts hash-password`)";

/** Methods that change nothing: they need no same-origin check. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** Headers of every answer of the login flow: never cached, never framed, no referrer. */
const PRIVATE_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

// ---- addresses

/** Whether an address (IPv4, IPv6, bracketed or not) is a loopback one: 127.0.0.0/8, ::1, ::ffff:127.x. */
export function isLoopbackAddress(hostname: string): boolean {
  return isLoopback(withoutZone(hostname));
}

/** An IPv6 address without its zone id (`fe80::1%eth0`), which the address rules do not read. */
function withoutZone(text: string): string {
  const zone = text.indexOf("%");
  return zone < 0 ? text : text.slice(0, zone) + (text.startsWith("[") ? "]" : "");
}

/** Whether a Host header's name is a loopback one: `localhost` (and `*.localhost`), or a loopback address. */
function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") || isLoopbackAddress(h);
}

/** The peer's IP address, or undefined for a peer that is not TCP/UDP (or not known). */
function peerAddress(remote: Deno.Addr | undefined): string | undefined {
  return remote && (remote.transport === "tcp" || remote.transport === "udp") ? remote.hostname : undefined;
}

/** The key failed attempts are counted under: an IPv4 address (mapped ones too), an IPv6 peer's /64. */
function attemptKey(address: string | undefined): string {
  if (address === undefined) return "unknown";
  const a = parseAddress(withoutZone(address));
  if (!a) return address;
  if (a.family === 4) return formatIpv4(a.value);
  const prefix = [112n, 96n, 80n, 64n].map((shift) => ((a.value >> shift) & 0xffffn).toString(16));
  return `${prefix.join(":")}::/64`;
}

// ---- origins

/** Whether the request comes from its own origin: `Sec-Fetch-Site: same-origin`, or `Origin` equal to it. */
function isSameOrigin(req: Request): boolean {
  if (req.headers.get("sec-fetch-site") === "same-origin") return true;
  const origin = req.headers.get("origin");
  return origin !== null && origin === new URL(req.url).origin;
}

/**
 * Whether a browser says the request comes from another origin: `Sec-Fetch-Site` other than same-origin
 * or none, or an `Origin` that is not the request's own. A script (curl) sends neither: not foreign.
 */
function isFromOtherOrigin(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return true;
  const origin = req.headers.get("origin");
  return origin !== null && origin !== new URL(req.url).origin;
}

// ---- bounded state

/** One address's failed attempts in its current window. */
interface Attempts {
  /** When the window began (the first failure), ms. */
  since: number;
  failures: number;
  /** The refusal was logged in this window. */
  warned: boolean;
}

/** Failed attempts per address, `MAX_TRACKED_ADDRESSES` at most; a window lasts `ATTEMPT_WINDOW_MS`. */
class AttemptLimiter {
  readonly #limit: number;
  readonly #now: () => number;
  readonly #byKey = new Map<string, Attempts>();

  constructor(limit: number, now: () => number) {
    this.#limit = limit;
    this.#now = now;
  }

  #current(key: string): Attempts | undefined {
    const a = this.#byKey.get(key);
    if (a && this.#now() - a.since >= ATTEMPT_WINDOW_MS) {
      this.#byKey.delete(key);
      return undefined;
    }
    return a;
  }

  /** The ms until `key` may try again, or 0 when it may now; the record, for the once-per-window log. */
  blocked(key: string): { retryMs: number; record?: Attempts } {
    const a = this.#current(key);
    if (!a || a.failures < this.#limit) return { retryMs: 0 };
    return { retryMs: a.since + ATTEMPT_WINDOW_MS - this.#now(), record: a };
  }

  fail(key: string): void {
    const a = this.#current(key);
    if (a) {
      a.failures++;
      return;
    }
    if (this.#byKey.size >= MAX_TRACKED_ADDRESSES) this.#prune();
    if (this.#byKey.size >= MAX_TRACKED_ADDRESSES) this.#byKey.delete(this.#byKey.keys().next().value!);
    this.#byKey.set(key, { since: this.#now(), failures: 1, warned: false });
  }

  clear(key: string): void {
    this.#byKey.delete(key);
  }

  get size(): number {
    return this.#byKey.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [k, a] of this.#byKey) if (now - a.since >= ATTEMPT_WINDOW_MS) this.#byKey.delete(k);
  }
}

/** A logged-in browser. */
interface Session {
  readonly user: string;
  /** When it ends, ms. */
  readonly expiresAt: number;
}

/** Sessions by id, a bound (`MAX_SESSIONS`) at most, each ending at its expiry (checked when read). */
class SessionStore {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #byId = new Map<string, Session>();

  constructor(ttlMs: number, max: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#max = max;
    this.#now = now;
  }

  /** A new session's id (random, base64url). */
  open(user: string): string {
    const bytes = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES));
    const id = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (this.#byId.size >= this.#max) this.#prune();
    // Every session lives as long, so the first inserted ends first.
    if (this.#byId.size >= this.#max) this.#byId.delete(this.#byId.keys().next().value!);
    this.#byId.set(id, { user, expiresAt: this.#now() + this.#ttlMs });
    return id;
  }

  /** The live session of `id`, or undefined (an expired one is dropped). */
  get(id: string): Session | undefined {
    const s = this.#byId.get(id);
    if (s && s.expiresAt <= this.#now()) {
      this.#byId.delete(id);
      return undefined;
    }
    return s;
  }

  close(id: string): void {
    this.#byId.delete(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, s] of this.#byId) if (s.expiresAt <= now) this.#byId.delete(id);
  }
}

// ---- the login page

/** The login page's style: readable light and dark (`prefers-color-scheme`). */
const LOGIN_STYLE = `
:root { color-scheme: light dark; --bg: #f4f5f7; --fg: #1b1f24; --muted: #57606a; --card: #ffffff;
  --line: #c9d0d8; --accent: #0b5cc4; --on-accent: #ffffff; --error: #b42318; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1318; --fg: #e6e9ee; --muted: #9aa4b0; --card: #181d24; --line: #3a424d;
    --accent: #6aabff; --on-accent: #0b1220; --error: #ff8f85; }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg);
  color: var(--fg); font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
form { width: min(340px, 92vw); display: grid; gap: 14px; padding: 28px; background: var(--card);
  border: 1px solid var(--line); border-radius: 10px; }
h1 { margin: 0; font-size: 22px; }
p { margin: 0; font-size: 14px; color: var(--muted); }
p.error { color: var(--error); }
label { display: grid; gap: 4px; font-size: 14px; }
input { font: inherit; padding: 8px 10px; color: var(--fg); background: var(--bg);
  border: 1px solid var(--line); border-radius: 6px; }
input:focus, button:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
button { font: inherit; font-weight: 600; padding: 9px; color: var(--on-accent); background: var(--accent);
  border: 0; border-radius: 6px; cursor: pointer; }
`;

/** The login page's Content-Security-Policy: nothing but its one style block and a form to itself. */
const LOGIN_CSP = `default-src 'none'; style-src 'sha256-${
  createHash("sha256").update(LOGIN_STYLE).digest("base64")
}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** The notes the login page can show; fixed texts, never anything a request sent. */
export const LoginNote = {
  None: "",
  Failed: "Wrong user name or password.",
  Limited: "Too many failed logins from this address; wait a minute.",
  Busy: "Too many logins at once; try again in a moment.",
  NoPassword: "No password is set: start the server with --admin-password-hash " +
    "(made by `deno run server.ts hash-password`).",
} as const;
export type LoginNote = typeof LoginNote[keyof typeof LoginNote];

/** The login page's HTML, with `note` (shown as an error unless it is the no-password note). */
function loginHtml(note: LoginNote): string {
  const cls = note === LoginNote.NoPassword ? "" : ' class="error"';
  const text = note.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const noteLine = note === LoginNote.None ? "" : `<p${cls} role="alert">${text}</p>\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Sluice: log in</title>
<style>${LOGIN_STYLE}</style>
</head>
<body>
<form method="post" action="${AdminPath.Login}">
<h1>Sluice</h1>
${noteLine}<label>User name <input name="user" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
</body>
</html>
`;
}

function loginPageResponse(status: number, note: LoginNote, headers: HeadersInit = {}): Response {
  return new Response(loginHtml(note), {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": LOGIN_CSP,
      ...PRIVATE_HEADERS,
      ...headers,
    },
  });
}

// ---- the login body

/** How a login body came: a form (answered with the page) or JSON (answered with JSON). */
const BodyKind = { Form: "form", Json: "json" } as const;
type BodyKind = typeof BodyKind[keyof typeof BodyKind];

/** A login body read, or the refusal to answer. */
type LoginBody = { kind: BodyKind; user: string; password: string } | { refusal: Response };

/** The request body, `MAX_LOGIN_BODY_BYTES` at most; undefined when it is longer. */
async function readBounded(req: Request): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_LOGIN_BODY_BYTES) {
    await req.body?.cancel();
    return undefined;
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > MAX_LOGIN_BODY_BYTES) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function readLoginBody(req: Request): Promise<LoginBody> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const kind = type === "application/json" ? BodyKind.Json : BodyKind.Form;
  const bytes = await readBounded(req);
  if (!bytes) {
    return {
      refusal: jsonError(
        413,
        `Cannot log in: the body is longer than ${MAX_LOGIN_BODY_BYTES} bytes`,
        PRIVATE_HEADERS,
      ),
    };
  }
  let user: unknown;
  let password: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    if (type === "application/json") {
      const body: unknown = JSON.parse(text);
      if (typeof body === "object" && body !== null) ({ user, password } = body as Record<string, unknown>);
    } else if (type === "application/x-www-form-urlencoded") {
      const form = new URLSearchParams(text);
      user = form.get("user");
      password = form.get("password");
    } else if (type === "multipart/form-data") {
      const form = await new Response(bytes as BodyInit, {
        headers: { "content-type": req.headers.get("content-type")! },
      })
        .formData();
      user = form.get("user");
      password = form.get("password");
    } else {
      return {
        refusal: jsonError(
          415,
          "Cannot log in: the body is not a form (application/x-www-form-urlencoded) or JSON",
          PRIVATE_HEADERS,
        ),
      };
    }
  } catch {
    return { refusal: jsonError(400, "Cannot log in: the body cannot be read", PRIVATE_HEADERS) };
  }
  if (typeof user !== "string" || typeof password !== "string") {
    return {
      refusal: jsonError(400, "Cannot log in: the body needs a user and a password", PRIVATE_HEADERS),
    };
  }
  return { kind, user, password };
}

// ---- the guard

/** SHA-256 of a string's UTF-8 bytes: secrets are compared as digests, so their lengths say nothing. */
async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** A user name as a log line shows it: quoted, escaped, cut. */
function shownUser(user: string): string {
  return JSON.stringify([...user].slice(0, MAX_LOGGED_USER).join(""));
}

/** The value of cookie `name` in the request, or undefined. */
function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A session id's form: base64url of `SESSION_ID_BYTES`. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Whether the request reached us over HTTPS (itself, or through a proxy that says so): the cookie is Secure. */
function isHttps(req: Request): boolean {
  return new URL(req.url).protocol === "https:" ||
    req.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() === "https";
}

/** The admin guard: the access check of every admin route, and the login flow. */
export class AdminGuard {
  readonly #options: AdminGuardOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #hash: PasswordHash | undefined;
  /** The token's digest, made once. */
  readonly #tokenDigest: Promise<Uint8Array> | undefined;
  readonly #userDigest: Promise<Uint8Array>;
  readonly #attempts: AttemptLimiter;
  readonly #sessions: SessionStore;
  #loginsInFlight = 0;

  /**
   * `options` is `config.admin` (or any AdminGuardOptions); `now` is the clock (tests move it). Throws
   * SyntaxError when `passwordHash` is set but is not a hash (validateConfig() has checked its form).
   */
  constructor(options: AdminGuardOptions, log: Logger, now: () => number = Date.now) {
    this.#options = options;
    this.#log = log;
    this.#now = now;
    this.#hash = options.passwordHash === null ? undefined : parsePasswordHash(options.passwordHash);
    this.#tokenDigest = options.token === null ? undefined : sha256(options.token);
    this.#userDigest = sha256(options.user);
    this.#attempts = new AttemptLimiter(options.loginAttemptsPerMinute, now);
    this.#sessions = new SessionStore(options.sessionTtlMs, options.maxSessions ?? MAX_SESSIONS, now);
  }

  /** Whether a token or a password is configured. */
  get hasCredential(): boolean {
    return this.#options.token !== null || this.#hash !== undefined;
  }

  /** Sessions alive or not yet dropped (at most `MAX_SESSIONS`). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Addresses whose failed attempts are counted (at most `MAX_TRACKED_ADDRESSES`). */
  get trackedAddresses(): number {
    return this.#attempts.size;
  }

  /**
   * The refusal of a request to `area`, or undefined when it may go on to its handler. `remote` is
   * Deno.serve's `info.remoteAddr` (the router's `match.remote`).
   */
  async check(req: Request, remote: Deno.Addr | undefined, area: AdminArea): Promise<Response | undefined> {
    if (area === AdminArea.Metrics && this.#options.metricsOpen) return undefined;
    const what = AREA_WORDS[area];
    const address = peerAddress(remote);
    if (!this.hasCredential) return this.#checkOpen(req, address, what);

    const authorization = req.headers.get("authorization");
    if (authorization !== null) return await this.#checkBearer(authorization, address, what);

    const id = cookieValue(req, SESSION_COOKIE);
    if (id !== undefined && SESSION_ID.test(id) && this.#sessions.get(id)) {
      if (!SAFE_METHODS.has(req.method) && !isSameOrigin(req)) {
        return jsonError(
          403,
          `Cannot ${req.method} ${
            new URL(req.url).pathname
          }: a request with the session cookie that changes ` +
            "state must come from this origin (Origin or Sec-Fetch-Site: same-origin)",
          PRIVATE_HEADERS,
        );
      }
      return undefined;
    }
    if (area === AdminArea.Page) {
      return new Response(null, { status: 303, headers: { location: AdminPath.Login, ...PRIVATE_HEADERS } });
    }
    return jsonError(
      401,
      `Cannot serve ${what}: no credential given (send Authorization: Bearer TOKEN, or log in at ${AdminPath.Login})`,
      { "www-authenticate": 'Bearer realm="sluice"', ...PRIVATE_HEADERS },
    );
  }

  /** Rule 2: no credential configured. */
  #checkOpen(req: Request, address: string | undefined, what: string): Response | undefined {
    if (!this.#options.loopbackOpen) {
      return jsonError(
        403,
        `Cannot serve ${what}: no credential is configured and admin.loopbackOpen is off; ${HOW_TO_SET}`,
        PRIVATE_HEADERS,
      );
    }
    if (address === undefined || !isLoopbackAddress(address)) {
      return jsonError(
        403,
        `Cannot serve ${what} to ${address ?? "an unknown address"}: with no credential configured only ` +
          `loopback peers are served; ${HOW_TO_SET}`,
        PRIVATE_HEADERS,
      );
    }
    const host = new URL(req.url).hostname;
    if (!isLoopbackName(host)) {
      return jsonError(
        403,
        `Cannot serve ${what} for host ${JSON.stringify(host)}: with no credential configured it is served ` +
          `only as localhost or a loopback address (another name may be a DNS rebinding page); ${HOW_TO_SET}`,
        PRIVATE_HEADERS,
      );
    }
    if (isFromOtherOrigin(req)) {
      return jsonError(
        403,
        `Cannot serve ${what}: the request comes from another origin, and no credential is configured; ${HOW_TO_SET}`,
        PRIVATE_HEADERS,
      );
    }
    return undefined;
  }

  /** Rule 3 with an Authorization header: a bearer token, rate-limited per address. */
  async #checkBearer(
    authorization: string,
    address: string | undefined,
    what: string,
  ): Promise<Response | undefined> {
    const key = attemptKey(address);
    const limited = this.#limited(key, address, what);
    if (limited) return limited;
    const m = /^Bearer +([^\s]+) *$/i.exec(authorization);
    if (m && this.#tokenDigest && constantTimeEqual(await sha256(m[1]), await this.#tokenDigest)) {
      return undefined;
    }
    this.#attempts.fail(key);
    this.#log.warn(`wrong bearer token for ${what} from ${address ?? "an unknown address"}`);
    return jsonError(401, `Cannot serve ${what}: the bearer token is not valid`, {
      "www-authenticate": 'Bearer realm="sluice", error="invalid_token"',
      ...PRIVATE_HEADERS,
    });
  }

  /** The 429 for an address past its failed attempts (logged once per window), or undefined. */
  #limited(key: string, address: string | undefined, what: string, kind?: BodyKind): Response | undefined {
    const { retryMs, record } = this.#attempts.blocked(key);
    if (retryMs <= 0) return undefined;
    const retryS = Math.max(1, Math.ceil(retryMs / 1000));
    if (record && !record.warned) {
      record.warned = true;
      this.#log.warn(
        `refusing ${what} to ${address ?? "an unknown address"} for ${retryS} s: more than ` +
          `${this.#options.loginAttemptsPerMinute} failed attempts within a minute`,
      );
    }
    const headers = { "retry-after": String(retryS), ...PRIVATE_HEADERS };
    if (kind === BodyKind.Form) return loginPageResponse(429, LoginNote.Limited, headers);
    return jsonError(
      429,
      `Cannot serve ${what}: too many failed attempts from this address; retry in ${retryS} s`,
      headers,
    );
  }

  /** `GET /admin/login`: the login form (it says so when no password is set). */
  loginPage(): Response {
    return loginPageResponse(200, this.#hash ? LoginNote.None : LoginNote.NoPassword);
  }

  /**
   * `POST /admin/login`: a form or JSON body with `user` and `password`. On success a session cookie
   * (HttpOnly, SameSite=Strict, Path=/, Max-Age the session's life, Secure over HTTPS) and a 303 to
   * `/admin/`. A wrong user or password is 401 (the form again with a note, or JSON for a JSON body); past
   * the attempts allowed per address 429; no password configured 403; a post from another origin 403.
   */
  async login(req: Request, remote: Deno.Addr | undefined): Promise<Response> {
    const address = peerAddress(remote);
    const shownAddress = address ?? "an unknown address";
    if (isFromOtherOrigin(req)) {
      await req.body?.cancel();
      return jsonError(403, "Cannot log in: the form was posted from another origin", PRIVATE_HEADERS);
    }
    const body = await readLoginBody(req);
    if ("refusal" in body) return body.refusal;
    const { kind, user, password } = body;
    if (!this.#hash) {
      if (kind === BodyKind.Form) return loginPageResponse(403, LoginNote.NoPassword);
      return jsonError(403, `Cannot log in: no password is configured; ${HOW_TO_SET}`, PRIVATE_HEADERS);
    }
    const key = attemptKey(address);
    const limited = this.#limited(key, address, "the login", kind);
    if (limited) return limited;
    if (this.#loginsInFlight >= MAX_LOGINS_IN_FLIGHT) {
      const headers = { "retry-after": "1", ...PRIVATE_HEADERS };
      if (kind === BodyKind.Form) return loginPageResponse(503, LoginNote.Busy, headers);
      return jsonError(503, "Cannot log in: too many logins at once; retry in 1 s", headers);
    }
    let ok: boolean;
    this.#loginsInFlight++;
    try {
      // The password is derived whether or not the user is right, so the time says nothing of the user.
      const userOk = constantTimeEqual(await sha256(user), await this.#userDigest);
      const passwordOk = new TextEncoder().encode(password).length <= MAX_PASSWORD_BYTES &&
        await verifyPassword(password, this.#hash);
      ok = userOk && passwordOk;
    } finally {
      this.#loginsInFlight--;
    }
    if (!ok) {
      this.#attempts.fail(key);
      this.#log.warn(`login failed for user ${shownUser(user)} from ${shownAddress}`);
      if (kind === BodyKind.Form) return loginPageResponse(401, LoginNote.Failed);
      return jsonError(401, "Cannot log in: wrong user name or password", PRIVATE_HEADERS);
    }
    this.#attempts.clear(key);
    const id = this.#sessions.open(user);
    this.#log.info(`login of user ${shownUser(user)} from ${shownAddress}`);
    const maxAgeS = Math.floor(this.#options.sessionTtlMs / 1000);
    const secure = isHttps(req) ? "; Secure" : "";
    return new Response(null, {
      status: 303,
      headers: {
        location: AdminPath.Home,
        "set-cookie":
          `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure}`,
        ...PRIVATE_HEADERS,
      },
    });
  }

  /**
   * `POST /admin/logout`: ends the session of the request's cookie, clears the cookie, 303 to the login
   * page. A post from another origin is 403 and ends nothing.
   */
  async logout(req: Request): Promise<Response> {
    await req.body?.cancel();
    if (isFromOtherOrigin(req)) {
      return jsonError(403, "Cannot log out: the request comes from another origin", PRIVATE_HEADERS);
    }
    const id = cookieValue(req, SESSION_COOKIE);
    if (id !== undefined && SESSION_ID.test(id)) this.#sessions.close(id);
    const secure = isHttps(req) ? "; Secure" : "";
    return new Response(null, {
      status: 303,
      headers: {
        location: AdminPath.Login,
        "set-cookie": `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}`,
        ...PRIVATE_HEADERS,
      },
    });
  }
}
