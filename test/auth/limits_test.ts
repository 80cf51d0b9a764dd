/**
 * LimitsPolicy: each limit refuses the request one past it with an
 * Unavailable deny naming the figure and the setting, counts only what it
 * should (the asking session never), answers synchronously, and takes new
 * limits on update(). Most tests run over a fake view (STYLE 10); one over a
 * real StreamHub, its registry and a BandwidthMeter.
 */
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { BandwidthMeter } from "../../src/auth/bandwidth_meter.ts";
import {
  HTTP_PROTOCOLS,
  LimitName,
  LimitsPolicy,
  type LimitsSession,
  type LimitsView,
} from "../../src/auth/limits.ts";
import { type LimitsConfig, makeConfig } from "../../src/config/config.ts";
import {
  AdmissionAction,
  type AdmissionDecision,
  type AdmissionRequest,
  allow,
  deny,
  DenyKind,
} from "../../src/hub/admission.ts";
import { type Protocol, Protocol as P, Role } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

const NO_LIMITS: LimitsConfig = {
  maxPlayers: 0,
  maxHttpConnections: 0,
  maxConnectionsPerAddress: 0,
  maxPlayersPerStream: 0,
  maxPublishers: 0,
  maxBandwidthKbps: 0,
};

/** A fake hub and meter the test fills in. */
class FakeView implements LimitsView {
  sessions: LimitsSession[] = [];
  bitrates = new Map<string, { video: number; audio: number }>();
  outBps = 0;
  lists = 0;
  hub = {
    sessions: {
      list: () => {
        this.lists++;
        return this.sessions;
      },
    },
    get: (key: string) => {
      const bitrate = this.bitrates.get(key);
      return bitrate && { snapshot: () => ({ bitrate }) };
    },
  };
  meter = { bps: () => this.outBps, windowS: 5 };

  /** Adds `n` sessions like `s` (ids assigned). */
  add(n: number, s: Omit<LimitsSession, "id">): this {
    for (let i = 0; i < n; i++) this.sessions.push({ id: String(this.sessions.length + 1), ...s });
    return this;
  }
}

function request(over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    action: AdmissionAction.Play,
    protocol: P.HttpFlv,
    app: "live",
    name: "cam",
    key: "live/cam",
    remote: { hostname: "10.0.0.9", port: 41000 },
    query: {},
    ...over,
  };
}

function policy(limits: Partial<LimitsConfig>, view = new FakeView()): { p: LimitsPolicy; view: FakeView } {
  return { p: new LimitsPolicy({ ...NO_LIMITS, ...limits }, view), view };
}

/** A player session of `key` over `protocol` from `host`. */
function player(key = "live/cam", protocol: Protocol = P.Rtmp, host = "10.0.0.1") {
  return { protocol, role: Role.Player, key, remote: `${host}:5000` };
}

const full = (reason: string): AdmissionDecision => deny(reason, DenyKind.Unavailable);

Deno.test("LimitsPolicy.admit() allows everything and reads no session when every limit is 0", () => {
  const view = new FakeView().add(5000, player());
  view.outBps = 1e12;
  const { p } = policy({}, view);
  assertEquals(p.admit(request()), allow());
  assertEquals(p.admit(request({ action: AdmissionAction.Publish, protocol: P.Rtmp })), allow());
  assertEquals(view.lists, 0, "the registry was read with no limit set");
});

Deno.test("LimitsPolicy.admit() answers synchronously", () => {
  const { p } = policy({ maxPlayers: 1, maxBandwidthKbps: 1 });
  const d = p.admit(request());
  assert(!(d instanceof Promise), "the limits answered with a promise");
});

Deno.test("LimitsPolicy.admit() refuses the play one past maxPlayers, counting players and VOD players of every protocol", () => {
  const view = new FakeView()
    .add(2, player("live/a", P.Rtmp))
    .add(1, player("live/b", P.WsFlv))
    .add(1, { protocol: P.HttpVod, role: Role.Vod, key: "vod/film.flv", remote: "10.0.0.2:6000" })
    .add(3, { protocol: P.Rtmp, role: Role.Publisher, key: "live/a", remote: "10.0.0.3:7000" })
    .add(4, { protocol: P.Rtmp, role: Role.Pending, remote: "10.0.0.4:8000" });
  const { p } = policy({ maxPlayers: 5 }, view);
  assertEquals(p.admit(request()), allow(), "4 players of 5: room for one");
  view.add(1, player("live/c", P.HttpFlv));
  assertEquals(p.admit(request()), full("players 5 of 5 (limits.maxPlayers)"));
  assertEquals(p.admit(request({ protocol: P.Rtmp })), full("players 5 of 5 (limits.maxPlayers)"));
  assertEquals(
    p.admit(request({ action: AdmissionAction.Publish, protocol: P.Rtmp })),
    allow(),
    "maxPlayers does not apply to a publish",
  );
});

