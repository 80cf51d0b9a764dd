/**
 * UdpTrackTransport between real loopback sockets (a fake client made of a
 * pool pair), with a fake socket where sends must fail, and against ffmpeg:
 * an SDP from `describeStream` with the client's ports, packets from the
 * packetizers of a `makeSource` FLV (B-frames) sent through two transports;
 * ffmpeg must decode every frame of both tracks to the source's pictures and
 * samples, in order, and print nothing at `-v error`.
 *
 * ffmpeg's receiver reports cannot be checked this way: its SDP demuxer opens
 * the RTP handle read-only (sdp.c), so at `-v trace` it logs "sending 48 bytes
 * of RR" and then "result from ffurl_write: -5" and nothing leaves. They come
 * when ffmpeg is an RTSP client (`-rtsp_transport udp`): the server's test.
 */
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { AacPacketizer } from "../../src/media/rtp/aac_packetizer.ts";
import { H264Packetizer } from "../../src/media/rtp/h264_packetizer.ts";
import { interleave, rtpPackets } from "../../src/media/rtp/interleaved.ts";
import { buildGoodbye, buildReceiverReport, buildSenderReport, readRtcp } from "../../src/media/rtp/rtcp.ts";
import { ntpMiddle, ntpTime } from "../../src/media/rtp/clock.ts";
import { readRtpPacket, writeRtpHeader } from "../../src/media/rtp/rtp_header.ts";
import { RtpReceiver } from "../../src/media/rtp/rtp_receiver.ts";
import { type UdpPortPair, UdpPortPool, type UdpRemote, type UdpSocket } from "../../src/rtsp/udp_ports.ts";
import {
  UdpFailure,
  UdpTrackTransport,
  type UdpTrackTransportOptions,
} from "../../src/rtsp/udp_transport.ts";
import { concatBytes } from "../../src/bytes.ts";
import { assert, assertEquals, assertGreater, assertThrows } from "../_util/assert.ts";
import { flvFrames } from "../_util/flv_frames.ts";
import { haveTools, makeSource } from "../_util/media.ts";
import { describeAt, ffmpegSdpReader, frameChecksums, sourceChecksums } from "../_util/sdp_reader.ts";
import { bindUdp, closeUdp, freeUdpPairs, LOOPBACK } from "../_util/udp.ts";

