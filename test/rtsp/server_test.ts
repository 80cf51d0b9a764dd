import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { RtspTestClient } from "./_client.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { RtspServer } from "../../src/rtsp/server.ts";

function server(
  overrides: ConfigOverrides = {},
): { server: RtspServer; hub: StreamHub; log: RecordingLogger } {
  const log = new RecordingLogger();
  const config = makeConfig({ ...overrides, rtsp: { host: "127.0.0.1", port: 0, ...overrides.rtsp } });
  const hub = new StreamHub(config.hub, log);
  return { server: new RtspServer({ hub, config, log }), hub, log };
}

Deno.test("RtspServer.listen() binds a free port for rtsp.port 0 and each connection is an RTSP session", async () => {
  const { server: s, hub } = server();
  s.listen();
  assertGreater(s.port, 0);
  const c = await RtspTestClient.connect(s.port);
  try {
    assertEquals((await c.request({ method: "OPTIONS", uri: "*" })).status, 200);
    assertEquals(s.sessions.size, 1);
    assertEquals(hub.sessions.list({ protocol: "rtsp" }).length, 1, "in the registry with protocol rtsp");
    await s.close();
    assert(await c.closedByServer(), "close() ends the sessions");
    assertEquals(hub.sessions.list({ protocol: "rtsp" }).length, 0);
  } finally {
    c.close();
    hub.stop();
  }
});

Deno.test("RtspServer.listen() refuses a connection past rtsp.maxConnections at accept, with a logged reason", async () => {
  const { server: s, hub, log } = server({ rtsp: { maxConnections: 1 } });
  s.listen();
  const a = await RtspTestClient.connect(s.port);
  const b = await RtspTestClient.connect(s.port);
  try {
    assertEquals((await a.request({ method: "OPTIONS", uri: "*" })).status, 200);
    assert(await b.closedByServer(), "the second connection is closed at once");
    assertEquals(s.sessions.size, 1);
    assertMatch(log.lines.find((l) => l.level === "warn")!.msg, /refused, 1 connections \(limit 1\)/);
  } finally {
    a.close();
    b.close();
    await s.close();
    hub.stop();
  }
});

Deno.test("RtspServer.listen() refuses past limits.maxConnectionsPerAddress from one host", async () => {
  const { server: s, hub, log } = server({ limits: { maxConnectionsPerAddress: 1 } });
  s.listen();
  const a = await RtspTestClient.connect(s.port);
  const b = await RtspTestClient.connect(s.port);
  try {
    assertEquals((await a.request({ method: "OPTIONS", uri: "*" })).status, 200);
    assert(await b.closedByServer());
    assertMatch(log.lines.find((l) => l.level === "warn")!.msg, /limits.maxConnectionsPerAddress 1/);
  } finally {
    a.close();
    b.close();
    await s.close();
    hub.stop();
  }
});
