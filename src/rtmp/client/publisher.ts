/**
 * Publisher: a stream Sluice's client publishes (`RtmpClient.publish()`).
 * Frames go out with a type 1 (delta) header whenever the previous message on
 * their chunk stream allows it; statuses the server sends after
 * NetStream.Publish.Start are kept (a bounded few).
 *
 * @module
 */
import { type AmfObject, EcmaArray } from "../../amf/value.ts";
import { FrameKind } from "../../media/frame.ts";
import { CommandName, DataName, encodeData } from "../command.ts";
import { mediaChunkStream, type RtmpMessage } from "../message.ts";
import type { ClientChannel, StatusEvent } from "./status.ts";

/** A publisher's statuses kept after Publish.Start. */
const MAX_KEPT_STATUSES = 32;

/** What a publisher needs of its connection (RtmpClient implements it). */
export interface PublishChannel extends ClientChannel {
  /** Chunks `msgs` (delta headers where allowed) and writes them in one write. */
  sendMessages(msgs: readonly RtmpMessage[]): Promise<void>;
}

/** A frame for {@linkcode Publisher.sendFrames}. */
export interface OutgoingFrame {
  kind: FrameKind;
  /** Milliseconds; taken mod 2^32. */
  timestamp: number;
  payload: Uint8Array;
}

/** A stream being published: media goes out with delta headers where possible. */
export class Publisher<C extends PublishChannel = PublishChannel> {
  readonly client: C;
  /** The message stream id createStream gave. */
  readonly streamId: number;
  readonly name: string;
  /** Messages and payload bytes sent. */
  readonly stats = { messages: 0, bytes: 0 };
  /** The latest statuses on this stream after Publish.Start (at most 32). */
  readonly statuses: StatusEvent[] = [];

  constructor(client: C, streamId: number, name: string) {
    this.client = client;
    this.streamId = streamId;
    this.name = name;
  }

  /** Sends `@setDataFrame onMetaData` (7.1.2) with `metadata` as an ECMA array, as encoders do. */
  sendMetadata(metadata: AmfObject | EcmaArray, timestamp = 0): Promise<void> {
    const value = metadata instanceof EcmaArray ? metadata : new EcmaArray(metadata);
    const payload = encodeData(DataName.SetDataFrame, DataName.OnMetaData, value);
    return this.sendFrames([{ kind: FrameKind.Data, timestamp, payload }]);
  }

  /** Sends one audio message (an FLV AUDIODATA body). */
  sendAudio(timestamp: number, payload: Uint8Array): Promise<void> {
    return this.sendFrames([{ kind: FrameKind.Audio, timestamp, payload }]);
  }

  /** Sends one video message (an FLV VIDEODATA body). */
  sendVideo(timestamp: number, payload: Uint8Array): Promise<void> {
    return this.sendFrames([{ kind: FrameKind.Video, timestamp, payload }]);
  }

  /**
   * Sends several frames in one socket write, in order. Payloads are copied
   * before this returns; await it for backpressure. Rejects when the
   * connection is closed.
   */
  sendFrames(frames: readonly OutgoingFrame[]): Promise<void> {
    const msgs = frames.map((f): RtmpMessage => {
      this.stats.messages++;
      this.stats.bytes += f.payload.length;
      return {
        csid: mediaChunkStream(f.kind),
        typeId: f.kind,
        streamId: this.streamId,
        timestamp: f.timestamp >>> 0,
        payload: f.payload,
      };
    });
    return this.client.sendMessages(msgs);
  }

  /** Keeps a status that arrived after Publish.Start (the client calls this). */
  keepStatus(status: StatusEvent): void {
    this.statuses.push(status);
    if (this.statuses.length > MAX_KEPT_STATUSES) this.statuses.shift();
  }

  /** FCUnpublish and deleteStream, then closes the connection. */
  async close(): Promise<void> {
    if (!this.client.closed) {
      try {
        await this.client.sendStreamCommand(0, CommandName.FcUnpublish, this.name);
        await this.client.sendStreamCommand(0, CommandName.DeleteStream, this.streamId);
      } catch {
        // the connection went away meanwhile: nothing left to tell the server
      }
    }
    await this.client.close();
  }
}
