/**
 * MetricsCollector and `GET /metrics` over a real StreamHub with fake
 * publishers and players: what each metric reads, when a stream's series go,
 * the bound on series, and the text checked line by line against the
 * exposition grammar and by `promtool check metrics` (when installed).
 */
import { assert, assertEquals, assertGreater, assertMatch, assertThrows } from "../_util/assert.ts";
import { metricValue } from "../_util/metrics_text.ts";
import {
  aacRaw,
  avcInterFrame,
  avcKeyframe,
  FakePacker,
  FakePublisher,
  FakeSink,
  limits,
  metadataPayload,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import {
  LAG_BUCKETS_S,
  METRICS_CONTENT_TYPE,
  MetricsCollector,
  type MetricsCollectorOptions,
  serveMetrics,
} from "../../src/admin/metrics.ts";
import { makeConfig } from "../../src/config/config.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { SERIES_DROPPED_METRIC } from "../../src/metrics/registry.ts";

const { Audio, Video } = FrameKind;

interface Env {
  hub: StreamHub;
  collector: MetricsCollector;
  log: RecordingLogger;
}

/** Runs `fn` with a fresh hub (merge window 0, no reconnect grace) and a collector; stops both afterwards. */
async function withCollector(
  fn: (env: Env) => Promise<void> | void,
  options: MetricsCollectorOptions = {},
): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: 0 }, log);
  const collector = new MetricsCollector(hub, options);
  try {
    await fn({ hub, collector, log });
  } finally {
    collector.stop();
    hub.stop();
  }
}

/** A player (or observer) of `protocol` with its own sink. */
function player(log: RecordingLogger, protocol: string, sink = new FakeSink(), observer = false): Subscriber {
  return new Subscriber(`${protocol} player`, new FakePacker(), sink, limits(), log, { protocol, observer });
}

/** The sample lines that mention a stream's labels. */
function linesOf(text: string, app: string, stream: string): string[] {
  return text.split("\n").filter((l) => l.includes(`app="${app}",stream="${stream}"`));
}

// The text exposition format 0.0.4, one line at a time.
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = "(?:[+-]?Inf|NaN|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{${LABEL}(?:,${LABEL})*\\})? ${VALUE}$`);

/**
 * The lines of `text` that break the grammar: every line a HELP, a TYPE or a sample; HELP and TYPE
 * once per metric, before its samples; each sample of the metric its TYPE names (a histogram's as
 * `_bucket` with an `le` label, `_sum`, `_count`); the text ends with a newline.
 */
