/**
 * The bench's RTSP play reader: responses split anywhere and interleaved frames in the same reads, as the
 * PLAY answer and the first packets come, fed whole, split in two at every byte and one byte at a time.
 */
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from "../../src/rtsp/reader.ts";
import { concatBytes } from "../../src/bytes.ts";
import { interleave } from "../../src/media/rtp/interleaved.ts";
import { writeResponse } from "../../src/rtsp/message.ts";
import { RtspStatus } from "../../src/rtsp/status.ts";
import { PLAY_READ_BYTES, RtspPlayReader } from "../../bench/rtsp_play_reader.ts";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { byteByByte, splitsInTwo } from "../_util/split.ts";

const SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=live/bench\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n";

/** What a reader made of some reads: each response's status, CSeq and body, and each frame's channel and bytes. */
interface Seen {
  responses: [number, number | undefined, string][];
  packets: [number, number[]][];
}

function readAll(pieces: Iterable<Uint8Array>): Seen {
  const reader = new RtspPlayReader();
  const seen: Seen = { responses: [], packets: [] };
  for (const piece of pieces) {
    reader.readable().set(piece);
    const responses = reader.commit(piece.length, (channel, bytes, start, end) => {
      seen.packets.push([channel, [...bytes.subarray(start, end)]]);
    });
    for (const r of responses) seen.responses.push([r.status, r.cseq, new TextDecoder().decode(r.body)]);
  }
  return seen;
}

/** A DESCRIBE answer with its SDP, then the PLAY answer with two RTP packets and an RTCP report behind it. */
const STREAM = concatBytes([
  writeResponse({ status: RtspStatus.Ok, cseq: 2, contentType: "application/sdp", body: SDP }),
  writeResponse({ status: RtspStatus.Ok, cseq: 5, session: { id: "abcdef12" }, range: "npt=0.000-" }),
  interleave(new Uint8Array([0x80, 0xc8, 0, 6]), 1), // RTCP SR header (RFC 3550 6.4.1)
  interleave(new Uint8Array([0x80, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7, 0x65, 0xaa]), 0), // RTP, marker, IDR
  interleave(new Uint8Array([0x80, 0xe1, 0, 1, 0, 0, 0, 9, 0, 0, 0, 8, 0, 16, 0, 8, 0x21]), 2), // AAC
]);

const EXPECTED: Seen = {
  responses: [[200, 2, SDP], [200, 5, ""]],
  packets: [
    [1, [0x80, 0xc8, 0, 6]],
    [0, [0x80, 0xe0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7, 0x65, 0xaa]],
    [2, [0x80, 0xe1, 0, 1, 0, 0, 0, 9, 0, 0, 0, 8, 0, 16, 0, 8, 0x21]],
  ],
};

Deno.test("RtspPlayReader.commit() reads answers with bodies and the frames behind them in one read", () => {
  assertEquals(readAll([STREAM]), EXPECTED);
});

Deno.test("RtspPlayReader.commit() reads the same split in two at every byte", () => {
  for (const [a, b] of splitsInTwo(STREAM)) assertEquals(readAll([a, b]), EXPECTED, `split at ${a.length}`);
});

Deno.test("RtspPlayReader.commit() reads the same one byte at a time", () => {
  assertEquals(readAll(byteByByte(STREAM)), EXPECTED);
});

Deno.test("RtspPlayReader.readable() keeps room to read while a whole largest frame is held", () => {
  const reader = new RtspPlayReader();
  const frame = interleave(new Uint8Array(0xffff), 0);
  const head = frame.subarray(0, frame.length - 1);
  reader.readable().set(head);
  let packets = 0;
  reader.commit(head.length, () => packets++);
  assertEquals([packets, reader.readable().length], [0, PLAY_READ_BYTES - head.length]);
  reader.readable()[0] = 0;
  reader.commit(1, () => packets++);
  assertEquals([packets, reader.readable().length], [1, PLAY_READ_BYTES]);
});

Deno.test("RtspPlayReader.commit() refuses a head with no end within MAX_HEADER_BYTES", () => {
  const reader = new RtspPlayReader();
  const endless = new TextEncoder().encode(`RTSP/1.0 200 OK\r\nX: ${"a".repeat(MAX_HEADER_BYTES)}`);
  reader.readable().set(endless);
  assertThrows(() => reader.commit(endless.length, () => {}), RangeError, "has no end");
});

Deno.test("RtspPlayReader.commit() refuses a Content-Length past MAX_BODY_BYTES", () => {
  const reader = new RtspPlayReader();
  const head = new TextEncoder().encode(
    `RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
  );
  reader.readable().set(head);
  assertThrows(() => reader.commit(head.length, () => {}), RangeError, `limit ${MAX_BODY_BYTES}`);
});
