/**
 * Sluice: wires the hub, the RTMP listener, the HTTP router, the admin
 * side (API, events, history, metrics, the guard), the feeds and their ring
 * files, the file sources and the transcoding jobs together.
 * `new Sluice(config).start()` / `.stop()`; tests start it in-process on port 0.
 *
 * With a certificate and key (`tls.cert`, `tls.key`; both or neither) it also
 * listens for RTMPS (`tls.rtmpsPort`, the same sessions over `Deno.listenTls`)
 * and HTTPS (`tls.httpsPort`, the same router; Deno.serve offers HTTP/2 by
 * ALPN). Plain HTTP is Sluice's own HTTP/1.1 server (`http/http1_server.ts`),
 * whose FLV players write to their sockets. `reloadTls()` (SIGHUP) reads both files again and binds the TLS
 * ports again with them; connections already open keep their TLS state.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import { AccessLog } from "./admin/access_log.ts";
import { AdminGuard } from "./admin/auth.ts";
import { AddressPolicy, type AddressRules } from "./auth/address_policy.ts";
import { callbackBudgetMs, CallbackPolicy } from "./auth/callbacks.ts";
import { HlsService } from "./hls/hls_service.ts";
import { INTERNAL_KEY_PARAM, RulesPolicy } from "./auth/rules.ts";
import { DoneNotifier } from "./auth/done_notifier.ts";
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
import { Http1Server } from "./http/http1_server.ts";
import { type Admission, allowAll } from "./hub/admission.ts";
import { AdmissionAction } from "./hub/admission.ts";
import { StreamHub } from "./hub/stream_hub.ts";
import { Feeds } from "./feed/feeds.ts";
import { Transcoder, validateSpecs } from "./jobs/transcoder.ts";
import { Sources } from "./ingest/sources.ts";
import { log as rootLog, type Logger } from "./log.ts";
import { RtmpListener, type TlsKeyPair } from "./rtmp/server/listener.ts";
import type { RtmpSession } from "./rtmp/server/session.ts";
import { RtspServer } from "./rtsp/server.ts";
import type { Handler } from "./http/router.ts";
import { VERSION } from "./version.ts";

export class Sluice {
  readonly config: Config;
  readonly hub: StreamHub;
  readonly log: Logger;
  #rtmp: RtmpListener | undefined;
  /** The RTSP listener, when `rtsp.enabled`. */
  #rtsp: RtspServer | undefined;
  #http: Http1Server | undefined;
  #httpPort = 0;
  /** Every RTMP and RTMPS session: the two listeners share `rtmp.maxConnections`. */
  readonly #rtmpSessions = new Set<RtmpSession>();
  /** The TLS side, when `tls.cert` and `tls.key` are set: the files and the two listeners. */
  #tlsFiles: TlsFiles | undefined;
  #rtmps: RtmpListener | undefined;
  #https: Deno.HttpServer | undefined;
  #httpsPort = 0;
  /** The router, kept to serve HTTPS again after a certificate reload. */
  #handler: Handler | undefined;
  /** HTTPS servers replaced by a reload, finishing the requests they had (players until they end). */
  readonly #retiredHttps = new Set<Promise<void>>();
  /** Reloads run one after another. */
  #tlsReload: Promise<void> = Promise.resolve();
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
  /** The access rules (`rules[]`) and the auth shortcuts (`--publish-key`, `--sign-secret`, JWT). */
  readonly rules: RulesPolicy;
  /** The credential of the server's own clients (its transcodes' ffmpeg), made at each start. */
  readonly #internalKey = crypto.randomUUID().replaceAll("-", "");
  /** on_connect / on_publish / on_play (`auth.on*`), asked after the configured rules. */
  readonly callbacks: CallbackPolicy;
  /** on_publish_done / on_play_done, fire and forget. */
  readonly doneNotifier: DoneNotifier;
  /** The feeds (`feeds[]`): ring files, push paths. */
  readonly feeds: Feeds;
  /** The transcoding jobs (`transcodes[]`). */
  readonly transcoder: Transcoder;
  /** HLS muxing and viewers (`hls.*`). */
  readonly hls: HlsService;
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
      admissionTimeoutMs: admissionBoundMs(config, log),
    });
    this.history = new History(this.hub, { samples: config.admin.historySamples, log: log.child("admin") });
    this.hls = new HlsService({ hub: this.hub, config: config.hls, log: log.child("hls") });
    this.metrics = new MetricsCollector(this.hub, {
      startedAt: this.#startedAt,
      version: VERSION,
      hls: this.hls,
    });
    this.guard = new AdminGuard(config.admin, log.child("admin"));
    this.meter = new BandwidthMeter(this.hub);
    this.limits = new LimitsPolicy(config.limits, { hub: this.hub, meter: this.meter });
    this.addressRules = new AddressPolicy(addressRulesOf(config));
    // The configured rules answer first (401/403); the room check runs last, just before an allow.
    this.callbacks = new CallbackPolicy(config.auth, { log: log.child("callback") });
    this.doneNotifier = new DoneNotifier(config.auth, this.hub.sessions, { log: log.child("callback") });
    this.rules = new RulesPolicy(config.rules, config.auth, { internalKey: this.#internalKey });
    this.hub.admission = chain(
      options.admission ?? allowAll,
      this.rules,
      this.addressRules,
      this.callbacks,
      this.limits,
    );
    this.feeds = new Feeds(config.feeds, { hub: this.hub, log: log.child("feed") });
    checkTranscodes(config);
    this.transcoder = new Transcoder(config.transcodes, {
      settings: config.jobs,
      hub: this.hub,
      rtmpUrl: () => `rtmp://${loopbackOf(this.config.rtmp.host)}:${this.rtmpPort}`,
      httpUrl: () => `http://${loopbackOf(this.config.http.host)}:${this.httpPort}`,
      urlQuery: () => `${INTERNAL_KEY_PARAM}=${this.#internalKey}`,
      log: log.child("transcode"),
    });
  }

  /**
   * Applies the settings of `next` that can change without a restart (`diffConfig`'s live ones): new
   * limits, address rules and trusted proxies for the next requests, player bounds for the next players, hub waits,
   * metrics access; the sources, feeds, streams and transcodes lists (unchanged entries keep running;
   * removed ones stop; new ones start). Running clients are not touched. The log level is the caller's
   * (it is process-wide). A bad `next` throws before anything changes.
   */
  async applyLive(next: Config): Promise<void> {
    validateConfig(next);
    checkTranscodes(next);
    await this.rules.update(next.rules, next.auth);
    this.config.rules = structuredClone(next.rules);
    this.addressRules.update(addressRulesOf(next));
    Object.assign(this.config.auth, next.auth);
    this.callbacks.update(this.config.auth);
    this.doneNotifier.update(this.config.auth);
    this.limits.update(next.limits);
    Object.assign(this.config.limits, next.limits);
    Object.assign(this.config.player, next.player);
    this.config.hub.playWaitMs = next.hub.playWaitMs;
    this.config.hub.reconnectGraceMs = next.hub.reconnectGraceMs;
    this.config.admin.metricsOpen = next.admin.metricsOpen;
    this.config.admission.timeoutMs = next.admission.timeoutMs;
    this.hub.admissionTimeoutMs = admissionBoundMs(next, this.log);
    this.config.log.level = next.log.level;
    this.config.http.trustedProxies = [...next.http.trustedProxies];
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

  /**
   * The bound listeners: RTMP and HTTP, RTMPS and HTTPS when TLS is on, and RTSP (with its UDP range)
   * when it runs.
   */
  listeners(): SluiceListener[] {
    const all: SluiceListener[] = [
      { protocol: "rtmp", host: this.config.rtmp.host, port: this.rtmpPort },
      { protocol: "http", host: this.config.http.host, port: this.httpPort },
    ];
    if (this.#rtmps) all.push({ protocol: "rtmps", host: this.config.rtmp.host, port: this.rtmpsPort });
    if (this.#https) all.push({ protocol: "https", host: this.config.http.host, port: this.httpsPort });
    if (this.#rtsp) {
      const pool = this.#rtsp.udpPorts;
      all.push({
        protocol: "rtsp",
        host: this.config.rtsp.host,
        port: this.rtspPort,
        udpPorts: { first: pool?.first ?? 0, last: pool?.last ?? 0 },
      });
    }
    return all;
  }

  /** The bound RTMP port (useful when the config asked for 0). */
  get rtmpPort(): number {
    return this.#rtmp?.port ?? 0;
  }

  /** The bound RTSP port; 0 when RTSP is off. */
  get rtspPort(): number {
    return this.#rtsp?.port ?? 0;
  }

  /** The bound HTTP port. */
  get httpPort(): number {
    return this.#httpPort;
  }

  /** The bound RTMPS port; 0 when TLS is off. */
  get rtmpsPort(): number {
    return this.#rtmps?.port ?? 0;
  }

  /** The bound HTTPS port; 0 when TLS is off. */
  get httpsPort(): number {
    return this.#https ? this.#httpsPort : 0;
  }

  /**
   * Reads `tls.cert` and `tls.key` again and binds the RTMPS and HTTPS ports again with them (Deno
   * cannot change the certificate of a listening socket): new connections get the new certificate,
   * open ones go on. A file that cannot be read, or a pair that cannot be used, is logged as an error
   * naming it and the running certificate stays. Never rejects; a no-op when TLS is off.
   */
  reloadTls(): Promise<void> {
    this.#tlsReload = this.#tlsReload.then(() => this.#reloadTls()).catch((e) => {
      this.log.child("tls").error(`Cannot reload the certificate: ${messageOf(e)}`);
    });
    return this.#tlsReload;
  }

  async #reloadTls(): Promise<void> {
    const rtmps = this.#rtmps;
    const files = this.#tlsFiles;
    if (rtmps === undefined || files === undefined) return;
    const log = this.log.child("tls");
    let next: TlsKeyPair;
    try {
      next = await readTlsPair(files);
      await rtmps.reopen(next);
    } catch (e) {
      log.error(`${tlsErrorOf(e, files).message}; the running certificate is kept`);
      return;
    }
    // The pair is good (Deno.listenTls took it); HTTPS takes the same.
    await this.#reopenHttps(next, log);
    logCertificate(log, `reloaded ${files.cert}`, next.cert);
  }

  /**
   * Serves HTTPS again on its port with `pair`: the old server stops accepting at once and finishes
   * what it had; the port is free a moment later (Deno.serve lets go of it after its next turn), so
   * the bind is tried again, bounded, while it is still taken.
   */
  async #reopenHttps(pair: TlsKeyPair, log: Logger): Promise<void> {
    const old = this.#https;
    const port = this.#httpsPort;
    if (old === undefined) return;
    this.#https = undefined;
    const done = old.shutdown();
    this.#retiredHttps.add(done);
    done.finally(() => this.#retiredHttps.delete(done));
    for (let attempt = 1;; attempt++) {
      await new Promise((r) => setTimeout(r, attempt === 1 ? 0 : HTTPS_REBIND_WAIT_MS));
      try {
        this.#https = this.#serveHttps(pair, port);
        return;
      } catch (e) {
        if (!(e instanceof Deno.errors.AddrInUse) || attempt >= HTTPS_REBIND_ATTEMPTS) {
          log.error(`Cannot serve HTTPS on ${this.config.http.host}:${port} again: ${messageOf(e)}`);
          return;
        }
      }
    }
  }

  /** Deno.serve of the router over TLS on `port`; throws as Deno.serve does (AddrInUse, InvalidData). */
  #serveHttps(pair: TlsKeyPair, port: number): Deno.HttpServer {
    const log = this.log.child("https");
    const server = Deno.serve({
      hostname: this.config.http.host,
      port,
      cert: pair.cert,
      key: pair.key,
      onListen: () => {},
      onError: (e) => {
        log.error(`request failed: ${messageOf(e)}`);
        return new Response("internal error\n", { status: 500 });
      },
    }, this.#handler!);
    this.#httpsPort = server.addr.port;
    return server;
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
    // Before anything runs: a JWT key file or a certificate that cannot be read stops the start with one line.
    await this.rules.ready();
    const files = this.#tlsFiles = tlsFilesOf(this.config);
    const pair = files === undefined ? undefined : await readTlsPair(files);
    this.hub.start();
    this.history.start();
    this.metrics.start();
    this.meter.start();
    this.doneNotifier.start();
    if (this.config.log.access !== null) {
      this.#accessLog = new AccessLog(this.config.log.access, this.hub.sessions, {
        log: this.log.child("access"),
      });
      await this.#accessLog.open();
    }
    await this.feeds.start();
    if (this.config.hls.enabled) this.hls.start();
    const admin: StatusContext = {
      hub: this.hub,
      history: this.history,
      log: this.log.child("admin"),
      startedAt: this.#startedAt,
      listeners: () => this.listeners(),
      sseMaxClients: this.config.admin.maxSseClients,
      sseMaxBacklogBytes: DEFAULT_SSE_MAX_BACKLOG_BYTES,
      feeds: () => this.feeds.status(),
      transcodes: () => this.transcoder.jobs(),
    };
    this.#rtmp = new RtmpListener({
      hub: this.hub,
      config: this.config,
      log: this.log.child("rtmp"),
      feeds: this.feeds,
    }, { shared: this.#rtmpSessions });
    this.#rtmp.listen();
    if (this.config.rtsp.enabled) this.#startRtsp();
    this.#handler = makeRouter(
      {
        hub: this.hub,
        config: this.config,
        log: this.log.child("http"),
        startedAt: this.#startedAt,
        feeds: this.feeds,
        hls: this.hls,
      },
      { admin, metrics: this.metrics, gate: this.guard },
    );
    const httpLog = this.log.child("http");
    this.#http = new Http1Server({
      hostname: this.config.http.host,
      port: this.config.http.port,
      handler: this.#handler,
      log: httpLog,
      onError: (e) => {
        httpLog.error(`request failed: ${e instanceof Error ? e.message : e}`);
        return new Response("internal error\n", { status: 500 });
      },
    });
    this.#httpPort = this.#http.addr.port;
    if (files !== undefined && pair !== undefined) {
      try {
        this.#startTls(pair, files);
      } catch (e) {
        await this.stop(); // a certificate Deno cannot use, a port taken: nothing stays bound
        throw e;
      }
    }
    this.#sources = new Sources(this.config.sources, { hub: this.hub, log: this.log.child("source") });
    this.#sources.start();
    this.transcoder.start();
  }

  /**
   * The RTSP listener. A port it cannot bind (another RTSP server on 8554) leaves RTSP off with an
   * error logged rather than stopping the start: RTMP and HTTP, the main listeners, go on.
   */
  #startRtsp(): void {
    const log = this.log.child("rtsp");
    const rtsp = new RtspServer({ hub: this.hub, config: this.config, log });
    try {
      rtsp.listen();
      this.#rtsp = rtsp;
    } catch (e) {
      const { host, port } = this.config.rtsp;
      log.error(`RTSP is off: cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** The RTMPS listener and the HTTPS server, with a pair read at start. */
  #startTls(pair: TlsKeyPair, files: TlsFiles): void {
    const log = this.log.child("tls");
    try {
      this.#rtmps = new RtmpListener({
        hub: this.hub,
        config: this.config,
        log: this.log.child("rtmps"),
        feeds: this.feeds,
      }, { tls: pair, port: this.config.tls.rtmpsPort, shared: this.#rtmpSessions });
      this.#rtmps.listen();
    } catch (e) {
      this.#rtmps = undefined;
      throw tlsErrorOf(e, files);
    }
    this.#https = this.#serveHttps(pair, this.config.tls.httpsPort);
    logCertificate(log, `certificate ${files.cert}`, pair.cert);
  }

  async stop(): Promise<void> {
    await this.#tlsReload;
    await this.transcoder.stop();
    await this.#sources?.stop();
    await this.#rtmp?.close();
    await this.#rtmps?.close();
    await this.#rtsp?.close();
    this.history.stop();
    this.metrics.stop();
    this.meter.stop();
    this.hls.stop();
    this.hub.stop();
    await this.doneNotifier.stop();
    await this.feeds.stop();
    await this.#http?.shutdown();
    await this.#https?.shutdown();
    await Promise.all(this.#retiredHttps);
    await this.#accessLog?.close();
  }
}

/** A bound listener of the server: what it speaks, where (the admin side's own type). */
export type SluiceListener = AdminListener;

/** How many times, and how far apart in ms, a reload tries to bind the HTTPS port while the old server lets go of it. */
const HTTPS_REBIND_ATTEMPTS = 100;
const HTTPS_REBIND_WAIT_MS = 10;

/** The certificate and key files of the config (`tls.cert`, `tls.key`). */
interface TlsFiles {
  cert: string;
  key: string;
}

/** A TLS file cannot be read, or the pair cannot be used: the message names the setting, the file and what to do. */
export class TlsError extends Error {
  /** The files concerned: the one that cannot be read, or the certificate and the key. */
  readonly files: readonly string[];

  constructor(message: string, files: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsError";
    this.files = files;
  }
}

/**
 * The hub's admission bound: `admission.timeoutMs`, raised (with a warning) to fit the HTTP callbacks'
 * own timeouts when they would not fit in it.
 */
export function admissionBoundMs(config: Config, log: Logger): number {
  const set = config.admission.timeoutMs;
  const needed = callbackBudgetMs(config.auth);
  if (needed <= set) return set;
  log.warn(
    `admission.timeoutMs ${set} ms raised to ${needed} ms: on_connect and on_publish/on_play may take ` +
      `auth.callbackTimeoutMs (${config.auth.callbackTimeoutMs} ms) each`,
  );
  return needed;
}

/** `tls.cert` and `tls.key`, both or neither (one alone is a ConfigError naming the other). */
function tlsFilesOf(config: Config): TlsFiles | undefined {
  const { cert, key } = config.tls;
  if (cert === null && key === null) return undefined;
  if (cert === null || key === null) {
    const [missing, given] = cert === null ? ["tls.cert", "tls.key"] : ["tls.key", "tls.cert"];
    throw new ConfigError(missing, null, {
      rule: ConfigRule.Form,
      detail: `it is missing while ${given} is set; set both (--tls-cert FILE --tls-key FILE) or neither`,
    });
  }
  return { cert, key };
}

/** Reads both files; a TlsError names the setting and the file that cannot be read. */
async function readTlsPair(files: TlsFiles): Promise<TlsKeyPair> {
  return {
    cert: await readTlsFile("tls.cert", files.cert, files),
    key: await readTlsFile("tls.key", files.key, files),
  };
}

/** The text of one of the pair's files; without the permission, the flag that grants both (a reload reads both again). */
async function readTlsFile(setting: string, path: string, files: TlsFiles): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotCapable
      ? `no read permission; start with --allow-read=${files.cert},${files.key}`
      : e instanceof Deno.errors.NotFound
      ? "there is no such file"
      : messageOf(e);
    throw new TlsError(`Cannot read ${setting} ${path}: ${why}`, [path], { cause: e });
  }
}

/** `e` as the TlsError a start throws and a reload logs: a TlsError as it is, else the pair that cannot be used. */
function tlsErrorOf(e: unknown, files: TlsFiles): TlsError {
  if (e instanceof TlsError) return e;
  return new TlsError(
    `Cannot use tls.cert ${files.cert} with tls.key ${files.key}: ${messageOf(e)}`,
    [files.cert, files.key],
    { cause: e },
  );
}

/**
 * Logs what the first certificate of a PEM chain is ("...: CN=example.com, valid until Dec  3 02:41:29
 * 2026 GMT"), with a warning when now is outside its validity period.
 */
function logCertificate(log: Logger, what: string, pem: string): void {
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch {
    return log.info(`${what} (its subject cannot be read)`);
  }
  log.info(`${what}: ${x.subject.replaceAll("\n", ", ")}, valid until ${x.validTo}`);
  const now = Date.now();
  if (x.validToDate.getTime() < now) log.warn(`${what}: the certificate expired on ${x.validTo}`);
  else if (x.validFromDate.getTime() > now) {
    log.warn(`${what}: the certificate is valid only from ${x.validFrom}`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
