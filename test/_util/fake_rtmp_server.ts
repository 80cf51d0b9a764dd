/**
 * A scripted RTMP server for client tests: handshake, then every message the
 * client sends is recorded and commands get the answers a live server gives.
 *
 * @module
 */
import { EVENT_TIMEOUT_MS } from "./live.ts";
import {
  type Command,
  CommandName,
  decodeCommand,
  encodeCommand,
  encodeConnectResult,
  encodeOnStatus,
  StatusCode,
  statusInfo,
  StatusLevel,
} from "../../src/rtmp/command.ts";
import * as control from "../../src/rtmp/control.ts";
import { ServerHandshake } from "../../src/rtmp/handshake.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { ChunkReader } from "../../src/wasm/chunk_reader.ts";
import { encodeMessage } from "../../src/wasm/chunk_writer.ts";

// ---------------------------------------------------------------------------------------------
// A scripted server: handshake, then every message the client sends is recorded and commands
// get the answers a live server gives, unless a test overrides them.

/** A test's own answer to a command: a promise (awaited) replaces the default answer; undefined keeps it. */
export type Reply = (cmd: Command, msg: RtmpMessage, server: FakeServer) => Promise<void> | undefined;

export class FakeServer {
  readonly listener: Deno.TcpListener;
  readonly messages: RtmpMessage[] = [];
  /** Bytes received after the handshake. */
  chunkBytes = 0;
  /** `chunkBytes` when each message completed. */
  readonly bytesAt: number[] = [];
  conn: Deno.TcpConn | undefined;
  #reply: Reply;
  #changed: (() => void) | undefined;
  #served: Promise<void>;

  constructor(reply: Reply = () => undefined) {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#reply = reply;
    this.#served = this.#serve();
  }

  get url(): string {
    return `rtmp://127.0.0.1:${this.listener.addr.port}/live/cam`;
  }

  commands(): Command[] {
    return this.messages.filter((m) => m.typeId === MessageType.CommandAmf0).map((m) => decodeCommand(m));
  }

  /** Writes messages with full headers in chunks of 128 (the server never changes its chunk size here). */
  async send(...msgs: RtmpMessage[]): Promise<void> {
    for (const m of msgs) await this.write(encodeMessage(m, 128));
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn!.write(bytes.subarray(off));
  }

  status(streamId: number, level: StatusLevel, code: string): Promise<void> {
    return this.send(commandMsg(streamId, encodeOnStatus(statusInfo(level, code, `${code} (fake)`))));
  }

  /** Resolves once `pred` holds, checked after every message received. */
  async until(pred: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`Cannot see ${what}: not within ${EVENT_TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#changed = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  async close(): Promise<void> {
    try {
      this.conn?.close();
    } catch {
      // closed by the test
    }
    this.listener.close();
    await this.#served;
  }

  async #serve(): Promise<void> {
    try {
      this.conn = await this.listener.accept();
      const hs = new ServerHandshake();
      const buf = new Uint8Array(65536);
      let rest: Uint8Array | undefined;
      while (!hs.done) {
        const n = await this.conn.read(buf);
        if (n === null) return;
        const step = hs.feed(buf.subarray(0, n));
        for (const out of step.output) await this.write(out);
        rest = step.rest;
      }
      const reader = new ChunkReader();
      if (rest) await this.#take(reader.push(rest), rest.length);
      while (true) {
        const n = await this.conn.read(reader.readable());
        if (n === null) return;
        await this.#take(reader.commit(n), n);
      }
    } catch {
      // the test closed the socket or the listener
    }
  }

  async #take(msgs: RtmpMessage[], n: number): Promise<void> {
    this.chunkBytes += n;
    for (const m of msgs) {
      this.messages.push(m);
      this.bytesAt.push(this.chunkBytes);
      if (m.typeId === MessageType.CommandAmf0) {
        const cmd = decodeCommand(m);
        await (this.#reply(cmd, m, this) ?? this.#answer(cmd, m));
      }
    }
    this.#changed?.();
  }

  /** What a live server answers. */
  #answer(cmd: Command, m: RtmpMessage): Promise<void> {
    switch (cmd.name) {
      case CommandName.Connect:
        return this.send(
          control.windowAckSize(2_500_000),
          control.setPeerBandwidth(2_500_000, control.PeerBandwidthLimit.Dynamic),
          commandMsg(0, encodeConnectResult(cmd.transactionId)),
        );
      case CommandName.CreateStream:
        return this.send(commandMsg(0, encodeCommand(CommandName.Result, cmd.transactionId, null, 1)));
      case CommandName.Publish:
        return this.status(m.streamId, StatusLevel.Status, StatusCode.PublishStart);
      case CommandName.Play:
        return this.status(m.streamId, StatusLevel.Status, StatusCode.PlayStart);
    }
    return Promise.resolve();
  }
}

/** A Reply that never answers `name`. */
export function silentOn(name: string): Reply {
  return (cmd) => cmd.name === name ? Promise.resolve() : undefined;
}

export function commandMsg(streamId: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Command, typeId: MessageType.CommandAmf0, streamId, timestamp: 0, payload };
}

export function video(streamId: number, timestamp: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Video, typeId: MessageType.Video, streamId, timestamp, payload };
}
