/**
 * JWT (RFC 7519) verification with WebCrypto, for publishers and players whose tokens come from your own
 * identity service. A token travels as `?token=JWT` (RTMP: in the stream name, `cam?token=...`; HTTP and
 * WebSocket: in the URL) or, over HTTP, as `Authorization: Bearer JWT` (`src/http/admit.ts` puts it into
 * the query as `token` when the URL has none).
 *
 * Algorithms and keys (RFC 7518 section 3):
 * - HS256: HMAC-SHA256 with `auth.jwtSecret`'s UTF-8 bytes;
 * - RS256: RSASSA-PKCS1-v1_5 with SHA-256; ES256: ECDSA P-256 with SHA-256 (the signature is the 64 bytes
 *   of r and s): the public key of `auth.jwtKeyFile` (PEM SPKI, `BEGIN PUBLIC KEY`), or a key of
 *   `auth.jwksFile` (a JWKS, RFC 7517 section 5) picked by the token's `kid`;
 * - a token's `alg` must be one of these and have a key of its kind: `none`, or HS256 against a public
 *   key, is refused (no algorithm confusion).
 *
 * Claims: `exp` and `nbf` (NumericDate, seconds) are checked when present, with `LEEWAY_S` of clock skew;
 * what the token allows is the `sluice` claim, a list of grants as MediaMTX's permissions are written:
 *
 * ```json
 * { "sub": "alice", "exp": 1767225600,
 *   "sluice": [{ "action": "publish", "path": "live/alice" }, { "action": "play", "path": "live/*" }] }
 * ```
 *
 * `action` is `publish`, `play` or `any`; `path` is an app/stream pattern as `rules[].match` writes it
 * (`*` is any run of name characters, `*` alone every stream). A token without `sluice` allows nothing.
 * `iss` and `aud` are not checked.
 *
 * Policy:
 * - bounded: a token is at most `MAX_TOKEN_LENGTH` characters, three base64url parts; a header or payload
 *   that is not a JSON object, a claim of the wrong type, or more than `MAX_GRANTS` grants, is refused
 *   with its reason, never thrown;
 * - the signature is checked before any claim is believed;
 * - the key files are read and imported once, by `JwtVerifier.load()` (at the start, and again on a
 *   reload), never per request; a file that cannot be read or holds no usable key is a ConfigError.
 *
 * @module
 */
import { ConfigError, ConfigRule } from "../config/validate.ts";
import { STREAM_PATTERN } from "../config/schema.ts";

/** The query parameter a token travels in. */
export const TOKEN_PARAM = "token";
/** The longest token read, in characters (8 KiB). */
export const MAX_TOKEN_LENGTH = 8192;
/** Clock skew allowed on `exp` and `nbf`, in seconds. */
export const LEEWAY_S = 30;
/** The most grants a token's `sluice` claim may list. */
export const MAX_GRANTS = 64;
/** The largest JWKS file read, in bytes. */
export const MAX_JWKS_BYTES = 1024 * 1024;
/** The most keys read from a JWKS file. */
export const MAX_JWKS_KEYS = 100;
/** The claim that lists what a token allows. */
export const GRANTS_CLAIM = "sluice";

/** The algorithms verified (RFC 7518 section 3.1). */
export const JwtAlg = {
  /** HMAC with SHA-256 (3.2). */
  HS256: "HS256",
  /** RSASSA-PKCS1-v1_5 with SHA-256 (3.3). */
  RS256: "RS256",
  /** ECDSA with P-256 and SHA-256 (3.4). */
  ES256: "ES256",
} as const;
export type JwtAlg = typeof JwtAlg[keyof typeof JwtAlg];

/** What a grant allows: one action or both. */
export const GrantAction = { Publish: "publish", Play: "play", Any: "any" } as const;
export type GrantAction = typeof GrantAction[keyof typeof GrantAction];

/** One entry of the `sluice` claim. */
export interface Grant {
  readonly action: GrantAction;
  /** An app/stream pattern (`STREAM_PATTERN`). */
  readonly path: string;
}

