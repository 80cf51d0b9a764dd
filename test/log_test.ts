/**
 * The leveled logger: the line format, the level threshold, the tag chain a
 * child adds, and the swappable sink. The threshold and the sink are global:
 * every test captures lines through withCapture(), which puts the previous
 * sink back and the threshold at its default ("info") afterwards.
 */
import {
  log,
  LOG_LINE_MAX_CHARS,
  LOG_RING_SIZE,
  type LogEntry,
  Logger,
  LogLevel,
  type LogLevelName,
  MAX_LOG_LISTENERS,
  onLog,
  recentLogs,
  setLogLevel,
  setLogSink,
} from "../src/log.ts";
import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "./_util/assert.ts";

/** Runs `fn` with lines going to an array (and the threshold at `level`); restores the global state. */
function withCapture(level: LogLevelName | undefined, fn: (lines: string[]) => void): string[] {
  const lines: string[] = [];
  const prev = setLogSink((line) => lines.push(line));
  try {
    if (level !== undefined) setLogLevel(level);
    fn(lines);
  } finally {
    setLogSink(prev);
    setLogLevel("info"); // the module's default; log.ts has no getter to read the previous level
  }
  return lines;
}

/** The part of a line after its timestamp. */
function rest(line: string): string {
  return line.slice(line.indexOf(" ") + 1);
}

Deno.test("Logger prints error, warn and info but not debug at the default level", () => {
  const lines = withCapture(undefined, () => {
    const l = new Logger();
    l.error("e");
    l.warn("w");
    l.info("i");
    l.debug("d");
  });
  assertEquals(lines.map(rest), ["ERROR e", "WARN  w", "INFO  i"]);
});

Deno.test("Logger writes an ISO timestamp, the level padded to five characters, the tags, then the message", () => {
  const lines = withCapture("debug", () => new Logger().child("rtmp").debug("listening"));
  assertEquals(lines.length, 1);
  assertMatch(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG \[rtmp\] listening$/);
  const stamp = lines[0].slice(0, lines[0].indexOf(" "));
  assertEquals(new Date(stamp).toISOString(), stamp, "the timestamp parses back to itself");
});

Deno.test("setLogLevel() prints the given level and every more severe one, nothing more verbose", () => {
  const expected: Record<LogLevelName, string[]> = {
    error: ["ERROR e"],
    warn: ["ERROR e", "WARN  w"],
    info: ["ERROR e", "WARN  w", "INFO  i"],
    debug: ["ERROR e", "WARN  w", "INFO  i", "DEBUG d"],
  };
  for (const level of Object.keys(LogLevel) as LogLevelName[]) {
    const lines = withCapture(level, () => {
      const l = new Logger();
      l.debug("d");
      l.info("i");
      l.warn("w");
      l.error("e");
    });
    // Printed in call order; sorted here most severe first to compare.
    assertEquals(lines.map(rest).reverse(), expected[level], `level ${level}`);
  }
});

Deno.test("LogLevel orders the levels most severe first", () => {
  assertEquals(LogLevel, { error: 0, warn: 1, info: 2, debug: 3 });
});

Deno.test("Logger.child() adds one bracketed tag per level of the chain, parent's first", () => {
  const lines = withCapture(undefined, () => {
    const rtmp = new Logger().child("rtmp");
    const conn = rtmp.child("conn 127.0.0.1:5000");
    conn.info("closed: peer closed the connection");
    rtmp.info("listening");
  });
  assertEquals(lines.map(rest), [
    "INFO  [rtmp] [conn 127.0.0.1:5000] closed: peer closed the connection",
    "INFO  [rtmp] listening",
  ]);
});

Deno.test("Logger.child() leaves its parent's tags alone and gives each child its own chain", () => {
  const parent = new Logger().child("hub");
  const a = parent.child("a");
  const b = parent.child("b");
  assertEquals(parent.tags, "[hub] ");
  assertEquals(a.tags, "[hub] [a] ");
  assertEquals(b.tags, "[hub] [b] ");
});

Deno.test("log, the root logger, has no tags", () => {
  assertEquals(log.tags, "");
  const lines = withCapture(undefined, () => log.warn("root line"));
  assertEquals(lines.map(rest), ["WARN  root line"]);
});

Deno.test("setLogSink() returns the sink it replaced, so a caller can put it back", () => {
  const first: string[] = [];
  const second: string[] = [];
  const sinkA = (line: string) => first.push(line);
  const sinkB = (line: string) => second.push(line);
  const original = setLogSink(sinkA);
  try {
    log.info("to a");
    assertStrictEquals(setLogSink(sinkB), sinkA);
    log.info("to b");
    assertStrictEquals(setLogSink(sinkA), sinkB);
    log.info("to a again");
  } finally {
    setLogSink(original);
  }
  assertEquals(first.map(rest), ["INFO  to a", "INFO  to a again"]);
  assertEquals(second.map(rest), ["INFO  to b"]);
});

Deno.test("Logger checks the threshold at each call, so a level set later applies to existing loggers", () => {
  const l = new Logger().child("late");
  const lines = withCapture("error", (got) => {
    l.warn("dropped");
    setLogLevel("warn");
    l.warn("printed");
    assertEquals(got.length, 1);
  });
  assertEquals(lines.map(rest), ["WARN  [late] printed"]);
});

