import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { waitFor } from "../_util/live.ts";
import { DoneNotifier, type DoneSettings } from "../../src/auth/done_notifier.ts";
import { SessionRegistry } from "../../src/hub/registry.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";

/** One POST the callback server got. */
interface Hit {
  path: string;
  body: Record<string, unknown>;
  signal: AbortSignal;
}

/** A callback server on port 0 answering as scripted; `hang` answers wait until `release()` or close(). */
class Hooks {
  readonly hits: Hit[] = [];
  status = 200;
  hang = false;
  #server: Deno.HttpServer;
  #released = Promise.withResolvers<void>();

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const hit = { path: new URL(req.url).pathname, body: await req.json(), signal: req.signal };
      this.hits.push(hit);
      if (this.hang) {
        const gone = new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
        await Promise.race([this.#released.promise, gone]);
      }
      return new Response(null, { status: this.status });
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.addr as Deno.NetAddr).port}${path}`;
  }

  release(): void {
    this.#released.resolve();
  }

  async close(): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}

function settings(hooks: Hooks, over: Partial<DoneSettings> = {}): DoneSettings {
  return {
    onPublishDone: hooks.url("/publish_done"),
    onPlayDone: hooks.url("/play_done?secret=s3cr3t"),
    callbackTimeoutMs: 5_000,
    callbackQueue: 1000,
    ...over,
  };
}

/** The registry's clock: each session lasts 1.5 s. */
let now = 1_000_000;

/** Opens a session in `sessions` that publishes or plays `key` and ends it 1.5 s later with `reason`. */
function endSession(
  sessions: SessionRegistry,
  role: Role,
  opts: { key?: string; bytesIn?: number; bytesOut?: number; reason?: string; status?: number } = {},
): string {
  const entry = sessions.open({
    protocol: Protocol.Rtmp,
    remote: "192.0.2.7:50122",
    counters: () => ({ bytesIn: opts.bytesIn ?? 0, bytesOut: opts.bytesOut ?? 0 }),
  });
  if (role !== Role.Pending) entry.setStream(role, opts.key ?? "live/cam");
  now += 1500;
  entry.end(opts.reason, opts.status === undefined ? {} : { status: opts.status });
  return entry.id;
}

async function withHooks(fn: (hooks: Hooks, sessions: SessionRegistry) => Promise<void>): Promise<void> {
  const hooks = new Hooks();
  const sessions = new SessionRegistry(new RecordingLogger(), { clock: () => now });
  try {
    await fn(hooks, sessions);
  } finally {
    await hooks.close();
  }
}

Deno.test("DoneNotifier POSTs on_publish_done with key, bytes, duration and reason when a publisher ends", () =>
  withHooks(async (hooks, sessions) => {
    const done = new DoneNotifier(settings(hooks), sessions, { log: new RecordingLogger() });
    done.start();
    try {
      const id = endSession(sessions, Role.Publisher, {
        bytesIn: 123_456,
        reason: "peer closed",
        status: 200,
      });
      await waitFor(() => done.sent === 1, "the callback sent");
      assertEquals(hooks.hits.map((h) => h.path), ["/publish_done"]);
      const { time, startedAt, ...body } = hooks.hits[0].body;
      assertEquals(body, {
        action: "on_publish_done",
        protocol: "rtmp",
        app: "live",
        stream: "cam",
        key: "live/cam",
        address: "192.0.2.7",
        port: 50122,
        sessionId: id,
        bytesIn: 123_456,
        bytesOut: 0,
        framesSent: 0,
        framesDropped: 0,
        durationMs: 1500,
        status: 200,
        reason: "peer closed",
      });
      assert(Date.parse(String(time)) > Date.parse(String(startedAt)), `${startedAt} .. ${time}`);
    } finally {
      await done.stop();
    }
  }));

Deno.test("DoneNotifier sends on_play_done for players and VOD, and nothing for a session that never started", () =>
  withHooks(async (hooks, sessions) => {
    const done = new DoneNotifier(settings(hooks), sessions, { log: new RecordingLogger() });
    done.start();
    try {
      endSession(sessions, Role.Pending, { reason: "publish refused" });
      endSession(sessions, Role.Player, { key: "live/a", bytesOut: 10 });
      endSession(sessions, Role.Vod, { key: "vod/film.flv", bytesOut: 20 });
      await done.idle();
      assertEquals(done.sent, 2);
      assertEquals(
        hooks.hits.map((h) => [h.path, h.body.action, h.body.key, h.body.bytesOut, h.body.reason]),
        [
          ["/play_done", "on_play_done", "live/a", 10, null],
          ["/play_done", "on_play_done", "vod/film.flv", 20, null],
        ],
      );
    } finally {
      await done.stop();
    }
  }));

Deno.test("DoneNotifier drops past callbackQueue while the callback server hangs, counting and warning once", () =>
  withHooks(async (hooks, sessions) => {
    hooks.hang = true;
    const log = new RecordingLogger();
    const done = new DoneNotifier(settings(hooks, { callbackQueue: 2 }), sessions, { log, concurrency: 1 });
    done.start();
    try {
      for (let i = 0; i < 5; i++) endSession(sessions, Role.Publisher, { key: `live/s${i}` });
      assertEquals([done.inFlight, done.queued, done.dropped], [1, 2, 2]);
      assertEquals(log.lines.map((l) => [l.level, l.msg]), [
        ["warn", "dropped 1 done-callback: the queue is full (limit 2, auth.callbackQueue)"],
      ]);
      hooks.release();
      await done.idle();
      assertEquals(done.sent, 3);
      assertEquals(hooks.hits.map((h) => h.body.key), ["live/s0", "live/s1", "live/s2"]);
    } finally {
      await done.stop();
    }
  }));

Deno.test("DoneNotifier counts a non-2xx answer as failed, warning once without the URL's query", () =>
  withHooks(async (hooks, sessions) => {
    hooks.status = 500;
    const log = new RecordingLogger();
    const done = new DoneNotifier(settings(hooks), sessions, { log });
    done.start();
    try {
      endSession(sessions, Role.Player);
      endSession(sessions, Role.Player);
      await done.idle();
      assertEquals([done.sent, done.failed, done.dropped], [0, 2, 0]);
      assertEquals(log.lines.map((l) => l.msg), [
        `callback on_play_done to ${hooks.url("/play_done")} failed: answered 500`,
      ]);
    } finally {
      await done.stop();
    }
  }));

Deno.test("DoneNotifier.stop() stops listening and abandons a hung callback after callbackTimeoutMs", () =>
  withHooks(async (hooks, sessions) => {
    hooks.hang = true;
    const done = new DoneNotifier(settings(hooks, { callbackTimeoutMs: 200 }), sessions, {
      log: new RecordingLogger(),
      concurrency: 1,
    });
    done.start();
    endSession(sessions, Role.Publisher, { key: "live/a" });
    endSession(sessions, Role.Publisher, { key: "live/b" });
    await done.stop();
    assertEquals([done.sent, done.inFlight, done.queued], [0, 0, 0]);
    assertEquals(done.dropped + done.failed, 2);
    endSession(sessions, Role.Publisher, { key: "live/c" });
    assertEquals(done.queued + done.inFlight, 0, "a session ended after stop() was queued");
    assertThrows(() => done.start(), TypeError);
    assert(hooks.hits.every((h) => h.body.key !== "live/c"));
  }));

Deno.test("DoneNotifier.update() takes new URLs for the next sessions; a null URL sends nothing", () =>
  withHooks(async (hooks, sessions) => {
    const done = new DoneNotifier(settings(hooks, { onPlayDone: null }), sessions);
    done.start();
    try {
      endSession(sessions, Role.Player);
      assertEquals(done.queued + done.inFlight, 0);
      done.update(settings(hooks, { onPlayDone: hooks.url("/new") }));
      endSession(sessions, Role.Player);
      await done.idle();
      assertEquals(hooks.hits.map((h) => h.path), ["/new"]);
      assertThrows(() => done.update(settings(hooks, { callbackQueue: 0 })), RangeError);
      assertThrows(() => new DoneNotifier(settings(hooks, { onPublishDone: "x" }), sessions), TypeError);
    } finally {
      await done.stop();
    }
  }));