Deno.test("LimitsPolicy.admit() never counts the asking session itself", () => {
  const view = new FakeView().add(1, player());
  const { p } = policy({ maxPlayers: 1, maxHttpConnections: 1, maxConnectionsPerAddress: 1 }, view);
  assertEquals(p.admit(request({ sessionId: "1", remote: { hostname: "10.0.0.1", port: 5000 } })), allow());
  const push = new FakeView().add(1, { protocol: P.HttpPush, role: Role.Pending, remote: "10.0.0.9:1" });
  const { p: pushes } = policy({ maxHttpConnections: 1 }, push);
  const req = request({ action: AdmissionAction.Publish, protocol: P.HttpPush, sessionId: "1" });
  assertEquals(pushes.admit(req), allow(), "an HTTP push registered before it asks is not its own rival");
  assertEquals(
    pushes.admit({ ...req, sessionId: "2" }),
    full("HTTP connections 1 of 1 (limits.maxHttpConnections)"),
  );
});

Deno.test("LimitsPolicy.admit() refuses the play one past maxPlayersPerStream, counting only that stream's players", () => {
  const view = new FakeView().add(2, player("live/cam")).add(10, player("live/other"));
  const { p } = policy({ maxPlayersPerStream: 3 }, view);
  assertEquals(p.admit(request()), allow());
  view.add(1, player("live/cam", P.WsFlv));
  assertEquals(p.admit(request()), full("players of live/cam 3 of 3 (limits.maxPlayersPerStream)"));
  assertEquals(p.admit(request({ key: "live/new", name: "new" })), allow());
});

Deno.test("LimitsPolicy.admit() refuses the HTTP play or push one past maxHttpConnections and lets RTMP through", () => {
  const view = new FakeView()
    .add(1, player("live/a", P.HttpFlv))
    .add(1, player("live/a", P.WsFlv))
    .add(1, { protocol: P.HttpVod, role: Role.Vod, key: "vod/x.flv", remote: "10.0.0.5:1" })
    .add(1, { protocol: P.WsPush, role: Role.Publisher, key: "live/b", remote: "10.0.0.6:1" })
    .add(5, player("live/a", P.Rtmp));
  const { p } = policy({ maxHttpConnections: 5 }, view);
  assertEquals(p.admit(request()), allow(), "4 HTTP sessions of 5");
  view.add(1, { protocol: P.HttpPush, role: Role.Pending, remote: "10.0.0.7:1" });
  const refusal = full("HTTP connections 5 of 5 (limits.maxHttpConnections)");
  for (const protocol of HTTP_PROTOCOLS) {
    const action = protocol === P.HttpPush || protocol === P.WsPush
      ? AdmissionAction.Publish
      : AdmissionAction.Play;
    assertEquals(p.admit(request({ protocol, action })), refusal, protocol);
  }
  assertEquals(p.admit(request({ protocol: P.Rtmp })), allow());
  assertEquals(p.admit(request({ protocol: P.Rtmp, action: AdmissionAction.Publish })), allow());
});

