import { assert, assertEquals, assertGreater, assertMatch } from "../_util/assert.ts";
import {
  AAC_LC_48K_STEREO_HEADER,
  concat,
  FakePolicy,
  FakePublisher,
  RecordingLogger,
  X264_MAIN_640X360_AVC_HEADER,
} from "../_util/hub_fakes.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { RtspTestClient, setupAndPlay, setupBoth } from "./_client.ts";
import { serveSessions } from "./_sessions.ts";
import { bindUdp, closeUdp, udpClientPair } from "../_util/udp.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { deny, DenyKind } from "../../src/hub/admission.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { parseRtpInfo, parseSession } from "../../src/rtsp/headers.ts";
import type { InterleavedFrame } from "../../src/media/rtp/interleaved.ts";
import type { RtspResponse } from "../../src/rtsp/message.ts";
import { parseSdp } from "../../src/rtsp/sdp.ts";
import { PUBLIC_METHODS, RtspSession } from "../../src/rtsp/session.ts";
import type { Admission } from "../../src/hub/admission.ts";
import { UdpPortPool } from "../../src/rtsp/udp_ports.ts";

/** A keyframe access unit: one IDR NAL unit of `size` bytes (AVCC, 4-byte lengths). */
function keyframe(size = 6): Uint8Array {
  const nal = new Uint8Array(size).fill(0x33);
  nal[0] = 0x65;
  return concat([hex(`17 01 00 00 00`), new Uint8Array([0, 0, size >> 8, size & 0xff]), nal]);
}
const AAC_FRAME = hex(`af 01 21 10 04 60 8c 1c`);

interface Fixture {
  hub: StreamHub;
  log: RecordingLogger;
  port: number;
  sessions: RtspSession[];
  /** The sessions' UDP pairs. */
  pool: UdpPortPool;
  /** Publishes live/x with H.264 and AAC sequence headers and a keyframe with audio. */
  publish(key?: string): Stream;
  url(path?: string): string;
}

async function withSessions(
  fn: (f: Fixture) => Promise<void>,
  overrides: ConfigOverrides = {},
  admission?: Admission,
  pool: UdpPortPool = new UdpPortPool({ hostname: "127.0.0.1" }),
): Promise<void> {
  const log = new RecordingLogger();
  const config = makeConfig({ hub: { playWaitMs: 5_000 }, ...overrides });
  const hub = new StreamHub(config.hub, log, { ...(admission && { admission }) });
  const server = serveSessions({ hub, config, log, rtcpIntervalMs: 100, udpPorts: pool });
  const { port } = server;
  const fixture: Fixture = {
    hub,
    log,
    port,
    sessions: server.sessions,
    pool,
    publish(key = "live/x") {
      const stream = hub.publish(key, new FakePublisher());
      stream.push(FrameKind.Video, 0, X264_MAIN_640X360_AVC_HEADER);
      stream.push(FrameKind.Audio, 0, AAC_LC_48K_STEREO_HEADER);
      stream.push(FrameKind.Video, 0, keyframe(3000));
      stream.push(FrameKind.Audio, 10, AAC_FRAME);
      return stream;
    },
    url: (path = "live/x") => `rtsp://127.0.0.1:${port}/${path}`,
  };
  try {
    await fn(fixture);
  } finally {
    await server.close();
    await pool.close();
    hub.stop();
  }
}

