/**
 * The server health panel as an element tree: version, uptime, CPU, memory,
 * connections by protocol, bandwidth, streams and the listening sockets, each
 * in a `data-field` cell; and the feed's status line. Pure.
 *
 * @module
 */
import { ApiPath, type ServerView } from "./api.ts";
import {
  formatBitrate,
  formatByProtocol,
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  NONE,
} from "./format.ts";
import { FeedStatus } from "./state.ts";
import { h, type VElement } from "./vdom.ts";

/** One fact of the server: its `data-field`, its label, and how it reads. */
interface Field {
  readonly field: string;
  readonly label: string;
  readonly value: (s: ServerView) => string;
}

/** The facts, in order (the `data-field` names are what a browser test reads). */
export const SERVER_FIELDS: readonly Field[] = [
  { field: "version", label: "Version", value: (s) => s.version },
  { field: "uptime", label: "Uptime", value: (s) => formatDuration(s.uptimeMs) },
  { field: "cpu", label: "CPU", value: (s) => formatPercent(s.cpu.percent) },
  { field: "memory-rss", label: "Memory (RSS)", value: (s) => formatBytes(s.memory.rss) },
  {
    field: "memory-heap",
    label: "Heap used / total",
    value: (s) => `${formatBytes(s.memory.heapUsed)} / ${formatBytes(s.memory.heapTotal)}`,
  },
  { field: "connections", label: "Connections", value: (s) => formatCount(s.connections.total) },
  {
    field: "connections-by-protocol",
    label: "By protocol",
    value: (s) => formatByProtocol(s.connections.byProtocol),
  },
  { field: "bandwidth-in", label: "In", value: (s) => formatBitrate(s.bandwidth.inBps) },
  { field: "bandwidth-out", label: "Out", value: (s) => formatBitrate(s.bandwidth.outBps) },
  {
    field: "bytes-total",
    label: "Total in / out",
    value: (s) => `${formatBytes(s.bandwidth.inTotalBytes)} / ${formatBytes(s.bandwidth.outTotalBytes)}`,
  },
  {
    field: "streams",
    label: "Streams live / seen",
    value: (s) => `${formatCount(s.streams.live)} / ${formatCount(s.streams.seen)}`,
  },
];

/** What the feed status line says. */
const FEED_TEXT: Readonly<Record<FeedStatus, string>> = {
  [FeedStatus.Connecting]: "Connecting…",
  [FeedStatus.Live]: "Live",
  [FeedStatus.Lost]: "Connection lost, retrying…",
  [FeedStatus.SignedOut]: "Signed out",
};

/** The health panel's content; dashes until the first snapshot. */
export function serverView(server: ServerView | null): VElement {
  return h(
    "div",
    { class: "server" },
    h(
      "dl",
      { class: "facts" },
      SERVER_FIELDS.map((f) =>
        h(
          "div",
          { key: f.field },
          h("dt", {}, f.label),
          h("dd", { "data-field": f.field }, server ? f.value(server) : NONE),
        )
      ),
    ),
    h("h3", {}, "Listeners"),
    h(
      "ul",
      { class: "listeners" },
      (server?.listeners ?? []).map((l) =>
        h(
          "li",
          { "data-listener": l.protocol, key: `${l.protocol} ${l.host}:${l.port}` },
          h("span", { class: "badge" }, l.protocol),
          " ",
          h("code", {}, l.host.includes(":") ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`),
        )
      ),
    ),
  );
}

/** The feed status line: `data-feed` carries the FeedStatus. */
export function feedView(feed: FeedStatus): VElement {
  return h(
    "span",
    { class: `feed feed-${feed}`, "data-feed": feed, role: "status" },
    feed === FeedStatus.SignedOut
      ? [FEED_TEXT[feed], " — ", h("a", { href: ApiPath.Login }, "log in")]
      : FEED_TEXT[feed],
  );
}
