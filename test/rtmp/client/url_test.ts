import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { DEFAULT_RTMPS_PORT, parseRtmpUrl } from "../../../src/rtmp/client/client.ts";

Deno.test("parseRtmpUrl() splits app and stream at the last path segment, as ffmpeg does", () => {
  assertEquals(parseRtmpUrl("rtmp://example.com/live/cam"), {
    hostname: "example.com",
    port: 1935,
    app: "live",
    stream: "cam",
    tcUrl: "rtmp://example.com/live",
    tls: false,
  });
  const deep = parseRtmpUrl("rtmp://127.0.0.1:1940/live/room1/cam?key=abc");
  assertEquals([deep.port, deep.app, deep.stream, deep.tcUrl], [
    1940,
    "live/room1",
    "cam?key=abc",
    "rtmp://127.0.0.1:1940/live/room1",
  ]);
});

Deno.test("parseRtmpUrl() reads a one-segment URL as an app with no stream", () => {
  const u = parseRtmpUrl("rtmp://h/live");
  assertEquals([u.app, u.stream], ["live", ""]);
});

Deno.test("parseRtmpUrl() strips the brackets of an IPv6 host", () => {
  assertEquals(parseRtmpUrl("rtmp://[::1]:1936/live/cam").hostname, "::1");
});

Deno.test("parseRtmpUrl() throws TypeError for another scheme or no URL", () => {
  assertThrows(() => parseRtmpUrl("http://h/live/cam"), TypeError, "expected rtmp://host");
  assertThrows(() => parseRtmpUrl("live/cam"), TypeError, "not a URL");
});

// ---------------------------------------------------------------------------------------------
// Against a scripted server

Deno.test("parseRtmpUrl() reads rtmps:// as RTMP over TLS, on port 443 when the URL names none", () => {
  assertEquals(parseRtmpUrl("rtmps://example.com/live/cam?key=1"), {
    hostname: "example.com",
    port: DEFAULT_RTMPS_PORT,
    app: "live",
    stream: "cam?key=1",
    tcUrl: "rtmps://example.com/live",
    tls: true,
  });
  assertEquals(DEFAULT_RTMPS_PORT, 443);
  const u = parseRtmpUrl("rtmps://127.0.0.1:1936/live/room/cam");
  assertEquals([u.port, u.app, u.stream, u.tcUrl, u.tls], [
    1936,
    "live/room",
    "cam",
    "rtmps://127.0.0.1:1936/live/room",
    true,
  ]);
});
