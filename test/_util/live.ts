/**
 * Helpers for tests that drive an in-process Sluice with RtmpClient: start and
 * stop a server on port 0, capture its log lines, make synthetic FLV-style
 * media with a marker and a sequence number in every payload, and read a
 * player's events with a timeout (timeouts only keep a broken test from
 * hanging; nothing asserts on time).
 *
 * @module
 */
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { setLogSink } from "../../src/log.ts";
import {
  AacPacketType,
  AvcPacketType,
  FrameKind,
  SoundFormat,
  VideoCodecId,
  VideoFrameType,
} from "../../src/media/frame.ts";
import {
  type MediaEvent,
  type OutgoingFrame,
  type Player,
  type PlayerEvent,
  RtmpClient,
} from "../../src/rtmp/client/client.ts";
import { Sluice } from "../../src/sluice.ts";

/** How long a test waits for one event before it fails instead of hanging. */
export const EVENT_TIMEOUT_MS = 5_000;

/** Deno.test with the op and resource sanitizers on: a test must stop every socket and timer it starts. */
export function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** A running in-process server and its URL prefix. */
export interface LiveServer {
  sluice: Sluice;
  /** `rtmp://127.0.0.1:port/live` */
  app: string;
  /** Log lines written while the server ran (the default sink is restored by stop()). */
  logs: string[];
  stop(): Promise<void>;
}

/** Starts Sluice on 127.0.0.1 with RTMP and HTTP on port 0 and captures its log lines. */
export async function startServer(overrides: ConfigOverrides = {}): Promise<LiveServer> {
  const logs: string[] = [];
  const prevSink = setLogSink((line) => logs.push(line));
  const sluice = new Sluice(makeConfig({
    ...overrides,
    rtmp: { host: "127.0.0.1", port: 0, ...overrides.rtmp },
    rtsp: { host: "127.0.0.1", port: 0, udpPortFirst: 0, udpPortLast: 0, ...overrides.rtsp },
    http: { host: "127.0.0.1", port: 0, ...overrides.http },
  }));
  await sluice.start();
  return {
    sluice,
    app: `rtmp://127.0.0.1:${sluice.rtmpPort}/live`,
    logs,
    stop: async () => {
      await sluice.stop();
      setLogSink(prevSink);
    },
  };
}

