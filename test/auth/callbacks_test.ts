import { assert, assertEquals, assertMatch, assertThrows } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import {
  CALLBACK_BUDGET_SLACK_MS,
  CALLBACK_REASON_MAX_CHARS,
  callbackBudgetMs,
  CallbackPolicy,
  type CallbackSettings,
  postCallback,
} from "../../src/auth/callbacks.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  DecisionKind,
} from "../../src/hub/admission.ts";
import { Protocol } from "../../src/hub/session_kind.ts";

/** One POST the callback server got. */
interface Hit {
  path: string;
  body: Record<string, unknown>;
  /** Aborts when the client gave up on it. */
  signal: AbortSignal;
}

/**
 * A callback server on 127.0.0.1 port 0 answering as the test scripts it, by path; `hang()` makes an
 * answer wait until close() (or until the client gives up).
 */
class Hooks {
  readonly hits: Hit[] = [];
  answer: (hit: Hit) => Response | Promise<Response> = () => new Response(null, { status: 200 });
  #server: Deno.HttpServer;
  #released = Promise.withResolvers<void>();

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const hit = { path: new URL(req.url).pathname, body: await req.json(), signal: req.signal };
      this.hits.push(hit);
      return this.answer(hit);
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.addr as Deno.NetAddr).port}${path}`;
  }

  /** An answer that waits until close() or until the client gives up, then says 200. */
  async hang(hit: Hit): Promise<Response> {
    const gone = new Promise<void>((resolve) => hit.signal.addEventListener("abort", () => resolve()));
    await Promise.race([this.#released.promise, gone]);
    return new Response(null, { status: 200 });
  }

  paths(): string[] {
    return this.hits.map((h) => h.path);
  }

  async close(): Promise<void> {
    this.#released.resolve();
    await this.#server.shutdown();
  }
}

function settings(hooks: Hooks, over: Partial<CallbackSettings> = {}): CallbackSettings {
  return {
    onConnect: null,
    onPublish: hooks.url("/publish"),
    onPlay: hooks.url("/play"),
    callbackTimeoutMs: 5_000,
    callbackCacheMs: 0,
    ...over,
  };
}

function request(over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    action: AdmissionAction.Publish,
    protocol: Protocol.Rtmp,
    app: "live",
    name: "cam",
    key: "live/cam",
    remote: { hostname: "192.0.2.7", port: 50122 },
    query: { token: "t0k3n" },
    tcUrl: "rtmp://example.test/live",
    sessionId: "7",
    ...over,
  };
}

const NEVER = new AbortController().signal;

function denial(d: AdmissionDecision): [string, string] | string {
  return d.kind === DecisionKind.Deny ? [d.deny, d.reason] : d.kind;
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function withHooks(fn: (hooks: Hooks) => Promise<void>): Promise<void> {
  const hooks = new Hooks();
  try {
    await fn(hooks);
  } finally {
    await hooks.close();
  }
}

Deno.test("CallbackPolicy.admit() POSTs who, what and where as JSON, and a 2xx allows", () =>
  withHooks(async (hooks) => {
    const policy = new CallbackPolicy(settings(hooks));
    const d = await policy.admit(request({ pageUrl: "https://site.test/page" }), NEVER);
    assertEquals(d.kind, DecisionKind.Allow);
    assertEquals(hooks.paths(), ["/publish"]);
    const { time, ...body } = hooks.hits[0].body;
    assertEquals(body, {
      action: "on_publish",
      protocol: "rtmp",
      app: "live",
      stream: "cam",
      key: "live/cam",
      query: { token: "t0k3n" },
      address: "192.0.2.7",
      port: 50122,
      tcUrl: "rtmp://example.test/live",
      pageUrl: "https://site.test/page",
      sessionId: "7",
    });
    assert(!Number.isNaN(Date.parse(String(time))), `time is ${time}`);
    const play = await policy.admit(
      request({
        action: AdmissionAction.Play,
        protocol: Protocol.HttpFlv,
        remote: undefined,
        tcUrl: undefined,
      }),
      NEVER,
    );
    assertEquals(play.kind, DecisionKind.Allow);
    const sent = hooks.hits[1];
    assertEquals(sent.path, "/play");
    assertEquals([sent.body.action, sent.body.protocol, sent.body.address, sent.body.port, sent.body.tcUrl], [
      "on_play",
      "http-flv",
      null,
      null,
      null,
    ]);
  }));

Deno.test("CallbackPolicy.admit() denies a 401 as Unauthorized and other 4xx as Forbidden, with the reason", () =>
  withHooks(async (hooks) => {
    const answers = [
      new Response(JSON.stringify({ reason: "banned\nfor\tspam" }), { status: 403 }),
      new Response("no such token", { status: 401 }),
      new Response(null, { status: 404 }),
      new Response(JSON.stringify({ code: 1 }), { status: 400 }),
      new Response("x".repeat(5000), { status: 403 }),
    ];
    hooks.answer = () => answers.shift()!;
    const policy = new CallbackPolicy(settings(hooks));
    const got: ([string, string] | string)[] = [];
    for (let i = 0; i < 5; i++) got.push(denial(await policy.admit(request(), NEVER)));
    assertEquals(got, [
      ["forbidden", "banned for spam"],
      ["unauthorized", "no such token"],
      ["forbidden", "callback on_publish refused with 404"],
      ["forbidden", "callback on_publish refused with 400"],
      ["forbidden", "x".repeat(CALLBACK_REASON_MAX_CHARS)],
    ]);
  }));

Deno.test("CallbackPolicy.admit() denies a 5xx or a 3xx as Unavailable and warns once per 10 s with a count", () =>
  withHooks(async (hooks) => {
    const answers = [500, 502, 302];
    hooks.answer = () =>
      new Response(null, { status: answers.shift()!, headers: { location: hooks.url("/elsewhere") } });
    const log = new RecordingLogger();
    let now = 1_000_000;
    const policy = new CallbackPolicy(settings(hooks, { onPublish: hooks.url("/publish?secret=s3cr3t") }), {
      log,
      clock: () => now,
    });
    assertEquals(denial(await policy.admit(request(), NEVER)), [
      "unavailable",
      "callback on_publish failed: answered 500",
    ]);
    assertEquals(denial(await policy.admit(request(), NEVER)), [
      "unavailable",
      "callback on_publish failed: answered 502",
    ]);
    now += 10_000;
    assertEquals(denial(await policy.admit(request(), NEVER)), [
      "unavailable",
      "callback on_publish failed: answered 302",
    ]);
    assertEquals(hooks.paths(), ["/publish", "/publish", "/publish"], "the redirect was followed");
    assertEquals(log.lines.map((l) => [l.level, l.msg]), [
      ["warn", `callback on_publish to ${hooks.url("/publish")} failed: answered 500`],
      [
        "warn",
        `callback on_publish to ${
          hooks.url("/publish")
        } failed: answered 302 (2 callback failures since the last warning)`,
      ],
    ]);
    assertEquals(policy.failures, 3);
  }));

Deno.test("CallbackPolicy.admit() denies when the callback server is down, naming neither its URL nor query", async () => {
  const url = `http://127.0.0.1:${closedPort()}/hook?secret=s3cr3t`;
  const log = new RecordingLogger();
  const policy = new CallbackPolicy({
    onConnect: null,
    onPublish: url,
    onPlay: null,
    callbackTimeoutMs: 5_000,
    callbackCacheMs: 0,
  }, { log });
  const d = await policy.admit(request(), NEVER);
  assertEquals(denial(d), ["unavailable", "callback on_publish failed: connection refused"]);
  assertEquals(log.lines.length, 1);
  assertMatch(
    log.lines[0].msg,
    /^callback on_publish to http:\/\/127\.0\.0\.1:\d+\/hook failed: connection refused/,
  );
  assert(!log.lines[0].msg.includes("s3cr3t"), log.lines[0].msg);
});

