/**
 * History, the once-a-second sampler: rates from deltas over the real elapsed
 * time, per-stream figures, lag percentiles, CPU, the bounds on rings and
 * streams, tick listeners, and its timer. Most tests drive `sample()` by hand
 * over a fake hub with a fake clock; one runs over a real StreamHub.
 */
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { FakePacker, FakePublisher, FakeSink, frames, limits, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import {
  History,
  HISTORY_INTERVAL_MS,
  HISTORY_MAX_STREAMS,
  HISTORY_SAMPLES,
  type HistoryHub,
  type HistoryTick,
  MAX_TICK_LISTENERS,
  percentile,
} from "../../src/admin/history.ts";
import type { SessionSnapshot } from "../../src/hub/registry.ts";
import { Protocol, Role, zeroByProtocol } from "../../src/hub/session_kind.ts";
import type { StreamSnapshot } from "../../src/hub/stream.ts";
import { type HubTotals, StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";

/** Deno.test with the op and resource sanitizers: no timer may outlive a test. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** A stream snapshot with the fields History reads set, the rest empty. */
function snap(key: string, bytesIn: number, viewers = 0, uptimeMs = 60_000): StreamSnapshot {
  const [app, name] = key.split("/");
  return {
    key,
    app,
    name,
    state: "live",
    publisher: null,
    video: null,
    audio: null,
    bitrate: { video: 0, audio: 0 },
    gop: { frames: 0, durationMs: 0 },
    uptimeMs,
    viewers: { total: viewers, byProtocol: {} },
    observers: 0,
    framesDropped: 0,
    framesIn: 0,
    bytesIn,
    publishers: 1,
  };
}

/** A player session of `key` with `lagMs`. */
function player(id: string, key: string, lagMs: number, role: Role = Role.Player): SessionSnapshot {
  return {
    id,
    protocol: Protocol.HttpFlv,
    role,
    key,
    startedAt: 0,
    durationMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesSent: 0,
    framesDropped: 0,
    skips: 0,
    lagMs,
    queuedBytes: 0,
  };
}

/** A hub whose totals, streams and sessions the test sets. */
class FakeHub implements HistoryHub {
  bytesIn = 0;
  bytesOut = 0;
  snapshots: StreamSnapshot[] = [];
  clients: SessionSnapshot[] = [];
  readonly sessions = {
    list: (): SessionSnapshot[] => this.clients,
    playerLags: (): Map<string, number[]> => {
      const lags = new Map<string, number[]>();
      for (const c of this.clients) {
        if (c.role !== Role.Player || c.key === undefined) continue;
        lags.set(c.key, [...lags.get(c.key) ?? [], c.lagMs]);
      }
      return lags;
    },
  };

  totals(): HubTotals {
    return {
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      live: this.clients.length,
      opened: this.clients.length,
      sessionsByProtocol: zeroByProtocol(),
      openedByProtocol: zeroByProtocol(),
      streamsSeen: this.snapshots.length,
      streams: this.snapshots.length,
    };
  }

  streams(): { snapshot(): StreamSnapshot }[] {
    return this.snapshots.map((s) => ({ snapshot: () => s }));
  }
}

/** A History over a fake hub, with a clock and CPU time the test moves. */
function setup(options: { samples?: number; maxStreams?: number; intervalMs?: number } = {}) {
  const hub = new FakeHub();
  const time = { now: 1_700_000_000_000, cpuUs: 0 };
  const history = new History(hub, {
    ...options,
    clock: () => time.now,
    cpuUsage: () => ({ user: time.cpuUs * 3 / 4, system: time.cpuUs / 4 }),
    log: new RecordingLogger(),
  });
  return { hub, time, history };
}

test("History has a 1000 ms interval, 300 samples and 64 streams by default", () => {
  const h = new History(new FakeHub());
  assertEquals([h.intervalMs, h.samples, h.maxStreams], [1_000, 300, 64]);
  assertEquals([HISTORY_INTERVAL_MS, HISTORY_SAMPLES, HISTORY_MAX_STREAMS], [1_000, 300, 64]);
});

test("History() refuses a bound that is not a positive integer", () => {
  assertThrows(() => new History(new FakeHub(), { samples: 0 }), RangeError, "samples is 0");
  assertThrows(() => new History(new FakeHub(), { maxStreams: 1.5 }), RangeError, "maxStreams is 1.5");
  assertThrows(() => new History(new FakeHub(), { intervalMs: -1 }), RangeError, "intervalMs is -1");
});

test("History.sample() gives rates of 0 on the first sample, which is the baseline", () => {
  const { hub, time, history } = setup();
  hub.bytesIn = 10_000;
  hub.bytesOut = 20_000;
  time.cpuUs = 5_000_000;
  const tick = history.sample();
  assertEquals([tick.sample.t, tick.sample.inBps, tick.sample.outBps], [time.now, 0, 0]);
  assertEquals(tick.cpu, { userMs: 3_750, systemMs: 1_250, percent: 0 });
});

test("History.sample() turns the totals' byte deltas into bits per second over the time elapsed", () => {
  const { hub, time, history } = setup();
  history.sample();
  hub.bytesIn = 1_000;
  hub.bytesOut = 4_000;
  time.now += 1_000;
  const a = history.sample().sample;
  assertEquals([a.inBps, a.outBps], [8_000, 32_000]);
  hub.bytesIn += 1_000;
  time.now += 500; // a late or early tick: the rate is over the real interval
  assertEquals(history.sample().sample.inBps, 16_000);
});

test("History.sample() gives 0, not a negative rate, when a total goes down", () => {
  const { hub, time, history } = setup();
  hub.bytesIn = 5_000;
  history.sample();
  hub.bytesIn = 1_000;
  time.now += 1_000;
  assertEquals(history.sample().sample.inBps, 0);
});

test("History.sample() measures CPU as a percent of one core from cpuUsage deltas", () => {
  const { time, history } = setup();
  history.sample();
  time.now += 1_000;
  time.cpuUs += 250_000;
  assertEquals(history.sample().cpu.percent, 25);
  time.now += 2_000;
  time.cpuUs += 3_000_000;
  assertEquals(history.sample().cpu.percent, 150, "two cores' worth");
});

test("History.sample() adds up the streams' viewers and rates each stream's bytesIn delta", () => {
  const { hub, time, history } = setup();
  hub.snapshots = [snap("live/a", 50_000, 2), snap("live/b", 0, 3)];
  const first = history.sample().sample;
  assertEquals(first.viewers, 5);
  assertEquals(first.streams["live/a"], { inBps: 0, viewers: 2, lagP99Ms: 0 }, "no baseline yet");
  hub.snapshots = [snap("live/a", 50_000 + 125_000, 2), snap("live/b", 1_000, 1)];
  time.now += 1_000;
  const second = history.sample().sample;
  assertEquals(second.viewers, 3);
  assertEquals(second.streams["live/a"], { inBps: 1_000_000, viewers: 2, lagP99Ms: 0 });
  assertEquals(second.streams["live/b"].inBps, 8_000);
});

test("History.sample() counts all of a new stream's bytes when it began since the previous tick", () => {
  const { hub, time, history } = setup();
  history.sample();
  time.now += 1_000;
  hub.snapshots = [snap("live/new", 2_000, 0, 400)];
  assertEquals(history.sample().sample.streams["live/new"].inBps, 16_000);
});

test("History.sample() counts a stream that came back under the same key from 0 bytes", () => {
  const { hub, time, history } = setup();
  hub.snapshots = [snap("live/a", 90_000)];
  history.sample();
  time.now += 1_000;
  hub.snapshots = [snap("live/a", 1_000, 0, 300)]; // ended and published again since the last tick
  assertEquals(history.sample().sample.streams["live/a"].inBps, 8_000);
});

test("History.sample() takes the 99th percentile of a stream's players' lag, players only", () => {
  const { hub, history } = setup();
  hub.snapshots = [snap("live/a", 0), snap("live/b", 0)];
  hub.clients = [
    ...Array.from({ length: 100 }, (_, i) => player(`p${i}`, "live/a", i + 1)),
    player("pub", "live/a", 99_999, Role.Publisher),
    player("b1", "live/b", 40),
  ];
  const { streams } = history.sample().sample;
  assertEquals(streams["live/a"].lagP99Ms, 99);
  assertEquals(streams["live/b"].lagP99Ms, 40);
});

test("percentile() takes the nearest rank, and 0 of nothing", () => {
  assertEquals(percentile([], 0.99), 0);
  assertEquals(percentile([7], 0.99), 7);
  assertEquals(percentile([5, 1, 3, 2, 4], 0.5), 3);
  assertEquals(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10);
});

test("History.toJSON() lists every ring oldest first, with the interval", () => {
  const { hub, time, history } = setup();
  hub.snapshots = [snap("live/a", 0, 1)];
  const t0 = time.now;
  history.sample();
  hub.bytesIn = 100;
  hub.snapshots = [snap("live/a", 100, 2)];
  time.now += 1_000;
  history.sample();
  assertEquals(history.toJSON(), {
    intervalMs: 1_000,
    server: { t: [t0, t0 + 1_000], inBps: [0, 800], outBps: [0, 0], viewers: [1, 2] },
    streams: { "live/a": { t: [t0, t0 + 1_000], inBps: [0, 800], viewers: [1, 2], lagP99Ms: [0, 0] } },
  });
});

test("History keeps at most `samples` values per ring, dropping the oldest", () => {
  const { hub, time, history } = setup({ samples: 3 });
  hub.snapshots = [snap("live/a", 0)];
  const t0 = time.now;
  for (let i = 0; i < 5; i++) {
    history.sample();
    time.now += 1_000;
  }
  const json = history.toJSON();
  assertEquals(json.server.t, [t0 + 2_000, t0 + 3_000, t0 + 4_000]);
  assertEquals(json.streams["live/a"].t.length, 3);
});

test("History keeps at most `maxStreams` streams: a newcomer waits while all are live, takes a gone one's place", () => {
  const { hub, time, history } = setup({ maxStreams: 2 });
  hub.snapshots = [snap("live/a", 0), snap("live/b", 0), snap("live/c", 0)];
  assertEquals(Object.keys(history.sample().sample.streams), ["live/a", "live/b"]);
  assertEquals(Object.keys(history.toJSON().streams), ["live/a", "live/b"]);
  time.now += 1_000;
  hub.snapshots = [snap("live/b", 0), snap("live/c", 0)]; // a went away
  assertEquals(Object.keys(history.sample().sample.streams), ["live/b", "live/c"]);
  assertEquals(Object.keys(history.toJSON().streams).sort(), ["live/b", "live/c"]);
});

test("History keeps a gone stream's rings until its newest sample leaves the window", () => {
  const { hub, time, history } = setup({ samples: 3 });
  hub.snapshots = [snap("live/a", 0)];
  history.sample();
  hub.snapshots = [];
  time.now += 1_000;
  history.sample();
  time.now += 1_000;
  history.sample();
  assert("live/a" in history.toJSON().streams, "still in the window");
  time.now += 1_000;
  history.sample();
  assertEquals(Object.keys(history.toJSON().streams), []);
});

test("History.latest() is undefined before the first sample, then the latest tick", () => {
  const { time, history } = setup();
  assertEquals(history.latest(), undefined);
  const a = history.sample();
  time.now += 1_000;
  const b = history.sample();
  assert(a !== b);
  assertEquals(history.latest(), b);
});

test("History.onTick() hands each tick, with what it read, to every listener until removed", () => {
  const { hub, history } = setup();
  hub.snapshots = [snap("live/a", 0, 1)];
  hub.clients = [player("1", "live/a", 5)];
  const got: HistoryTick[] = [];
  const off = history.onTick((t) => got.push(t));
  const tick = history.sample();
  off();
  history.sample();
  assertEquals(got.length, 1);
  assertEquals(got[0], tick);
  assertEquals(got[0].streams.map((s) => s.key), ["live/a"]);
  assertEquals(got[0].clients().map((c) => c.id), ["1"]);
  assertEquals(got[0].totals.streams, 1);
});

test("History.onTick() takes at most MAX_TICK_LISTENERS listeners (TypeError past it)", () => {
  const { history } = setup();
  for (let i = 0; i < MAX_TICK_LISTENERS; i++) history.onTick(() => {});
  assertThrows(() => history.onTick(() => {}), TypeError, `(limit ${MAX_TICK_LISTENERS})`);
});

test("History.start() samples at once and every intervalMs; stop() ends the timer", async () => {
  const hub = new FakeHub();
  const history = new History(hub, { intervalMs: 20 });
  let ticks = 0;
  history.onTick(() => ticks++);
  history.start();
  history.start(); // idempotent: one timer
  assertEquals(ticks, 1, "the baseline sample at start");
  assert(history.running);
  await new Promise((resolve) => setTimeout(resolve, 110));
  history.stop();
  history.stop();
  assert(!history.running);
  assert(ticks >= 2 && ticks <= 7, `ticks ${ticks} in 110 ms at 20 ms`);
  const after = ticks;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(ticks, after, "no tick after stop()");
});

test("History samples a real StreamHub: bytes in, viewers and a player's lag", async () => {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0 }, log);
  try {
    const time = { now: Date.now() };
    const history = new History(hub, { clock: () => time.now, log });
    const stream = hub.publish("live/cam", new FakePublisher("rtmp 10.0.0.1:5000"));
    const sink = new FakeSink({ stalled: true });
    const sub = new Subscriber("p1", new FakePacker(), sink, limits(), log, { protocol: Protocol.HttpFlv });
    hub.attach("live/cam", sub);
    const entry = hub.sessions.open({
      protocol: Protocol.HttpFlv,
      role: Role.Player,
      key: "live/cam",
      counters: () => ({ lagMs: sub.lagMs, bytesOut: sub.stats.bytesSent }),
    });
    history.sample();
    const key = frames.key(0, 1_000);
    stream.push(key.kind, key.timestamp, key.payload);
    const inter = frames.inter(400, 1_000);
    stream.push(inter.kind, inter.timestamp, inter.payload);
    await new Promise((resolve) => setTimeout(resolve, 0));
    time.now += 1_000;
    const s = history.sample().sample;
    assertEquals(s.viewers, 1);
    assertEquals(s.streams["live/cam"].viewers, 1);
    assertEquals(s.streams["live/cam"].inBps, (key.payload.length + inter.payload.length) * 8);
    assertEquals(s.streams["live/cam"].lagP99Ms, 400, "the stalled player is 400 ms behind");
    sink.release();
    entry.end();
  } finally {
    hub.stop();
  }
});
