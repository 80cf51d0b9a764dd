/**
 * chain(): policies asked in order, the first answer that is not an allow
 * wins, asynchronous answers awaited, synchronous ones kept synchronous; and
 * a chain behind a real StreamHub.
 */
import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "../_util/assert.ts";
import { FakePolicy, ManualAdmission, RecordingLogger, settle } from "../_util/hub_fakes.ts";
import { chain, CHAIN_ABORTED_REASON } from "../../src/auth/chain.ts";
import { makeConfig } from "../../src/config/config.ts";
import {
  type Admission,
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
  redirect,
} from "../../src/hub/admission.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

/** Deno.test with the op sanitizer: no admission timer may outlive a test. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true });
}

const REQ: AdmissionRequest = {
  action: AdmissionAction.Play,
  protocol: Protocol.HttpFlv,
  app: "live",
  name: "cam",
  key: "live/cam",
  remote: { hostname: "10.0.0.7", port: 40000 },
  query: {},
};

const signal = () => new AbortController().signal;

/** A policy answering `d` at once. */
const answering = (d: AdmissionDecision) => new FakePolicy(() => d);
/** A policy answering `d` through a resolved promise. */
const later = (d: AdmissionDecision) => new FakePolicy(() => Promise.resolve(d));

test("chain() of no policies allows everything, synchronously", () => {
  assertEquals(chain().admit(REQ, signal()), allow());
});

test("chain().admit() answers with the first deny or redirect, and asks no policy after it", () => {
  const first = answering(allow());
  const denying = answering(deny("banned", DenyKind.Forbidden));
  const after = answering(redirect("rtmp://elsewhere/live/cam"));
  assertEquals(chain(first, denying, after).admit(REQ, signal()), deny("banned"));
  assertEquals([first.requests.length, denying.requests.length, after.requests.length], [1, 1, 0]);
  assertStrictEquals(first.requests[0], REQ, "each policy gets the request itself");
  assertEquals(chain(first, after, denying).admit(REQ, signal()), redirect("rtmp://elsewhere/live/cam"));
});

test("chain().admit() answers synchronously when every policy does", () => {
  const d = chain(answering(allow()), answering(allow())).admit(REQ, signal());
  assert(!(d instanceof Promise), "a chain of synchronous policies answered with a promise");
  assertEquals(d, allow());
  const refused = chain(answering(allow()), answering(deny("full", DenyKind.Unavailable))).admit(
    REQ,
    signal(),
  );
  assert(!(refused instanceof Promise));
  assertEquals(refused, deny("full", DenyKind.Unavailable));
});

test("chain().admit() awaits an asynchronous answer before asking the next policy", async () => {
  const slow = new ManualAdmission();
  const next = answering(deny("full", DenyKind.Unavailable, 5));
  const answer = chain(answering(allow()), slow, next).admit(REQ, signal());
  assert(answer instanceof Promise, "an asynchronous policy's chain answered synchronously");
  await settle();
  assertEquals(next.requests.length, 0, "the next policy was asked before the slow one answered");
  slow.answer(allow());
  assertEquals(await answer, deny("full", DenyKind.Unavailable, 5));
  assertEquals(next.requests.length, 1);
});

test("chain().admit() stops at an asynchronous deny, and allows when the last policy allows later", async () => {
  const after = answering(allow());
  assertEquals(await chain(later(deny("no token", DenyKind.Unauthorized)), after).admit(REQ, signal()), {
    kind: "deny",
    reason: "no token",
    deny: "unauthorized",
  });
  assertEquals(after.requests.length, 0);
  assertEquals(await chain(answering(allow()), later(allow())).admit(REQ, signal()), allow());
});

test("chain().admit() hands every policy the hub's signal and asks no more once it has aborted", async () => {
  const seen: AbortSignal[] = [];
  const recording: Admission = {
    admit: (_req, s) => {
      seen.push(s);
      return allow();
    },
  };
  const ctl = new AbortController();
  const slow = new ManualAdmission();
  const answer = chain(recording, slow, recording).admit(REQ, ctl.signal);
  assertStrictEquals(seen[0], ctl.signal);
  assertStrictEquals(slow.signals[0], ctl.signal);
  ctl.abort();
  slow.answer(allow());
  assertEquals(await answer, deny(CHAIN_ABORTED_REASON, DenyKind.Unavailable));
  assertEquals(seen.length, 1, "a policy was asked after the hub stopped waiting");
});

test("chain().admit() lets a policy's throw or rejection through", async () => {
  const throwing: Admission = {
    admit() {
      throw new Error("rules file unreadable");
    },
  };
  assertThrows(
    () => chain(answering(allow()), throwing).admit(REQ, signal()),
    Error,
    "rules file unreadable",
  );
  const rejecting: Admission = { admit: () => Promise.reject(new TypeError("fetch failed")) };
  await assertRejects(
    () => Promise.resolve(chain(later(allow()), rejecting).admit(REQ, signal())),
    TypeError,
    "fetch failed",
  );
});

test("chain() refuses an argument that is not a policy, with its place", () => {
  const e = assertThrows(() => chain(allowPolicy(), {} as Admission), TypeError);
  assertEquals(e.message, "Cannot chain policy 2 of 2: its admit is undefined");
  assertThrows(() => chain(undefined as unknown as Admission), TypeError);
});

test("chain() behind StreamHub: a deny reaches the edge, a throw becomes the hub's policy-failed deny", async () => {
  const hub = new StreamHub(makeConfig().hub, new RecordingLogger(), {
    admission: chain(
      allowPolicy(),
      answering(deny("players 2 of 2 (limits.maxPlayers)", DenyKind.Unavailable)),
    ),
  });
  const d = hub.decide(REQ);
  assert(!(d instanceof Promise), "the hub lost the chain's synchronous answer");
  assertEquals(d, deny("players 2 of 2 (limits.maxPlayers)", DenyKind.Unavailable));
  hub.admission = chain(allowPolicy(), {
    admit() {
      throw new Error("boom");
    },
  });
  assertEquals(await hub.admit(REQ), deny("admission policy failed: boom", DenyKind.Unavailable));
  hub.stop();
});

function allowPolicy(): Admission {
  return answering(allow());
}
