/**
 * RulesPolicy: the admission policy of the config's access rules (`rules[]`) and the `auth` shortcuts:
 * stream keys (`stream_key.ts`), signed URLs (`signed_url.ts`), JWTs (`jwt.ts`) and address rules
 * (`src/config/acl.ts`), per app/stream pattern and action, over every protocol, through the one gate.
 *
 * Policy:
 * - the first rule whose `match` fits the stream key and whose `action` fits the request (`any` fits
 *   both) decides; a pattern is `app/stream` where `*` is any run of name characters (`live/*`,
 *   `live/cam-*`; an app of `*` matches every app), or `*` alone for every stream;
 * - everything the deciding rule sets must pass, in this order: `acl` (Forbidden), `keys`, one of which
 *   the request gives as `?key=` (Unauthorized), `sign`, a signed URL for this action and stream, bound to
 *   the client's address with `signAddress` (Unauthorized), and `jwt`, a token that verifies
 *   (Unauthorized) and grants this action on this stream (Forbidden); a rule that sets none of them
 *   allows;
 * - when no rule matches: a publish needs `auth.publishKey` when it is set, a play needs a signed URL
 *   when `auth.signSecret` is set (not bound to an address); otherwise the request is allowed (open);
 * - a file source (protocol `file`, the server's own configured publisher) is always allowed;
 * - an answer that needs no crypto is synchronous (the chain and the hub keep their fast path); a signed
 *   URL or a JWT is checked asynchronously (WebCrypto), so those requests get a promise;
 * - every rule, key and secret is read once per set (the constructor, `update()` on a reload): patterns
 *   compiled, address rules parsed, HMAC keys imported, JWT key files read; never per request;
 * - a reason never holds a credential: it names what is missing or wrong, not the value given.
 *
 * @module
 */
import { aclRefusal, type AclRule, isLoopback, parseAcl } from "../config/acl.ts";
import type { AuthConfig, RuleConfig } from "../config/config.ts";
import { ConfigError, ConfigRule } from "../config/validate.ts";
import {
  type Admission,
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
} from "../hub/admission.ts";
import { Protocol } from "../hub/session_kind.ts";
import { type Grant, GrantAction, JwtVerifier, tokenOf } from "./jwt.ts";
import { SignedUrlVerifier } from "./signed_url.ts";
import { keyOf, StreamKeys } from "./stream_key.ts";

/** The characters `*` stands for a run of: a stream or app name's (the HTTP router's). */

/** A compiled pattern: whether it matches a stream key. */
export interface KeyPattern {
  test(key: string): boolean;
}

/** The characters a `*` may stand for: name characters (never "/"). */
const NAME_CHAR = /^[A-Za-z0-9_.\-~]*$/;

/**
 * A rule's (or a JWT grant's) pattern, compiled (see the module doc). Matching is linear in the key's length,
 * with no backtracking (a RegExp of several `*` over a long hostile stream name would be a ReDoS): the
 * literal pieces are found leftmost, in order, and every gap between them must be name characters.
 */
export function compilePattern(pattern: string): KeyPattern {
  if (pattern === "*") return { test: () => true };
  const parts = pattern.split("*");
  return { test: (key) => globMatches(parts, key) };
}

function globMatches(parts: readonly string[], key: string): boolean {
  const first = parts[0];
  if (parts.length === 1) return key === first;
  const last = parts[parts.length - 1];
  if (key.length < first.length + last.length || !key.startsWith(first) || !key.endsWith(last)) return false;
  const end = key.length - last.length;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = key.indexOf(parts[i], at);
    if (found < 0 || found + parts[i].length > end) return false;
    if (!NAME_CHAR.test(key.slice(at, found))) return false;
    at = found + parts[i].length;
  }
  return NAME_CHAR.test(key.slice(at, end));
}

/** Whether `pattern` (see the module doc) matches the stream key `key`. */
export function patternMatches(pattern: string, key: string): boolean {
  return compilePattern(pattern).test(key);
}

/** The settings of `auth` the policy reads. */
export type RulesAuth = Pick<
  AuthConfig,
  "publishKey" | "signSecret" | "signSecretPrevious" | "jwtSecret" | "jwtKeyFile" | "jwksFile"
>;

