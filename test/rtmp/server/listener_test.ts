import { assert, assertEquals, assertRejects } from "../../_util/assert.ts";
import { RecordingLogger } from "../../_util/hub_fakes.ts";
import {
  headerLenOf,
  readMedia,
  stampOf,
  startServer,
  stopAll,
  SyntheticStream,
  test,
  waitFor,
} from "../../_util/live.ts";
import { readToClose } from "../../_util/raw_rtmp.ts";
import { haveOpenssl, makeCert, type TestCert, trusts } from "../../_util/tls.ts";
import { makeConfig } from "../../../src/config/config.ts";
import { StreamHub } from "../../../src/hub/stream_hub.ts";
import { RtmpClient } from "../../../src/rtmp/client/client.ts";
import { RtmpListener } from "../../../src/rtmp/server/listener.ts";
import type { RtmpSession } from "../../../src/rtmp/server/session.ts";

test("RtmpListener refuses connections past rtmp.maxConnections are refused", async () => {
  const server = await startServer({ rtmp: { maxConnections: 2 } });
  const sessions = () => server.sluice.rtmp!.sessions.size;
  const held: Deno.TcpConn[] = [];
  let client: RtmpClient | undefined;
  try {
    for (let i = 0; i < 2; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort }));
    }
    await waitFor(() => sessions() === 2, "two sessions");
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort });
    await readToClose(extra);
    assert(
      server.logs.some((l) => /WARN .*closed: refused, 2 connections \(limit 2\)/.test(l)),
      "the refusal is logged",
    );

    for (const c of held.splice(0)) c.close();
    await waitFor(() => sessions() === 0, "the held sessions to end");
    client = await RtmpClient.connect(`${server.app}/cam`);
    assert(!client.closed, "a connection is accepted again below the limit");
  } finally {
    for (const c of held) c.close();
    await stopAll(server, client);
  }
});

test("RtmpListener refuses a connection past limits.maxConnectionsPerAddress from the same host, and not others", async () => {
  const server = await startServer({
    limits: { maxConnectionsPerAddress: 2 },
    rtmp: { maxConnections: 100 },
  });
  const sessions = () => server.sluice.rtmp!.sessions.size;
  const held: Deno.TcpConn[] = [];
  let client: RtmpClient | undefined;
  try {
    for (let i = 0; i < 2; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort }));
    }
    await waitFor(() => sessions() === 2, "two sessions");
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort });
    await readToClose(extra);
    assert(
      server.logs.some((l) =>
        /WARN .*closed: refused, 2 connections from 127\.0\.0\.1 \(limits\.maxConnectionsPerAddress 2\)/.test(
          l,
        )
      ),
      "the refusal is logged with the limit's name",
    );
    assertEquals(sessions(), 2, "the held connections are untouched");
    for (const c of held.splice(0)) c.close();
    await waitFor(() => sessions() === 0, "the held sessions to end");
    client = await RtmpClient.connect(`${server.app}/cam`);
    assert(!client.closed, "the address is accepted again below its limit");
  } finally {
    for (const c of held) c.close();
    await stopAll(server, client);
  }
});

// ---------------------------------------------------------------------------------------------
// RTMPS: the same sessions over Deno.listenTls

/** A started hub and a config on 127.0.0.1:0 (at most `maxConnections`), for listeners made by hand. */
function sessionContext(maxConnections = 100) {
  const config = makeConfig({ rtmp: { host: "127.0.0.1", port: 0, maxConnections } });
  const log = new RecordingLogger();
  const hub = new StreamHub(config.hub, log);
  hub.start();
  return { hub, config, log };
}

