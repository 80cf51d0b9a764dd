import { assertEquals } from "../../_util/assert.ts";
import type { ServerView } from "../../../src/admin/page/api.ts";
import { feedView, SERVER_FIELDS, serverView } from "../../../src/admin/page/server_view.ts";
import { FeedStatus } from "../../../src/admin/page/state.ts";
import { findAll, findByAttr, textOf } from "../../../src/admin/page/vdom.ts";

const SERVER: ServerView = {
  version: "0.9.0",
  startedAt: "2024-05-01T00:00:00.000Z",
  uptimeMs: 3_723_000,
  cpu: { userMs: 1200, systemMs: 300, percent: 7.25 },
  memory: { rss: 64 * 1024 * 1024, heapUsed: 10 * 1024 * 1024, heapTotal: 20 * 1024 * 1024, external: 0 },
  connections: { total: 5, byProtocol: { rtmp: 2, "http-flv": 3 } },
  bandwidth: { inBps: 2_500_000, outBps: 7_500_000, inTotalBytes: 1024, outTotalBytes: 2048 },
  streams: { live: 2, seen: 9 },
  listeners: [
    { protocol: "rtmp", host: "0.0.0.0", port: 1935 },
    { protocol: "http", host: "::", port: 8000 },
  ],
};

Deno.test("serverView() writes each server fact in its data-field", () => {
  const tree = serverView(SERVER);
  const cells = Object.fromEntries(
    findAll(tree, (el) => el.tag === "dd").map((dd) => [dd.attrs["data-field"], textOf(dd)]),
  );
  assertEquals(cells, {
    version: "0.9.0",
    uptime: "1 h 02 min",
    cpu: "7.3 %",
    "memory-rss": "64.0 MiB",
    "memory-heap": "10.0 MiB / 20.0 MiB",
    connections: "5",
    "connections-by-protocol": "rtmp 2 · http-flv 3",
    "bandwidth-in": "2.50 Mbit/s",
    "bandwidth-out": "7.50 Mbit/s",
    "bytes-total": "1.00 KiB / 2.00 KiB",
    streams: "2 / 9",
  });
  assertEquals(Object.keys(cells).length, SERVER_FIELDS.length);
});

Deno.test("serverView() lists the listeners, an IPv6 host in brackets", () => {
  const items = findAll(serverView(SERVER), (el) => "data-listener" in el.attrs);
  assertEquals(items.map((li) => [li.attrs["data-listener"], textOf(li)]), [
    ["rtmp", "rtmp 0.0.0.0:1935"],
    ["http", "http [::]:8000"],
  ]);
});

Deno.test("serverView() shows dashes and no listeners before the first snapshot", () => {
  const tree = serverView(null);
  assertEquals(findAll(tree, (el) => el.tag === "dd").every((dd) => textOf(dd) === "—"), true);
  assertEquals(findAll(tree, (el) => "data-listener" in el.attrs), []);
});

Deno.test("feedView() carries the status in data-feed and links to the login when signed out", () => {
  assertEquals(feedView(FeedStatus.Live).attrs["data-feed"], "live");
  assertEquals(textOf(feedView(FeedStatus.Lost)), "Connection lost, retrying…");
  const out = feedView(FeedStatus.SignedOut);
  assertEquals(findByAttr(out, "href")!.attrs.href, "/admin/login");
});
