import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertMatch,
  assertRejects,
} from "../../_util/assert.ts";
import {
  EVENT_TIMEOUT_MS,
  headerLenOf,
  isAv,
  type LiveServer,
  publishAndPlay,
  readMedia,
  readUntil,
  stampOf,
  startServer,
  stopAll,
  SyntheticStream,
  test,
} from "../../_util/live.ts";
import { haveOpenssl, makeCert, type TestCert } from "../../_util/tls.ts";
import { FrameKind } from "../../../src/media/frame.ts";
import { commandMsg, FakeServer, silentOn, video } from "../../_util/fake_rtmp_server.ts";
import { type Player, RtmpClient, RtmpStatusError } from "../../../src/rtmp/client/client.ts";
import { ConnectionClosedError } from "../../../src/errors.ts";
import {
  CommandName,
  decodeCommand,
  encodeError,
  StatusCode,
  statusInfo,
  StatusLevel,
} from "../../../src/rtmp/command.ts";
import * as control from "../../../src/rtmp/control.ts";
import { MessageType } from "../../../src/rtmp/message.ts";

test("RtmpClient.connect() sends Set Chunk Size, Window Ack Size, then connect with app and tcUrl", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url, { chunkSize: 8192, objectEncoding: 3 });
  try {
    const [scs, was, connect] = server.messages;
    assertEquals(control.parseControl(scs), { kind: "setChunkSize", chunkSize: 8192 });
    assertEquals(control.parseControl(was), { kind: "windowAckSize", windowSize: 2_500_000 });
    const cmd = decodeCommand(connect);
    assertEquals(cmd.name, CommandName.Connect);
    assertEquals(cmd.transactionId, 1);
    const obj = cmd.commandObject as Record<string, unknown>;
    assertEquals([obj.app, obj.tcUrl, obj.objectEncoding], ["live", server.url.replace(/\/cam$/, ""), 3]);
    assertMatch(String(obj.flashVer), /Sluice/);
    assertEquals(client.chunkSize, 8192);
  } finally {
    await client.close();
    await server.close();
  }
});

test("RtmpClient.connect() completes a digest handshake with Sluice's server side", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url, { digest: true });
  assert(!client.closed);
  await client.close();
  await server.close();
});

test("RtmpClient.connect() rejects with RtmpStatusError when connect gets _error", async () => {
  const server = new FakeServer((cmd, _m, s) => {
    if (cmd.name !== CommandName.Connect) return undefined;
    const info = statusInfo(StatusLevel.Error, StatusCode.ConnectRejected, "no such app");
    return s.send(commandMsg(0, encodeError(cmd.transactionId, info)));
  });
  const e = await assertRejects(() => RtmpClient.connect(server.url), RtmpStatusError, "no such app");
  assertEquals(e.code, StatusCode.ConnectRejected);
  await server.close();
});

test("RtmpClient.connect() rejects with TimedOut when the server never answers connect", async () => {
  const server = new FakeServer(silentOn(CommandName.Connect));
  await assertRejects(() => RtmpClient.connect(server.url, { timeoutMs: 200 }), Deno.errors.TimedOut);
  await server.close();
});

test("RtmpClient.connect() rejects with the signal's reason when aborted", async () => {
  const server = new FakeServer(silentOn(CommandName.Connect));
  const ac = new AbortController();
  const connecting = RtmpClient.connect(server.url, { signal: ac.signal });
  await server.until(() => server.messages.length >= 3, "the connect command");
  ac.abort(new Error("test gave up"));
  await assertRejects(() => connecting, Error, "test gave up");
  await server.close();
});

test("RtmpClient.publish() sends releaseStream, FCPublish, createStream, publish in order", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  const names = server.commands().map((c) => [c.name, c.commandObject === null ? c.args[0] : undefined]);
  assertEquals(names, [
    [CommandName.Connect, undefined],
    [CommandName.ReleaseStream, "cam"],
    [CommandName.FcPublish, "cam"],
    [CommandName.CreateStream, undefined],
    [CommandName.Publish, "cam"],
  ]);
  assertEquals(server.messages.at(-1)!.streamId, pub.streamId);
  await pub.close();
  await server.close();
});

