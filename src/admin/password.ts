/**
 * The admin password, stored salted and stretched: `pbkdf2-sha256$ITERATIONS$SALT$HASH`, PBKDF2 with
 * HMAC-SHA-256 (RFC 8018 section 5.2) through WebCrypto, a random 16-byte salt and a 32-byte output, salt
 * and output in standard base64 (`PASSWORD_HASH` in src/config/schema.ts holds the form). `server.ts
 * hash-password` prints one; `admin.passwordHash` takes it; the login (`src/admin/auth.ts`) verifies
 * against it. Nothing here logs, and no error message holds a password or a hash.
 *
 * @module
 */
import { PASSWORD_HASH } from "../config/schema.ts";

/**
 * Iterations of a new hash: OWASP's Password Storage Cheat Sheet (2023) asks 600,000 for
 * PBKDF2-HMAC-SHA256. A login costs one such derivation (a few hundred ms of one core), which the
 * login's rate limit and its bound on derivations at once keep cheap for the server.
 */
export const PBKDF2_ITERATIONS = 600_000;
/** The fewest iterations a stored hash may have (the schema's pattern holds the same range). */
export const MIN_ITERATIONS = 100_000;
/** The most iterations a stored hash may have: past it one login would take minutes. */
export const MAX_ITERATIONS = 9_999_999;
/** The salt of a new hash, in bytes (NIST SP 800-132 asks at least 16). */
export const SALT_BYTES = 16;
/** PBKDF2's output, in bytes: one SHA-256 block, so one pass of the iterations. */
export const HASH_BYTES = 32;
/** The shortest password `hashPassword()` takes (NIST SP 800-63B, 5.1.1.2). */
export const MIN_PASSWORD_LENGTH = 8;
/** The longest password verified or hashed, in UTF-8 bytes; a longer one is refused without work. */
export const MAX_PASSWORD_BYTES = 1_024;

/** The scheme name a stored hash starts with. */
const SCHEME = "pbkdf2-sha256";

/** A stored hash, read: its iterations, salt and expected output. */
export interface PasswordHash {
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Reads a stored hash; throws SyntaxError when it is not one (the message does not repeat it: a hash is
 * a secret too).
 */
export function parsePasswordHash(stored: string): PasswordHash {
  const m = PASSWORD_HASH.exec(stored);
  if (!m) {
    throw new SyntaxError(
      `Cannot read the password hash: it is not ${SCHEME}$ITERATIONS$SALT$HASH as server.ts hash-password prints it`,
    );
  }
  const iterations = Number(m[1]);
  let salt: Uint8Array;
  let hash: Uint8Array;
  try {
    salt = fromBase64(m[2]);
    hash = fromBase64(m[3]);
  } catch (e) {
    throw new SyntaxError("Cannot read the password hash: its salt or hash is not base64", { cause: e });
  }
  if (salt.length < SALT_BYTES || hash.length !== HASH_BYTES) {
    throw new SyntaxError(
      `Cannot read the password hash: current salt ${salt.length} bytes and hash ${hash.length} bytes, ` +
        `not at least ${SALT_BYTES} and ${HASH_BYTES}`,
    );
  }
  return { iterations, salt, hash };
}

/** PBKDF2-HMAC-SHA256 of `password` (UTF-8) with `salt`, `HASH_BYTES` long. */
async function derive(password: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", password as BufferSource, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/**
 * A new stored hash of `password`: `pbkdf2-sha256$ITERATIONS$SALT$HASH` with a random salt. Throws
 * RangeError for a password shorter than `MIN_PASSWORD_LENGTH` characters or longer than
 * `MAX_PASSWORD_BYTES`, or iterations outside `MIN_ITERATIONS..MAX_ITERATIONS`.
 */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const bytes = new TextEncoder().encode(password);
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new RangeError(
      `Cannot hash the password: current length ${[...password].length} characters is below ` +
        `the minimum ${MIN_PASSWORD_LENGTH}`,
    );
  }
  if (bytes.length > MAX_PASSWORD_BYTES) {
    throw new RangeError(
      `Cannot hash the password: current length ${bytes.length} bytes is above the maximum ${MAX_PASSWORD_BYTES}`,
    );
  }
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new RangeError(
      `Cannot hash the password: current iterations ${iterations} is not ${MIN_ITERATIONS}..${MAX_ITERATIONS}`,
    );
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(bytes, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/**
 * Whether `password` matches the stored hash (a string, or one `parsePasswordHash()` read), compared in
 * constant time. A password longer than `MAX_PASSWORD_BYTES` is false without a derivation. Throws
 * SyntaxError for a stored string that is not a hash.
 */
export async function verifyPassword(password: string, stored: string | PasswordHash): Promise<boolean> {
  const { iterations, salt, hash } = typeof stored === "string" ? parsePasswordHash(stored) : stored;
  const bytes = new TextEncoder().encode(password);
  if (bytes.length > MAX_PASSWORD_BYTES) return false;
  return constantTimeEqual(await derive(bytes, salt, iterations), hash);
}

/**
 * Whether two byte strings are equal, in time that depends on their length only, never on where they
 * differ (compare digests of fixed length, so the length says nothing).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