/** The answer of a check: the token's grants (and subject), or why it is refused. */
export type JwtCheck =
  | { ok: true; grants: readonly Grant[]; subject?: string }
  | { ok: false; reason: string };

/** Where the keys come from: the `auth` settings. */
export interface JwtKeySources {
  readonly jwtSecret?: string | null;
  readonly jwtKeyFile?: string | null;
  readonly jwksFile?: string | null;
}

interface VerifyKey {
  readonly alg: JwtAlg;
  readonly key: CryptoKey;
  /** A JWKS key's `kid`; undefined for the secret and the PEM key. */
  readonly kid?: string;
}

const PARAMS: Record<JwtAlg, AlgorithmIdentifier | EcdsaParams> = {
  HS256: { name: "HMAC" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
};
const IMPORT: Record<JwtAlg, HmacImportParams | RsaHashedImportParams | EcKeyImportParams> = {
  HS256: { name: "HMAC", hash: "SHA-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
};
const ALGS: ReadonlySet<string> = new Set(Object.values(JwtAlg));
const ACTIONS: ReadonlySet<string> = new Set(Object.values(GrantAction));
const B64URL = /^[A-Za-z0-9_-]+$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The token of a request's query (`?token=`), or undefined. */
export function tokenOf(query: Readonly<Record<string, string>>): string | undefined {
  return Object.hasOwn(query, TOKEN_PARAM) ? query[TOKEN_PARAM] : undefined;
}

/** The JSON object a base64url part holds, or the reason it is none. */
function jsonPart(part: string, what: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(Uint8Array.fromBase64(part, { alphabet: "base64url" })));
  } catch {
    return `${what} is not JSON`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${what} is not a JSON object`;
  }
  return value as Record<string, unknown>;
}

/** The grants of a verified payload, or the reason its `sluice` claim does not read. */
function grantsOf(payload: Record<string, unknown>): Grant[] | string {
  const claim = payload[GRANTS_CLAIM];
  if (claim === undefined) return [];
  const bad = `claim ${GRANTS_CLAIM} is not a list of { action: publish|play|any, path: app/stream }`;
  if (!Array.isArray(claim)) return bad;
  if (claim.length > MAX_GRANTS) {
    return `claim ${GRANTS_CLAIM} has ${claim.length} grants, the most is ${MAX_GRANTS}`;
  }
  const grants: Grant[] = [];
  for (const g of claim) {
    if (typeof g !== "object" || g === null) return bad;
    const { action, path } = g as Record<string, unknown>;
    if (typeof action !== "string" || !ACTIONS.has(action)) return bad;
    if (typeof path !== "string" || path.length > 512 || !STREAM_PATTERN.test(path)) return bad;
    grants.push({ action: action as GrantAction, path });
  }
  return grants;
}

/** A NumericDate claim's problem, or undefined when absent or a number. */
function dateProblem(payload: Record<string, unknown>, claim: "exp" | "nbf"): string | undefined {
  const v = payload[claim];
  if (v === undefined || (typeof v === "number" && Number.isFinite(v))) return undefined;
  return `claim ${claim} is not a number of seconds`;
}

/** Verifies tokens with the keys of the `auth` settings, imported once. */
export class JwtVerifier {
  readonly #keys: readonly VerifyKey[];

  private constructor(keys: readonly VerifyKey[]) {
    this.#keys = keys;
  }

  /**
   * Reads and imports the keys `sources` name (the secret, the PEM file, the JWKS file). ConfigError
   * naming the setting for a file that cannot be read or holds no usable key, or when no key is set.
   * `readTextFile` reads a file (default Deno's; the files need --allow-read).
   */
  static async load(
    sources: JwtKeySources,
    readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
  ): Promise<JwtVerifier> {
    const keys: VerifyKey[] = [];
    if (sources.jwtSecret) {
      const key = await crypto.subtle.importKey(
        "raw",
        encoder.encode(sources.jwtSecret),
        IMPORT.HS256,
        false,
        [
          "verify",
        ],
      );
      keys.push({ alg: JwtAlg.HS256, key });
    }
    if (sources.jwtKeyFile) {
      const text = await readKeyFile("auth.jwtKeyFile", sources.jwtKeyFile, readTextFile);
      keys.push(await importPem("auth.jwtKeyFile", sources.jwtKeyFile, text));
    }
    if (sources.jwksFile) {
      const text = await readKeyFile("auth.jwksFile", sources.jwksFile, readTextFile);
      keys.push(...await importJwks(sources.jwksFile, text));
    }
    if (keys.length === 0) {
      throw new ConfigError("auth.jwtSecret", null, {
        rule: ConfigRule.Form,
        detail: "JWTs need a key: auth.jwtSecret, auth.jwtKeyFile or auth.jwksFile",
      });
    }
    return new JwtVerifier(keys);
  }

  /** The algorithms it has keys for. */
  get algorithms(): JwtAlg[] {
    return [...new Set(this.#keys.map((k) => k.alg))];
  }

  /** Checks `token` at `nowMs` (a `Date.now()` time): its form, its signature, then its claims. */
  async verify(token: string | undefined, nowMs: number): Promise<JwtCheck> {
    const no = (reason: string): JwtCheck => ({ ok: false, reason });
    if (token === undefined || token === "") return no(`missing (?${TOKEN_PARAM}= or Authorization: Bearer)`);
    if (token.length > MAX_TOKEN_LENGTH) return no(`longer than ${MAX_TOKEN_LENGTH} characters`);
    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return no("is not three base64url parts");
    const header = jsonPart(parts[0], "header");
    if (typeof header === "string") return no(header);
    const { alg, kid } = header;
    if (typeof alg !== "string" || !ALGS.has(alg)) {
      return no(`alg ${JSON.stringify(alg ?? null).slice(0, 40)} is not accepted (${[...ALGS].join(", ")})`);
    }
    if (kid !== undefined && (typeof kid !== "string" || kid.length > 256)) {
      return no("header kid is not a string");
    }
    const candidates = this.#keysFor(alg as JwtAlg, kid);
    if (candidates.length === 0) {
      return no(
        kid === undefined ? `no key for ${alg}` : `no key for ${alg} with kid ${JSON.stringify(kid)}`,
      );
    }
    let signature: Uint8Array<ArrayBuffer>;
    try {
      signature = Uint8Array.fromBase64(parts[2], { alphabet: "base64url" });
    } catch {
      return no("signature is not base64url");
    }
    const data = encoder.encode(`${parts[0]}.${parts[1]}`);
    let good = false;
    for (const k of candidates) {
      if (await crypto.subtle.verify(PARAMS[k.alg], k.key, signature, data)) {
        good = true;
        break;
      }
    }
    if (!good) return no("signature does not match");
    const payload = jsonPart(parts[1], "payload");
    if (typeof payload === "string") return no(payload);
    const problem = dateProblem(payload, "exp") ?? dateProblem(payload, "nbf");
    if (problem !== undefined) return no(problem);
    const nowS = nowMs / 1000;
    const { exp, nbf, sub } = payload as { exp?: number; nbf?: number; sub?: unknown };
    if (exp !== undefined && nowS >= exp + LEEWAY_S) return no(`expired ${Math.floor(nowS - exp)} s ago`);
    if (nbf !== undefined && nowS + LEEWAY_S < nbf) {
      return no(`not valid for another ${Math.ceil(nbf - nowS)} s`);
    }
    const grants = grantsOf(payload);
    if (typeof grants === "string") return no(grants);
    return typeof sub === "string" ? { ok: true, grants, subject: sub } : { ok: true, grants };
  }

  /** The keys a token of `alg` and `kid` may be signed with: those with its kid, else those without one. */
  #keysFor(alg: JwtAlg, kid: string | undefined): VerifyKey[] {
    const ofAlg = this.#keys.filter((k) => k.alg === alg);
    if (kid !== undefined) {
      const byKid = ofAlg.filter((k) => k.kid === kid);
      if (byKid.length > 0) return byKid;
    }
    return ofAlg.filter((k) => k.kid === undefined);
  }
}

function keyFileError(setting: string, path: string, detail: string, cause?: unknown): ConfigError {
  return new ConfigError(setting, path, { rule: ConfigRule.Form, detail }, { cause });
}

async function readKeyFile(
  setting: string,
  path: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (e) {
    const hint = e instanceof Deno.errors.NotCapable ? " (add --allow-read)" : "";
    throw keyFileError(setting, path, `cannot read ${path}: ${(e as Error).message}${hint}`, e);
  }
}

/** The one public key of a PEM SPKI file: RSA (RS256) or EC P-256 (ES256). */
async function importPem(setting: string, path: string, text: string): Promise<VerifyKey> {
  const m = text.match(/-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/);
  if (!m) {
    throw keyFileError(setting, path, `${path} holds no PEM public key (-----BEGIN PUBLIC KEY-----, SPKI)`);
  }
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = Uint8Array.fromBase64(m[1].replace(/\s+/g, ""));
  } catch (e) {
    throw keyFileError(setting, path, `${path}: the PEM body is not base64`, e);
  }
  for (const alg of [JwtAlg.RS256, JwtAlg.ES256] as const) {
    try {
      return { alg, key: await crypto.subtle.importKey("spki", der, IMPORT[alg], false, ["verify"]) };
    } catch {
      // not a key of this kind: try the next
    }
  }
  throw keyFileError(setting, path, `${path} is neither an RSA nor an EC P-256 public key`);
}

/** The RS256 and ES256 signing keys of a JWKS file; other keys are skipped. */
async function importJwks(path: string, text: string): Promise<VerifyKey[]> {
  const setting = "auth.jwksFile";
  if (text.length > MAX_JWKS_BYTES) {
    throw keyFileError(setting, path, `${path} is over ${MAX_JWKS_BYTES} bytes`);
  }
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch (e) {
    throw keyFileError(setting, path, `${path} is not JSON: ${(e as Error).message}`, e);
  }
  const list = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw keyFileError(setting, path, `${path} has no "keys" list (a JWKS)`);
  if (list.length > MAX_JWKS_KEYS) {
    throw keyFileError(setting, path, `${path} has ${list.length} keys, the most is ${MAX_JWKS_KEYS}`);
  }
  const keys: VerifyKey[] = [];
  for (const jwk of list as Record<string, unknown>[]) {
    if (typeof jwk !== "object" || jwk === null) continue;
    if (jwk.use !== undefined && jwk.use !== "sig") continue;
    const kid = typeof jwk.kid === "string" ? jwk.kid : undefined;
    let alg: JwtAlg;
    let material: JsonWebKey;
    if (jwk.kty === "RSA" && typeof jwk.n === "string" && typeof jwk.e === "string") {
      [alg, material] = [JwtAlg.RS256, { kty: "RSA", n: jwk.n, e: jwk.e }];
    } else if (
      jwk.kty === "EC" && jwk.crv === "P-256" && typeof jwk.x === "string" && typeof jwk.y === "string"
    ) {
      [alg, material] = [JwtAlg.ES256, { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }];
    } else {
      continue;
    }
    if (jwk.alg !== undefined && jwk.alg !== alg) continue;
    try {
      keys.push({
        alg,
        kid,
        key: await crypto.subtle.importKey("jwk", material, IMPORT[alg], false, ["verify"]),
      });
    } catch (e) {
      throw keyFileError(setting, path, `${path}: key ${kid ?? keys.length + 1} does not import`, e);
    }
  }
  if (keys.length === 0) throw keyFileError(setting, path, `${path} has no RS256 or ES256 signing key`);
  return keys;
}
