/**
 * The admin page's entry (bundled by src/admin/build.ts into
 * src/admin/dist/admin.html): finds the page's elements, gives the App its
 * browser (EventSource, fetch, requestAnimationFrame), draws each state with
 * patch(), runs the buttons through one delegated click listener, and hands
 * uPlot and mpegts.js to the graphs and the preview. Everything with a rule
 * lives in the modules it wires; this file only connects them to the DOM.
 *
 * The browser is reached through the interfaces declared here (Deno's type
 * checker has no DOM library, and the page uses little of it).
 *
 * @module
 */
import uPlot from "uplot";
import mpegts from "mpegts.js";
import { type ActionEnv, NoticeLevel, readAction, runAction } from "./actions.ts";
import { previewUrl } from "./api.ts";
import { App, type FeedSource, type JsonAnswer } from "./app.ts";
import { clientsView } from "./clients_view.ts";
import { type ChartFactory, ChartKind, Charts, type ChartTheme } from "./graphs.ts";
import { logsView } from "./logs_view.ts";
import { latencyText, type PlayerLib, Preview, type PreviewMedia } from "./preview.ts";
import { feedView, serverView } from "./server_view.ts";
import { ActionType, type PageState } from "./state.ts";
import { streamsView } from "./streams_view.ts";
import { type DomDocument, type DomElement, patch } from "./vdom.ts";

/** How long a notice stays, ms. */
const NOTICE_MS = 4_000;

/** An element as this file uses it. */
interface PageElement extends DomElement {
  hidden: boolean;
  textContent: string | null;
  value: string;
  readonly clientWidth: number;
  disabled?: boolean;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  addEventListener(type: string, listener: (ev: PageEvent) => void): void;
  select(): void;
  remove(): void;
  scrollIntoView(options: { block: string; behavior: string }): void;
  append(node: PageElement): void;
}

/** An event as this file uses it. */
interface PageEvent {
  readonly target: { closest?: (selector: string) => PageElement | null } | null;
  preventDefault(): void;
}

/** The document as this file uses it. */
interface PageDocument extends DomDocument {
  readonly body: PageElement;
  readonly documentElement: PageElement;
  getElementById(id: string): PageElement | null;
  createElement(tag: string): PageElement;
  addEventListener(type: string, listener: (ev: PageEvent) => void): void;
  execCommand(command: string): boolean;
}

/** The window as this file uses it. */
interface PageWindow {
  readonly document: PageDocument;
  readonly location: { readonly origin: string };
  readonly isSecureContext: boolean;
  readonly navigator: { readonly clipboard?: { writeText(text: string): Promise<void> } };
  EventSource: new (url: string) => FeedSource;
  fetch(url: string, init: Record<string, unknown>): Promise<{ status: number; json(): Promise<unknown> }>;
  requestAnimationFrame(fn: () => void): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
  setInterval(fn: () => void, ms: number): number;
  clearInterval(id: number): void;
  confirm(message: string): boolean;
  matchMedia(query: string): { addEventListener(type: "change", listener: () => void): void };
  getComputedStyle(el: PageElement): { getPropertyValue(name: string): string };
  addEventListener(type: string, listener: () => void): void;
}

const win = globalThis as unknown as PageWindow;
const doc = win.document;

function byId(id: string): PageElement {
  const el = doc.getElementById(id);
  if (!el) throw new Error(`Cannot start the admin page: no #${id}`);
  return el;
}

const mounts = {
  feed: byId("feed-status"),
  streams: byId("streams"),
  streamCount: byId("stream-count"),
  clients: byId("clients"),
  clientCount: byId("client-count"),
  clientFilter: byId("client-filter"),
  server: byId("server"),
  logs: byId("logs"),
  notice: byId("notice"),
  preview: byId("preview"),
  previewTitle: byId("preview-title"),
  previewLatency: byId("preview-latency"),
  previewVideo: byId("preview-video"),
  graphs: {
    [ChartKind.Bitrate]: byId("graph-bitrate"),
    [ChartKind.Viewers]: byId("graph-viewers"),
    [ChartKind.Lag]: byId("graph-lag"),
  },
};

/** Minutes east of UTC, for log clock times. */
const offsetMin = -new Date().getTimezoneOffset();

function theme(): ChartTheme {
  const css = win.getComputedStyle(doc.documentElement);
  return {
    fg: css.getPropertyValue("--muted").trim() || "#5b6475",
    grid: css.getPropertyValue("--grid").trim() || "rgba(128, 128, 128, 0.2)",
  };
}

