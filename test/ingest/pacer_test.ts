import { assertEquals } from "../_util/assert.ts";
import { FakeClock } from "../_util/ingest_fakes.ts";
import { Pacer, systemClock } from "../../src/ingest/pacer.ts";

const never = new AbortController().signal;

/** Waits for each media time in turn; returns the clock time at which each was released. */
async function release(pacer: Pacer, clock: FakeClock, times: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of times) {
    await pacer.wait(t, never);
    out.push(clock.now());
  }
  return out;
}

Deno.test("Pacer.wait() releases the first frame at once and each next one at start + its media time", async () => {
  const clock = new FakeClock();
  const pacer = new Pacer({ clock, batchMs: 0 });
  assertEquals(await release(pacer, clock, [0, 40, 80, 120]), [1000, 1040, 1080, 1120]);
});

Deno.test("Pacer.wait() sends frames due within batchMs with the frame that woke it", async () => {
  const clock = new FakeClock();
  const pacer = new Pacer({ clock, batchMs: 40 });
  // Audio every 23 ms, video every 40: one wake-up per batch, each frame at most 40 ms early.
  const times = [0, 23, 40, 46, 69, 80, 92, 115, 120];
  const at = await release(pacer, clock, times);
  assertEquals(at, [1000, 1000, 1000, 1046, 1046, 1046, 1092, 1092, 1092]);
  assertEquals(clock.sleeps, [46, 46]);
});

Deno.test("Pacer.wait() computes each due time from the start, so late timers do not add up to drift", async () => {
  const clock = new FakeClock();
  clock.overshootMs = 7; // every timer fires 7 ms late
  const pacer = new Pacer({ clock, batchMs: 0 });
  const times = Array.from({ length: 100 }, (_, n) => n * 40);
  const at = await release(pacer, clock, times);
  // Each frame goes out at most one overshoot late; the sleeps shrink to make up for it.
  assertEquals(at.map((t, n) => t - (1000 + n * 40)).every((late) => late >= 0 && late <= 7), true);
  assertEquals(at[99], 1000 + 99 * 40 + 7);
  assertEquals(clock.sleeps.slice(1, 3), [33, 33]);
});

Deno.test("Pacer.wait() moves the schedule forward after a stall instead of sending the backlog at once", async () => {
  const clock = new FakeClock();
  const pacer = new Pacer({ clock, batchMs: 0, maxLateMs: 1000 });
  await pacer.wait(0, never);
  clock.time += 5000; // the process stalled for 5 s
  await pacer.wait(40, never); // 4960 ms late: it goes out now, at 6000, and the schedule moves with it
  assertEquals(pacer.rebases, 1);
  assertEquals(await release(pacer, clock, [80, 120]), [6040, 6080]);
});

Deno.test("Pacer.wait() returns at once when the signal is aborted", async () => {
  const abort = new AbortController();
  const pacer = new Pacer(); // the real clock: an abort must clear its timer (the sanitizer checks)
  await pacer.wait(0, abort.signal);
  const waiting = pacer.wait(60_000, abort.signal);
  abort.abort();
  await waiting;
});

Deno.test("systemClock.sleep() resolves at once for an aborted signal", async () => {
  const abort = new AbortController();
  abort.abort();
  await systemClock.sleep(60_000, abort.signal);
});
