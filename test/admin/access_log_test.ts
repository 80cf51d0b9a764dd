import {
  assert,
  assertEquals,
  assertGreater,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { readMedia, startServer, SyntheticStream, test, waitFor } from "../_util/live.ts";
import {
  ACCESS_LOG_STDOUT,
  AccessLog,
  type AccessLogWriter,
  formatAccessLine,
  formatLogTime,
} from "../../src/admin/access_log.ts";
import { type SessionInit, SessionRegistry, type SessionSnapshot } from "../../src/hub/registry.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";
import { RtmpStatusError } from "../../src/rtmp/client/status.ts";

/** A Combined Log Format line with the duration appended, field by field. */
const ACCESS_LINE = new RegExp(
  String.raw`^(?<host>\S+) - - \[(?<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] ` +
    String.raw`"(?<method>\S+) (?<url>\S+) (?<version>\S+)" (?<status>\d{3}|-) (?<bytes>\d+) ` +
    String.raw`"(?<referer>[^"]*)" "(?<agent>[^"]*)" (?<seconds>\d+\.\d{3})$`,
);

/** The fields of an access log line; fails the test when the line does not match ACCESS_LINE. */
function parseAccessLine(line: string): Record<string, string> {
  const m = ACCESS_LINE.exec(line);
  assert(m?.groups, `not an access log line: ${JSON.stringify(line)}`);
  return { ...m.groups };
}

/** 2026-12-01T22:27:49Z. */
const STARTED_AT = Date.UTC(2026, 11, 1, 22, 27, 49);

/** A finished session's snapshot. */
function session(over: Partial<SessionSnapshot>): SessionSnapshot {
  return {
    id: "1",
    protocol: Protocol.HttpFlv,
    role: Role.Player,
    remote: "10.1.2.3:50312",
    key: "live/cam",
    startedAt: STARTED_AT,
    durationMs: 12_345,
    bytesIn: 0,
    bytesOut: 0,
    framesSent: 0,
    framesDropped: 0,
    skips: 0,
    lagMs: 0,
    queuedBytes: 0,
    ...over,
  };
}

Deno.test("formatLogTime() writes the Common Log Format's time in UTC", () => {
  assertEquals(formatLogTime(STARTED_AT), "01/Dec/2026:22:27:49 +0000");
  assertEquals(formatLogTime(Date.UTC(2027, 0, 9, 3, 4, 5)), "09/Jan/2027:03:04:05 +0000");
});

Deno.test("formatAccessLine() writes an HTTP-FLV player in the Combined Log Format with bytes sent and the duration", () => {
  const line = formatAccessLine(session({
    bytesIn: 90,
    bytesOut: 1_048_576,
    status: 200,
    request: {
      method: "GET",
      url: "/live/cam.flv?token=a%20b",
      userAgent: "Lavf/59.27.100",
      referer: "http://example.test/page",
    },
  }))!;
  assertEquals(
    line,
    `10.1.2.3 - - [01/Dec/2026:22:27:49 +0000] "GET /live/cam.flv?token=a%20b HTTP/1.1" 200 1048576 ` +
      `"http://example.test/page" "Lavf/59.27.100" 12.345`,
  );
  assertEquals(parseAccessLine(line), {
    host: "10.1.2.3",
    time: "01/Dec/2026:22:27:49 +0000",
    method: "GET",
    url: "/live/cam.flv?token=a%20b",
    version: "HTTP/1.1",
    status: "200",
    bytes: "1048576",
    referer: "http://example.test/page",
    agent: "Lavf/59.27.100",
    seconds: "12.345",
  });
});

Deno.test("formatAccessLine() writes RTMP play with bytes sent and RTMP publish with bytes received", () => {
  const agent = "FMLE/3.0 (compatible; FMSc/1.0)";
  const play = parseAccessLine(
    formatAccessLine(session({
      protocol: Protocol.Rtmp,
      bytesIn: 3_500,
      bytesOut: 734_003,
      status: 200,
      request: { method: "PLAY", url: "rtmp://host/live/cam", userAgent: agent, referer: "http://p.test/" },
    }))!,
  );
  assertEquals(
    [play.method, play.url, play.version, play.status, play.bytes, play.referer, play.agent],
    ["PLAY", "rtmp://host/live/cam", "RTMP", "200", "734003", "http://p.test/", agent],
  );
  const publish = parseAccessLine(
    formatAccessLine(session({
      protocol: Protocol.Rtmp,
      role: Role.Publisher,
      bytesIn: 5_000_000,
      bytesOut: 3_700,
      status: 200,
      request: { method: "PUBLISH", url: "rtmp://host/live/cam", userAgent: agent },
    }))!,
  );
  assertEquals(
    [publish.method, publish.bytes, publish.referer],
    ["PUBLISH", "5000000", "-"],
    "a publisher's bytes are the ones it sent us; no pageUrl is -",
  );
  const refused = parseAccessLine(
    formatAccessLine(session({
      protocol: Protocol.Rtmp,
      role: Role.Pending,
      bytesIn: 4_000,
      bytesOut: 3_700,
      status: 403,
      request: { method: "PUBLISH", url: "rtmp://host/live/cam" },
    }))!,
  );
  assertEquals(
    [refused.status, refused.bytes],
    ["403", "4000"],
    "a refused publish still counts bytes received",
  );
});

Deno.test("formatAccessLine() writes pushes with bytes received, VOD and WebSocket sessions with their method", () => {
  const push = parseAccessLine(
    formatAccessLine(session({
      protocol: Protocol.HttpPush,
      role: Role.Publisher,
      bytesIn: 777,
      status: 408,
      request: { method: "POST", url: "/live/cam" },
    }))!,
  );
  assertEquals([push.method, push.status, push.bytes, push.agent], ["POST", "408", "777", "-"]);
  const ws = parseAccessLine(
    formatAccessLine(session({
      protocol: Protocol.WsPush,
      role: Role.Pending,
      bytesIn: 12,
      status: 403,
      request: { method: "WS", url: "/live/cam" },
    }))!,
  );
  assertEquals([ws.method, ws.bytes], ["WS", "12"]);
  const vod = parseAccessLine(
    formatAccessLine(session({
      protocol: Protocol.HttpVod,
      role: Role.Vod,
      bytesOut: 1000,
      status: 206,
      request: { method: "GET", url: "/vod/a.flv" },
    }))!,
  );
  assertEquals([vod.url, vod.status, vod.bytes], ["/vod/a.flv", "206", "1000"]);
});

Deno.test("formatAccessLine() escapes quotes, backslashes and control characters so a field cannot be forged", () => {
  const line = formatAccessLine(session({
    protocol: Protocol.Rtmp,
    status: 200,
    request: {
      method: "PLAY",
      url: "rtmp://host/live/my cam",
      userAgent: 'evil" 200 0 "x\n1.2.3.4 - -',
      referer: "a\\b",
    },
  }))!;
  assertEquals(line.includes("\n"), false);
  const f = parseAccessLine(line);
  assertEquals(f.url, "rtmp://host/live/my\\x20cam");
  assertEquals(f.agent, "evil\\x22 200 0 \\x22x\\x0A1.2.3.4 - -");
  assertEquals(f.referer, "a\\x5Cb");
});

Deno.test("formatAccessLine() writes - for a session that never said what it asked; a file source is not logged", () => {
  const line = formatAccessLine(
    session({ protocol: Protocol.Rtmp, role: Role.Pending, remote: "::1:5000" }),
  )!;
  assertEquals(line, `::1 - - [01/Dec/2026:22:27:49 +0000] "-" - 0 "-" "-" 12.345`);
  assertEquals(formatAccessLine(session({ protocol: Protocol.File, remote: undefined })), undefined);
  const noRemote = formatAccessLine(session({ remote: undefined, request: { method: "GET", url: "/" } }))!;
  assertEquals(noRemote.split(" ")[0], "-");
});

// ---- AccessLog

/** A registry on a clock the test moves, and a way to open and end one session. */
function newRegistry() {
  const clock = { now: STARTED_AT };
  const registry = new SessionRegistry(new RecordingLogger(), { clock: () => clock.now });
  const finish = (init: Partial<SessionInit>, status = 200, ms = 1_500) => {
    const counters = { bytesOut: 4096 };
    const s = registry.open({
      protocol: Protocol.HttpFlv,
      remote: "127.0.0.1:4000",
      counters: () => counters,
      ...init,
    });
    clock.now += ms;
    s.end("player left", { status });
  };
  return { registry, clock, finish };
}

/** A `-` writer that holds each write until the test releases it. */
class HeldWriter implements AccessLogWriter {
  readonly writes: string[] = [];
  #release: (() => void)[] = [];
  write(bytes: Uint8Array): Promise<number> {
    this.writes.push(new TextDecoder().decode(bytes));
    return new Promise((resolve) => this.#release.push(() => resolve(bytes.length)));
  }
  /** Lets every write so far complete. */
  releaseAll(): void {
    for (const r of this.#release.splice(0)) r();
  }
}

Deno.test("AccessLog writes one line per finished session to its file, none for an open one", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const { registry, finish } = newRegistry();
  const log = new AccessLog(path, registry, { log: new RecordingLogger() });
  try {
    assertEquals(await log.open(), true);
    assert(log.active);
    registry.open({ protocol: Protocol.Rtmp, counters: () => ({}) }); // still open: no line
    finish({ request: { method: "GET", url: "/live/a.flv", userAgent: "curl/8" } });
    finish({ protocol: Protocol.Rtmp, request: { method: "PLAY", url: "rtmp://h/live/a" } }, 404, 20);
    finish({ protocol: Protocol.File, remote: undefined }); // a file source: no line
    await log.flush();
    const lines = (await Deno.readTextFile(path)).split("\n");
    assertEquals(lines.pop(), "", "every line ends with a newline");
    assertEquals(lines.map((l) => parseAccessLine(l)).map((f) => [f.method, f.status, f.seconds, f.agent]), [
      ["GET", "200", "1.500", "curl/8"],
      ["PLAY", "404", "0.020", "-"],
    ]);
    assertEquals([log.written, log.dropped], [2, 0]);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AccessLog.open() appends to an existing file and close() writes what is queued first", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  await Deno.writeTextFile(path, "old line\n");
  const { registry, finish } = newRegistry();
  const log = new AccessLog(path, registry, { log: new RecordingLogger() });
  try {
    await log.open();
    finish({ request: { method: "GET", url: "/live/a.flv" } });
    await log.close(); // no flush before: close() writes the queued line
    finish({ request: { method: "GET", url: "/live/b.flv" } }); // after close: not logged
    await log.close();
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assertEquals(lines.length, 2);
    assertEquals(lines[0], "old line");
    assertEquals(parseAccessLine(lines[1]).url, "/live/a.flv");
    assertEquals(log.active, false);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AccessLog.reopen() after the file was renamed (logrotate) writes the next lines to a new file", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const { registry, finish } = newRegistry();
  const log = new AccessLog(path, registry, { log: new RecordingLogger() });
  try {
    await log.open();
    finish({ request: { method: "GET", url: "/before.flv" } });
    await log.flush();
    await Deno.rename(path, `${path}.1`);
    finish({ request: { method: "GET", url: "/renamed.flv" } }); // written before reopen: still the old file
    await log.flush();
    await log.reopen();
    finish({ request: { method: "GET", url: "/after.flv" } });
    await log.flush();
    const urls = async (p: string) =>
      (await Deno.readTextFile(p)).trimEnd().split("\n").map((l) => parseAccessLine(l).url);
    assertEquals(await urls(`${path}.1`), ["/before.flv", "/renamed.flv"]);
    assertEquals(await urls(path), ["/after.flv"]);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AccessLog.reopen() that fails logs the error; lines wait for the next reopen() that works", async () => {
  const dir = await Deno.makeTempDir();
  const sub = `${dir}/logs`;
  await Deno.mkdir(sub);
  const path = `${sub}/access.log`;
  const { registry, finish } = newRegistry();
  const logger = new RecordingLogger();
  const log = new AccessLog(path, registry, { log: logger });
  try {
    await log.open();
    await Deno.rename(sub, `${dir}/gone`);
    await log.reopen(); // the folder is gone
    assertEquals(log.active, false);
    assert(
      logger.lines.some((l) =>
        l.level === "error" && l.msg.startsWith(`cannot open the access log ${path}:`)
      ),
    );
    finish({ request: { method: "GET", url: "/while-off.flv" } });
    await log.flush();
    assertEquals([log.queued, log.written], [1, 0]);
    await Deno.mkdir(sub);
    await log.reopen();
    assertEquals(log.active, true);
    assertEquals(parseAccessLine((await Deno.readTextFile(path)).trimEnd()).url, "/while-off.flv");
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "AccessLog.open() without write permission logs one error naming --allow-write and stays off",
  permissions: { read: true, write: false },
  fn: async () => {
    const path = "/tmp/sluice-access-log-test-denied.log";
    const { registry, finish } = newRegistry();
    const logger = new RecordingLogger();
    const log = new AccessLog(path, registry, { log: logger });
    assertEquals(await log.open(), false);
    assertEquals(log.active, false);
    assertEquals(logger.lines, [{
      level: "error",
      msg: `cannot open the access log ${path}: needs --allow-write=${path} (the access log is off)`,
    }]);
    finish({ request: { method: "GET", url: "/x.flv" } });
    await log.close();
    assertEquals([log.written, log.dropped, log.queued], [0, 0, 0], "off: nothing queued, nothing counted");
  },
});

Deno.test("AccessLog queues at most maxQueuedLines behind a slow write, drops and counts the rest, warns once", async () => {
  const { registry, finish } = newRegistry();
  const logger = new RecordingLogger();
  const out = new HeldWriter();
  const log = new AccessLog(ACCESS_LOG_STDOUT, registry, { log: logger, maxQueuedLines: 3, stdout: out });
  await log.open();
  for (let i = 1; i <= 3; i++) finish({ request: { method: "GET", url: `/first-${i}.flv` } });
  await new Promise((r) => setTimeout(r, 0)); // the first batch goes out, and its write is held
  assertEquals(out.writes.length, 1);
  for (let i = 1; i <= 10; i++) finish({ request: { method: "GET", url: `/second-${i}.flv` } });
  assertEquals([log.queued, log.dropped], [3, 7], "3 wait behind the held write, 7 are dropped");
  assertEquals(
    logger.lines.filter((l) => l.level === "warn").map((l) => l.msg),
    ["dropped 1 access log line: the write queue is full (limit 3 lines)"],
    "one warning, not one per line",
  );
  out.releaseAll();
  await new Promise((r) => setTimeout(r, 0));
  out.releaseAll();
  await log.flush();
  const urls = out.writes.join("").trimEnd().split("\n").map((l) => parseAccessLine(l).url);
  assertEquals(urls, [
    "/first-1.flv",
    "/first-2.flv",
    "/first-3.flv",
    "/second-1.flv",
    "/second-2.flv",
    "/second-3.flv",
  ]);
  assertEquals([log.written, log.dropped], [6, 7]);
  await log.close();
});

Deno.test("AccessLog with - writes to stdout, and reopen() leaves it as it is", async () => {
  const { registry, finish } = newRegistry();
  const writes: string[] = [];
  const out: AccessLogWriter = {
    write: (b) => {
      writes.push(new TextDecoder().decode(b));
      return Promise.resolve(b.length);
    },
  };
  const log = new AccessLog("-", registry, { log: new RecordingLogger(), stdout: out });
  await log.open();
  finish({ request: { method: "GET", url: "/a.flv" } });
  await log.reopen();
  finish({ request: { method: "GET", url: "/b.flv" } });
  await log.close();
  assertEquals(writes.join("").trimEnd().split("\n").map((l) => parseAccessLine(l).url), [
    "/a.flv",
    "/b.flv",
  ]);
});

Deno.test("AccessLog refuses an empty target and a queue bound below 1", () => {
  const registry = new SessionRegistry(new RecordingLogger());
  const e = assertThrows(() => new AccessLog("", registry, { log: new RecordingLogger() }), TypeError);
  assertEquals(e.message, `Cannot make an access log: target is "", expected - or a path`);
  const r = assertThrows(
    () => new AccessLog("-", registry, { log: new RecordingLogger(), maxQueuedLines: 0 }),
    RangeError,
  );
  assertEquals(r.message, "Cannot make an access log: maxQueuedLines is 0, expected 1 or more");
});

// ---- on a running server: an HTTP-FLV player (fetch), an RTMP player and publisher (RtmpClient), and an RTMP
// play of a stream nobody publishes; once they are gone, the file has one line per session.

test("AccessLog on a running server writes one line per finished HTTP-FLV player, RTMP player, RTMP publisher and refused play", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const server = await startServer({ hub: { playWaitMs: 0, reconnectGraceMs: 0 } });
  const access = new AccessLog(path, server.sluice.hub.sessions, { log: server.sluice.log.child("access") });
  const port = server.sluice.rtmpPort;
  try {
    assert(await access.open(), "the access log opened");
    const syn = new SyntheticStream({ marker: 7, keyBytes: 3000, interBytes: 400 });
    const pubConn = await RtmpClient.connect(`${server.app}/cam`);
    const pub = await pubConn.publish();
    await pub.sendFrames([...syn.headers(), ...syn.next(), ...syn.next()]);

    const res = await fetch(`http://127.0.0.1:${server.sluice.httpPort}/live/cam.flv?from=e2e`, {
      headers: { referer: "http://page.test/watch" },
    });
    assertEquals(res.status, 200);
    const reader = res.body!.getReader();
    let httpBytes = 0;
    while (httpBytes <= 3000) {
      const { value, done } = await reader.read();
      if (done) break;
      httpBytes += value.length;
    }
    await reader.cancel();

    const viewConn = await RtmpClient.connect(`${server.app}/cam`);
    const player = await viewConn.play();
    await pub.sendFrames(syn.next());
    await readMedia(player, 2);
    await viewConn.close();

    const missConn = await RtmpClient.connect(`${server.app}/nobody`);
    await assertRejects(() => missConn.play(), RtmpStatusError);
    await missConn.close();
    await pubConn.close();

    await waitFor(() => access.written === 4, "four access log lines");
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assertEquals(lines.length, 4, lines.join("\n"));
    const fields = lines.map((l) => parseAccessLine(l));
    const find = (method: string, url: string) => {
      const f = fields.find((x) => x.method === method && x.url === url);
      assert(f, `no ${method} ${url} line in\n${lines.join("\n")}`);
      return f;
    };
    for (const f of fields) {
      assertEquals(f.host, "127.0.0.1");
      assertMatch(f.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
      assert(Number(f.seconds) >= 0);
    }

    const http = find("GET", "/live/cam.flv?from=e2e");
    assertEquals([http.version, http.status, http.referer], ["HTTP/1.1", "200", "http://page.test/watch"]);
    assertMatch(http.agent, /^Deno\//, "fetch's User-Agent");
    assertGreater(Number(http.bytes), 3000, "bytes sent to the HTTP-FLV player");

    const rtmp = `rtmp://127.0.0.1:${port}/live`;
    const play = find("PLAY", `${rtmp}/cam`);
    assertEquals([play.version, play.status, play.referer], ["RTMP", "200", "-"]);
    assertEquals(play.agent, "FMLE/3.0 (compatible; Sluice)", "connect's flashVer");
    assertGreater(Number(play.bytes), 3000, "bytes sent to the RTMP player");

    const publish = find("PUBLISH", `${rtmp}/cam`);
    assertEquals([publish.version, publish.status], ["RTMP", "200"]);
    assertGreater(Number(publish.bytes), 3400, "bytes received from the publisher");

    const missing = find("PLAY", `${rtmp}/nobody`);
    assertEquals(missing.status, "404");
  } finally {
    await access.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