function graphWidth(): number {
  return Math.max(200, mounts.graphs[ChartKind.Bitrate].clientWidth);
}

const chartFactory: ChartFactory = (options, data, target) =>
  new uPlot(options as never, data as never, target as never);
const charts = new Charts(chartFactory, mounts.graphs, theme(), graphWidth());

let noticeTimer: number | undefined;
function notify(message: string, level: NoticeLevel): void {
  mounts.notice.textContent = message;
  mounts.notice.setAttribute("data-level", level);
  mounts.notice.hidden = false;
  if (noticeTimer !== undefined) win.clearTimeout(noticeTimer);
  noticeTimer = win.setTimeout(() => {
    mounts.notice.hidden = true;
    noticeTimer = undefined;
  }, NOTICE_MS);
}

const preview = new Preview(
  mpegts as unknown as PlayerLib,
  mounts.previewVideo as unknown as PreviewMedia,
  win,
  (ms) => mounts.previewLatency.textContent = latencyText(ms),
  (message) => notify(message, NoticeLevel.Error),
);

async function getJson(path: string): Promise<JsonAnswer> {
  const res = await win.fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

function render(state: PageState): void {
  patch(doc, mounts.feed, [feedView(state.feed)]);
  patch(doc, mounts.streams, [streamsView(state.streams, state.now, state.previewKey)]);
  patch(doc, mounts.streamCount, [String(state.streams.length)]);
  patch(doc, mounts.clients, [clientsView(state.clients, state.now, state.clientFilter)]);
  patch(doc, mounts.clientCount, [String(state.clients.length)]);
  patch(doc, mounts.server, [serverView(state.server)]);
  patch(doc, mounts.logs, [logsView(state.logs, offsetMin)]);
  charts.update(app.series);
  if (state.previewKey !== null && !state.streams.some((s) => s.key === state.previewKey)) {
    win.setTimeout(stopPreview, 0); // the stream ended: close its preview (outside this draw)
  }
}

const app = new App({
  openFeed: (url) => new win.EventSource(url),
  getJson,
  render: (state) => render(state),
  schedule: (fn) => void win.requestAnimationFrame(fn),
  setTimeout: (fn, ms) => win.setTimeout(fn, ms),
  clearTimeout: (id) => win.clearTimeout(id),
  now: () => Date.now(),
});

function stopPreview(): void {
  preview.stop();
  mounts.preview.hidden = true;
  mounts.previewLatency.textContent = "";
  app.dispatch({ type: ActionType.Preview, key: null });
}

/** Copies with the Clipboard API where the page is a secure context, else through a selected textarea. */
async function copy(text: string): Promise<void> {
  const clipboard = win.navigator.clipboard;
  if (clipboard && win.isSecureContext) return await clipboard.writeText(text);
  const area = doc.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.setAttribute("class", "offscreen");
  doc.body.append(area);
  area.select();
  const ok = doc.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("the browser refused to copy");
}

const actionEnv: ActionEnv = {
  confirm: (message) => win.confirm(message),
  post: async (path) => {
    const res = await win.fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  },
  copy,
  preview: (key) => {
    const stream = app.state.streams.find((s) => s.key === key);
    if (!stream) return;
    preview.start(key, previewUrl(stream, win.location.origin));
    mounts.previewTitle.textContent = `Preview: ${key}`;
    mounts.preview.hidden = false;
    mounts.preview.scrollIntoView({ block: "nearest", behavior: "smooth" });
    app.dispatch({ type: ActionType.Preview, key });
  },
  stopPreview,
  notify,
};

doc.addEventListener("click", (ev) => {
  const el = ev.target?.closest?.("[data-action]");
  if (!el || el.disabled) return;
  const cmd = readAction(el);
  if (!cmd) return;
  ev.preventDefault();
  void runAction(cmd, actionEnv);
});

mounts.clientFilter.addEventListener("input", () => {
  app.dispatch({ type: ActionType.Filter, text: mounts.clientFilter.value });
});

let resizePending = false;
win.addEventListener("resize", () => {
  if (resizePending) return;
  resizePending = true;
  win.requestAnimationFrame(() => {
    resizePending = false;
    charts.resize(graphWidth());
  });
});

win.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  charts.retheme(theme());
  app.redraw();
});

void app.start();
