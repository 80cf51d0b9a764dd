/**
 * RTMP VOD: plays an FLV file from the VOD folder to one RTMP player in real
 * time, as nginx-rtmp's `play` does: `rtmp://host/vod/{path}.flv`.
 *
 * The RTMP session hands a play on the VOD app to a {@linkcode VodPlay}, and
 * then the play's `seek`, `pause`, `receiveAudio` and `receiveVideo`.
 *
 * - **Play**: StreamBegin, StreamIsRecorded, NetStream.Play.Reset,
 *   NetStream.Play.Start, `|RtmpSampleAccess`, the file's onMetaData, then
 *   the tags in file order with their file timestamps. Play's Start argument
 *   (7.2.2.1) above 0 starts at the keyframe at or before it (ffmpeg -ss
 *   seeks instead; -2 and -1, "live or recorded" and "live", play from the
 *   start, as nginx-rtmp).
 * - **Pacing** (`vod_pacer.ts`, shared with RTSP VOD): a tag goes out when
 *   the wall clock reaches its timestamp, counted from the run's first audio
 *   or video frame, minus a lead of 1 s: the first second goes at once so the
 *   player can buffer, and the schedule is computed from the start, never by
 *   adding up sleeps, so it does not drift. Tags due together (within 20 ms)
 *   share one write, up to 256 KiB. A slow socket holds the schedule back
 *   (each write is awaited), and the backlog goes out when it drains.
 * - **Seek** (7.2.2.7, milliseconds): the keyframe at or before the target,
 *   from the index (the first one for a target before it). As nginx-rtmp:
 *   StreamEOF, NetStream.Seek.Notify, and, as FMS, NetStream.Play.Start again
 *   (ffmpeg drops every message after its seek until Seek.Notify or
 *   Play.Start), StreamBegin; then the sequence headers in force at that
 *   keyframe (a decoder may have flushed) and the tags from the keyframe on,
 *   with their file timestamps. A seek while paused moves the position and
 *   says so; the tags follow on unpause.
 * - **Pause** (7.2.2.8): NetStream.Pause.Notify and no more tags; unpause:
 *   NetStream.Unpause.Notify and the tags from where they stopped, the
 *   schedule moved on by the time spent paused.
 * - **End**: StreamEOF, an `onPlayStatus` data message with
 *   NetStream.Play.Complete, NetStream.Play.Stop (nginx-rtmp's order); the
 *   connection stays until the client closes it (or seeks back).
 * - **Refusals**: a path that does not resolve below the root (see
 *   `vod_path.ts`) gets NetStream.Play.StreamNotFound, a file that is not FLV
 *   or missing read permission NetStream.Play.Failed (with the flag to add,
 *   logged once); then the connection closes.
 * - **Bounds**: the file is read a 64 KiB block at a time (FlvTagCursor);
 *   the index keeps keyframe offsets only, capped (FlvIndex), and indexes are
 *   shared between players of the same unchanged file (16 kept).
 *
 * Commands are handled in arrival order on one chain: a command ends the
 * pacing loop that runs (at its next step), then runs; tags read but not yet
 * written when a loop ends are read again by the next one.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { type FlvTag, TagType } from "../media/flv.ts";
import { type ByteSource, FlvIndex, FlvTagCursor, type SeekPoint, type TagRef } from "../media/flv_index.ts";
import { classify } from "../media/frame.ts";
import {
  type Command,
  CommandName,
  dataMessage,
  DataName,
  encodeData,
  StatusCode,
  StatusLevel,
  statusMessage,
} from "../rtmp/command.ts";
import * as control from "../rtmp/control.ts";
import { mediaChunkStream, type RtmpMessage } from "../rtmp/message.ts";
import { DEFAULT_LEAD_MS, type PacedRun, PaceResult, postpone, VodPacer } from "./vod_pacer.ts";
import { parsePlayPath, resolveVodFile, type VodFile, vodReadDenied } from "./vod_path.ts";

/** What a VOD play needs from its RTMP session (STYLE 10: the consumer declares it). */
export interface VodSession {
  /**
   * Sends messages in one write after everything sent before, audio and video with a type 1 (delta)
   * header where the previous message on their chunk stream allows (the connection core decides);
   * rejects when the connection is gone.
   */
  send(msgs: RtmpMessage[]): Promise<void>;
  /** Closes the connection once what was written has gone out; the session logs `reason` once. */
  close(reason: string): void;
}

