/**
 * The last warnings and errors as an element tree: newest first, each line
 * `data-level="warn"` with its clock time and text. Pure.
 *
 * @module
 */
import type { LogEntry } from "./api.ts";
import { formatClock } from "./format.ts";
import { h, type VElement } from "./vdom.ts";

/** The log list; `offsetMin` is the clock's distance from UTC (see formatClock). */
export function logsView(logs: readonly LogEntry[], offsetMin: number): VElement {
  if (logs.length === 0) {
    return h(
      "ol",
      { class: "logs" },
      h("li", { class: "empty", "data-empty": "logs" }, "No warnings or errors."),
    );
  }
  const lines: VElement[] = [];
  for (let i = logs.length - 1; i >= 0; i--) {
    const l = logs[i];
    lines.push(
      h(
        "li",
        { "data-level": l.level },
        h("time", { datetime: l.at }, formatClock(l.at, offsetMin)),
        " ",
        h("span", { class: `badge level-${l.level}` }, l.level),
        " ",
        h("span", { class: "line" }, l.line),
      ),
    );
  }
  return h("ol", { class: "logs" }, lines);
}
