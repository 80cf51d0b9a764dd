/**
 * Feeds: the configured feeds (`feeds[]`, ffserver's `<Feed>`), each a stream key written as it arrives into
 * its ring buffer file (`FeedRing`, by a `FeedRecorder` attached to the hub) whether or not anyone plays,
 * with an optional push path. The HTTP side asks it for a key's ring (time-shifted play) and a push path's
 * feed; the status page for what each feed holds.
 *
 * Policy:
 * - a ring that cannot be opened (no `--allow-read`/`--allow-write` for its file, a bad file) is logged
 *   once with the flag to add, and the feed runs without it (live play and push still work);
 * - `update()` (SIGHUP) keeps a feed whose key, file and size did not change, recording on; closes the
 *   rings of feeds removed or changed and opens the new ones; push paths, `catchUp` and address rules
 *   change at once;
 * - `stop()` stops every recorder and closes every ring (pending bytes written).
 *
 * @module
 */
import type { FeedConfig } from "../config/config.ts";
import type { StreamHub } from "../hub/stream_hub.ts";
import type { Logger } from "../log.ts";
import { FeedRecorder } from "./feed_recorder.ts";
import { FeedRing } from "./feed_ring.ts";

/** A feed as the status page shows it (see `StatusFeed` in `src/admin/status_page.ts`). */
export interface FeedStatus {
  name: string;
  path?: string;
  key: string;
  receiving: boolean;
  file?: string;
  sizeBytes?: number;
  maxSizeBytes?: number;
  spanMs?: number;
}

interface Running {
  entry: FeedConfig;
  ring?: FeedRing;
  recorder?: FeedRecorder;
}

export interface FeedsOptions {
  hub: StreamHub;
  log: Logger;
}

export class Feeds {
  #entries: readonly FeedConfig[] = [];
  #running = new Map<string, Running>();
  readonly #hub: StreamHub;
  readonly #log: Logger;
  #started = false;

  constructor(entries: readonly FeedConfig[], options: FeedsOptions) {
    this.#entries = entries;
    this.#hub = options.hub;
    this.#log = options.log;
  }

  /** Opens every feed's ring and starts recording. */
  async start(): Promise<void> {
    this.#started = true;
    await this.update(this.#entries);
  }

  /** The configured entries now. */
  get entries(): readonly FeedConfig[] {
    return this.#entries;
  }

  /** Applies a new list of feeds (see the module doc). */
  async update(entries: readonly FeedConfig[]): Promise<void> {
    this.#entries = entries;
    if (!this.#started) return;
    const next = new Map(entries.map((e) => [e.key, e]));
    for (const [key, run] of [...this.#running]) {
      const e = next.get(key);
      if (e && e.file === run.entry.file && e.fileMaxSize === run.entry.fileMaxSize) {
        run.entry = e;
        continue;
      }
      this.#running.delete(key);
      await this.#close(run);
    }
    for (const e of entries) {
      if (this.#running.has(e.key)) continue;
      const run: Running = { entry: e };
      this.#running.set(e.key, run);
      if (e.file !== undefined) await this.#open(run, e.file);
    }
  }

  async #open(run: Running, file: string): Promise<void> {
    const { key, fileMaxSize } = run.entry;
    const log = this.#log.child(key);
    const missing = await missingPermission(file);
    if (missing) {
      log.error(`Cannot record feed ${key} into ${file}: ${missing}; it plays live only`);
      return;
    }
    try {
      run.ring = await FeedRing.open(file, { maxBytes: fileMaxSize, log });
    } catch (e) {
      log.error(
        `Cannot record feed ${key} into ${file}: ${e instanceof Error ? e.message : e}; it plays live only`,
      );
      return;
    }
    run.recorder = new FeedRecorder({ hub: this.#hub, key, ring: run.ring, log });
    run.recorder.start();
    log.info(`recording ${key} into ${file} (at most ${fileMaxSize} bytes)`);
  }

  async #close(run: Running): Promise<void> {
    run.recorder?.stop();
    await run.ring?.close();
  }

  /** The ring of stream `key`, when it is a feed with an open ring file. */
  ring(key: string): FeedRing | undefined {
    return this.#running.get(key)?.ring;
  }

  /** Whether the feed of `key` sends its past as fast as a player reads. */
  catchUp(key: string): boolean {
    return this.#running.get(key)?.entry.catchUp ?? false;
  }

  /** The feed pushed to at `path` ("/feed1.ffm"), if any. */
  byPush(path: string): FeedConfig | undefined {
    return this.#entries.find((e) => e.push === path);
  }

  /** Every feed, for the status page. */
  status(): FeedStatus[] {
    return this.#entries.map((e) => {
      const ring = this.#running.get(e.key)?.ring;
      const out: FeedStatus = {
        name: e.push?.slice(1) ?? e.key,
        key: e.key,
        receiving: this.#hub.get(e.key)?.state === "live",
      };
      if (e.push !== undefined) out.path = e.push;
      if (e.file !== undefined) {
        out.file = e.file;
        out.maxSizeBytes = e.fileMaxSize;
      }
      if (ring) {
        out.sizeBytes = ring.stats().fileBytes;
        const oldest = ring.oldestTimestamp, newest = ring.newestTimestamp;
        if (oldest !== undefined && newest !== undefined) out.spanMs = newest - oldest;
      }
      return out;
    });
  }

  /** Stops recording and closes every ring. */
  async stop(): Promise<void> {
    this.#started = false;
    const runs = [...this.#running.values()];
    this.#running.clear();
    for (const run of runs) await this.#close(run);
  }
}

/** What a ring file at `path` lacks of the permissions it needs, as the flags to add; undefined if none. */
async function missingPermission(path: string): Promise<string | undefined> {
  const flags: string[] = [];
  for (const name of ["read", "write"] as const) {
    const status = await Deno.permissions.query({ name, path });
    if (status.state !== "granted") flags.push(`--allow-${name}=${path}`);
  }
  return flags.length === 0 ? undefined : `start the server with ${flags.join(" ")}`;
}
