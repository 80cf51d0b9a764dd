/**
 * HTTP VOD as pure `Request -> Response` calls (serveVod directly, and through
 * makeRouter): headers, whole files and byte ranges compared with slices of
 * the file, 416, HEAD, conditional requests, every way out of the folder
 * refused with the same 404, VOD off, and a missing read permission.
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { makeRouter } from "../../src/http/routes.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { parseRange, serveVod } from "../../src/vod/http_vod.ts";

/** Larger than one read chunk (64 KiB), so ranges cross chunk edges. */
const FILE_SIZE = 200_003;
const BASE = "http://sluice.test/vod/";

/** Deno.test with the op and resource sanitizers: every file a body opens must be closed. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

interface Setup {
  root: string;
  outside: string;
  bytes: Uint8Array;
  ctx: HttpContext;
  log: RecordingLogger;
}

/** A VOD root holding clip.flv (FILE_SIZE pseudo-random bytes) and sub/deep.flv, and a folder beside it. */
async function withVod(fn: (s: Setup) => Promise<void>, overrides: ConfigOverrides = {}): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "sluice_http_vod_" });
  try {
    const root = `${base}/root`;
    const outside = `${base}/outside`;
    await Deno.mkdir(`${root}/sub`, { recursive: true });
    await Deno.mkdir(outside);
    const bytes = new Uint8Array(FILE_SIZE);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
    await Deno.writeFile(`${root}/clip.flv`, bytes);
    await Deno.writeFile(`${root}/sub/deep.flv`, bytes.subarray(0, 10));
    await Deno.writeFile(`${root}/notes.txt`, new TextEncoder().encode("not for players"));
    await Deno.writeFile(`${outside}/secret.flv`, Uint8Array.of(1, 2, 3));
    const config = makeConfig({ ...overrides, vod: { root, ...overrides.vod } });
    const log = new RecordingLogger();
    const ctx: HttpContext = {
      hub: new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log),
      config,
      log,
      startedAt: Date.now(),
    };
    await fn({ root, outside, bytes, ctx, log });
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

function get(
  ctx: HttpContext,
  relPath: string,
  headers: HeadersInit = {},
  method = "GET",
): Promise<Response> {
  return serveVod(new Request(BASE + relPath, { method, headers }), relPath, ctx);
}

async function body(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

async function errorOf(res: Response): Promise<string> {
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  return (await res.json()).error;
}

// ---- parseRange

Deno.test("parseRange() reads one range of each form and clamps its end to the file", () => {
  const cases: [string | null, ReturnType<typeof parseRange>][] = [
    [null, { kind: "whole" }],
    ["bytes=0-9", { kind: "range", start: 0, end: 9 }],
    ["bytes=5-", { kind: "range", start: 5, end: 99 }],
    ["bytes=-10", { kind: "range", start: 90, end: 99 }],
    ["bytes=-1000", { kind: "range", start: 0, end: 99 }],
    ["bytes=90-5000", { kind: "range", start: 90, end: 99 }],
    ["bytes=99-99", { kind: "range", start: 99, end: 99 }],
    ["BYTES = 1-2", { kind: "range", start: 1, end: 2 }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=100-200", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=0-1,5-6", { kind: "whole" }],
    ["bytes=9-3", { kind: "whole" }],
    ["bytes=abc", { kind: "whole" }],
    ["bytes=", { kind: "whole" }],
    ["items=0-9", { kind: "whole" }],
  ];
  for (const [header, expected] of cases) assertEquals(parseRange(header, 100), expected, String(header));
  assertEquals(parseRange("bytes=0-", 0), { kind: "unsatisfiable" });
  assertEquals(parseRange("bytes=-5", 0), { kind: "unsatisfiable" });
});

// ---- files and ranges

test("serveVod() answers GET with the whole file and its headers", async () => {
  await withVod(async ({ ctx, bytes }) => {
    const res = await get(ctx, "clip.flv");
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "video/x-flv");
    assertEquals(res.headers.get("content-length"), String(FILE_SIZE));
    assertEquals(res.headers.get("accept-ranges"), "bytes");
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    assertMatch(res.headers.get("access-control-expose-headers") ?? "", /content-range/);
    assertMatch(res.headers.get("etag") ?? "", /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert(res.headers.get("last-modified"), "no last-modified");
    assertEquals(await body(res), bytes);
  });
});

test("serveVod() answers a HEAD with the headers of the whole file and no body", async () => {
  await withVod(async ({ ctx }) => {
    const res = await get(ctx, "clip.flv", {}, "HEAD");
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-length"), String(FILE_SIZE));
    assertEquals(res.headers.get("content-type"), "video/x-flv");
    assertStrictEquals(res.body, null);
  });
});

test("serveVod() ignores Range on HEAD (only GET defines ranges)", async () => {
  await withVod(async ({ ctx }) => {
    const res = await get(ctx, "clip.flv", { range: "bytes=0-9" }, "HEAD");
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-length"), String(FILE_SIZE));
    assertStrictEquals(res.headers.get("content-range"), null);
  });
});

test("serveVod() answers each range form with 206, Content-Range and exactly those bytes", async () => {
  await withVod(async ({ ctx, bytes }) => {
    const last = FILE_SIZE - 1;
    const cases: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      ["bytes=0-8", 0, 8],
      ["bytes=65530-65545", 65530, 65545], // across the first read chunk's edge
      ["bytes=1000-", 1000, last],
      ["bytes=-1", last, last],
      ["bytes=-70000", FILE_SIZE - 70000, last],
      ["bytes=-9999999", 0, last],
      ["bytes=199990-9999999", 199990, last],
      [`bytes=${last}-${last}`, last, last],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(ctx, "clip.flv", { range });
      assertEquals(res.status, 206, range);
      assertEquals(res.headers.get("content-range"), `bytes ${start}-${end}/${FILE_SIZE}`, range);
      assertEquals(res.headers.get("content-length"), String(end - start + 1), range);
      assertEquals(await body(res), bytes.slice(start, end + 1), range);
    }
  });
});

