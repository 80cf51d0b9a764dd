/**
 * The memory bench's idle connections against a Sluice on port 0: RTMP ones are answered `connect` and play
 * nothing, HTTP-FLV ones wait for a stream with no publisher; Sluice lists each as a session, and none is
 * closed by the server before "stop".
 */
import { Protocol } from "../../src/hub/session_kind.ts";
import { startServer } from "../_util/media.ts";
import { assertEquals } from "../_util/assert.ts";

const SCRIPT = new URL("../../bench/idle_conns.ts", import.meta.url).pathname;

/** Runs idle_conns.ts with `n` connections to `url`; `check` runs while they are open. */
async function withIdle(url: string, n: number, check: (opened: string) => Promise<void> | void) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, url, String(n)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await out.read();
      if (done) throw new Error(`idle_conns.ts ended before it opened: ${text}`);
      text += value;
    }
    await check(text.split("\n")[0]);
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode("stop\n"));
    await w.close();
    for (;;) {
      const { value, done } = await out.read();
      if (done) break;
      text += value;
    }
    return JSON.parse(text.split("\n").find((l) => l.startsWith("{"))!);
  } finally {
    await child.status;
  }
}

const HOLD = { rtmp: { startTimeoutMs: 60_000 }, hub: { playWaitMs: 60_000 } };

Deno.test("idle_conns.ts holds RTMP connections past connect, listed by Sluice as RTMP sessions", async () => {
  const server = await startServer(HOLD);
  try {
    const report = await withIdle(`rtmp://127.0.0.1:${server.sluice.rtmpPort}/live`, 3, (opened) => {
      assertEquals(opened, "open 3 of 3");
      assertEquals(server.sluice.hub.sessions.list({ protocol: Protocol.Rtmp }).length, 3);
    });
    assertEquals(report, { open: 3, closedByServer: 0 });
  } finally {
    await server.stop();
  }
});

Deno.test("idle_conns.ts holds HTTP-FLV players of a stream with no publisher, listed by Sluice", async () => {
  const server = await startServer(HOLD);
  try {
    const url = `http://127.0.0.1:${server.sluice.httpPort}/live/idle.flv`;
    const report = await withIdle(url, 3, async (opened) => {
      assertEquals(opened, "open 3 of 3");
      // The GETs are written; Sluice registers each once it has read it.
      for (
        let i = 0;
        i < 100 && server.sluice.hub.sessions.list({ protocol: Protocol.HttpFlv }).length < 3;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assertEquals(server.sluice.hub.sessions.list({ protocol: Protocol.HttpFlv }).length, 3);
    });
    assertEquals(report, { open: 3, closedByServer: 0 });
  } finally {
    await server.stop();
  }
});