function grammarErrors(text: string): string[] {
  const errors: string[] = [];
  if (!text.endsWith("\n")) errors.push("the text does not end with a newline");
  const seen = new Set<string>();
  let current: { name: string; type: string } | undefined;
  for (const line of (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n")) {
    const help = HELP_LINE.exec(line);
    const type = TYPE_LINE.exec(line);
    const sample = SAMPLE_LINE.exec(line);
    if (help) {
      if (seen.has(help[1])) errors.push(`${line}: a second HELP for ${help[1]}`);
      seen.add(help[1]);
    } else if (type) {
      current = { name: type[1], type: type[2] };
    } else if (sample) {
      const name = sample[1];
      const ok = current !== undefined &&
        (current.type === "histogram"
          ? (name === `${current.name}_bucket` && /[{,]le="[^"]+"\}/.test(line)) ||
            name === `${current.name}_sum` || name === `${current.name}_count`
          : name === current.name);
      if (!ok) errors.push(`${line}: not a sample of ${current?.name} (${current?.type})`);
    } else {
      errors.push(`${line}: neither HELP, TYPE nor a sample`);
    }
  }
  return errors;
}

/** Whether `promtool` is on PATH. */
function onPath(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${cmd}`).isFile) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

Deno.test("MetricsCollector.render() counts a stream's received bytes, growing between two renders", async () => {
  await withCollector(({ hub, collector }) => {
    const stream = hub.publish("live/cam", new FakePublisher());
    const key = avcKeyframe(100);
    stream.push(Video, 0, key);
    const first = metricValue(collector.render(), "sluice_stream_received_bytes_total", {
      app: "live",
      stream: "cam",
    });
    assertEquals(first, key.length);
    const inter = avcInterFrame(50);
    stream.push(Video, 40, inter);
    stream.push(Audio, 40, aacRaw(20));
    const second = metricValue(collector.render(), "sluice_stream_received_bytes_total", {
      app: "live",
      stream: "cam",
    });
    assertEquals(second, key.length + inter.length + aacRaw(20).length);
    assertGreater(second!, first!);
  });
});

Deno.test("MetricsCollector.render() gives a stream's frames by kind, bytes sent, dropped frames and viewers by protocol", async () => {
  await withCollector(async ({ hub, collector, log }) => {
    const stream = hub.publish("live/cam", new FakePublisher());
    hub.attach("live/cam", player(log, Protocol.Rtmp));
    hub.attach("live/cam", player(log, Protocol.Rtmp));
    hub.attach("live/cam", player(log, Protocol.WsFlv));
    hub.attach("live/cam", player(log, "recorder", new FakeSink(), true)); // an observer
    const key = avcKeyframe(10);
    stream.setMetadata(metadataPayload());
    stream.push(Video, 0, key);
    stream.push(Audio, 0, aacRaw());
    stream.push(Audio, 20, aacRaw());
    await settle();
    const text = collector.render();
    const cam = { app: "live", stream: "cam" };
    assertEquals(metricValue(text, "sluice_stream_frames_total", { ...cam, kind: "video" }), 1);
    assertEquals(metricValue(text, "sluice_stream_frames_total", { ...cam, kind: "audio" }), 2);
    assertEquals(metricValue(text, "sluice_stream_frames_total", { ...cam, kind: "data" }), 1);
    assertEquals(
      metricValue(text, "sluice_stream_sent_bytes_total", cam),
      4 * stream.stats.bytesIn,
      "4 subscribers",
    );
    assertEquals(metricValue(text, "sluice_stream_dropped_frames_total", cam), 0);
    assertEquals(metricValue(text, "sluice_stream_viewers", { ...cam, protocol: "rtmp" }), 2);
    assertEquals(metricValue(text, "sluice_stream_viewers", { ...cam, protocol: "ws-flv" }), 1);
    assertEquals(
      metricValue(text, "sluice_stream_viewers", { ...cam, protocol: "http-flv" }),
      0,
      "shown at 0",
    );
    assertEquals(metricValue(text, "sluice_stream_viewers", { ...cam, protocol: "recorder" }), undefined);
  });
});

Deno.test("MetricsCollector.render() counts RTSP connections and RTSP viewers under protocol rtsp, and samples their lag", async () => {
  await withCollector(async ({ hub, collector, log }) => {
    const stream = hub.publish("live/cam", new FakePublisher());
    const idle = collector.render();
    assertEquals(
      metricValue(idle, "sluice_connections", { protocol: "rtsp" }),
      0,
      "shown at 0 like every protocol",
    );
    const conn = hub.sessions.open({ protocol: Protocol.Rtsp, role: Role.Player, counters: () => ({}) });
    hub.attach("live/cam", player(log, Protocol.Rtsp));
    hub.attach("live/cam", player(log, Protocol.Rtsp));
    stream.push(Video, 0, avcKeyframe(10));
    await settle();
    collector.sample();
    const text = collector.render();
    const cam = { app: "live", stream: "cam" };
    assertEquals(metricValue(text, "sluice_connections", { protocol: "rtsp" }), 1);
    assertEquals(metricValue(text, "sluice_connections_opened_total", { protocol: "rtsp" }), 1);
    assertEquals(metricValue(text, "sluice_stream_viewers", { ...cam, protocol: "rtsp" }), 2);
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_count", cam), 2, "both RTSP players sampled");
    conn.end();
    assertEquals(metricValue(collector.render(), "sluice_connections", { protocol: "rtsp" }), 0);
  });
});

Deno.test("MetricsCollector.render() drops a viewer series of an odd protocol once its players leave", async () => {
  await withCollector(({ hub, collector, log }) => {
    hub.publish("live/cam", new FakePublisher());
    const odd = player(log, "srt");
    hub.attach("live/cam", odd);
    const srt = { app: "live", stream: "cam", protocol: "srt" };
    assertEquals(metricValue(collector.render(), "sluice_stream_viewers", srt), 1);
    hub.leave("live/cam", odd);
    assertEquals(metricValue(collector.render(), "sluice_stream_viewers", srt), undefined);
  });
});

Deno.test("MetricsCollector.render() gives the server's connections, bytes and streams from hub.totals()", async () => {
  await withCollector(({ hub, collector }) => {
    const a = hub.sessions.open({
      protocol: Protocol.Rtmp,
      counters: () => ({ bytesIn: 1000, bytesOut: 10 }),
    });
    hub.sessions.open({ protocol: Protocol.Rtmp, role: Role.Player, counters: () => ({ bytesOut: 500 }) });
    hub.sessions.open({ protocol: Protocol.HttpFlv, counters: () => ({ bytesOut: 7 }) });
    a.end();
    hub.publish("live/a", new FakePublisher());
    const text = collector.render();
    assertEquals(metricValue(text, "sluice_connections", { protocol: "rtmp" }), 1);
    assertEquals(metricValue(text, "sluice_connections", { protocol: "http-flv" }), 1);
    assertEquals(metricValue(text, "sluice_connections", { protocol: "file" }), 0);
    assertEquals(metricValue(text, "sluice_connections_opened_total", { protocol: "rtmp" }), 2);
    assertEquals(metricValue(text, "sluice_received_bytes_total"), 1000);
    assertEquals(metricValue(text, "sluice_sent_bytes_total"), 517);
    assertEquals(metricValue(text, "sluice_streams"), 1);
    assertEquals(metricValue(text, "sluice_streams_seen_total"), 1);
  });
});

Deno.test("MetricsCollector.render() gives the process's CPU time, memory and the uptime", async () => {
  const clock = { now: 100_000 };
  await withCollector(({ collector }) => {
    clock.now = 112_500;
    const text = collector.render();
    assertEquals(metricValue(text, "sluice_uptime_seconds"), 12.5);
    assertGreater(metricValue(text, "sluice_process_cpu_seconds_total")!, 0);
    assertGreater(metricValue(text, "sluice_process_resident_memory_bytes")!, 1 << 20);
    assertGreater(metricValue(text, "sluice_process_heap_used_bytes")!, 0);
    assertEquals(metricValue(text, "sluice_build_info", { version: "9.9.9" }), 1);
  }, { clock: () => clock.now, version: "9.9.9" });
});

Deno.test("MetricsCollector.sample() observes each player's lag into sluice_viewer_lag_seconds, not an observer's", async () => {
  await withCollector(async ({ hub, collector, log }) => {
    const stream = hub.publish("live/cam", new FakePublisher());
    const stalled = new FakeSink({ stalled: true });
    hub.attach("live/cam", player(log, Protocol.Rtmp, stalled)); // its first write hangs
    hub.attach("live/cam", player(log, Protocol.HttpFlv)); // keeps up
    hub.attach("live/cam", player(log, "recorder", new FakeSink({ stalled: true }), true));
    stream.push(Video, 0, avcKeyframe());
    await settle();
    for (let ts = 40; ts <= 1_500; ts += 40) stream.push(Video, ts, avcInterFrame());
    await settle();
    collector.sample();
    collector.sample();
    const text = collector.render();
    const cam = { app: "live", stream: "cam" };
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_count", cam), 4, "2 players, 2 samples");
    // The stalled player is 1.48 s behind: past le="1", within le="2"; the other one at 0.
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_bucket", { ...cam, le: "0.05" }), 2);
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_bucket", { ...cam, le: "1" }), 2);
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_bucket", { ...cam, le: "2" }), 4);
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_bucket", { ...cam, le: "+Inf" }), 4);
    assertEquals(metricValue(text, "sluice_viewer_lag_seconds_sum", cam), 2 * 1.48);
    assertEquals(
      text.split("\n").filter((l) => l.startsWith("sluice_viewer_lag_seconds_bucket")).length,
      LAG_BUCKETS_S.length + 1,
    );
    stalled.release();
  });
});

Deno.test("MetricsCollector.start() samples every sampleIntervalMs until stop()", async () => {
  await withCollector(async ({ hub, collector, log }) => {
    hub.publish("live/cam", new FakePublisher());
    hub.attach("live/cam", player(log, Protocol.Rtmp));
    collector.start();
    collector.start(); // idempotent: one timer
    assert(collector.running);
    await new Promise((r) => setTimeout(r, 75));
    collector.stop();
    collector.stop();
    assert(!collector.running);
    const count = metricValue(collector.render(), "sluice_viewer_lag_seconds_count", {
      app: "live",
      stream: "cam",
    });
    assert(count !== undefined && count >= 2 && count <= 8, `sampled ${count} times in 75 ms at 10 ms`);
  }, { sampleIntervalMs: 10 });
});

Deno.test("MetricsCollector.start() removes a stream's series when the stream ends", async () => {
  await withCollector(({ hub, collector, log }) => {
    collector.start();
    const publisher = new FakePublisher();
    const stream = hub.publish("live/gone", publisher);
    hub.publish("live/stays", new FakePublisher());
    hub.attach("live/gone", player(log, Protocol.Rtmp));
    stream.push(Video, 0, avcKeyframe());
    collector.sample();
    const before = collector.render();
    assertGreater(linesOf(before, "live", "gone").length, 10);
    assert(linesOf(before, "live", "gone").some((l) => l.startsWith("sluice_viewer_lag_seconds_count")));
    hub.unpublish(stream, publisher); // no grace: the stream ends
    assertEquals(collector.registry.render().includes('stream="gone"'), false, "gone as soon as it ends");
    const after = collector.render();
    assertEquals(linesOf(after, "live", "gone"), []);
    assertGreater(linesOf(after, "live", "stays").length, 0);
  });
});

Deno.test("MetricsCollector.render() keeps at most maxSeries series per metric and counts the rest as dropped", async () => {
  await withCollector(({ hub, collector }) => {
    for (const name of ["a", "b", "c"]) hub.publish(`live/${name}`, new FakePublisher());
    const text = collector.render();
    assertEquals(
      text.split("\n").filter((l) => l.startsWith("sluice_stream_received_bytes_total{")).length,
      2,
    );
    assertGreater(metricValue(text, SERIES_DROPPED_METRIC)!, 0);
    assertEquals(grammarErrors(text), []);
  }, { maxSeries: 2 });
});

Deno.test("MetricsCollector.render() writes text whose every line matches the exposition grammar", async () => {
  await withCollector(async ({ hub, collector, log }) => {
    const stream = hub.publish("live/cam", new FakePublisher());
    hub.publish('app/odd name "quoted" \\ back', new FakePublisher());
    hub.attach("live/cam", player(log, Protocol.Rtmp));
    stream.push(Video, 0, avcKeyframe());
    await settle();
    collector.sample();
    const text = collector.render();
    assertEquals(grammarErrors(text), []);
    assertMatch(
      text,
      /^sluice_stream_frames_total\{app="app",stream="odd name \\"quoted\\" \\\\ back",kind="video"\} 0$/m,
    );
    assertEquals(
      grammarErrors("# TYPE x gauge\nx 1"),
      ["the text does not end with a newline"],
      "the checker itself",
    );
    assertEquals(grammarErrors('x{a="1} 1\n').length, 1, "the checker itself");
  });
});

/** An HLS service as the collector reads it: its counters and one stream. */
const FAKE_HLS = {
  stats: { playlists: 7, segments: 3, parts: 12, inits: 1, blocked: 5, refusedBusy: 2 },
  streams: () => [{}],
};

Deno.test("MetricsCollector.render() gives HLS requests by kind, held and refused requests, and HLS streams", async () => {
  await withCollector(({ collector }) => {
    const text = collector.render();
    assertEquals(metricValue(text, "sluice_hls_requests_total", { kind: "playlist" }), 7);
    assertEquals(metricValue(text, "sluice_hls_requests_total", { kind: "segment" }), 3);
    assertEquals(metricValue(text, "sluice_hls_requests_total", { kind: "part" }), 12);
    assertEquals(metricValue(text, "sluice_hls_requests_total", { kind: "init" }), 1);
    assertEquals(metricValue(text, "sluice_hls_blocked_requests_total"), 5);
    assertEquals(metricValue(text, "sluice_hls_refused_busy_total"), 2);
    assertEquals(metricValue(text, "sluice_hls_streams"), 1);
    assertEquals(grammarErrors(text), []);
  }, { hls: FAKE_HLS });
  await withCollector(({ collector }) => {
    assertEquals(collector.render().includes("sluice_hls_"), false, "no HLS service, no HLS metrics");
  });
});

Deno.test({
  name: "MetricsCollector.render() passes promtool check metrics",
  ignore: !onPath("promtool"),
  fn: async () => {
    await withCollector(async ({ hub, collector, log }) => {
      const stream = hub.publish("live/cam", new FakePublisher());
      hub.attach("live/cam", player(log, Protocol.HttpFlv));
      stream.push(Video, 0, avcKeyframe());
      stream.push(Audio, 0, aacRaw());
      await settle();
      collector.sample();
      const child = new Deno.Command("promtool", {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(collector.render()));
      await writer.close();
      const out = await child.output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assertEquals([out.code, said], [0, ""]);
    }, { version: "0.0.0-test", hls: FAKE_HLS });
  },
});

Deno.test("serveMetrics() answers 200 with the text format's content type and the collector's text", async () => {
  await withCollector(async ({ hub, collector }) => {
    hub.publish("live/cam", new FakePublisher());
    const res = serveMetrics(collector);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
    assertEquals(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    assertEquals(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    assertEquals(metricValue(text, "sluice_streams"), 1);
    assertEquals(grammarErrors(text), []);
  });
});

Deno.test("MetricsCollector() refuses a sampleIntervalMs that is not above 0", () => {
  const hub = new StreamHub(makeConfig().hub, new RecordingLogger());
  assertThrows(() => new MetricsCollector(hub, { sampleIntervalMs: 0 }), RangeError, "sampleIntervalMs is 0");
  hub.stop();
});
