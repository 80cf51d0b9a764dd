import { assert, assertEquals } from "../../_util/assert.ts";
import type { StreamView } from "../../../src/admin/page/api.ts";
import { STREAM_FIELDS, streamsView } from "../../../src/admin/page/streams_view.ts";
import { findAll, findByAttr, textOf, type VElement } from "../../../src/admin/page/vdom.ts";

const NOW = 1_700_000_100_000;

function cam(over: Partial<StreamView> = {}): StreamView {
  return {
    key: "live/cam",
    app: "live",
    name: "cam",
    state: "live",
    publisher: { id: "rtmp 10.0.0.1:5000", protocol: "rtmp", remote: "10.0.0.1:5000", since: NOW - 65_000 },
    video: { codec: "H.264", profile: "High", level: "4.1", width: 1280, height: 720, frameRate: 30 },
    audio: { codec: "AAC", profile: "LC", sampleRate: 48_000, channels: 2 },
    bitrate: { video: 2_000_000, audio: 128_000 },
    gop: { frames: 60, durationMs: 2000 },
    uptimeMs: 125_000,
    viewers: { total: 3, byProtocol: { rtmp: 1, "http-flv": 2, "ws-flv": 0 } },
    observers: 0,
    framesDropped: 12,
    framesIn: 3000,
    bytesIn: 1_000_000,
    publishers: 1,
    players: 3,
    playUrls: {
      rtmp: "rtmp://h:1935/live/cam",
      httpFlv: "http://h:8000/live/cam.flv",
      wsFlv: "ws://h:8000/live/cam.flv",
    },
    publishUrls: { rtmp: "rtmp://h:1935/live/cam", http: "http://h:8000/live/cam" },
    ...over,
  };
}

function field(card: VElement, name: string): string {
  const el = findByAttr(card, "data-field", name);
  assert(el, `data-field=${name}`);
  return textOf(el);
}

Deno.test("streamsView() draws a card per stream with data-stream and every fact in a data-field", () => {
  const tree = streamsView([cam()], NOW, null);
  const card = findByAttr(tree, "data-stream", "live/cam")!;
  assertEquals(card.attrs["data-state"], "live");
  const want: Record<string, string> = {
    key: "live/cam",
    state: "live",
    "publisher-protocol": "rtmp",
    "publisher-remote": "10.0.0.1:5000",
    "publisher-since": "1 min 05 s ago",
    "video-codec": "H.264 High 4.1",
    resolution: "1280×720",
    "frame-rate": "30 fps",
    "audio-codec": "AAC LC",
    "sample-rate": "48 kHz",
    channels: "stereo",
    bitrate: "2.13 Mbit/s",
    "bitrate-split": "2.00 Mbit/s / 128 kbit/s",
    gop: "60 frames, 2.00 s",
    uptime: "2 min 05 s",
    viewers: "3",
    "viewers-by-protocol": "rtmp 1 · http-flv 2",
    drops: "12",
  };
  for (const [name, text] of Object.entries(want)) assertEquals(field(card, name), text, name);
  assertEquals(STREAM_FIELDS.length + 2, Object.keys(want).length, "every field checked");
});

Deno.test("streamsView() gives every play and publish URL a row with a copy button", () => {
  const card = findByAttr(streamsView([cam()], NOW, null), "data-stream", "live/cam")!;
  const rows = findAll(card, (el) => "data-url" in el.attrs);
  assertEquals(rows.map((r) => r.attrs["data-url"]), [
    "play-rtmp",
    "play-http-flv",
    "play-ws-flv",
    "publish-rtmp",
    "publish-http",
  ]);
  const copy = findByAttr(rows[1], "data-action", "copy")!;
  assertEquals(copy.attrs["data-copy"], "http://h:8000/live/cam.flv");
});

Deno.test("streamsView() leaves out the URL rows of a listener the server does not have", () => {
  const s = cam({ playUrls: { rtmp: null, httpFlv: "http://h/x.flv", wsFlv: "ws://h/x.flv" } });
  const rows = findAll(streamsView([s], NOW, null), (el) => "data-url" in el.attrs);
  assertEquals(rows.map((r) => r.attrs["data-url"]), [
    "play-http-flv",
    "play-ws-flv",
    "publish-rtmp",
    "publish-http",
  ]);
});

Deno.test("streamsView() offers Stop only for a live stream with a publisher", () => {
  const stop = (s: StreamView) => findByAttr(streamsView([s], NOW, null), "data-action", "stop")!;
  assertEquals(stop(cam()).attrs["data-stream"], "live/cam");
  assertEquals("disabled" in stop(cam()).attrs, false);
  assertEquals("disabled" in stop(cam({ state: "grace", publisher: null })).attrs, true);
});

Deno.test("streamsView() turns the previewed stream's Preview button into Close preview", () => {
  const tree = streamsView([cam(), cam({ key: "live/other" })], NOW, "live/cam");
  const previewing = findByAttr(tree, "data-stream", "live/cam")!;
  const other = findByAttr(tree, "data-stream", "live/other")!;
  assertEquals(findByAttr(previewing, "aria-pressed")!.attrs, {
    type: "button",
    "data-action": "preview-stop",
    "data-stream": "live/cam",
    "aria-pressed": "true",
  });
  assertEquals(findByAttr(other, "aria-pressed")!.attrs["data-action"], "preview");
});

Deno.test("streamsView() reads unknown codecs and a missing publisher as dashes", () => {
  const card = streamsView([cam({ video: null, audio: null, publisher: null, state: "grace" })], NOW, null);
  for (const name of ["publisher-protocol", "publisher-since", "resolution", "audio-codec", "channels"]) {
    assertEquals(field(card, name), "—", name);
  }
});

Deno.test("streamsView() says so when there are no streams", () => {
  assertEquals(textOf(findByAttr(streamsView([], NOW, null), "data-empty", "streams")!), "No streams.");
});

Deno.test("streamsView() keys each card by its stream", () => {
  const tree = streamsView([cam(), cam({ key: "live/b" })], NOW, null);
  assertEquals(tree.children.map((c) => (c as VElement).key), ["live/cam", "live/b"]);
});
