/**
 * File sources: the configured files (`config.sources`, `--source
 * app/name=PATH`) played out in real time as live streams, looped or once.
 * Each is a publisher like any other (one per name, the reconnect grace when
 * it stops). The kind of file is read from its first bytes: "FLV" is an FLV
 * file (`flv_file.ts`), a start code an H.264 Annex B stream
 * (`annexb_file.ts`).
 *
 * Before it publishes, a source asks the admission gate (`hub.admit()`,
 * protocol file, no remote, an empty query); a refusal logs one error line
 * ("Cannot publish KEY from PATH: denied: reason") and the source stays off.
 * While it plays, it is in the hub's session registry (protocol file, role
 * publisher, no remote, bytesIn the tag bytes pushed); an admin kick stops it.
 *
 * Reading a file needs `--allow-read`. Without it, or when the file is
 * missing, the source logs one line that says what to do and stays off; the
 * server and its other streams go on.
 *
 * @module
 */
import type { SourceConfig } from "../config/config.ts";
import { StreamBusyError } from "../errors.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  DecisionKind,
  refusalText,
} from "../hub/admission.ts";
import type { SessionInit } from "../hub/registry.ts";
import { Protocol, Role } from "../hub/session_kind.ts";
import type { Logger } from "../log.ts";
import { annexBTags, type SeekableReader } from "./annexb_file.ts";
import { flvFileTags } from "./flv_file.ts";
import { FlvPublisher, type PublishHub, type SourceTag } from "./flv_publisher.ts";
import { type Clock, Pacer } from "./pacer.ts";

/** The kinds of file a source plays. */
export const FileKind = {
  /** An FLV file: starts with the signature "FLV" (FLV spec v10.1 E.2). */
  Flv: "FLV",
  /** An H.264 Annex B byte stream: starts with a start code 00 00 01 or 00 00 00 01 (H.264 B.1.1). */
  AnnexB: "H.264 Annex B",
} as const;
export type FileKind = typeof FileKind[keyof typeof FileKind];

/** onMetaData keys that describe a file, not a live stream: dropped from an FLV file's metadata. */
export const FILE_ONLY_METADATA_KEYS: readonly string[] = ["duration", "filesize"];

/** The kind of file that starts with `head` (its first 4 bytes or more), or undefined. */
export function sniffFileKind(head: Uint8Array): FileKind | undefined {
  if (head[0] === 0x46 && head[1] === 0x4c && head[2] === 0x56) return FileKind.Flv;
  if (head[0] === 0 && head[1] === 0 && (head[2] === 1 || (head[2] === 0 && head[3] === 1))) {
    return FileKind.AnnexB;
  }
  return undefined;
}

/** What a source logs when it may not read its file. */
export function missingReadPermissionMessage(path: string): string {
  return `Cannot read ${path}: run with --allow-read (deno run --allow-net --allow-read server.ts ...)`;
}

/** Asks whether `path` may be read (Deno.permissions.query, replaceable in tests). */
export type ReadPermissionQuery = (path: string) => Promise<Deno.PermissionState>;

const queryRead: ReadPermissionQuery = async (path) =>
  (await Deno.permissions.query({ name: "read", path })).state;

/** Why `path` cannot be read, or undefined when the read permission is granted. Never prompts. */
export async function readPermissionProblem(
  path: string,
  query: ReadPermissionQuery = queryRead,
): Promise<string | undefined> {
  return (await query(path)) === "granted" ? undefined : missingReadPermissionMessage(path);
}

/** What a file source needs from the hub (StreamHub implements it; STYLE 10). */
export interface SourceHub extends PublishHub {
  /** The admission gate; never rejects. */
  admit(req: AdmissionRequest): Promise<AdmissionDecision>;
  /** The session registry: a source registers while it plays and ends its entry once. */
  readonly sessions: { open(init: SessionInit): { end(reason?: string): void } };
}

/** What a file source needs from the server (STYLE 10). */
export interface SourceContext {
  hub: SourceHub;
  log: Logger;
  /** Replaces the read permission query (tests). */
  queryRead?: ReadPermissionQuery;
  /** Replaces the wall clock (tests). */
  clock?: Clock;
}

/** One configured file, played out as a live stream. */
export class FileSource {
  readonly config: SourceConfig;
  #ctx: SourceContext;
  #log: Logger;
  #abort = new AbortController();
  #stopReason = "";
  #done: Promise<void> | undefined;
  #publisher: FlvPublisher | undefined;

  constructor(config: SourceConfig, ctx: SourceContext) {
    this.config = config;
    this.#ctx = ctx;
    this.#log = ctx.log.child(config.key);
  }

  /** The publisher while the file plays (counters for tests and the admin API). */
  get publisher(): FlvPublisher | undefined {
    return this.#publisher;
  }

  /** Resolves when the source has stopped (its file ended, failed, or `stop()` was called). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /** Starts playing; never throws (problems are logged). */
  start(): void {
    this.#done ??= this.#run();
  }

  /** Stops playing and waits until the file is closed. */
  async stop(reason = "server stopping"): Promise<void> {
    this.#halt(reason);
    await this.done;
  }

  #halt(reason: string): void {
    if (this.#abort.signal.aborted) return;
    this.#stopReason = reason;
    this.#abort.abort();
  }

