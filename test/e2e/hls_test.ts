/**
 * HLS with real clients against an in-process Sluice: ffmpeg publishes over
 * RTMP (H.264 with B-frames + AAC, made at test time) and ffmpeg reads
 * `http://127.0.0.1:PORT/live/NAME.m3u8` (fMP4 and MPEG-TS segments); every
 * playlist the server gives while the stream runs passes the spec-rule
 * checker, and every URI it advertises can be fetched at once.
 */
import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import { PlaylistChecker } from "../_util/hls_checker.ts";
import { metricValue } from "../_util/metrics_text.ts";
import { checkByRate } from "../_util/rate_check.ts";
import {
  checkPlayback,
  compositionOffsets,
  decodeErrors,
  dtsBackwards,
  haveTools,
  makeSource,
  ofType,
  probePackets,
  publish,
  record,
  type TestServer,
  waitForPublisher,
  withServer,
} from "../_util/media.ts";
import type { ConfigOverrides } from "../../src/config/config.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { AdmissionAction } from "../../src/hub/admission.ts";
import { signQuery } from "../../src/auth/signed_url.ts";

const TOOLS = haveTools("ffmpeg", "ffprobe");
const SIGN_SECRET = "hls-signing-secret-1";
const RECORD_S = 6;
const SOURCE_S = 14;

function e2e(
  name: string,
  fn: (server: TestServer, dir: string) => Promise<void>,
  overrides: ConfigOverrides = {},
): void {
  Deno.test({
    name,
    ignore: !TOOLS,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => withServer(fn, overrides),
  });
}

function http(server: TestServer, path: string): string {
  return `http://127.0.0.1:${server.sluice.httpPort}${path}`;
}

/** Publishes `src` as live/NAME, records `seconds` of its HLS with ffmpeg into `out`, stops the publisher. */
async function recordHls(server: TestServer, src: string, name: string, out: string, seconds = RECORD_S) {
  const publisher = publish(src, server.url(name));
  try {
    await waitForPublisher(server, name);
    const rec = await record(http(server, `/live/${name}.m3u8`), out, seconds);
    assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
  } finally {
    await publisher.stop();
  }
}

/**
 * fMP4 carries the FLV's samples as they are: the recording is checked against the source packet by packet
 * (checkPlayback). MPEG-TS carries Annex B with an AUD and in-band SPS/PPS, so its packets differ in bytes:
 * it is checked by what a viewer sees (decodes clean, keyframe first, DTS monotonic, every picture decoded,
 * the packet rate of the source over the recording's span, within 5 %).
 */
async function checkRecording(src: string, out: string, label: string, container: string, kinds: string[]) {
  if (container === "fmp4") await checkPlayback(src, out, label, { kinds, minSpanMs: 4000 });
  else await checkByRate(src, out, label, kinds, 4000);
}

for (const container of ["fmp4", "ts"] as const) {
  const hls = { container };
  e2e(
    `HLS (${container}) read by ffmpeg decodes, starts on a keyframe, keeps every frame and its B-frame offsets`,
    async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
      const out = `${dir}/out.flv`;
      await recordHls(server, src, "x", out);
      await checkRecording(src, out, `hls ${container}`, container, ["video", "audio"]);
      const offsets = compositionOffsets(ofType(await probePackets(out), "video"));
      assert(offsets.some((d) => d > 0), "B-frames kept pts != dts");
    },
    { hls },
  );

  for (const kind of ["video", "audio"] as const) {
    e2e(
      `HLS (${container}) of a ${kind}-only stream read by ffmpeg decodes and keeps every frame`,
      async (server, dir) => {
        const src = await makeSource(`${dir}/src.flv`, {
          seconds: SOURCE_S,
          bframes: 2,
          ...(kind === "video" ? { audio: false } : { video: false }),
        });
        const out = `${dir}/out.flv`;
        await recordHls(server, src, "only", out);
        await checkRecording(src, out, `hls ${container} ${kind}-only`, container, [kind]);
      },
      { hls },
    );
  }
}

