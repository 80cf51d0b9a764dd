/**
 * Header fields: the case-insensitive collection, and the structured values
 * (CSeq, Session, Range, RTP-Info, lists), each read from what real clients
 * send and written back.
 */
import {
  formatNpt,
  formatNptRange,
  formatRtpInfo,
  formatSession,
  MAX_SESSION_ID_LENGTH,
  MAX_SESSION_TIMEOUT_SEC,
  parseCSeq,
  parseRange,
  parseRtpInfo,
  parseSession,
  RtspHeaders,
  splitList,
} from "../../src/rtsp/headers.ts";
import { RtspError, RtspStatus } from "../../src/rtsp/status.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";

Deno.test("RtspHeaders.get() matches names without case and keeps repeated fields in order", () => {
  const h = new RtspHeaders([["CSeq", "3"], ["WWW-Authenticate", "Digest a"], [
    "www-authenticate",
    "Basic b",
  ]]);
  assertEquals(h.get("cseq"), "3");
  assertEquals(h.get("CSEQ"), "3");
  assertEquals(h.getAll("Www-Authenticate"), ["Digest a", "Basic b"]);
  assert(h.has("cSeQ"));
  assert(!h.has("Session"));
  assertEquals(h.get("Session"), undefined);
  assertEquals(h.getAll("Session"), []);
  assertEquals(h.size, 3);
  assertEquals(h.entries(), [["CSeq", "3"], ["WWW-Authenticate", "Digest a"], [
    "www-authenticate",
    "Basic b",
  ]]);
});

Deno.test("parseCSeq() reads 1 to 10 digits up to 2^32-1 and nothing else", () => {
  assertEquals(parseCSeq("1"), 1);
  assertEquals(parseCSeq(" 42 "), 42);
  assertEquals(parseCSeq("0"), 0);
  assertEquals(parseCSeq("4294967295"), 4294967295);
  for (const bad of [undefined, "", "x", "-1", "1.5", "4294967296", "12345678901", "0x10"]) {
    assertEquals(parseCSeq(bad), undefined, String(bad));
  }
});

Deno.test("parseSession() reads an id with and without ;timeout=", () => {
  assertEquals(parseSession("5a3c9e1f"), { id: "5a3c9e1f" });
  assertEquals(parseSession("3043087103"), { id: "3043087103" });
  assertEquals(parseSession("12345678;timeout=60"), { id: "12345678", timeoutSec: 60 });
  assertEquals(parseSession(" ab$-_.+CD ; Timeout = 5"), { id: "ab$-_.+CD", timeoutSec: 5 });
});

Deno.test("parseSession() refuses a bad id, an id past its cap and a bad timeout with 400", () => {
  for (
    const [value, message] of [
      ["", 'current id is ""'],
      ["a b", 'current id is "a b"'],
      ["abc;timeout=x", 'current timeout is "x"'],
      [`abc;timeout=${MAX_SESSION_TIMEOUT_SEC + 1}`, `expected 0..${MAX_SESSION_TIMEOUT_SEC} seconds`],
      [
        "x".repeat(MAX_SESSION_ID_LENGTH + 1),
        `${MAX_SESSION_ID_LENGTH + 1} characters, limit ${MAX_SESSION_ID_LENGTH}`,
      ],
    ]
  ) {
    const e = assertThrows(() => parseSession(value), RtspError, message);
    assertEquals(e.status, RtspStatus.BadRequest);
  }
});

Deno.test("formatSession() writes what parseSession() reads", () => {
  for (
    const s of [{ id: "5a3c9e1f" }, { id: "5a3c9e1f", timeoutSec: 60 }, { id: "A.b-c_d+e$f", timeoutSec: 0 }]
  ) {
    assertEquals(parseSession(formatSession(s)), s);
  }
  assertEquals(formatSession({ id: "abcdef12", timeoutSec: 60 }), "abcdef12;timeout=60");
  assertThrows(() => formatSession({ id: "a;b" }), TypeError);
  assertThrows(() => formatSession({ id: "abc", timeoutSec: 1.5 }), TypeError);
});