test("serveVod() answers 416 with Content-Range bytes */size for a range past the end", async () => {
  await withVod(async ({ ctx }) => {
    for (const range of [`bytes=${FILE_SIZE}-`, `bytes=${FILE_SIZE + 10}-${FILE_SIZE + 20}`, "bytes=-0"]) {
      const res = await get(ctx, "clip.flv", { range });
      assertEquals(res.status, 416, range);
      assertEquals(res.headers.get("content-range"), `bytes */${FILE_SIZE}`, range);
      await res.body?.cancel();
    }
  });
});

test("serveVod() answers several ranges or a malformed Range with the whole file (200)", async () => {
  await withVod(async ({ ctx, bytes }) => {
    for (const range of ["bytes=0-1,10-20", "bytes=5-2", "bytes=x-y", "lines=1-2"]) {
      const res = await get(ctx, "clip.flv", { range });
      assertEquals(res.status, 200, range);
      assertEquals(res.headers.get("content-length"), String(FILE_SIZE), range);
      assertEquals(await body(res), bytes, range);
    }
  });
});

test("serveVod() answers If-None-Match with its ETag with 304, and drops a range whose If-Range is stale", async () => {
  await withVod(async ({ ctx, bytes }) => {
    const etag = (await get(ctx, "clip.flv", {}, "HEAD")).headers.get("etag")!;
    const notModified = await get(ctx, "clip.flv", { "if-none-match": `"other", W/${etag}` });
    assertEquals(notModified.status, 304);
    assertStrictEquals(notModified.body, null);
    const fresh = await get(ctx, "clip.flv", { range: "bytes=0-3", "if-range": etag });
    assertEquals(fresh.status, 206);
    assertEquals(await body(fresh), bytes.slice(0, 4));
    const stale = await get(ctx, "clip.flv", { range: "bytes=0-3", "if-range": '"stale"' });
    assertEquals(stale.status, 200);
    assertEquals((await body(stale)).length, FILE_SIZE);
  });
});

test("serveVod() serves a file in a subfolder and a symlink that stays inside the root", async () => {
  await withVod(async ({ ctx, root, bytes }) => {
    assertEquals(await body(await get(ctx, "sub/deep.flv")), bytes.subarray(0, 10));
    await Deno.symlink(`${root}/sub/deep.flv`, `${root}/alias.flv`);
    const res = await get(ctx, "alias.flv");
    assertEquals(res.status, 200);
    assertEquals(await body(res), bytes.subarray(0, 10));
  });
});

