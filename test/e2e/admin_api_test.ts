/**
 * The admin API over real sockets: the listeners `/api/v1/server` lists
 * (RTSP with its UDP range), Server-Sent Events read with fetch streaming,
 * `/metrics` counting a running publisher's bytes, the loopback exemption
 * switched off by its setting, a password login with its cookie, and no secret
 * in any log line.
 */
import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import { startServer, SyntheticStream, test, waitFor } from "../_util/live.ts";
import { hashPassword } from "../../src/admin/password.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";

const TOKEN = "e2e-token-abcdefghijklmnop";
const PASSWORD = "correct horse battery staple";

/** Reads SSE events from a streaming fetch body until `want` has been seen (or the bound passes). */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  want: (names: string[]) => boolean,
): Promise<string[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const names: string[] = [];
  let text = "";
  const deadline = Date.now() + 10_000;
  try {
    while (!want(names) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      let cut: number;
      while ((cut = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, cut);
        text = text.slice(cut + 2);
        const name = block.match(/^event: (.+)$/m)?.[1];
        if (name) names.push(name);
      }
    }
  } finally {
    await reader.cancel();
  }
  return names;
}

test("GET /api/v1/server lists the bound RTMP, HTTP and RTSP listeners, RTSP with its UDP range", async () => {
  // The range is only configured: UDP ports are bound at a SETUP, so an odd first port costs no bind here.
  const server = await startServer({ rtsp: { udpPortFirst: 40_001, udpPortLast: 40_100 } });
  try {
    const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/api/v1/server`);
    assertEquals(res.status, 200);
    const { listeners } = await res.json();
    assertGreater(server.sluice.rtspPort, 0);
    assertEquals(listeners, [
      { protocol: "rtmp", host: "127.0.0.1", port: server.sluice.rtmpPort },
      { protocol: "http", host: "127.0.0.1", port: server.sluice.httpPort },
      {
        protocol: "rtsp",
        host: "127.0.0.1",
        port: server.sluice.rtspPort,
        udpPorts: { first: 40_002, last: 40_100 },
      },
    ]);
  } finally {
    await server.stop();
  }
  const off = await startServer({ rtsp: { enabled: false } });
  try {
    const res = await fetch(`http://127.0.0.1:${off.sluice.httpPort}/api/v1/server`);
    const { listeners } = await res.json();
    assertEquals(listeners.map((l: { protocol: string }) => l.protocol), ["rtmp", "http"], "RTSP off");
  } finally {
    await off.stop();
  }
});

test("GET /api/v1/events streams snapshots and a publish event to a fetch client as they happen", async () => {
  const server = await startServer();
  const http = `http://127.0.0.1:${server.sluice.httpPort}`;
  let client: RtmpClient | undefined;
  try {
    const res = await fetch(`${http}/api/v1/events`);
    assertEquals(res.status, 200);
    assertMatch(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = readEvents(res.body!, (n) => n.includes("publish") && n.includes("snapshot"));
    client = await RtmpClient.connect(`${server.app}/sse`);
    await client.publish();
    const names = await events;
    assert(names.includes("snapshot"), `no snapshot in ${names}`);
    assert(names.includes("connect"), `no connect event in ${names}`);
    assert(names.includes("publish"), `no publish event in ${names}`);
  } finally {
    await client?.close();
    await server.stop();
  }
});

test("GET /metrics: the stream's received bytes counter grows while a publisher runs", async () => {
  const server = await startServer();
  const http = `http://127.0.0.1:${server.sluice.httpPort}`;
  const client = await RtmpClient.connect(`${server.app}/m`);
  try {
    const pub = await client.publish();
    const syn = new SyntheticStream({ marker: 5, keyBytes: 5000, interBytes: 800 });
    await pub.sendFrames([...syn.headers(), ...syn.next()]);
    const scrape = async () => {
      const text = await (await fetch(`${http}/metrics`)).text();
      return Number(text.match(/^sluice_stream_received_bytes_total\{app="live",stream="m"\} (\d+)$/m)?.[1]);
    };
    await waitFor(() => server.sluice.hub.get("live/m") !== undefined, "the stream");
    const first = await scrape();
    for (let i = 0; i < 10; i++) await pub.sendFrames(syn.next());
    await waitFor(() => server.sluice.hub.get("live/m")!.stats.bytesIn > first, "more bytes in");
    const second = await scrape();
    assertGreater(second, first);
  } finally {
    await client.close();
    await server.stop();
  }
});

test("admin: with admin.loopbackOpen off and no credential, a loopback client is refused too", async () => {
  const server = await startServer({ admin: { loopbackOpen: false } });
  try {
    for (const path of ["/api/v1/server", "/metrics"]) {
      const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}${path}`);
      assertEquals(res.status, 403, path);
      await res.body?.cancel();
    }
  } finally {
    await server.stop();
  }
});

test("admin: a password login sets an HttpOnly SameSite=Strict cookie that opens the API; no secret is logged", async () => {
  const server = await startServer({
    admin: { loopbackOpen: false, token: TOKEN, passwordHash: await hashPassword(PASSWORD, 100_000) },
  });
  const http = `http://127.0.0.1:${server.sluice.httpPort}`;
  try {
    const wrong = await fetch(`${http}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: http },
      body: JSON.stringify({ user: "admin", password: "wrong password here" }),
    });
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();
    const login = await fetch(`${http}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: http },
      body: JSON.stringify({ user: "admin", password: PASSWORD }),
      redirect: "manual",
    });
    await login.body?.cancel();
    const cookie = login.headers.get("set-cookie") ?? "";
    assertMatch(cookie, /HttpOnly/i);
    assertMatch(cookie, /SameSite=Strict/i);
    const withCookie = await fetch(`${http}/api/v1/server`, { headers: { cookie: cookie.split(";")[0] } });
    assertEquals(withCookie.status, 200);
    await withCookie.body?.cancel();
    const withToken = await fetch(`${http}/api/v1/clients`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assertEquals(withToken.status, 200);
    await withToken.body?.cancel();
    const stopWithoutOrigin = await fetch(`${http}/api/v1/streams/live/x/stop`, {
      method: "POST",
      headers: { cookie: cookie.split(";")[0] },
    });
    assertEquals(stopWithoutOrigin.status, 403, "a cookie POST without a same-origin check got through");
    await stopWithoutOrigin.body?.cancel();
    const secrets = [TOKEN, PASSWORD, "wrong password here", cookie.split(";")[0].split("=")[1]];
    const leaked = server.logs.filter((l) => secrets.some((s) => s && l.includes(s)));
    assertEquals(leaked, [], "a log line holds a secret");
  } finally {
    await server.stop();
  }
});