/** What a rule asks, compiled. */
interface Rule {
  readonly match: KeyPattern;
  readonly action: RuleConfig["action"];
  readonly acl?: readonly AclRule[];
  readonly keys?: StreamKeys;
  readonly sign: boolean;
  readonly signAddress: boolean;
  readonly jwt: boolean;
}

/** One set of rules and secrets, swapped whole on an update. */
interface State {
  readonly rules: readonly Rule[];
  readonly publishKey?: StreamKeys;
  readonly signer?: SignedUrlVerifier;
  /** The JWT keys, when a rule needs them; a rejection is the load's error (always handled). */
  readonly jwt?: Promise<JwtVerifier>;
}

/** Clock and file access, for tests. */
export interface RulesPolicyOptions {
  /** The time now, in ms (default `Date.now`). */
  now?: () => number;
  /** Reads a key file (default `Deno.readTextFile`). */
  readTextFile?: (path: string) => Promise<string>;
  /**
   * The server's own credential (its transcodes' ffmpeg): a loopback request whose query carries it as
   * `INTERNAL_KEY_PARAM` is allowed by these rules (the limits still apply). Default none.
   */
  internalKey?: string;
}

/** The query parameter of the server's own credential (masked in logs as every `*_key`). */
export const INTERNAL_KEY_PARAM = "job_key";

export class RulesPolicy implements Admission {
  #state: State;
  readonly #now: () => number;
  readonly #readTextFile?: (path: string) => Promise<string>;
  readonly #internal: StreamKeys | undefined;

  /**
   * Reads `rules` and `auth` (see `update()` for what is refused). The JWT key files are read in the
   * background; `ready()` says when (and whether) that worked, and a JWT request meanwhile waits for it.
   */
  constructor(rules: readonly RuleConfig[], auth: RulesAuth, options: RulesPolicyOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#readTextFile = options.readTextFile;
    this.#internal = options.internalKey ? new StreamKeys([options.internalKey]) : undefined;
    this.#state = this.#compile(rules, auth);
  }

  /** Resolves once the JWT keys are read; rejects with the ConfigError of a key file that failed. */
  async ready(): Promise<void> {
    await this.#state.jwt;
  }

  /**
   * Replaces the rules and secrets (a reload), once the JWT key files are read; on any error nothing
   * changes. Throws ConfigError for a rule that asks for what `auth` does not configure (`sign` without
   * `auth.signSecret`, `jwt` without a JWT key, `signAddress` without `sign`) or a key file that cannot be
   * read; SyntaxError for an address rule that does not read.
   */
  async update(rules: readonly RuleConfig[], auth: RulesAuth): Promise<void> {
    const next = this.#compile(rules, auth);
    await next.jwt;
    this.#state = next;
  }

  admit(req: AdmissionRequest): AdmissionDecision | Promise<AdmissionDecision> {
    if (req.protocol === Protocol.File) return allow();
    const internal = req.query[INTERNAL_KEY_PARAM];
    if (
      this.#internal && internal !== undefined && req.remote !== undefined &&
      isLoopback(req.remote.hostname) &&
      this.#internal.matches(internal)
    ) {
      return allow();
    }
    const s = this.#state;
    const rule = s.rules.find((r) =>
      (r.action === "any" || r.action === req.action) && r.match.test(req.key)
    );
    return rule ? this.#byRule(rule, req, s) : this.#byDefault(req, s);
  }