/** The server session whose peer is `addr` (a client's local address). */
export function sessionOf(server: LiveServer, addr: Deno.NetAddr) {
  for (const s of server.sluice.rtmp?.sessions ?? []) {
    if (s.remote === `${addr.hostname}:${addr.port}`) return s;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Synthetic media (FLV spec v10.1 E.4.2.1 AUDIODATA, E.4.3.1 VIDEODATA)

/** Byte 0 of an AAC audio tag: SoundFormat 10, 44 kHz, 16-bit, stereo (0xAF). */
const AAC_BYTE0 = (SoundFormat.Aac << 4) | 0x0f;

/** The bytes every synthetic payload carries after its tag header: marker, kind, u32 sequence number. */
const STAMP = 6;

function stamp(body: Uint8Array, at: number, marker: number, kind: number, seq: number): void {
  body[at] = marker;
  body[at + 1] = kind;
  new DataView(body.buffer, body.byteOffset).setUint32(at + 2, seq);
}

/** Reads the marker and sequence number a synthetic payload carries after a `headerLen`-byte tag header. */
export function stampOf(payload: Uint8Array, headerLen: number): { marker: number; seq: number } {
  return {
    marker: payload[headerLen],
    seq: new DataView(payload.buffer, payload.byteOffset).getUint32(headerLen + 2),
  };
}

/** Length of the tag header before the stamp: 5 for AVC (type, packet type, CTS), 2 for AAC. */
export function headerLenOf(kind: FrameKind): number {
  return kind === FrameKind.Video ? 5 : 2;
}

/** An AVC video tag: byte 0 frame type + codec 7, AVCPacketType, SI24 composition time, then the body. */
export function avcTag(
  frameType: number,
  packetType: number,
  size: number,
  marker: number,
  seq: number,
  cts = 0,
): Uint8Array {
  const p = new Uint8Array(Math.max(size, 5 + STAMP));
  p[0] = (frameType << 4) | VideoCodecId.Avc;
  p[1] = packetType;
  p[2] = (cts >> 16) & 0xff;
  p[3] = (cts >> 8) & 0xff;
  p[4] = cts & 0xff;
  for (let i = 5 + STAMP; i < p.length; i++) p[i] = (i * 31 + seq) & 0xff;
  stamp(p, 5, marker, FrameKind.Video, seq);
  return p;
}

/** An AVC sequence header: 0x17 0x00, CTS 0, then an AVCDecoderConfigurationRecord-like body with a stamp. */
export function avcSequenceHeaderTag(marker: number, seq = 0): Uint8Array {
  return avcTag(VideoFrameType.Key, AvcPacketType.SequenceHeader, 48, marker, seq);
}

/** An AAC tag: 0xAF, AACPacketType, then the body. */
export function aacTag(packetType: number, size: number, marker: number, seq: number): Uint8Array {
  const p = new Uint8Array(Math.max(size, 2 + STAMP));
  p[0] = AAC_BYTE0;
  p[1] = packetType;
  for (let i = 2 + STAMP; i < p.length; i++) p[i] = (i * 17 + seq) & 0xff;
  stamp(p, 2, marker, FrameKind.Audio, seq);
  return p;
}

/** An AAC sequence header: 0xAF 0x00 and a stamp standing in for the AudioSpecificConfig. */
export function aacSequenceHeaderTag(marker: number, seq = 0): Uint8Array {
  return aacTag(AacPacketType.SequenceHeader, 8, marker, seq);
}

/** Shape of a synthetic stream. */
export interface SyntheticOptions {
  /** Written into every payload to tell streams apart. */
  marker: number;
  video?: boolean;
  audio?: boolean;
  /** Video frames per second. Default 25. */
  fps?: number;
  /** Video frames per GOP. Default 50 (2 s at 25 fps). */
  gopFrames?: number;
  /** Payload sizes in bytes. Defaults 40,000 / 5,000 / 300. */
  keyBytes?: number;
  interBytes?: number;
  audioBytes?: number;
  /** First timestamp, ms (taken mod 2^32 on the wire). Default 0. */
  startMs?: number;
}

/** Makes an interleaved audio + video stream, frame by frame, in timestamp order. */
export class SyntheticStream {
  readonly opts: Required<SyntheticOptions>;
  /** Video frames and audio frames made so far (sequence headers not counted). */
  videoFrames = 0;
  audioFrames = 0;
  #audioMs = 0;

  constructor(opts: SyntheticOptions) {
    this.opts = {
      video: true,
      audio: true,
      fps: 25,
      gopFrames: 50,
      keyBytes: 40_000,
      interBytes: 5_000,
      audioBytes: 300,
      startMs: 0,
      ...opts,
    };
  }

  /** The sequence headers, at the start timestamp. */
  headers(): OutgoingFrame[] {
    const { marker, startMs } = this.opts;
    const out: OutgoingFrame[] = [];
    if (this.opts.video) {
      out.push({ kind: FrameKind.Video, timestamp: startMs, payload: avcSequenceHeaderTag(marker) });
    }
    if (this.opts.audio) {
      out.push({ kind: FrameKind.Audio, timestamp: startMs, payload: aacSequenceHeaderTag(marker) });
    }
    return out;
  }

  /** Media time of the next video frame (or of the audio when there is no video), from 0. */
  get elapsedMs(): number {
    return this.opts.video ? Math.round(this.videoFrames * 1000 / this.opts.fps) : this.#audioMs;
  }

  /** The next video frame period: one video frame and the audio frames up to it (AAC: 1024 samples at 44.1 kHz). */
  next(): OutgoingFrame[] {
    const { marker, startMs, fps, gopFrames } = this.opts;
    const out: OutgoingFrame[] = [];
    const until = Math.round((this.videoFrames + 1) * 1000 / fps);
    if (this.opts.audio) {
      while (this.#audioMs < until) {
        const seq = ++this.audioFrames;
        out.push({
          kind: FrameKind.Audio,
          timestamp: startMs + Math.round(this.#audioMs),
          payload: aacTag(AacPacketType.Raw, this.opts.audioBytes, marker, seq),
        });
        this.#audioMs += 1024 * 1000 / 44_100;
      }
    }
    if (this.opts.video) {
      const seq = ++this.videoFrames;
      const key = (seq - 1) % gopFrames === 0;
      out.push({
        kind: FrameKind.Video,
        timestamp: startMs + Math.round((seq - 1) * 1000 / fps),
        payload: avcTag(
          key ? VideoFrameType.Key : VideoFrameType.Inter,
          AvcPacketType.Nalu,
          key ? this.opts.keyBytes : this.opts.interBytes,
          marker,
          seq,
        ),
      });
    } else {
      this.videoFrames++;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a player

/** Reads events until one matches `pred`; returns the events before it and the match. Fails on end or timeout. */
export async function readUntil(
  player: Player,
  pred: (ev: PlayerEvent) => boolean,
  what: string,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<{ before: PlayerEvent[]; match: PlayerEvent }> {
  const before: PlayerEvent[] = [];
  while (true) {
    const ev = await player.read(timeoutMs);
    if (ev === undefined) {
      throw new Error(
        `Cannot find ${what}: the player ended (${player.client.closeReason}) after ${before.length} events`,
      );
    }
    if (pred(ev)) return { before, match: ev };
    before.push(ev);
  }
}

/** Reads the next `count` audio/video events (skipping statuses, controls and data). */
export async function readMedia(
  player: Player,
  count: number,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<MediaEvent[]> {
  const out: MediaEvent[] = [];
  while (out.length < count) {
    const { match } = await readUntil(player, isAv, `media event ${out.length + 1} of ${count}`, timeoutMs);
    out.push(match as MediaEvent);
  }
  return out;
}

/** An audio or video message. */
export function isAv(ev: PlayerEvent): ev is MediaEvent {
  return ev.type === "media" && ev.kind !== FrameKind.Data;
}

/** A status event with `code`. */
export function isStatus(code: string): (ev: PlayerEvent) => boolean {
  return (ev) => ev.type === "status" && ev.code === code;
}

/** Resolves after `ms` (pacing a publisher; never used to decide a result). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `pred` every 10 ms until it holds; fails after `timeoutMs` (so a broken test ends instead of hanging). */
export async function waitFor(
  pred: () => boolean,
  what: string,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`Cannot see ${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A Sluice server with one RtmpClient publishing `cam` and one playing it; `frames` builds the batches to send. */
export async function publishAndPlay(frames: (syn: SyntheticStream) => OutgoingFrame[][], marker = 0xa5) {
  const server = await startServer({ hub: { playWaitMs: 5_000 } });
  const viewer = await RtmpClient.connect(`${server.app}/cam`);
  const playing = viewer.play();
  const pc = await RtmpClient.connect(`${server.app}/cam`);
  const pub = await pc.publish();
  const player = await playing;
  const syn = new SyntheticStream({ marker, keyBytes: 70_000, interBytes: 3_000 });
  const batches = frames(syn);
  return { server, pub, player, batches };
}

/** Closes `ends` in order, then stops the server. */
export async function stopAll(
  server: { stop(): Promise<void> },
  ...ends: ({ close(): Promise<void> } | undefined)[]
): Promise<void> {
  for (const e of ends) await e?.close();
  await server.stop();
}
