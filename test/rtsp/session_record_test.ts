/**
 * RtspRecord and recordTracks without sockets: which announced tracks are taken, RTP of both tracks into
 * the hub with one timeline placed by the publisher's sender reports, B-frames timed back to decode
 * order, and what is dropped (not RTP, a FU-A that never ends) counted and logged once. ffmpeg
 * publishing over a real connection is test/e2e/rtsp_record_test.ts.
 */
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { rtpPackets } from "../../src/media/rtp/interleaved.ts";
import { readRtcp } from "../../src/media/rtp/rtcp.ts";
import { writeRtpHeader } from "../../src/media/rtp/rtp_header.ts";
import { StreamRtp } from "../../src/outputs/rtsp_play.ts";
import { describeStream } from "../../src/rtsp/sdp_media.ts";
import { writeSdp } from "../../src/rtsp/sdp.ts";
import { ORIGIN_LEAD_MS, recordTracks, RtspRecord } from "../../src/rtsp/session_record.ts";
import { RtspError } from "../../src/rtsp/status.ts";
import { Logger, setLogSink } from "../../src/log.ts";
import { AAC_LC_48K_STEREO_HEADER, X264_MAIN_640X360_AVC_HEADER } from "../_util/hub_fakes.ts";
import { avcFrame, frame } from "../media/rtp/_rtp_frames.ts";
import type { PublisherHandle } from "../../src/hub/stream.ts";

const BASE = "rtsp://127.0.0.1:8554/live/cam";
const enc = new TextEncoder();

/** What ffmpeg announces for H.264 + AAC (the same fmtp Sluice's DESCRIBE writes), with streamid controls. */
function announceBody(): Uint8Array {
  const sdp = writeSdp(describeStream({
    video: X264_MAIN_640X360_AVC_HEADER,
    audio: AAC_LC_48K_STEREO_HEADER,
    sessionId: "1",
    sessionName: "cam",
    tool: "test",
  }));
  return enc.encode(
    sdp.replace("a=control:trackID=0", "a=control:streamid=0").replace(
      "a=control:trackID=1",
      "a=control:streamid=1",
    ),
  );
}

interface Pushed {
  kind: FrameKind;
  ts: number;
  payload: Uint8Array;
}

/** A hub that takes one publisher and keeps what it pushes. */
function fakeHub() {
  const pushed: Pushed[] = [];
  let publishers = 0;
  return {
    pushed,
    get publishers() {
      return publishers;
    },
    publish(_key: string, _p: PublisherHandle) {
      publishers++;
      return {
        push: (kind: FrameKind, ts: number, payload: Uint8Array) => pushed.push({ kind, ts, payload }),
        setMetadata: () => {},
      };
    },
    unpublish() {
      publishers--;
    },
  };
}

function withLog<T>(fn: (lines: string[]) => T): T {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    return fn(lines);
  } finally {
    setLogSink(prev);
  }
}

function newRecord(hub = fakeHub(), now = () => 1_700_000_000_000) {
  const { tracks } = recordTracks(announceBody(), BASE);
  const record = new RtspRecord(tracks, {
    key: "live/cam",
    id: "rtsp test",
    remote: "127.0.0.1:5000",
    hub,
    log: new Logger().child("test"),
    maxFrameBytes: 64 * 1024,
    now,
  });
  return { hub, record };
}

Deno.test("recordTracks: the H.264 and AAC tracks of an ANNOUNCE, their controls absolute", () => {
  const { tracks, skipped } = recordTracks(announceBody(), BASE);
  assertEquals(tracks.map((t) => [t.kind, t.control, t.track]), [
    ["video", `${BASE}/streamid=0`, 0],
    ["audio", `${BASE}/streamid=1`, 1],
  ]);
  assertEquals(skipped, []);
});

Deno.test("recordTracks: other codecs are skipped and named; none taken is 415", () => {
  const body = new TextDecoder().decode(announceBody()) +
    "m=audio 0 RTP/AVP 8\r\na=control:streamid=2\r\n";
  assertEquals(recordTracks(enc.encode(body), BASE).skipped, ["audio PCMA"]);
  const pcmaOnly = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\n";
  const e = assertThrows(() => recordTracks(enc.encode(pcmaOnly), BASE), RtspError);
  assertEquals(e.status, 415);
  assert(e.message.includes("audio PCMA"), e.message);
  const mode2 = new TextDecoder().decode(announceBody()).replace(
    "packetization-mode=1",
    "packetization-mode=2",
  );
  assertEquals(recordTracks(enc.encode(mode2), BASE).skipped, ["video H264 packetization-mode 2"]);
});

Deno.test("RtspRecord.find(): a SETUP URL by its streamid, with a query before it, or by the whole control", () => {
  const { record } = newRecord();
  assertEquals(record.find(`${BASE}/streamid=1`)?.kind, "audio");
  assertEquals(record.find(`${BASE}?key=abc/streamid=0`)?.kind, "video");
  assertEquals(record.find(`${BASE}/streamid=7`), undefined);
});