/** Settings of one VOD play. */
export interface VodPlayOptions {
  /** The VOD folder. */
  root: string;
  /** The VOD app, for names in statuses and logs ("vod"). */
  app: string;
  /** The message stream id the player plays on. */
  streamId: number;
  log: Logger;
  /** How far ahead of the wall clock tags are sent, ms. Default 1,000. */
  leadMs?: number;
}

/** Status codes of a VOD play that `StatusCode` does not list (FMS, nginx-rtmp). */
export const VodStatusCode = {
  /** onPlayStatus: the file was played to its end. */
  PlayComplete: "NetStream.Play.Complete",
} as const;
export type VodStatusCode = typeof VodStatusCode[keyof typeof VodStatusCode];

/** Data message names a VOD play sends that `DataName` does not list. */
export const VodDataName = {
  /** FMS / nginx-rtmp: play status events sent as a data message (NetStream.Play.Complete). */
  OnPlayStatus: "onPlayStatus",
} as const;
export type VodDataName = typeof VodDataName[keyof typeof VodDataName];

/** Indexes kept for files played recently. */
const INDEX_CACHE_SIZE = 16;
/** The FLV extension VOD play names get when they have none (ffmpeg and librtmp drop it from URLs). */
const FLV_EXTENSION = ".flv";
/** nginx-rtmp's format prefix for FLV play names. */
const FLV_PREFIX = "flv:";

/**
 * The file a play asks for, below the VOD root, or undefined when the app is
 * not the VOD app (or VOD is off). `rtmp://h/vod/a/b.flv` reaches the server
 * as app "vod" and name "a/b.flv" (Sluice's client), or as app "vod/a" and
 * name "b" (ffmpeg and librtmp put the folders in the app and drop ".flv"):
 * both are "a/b.flv". As nginx-rtmp, a "flv:" prefix and a query are dropped
 * and ".flv" is added when missing.
 */
export function vodPlayPath(
  vod: { root: string | null; app: string },
  app: string,
  name: string,
): string | undefined {
  if (vod.root === null) return undefined;
  let folder: string;
  if (app === vod.app) folder = "";
  else if (app.startsWith(`${vod.app}/`)) folder = `${app.slice(vod.app.length + 1)}/`;
  else return undefined;
  let file = name.split("?")[0];
  if (file.startsWith(FLV_PREFIX)) file = file.slice(FLV_PREFIX.length);
  if (!file.toLowerCase().endsWith(FLV_EXTENSION)) file += FLV_EXTENSION;
  return folder + file;
}

/** One stretch of playing from a position: the cursor and the clock it is paced against. */
interface Run extends PacedRun {
  /** Offsets of tags the run's prelude sent already (metadata, sequence headers): skipped. */
  readonly skip: ReadonlySet<number>;
  /** The end was reached and announced. */
  done: boolean;
}

/** One player's VOD play (see the module doc). */
export class VodPlay {
  readonly #session: VodSession;
  readonly #opts: VodPlayOptions;
  readonly #log: Logger;
  readonly #pacer: VodPacer;
  /** "vod/a/b.flv", for statuses and logs. */
  #name = "";
  #file: Deno.FsFile | undefined;
  #source: ByteSource | undefined;
  #index: FlvIndex | undefined;
  #run: Run | undefined;
  /** Bumped by every command: a pacing loop whose generation is old stops at its next step. */
  #gen = 0;
  #chain: Promise<void> = Promise.resolve();
  #paused = false;
  #pausedAt = 0;
  #stopped = false;
  #audio = true;
  #video = true;
  #bytesSent = 0;

