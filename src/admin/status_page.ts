/**
 * The status page, `GET /status` (and ffserver's `Format status` stream): one
 * plain HTML page that reads without JavaScript, like ffserver's status page
 * but current. It shows the server (version, uptime, connections by protocol,
 * bandwidth in and out now and since the start), a table of streams, a table
 * of feeds (filled by the context's optional `feeds()`; empty until feeds
 * exist) and a table of clients.
 *
 * One source of truth: every figure comes from what the JSON API serves
 * (`serverView`, `streamView` with `portsOf` and `hostOf`, the registry's
 * session snapshots) and is written by the dashboard's formatters
 * (`page/format.ts`), so the page, the dashboard and the API agree.
 *
 * The page is a pure `(ctx, req) -> Response`. Every value from outside (stream
 * names, addresses, user agents, the Host the URLs are built from) is
 * HTML-escaped. Its Content-Security-Policy allows nothing but its one inline
 * style (by hash): no script runs, nothing loads, and it may not be framed. It
 * is never cached (`cache-control: no-store`). `?refresh=N` adds a
 * `<meta http-equiv="refresh">` of N seconds (1 to STATUS_MAX_REFRESH_S), still
 * without a script. The tables are bounded (STATUS_MAX_STREAMS,
 * STATUS_MAX_FEEDS, STATUS_MAX_CLIENTS rows); a line counts the rows left out.
 *
 * @module
 */
import type { SessionSnapshot } from "../hub/registry.ts";
import { Role } from "../hub/session_kind.ts";
import {
  ApiMethods,
  hostOf,
  portsOf,
  refuseMethod,
  type ServerView,
  serverView,
  type StreamView,
  streamView,
} from "./api.ts";
import type { AdminContext, AdminFeed } from "./context.ts";
import { cspHash, escapeHtml } from "./page.ts";
import {
  formatAge,
  formatAudioCodec,
  formatBitrate,
  formatByProtocol,
  formatBytes,
  formatChannels,
  formatCount,
  formatDuration,
  formatFrameRate,
  formatMs,
  formatResolution,
  formatSampleRate,
  formatVideoCodec,
  NONE,
} from "./page/format.ts";

/** Stream rows drawn at most (the rest are counted). */
export const STATUS_MAX_STREAMS = 500;
/** Feed rows drawn at most. */
export const STATUS_MAX_FEEDS = 100;
/** Client rows drawn at most (a server with thousands of players would otherwise send megabytes). */
export const STATUS_MAX_CLIENTS = 1_000;
/** The longest `?refresh=` the page takes, seconds. */
export const STATUS_MAX_REFRESH_S = 3_600;

/** A feed as the status page shows it (the API's shape: see AdminFeed). */
export type StatusFeed = AdminFeed;

/** The status page's context: the admin API's (feeds included). */
export type StatusContext = AdminContext;

/**
 * The page's style (its CSP allows exactly this text). Light and dark; at phone width the `cards` tables show
 * one card per row, each cell under its column's label (`data-label`).
 */
const STATUS_CSS = `
:root { color-scheme: light dark; --fg: #1c2230; --muted: #5b6475; --bg: #f6f7f9; --card: #ffffff;
  --line: #d9dde5; --head: #eef1f5; --ok: #15803d; --warn: #b45309; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e4e8f0; --muted: #9aa3b5; --bg: #10131a; --card: #171b24; --line: #2c3342; --head: #1e2430;
    --ok: #4ade80; --warn: #fbbf24; }
}
html { background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 0 auto; padding: 16px; max-width: 1400px; }
h1 { margin: 0 0 2px; font-size: 22px; }
h2 { margin: 24px 0 8px; font-size: 17px; }
p { margin: 4px 0; }
a { color: inherit; }
.muted { color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
dl.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 8px; margin: 0; }
dl.summary > div { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
dl.summary dt { color: var(--muted); font-size: 12px; }
dl.summary dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
table.plain { width: auto; min-width: 280px; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
td small { display: block; color: var(--muted); }
ul.urls { list-style: none; margin: 0; padding: 0; }
.state-live { color: var(--ok); font-weight: 600; }
.state-grace { color: var(--warn); font-weight: 600; }
@media (max-width: 700px) {
  body { padding: 10px; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: auto; }
  table.cards { border: 0; background: none; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.cards tr { background: var(--card); border: 1px solid var(--line); border-radius: 6px; margin: 0 0 8px;
    padding: 4px 0; }
  table.cards td { display: grid; grid-template-columns: 8.5em minmax(0, 1fr); gap: 8px; border: 0;
    padding: 3px 10px; }
  table.cards td::before { content: attr(data-label); color: var(--muted); }
  table.cards td.empty { display: block; }
  table.cards td.empty::before { content: none; }
}
`;

