/**
 * The status page as a pure `Request -> Response` call over a real StreamHub
 * (fake publishers and sinks behind it) and a History sampled by hand: what a
 * reader sees in each table (streams, feeds, clients) and in the server
 * summary, hostile names and user agents escaped, no script anywhere, and the
 * headers (strict CSP whose style hash is checked with WebCrypto here, no-store).
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePacker, FakePublisher, FakeSink, frames, limits, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { AdminListener } from "../../src/admin/context.ts";
import { History } from "../../src/admin/history.ts";
import {
  CLIENT_COLUMNS,
  serveStatus,
  STATUS_CSP,
  STATUS_MAX_CLIENTS,
  STATUS_MAX_REFRESH_S,
  type StatusContext,
  STREAM_COLUMNS,
} from "../../src/admin/status_page.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";
import { Logger } from "../../src/log.ts";
import { VERSION } from "../../src/version.ts";

const BASE = "http://media.example:8000";

/** Deno.test with the op and resource sanitizers. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

const LISTENERS: AdminListener[] = [
  { protocol: "rtmp", host: "0.0.0.0", port: 1935 },
  { protocol: "http", host: "0.0.0.0", port: 8000 },
];

/** What an attacker would name a stream, an address or a user agent. */
const HOSTILE = `<script>alert("x")</script><img src=x onerror='alert(1)'>&amp;`;

/** Runs `fn` with a context around a fresh hub (merge window 0, grace 10 s); stops the hub afterwards. */
async function withCtx(
  fn: (ctx: StatusContext & { hub: StreamHub }) => void | Promise<void>,
  extra: Pick<StatusContext, "feeds"> = {},
): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: 10_000 }, log);
  const history = new History(hub, { log });
  try {
    await fn({
      hub,
      history,
      log,
      startedAt: Date.now() - 65_000,
      listeners: () => LISTENERS,
      sseMaxClients: 32,
      sseMaxBacklogBytes: 1 << 20,
      ...extra,
    });
  } finally {
    history.stop();
    hub.stop();
  }
}

function get(path: string, init: RequestInit = {}): Request {
  return new Request(`${BASE}${path}`, init);
}

/** A player subscriber of `key` on the hub. */
function attachPlayer(hub: StreamHub, key: string, protocol: string): Subscriber {
  const sub = new Subscriber(`p ${protocol}`, new FakePacker(), new FakeSink(), limits(), new Logger(), {
    protocol,
  });
  assert(hub.attach(key, sub), `attached to ${key}`);
  return sub;
}

/** The page's HTML after asserting a 200 HTML answer. */
async function page(ctx: StatusContext, path = "/status"): Promise<string> {
  const res = serveStatus(ctx, get(path));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/html; charset=utf-8");
  return await res.text();
}

