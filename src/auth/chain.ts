/**
 * chain(): several admission policies asked as one, e.g. the configured
 * access rules and then the limits: `hub.admission = chain(rules, limits)`.
 *
 * Policy:
 * - the policies are asked in order, each with the request and the hub's
 *   signal; the first answer that is not an allow (a deny, a redirect, or
 *   anything that is not a decision, which the hub then refuses as a policy
 *   failure) is the chain's answer, and the policies after it are not asked;
 *   when every one allows, the chain allows (an empty chain allows
 *   everything);
 * - an asynchronous answer is awaited before the next policy is asked; once
 *   the hub's signal has aborted (it stopped waiting), no further policy is
 *   asked;
 * - the synchronous fast path is kept: while the policies answer at once, so
 *   does the chain (`StreamHub.decide()` then answers an RTMP play in the same
 *   turn); a promise is returned only from the first asynchronous answer on;
 * - a policy that throws or rejects makes the chain throw or reject the same
 *   way: the hub turns that into its "admission policy failed" deny.
 *
 * @module
 */
import {
  type Admission,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  DecisionKind,
  deny,
  DenyKind,
} from "../hub/admission.ts";

/** The deny of a chain whose signal aborted between two policies (the hub has stopped waiting for it). */
export const CHAIN_ABORTED_REASON = "admission aborted before every policy answered";

/** The policies as one (see the module doc). TypeError for an argument that is not a policy. */
export function chain(...policies: Admission[]): Admission {
  policies.forEach((p, i) => {
    const admit = (p as Partial<Admission> | null | undefined)?.admit;
    if (typeof admit !== "function") {
      throw new TypeError(`Cannot chain policy ${i + 1} of ${policies.length}: its admit is ${typeof admit}`);
    }
  });
  const list: readonly Admission[] = [...policies];
  return Object.freeze({ admit: (req: AdmissionRequest, signal: AbortSignal) => ask(list, 0, req, signal) });
}

/** Asks `list[from]` onward; synchronous while the answers are. */
function ask(
  list: readonly Admission[],
  from: number,
  req: AdmissionRequest,
  signal: AbortSignal,
): AdmissionDecision | Promise<AdmissionDecision> {
  for (let i = from; i < list.length; i++) {
    const answer = list[i].admit(req, signal);
    if (isThenable(answer)) {
      return Promise.resolve(answer).then((d) => {
        if (!isAllow(d) || i + 1 === list.length) return d;
        if (signal.aborted) return deny(CHAIN_ABORTED_REASON, DenyKind.Unavailable);
        return ask(list, i + 1, req, signal);
      });
    }
    if (!isAllow(answer)) return answer;
  }
  return allow();
}

function isAllow(d: unknown): boolean {
  return typeof d === "object" && d !== null && (d as { kind?: unknown }).kind === DecisionKind.Allow;
}

/** A promise, or anything a policy in plain JavaScript returns that can be awaited like one. */
function isThenable(v: unknown): v is PromiseLike<AdmissionDecision> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}