Deno.test("CallbackPolicy.admit() denies past callbackTimeoutMs while other requests are answered", () =>
  withHooks(async (hooks) => {
    hooks.answer = (hit) =>
      hit.body.stream === "slow" ? hooks.hang(hit) : new Response(null, { status: 204 });
    const log = new RecordingLogger();
    const policy = new CallbackPolicy(settings(hooks, { callbackTimeoutMs: 300 }), { log });
    const slow = policy.admit(request({ name: "slow", key: "live/slow" }), NEVER);
    let slowDone = false;
    Promise.resolve(slow).then(() => slowDone = true);
    const other = await policy.admit(request({ action: AdmissionAction.Play }), NEVER);
    assertEquals(other.kind, DecisionKind.Allow);
    assert(!slowDone, "the hung callback was answered before the other one");
    assertEquals(denial(await slow), ["unavailable", "callback on_publish failed: no answer within 300 ms"]);
    await waitFor(() => hooks.hits[0].signal.aborted, "the timed-out request ended at the callback server");
    assertEquals(log.lines.map((l) => l.msg), [
      `callback on_publish to ${hooks.url("/publish")} failed: no answer within 300 ms`,
    ]);
  }));

Deno.test("CallbackPolicy.admit() ends its callback when the hub's signal aborts", () =>
  withHooks(async (hooks) => {
    hooks.answer = (hit) => hooks.hang(hit);
    const log = new RecordingLogger();
    const policy = new CallbackPolicy(settings(hooks), { log });
    const ctl = new AbortController();
    const answer = policy.admit(request(), ctl.signal);
    await waitFor(() => hooks.hits.length === 1, "the callback at the server");
    ctl.abort(new DOMException("gave up", "TimeoutError"));
    assertEquals(denial(await answer), [
      "unavailable",
      "callback on_publish failed: the admission gate stopped waiting",
    ]);
    assertEquals(policy.inFlight, 0);
    assertEquals(log.lines, [], "the hub's own timeout was warned twice");
    assertEquals(denial(await policy.admit(request(), ctl.signal))[0], "unavailable");
    assertEquals(hooks.hits.length, 1, "a callback was sent for an aborted request");
  }));

