/**
 * VOD path resolution: request and play paths become files inside the VOD
 * root or refusals, for every way out of the folder (dot segments, encoded
 * dots and slashes, backslashes, NULs, absolute paths, symlinks out).
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import {
  parsePlayPath,
  parseUrlPath,
  type Resolved,
  resolveVodFile,
  type VodFile,
  vodReadDenied,
} from "../../src/vod/vod_path.ts";

/** A VOD root with clip.flv, sub/deep.flv, a folder named dir.flv and a file outside the root. */
async function withRoot(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "sluice_vod_path_" });
  try {
    const root = `${base}/root`;
    const outside = `${base}/outside`;
    await Deno.mkdir(`${root}/sub`, { recursive: true });
    await Deno.mkdir(`${root}/dir.flv`);
    await Deno.mkdir(outside);
    await Deno.writeFile(`${root}/clip.flv`, Uint8Array.of(1, 2, 3));
    await Deno.writeFile(`${root}/sub/deep.flv`, Uint8Array.of(4, 5));
    await Deno.writeFile(`${outside}/secret.flv`, Uint8Array.of(6));
    await fn(root, outside);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

function refused<T>(r: Resolved<T>): string {
  assert(!r.ok, `expected a refusal, got ${JSON.stringify(r)}`);
  return r.reason;
}

async function resolveUrl(root: string, relPath: string): Promise<Resolved<VodFile>> {
  const segments = parseUrlPath(relPath);
  return segments.ok ? await resolveVodFile(root, segments.value) : segments;
}

Deno.test("parseUrlPath() decodes each segment of a plain or nested path", () => {
  assertEquals(parseUrlPath("clip.flv"), { ok: true, value: ["clip.flv"] });
  assertEquals(parseUrlPath("sub/deep.flv"), { ok: true, value: ["sub", "deep.flv"] });
  assertEquals(parseUrlPath("my%20clip.FLV"), { ok: true, value: ["my clip.FLV"] });
});

/** Every request path that must not leave the root, with the rule it breaks. */
const ESCAPES: [string, RegExp][] = [
  ["../etc/passwd.flv", /segment is "\.\."/],
  ["sub/../../x.flv", /segment is "\.\."/],
  ["%2e%2e/x.flv", /segment is "\.\."/],
  ["%2E%2E/x.flv", /segment is "\.\."/],
  ["%2e%2E/%2E%2e/x.flv", /segment is "\.\."/],
  ["..%2fx.flv", /slash/],
  ["..%2F..%2Fetc%2Fpasswd.flv", /slash/],
  ["sub%2fdeep.flv", /slash/],
  ["..\\x.flv", /backslash/],
  ["sub%5c..%5cx.flv", /backslash/],
  ["clip.flv%00.txt", /control character/],
  ["clip\u0000.flv", /control character/],
  ["/etc/passwd.flv", /absolute/],
  ["//etc/passwd.flv", /absolute/],
  ["sub//deep.flv", /empty segment/],
  ["./clip.flv", /segment is "\."/],
  [".hidden.flv", /hidden/],
  [".git/x.flv", /hidden/],
  ["clip.mp4", /does not end in \.flv/],
  ["sub", /does not end in \.flv/],
  ["", /empty segment/],
  ["%zz.flv", /percent-encoding is malformed/],
  [`${"a/".repeat(600)}x.flv`, /limit 1024/],
  [`${"a".repeat(300)}.flv`, /limit 255/],
];

for (const [path, rule] of ESCAPES) {
  Deno.test(`parseUrlPath() refuses ${JSON.stringify(path.slice(0, 40))}`, () => {
    assertMatch(refused(parseUrlPath(path)), rule);
  });
}

Deno.test("parsePlayPath() takes raw text: a percent sign is a character, dots and backslashes are refused", () => {
  assertEquals(parsePlayPath("sub/100%2f.flv"), { ok: true, value: ["sub", "100%2f.flv"] });
  assertMatch(refused(parsePlayPath("../clip.flv")), /segment is "\.\."/);
  assertMatch(refused(parsePlayPath("sub\\..\\clip.flv")), /backslash/);
  assertMatch(refused(parsePlayPath("/etc/passwd.flv")), /absolute/);
  assertMatch(refused(parsePlayPath("a\u0000.flv")), /control character/);
});

Deno.test("resolveVodFile() finds a file and a nested file by their real paths", async () => {
  await withRoot(async (root) => {
    const real = await Deno.realPath(root);
    const clip = await resolveUrl(root, "clip.flv");
    assert(clip.ok);
    assertEquals([clip.value.path, clip.value.size], [`${real}/clip.flv`, 3]);
    assert(clip.value.mtime instanceof Date);
    const deep = await resolveUrl(root, "sub/deep.flv");
    assert(deep.ok);
    assertEquals([deep.value.path, deep.value.size], [`${real}/sub/deep.flv`, 2]);
  });
});

Deno.test("resolveVodFile() refuses a missing file and a folder named .flv", async () => {
  await withRoot(async (root) => {
    assertMatch(refused(await resolveUrl(root, "nope.flv")), /no such file/);
    assertMatch(refused(await resolveUrl(root, "dir.flv")), /not a regular file/);
  });
});

Deno.test("resolveVodFile() refuses a symlink inside the root that points outside it", async () => {
  await withRoot(async (root, outside) => {
    await Deno.symlink(`${outside}/secret.flv`, `${root}/link.flv`);
    assertMatch(refused(await resolveUrl(root, "link.flv")), /outside the VOD root/);
  });
});

Deno.test("resolveVodFile() refuses a file below a symlinked folder that points outside", async () => {
  await withRoot(async (root, outside) => {
    await Deno.symlink(outside, `${root}/out`);
    assertMatch(refused(await resolveUrl(root, "out/secret.flv")), /outside the VOD root/);
  });
});

Deno.test("resolveVodFile() refuses a relative symlink that climbs out of the root", async () => {
  await withRoot(async (root) => {
    await Deno.symlink("../../outside/secret.flv", `${root}/sub/up.flv`);
    assertMatch(refused(await resolveUrl(root, "sub/up.flv")), /outside the VOD root/);
  });
});

Deno.test("resolveVodFile() allows a symlink inside the root that points inside it", async () => {
  await withRoot(async (root) => {
    await Deno.symlink(`${root}/sub/deep.flv`, `${root}/alias.flv`);
    const r = await resolveUrl(root, "alias.flv");
    assert(r.ok, JSON.stringify(r));
    assertEquals(r.value.path, `${await Deno.realPath(root)}/sub/deep.flv`);
  });
});

Deno.test("resolveVodFile() works when the root itself is a symlink", async () => {
  await withRoot(async (root) => {
    const link = `${root}-link`;
    await Deno.symlink(root, link);
    try {
      const r = await resolveUrl(link, "clip.flv");
      assert(r.ok, JSON.stringify(r));
      assertEquals(r.value.path, `${await Deno.realPath(root)}/clip.flv`);
    } finally {
      await Deno.remove(link);
    }
  });
});

Deno.test("resolveVodFile() refuses a root folder's sibling whose name starts like the root", async () => {
  await withRoot(async (root) => {
    // root is ".../root"; ".../root2/x.flv" starts with the same text but is outside.
    await Deno.mkdir(`${root}2`);
    await Deno.writeFile(`${root}2/x.flv`, Uint8Array.of(7));
    await Deno.symlink(`${root}2/x.flv`, `${root}/sibling.flv`);
    try {
      assertMatch(refused(await resolveUrl(root, "sibling.flv")), /outside the VOD root/);
    } finally {
      await Deno.remove(`${root}2`, { recursive: true });
    }
  });
});

Deno.test({
  name: "vodReadDenied() names the --allow-read flag when read access is missing, and reports it once",
  permissions: { read: false },
  fn: async () => {
    const root = `/srv/vod-${crypto.randomUUID()}`;
    const first: string[] = [];
    const message = await vodReadDenied(root, (m) => first.push(m));
    assertEquals(
      message,
      `read access to the VOD root ${root} is not granted; start the server with --allow-read=${root}`,
    );
    assertEquals(await vodReadDenied(root, (m) => first.push(m)), message);
    assertEquals(first, [message]);
  },
});

Deno.test("vodReadDenied() is undefined when the root may be read", async () => {
  assertEquals(await vodReadDenied("/"), undefined);
});
