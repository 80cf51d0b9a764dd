/**
 * AddressPolicy: the admission policy of address rules (`src/config/acl.ts`) per stream key and action,
 * for the rules the config gives: a feed's `acl` says who may publish it (ffserver's `<Feed> ACL`), over
 * every protocol, through the one gate.
 *
 * Policy:
 * - a request whose key has no rules for its action is allowed (the next policy decides);
 * - a request with no peer address (a file source, a transcode's own ffmpeg is a peer) is judged by its
 *   address when it has one; none at all matches only `all` rules;
 * - a refusal is Forbidden (HTTP 403, RTMP NetStream.Publish.BadName) and names the address and the rule;
 * - the rules are parsed once per set (`update()` on a reload), never per request.
 *
 * @module
 */
import { aclRefusal, type AclRule, parseAcl } from "../config/acl.ts";
import {
  type Admission,
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
} from "../hub/admission.ts";

/** The rules of one stream key for one action, as the config writes them. */
export interface AddressRules {
  readonly key: string;
  readonly action: AdmissionAction;
  readonly acl: readonly string[];
}

export class AddressPolicy implements Admission {
  #rules = new Map<string, AclRule[]>();

  /** `rules`: per key and action; a key given twice for one action keeps its first rules. */
  constructor(rules: readonly AddressRules[] = []) {
    this.update(rules);
  }

  /** Replaces the rules (a reload); SyntaxError for a rule that does not read, changing nothing. */
  update(rules: readonly AddressRules[]): void {
    const next = new Map<string, AclRule[]>();
    for (const r of rules) {
      const id = `${r.action} ${r.key}`;
      if (r.acl.length > 0 && !next.has(id)) next.set(id, parseAcl(r.acl));
    }
    this.#rules = next;
  }

  admit(req: AdmissionRequest): AdmissionDecision {
    const rules = this.#rules.get(`${req.action} ${req.key}`);
    if (!rules) return allow();
    const address = req.remote?.hostname ?? "";
    const why = aclRefusal(rules, address);
    if (why === undefined) return allow();
    const who = address === "" ? "a client with no address" : `address ${address}`;
    const verb = req.action === AdmissionAction.Publish ? "publish" : "play";
    return deny(`${who} may not ${verb} ${req.key} (${why})`, DenyKind.Forbidden);
  }
}