/** Waits until `ok()` or fails after `ms`. */
async function until(ok: () => boolean, what: string, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    assert(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const TCP = "RTP/AVP/TCP;unicast;interleaved=0-1";

Deno.test("RtspSession.run() answers OPTIONS with Public and the request's CSeq, 501 to other methods, 455 to RECORD first", async () => {
  await withSessions(async (f) => {
    const c = await RtspTestClient.connect(f.port);
    try {
      const cseq = await c.send({ method: "OPTIONS", uri: "*" });
      const res = (await c.next()) as RtspResponse;
      assertEquals([res.status, res.cseq], [200, cseq]);
      assertEquals(res.headers.get("Public"), PUBLIC_METHODS.join(", "));
      assertEquals(PUBLIC_METHODS, [
        "OPTIONS",
        "DESCRIBE",
        "SETUP",
        "PLAY",
        "PAUSE",
        "TEARDOWN",
        "GET_PARAMETER",
        "ANNOUNCE",
        "RECORD",
      ]);
      const redirect = await c.request({ method: "REDIRECT", uri: f.url() });
      assertEquals([redirect.status, redirect.cseq], [501, 2]);
      assertEquals((await c.request({ method: "SET_PARAMETER", uri: f.url() })).status, 501);
      assertEquals(
        (await c.request({ method: "RECORD", uri: f.url() })).status,
        455,
        "RECORD before ANNOUNCE",
      );
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession plays a streams entry of format rtp at its one-segment path (ffserver's RTSP URL), behind its address rules", async () => {
  const served = (acl: string[]) => ({
    streams: [{
      path: "/cam.sdp",
      key: "live/x",
      format: "rtp" as const,
      prerollMs: 0,
      noAudio: false,
      noVideo: false,
      maxTimeMs: 0,
      acl,
    }],
  });
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      const res = await c.request({ method: "DESCRIBE", uri: f.url("cam.sdp") });
      assertEquals(res.status, 200);
      assertEquals(parseSdp(res.body).media.map((m) => m.media), ["video", "audio"]);
      const setup = await c.request({
        method: "SETUP",
        uri: `${f.url("cam.sdp")}/trackID=0`,
        transport: TCP,
      });
      assertEquals(setup.status, 200);
      assertEquals((await c.request({ method: "DESCRIBE", uri: f.url("other.sdp") })).status, 404);
    } finally {
      c.close();
    }
  }, served([]));
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      assertEquals((await c.request({ method: "DESCRIBE", uri: f.url("cam.sdp") })).status, 403);
      assert(
        f.log.lines.some((l) => l.msg === 'refused DESCRIBE /cam.sdp from 127.0.0.1: rule "deny 127.0.0.1"'),
        f.log.lines.map((l) => l.msg).join("\n"),
      );
      assertEquals(
        (await c.request({ method: "DESCRIBE", uri: f.url() })).status,
        200,
        "its key is not guarded",
      );
    } finally {
      c.close();
    }
  }, served(["deny 127.0.0.1"]));
});

