/**
 * Signed URLs: a play (or publish) URL that carries its own permission until a time, made by whoever holds
 * the signing secret (`auth.signSecret`; `server.ts sign`, or the same HMAC in a web app).
 *
 * The signature is HMAC-SHA256 (WebCrypto) with the secret's UTF-8 bytes as key, over the UTF-8 text
 *
 * ```
 * ACTION "\n" APP/STREAM "\n" EXPIRES [ "\n" ADDR ]
 * ```
 *
 * where ACTION is `publish` or `play`, APP/STREAM the stream key without any query or `.flv`, EXPIRES the
 * UNIX time in seconds after which the URL no longer works, and ADDR, only when the rule binds the address
 * (`rules[].signAddress`), the client's IP address in canonical form (`canonicalAddress()`: dotted IPv4,
 * an IPv4-mapped IPv6 address as its IPv4 address, IPv6 as RFC 5952 writes it). The signature goes into
 * the query as base64url without padding (RFC 4648 section 5): `?expires=1767225600&sign=...`. The address
 * is not in the URL: the server uses the peer's address, and the signer is told it (`sign --addr`).
 *
 * Policy:
 * - the query is read within bounds before any crypto: `expires` is 1 to 12 digits, `sign` is exactly the
 *   43 base64url characters of a 32-byte MAC; anything else is refused with its reason;
 * - the URL is good while the server's clock is before EXPIRES; at or past it the reason says how long ago;
 * - several secrets are accepted (the current one and `auth.signSecretPrevious`, for rotation); each is
 *   imported once, when the verifier is made; WebCrypto's `verify` compares the MACs;
 * - every refusal is the client's missing or wrong credential (the caller denies Unauthorized).
 *
 * @module
 */
import { parseAddress } from "../config/acl.ts";
import { AdmissionAction } from "../hub/admission.ts";

/** The query parameter of the expiry, a UNIX time in seconds. */
export const EXPIRES_PARAM = "expires";
/** The query parameter of the signature. */
export const SIGN_PARAM = "sign";

/** An `expires` value: a UNIX time in whole seconds, at most 12 digits. */
const EXPIRES_FORM = /^\d{1,12}$/;
/** A `sign` value: base64url of the 32 bytes of HMAC-SHA256, without padding. */
const SIGN_FORM = /^[A-Za-z0-9_-]{43}$/;
/** The longest time to live `signedUrls()` takes: ten years, in seconds. */
export const MAX_TTL_S = 10 * 365 * 24 * 3600;

const encoder = new TextEncoder();
const HMAC: HmacImportParams = { name: "HMAC", hash: "SHA-256" };

/** What a signature is for. */
export interface SignTarget {
  action: AdmissionAction;
  /** The stream key, `app/stream`. */
  key: string;
  /** The client's address, when the signature binds it (any form `canonicalAddress()` reads). */
  addr?: string;
}

/** The answer of a check: good, or why not. */
export type SignCheck = { ok: true } | { ok: false; reason: string };

/** The text that is signed (see the module doc). */
export function signingText(target: SignTarget, expires: number): string {
  const base = `${target.action}\n${target.key}\n${expires}`;
  return target.addr === undefined ? base : `${base}\n${canonicalAddress(target.addr)}`;
}

/**
 * An address in the one form the signature binds: dotted IPv4 (an IPv4-mapped IPv6 address becomes its
 * IPv4 address), IPv6 in RFC 5952 form (lower case, the longest run of two or more zero groups as `::`,
 * no brackets); text that is no address stays as it is.
 */
export function canonicalAddress(text: string): string {
  const a = parseAddress(text);
  if (a === undefined) return text;
  if (a.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((a.value >> s) & 0xffffn));
  // RFC 5952 4.2: the longest run of zero groups (the first of equal ones), if two or more, becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function importSecret(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), HMAC, false, ["sign", "verify"]);
}

function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The `sign` value for `target` until `expires` (UNIX seconds), with `secret`. */
export async function signature(secret: string, target: SignTarget, expires: number): Promise<string> {
  const key = await importSecret(secret);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(signingText(target, expires)));
  return base64url(new Uint8Array(mac));
}

/** The query that signs `target` until `expires`: `expires=UNIX&sign=...` (without its `?`). */
export async function signQuery(secret: string, target: SignTarget, expires: number): Promise<string> {
  return `${EXPIRES_PARAM}=${expires}&${SIGN_PARAM}=${await signature(secret, target, expires)}`;
}

/** Checks signed URLs against a set of secrets, each imported once. */
export class SignedUrlVerifier {
  readonly #keys: Promise<CryptoKey[]>;