for (const container of ["fmp4", "ts"] as const) {
  e2e(
    `HLS (${container}) playlists pass the spec-rule checker on every reload and every URI they advertise is served at once`,
    async (server, dir) => {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 10, bframes: 2 });
      const publisher = publish(src, server.url("chk"));
      const checker = new PlaylistChecker();
      const fetched = new Set<string>();
      let blocked = 0;
      try {
        await waitForPublisher(server, "chk");
        const master = await fetch(http(server, "/live/chk.m3u8"));
        assertEquals(master.status, 200);
        assertEquals(master.headers.get("content-type"), "application/vnd.apple.mpegurl");
        const variant = (await master.text()).split("\n").find((l) => l.startsWith("chk/"))!;
        const base = new URL(variant, http(server, "/live/chk.m3u8"));
        const started = Date.now();
        let next: { msn: number; part: number } | undefined;
        while (Date.now() - started < 6000) {
          // Alternate plain reloads and blocking ones for the next part (as hls.js does in low-latency mode).
          const url = new URL(base);
          if (next && checker.reloads % 2 === 1) {
            url.searchParams.set("_HLS_msn", String(next.msn));
            url.searchParams.set("_HLS_part", String(next.part));
            blocked++;
          }
          const res = await fetch(url);
          assertEquals(res.status, 200, `reload ${checker.reloads}: ${url}`);
          const text = await res.text();
          const violations = checker.feed(text);
          assertEquals(violations, [], `reload ${checker.reloads}:\n${text}`);
          const hint = text.match(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/)?.[1];
          const m = hint?.match(/-(\d+)\.(\d+)\.(?:m4s|ts)/);
          if (m) next = { msn: Number(m[1]), part: Number(m[2]) };
          // Every URI listed now (not the hint) answers 200 at once.
          for (const uri of checker.uris()) {
            if (fetched.has(uri) || uri === hint) continue;
            fetched.add(uri);
            const r = await fetch(new URL(uri, url), { signal: AbortSignal.timeout(1000) });
            assertEquals(r.status, 200, `listed ${uri}`);
            await r.arrayBuffer();
          }
        }
      } finally {
        await publisher.stop();
      }
      console.log(`${checker.reloads} reloads (${blocked} blocking), ${fetched.size} URIs fetched`);
      assertGreater(checker.reloads, 5);
      assertGreater(fetched.size, 10);
    },
    { hls: { container } },
  );
}

e2e(
  "HLS: a blocking reload waits for the part, a reload too far ahead is 400, segments are immutable with Range",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 10, bframes: 0 });
    const publisher = publish(src, server.url("blk"));
    try {
      await waitForPublisher(server, "blk");
      const first = await (await fetch(http(server, "/live/blk/index.m3u8"))).text();
      const hint = first.match(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/)![1];
      const [, msn, part] = hint.match(/-(\d+)\.(\d+)\.m4s/)!;
      const t0 = Date.now();
      const [playlist, partRes] = await Promise.all([
        fetch(http(server, `/live/blk/index.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`)),
        fetch(new URL(hint, http(server, "/live/blk/index.m3u8"))),
      ]);
      const waited = Date.now() - t0;
      assertEquals(playlist.status, 200);
      assertMatch(playlist.headers.get("cache-control")!, /max-age=\d+/);
      const text = await playlist.text();
      assert(
        text.includes(hint.split("?")[0]),
        `the blocking reload lists the part it waited for (${waited} ms)`,
      );
      assertEquals(partRes.status, 200, "the hinted part, held until ready");
      assertGreater((await partRes.arrayBuffer()).byteLength, 0);

      const far = await fetch(http(server, `/live/blk/index.m3u8?_HLS_msn=${Number(msn) + 10}`));
      assertEquals(far.status, 400);
      await far.body?.cancel();

      const seg = text.match(/^([0-9a-z]+-\d+\.m4s\?[^\n]*)$/m)![1];
      const whole = await fetch(new URL(seg, http(server, "/live/blk/index.m3u8")));
      assertEquals(whole.headers.get("cache-control"), "public, max-age=31536000, immutable");
      const bytes = new Uint8Array(await whole.arrayBuffer());
      const ranged = await fetch(new URL(seg, http(server, "/live/blk/index.m3u8")), {
        headers: { range: "bytes=4-11" },
      });
      assertEquals(ranged.status, 206);
      assertEquals(new Uint8Array(await ranged.arrayBuffer()), bytes.subarray(4, 12));
      assertEquals(new TextDecoder().decode(bytes.subarray(4, 8)), "moof");

      // What Prometheus scrapes counts these requests (loopback reads /metrics).
      const metrics = await (await fetch(http(server, "/metrics"))).text();
      const value = (name: string, labels?: Record<string, string>) =>
        metricValue(metrics, name, labels) ?? NaN;
      assertGreater(value("sluice_hls_requests_total", { kind: "playlist" }), 1, metrics);
      assertGreater(value("sluice_hls_requests_total", { kind: "part" }), 0, metrics);
      assertGreater(
        value("sluice_hls_requests_total", { kind: "segment" }),
        1,
        "the whole and the ranged segment",
      );
      assertGreater(
        value("sluice_hls_blocked_requests_total"),
        0,
        "the blocking reload and the held part",
      );
      assertEquals(value("sluice_hls_streams"), 1);
    } finally {
      await publisher.stop();
    }
  },
);

