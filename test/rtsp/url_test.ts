/**
 * RTSP URLs: one case table of what clients send (the captures' request URIs
 * among them) to app, stream, track and query; the bounds; mutations.
 */
import { RtspError, RtspStatus } from "../../src/rtsp/status.ts";
import { MAX_PATH_SEGMENTS, MAX_URL_QUERY_LENGTH, parseRtspUrl, type RtspUrl } from "../../src/rtsp/url.ts";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom } from "../_util/mutate.ts";

const base = { scheme: "rtsp", host: "127.0.0.1", port: 554, query: "", trailingSlash: false } as const;

const cases: [string, RtspUrl][] = [
  ["rtsp://127.0.0.1/live/x", { ...base, app: "live", stream: "x" }],
  ["rtsp://127.0.0.1:45625/live/x", { ...base, port: 45625, app: "live", stream: "x" }],
  ["rtsp://127.0.0.1:45625/live/x/", { ...base, port: 45625, app: "live", stream: "x", trailingSlash: true }],
  ["rtsp://127.0.0.1:45625/live/x/trackID=0", { ...base, port: 45625, app: "live", stream: "x", track: 0 }],
  ["rtsp://127.0.0.1/live/x/trackid=12", { ...base, app: "live", stream: "x", track: 12 }],
  ["rtsp://127.0.0.1/live/x/streamid=1", { ...base, app: "live", stream: "x", track: 1 }],
  ["rtsp://127.0.0.1/live/x?key=abc", { ...base, app: "live", stream: "x", query: "key=abc" }],
  // ffmpeg publishing: the control appended after the query.
  ["rtsp://127.0.0.1:35335/live/x?key=abc/streamid=0", {
    ...base,
    port: 35335,
    app: "live",
    stream: "x",
    track: 0,
    query: "key=abc",
  }],
  ["rtsp://127.0.0.1/live/x/trackID=1?key=abc", {
    ...base,
    app: "live",
    stream: "x",
    track: 1,
    query: "key=abc",
  }],
  ["rtsp://127.0.0.1/live/x/?token=a%2Fb", {
    ...base,
    app: "live",
    stream: "x",
    query: "token=a%2Fb",
    trailingSlash: true,
  }],
  ["rtsp://127.0.0.1/a/b/c", { ...base, app: "a/b", stream: "c" }],
  ["rtsp://127.0.0.1/cam1", { ...base, app: "", stream: "cam1" }],
  ["rtsp://127.0.0.1", { ...base, app: "", stream: "" }],
  ["rtsp://127.0.0.1/", { ...base, app: "", stream: "", trailingSlash: true }],
  ["rtsp://127.0.0.1/live/my%20cam", { ...base, app: "live", stream: "my cam" }],
  ["RTSP://user:pass@cam.local:8554/live/x", {
    ...base,
    host: "cam.local",
    port: 8554,
    app: "live",
    stream: "x",
  }],
  ["rtsp://[::1]:8554/live/x", { ...base, host: "::1", port: 8554, app: "live", stream: "x" }],
  ["rtsps://h/live/x", { ...base, scheme: "rtsps", host: "h", port: 322, app: "live", stream: "x" }],
  ["/live/x/trackID=0", { ...base, host: "", app: "live", stream: "x", track: 0 }],
];

for (const [uri, want] of cases) {
  Deno.test(`parseRtspUrl() reads ${uri}`, () => {
    assertEquals(parseRtspUrl(uri), want);
  });
}

Deno.test("parseRtspUrl() refuses what is not an RTSP URL, and past its bounds, with 400", () => {
  const bad: [string, string][] = [
    ["http://h/live/x", "current scheme is not rtsp:// or rtsps://"],
    ["*", "current scheme"],
    ["rtsp://h:0/live/x", 'current host is "h:0"'],
    ["rtsp://h:99999/live/x", 'current host is "h:99999"'],
    ["rtsp://h/live/%zz", "malformed percent escape"],
    ["rtsp://h/live/a%2Fb", "escaped slash"],
    ["rtsp://h/live/a%00", "control character"],
    [`rtsp://h/live/x?${"q".repeat(MAX_URL_QUERY_LENGTH + 1)}`, `characters, limit ${MAX_URL_QUERY_LENGTH}`],
    [`rtsp://h/${"a/".repeat(MAX_PATH_SEGMENTS)}x`, `segments, limit ${MAX_PATH_SEGMENTS}`],
  ];
  for (const [uri, message] of bad) {
    const e = assertThrows(() => parseRtspUrl(uri), RtspError, message);
    assertEquals([e.status, e.code], [RtspStatus.BadRequest, "rtsp_url"], uri);
  }
  // At the bounds exactly: read.
  assertEquals(
    parseRtspUrl(`rtsp://h/live/x?${"q".repeat(MAX_URL_QUERY_LENGTH)}`).query.length,
    MAX_URL_QUERY_LENGTH,
  );
  assertEquals(parseRtspUrl(`rtsp://h/${"a/".repeat(MAX_PATH_SEGMENTS - 1)}x`).stream, "x");
});

Deno.test("parseRtspUrl() throws nothing but ProtocolError on mutated URLs", () => {
  const random = seededRandom(554);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  for (const [uri] of cases) {
    for (const m of mutations(enc.encode(uri), random, 100)) {
      expectOnlyProtocolError(m, (b) => parseRtspUrl(dec.decode(b)));
    }
  }
});
