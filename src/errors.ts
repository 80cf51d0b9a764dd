/**
 * Errors that callers catch. Misuse throws the built-in TypeError/RangeError;
 * only what a caller handles gets a class here.
 *
 * @module
 */

/** A peer sent bytes that break the protocol; the connection that sent them is closed. */
export class ProtocolError extends Error {
  /** The WASM status code or a short name of the rule broken. */
  readonly code: number | string;
  /** What was wrong, with the value and the limit where there is one. */
  readonly detail: string;

  constructor(code: number | string, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.name = "ProtocolError";
    this.code = code;
    this.detail = detail;
  }
}

/** A stream name already has a publisher. */
export class StreamBusyError extends Error {
  readonly path: string;

  constructor(path: string, options?: ErrorOptions) {
    super(`Cannot publish ${path}: current publisher still live`, options);
    this.name = "StreamBusyError";
    this.path = path;
  }
}

/** A play asked for a stream that has no publisher (and waiting is off or timed out). */
export class StreamNotFoundError extends Error {
  readonly path: string;

  constructor(path: string, options?: ErrorOptions) {
    super(`Cannot play ${path}: current state has no publisher`, options);
    this.name = "StreamNotFoundError";
    this.path = path;
  }
}

/** A connection ended before the operation could complete (refused handshake, closed by the peer). */
export class ConnectionClosedError extends Error {
  /** Why the connection ended, as it was logged ("closed by the server", "protocol error: ..."), if known. */
  readonly reason: string | undefined;

  constructor(what: string, reason?: string, options?: ErrorOptions) {
    super(`Cannot ${what}: current connection is closed${reason ? ` (${reason})` : ""}`, options);
    this.name = "ConnectionClosedError";
    this.reason = reason;
  }
}

/**
 * The close reason a connection logs for an error that ended it; `peer` names
 * the other side ("peer" on the server, "the server" in the client).
 */
export function closeReasonOf(e: unknown, peer = "peer"): string {
  if (e instanceof ProtocolError) return `protocol error: ${e.message}`;
  if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe) {
    return `${peer} reset the connection`;
  }
  if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
    return "connection closed";
  }
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
