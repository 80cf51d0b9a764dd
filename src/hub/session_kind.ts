/**
 * The kinds the hub's top floor labels sessions with: which protocol a
 * connection speaks and what it does with a stream. One table each, so the
 * admission gate, the session registry, stream snapshots and metrics all
 * label a connection the same way (a closed set a metrics label can take).
 * The hub never acts on a protocol: these are names, not behaviour. A new
 * protocol adds an entry here, and nowhere else.
 *
 * @module
 */

/** The protocol a session speaks. */
export const Protocol = {
  /** RTMP or RTMPS, publish or play (`rtmp://host/app/name`). */
  Rtmp: "rtmp",
  /** HTTP-FLV play: an FLV body streamed in a chunked response (`GET /app/name.flv`). */
  HttpFlv: "http-flv",
  /** WebSocket-FLV play: FLV tags as WebSocket binary messages (an upgraded `GET /app/name.flv`). */
  WsFlv: "ws-flv",
  /** HTTP push: an FLV request body published as a stream (`POST /app/name.flv`). */
  HttpPush: "http-push",
  /** WebSocket push: FLV tags in WebSocket binary messages published as a stream. */
  WsPush: "ws-push",
  /** A file played out as a live stream (`--source app/name=PATH`); no remote peer. */
  File: "file",
  /** A file served on demand over HTTP (`GET /vod/...`), not through a live stream. */
  HttpVod: "http-vod",
  /** HLS play: playlists, segments and parts (`GET /app/name.m3u8`); one session per viewer id in the URIs. */
  Hls: "hls",
  /** MPEG-TS over HTTP: a continuous TS body in a chunked response (`GET /app/name.ts`). */
  HttpTs: "http-ts",
  /** RTSP play: RTP over the RTSP connection, interleaved (`rtsp://host:8554/app/name`). */
  Rtsp: "rtsp",
} as const;
export type Protocol = typeof Protocol[keyof typeof Protocol];

/** What a session does with a stream. */
export const Role = {
  /** Connected, not yet publishing or playing (an RTMP connect before its publish or play). */
  Pending: "pending",
  /** Feeds a live stream. */
  Publisher: "publisher",
  /** Plays a live stream through a Subscriber. */
  Player: "player",
  /** Plays a file on demand (no live stream). */
  Vod: "vod",
} as const;
export type Role = typeof Role[keyof typeof Role];

/** Every protocol, in table order (for per-protocol counters with stable keys). */
export const PROTOCOLS: readonly Protocol[] = Object.values(Protocol);

/** A record with a 0 for every protocol. */
export function zeroByProtocol(): Record<Protocol, number> {
  const out = {} as Record<Protocol, number>;
  for (const p of PROTOCOLS) out[p] = 0;
  return out;
}