test("serveVod() closes the file when the client cancels the body", async () => {
  await withVod(async ({ ctx, bytes }) => {
    const res = await get(ctx, "clip.flv");
    const reader = res.body!.getReader();
    const first = await reader.read();
    assertEquals(first.value, bytes.subarray(0, first.value!.length));
    await reader.cancel();
    // The resource sanitizer fails this test if the file is still open.
  });
});

// ---- refusals

/** Request paths that must never leave the root (as the router would pass them: still encoded). */
const ESCAPES = [
  "../outside/secret.flv",
  "sub/../../outside/secret.flv",
  "%2e%2e/outside/secret.flv",
  "%2E%2E/outside/secret.flv",
  "..%2foutside%2fsecret.flv",
  "..%2Foutside%2Fsecret.flv",
  "sub%2fdeep.flv",
  "..\\outside\\secret.flv",
  "sub%5c..%5c..%5coutside%5csecret.flv",
  "clip.flv%00.flv",
  "/etc/passwd",
  "//etc/passwd.flv",
  "link.flv", // a symlink inside the root to a file outside
  "outdir/secret.flv", // a symlinked folder inside the root that points outside
  "notes.txt",
  "nope.flv",
  "sub",
];

test("serveVod() refuses every way out of the folder with the same 404 JSON as a missing file", async () => {
  await withVod(async ({ ctx, root, outside, log }) => {
    await Deno.symlink(`${outside}/secret.flv`, `${root}/link.flv`);
    await Deno.symlink(outside, `${root}/outdir`);
    for (const relPath of ESCAPES) {
      const res = await get(ctx, relPath);
      assertEquals(res.status, 404, relPath);
      assertEquals(await errorOf(res), `Cannot GET /vod/${relPath}: no such file`, relPath);
    }
    assertEquals(log.lines.filter((l) => l.msg.startsWith("refused GET")).length, ESCAPES.length);
  });
});

test("makeRouter() keeps encoded escapes away from the file system (404 JSON)", async () => {
  await withVod(async ({ ctx, root, outside }) => {
    await Deno.symlink(`${outside}/secret.flv`, `${root}/link.flv`);
    const router = makeRouter(ctx);
    for (
      const path of [
        "/vod/..%2fsecret.flv",
        "/vod/%2e%2e/outside/secret.flv",
        "/vod/link.flv",
        "/vod/a%00.flv",
      ]
    ) {
      const res = await router(new Request(`http://sluice.test${path}`));
      // "%2e%2e" is a dot segment to the URL parser: that path leaves /vod/ and is a live play, not found.
      assertEquals(res.status, 404, path);
      assertMatch(await errorOf(res), /^Cannot /, path);
    }
    const ok = await router(
      new Request("http://sluice.test/vod/sub/deep.flv", { headers: { range: "bytes=2-4" } }),
    );
    assertEquals(ok.status, 206);
    assertEquals((await body(ok)).length, 3);
  }, { hub: { playWaitMs: 0 } });
});

test("serveVod() answers 404 JSON naming that VOD is off when there is no root", async () => {
  const config = makeConfig();
  const log = new RecordingLogger();
  const ctx: HttpContext = {
    hub: new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log),
    config,
    log,
    startedAt: Date.now(),
  };
  const res = await get(ctx, "clip.flv");
  assertEquals(res.status, 404);
  assertMatch(await errorOf(res), /VOD is off/);
});

Deno.test({
  name: "serveVod() answers 503 JSON naming --allow-read=ROOT without read permission, logged once",
  permissions: { read: false },
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const root = `/srv/sluice-vod-${crypto.randomUUID()}`;
    const config = makeConfig({ vod: { root } });
    const log = new RecordingLogger();
    const ctx: HttpContext = {
      hub: new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log),
      config,
      log,
      startedAt: Date.now(),
    };
    for (let i = 0; i < 2; i++) {
      const res = await get(ctx, "clip.flv");
      assertEquals(res.status, 503);
      assertMatch(await errorOf(res), new RegExp(`--allow-read=${root}$`));
    }
    const logged = log.lines.filter((l) => l.msg.includes("--allow-read"));
    assertEquals(logged.length, 1);
    assertEquals(logged[0].level, "error");
  },
});
