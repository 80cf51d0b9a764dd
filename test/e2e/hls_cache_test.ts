/**
 * HLS through a real HTTP cache: Debian's nginx running `docs/hls_edge.nginx.conf` (only its upstream
 * address, listen port, cache and log paths changed) with `proxy_cache` in front of an in-process Sluice.
 * ffmpeg publishes over RTMP; 50 light HLS clients (HlsClient) and 2 ffmpeg readers play through nginx at
 * once. What reaches Sluice is read from its own counter (`HlsService.resourceRequests`), what reached nginx
 * from its access log (one line per request, with `$upstream_cache_status`).
 *
 * nginx runs as the current user in the foreground (`-p DIR -c DIR/nginx.conf -g "daemon off;"`), with its
 * pid, logs, temp files and cache under the test's temp dir; it is stopped at the end, failed or not.
 */
import { assert, assertEquals, assertGreater, assertGreaterOrEqual } from "../_util/assert.ts";
import { HlsClient, type HlsClientResult } from "../_util/hls_client.ts";
import {
  checkPlayback,
  haveTools,
  makeSource,
  type Proc,
  publish,
  record,
  runOk,
  start,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";

const NGINX = "/usr/sbin/nginx";
const EDGE_CONF = new URL("../../docs/hls_edge.nginx.conf", import.meta.url);
const HAVE_NGINX = (() => {
  try {
    return Deno.statSync(NGINX).isFile;
  } catch {
    return false;
  }
})();
const TOOLS = haveTools("ffmpeg", "ffprobe");
const IGNORED = !HAVE_NGINX
  ? ` (ignored: ${NGINX} is missing; apt-get install nginx)`
  : !TOOLS
  ? " (ignored: ffmpeg or ffprobe is missing)"
  : "";

/** Light clients at once, and how long each plays. */
const CLIENTS = 50;
const CLIENT_MS = 10_000;
/** ffmpeg readers at once, and the seconds each records. */
const READERS = 2;
const RECORD_S = 6;

/** A segment, part or init path (the HLS resource shapes of src/hls/hls_routes.ts), without the query. */
const RESOURCE = /^\/[^/]+\/[^/]+\/[0-9a-z]+-(\d+(\.\d+)?\.(m4s|ts)|init\d+\.mp4)$/;

function edgeTest(
  name: string,
  fn: (server: TestServer, dir: string) => Promise<void>,
  overrides: ConfigOverrides,
  tools: string[] = [],
): void {
  const ignored = IGNORED || (haveTools(...tools) ? "" : ` (ignored: one of ${tools.join(", ")} is missing)`);
  Deno.test({
    name: name + ignored,
    ignore: ignored !== "",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => withServer(fn, overrides),
  });
}

// ---- nginx

/** One line of the edge's access log (its `sluice_hls` log_format). */
interface AccessLine {
  method: string;
  path: string;
  status: number;
  bytes: number;
  /** `$upstream_cache_status`: HIT, MISS, BYPASS, ... or "-". */
  cache: string;
}

/** A running nginx edge. */
interface Edge {
  /** `http://127.0.0.1:PORT` + path */
  url(path: string): string;
  /** The access log so far, parsed. */
  accessLog(): Promise<AccessLine[]>;
  /** The error log so far. */
  errorLog(): Promise<string>;
  /** Stops nginx (SIGTERM to the master, which stops its workers) and waits for it. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, read, closed). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Replaces every `from` in `text`; throws when there is none (the example changed under the test). */
function substitute(text: string, from: string, to: string): string {
  if (!text.includes(from)) {
    throw new Error(`Cannot adapt ${EDGE_CONF.pathname}: current text has no ${JSON.stringify(from)}`);
  }
  return text.replaceAll(from, to);
}

/**
 * The test's nginx.conf: the main context Debian's /etc/nginx/nginx.conf would give (as the current user,
 * pid, error log and temp paths under `dir`), and in its http {} the example file with its upstream, listen
 * port, cache path and log directory changed.
 */
function edgeConfig(example: string, o: { upstreamPort: number; port: number; dir: string }): string {
  let conf = substitute(example, "server 127.0.0.1:8000;", `server 127.0.0.1:${o.upstreamPort};`);
  conf = substitute(conf, "listen 8080;", `listen 127.0.0.1:${o.port};`);
  conf = substitute(conf, "/var/cache/nginx/sluice_hls", `${o.dir}/cache`);
  conf = substitute(conf, "/var/log/nginx/", `${o.dir}/`);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `  ${t}_temp_path ${o.dir}/temp/${t};`).join("\n");
  return [
    `# Made by test/e2e/hls_cache_test.ts from docs/hls_edge.nginx.conf.`,
    // As root, workers would run as nobody, who cannot enter the temp dir: run them as root too.
    Deno.uid() === 0 ? "user root root;" : "",
    "worker_processes 2;",
    `pid ${o.dir}/nginx.pid;`,
    `error_log ${o.dir}/error.log info;`,
    "events {\n  worker_connections 1024;\n}",
    "http {",
    "  sendfile on;",
    "  tcp_nopush on;",
    temp,
    conf,
    "}",
    "",
  ].join("\n");
}

/** Starts nginx with the example configuration in front of `upstreamPort`, after `nginx -t` passes. */
async function startEdge(upstreamPort: number, dir: string): Promise<Edge> {
  await Deno.mkdir(`${dir}/temp`, { recursive: true });
  const port = freePort();
  const conf = `${dir}/nginx.conf`;
  await Deno.writeTextFile(conf, edgeConfig(await Deno.readTextFile(EDGE_CONF), { upstreamPort, port, dir }));
  const args = ["-p", `${dir}/`, "-c", conf, "-g", "daemon off;"];
  await runOk(NGINX, ["-t", "-q", ...args], 10_000);
  const proc: Proc = start(NGINX, args, { timeoutMs: 180_000 });
  const edge: Edge = {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    async accessLog() {
      const text = await Deno.readTextFile(`${dir}/sluice_hls.access.log`).catch(() => "");
      return text.split("\n").filter((l) => l !== "").map(parseAccessLine);
    },
    errorLog: () => Deno.readTextFile(`${dir}/error.log`).catch(() => ""),
    async stop() {
      await proc.stop("SIGTERM");
    },
  };
  // Ready once it answers: `location /` is a 404 of nginx's own.
  for (let waited = 0;; waited += 50) {
    try {
      const res = await fetch(edge.url("/"), { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 404) return edge;
    } catch {
      // not listening yet
    }
    if (waited > 5000) {
      const r = await proc.stop("SIGKILL");
      throw new Error(`Cannot start nginx: current state is not answering after 5 s\n${r.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseAccessLine(line: string): AccessLine {
  const m = /"(\S+) (\S+) [^"]*" (\d{3}) (\d+) cache=(\S+)/.exec(line);
  if (!m) throw new Error(`Cannot read the access log: current line ${JSON.stringify(line)}`);
  return {
    method: m[1],
    path: m[2].split("?")[0],
    status: Number(m[3]),
    bytes: Number(m[4]),
    cache: m[5],
  };
}

/** nginx's error log levels that mean something went wrong (ngx_log.h), as they appear in a line. */
const BAD_LEVELS = /\[(warn|error|crit|alert|emerg)\]/;

/**
 * Runs `fn` with an edge in front of the server, then checks nginx logged nothing at warn or above (a
 * response buffered to a temporary file, an upstream error); stops nginx afterwards, and prints its error
 * log on failure.
 */
async function withEdge(server: TestServer, dir: string, fn: (edge: Edge) => Promise<void>): Promise<void> {
  const edge = await startEdge(server.sluice.httpPort, `${dir}/edge`);
  try {
    await fn(edge);
    const bad = (await edge.errorLog()).split("\n").filter((l) => BAD_LEVELS.test(l));
    assertEquals(bad, [], "nginx error log lines at warn or above");
  } catch (e) {
    const log = (await edge.errorLog()).split("\n").slice(-30).join("\n");
    console.error(`nginx error log (last 30 lines):\n${log}`);
    throw e;
  } finally {
    await edge.stop();
  }
}

/** The cache statuses of some access log lines, counted: { HIT: 480, MISS: 9 }. */
function byCache(lines: AccessLine[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) out[l.cache] = (out[l.cache] ?? 0) + 1;
  return out;
}

/** The counts resourceRequests holds for one stream (`app/stream/...` keys). */
function sluiceCounts(server: TestServer, key: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [path, n] of server.sluice.hls.resourceRequests) {
    if (path.startsWith(`${key}/`)) out.set(path, n);
  }
  return out;
}

// ---- the tests

edgeTest(
  "nginx proxy_cache (docs/hls_edge.nginx.conf) in front of Sluice: 50 HLS clients and 2 ffmpeg readers play, and each segment and init section reaches Sluice once",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 40, bframes: 2 });
    await withEdge(server, dir, async (edge) => {
      const publisher = publish(src, server.url("edge"));
      try {
        await waitForPublisher(server, "edge");
        const url = edge.url("/live/edge.m3u8");
        const readers = Array.from(
          { length: READERS },
          (_, i) => record(url, `${dir}/reader${i}.flv`, RECORD_S),
        );
        const results = await Promise.all(
          Array.from({ length: CLIENTS }, () => new HlsClient(url).run(CLIENT_MS)),
        );
        const recordings = await Promise.all(readers);

        // Every client played: no error, several reloads, every segment it listed fetched whole (200).
        const hashes = new Map<string, Set<string>>();
        results.forEach((r: HlsClientResult, i) => {
          assertEquals(r.errors, [], `client ${i}`);
          assertGreaterOrEqual(r.reloads, 3, `client ${i} reloads`);
          assertGreaterOrEqual(r.listed.length, 4, `client ${i} segments over ${CLIENT_MS} ms`);
          const inits = [...r.fetched.values()].filter((f) => f.msn < 0);
          assertGreaterOrEqual(inits.length, 1, `client ${i} fetched an init section`);
          for (const path of r.listed) {
            const f = r.fetched.get(path);
            assert(f, `client ${i} did not fetch ${path}`);
            assertEquals(f.status, 200, `client ${i} ${path}`);
            assertGreater(f.size, 0, `client ${i} ${path}`);
          }
          for (const f of r.fetched.values()) {
            assertEquals(f.status, 200, `client ${i} ${f.path}`);
            hashes.set(f.path, (hashes.get(f.path) ?? new Set()).add(f.sha256));
          }
        });
        // ... and every client got the same bytes under a path.
        const differing = [...hashes].filter(([, h]) => h.size > 1).map(([p, h]) => `${p}: ${h.size}`);
        assertEquals(differing, [], "paths whose bytes differ between clients");

        // The ffmpeg readers decode clean from a keyframe, and hold the source's packets over their window.
        for (let i = 0; i < READERS; i++) {
          assertEquals(recordings[i].code, 0, `ffmpeg reader ${i} failed:\n${recordings[i].stderr}`);
          await checkPlayback(src, `${dir}/reader${i}.flv`, `reader ${i} through nginx`, { minSpanMs: 4000 });
        }

        // Sluice answered each segment and init section once; nginx answered the rest from its cache.
        const counts = sluiceCounts(server, "live/edge");
        const twice = [...counts].filter(([, n]) => n !== 1).map(([p, n]) => `${p}: ${n}`);
        assertEquals(twice, [], "resources Sluice answered more than once");
        for (const path of hashes.keys()) {
          assert(counts.has(path.slice(1)), `Sluice's counter never saw ${path}`);
        }
        const log = await edge.accessLog();
        const resources = log.filter((l) => RESOURCE.test(l.path));
        const playlists = log.filter((l) => l.path.endsWith(".m3u8"));
        const cache = byCache(resources);
        const toSluice = [...counts.values()].reduce((a, b) => a + b, 0);
        assertEquals(cache.MISS ?? 0, toSluice, `nginx misses vs Sluice's count (${JSON.stringify(cache)})`);
        assertEquals(
          resources.filter((l) => l.status !== 200 && l.status !== 206),
          [],
          "resource answers of nginx that were not 200/206",
        );
        const clientFetches = results.reduce((n, r) => n + r.fetched.size, 0);
        assertGreaterOrEqual(resources.length, clientFetches, "nginx logged every client fetch");
        const hitRatio = 1 - toSluice / resources.length;
        console.log(
          `segments+init: ${resources.length} requests to nginx (${JSON.stringify(cache)}), ` +
            `${toSluice} reached Sluice (${counts.size} resources): hit ratio ${
              (hitRatio * 100).toFixed(1)
            } %`,
        );
        console.log(
          `playlists: ${playlists.length} requests to nginx (${JSON.stringify(byCache(playlists))}), ` +
            `all answered by Sluice (media playlists counted by Sluice: ${server.sluice.hls.stats.playlists})`,
        );
        const ms = results.flatMap((r) => [...r.fetched.values()].map((f) => f.ms)).sort((a, b) => a - b);
        console.log(
          `segment fetch through nginx: median ${ms[ms.length >> 1].toFixed(1)} ms, ` +
            `p99 ${ms[Math.floor(ms.length * 0.99)].toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`,
        );
        assertGreater(hitRatio, 0.9, "the cache answered most segment requests");
      } finally {
        await publisher.stop();
      }
    });
  },
  { hls: { container: "fmp4" } },
);