/** HTML text as a reader sees it: tags dropped, character references decoded, spaces collapsed. */
function textOf(html: string): string {
  const named: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return html
    .replace(/<(li|small|br)\b[^>]*>/g, " ")
    .replace(/<[^>]*>/g, "")
    .replace(
      /&(?:#(\d+)|([a-z]+));/g,
      (ref, n, name) => n ? String.fromCharCode(Number(n)) : named[name] ?? ref,
    )
    .replace(/\s+/g, " ")
    .trim();
}

/** `value` as it appears in a quoted attribute of the page (the page escapes `&<>"'` as numeric references). */
function attr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The inner HTML of the table row `<tr name="value" ...>`; fails when there is none. */
function row(html: string, name: string, value: string): string {
  const start = html.indexOf(`<tr ${name}="${attr(value)}"`);
  assert(start >= 0, `a row ${name}="${value}"`);
  return html.slice(start, html.indexOf("</tr>", start));
}

/** The rows of `<table id="id">`. */
function rowsOf(html: string, id: string): string[] {
  const start = html.indexOf(`<table id="${id}"`);
  assert(start >= 0, `table #${id}`);
  const body = html.slice(html.indexOf("<tbody>", start), html.indexOf("</tbody>", start));
  return body.split("<tr").slice(1);
}

/** The text of a row's `data-field` cell. */
function cell(rowHtml: string, field: string): string {
  const m = rowHtml.match(new RegExp(`<td[^>]*\\sdata-field="${field}"[^>]*>([\\s\\S]*?)</td>`));
  assert(m, `a ${field} cell in ${rowHtml.slice(0, 80)}`);
  return textOf(m[1]);
}

/** The text of a server summary figure. */
function figure(html: string, field: string): string {
  const m = html.match(new RegExp(`<div data-field="${field}"><dt>[^<]*</dt><dd>([\\s\\S]*?)</dd></div>`));
  assert(m, `a ${field} figure`);
  return textOf(m[1]);
}

/** `'sha256-BASE64'` of a text's UTF-8 bytes, by WebCrypto. */
async function sha256Source(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

// ---------------------------------------------------------------------------------------------
// Streams

test("serveStatus() shows a stream's row with its key, state, publisher, viewers by protocol and play URLs", async () => {
  await withCtx(async (ctx) => {
    const stream = ctx.hub.publish(
      "live/cam",
      new FakePublisher("rtmp 10.0.0.1:5000", { protocol: Protocol.Rtmp, remote: "10.0.0.1:5000" }),
    );
    for (const f of [frames.videoHeader(0), frames.audioHeader(0), frames.key(0, 100)]) {
      stream.push(f.kind, f.timestamp, f.payload);
    }
    const subs = [
      attachPlayer(ctx.hub, "live/cam", Protocol.HttpFlv),
      attachPlayer(ctx.hub, "live/cam", Protocol.Rtmp),
      attachPlayer(ctx.hub, "live/cam", Protocol.Rtmp),
    ];
    const html = await page(ctx);
    const r = row(html, "data-stream", "live/cam");
    assertEquals(cell(r, "key"), "live/cam");
    assertEquals(cell(r, "state"), "live");
    assertEquals(cell(r, "publisher"), "rtmp 10.0.0.1:5000");
    assertEquals(cell(r, "viewers"), "3 http-flv 1 · rtmp 2");
    assertMatch(cell(r, "video"), /^H\.264/);
    assertMatch(cell(r, "audio"), /^AAC/);
    assertEquals(cell(r, "drops"), "0");
    assertEquals(
      cell(r, "play-urls"),
      "RTMP rtmp://media.example:1935/live/cam HTTP-FLV http://media.example:8000/live/cam.flv " +
        "WS-FLV ws://media.example:8000/live/cam.flv",
    );
    assertEquals(
      STREAM_COLUMNS.map((c) => c.field).filter((f) => !r.includes(`data-field="${f}"`)),
      [],
      "every column has a cell",
    );
    assert(html.includes("Streams (1)"), "the heading counts the streams");
    for (const s of subs) s.close("test over");
  });
});

test("serveStatus() lists streams by key, and says so when there are none", async () => {
  await withCtx(async (ctx) => {
    const empty = await page(ctx);
    assertEquals(cell(rowsOf(empty, "streams")[0], "empty"), "No streams.");
    ctx.hub.publish("live/b", new FakePublisher());
    ctx.hub.publish("live/a", new FakePublisher());
    const html = await page(ctx);
    const keys = rowsOf(html, "streams").map((r) => cell(r, "key"));
    assertEquals(keys, ["live/a", "live/b"]);
  });
});

test("serveStatus() shows a stream in grace with no publisher", async () => {
  await withCtx(async (ctx) => {
    const publisher = new FakePublisher();
    const stream = ctx.hub.publish("live/cam", publisher);
    ctx.hub.unpublish(stream, publisher);
    const r = row(await page(ctx), "data-stream", "live/cam");
    assertEquals(cell(r, "state"), "grace");
    assertEquals(cell(r, "publisher"), "—");
  });
});

// ---------------------------------------------------------------------------------------------
// Escaping, script, headers

test("serveStatus() escapes a hostile stream name, publisher address, client address and user agent", async () => {
  await withCtx(async (ctx) => {
    const key = `live/${HOSTILE}`;
    ctx.hub.publish(key, new FakePublisher(HOSTILE, { protocol: HOSTILE, remote: HOSTILE }));
    const entry = ctx.hub.sessions.open({
      protocol: Protocol.HttpFlv,
      role: Role.Player,
      remote: HOSTILE,
      key,
      counters: () => ({}),
      request: { method: "GET", url: "/live/x.flv", userAgent: HOSTILE },
    });
    const res = serveStatus(ctx, get("/status"));
    const html = await res.text();
    assert(!html.includes("<script"), "no <script> element");
    assert(!html.includes("<img"), "no injected element");
    assert(!html.includes(HOSTILE), "the raw text appears nowhere");
    const s = row(html, "data-stream", key);
    assertEquals(cell(s, "key"), key);
    assertEquals(cell(s, "publisher"), `${HOSTILE} ${HOSTILE}`);
    const c = row(html, "data-client-id", entry.id);
    assertEquals(cell(c, "remote"), HOSTILE);
    assertEquals(cell(c, "user-agent"), HOSTILE);
    assertEquals(cell(c, "stream"), key);
    entry.end();
  });
});

test("serveStatus() escapes a hostile Host in the play URLs", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    // A Host header the URL parser keeps as a host name with characters that matter in HTML.
    const html = await serveStatus(ctx, new Request(`http://a&b"c/status`)).text();
    const r = row(html, "data-stream", "live/cam");
    assert(!html.includes(`a&b"c`), "the raw host appears nowhere");
    assertMatch(cell(r, "play-urls"), /^RTMP rtmp:\/\/a&b"c:1935\/live\/cam /);
  });
});