Deno.test("RtspSession.run() answers DESCRIBE with 404 at once when nobody publishes, and the SDP when one does", async () => {
  await withSessions(async (f) => {
    const c = await RtspTestClient.connect(f.port);
    try {
      const started = Date.now();
      assertEquals((await c.request({ method: "DESCRIBE", uri: f.url() })).status, 404);
      assert(Date.now() - started < 1_000, "no wait for a publisher (hub.playWaitMs is 5 s)");
      f.publish();
      const res = await c.request({ method: "DESCRIBE", uri: f.url() });
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("Content-Base"), `${f.url()}/`);
      assertEquals(res.headers.get("Content-Type"), "application/sdp");
      const sdp = parseSdp(res.body);
      assertEquals(sdp.media.map((m) => m.media), ["video", "audio"]);
      const text = new TextDecoder().decode(res.body);
      assertMatch(text, /a=rtpmap:96 H264\/90000/);
      assertMatch(text, /a=rtpmap:97 MPEG4-GENERIC\/48000\/2/i);
      assertMatch(text, /a=control:trackID=0/);
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession.run() refuses SETUP of the aggregate with 459, UDP with no client_port with 461, and PLAY before SETUP with 455", async () => {
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      assertEquals((await c.request({ method: "PLAY", uri: f.url() })).status, 455);
      assertEquals((await c.request({ method: "SETUP", uri: f.url(), transport: TCP })).status, 459);
      const udp = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=0`,
        transport: "RTP/AVP;unicast",
      });
      assertEquals(udp.status, 461);
      assertEquals(f.pool.inUse, 0, "no pair taken for a refused SETUP");
      assertEquals(
        (await c.request({ method: "SETUP", uri: `${f.url()}/trackID=7`, transport: TCP })).status,
        404,
      );
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession.run() answers 454 to a PLAY naming another session, and echoes its Session to GET_PARAMETER", async () => {
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      const id = await setupBoth(c, f.url());
      assertMatch(id, /^[0-9a-f]{16}$/);
      assertEquals((await c.request({ method: "PLAY", uri: f.url(), session: { id: "nope" } })).status, 454);
      assertEquals((await c.request({ method: "PLAY", uri: f.url() })).status, 454, "no Session header");
      const keep = await c.request({ method: "GET_PARAMETER", uri: f.url(), session: { id } });
      assertEquals(keep.status, 200);
      assertEquals(parseSession(keep.headers.get("Session")!), { id, timeoutSec: 60 });
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession.run() plays: RTP-Info names each track's first packet, sender reports come first, STAP-A before the IDR", async () => {
  await withSessions(async (f) => {
    const stream = f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      const { id, play } = await setupAndPlay(c, f.url(), { playUri: `${f.url()}/` });
      assertEquals(play.status, 200);
      assertEquals(play.headers.get("Range"), "npt=0.000-");
      const info = parseRtpInfo(play.headers.get("RTP-Info")!);
      assertEquals(info.map((e) => e.url), [`${f.url()}/trackID=0`, `${f.url()}/trackID=1`]);
      const frames: InterleavedFrame[] = [];
      while (frames.filter((x) => x.channel === 0).length < 4 || !frames.some((x) => x.channel === 2)) {
        const item = await c.next();
        assert(item && item.type === "interleaved", "only interleaved frames after the PLAY answer");
        frames.push(item);
      }
      // RTCP sender reports (packet type 200, RFC 3550 6.4.1) on the odd channels before any RTP.
      assertEquals(frames.slice(0, 2).map((x) => [x.channel, x.payload[1]]), [[1, 200], [3, 200]]);
      const video = frames.filter((x) => x.channel === 0).map((x) => x.payload);
      const audio = frames.filter((x) => x.channel === 2).map((x) => x.payload);
      const seq = (p: Uint8Array) => (p[2] << 8) | p[3];
      const ts = (p: Uint8Array) => ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0;
      assertEquals([info[0].seq, info[0].rtptime], [seq(video[0]), ts(video[0])]);
      assertEquals([info[1].seq, info[1].rtptime], [seq(audio[0]), ts(audio[0])]);
      assertEquals(video[0][12] & 0x1f, 24, "SPS and PPS in a STAP-A first");
      assertEquals(video[1][12] & 0x1f, 28, "then the 3000-byte IDR in FU-A fragments (rtsp.mtu 1400)");
      assert(video.every((p) => p.length <= 12 + 1400), "no payload over rtsp.mtu");
      assertEquals(audio[0][1] & 0x7f, 97, "AAC on payload type 97");
      const entry = f.hub.sessions.list({ protocol: "rtsp" })[0];
      assertEquals([entry.role, entry.key], ["player", "live/x"]);
      assertGreater(entry.bytesOut, 3000);
      assertEquals(stream.subscribers.size, 1);
      const pause = await c.request({ method: "PAUSE", uri: f.url(), session: { id } });
      assertEquals(pause.status, 200);
      assertEquals(stream.subscribers.size, 0, "PAUSE leaves the hub");
      const teardown = await c.request({ method: "TEARDOWN", uri: f.url(), session: { id } });
      assertEquals(teardown.status, 200);
      assert(await c.closedByServer(), "TEARDOWN closes the connection");
      assertEquals(f.log.lines.filter((l) => l.msg.startsWith("closed:")).length, 1, "one close line");
      assertMatch(f.log.lines.find((l) => l.msg.startsWith("closed:"))!.msg, /player live\/x.*teardown$/);
    } finally {
      c.close();
    }
  });
});

for (
  const [kind, status] of [[DenyKind.Unauthorized, 401], [DenyKind.Forbidden, 403], [
    DenyKind.Unavailable,
    503,
  ]] as const
) {
  Deno.test(`RtspSession.run() answers DESCRIBE the gate refuses as ${kind} with ${status}`, async () => {
    const policy = new FakePolicy(() => deny("no", kind));
    await withSessions(
      async (f) => {
        f.publish();
        const c = await RtspTestClient.connect(f.port);
        try {
          const res = await c.request({ method: "DESCRIBE", uri: `${f.url()}?token=abc` });
          assertEquals(res.status, status);
          assertEquals(res.headers.has("WWW-Authenticate"), status === 401);
          const asked = policy.requests[0];
          assertEquals([asked.protocol, asked.action, asked.key, asked.query], ["rtsp", "play", "live/x", {
            token: "abc",
          }]);
        } finally {
          c.close();
        }
      },
      {},
      policy,
    );
  });
}

Deno.test("RtspSession.run() answers a head past the reader's cap with 431 and closes", async () => {
  await withSessions(async (f) => {
    const c = await RtspTestClient.connect(f.port);
    try {
      const headers: [string, string][] = Array.from({ length: 100 }, (_, i) => [`X-H${i}`, "v"]);
      await c.send({ method: "OPTIONS", uri: "*", headers });
      const res = (await c.next()) as RtspResponse;
      assertEquals(res.status, 431);
      assert(await c.closedByServer());
      assertMatch(f.log.lines.find((l) => l.msg.startsWith("closed:"))!.msg, /protocol error/);
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession.run() closes a connection on interleaved data on a channel no SETUP chose", async () => {
  await withSessions(async (f) => {
    const c = await RtspTestClient.connect(f.port);
    try {
      await c.conn.write(new Uint8Array([0x24, 9, 0, 2, 0x80, 0xc9]));
      assert(await c.closedByServer());
      assertMatch(f.log.lines.find((l) => l.msg.startsWith("closed:"))!.msg, /channel 9/);
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession.run() closes a connection that sends nothing for rtsp.sessionTimeoutMs", async () => {
  await withSessions(async (f) => {
    const c = await RtspTestClient.connect(f.port);
    try {
      const started = Date.now();
      assertEquals((await c.request({ method: "OPTIONS", uri: "*" })).status, 200);
      assert(await c.closedByServer());
      const took = Date.now() - started;
      assert(took >= 900 && took < 3_000, `closed after ${took} ms`);
      assertMatch(f.log.lines.find((l) => l.msg.startsWith("closed:"))!.msg, /rtsp.sessionTimeoutMs 1000/);
    } finally {
      c.close();
    }
  }, { rtsp: { sessionTimeoutMs: 1_000 } });
});

Deno.test("RtspSession.run() sends sender reports on the RTCP channels while playing, and picks free channels itself", async () => {
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      assertEquals((await c.request({ method: "DESCRIBE", uri: f.url() })).status, 200);
      const v = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=0`,
        transport: "RTP/AVP/TCP;unicast",
      });
      assertMatch(v.headers.get("Transport")!, /^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}$/);
      const id = parseSession(v.headers.get("Session")!).id;
      const a = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=1`,
        transport: "RTP/AVP/TCP;unicast",
        session: { id },
      });
      assertMatch(a.headers.get("Transport")!, /interleaved=2-3/);
      assertEquals((await c.request({ method: "PLAY", uri: f.url(), session: { id } })).status, 200);
      const reports = new Map<number, number>();
      const until = Date.now() + 2_000;
      while ((reports.get(1) ?? 0) < 3 || (reports.get(3) ?? 0) < 3) {
        assert(Date.now() < until, `sender reports so far: ${[...reports]}`);
        const item = await c.next();
        assert(item?.type === "interleaved");
        if (item.payload[1] === 200) reports.set(item.channel, (reports.get(item.channel) ?? 0) + 1);
      }
      // Client RTCP (a receiver report) on a set-up channel is taken: the session goes on.
      await c.conn.write(new Uint8Array([0x24, 1, 0, 8, 0x80, 201, 0, 1, 0, 0, 0, 1]));
      const keep = await c.request({ method: "GET_PARAMETER", uri: f.url(), session: { id } });
      assertEquals(keep.status, 200);
    } finally {
      c.close();
    }
  });
});

Deno.test("RtspSession.run() answers a UDP SETUP with client_port, a server pair and the SSRC, and plays RTP to the peer's ports", async () => {
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    const video = await udpClientPair();
    const audio = await udpClientPair();
    try {
      assertEquals((await c.request({ method: "DESCRIBE", uri: f.url() })).status, 200);
      // destination= is never honoured: the packets go to the RTSP peer's own address.
      const v = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=0`,
        transport: `RTP/AVP;unicast;destination=192.0.2.9;client_port=${video.ports[0]}-${video.ports[1]}`,
      });
      assertEquals(v.status, 200);
      const vt = v.headers.get("Transport")!;
      const m = vt.match(
        /^RTP\/AVP;unicast;client_port=(\d+)-(\d+);server_port=(\d+)-(\d+);ssrc=[0-9A-F]{8}$/,
      );
      assert(m, `the Transport answer: ${vt}`);
      assertEquals([Number(m[1]), Number(m[2])], [...video.ports]);
      const server = [Number(m[3]), Number(m[4])];
      assertEquals([server[0] % 2, server[1] - server[0]], [0, 1], "RTP on an even port, RTCP on the next");
      const id = parseSession(v.headers.get("Session")!).id;
      const tcp = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=1`,
        transport: TCP,
        session: { id },
      });
      assertEquals(tcp.status, 461, "one session uses one lower transport");
      const a = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=1`,
        transport: `RTP/AVP/UDP;unicast;client_port=${audio.ports[0]}-${audio.ports[1]}`,
        session: { id },
      });
      assertEquals(a.status, 200);
      assertEquals(f.pool.inUse, 2);
      assertEquals((await c.request({ method: "PLAY", uri: f.url(), session: { id } })).status, 200);
      await until(
        () =>
          video.rtp.length >= 4 && audio.rtp.length >= 1 && video.rtcp.length >= 2 && audio.rtcp.length >= 1,
        "RTP and sender reports over UDP",
      );
      assertEquals(video.rtp[0][12] & 0x1f, 24, "SPS and PPS in a STAP-A first");
      assertEquals(video.rtp[0][1] & 0x7f, 96);
      assertEquals(audio.rtp[0][1] & 0x7f, 97);
      assertEquals(video.rtcp[0][1], 200, "sender reports on the RTCP port");
      assertEquals(audio.rtcp[0][1], 200);
      assert(
        video.rtp.every((p) => p[0] === 0x80 || p[0] === 0x90),
        "plain RTP datagrams, no interleaved framing",
      );
      const keep = await c.request({ method: "GET_PARAMETER", uri: f.url(), session: { id } });
      assertEquals(keep.status, 200);
      const entry = f.hub.sessions.list({ protocol: "rtsp" })[0];
      assertGreater(entry.bytesOut, 3000, "UDP bytes are counted");
    } finally {
      c.close();
      await video.close();
      await audio.close();
    }
  });
});

