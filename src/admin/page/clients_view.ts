/**
 * The clients panel as an element tree: a table with a row per session
 * (`data-client-id="7"`), a `data-field` cell per fact and a Kick button.
 * Pure: a function of the clients, the server's clock and the filter text.
 *
 * At most MAX_CLIENT_ROWS rows are drawn (a server with thousands of players
 * would otherwise redraw thousands of rows a second); a line says how many
 * are not shown, and the filter narrows the list.
 *
 * @module
 */
import type { SessionSnapshot } from "./api.ts";
import { Action } from "./actions.ts";
import { formatAge, formatBytes, formatCount, formatMs, NONE } from "./format.ts";
import { h, type VElement } from "./vdom.ts";

/** Rows drawn at most. */
export const MAX_CLIENT_ROWS = 200;

/** One column: its `data-field`, its heading, and how a cell reads. */
interface Column {
  readonly field: string;
  readonly label: string;
  readonly value: (c: SessionSnapshot, now: number) => string;
}

/** The columns, in order (the `data-field` names are what a browser test reads). */
export const CLIENT_COLUMNS: readonly Column[] = [
  { field: "id", label: "Id", value: (c) => c.id },
  { field: "protocol", label: "Protocol", value: (c) => c.protocol },
  { field: "role", label: "Role", value: (c) => c.role },
  { field: "remote", label: "Address", value: (c) => c.remote ?? NONE },
  { field: "stream", label: "Stream", value: (c) => c.key ?? NONE },
  { field: "since", label: "Since", value: (c, now) => formatAge(c.startedAt, now) },
  { field: "bytes-in", label: "In", value: (c) => formatBytes(c.bytesIn) },
  { field: "bytes-out", label: "Out", value: (c) => formatBytes(c.bytesOut) },
  { field: "lag", label: "Lag", value: (c) => formatMs(c.lagMs) },
  { field: "drops", label: "Drops", value: (c) => formatCount(c.framesDropped) },
  { field: "skips", label: "Skips", value: (c) => formatCount(c.skips) },
];

/** Whether a client matches the filter: every word is in its id, protocol, role, address or stream. */
export function matchesFilter(c: SessionSnapshot, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter((w) => w);
  if (words.length === 0) return true;
  const text = [c.id, c.protocol, c.role, c.remote ?? "", c.key ?? ""].join(" ").toLowerCase();
  return words.every((w) => text.includes(w));
}

/** A short name of a client for the kick dialog: "rtmp player 10.0.0.1:5000 on live/cam". */
function label(c: SessionSnapshot): string {
  return [c.protocol, c.role, c.remote, c.key ? `on ${c.key}` : undefined].filter((p) => p).join(" ");
}

function row(c: SessionSnapshot, now: number): VElement {
  return h(
    "tr",
    { "data-client-id": c.id, "data-role": c.role, key: c.id },
    CLIENT_COLUMNS.map((col) =>
      h("td", { "data-field": col.field, "data-label": col.label }, col.value(c, now))
    ),
    h(
      "td",
      { class: "row-actions" },
      h("button", {
        type: "button",
        class: "danger",
        "data-action": Action.Kick,
        "data-client-id": c.id,
        "data-label": label(c),
      }, "Kick"),
    ),
  );
}

/** The panel's content: the table (or a line saying there are none) and how many rows are hidden. */
export function clientsView(clients: readonly SessionSnapshot[], now: number, filter: string): VElement {
  const shown = filter ? clients.filter((c) => matchesFilter(c, filter)) : clients;
  if (shown.length === 0) {
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "p",
        { class: "empty", "data-empty": "clients" },
        clients.length ? "No client matches." : "No clients.",
      ),
    );
  }
  const rows = shown.slice(0, MAX_CLIENT_ROWS);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "clients" },
      h(
        "thead",
        {},
        h("tr", {}, CLIENT_COLUMNS.map((col) => h("th", { scope: "col" }, col.label)), h("th", {}, "")),
      ),
      h("tbody", {}, rows.map((c) => row(c, now))),
    ),
    shown.length > rows.length &&
      h(
        "p",
        { class: "note", "data-field": "clients-hidden" },
        `${shown.length - rows.length} more not shown; filter to narrow.`,
      ),
  );
}
