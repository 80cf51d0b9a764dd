import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { Http1Server } from "../../src/http/http1_server.ts";
import { upgradeWebSocket } from "../../src/http/upgrade.ts";
import { ServerWebSocket } from "../../src/http/ws_socket.ts";
import { log } from "../../src/log.ts";

Deno.test("upgradeWebSocket() on Http1Server gives Sluice's socket, which Deno's WebSocket client talks to", async () => {
  const closed = Promise.withResolvers<number>();
  const server = new Http1Server({
    hostname: "127.0.0.1",
    port: 0,
    log: log.child("test"),
    onError: () => new Response("", { status: 500 }),
    handler: (req) => {
      const { socket, response } = upgradeWebSocket(req);
      assert(socket instanceof ServerWebSocket, "Sluice's own socket");
      socket.onmessage = (ev) =>
        socket.send(typeof ev.data === "string" ? `echo ${ev.data}` : new Uint8Array(ev.data));
      socket.onclose = (ev) => closed.resolve(ev.code);
      return response;
    },
  });
  try {
    const client = new WebSocket(`ws://127.0.0.1:${server.addr.port}/live/cam`);
    client.binaryType = "arraybuffer";
    const got: unknown[] = [];
    const done = Promise.withResolvers<void>();
    client.onopen = () => {
      client.send("hello");
      client.send(new Uint8Array(70_000).fill(7));
    };
    client.onmessage = (ev) => {
      got.push(typeof ev.data === "string" ? ev.data : (ev.data as ArrayBuffer).byteLength);
      if (got.length === 2) client.close(1000, "bye");
    };
    client.onclose = () => done.resolve();
    await done.promise;
    assertEquals(got, ["echo hello", 70_000]);
    assertEquals(await closed.promise, 1000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("upgradeWebSocket() of a request no Http1Server made is Deno's, which refuses a bad upgrade", () => {
  const req = new Request("http://127.0.0.1/live/cam", { headers: { upgrade: "websocket" } });
  assertThrows(() => upgradeWebSocket(req));
});
