/**
 * within(): a wait for the server that resolves, times out with
 * Deno.errors.TimedOut, or aborts with the signal's reason, and hands a late
 * value to onLate. Timeouts are tiny or huge; nothing asserts on time.
 */
import { assertEquals, assertRejects, assertStrictEquals } from "../../_util/assert.ts";
import { within } from "../../../src/rtmp/client/within.ts";

/** Longer than any test runs: the wait must end some other way (and clear its timer). */
const NEVER_MS = 60_000;

/** A promise the test settles. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending callbacks run (one macrotask). */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("within() resolves with the value when it arrives in time", async () => {
  assertEquals(await within(Promise.resolve(7), NEVER_MS, "read"), 7);
  const d = deferred<string>();
  const waiting = within(d.promise, NEVER_MS, "read");
  d.resolve("late but in time");
  assertEquals(await waiting, "late but in time");
});

Deno.test("within() rejects with the promise's own error when it rejects in time", async () => {
  const boom = new RangeError("boom");
  const e = await assertRejects(() => within(Promise.reject(boom), NEVER_MS, "read"), RangeError);
  assertStrictEquals(e, boom);
});

Deno.test("within() rejects with Deno.errors.TimedOut naming the wait and the time", async () => {
  const never = new Promise<number>(() => {});
  const e = await assertRejects(() => within(never, 1, "connect to h:1935"), Deno.errors.TimedOut);
  assertEquals(e.message, "Cannot connect to h:1935: no answer within 1 ms");
});

Deno.test("within() aborts with the signal's reason", async () => {
  const ac = new AbortController();
  const reason = new Error("client closed");
  const waiting = within(new Promise<number>(() => {}), NEVER_MS, "play", ac.signal);
  ac.abort(reason);
  const e = await assertRejects(() => waiting);
  assertStrictEquals(e, reason);
});

Deno.test({
  // Regression: within() added its abort listener without looking at signal.aborted, so an already
  // aborted signal was never seen and the wait ran to its timeout (TimedOut, not the reason).
  name: "within() rejects at once with the reason of a signal that is already aborted",
  fn: async () => {
    const ac = new AbortController();
    const reason = new Error("gone");
    ac.abort(reason);
    const e = await assertRejects(() => within(new Promise<number>(() => {}), 50, "play", ac.signal));
    assertStrictEquals(e, reason);
  },
});

Deno.test("within() hands a value that arrives after the timeout to onLate", async () => {
  const d = deferred<{ id: number }>();
  const late: { id: number }[] = [];
  await assertRejects(
    () => within(d.promise, 1, "createStream", undefined, (v) => late.push(v)),
    Deno.errors.TimedOut,
  );
  const value = { id: 3 };
  d.resolve(value);
  await tick();
  assertEquals(late.length, 1);
  assertStrictEquals(late[0], value);
});

Deno.test("within() hands a value that arrives after an abort to onLate", async () => {
  const ac = new AbortController();
  const d = deferred<number>();
  const late: number[] = [];
  const waiting = within(d.promise, NEVER_MS, "publish", ac.signal, (v) => late.push(v));
  ac.abort(new Error("stop"));
  await assertRejects(() => waiting);
  d.resolve(9);
  await tick();
  assertEquals(late, [9]);
});

Deno.test("within() does not call onLate for a value in time, nor for a late rejection", async () => {
  const late: number[] = [];
  await within(Promise.resolve(1), NEVER_MS, "read", undefined, (v) => late.push(v));
  const d = deferred<number>();
  await assertRejects(() => within(d.promise, 1, "read", undefined, (v) => late.push(v)));
  d.reject(new Error("after the timeout"));
  await tick();
  assertEquals(late, []);
});

Deno.test("within() runs onGiveUp once when it times out or aborts", async () => {
  let gaveUp = 0;
  await assertRejects(
    () => within(new Promise<number>(() => {}), 1, "read", undefined, undefined, () => gaveUp++),
    Deno.errors.TimedOut,
  );
  assertEquals(gaveUp, 1);
  const ac = new AbortController();
  const waiting = within(
    new Promise<number>(() => {}),
    NEVER_MS,
    "read",
    ac.signal,
    undefined,
    () => gaveUp++,
  );
  ac.abort(new Error("stop"));
  ac.abort(new Error("again"));
  await assertRejects(() => waiting);
  assertEquals(gaveUp, 2);
});

Deno.test("within() does not run onGiveUp when the promise settles in time", async () => {
  let gaveUp = 0;
  await within(Promise.resolve(1), NEVER_MS, "read", undefined, undefined, () => gaveUp++);
  await assertRejects(() =>
    within(Promise.reject(new Error("x")), NEVER_MS, "read", undefined, undefined, () => gaveUp++)
  );
  assertEquals(gaveUp, 0);
});

Deno.test("within() stops listening to the signal once settled: a later abort changes nothing", async () => {
  const ac = new AbortController();
  let gaveUp = 0;
  assertEquals(await within(Promise.resolve(5), NEVER_MS, "read", ac.signal, undefined, () => gaveUp++), 5);
  ac.abort(new Error("after"));
  await tick();
  assertEquals(gaveUp, 0);
});
