import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertLess,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../../_util/assert.ts";
import {
  EVENT_TIMEOUT_MS,
  headerLenOf,
  isAv,
  readMedia,
  readUntil,
  sessionOf,
  stampOf,
  startServer,
  SyntheticStream,
  test,
  waitFor,
} from "../../_util/live.ts";
import { ProtocolError } from "../../../src/errors.ts";
import { FrameKind } from "../../../src/media/frame.ts";
import { EcmaArray } from "../../../src/amf/amf0.ts";
import {
  type OutgoingFrame,
  parseRtmpUrl,
  type Player,
  RtmpClient,
  RtmpStatusError,
} from "../../../src/rtmp/client/client.ts";
import {
  type Command,
  CommandName,
  decodeCommand,
  decodeData,
  encodeCommand,
  encodeConnectResult,
  encodeError,
  encodeOnStatus,
  StatusCode,
  statusInfo,
  StatusLevel,
} from "../../../src/rtmp/command.ts";
import * as control from "../../../src/rtmp/control.ts";
import { ServerHandshake } from "../../../src/rtmp/handshake.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../../src/rtmp/message.ts";
import { ChunkReader } from "../../../src/wasm/chunk_reader.ts";
import { chunkedLength, encodeMessage } from "../../../src/wasm/chunk_writer.ts";

// ---------------------------------------------------------------------------------------------
// A scripted server: handshake, then every message the client sends is recorded and commands
// get the answers a live server gives, unless a test overrides them.

/** A test's own answer to a command: a promise (awaited) replaces the default answer; undefined keeps it. */
type Reply = (cmd: Command, msg: RtmpMessage, server: FakeServer) => Promise<void> | undefined;

class FakeServer {
  readonly listener: Deno.TcpListener;
  readonly messages: RtmpMessage[] = [];
  /** Bytes received after the handshake. */
  chunkBytes = 0;
  /** `chunkBytes` when each message completed. */
  readonly bytesAt: number[] = [];
  conn: Deno.TcpConn | undefined;
  #reply: Reply;
  #changed: (() => void) | undefined;
  #served: Promise<void>;

  constructor(reply: Reply = () => undefined) {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#reply = reply;
    this.#served = this.#serve();
  }

  get url(): string {
    return `rtmp://127.0.0.1:${this.listener.addr.port}/live/cam`;
  }

  commands(): Command[] {
    return this.messages.filter((m) => m.typeId === MessageType.CommandAmf0).map((m) => decodeCommand(m));
  }

  /** Writes messages with full headers in chunks of 128 (the server never changes its chunk size here). */
  async send(...msgs: RtmpMessage[]): Promise<void> {
    for (const m of msgs) await this.write(encodeMessage(m, 128));
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn!.write(bytes.subarray(off));
  }

  status(streamId: number, level: StatusLevel, code: string): Promise<void> {
    return this.send(commandMsg(streamId, encodeOnStatus(statusInfo(level, code, `${code} (fake)`))));
  }

