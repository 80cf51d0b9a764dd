/**
 * RtmpListener: the accept loop on `Deno.listen`. Each connection gets an
 * RtmpSession; past `maxConnections` a new connection is closed at once with a
 * logged reason.
 *
 * @module
 */
import { RtmpSession, type SessionContext } from "./session.ts";

export class RtmpListener {
  readonly sessions: Set<RtmpSession> = new Set();
  #ctx: SessionContext;
  #listener: Deno.Listener | undefined;
  #loop: Promise<void> | undefined;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /** The bound port. */
  get port(): number {
    return (this.#listener?.addr as Deno.NetAddr | undefined)?.port ?? 0;
  }

  listen(): void {
    const { host, port } = this.#ctx.config.rtmp;
    this.#listener = Deno.listen({ hostname: host, port, transport: "tcp" });
    this.#loop = this.#accept(this.#listener);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    const max = this.#ctx.config.rtmp.maxConnections;
    try {
      for await (const conn of listener) {
        if (this.sessions.size >= max) {
          const a = conn.remoteAddr as Deno.NetAddr;
          this.#ctx.log.warn(
            `[conn ${a.hostname}:${a.port}] closed: refused, ${this.sessions.size} connections (limit ${max})`,
          );
          conn.close();
          continue;
        }
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch {
          // not a TCP connection
        }
        const s = new RtmpSession(conn, this.#ctx);
        this.sessions.add(s);
        s.run().finally(() => this.sessions.delete(s));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  /** Stops accepting and closes every session. */
  async close(): Promise<void> {
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    for (const s of this.sessions) s.close("server stopping");
    await this.#loop;
  }
}