test("serveStatus() answers a page without any script, with a strict CSP that allows its one style", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    const res = serveStatus(ctx, get("/status"));
    const html = await res.text();
    assert(!/<script/i.test(html), "no <script>");
    assert(!/\son[a-z]+\s*=/i.test(html), "no event handler attribute");
    assert(!/javascript:/i.test(html), "no javascript: URL");
    const csp = res.headers.get("content-security-policy");
    assertEquals(csp, STATUS_CSP);
    const directives = new Map(
      (csp ?? "").split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...v]) => [name, v]),
    );
    assertEquals(directives.get("default-src"), ["'none'"]);
    assertEquals(directives.get("script-src"), undefined, "scripts fall back to default-src 'none'");
    assertEquals(directives.get("frame-ancestors"), ["'none'"]);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    assertEquals(styles.length, 1, "one inline style");
    assertEquals(directives.get("style-src"), [await sha256Source(styles[0])]);
    assertEquals(res.headers.get("cache-control"), "no-store");
    assertEquals(res.headers.get("x-content-type-options"), "nosniff");
    assertEquals(res.headers.get("x-frame-options"), "DENY");
  });
});

test("serveStatus() has a phone-width viewport and light and dark colours", async () => {
  await withCtx(async (ctx) => {
    const html = await page(ctx);
    assert(html.includes(`<meta name="viewport" content="width=device-width, initial-scale=1">`));
    assert(html.includes(`<meta name="color-scheme" content="light dark">`));
    assert(html.includes("@media (prefers-color-scheme: dark)"));
    assert(/@media \(max-width: \d+px\)/.test(html), "a narrow-screen layout");
  });
});

// ---------------------------------------------------------------------------------------------
// Server summary