// ---------------------------------------------------------------------------------------------
// The ring of recent warnings and errors, and onLog() listeners. The ring is global and other
// tests log too, so these look at the entries they added last, marked with a unique tag.

/** A tag no other test uses. */
function uniqueTag(): string {
  return `ring ${crypto.randomUUID()}`;
}

/** The ring's entries whose line carries `tag`. */
function ringWith(tag: string): LogEntry[] {
  return recentLogs().filter((e) => e.line.includes(tag));
}

Deno.test("recentLogs() keeps warn and error lines with their level, ISO time and tagged line, oldest first", () => {
  const tag = uniqueTag();
  const lines = withCapture(undefined, () => {
    const l = new Logger().child(tag);
    l.warn("first");
    l.info("not kept");
    l.error("second");
    l.debug("not kept either");
  });
  const kept = ringWith(tag);
  assertEquals(kept.map((e) => [e.level, e.line]), [
    ["warn", `[${tag}] first`],
    ["error", `[${tag}] second`],
  ]);
  for (const e of kept) assertEquals(new Date(e.at).toISOString(), e.at, "at is ISO 8601");
  assertEquals(kept[0].at, lines[0].slice(0, lines[0].indexOf(" ")), "the printed line's timestamp");
});

Deno.test("recentLogs() keeps warnings even when the threshold does not print them", () => {
  const tag = uniqueTag();
  const lines = withCapture("error", () => new Logger().child(tag).warn("quiet"));
  assertEquals(lines, [], "not printed");
  assertEquals(ringWith(tag).map((e) => e.line), [`[${tag}] quiet`]);
});

Deno.test("recentLogs() holds at most LOG_RING_SIZE entries, dropping the oldest", () => {
  const tag = uniqueTag();
  withCapture(undefined, () => {
    const l = new Logger().child(tag);
    for (let i = 0; i < LOG_RING_SIZE + 50; i++) l.warn(`n${i}`);
  });
  const all = recentLogs();
  assertEquals(all.length, LOG_RING_SIZE);
  assertEquals(all[0].line, `[${tag}] n50`);
  assertEquals(all[all.length - 1].line, `[${tag}] n${LOG_RING_SIZE + 49}`);
});

Deno.test("recentLogs() returns copies: changing one leaves the ring alone", () => {
  const tag = uniqueTag();
  withCapture(undefined, () => log.child(tag).error("kept"));
  ringWith(tag)[0].line = "changed";
  assertEquals(ringWith(tag).length, 1);
});

Deno.test("recentLogs() cuts a line longer than LOG_LINE_MAX_CHARS and marks the cut", () => {
  const tag = uniqueTag();
  withCapture(undefined, () => new Logger().child(tag).warn("x".repeat(LOG_LINE_MAX_CHARS * 2)));
  const [e] = ringWith(tag);
  assertEquals(e.line.length, LOG_LINE_MAX_CHARS);
  assert(e.line.endsWith("…"), "ends with an ellipsis");
});

Deno.test("onLog() hands every warn and error line to the listener until its remover is called", () => {
  const tag = uniqueTag();
  const got: LogEntry[] = [];
  const off = onLog((e) => {
    if (e.line.includes(tag)) got.push(e);
  });
  withCapture(undefined, () => {
    const l = new Logger().child(tag);
    l.warn("w");
    l.info("i");
    l.error("e");
    off();
    off(); // idempotent
    l.error("after");
  });
  assertEquals(got.map((e) => [e.level, e.line]), [["warn", `[${tag}] w`], ["error", `[${tag}] e`]]);
  assertEquals(ringWith(tag).length, 3, "the ring still keeps the line logged after the remover");
});

Deno.test("onLog() ignores a listener that throws and still calls the others", () => {
  const tag = uniqueTag();
  const got: string[] = [];
  const offA = onLog(() => {
    throw new Error("boom");
  });
  const offB = onLog((e) => got.push(e.line));
  try {
    withCapture(undefined, () => new Logger().child(tag).warn("still here"));
  } finally {
    offA();
    offB();
  }
  assert(got.includes(`[${tag}] still here`), "the second listener got the line");
});

Deno.test("onLog() does not hand a line logged by a listener back to the listeners", () => {
  const tag = uniqueTag();
  let calls = 0;
  const off = onLog((e) => {
    if (!e.line.includes(tag)) return;
    calls++;
    new Logger().child(tag).warn("from the listener");
  });
  try {
    withCapture(undefined, () => new Logger().child(tag).warn("outer"));
  } finally {
    off();
  }
  assertEquals(calls, 1);
  assertEquals(ringWith(tag).map((e) => e.line), [`[${tag}] outer`, `[${tag}] from the listener`]);
});

Deno.test("onLog() takes at most MAX_LOG_LISTENERS listeners (TypeError past it), the same one once", () => {
  const offs: (() => void)[] = [];
  try {
    const same = () => {};
    offs.push(onLog(same), onLog(same));
    for (let i = 1; i < MAX_LOG_LISTENERS; i++) offs.push(onLog(() => {}));
    assertThrows(() => onLog(() => {}), TypeError, `(limit ${MAX_LOG_LISTENERS})`);
  } finally {
    for (const off of offs) off();
  }
  onLog(() => {})(); // room again once removed
});
