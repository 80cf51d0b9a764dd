/**
 * RtspServer: the RTSP listener (RFC 2326, TCP) on `Deno.listen` at
 * `rtsp.host:rtsp.port` (8554 by default). Each connection gets an
 * RtspSession. Past `rtsp.maxConnections`, or past
 * `limits.maxConnectionsPerAddress` from one host, a new connection is closed
 * at once with a logged reason, as the RTMP listener does.
 *
 * The server owns one UdpPortPool (`rtsp.udpPortFirst`..`udpPortLast`, 0/0:
 * any free ports) on `rtsp.host`, shared by its sessions' UDP SETUPs; close()
 * waits for the sessions to give their pairs back, then closes the pool.
 *
 * @module
 */
import { hostOf } from "../hub/registry.ts";
import { type RtspContext, RtspSession } from "./session.ts";
import { UdpPortPool } from "./udp_ports.ts";

export class RtspServer {
  /** The sessions accepted and still running. */
  readonly sessions: Set<RtspSession> = new Set();
  #ctx: RtspContext;
  #listener: Deno.Listener | undefined;
  #port = 0;
  #loop: Promise<void> | undefined;
  readonly #runs = new Set<Promise<void>>();

  constructor(ctx: RtspContext) {
    this.#ctx = ctx;
  }

  /** The server's UDP pairs (made by listen()); undefined before. */
  get udpPorts(): UdpPortPool | undefined {
    return this.#ctx.udpPorts;
  }

  /** The bound port (0 before listen()). */
  get port(): number {
    return this.#port;
  }

  /** Binds `rtsp.host:rtsp.port` (0: a free port) and starts accepting. Throws as Deno.listen does. */
  listen(): void {
    const { host, port, udpPortFirst, udpPortLast } = this.#ctx.config.rtsp;
    // Made first: a range that holds no pair throws before anything is bound.
    const udpPorts = this.#ctx.udpPorts ?? new UdpPortPool({
      hostname: host,
      ...(udpPortFirst !== 0 && { first: udpPortFirst, last: udpPortLast }),
    });
    const listener = Deno.listen({ hostname: host, port, transport: "tcp" });
    this.#listener = listener;
    this.#ctx = { ...this.#ctx, udpPorts };
    this.#port = (listener.addr as Deno.NetAddr).port;
    this.#loop = this.#accept(listener);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    try {
      for await (const conn of listener) {
        const refused = this.#refusal(conn.remoteAddr as Deno.NetAddr);
        if (refused !== undefined) {
          this.#ctx.log.warn(refused);
          conn.close();
          continue;
        }
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch {
          // not a TCP connection
        }
        const s = new RtspSession(conn, this.#ctx);
        this.sessions.add(s);
        const run: Promise<void> = s.run().finally(() => {
          this.sessions.delete(s);
          this.#runs.delete(run);
        });
        this.#runs.add(run);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  /** Why a connection from `addr` is refused (the caps, read at each accept), or undefined. */
  #refusal(addr: Deno.NetAddr): string | undefined {
    const who = `[rtsp ${addr.hostname}:${addr.port}] closed: refused,`;
    const max = this.#ctx.config.rtsp.maxConnections;
    if (this.sessions.size >= max) return `${who} ${this.sessions.size} connections (limit ${max})`;
    const limit = this.#ctx.config.limits.maxConnectionsPerAddress;
    if (!(limit > 0)) return undefined;
    let n = 0;
    for (const s of this.sessions) if (hostOf(s.remote) === addr.hostname) n++;
    if (n < limit) return undefined;
    return `${who} ${n} connections from ${addr.hostname} (limits.maxConnectionsPerAddress ${limit})`;
  }

  /** Stops accepting, closes every session and waits for their UDP pairs, then closes the pool. */
  async close(): Promise<void> {
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    for (const s of this.sessions) s.close("server stopping");
    await this.#loop;
    await Promise.all([...this.#runs]);
    await this.#ctx.udpPorts?.close();
  }
}