test("serveStatus() shows the version, uptime, connections by protocol and bandwidth now and in total", async () => {
  await withCtx(async (ctx) => {
    let now = Date.now();
    let bytesIn = 0;
    let bytesOut = 0;
    const history = new History(ctx.hub, { clock: () => now, log: ctx.log });
    const rtmp = ctx.hub.sessions.open({ protocol: Protocol.Rtmp, counters: () => ({ bytesIn }) });
    const flv = ctx.hub.sessions.open({ protocol: Protocol.HttpFlv, counters: () => ({ bytesOut }) });
    history.sample();
    bytesIn = 250_000;
    bytesOut = 3 << 20;
    now += 1_000;
    history.sample();
    const html = await page({ ...ctx, history });
    assertEquals(figure(html, "version"), `Sluice ${VERSION}`);
    assertMatch(figure(html, "uptime"), /^1 min \d\d s$/, "started 65 s ago");
    assertEquals(figure(html, "started"), new Date(ctx.startedAt).toISOString());
    assertEquals(figure(html, "connections"), "2");
    assertEquals(figure(html, "bandwidth-in"), "2.00 Mbit/s", "250 kB in a second");
    assertEquals(figure(html, "bandwidth-out"), "25.2 Mbit/s", "3 MiB in a second");
    assertEquals(figure(html, "total-in"), "244 KiB");
    assertEquals(figure(html, "total-out"), "3.00 MiB");
    assertEquals(figure(html, "streams"), "0 (0 seen)");
    assertEquals(figure(html, "listeners"), "rtmp 0.0.0.0:1935, http 0.0.0.0:8000");
    assertEquals(cell(row(html, "data-protocol", Protocol.Rtmp), "connections"), "1");
    assertEquals(cell(row(html, "data-protocol", Protocol.HttpFlv), "connections"), "1");
    assertEquals(cell(row(html, "data-protocol", Protocol.WsFlv), "connections"), "0");
    rtmp.end();
    flv.end();
  });
});

// ---------------------------------------------------------------------------------------------
// Feeds

test("serveStatus() shows a labelled, empty feeds table when the context has no feeds", async () => {
  await withCtx(async (ctx) => {
    const html = await page(ctx);
    assert(html.includes(`<h2 id="h-feeds">Feeds (0)</h2>`));
    assertEquals(cell(rowsOf(html, "feeds")[0], "empty"), "No feeds configured.");
  });
});

test("serveStatus() shows each feed the context's feeds() gives", async () => {
  await withCtx(async (ctx) => {
    const html = await page(ctx);
    const r = row(html, "data-feed", "feed1.ffm");
    assertEquals(cell(r, "name"), "feed1.ffm");
    assertEquals(cell(r, "path"), "/feed1.ffm");
    assertEquals(cell(r, "stream"), "live/feed1");
    assertEquals(cell(r, "receiving"), "yes");
    assertEquals(cell(r, "file"), "/tmp/feed1.ffm");
    assertEquals(cell(r, "size"), "512 KiB of 1.00 MiB");
    assertEquals(cell(r, "span"), "42 s");
    const bare = row(html, "data-feed", HOSTILE);
    assertEquals(cell(bare, "name"), HOSTILE);
    assertEquals(cell(bare, "size"), "—");
  }, {
    feeds: () => [
      {
        name: "feed1.ffm",
        path: "/feed1.ffm",
        key: "live/feed1",
        receiving: true,
        file: "/tmp/feed1.ffm",
        sizeBytes: 512 << 10,
        maxSizeBytes: 1 << 20,
        spanMs: 42_000,
      },
      { name: HOSTILE },
    ],
  });
});

// ---------------------------------------------------------------------------------------------
// Clients