Deno.test("RtspRecord: both tracks on one timeline placed by the sender reports; B-frames get decode times", () => {
  const { hub, record } = newRecord();
  record.start();
  assertEquals(hub.publishers, 1);
  assertEquals(
    hub.pushed.map((p) => p.kind),
    [FrameKind.Video, FrameKind.Audio],
    "the SDP's sequence headers first",
  );
  // The publisher's side: packetizers with random clocks, sender reports of one instant for both.
  const src = new StreamRtp(1400);
  src.configure(frame(FrameKind.Video, 0, X264_MAIN_640X360_AVC_HEADER));
  src.configure(frame(FrameKind.Audio, 0, AAC_LC_48K_STEREO_HEADER));
  const wall = 1_700_000_000_000;
  const sr = (kind: "video" | "audio", hubMs: number) =>
    readRtcp(
      (kind === "video" ? src.video : src.audio).sender.senderReport(wall, hubMs, "x"),
    );
  // Audio starts 200 ms of media before video; both clocks are reported at hub time 1000 = `wall`.
  record.rtcp("video", sr("video", 1_000));
  record.rtcp("audio", sr("audio", 1_000));
  const send = (kind: "video" | "audio", bytes: Uint8Array) => {
    for (const p of rtpPackets(bytes)) record.rtp(kind, p);
  };
  const IDR = Uint8Array.of(0x65, 1, 2, 3);
  const P = Uint8Array.of(0x41, 4, 5, 6);
  for (let i = 0; i < 40; i++) {
    send("audio", src.audio.packetize(frame(FrameKind.Audio, 800 + i * 21, Uint8Array.of(0xaf, 1, 9, 9))));
  }
  // I P B B ... in decode order: presentation times 1000, 1120, 1040, 1080, 1240, 1160, 1200, ...
  const order = [0, 3, 1, 2];
  for (let g = 6; order.length < 30; g += 3) order.push(g, g - 2, g - 1);
  order.length = 30;
  order.forEach((f, i) =>
    send("video", src.video.packetize(avcFrame(1_000 + f * 40, i === 0, [i === 0 ? IDR : P])))
  );
  send("video", src.video.packetize(avcFrame(99_999, true, [IDR]))); // ends the last access unit
  const video = hub.pushed.filter((p) => p.kind === FrameKind.Video && p.payload[1] === 1).slice(0, 30);
  const audio = hub.pushed.filter((p) => p.kind === FrameKind.Audio && p.payload[1] === 1);
  // Both tracks: hub time = the publisher's hub time - 800 (the first packet, audio's, at ORIGIN_LEAD_MS).
  assertEquals(audio[0].ts, ORIGIN_LEAD_MS);
  const pts = video.map((v) => v.ts + ((v.payload[2] << 16) | (v.payload[3] << 8) | v.payload[4]));
  assertEquals(pts, order.map((f) => ORIGIN_LEAD_MS + 200 + f * 40), "presentation times kept");
  for (let i = 1; i < video.length; i++) assert(video[i].ts > video[i - 1].ts, `decode times rise at ${i}`);
  assert(video.some((v) => v.payload[4] !== 0), "B-frames: composition offsets");
  record.stop();
  assertEquals(hub.publishers, 0);
  assertEquals(record.counts.senderReports, 2);
});

/** An RTP packet with the given fields and payload. */
function rtp(seq: number, ts: number, payload: Uint8Array, marker = false): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  writeRtpHeader(out, 0, { marker, payloadType: 96, sequence: seq, timestamp: ts, ssrc: 9 });
  out.set(payload, 12);
  return out;
}

Deno.test("RtspRecord: not RTP, and a FU-A that never ends, are dropped, counted and logged once each", () => {
  withLog((lines) => {
    const { hub, record } = newRecord();
    record.start();
    record.rtp("video", Uint8Array.of(1, 2, 3));
    record.rtp("video", Uint8Array.of(1, 2, 3));
    assertEquals(record.counts.malformed, 2);
    const fu = new Uint8Array(1200);
    fu[0] = 0x7c;
    for (let i = 0; i < 200; i++) {
      fu[1] = i === 0 ? 0x85 : 0x05;
      record.rtp("video", rtp(i, 5_000, fu));
    }
    const before = hub.pushed.length;
    record.rtp("video", rtp(200, 9_000, fu));
    assertEquals(hub.pushed.length, before, "nothing of it reaches the hub");
    assertEquals(lines.filter((l) => l.includes("not RTP")).length, 1);
    assertEquals(lines.filter((l) => l.includes("access unit past ingest.maxTagBytes")).length, 1);
    assert(record.dropSummary().includes("video 0 frames"), record.dropSummary());
  });
});

Deno.test("RtspRecord: a track's first packet is placed by arrival when no sender report came", () => {
  let now = 1_700_000_000_000;
  const { hub, record } = newRecord(fakeHub(), () => now);
  record.start();
  const src = new StreamRtp(1400);
  src.configure(frame(FrameKind.Audio, 0, AAC_LC_48K_STEREO_HEADER));
  for (const p of rtpPackets(src.audio.packetize(frame(FrameKind.Audio, 0, Uint8Array.of(0xaf, 1, 7))))) {
    record.rtp("audio", p);
  }
  now += 500;
  for (const p of rtpPackets(src.audio.packetize(frame(FrameKind.Audio, 21, Uint8Array.of(0xaf, 1, 7))))) {
    record.rtp("audio", p);
  }
  const audio = hub.pushed.filter((p) => p.kind === FrameKind.Audio && p.payload[1] === 1);
  assertEquals(audio.map((a) => a.ts), [ORIGIN_LEAD_MS, ORIGIN_LEAD_MS + 21], "then by the RTP clock");
  assertEquals(audio[0].payload[0] >> 4, 10, "AAC");
});
