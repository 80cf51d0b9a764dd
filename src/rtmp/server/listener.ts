/**
 * RtmpListener: the accept loop on `Deno.listen`, or on `Deno.listenTls` for
 * RTMPS. Each connection gets an RtmpSession; a TLS connection is a
 * `Deno.Conn` like any other, so everything above the socket is the same.
 * Past `maxConnections` a new connection is closed at once with a logged
 * reason; listeners given the same `shared` set (RTMP and RTMPS) count their
 * connections together.
 *
 * A TLS listener changes its certificate with {@linkcode RtmpListener.reopen}:
 * Deno cannot swap the certificate of a listening socket, so the socket is
 * closed and bound again on the same port; the sessions already accepted keep
 * running on the TLS state they negotiated.
 *
 * @module
 */
import { hostOf } from "../../hub/registry.ts";
import { RtmpSession, type SessionContext } from "./session.ts";

/** A certificate chain and its private key, PEM text (as `Deno.listenTls` takes them). */
export interface TlsKeyPair {
  cert: string;
  key: string;
}

/** How an RtmpListener listens; by default plain TCP on `rtmp.host:rtmp.port`. */
export interface RtmpListenerOptions {
  /** Listen with TLS (RTMPS), with this certificate and key. */
  tls?: TlsKeyPair;
  /** The port to bind (0: a free one). Default `rtmp.port`. */
  port?: number;
  /**
   * A set the sessions are also kept in, whose size `rtmp.maxConnections` bounds: listeners given the
   * same set share the limit. Default: this listener's own `sessions`.
   */
  shared?: Set<RtmpSession>;
}

export class RtmpListener {
  /** The sessions this listener accepted that are still running. */
  readonly sessions: Set<RtmpSession> = new Set();
  #ctx: SessionContext;
  #opts: RtmpListenerOptions;
  #tls: TlsKeyPair | undefined;
  #listener: Deno.Listener | undefined;
  #port = 0;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(ctx: SessionContext, opts: RtmpListenerOptions = {}) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#tls = opts.tls;
  }

  /** The bound port (0 before listen()). */
  get port(): number {
    return this.#port;
  }

  /** Whether this listener speaks TLS (RTMPS). */
  get tls(): boolean {
    return this.#tls !== undefined;
  }

  /** Binds the port and starts accepting. Throws as Deno.listen / Deno.listenTls do (AddrInUse, InvalidData). */
  listen(): void {
    this.#start(this.#bind(this.#opts.port ?? this.#ctx.config.rtmp.port, this.#tls));
  }

  /**
   * Binds the same port again with a new certificate and key (a TLS listener only): new connections get
   * the new certificate, accepted sessions keep running. When `next` cannot be used (Deno.listenTls
   * throws: InvalidData for PEM text without a certificate or key, an Error for a key that is not the
   * certificate's), the listener goes on with the old pair and this rethrows; should the port be taken
   * meanwhile, it throws that it cannot listen again.
   */
  async reopen(next: TlsKeyPair): Promise<void> {
    if (this.#tls === undefined) {
      throw new TypeError("Cannot reopen with a certificate: current listener is plain TCP");
    }
    if (this.#listener === undefined || this.#closed) {
      throw new TypeError("Cannot reopen: current listener is not listening");
    }
    const port = this.#port;
    this.#listener.close();
    // The port is free once the pending accept has ended.
    await this.#loop;
    if (this.#closed) return; // close() came meanwhile
    let listener: Deno.Listener;
    try {
      listener = this.#bind(port, next);
    } catch (e) {
      try {
        this.#start(this.#bind(port, this.#tls));
      } catch (again) {
        throw new Error(`Cannot listen on port ${port} again: ${(again as Error).message}`, { cause: again });
      }
      throw e;
    }
    this.#tls = next;
    this.#start(listener);
  }

  #bind(port: number, tls: TlsKeyPair | undefined): Deno.Listener {
    const hostname = this.#ctx.config.rtmp.host;
    if (tls === undefined) return Deno.listen({ hostname, port, transport: "tcp" });
    return Deno.listenTls({ hostname, port, transport: "tcp", cert: tls.cert, key: tls.key });
  }

  #start(listener: Deno.Listener): void {
    this.#listener = listener;
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.#loop = this.#accept(listener);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    const max = this.#ctx.config.rtmp.maxConnections;
    const counted = this.#opts.shared ?? this.sessions;
    try {
      for await (const conn of listener) {
        if (counted.size >= max) {
          const a = conn.remoteAddr as Deno.NetAddr;
          this.#ctx.log.warn(
            `[conn ${a.hostname}:${a.port}] closed: refused, ${counted.size} connections (limit ${max})`,
          );
          conn.close();
          continue;
        }
        const crowded = this.#crowdedAddress(conn.remoteAddr as Deno.NetAddr, counted);
        if (crowded !== undefined) {
          this.#ctx.log.warn(crowded);
          conn.close();
          continue;
        }
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch {
          // not a TCP connection (a TLS one keeps Deno's default, TCP_NODELAY on)
        }
        const s = new RtmpSession(conn, this.#ctx);
        this.sessions.add(s);
        this.#opts.shared?.add(s);
        s.run().finally(() => {
          this.sessions.delete(s);
          this.#opts.shared?.delete(s);
        });
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  /**
   * The refusal line when `addr`'s host already has `limits.maxConnectionsPerAddress` RTMP connections open
   * (read at each accept, so a reload changes it): connections that connect and never publish or play would
   * otherwise fill `rtmp.maxConnections` for everyone. Undefined when there is room (or no limit).
   */
  #crowdedAddress(addr: Deno.NetAddr, counted: ReadonlySet<RtmpSession>): string | undefined {
    const limit = this.#ctx.config.limits.maxConnectionsPerAddress;
    if (!(limit > 0)) return undefined;
    let n = 0;
    for (const s of counted) if (hostOf(s.remote) === addr.hostname) n++;
    if (n < limit) return undefined;
    return `[conn ${addr.hostname}:${addr.port}] closed: refused, ${n} connections from ${addr.hostname} ` +
      `(limits.maxConnectionsPerAddress ${limit})`;
  }

  /** Stops accepting and closes every session. */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    for (const s of this.sessions) s.close("server stopping");
    await this.#loop;
  }
}
