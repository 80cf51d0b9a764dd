/**
 * RTMPS and HTTPS with real clients against an in-process Sluice, with self-signed certificates made by
 * openssl at test time: ffmpeg publishes to `rtmps://` and plays back over `rtmps://` and over HTTPS
 * HTTP-FLV (its TLS layer does not verify by default: no flag needed); Sluice's own client publishes
 * and plays `rtmps://` trusting the certificate; a `wss://` player; HTTP/2 on the HTTPS port; a
 * certificate reload (in-process and by SIGHUP to server.ts) that new connections see while players
 * that were playing go on; and the errors that name a file that cannot be read or used.
 */
import {
  assert,
  assertEquals,
  assertGreater,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../_util/assert.ts";
import { headerLenOf, readMedia, sleep, stampOf, SyntheticStream, waitFor } from "../_util/live.ts";
import {
  checkPlayback,
  haveTools,
  makeSource,
  publish,
  record,
  run,
  serverProcess,
  startServer,
  type TestServer,
  waitForPublisher,
} from "../_util/media.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { haveOpenssl, makeCert, type TestCert, trusts } from "../_util/tls.ts";
import { makeConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/validate.ts";
import { type Publisher, RtmpClient } from "../../src/rtmp/client/client.ts";
import { Sluice, TlsError } from "../../src/sluice.ts";

const FFMPEG = haveTools("ffmpeg", "ffprobe") && haveOpenssl;
const CURL = haveTools("curl") && haveOpenssl;
/** The recording length, in seconds of media; the source runs longer so the publisher outlasts the players. */
const RECORD_S = 5;
const SOURCE_S = 9;
/** Bounds a wait on a child process (never asserted on). */
const BOUND_MS = 60_000;

/** A server with TLS on free ports, its certificate (`a`) and a second one (`b`) in `dir`. */
interface TlsWorld {
  server: TestServer;
  dir: string;
  a: TestCert;
  b: TestCert;
}

/** Deno.test with sanitizers, skipped without `tools`; a TLS server on free ports for `fn`. */
function tlsTest(name: string, fn: (w: TlsWorld) => Promise<void>, tools = haveOpenssl): void {
  Deno.test({
    name,
    ignore: !tools,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice_tls_e2e_" });
      const a = await makeCert(dir, "a");
      const b = await makeCert(dir, "b");
      let server: TestServer | undefined;
      try {
        server = await startServer({ tls: { cert: a.certFile, key: a.keyFile, rtmpsPort: 0, httpsPort: 0 } });
        await fn({ server, dir, a, b });
      } catch (e) {
        if (server) console.error(`server log (last 40 lines):\n${server.logs.slice(-40).join("\n")}`);
        throw e;
      } finally {
        await server?.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

function rtmpsUrl(server: TestServer, name: string): string {
  return `rtmps://127.0.0.1:${server.sluice.rtmpsPort}/live/${name}`;
}

function httpsUrl(server: TestServer, path: string): string {
  return `https://127.0.0.1:${server.sluice.httpsPort}${path}`;
}

/** Sluice's client publishing synthetic media to `url` until `stop()` (paced at 25 fps, a keyframe a second). */
async function syntheticPublisher(url: string, marker: number, caCerts?: string[]) {
  const client = await RtmpClient.connect(url, { caCerts });
  const pub: Publisher<RtmpClient> = await client.publish();
  const syn = new SyntheticStream({ marker, gopFrames: 25, keyBytes: 20_000, interBytes: 2_000 });
  await pub.sendFrames(syn.headers());
  let running = true;
  const loop = (async () => {
    while (running && !client.closed) {
      await pub.sendFrames(syn.next()).catch(() => {});
      await sleep(40);
    }
  })();
  return {
    syn,
    async stop() {
      running = false;
      await loop;
      await client.close();
    },
  };
}

/** Reads a streaming body until it has given `bytes` more bytes; fails if it ends first. */
async function readBytes(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number, what: string) {
  let got = 0;
  while (got < bytes) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot read ${what}: the body ended after ${got} of ${bytes} bytes`);
    got += value.length;
  }
}

/** Reads an HTTP/1.1 answer's head (as text) and at least one byte after it (as bytes). */
async function readUpgrade(conn: Deno.Conn): Promise<{ head: string; body: Uint8Array }> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) {
      throw new Error(`Cannot read the upgrade: the connection ended after ${bytes.length} bytes`);
    }
    const next = new Uint8Array(bytes.length + n);
    next.set(bytes);
    next.set(buf.subarray(0, n), bytes.length);
    bytes = next;
    const end = headEnd(bytes);
    if (end >= 0 && bytes.length > end) {
      return { head: new TextDecoder().decode(bytes.subarray(0, end)), body: bytes.subarray(end) };
    }
  }
}

/** The offset just past the first CRLF CRLF, or -1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) return i + 1;
  }
  return -1;
}

// ---- ffmpeg

tlsTest(
  "ffmpeg publishes to rtmps:// and plays it back over rtmps:// and HTTPS HTTP-FLV: both recordings decode clean, start on a keyframe and keep every frame",
  async ({ server, dir }) => {
    const src = await makeSource(`${dir}/src.flv`, { seconds: SOURCE_S, bframes: 2 });
    const publisher = publish(src, rtmpsUrl(server, "x"));
    try {
      await waitForPublisher(server, "x");
      const [overRtmps, overHttps] = await Promise.all([
        record(rtmpsUrl(server, "x"), `${dir}/rtmps.flv`, RECORD_S),
        record(httpsUrl(server, "/live/x.flv"), `${dir}/https.flv`, RECORD_S),
      ]);
      assertEquals(overRtmps.code, 0, `the rtmps:// player failed:\n${overRtmps.stderr}`);
      assertEquals(overHttps.code, 0, `the https:// player failed:\n${overHttps.stderr}`);
    } finally {
      await publisher.stop();
    }
    await checkPlayback(src, `${dir}/rtmps.flv`, "rtmps", { sameFrames: true });
    await checkPlayback(src, `${dir}/https.flv`, "https", { sameFrames: true });
  },
  FFMPEG,
);

// ---- Sluice's own client, WebSocket, HTTPS

tlsTest(
  "Sluice's client publishes and plays over rtmps:// trusting the certificate, and a wss:// player gets the same stream",
  async ({ server, a }) => {
    const publisher = await syntheticPublisher(rtmpsUrl(server, "cam"), 0x3c, [a.cert]);
    const viewer = await RtmpClient.connect(rtmpsUrl(server, "cam"), { caCerts: [a.cert] });
    const ws = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: server.sluice.httpsPort,
      caCerts: [a.cert],
    });
    try {
      const player = await viewer.play();
      const media = await readMedia(player, 10);
      assert(
        media.every((m) => stampOf(m.payload, headerLenOf(m.kind)).marker === 0x3c),
        "the published media",
      );

      // A WebSocket-FLV play of the same stream, by hand: the upgrade over TLS, then binary frames.
      const upgrade = [
        "GET /live/cam.flv HTTP/1.1",
        `Host: 127.0.0.1:${server.sluice.httpsPort}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "",
        "",
      ].join("\r\n");
      await ws.write(new TextEncoder().encode(upgrade));
      const { head, body } = await readUpgrade(ws);
      assertMatch(head, /^HTTP\/1\.1 101 /, "the upgrade is answered 101 Switching Protocols");
      assertEquals(body[0], 0x82, "a final binary WebSocket frame (FIN + opcode 2) follows");
    } finally {
      ws.close();
      await viewer.close();
      await publisher.stop();
    }
  },
);

tlsTest(
  "HTTPS serves the same routes as HTTP to a fetch that trusts the certificate; listeners() lists rtmps and https",
  async ({ server, a }) => {
    const client = Deno.createHttpClient({ caCerts: [a.cert] });
    try {
      const res = await fetch(httpsUrl(server, "/health"), { client });
      assertEquals(res.status, 200);
      assertEquals((await res.json()).status, "ok");
      const overHttp = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/no/such/route/here`);
      const overHttps = await fetch(httpsUrl(server, "/no/such/route/here"), { client });
      assertEquals(
        [overHttps.status, await overHttps.text()],
        [overHttp.status, await overHttp.text()],
        "the same answer as over HTTP",
      );
    } finally {
      client.close();
    }
    const listeners = server.sluice.listeners();
    assertEquals(listeners.map((l) => l.protocol), ["rtmp", "http", "rtmps", "https", "rtsp"]);
    assertEquals(listeners.slice(2, 4).map((l) => l.port), [
      server.sluice.rtmpsPort,
      server.sluice.httpsPort,
    ]);
    assert(server.sluice.rtmpsPort > 0 && server.sluice.httpsPort > 0, "both bound");
  },
);

tlsTest(
  "HTTPS negotiates HTTP/2 with curl --http2 and still answers HTTP/1.1",
  async ({ server }) => {
    const version = async (flag: string) => {
      const r = await run("curl", [
        "-sk",
        flag,
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        httpsUrl(server, "/health"),
      ], {
        timeoutMs: BOUND_MS,
      });
      assertEquals(r.code, 0, `curl ${flag} failed: ${r.stderr}`);
      return r.stdout;
    };
    assertEquals(await version("--http2"), "2 200");
    assertEquals(await version("--http1.1"), "1.1 200");
  },
  CURL,
);

// ---- certificate reload

tlsTest(
  "Sluice.reloadTls() with a new certificate: new RTMPS and HTTPS connections see it, while an RTMPS and an HTTPS-FLV player play on",
  async ({ server, a, b }) => {
    const { rtmpsPort, httpsPort } = server.sluice;
    const publisher = await syntheticPublisher(server.url("cam"), 0x4d);
    const viewer = await RtmpClient.connect(rtmpsUrl(server, "cam"), { caCerts: [a.cert] });
    const client = Deno.createHttpClient({ caCerts: [a.cert] });
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const player = await viewer.play();
      await readMedia(player, 5);
      const res = await fetch(httpsUrl(server, "/live/cam.flv"), { client });
      assertEquals(res.status, 200);
      reader = res.body!.getReader();
      await readBytes(reader, 1, "the HTTPS-FLV player before the reload");
      assertEquals([await trusts(rtmpsPort, a.cert), await trusts(httpsPort, a.cert)], [true, true]);

      await Deno.writeTextFile(a.certFile, b.cert);
      await Deno.writeTextFile(a.keyFile, b.key);
      await server.sluice.reloadTls();

      assertEquals(
        [server.sluice.rtmpsPort, server.sluice.httpsPort],
        [rtmpsPort, httpsPort],
        "the same ports",
      );
      assertEquals(
        [await trusts(rtmpsPort, b.cert), await trusts(rtmpsPort, a.cert)],
        [true, false],
        "RTMPS",
      );
      assertEquals(
        [await trusts(httpsPort, b.cert), await trusts(httpsPort, a.cert)],
        [true, false],
        "HTTPS",
      );
      assert(
        server.logs.some((l) => l.includes(`[tls] reloaded ${a.certFile}: CN=127.0.0.1, valid until `)),
        "the reload is logged with the certificate's subject",
      );
      // The players connected before go on: more media, more bytes.
      const after = await readMedia(player, 25);
      assertGreater(after.length, 0);
      await readBytes(reader, 50_000, "the HTTPS-FLV player after the reload");
    } finally {
      await reader?.cancel().catch(() => {});
      client.close();
      await viewer.close();
      await publisher.stop();
    }
  },
);

tlsTest(
  "Sluice.reloadTls() keeps the running certificate and logs an error naming the file it cannot read or use",
  async ({ server, a, b }) => {
    const { rtmpsPort, httpsPort } = server.sluice;
    const errors = () => server.logs.filter((l) => / ERROR /.test(l));

    await Deno.remove(a.keyFile);
    await server.sluice.reloadTls();
    assertMatch(
      errors().at(-1) ?? "",
      new RegExp(
        `\\[tls\\] Cannot read tls\\.key ${a.keyFile}: there is no such file; the running certificate is kept`,
      ),
    );

    await Deno.writeTextFile(a.keyFile, b.key); // not the key of a.cert
    await server.sluice.reloadTls();
    assertMatch(
      errors().at(-1) ?? "",
      new RegExp(
        `Cannot use tls\\.cert ${a.certFile} with tls\\.key ${a.keyFile}: .*KeyMismatch; the running`,
      ),
    );

    await Deno.writeTextFile(a.certFile, "not a certificate\n");
    await server.sluice.reloadTls();
    assertMatch(
      errors().at(-1) ?? "",
      /No certificates found in certificate data; the running certificate is kept/,
    );

    assertEquals([await trusts(rtmpsPort, a.cert), await trusts(httpsPort, a.cert)], [true, true], "still a");
  },
);

// ---- start errors

Deno.test({
  name:
    "Sluice.start() throws TlsError naming the setting and the file it cannot read or use, and leaves nothing bound",
  ignore: !haveOpenssl,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_tls_start_" });
    try {
      const a = await makeCert(dir, "a");
      const b = await makeCert(dir, "b");
      const start = (cert: string, key: string) =>
        new Sluice(
          makeConfig({
            rtmp: { host: "127.0.0.1", port: 0 },
            rtsp: { host: "127.0.0.1", port: 0 },
            http: { host: "127.0.0.1", port: 0 },
            tls: { cert, key, rtmpsPort: 0, httpsPort: 0 },
          }),
          new RecordingLogger(),
        ).start();
      await assertRejects(
        () => start(`${dir}/missing.crt`, a.keyFile),
        TlsError,
        `Cannot read tls.cert ${dir}/missing.crt: there is no such file`,
      );
      await assertRejects(
        () => start(a.certFile, b.keyFile),
        TlsError,
        `Cannot use tls.cert ${a.certFile} with tls.key ${b.keyFile}: `,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("new Sluice() with tls.cert and no tls.key throws a ConfigError naming the missing one", () => {
  assertThrows(
    () => new Sluice(makeConfig({ tls: { cert: "/x.pem" } })),
    ConfigError,
    "Cannot use tls.key: it is missing while tls.cert is set; set both (--tls-cert FILE --tls-key FILE) or neither",
  );
});

// ---- server.ts

const PORTS_0 = [
  "--rtmp-port",
  "0",
  "--http-port",
  "0",
  "--rtmps-port",
  "0",
  "--https-port",
  "0",
  "--rtsp-port",
  "0",
];

Deno.test({
  name: "server.ts without the read permission for the certificate exits 2 with the --allow-read flag to add",
  ignore: !haveOpenssl,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_tls_cli_" });
    try {
      const a = await makeCert(dir, "a");
      const p = serverProcess([
        "--allow-net",
        "server.ts",
        "--host",
        "127.0.0.1",
        ...PORTS_0,
        "--tls-cert",
        a.certFile,
        "--tls-key",
        a.keyFile,
      ]);
      const status = await p.child.status;
      await p.reading;
      assertEquals(status.code, 2);
      assertEquals(p.log, [
        `Cannot read tls.cert ${a.certFile}: no read permission; start with --allow-read=${a.certFile},${a.keyFile}`,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "server.ts reads the certificate again on SIGHUP: a new connection sees the new one",
  ignore: !haveOpenssl,
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_tls_cli_" });
    const a = await makeCert(dir, "a");
    const b = await makeCert(dir, "b");
    const p = serverProcess([
      "--allow-net",
      `--allow-read=${dir}`,
      "server.ts",
      "--host",
      "127.0.0.1",
      ...PORTS_0,
      "--tls-cert",
      a.certFile,
      "--tls-key",
      a.keyFile,
    ]);
    try {
      await waitFor(() => p.log.some((l) => / health: /.test(l)), "the server's ports", BOUND_MS);
      const m = p.log.join("\n").match(/RTMPS listening on 127\.0\.0\.1:(\d+), HTTPS on 127\.0\.0\.1:(\d+)/);
      assert(m, `no TLS ports in:\n${p.log.join("\n")}`);
      const [rtmps, https] = [Number(m[1]), Number(m[2])];
      assertEquals([await trusts(rtmps, a.cert), await trusts(https, a.cert)], [true, true], "before");

      await Deno.writeTextFile(a.certFile, b.cert);
      await Deno.writeTextFile(a.keyFile, b.key);
      p.child.kill("SIGHUP");
      await waitFor(
        () => p.log.some((l) => l.includes(`[tls] reloaded ${a.certFile}`)),
        "the reload",
        BOUND_MS,
      );

      assertEquals([await trusts(rtmps, b.cert), await trusts(https, b.cert)], [true, true], "after");
    } finally {
      p.child.kill("SIGTERM");
      await p.child.status;
      await p.reading;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