test("RtmpClient.publish() rejects with the status code when the server answers an error status", async () => {
  const server = new FakeServer((cmd, m, s) =>
    cmd.name === CommandName.Publish
      ? s.status(m.streamId, StatusLevel.Error, StatusCode.PublishBadName)
      : undefined
  );
  const client = await RtmpClient.connect(server.url);
  const e = await assertRejects(() => client.publish("cam"), RtmpStatusError, StatusCode.PublishBadName);
  assertEquals(e.code, StatusCode.PublishBadName);
  await client.close();
  await server.close();
});

test("RtmpClient acknowledges each window of bytes and answers a ping", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const player = await client.play();
  await server.send(control.windowAckSize(1000), control.pingRequest(12345));
  for (let i = 0; i < 3; i++) await server.send(video(player.streamId, i * 40, new Uint8Array(600)));
  const acks = () =>
    server.messages.filter((m) => m.typeId === MessageType.Acknowledgement).map((m) =>
      control.parseControl(m)
    );
  await server.until(() => acks().length >= 1, "an acknowledgement");
  const ack = acks()[0];
  assert(ack.kind === "acknowledgement");
  assertGreaterOrEqual(ack.sequenceNumber, 1000);
  const userControls = server.messages.filter((m) => m.typeId === MessageType.UserControl);
  assert(
    userControls.map((m) => control.parseControl(m)).some((c) =>
      c.kind === "pingResponse" && c.timestamp === 12345
    ),
    "a PingResponse echoing the request's timestamp",
  );
  await player.close();
  await server.close();
});

test("RtmpClient.play() sends SetBufferLength and play, and yields statuses before media", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const player = await client.play("cam", { bufferMs: 500 });
  const ctl = server.messages.map((m) =>
    m.typeId === MessageType.UserControl ? control.parseControl(m) : null
  );
  assert(ctl.some((c) => c?.kind === "setBufferLength" && c.bufferLength === 500 && c.streamId === 1));
  const play = server.commands().find((c) => c.name === CommandName.Play)!;
  assertEquals(play.args[0], "cam");
  const first = await player.read(EVENT_TIMEOUT_MS);
  assertEquals(first?.type === "status" && first.code, StatusCode.PlayStart);
  await server.send(video(player.streamId, 0, Uint8Array.of(0x17, 0x01, 0, 0, 0, 0x65)));
  const [m] = await readMedia(player, 1);
  assertEquals([m.kind, m.keyframe, m.sequenceHeader], [FrameKind.Video, true, false]);
  await player.close();
  await server.close();
});

test("RtmpClient.play() rejects with the status code of an error that comes before Play.Start", async () => {
  const server = new FakeServer((cmd, m, s) =>
    cmd.name === CommandName.Play
      ? s.status(m.streamId, StatusLevel.Error, StatusCode.PlayStreamNotFound)
      : undefined
  );
  const client = await RtmpClient.connect(server.url);
  const e = await assertRejects(() => client.play(), RtmpStatusError);
  assertEquals(e.code, StatusCode.PlayStreamNotFound);
  await client.close();
  await server.close();
});

test("RtmpClient: a player receives what a publisher sent to Sluice, byte-identical and in order", async () => {
  const { server, pub, player, batches } = await publishAndPlay((syn) => {
    const out = [syn.headers()];
    for (let i = 0; i < 60; i++) out.push(syn.next());
    return out;
  });
  try {
    await pub.sendMetadata({ width: 640, height: 360, videocodecid: 7 });
    for (const b of batches) await pub.sendFrames(b);
    const sent = batches.flat();
    const meta = await readUntil(player, (ev) => ev.type === "media" && ev.name === "onMetaData", "metadata");
    assert(meta.before.every((ev) => !isAv(ev)), "nothing before the metadata but statuses");
    const got = await readMedia(player, sent.length);
    assertEquals(got.map((m) => [m.kind, m.payload]), sent.map((f) => [f.kind, f.payload]));
    const firstVideo = got.find((m) => m.kind === FrameKind.Video && !m.sequenceHeader)!;
    assert(firstVideo.keyframe, "the first video frame is a keyframe");
    for (const kind of [FrameKind.Audio, FrameKind.Video]) {
      const ts = got.filter((m) => m.kind === kind).map((m) => m.timestamp);
      assert(ts.every((t, i) => i === 0 || t >= ts[i - 1]), `${kind} timestamps are monotonic`);
    }
    assertEquals(
      got.filter((m) => !m.sequenceHeader).map((m) => stampOf(m.payload, headerLenOf(m.kind)).marker),
      got.filter((m) => !m.sequenceHeader).map(() => 0xa5),
    );
  } finally {
    await stopAll(server, pub, player);
  }
});

