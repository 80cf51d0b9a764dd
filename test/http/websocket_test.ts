/**
 * What every WebSocket route shares: the upgrade test, the close codes of
 * RFC 6455 7.4.1, and close reasons cut to fit a close frame on a UTF-8
 * character boundary.
 */
import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import {
  closeReasonText,
  isWebSocketUpgrade,
  MAX_CLOSE_REASON_BYTES,
  WsCloseCode,
} from "../../src/http/websocket.ts";

const utf8 = (s: string) => new TextEncoder().encode(s).length;

function get(headers: HeadersInit = {}): Request {
  return new Request("http://sluice.test/live/cam.flv", { headers });
}

Deno.test("WsCloseCode holds the RFC 6455 7.4.1 numbers", () => {
  assertEquals({ ...WsCloseCode }, {
    Normal: 1000,
    GoingAway: 1001,
    UnsupportedData: 1003,
    InvalidPayload: 1007,
    PolicyViolation: 1008,
    InternalError: 1011,
  });
});

Deno.test("MAX_CLOSE_REASON_BYTES is a 125-byte control frame payload less the 2-byte code", () => {
  assertEquals(MAX_CLOSE_REASON_BYTES, 125 - 2);
});

Deno.test("isWebSocketUpgrade() is true for Upgrade: websocket in any letter case", () => {
  assert(isWebSocketUpgrade(get({ upgrade: "websocket" })));
  assert(isWebSocketUpgrade(get({ upgrade: "WebSocket" })));
  assert(isWebSocketUpgrade(get({ Upgrade: "WEBSOCKET" })));
});

Deno.test("isWebSocketUpgrade() is false without an Upgrade header or for another protocol", () => {
  assertEquals(isWebSocketUpgrade(get()), false);
  assertEquals(isWebSocketUpgrade(get({ upgrade: "h2c" })), false);
  assertEquals(isWebSocketUpgrade(get({ upgrade: "websocket2" })), false);
  assertEquals(isWebSocketUpgrade(get({ connection: "upgrade" })), false);
});

Deno.test("closeReasonText() returns a reason that fits unchanged", () => {
  assertStrictEquals(closeReasonText(""), "");
  assertStrictEquals(closeReasonText("stream ended"), "stream ended");
  const exact = "x".repeat(MAX_CLOSE_REASON_BYTES);
  assertStrictEquals(closeReasonText(exact), exact);
  const exactMultiByte = "é".repeat(61) + "x"; // 61 * 2 + 1 = 123 bytes
  assertEquals(utf8(exactMultiByte), MAX_CLOSE_REASON_BYTES);
  assertStrictEquals(closeReasonText(exactMultiByte), exactMultiByte);
});

Deno.test("closeReasonText() cuts a long ASCII reason at 123 bytes", () => {
  const cut = closeReasonText("a".repeat(200));
  assertEquals(cut, "a".repeat(MAX_CLOSE_REASON_BYTES));
});

Deno.test("closeReasonText() cuts before a multi-byte character that straddles byte 123", () => {
  // 122 ASCII bytes, then "€" (3 bytes: 122..124) straddles the cut: it is dropped whole.
  const euro = closeReasonText("a".repeat(122) + "€" + "tail");
  assertEquals(euro, "a".repeat(122));
  // 121 ASCII bytes, then "😀" (4 bytes: 121..124) straddles it.
  const emoji = closeReasonText("b".repeat(121) + "😀😀");
  assertEquals(emoji, "b".repeat(121));
  // 2-byte characters from byte 0: 61 of them are 122 bytes; the 62nd (122..123) straddles.
  const accents = closeReasonText("é".repeat(100));
  assertEquals(accents, "é".repeat(61));
});

Deno.test("closeReasonText() keeps a multi-byte character that ends exactly at byte 123", () => {
  const text = closeReasonText("a".repeat(120) + "€" + "more");
  assertEquals(text, "a".repeat(120) + "€");
  assertEquals(utf8(text), MAX_CLOSE_REASON_BYTES);
});

Deno.test("closeReasonText() never returns more than 123 bytes or a broken character", () => {
  const pieces = ["a", "é", "€", "😀"];
  for (let lead = 0; lead < 8; lead++) {
    for (const p of pieces) {
      const reason = "z".repeat(lead) + p.repeat(130);
      const cut = closeReasonText(reason);
      assert(utf8(cut) <= MAX_CLOSE_REASON_BYTES, `${lead} ${p}: ${utf8(cut)} bytes`);
      assert(utf8(cut) > MAX_CLOSE_REASON_BYTES - 4, `${lead} ${p}: cut too early (${utf8(cut)} bytes)`);
      assert(!cut.includes("\ufffd"), `${lead} ${p}: a replacement character`);
      assert(reason.startsWith(cut), `${lead} ${p}: not a prefix`);
    }
  }
});