/** Runs `fn` with two certificates made by openssl in a temp dir that is removed afterwards. */
function tlsTest(name: string, fn: (a: TestCert, b: TestCert) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !haveOpenssl,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice_tls_" });
      try {
        await fn(await makeCert(dir, "a"), await makeCert(dir, "b"));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

tlsTest(
  "RtmpListener with a TLS key pair serves RTMPS: a client publishes and plays over rtmps://",
  async (a) => {
    const ctx = sessionContext();
    const listener = new RtmpListener(ctx, { tls: { cert: a.cert, key: a.key } });
    listener.listen();
    const url = `rtmps://127.0.0.1:${listener.port}/live/cam`;
    let pc: RtmpClient | undefined;
    let viewer: RtmpClient | undefined;
    try {
      assert(listener.tls, "the listener says it speaks TLS");
      pc = await RtmpClient.connect(url, { caCerts: [a.cert] });
      const pub = await pc.publish();
      const syn = new SyntheticStream({ marker: 0x5e });
      await pub.sendFrames([...syn.headers(), ...syn.next()]);
      viewer = await RtmpClient.connect(url, { caCerts: [a.cert] });
      const player = await viewer.play();
      await pub.sendFrames(syn.next());
      const [first] = await readMedia(player, 1);
      assertEquals(stampOf(first.payload, headerLenOf(first.kind)).marker, 0x5e, "the publisher's media");
    } finally {
      await viewer?.close();
      await pc?.close();
      await listener.close();
      ctx.hub.stop();
    }
  },
);

tlsTest(
  "RtmpListener.reopen() shows the new certificate to new connections on the same port; sessions it had go on",
  async (a, b) => {
    const ctx = sessionContext();
    const listener = new RtmpListener(ctx, { tls: { cert: a.cert, key: a.key } });
    listener.listen();
    const port = listener.port;
    let before: RtmpClient | undefined;
    try {
      before = await RtmpClient.connect(`rtmps://127.0.0.1:${port}/live`, { caCerts: [a.cert] });
      assertEquals([await trusts(port, a.cert), await trusts(port, b.cert)], [true, false], "before");

      await listener.reopen({ cert: b.cert, key: b.key });

      assertEquals(listener.port, port, "the same port");
      assertEquals([await trusts(port, a.cert), await trusts(port, b.cert)], [false, true], "after");
      assert(!before.closed, "the session accepted before is still open");
      assert((await before.createStream()) > 0, "and still answers commands");
    } finally {
      await before?.close();
      await listener.close();
      ctx.hub.stop();
    }
  },
);

tlsTest(
  "RtmpListener.reopen() with a key that is not the certificate's rethrows and goes on with the old pair",
  async (a, b) => {
    const ctx = sessionContext();
    const listener = new RtmpListener(ctx, { tls: { cert: a.cert, key: a.key } });
    listener.listen();
    try {
      await assertRejects(() => listener.reopen({ cert: b.cert, key: a.key }), Error, "KeyMismatch");
      await assertRejects(() => listener.reopen({ cert: "not PEM", key: b.key }), Deno.errors.InvalidData);
      assert(await trusts(listener.port, a.cert), "the old certificate is still shown");
    } finally {
      await listener.close();
      ctx.hub.stop();
    }
  },
);

test("RtmpListener.reopen() of a plain TCP listener throws TypeError", async () => {
  const ctx = sessionContext();
  const listener = new RtmpListener(ctx);
  listener.listen();
  try {
    assert(!listener.tls);
    await assertRejects(() => listener.reopen({ cert: "", key: "" }), TypeError, "plain TCP");
  } finally {
    await listener.close();
    ctx.hub.stop();
  }
});

tlsTest(
  "RtmpListeners given the same shared set count RTMP and RTMPS connections together against rtmp.maxConnections",
  async (a) => {
    const ctx = sessionContext(2);
    const shared = new Set<RtmpSession>();
    const plain = new RtmpListener(ctx, { shared });
    const secure = new RtmpListener(ctx, { tls: { cert: a.cert, key: a.key }, shared });
    plain.listen();
    secure.listen();
    const held: Deno.Conn[] = [];
    try {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: plain.port }));
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: plain.port }));
      await waitFor(() => shared.size === 2, "two sessions");
      const extra = await Deno.connectTls({ hostname: "127.0.0.1", port: secure.port, caCerts: [a.cert] });
      await readToClose(extra);
      assertEquals([plain.sessions.size, secure.sessions.size], [2, 0]);
      assert(
        ctx.log.lines.some((l) =>
          l.level === "warn" && /closed: refused, 2 connections \(limit 2\)/.test(l.msg)
        ),
        "the refusal on the RTMPS port is logged",
      );
    } finally {
      for (const c of held) c.close();
      await plain.close();
      await secure.close();
      ctx.hub.stop();
    }
  },
);
