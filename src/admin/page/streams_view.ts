/**
 * The streams panel as an element tree: one card per stream
 * (`data-stream="live/cam"`), each fact in a `data-field` cell, each URL in a
 * `data-url` row with its copy button, and the Preview and Stop buttons. Pure:
 * a function of the streams, the server's clock and the stream previewed.
 *
 * @module
 */
import { StreamState, type StreamView } from "./api.ts";
import { Action } from "./actions.ts";
import {
  formatAge,
  formatAudioCodec,
  formatBitrate,
  formatByProtocol,
  formatChannels,
  formatCount,
  formatDuration,
  formatFrameRate,
  formatGop,
  formatResolution,
  formatSampleRate,
  formatVideoCodec,
  NONE,
} from "./format.ts";
import { h, type VElement } from "./vdom.ts";

/** One fact of a stream card: its `data-field`, its label, and how it reads. */
interface Field {
  readonly field: string;
  readonly label: string;
  readonly value: (s: StreamView, now: number) => string;
}

/** The facts of a card, in order (the `data-field` names are what a browser test reads). */
export const STREAM_FIELDS: readonly Field[] = [
  { field: "publisher-protocol", label: "Publisher", value: (s) => s.publisher?.protocol ?? NONE },
  { field: "publisher-remote", label: "Address", value: (s) => s.publisher?.remote ?? NONE },
  {
    field: "publisher-since",
    label: "Publishing since",
    value: (s, now) => s.publisher ? formatAge(s.publisher.since, now) : NONE,
  },
  { field: "video-codec", label: "Video", value: (s) => formatVideoCodec(s.video) },
  { field: "resolution", label: "Resolution", value: (s) => formatResolution(s.video) },
  { field: "frame-rate", label: "Frame rate", value: (s) => formatFrameRate(s.video?.frameRate) },
  { field: "audio-codec", label: "Audio", value: (s) => formatAudioCodec(s.audio) },
  { field: "sample-rate", label: "Sample rate", value: (s) => formatSampleRate(s.audio?.sampleRate) },
  { field: "channels", label: "Channels", value: (s) => formatChannels(s.audio?.channels) },
  { field: "bitrate", label: "Bitrate in", value: (s) => formatBitrate(s.bitrate.video + s.bitrate.audio) },
  {
    field: "bitrate-split",
    label: "Video / audio",
    value: (s) => `${formatBitrate(s.bitrate.video)} / ${formatBitrate(s.bitrate.audio)}`,
  },
  { field: "gop", label: "GOP", value: (s) => formatGop(s.gop) },
  { field: "uptime", label: "Uptime", value: (s) => formatDuration(s.uptimeMs) },
  { field: "viewers", label: "Viewers", value: (s) => formatCount(s.viewers.total) },
  {
    field: "viewers-by-protocol",
    label: "By protocol",
    value: (s) => formatByProtocol(s.viewers.byProtocol),
  },
  { field: "drops", label: "Frames dropped", value: (s) => formatCount(s.framesDropped) },
];

/** The URL rows of a card: `data-url` name, label, and which URL (null: not served, no row). */
export const STREAM_URLS: readonly { url: string; label: string; of: (s: StreamView) => string | null }[] = [
  { url: "play-rtmp", label: "Play RTMP", of: (s) => s.playUrls.rtmp },
  { url: "play-http-flv", label: "Play HTTP-FLV", of: (s) => s.playUrls.httpFlv },
  { url: "play-ws-flv", label: "Play WS-FLV", of: (s) => s.playUrls.wsFlv },
  { url: "publish-rtmp", label: "Publish RTMP", of: (s) => s.publishUrls.rtmp },
  { url: "publish-http", label: "Publish HTTP", of: (s) => s.publishUrls.http },
];

function card(s: StreamView, now: number, previewKey: string | null): VElement {
  const previewing = previewKey === s.key;
  return h(
    "article",
    { class: "card stream", "data-stream": s.key, "data-state": s.state, key: s.key },
    h(
      "header",
      { class: "card-head" },
      h("h3", { "data-field": "key" }, s.key),
      h("span", { class: `badge state-${s.state}`, "data-field": "state" }, s.state),
    ),
    h(
      "dl",
      { class: "facts" },
      STREAM_FIELDS.map((f) =>
        h("div", { key: f.field }, h("dt", {}, f.label), h("dd", { "data-field": f.field }, f.value(s, now)))
      ),
    ),
    h(
      "ul",
      { class: "urls" },
      STREAM_URLS.map((u) => {
        const url = u.of(s);
        if (!url) return null; // the server has no listener for it
        return h(
          "li",
          { "data-url": u.url, key: u.url },
          h("span", { class: "url-label" }, u.label),
          h("code", {}, url),
          h("button", {
            type: "button",
            class: "copy",
            "data-action": Action.Copy,
            "data-copy": url,
            "aria-label": `Copy ${u.label} URL`,
          }, "Copy"),
        );
      }),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        "data-action": previewing ? Action.PreviewStop : Action.Preview,
        "data-stream": s.key,
        "aria-pressed": previewing ? "true" : "false",
      }, previewing ? "Close preview" : "Preview"),
      h("button", {
        type: "button",
        class: "danger",
        "data-action": Action.Stop,
        "data-stream": s.key,
        disabled: s.publisher === null || s.state !== StreamState.Live,
      }, "Stop"),
    ),
  );
}

/** The panel's content: a card per stream, or a line saying there are none. */
export function streamsView(
  streams: readonly StreamView[],
  now: number,
  previewKey: string | null,
): VElement {
  if (streams.length === 0) {
    return h("div", { class: "cards" }, h("p", { class: "empty", "data-empty": "streams" }, "No streams."));
  }
  return h("div", { class: "cards" }, streams.map((s) => card(s, now, previewKey)));
}
