/**
 * RtspSessions behind a listener on 127.0.0.1 port 0, one per connection, for the session tests (live
 * and VOD): what `server.ts` does without its caps, so a test reaches each session it made.
 *
 * @module
 */
import { type RtspContext, RtspSession } from "../../src/rtsp/session.ts";

/** A listener and the sessions of its connections. */
export interface SessionServer {
  readonly port: number;
  /** One per connection, in the order they came. */
  readonly sessions: RtspSession[];
  /** Closes every session and the listener, and waits for their runs to end. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (any free port) and runs an RtspSession with `ctx` for each connection. */
export function serveSessions(ctx: RtspContext): SessionServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: RtspSession[] = [];
  const runs: Promise<void>[] = [];
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        const s = new RtspSession(conn, ctx);
        sessions.push(s);
        runs.push(s.run());
      }
    } catch {
      // closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    sessions,
    async close() {
      for (const s of sessions) s.close("test over");
      listener.close();
      await loop;
      await Promise.all(runs);
    },
  };
}
