/**
 * Prometheus metrics of the server at `GET /metrics`: a MetricsCollector over
 * the hub, and `serveMetrics()`, its pure `Request -> Response` handler.
 *
 * What is read when (the hub's counters are the truth; nothing is counted
 * twice):
 * - at scrape time (`render()`), from `hub.totals()`, `hub.streams()` and the
 *   process: server totals, connections by protocol, and per stream its
 *   bytes in and out, frames by kind, dropped frames and viewers by
 *   protocol. These metrics are refilled from scratch at every scrape, so a
 *   stream that ended, or a protocol whose viewers left, is simply gone (the
 *   three player protocols always show, at 0 when nobody plays);
 * - once a second (`start()`), every player's lag (Subscriber.lagMs) into
 *   the histogram `sluice_viewer_lag_seconds{app,stream}`: the only state
 *   the collector keeps, dropped for a stream when the hub says it ended.
 *
 * Cardinality is bounded: labels are the stream's app and name, a protocol
 * or a frame kind, never a client; each metric holds at most `maxSeries`
 * series (MAX_SERIES_PER_METRIC). Observers (recorders, muxers) count in a
 * stream's bytes out but are neither viewers nor sampled for lag.
 *
 * @module
 */
import process from "node:process";
import { HubEventType, type HubListener } from "../hub/events.ts";
import { Protocol } from "../hub/session_kind.ts";
import type { HubTotals } from "../hub/stream_hub.ts";
import type { Stream } from "../hub/stream.ts";
import {
  type Counter,
  type Gauge,
  type Histogram,
  MAX_SERIES_PER_METRIC,
  MetricsRegistry,
} from "../metrics/registry.ts";

/** The hub as the collector needs it (a StreamHub is one). */
export interface MetricsHub {
  streams(): Stream[];
  totals(): HubTotals;
  on(listener: HubListener): () => void;
}

/** HLS as the collector needs it (an HlsService is one): its request counters and its streams. */
export interface MetricsHls {
  readonly stats: {
    readonly playlists: number;
    readonly segments: number;
    readonly parts: number;
    readonly inits: number;
    readonly blocked: number;
    readonly refusedBusy: number;
  };
  streams(): readonly unknown[];
}

/** The `kind` label of `sluice_hls_requests_total`. */
export const HlsRequestKind = {
  Playlist: "playlist",
  Segment: "segment",
  Part: "part",
  Init: "init",
} as const;

/** Options for MetricsCollector. */
export interface MetricsCollectorOptions {
  /** When the server started, ms since the epoch, for `sluice_uptime_seconds`; default the collector's creation. */
  startedAt?: number;
  /** The release, for `sluice_build_info{version}`; without it there is no build info metric. */
  version?: string;
  /** How often players' lag is sampled, ms; default SAMPLE_INTERVAL_MS. */
  sampleIntervalMs?: number;
  /** Bound on the series of each metric; default MAX_SERIES_PER_METRIC. */
  maxSeries?: number;
  /** HLS, for the `sluice_hls_*` metrics; without it there are none. */
  hls?: MetricsHls;
  /** Milliseconds since the epoch; default Date.now (tests pass a fake). */
  clock?: () => number;
}

/** Default of MetricsCollectorOptions.sampleIntervalMs. */
export const SAMPLE_INTERVAL_MS = 1_000;

/** Upper bounds of the viewer lag histogram's buckets, seconds (50 ms up to 10 s; past it is `+Inf`). */
export const LAG_BUCKETS_S: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10];

/** The `kind` label of `sluice_stream_frames_total`. */
export const FrameKindLabel = {
  /** Audio frames, sequence headers included. */
  Audio: "audio",
  /** Video frames, sequence headers included. */
  Video: "video",
  /** Script data (metadata). */
  Data: "data",
} as const;
export type FrameKindLabel = typeof FrameKindLabel[keyof typeof FrameKindLabel];

/** The protocols a player speaks: their viewer series show even at 0. */
const PLAYER_PROTOCOLS: readonly string[] = [Protocol.Rtmp, Protocol.HttpFlv, Protocol.WsFlv];

/** The content type of the text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const MICROS_PER_S = 1_000_000;
const MS_PER_S = 1_000;

/** The labels every per-stream metric has. */
type StreamLabel = "app" | "stream";

/** A stream's labels: the key before its first "/" and after it (as StreamSnapshot's app and name). */
function streamLabels(key: string): { app: string; stream: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { app: "", stream: key } : { app: key.slice(0, slash), stream: key.slice(slash + 1) };
}

/** The server's metrics: hub and process figures at scrape time, plus the sampled viewer lag. */
export class MetricsCollector {
  readonly registry: MetricsRegistry = new MetricsRegistry();
  readonly sampleIntervalMs: number;
  #hub: MetricsHub;
  #clock: () => number;
  #startedAt: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #unlisten: (() => void) | undefined;