  /** No rule matched: the shortcuts of `auth`. */
  #byDefault(req: AdmissionRequest, s: State): AdmissionDecision | Promise<AdmissionDecision> {
    if (req.action === AdmissionAction.Publish && s.publishKey) return keyCheck(s.publishKey, req);
    if (req.action === AdmissionAction.Play && s.signer) return this.#signCheck(s.signer, req, false);
    return allow();
  }

  #byRule(rule: Rule, req: AdmissionRequest, s: State): AdmissionDecision | Promise<AdmissionDecision> {
    if (rule.acl) {
      const address = req.remote?.hostname ?? "";
      const why = aclRefusal(rule.acl, address);
      if (why !== undefined) {
        const who = address === "" ? "a client with no address" : `address ${address}`;
        return deny(`${who} may not ${req.action} ${req.key} (${why})`, DenyKind.Forbidden);
      }
    }
    if (rule.keys) {
      const d = keyCheck(rule.keys, req);
      if (d.kind !== "allow") return d;
    }
    if (!rule.sign && !rule.jwt) return allow();
    return this.#slowChecks(rule, req, s);
  }

  async #slowChecks(rule: Rule, req: AdmissionRequest, s: State): Promise<AdmissionDecision> {
    if (rule.sign) {
      const d = await this.#signCheck(s.signer!, req, rule.signAddress);
      if (d.kind !== "allow") return d;
    }
    if (rule.jwt) return await this.#jwtCheck(s.jwt!, req);
    return allow();
  }

  async #signCheck(signer: SignedUrlVerifier, req: AdmissionRequest, bindAddress: boolean) {
    const addr = bindAddress ? req.remote?.hostname ?? "" : undefined;
    const check = await signer.verify(req.query, { action: req.action, key: req.key, addr }, this.#now());
    return check.ok ? allow() : deny(`signed URL: ${check.reason}`, DenyKind.Unauthorized);
  }

  async #jwtCheck(keys: Promise<JwtVerifier>, req: AdmissionRequest): Promise<AdmissionDecision> {
    let verifier: JwtVerifier;
    try {
      verifier = await keys;
    } catch (e) {
      return deny(`token keys are not loaded: ${(e as Error).message}`, DenyKind.Unavailable);
    }
    const check = await verifier.verify(tokenOf(req.query), this.#now());
    if (!check.ok) return deny(`token: ${check.reason}`, DenyKind.Unauthorized);
    if (check.grants.some((g) => grants(g, req))) return allow();
    const whose = check.subject === undefined ? "the token" : `the token of ${JSON.stringify(check.subject)}`;
    return deny(`${whose} does not allow ${req.action} of ${req.key}`, DenyKind.Forbidden);
  }

  #compile(rules: readonly RuleConfig[], auth: RulesAuth): State {
    const secrets = [auth.signSecret, auth.signSecretPrevious].filter((s): s is string => !!s);
    const hasJwtKey = !!(auth.jwtSecret || auth.jwtKeyFile || auth.jwksFile);
    const compiled = rules.map((r, i): Rule => {
      const at = `rules[${i}]`;
      if (r.sign && secrets.length === 0) throw needs(`${at}.sign`, "a signed URL needs auth.signSecret");
      if (r.signAddress && !r.sign) throw needs(`${at}.signAddress`, "it binds the signature: set sign too");
      if (r.jwt && !hasJwtKey) {
        throw needs(`${at}.jwt`, "a JWT needs a key: auth.jwtSecret, auth.jwtKeyFile or auth.jwksFile");
      }
      return {
        match: compilePattern(r.match),
        action: r.action,
        acl: r.acl.length > 0 ? parseAcl(r.acl) : undefined,
        keys: r.keys.length > 0 ? new StreamKeys(r.keys) : undefined,
        sign: r.sign,
        signAddress: r.signAddress,
        jwt: r.jwt,
      };
    });
    let jwt: Promise<JwtVerifier> | undefined;
    if (compiled.some((r) => r.jwt)) {
      jwt = JwtVerifier.load(auth, this.#readTextFile);
      jwt.catch(() => {}); // handled where it is awaited: a JWT request's deny, ready(), update()
    }
    return {
      rules: compiled,
      publishKey: auth.publishKey ? new StreamKeys([auth.publishKey]) : undefined,
      signer: secrets.length > 0 ? new SignedUrlVerifier(secrets) : undefined,
      jwt,
    };
  }
}

/** Whether the request gives one of `keys` (`?key=`). */
function keyCheck(keys: StreamKeys, req: AdmissionRequest): AdmissionDecision {
  const given = keyOf(req.query);
  if (given === undefined) {
    return deny(`${req.action} of ${req.key} needs a stream key (?key=)`, DenyKind.Unauthorized);
  }
  return keys.matches(given) ? allow() : deny(`wrong stream key for ${req.key}`, DenyKind.Unauthorized);
}

/** Whether a JWT grant allows the request. */
function grants(g: Grant, req: AdmissionRequest): boolean {
  return (g.action === GrantAction.Any || g.action === req.action) && patternMatches(g.path, req.key);
}

function needs(path: string, detail: string): ConfigError {
  return new ConfigError(path, true, { rule: ConfigRule.Form, detail });
}
