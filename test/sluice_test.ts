/**
 * Sluice: start() binds the RTMP and HTTP listeners (port 0 picks free ports),
 * both answer, and stop() closes them; stopping twice, or before starting, is
 * harmless. Log lines are captured and the previous sink put back.
 */
import { makeConfig } from "../src/config/config.ts";
import { ConfigError } from "../src/config/validate.ts";
import { setLogSink } from "../src/log.ts";
import { admissionBoundMs, Sluice } from "../src/sluice.ts";
import { assert, assertEquals, assertNotEquals, assertRejects, assertThrows } from "./_util/assert.ts";
import { RecordingLogger } from "./_util/hub_fakes.ts";

const HOST = "127.0.0.1";

/** A Sluice on 127.0.0.1 with both listeners on port 0. */
function makeSluice(): Sluice {
  return new Sluice(
    makeConfig({
      rtmp: { host: HOST, port: 0 },
      http: { host: HOST, port: 0 },
      rtsp: { host: HOST, port: 0 },
    }),
  );
}

/** Runs `fn` against a started Sluice, then stops it; log lines go to the returned array meanwhile. */
async function withSluice(fn: (sluice: Sluice) => Promise<void>): Promise<string[]> {
  const logs: string[] = [];
  const prevSink = setLogSink((line) => logs.push(line));
  const sluice = makeSluice();
  try {
    await sluice.start();
    await fn(sluice);
  } finally {
    await sluice.stop();
    setLogSink(prevSink);
  }
  return logs;
}

/** Reads until `n` bytes arrived or the peer closed; returns what came. */
async function readAtLeast(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return buf.subarray(0, got);
}

Deno.test("Sluice.start() binds free RTMP and HTTP ports when the config asks for port 0", async () => {
  const sluice = makeSluice();
  assertEquals([sluice.rtmpPort, sluice.httpPort], [0, 0], "no ports before start()");
  await withSluice((s) => {
    assert(s.rtmpPort > 0, `rtmpPort ${s.rtmpPort}`);
    assert(s.httpPort > 0, `httpPort ${s.httpPort}`);
    assertNotEquals(s.rtmpPort, s.httpPort);
    assert(s.rtmp !== undefined && s.sources !== undefined, "listener and sources exist once started");
    return Promise.resolve();
  });
});

Deno.test("Sluice.listeners() lists RTSP with its bound port and UDP range while it runs, none with RTSP off", async () => {
  await withSluice((s) => {
    assertEquals(s.listeners(), [
      { protocol: "rtmp", host: HOST, port: s.rtmpPort },
      { protocol: "http", host: HOST, port: s.httpPort },
      { protocol: "rtsp", host: HOST, port: s.rtspPort, udpPorts: { first: 8000, last: 8999 } },
    ]);
    assert(s.rtspPort > 0, `rtspPort ${s.rtspPort}`);
    return Promise.resolve();
  });
  const off = new Sluice(makeConfig({
    rtmp: { host: HOST, port: 0 },
    http: { host: HOST, port: 0 },
    rtsp: { enabled: false },
  }));
  const prevSink = setLogSink(() => {});
  try {
    await off.start();
    assertEquals(off.listeners().map((l) => l.protocol), ["rtmp", "http"]);
    assertEquals(off.rtspPort, 0);
  } finally {
    await off.stop();
    setLogSink(prevSink);
  }
});

Deno.test("new Sluice() refuses an RTSP UDP range that holds no RTP/RTCP pair, as a ConfigError", () => {
  const e = assertThrows(
    () => new Sluice(makeConfig({ rtsp: { udpPortFirst: 9001, udpPortLast: 9000 } })),
    ConfigError,
  );
  assertEquals(e.message, "Cannot use rtsp.udpPortFirst: 9001 is above rtsp.udpPortLast 9000");
});

Deno.test("Sluice.start() serves GET /health on the HTTP port with 200 and JSON status ok", async () => {
  await withSluice(async (s) => {
    const res = await fetch(`http://${HOST}:${s.httpPort}/health`);
    assertEquals(res.status, 200);
    assert(res.headers.get("content-type")?.includes("application/json"), "a JSON content type");
    const body = await res.json();
    assertEquals(body.status, "ok");
    assertEquals(body.streams, 0, "a fresh server has no streams");
  });
});

Deno.test("Sluice.start() accepts TCP connections on the RTMP port and answers an RTMP handshake", async () => {
  await withSluice(async (s) => {
    const conn = await Deno.connect({ hostname: HOST, port: s.rtmpPort });
    try {
      // C0: version 3 (RTMP 1.0 5.2.2), then C1: 1536 bytes (time, zero, random; zeros will do).
      const c0c1 = new Uint8Array(1 + 1536);
      c0c1[0] = 3;
      await conn.write(c0c1);
      const s0 = await readAtLeast(conn, 1);
      assertEquals([...s0], [3], "S0: the server speaks RTMP version 3");
    } finally {
      conn.close();
    }
  });
});

