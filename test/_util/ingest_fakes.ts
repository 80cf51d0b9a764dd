/**
 * Fakes for the ingest tests: a file in memory, a clock that only moves when
 * something sleeps, and a hub that records what a publisher pushes (with an
 * admission gate the test answers and a real session registry).
 *
 * @module
 */
import { type AdmissionDecision, type AdmissionRequest, allow } from "../../src/hub/admission.ts";
import { SessionRegistry } from "../../src/hub/registry.ts";
import type { PublisherHandle } from "../../src/hub/stream.ts";
import { Logger } from "../../src/log.ts";
import type { PublishHub, PublishTarget } from "../../src/ingest/flv_publisher.ts";
import type { Clock } from "../../src/ingest/pacer.ts";
import type { FrameKind } from "../../src/media/frame.ts";
import { StreamBusyError } from "../../src/errors.ts";

/** A SeekableReader over bytes in memory, handing out at most `piece` bytes per read. */
export class MemoryFile {
  readonly bytes: Uint8Array;
  readonly piece: number;
  position = 0;
  /** Times the reader went back to the start. */
  rewinds = 0;

  constructor(bytes: Uint8Array, piece = 4096) {
    this.bytes = bytes;
    this.piece = piece;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.position >= this.bytes.length) return Promise.resolve(null);
    const n = Math.min(p.length, this.piece, this.bytes.length - this.position);
    p.set(this.bytes.subarray(this.position, this.position + n));
    this.position += n;
    return Promise.resolve(n);
  }

  seek(offset: number, _whence: Deno.SeekMode): Promise<number> {
    this.position = offset;
    this.rewinds++;
    return Promise.resolve(offset);
  }
}

/** A clock whose time moves only when something sleeps (by the time slept, plus `overshootMs`). */
export class FakeClock implements Clock {
  time = 1_000;
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];
  /** Added to every sleep, as a late timer would. */
  overshootMs = 0;

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    this.sleeps.push(ms);
    this.time += ms + this.overshootMs;
    return Promise.resolve();
  }
}

/** One thing a publisher did to its stream. */
export interface Pushed {
  kind: FrameKind | "metadata";
  timestamp: number;
  payload: Uint8Array;
}

/**
 * A PublishHub with at most one publisher per key, recording every push; also
 * a source's hub (SourceHub): `admit()` records each request and answers with
 * `decide` (allow by default), `sessions` is a real SessionRegistry.
 */
export class RecordingHub implements PublishHub {
  readonly pushed: Pushed[] = [];
  readonly publishers = new Map<string, PublisherHandle>();
  readonly unpublished: string[] = [];
  /** Every admission request, in order. */
  readonly admissions: AdmissionRequest[] = [];
  /** The gate's answer; the test may replace it. */
  decide: (req: AdmissionRequest) => AdmissionDecision | Promise<AdmissionDecision> = () => allow();
  readonly sessions = new SessionRegistry(new Logger("[test] "));

  admit(req: AdmissionRequest): Promise<AdmissionDecision> {
    this.admissions.push(req);
    return Promise.resolve(this.decide(req));
  }

  publish(key: string, publisher: PublisherHandle): PublishTarget {
    if (this.publishers.has(key)) throw new StreamBusyError(key);
    this.publishers.set(key, publisher);
    return {
      push: (kind: FrameKind, timestamp: number, payload: Uint8Array) =>
        this.pushed.push({ kind, timestamp, payload }),
      setMetadata: (payload: Uint8Array, timestamp = 0) =>
        this.pushed.push({ kind: "metadata", timestamp, payload }),
    };
  }

  unpublish(_stream: PublishTarget, publisher: PublisherHandle): void {
    for (const [key, p] of this.publishers) {
      if (p !== publisher) continue;
      this.publishers.delete(key);
      this.unpublished.push(key);
    }
  }
}