Deno.test("CallbackPolicy.admit() asks on_connect once per RTMP session, first, and skips it for HTTP", () =>
  withHooks(async (hooks) => {
    const policy = new CallbackPolicy(settings(hooks, { onConnect: hooks.url("/connect") }));
    assertEquals((await policy.admit(request(), NEVER)).kind, DecisionKind.Allow);
    assertEquals(
      (await policy.admit(request({ action: AdmissionAction.Play }), NEVER)).kind,
      DecisionKind.Allow,
    );
    assertEquals(
      (await policy.admit(request({ protocol: Protocol.HttpFlv, sessionId: undefined }), NEVER)).kind,
      DecisionKind.Allow,
    );
    assertEquals(hooks.paths(), ["/connect", "/publish", "/play", "/publish"]);
    const { time: _, ...connect } = hooks.hits[0].body;
    assertEquals(connect, {
      action: "on_connect",
      protocol: "rtmp",
      app: "live",
      address: "192.0.2.7",
      port: 50122,
      tcUrl: "rtmp://example.test/live",
      pageUrl: null,
      sessionId: "7",
    });
  }));

Deno.test("CallbackPolicy.admit() refuses with on_connect's deny, kept for the session; a failure is asked again", () =>
  withHooks(async (hooks) => {
    const connects = [
      new Response(JSON.stringify({ reason: "not from here" }), { status: 403 }),
      new Response(null, { status: 503 }),
      new Response(null, { status: 200 }),
    ];
    hooks.answer = (hit) => hit.path === "/connect" ? connects.shift()! : new Response(null, { status: 200 });
    const policy = new CallbackPolicy(settings(hooks, { onConnect: hooks.url("/connect") }), {
      log: new RecordingLogger(),
    });
    assertEquals(denial(await policy.admit(request({ sessionId: "1" }), NEVER)), [
      "forbidden",
      "not from here",
    ]);
    assertEquals(denial(await policy.admit(request({ sessionId: "1" }), NEVER)), [
      "forbidden",
      "not from here",
    ]);
    assertEquals(denial(await policy.admit(request({ sessionId: "2" }), NEVER)), [
      "unavailable",
      "callback on_connect failed: answered 503",
    ]);
    assertEquals((await policy.admit(request({ sessionId: "2" }), NEVER)).kind, DecisionKind.Allow);
    assertEquals(hooks.paths(), ["/connect", "/connect", "/connect", "/publish"]);
  }));