  constructor(session: VodSession, opts: VodPlayOptions) {
    this.#session = session;
    this.#opts = opts;
    this.#log = opts.log;
    this.#pacer = new VodPacer(opts.leadMs ?? DEFAULT_LEAD_MS);
  }

  /** Message payload bytes sent so far (statuses included). */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /**
   * Starts playing `path` (below the root, from {@linkcode vodPlayPath}) at
   * `startMs` (play's Start argument; 0 or less: from the beginning).
   * Refusals are answered on the stream and close the connection.
   */
  start(path: string, startMs: number): void {
    this.#name = `${this.#opts.app}/${path}`;
    this.#enqueue((gen) => this.#open(gen, path, startMs));
  }

  /** Takes `seek`, `pause`, `receiveAudio` and `receiveVideo`; false for any other command. */
  command(cmd: Command): boolean {
    switch (cmd.name) {
      case CommandName.Seek: {
        const ms = cmd.args[0];
        this.#enqueue((gen) => this.#seek(gen, typeof ms === "number" && Number.isFinite(ms) ? ms : 0));
        return true;
      }
      case CommandName.Pause: {
        const pause = cmd.args[0] === true;
        this.#enqueue((gen) => pause ? this.#pause() : this.#unpause(gen));
        return true;
      }
      case CommandName.ReceiveAudio:
        this.#audio = cmd.args[0] !== false;
        return true;
      case CommandName.ReceiveVideo:
        this.#video = cmd.args[0] !== false;
        return true;
      default:
        return false;
    }
  }

