/**
 * makeHandler() as a pure `Request -> Response` function over small route
 * tables: first match wins, methods, WebSocket upgrades on `WS` routes only,
 * the preflight, the 404, and what a handler gets.
 */
import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { trustedProxiesOf } from "../../src/http/forwarded.ts";
import { makeHandler, type Route, type RouteMatch, WS } from "../../src/http/router.ts";

const BASE = "http://sluice.test";

/** A route that answers with its own name in the body and records each match. */
function named(name: string, methods: string[], path: RegExp, seen: RouteMatch[] = []): Route {
  return {
    methods,
    path,
    handle: (_req, m) => {
      seen.push(m);
      return new Response(name);
    },
  };
}

function req(path: string, init: RequestInit = {}): Request {
  return new Request(BASE + path, init);
}

function wsReq(path: string): Request {
  return req(path, { headers: { upgrade: "websocket", connection: "Upgrade" } });
}

async function who(res: Response | Promise<Response>): Promise<string> {
  return await (await res).text();
}

Deno.test("makeHandler() sends a request to the first route whose method and path match", async () => {
  const handle = makeHandler([
    named("first", ["GET"], /^\/a\/(\w+)$/),
    named("second", ["GET"], /^\/a\/b$/),
    named("any", ["GET"], /^\/.*$/),
  ]);
  assertEquals(await who(handle(req("/a/b"))), "first");
  assertEquals(await who(handle(req("/c"))), "any");
});

Deno.test("makeHandler() skips a route whose methods do not include the request's", async () => {
  const handle = makeHandler([
    named("post", ["POST", "PUT"], /^\/x$/),
    named("get", ["GET", "HEAD"], /^\/x$/),
  ]);
  assertEquals(await who(handle(req("/x"))), "get");
  assertEquals((await handle(req("/x", { method: "HEAD" }))).status, 200);
  assertEquals(await who(handle(req("/x", { method: "POST", body: "b" }))), "post");
  assertEquals(await who(handle(req("/x", { method: "PUT", body: "b" }))), "post");
});

Deno.test("makeHandler() matches the pattern against the whole path, without the query", async () => {
  const handle = makeHandler([named("x", ["GET"], /^\/x$/)]);
  assertEquals(await who(handle(req("/x?token=1"))), "x");
  assertEquals((await handle(req("/x/y"))).status, 404);
});

Deno.test("makeHandler() sends a WebSocket upgrade only to a WS route", async () => {
  const handle = makeHandler([
    named("get", ["GET"], /^\/live\/cam\.flv$/),
    named("ws", [WS], /^\/live\/cam\.flv$/),
  ]);
  assertEquals(await who(handle(wsReq("/live/cam.flv"))), "ws");
  assertEquals(await who(handle(req("/live/cam.flv"))), "get");
});

Deno.test("makeHandler() does not send a plain GET to a WS route", async () => {
  const handle = makeHandler([named("ws", [WS], /^\/live\/cam$/)]);
  const res = await handle(req("/live/cam"));
  assertEquals(res.status, 404);
  assertEquals(await res.json(), { error: "Cannot GET /live/cam: no such route" });
});

Deno.test("makeHandler() does not send a WebSocket upgrade to a GET route", async () => {
  const handle = makeHandler([named("get", ["GET"], /^\/live\/cam\.flv$/)]);
  const res = await handle(wsReq("/live/cam.flv"));
  assertEquals(res.status, 404);
  assertEquals(await res.json(), { error: "Cannot GET /live/cam.flv: no such route" });
});

Deno.test("makeHandler() answers OPTIONS on any path with the 204 CORS preflight, before any route", async () => {
  const seen: RouteMatch[] = [];
  const handle = makeHandler([named("options", ["OPTIONS"], /^\/.*$/, seen)]);
  for (const path of ["/", "/live/cam.flv", "/no/such/route"]) {
    const res = await handle(req(path, { method: "OPTIONS" }));
    assertEquals(res.status, 204, path);
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    assertEquals(res.headers.get("access-control-allow-methods"), "GET, HEAD, POST, PUT, OPTIONS");
    assertEquals(res.headers.get("access-control-allow-headers"), "range, content-type, authorization");
    assertStrictEquals(res.body, null);
  }
  assertEquals(seen.length, 0, "no route sees a preflight");
});

