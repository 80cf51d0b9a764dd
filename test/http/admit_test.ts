import { assertEquals, assertMatch, assertThrows } from "../_util/assert.ts";
import { admissionRequest, admitHttp, DENY_STATUS, refusalResponse } from "../../src/http/admit.ts";
import {
  AdmissionAction,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
  redirect,
  refusalText,
} from "../../src/hub/admission.ts";
import { ProtocolError } from "../../src/errors.ts";
import { Protocol } from "../../src/hub/session_kind.ts";

const REMOTE: Deno.NetAddr = { transport: "tcp", hostname: "10.1.2.3", port: 5555 };

Deno.test("admissionRequest() describes an HTTP request: action, protocol, app, name, query, remote, page", () => {
  const req = new Request("http://h/live/cam.flv?token=abc&x=1", {
    headers: { origin: "https://site.example" },
  });
  const got = admissionRequest(req, {
    action: AdmissionAction.Play,
    protocol: Protocol.HttpFlv,
    key: "live/cam",
    remote: REMOTE,
    sessionId: "7",
  });
  assertEquals(got, {
    action: "play",
    protocol: "http-flv",
    app: "live",
    name: "cam",
    key: "live/cam",
    remote: { hostname: "10.1.2.3", port: 5555 },
    query: { token: "abc", x: "1" },
    pageUrl: "https://site.example",
    sessionId: "7",
  });
});

Deno.test("admissionRequest() takes the Referer as page URL when there is no Origin, and none without either", () => {
  const what = { action: AdmissionAction.Publish, protocol: Protocol.HttpPush, key: "live/cam" };
  const referred = new Request("http://h/live/cam", { headers: { referer: "https://a.example/page" } });
  assertEquals(admissionRequest(referred, what).pageUrl, "https://a.example/page");
  const bare = admissionRequest(new Request("http://h/live/cam"), what);
  assertEquals([bare.pageUrl, bare.remote, bare.query], [undefined, undefined, {}]);
});

Deno.test("admissionRequest() throws ProtocolError for a query past the gate's bounds", () => {
  const long = "a=" + "x".repeat(5000);
  const req = new Request(`http://h/live/cam.flv?${long}`);
  assertThrows(
    () =>
      admissionRequest(req, { action: AdmissionAction.Play, protocol: Protocol.HttpFlv, key: "live/cam" }),
    ProtocolError,
  );
});

Deno.test("admitHttp() asks the hub's gate with the request's description", async () => {
  const seen: AdmissionRequest[] = [];
  const hub = {
    admit: (r: AdmissionRequest) => {
      seen.push(r);
      return Promise.resolve(deny("nope"));
    },
  };
  const d = await admitHttp(hub, new Request("http://h/live/cam.flv"), {
    action: AdmissionAction.Play,
    protocol: Protocol.WsFlv,
    key: "live/cam",
  });
  assertEquals(d, deny("nope"));
  assertEquals(seen.map((r) => [r.protocol, r.key]), [["ws-flv", "live/cam"]]);
});

Deno.test("refusalResponse() maps deny kinds to 401, 403, 503 and 400 with a JSON reason", async () => {
  for (const kind of [DenyKind.Unauthorized, DenyKind.Forbidden, DenyKind.Unavailable, DenyKind.Malformed]) {
    const res = refusalResponse(deny(`because ${kind}`, kind), "Cannot play live/cam");
    assertEquals(res.status, DENY_STATUS[kind]);
    assertEquals(await res.json(), { error: `Cannot play live/cam: because ${kind}` });
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
  }
  assertEquals(Object.values(DENY_STATUS), [401, 403, 503, 400]);
});

Deno.test("refusalResponse() sends Retry-After in whole seconds, rounded up, when the deny has retryAfterS", async () => {
  const res = refusalResponse(deny("bandwidth full", DenyKind.Unavailable, 4.2), "Cannot play live/cam");
  assertEquals(res.status, 503);
  assertEquals(res.headers.get("retry-after"), "5");
  assertEquals(res.headers.get("access-control-expose-headers"), "retry-after", "a web player may read it");
  assertEquals(await res.json(), { error: "Cannot play live/cam: bandwidth full" });
  assertEquals(
    refusalResponse(deny("x", DenyKind.Unavailable, 0), "Cannot play a/b").headers.get("retry-after"),
    "0",
  );
  const plain = refusalResponse(deny("players 2 of 2", DenyKind.Unavailable), "Cannot play live/cam");
  assertEquals([plain.headers.get("retry-after"), plain.headers.get("access-control-expose-headers")], [
    null,
    null,
  ]);
  await plain.body?.cancel();
});

Deno.test("refusalResponse() answers a redirect with 302 and Location; an allow is misuse", () => {
  const res = refusalResponse(redirect("http://other.example/live/cam.flv"), "Cannot play live/cam");
  assertEquals([res.status, res.headers.get("location")], [302, "http://other.example/live/cam.flv"]);
  assertThrows(() => refusalResponse(allow(), "Cannot play live/cam"), TypeError);
});

Deno.test("refusalText() is the one line a refusal is logged and told with", () => {
  assertEquals(refusalText(deny("no key", DenyKind.Unauthorized)), "denied: no key");
  assertEquals(refusalText(redirect("rtmp://b/live")), "redirected: rtmp://b/live");
  assertMatch(refusalText(allow()), /allowed/);
});

Deno.test("refusalResponse() sends WWW-Authenticate with a 401, and none with a 403", async () => {
  const unauthorized = refusalResponse(deny("missing key", DenyKind.Unauthorized), "Cannot publish live/cam");
  assertEquals(unauthorized.status, 401);
  assertEquals(unauthorized.headers.get("www-authenticate"), 'Bearer realm="sluice"');
  await unauthorized.body?.cancel();
  const forbidden = refusalResponse(deny("no grant"), "Cannot play live/cam");
  assertEquals(forbidden.status, 403);
  assertEquals(forbidden.headers.get("www-authenticate"), null);
  await forbidden.body?.cancel();
});

Deno.test("admissionRequest() passes an Authorization: Bearer token as the query's token, the URL's winning", () => {
  const what = { action: AdmissionAction.Play, protocol: Protocol.HttpFlv, key: "live/cam" };
  const bearer = new Request("http://h/live/cam.flv", { headers: { authorization: "Bearer abc.def.ghi" } });
  assertEquals(admissionRequest(bearer, what).query, { token: "abc.def.ghi" });
  const both = new Request("http://h/live/cam.flv?token=url", {
    headers: { authorization: "Bearer header" },
  });
  assertEquals(admissionRequest(both, what).query, { token: "url" });
  const basic = new Request("http://h/live/cam.flv", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
  assertEquals(admissionRequest(basic, what).query, {});
});