  /** Stops sending and closes the file (deleteStream, closeStream, the session's end). Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#gen++;
    this.#pacer.interrupt();
    this.#closeFile();
  }

  // ---- the command chain

  #enqueue(job: (gen: number) => Promise<void>): void {
    const gen = ++this.#gen;
    this.#pacer.interrupt();
    this.#chain = this.#chain
      .then(() => this.#stopped ? undefined : job(gen))
      .catch((e) => this.#fail(e));
  }

  #fail(e: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#session.close(`VOD play of ${this.#name} failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  // ---- opening

  async #open(gen: number, path: string, startMs: number): Promise<void> {
    const { root, streamId } = this.#opts;
    const denied = await vodReadDenied(root, (message) => this.#log.error(`cannot play VOD: ${message}`));
    if (denied) return this.#refuse(StatusCode.PlayFailed, `Cannot play ${this.#name}: ${denied}`);
    const segments = parsePlayPath(path);
    const resolved = segments.ok ? await resolveVodFile(root, segments.value) : segments;
    if (!resolved.ok) {
      this.#log.debug(`refused play of ${this.#name}: ${resolved.reason}`);
      return this.#refuse(StatusCode.PlayStreamNotFound, `${this.#name} is not found`);
    }
    let index: FlvIndex;
    try {
      index = await indexOf(resolved.value);
    } catch (e) {
      this.#log.debug(`refused play of ${this.#name}: ${e instanceof Error ? e.message : e}`);
      return this.#refuse(StatusCode.PlayFailed, `Cannot play ${this.#name}: it is not a readable FLV file`);
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(resolved.value.path, { read: true });
    } catch (e) {
      this.#log.debug(
        `refused play of ${this.#name}: it cannot be opened (${e instanceof Error ? e.name : e})`,
      );
      return this.#refuse(StatusCode.PlayStreamNotFound, `${this.#name} is not found`);
    }
    if (this.#stopped) {
      file.close();
      return;
    }
    this.#file = file;
    this.#source = fileSource(file, resolved.value.size);
    this.#index = index;
    const from = Math.max(0, startMs);
    this.#log.info(
      `playing ${this.#name} from ${from} ms (${index.seekPointCount} seek points, by ${index.builtFrom})`,
    );
    if (index.damage) this.#log.warn(`${this.#name} is damaged, playing stops there: ${index.damage}`);
    const point = startMs > 0 ? index.seekPoint(startMs) : undefined;
    const head = [
      control.streamBegin(streamId),
      control.streamIsRecorded(streamId),
      this.#status(StatusCode.PlayReset, `Playing and resetting ${this.#name}.`),
      this.#status(StatusCode.PlayStart, `Started playing ${this.#name}.`),
      this.#data(encodeData(DataName.RtmpSampleAccess, true, true)),
    ];
    const skip = new Set<number>();
    if (index.metadata) {
      const meta = await this.#readTag(index.metadata);
      if (meta) head.push(this.#data(meta.data, meta.timestamp));
      skip.add(index.metadata.offset);
    }
    await this.#begin(gen, head, point, skip);
  }

  /** Answers the play with an error status and closes the connection. */
  async #refuse(code: string, description: string): Promise<void> {
    await this.#send([this.#status(code, description, StatusLevel.Error)]);
    this.stop();
    this.#session.close(`play refused: ${description}`);
  }

  // ---- runs: play, seek

  /**
   * Sends `head`, then (starting at `point`) the sequence headers in force
   * there, and plays from `point`, or from the first tag without one.
   */
  async #begin(
    gen: number,
    head: RtmpMessage[],
    point: SeekPoint | undefined,
    skip: Set<number>,
  ): Promise<void> {
    const index = this.#index!;
    const source = this.#source!;
    const msgs = [...head];
    if (point) {
      for (const ref of index.sequenceHeadersBefore(point.offset)) {
        const tag = await this.#readTag(ref);
        if (tag) msgs.push(this.#media(tag, point.timestamp));
      }
    }
    this.#run = {
      cursor: new FlvTagCursor(source, point?.offset ?? index.firstTagOffset),
      skip,
      done: false,
    };
    await this.#send(msgs);
    if (!this.#paused) await this.#pump(gen);
  }

  async #seek(gen: number, ms: number): Promise<void> {
    const index = this.#index;
    if (!index) return; // the play was refused
    const { streamId } = this.#opts;
    const target = Math.max(0, ms);
    const point = index.seekPoint(target);
    this.#log.debug(`seek to ${target} ms: keyframe at ${point?.timestamp ?? "none"}`);
    await this.#begin(
      gen,
      [
        control.streamEof(streamId),
        this.#status(StatusCode.SeekNotify, `Seeking ${target} (stream ID: ${streamId}).`),
        this.#status(StatusCode.PlayStart, `Started playing ${this.#name}.`),
        control.streamBegin(streamId),
      ],
      point,
      new Set(),
    );
  }

  async #pause(): Promise<void> {
    if (!this.#paused) {
      this.#paused = true;
      this.#pausedAt = performance.now();
    }
    await this.#send([this.#status(StatusCode.PauseNotify, `Paused ${this.#name}.`)]);
  }

  async #unpause(gen: number): Promise<void> {
    if (this.#paused) {
      this.#paused = false;
      if (this.#run) postpone(this.#run, performance.now() - this.#pausedAt);
    }
    await this.#send([this.#status(StatusCode.UnpauseNotify, `Unpaused ${this.#name}.`)]);
    await this.#pump(gen);
  }

  /** Sends the run's tags on their schedule until the end, or until a command bumps the generation. */
  async #pump(gen: number): Promise<void> {
    const run = this.#run;
    if (!run || run.done || this.#paused) return;
    const result = await this.#pacer.pace(run, {
      current: () => gen === this.#gen,
      keep: (tag) => !run.skip.has(tag.offset) && this.#wanted(tag),
      send: (batch) => this.#send(batch.map((t) => this.#media(t))),
    });
    if (result === PaceResult.End && gen === this.#gen) await this.#complete(run);
  }

  async #complete(run: Run): Promise<void> {
    run.done = true;
    const { streamId } = this.#opts;
    const duration = (this.#index?.durationMs ?? 0) / 1000;
    await this.#send([
      control.streamEof(streamId),
      this.#data(encodeData(VodDataName.OnPlayStatus, {
        level: StatusLevel.Status,
        code: VodStatusCode.PlayComplete,
        duration,
        bytes: this.#bytesSent,
      })),
      this.#status(StatusCode.PlayStop, `Stopped playing ${this.#name}.`),
    ]);
    this.#log.debug(`played ${this.#name} to its end`);
  }

  // ---- helpers

  #wanted(tag: FlvTag): boolean {
    if (tag.type === TagType.Audio && !this.#audio) return classify(tag.type, tag.data).sequenceHeader;
    if (tag.type === TagType.Video && !this.#video) return classify(tag.type, tag.data).sequenceHeader;
    return true;
  }

  async #readTag(ref: TagRef): Promise<FlvTag | undefined> {
    return await new FlvTagCursor(this.#source!, ref.offset).next();
  }

  #status(code: string, description: string, level: StatusLevel = StatusLevel.Status): RtmpMessage {
    return statusMessage(this.#opts.streamId, level, code, description, { details: this.#name });
  }

  #data(payload: Uint8Array, timestamp = 0): RtmpMessage {
    return dataMessage(this.#opts.streamId, payload, timestamp);
  }

  /** A tag as a message on its kind's chunk stream; `timestamp` overrides the tag's (re-timed sequence headers). */
  #media(tag: FlvTag, timestamp = tag.timestamp): RtmpMessage {
    return {
      csid: mediaChunkStream(tag.type),
      typeId: tag.type,
      streamId: this.#opts.streamId,
      timestamp,
      payload: tag.data,
    };
  }

  async #send(msgs: RtmpMessage[]): Promise<void> {
    await this.#session.send(msgs);
    for (const m of msgs) this.#bytesSent += m.payload.length;
  }

  #closeFile(): void {
    const file = this.#file;
    this.#file = undefined;
    try {
      file?.close();
    } catch {
      // already closed
    }
  }
}