  /** `secrets`: the current one first, then any still accepted. RangeError for none. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new RangeError("Cannot verify signed URLs: current secrets are none");
    this.#keys = Promise.all(secrets.map(importSecret));
  }

  /**
   * Whether `query` signs `target` at `nowMs` (a `Date.now()` time): see the module doc. `target.addr` is
   * the peer's address when the signature binds it, else undefined.
   */
  async verify(
    query: Readonly<Record<string, string>>,
    target: SignTarget,
    nowMs: number,
  ): Promise<SignCheck> {
    const sign = Object.hasOwn(query, SIGN_PARAM) ? query[SIGN_PARAM] : undefined;
    const expiresText = Object.hasOwn(query, EXPIRES_PARAM) ? query[EXPIRES_PARAM] : undefined;
    if (sign === undefined) return { ok: false, reason: `missing ${SIGN_PARAM}` };
    if (expiresText === undefined) return { ok: false, reason: `missing ${EXPIRES_PARAM}` };
    if (!EXPIRES_FORM.test(expiresText)) {
      return { ok: false, reason: `${EXPIRES_PARAM} is not a UNIX time in seconds` };
    }
    if (!SIGN_FORM.test(sign)) {
      return { ok: false, reason: `${SIGN_PARAM} is not 43 base64url characters (HMAC-SHA256)` };
    }
    const expires = Number(expiresText);
    const nowS = Math.floor(nowMs / 1000);
    if (nowS >= expires) return { ok: false, reason: `expired ${nowS - expires} s ago` };
    const mac = Uint8Array.fromBase64(sign, { alphabet: "base64url" });
    const data = encoder.encode(signingText(target, expires));
    for (const key of await this.#keys) {
      if (await crypto.subtle.verify("HMAC", key, mac, data)) return { ok: true };
    }
    return { ok: false, reason: "signature does not match" };
  }
}

/** Checks one signed URL (see `SignedUrlVerifier.verify()`); a verifier kept for many imports each secret once. */
export function verify(
  query: Readonly<Record<string, string>>,
  target: SignTarget,
  secrets: readonly string[],
  nowMs: number,
): Promise<SignCheck> {
  return new SignedUrlVerifier(secrets).verify(query, target, nowMs);
}

/** What `signedUrls()` signs, and where the server is. */
export interface SignedUrlOptions {
  secret: string;
  action: AdmissionAction;
  /** `app/stream`. */
  key: string;
  /** Seconds from `nowMs` until the URLs expire: 1 to MAX_TTL_S. */
  ttlS: number;
  nowMs: number;
  /** The client's address, when the rule binds it (not written into the URLs). */
  addr?: string;
  /** The server's host name or address, as clients reach it. */
  host: string;
  rtmpPort: number;
  httpPort: number;
  /** When given, the rtmps:// URL too. */
  rtmpsPort?: number;
  /** When given, the https:// and wss:// URLs too. */
  httpsPort?: number;
}

/**
 * The signed URLs of one stream, one per protocol: for a play RTMP, HTTP-FLV (`.flv`) and WebSocket-FLV;
 * for a publish RTMP, HTTP push (POST) and WebSocket push; each with RTMPS / HTTPS / WSS beside it when
 * those ports are given. Also the `expires` time they share. RangeError for a ttlS out of range.
 */
export async function signedUrls(o: SignedUrlOptions): Promise<{ expires: number; urls: string[] }> {
  if (!Number.isInteger(o.ttlS) || o.ttlS < 1 || o.ttlS > MAX_TTL_S) {
    throw new RangeError(`Cannot sign a URL for ${o.ttlS} s: the time to live is 1 to ${MAX_TTL_S} s`);
  }
  const expires = Math.floor(o.nowMs / 1000) + o.ttlS;
  const q = await signQuery(o.secret, { action: o.action, key: o.key, addr: o.addr }, expires);
  const host = o.host.includes(":") && !o.host.startsWith("[") ? `[${o.host}]` : o.host;
  const at = (scheme: string, port: number, path: string) => `${scheme}://${host}:${port}/${path}?${q}`;
  const flv = o.action === AdmissionAction.Play ? `${o.key}.flv` : o.key;
  const urls = [at("rtmp", o.rtmpPort, o.key)];
  if (o.rtmpsPort !== undefined) urls.push(at("rtmps", o.rtmpsPort, o.key));
  urls.push(at("http", o.httpPort, flv));
  if (o.httpsPort !== undefined) urls.push(at("https", o.httpsPort, flv));
  urls.push(at("ws", o.httpPort, flv));
  if (o.httpsPort !== undefined) urls.push(at("wss", o.httpsPort, flv));
  return { expires, urls };
}
