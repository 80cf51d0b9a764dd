/**
 * Address rules, as config text: `allow ADDR`, `deny ADDR`, where ADDR is an IPv4 or IPv6 address, a CIDR
 * block (`10.0.0.0/8`, `2001:db8::/32`), a range of two addresses (ffserver's `ACL allow FIRST LAST`), or
 * `all`. `parseAcl()` reads a list of them; `aclAllows()` answers for one client address.
 *
 * Policy (ffserver's `ACL`, nginx-rtmp's `allow`/`deny`):
 * - rules are tried in order and the first that matches decides;
 * - when none matches, the answer is the opposite of the last rule's action: a list that ends with an
 *   `allow` refuses everyone else (ffserver: `ACL allow 127.0.0.1` alone admits only loopback), one that
 *   ends with a `deny` admits everyone else; an empty list admits everyone;
 * - an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, as a dual-stack listener reports IPv4 peers) is matched
 *   as the IPv4 address; an IPv4 rule never matches a plain IPv6 address, nor the reverse.
 *
 * @module
 */

/** What a rule does with a matching address. */
export const AclAction = {
  Allow: "allow",
  Deny: "deny",
} as const;
export type AclAction = typeof AclAction[keyof typeof AclAction];

/** One rule: a range of addresses of one family (0: `all`, every address), as big-endian numbers, inclusive. */
export interface AclRule {
  readonly action: AclAction;
  readonly family: 0 | 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  /** The rule as written, for messages. */
  readonly text: string;
}

/** Most rules in one list (a bound on the per-request work). */
export const MAX_ACL_RULES = 256;

/** An address read as a number of its family, or undefined when it is no address. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === undefined) return undefined;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** Whether an address is a loopback one: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x (::ffff:127.0.0.1). */
export function isLoopback(text: string): boolean {
  const a = parseAddress(text);
  if (!a) return false;
  return a.family === 4 ? a.value >> 24n === 127n : a.value === 1n;
}

/** An IPv4 address (as `parseAddress` gives it) in dotted form. */
export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let out = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out = (out << 8n) | BigInt(Number(p));
  }
  return out;
}

function parseIpv6(text: string): bigint | undefined {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s.length === 0 || s.length > 45 || s.includes("%")) return undefined;
  // A trailing dotted IPv4 part stands for the last two groups.
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => h === "" ? [] : h.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const words: bigint[] = [];
  for (const g of [...head, ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
  }
  const given = head.length + rest.length;
  if (halves.length === 1 && given !== 8) return undefined;
  if (halves.length === 2 && given > 7) return undefined;
  words.push(...head.map((g) => BigInt(parseInt(g, 16))));
  if (halves.length === 2) { for (let i = given; i < 8; i++) words.push(0n); }
  words.push(...rest.map((g) => BigInt(parseInt(g, 16))));
  return words.reduce((acc, w) => (acc << 16n) | w, 0n);
}

const BITS = { 4: 32n, 6: 128n } as const;

/** One rule from its text; throws SyntaxError naming what is wrong. */
export function parseAclRule(text: string): AclRule {
  const words = text.trim().split(/\s+/);
  const action = words[0]?.toLowerCase();
  if (action !== AclAction.Allow && action !== AclAction.Deny) {
    throw new SyntaxError(`Cannot read address rule "${text}": it starts with allow or deny`);
  }
  if (words.length < 2 || words.length > 3) {
    throw new SyntaxError(
      `Cannot read address rule "${text}": it takes one address, a CIDR block, two ` +
        `addresses (a range) or all`,
    );
  }
  if (words.length === 2 && words[1].toLowerCase() === "all") {
    return { action, family: 0, first: 0n, last: 0n, text };
  }
  const range = words.length === 3 ? [words[1], words[2]] : undefined;
  if (range) {
    const a = parseAddress(range[0]);
    const b = parseAddress(range[1]);
    if (!a || !b || a.family !== b.family || a.value > b.value) {
      throw new SyntaxError(
        `Cannot read address rule "${text}": a range is two addresses of one ` +
          `family, the lower first`,
      );
    }
    return { action, family: a.family, first: a.value, last: b.value, text };
  }
  const [addr, bitsText] = words[1].split("/", 2);
  const a = parseAddress(addr);
  if (!a) throw new SyntaxError(`Cannot read address rule "${text}": "${addr}" is no IPv4 or IPv6 address`);
  const width = BITS[a.family];
  // A mapped address's prefix counts the 96 bits of ::ffff: too.
  const mapped = a.family === 4 && addr.includes(":");
  let bits = width;
  if (bitsText !== undefined) {
    if (!/^\d{1,3}$/.test(bitsText)) {
      throw new SyntaxError(`Cannot read address rule "${text}": the prefix length is a number`);
    }
    bits = BigInt(Number(bitsText)) - (mapped ? 96n : 0n);
    if (bits < 0n || bits > width) {
      throw new SyntaxError(
        `Cannot read address rule "${text}": the prefix length is 0 to ${mapped ? 128 : width}`,
      );
    }
  }
  const hostMask = (1n << (width - bits)) - 1n;
  const first = a.value & ~hostMask & ((1n << width) - 1n);
  return { action, family: a.family, first, last: first | hostMask, text };
}

/** A list of rules; throws SyntaxError for the first bad one (with its index) or past `MAX_ACL_RULES`. */
export function parseAcl(texts: readonly string[]): AclRule[] {
  if (texts.length > MAX_ACL_RULES) {
    throw new SyntaxError(`Cannot read address rules: ${texts.length} rules, the most is ${MAX_ACL_RULES}`);
  }
  return texts.map((t) => parseAclRule(t));
}

/** The problem of one rule's text, or undefined when it reads (for config validation). */
export function aclRuleProblem(text: string): string | undefined {
  try {
    parseAclRule(text);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Cannot read address rule "[^"]*": /, "");
  }
}

/** Whether `rule` matches the parsed address. */
function matches(rule: AclRule, addr: { family: 4 | 6; value: bigint }): boolean {
  if (rule.family === 0) return true;
  return rule.family === addr.family && addr.value >= rule.first && addr.value <= rule.last;
}

/**
 * Whether `rules` admit the client at `address` (an IP address, without a port), with the rule that
 * decided, if any. An address that does not parse (a Unix socket) matches no rule but `all`.
 */
export function aclAllows(rules: readonly AclRule[], address: string): { allowed: boolean; rule?: AclRule } {
  if (rules.length === 0) return { allowed: true };
  const addr = parseAddress(address);
  for (const rule of rules) {
    if (addr ? matches(rule, addr) : rule.family === 0) {
      return { allowed: rule.action === AclAction.Allow, rule };
    }
  }
  return { allowed: rules[rules.length - 1].action === AclAction.Deny };
}

/**
 * Why `rules` refuse the client at `address`, as a refusal message says it (`rule "deny 10.0.0.0/8"`, or
 * "no rule allows it"); undefined when they admit it.
 */
export function aclRefusal(rules: readonly AclRule[], address: string): string | undefined {
  const { allowed, rule } = aclAllows(rules, address);
  if (allowed) return undefined;
  return rule ? `rule "${rule.text}"` : "no rule allows it";
}

/** Parsed rules per config entry: a reload replaces entries whole, so an entry's rules never change. */
const entryRules = new WeakMap<object, AclRule[]>();

/** The address rules of a config entry's `acl` (a `streams` entry's), parsed the first time they are asked for. */
export function entryAcl(entry: { readonly acl: readonly string[] }): AclRule[] {
  let rules = entryRules.get(entry);
  if (!rules) entryRules.set(entry, rules = parseAcl(entry.acl));
  return rules;
}
