import { assert } from "../../_util/assert.ts";
import { startServer, stopAll, test, waitFor } from "../../_util/live.ts";
import { readToClose } from "../../_util/raw_rtmp.ts";
import { RtmpClient } from "../../../src/rtmp/client/client.ts";

test("RtmpListener refuses connections past rtmp.maxConnections are refused", async () => {
  const server = await startServer({ rtmp: { maxConnections: 2 } });
  const sessions = () => server.sluice.rtmp!.sessions.size;
  const held: Deno.TcpConn[] = [];
  let client: RtmpClient | undefined;
  try {
    for (let i = 0; i < 2; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort }));
    }
    await waitFor(() => sessions() === 2, "two sessions");
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: server.sluice.rtmpPort });
    await readToClose(extra);
    assert(
      server.logs.some((l) => /WARN .*closed: refused, 2 connections \(limit 2\)/.test(l)),
      "the refusal is logged",
    );

    for (const c of held.splice(0)) c.close();
    await waitFor(() => sessions() === 0, "the held sessions to end");
    client = await RtmpClient.connect(`${server.app}/cam`);
    assert(!client.closed, "a connection is accepted again below the limit");
  } finally {
    for (const c of held) c.close();
    await stopAll(server, client);
  }
});