e2e(
  "HLS viewers are sessions of the registry (protocol hls, one per sid) and end after the quiet timeout",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 10, bframes: 0 });
    const publisher = publish(src, server.url("ses"));
    try {
      await waitForPublisher(server, "ses");
      const master = await (await fetch(http(server, "/live/ses.m3u8"))).text();
      const sid = master.match(/sid=([A-Za-z0-9_-]{16})/)![1];
      await (await fetch(http(server, `/live/ses/index.m3u8?sid=${sid}`))).text();
      const viewers = server.sluice.hub.sessions.list({ key: "live/ses", protocol: Protocol.Hls });
      assertEquals(viewers.length, 1, "two requests with one sid are one viewer");
      assertEquals(viewers[0].role, "player");
      assertGreater(viewers[0].bytesOut, 0);
      const snap = server.sluice.hub.get("live/ses")!.snapshot();
      assertEquals(snap.viewers.byProtocol.hls, 1);
      // Quiet past the timeout: the viewer ends.
      const deadline = Date.now() + 8000;
      while (
        server.sluice.hub.sessions.list({ protocol: Protocol.Hls }).length > 0 && Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(server.sluice.hub.sessions.list({ protocol: Protocol.Hls }).length, 0);
    } finally {
      await publisher.stop();
    }
  },
  { hls: { sessionTimeoutMs: 3000 } },
);

e2e(
  "HLS: a publisher that reconnects makes a discontinuity ffmpeg reads through",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 6, bframes: 2 });
    const out = `${dir}/out.flv`;
    const first = publish(src, server.url("re"));
    await waitForPublisher(server, "re");
    const player = record(http(server, "/live/re.m3u8"), out, 9);
    await first.done;
    const second = publish(src, server.url("re"));
    try {
      const rec = await player;
      assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
    } finally {
      await second.stop();
    }
    const text = await (await fetch(http(server, "/live/re/index.m3u8"))).text().catch(() => "");
    const packets = await probePackets(out);
    assertEquals(dtsBackwards(ofType(packets, "video")), [], "DTS goes on across the reconnect");
    assertGreater(ofType(packets, "video").length, 150, `frames from both runs:\n${text}`);
  },
  { hub: { reconnectGraceMs: 5000 } },
);

e2e(
  "HLS with signed URLs: ffmpeg plays a signed playlist URL (the signature rides on every URI) and an unsigned one is 401",
  async (server, dir) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: 12, bframes: 2 });
    const publisher = publish(src, server.url("sig"));
    try {
      await waitForPublisher(server, "sig");
      const unsigned = await fetch(http(server, "/live/sig.m3u8"));
      assertEquals(unsigned.status, 401);
      await unsigned.body?.cancel();
      const expires = Math.floor(Date.now() / 1000) + 600;
      const query = await signQuery(SIGN_SECRET, { action: AdmissionAction.Play, key: "live/sig" }, expires);
      const text = await (await fetch(http(server, `/live/sig/index.m3u8?${query}`))).text();
      const uris = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      assert(
        uris.length > 0 && uris.every((u) => u.includes(`sign=`)),
        `every segment URI is signed:\n${text}`,
      );
      const out = `${dir}/out.flv`;
      const rec = await record(http(server, `/live/sig.m3u8?${query}`), out, 4);
      assertEquals(rec.code, 0, `the player ffmpeg failed:\n${rec.stderr}`);
      assertEquals(await decodeErrors(out), "");
      assertGreater(ofType(await probePackets(out), "video").length, 75);
    } finally {
      await publisher.stop();
    }
  },
  { auth: { signSecret: SIGN_SECRET } },
);