test("serveStatus() lists each client with its id, protocol, role, address, stream, since, bytes and lag", async () => {
  await withCtx(async (ctx) => {
    const player = ctx.hub.sessions.open({
      protocol: Protocol.Rtmp,
      role: Role.Player,
      remote: "10.0.0.2:6000",
      key: "live/cam",
      counters: () => ({ bytesIn: 3_000, bytesOut: 1_536, lagMs: 120.4, framesDropped: 1234 }),
      request: { method: "PLAY", url: "rtmp://media.example/live/cam", userAgent: "LNX 9,0,124,2" },
    });
    const pending = ctx.hub.sessions.open({
      protocol: Protocol.Rtmp,
      remote: "10.0.0.3:7000",
      counters: () => ({}),
    });
    const html = await page(ctx);
    const r = row(html, "data-client-id", player.id);
    assertEquals(cell(r, "id"), player.id);
    assertEquals(cell(r, "protocol"), "rtmp");
    assertEquals(cell(r, "role"), "player");
    assertEquals(cell(r, "remote"), "10.0.0.2:6000");
    assertEquals(cell(r, "user-agent"), "LNX 9,0,124,2");
    assertEquals(cell(r, "stream"), "live/cam");
    assertMatch(cell(r, "since"), /^\d+ s ago$/);
    assertEquals(cell(r, "bytes-in"), "2.93 KiB");
    assertEquals(cell(r, "bytes-out"), "1.50 KiB");
    assertEquals(cell(r, "lag"), "120 ms");
    assertEquals(cell(r, "drops"), "1,234");
    assertEquals(
      CLIENT_COLUMNS.map((c) => c.field).filter((f) => !r.includes(`data-field="${f}"`)),
      [],
      "every column has a cell",
    );
    const p = row(html, "data-client-id", pending.id);
    assertEquals([cell(p, "role"), cell(p, "stream"), cell(p, "lag"), cell(p, "user-agent")], [
      "pending",
      "—",
      "—",
      "—",
    ]);
    assertEquals(rowsOf(html, "clients").length, 2, "in the order they opened");
    player.end();
    pending.end();
  });
});

test("serveStatus() draws at most STATUS_MAX_CLIENTS clients and counts the rest", async () => {
  await withCtx(async (ctx) => {
    const entries = Array.from(
      { length: STATUS_MAX_CLIENTS + 3 },
      () => ctx.hub.sessions.open({ protocol: Protocol.HttpVod, counters: () => ({}) }),
    );
    const html = await page(ctx);
    assertEquals(rowsOf(html, "clients").length, STATUS_MAX_CLIENTS);
    assertMatch(html, /<p class="muted" data-more="clients">3 more not shown\.<\/p>/);
    assert(html.includes("Clients (1,003)"), "the heading counts every client");
    for (const e of entries) e.end();
  });
});

// ---------------------------------------------------------------------------------------------
// Requests

test("serveStatus() adds a meta refresh for ?refresh=N and refuses a bad one with 400", async () => {
  await withCtx(async (ctx) => {
    assert(!(await page(ctx)).includes(`http-equiv="refresh"`), "no refresh by default");
    assert((await page(ctx, "/status?refresh=5")).includes(`<meta http-equiv="refresh" content="5">`));
    for (const bad of ["abc", "-1", "1.5", String(STATUS_MAX_REFRESH_S + 1), "<b>"]) {
      const res = serveStatus(ctx, get(`/status?refresh=${encodeURIComponent(bad)}`));
      assertEquals(res.status, 400, bad);
      assertEquals(res.headers.get("content-type"), "text/plain; charset=utf-8");
      const text = await res.text();
      assertMatch(text, /^Cannot show the status page: refresh ".*" is not a whole number of seconds/);
      assert(!text.trimEnd().endsWith("."), "no final period");
    }
  });
});

test("serveStatus() answers 405 with allow to a POST", async () => {
  await withCtx(async (ctx) => {
    const res = serveStatus(ctx, get("/status", { method: "POST" }));
    assertEquals(res.status, 405);
    assertEquals(res.headers.get("allow"), "GET, HEAD");
    assertMatch((await res.json()).error, /^Cannot POST \/status: allowed GET, HEAD$/);
  });
});