Deno.test("CallbackPolicy.admit() reuses an answer for callbackCacheMs, synchronously, by action, key, host and query", () =>
  withHooks(async (hooks) => {
    const answers = [200, 403, 500, 200, 200];
    hooks.answer = () => new Response(null, { status: answers.shift()! });
    let now = 1_000_000;
    const policy = new CallbackPolicy(settings(hooks, { callbackCacheMs: 60_000 }), {
      clock: () => now,
      log: new RecordingLogger(),
    });
    assertEquals((await policy.admit(request(), NEVER)).kind, DecisionKind.Allow);
    const cached = policy.admit(
      request({ sessionId: "8", remote: { hostname: "192.0.2.7", port: 1 } }),
      NEVER,
    );
    assert(!(cached instanceof Promise), "a cached answer was not given at once");
    assertEquals(cached.kind, DecisionKind.Allow);
    assertEquals(hooks.hits.length, 1);
    const other = request({ query: { token: "other" } });
    assertEquals(denial(await policy.admit(other, NEVER)), [
      "forbidden",
      "callback on_publish refused with 403",
    ]);
    assertEquals(
      denial(policy.admit(other, NEVER) as AdmissionDecision)[0],
      "forbidden",
      "a deny is an answer",
    );
    const elsewhere = request({ remote: { hostname: "192.0.2.8", port: 1 } });
    assertEquals(denial(await policy.admit(elsewhere, NEVER))[0], "unavailable");
    assertEquals((await policy.admit(elsewhere, NEVER)).kind, DecisionKind.Allow, "a failure was cached");
    now += 60_000;
    assertEquals((await policy.admit(request(), NEVER)).kind, DecisionKind.Allow);
    assertEquals(hooks.hits.length, 5, "an expired answer was reused");
  }));

Deno.test("CallbackPolicy keeps at most maxCacheEntries answers, dropping the least recently used", () =>
  withHooks(async (hooks) => {
    const policy = new CallbackPolicy(settings(hooks, { callbackCacheMs: 60_000 }), { maxCacheEntries: 2 });
    const a = request({ name: "a", key: "live/a" });
    const b = request({ name: "b", key: "live/b" });
    const c = request({ name: "c", key: "live/c" });
    await policy.admit(a, NEVER);
    await policy.admit(b, NEVER);
    assert(!(policy.admit(a, NEVER) instanceof Promise)); // a is now the most recently used
    await policy.admit(c, NEVER); // evicts b
    assert(!(policy.admit(a, NEVER) instanceof Promise), "a was evicted");
    assert(!(policy.admit(c, NEVER) instanceof Promise), "c was evicted");
    const asked = policy.admit(b, NEVER);
    assert(asked instanceof Promise, "b was kept past the bound");
    await asked;
  }));

Deno.test("CallbackPolicy.admit() denies past maxInFlight callbacks without sending one", () =>
  withHooks(async (hooks) => {
    hooks.answer = (hit) => hooks.hang(hit);
    const policy = new CallbackPolicy(settings(hooks), { maxInFlight: 1, log: new RecordingLogger() });
    const ctl = new AbortController();
    const first = policy.admit(request(), ctl.signal);
    await waitFor(() => hooks.hits.length === 1, "the first callback at the server");
    assertEquals(denial(await policy.admit(request({ name: "b", key: "live/b" }), NEVER)), [
      "unavailable",
      "callback on_publish failed: too many callbacks in flight (limit 1)",
    ]);
    ctl.abort();
    await first;
    assertEquals(hooks.hits.length, 1);
  }));

