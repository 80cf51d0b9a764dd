import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "../_util/assert.ts";
import {
  avcKeyframe,
  avcSequenceHeader,
  FakePacker,
  FakePublisher,
  FakeSink,
  limits,
  ManualAdmission,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import { ProtocolError } from "../../src/errors.ts";
import {
  type Admission,
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  allowAll,
  DecisionKind,
  deny,
  DenyKind,
  isDecision,
  MASK,
  maskQuery,
  MAX_QUERY_LENGTH,
  MAX_QUERY_PARAMS,
  parseQuery,
  redirect,
  splitStreamName,
} from "../../src/hub/admission.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { StreamHub, type StreamHubOptions } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";
import { FrameKind } from "../../src/media/frame.ts";

/** Deno.test with the op sanitizer on, so a test fails when an admission timer is left running. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true });
}

function newHub(options: StreamHubOptions = {}): { hub: StreamHub; log: RecordingLogger } {
  const log = new RecordingLogger();
  // Merge window 0: a publisher's frames are flushed in a microtask, so settle() sees them written.
  return { hub: new StreamHub(makeConfig({ hub: { mergeWindowMs: 0 } }).hub, log, options), log };
}

function request(over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    action: AdmissionAction.Publish,
    protocol: Protocol.Rtmp,
    app: "live",
    name: "cam1",
    key: "live/cam1",
    remote: { hostname: "127.0.0.1", port: 50312 },
    query: { token: "abc" },
    ...over,
  };
}

const warnings = (log: RecordingLogger) => log.lines.filter((l) => l.level === "warn").map((l) => l.msg);

// ---- the decision helpers

Deno.test("allow(), deny() and redirect() build the three decisions; deny() defaults to Forbidden", () => {
  assertEquals(allow(), { kind: DecisionKind.Allow });
  assertEquals(deny("bad key"), { kind: DecisionKind.Deny, reason: "bad key", deny: DenyKind.Forbidden });
  assertEquals(deny("no token", DenyKind.Unauthorized), {
    kind: DecisionKind.Deny,
    reason: "no token",
    deny: DenyKind.Unauthorized,
  });
  assertEquals(redirect("rtmp://edge2/live/cam1"), {
    kind: DecisionKind.Redirect,
    url: "rtmp://edge2/live/cam1",
  });
});

Deno.test("deny() carries retryAfterS when given, and refuses one that is not a number of seconds 0 or more", () => {
  assertEquals(deny("bandwidth full", DenyKind.Unavailable, 5), {
    kind: DecisionKind.Deny,
    reason: "bandwidth full",
    deny: DenyKind.Unavailable,
    retryAfterS: 5,
  });
  assertEquals(deny("x", DenyKind.Unavailable, 0).kind, DecisionKind.Deny);
  assertEquals("retryAfterS" in deny("x"), false, "no retryAfterS key when none was given");
  const e = assertThrows(() => deny("x", DenyKind.Unavailable, -1), RangeError);
  assertEquals(e.message, "Cannot deny with retryAfterS: -1, expected a number of seconds 0 or more");
  assertThrows(() => deny("x", DenyKind.Unavailable, Number.NaN), RangeError);
  assertThrows(() => deny("x", DenyKind.Unavailable, Infinity), RangeError);
});

Deno.test("allowAll.admit() allows everything at once", () => {
  assertEquals(allowAll.admit(request(), new AbortController().signal), allow());
});

Deno.test("isDecision() accepts the three decisions and refuses anything else", () => {
  for (const d of [allow(), deny("x"), deny("x", DenyKind.Unavailable, 2.5), redirect("u")]) {
    assert(isDecision(d));
  }
  for (
    const bad of [undefined, null, "allow", {}, { kind: "maybe" }, { kind: "deny", reason: "x" }, {
      kind: "deny",
      reason: "x",
      deny: "nope",
    }, { kind: "redirect" }]
  ) {
    assertEquals(isDecision(bad), false, JSON.stringify(bad));
  }
});

Deno.test("isDecision() refuses a deny whose retryAfterS is not a number of seconds 0 or more", () => {
  for (const retryAfterS of [-1, "5", Number.NaN, Infinity, null]) {
    const d = { kind: "deny", reason: "x", deny: "unavailable", retryAfterS };
    assertEquals(isDecision(d), false, String(retryAfterS));
  }
});

test("StreamHub.admit() passes a policy's retryAfterS through, and refuses a malformed one as a policy failure", async () => {
  const { hub } = newHub({ admission: { admit: () => deny("bandwidth full", DenyKind.Unavailable, 5) } });
  assertEquals(await hub.admit(request()), deny("bandwidth full", DenyKind.Unavailable, 5));
  hub.admission = {
    admit: () => ({ kind: "deny", reason: "x", deny: "unavailable", retryAfterS: -3 }) as AdmissionDecision,
  };
  const d = await hub.admit(request());
  assert(d.kind === DecisionKind.Deny);
  assertMatch(d.reason, /^admission policy failed: answered .*not a decision$/);
  assertEquals(d.retryAfterS, undefined);
  hub.stop();
});

Deno.test("splitStreamName() splits an RTMP stream name at its first '?' and decodes the query", () => {
  assertEquals(splitStreamName("cam1"), { name: "cam1", query: {} });
  assertEquals(splitStreamName("cam1?key=abc&sign=a%20b"), {
    name: "cam1",
    query: { key: "abc", sign: "a b" },
  });
  assertEquals(splitStreamName("cam1?a=1&a=2").query, { a: "1" }, "the first of repeated parameters wins");
  assertEquals(splitStreamName("cam1?x=1?y=2").query, { x: "1?y=2" });
  const odd = parseQuery("__proto__=p&constructor=c");
  assertEquals(Object.keys(odd), ["__proto__", "constructor"]);
  assertEquals(Object.getPrototypeOf(odd), Object.prototype, "a __proto__ parameter is a plain key");
});

Deno.test("parseQuery() refuses a query over MAX_QUERY_LENGTH or MAX_QUERY_PARAMS with ProtocolError", () => {
  const long = assertThrows(() => parseQuery("k=" + "v".repeat(MAX_QUERY_LENGTH)), ProtocolError);
  assertEquals(
    long.message,
    `Cannot read stream query: ${MAX_QUERY_LENGTH + 2} characters, limit ${MAX_QUERY_LENGTH}`,
  );
  const many = Array.from({ length: MAX_QUERY_PARAMS + 1 }, (_, i) => `p${i}=1`).join("&");
  const e = assertThrows(() => parseQuery(many), ProtocolError);
  assertEquals(e.code, "query");
  assertEquals(
    Object.keys(parseQuery(many.split("&").slice(0, MAX_QUERY_PARAMS).join("&"))).length,
    MAX_QUERY_PARAMS,
  );
});

// ---- StreamHub.admit()

test("StreamHub.admit() allows by default", async () => {
  const { hub, log } = newHub();
  assertEquals(await hub.admit(request()), allow());
  assertEquals(log.lines, [], "allows are not logged");
  hub.stop();
});

test("StreamHub.admit() hands the policy the request and a live signal, and returns its deny untouched", async () => {
  const seen: { req: AdmissionRequest; aborted: boolean }[] = [];
  const policy: Admission = {
    admit(req, signal) {
      seen.push({ req, aborted: signal.aborted });
      return Promise.resolve(deny(`no publishing to ${req.key}`, DenyKind.Unauthorized));
    },
  };
  const { hub, log } = newHub({ admission: policy });
  const req = request();
  assertEquals(await hub.admit(req), deny("no publishing to live/cam1", DenyKind.Unauthorized));
  assertStrictEquals(seen[0].req, req);
  assertEquals(seen[0].aborted, false);
  assertEquals(log.lines, [], "ordinary denies are not logged: the edge logs its close reason");
  hub.stop();
});

test("StreamHub.admit() returns a redirect and a synchronous answer as they are", async () => {
  const { hub } = newHub({ admission: { admit: () => redirect("rtmp://other/live/cam1") } });
  assertEquals(await hub.admit(request()), redirect("rtmp://other/live/cam1"));
  hub.stop();
});

test("StreamHub.admission can be swapped: the next admit asks the new policy", async () => {
  const { hub } = newHub();
  assertEquals((await hub.admit(request())).kind, DecisionKind.Allow);
  hub.admission = { admit: () => deny("closed for maintenance", DenyKind.Unavailable) };
  assertEquals(await hub.admit(request()), deny("closed for maintenance", DenyKind.Unavailable));
  hub.stop();
});

test("StreamHub.admit() turns a throwing policy into an Unavailable deny and warns once", async () => {
  const { hub, log } = newHub({
    admission: {
      admit() {
        throw new Error("key database offline");
      },
    },
  });
  const d = await hub.admit(request());
  assertEquals(d, deny("admission policy failed: key database offline", DenyKind.Unavailable));
  assertEquals(await hub.admit(request()), d);
  const warns = warnings(log);
  assertEquals(warns.length, 1, "rate-limited: one warning for two failures");
  assertMatch(warns[0], /admission policy failed: key database offline/);
  hub.stop();
});

test("StreamHub.admit() turns a rejecting policy and a non-decision answer into Unavailable denies", async () => {
  const { hub } = newHub({ admission: { admit: () => Promise.reject(new TypeError("fetch failed")) } });
  assertEquals(
    await hub.admit(request()),
    deny("admission policy failed: fetch failed", DenyKind.Unavailable),
  );
  hub.admission = { admit: () => ({ kind: "perhaps" }) as unknown as AdmissionDecision };
  const d = await hub.admit(request());
  assert(d.kind === DecisionKind.Deny);
  assertEquals(d.deny, DenyKind.Unavailable);
  assertMatch(d.reason, /^admission policy failed: answered \{"kind":"perhaps"\}, not a decision$/);
  hub.stop();
});

test("StreamHub.admit() denies a policy that never answers once admissionTimeoutMs passes, and aborts its signal", async () => {
  const policy = new ManualAdmission();
  const { hub, log } = newHub({ admission: policy, admissionTimeoutMs: 50 });
  const d = await hub.admit(request());
  assertEquals(d, deny("admission policy gave no answer within 50 ms", DenyKind.Unavailable));
  assertEquals(policy.signals[0].aborted, true);
  assertEquals((policy.signals[0].reason as DOMException).name, "TimeoutError");
  assertEquals(warnings(log).length, 1);
  policy.answer(allow()); // a late answer is ignored
  await settle();
  assertEquals(warnings(log).length, 1);
  hub.stop();
});

test("StreamHub.admit() waiting on a slow policy delays neither another admit nor frames to an attached subscriber", async () => {
  const slow = new ManualAdmission();
  const { hub } = newHub({
    admission: { admit: (req, signal) => req.name === "slow" ? slow.admit(req, signal) : allow() },
  });
  const order: string[] = [];
  const slowAnswer = hub.admit(request({ name: "slow", key: "live/slow" })).then((d) => {
    order.push(`slow ${d.kind}`);
    return d;
  });
  await hub.admit(request()).then((d) => order.push(`fast ${d.kind}`));

  const stream = hub.publish("live/cam1", new FakePublisher());
  const sink = new FakeSink();
  const sub = new Subscriber("viewer", new FakePacker(), sink, limits(), new RecordingLogger());
  hub.attach("live/cam1", sub);
  stream.push(FrameKind.Video, 0, avcSequenceHeader());
  stream.push(FrameKind.Video, 0, avcKeyframe());
  await settle();
  order.push(`frames written ${sub.stats.framesSent}`);

  assertEquals(slow.waiting, 1, "the slow policy is still thinking");
  slow.answer(allow());
  assertEquals(await slowAnswer, allow());
  assertEquals(order, ["fast allow", "frames written 2", "slow allow"]);
  hub.stop();
});

test("StreamHub.admit() past admissionMaxInFlight denies at once with the limit, as Unavailable", async () => {
  const policy = new ManualAdmission();
  const { hub } = newHub({ admission: policy, admissionMaxInFlight: 2 });
  const waiting = [hub.admit(request()), hub.admit(request())];
  const d = await hub.admit(request());
  assertEquals(
    d,
    deny("Cannot admit publish of live/cam1: 2 admissions in flight (limit 2)", DenyKind.Unavailable),
  );
  assertEquals(policy.requests.length, 2, "the third never reached the policy");
  policy.answer(allow());
  policy.answer(allow());
  assertEquals(await Promise.all(waiting), [allow(), allow()]);
  const again = hub.admit(request());
  assertEquals(policy.requests.length, 3, "with room again, the next one reaches the policy");
  policy.answer(allow());
  assertEquals(await again, allow());
  hub.stop();
});

test("StreamHub.stop() denies admissions still waiting and aborts their signals", async () => {
  const policy = new ManualAdmission();
  const { hub } = newHub({ admission: policy });
  const pending = hub.admit(request());
  hub.stop();
  assertEquals(await pending, deny("server stopping", DenyKind.Unavailable));
  assertEquals(policy.signals[0].aborted, true);
});

test("StreamHub refuses an admissionTimeoutMs or admissionMaxInFlight that is not positive", () => {
  const e = assertThrows(() => newHub({ admissionTimeoutMs: 0 }), RangeError);
  assertEquals(e.message, "Cannot create StreamHub: admissionTimeoutMs is 0, expected a positive number");
  assertThrows(() => newHub({ admissionMaxInFlight: -1 }), RangeError);
});

test("StreamHub.decide() answers a synchronous policy in the same turn, and an async one with a promise", async () => {
  const { hub } = newHub({ admission: { admit: (r) => r.name === "no" ? deny("no") : allow() } });
  const d = hub.decide(request());
  assert(!(d instanceof Promise), "a synchronous answer came back as a promise");
  assertEquals(d, allow());
  assertEquals(hub.decide(request({ name: "no" })), deny("no"));
  hub.admission = { admit: () => Promise.resolve(deny("later")) };
  const p = hub.decide(request());
  assert(p instanceof Promise, "an asynchronous answer came back synchronously");
  assertEquals(await p, deny("later"));
  hub.stop();
});

Deno.test("maskQuery() hides the values of key, sign, token, password, secret and auth in a URL", () => {
  assertEquals(
    maskQuery("rtmp://host/live/cam?key=SECRET&x=1&sign=abc-_123&token=a.b.c"),
    `rtmp://host/live/cam?key=${MASK}&x=1&sign=${MASK}&token=${MASK}`,
  );
  assertEquals(maskQuery("cam?password=p%40ss&auth=a"), "cam?password=***&auth=***");
  // A value runs to the next "&": a ";" inside it is hidden with it; one after a plain value starts a name.
  assertEquals(maskQuery("?secret=s;x=1&a=1;token=t"), "?secret=***&a=1;token=***");
  assertEquals(maskQuery("key=first&expires=1700000000"), "key=***&expires=1700000000", "a bare query");
  assertEquals(maskQuery("?KEY=x&Token=y"), "?KEY=***&Token=***", "in any case");
  assertEquals(maskQuery("?key=&sign="), "?key=***&sign=***", "an empty value too");
});

Deno.test("maskQuery() hides names ending in _key or -token, but not words that merely end the same", () => {
  assertEquals(
    maskQuery("?stream_key=a&access-token=b&api_secret=c"),
    "?stream_key=***&access-token=***&api_secret=***",
  );
  assertEquals(maskQuery("?monkey=1&turkey=2&signal=3&tokens=4"), "?monkey=1&turkey=2&signal=3&tokens=4");
  assertEquals(maskQuery("/live/key=abc"), "/live/key=abc", "a path segment is no parameter");
});

Deno.test("maskQuery() masks inside a log line, stopping each value at white space, a quote or a bracket", () => {
  assertEquals(
    maskQuery('127.0.0.1 - - [x] "GET /live/cam.flv?token=eyJ.eyJ.sig HTTP/1.1" 200 0 "-" "ffmpeg"'),
    '127.0.0.1 - - [x] "GET /live/cam.flv?token=*** HTTP/1.1" 200 0 "-" "ffmpeg"',
  );
  assertEquals(
    maskQuery('publish of live/cam refused: name cam?key=hunter2 from {"url":"http://h/live/cam?sign=xyz"}'),
    'publish of live/cam refused: name cam?key=*** from {"url":"http://h/live/cam?sign=***"}',
  );
  assertEquals(maskQuery("args: key=abc sign=def"), "args: key=*** sign=***", "after white space");
  assertEquals(maskQuery("<a href=?key=abc>"), "<a href=?key=***>");
  assertEquals(maskQuery("nothing to hide here"), "nothing to hide here");
});
