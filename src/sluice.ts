/**
 * Sluice: wires the hub, the RTMP listener and the HTTP router together.
 * `new Sluice(config).start()` / `.stop()`; tests start it in-process on port 0.
 *
 * @module
 */
import type { Config } from "./config/config.ts";
import { validateConfig } from "./config/validate.ts";
import { makeRouter } from "./http/routes.ts";
import type { Admission } from "./hub/admission.ts";
import { StreamHub } from "./hub/stream_hub.ts";
import { Sources } from "./ingest/sources.ts";
import { log as rootLog, type Logger } from "./log.ts";
import { RtmpListener } from "./rtmp/server/listener.ts";

export class Sluice {
  readonly config: Config;
  readonly hub: StreamHub;
  readonly log: Logger;
  #rtmp: RtmpListener | undefined;
  #http: Deno.HttpServer | undefined;
  #httpPort = 0;
  #sources: Sources | undefined;

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
    this.#rtmp = new RtmpListener({ hub: this.hub, config: this.config, log: this.log.child("rtmp") });
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
      makeRouter({ hub: this.hub, config: this.config, log: this.log.child("http"), startedAt: Date.now() }),
    );
    await ready.promise;
    this.#sources = new Sources(this.config.sources, { hub: this.hub, log: this.log.child("source") });
    this.#sources.start();
  }

  async stop(): Promise<void> {
    await this.#sources?.stop();
    await this.#rtmp?.close();
    this.hub.stop();
    await this.#http?.shutdown();
  }
}