  async #run(): Promise<void> {
    const { key, path, loop } = this.config;
    if (this.#abort.signal.aborted) return;
    const problem = await readPermissionProblem(path, this.#ctx.queryRead);
    if (problem) {
      this.#log.error(problem);
      return;
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      this.#log.error(
        e instanceof Deno.errors.NotFound
          ? `Cannot read ${path}: no such file`
          : `Cannot read ${path}: ${reasonOf(e)}`,
      );
      return;
    }
    const publisher = new FlvPublisher(key, `file ${path}`, this.#ctx.hub, {
      omitMetadataKeys: FILE_ONLY_METADATA_KEYS,
      protocol: Protocol.File,
    });
    let session: { end(reason?: string): void } | undefined;
    let reason = "end of file";
    try {
      const kind = await sniff(file);
      if (!kind) {
        this.#log.error(`Cannot play ${path}: it is not an FLV file or an H.264 Annex B stream`);
        return;
      }
      const slash = key.indexOf("/");
      // stop() does not wait for a slow policy: the source gives up on the answer.
      const decision = await Promise.race([
        this.#ctx.hub.admit({
          action: AdmissionAction.Publish,
          protocol: Protocol.File,
          app: key.slice(0, slash),
          name: key.slice(slash + 1),
          key,
          query: {},
        }),
        abortedOf(this.#abort.signal),
      ]);
      if (!decision || this.#abort.signal.aborted) return; // stopped while the gate decided
      if (decision.kind !== DecisionKind.Allow) {
        this.#log.error(`Cannot publish ${key} from ${path}: ${refusalText(decision)}`);
        return;
      }
      try {
        publisher.start();
      } catch (e) {
        if (!(e instanceof StreamBusyError)) throw e;
        this.#log.error(`Cannot publish ${key} from ${path}: it is already published`);
        return;
      }
      this.#publisher = publisher;
      publisher.onClose = (why) => this.#halt(why);
      session = this.#ctx.hub.sessions.open({
        protocol: Protocol.File,
        role: Role.Publisher,
        key,
        counters: () => ({ bytesIn: publisher.counts.bytes }),
        close: (why) => this.#halt(why),
      });
      this.#log.info(`playing ${path} (${kind}) as ${key}, ${loop ? "looped" : "once"}`);
      const tags = kind === FileKind.Flv ? flvFileTags(file, { loop }) : annexBTags(file, {
        loop,
        fps: this.config.fps,
        onFormat: (f) =>
          this.#log.info(
            `H.264 ${f.width}x${f.height}, ${+f.fps.toFixed(3)} fps (${describeFps(f.fpsFrom)})`,
          ),
      });
      await this.#play(tags, publisher);
      if (this.#abort.signal.aborted) reason = this.#stopReason;
    } catch (e) {
      reason = reasonOf(e);
    } finally {
      publisher.stop();
      file.close();
    }
    session?.end(reason);
    if (this.#publisher) {
      const c = publisher.counts;
      this.#log.info(
        `closed: ${c.videoFrames} video and ${c.audioFrames} audio frames, ${c.bytes} B: ${reason}`,
      );
    }
  }

  async #play(tags: AsyncIterable<SourceTag>, publisher: FlvPublisher): Promise<void> {
    const signal = this.#abort.signal;
    const pacer = new Pacer({ clock: this.#ctx.clock });
    for await (const tag of tags) {
      await pacer.wait(tag.timestamp, signal);
      if (signal.aborted) return;
      publisher.push(tag);
    }
  }
}

/**
 * All configured sources: started with the server, stopped before the hub. `update()` (SIGHUP) keeps a
 * source whose entry did not change playing, stops removed and changed ones, and starts new ones.
 */
export class Sources {
  #sources: FileSource[];
  readonly #ctx: SourceContext;
  #started = false;

  constructor(configs: readonly SourceConfig[], ctx: SourceContext) {
    this.#ctx = ctx;
    this.#sources = configs.map((c) => new FileSource(c, ctx));
  }

  /** The sources running now, in config order. */
  get sources(): readonly FileSource[] {
    return this.#sources;
  }

  start(): void {
    this.#started = true;
    for (const s of this.#sources) s.start();
  }

  /** Applies a new list of sources (see the class doc). */
  async update(configs: readonly SourceConfig[]): Promise<void> {
    const same = (a: SourceConfig, b: SourceConfig) =>
      a.key === b.key && a.path === b.path && a.loop === b.loop && a.fps === b.fps;
    const kept: FileSource[] = [];
    const stopping: Promise<void>[] = [];
    for (const s of this.#sources) {
      if (configs.some((c) => same(c, s.config))) kept.push(s);
      else stopping.push(s.stop());
    }
    await Promise.all(stopping);
    this.#sources = configs.map((c) => {
      const old = kept.find((s) => same(c, s.config));
      if (old) return old;
      const fresh = new FileSource(c, this.#ctx);
      if (this.#started) fresh.start();
      return fresh;
    });
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all(this.#sources.map((s) => s.stop()));
  }
}

async function sniff(file: SeekableReader): Promise<FileKind | undefined> {
  const head = new Uint8Array(4);
  let n = 0;
  while (n < head.length) {
    const got = await file.read(head.subarray(n));
    if (got === null) break;
    n += got;
  }
  await file.seek(0, Deno.SeekMode.Start);
  return sniffFileKind(head.subarray(0, n));
}

/** Resolves (to undefined) when `signal` aborts. */
function abortedOf(signal: AbortSignal): Promise<undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(undefined), { once: true }));
}

function describeFps(from: "config" | "sps" | "default"): string {
  return from === "config" ? "configured" : from === "sps" ? "from the SPS timing" : "default: no SPS timing";
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
