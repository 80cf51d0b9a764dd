/**
 * Sluice: wires the hub, the RTMP listener, the HTTP router, the admin
 * side (API, events, history, metrics, the guard), the feeds and their ring
 * files, the file sources and the transcoding jobs together.
 * `new Sluice(config).start()` / `.stop()`; tests start it in-process on port 0.
 *
 * @module
 */
import { AccessLog } from "./admin/access_log.ts";
import { AdminGuard } from "./admin/auth.ts";
import { AddressPolicy, type AddressRules } from "./auth/address_policy.ts";
import { BandwidthMeter } from "./auth/bandwidth_meter.ts";
import { chain } from "./auth/chain.ts";
import { LimitsPolicy } from "./auth/limits.ts";
import type { AdminListener } from "./admin/context.ts";
import { History } from "./admin/history.ts";
import type { StatusContext } from "./admin/status_page.ts";
import { MetricsCollector } from "./admin/metrics.ts";
import { DEFAULT_SSE_MAX_BACKLOG_BYTES } from "./admin/sse.ts";
import type { Config } from "./config/config.ts";
import { ConfigError, ConfigRule, validateConfig } from "./config/validate.ts";
import { makeRouter } from "./http/routes.ts";
import { type Admission, allowAll } from "./hub/admission.ts";
import { AdmissionAction } from "./hub/admission.ts";
import { StreamHub } from "./hub/stream_hub.ts";
import { Feeds } from "./feed/feeds.ts";
import { Transcoder, validateSpecs } from "./jobs/transcoder.ts";
import { Sources } from "./ingest/sources.ts";
import { log as rootLog, type Logger } from "./log.ts";
import { RtmpListener } from "./rtmp/server/listener.ts";
import { VERSION } from "./version.ts";

export class Sluice {
  readonly config: Config;
  readonly hub: StreamHub;
  readonly log: Logger;
  #rtmp: RtmpListener | undefined;
  #http: Deno.HttpServer | undefined;
  #httpPort = 0;
  #sources: Sources | undefined;
  readonly #startedAt = Date.now();
  /** The admin side: bounded history, metrics, the guard of the API and page. */
  readonly history: History;
  readonly metrics: MetricsCollector;
  readonly guard: AdminGuard;
  /** Outgoing bandwidth over a sliding window, and the limits policy that reads it. */
  readonly meter: BandwidthMeter;
  readonly limits: LimitsPolicy;
  /** Who may publish each feed (`feeds[].acl`), over every protocol. */
  readonly addressRules: AddressPolicy;
  /** The feeds (`feeds[]`): ring files, push paths. */
  readonly feeds: Feeds;
  /** The transcoding jobs (`transcodes[]`). */
  readonly transcoder: Transcoder;
  #accessLog: AccessLog | undefined;

