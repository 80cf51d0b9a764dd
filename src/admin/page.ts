/**
 * The two HTML pages of the HTTP port: the admin dashboard at `/admin/` (the
 * committed one-file bundle of src/admin/build.ts, imported as text: no read
 * permission, no build step to run the server) and the landing page at `/`.
 *
 * Both are pure `-> Response` functions with a strict Content-Security-Policy:
 * the dashboard's one inline script and one inline style are allowed by their
 * SHA-256 (computed once, when this module loads), everything else it loads
 * must be same-origin (the API, the SSE feed, HTTP-FLV for the preview), and
 * the preview's MediaSource is a blob: URL. The landing page allows nothing
 * but its own inline style. Neither may be framed.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { StreamSnapshot } from "../hub/stream.ts";
import { hostOf, portsOf, type StreamView, streamView } from "./api.ts";
import type { AdminListener } from "./context.ts";
import ADMIN_HTML from "./dist/admin.html" with { type: "text" };
import { StreamState } from "./page/api.ts";

/** Streams the landing page lists at most (the rest are counted). */
export const LANDING_MAX_STREAMS = 100;

/**
 * What the landing page reads (STYLE 10; the admin API's AdminContext has it): the hub's streams and
 * the bound listeners, from which the API's `streamView()` builds each stream's play URLs for the
 * request's host name, as `GET /api/v1/streams` does.
 */
export interface LandingContext {
  hub: { streams(): readonly { snapshot(): StreamSnapshot }[] };
  listeners(): readonly AdminListener[];
}

/** `'sha256-...'` of a text, for a CSP source list (the hash is over its UTF-8 bytes). */
export function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** The text of the one `<tag>...</tag>` element of `html`. */
function inlineText(html: string, tag: "script" | "style"): string {
  const open = `<${tag}>`;
  const start = html.indexOf(open);
  const end = html.indexOf(`</${tag}>`, start);
  if (start < 0 || end < 0 || html.indexOf(open, end) >= 0) {
    throw new Error(`Cannot serve the admin page: expected one inline <${tag}> in src/admin/dist/admin.html`);
  }
  return html.slice(start + open.length, end);
}

/** Headers both pages carry besides their CSP. */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

/**
 * The dashboard sends its referrer (and so a real `Origin`) to its own origin only: under `no-referrer` a
 * browser sends `Origin: null` with a same-origin POST, which the guard's same-origin check would refuse
 * where `Sec-Fetch-Site` is missing.
 */
const ADMIN_REFERRER_POLICY = "same-origin";
/** The landing page has nothing to post: it sends no referrer at all. */
const LANDING_REFERRER_POLICY = "no-referrer";

/** The dashboard's Content-Security-Policy. */
export const ADMIN_CSP: string = [
  "default-src 'self'",
  `script-src ${cspHash(inlineText(ADMIN_HTML, "script"))}`,
  `style-src ${cspHash(inlineText(ADMIN_HTML, "style"))}`,
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** `GET /admin/`: the dashboard, one self-contained HTML file. */
export function serveAdminPage(): Response {
  return new Response(ADMIN_HTML, {
    headers: {
      ...PAGE_HEADERS,
      "referrer-policy": ADMIN_REFERRER_POLICY,
      "content-security-policy": ADMIN_CSP,
    },
  });
}

/** The landing page's style (its CSP allows exactly this text). */
const LANDING_CSS = `
:root { color-scheme: light dark; --fg: #1c2230; --muted: #5b6475; --bg: #f6f7f9; --line: #d9dde5; --accent: #2563eb; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e4e8f0; --muted: #9aa3b5; --bg: #10131a; --line: #2c3342; --accent: #7aa7ff; }
}
html { background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { max-width: 760px; margin: 0 auto; padding: 24px 16px; }
a { color: var(--accent); }
h1 { margin: 0 0 4px; font-size: 24px; }
p.lead { margin: 0 0 16px; color: var(--muted); }
ul.streams { list-style: none; padding: 0; }
ul.streams > li { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; margin: 0 0 8px; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; margin: 6px 0 0; }
dt { color: var(--muted); }
dd { margin: 0; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
`;

/** The landing page's Content-Security-Policy: nothing loads, only its style applies. */
export const LANDING_CSP: string = [
  "default-src 'none'",
  `style-src ${cspHash(LANDING_CSS)}`,
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The play URL rows of a stream: label and URL. */
const PLAY_URLS: readonly { label: string; of: (u: StreamView["playUrls"]) => string | null }[] = [
  { label: "RTMP", of: (u) => u.rtmp },
  { label: "HTTP-FLV", of: (u) => u.httpFlv },
  { label: "WebSocket-FLV", of: (u) => u.wsFlv },
];

function streamItem(s: StreamView): string {
  const urls = PLAY_URLS.map((u) => {
    const url = u.of(s.playUrls);
    return url ? `<dt>${u.label}</dt><dd><code>${escapeHtml(url)}</code></dd>` : "";
  }).join("");
  const viewers = `${s.players} viewer${s.players === 1 ? "" : "s"}`;
  return `<li data-stream="${escapeHtml(s.key)}"><strong>${escapeHtml(s.key)}</strong> ` +
    `<span class="muted">${escapeHtml(s.state)}, ${viewers}</span><dl>${urls}</dl></li>`;
}

function streamList(streams: readonly StreamView[]): string {
  if (streams.length === 0) {
    return `<h2>Live streams</h2>\n<p class="muted" id="no-streams">No live streams.</p>`;
  }
  const shown = streams.slice(0, LANDING_MAX_STREAMS);
  const more = streams.length - shown.length;
  return `<h2>Live streams</h2>\n<ul class="streams" id="streams">${shown.map(streamItem).join("\n")}</ul>` +
    (more > 0 ? `\n<p class="muted" id="more-streams">${more} more not shown.</p>` : "");
}

/** The streams to list, every state but "ended", by key, with URLs for the request's host. */
function landingStreams(ctx: LandingContext, req: Request): StreamView[] {
  const host = hostOf(req);
  const ports = portsOf(ctx.listeners());
  return ctx.hub.streams()
    .map((s) => streamView(s.snapshot(), host, ports))
    .filter((s) => s.state !== StreamState.Ended)
    .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * `GET /`: what this server is and a link to the dashboard; with `list` (the
 * caller passes whether this request may see the dashboard), the live streams
 * and their play URLs.
 */
export function serveLanding(ctx: LandingContext, req: Request, list: boolean): Response {
  const body = list ? streamList(landingStreams(ctx, req)) : "";
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Sluice</title>
<link rel="icon" href="data:,">
<style>${LANDING_CSS}</style>
</head>
<body>
<h1>Sluice</h1>
<p class="lead">A live streaming media server: RTMP, HTTP-FLV and WebSocket-FLV.</p>
<p><a href="/admin/" id="admin-link">Open the dashboard</a></p>
${body}
</body>
</html>
`;
  return new Response(html, {
    headers: {
      ...PAGE_HEADERS,
      "referrer-policy": LANDING_REFERRER_POLICY,
      "content-security-policy": LANDING_CSP,
    },
  });
}
