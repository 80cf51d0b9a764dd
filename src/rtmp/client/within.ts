/**
 * Bounded waits for Sluice's client: every wait for the server has a timeout
 * and can be aborted.
 *
 * @module
 */

/**
 * `p`, or a rejection with Deno.errors.TimedOut after `ms`, or with the
 * signal's reason when it aborts. `onLate` gets a value that arrives after the
 * timeout (to close it); `onGiveUp` runs when the wait is abandoned.
 */
export function within<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  signal?: AbortSignal,
  onLate?: (value: T) => void,
  onGiveUp?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const giveUp = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      onGiveUp?.();
      reject(e);
    };
    const onAbort = () => giveUp(signal?.reason);
    const timer = setTimeout(
      () => giveUp(new Deno.errors.TimedOut(`Cannot ${what}: no answer within ${ms} ms`)),
      ms,
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    p.then((v) => {
      if (settled) return onLate?.(v);
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(v);
    }, (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}
