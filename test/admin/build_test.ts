import { assert, assertEquals } from "../_util/assert.ts";
import { buildAdminPage, bundleStyle, Placeholder } from "../../src/admin/build.ts";

const COMMITTED = new URL("../../src/admin/dist/admin.html", import.meta.url);

Deno.test("buildAdminPage() reproduces the committed src/admin/dist/admin.html byte for byte", async () => {
  const built = new TextEncoder().encode(await buildAdminPage());
  const committed = await Deno.readFile(COMMITTED);
  assertEquals(built.length, committed.length, "admin.html size differs: run `deno task build`");
  assertEquals(built, committed, "admin.html bytes differ: run `deno task build`");
});

Deno.test("buildAdminPage() inlines one style and one script and loads nothing from elsewhere", async () => {
  const html = await buildAdminPage();
  assert(html.startsWith("<!-- deno-fmt-ignore-file -->\n"), "deno fmt leaves it alone");
  assertEquals(html.match(/<script\b/g)?.length, 1);
  assertEquals(html.match(/<\/script>/g)?.length, 1);
  assertEquals(html.match(/<style\b/g)?.length, 1);
  assertEquals(
    html.includes(Placeholder.Script) || html.includes(Placeholder.Style),
    false,
    "placeholders filled",
  );
  const markup = html.replace(/<script>[\s\S]*<\/script>/, "").replace(/<style>[\s\S]*<\/style>/, "");
  for (const m of markup.matchAll(/\s(?:src|href)="([^"]*)"/g)) {
    assert(m[1].startsWith("/") || m[1].startsWith("data:"), `same-origin or inline: ${m[1]}`);
  }
  assert(!/<link[^>]+stylesheet/.test(markup), "no stylesheet link");
});

Deno.test("buildAdminPage() gives the same bytes on every build", async () => {
  assertEquals(await buildAdminPage(), await buildAdminPage());
});

Deno.test("bundleStyle() puts uPlot's CSS before the page's, minified, for light and dark", async () => {
  const css = await bundleStyle();
  assert(css.indexOf(".uplot") < css.indexOf(".panel"), "uPlot first");
  assert(css.includes("@media(prefers-color-scheme:dark)"), "a dark scheme");
  assert(css.includes("@media(max-width:640px)"), "a narrow layout");
  assert(!css.includes("\n\n"), "minified");
});