Deno.test("parseRange() reads npt as clients send it", () => {
  const cases: [string, unknown][] = [
    ["npt=0.000-", { start: 0 }],
    ["npt=0-", { start: 0 }],
    ["npt=now-", { start: "now" }],
    ["npt=10.5-20", { start: 10.5, end: 20 }],
    ["npt=00:01:02.5-", { start: 62.5 }],
    ["npt=1:00:00-1:00:30", { start: 3600, end: 3630 }],
    ["npt=-20", { start: 0, end: 20 }],
    ["npt = 5 - ;time=19970123T143720Z", { start: 5 }],
    ["NPT=3-", { start: 3 }],
    ["clock=19961108T142300Z-", undefined],
    ["smpte=10:07:00-10:07:33:05.01", undefined],
  ];
  for (const [value, want] of cases) assertEquals(parseRange(value), want, value);
});

Deno.test("parseRange() refuses unreadable npt with 457 Invalid Range", () => {
  for (const value of ["npt=", "npt=abc-", "npt=5", "npt=-", "npt=20-10", "npt=1:99:00-", "npt=0-now"]) {
    const e = assertThrows(() => parseRange(value), RtspError, "Cannot read Range");
    assertEquals(e.status, RtspStatus.InvalidRange, value);
  }
});

Deno.test("formatNptRange() writes live and file ranges that parseRange() reads back", () => {
  assertEquals(formatNptRange({ start: 0 }), "npt=0-");
  assertEquals(formatNptRange({ start: 0, end: 12.5 }), "npt=0-12.5");
  assertEquals(formatNptRange({ start: "now" }), "npt=now-");
  assertEquals(formatNpt(1.23456), "1.235");
  for (const r of [{ start: 0 }, { start: 0, end: 12.5 }, { start: 3.25, end: 7 }]) {
    assertEquals(parseRange(formatNptRange(r)), r);
  }
  assertThrows(() => formatNpt(-1), RangeError);
  assertThrows(() => formatNpt(NaN), RangeError);
});

Deno.test("formatRtpInfo() writes url;seq;rtptime per stream that parseRtpInfo() reads back", () => {
  const entries = [
    { url: "rtsp://h/live/x/trackID=0", seq: 65535, rtptime: 4294967295 },
    { url: "rtsp://h/live/x/trackID=1", seq: 0, rtptime: 0 },
    { url: "rtsp://h/live/x/trackID=2" },
  ];
  const text = formatRtpInfo(entries);
  assertEquals(
    text,
    "url=rtsp://h/live/x/trackID=0;seq=65535;rtptime=4294967295,url=rtsp://h/live/x/trackID=1;seq=0;rtptime=0," +
      "url=rtsp://h/live/x/trackID=2",
  );
  assertEquals(parseRtpInfo(text), entries);
  // As a server wrote it in the capture server's PLAY answer, with spaces.
  assertEquals(parseRtpInfo("url=rtsp://h/a/trackID=0;seq=1;rtptime=0, url=rtsp://h/a/trackID=1;seq=2"), [
    { url: "rtsp://h/a/trackID=0", seq: 1, rtptime: 0 },
    { url: "rtsp://h/a/trackID=1", seq: 2 },
  ]);
  assertThrows(() => formatRtpInfo([{ url: "rtsp://h/a,b" }]), TypeError);
  assertThrows(() => formatRtpInfo([{ url: "rtsp://h/a", seq: 65536 }]), RangeError);
  assertThrows(() => parseRtpInfo("seq=1"), RtspError, "Cannot read RTP-Info");
});

Deno.test("splitList() splits Public and Require values", () => {
  assertEquals(splitList("ANNOUNCE, PAUSE, SETUP, TEARDOWN, RECORD"), [
    "ANNOUNCE",
    "PAUSE",
    "SETUP",
    "TEARDOWN",
    "RECORD",
  ]);
  assertEquals(splitList(" a ,, b "), ["a", "b"]);
  assertEquals(splitList(""), []);
});