/** A ByteSource over an open file; reads are serialized (each is a seek and a read). */
export function fileSource(file: Deno.FsFile, size: number): ByteSource {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    size,
    read(offset, into) {
      const p = tail.then(async () => {
        await file.seek(offset, Deno.SeekMode.Start);
        let n = 0;
        while (n < into.length) {
          const got = await file.read(into.subarray(n));
          if (got === null) break;
          n += got;
        }
        return n;
      });
      tail = p.catch(() => {});
      return p;
    },
  };
}

/** Indexes of recently played files, by real path, size and time: players of one file share one. */
const indexCache = new Map<string, Promise<FlvIndex>>();

/**
 * The index of `file`, built once per version of the file with its own handle; shared by every VOD
 * play (RTMP and RTSP, `src/rtsp/session_vod.ts`) of the same unchanged file.
 */
export function indexOf(file: VodFile): Promise<FlvIndex> {
  const key = `${file.path}\u0000${file.size}\u0000${file.mtime?.getTime() ?? 0}`;
  const hit = indexCache.get(key);
  if (hit) {
    indexCache.delete(key);
    indexCache.set(key, hit);
    return hit;
  }
  const built = (async () => {
    const f = await Deno.open(file.path, { read: true });
    try {
      return await FlvIndex.build(fileSource(f, file.size));
    } finally {
      f.close();
    }
  })();
  built.catch(() => indexCache.delete(key));
  indexCache.set(key, built);
  while (indexCache.size > INDEX_CACHE_SIZE) indexCache.delete(indexCache.keys().next().value!);
  return built;
}
