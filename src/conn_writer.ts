/**
 * ConnWriter: a connection's writes in order, each whole (a socket write takes
 * what the kernel accepts; the rest goes out after it). With no write under way
 * a write goes to the socket at once, as the caller's own bytes (a player's
 * shared batch is not copied), and costs the socket's promise and one
 * callback; what is written while one is under way joins a batch that goes out
 * after it, small parts as one socket write and a part larger than `COPY_BYTES`
 * (a joiner's GOP burst, a shared batch) as a write of its own, not copied. The
 * first failure fails the batch behind it and every later write, and is reported once (`onFailed`); `refuse()` does the same
 * for a connection its owner closed. Used by the HTTP/1.1 server and by RTMP
 * connections (`src/rtmp/conn.ts`).
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";

/** The socket side: Deno.Conn's write and close. */
export interface WritableConn {
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

const NOOP = (): void => {};

/**
 * Bytes up to this are copied to join their neighbours in one write; a larger part goes out in a write of
 * its own (the HTTP/1.1 server's bodies, a batch behind a write under way).
 */
export const COPY_BYTES = 16 * 1024;

export class ConnWriter {
  /** Bytes handed to the socket so far. */
  bytesOut = 0;
  #conn: WritableConn;
  /** A socket write is under way. */
  #busy = false;
  /** Bytes queued behind it, and the promise their batch's writers wait on. */
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #batchDone: PromiseWithResolvers<void> | undefined;
  #failed: Error | undefined;
  /** The newest write's promise (the socket's, or its batch's): `drained` waits for it. */
  #tail: Promise<void> | undefined;
  #onFailed: ((e: Error) => void) | undefined;

  /** `onFailed`: called once, with the first socket write's failure. */
  constructor(conn: WritableConn, onFailed?: (e: Error) => void) {
    this.#conn = conn;
    this.#onFailed = onFailed;
  }

  /** Resolves once every write so far has gone out or failed. */
  get drained(): Promise<void> {
    return this.#tail === undefined ? Promise.resolve() : this.#tail.then(NOOP, NOOP);
  }

  /** From now on writes, and the batch waiting behind the write under way, reject with `error`. */
  refuse(error: Error): void {
    this.#failed ??= error;
  }

  /** Bytes waiting behind the write under way. */
  get queuedBytes(): number {
    return this.#batchBytes;
  }

  /** Whether no write is under way. */
  get idle(): boolean {
    return !this.#busy;
  }

  /** Writes `bytes` after everything before; rejects when the socket write fails (and every later write). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#busy) {
      this.#batch.push(bytes);
      this.#batchBytes += bytes.length;
      if (this.#batchDone === undefined) {
        this.#batchDone = Promise.withResolvers<void>();
        this.#tail = this.#batchDone.promise;
      }
      return this.#batchDone.promise;
    }
    this.#busy = true;
    return this.#tail = this.#send(bytes);
  }

  #send(bytes: Uint8Array): Promise<void> {
    return this.#conn.write(bytes).then((n) => {
      this.bytesOut += n;
      if (n < bytes.length) return this.#send(bytes.subarray(n));
      this.#next();
    }, (e) => {
      const error = e instanceof Error ? e : new Error(String(e));
      const first = this.#failed === undefined;
      this.#failed ??= error;
      this.#next();
      if (first) this.#onFailed?.(error);
      throw e;
    });
  }

  /** After a write: the batch behind it goes out (or fails with it), else the writer is idle. */
  #next(): void {
    const done = this.#batchDone;
    if (done === undefined) {
      this.#busy = false;
      return;
    }
    const parts = this.#batch;
    if (this.#failed) {
      this.#endBatch();
      this.#busy = false;
      done.reject(this.#failed);
      return;
    }
    // Small neighbours go out as one write; a large part on its own. What is left stays the batch, under the
    // same promise, and goes out when this write is done.
    let end = 1;
    while (parts[0].length <= COPY_BYTES && end < parts.length && parts[end].length <= COPY_BYTES) end++;
    const run = end === 1 ? parts[0] : concatBytes(parts.slice(0, end));
    if (end < parts.length) {
      this.#batch = parts.slice(end);
      this.#batchBytes -= run.length;
      this.#send(run).catch(NOOP); // its end calls #next, which settles the batch's promise
      return;
    }
    this.#endBatch();
    this.#send(run).then(done.resolve, done.reject);
  }

  /** The batch has been taken: what is written from now on starts the next one. */
  #endBatch(): void {
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchDone = undefined;
  }
}
