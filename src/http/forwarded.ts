/**
 * The client behind trusted reverse proxies (`http.trustedProxies`): a request whose peer is one of them is
 * taken as from the address its `X-Forwarded-For` names, as nginx's `real_ip_recursive` and MediaMTX's
 * `trustedProxies` read it. Every HTTP route then sees that address: the address rules, the admin's
 * loopback check, the session registry and the access log.
 *
 * - The header is read from the right (the hop nearest to us) and trusted proxies are skipped; the first
 *   address that is not one is the client. When every hop is trusted, the leftmost is.
 * - An entry that is no address (`unknown`, a name, garbage) ends the walk: the client is the hop that
 *   forwarded it, the nearest one whose word we can check.
 * - A peer that is not trusted, or a request without the header, keeps the peer's address: nobody else can
 *   name a client. With no trusted proxy configured (the default) the header is ignored.
 * - The list is read from the running config at each request (`trustedProxiesOf`), so SIGHUP changes it.
 * - Bounded: only the last `MAX_HOPS` entries of a header of at most `MAX_HEADER_CHARS` are read; a longer
 *   header is ignored.
 *
 * @module
 */
import { aclAllows, type AclRule, parseAclRule, parseAddress } from "../config/acl.ts";

/** The longest X-Forwarded-For read; a longer one is ignored (the peer's address stays). */
export const MAX_HEADER_CHARS = 4096;
/** The most hops read from the right of the header. */
export const MAX_HOPS = 32;

/** The proxies of one `http.trustedProxies` list, parsed once per list (a reload replaces the list whole). */
const parsed = new WeakMap<readonly string[], TrustedProxies>();

/** The TrustedProxies of `list`, parsed the first time that list is asked for. */
export function trustedProxiesOf(list: readonly string[]): TrustedProxies {
  let proxies = parsed.get(list);
  if (!proxies) parsed.set(list, proxies = new TrustedProxies(list));
  return proxies;
}

export class TrustedProxies {
  readonly #rules: readonly AclRule[];

  /** `list`: addresses and CIDR blocks as `http.trustedProxies` has them (validated by the config). */
  constructor(list: readonly string[]) {
    this.#rules = list.map((text) => parseAclRule(`allow ${text}`));
  }

  /** Whether `address` (an IP address without a port) is a trusted proxy. */
  trusts(address: string): boolean {
    return this.#rules.length > 0 && aclAllows(this.#rules, address).allowed;
  }

  /**
   * The client of a request from `peer` with `headers`: the address X-Forwarded-For names when the peer is
   * a trusted proxy (port 0: the header gives none), else the peer itself.
   */
  clientOf(peer: Deno.Addr | undefined, headers: Headers): Deno.Addr | undefined {
    if (this.#rules.length === 0 || peer?.transport !== "tcp" || !this.trusts(peer.hostname)) return peer;
    const header = headers.get("x-forwarded-for");
    if (header === null || header.length > MAX_HEADER_CHARS) return peer;
    const hops = header.split(",").slice(-MAX_HOPS);
    let client = peer.hostname;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]);
      if (hop === undefined) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client === peer.hostname ? peer : { transport: "tcp", hostname: client, port: 0 };
  }
}

/** The address of one X-Forwarded-For entry (`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:80`). */
function hopAddress(raw: string): string | undefined {
  let text = raw.trim();
  const bracketed = text.match(/^\[([^\]]+)\](?::\d{1,5})?$/);
  if (bracketed) text = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(text)) text = text.slice(0, text.lastIndexOf(":"));
  return parseAddress(text) === undefined ? undefined : text;
}
