/**
 * What HTTP handlers need from the server (STYLE 10: declared by the consumer).
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { StreamHub } from "../hub/stream_hub.ts";
import type { Logger } from "../log.ts";
import type { FeedLookup } from "../feed/time_shift.ts";
import type { HlsService } from "../hls/hls_service.ts";

export type { FeedLookup };

export interface HttpContext {
  hub: StreamHub;
  config: Config;
  log: Logger;
  startedAt: number;
  /** The configured feeds; missing when the server has none wired (tests). */
  feeds?: FeedLookup;
  /** HLS muxing and viewers; missing when the server has none wired (tests). */
  hls?: HlsService;
}
