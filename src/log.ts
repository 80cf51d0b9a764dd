/**
 * A small leveled logger with a tag chain: `[rtmp] [conn 127.0.0.1:5000] closed: …`.
 * Lower layers throw; the layer that owns a connection logs its close reason once.
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
    if (LogLevel[level] > threshold) return;
    sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${this.tags}${msg}`);
  }
}

/** The root logger. */
export const log: Logger = new Logger();