/** The page's Content-Security-Policy: no script, nothing loaded, only its own style. */
export const STATUS_CSP: string = [
  "default-src 'none'",
  `style-src ${cspHash(STATUS_CSS)}`,
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of the page besides its CSP. */
const STATUS_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** A whole number of seconds, as `?refresh=` takes it. */
const REFRESH_PARAM = /^[0-9]{1,6}$/;

/** One table column: its `data-field`, its heading and its cell's HTML (already escaped). */
interface Column<T> {
  readonly field: string;
  readonly label: string;
  /** Right-aligned figures. */
  readonly num?: boolean;
  readonly cell: (row: T, now: number) => string;
}

/** Escaped text, with a muted second line when there is one. */
function twoLines(main: string, sub?: string): string {
  return escapeHtml(main) + (sub ? `<small>${escapeHtml(sub)}</small>` : "");
}

/** A session's user agent (HTTP `User-Agent`, RTMP `flashVer`), when its edge recorded the request. */
function userAgentOf(c: SessionSnapshot): string | undefined {
  const agent = c.request?.userAgent;
  return agent === undefined || agent === "" ? undefined : agent;
}

/** The play URL lines of a stream: label and URL. */
const PLAY_URLS: readonly { label: string; of: (u: StreamView["playUrls"]) => string | null }[] = [
  { label: "RTMP", of: (u) => u.rtmp },
  { label: "HTTP-FLV", of: (u) => u.httpFlv },
  { label: "WS-FLV", of: (u) => u.wsFlv },
];

/** The streams table's columns, in order (the `data-field` names are what a browser test reads). */
export const STREAM_COLUMNS: readonly Column<StreamView>[] = [
  { field: "key", label: "Stream", cell: (s) => `<strong>${escapeHtml(s.key)}</strong>` },
  {
    field: "state",
    label: "State",
    cell: (s) => `<span class="state-${escapeHtml(s.state)}">${escapeHtml(s.state)}</span>`,
  },
  {
    field: "publisher",
    label: "Publisher",
    cell: (s) => s.publisher ? twoLines(s.publisher.protocol ?? NONE, s.publisher.remote) : escapeHtml(NONE),
  },
  {
    field: "video",
    label: "Video",
    cell: (s) =>
      s.video
        ? twoLines(
          formatVideoCodec(s.video),
          `${formatResolution(s.video)}, ${formatFrameRate(s.video.frameRate)}`,
        )
        : escapeHtml(NONE),
  },
  {
    field: "audio",
    label: "Audio",
    cell: (s) =>
      s.audio
        ? twoLines(
          formatAudioCodec(s.audio),
          `${formatSampleRate(s.audio.sampleRate)}, ${formatChannels(s.audio.channels)}`,
        )
        : escapeHtml(NONE),
  },
  {
    field: "bitrate",
    label: "Bitrate in",
    num: true,
    cell: (s) =>
      twoLines(
        formatBitrate(s.bitrate.video + s.bitrate.audio),
        `video ${formatBitrate(s.bitrate.video)}, audio ${formatBitrate(s.bitrate.audio)}`,
      ),
  },
  {
    field: "viewers",
    label: "Viewers",
    num: true,
    cell: (s) => twoLines(formatCount(s.viewers.total), formatByProtocol(s.viewers.byProtocol)),
  },
  { field: "drops", label: "Drops", num: true, cell: (s) => escapeHtml(formatCount(s.framesDropped)) },
  { field: "uptime", label: "Uptime", num: true, cell: (s) => escapeHtml(formatDuration(s.uptimeMs)) },
  {
    field: "play-urls",
    label: "Play",
    cell: (s) => {
      const items = PLAY_URLS.map((u) => ({ label: u.label, url: u.of(s.playUrls) }))
        .filter((u) => u.url !== null)
        .map((u) => `<li>${u.label} <code>${escapeHtml(u.url ?? "")}</code></li>`);
      return items.length ? `<ul class="urls">${items.join("")}</ul>` : escapeHtml(NONE);
    },
  },
];

/** A feed's ring buffer fill: "512 KiB of 1.00 MiB". */
function feedFill(f: StatusFeed): string {
  if (f.sizeBytes === undefined) return NONE;
  const size = formatBytes(f.sizeBytes);
  return f.maxSizeBytes === undefined ? size : `${size} of ${formatBytes(f.maxSizeBytes)}`;
}

/** The feeds table's columns. */
export const FEED_COLUMNS: readonly Column<StatusFeed>[] = [
  { field: "name", label: "Feed", cell: (f) => `<strong>${escapeHtml(f.name)}</strong>` },
  {
    field: "path",
    label: "Push to",
    cell: (f) => f.path ? `<code>${escapeHtml(f.path)}</code>` : escapeHtml(NONE),
  },
  { field: "stream", label: "Stream", cell: (f) => escapeHtml(f.key ?? NONE) },
  {
    field: "receiving",
    label: "Receiving",
    cell: (f) => escapeHtml(f.receiving === undefined ? NONE : f.receiving ? "yes" : "no"),
  },
  {
    field: "file",
    label: "File",
    cell: (f) => f.file ? `<code>${escapeHtml(f.file)}</code>` : escapeHtml(NONE),
  },
  { field: "size", label: "Size", num: true, cell: (f) => escapeHtml(feedFill(f)) },
  {
    field: "span",
    label: "Time held",
    num: true,
    cell: (f) => escapeHtml(f.spanMs === undefined ? NONE : formatDuration(f.spanMs)),
  },
];

/** The clients table's columns, in order. */
export const CLIENT_COLUMNS: readonly Column<SessionSnapshot>[] = [
  { field: "id", label: "Id", num: true, cell: (c) => escapeHtml(c.id) },
  { field: "protocol", label: "Protocol", cell: (c) => escapeHtml(c.protocol) },
  { field: "role", label: "Role", cell: (c) => escapeHtml(c.role) },
  { field: "remote", label: "Address", cell: (c) => escapeHtml(c.remote ?? NONE) },
  { field: "user-agent", label: "Agent", cell: (c) => escapeHtml(userAgentOf(c) ?? NONE) },
  { field: "stream", label: "Stream", cell: (c) => escapeHtml(c.key ?? NONE) },
  {
    field: "since",
    label: "Since",
    num: true,
    cell: (c, now) =>
      `<span title="${escapeHtml(new Date(c.startedAt).toISOString())}">${
        escapeHtml(formatAge(c.startedAt, now))
      }</span>`,
  },
  { field: "bytes-in", label: "In", num: true, cell: (c) => escapeHtml(formatBytes(c.bytesIn)) },
  { field: "bytes-out", label: "Out", num: true, cell: (c) => escapeHtml(formatBytes(c.bytesOut)) },
  {
    field: "lag",
    label: "Lag",
    num: true,
    cell: (c) => escapeHtml(c.role === Role.Player ? formatMs(c.lagMs) : NONE),
  },
  { field: "drops", label: "Drops", num: true, cell: (c) => escapeHtml(formatCount(c.framesDropped)) },
];

/**
 * A table of `rows` (at most `max`), each row carrying `rowAttrs`; `empty` when there are none, and a line
 * counting the rows left out past `max`.
 */
function table<T>(
  id: string,
  columns: readonly Column<T>[],
  rows: readonly T[],
  max: number,
  now: number,
  rowAttrs: (row: T) => string,
  empty: string,
): string {
  const head = `<thead><tr>${
    columns.map((c) => `<th scope="col">${escapeHtml(c.label)}</th>`).join("")
  }</tr></thead>`;
  const shown = rows.slice(0, max);
  const body = shown.length === 0
    ? `<tr><td class="empty muted" colspan="${columns.length}" data-field="empty">${
      escapeHtml(empty)
    }</td></tr>`
    : shown.map((r) =>
      `<tr ${rowAttrs(r)}>${
        columns.map((c) =>
          `<td data-field="${c.field}" data-label="${escapeHtml(c.label)}"${
            c.num ? ` class="num"` : ""
          }><div>${c.cell(r, now)}</div></td>`
        ).join("")
      }</tr>`
    ).join("\n");
  const more = rows.length - shown.length;
  return `<table id="${id}" class="cards">${head}<tbody>\n${body}\n</tbody></table>` +
    (more > 0 ? `\n<p class="muted" data-more="${id}">${formatCount(more)} more not shown.</p>` : "");
}

/** The server summary: one `<div><dt><dd></div>` per figure. */
function summary(server: ServerView): string {
  const items: [field: string, label: string, value: string][] = [
    ["version", "Version", `Sluice ${server.version}`],
    ["uptime", "Uptime", formatDuration(server.uptimeMs)],
    ["started", "Started", server.startedAt],
    ["connections", "Connections", formatCount(server.connections.total)],
    [
      "streams",
      "Streams live",
      `${formatCount(server.streams.live)} (${formatCount(server.streams.seen)} seen)`,
    ],
    ["bandwidth-in", "Bandwidth in now", formatBitrate(server.bandwidth.inBps)],
    ["bandwidth-out", "Bandwidth out now", formatBitrate(server.bandwidth.outBps)],
    ["total-in", "Received since start", formatBytes(server.bandwidth.inTotalBytes)],
    ["total-out", "Sent since start", formatBytes(server.bandwidth.outTotalBytes)],
  ];
  const listeners = server.listeners.map((l) => `${l.protocol} ${l.host}:${l.port}`).join(", ");
  items.push(["listeners", "Listening", listeners || NONE]);
  return `<dl class="summary" id="server">${
    items.map(([field, label, value]) =>
      `<div data-field="${field}"><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`
    ).join("")
  }</dl>`;
}

/** Connections now, one row per protocol (every protocol of the table, zeros included). */
function connectionsTable(byProtocol: Readonly<Record<string, number>>): string {
  const rows = Object.entries(byProtocol).map(([protocol, n]) =>
    `<tr data-protocol="${escapeHtml(protocol)}"><td data-field="protocol" data-label="Protocol">${
      escapeHtml(protocol)
    }</td><td data-field="connections" data-label="Connections" class="num">${
      escapeHtml(formatCount(n))
    }</td></tr>`
  ).join("\n");
  return `<table id="connections" class="plain"><thead><tr><th scope="col">Protocol</th><th scope="col">Connections</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The `?refresh=` seconds: 0 when absent; a RangeError for anything but a whole 0..STATUS_MAX_REFRESH_S. */
function refreshOf(url: URL): number {
  const raw = url.searchParams.get("refresh");
  if (raw === null || raw === "") return 0;
  const n = REFRESH_PARAM.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= STATUS_MAX_REFRESH_S)) {
    const shown = raw.length > 32 ? `${raw.slice(0, 32)}…` : raw;
    throw new RangeError(
      `Cannot show the status page: refresh "${shown}" is not a whole number of seconds from 0 to ${STATUS_MAX_REFRESH_S}`,
    );
  }
  return n;
}

/** By key, in code unit order (the same in every locale). */
function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * `GET /status`: the status page (HEAD: its headers). 405 for other methods; 400 (plain text) for a bad
 * `?refresh=`.
 */
export function serveStatus(ctx: StatusContext, req: Request): Response {
  const refused = refuseMethod(req, ApiMethods.Read);
  if (refused) return refused;
  const url = new URL(req.url);
  let refresh: number;
  try {
    refresh = refreshOf(url);
  } catch (e) {
    return new Response(`${(e as Error).message}\n`, {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  }
  const now = Date.now();
  const server = serverView(ctx);
  const host = hostOf(req);
  const ports = portsOf(ctx.listeners());
  const streams = ctx.hub.streams().map((s) => streamView(s.snapshot(), host, ports)).sort(byKey);
  const feeds = ctx.feeds?.() ?? [];
  const clients = ctx.hub.sessions.list();
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
${refresh > 0 ? `<meta http-equiv="refresh" content="${refresh}">\n` : ""}<title>Sluice status</title>
<link rel="icon" href="data:,">
<style>${STATUS_CSS}</style>
</head>
<body>
<header>
<h1>Sluice status</h1>
<p class="muted">Generated <time datetime="${new Date(now).toISOString()}">${
    escapeHtml(new Date(now).toISOString())
  }</time>. Reload the page for new figures${
    refresh > 0 ? ` (it reloads every ${refresh} s)` : `, or open <a href="?refresh=5">?refresh=5</a>`
  }. The live dashboard is at <a href="/admin/">/admin/</a>.</p>
</header>
<main>
<section aria-labelledby="h-server">
<h2 id="h-server">Server</h2>
${summary(server)}
<h2 id="h-connections">Connections by protocol</h2>
${connectionsTable(server.connections.byProtocol)}
</section>
<section aria-labelledby="h-streams">
<h2 id="h-streams">Streams (${formatCount(streams.length)})</h2>
${
    table(
      "streams",
      STREAM_COLUMNS,
      streams,
      STATUS_MAX_STREAMS,
      now,
      (s) => `data-stream="${escapeHtml(s.key)}"`,
      "No streams.",
    )
  }
</section>
<section aria-labelledby="h-feeds">
<h2 id="h-feeds">Feeds (${formatCount(feeds.length)})</h2>
${
    table(
      "feeds",
      FEED_COLUMNS,
      feeds,
      STATUS_MAX_FEEDS,
      now,
      (f) => `data-feed="${escapeHtml(f.name)}"`,
      "No feeds configured.",
    )
  }
</section>
<section aria-labelledby="h-clients">
<h2 id="h-clients">Clients (${formatCount(clients.length)})</h2>
${
    table(
      "clients",
      CLIENT_COLUMNS,
      clients,
      STATUS_MAX_CLIENTS,
      now,
      (c) => `data-client-id="${escapeHtml(c.id)}" data-role="${escapeHtml(c.role)}"`,
      "No clients.",
    )
  }
</section>
</main>
</body>
</html>
`;
  return new Response(html, { headers: { ...STATUS_HEADERS, "content-security-policy": STATUS_CSP } });
}
