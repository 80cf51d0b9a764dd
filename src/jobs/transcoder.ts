/**
 * Transcoder: every configured transcode (`config.transcodes`), one
 * TranscodeJob per output key. Started with the server, stopped before the
 * hub, and reloaded live: `update()` starts the new jobs, stops the removed
 * ones and restarts the changed ones, while the unchanged ones keep running
 * (their ffmpeg is not touched).
 *
 * A job is "changed" when its source, its input or its ffmpeg argument list
 * is (so `{ input: "rtmp" }` and no input are the same job), or when the
 * shared settings are.
 *
 * The list is checked as a whole before anything starts or changes: each
 * spec (`validateSpec`), no two with the same key, and no cycle (a chain of
 * transcodes that reads its own output).
 *
 * The jobs share one hub event listener, however many there are.
 *
 * @module
 */
import type { HubEventType } from "../hub/events.ts";
import type { StreamState } from "../hub/stream.ts";
import {
  ffmpegArgs,
  type JobHub,
  type JobsSettings,
  type TranscodeContext,
  TranscodeInput,
  TranscodeJob,
  type TranscodeSpec,
  type TranscodeStatus,
  validateSettings,
  validateSpec,
} from "./transcode_job.ts";

/** Checks a list of transcodes: each spec, unique keys, no cycles. RangeError or TypeError. */
export function validateSpecs(specs: readonly TranscodeSpec[]): void {
  if (!Array.isArray(specs)) throw new TypeError(`Cannot use transcodes: current value is ${typeof specs}`);
  const fromOf = new Map<string, string>();
  for (const spec of specs) {
    validateSpec(spec);
    if (fromOf.has(spec.key)) throw new RangeError(`Cannot use transcodes: ${spec.key} is defined twice`);
    fromOf.set(spec.key, spec.from);
  }
  for (const key of fromOf.keys()) {
    const chain = [key];
    for (let at = fromOf.get(key); at !== undefined; at = fromOf.get(at)) {
      if (at === key) {
        throw new RangeError(`Cannot use transcodes: ${[...chain, at].join(" <- ")} reads its own output`);
      }
      if (chain.includes(at)) break; // a cycle further up the chain, reported from its own key
      chain.push(at);
    }
  }
}

/**
 * The jobs' side of the hub, with one hub listener for all of them (the hub bounds its listeners, and a
 * list of transcodes should not use them up): each job's listener is kept here and called for every
 * event; the hub listener is added with the first job's and removed with the last one's.
 */
class SharedEvents implements JobHub {
  #hub: JobHub;
  #listeners = new Set<(ev: { type: HubEventType; key: string }) => void>();
  #off: (() => void) | undefined;

  constructor(hub: JobHub) {
    this.#hub = hub;
  }

  on(listener: (ev: { type: HubEventType; key: string }) => void): () => void {
    this.#listeners.add(listener);
    this.#off ??= this.#hub.on((ev) => {
      // Every job hears the event; the first exception goes on to the hub, which logs it.
      let failure: { error: unknown } | undefined;
      for (const l of [...this.#listeners]) {
        try {
          l(ev);
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure) throw failure.error;
    });
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      this.#off?.();
      this.#off = undefined;
    };
  }

  get(key: string): { readonly state: StreamState } | undefined {
    return this.#hub.get(key);
  }
}

/** What makes a job the same job: its source, input and ffmpeg arguments (URLs aside), and the settings. */
function identity(spec: TranscodeSpec, settings: JobsSettings): string {
  return JSON.stringify([
    spec.from,
    spec.input ?? TranscodeInput.Rtmp,
    ffmpegArgs(spec, { inputUrl: "", outputUrl: "" }),
    [settings.ffmpeg, settings.restartMinMs, settings.restartMaxMs, settings.stderrLinesPerMinute],
  ]);
}

/** All transcode jobs. */
export class Transcoder {
  /** Shared by every job (the settings are replaced by update()). */
  #ctx: TranscodeContext;
  #jobs = new Map<string, { job: TranscodeJob; identity: string }>();
  #started = false;
  /** update() and stop() run one after another. */
  #queue: Promise<void> = Promise.resolve();

  /** Checks the specs and settings (RangeError, TypeError); starts nothing. */
  constructor(specs: readonly TranscodeSpec[], ctx: TranscodeContext) {
    validateSpecs(specs);
    validateSettings(ctx.settings);
    this.#ctx = { ...ctx, settings: { ...ctx.settings }, hub: new SharedEvents(ctx.hub) };
    for (const spec of specs) this.#add(spec);
  }

  /** Starts every job (each waits for its source). Idempotent. */
  start(): void {
    this.#started = true;
    for (const { job } of this.#jobs.values()) job.start();
  }

  /** Stops every job; resolves when every ffmpeg is gone. */
  stop(): Promise<void> {
    this.#started = false;
    return this.#enqueue(async () => {
      await Promise.all([...this.#jobs.values()].map(({ job }) => job.stop()));
    });
  }

  /**
   * Replaces the list (and, if given, the settings): new jobs start, removed ones stop, changed ones
   * restart, unchanged ones keep running. The whole list is checked first; a bad one throws and
   * changes nothing. Resolves when the stopped jobs' ffmpeg are gone and the new jobs are started.
   */
  update(specs: readonly TranscodeSpec[], settings: JobsSettings = this.#ctx.settings): Promise<void> {
    validateSpecs(specs);
    validateSettings(settings);
    // Copies now: the caller may change its objects in place before the queued update runs.
    const list = structuredClone(specs) as TranscodeSpec[];
    const shared = { ...settings };
    return this.#enqueue(() => this.#apply(list, shared));
  }

  async #apply(specs: TranscodeSpec[], settings: JobsSettings): Promise<void> {
    this.#ctx = { ...this.#ctx, settings };
    const wanted = new Map(specs.map((s) => [s.key, s]));
    const stopping: Promise<void>[] = [];
    for (const [key, { job, identity: id }] of this.#jobs) {
      const next = wanted.get(key);
      if (next && identity(next, settings) === id) continue;
      this.#jobs.delete(key);
      stopping.push(job.stop());
    }
    await Promise.all(stopping);
    for (const spec of specs) {
      if (this.#jobs.has(spec.key)) continue;
      const job = this.#add(spec);
      if (this.#started) job.start();
    }
    this.#jobs = new Map(specs.map((s) => [s.key, this.#jobs.get(s.key)!]));
  }

  /** Every job's status, in the list's order. */
  jobs(): TranscodeStatus[] {
    return [...this.#jobs.values()].map(({ job }) => job.status);
  }

  #add(spec: TranscodeSpec): TranscodeJob {
    const job = new TranscodeJob(spec, this.#ctx);
    this.#jobs.set(spec.key, { job, identity: identity(spec, this.#ctx.settings) });
    return job;
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => {});
    return next;
  }
}
