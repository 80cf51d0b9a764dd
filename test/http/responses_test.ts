/**
 * The shared HTTP answers: JSON bodies and errors with CORS open, and the
 * CORS preflight.
 */
import { assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { CORS_ALLOW_ORIGIN, json, jsonError, preflight } from "../../src/http/responses.ts";

Deno.test("json() answers 200 with one JSON line, a JSON content-type and CORS open", async () => {
  const res = json({ a: 1, b: ["x"] });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals(await res.text(), '{"a":1,"b":["x"]}\n');
});

Deno.test("json() takes a status and extra headers, which may override the defaults", async () => {
  const res = json([1, 2], 201, { "x-extra": "yes", "content-type": "application/problem+json" });
  assertEquals(res.status, 201);
  assertEquals(res.headers.get("x-extra"), "yes");
  assertEquals(res.headers.get("content-type"), "application/problem+json");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals(await res.json(), [1, 2]);
});

Deno.test("jsonError() answers the status with a one-line { error } body", async () => {
  const res = jsonError(409, "Cannot publish live/a: current publisher is x", { "retry-after": "1" });
  assertEquals(res.status, 409);
  assertEquals(res.headers.get("retry-after"), "1");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals(await res.text(), '{"error":"Cannot publish live/a: current publisher is x"}\n');
});

Deno.test("preflight() answers 204 with no body and the CORS methods, headers and max age", async () => {
  const res = preflight();
  assertEquals(res.status, 204);
  assertStrictEquals(res.body, null);
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals(res.headers.get("access-control-allow-methods"), "GET, HEAD, POST, PUT, OPTIONS");
  assertEquals(res.headers.get("access-control-allow-headers"), "range, content-type, authorization");
  assertEquals(res.headers.get("access-control-max-age"), "86400");
  assertEquals(await res.text(), "");
});

Deno.test("CORS_ALLOW_ORIGIN lets any origin read the answer", () => {
  assertEquals({ ...CORS_ALLOW_ORIGIN }, { "access-control-allow-origin": "*" });
});
