/**
 * The server's UDP port pairs for RTP over UDP (RFC 2326 12.39
 * `server_port`): RTP on an even port and RTCP on the next one up (RFC 3550
 * 11), both bound or neither, taken from a configured range and given back
 * when the pair is closed.
 *
 * A range `{ first, last }` is walked round-robin from where the last
 * allocation stopped, so a pair just closed is not handed out again at once
 * (a late datagram for the old session lands nowhere). A port some other
 * process holds (EADDRINUSE) or may not bind (EACCES) is skipped; any other
 * bind error (a hostname that is not local) throws at once. With no range
 * (`first` 0 or absent) the system picks: a free even port whose next port is
 * also free, tried a bounded number of times (tests, and a server that does
 * not care which ports it uses). Either way at most `maxPairs` pairs are open
 * at a time; past that, or when every pair of the range is busy,
 * `allocate()` throws UdpPortsExhaustedError, which the RTSP session answers
 * with 453 (Not Enough Bandwidth, RFC 2326 7.1.1: the server has no more
 * resources for this SETUP).
 *
 * Sockets come from `node:dgram`: Deno 2's own `Deno.listenDatagram` needs
 * `--unstable-net`. This file and the transport own sockets, so they are L3
 * (test/layout_test.ts places `src/rtsp/udp*` there).
 *
 * @module
 */
import dgram from "node:dgram";

/** RFC 3550 11: RTP on an even port, RTCP on the port one above. */
export const RTCP_PORT_OFFSET = 1;
/** The highest UDP port (RFC 768: 16 bits). */
export const MAX_UDP_PORT = 65535;
/** The most pairs open at a time with no range (the system picks the ports). */
export const DEFAULT_MAX_ANY_PAIRS = 1024;
/** With no range: how many times the system's pick is tried before giving up (an odd port, a busy neighbour). */
export const ANY_PORT_ATTEMPTS = 64;

/** Bind errors that mean "this port, not this host": skip to the next pair. */
const SKIPPED_BIND_ERRORS: ReadonlySet<string> = new Set(["EADDRINUSE", "EACCES"]);

/** Where a datagram came from. */
export interface UdpRemote {
  readonly address: string;
  readonly port: number;
}

/**
 * The part of a UDP socket the transport uses (`node:dgram` Socket has it;
 * tests fake it to make sends fail).
 */
export interface UdpSocket {
  send(
    msg: Uint8Array,
    port: number,
    address: string,
    callback: (error: Error | null, bytes: number) => void,
  ): void;
  on(event: "message", listener: (msg: Uint8Array, remote: UdpRemote) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
  close(callback?: () => void): unknown;
}

/** One server pair: two bound sockets, owned by whoever allocated it until `close()`. */
export interface UdpPortPair {
  /** The even port (RTP). */
  readonly rtpPort: number;
  /** `rtpPort + 1` (RTCP). */
  readonly rtcpPort: number;
  readonly rtp: UdpSocket;
  readonly rtcp: UdpSocket;
  /**
   * Closes both sockets and gives the pair back to the pool; a second call
   * does nothing. The system frees the ports when the promise settles
   * (`node:dgram` closes in a later turn); callers need not wait.
   */
  close(): Promise<void>;
}

/** Where the pool takes its pairs. */
export interface UdpPortPoolOptions {
  /** The first port of the range (rounded up to even); 0 or absent: any free ports. */
  readonly first?: number;
  /** The last port of the range (an RTCP port at most); required with `first`. */
  readonly last?: number;
  /** The local address to bind; default 0.0.0.0 (an address with ":" binds IPv6). */
  readonly hostname?: string;
  /** The most pairs open at once; default the range's pair count, or 1024 with no range. */
  readonly maxPairs?: number;
}

/** Every pair of the range is in use (ours or another process's), or `maxPairs` are open. */
export class UdpPortsExhaustedError extends Error {
  /** The range, as configured (`[0, 0]`: any free ports). */
  readonly range: readonly [number, number];

  constructor(range: readonly [number, number], detail: string, options?: ErrorOptions) {
    super(`Cannot allocate UDP port pair: ${detail}`, options);
    this.name = "UdpPortsExhaustedError";
    this.range = range;
  }
}

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Closes `s`; resolves when the system has let its port go (at once when it was closed already). */
function closeQuietly(s: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed (a failed bind may have closed it)
    }
  });
}