Deno.test("RtspSession.run() answers 453 when the UDP pool is exhausted and 500 when it cannot bind", async () => {
  await withSessions(
    async (f) => {
      f.publish();
      const c = await RtspTestClient.connect(f.port);
      try {
        const v = await c.request({
          method: "SETUP",
          uri: `${f.url()}/trackID=0`,
          transport: "RTP/AVP;unicast;client_port=6000-6001",
        });
        assertEquals(v.status, 200);
        const id = parseSession(v.headers.get("Session")!).id;
        const a = await c.request({
          method: "SETUP",
          uri: `${f.url()}/trackID=1`,
          transport: "RTP/AVP;unicast;client_port=6002-6003",
          session: { id },
        });
        assertEquals(a.status, 453);
        assert(f.log.lines.some((l) => /Cannot allocate UDP port pair/.test(l.msg)), "the reason is logged");
      } finally {
        c.close();
      }
    },
    {},
    undefined,
    new UdpPortPool({ hostname: "127.0.0.1", maxPairs: 1 }),
  );
  // 192.0.2.1 (TEST-NET-1, RFC 5737) is no local address: the bind fails.
  await withSessions(
    async (f) => {
      f.publish();
      const c = await RtspTestClient.connect(f.port);
      try {
        const v = await c.request({
          method: "SETUP",
          uri: `${f.url()}/trackID=0`,
          transport: "RTP/AVP;unicast;client_port=6000-6001",
        });
        assertEquals(v.status, 500);
      } finally {
        c.close();
      }
    },
    {},
    undefined,
    new UdpPortPool({ hostname: "192.0.2.1" }),
  );
});

