/**
 * The dashboard and the landing page as pure functions: headers, the
 * Content-Security-Policy (checked against hashes computed here with
 * WebCrypto, not with the module's own helper) and the landing page's list
 * over a real hub with fake publishers.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePacker, FakePublisher, FakeSink, limits, RecordingLogger } from "../_util/hub_fakes.ts";
import type { AdminListener } from "../../src/admin/context.ts";
import {
  ADMIN_CSP,
  cspHash,
  escapeHtml,
  LANDING_MAX_STREAMS,
  type LandingContext,
  serveAdminPage,
  serveLanding,
} from "../../src/admin/page.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { StreamSnapshot } from "../../src/hub/stream.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";

const COMMITTED = new URL("../../src/admin/dist/admin.html", import.meta.url);

/** `'sha256-BASE64'` of a text's UTF-8 bytes, by WebCrypto. */
async function sha256Source(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

/** The CSP as a map of directive -> sources. */
function directives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(";").map((p) => p.trim()).filter((p) => p)) {
    const [name, ...sources] = part.split(/\s+/);
    out.set(name, sources);
  }
  return out;
}

/** The text inside the one `<tag>` element. */
function inline(html: string, tag: string): string {
  const m = html.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`));
  assert(m, `an inline <${tag}>`);
  return m[1];
}

const LISTENERS: AdminListener[] = [
  { protocol: "rtmp", host: "0.0.0.0", port: 1935 },
  { protocol: "http", host: "0.0.0.0", port: 8000 },
];

/** Runs `fn` with a landing context around a fresh hub (merge window 0); stops the hub afterwards. */
async function withHub(
  fn: (ctx: LandingContext, hub: StreamHub, log: RecordingLogger) => Promise<void>,
  listeners = LISTENERS,
): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0 }, log);
  try {
    await fn({ hub, listeners: () => listeners }, hub, log);
  } finally {
    hub.stop();
  }
}

/** A context whose one stream's snapshot is `snap` (for states a real hub does not list). */
function oneSnapshot(snap: StreamSnapshot): LandingContext {
  return { hub: { streams: () => [{ snapshot: () => snap }] }, listeners: () => LISTENERS };
}

const REQ = new Request("http://h:8000/");

Deno.test("serveAdminPage() answers 200 with the committed bundle as no-cache HTML", async () => {
  const res = serveAdminPage();
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/html; charset=utf-8");
  assertEquals(res.headers.get("cache-control"), "no-cache");
  assertEquals(res.headers.get("x-content-type-options"), "nosniff");
  assertEquals(res.headers.get("referrer-policy"), "same-origin", "a real Origin on the page's own POSTs");
  assertEquals(await res.text(), await Deno.readTextFile(COMMITTED));
});

Deno.test("serveAdminPage() allows the inline script and style by their SHA-256 only", async () => {
  const res = serveAdminPage();
  const html = await res.text();
  const csp = directives(res.headers.get("content-security-policy")!);
  assertEquals(csp.get("default-src"), ["'self'"]);
  assertEquals(csp.get("script-src"), [await sha256Source(inline(html, "script"))]);
  assertEquals(csp.get("style-src"), [await sha256Source(inline(html, "style"))]);
  assert(!ADMIN_CSP.includes("unsafe-inline") && !ADMIN_CSP.includes("unsafe-eval"), ADMIN_CSP);
});

Deno.test("serveAdminPage() lets the preview use blob: media and the feed same-origin and WebSocket URLs", () => {
  const csp = directives(serveAdminPage().headers.get("content-security-policy")!);
  assertEquals(csp.get("media-src"), ["'self'", "blob:"]);
  assertEquals(csp.get("connect-src"), ["'self'", "ws:", "wss:"]);
  assertEquals(csp.get("frame-ancestors"), ["'none'"]);
  assertEquals(csp.get("object-src"), ["'none'"]);
  assertEquals(csp.get("base-uri"), ["'none'"]);
  assertEquals(csp.get("worker-src"), ["'none'"]);
});

Deno.test("cspHash() is the base64 SHA-256 of the UTF-8 text", async () => {
  assertEquals(cspHash("a→b"), await sha256Source("a→b"));
});

Deno.test("serveLanding() links to the dashboard and lists nothing without `list`", async () => {
  await withHub(async (ctx, hub) => {
    hub.publish("live/cam", new FakePublisher());
    const res = serveLanding(ctx, REQ, false);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/html; charset=utf-8");
    assertEquals(res.headers.get("cache-control"), "no-cache");
    assertEquals(res.headers.get("referrer-policy"), "no-referrer");
    const html = await res.text();
    assertMatch(html, /<a href="\/admin\/" id="admin-link">/);
    assert(!html.includes("live/cam"), "no stream named");
  });
});

Deno.test("serveLanding() with `list` shows each stream, by key, with play URLs for the request's host", async () => {
  await withHub(async (ctx, hub, log) => {
    hub.publish("live/two", new FakePublisher("pub two"));
    const publisher = new FakePublisher("pub cam");
    const stream = hub.publish("live/cam", publisher);
    for (const id of ["p1", "p2"]) {
      hub.attach("live/cam", new Subscriber(id, new FakePacker(), new FakeSink(), limits(), log));
    }
    hub.unpublish(hub.get("live/two")!, hub.get("live/two")!.publisher!);
    const html = await serveLanding(ctx, REQ, true).text();
    assertEquals(stream.state, "live");
    assertMatch(
      html,
      /<li data-stream="live\/cam"><strong>live\/cam<\/strong> <span class="muted">live, 2 viewers/,
    );
    assertMatch(
      html,
      /<li data-stream="live\/two"><strong>live\/two<\/strong> <span class="muted">grace, 0 viewers/,
    );
    assert(html.indexOf("live/cam") < html.indexOf("live/two"), "by key");
    for (const url of ["rtmp://h:1935/live/cam", "http://h:8000/live/cam.flv", "ws://h:8000/live/cam.flv"]) {
      assert(html.includes(`<code>${url}</code>`), url);
    }
  });
});

Deno.test("serveLanding() leaves out the URLs of a listener the server does not have", async () => {
  await withHub(async (ctx, hub) => {
    hub.publish("live/cam", new FakePublisher());
    const html = await serveLanding(ctx, REQ, true).text();
    assert(!html.includes("<dt>RTMP</dt>"), "no RTMP row without an RTMP listener");
    assert(html.includes("<dt>HTTP-FLV</dt>") && html.includes("<dt>WebSocket-FLV</dt>"), "the HTTP rows");
  }, [LISTENERS[1]]);
});

Deno.test("serveLanding() leaves out an ended stream", async () => {
  await withHub(async (_ctx, hub) => {
    const snap = hub.publish("live/over", new FakePublisher()).snapshot();
    const html = await serveLanding(oneSnapshot({ ...snap, state: "ended" }), REQ, true).text();
    assert(!html.includes("live/over"), html);
  });
});

Deno.test("serveLanding() says so when no stream is live", async () => {
  await withHub(async (ctx) => {
    assertMatch(
      await serveLanding(ctx, REQ, true).text(),
      /<p class="muted" id="no-streams">No live streams.<\/p>/,
    );
  });
});

Deno.test("serveLanding() escapes what a publisher chose: the stream name", async () => {
  await withHub(async (_ctx, hub) => {
    const snap = hub.publish("live/cam", new FakePublisher()).snapshot();
    const evil = { ...snap, key: `live/<script>alert("x")</script>` };
    const html = await serveLanding(oneSnapshot(evil), REQ, true).text();
    assert(!html.includes("<script>"), html);
    assert(html.includes("live/&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;"), "the key as text");
  });
});

Deno.test("serveLanding() lists at most LANDING_MAX_STREAMS streams and counts the rest", async () => {
  await withHub(async (ctx, hub) => {
    for (let i = 0; i < LANDING_MAX_STREAMS + 2; i++) hub.publish(`live/s${i}`, new FakePublisher(`p${i}`));
    const html = await serveLanding(ctx, REQ, true).text();
    assertEquals(html.match(/<li data-stream=/g)?.length, LANDING_MAX_STREAMS);
    assertMatch(html, /<p class="muted" id="more-streams">2 more not shown.<\/p>/);
  });
});

Deno.test("serveLanding() allows its inline style by hash and nothing else", async () => {
  await withHub(async (ctx) => {
    const res = serveLanding(ctx, REQ, true);
    const csp = directives(res.headers.get("content-security-policy")!);
    assertEquals(csp.get("default-src"), ["'none'"]);
    assertEquals(csp.get("style-src"), [await sha256Source(inline(await res.text(), "style"))]);
    assertEquals(csp.has("script-src"), false);
    assertEquals(csp.get("frame-ancestors"), ["'none'"]);
  });
});

Deno.test("escapeHtml() escapes the five HTML-special characters", () => {
  assertEquals(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    "&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;",
  );
});