/** A socket bound to `port` (0: the system picks), or the bind error. */
function bindSocket(type: "udp4" | "udp6", port: number, hostname: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(type);
    const onError = (e: Error) => {
      void closeQuietly(s).then(() => reject(e));
    };
    s.once("error", onError);
    s.bind(port, hostname, () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

function checkPort(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1 || v > MAX_UDP_PORT) {
    throw new RangeError(
      `Cannot make UDP port pool: ${what} must be an integer in 1..${MAX_UDP_PORT}, current ${v}`,
    );
  }
  return v;
}

/** Server RTP/RTCP port pairs from a range (see the module doc). */
export class UdpPortPool {
  readonly hostname: string;
  /** The first even port of the range, 0 with no range. */
  readonly first: number;
  /** The last port of the range, 0 with no range. */
  readonly last: number;
  readonly maxPairs: number;
  readonly #type: "udp4" | "udp6";
  /** RTP ports of the open pairs. */
  readonly #open = new Map<number, UdpPortPair>();
  /** The RTP port the next range walk starts at. */
  #cursor: number;
  /** Allocations under way (counted against `maxPairs` with the open ones). */
  #pending = 0;
  #closed = false;

  constructor(opts: UdpPortPoolOptions = {}) {
    this.hostname = opts.hostname ?? "0.0.0.0";
    this.#type = this.hostname.includes(":") ? "udp6" : "udp4";
    if (opts.first === undefined || opts.first === 0) {
      this.first = this.last = 0;
      this.maxPairs = opts.maxPairs ?? DEFAULT_MAX_ANY_PAIRS;
    } else {
      const first = checkPort(opts.first, "first");
      const last = checkPort(opts.last ?? NaN, "last");
      this.first = first + (first % 2);
      this.last = last;
      if (this.first + RTCP_PORT_OFFSET > last) {
        throw new RangeError(
          `Cannot make UDP port pool: current range ${first}..${last} holds no even/odd pair`,
        );
      }
      this.maxPairs = opts.maxPairs ?? this.pairCount;
    }
    if (!Number.isInteger(this.maxPairs) || this.maxPairs < 1) {
      throw new RangeError(
        `Cannot make UDP port pool: maxPairs must be a positive integer, current ${this.maxPairs}`,
      );
    }
    this.#cursor = this.first;
  }

  /** The pairs the range holds (0 with no range). */
  get pairCount(): number {
    return this.first === 0 ? 0 : Math.floor((this.last - this.first + 1) / 2);
  }

  /** The pairs open now. */
  get inUse(): number {
    return this.#open.size;
  }

  /**
   * Binds a new pair: RTP on an even port, RTCP on the next. Throws
   * UdpPortsExhaustedError when none is free or `maxPairs` are open, the bind
   * error when the host cannot be bound, RangeError after `close()`.
   */
  async allocate(): Promise<UdpPortPair> {
    if (this.#closed) throw new RangeError("Cannot allocate UDP port pair: current pool is closed");
    const range = [this.first, this.last] as const;
    if (this.#open.size + this.#pending >= this.maxPairs) {
      throw new UdpPortsExhaustedError(
        range,
        `current open pairs ${this.#open.size}, limit ${this.maxPairs}`,
      );
    }
    this.#pending++;
    let pair: UdpPortPair;
    try {
      pair = this.first === 0 ? await this.#allocateAny() : await this.#allocateInRange();
    } finally {
      this.#pending--;
    }
    if (this.#closed) {
      await pair.close();
      throw new RangeError("Cannot allocate UDP port pair: current pool is closed");
    }
    return pair;
  }

  /** Closes every open pair (resolves when their ports are free); later `allocate()` calls throw. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#open.values()].map((pair) => pair.close()));
  }

  async #allocateInRange(): Promise<UdpPortPair> {
    let lastError: unknown;
    const count = this.pairCount;
    for (let i = 0; i < count; i++) {
      const rtpPort = this.#cursor;
      this.#cursor = rtpPort + 2 + RTCP_PORT_OFFSET > this.last ? this.first : rtpPort + 2;
      if (this.#open.has(rtpPort)) continue;
      try {
        const pair = await this.#bindPair(rtpPort);
        if (pair) return pair;
      } catch (e) {
        if (!SKIPPED_BIND_ERRORS.has(errorCode(e) ?? "")) throw e;
        lastError = e;
      }
    }
    throw new UdpPortsExhaustedError(
      [this.first, this.last],
      `current range ${this.first}..${this.last} has no free pair (${this.#open.size} ours)`,
      { cause: lastError },
    );
  }

  async #allocateAny(): Promise<UdpPortPair> {
    let lastError: unknown;
    for (let i = 0; i < ANY_PORT_ATTEMPTS; i++) {
      const probe = await bindSocket(this.#type, 0, this.hostname);
      const port = (probe.address() as { port: number }).port;
      if (port % 2 === 0 && port + RTCP_PORT_OFFSET <= MAX_UDP_PORT) {
        try {
          const rtcp = await bindSocket(this.#type, port + RTCP_PORT_OFFSET, this.hostname);
          return this.#track(port, probe, rtcp);
        } catch (e) {
          if (!SKIPPED_BIND_ERRORS.has(errorCode(e) ?? "")) {
            await closeQuietly(probe);
            throw e;
          }
          lastError = e;
        }
      }
      await closeQuietly(probe);
    }
    throw new UdpPortsExhaustedError(
      [0, 0],
      `current system picks gave no free even/odd pair in ${ANY_PORT_ATTEMPTS} attempts`,
      { cause: lastError },
    );
  }

  /** Both sockets of the pair at `rtpPort`; a failure of the second closes the first and throws. */
  async #bindPair(rtpPort: number): Promise<UdpPortPair | undefined> {
    const rtp = await bindSocket(this.#type, rtpPort, this.hostname);
    try {
      const rtcp = await bindSocket(this.#type, rtpPort + RTCP_PORT_OFFSET, this.hostname);
      return this.#track(rtpPort, rtp, rtcp);
    } catch (e) {
      await closeQuietly(rtp);
      throw e;
    }
  }

  #track(rtpPort: number, rtp: dgram.Socket, rtcp: dgram.Socket): UdpPortPair {
    let closed: Promise<void> | undefined;
    const pair: UdpPortPair = {
      rtpPort,
      rtcpPort: rtpPort + RTCP_PORT_OFFSET,
      rtp,
      rtcp,
      close: () => {
        if (!closed) {
          this.#open.delete(rtpPort);
          closed = Promise.all([closeQuietly(rtp), closeQuietly(rtcp)]).then(() => {});
        }
        return closed;
      },
    };
    this.#open.set(rtpPort, pair);
    return pair;
  }
}
