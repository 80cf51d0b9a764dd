import { assertEquals } from "../../_util/assert.ts";
import {
  ApiPath,
  epochMs,
  errorMessage,
  kickPath,
  previewUrl,
  stopPath,
} from "../../../src/admin/page/api.ts";

const urls = (httpFlv: string | null) => ({
  key: "live/cam",
  playUrls: { rtmp: null, httpFlv, wsFlv: null },
});

Deno.test("stopPath() builds /api/v1/streams/{app}/{name}/stop with each segment encoded", () => {
  assertEquals(stopPath("live/cam"), "/api/v1/streams/live/cam/stop");
  assertEquals(stopPath("live/a b?"), "/api/v1/streams/live/a%20b%3F/stop");
});

Deno.test("kickPath() builds /api/v1/clients/{id}/kick with the id encoded", () => {
  assertEquals(kickPath("7"), "/api/v1/clients/7/kick");
  assertEquals(kickPath("a/b"), "/api/v1/clients/a%2Fb/kick");
});

Deno.test("previewUrl() keeps the play URL's path and query on the page's own origin", () => {
  assertEquals(
    previewUrl(urls("http://203.0.113.5:8000/live/cam.flv?token=x"), "https://admin.example"),
    "https://admin.example/live/cam.flv?token=x",
  );
});

Deno.test("previewUrl() falls back to /{app}/{name}.flv without an HTTP-FLV URL", () => {
  assertEquals(previewUrl(urls(null), "http://127.0.0.1:8000"), "http://127.0.0.1:8000/live/cam.flv");
  assertEquals(previewUrl(urls("not a url"), "http://h"), "http://h/live/cam.flv");
});

Deno.test("epochMs() reads ms numbers and ISO strings", () => {
  assertEquals(epochMs(1_700_000_000_000), 1_700_000_000_000);
  assertEquals(epochMs("2024-05-01T00:00:00.000Z"), Date.UTC(2024, 4, 1));
  assertEquals(Number.isNaN(epochMs("nope")), true);
});

Deno.test("errorMessage() reads the API's { error } body, else names the status", () => {
  assertEquals(
    errorMessage(404, { error: "Cannot stop live/x: no such stream" }),
    "Cannot stop live/x: no such stream",
  );
  assertEquals(errorMessage(502, null), "HTTP 502");
  assertEquals(errorMessage(500, { error: 3 }), "HTTP 500");
});

Deno.test("ApiPath names the contract's paths", () => {
  assertEquals(ApiPath.Events, "/api/v1/events");
  assertEquals(ApiPath.History, "/api/v1/history");
});