Deno.test("LimitsPolicy.admit() refuses past maxConnectionsPerAddress, counting players and publishers of that host only", () => {
  const view = new FakeView()
    .add(1, player("live/a", P.Rtmp, "10.0.0.9"))
    .add(1, { protocol: P.HttpPush, role: Role.Publisher, key: "live/b", remote: "10.0.0.9:2" })
    .add(3, { protocol: P.Rtmp, role: Role.Pending, remote: "10.0.0.9:3" })
    .add(5, player("live/a", P.Rtmp, "10.0.0.10"))
    .add(5, player("live/a", P.Rtmp, "10.0.0.90"));
  const { p } = policy({ maxConnectionsPerAddress: 3 }, view);
  assertEquals(p.admit(request()), allow(), "2 of 3: pending connections and other hosts are not counted");
  view.add(1, { protocol: P.HttpVod, role: Role.Vod, key: "vod/x.flv", remote: "10.0.0.9:4" });
  const refusal = full("connections from 10.0.0.9 3 of 3 (limits.maxConnectionsPerAddress)");
  assertEquals(p.admit(request()), refusal);
  assertEquals(p.admit(request({ action: AdmissionAction.Publish, protocol: P.Rtmp })), refusal);
  assertEquals(
    p.admit(request({ remote: { hostname: "10.0.0.10", port: 1 } })),
    full(
      "connections from 10.0.0.10 5 of 3 (limits.maxConnectionsPerAddress)",
    ),
  );
  assertEquals(
    p.admit(request({ protocol: P.File, action: AdmissionAction.Publish, remote: undefined })),
    allow(),
    "a file source has no address",
  );
});

Deno.test("LimitsPolicy.admit() reads an IPv6 peer's host from the registry's address", () => {
  const view = new FakeView().add(2, {
    protocol: P.Rtmp,
    role: Role.Player,
    key: "live/a",
    remote: "::1:5000",
  })
    .add(2, { protocol: P.Rtmp, role: Role.Player, key: "live/a", remote: "::2:5000" });
  const { p } = policy({ maxConnectionsPerAddress: 2 }, view);
  assertEquals(
    p.admit(request({ remote: { hostname: "::1", port: 6000 } })),
    full("connections from ::1 2 of 2 (limits.maxConnectionsPerAddress)"),
  );
  assertEquals(p.admit(request({ remote: { hostname: "::3", port: 6000 } })), allow());
});

Deno.test("LimitsPolicy.admit() refuses the publish one past maxPublishers, file sources included, and lets plays through", () => {
  const view = new FakeView()
    .add(1, { protocol: P.Rtmp, role: Role.Publisher, key: "live/a", remote: "10.0.0.1:1" })
    .add(1, { protocol: P.File, role: Role.Publisher, key: "live/loop" })
    .add(4, player());
  const { p } = policy({ maxPublishers: 2 }, view);
  const refusal = full("publishers 2 of 2 (limits.maxPublishers)");
  assertEquals(p.admit(request({ action: AdmissionAction.Publish, protocol: P.Rtmp })), refusal);
  assertEquals(
    p.admit(request({ action: AdmissionAction.Publish, protocol: P.File, remote: undefined })),
    refusal,
  );
  assertEquals(p.admit(request()), allow());
});

Deno.test("LimitsPolicy.admit() refuses a play whose stream would take the outgoing rate past maxBandwidthKbps, with Retry-After", () => {
  const view = new FakeView();
  view.bitrates.set("live/cam", { video: 900_000, audio: 100_000 });
  const { p } = policy({ maxBandwidthKbps: 2500 }, view);
  view.outBps = 1_500_000;
  assertEquals(p.admit(request()), allow(), "1500 + 1000 is 2500: at the cap, not past it");
  view.outBps = 2_012_400;
  const d = p.admit(request());
  assertEquals(
    d,
    deny(
      "bandwidth 2012 kbit/s out + 1000 kbit/s for live/cam would pass 2500 kbit/s (limits.maxBandwidthKbps)",
      DenyKind.Unavailable,
      5,
    ),
  );
  assertEquals(p.admit(request({ protocol: P.Rtmp })), d, "every protocol's play");
  assertEquals(
    p.admit(request({ action: AdmissionAction.Publish, protocol: P.Rtmp })),
    allow(),
    "a publish adds no outgoing bytes",
  );
  assertEquals(
    p.admit(request({ key: "live/quiet", name: "quiet" })),
    allow(),
    "a stream not live adds nothing",
  );
  view.outBps = 2_600_000;
  const over = p.admit(request({ key: "live/quiet", name: "quiet" }));
  assert(
    over.kind === "deny" && over.retryAfterS === 5,
    "already past the cap: even a quiet stream is refused",
  );
  assertEquals(view.lists, 0, "the bandwidth cap alone never reads the registry");
});

