/**
 * The bench's RTSP player against a scripted server on port 0: DESCRIBE is 404 until the stream is there,
 * its SDP comes in two writes, and the PLAY answer comes in one write with the first packets.
 */
import { RtspReader } from "../../src/rtsp/reader.ts";
import { concatBytes } from "../../src/bytes.ts";
import { interleave } from "../../src/media/rtp/interleaved.ts";
import { RtspMethod, type RtspRequest, writeResponse } from "../../src/rtsp/message.ts";
import { RtspStatus } from "../../src/rtsp/status.ts";
import { rtspPlayer } from "../../bench/rtsp_player.ts";
import { assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";

const SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=live/bench\r\nt=0 0\r\na=control:*\r\n" +
  "m=video 0 RTP/AVP 96\r\na=control:trackID=0\r\nm=audio 0 RTP/AVP 97\r\na=control:trackID=1\r\n";

/** An RTP packet (RFC 3550 5.1: V=2, the marker, PT, sequence, timestamp, SSRC) with `payload`. */
function rtp(marker: boolean, pt: number, seq: number, ts: number, payload: number[]): Uint8Array {
  const b = new Uint8Array(12 + payload.length);
  const v = new DataView(b.buffer);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  v.setUint16(2, seq);
  v.setUint32(4, ts);
  v.setUint32(8, 0x1234);
  b.set(payload, 12);
  return b;
}

/** Near the top of the 32-bit range, so the pictures' timestamps wrap. */
const TS0 = 0xffff_ff00;

/** What the server sends after the PLAY answer: an SR, an IDR in two FU-A packets, an AAC frame, a P picture. */
const MEDIA = [
  interleave(new Uint8Array([0x80, 0xc8, 0, 6, 0, 0, 0x12, 0x34]), 1),
  interleave(rtp(false, 96, 1, TS0, [0x7c, 0x85, 1, 2, 3]), 0), // FU-A (28), start, IDR (5)
  interleave(rtp(true, 96, 2, TS0, [0x7c, 0x45, 4, 5]), 0), // FU-A, end: the whole keyframe
  interleave(rtp(true, 97, 1, 7, [0, 16, 0, 24, 0x21, 0x10, 0x04]), 2), // AAC-hbr, one AU
  interleave(rtp(true, 96, 3, (TS0 + 3600) >>> 0, [0x41, 9, 9, 9]), 0), // single NAL, non-IDR slice
];
/** RTP payload bytes on the RTP channels: 5 + 4 + 7 + 4. */
const PAYLOAD_BYTES = 20;

/** Serves one connection by the script above; resolves with the requests' methods once it has closed it. */
async function serveOne(listener: Deno.Listener): Promise<string[]> {
  const conn = await listener.accept();
  const reader = new RtspReader();
  const methods: string[] = [];
  let describes = 0;
  const buf = new Uint8Array(4096);
  const answer = (req: RtspRequest, more = {}) =>
    conn.write(writeResponse({ status: RtspStatus.Ok, cseq: req.cseq, ...more }));
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return methods;
      for (const item of reader.push(buf.subarray(0, n))) {
        if (item.type !== "request") continue;
        methods.push(item.method);
        if (item.method === RtspMethod.Describe && describes++ === 0) {
          await conn.write(writeResponse({ status: RtspStatus.NotFound, cseq: item.cseq }));
        } else if (item.method === RtspMethod.Describe) {
          const whole = writeResponse({
            status: RtspStatus.Ok,
            cseq: item.cseq,
            contentBase: "rtsp://127.0.0.1/live/bench/",
            contentType: "application/sdp",
            body: SDP,
          });
          const cut = whole.length - 20; // inside the body
          await conn.write(whole.subarray(0, cut));
          await new Promise((res) => setTimeout(res, 30));
          await conn.write(whole.subarray(cut));
        } else if (item.method === RtspMethod.Setup) {
          await answer(item, {
            session: { id: "abcdef12", timeoutSec: 60 },
            transport: item.headers.get("Transport"),
          });
        } else if (item.method === RtspMethod.Play) {
          const play = writeResponse({ status: RtspStatus.Ok, cseq: item.cseq, session: { id: "abcdef12" } });
          await conn.write(concatBytes([play, ...MEDIA]));
          conn.close();
          return methods;
        } else {
          await answer(item);
        }
      }
    }
  } catch (e) {
    conn.close();
    throw e;
  }
}

Deno.test("rtspPlayer() plays through a 404, a split SDP and a PLAY answer sharing a read with packets", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  try {
    const served = serveOne(listener);
    let ready = 0;
    const result = await rtspPlayer(
      "127.0.0.1",
      port,
      "/live/bench",
      { stopAt: performance.now() + 10_000 },
      false,
      () => ready++,
    );
    const methods = await served;
    assertEquals(methods, ["OPTIONS", "DESCRIBE", "DESCRIBE", "SETUP", "SETUP", "PLAY"]);
    assertEquals(ready, 1);
    // The server closed after the packets: the player says so, with everything counted before it.
    assertEquals(result.error, "server closed the connection");
    assertEquals(
      {
        bytes: result.bytes,
        videoFrames: result.videoFrames,
        firstTs: result.firstTs,
        lastTs: result.lastTs,
      },
      { bytes: PAYLOAD_BYTES, videoFrames: 2, firstTs: 0, lastTs: 40 },
    );
    assertGreaterOrEqual(result.firstFrameMs, 0);
  } finally {
    listener.close();
  }
});