Deno.test("makeHandler() answers no match with a 404 one-line JSON reason naming method and path", async () => {
  const handle = makeHandler([named("a", ["GET"], /^\/a$/)]);
  const res = await handle(req("/x"));
  assertEquals(res.status, 404);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals(await res.text(), '{"error":"Cannot GET /x: no such route"}\n');
  const del = await handle(req("/a", { method: "DELETE" }));
  assertEquals(del.status, 404);
  assertEquals(await del.json(), { error: "Cannot DELETE /a: no such route" });
});

Deno.test("makeHandler() with no routes answers every request 404", async () => {
  const res = await makeHandler([])(req("/"));
  assertEquals(res.status, 404);
  assertEquals(await res.json(), { error: "Cannot GET /: no such route" });
});

Deno.test("makeHandler() passes the request, the URL and the capture groups to the handler", async () => {
  const seen: RouteMatch[] = [];
  const requests: Request[] = [];
  const handle = makeHandler([{
    methods: ["GET"],
    path: /^\/(\w+)\/(\w+)?(?:\.flv)?$/,
    handle: (r, m) => {
      requests.push(r);
      seen.push(m);
      return new Response("ok");
    },
  }]);
  const request = req("/live/cam.flv?x=1");
  await handle(request);
  await handle(req("/live/.flv"));
  assertStrictEquals(requests[0], request);
  assertEquals(seen[0].url.href, `${BASE}/live/cam.flv?x=1`);
  assertEquals(seen[0].url.searchParams.get("x"), "1");
  assertEquals(seen[0].groups, ["live", "cam"]);
  assertEquals(seen[1].groups, ["live", undefined], "an unmatched optional group is undefined");
});

Deno.test("makeHandler() passes Deno.serve's remote address to the handler, when given", async () => {
  const seen: RouteMatch[] = [];
  const handle = makeHandler([named("a", ["GET"], /^\/a$/, seen)]);
  const remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.7", port: 40_000 };
  const completed = Promise.resolve();
  await handle(req("/a"), { remoteAddr, completed });
  await handle(req("/a"));
  assertEquals(seen[0].remote, remoteAddr);
  assertStrictEquals(seen[1].remote, undefined);
});

Deno.test("makeHandler() with trusted proxies passes the client X-Forwarded-For names from one of them", async () => {
  const seen: RouteMatch[] = [];
  let list = ["10.0.0.0/8"];
  const handle = makeHandler([named("a", ["GET"], /^\/a$/, seen)], () => trustedProxiesOf(list));
  const proxy: Deno.NetAddr = { transport: "tcp", hostname: "10.1.1.1", port: 40_000 };
  const stranger: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.7", port: 40_001 };
  const completed = Promise.resolve();
  const forwarded = () => new Request(`${BASE}/a`, { headers: { "x-forwarded-for": "203.0.113.9" } });
  await handle(forwarded(), { remoteAddr: proxy, completed });
  await handle(forwarded(), { remoteAddr: stranger, completed });
  assertEquals(seen[0].remote, { transport: "tcp", hostname: "203.0.113.9", port: 0 });
  assertEquals(seen[1].remote, stranger, "only a trusted proxy names the client");
  // A reload gives a new list: the next request reads it.
  list = ["192.0.2.0/24"];
  await handle(forwarded(), { remoteAddr: proxy, completed });
  await handle(forwarded(), { remoteAddr: stranger, completed });
  assertEquals(seen[2].remote, proxy, "no longer trusted");
  assertEquals(seen[3].remote, { transport: "tcp", hostname: "203.0.113.9", port: 0 });
});

Deno.test("makeHandler() returns what an async handler resolves to", async () => {
  const handle = makeHandler([{
    methods: ["GET"],
    path: /^\/slow$/,
    handle: async () => {
      await Promise.resolve();
      return new Response("late", { status: 202 });
    },
  }]);
  const res = await handle(req("/slow"));
  assertEquals(res.status, 202);
  assertEquals(await res.text(), "late");
});

Deno.test("WS is the pseudo-method 'WS', which no HTTP request carries", () => {
  assertEquals(WS, "WS");
  assert(!["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"].includes(WS));
});
