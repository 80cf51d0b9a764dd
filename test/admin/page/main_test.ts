/**
 * main.ts only wires the page's modules to the browser, so what a test can
 * hold without one is its wiring: it bundles, with every module it connects
 * and the two packages, into one script that runs nothing of Deno's. The
 * browser end-to-end test drives the rest.
 */
import { assert, assertEquals } from "../../_util/assert.ts";
import { bundleScript } from "../../../src/admin/build.ts";

Deno.test("main.ts bundles with the page's modules, uPlot and mpegts.js into one IIFE", async () => {
  const { code, inputs } = await bundleScript();
  assertEquals(inputs, [
    "../sse_event.ts",
    "actions.ts",
    "api.ts",
    "app.ts",
    "clients_view.ts",
    "format.ts",
    "graphs.ts",
    "logs_view.ts",
    "main.ts",
    "mpegts.js",
    "preview.ts",
    "series.ts",
    "server_view.ts",
    "state.ts",
    "streams_view.ts",
    "uplot",
    "vdom.ts",
  ]);
  assert(code.startsWith("(()=>{"), "an IIFE: nothing leaks into the page's globals");
  assert(!code.includes("Deno."), "no Deno API");
  for (const id of ["streams", "clients", "graph-bitrate", "preview-video", "client-filter"]) {
    assert(code.includes(`"${id}"`), `looks up #${id}`);
  }
});