  /**
   * `options.admission`: the policy every publish and play asks (default: allow all); it can also be
   * swapped later through `hub.admission`.
   */
  constructor(config: Config, log: Logger = rootLog, options: { admission?: Admission } = {}) {
    validateConfig(config);
    this.config = config;
    this.log = log;
    this.hub = new StreamHub(config.hub, log.child("hub"), {
      admission: options.admission,
      admissionTimeoutMs: config.admission.timeoutMs,
    });
    this.history = new History(this.hub, { samples: config.admin.historySamples, log: log.child("admin") });
    this.metrics = new MetricsCollector(this.hub, { startedAt: this.#startedAt, version: VERSION });
    this.guard = new AdminGuard(config.admin, log.child("admin"));
    this.meter = new BandwidthMeter(this.hub);
    this.limits = new LimitsPolicy(config.limits, { hub: this.hub, meter: this.meter });
    this.addressRules = new AddressPolicy(addressRulesOf(config));
    // The configured rules answer first (401/403); the room check runs last, just before an allow.
    this.hub.admission = chain(options.admission ?? allowAll, this.addressRules, this.limits);
    this.feeds = new Feeds(config.feeds, { hub: this.hub, log: log.child("feed") });
    checkTranscodes(config);
    this.transcoder = new Transcoder(config.transcodes, {
      settings: config.jobs,
      hub: this.hub,
      rtmpUrl: () => `rtmp://${loopbackOf(this.config.rtmp.host)}:${this.rtmpPort}`,
      httpUrl: () => `http://${loopbackOf(this.config.http.host)}:${this.httpPort}`,
      log: log.child("transcode"),
    });
  }

  /**
   * Applies the settings of `next` that can change without a restart (`diffConfig`'s live ones): new
   * limits and address rules for the next requests, player bounds for the next players, hub waits,
   * metrics access; the sources, feeds, streams and transcodes lists (unchanged entries keep running;
   * removed ones stop; new ones start). Running clients are not touched. The log level is the caller's
   * (it is process-wide). A bad `next` throws before anything changes.
   */
  async applyLive(next: Config): Promise<void> {
    validateConfig(next);
    checkTranscodes(next);
    this.addressRules.update(addressRulesOf(next));
    this.limits.update(next.limits);
    Object.assign(this.config.limits, next.limits);
    Object.assign(this.config.player, next.player);
    this.config.hub.playWaitMs = next.hub.playWaitMs;
    this.config.hub.reconnectGraceMs = next.hub.reconnectGraceMs;
    this.config.admin.metricsOpen = next.admin.metricsOpen;
    this.config.admission.timeoutMs = this.hub.admissionTimeoutMs = next.admission.timeoutMs;
    this.config.log.level = next.log.level;
    this.config.streams = structuredClone(next.streams);
    this.config.feeds = structuredClone(next.feeds);
    this.config.sources = structuredClone(next.sources);
    this.config.transcodes = structuredClone(next.transcodes);
    Object.assign(this.config.jobs, next.jobs);
    await this.feeds.update(this.config.feeds);
    await this.#sources?.update(this.config.sources);
    await this.transcoder.update(this.config.transcodes, this.config.jobs);
  }

  /** The access log, when `log.access` is set and could be opened. */
  get accessLog(): AccessLog | undefined {
    return this.#accessLog;
  }

  /** The bound listeners, for the admin API's URLs and server view. */
  listeners(): AdminListener[] {
    return [
      { protocol: "rtmp", host: this.config.rtmp.host, port: this.rtmpPort },
      { protocol: "http", host: this.config.http.host, port: this.httpPort },
    ];
  }

  /** The bound RTMP port (useful when the config asked for 0). */
  get rtmpPort(): number {
    return this.#rtmp?.port ?? 0;
  }

  /** The bound HTTP port. */
  get httpPort(): number {
    return this.#httpPort;
  }

  /** The file sources (`config.sources`), once started. */
  get sources(): Sources | undefined {
    return this.#sources;
  }

  /** The RTMP listener (connection counts, for the admin API and tests). */
  get rtmp(): RtmpListener | undefined {
    return this.#rtmp;
  }

  async start(): Promise<void> {
    this.hub.start();
    this.history.start();
    this.metrics.start();
    this.meter.start();
    if (this.config.log.access !== null) {
      this.#accessLog = new AccessLog(this.config.log.access, this.hub.sessions, {
        log: this.log.child("access"),
      });
      await this.#accessLog.open();
    }
    await this.feeds.start();
    const admin: StatusContext = {
      hub: this.hub,
      history: this.history,
      log: this.log.child("admin"),
      startedAt: this.#startedAt,
      listeners: () => this.listeners(),
      sseMaxClients: this.config.admin.maxSseClients,
      sseMaxBacklogBytes: DEFAULT_SSE_MAX_BACKLOG_BYTES,
      feeds: () => this.feeds.status(),
    };
    this.#rtmp = new RtmpListener({
      hub: this.hub,
      config: this.config,
      log: this.log.child("rtmp"),
      feeds: this.feeds,
    });
    this.#rtmp.listen();
    const ready = Promise.withResolvers<void>();
    this.#http = Deno.serve(
      {
        hostname: this.config.http.host,
        port: this.config.http.port,
        onListen: (addr) => {
          this.#httpPort = (addr as Deno.NetAddr).port;
          ready.resolve();
        },
        onError: (e) => {
          this.log.child("http").error(`request failed: ${e instanceof Error ? e.message : e}`);
          return new Response("internal error\n", { status: 500 });
        },
      },
      makeRouter(
        {
          hub: this.hub,
          config: this.config,
          log: this.log.child("http"),
          startedAt: this.#startedAt,
          feeds: this.feeds,
        },
        { admin, metrics: this.metrics, gate: this.guard },
      ),
    );
    await ready.promise;
    this.#sources = new Sources(this.config.sources, { hub: this.hub, log: this.log.child("source") });
    this.#sources.start();
    this.transcoder.start();
  }

  async stop(): Promise<void> {
    await this.transcoder.stop();
    await this.#sources?.stop();
    await this.#rtmp?.close();
    this.history.stop();
    this.metrics.stop();
    this.meter.stop();
    this.hub.stop();
    await this.feeds.stop();
    await this.#http?.shutdown();
    await this.#accessLog?.close();
  }
}

/** Who may publish each feed, as the address policy takes it. */
function addressRulesOf(config: Config): AddressRules[] {
  return config.feeds.map((f) => ({ key: f.key, action: AdmissionAction.Publish, acl: f.acl }));
}

/** The address a local client (a transcode's ffmpeg) reaches a listener bound to `host` at. */
function loopbackOf(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * The transcodes' own rules beyond the schema's (an encoder option that needs an encoder, no cycle of
 * transcodes reading each other), as the ConfigError a start and a reload report.
 */
function checkTranscodes(config: Config): void {
  try {
    validateSpecs(config.transcodes);
  } catch (e) {
    if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
    const detail = e.message.replace(/^Cannot use (transcodes: )?/, "");
    throw new ConfigError("transcodes", config.transcodes, { rule: ConfigRule.Form, detail });
  }
}
