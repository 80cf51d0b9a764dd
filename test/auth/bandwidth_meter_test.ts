/**
 * BandwidthMeter: the outgoing rate over a sliding window of readings of the
 * hub's bytes out. Most tests drive `sample()` by hand with a fake clock; one
 * reads a real StreamHub; one runs the timer.
 */
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import {
  BANDWIDTH_INTERVAL_MS,
  BANDWIDTH_WINDOW_S,
  BandwidthMeter,
  type BytesOutSource,
  MAX_BANDWIDTH_WINDOW_S,
} from "../../src/auth/bandwidth_meter.ts";
import { makeConfig } from "../../src/config/config.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

/** Deno.test with the op sanitizer: the meter's timer may not outlive a test. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** A byte counter and a clock the test moves, and a meter over them. */
function rig(options: { windowS?: number; intervalMs?: number } = {}) {
  const state = { t: 1_000_000, bytesOut: 0, reads: 0 };
  const source: BytesOutSource = {
    totals: () => {
      state.reads++;
      return { bytesOut: state.bytesOut };
    },
  };
  const meter = new BandwidthMeter(source, { ...options, clock: () => state.t });
  /** Advances the clock by `ms`, adds `bytes` written, and takes a reading. */
  const tick = (bytes: number, ms = 1000) => {
    state.t += ms;
    state.bytesOut += bytes;
    meter.sample();
  };
  return { state, meter, tick };
}

test("BandwidthMeter.bps() is 0 before two readings", () => {
  const { meter, state } = rig();
  assertEquals(meter.bps(), 0);
  state.bytesOut = 1_000_000;
  meter.sample();
  assertEquals(meter.bps(), 0, "one reading is a starting point, not a rate");
  assertEquals([meter.windowS, meter.intervalMs], [BANDWIDTH_WINDOW_S, BANDWIDTH_INTERVAL_MS]);
});

test("BandwidthMeter.bps() is the bits written over the readings' real time", () => {
  const { meter, tick } = rig();
  meter.sample();
  tick(125_000); // 1 Mbit in 1 s
  assertEquals(meter.bps(), 1_000_000);
  tick(250_000, 2000); // 2 Mbit in 2 s: still 1 Mbit/s
  assertEquals(meter.bps(), 1_000_000);
  tick(375_000, 1000); // 3 Mbit in 1 s: 6 Mbit over 4 s
  assertEquals(meter.bps(), 1_500_000);
});

test("BandwidthMeter.bps() forgets intervals older than the window (a ring of windowS readings)", () => {
  const { meter, tick } = rig({ windowS: 5 });
  meter.sample();
  for (let i = 0; i < 5; i++) tick(250_000); // 2 Mbit/s for 5 s
  assertEquals(meter.bps(), 2_000_000);
  tick(0);
  assertEquals(meter.bps(), 1_600_000, "one silent second in a window of five");
  for (let i = 0; i < 4; i++) tick(0);
  assertEquals(meter.bps(), 0, "five silent seconds: the traffic has left the window");
  tick(12_500);
  assertEquals(meter.bps(), 20_000);
});

test("BandwidthMeter.sample() counts a total that went down as no bytes, and skips a clock that stood still", () => {
  const { meter, state, tick } = rig();
  state.bytesOut = 500_000;
  meter.sample();
  tick(125_000);
  state.bytesOut = 0; // a counter reset
  tick(0);
  assertEquals(meter.bps(), 500_000, "1 Mbit over 2 s: the drop counted as 0, not as a negative rate");
  meter.sample(); // the same instant: no interval
  assertEquals(meter.bps(), 500_000);
  tick(62_500);
  assertEquals(meter.bps(), Math.round(1_500_000 / 3));
});

test("BandwidthMeter with a 500 ms interval keeps twice as many readings in its window", () => {
  const { meter, tick } = rig({ windowS: 2, intervalMs: 500 });
  meter.sample();
  for (let i = 0; i < 4; i++) tick(62_500, 500); // 1 Mbit/s for 2 s
  assertEquals(meter.bps(), 1_000_000);
  tick(0, 500);
  assertEquals(meter.bps(), 750_000);
});

test("BandwidthMeter refuses a window or interval that is not a whole number in range", () => {
  const source = { totals: () => ({ bytesOut: 0 }) };
  const e = assertThrows(() => new BandwidthMeter(source, { windowS: 0 }), RangeError);
  assertEquals(
    e.message,
    `Cannot create BandwidthMeter: windowS is 0, expected a whole number 1 to ${MAX_BANDWIDTH_WINDOW_S}`,
  );
  assertThrows(() => new BandwidthMeter(source, { windowS: 2.5 }), RangeError);
  assertThrows(() => new BandwidthMeter(source, { windowS: MAX_BANDWIDTH_WINDOW_S + 1 }), RangeError);
  const i = assertThrows(() => new BandwidthMeter(source, { windowS: 1, intervalMs: 1001 }), RangeError);
  assertEquals(
    i.message,
    "Cannot create BandwidthMeter: intervalMs is 1001, expected a whole number 1 to 1000",
  );
  assertThrows(() => new BandwidthMeter(source, { intervalMs: Number.NaN }), RangeError);
});

test("BandwidthMeter.start() reads at once and then on its timer; stop() ends the timer; both idempotent", async () => {
  const { meter, state } = rig({ windowS: 1, intervalMs: 10 });
  assertEquals(meter.running, false);
  meter.start();
  meter.start();
  assertEquals([meter.running, state.reads], [true, 1]);
  await waitFor(() => state.reads >= 3, "two timer readings");
  meter.stop();
  meter.stop();
  assertEquals(meter.running, false); // and the op sanitizer holds that no interval is left running
});

test("BandwidthMeter over a real StreamHub reads the registry's bytes out, ended sessions included", () => {
  const hub = new StreamHub(makeConfig().hub, new RecordingLogger());
  let t = 0;
  const meter = new BandwidthMeter(hub, { clock: () => t });
  const sent = { a: 0, b: 0 };
  const a = hub.sessions.open({
    protocol: Protocol.HttpFlv,
    role: Role.Player,
    counters: () => ({ bytesOut: sent.a }),
  });
  hub.sessions.open({ protocol: Protocol.Rtmp, role: Role.Player, counters: () => ({ bytesOut: sent.b }) });
  meter.sample();
  sent.a = 100_000;
  sent.b = 25_000;
  t += 1000;
  meter.sample();
  assertEquals(meter.bps(), 1_000_000);
  a.end("gone");
  t += 1000;
  meter.sample();
  assertEquals(
    meter.bps(),
    500_000,
    "the ended session's bytes stay counted, so its leaving is no negative rate",
  );
  assert(!meter.running);
  hub.stop();
});