Deno.test("LimitsPolicy.update() applies new limits to the next request, and a bad one keeps the old", () => {
  const view = new FakeView().add(3, player());
  const { p } = policy({ maxPlayers: 3 }, view);
  assertEquals(p.admit(request()), full("players 3 of 3 (limits.maxPlayers)"));
  p.update({ ...NO_LIMITS, maxPlayers: 10 });
  assertEquals(p.admit(request()), allow());
  assertEquals(p.limits.maxPlayers, 10);
  assertThrows(() => p.update({ ...NO_LIMITS, maxPlayers: 1, maxPublishers: -1 }), RangeError);
  assertEquals(p.limits.maxPlayers, 10, "a refused update left the limits as they were");
  p.update(NO_LIMITS);
  assertEquals(p.admit(request()), allow());
});

Deno.test("LimitsPolicy keeps its own copy of the limits: changing the object it was given changes nothing", () => {
  const given = { ...NO_LIMITS, maxPlayers: 1 };
  const { p } = policy(given, new FakeView().add(1, player()));
  given.maxPlayers = 0;
  assertEquals(p.admit(request()), full("players 1 of 1 (limits.maxPlayers)"));
});

Deno.test("LimitsPolicy refuses a limit that is not a whole number 0 or more, naming the setting", () => {
  const view = new FakeView();
  const e = assertThrows(() => new LimitsPolicy({ ...NO_LIMITS, maxPlayersPerStream: -1 }, view), RangeError);
  assertEquals(e.message, "Cannot use limits.maxPlayersPerStream: -1, expected a whole number 0 or more");
  assertThrows(() => new LimitsPolicy({ ...NO_LIMITS, maxBandwidthKbps: 2.5 }, view), RangeError);
  assertThrows(() => new LimitsPolicy({ ...NO_LIMITS, maxPlayers: Infinity }, view), RangeError);
  const t = assertThrows(
    () => new LimitsPolicy({ ...NO_LIMITS, maxPublishers: "3" } as unknown as LimitsConfig, view),
    TypeError,
  );
  assertEquals(t.message, "Cannot use limits.maxPublishers: string, expected a whole number 0 or more");
  assertThrows(() => new LimitsPolicy(null as unknown as LimitsConfig, view), TypeError);
  assertEquals(Object.values(LimitName).sort(), Object.keys(NO_LIMITS).sort(), "one entry per setting");
});

Deno.test("LimitsPolicy over a real StreamHub counts its registry, and the hub's gate answers with the refusal", async () => {
  const log = new RecordingLogger();
  const hub = new StreamHub(makeConfig().hub, log);
  const meter = new BandwidthMeter(hub);
  const p = new LimitsPolicy({ ...makeConfig().limits, maxPlayers: 2 }, { hub, meter });
  hub.admission = p;
  const first = hub.sessions.open({ protocol: P.Rtmp, remote: "127.0.0.1:5000", counters: () => ({}) });
  first.setStream(Role.Player, "live/cam");
  hub.sessions.open({ protocol: P.HttpFlv, role: Role.Player, key: "live/cam", counters: () => ({}) });
  const asking = hub.sessions.open({ protocol: P.Rtmp, remote: "127.0.0.1:5001", counters: () => ({}) });
  assertEquals(
    await hub.admit(request({ protocol: P.Rtmp, sessionId: asking.id })),
    full("players 2 of 2 (limits.maxPlayers)"),
  );
  first.end("left");
  assertEquals(await hub.admit(request({ protocol: P.Rtmp, sessionId: asking.id })), allow());
  hub.stop();
});

Deno.test("LimitsPolicy.admit() counts what it just admitted before the registry has it (a connect flood in one turn)", () => {
  const { p, view } = policy({ maxConnectionsPerAddress: 3 });
  view.add(1, player("live/cam", P.Rtmp, "10.0.0.9"));
  // Three HTTP plays answered in the same instant, none registered yet: the third is one past the limit.
  assertEquals(p.admit(request()), allow());
  assertEquals(p.admit(request()), allow());
  assertEquals(
    p.admit(request()),
    full("connections from 10.0.0.9 3 of 3 (limits.maxConnectionsPerAddress)"),
  );
  // The two register: the count is the registry's, not twice the same players.
  view.add(2, player("live/cam", P.HttpFlv, "10.0.0.9"));
  assertEquals(p.admit(request()).kind, "deny");
  view.sessions.pop();
  view.sessions.pop();
  // A request whose session is in the registry (RTMP asks with its id) is counted by the registry alone.
  assertEquals(
    p.admit(request({ sessionId: "1", protocol: P.Rtmp })).kind,
    "deny",
    "the reservations still hold",
  );
});