Deno.test("Sluice.stop() closes both listeners, so new connections are refused", async () => {
  let rtmpPort = 0, httpPort = 0;
  await withSluice((s) => {
    rtmpPort = s.rtmpPort;
    httpPort = s.httpPort;
    return Promise.resolve();
  });
  await assertRejects(() => Deno.connect({ hostname: HOST, port: rtmpPort }), Deno.errors.ConnectionRefused);
  await assertRejects(() => Deno.connect({ hostname: HOST, port: httpPort }), Deno.errors.ConnectionRefused);
});

Deno.test("Sluice.stop() after stop() is harmless", async () => {
  const prevSink = setLogSink(() => {});
  try {
    const sluice = makeSluice();
    await sluice.start();
    const port = sluice.rtmpPort;
    await sluice.stop();
    await sluice.stop();
    await assertRejects(() => Deno.connect({ hostname: HOST, port }), Deno.errors.ConnectionRefused);
  } finally {
    setLogSink(prevSink);
  }
});

Deno.test("Sluice.stop() before start() is harmless", async () => {
  const sluice = makeSluice();
  await sluice.stop();
  assertEquals([sluice.rtmpPort, sluice.httpPort], [0, 0]);
});

Deno.test("Sluice.applyLive() takes new limits, player bounds and hub waits; a bad value changes nothing", async () => {
  const sluice = new Sluice(makeConfig());
  const next = makeConfig({
    limits: { maxPlayers: 3 },
    player: { queueMaxMs: 1500 },
    hub: { playWaitMs: 0 },
  });
  await sluice.applyLive(next);
  assertEquals(sluice.limits.limits.maxPlayers, 3);
  assertEquals(sluice.hub.admissionTimeoutMs, 5_000);
  assertEquals(sluice.config.player.queueMaxMs, 1500);
  assertEquals(sluice.config.hub.playWaitMs, 0);
  let threw = false;
  try {
    await sluice.applyLive(makeConfig({ limits: { maxPlayers: -1 } }));
  } catch {
    threw = true;
  }
  assert(threw, "a negative limit was taken");
  assertEquals(sluice.limits.limits.maxPlayers, 3);
});

Deno.test("new Sluice() refuses a transcode the schema lets through but ffmpeg cannot run, as a ConfigError", () => {
  const transcode = {
    key: "live/small",
    from: "live/cam",
    input: "rtmp" as const,
    videoCodec: "copy",
    videoSize: "320x240",
    audioCodec: "aac",
    args: [],
  };
  let error: unknown;
  try {
    new Sluice(makeConfig({ transcodes: [transcode] }));
  } catch (e) {
    error = e;
  }
  assert(error instanceof ConfigError, `a ConfigError, not ${error}`);
  assertEquals(
    error.message,
    'Cannot use transcodes: transcode live/small: videoSize needs an encoder, current videoCodec is "copy"',
  );
});

Deno.test("Sluice.applyLive() takes the new lists (streams, feeds, transcodes, trusted proxies), the admission timeout and feed rules", async () => {
  const sluice = new Sluice(makeConfig());
  const stream = {
    path: "/live.flv",
    key: "feed/feed1",
    format: "flv" as const,
    prerollMs: 0,
    noAudio: false,
    noVideo: false,
    maxTimeMs: 0,
    acl: [],
  };
  const feed = {
    key: "feed/feed1",
    push: "/feed1.ffm",
    fileMaxSize: 1 << 20,
    catchUp: false,
    acl: ["deny all"],
  };
  await sluice.applyLive(
    makeConfig({
      streams: [stream],
      feeds: [feed],
      admission: { timeoutMs: 1234 },
      http: { trustedProxies: ["10.0.0.0/8"] },
    }),
  );
  assertEquals(sluice.config.streams, [stream]);
  assertEquals(sluice.config.http.trustedProxies, ["10.0.0.0/8"], "the next request reads the new proxies");
  assertEquals(sluice.feeds.byPush("/feed1.ffm")?.key, "feed/feed1");
  assertEquals(sluice.hub.admissionTimeoutMs, 1234);
  const decision = sluice.addressRules.admit({
    action: "publish",
    protocol: "rtmp",
    app: "feed",
    name: "feed1",
    key: "feed/feed1",
    query: {},
    remote: { hostname: "127.0.0.1", port: 1 },
  });
  assertEquals(decision.kind, "deny", "the feed's new ACL applies to the next publish");
  await sluice.applyLive(makeConfig());
  assertEquals(sluice.config.streams, []);
  assertEquals(sluice.feeds.byPush("/feed1.ffm"), undefined);
});

Deno.test("admissionBoundMs() raises admission.timeoutMs to fit on_connect and on_publish, with a warning", () => {
  const log = new RecordingLogger();
  assertEquals(admissionBoundMs(makeConfig({}), log), 5000);
  const both = makeConfig({ auth: { onConnect: "http://127.0.0.1:9/", onPublish: "http://127.0.0.1:9/" } });
  assertEquals(admissionBoundMs(both, log), 7000);
  assert(
    log.lines.some((l) => l.level === "warn" && /admission.timeoutMs 5000 ms raised to 7000 ms/.test(l.msg)),
  );
  const roomy = makeConfig({ admission: { timeoutMs: 9000 }, auth: { onPlay: "http://127.0.0.1:9/" } });
  assertEquals(admissionBoundMs(roomy, log), 9000);
});
