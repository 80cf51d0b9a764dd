/**
 * WebSocket upgrades on either HTTP server: a request of Sluice's own HTTP/1.1
 * server (`http1_server.ts`) gets a socket of Sluice's own (`ws_socket.ts`)
 * over its taken connection; a request of Deno.serve (HTTPS) gets Deno's.
 * The routes use both alike.
 *
 * @module
 */
import { takeConnection } from "./http1_server.ts";
import { httpDate, responseHead } from "./http1_head.ts";
import { ServerWebSocket, webSocketAccept } from "./ws_socket.ts";

/** An upgraded socket: Deno's (Deno.serve's requests) or Sluice's own (its HTTP/1.1 server's). */
export type UpgradedSocket = WebSocket | ServerWebSocket;

/** A taken connection reads in this size once it is a WebSocket (a publisher's media comes through it). */
const WS_READ_BYTES = 16 * 1024;

/**
 * `Deno.upgradeWebSocket(req)` for either server: a request of Sluice's HTTP/1.1 server gets a socket of
 * Sluice's own over its connection (the 101 answer goes out when the route returns `response`), any other
 * Deno's. Throws a TypeError, as Deno's does, when the request is not a valid upgrade (RFC 6455 4.2.1).
 */
export function upgradeWebSocket(req: Request): { socket: UpgradedSocket; response: Response } {
  const key = req.headers.get("sec-websocket-key");
  const own = key !== null && validUpgrade(req, key) ? takeConnection(req, WS_READ_BYTES) : undefined;
  if (!own) return Deno.upgradeWebSocket(req);
  const socket = new ServerWebSocket({ write: (bytes) => own.write(bytes), close: () => own.close() });
  own.onTaken = async () => {
    const accept = await webSocketAccept(key!);
    await own.write(responseHead(101, [
      ["upgrade", "websocket"],
      ["connection", "Upgrade"],
      ["sec-websocket-accept", accept],
      ["date", httpDate()],
    ]));
    socket.open();
  };
  own.onData = (bytes) => socket.feed(bytes);
  own.onEnd = (error) => socket.peerEnded(error);
  return { socket, response: own.response };
}

/** RFC 6455 4.2.1: GET, Upgrade: websocket, Connection: upgrade, version 13, a 16-byte base64 key. */
function validUpgrade(req: Request, key: string): boolean {
  const tokens = (name: string) =>
    (req.headers.get(name) ?? "").toLowerCase().split(",").map((t) => t.trim());
  return req.method === "GET" && tokens("upgrade").includes("websocket") &&
    tokens("connection").includes("upgrade") &&
    req.headers.get("sec-websocket-version") === "13" && /^[A-Za-z0-9+/]{22}==$/.test(key.trim());
}