/** Resolves when `cond()` holds, polling; throws after `timeoutMs`. */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited >= timeoutMs) throw new Error(`Cannot wait for ${what}: current wait ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client pair on loopback that records what reaches it. */
interface FakeClient {
  readonly pair: UdpPortPair;
  readonly rtp: Uint8Array[];
  readonly rtcp: Uint8Array[];
  /** Sends from the client's RTP (0) or RTCP (1) socket to `port` on loopback. */
  send(from: 0 | 1, bytes: Uint8Array, port: number): Promise<void>;
}

async function fakeClient(pool: UdpPortPool): Promise<FakeClient> {
  const pair = await pool.allocate();
  const rtp: Uint8Array[] = [];
  const rtcp: Uint8Array[] = [];
  pair.rtp.on("message", (m) => rtp.push(new Uint8Array(m)));
  pair.rtcp.on("message", (m) => rtcp.push(new Uint8Array(m)));
  const send = (from: 0 | 1, bytes: Uint8Array, port: number) =>
    new Promise<void>((resolve, reject) =>
      (from === 0 ? pair.rtp : pair.rtcp).send(bytes, port, LOOPBACK, (e) => (e ? reject(e) : resolve()))
    );
  return { pair, rtp, rtcp, send };
}

/** A server pair, a client and a transport between them; `close()` ends all three. */
async function setup(opts: Partial<UdpTrackTransportOptions> = {}) {
  const pool = new UdpPortPool({ hostname: LOOPBACK });
  const client = await fakeClient(pool);
  const failures: [UdpFailure, string][] = [];
  const transport = new UdpTrackTransport({
    pair: await pool.allocate(),
    clientAddress: LOOPBACK,
    clientPort: [client.pair.rtpPort, client.pair.rtcpPort],
    onFailure: (reason, detail) => failures.push([reason, detail]),
    ...opts,
  });
  return {
    pool,
    client,
    transport,
    failures,
    close: async () => {
      await transport.close();
      await pool.close();
    },
  };
}

/** An RTP packet of `payloadBytes` bytes of `fill`, sequence `seq`. */
function rtpPacket(seq: number, payloadBytes: number, fill: number, ssrc = 0x1234): Uint8Array {
  const p = new Uint8Array(12 + payloadBytes).fill(fill);
  writeRtpHeader(p, 0, { marker: false, payloadType: 96, sequence: seq, timestamp: seq * 3000, ssrc });
  return p;
}

Deno.test("UdpTrackTransport.send() sends each interleaved packet as one datagram, byte for byte", async () => {
  const t = await setup();
  try {
    const packets = [rtpPacket(1, 1388, 0xaa), rtpPacket(2, 1, 0xbb), rtpPacket(3, 700, 0xcc)];
    // channels as a TCP session has them: the byte is ignored over UDP
    const framed = concatBytes(packets.map((p, i) => interleave(p, i)));
    assertEquals(t.transport.send(framed), 3);
    assertEquals(t.transport.send(interleave(rtpPacket(4, 20, 0xdd), 0)), 1);
    await until(() => t.client.rtp.length === 4, 2000, "four datagrams");
    assertEquals(t.client.rtp, [...packets, rtpPacket(4, 20, 0xdd)]);
    assertEquals(t.client.rtcp, [], "nothing on the RTCP port");
    assertEquals([t.transport.counts.rtpSent, t.transport.counts.rtpBytesSent], [4, 1400 + 13 + 712 + 32]);
    await until(() => t.transport.inFlight === 0, 2000, "sends done");
    assertEquals(t.transport.counts.sendErrors, 0);
  } finally {
    await t.close();
  }
});

Deno.test("UdpTrackTransport.send() keeps a fresh socket's first burst in order (regression: dgram reversed it)", async () => {
  // Deno 2.9's node:dgram put 20 sends made before the first one completed on the wire as 19..0.
  const t = await setup();
  try {
    const packets = Array.from({ length: 50 }, (_, i) => rtpPacket(i, 200, i));
    assertEquals(t.transport.send(concatBytes(packets.map((p) => interleave(p, 0)))), 50);
    await until(() => t.client.rtp.length === 50, 2000, "fifty datagrams");
    assertEquals(t.client.rtp.map((p) => readRtpPacket(p).sequence), packets.map((_, i) => i));
  } finally {
    await t.close();
  }
});

Deno.test("UdpTrackTransport.sendRtcp() sends a sender report from the server's RTCP port to the client's", async () => {
  const t = await setup();
  try {
    const sources: UdpRemote[] = [];
    t.client.pair.rtcp.on("message", (_m, remote) => sources.push(remote));
    const sr = buildSenderReport({
      ssrc: 7,
      ntp: ntpTime(Date.now()),
      rtpTimestamp: 90_000,
      packetCount: 3,
      octetCount: 4000,
      cname: "sluice",
    });
    assert(t.transport.sendRtcp(sr));
    await until(() => t.client.rtcp.length === 1, 2000, "the sender report");
    assertEquals(t.client.rtcp[0], sr);
    assertEquals(sources[0].port, t.transport.pair.rtcpPort, "sent from the server's RTCP port");
    assertEquals(t.transport.counts.rtcpSent, 1);
  } finally {
    await t.close();
  }
});

Deno.test("UdpTrackTransport reads the client's receiver reports and counts malformed RTCP", async () => {
  const seen: string[][] = [];
  const t = await setup({ onRtcp: (packets) => seen.push(packets.map((p) => p.type)) });
  try {
    assertEquals(t.transport.lastReportAt, undefined);
    const block = {
      ssrc: 0xabcdef01,
      fractionLost: 12,
      cumulativeLost: 3,
      highestSequence: 70_000,
      jitter: 9,
      lastSenderReport: 0x12345678,
      delaySinceLastSenderReport: 65536,
    };
    const before = Date.now();
    await t.client.send(1, buildReceiverReport(0x55, [block], "ffmpeg"), t.transport.pair.rtcpPort);
    await t.client.send(1, Uint8Array.of(0x40, 201, 0, 1, 0, 0, 0, 0), t.transport.pair.rtcpPort); // version 1
    await until(() => t.transport.counts.rtcpMalformed === 1, 2000, "the malformed datagram");
    assertEquals(t.transport.counts.rtcpReceived, 1);
    assertEquals(t.transport.counts.receiverReports, 1);
    assertEquals(seen, [["rr", "sdes"]]);
    assertEquals(t.transport.lastReport, { type: "rr", ssrc: 0x55, reports: [block] });
    assert(t.transport.lastReportAt !== undefined && t.transport.lastReportAt >= before);
    assertEquals(t.failures, []);
  } finally {
    await t.close();
  }
});

Deno.test("UdpTrackTransport drops datagrams from another address than the client's, and oversized ones", async () => {
  const t = await setup({ maxRtcpSize: 64 });
  const stranger = await bindUdp(0, "127.0.0.2");
  try {
    const rr = buildReceiverReport(0x55, []);
    for (const port of [t.transport.pair.rtpPort, t.transport.pair.rtcpPort]) {
      await new Promise<void>((r, j) => stranger.send(rr, port, LOOPBACK, (e) => (e ? j(e) : r())));
    }
    await until(() => t.transport.counts.foreign === 2, 2000, "two foreign datagrams");
    await t.client.send(1, buildReceiverReport(0x55, [], "x".repeat(80)), t.transport.pair.rtcpPort);
    await until(() => t.transport.counts.oversized === 1, 2000, "the oversized datagram");
    assertEquals([t.transport.counts.rtcpReceived, t.transport.counts.receiverReports], [0, 0]);
    assertEquals(t.transport.lastReportAt, undefined);
  } finally {
    await closeUdp(stranger);
    await t.close();
  }
});

Deno.test("UdpTrackTransport reports a silent client once through onFailure; touch() and RTCP keep it alive", async () => {
  const t = await setup({ timeoutMs: 150 });
  try {
    for (let i = 0; i < 4; i++) {
      await sleep(60);
      if (i % 2 === 0) t.transport.touch();
      else await t.client.send(1, buildReceiverReport(1, []), t.transport.pair.rtcpPort);
    }
    assertEquals(t.failures, [], "alive while it speaks");
    await until(() => t.failures.length > 0, 2000, "the timeout");
    await sleep(200);
    assertEquals(t.failures.length, 1, "reported once");
    assertEquals(t.failures[0][0], UdpFailure.Timeout);
    assert(t.failures[0][1].startsWith("Cannot keep UDP session of 127.0.0.1: current silence"));
    assertEquals(t.transport.failure, UdpFailure.Timeout);
    assertEquals(t.transport.send(interleave(rtpPacket(1, 10, 0), 0)), 0, "nothing sent once failed");
  } finally {
    await t.close();
  }
});

/** A socket whose sends fail (called back with an error, or thrown) while `failing` is true. */
class FailingSocket implements UdpSocket {
  failing = true;
  throwing = false;
  /** Callbacks held back (a socket that does not drain). */
  held: ((error: Error | null, bytes: number) => void)[] = [];
  hold = false;
  sent = 0;
  send(msg: Uint8Array, _port: number, _address: string, cb: (error: Error | null, bytes: number) => void) {
    if (this.throwing) throw new Error("send EBADF");
    this.sent++;
    if (this.hold) this.held.push(cb);
    else queueMicrotask(() => cb(this.failing ? new Error("send EHOSTUNREACH") : null, msg.length));
  }
  on() {
    return this;
  }
  removeAllListeners() {
    return this;
  }
  close(cb?: () => void) {
    cb?.();
  }
}

function fakePair(): UdpPortPair & { rtp: FailingSocket; rtcp: FailingSocket } {
  return {
    rtpPort: 5000,
    rtcpPort: 5001,
    rtp: new FailingSocket(),
    rtcp: new FailingSocket(),
    close: async () => {},
  };
}

Deno.test("UdpTrackTransport fails once after maxSendErrors send errors in a row; a success resets the run", async () => {
  const failures: [UdpFailure, string][] = [];
  const pair = fakePair();
  const transport = new UdpTrackTransport({
    pair,
    clientAddress: LOOPBACK,
    clientPort: [6000, 6001],
    maxSendErrors: 3,
    onFailure: (reason, detail) => failures.push([reason, detail]),
  });
  try {
    const two = concatBytes([interleave(rtpPacket(1, 10, 0), 0), interleave(rtpPacket(2, 10, 0), 0)]);
    transport.send(two);
    await sleep(0);
    pair.rtp.failing = false;
    transport.send(two); // resets the run
    await sleep(0);
    pair.rtp.failing = true;
    transport.send(two);
    await sleep(0);
    assertEquals(failures, [], "2 in a row, not 3");
    pair.rtp.throwing = true; // a send that throws counts too
    transport.send(two);
    assertEquals(failures.length, 1);
    assertEquals(failures[0][0], UdpFailure.SendErrors);
    assertEquals(
      failures[0][1],
      "Cannot send to 127.0.0.1:6000-6001: current 3 errors in a row, limit 3 (last: send EBADF)",
    );
    assertEquals(transport.counts.sendErrors, 5);
    pair.rtp.throwing = false;
    assertEquals(transport.send(two), 0);
    assertEquals(transport.sendRtcp(buildGoodbye([1])), false);
    assertEquals(failures.length, 1, "reported once");
  } finally {
    await transport.close();
  }
});

Deno.test("UdpTrackTransport.send() drops and counts datagrams past maxInFlight", async () => {
  const pair = fakePair();
  pair.rtp.hold = true;
  const transport = new UdpTrackTransport({
    pair,
    clientAddress: LOOPBACK,
    clientPort: [6000, 6001],
    maxInFlight: 4,
    onFailure: () => {},
  });
  try {
    const three = concatBytes([1, 2, 3].map((s) => interleave(rtpPacket(s, 10, 0), 0)));
    assertEquals(transport.send(three), 3);
    assertEquals(transport.send(three), 1);
    // the first send is out; the rest wait for it (see Lane in udp_transport.ts), counted in flight
    assertEquals([transport.inFlight, transport.counts.sendDropped, pair.rtp.sent], [4, 2, 1]);
    pair.rtp.held.shift()!(null, 22);
    assertEquals(
      [transport.inFlight, pair.rtp.sent],
      [3, 4],
      "the held three go out once the first calls back",
    );
    for (const cb of pair.rtp.held.splice(0)) cb(null, 22);
    assertEquals(transport.inFlight, 0);
    assertEquals(transport.send(three), 3);
    assertEquals(pair.rtp.sent, 7, "straight through once warm");
  } finally {
    await transport.close();
  }
});

Deno.test("UdpTrackTransport in record mode hands RTP to onRtp and sends receiver reports with LSR and DLSR", async () => {
  const receiver = new RtpReceiver();
  const got: Uint8Array[] = [];
  const t = await setup({
    mode: "record",
    receiver,
    reporterSsrc: 0x5151,
    cname: "sluice",
    reportIntervalMs: 100,
    onRtp: (p) => {
      got.push(p.slice());
      assertEquals(p.constructor, Uint8Array, "a plain Uint8Array");
      receiver.accept(readRtpPacket(p));
    },
  });
  try {
    assertEquals(t.transport.sendReceiverReport(), false, "nothing to report before a packet");
    const ntp = ntpTime(Date.now());
    const sr = buildSenderReport({ ssrc: 0x1234, ntp, rtpTimestamp: 0, packetCount: 0, octetCount: 0 });
    await t.client.send(1, sr, t.transport.pair.rtcpPort);
    const sent = [rtpPacket(10, 100, 1), rtpPacket(11, 100, 2), rtpPacket(13, 100, 3)]; // 12 lost
    for (const p of sent) await t.client.send(0, p, t.transport.pair.rtpPort);
    await until(() => got.length === 3, 2000, "three RTP datagrams");
    assertEquals(got, sent);
    await until(() => t.client.rtcp.length >= 1, 2000, "a receiver report");
    const [rr, sdes] = readRtcp(t.client.rtcp[0]);
    assert(rr.type === "rr" && sdes.type === "sdes");
    assertEquals(rr.ssrc, 0x5151);
    assertEquals(sdes.cnames, [{ ssrc: 0x5151, cname: "sluice" }]);
    const b = rr.reports[0];
    assertEquals([b.ssrc, b.highestSequence, b.cumulativeLost], [0x1234, 13, 1]);
    assertEquals(b.lastSenderReport, ntpMiddle(ntp));
    assert(b.delaySinceLastSenderReport > 0 && b.delaySinceLastSenderReport < 65536, "under a second");
    assertEquals(t.transport.counts.rtpReceived, 3);
  } finally {
    await t.close();
  }
});

Deno.test("UdpTrackTransport refuses a receiver without reporterSsrc and client ports out of range", () => {
  const base = { pair: fakePair(), clientAddress: LOOPBACK, onFailure: () => {} };
  assertThrows(
    () =>
      new UdpTrackTransport({
        ...base,
        clientPort: [6000, 6001],
        mode: "record",
        receiver: new RtpReceiver(),
      }),
    RangeError,
    "no reporterSsrc",
  );
  assertThrows(
    () => new UdpTrackTransport({ ...base, clientPort: [0, 1] }),
    RangeError,
    "client port 0 must be in 1..65535, current 0",
  );
});

Deno.test("UdpTrackTransport in play mode ignores RTP from the client (counted) and hands nothing on", async () => {
  let handed = 0;
  const t = await setup({ onRtp: () => handed++ });
  try {
    await t.client.send(0, rtpPacket(1, 4, 0), t.transport.pair.rtpPort); // a NAT opener
    await until(() => t.transport.counts.rtpReceived === 1, 2000, "the datagram");
    assertEquals(handed, 0);
  } finally {
    await t.close();
  }
});

// ---- ffmpeg as the client

const TOOLS = haveTools("ffmpeg");

Deno.test({
  name: "UdpTrackTransport to ffmpeg reading describeStream's SDP: every frame decodes as the source",
  ignore: !TOOLS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_udp_transport_" });
    const pool = new UdpPortPool({ hostname: LOOPBACK });
    const transports: UdpTrackTransport[] = [];
    try {
      const src = await makeSource(`${dir}/src.flv`, { seconds: 4, bframes: 2, gop: 50 });
      const frames: MediaFrame[] = flvFrames(await Deno.readFile(src));
      const vHeader = frames.find((f) => f.kind === FrameKind.Video && f.sequenceHeader)!;
      const aHeader = frames.find((f) => f.kind === FrameKind.Audio && f.sequenceHeader)!;
      const video = new H264Packetizer({ payloadType: 96 });
      const audio = new AacPacketizer({ payloadType: 97 });
      video.configure(vHeader);
      audio.configure(aHeader);

      const [vPort, aPort] = await freeUdpPairs(2);
      const desc = describeAt({ video: vHeader.payload, audio: aHeader.payload }, {
        video: vPort,
        audio: aPort,
      });
      assertEquals(desc.media.map((m) => m.formats[0]), ["96", "97"], "the packetizers' payload types");

      const failures: string[] = [];
      for (const port of [vPort, aPort]) {
        transports.push(
          new UdpTrackTransport({
            pair: await pool.allocate(),
            clientAddress: LOOPBACK,
            clientPort: [port, port + 1],
            onFailure: (_r, detail) => failures.push(detail),
          }),
        );
      }
      const [vt, at] = transports;
      const reader = await ffmpegSdpReader(dir, desc);

      const t0 = Date.now();
      vt.sendRtcp(video.sender.senderReport(t0, 0, "sluice@test"));
      at.sendRtcp(audio.sender.senderReport(t0, 0, "sluice@test"));
      let last = 0;
      let nextReport = 500;
      for (const f of frames) {
        if (f.sequenceHeader || f.kind === FrameKind.Data) continue;
        const isVideo = f.kind === FrameKind.Video;
        const framed = isVideo ? video.packetize(f) : audio.packetize(f);
        const sent = (isVideo ? vt : at).send(framed);
        assertEquals(sent, rtpPackets(framed).length);
        last = f.timestamp;
        if (last >= nextReport) {
          nextReport += 500;
          vt.sendRtcp(video.sender.senderReport(t0 + last, last, "sluice@test"));
          at.sendRtcp(audio.sender.senderReport(t0 + last, last, "sluice@test"));
        }
        await sleep(2); // paced, so no socket buffer overflows
      }
      await until(() => vt.inFlight === 0 && at.inFlight === 0, 5000, "the sends");
      const end = t0 + last;
      vt.sendRtcp(concatBytes([video.sender.senderReport(end, last), buildGoodbye([video.sender.ssrc])]));
      at.sendRtcp(concatBytes([audio.sender.senderReport(end, last), buildGoodbye([audio.sender.ssrc])]));
      const r = await reader.done;
      assertEquals([r.code, r.timedOut], [0, false], r.stderr);
      assertEquals(r.stderr, "", "ffmpeg printed errors");

      const want = await sourceChecksums(src);
      const got = frameChecksums(r.stdout);
      console.log(
        `sent ${vt.counts.rtpSent} + ${at.counts.rtpSent} RTP packets; ffmpeg decoded ${
          got.get(0)?.length
        } of ` +
          `${want.get(0)?.length} pictures, ${got.get(1)?.length} of ${want.get(1)?.length} audio frames`,
      );
      assertGreater(want.get(0)!.length, 90);
      assertEquals(got.get(0), want.get(0), "every picture, in order");
      assertEquals(got.get(1), want.get(1), "every audio frame, in order");
      assertEquals([vt.counts.sendErrors, at.counts.sendErrors, vt.counts.foreign, at.counts.foreign], [
        0,
        0,
        0,
        0,
      ]);
      assertEquals(failures, []);
    } finally {
      for (const t of transports) await t.close();
      await pool.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