  // Filled at scrape time, from scratch.
  #streamReceived: Counter<StreamLabel>;
  #streamSent: Counter<StreamLabel>;
  #streamFrames: Counter<StreamLabel | "kind">;
  #streamDropped: Counter<StreamLabel>;
  #streamViewers: Gauge<StreamLabel | "protocol">;
  #connections: Gauge<"protocol">;
  #connectionsOpened: Counter<"protocol">;
  #received: Counter;
  #sent: Counter;
  #streams: Gauge;
  #hls:
    | { source: MetricsHls; requests: Counter<"kind">; blocked: Counter; refused: Counter; streams: Gauge }
    | undefined;
  #streamsSeen: Counter;
  #cpu: Counter;
  #rss: Gauge;
  #heapUsed: Gauge;
  #uptime: Gauge;
  /** The labelled scrape-time metrics, cleared before each fill. */
  #perScrape: { clear(): void }[];
  /** The metrics with a stream's labels, whose series go when it ends. */
  #perStream: { removeMatching(partial: { app: string; stream: string }): number }[];
  /** Sampled once a second; the only state kept between scrapes. */
  #lag: Histogram<StreamLabel>;

  constructor(hub: MetricsHub, options: MetricsCollectorOptions = {}) {
    this.#hub = hub;
    this.#clock = options.clock ?? Date.now;
    this.#startedAt = options.startedAt ?? this.#clock();
    this.sampleIntervalMs = options.sampleIntervalMs ?? SAMPLE_INTERVAL_MS;
    if (!Number.isFinite(this.sampleIntervalMs) || this.sampleIntervalMs <= 0) {
      throw new RangeError(
        `Cannot create a metrics collector: sampleIntervalMs is ${this.sampleIntervalMs}, expected more than 0`,
      );
    }
    const maxSeries = options.maxSeries ?? MAX_SERIES_PER_METRIC;
    const r = this.registry;
    const stream = ["app", "stream"] as const;

    if (options.version !== undefined) {
      const info = r.gauge({
        name: "sluice_build_info",
        help: "Always 1; the version is its label.",
        labelNames: ["version"],
      });
      info.set({ version: options.version }, 1);
    }
    this.#uptime = r.gauge({ name: "sluice_uptime_seconds", help: "Time since the server started." });
    this.#connections = r.gauge({
      name: "sluice_connections",
      help: "Connections open now, by protocol.",
      labelNames: ["protocol"],
      maxSeries,
    });
    this.#connectionsOpened = r.counter({
      name: "sluice_connections_opened_total",
      help: "Connections ever opened, by protocol.",
      labelNames: ["protocol"],
      maxSeries,
    });
    this.#received = r.counter({
      name: "sluice_received_bytes_total",
      help: "Bytes read from every connection, open and closed.",
    });
    this.#sent = r.counter({
      name: "sluice_sent_bytes_total",
      help: "Bytes written to every connection, open and closed.",
    });
    this.#streams = r.gauge({
      name: "sluice_streams",
      help: "Streams live or waiting for their publisher now.",
    });
    this.#streamsSeen = r.counter({ name: "sluice_streams_seen_total", help: "Streams ever created." });
    if (options.hls !== undefined) {
      this.#hls = {
        source: options.hls,
        requests: r.counter({
          name: "sluice_hls_requests_total",
          help: "HLS requests answered with a playlist, segment, part or init section, by kind.",
          labelNames: ["kind"] as const,
        }),
        blocked: r.counter({
          name: "sluice_hls_blocked_requests_total",
          help: "HLS requests held for a blocking playlist reload or a part still to come.",
        }),
        refused: r.counter({
          name: "sluice_hls_refused_busy_total",
          help: "HLS requests answered 503 because every waiting slot (hls.maxWaiting) was taken.",
        }),
        streams: r.gauge({ name: "sluice_hls_streams", help: "Streams muxed to HLS now." }),
      };
    }
    this.#cpu = r.counter({
      name: "sluice_process_cpu_seconds_total",
      help: "CPU time of the process, user and system.",
    });
    this.#rss = r.gauge({
      name: "sluice_process_resident_memory_bytes",
      help: "Resident memory of the process.",
    });
    this.#heapUsed = r.gauge({ name: "sluice_process_heap_used_bytes", help: "JavaScript heap in use." });
    this.#streamReceived = r.counter({
      name: "sluice_stream_received_bytes_total",
      help: "Media bytes a stream received from its publishers (FLV tag bodies).",
      labelNames: stream,
      maxSeries,
    });
    this.#streamSent = r.counter({
      name: "sluice_stream_sent_bytes_total",
      help: "Bytes a stream wrote to its players and observers, including those that left.",
      labelNames: stream,
      maxSeries,
    });
    this.#streamFrames = r.counter({
      name: "sluice_stream_frames_total",
      help: "Frames a stream received, by kind (audio, video, data).",
      labelNames: ["app", "stream", "kind"],
      maxSeries,
    });
    this.#streamDropped = r.counter({
      name: "sluice_stream_dropped_frames_total",
      help: "Frames slow players and observers of a stream skipped, including those that left.",
      labelNames: stream,
      maxSeries,
    });
    this.#streamViewers = r.gauge({
      name: "sluice_stream_viewers",
      help: "Players of a stream now, by protocol (observers not counted).",
      labelNames: ["app", "stream", "protocol"],
      maxSeries,
    });
    this.#lag = r.histogram({
      name: "sluice_viewer_lag_seconds",
      help: `How far players are behind their stream, sampled every ${this.sampleIntervalMs} ms per player.`,
      labelNames: stream,
      buckets: LAG_BUCKETS_S,
      maxSeries,
    });
    this.#perScrape = [
      this.#streamReceived,
      this.#streamSent,
      this.#streamFrames,
      this.#streamDropped,
      this.#streamViewers,
      this.#connections,
      this.#connectionsOpened,
    ];
    this.#perStream = [
      this.#streamReceived,
      this.#streamSent,
      this.#streamFrames,
      this.#streamDropped,
      this.#streamViewers,
      this.#lag,
    ];
  }

  /** Whether the sampler runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts the lag sampler (every `sampleIntervalMs`) and listens for ended streams. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#unlisten = this.#hub.on((ev) => {
      if (ev.type === HubEventType.End) this.#forget(ev.key);
    });
    this.#timer = setInterval(() => this.sample(), this.sampleIntervalMs);
  }

  /** Stops the sampler and the hub listener. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unlisten?.();
    this.#unlisten = undefined;
  }

  /** Observes every player's lag now (the sampler calls this; tests call it directly). */
  sample(): void {
    for (const s of this.#hub.streams()) {
      if (s.state === "ended") continue;
      let labels: { app: string; stream: string } | undefined;
      for (const sub of s.subscribers) {
        if (sub.observer || sub.closed) continue;
        labels ??= streamLabels(s.key);
        this.#lag.observe(labels, sub.lagMs / MS_PER_S);
      }
    }
  }

  /** Every metric in the Prometheus text format, the scrape-time ones read now. */
  render(): string {
    this.#fill();
    return this.registry.render();
  }

  /** Drops every series of an ended stream (its lag samples; its scrape-time ones before the next fill). */
  #forget(key: string): void {
    const labels = streamLabels(key);
    for (const m of this.#perStream) m.removeMatching(labels);
  }

  #fill(): void {
    for (const m of this.#perScrape) m.clear();
    const t: HubTotals = this.#hub.totals();
    for (const [protocol, n] of Object.entries(t.sessionsByProtocol)) this.#connections.set({ protocol }, n);
    for (const [protocol, n] of Object.entries(t.openedByProtocol)) {
      this.#connectionsOpened.set({ protocol }, n);
    }
    this.#received.set({}, t.bytesIn);
    this.#sent.set({}, t.bytesOut);
    this.#streams.set({}, t.streams);
    this.#streamsSeen.set({}, t.streamsSeen);

    for (const s of this.#hub.streams()) {
      const labels = streamLabels(s.key);
      const snap = s.snapshot();
      this.#streamReceived.set(labels, s.stats.bytesIn);
      this.#streamSent.set(labels, s.bytesOut);
      const { audioFrames, videoFrames, framesIn } = s.stats;
      this.#streamFrames.set({ ...labels, kind: FrameKindLabel.Audio }, audioFrames);
      this.#streamFrames.set({ ...labels, kind: FrameKindLabel.Video }, videoFrames);
      this.#streamFrames.set({ ...labels, kind: FrameKindLabel.Data }, framesIn - audioFrames - videoFrames);
      this.#streamDropped.set(labels, snap.framesDropped);
      for (const protocol of PLAYER_PROTOCOLS) {
        this.#streamViewers.set({ ...labels, protocol }, snap.viewers.byProtocol[protocol] ?? 0);
      }
      for (const [protocol, n] of Object.entries(snap.viewers.byProtocol)) {
        if (!PLAYER_PROTOCOLS.includes(protocol)) this.#streamViewers.set({ ...labels, protocol }, n);
      }
    }

    if (this.#hls !== undefined) {
      const { source, requests, blocked, refused, streams } = this.#hls;
      const st = source.stats;
      requests.set({ kind: HlsRequestKind.Playlist }, st.playlists);
      requests.set({ kind: HlsRequestKind.Segment }, st.segments);
      requests.set({ kind: HlsRequestKind.Part }, st.parts);
      requests.set({ kind: HlsRequestKind.Init }, st.inits);
      blocked.set({}, st.blocked);
      refused.set({}, st.refusedBusy);
      streams.set({}, source.streams().length);
    }

    const cpu = process.cpuUsage();
    this.#cpu.set({}, (cpu.user + cpu.system) / MICROS_PER_S);
    const mem = process.memoryUsage();
    this.#rss.set({}, mem.rss);
    this.#heapUsed.set({}, mem.heapUsed);
    this.#uptime.set({}, Math.max(0, this.#clock() - this.#startedAt) / MS_PER_S);
  }
}

/** `GET /metrics`: the collector's text, never cached. */
export function serveMetrics(collector: MetricsCollector): Response {
  return new Response(collector.render(), {
    headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
  });
}