Deno.test("CallbackPolicy.admit() allows at once, asking nothing, when no callback applies", () =>
  withHooks(async (hooks) => {
    const policy = new CallbackPolicy(settings(hooks, { onPlay: null, onConnect: hooks.url("/connect") }));
    const play = policy.admit(request({ action: AdmissionAction.Play, protocol: Protocol.WsFlv }), NEVER);
    assert(!(play instanceof Promise), "a play with no callback waited");
    assertEquals(play.kind, DecisionKind.Allow);
    const none = new CallbackPolicy(settings(hooks, { onPublish: null, onPlay: null }));
    assertEquals((none.admit(request(), NEVER) as AdmissionDecision).kind, DecisionKind.Allow);
    assertEquals(hooks.hits.length, 0);
    await Promise.resolve();
  }));

Deno.test("CallbackPolicy.admit() redirects on a 2xx with a redirect URL, and ignores one it cannot send to", () =>
  withHooks(async (hooks) => {
    const bodies = [{ redirect: "rtmp://edge2.test/live/cam" }, { redirect: "javascript:alert(1)" }, [1]];
    hooks.answer = () => Response.json(bodies.shift());
    const policy = new CallbackPolicy(settings(hooks));
    assertEquals(await policy.admit(request(), NEVER), {
      kind: DecisionKind.Redirect,
      url: "rtmp://edge2.test/live/cam",
    });
    assertEquals((await policy.admit(request(), NEVER)).kind, DecisionKind.Allow);
    assertEquals((await policy.admit(request(), NEVER)).kind, DecisionKind.Allow);
  }));

Deno.test("CallbackPolicy.update() takes new URLs and forgets cached answers; a bad URL changes nothing", () =>
  withHooks(async (hooks) => {
    const policy = new CallbackPolicy(settings(hooks, { callbackCacheMs: 60_000 }));
    await policy.admit(request(), NEVER);
    assertThrows(
      () => policy.update(settings(hooks, { onPublish: "ftp://x/" })),
      TypeError,
      "auth.onPublish",
    );
    assertThrows(() => policy.update(settings(hooks, { callbackTimeoutMs: 0 })), RangeError);
    assert(!(policy.admit(request(), NEVER) instanceof Promise), "a refused update forgot the cache");
    policy.update(settings(hooks, { callbackCacheMs: 60_000, onPublish: hooks.url("/publish2") }));
    assertEquals((await policy.admit(request(), NEVER)).kind, DecisionKind.Allow);
    assertEquals(hooks.paths(), ["/publish", "/publish2"]);
    assertThrows(
      () => new CallbackPolicy(settings(hooks, { onPlay: "not a url" })),
      TypeError,
      "auth.onPlay",
    );
  }));

Deno.test("postCallback() reads at most 4 KiB of an answer and never rejects", () =>
  withHooks(async (hooks) => {
    hooks.answer = () => new Response("y".repeat(100_000), { status: 200 });
    const r = await postCallback(hooks.url("/big"), { a: 1 }, { timeoutMs: 5_000, readBody: true });
    assertEquals(r.kind === "answered" && [r.status, r.body.length], [200, 4096]);
    const skipped = await postCallback(hooks.url("/big"), { a: 1 }, { timeoutMs: 5_000 });
    assertEquals(skipped.kind === "answered" && skipped.body, "");
    assertEquals(hooks.hits.map((h) => h.body), [{ a: 1 }, { a: 1 }]);
  }));

Deno.test("callbackBudgetMs() fits on_connect then on_publish/on_play, and is 0 with no admitting callback", () => {
  const none = { onConnect: null, onPublish: null, onPlay: null, callbackTimeoutMs: 3000 };
  assertEquals(callbackBudgetMs(none), 0);
  assertEquals(callbackBudgetMs({ ...none, onPlay: "http://a/" }), 3000 + CALLBACK_BUDGET_SLACK_MS);
  assertEquals(
    callbackBudgetMs({ ...none, onConnect: "http://a/", onPublish: "http://a/", onPlay: "http://a/" }),
    6000 + CALLBACK_BUDGET_SLACK_MS,
  );
});