  /** Resolves once `pred` holds, checked after every message received. */
  async until(pred: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`Cannot see ${what}: not within ${EVENT_TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#changed = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  async close(): Promise<void> {
    try {
      this.conn?.close();
    } catch {
      // closed by the test
    }
    this.listener.close();
    await this.#served;
  }

  async #serve(): Promise<void> {
    try {
      this.conn = await this.listener.accept();
      const hs = new ServerHandshake();
      const buf = new Uint8Array(65536);
      let rest: Uint8Array | undefined;
      while (!hs.done) {
        const n = await this.conn.read(buf);
        if (n === null) return;
        const step = hs.feed(buf.subarray(0, n));
        for (const out of step.output) await this.write(out);
        rest = step.rest;
      }
      const reader = new ChunkReader();
      if (rest) await this.#take(reader.push(rest), rest.length);
      while (true) {
        const n = await this.conn.read(reader.readable());
        if (n === null) return;
        await this.#take(reader.commit(n), n);
      }
    } catch {
      // the test closed the socket or the listener
    }
  }

  async #take(msgs: RtmpMessage[], n: number): Promise<void> {
    this.chunkBytes += n;
    for (const m of msgs) {
      this.messages.push(m);
      this.bytesAt.push(this.chunkBytes);
      if (m.typeId === MessageType.CommandAmf0) {
        const cmd = decodeCommand(m);
        await (this.#reply(cmd, m, this) ?? this.#answer(cmd, m));
      }
    }
    this.#changed?.();
  }

  /** What a live server answers. */
  #answer(cmd: Command, m: RtmpMessage): Promise<void> {
    switch (cmd.name) {
      case CommandName.Connect:
        return this.send(
          control.windowAckSize(2_500_000),
          control.setPeerBandwidth(2_500_000, control.PeerBandwidthLimit.Dynamic),
          commandMsg(0, encodeConnectResult(cmd.transactionId)),
        );
      case CommandName.CreateStream:
        return this.send(commandMsg(0, encodeCommand(CommandName.Result, cmd.transactionId, null, 1)));
      case CommandName.Publish:
        return this.status(m.streamId, StatusLevel.Status, StatusCode.PublishStart);
      case CommandName.Play:
        return this.status(m.streamId, StatusLevel.Status, StatusCode.PlayStart);
    }
    return Promise.resolve();
  }
}

/** A Reply that never answers `name`. */
function silentOn(name: string): Reply {
  return (cmd) => cmd.name === name ? Promise.resolve() : undefined;
}

function commandMsg(streamId: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Command, typeId: MessageType.CommandAmf0, streamId, timestamp: 0, payload };
}

function video(streamId: number, timestamp: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Video, typeId: MessageType.Video, streamId, timestamp, payload };
}

// ---------------------------------------------------------------------------------------------
// parseRtmpUrl

Deno.test("parseRtmpUrl() splits app and stream at the last path segment, as ffmpeg does", () => {
  assertEquals(parseRtmpUrl("rtmp://example.com/live/cam"), {
    hostname: "example.com",
    port: 1935,
    app: "live",
    stream: "cam",
    tcUrl: "rtmp://example.com/live",
  });
  const deep = parseRtmpUrl("rtmp://127.0.0.1:1940/live/room1/cam?key=abc");
  assertEquals([deep.port, deep.app, deep.stream, deep.tcUrl], [
    1940,
    "live/room1",
    "cam?key=abc",
    "rtmp://127.0.0.1:1940/live/room1",
  ]);
});

Deno.test("parseRtmpUrl() reads a one-segment URL as an app with no stream", () => {
  const u = parseRtmpUrl("rtmp://h/live");
  assertEquals([u.app, u.stream], ["live", ""]);
});

Deno.test("parseRtmpUrl() strips the brackets of an IPv6 host", () => {
  assertEquals(parseRtmpUrl("rtmp://[::1]:1936/live/cam").hostname, "::1");
});

Deno.test("parseRtmpUrl() throws TypeError for another scheme or no URL", () => {
  assertThrows(() => parseRtmpUrl("http://h/live/cam"), TypeError, "expected rtmp://host");
  assertThrows(() => parseRtmpUrl("live/cam"), TypeError, "not a URL");
});

// ---------------------------------------------------------------------------------------------
// Against a scripted server

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

test("Publisher.sendFrames() uses a delta header after the first message of a chunk stream", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  const before = server.messages.length;
  const p = new Uint8Array(100).fill(7);
  await pub.sendFrames([
    { kind: FrameKind.Video, timestamp: 1000, payload: p },
    { kind: FrameKind.Video, timestamp: 1040, payload: p },
    { kind: FrameKind.Video, timestamp: 1080, payload: p },
  ]);
  await server.until(() => server.messages.length === before + 3, "three video messages");
  const got = server.messages.slice(before);
  assertEquals(got.map((m) => m.timestamp), [1000, 1040, 1080]);
  const bytes = server.bytesAt[before + 2] - server.bytesAt[before - 1];
  const full = chunkedLength(100, 4096, ChunkStreamId.Video, "full", false);
  const delta = chunkedLength(100, 4096, ChunkStreamId.Video, "delta", false);
  assertEquals(bytes, full + 2 * delta, "one type 0 header, then two type 1 headers");
  await pub.close();
  await server.close();
});

test("Publisher.sendVideo() carries timestamps across the 2^32 wrap with extended timestamps", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  const before = server.messages.length;
  const stamps = [0xffffff00, 0xffffff28, 0xffffff50, 0x100000000 + 0x10, 0x100000000 + 0x38];
  for (const ts of stamps) await pub.sendVideo(ts, new Uint8Array(5000).fill(ts & 0xff));
  await server.until(() => server.messages.length === before + stamps.length, "five video messages");
  assertEquals(server.messages.slice(before).map((m) => m.timestamp), stamps.map((t) => t % 0x100000000));
  await pub.close();
  await server.close();
});

test("Publisher.sendMetadata() sends @setDataFrame onMetaData with an ECMA array", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  await pub.sendMetadata({ width: 640, height: 360 });
  await server.until(() => server.messages.some((m) => m.typeId === MessageType.DataAmf0), "the metadata");
  const msg = server.messages.find((m) => m.typeId === MessageType.DataAmf0)!;
  const data = decodeData(msg);
  assertEquals([data.setDataFrame, data.name], [true, "onMetaData"]);
  assertEquals(data.args, [new EcmaArray({ width: 640, height: 360 })]);
  await pub.close();
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

test("Player.read() rejects with the ProtocolError that closed the connection", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const player = await client.play();
  // A type 3 chunk header on chunk stream 9, which has had no header yet (5.3.1.2.4).
  await server.write(Uint8Array.of(0xc9, 1, 2, 3));
  await readUntil(player, (ev) => ev.type === "status", "Play.Start");
  await assertRejects(() => player.read(EVENT_TIMEOUT_MS), ProtocolError, "no previous header");
  assertMatch(client.closeReason, /^protocol error: /);
  assert(client.error instanceof ProtocolError);
  await server.close();
});

test("Player.read() returns undefined once the server closed and every event was read", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const player = await client.play();
  await server.send(video(player.streamId, 0, Uint8Array.of(0x27, 0x01, 0, 0, 0, 1)));
  await server.until(() => player.stats.video === 1, "the frame at the player");
  server.conn!.close();
  assertEquals(await client.done, "closed by the server");
  const events = [];
  for await (const ev of player) events.push(ev.type);
  assertEquals(events, ["status", "media"]);
  await server.close();
});

// ---------------------------------------------------------------------------------------------
// Against Sluice

async function publishAndPlay(frames: (syn: SyntheticStream) => OutgoingFrame[][], marker = 0xa5) {
  const server = await startServer({ hub: { playWaitMs: 5_000 } });
  const viewer = await RtmpClient.connect(`${server.app}/cam`);
  const playing = viewer.play();
  const pc = await RtmpClient.connect(`${server.app}/cam`);
  const pub = await pc.publish();
  const player = await playing;
  const syn = new SyntheticStream({ marker, keyBytes: 70_000, interBytes: 3_000 });
  const batches = frames(syn);
  return { server, pub, player, batches };
}

async function stop(server: { stop(): Promise<void> }, ...ends: { close(): Promise<void> }[]) {
  for (const e of ends) await e.close();
  await server.stop();
}

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
    await stop(server, pub, player);
  }
});

test("Publisher.sendVideo() delivers a 300 KB keyframe through Sluice intact", async () => {
  const { server, pub, player } = await publishAndPlay(() => []);
  try {
    const big = new Uint8Array(300_000);
    big.set([0x17, 0x01, 0, 0, 0]);
    for (let i = 5; i < big.length; i++) big[i] = (i * 7) & 0xff;
    await pub.sendVideo(0, big);
    const [m] = await readMedia(player, 1);
    assertEquals(m.payload, big);
  } finally {
    await stop(server, pub, player);
  }
});

test("Player.pauseReading() stops reading the socket until resumeReading()", async () => {
  const { server, pub, player } = await publishAndPlay(() => []);
  try {
    await readUntil(player, (ev) => ev.type === "status" && ev.code === StatusCode.PlayStart, "Play.Start");
    player.pauseReading();
    // Each frame is bigger than one socket read (96 KiB), so a read already under way takes at most one.
    const frames = 3;
    const payloads = Array.from({ length: frames }, (_, i) => new Uint8Array(100_000).fill(i + 1));
    payloads.forEach((p, i) => p.set([i === 0 ? 0x17 : 0x27, 0x01, 0, 0, 0]));
    for (const [i, p] of payloads.entries()) await pub.sendVideo(i * 40, p);
    const sub = sessionOf(server, player.client.localAddr)?.subscriber;
    assert(sub, "the player's session on the server");
    const total = payloads.reduce((n, p) => n + p.length, 0);
    await waitFor(() => sub.stats.bytesSent >= total, "the server writing every frame");
    const seen = player.stats.video;
    player.resumeReading();
    const got = await readMedia(player, frames);
    assertLess(seen, 2, "at most the frame of the read under way arrived while paused");
    assertEquals(got.map((m) => m.payload), payloads);
  } finally {
    await stop(server, pub, player);
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
  await stop(server, pub);
});
