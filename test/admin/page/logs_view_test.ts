import { assertEquals } from "../../_util/assert.ts";
import { logsView } from "../../../src/admin/page/logs_view.ts";
import { findAll, findByAttr, textOf } from "../../../src/admin/page/vdom.ts";

Deno.test("logsView() lists the newest line first, each with data-level, its clock time and text", () => {
  const tree = logsView([
    { at: "2024-05-01T10:00:00.000Z", level: "warn", line: "[rtmp] slow player skipped" },
    { at: "2024-05-01T10:00:05.000Z", level: "error", line: "[http] Cannot <b>bind</b>" },
  ], 0);
  const items = findAll(tree, (el) => "data-level" in el.attrs);
  assertEquals(items.map((li) => li.attrs["data-level"]), ["error", "warn"]);
  assertEquals(textOf(items[0]), "10:00:05 error [http] Cannot <b>bind</b>");
  assertEquals(findByAttr(items[0], "datetime")!.attrs.datetime, "2024-05-01T10:00:05.000Z");
});

Deno.test("logsView() writes clock times at the browser's offset", () => {
  const tree = logsView([{ at: "2024-05-01T10:00:00.000Z", level: "warn", line: "x" }], 90);
  assertEquals(textOf(findByAttr(tree, "datetime")!), "11:30:00");
});

Deno.test("logsView() says so when there are no warnings or errors", () => {
  assertEquals(textOf(findByAttr(logsView([], 0), "data-empty", "logs")!), "No warnings or errors.");
});