edgeTest(
  "nginx proxy_cache in front of Sluice: 10 blocking reloads and 10 requests for the same hinted part, with 10 sids, reach Sluice once each",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 20, bframes: 0 });
    await withEdge(server, dir, async (edge) => {
      const publisher = publish(src, server.url("ll"));
      try {
        await waitForPublisher(server, "ll");
        const media = edge.url("/live/ll/index.m3u8");
        const first = await fetch(media);
        assertEquals(first.status, 200);
        assertEquals(first.headers.get("x-cache-status"), "BYPASS", "a plain playlist skips the cache");
        const text = await first.text();
        const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
        assert(hint, `a preload hint in:\n${text}`);
        const [, msn, part] = /-(\d+)\.(\d+)\.m4s/.exec(hint)!;
        const partUrl = new URL(hint, media);
        const partPath = partUrl.pathname;
        const sid = (i: number) => `edgeclient${String(i).padStart(6, "0")}`; // 16 characters: a valid sid
        const hls = server.sluice.hls;
        const playlistsBefore = hls.stats.playlists;

        const t0 = performance.now();
        const timed = async (url: URL) => {
          const res = await fetch(url);
          const body = new Uint8Array(await res.arrayBuffer());
          return { res, body, ms: performance.now() - t0 };
        };
        const n = 10;
        const [reloads, parts] = await Promise.all([
          Promise.all(Array.from({ length: n }, (_, i) => {
            const u = new URL(media);
            u.searchParams.set("_HLS_msn", msn);
            u.searchParams.set("_HLS_part", part);
            u.searchParams.set("sid", sid(i));
            return timed(u);
          })),
          Promise.all(Array.from({ length: n }, (_, i) => {
            const u = new URL(partUrl);
            u.searchParams.set("sid", sid(i));
            return timed(u);
          })),
        ]);

        for (const [what, answers] of [["blocking reload", reloads], ["hinted part", parts]] as const) {
          for (const a of answers) assertEquals(a.res.status, 200, what);
          const bodies = new Set(answers.map((a) => new TextDecoder().decode(a.body)));
          assertEquals(bodies.size, 1, `${what}: one answer shared by all ${n}`);
          const statuses = byCache(
            answers.map((a) => ({ cache: a.res.headers.get("x-cache-status") ?? "-" } as AccessLine)),
          );
          const times = answers.map((a) => a.ms).sort((a, b) => a - b);
          console.log(
            `${what} x${n}: ${JSON.stringify(statuses)}, answered from ${times[0].toFixed(0)} to ` +
              `${times[n - 1].toFixed(0)} ms (the lock's waiters re-check every 500 ms)`,
          );
        }
        const playlist = new TextDecoder().decode(reloads[0].body);
        assert(playlist.includes(partPath.slice(partPath.lastIndexOf("/") + 1)), "the reload lists the part");
        const sids = new Set([...playlist.matchAll(/sid=([A-Za-z0-9_-]{16})/g)].map((m) => m[1]));
        console.log(`the shared blocking reload names ${sids.size} sid(s): ${[...sids].join(", ")}`);

        assertEquals(hls.stats.playlists - playlistsBefore, 1, "blocking reloads that reached Sluice");
        assertEquals(sluiceCounts(server, "live/ll").get(partPath.slice(1)), 1, "hinted part requests");
      } finally {
        await publisher.stop();
      }
    });
  },
  { hls: { container: "fmp4" } },
);