Deno.test("RtspSession.run() gives the UDP pairs back on TEARDOWN before answering, and on a dropped connection", async () => {
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    try {
      const v = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=0`,
        transport: "RTP/AVP;unicast;client_port=6000-6001",
      });
      const id = parseSession(v.headers.get("Session")!).id;
      await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=1`,
        transport: "RTP/AVP;unicast;client_port=6002-6003",
        session: { id },
      });
      assertEquals(f.pool.inUse, 2);
      assertEquals((await c.request({ method: "PLAY", uri: f.url(), session: { id } })).status, 200);
      assertEquals((await c.request({ method: "TEARDOWN", uri: f.url(), session: { id } })).status, 200);
      assertEquals(f.pool.inUse, 0, "both pairs are back when TEARDOWN is answered");
      assert(await c.closedByServer());
    } finally {
      c.close();
    }
    const d = await RtspTestClient.connect(f.port);
    const v = await d.request({
      method: "SETUP",
      uri: `${f.url()}/trackID=0`,
      transport: "RTP/AVP;unicast;client_port=6000-6001",
    });
    assertEquals(v.status, 200);
    assertEquals(f.pool.inUse, 1);
    d.close();
    await until(() => f.sessions[1].closed, "the session to see the close");
    await f.sessions[1].released;
    assertEquals(f.pool.inUse, 0, "a dropped connection gives its pair back");
  });
});

