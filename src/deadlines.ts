/**
 * Deadlines: timeouts that many connections set with the same duration (an
 * RTMP handshake's, a session's start), kept in one first-in-first-out queue
 * per duration behind a single timer. Since every entry of a queue has the
 * same duration, entries expire in the order they were added: adding one is a
 * push, cancelling one a flag, and the queue's one timer is armed for its
 * oldest live entry. At 800 joiners a second that is one timer instead of two
 * `setTimeout`s per connection (each a Timeout object, a closure and an entry
 * in the runtime's timer heap, held for the session's life).
 *
 * ```ts
 * const d = after(10_000, () => session.close("no play within 10000 ms"));
 * d.cancel(); // idempotent
 * ```
 *
 * @module
 */

/** One pending deadline; `cancel()` is idempotent. */
export interface Deadline {
  cancel(): void;
}

class Entry implements Deadline {
  at: number;
  fn: (() => void) | undefined;
  #queue: Queue;

  constructor(at: number, fn: () => void, queue: Queue) {
    this.at = at;
    this.fn = fn;
    this.#queue = queue;
  }

  cancel(): void {
    if (this.fn === undefined) return;
    this.fn = undefined;
    this.#queue.cancelled();
  }
}

class Queue {
  #ms: number;
  #entries: Entry[] = [];
  /** Index of the oldest entry not yet expired or dropped. */
  #head = 0;
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(fn: () => void): Entry {
    const e = new Entry(performance.now() + this.#ms, fn, this);
    this.#entries.push(e);
    this.#live++;
    if (this.#timer === undefined) this.#arm();
    return e;
  }

  cancelled(): void {
    if (--this.#live > 0) return;
    // Nothing left to fire: no timer keeps the process (or a test) waiting.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = [];
    this.#head = 0;
  }

  #arm(): void {
    while (this.#head < this.#entries.length && this.#entries[this.#head].fn === undefined) this.#head++;
    if (this.#head >= this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
      this.#timer = undefined;
      return;
    }
    const wait = Math.max(0, this.#entries[this.#head].at - performance.now());
    this.#timer = setTimeout(this.#fire, Math.ceil(wait));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const due: (() => void)[] = [];
    while (this.#head < this.#entries.length && this.#entries[this.#head].at <= now) {
      const e = this.#entries[this.#head++];
      if (e.fn === undefined) continue;
      due.push(e.fn);
      e.fn = undefined;
      this.#live--;
    }
    // Drop the expired prefix now and then, so the array does not grow without end.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
    for (const fn of due) fn();
  };
}

const queues = new Map<number, Queue>();

/** Calls `fn` once `ms` have passed, unless cancelled first (like setTimeout, on a queue shared per `ms`). */
export function after(ms: number, fn: () => void): Deadline {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`Cannot set a deadline: current ${ms} ms`);
  let q = queues.get(ms);
  if (q === undefined) {
    q = new Queue(ms);
    queues.set(ms, q);
  }
  return q.add(fn);
}
