/**
 * The leveled logger: the line format, the level threshold, the tag chain a
 * child adds, and the swappable sink. The threshold and the sink are global:
 * every test captures lines through withCapture(), which puts the previous
 * sink back and the threshold at its default ("info") afterwards.
 */
import { log, Logger, LogLevel, type LogLevelName, setLogLevel, setLogSink } from "../src/log.ts";
import { assertEquals, assertMatch, assertStrictEquals } from "./_util/assert.ts";

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