test("RtmpClient.close() ends a player's iteration", async () => {
  const { server, pub, player } = await publishAndPlay(() => []);
  const reading = (async (p: Player) => {
    let n = 0;
    for await (const _ of p) n++;
    return n;
  })(player);
  await player.client.close();
  assertGreaterOrEqual(await reading, 0);
  assertEquals(player.client.closeReason, "closed by the client");
  await stopAll(server, pub);
});

// ---------------------------------------------------------------------------------------------
// rtmps://: RTMP over TLS

/** Runs `fn` with a certificate made by openssl and a Sluice with RTMPS on a free port. */
function rtmpsTest(name: string, fn: (server: LiveServer, cert: TestCert) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !haveOpenssl,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice_rtmps_" });
      const cert = await makeCert(dir, "server");
      const server = await startServer({
        tls: { cert: cert.certFile, key: cert.keyFile, rtmpsPort: 0, httpsPort: 0 },
      });
      try {
        await fn(server, cert);
      } finally {
        await server.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

rtmpsTest(
  "RtmpClient.connect() to rtmps:// trusts the server's certificate given as caCerts and sends an rtmps:// tcUrl",
  async (server, cert) => {
    const url = `rtmps://127.0.0.1:${server.sluice.rtmpsPort}/live/cam`;
    const pc = await RtmpClient.connect(url, { caCerts: [cert.cert] });
    const viewer = await RtmpClient.connect(url, { caCerts: [cert.cert] });
    try {
      assertEquals(pc.url.tcUrl, `rtmps://127.0.0.1:${server.sluice.rtmpsPort}/live`);
      const pub = await pc.publish();
      const playing = viewer.play();
      const syn = new SyntheticStream({ marker: 0x7a });
      await pub.sendFrames([...syn.headers(), ...syn.next()]);
      const player = await playing;
      await pub.sendFrames(syn.next());
      const media = await readMedia(player, 2);
      assert(
        media.every((m) => stampOf(m.payload, headerLenOf(m.kind)).marker === 0x7a),
        "the published media",
      );
      const urls = server.sluice.hub.sessions.list().map((s) => s.request?.url ?? "");
      assert(urls.some((u) => u?.startsWith("rtmps://")), `the sessions' URLs: ${urls.join(", ")}`);
    } finally {
      await viewer.close();
      await pc.close();
    }
  },
);

rtmpsTest(
  "RtmpClient.connect() to rtmps:// rejects with InvalidData (the certificate's problem) when it is not trusted",
  async (server) => {
    const url = `rtmps://127.0.0.1:${server.sluice.rtmpsPort}/live/cam`;
    await assertRejects(() => RtmpClient.connect(url), Deno.errors.InvalidData, "invalid peer certificate");
  },
);

rtmpsTest(
  "RtmpClient.connect() to rtmps:// of a plain RTMP port rejects: the TLS handshake fails",
  async (server) => {
    const url = `rtmps://127.0.0.1:${server.sluice.rtmpPort}/live/cam`;
    await assertRejects(() => RtmpClient.connect(url, { timeoutMs: 5_000 }));
  },
);

test("RtmpClient.connect() to rtmps:// rejects with TimedOut when the server never answers the TLS handshake", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) held.push(c);
  })();
  try {
    const url = `rtmps://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/live/cam`;
    await assertRejects(() => RtmpClient.connect(url, { timeoutMs: 200 }), Deno.errors.TimedOut);
  } finally {
    for (const c of held) c.close();
    listener.close();
    await accepting.catch(() => {});
  }
});

test("RtmpClient.connect() rejects with ConnectionClosedError when the server closes during the handshake", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closing = (async () => {
    for await (const c of listener) c.close();
  })();
  try {
    const url = `rtmp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/live/cam`;
    const e = await assertRejects(() => RtmpClient.connect(url, { timeoutMs: 5_000 }), ConnectionClosedError);
    assertEquals(e.reason, "closed by the server");
  } finally {
    listener.close();
    await closing.catch(() => {});
  }
});