/** One GET with curl from the loopback address `from` (curl --interface): its status, and the body. */
async function curlFrom(
  from: string,
  url: string,
  headers: string[] = [],
): Promise<{ status: number; body: string }> {
  const r = await runOk("curl", [
    "-s",
    "--max-time",
    "20",
    "--interface",
    from,
    ...headers.flatMap((h) => ["-H", h]),
    "-w",
    "\n%{http_code}",
    url,
  ], 30_000);
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

edgeTest(
  "behind nginx (docs/hls_edge.nginx.conf) with http.trustedProxies, Sluice sees each player's own address in " +
    "X-Forwarded-For: its session shows it, an address rule refuses it through the proxy, and a header the " +
    "player forged itself does not change it",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 20, bframes: 0 });
    await withEdge(server, dir, async (edge) => {
      const publisher = publish(src, server.url("cam"));
      try {
        await waitForPublisher(server, "cam");
        const playlist = edge.url("/live/cam/index.m3u8?sid=fromfive00000001");
        const allowed = await curlFrom("127.0.0.5", playlist);
        assertEquals(allowed.status, 200, allowed.body);
        assert(allowed.body.startsWith("#EXTM3U"), allowed.body);
        const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/api/v1/clients?stream=live/cam`);
        const { clients } = await res.json() as { clients: { protocol: string; remote?: string }[] };
        const hls = clients.filter((c) => c.protocol === "hls").map((c) => c.remote);
        assertEquals(hls, ["127.0.0.5:0"], "the HLS session's address");

        const refused = await curlFrom("127.0.0.6", edge.url("/live/cam/index.m3u8?sid=fromsix000000001"));
        assertEquals(refused.status, 403, refused.body);
        assert(refused.body.includes("127.0.0.6"), `the refusal names the player's address: ${refused.body}`);
        // nginx appends the player's address to what the player sent: Sluice reads the hop nginx added.
        const forged = await curlFrom("127.0.0.6", edge.url("/live/cam/index.m3u8?sid=fromsix000000002"), [
          "X-Forwarded-For: 127.0.0.5",
        ]);
        assertEquals(forged.status, 403, forged.body);
      } finally {
        await publisher.stop();
      }
    });
  },
  {
    http: { trustedProxies: ["127.0.0.1"] },
    rules: [{
      match: "live/cam",
      action: "play",
      keys: [],
      sign: false,
      signAddress: false,
      jwt: false,
      acl: ["deny 127.0.0.6"],
    }],
  },
  ["curl"],
);
