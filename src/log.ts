/**
 * A small leveled logger with a tag chain: `[rtmp] [conn 127.0.0.1:5000] closed: …`.
 * Lower layers throw; the layer that owns a connection logs its close reason once.
 *
 * Warnings and errors are also kept, whatever the print threshold, in a ring of
 * the newest `LOG_RING_SIZE` (`recentLogs()`, for the admin API) and handed to
 * the listeners added with `onLog()` (the admin event stream). Both are
 * bounded: the ring by `LOG_RING_SIZE` entries of at most `LOG_LINE_MAX_CHARS`
 * characters, the listeners by `MAX_LOG_LISTENERS`. A listener that throws is
 * ignored (a logger has nowhere to report it), and a line logged by a listener
 * goes into the ring but is not handed to the listeners again.
 *
 * @module
 */

/** Log levels, most severe first. */
export const LogLevel = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevelName = keyof typeof LogLevel;

let threshold: number = LogLevel.info;
let sink: (line: string) => void = (line) => console.error(line);

/** Sets the most verbose level that is printed. */
export function setLogLevel(level: LogLevelName): void {
  threshold = LogLevel[level];
}

/** Sends log lines somewhere else (tests capture them); returns the previous sink. */
export function setLogSink(next: (line: string) => void): (line: string) => void {
  const prev = sink;
  sink = next;
  return prev;
}

/** Warn and error lines kept by the ring of recent lines. */
export const LOG_RING_SIZE = 200;
/** A longer line is cut to this many characters in the ring (and for listeners), with "…" at the end. */
export const LOG_LINE_MAX_CHARS = 2_000;
/** Bound on onLog() listeners; one more is a TypeError (a listener added per request is a leak). */
export const MAX_LOG_LISTENERS = 16;

/** One warn or error line, as the ring keeps it. */
export interface LogEntry {
  /** When it was logged, ISO 8601. */
  at: string;
  level: LogLevelName;
  /** The tags and the message, without the timestamp and the level. */
  line: string;
}

/** The levels the ring keeps and listeners get. */
const KEPT_LEVEL = LogLevel.warn;

const ring: (LogEntry | undefined)[] = new Array(LOG_RING_SIZE);
/** Where the next entry goes. */
let ringNext = 0;
/** Entries in the ring (up to LOG_RING_SIZE). */
let ringCount = 0;
const listeners = new Set<(entry: LogEntry) => void>();
/** Whether listeners are being called (a line they log is not handed to them again). */
let notifying = false;

/** The newest warn and error lines, oldest first (at most LOG_RING_SIZE); copies. */
export function recentLogs(): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = ringCount; i > 0; i--) {
    const e = ring[(ringNext - i + LOG_RING_SIZE) % LOG_RING_SIZE];
    if (e) out.push({ ...e });
  }
  return out;
}

/**
 * Calls `listener` with every warn and error line from now on; returns the
 * function that removes it (idempotent). At most MAX_LOG_LISTENERS (TypeError past it).
 */
export function onLog(listener: (entry: LogEntry) => void): () => void {
  if (typeof listener !== "function") {
    throw new TypeError(`Cannot add a log listener: current value is ${typeof listener}`);
  }
  if (!listeners.has(listener) && listeners.size >= MAX_LOG_LISTENERS) {
    throw new TypeError(
      `Cannot add a log listener: ${listeners.size} listeners already (limit ${MAX_LOG_LISTENERS})`,
    );
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Puts a warn or error line in the ring and hands it to the listeners. */
function keep(at: string, level: LogLevelName, line: string): void {
  const entry: LogEntry = {
    at,
    level,
    line: line.length > LOG_LINE_MAX_CHARS ? `${line.slice(0, LOG_LINE_MAX_CHARS - 1)}…` : line,
  };
  ring[ringNext] = entry;
  ringNext = (ringNext + 1) % LOG_RING_SIZE;
  if (ringCount < LOG_RING_SIZE) ringCount++;
  if (notifying || listeners.size === 0) return;
  notifying = true;
  try {
    for (const listener of [...listeners]) {
      try {
        listener({ ...entry });
      } catch {
        // Ignored: the logger cannot log its own listener's failure.
      }
    }
  } finally {
    notifying = false;
  }
}

/** A logger bound to a tag chain. */
export class Logger {
  readonly tags: string;

  constructor(tags = "") {
    this.tags = tags;
  }

  /** A child logger whose lines carry one more tag. */
  child(tag: string): Logger {
    return new Logger(`${this.tags}[${tag}] `);
  }

  error(msg: string): void {
    this.#log("error", msg);
  }
  warn(msg: string): void {
    this.#log("warn", msg);
  }
  info(msg: string): void {
    this.#log("info", msg);
  }
  debug(msg: string): void {
    this.#log("debug", msg);
  }

  #log(level: LogLevelName, msg: string): void {
    const kept = LogLevel[level] <= KEPT_LEVEL;
    if (LogLevel[level] > threshold && !kept) return;
    const at = new Date().toISOString();
    if (LogLevel[level] <= threshold) sink(`${at} ${level.toUpperCase().padEnd(5)} ${this.tags}${msg}`);
    if (kept) keep(at, level, `${this.tags}${msg}`);
  }
}

/** The root logger. */
export const log: Logger = new Logger();
