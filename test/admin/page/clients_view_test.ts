import { assert, assertEquals } from "../../_util/assert.ts";
import type { SessionSnapshot } from "../../../src/admin/page/api.ts";
import { clientsView, matchesFilter, MAX_CLIENT_ROWS } from "../../../src/admin/page/clients_view.ts";
import { findAll, findByAttr, textOf } from "../../../src/admin/page/vdom.ts";

const NOW = 1_700_000_100_000;

function client(id: string, over: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return {
    id,
    protocol: "rtmp",
    role: "player",
    remote: "10.0.0.2:6000",
    key: "live/cam",
    startedAt: NOW - 30_000,
    durationMs: 30_000,
    bytesIn: 3_000,
    bytesOut: 2 * 1024 * 1024,
    framesSent: 900,
    framesDropped: 4,
    skips: 1,
    lagMs: 87.6,
    queuedBytes: 0,
    ...over,
  };
}

Deno.test("clientsView() draws a row per client with data-client-id and a data-field per column", () => {
  const row = findByAttr(clientsView([client("7")], NOW, ""), "data-client-id", "7")!;
  assert(row, "the row");
  const cells = Object.fromEntries(
    findAll(row, (el) => el.tag === "td" && "data-field" in el.attrs).map((
      td,
    ) => [td.attrs["data-field"], textOf(td)]),
  );
  assertEquals(cells, {
    id: "7",
    protocol: "rtmp",
    role: "player",
    remote: "10.0.0.2:6000",
    stream: "live/cam",
    since: "30 s ago",
    "bytes-in": "2.93 KiB",
    "bytes-out": "2.00 MiB",
    lag: "88 ms",
    drops: "4",
    skips: "1",
  });
});

Deno.test("clientsView() gives each row a Kick button naming the client", () => {
  const kick = findByAttr(clientsView([client("7")], NOW, ""), "data-action", "kick")!;
  assertEquals(kick.attrs["data-client-id"], "7");
  assertEquals(kick.attrs["data-label"], "rtmp player 10.0.0.2:6000 on live/cam");
});

Deno.test("clientsView() reads startedAt as ms since the epoch and a missing address and stream", () => {
  const c = client("1", {
    startedAt: NOW - 5_000,
    remote: undefined,
    key: undefined,
  });
  const row = findByAttr(clientsView([c], NOW, ""), "data-client-id", "1")!;
  assertEquals(textOf(findByAttr(row, "data-field", "since")!), "5 s ago");
  assertEquals(textOf(findByAttr(row, "data-field", "remote")!), "—");
  assertEquals(textOf(findByAttr(row, "data-field", "stream")!), "—");
});

Deno.test("clientsView() draws at most MAX_CLIENT_ROWS rows and says how many are hidden", () => {
  const many = Array.from({ length: MAX_CLIENT_ROWS + 3 }, (_, i) => client(String(i)));
  const tree = clientsView(many, NOW, "");
  assertEquals(
    findAll(tree, (el) => "data-client-id" in el.attrs && el.tag === "tr").length,
    MAX_CLIENT_ROWS,
  );
  assertEquals(
    textOf(findByAttr(tree, "data-field", "clients-hidden")!),
    "3 more not shown; filter to narrow.",
  );
});

Deno.test("clientsView() shows only the clients that match the filter", () => {
  const tree = clientsView(
    [client("1"), client("2", { protocol: "http-flv", key: "live/other" })],
    NOW,
    "other",
  );
  assertEquals(findAll(tree, (el) => el.tag === "tr" && "data-client-id" in el.attrs).map((r) => r.key), [
    "2",
  ]);
  assertEquals(
    textOf(findByAttr(clientsView([client("1")], NOW, "zzz"), "data-empty")!),
    "No client matches.",
  );
  assertEquals(textOf(findByAttr(clientsView([], NOW, ""), "data-empty")!), "No clients.");
});

Deno.test("matchesFilter() wants every word somewhere in the client's id, protocol, role, address or stream", () => {
  const c = client("12", { protocol: "ws-flv" });
  assertEquals(matchesFilter(c, ""), true);
  assertEquals(matchesFilter(c, "WS-flv live/CAM"), true);
  assertEquals(matchesFilter(c, "12 10.0.0.2"), true);
  assertEquals(matchesFilter(c, "ws-flv publisher"), false);
});