Deno.test("RtspSession.run() keeps a UDP session while RTCP comes to its server port, and closes it after rtsp.sessionTimeoutMs of silence", async () => {
  await withSessions(async (f) => {
    f.publish();
    const c = await RtspTestClient.connect(f.port);
    const sock = await bindUdp();
    try {
      const port = sock.address().port;
      const v = await c.request({
        method: "SETUP",
        uri: `${f.url()}/trackID=0`,
        transport: `RTP/AVP;unicast;client_port=${port}-${port}`,
      });
      const serverRtcp = Number(v.headers.get("Transport")!.match(/server_port=\d+-(\d+)/)![1]);
      const id = parseSession(v.headers.get("Session")!).id;
      assertEquals((await c.request({ method: "PLAY", uri: f.url(), session: { id } })).status, 200);
      // A receiver report with no blocks (RFC 3550 6.4.2) every 200 ms for 1.6 s: past the 1 s timeout.
      const rr = new Uint8Array([0x80, 201, 0, 1, 0, 0, 0, 1]);
      for (let i = 0; i < 8; i++) {
        sock.send(rr, serverRtcp, "127.0.0.1");
        await new Promise((r) => setTimeout(r, 200));
      }
      assert(!f.sessions[0].closed, "RTCP over UDP keeps the session");
      const quiet = Date.now();
      assert(await c.closedByServer(), "silence closes the connection");
      assert(Date.now() - quiet < 2_500, "within about rtsp.sessionTimeoutMs");
      await f.sessions[0].released;
      assertEquals(f.pool.inUse, 0);
      const line = f.log.lines.find((l) => l.msg.startsWith("closed:"))!.msg;
      assertMatch(line, /player live\/x.*(udp_timeout|no request or RTCP)/);
    } finally {
      c.close();
      await closeUdp(sock);
    }
  }, { rtsp: { sessionTimeoutMs: 1_000 } });
});
