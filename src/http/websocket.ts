/**
 * What every WebSocket route shares: whether a request asks to upgrade
 * (decided once, by the router), the close codes Sluice sends (RFC 6455
 * 7.4.1), and a close reason cut to what a close frame carries.
 *
 * @module
 */

/** Close codes Sluice sends (RFC 6455 7.4.1). */
export const WsCloseCode = {
  /** 1000 normal closure: the stream ended. */
  Normal: 1000,
  /** 1001 going away: the server ended the session (shutdown, takeover). */
  GoingAway: 1001,
  /** 1003 unsupported data: a text message where binary FLV was expected. */
  UnsupportedData: 1003,
  /** 1007 invalid frame payload data: the bytes are not well-formed FLV. */
  InvalidPayload: 1007,
  /** 1008 policy violation: refused by the admission gate, the name is busy, or the peer went idle. */
  PolicyViolation: 1008,
  /** 1011 internal error: a bug met while handling the session. */
  InternalError: 1011,
} as const;
export type WsCloseCode = typeof WsCloseCode[keyof typeof WsCloseCode];

/** RFC 6455 5.5: a control frame's payload is at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Whether `req` asks to be upgraded to a WebSocket (RFC 6455 4.1: `Upgrade: websocket`). */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** `reason` cut to fit a close frame, on a UTF-8 character boundary. */
export function closeReasonText(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  let cut = MAX_CLOSE_REASON_BYTES;
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return new TextDecoder().decode(bytes.subarray(0, cut));
}
