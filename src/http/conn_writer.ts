/**
 * ConnWriter: a connection's writes in order, each whole (a socket write takes
 * what the kernel accepts; the rest goes out after it). With no write under way
 * a write goes to the socket at once, as the caller's own bytes (a player's
 * shared batch is not copied); what is written while one is under way joins a
 * batch that goes out as one socket write after it.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";

/** The socket side: Deno.Conn's write and close. */
export interface WritableConn {
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

export class ConnWriter {
  /** Bytes handed to the socket so far. */
  bytesOut = 0;
  #conn: WritableConn;
  /** Bytes queued behind the write under way, and the promise of their batch. */
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #batchWrite: Promise<void> | undefined;
  #tail: Promise<void> | undefined;
  #underWay = 0;
  #failed: Error | undefined;

  constructor(conn: WritableConn) {
    this.#conn = conn;
  }

  /** Bytes waiting behind the write under way. */
  get queuedBytes(): number {
    return this.#batchBytes;
  }

  /** Whether no write is under way. */
  get idle(): boolean {
    return this.#underWay === 0;
  }

  /** Writes `bytes` after everything before; rejects when the socket write fails (and every later write). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#underWay > 0) return this.#later(bytes);
    const p = this.#writeAll(bytes);
    this.#track(p);
    return p;
  }

  #later(bytes: Uint8Array): Promise<void> {
    this.#batch.push(bytes);
    this.#batchBytes += bytes.length;
    if (this.#batchWrite) return this.#batchWrite;
    const p = this.#tail!.then(() => {
      const parts = this.#batch;
      this.#batch = [];
      this.#batchBytes = 0;
      this.#batchWrite = undefined;
      return this.#writeAll(parts.length === 1 ? parts[0] : concatBytes(parts));
    });
    this.#batchWrite = p;
    this.#track(p);
    return p;
  }

  #track(p: Promise<void>): void {
    this.#underWay++;
    this.#tail = p.then(this.#done, this.#fail);
  }

  readonly #done = (): void => {
    this.#underWay--;
  };

  readonly #fail = (e: unknown): void => {
    this.#underWay--;
    this.#failed ??= e instanceof Error ? e : new Error(String(e)); // the batch behind it fails with it
  };

  #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return this.#conn.write(bytes).then((n) => {
      this.bytesOut += n;
      if (n < bytes.length) return this.#writeAll(bytes.subarray(n));
    });
  }
}
