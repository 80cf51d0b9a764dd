/**
 * The status table: every code has its phrase, unknown codes get their
 * class's, and RtspError carries the status as a ProtocolError.
 */
import { ProtocolError } from "../../src/errors.ts";
import { RtspError, RtspStatus, STATUS_TEXT, statusText } from "../../src/rtsp/status.ts";
import { assert, assertEquals } from "../_util/assert.ts";

Deno.test("STATUS_TEXT has a phrase for every RtspStatus", () => {
  for (const [name, code] of Object.entries(RtspStatus)) {
    assert(typeof STATUS_TEXT[code] === "string" && STATUS_TEXT[code] !== "", name);
  }
  assertEquals(Object.keys(STATUS_TEXT).length, Object.keys(RtspStatus).length);
});

Deno.test("statusText() gives RFC 2326 7.1.1's phrases", () => {
  assertEquals(statusText(200), "OK");
  assertEquals(statusText(454), "Session Not Found");
  assertEquals(statusText(455), "Method Not Valid in This State");
  assertEquals(statusText(459), "Aggregate operation not allowed");
  assertEquals(statusText(461), "Unsupported transport");
  assertEquals(statusText(505), "RTSP Version not supported");
  assertEquals(statusText(431), "Request Header Fields Too Large");
});

Deno.test("statusText() names the class of a code outside the table", () => {
  assertEquals(statusText(299), "Success");
  assertEquals(statusText(499), "Client Error");
  assertEquals(statusText(599), "Server Error");
  assertEquals(statusText(999), "Unknown");
});

Deno.test("RtspError is a ProtocolError with the status to answer", () => {
  const e = new RtspError(
    RtspStatus.BadRequest,
    "rtsp_cseq",
    "Cannot read OPTIONS request: current CSeq is missing",
  );
  assert(e instanceof ProtocolError);
  assertEquals([e.name, e.status, e.code, e.detail], [
    "RtspError",
    400,
    "rtsp_cseq",
    "Cannot read OPTIONS request: current CSeq is missing",
  ]);
});
