/**
 * FlvPublisher: FLV tags into the hub, as one publisher. HTTP push (a POST
 * body or WebSocket messages) and file sources (FLV files, H.264 Annex B
 * streams turned into FLV video tags) all publish through it, under the same
 * rules as an RTMP publisher: one publisher per name (the hub throws
 * StreamBusyError), and the reconnect grace when it stops.
 *
 * Audio and video tag bodies go to the stream as they are, with the tag's
 * timestamp as the raw timestamp (the hub rebases it onto the stream's
 * timeline). Script data tags are normalized as RTMP data messages are
 * (`normalizeData`): `onMetaData`, wrapped in `@setDataFrame` or not, becomes
 * the stream's metadata.
 *
 * @module
 */
import type { PublisherHandle } from "../hub/stream.ts";
import { FrameKind } from "../media/frame.ts";
import { TagType } from "../media/flv.ts";
import { normalizeData } from "../rtmp/command.ts";
import { MessageType } from "../rtmp/message.ts";

/** The side of a stream a publisher feeds (Stream implements it). */
export interface PublishTarget {
  /** Takes one audio, video or data payload; the hub owns it from now on. */
  push(kind: FrameKind, rawTimestamp: number, payload: Uint8Array): unknown;
  /** Stores and sends an `onMetaData` data payload. */
  setMetadata(payload: Uint8Array, rawTimestamp?: number): unknown;
}

/** What a publisher needs from the hub (StreamHub implements it; STYLE 10). */
export interface PublishHub {
  /** Makes `publisher` the publisher of `key`; throws StreamBusyError when the name has one. */
  publish(key: string, publisher: PublisherHandle): PublishTarget;
  /** The publisher left: its players wait out the reconnect grace. */
  unpublish(stream: PublishTarget, publisher: PublisherHandle): void;
}

/** One FLV tag as a publisher hands it on: FLV TagType, milliseconds, the tag body (owned by the hub once pushed). */
export interface SourceTag {
  readonly type: TagType;
  readonly timestamp: number;
  readonly data: Uint8Array;
}

/** Counters of what a publisher pushed. */
export interface PublishCounts {
  /** Tags taken, of every type. */
  tags: number;
  /** Tag body bytes taken. */
  bytes: number;
  videoFrames: number;
  audioFrames: number;
  /** Script data tags that reached players (metadata included). */
  dataMessages: number;
  /** Raw timestamp of the last tag, ms; -1 before the first. */
  lastTimestamp: number;
}

/** Options for `FlvPublisher`. */
export interface FlvPublisherOptions {
  /** Keys dropped from onMetaData (a file's `duration`, `filesize`: meaningless live). Default none. */
  readonly omitMetadataKeys?: readonly string[];
  /** The input's protocol (a `Protocol` value: "http-push", "ws-push", "file", ...), for stream snapshots. */
  readonly protocol?: string;
  /** The peer, "ip:port", for stream snapshots; undefined for file sources. */
  readonly remote?: string;
}

/** Publishes FLV tags into one stream of the hub. */
export class FlvPublisher implements PublisherHandle {
  readonly id: string;
  readonly key: string;
  /** PublisherHandle: the input's protocol, when the owner said. */
  readonly protocol?: string;
  /** PublisherHandle: the peer, when the owner said. */
  readonly remote?: string;
  readonly counts: PublishCounts = {
    tags: 0,
    bytes: 0,
    videoFrames: 0,
    audioFrames: 0,
    dataMessages: 0,
    lastTimestamp: -1,
  };
  /** Called when the hub ends this publisher (takeover, server stopping); the owner then closes its input. */
  onClose: (reason: string) => void = () => {};

  #hub: PublishHub;
  #omitKeys: readonly string[];
  #stream: PublishTarget | undefined;
  #ended = false;

  constructor(key: string, id: string, hub: PublishHub, options: FlvPublisherOptions = {}) {
    this.key = key;
    this.id = id;
    this.#hub = hub;
    this.#omitKeys = options.omitMetadataKeys ?? [];
    if (options.protocol !== undefined) this.protocol = options.protocol;
    if (options.remote !== undefined) this.remote = options.remote;
  }

  /** True between a successful `start()` and `stop()` (or the hub's close). */
  get live(): boolean {
    return this.#stream !== undefined;
  }

  /** Publishes the stream; throws StreamBusyError when the name already has a publisher. */
  start(): void {
    if (this.#ended || this.#stream) {
      throw new TypeError(
        `Cannot start publisher ${this.id}: current state is ${this.#ended ? "ended" : "live"}`,
      );
    }
    this.#stream = this.#hub.publish(this.key, this);
  }

  /**
   * Pushes one tag. Empty audio and video tags are dropped; a script data tag
   * with bad AMF throws ProtocolError (the caller closes its input, as an RTMP
   * session does).
   */
  push(tag: SourceTag): void {
    const stream = this.#stream;
    if (!stream) return;
    const c = this.counts;
    c.tags++;
    c.bytes += tag.data.length;
    c.lastTimestamp = tag.timestamp;
    switch (tag.type) {
      case TagType.Audio:
      case TagType.Video:
        if (tag.data.length === 0) return;
        if (tag.type === TagType.Video) c.videoFrames++;
        else c.audioFrames++;
        stream.push(tag.type === TagType.Video ? FrameKind.Video : FrameKind.Audio, tag.timestamp, tag.data);
        return;
      case TagType.ScriptData:
        // FLV script data is an AMF0 data message body (FLV spec v10.1 E.4.4.1; RTMP message type 18).
        return this.pushData(MessageType.DataAmf0, tag.timestamp, tag.data);
    }
  }

  /**
   * A data message (RTMP type 18, or 15 with its AMF3 wrapper; an FLV script data body is type 18):
   * metadata is stored as players expect it, other AMF0 data passes on (see `normalizeData`).
   */
  pushData(typeId: number, timestamp: number, payload: Uint8Array): void {
    const stream = this.#stream;
    if (!stream) return;
    const data = normalizeData(typeId, payload, { omitKeys: this.#omitKeys });
    if (!data) return;
    this.counts.dataMessages++;
    if (data.metadata) stream.setMetadata(data.payload, timestamp);
    else stream.push(FrameKind.Data, timestamp, data.payload);
  }

  /** The input ended or failed: leave the hub (players wait out the reconnect grace). Idempotent. */
  stop(): void {
    this.#ended = true;
    const stream = this.#stream;
    if (!stream) return;
    this.#stream = undefined;
    this.#hub.unpublish(stream, this);
  }

  /** PublisherHandle: the hub ends this publisher (takeover, shutdown). */
  close(reason: string): void {
    this.stop();
    this.onClose(reason);
  }
}
