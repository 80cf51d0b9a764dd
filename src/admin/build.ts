/**
 * Builds the admin page into one self-contained HTML file:
 *   src/admin/page/index.html (the template)
 *   + src/admin/page/style.css and uPlot's CSS, minified, in a `<style>`
 *   + src/admin/page/main.ts bundled by esbuild with uPlot and mpegts.js, minified, in a `<script>`
 *   -> src/admin/dist/admin.html (committed; src/admin/page.ts serves it).
 *
 * `deno task build` writes it in place; `--out FILE` writes it elsewhere. The
 * output is a function of the sources and the locked package versions only
 * (no paths, times or hashes of the machine), so the test rebuilds it and
 * compares bytes. The packages come in as text through Deno's module graph
 * (the lock file pins them) and reach esbuild through a plugin: esbuild
 * itself reads only the page's modules in src/admin/page/ and the one
 * runtime module they share with the server, src/admin/sse_event.ts, which
 * imports nothing (the page's imports of server types are type-only, and
 * esbuild drops them).
 *
 * The inline script and style are what the page's Content-Security-Policy
 * hashes (src/admin/page.ts), so the build refuses a bundle that could end
 * its `<script>` or `<style>` element early.
 *
 * @module
 */
import * as esbuild from "esbuild";
import TEMPLATE from "./page/index.html" with { type: "text" };
import PAGE_CSS from "./page/style.css" with { type: "text" };
import UPLOT_CSS from "uplot/dist/uPlot.min.css" with { type: "text" };
import UPLOT_JS from "uplot/dist/uPlot.esm.js" with { type: "text" };
import MPEGTS_JS from "mpegts.js/dist/mpegts.js" with { type: "text" };

/** The template's placeholders: each is replaced by one inline element. */
export const Placeholder = {
  Style: "<!-- sluice:style -->",
  Script: "<!-- sluice:script -->",
} as const;
export type Placeholder = typeof Placeholder[keyof typeof Placeholder];

/** The packages the page imports by name, and their code as text. */
const PACKAGES: Readonly<Record<string, string>> = {
  "uplot": UPLOT_JS,
  "mpegts.js": MPEGTS_JS,
};

/** The first lines of the output: keep `deno fmt` off it, say where it comes from and what it bundles. */
const HEADER = `<!-- deno-fmt-ignore-file -->
<!-- Built by src/admin/build.ts from src/admin/page/ (deno task build); do not edit.
     Bundles uPlot 1.6.32 (MIT, Copyright (c) 2025 Leon Sorokin),
     mpegts.js 1.8.2 (Apache-2.0, Copyright (C) 2016 Bilibili, zheng qian),
     es6-promise 4.2.8 (MIT, Copyright (c) 2014 Yehuda Katz, Tom Dale, Stefan Penner and contributors),
     events 3.3.0 (MIT, Copyright Joyent, Inc. and other Node contributors). -->
`;

/** The browser versions the bundle targets (what MSE players need anyway). */
const TARGET = ["es2020"];

/** What may not appear in an inline element's text: it would end the element or start a comment. */
const UNSAFE_IN_SCRIPT = /<\/script|<!--|<script/i;
const UNSAFE_IN_STYLE = /<\/style/i;

/** Resolves the packages' names to their text (namespace "package"); nothing else is resolved here. */
const packagesPlugin: esbuild.Plugin = {
  name: "sluice-packages",
  setup(build) {
    const names = Object.keys(PACKAGES).map((n) => n.replace(/[.]/g, "\\."));
    build.onResolve({ filter: new RegExp(`^(${names.join("|")})$`) }, (args) => ({
      path: args.path,
      namespace: "package",
    }));
    build.onLoad({ filter: /.*/, namespace: "package" }, (args) => ({
      contents: PACKAGES[args.path],
      loader: "js",
    }));
  },
};

/** The bundled script and what went into it (paths relative to src/admin/page/, or package names). */
export interface Bundle {
  code: string;
  inputs: string[];
}

/** Bundles src/admin/page/main.ts with its packages into one minified IIFE. */
export async function bundleScript(): Promise<Bundle> {
  const pageDir = new URL("./page/", import.meta.url);
  try {
    const result = await esbuild.build({
      entryPoints: [new URL("main.ts", pageDir).pathname],
      absWorkingDir: pageDir.pathname,
      bundle: true,
      write: false,
      format: "iife",
      platform: "browser",
      target: TARGET,
      minify: true,
      charset: "utf8",
      legalComments: "none",
      metafile: true,
      logLevel: "silent",
      plugins: [packagesPlugin],
    });
    const code = result.outputFiles[0].text;
    if (UNSAFE_IN_SCRIPT.test(code)) {
      throw new Error("Cannot inline the admin script: it contains </script, <script or <!--");
    }
    const inputs = Object.keys(result.metafile.inputs).map((p) => p.replace(/^package:/, "")).sort();
    return { code, inputs };
  } finally {
    await esbuild.stop();
  }
}

/** The page's CSS (uPlot's first, the page's after it), minified. */
export async function bundleStyle(): Promise<string> {
  try {
    const result = await esbuild.transform(`${UPLOT_CSS}\n${PAGE_CSS}`, {
      loader: "css",
      minify: true,
      charset: "utf8",
      legalComments: "none",
      target: TARGET,
    });
    if (UNSAFE_IN_STYLE.test(result.code)) {
      throw new Error("Cannot inline the admin style: it contains </style");
    }
    return result.code;
  } finally {
    await esbuild.stop();
  }
}

/** Replaces the one placeholder `marker` in `html` by `element` (no `$` patterns: the bundle has them). */
function fill(html: string, marker: Placeholder, element: string): string {
  const parts = html.split(marker);
  if (parts.length !== 2) {
    throw new Error(
      `Cannot build the admin page: the template has ${parts.length - 1} ${marker}, expected 1`,
    );
  }
  return parts[0] + element + parts[1];
}

/** The whole page as one HTML file: the template with its style and script inline. */
export async function buildAdminPage(): Promise<string> {
  const style = await bundleStyle();
  const { code } = await bundleScript();
  let html = fill(TEMPLATE, Placeholder.Style, `<style>${style}</style>`);
  html = fill(html, Placeholder.Script, `<script>${code}</script>`);
  return HEADER + html;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--out");
  const out = i >= 0 ? Deno.args[i + 1] : new URL("dist/admin.html", import.meta.url).pathname;
  const html = await buildAdminPage();
  await Deno.writeTextFile(out, html);
  console.log(`wrote ${out} (${new TextEncoder().encode(html).length} bytes)`);
}
