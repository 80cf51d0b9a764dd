/**
 * UDP sockets for the RTP tests: a socket bound on loopback, a client's RTP/RTCP
 * pair that keeps what reaches it, and, for ffmpeg on the other side (it binds
 * the ports an SDP names), free even port pairs and a bounded wait until
 * ffmpeg has bound them (Linux /proc/net/udp).
 *
 * @module
 */
import dgram from "node:dgram";

/** Where the tests' sockets live. */
export const LOOPBACK = "127.0.0.1";

/** A UDP socket bound to `port` (0: any free one) on `hostname`. */
export function bindUdp(port = 0, hostname = LOOPBACK): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(port, hostname, () => resolve(s));
  });
}

/** Closes `sockets`; resolves once all are closed. */
export async function closeUdp(...sockets: dgram.Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
}

/** A client's UDP pair on loopback (any free ports), keeping the datagrams that reach each. */
export interface UdpClientPair {
  /** RTP port, RTCP port. */
  readonly ports: readonly [number, number];
  readonly rtp: Uint8Array[];
  readonly rtcp: Uint8Array[];
  close(): Promise<void>;
}

/** Binds a {@linkcode UdpClientPair}. */
export async function udpClientPair(): Promise<UdpClientPair> {
  const [a, b] = [await bindUdp(), await bindUdp()];
  const rtp: Uint8Array[] = [];
  const rtcp: Uint8Array[] = [];
  a.on("message", (m) => rtp.push(new Uint8Array(m)));
  b.on("message", (m) => rtcp.push(new Uint8Array(m)));
  return { ports: [a.address().port, b.address().port], rtp, rtcp, close: () => closeUdp(a, b) };
}

/** The local UDP ports bound now (Linux /proc/net/udp), or undefined where that cannot be read. */
export async function boundUdpPorts(): Promise<Set<number> | undefined> {
  try {
    const text = await Deno.readTextFile("/proc/net/udp");
    const ports = new Set<number>();
    for (const line of text.split("\n").slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) ports.add(parseInt(local.split(":")[1], 16));
    }
    return ports;
  } catch {
    return undefined;
  }
}

/** Even base ports (RTP, RTCP one above) for `n` tracks, side by side, all free now. */
export async function freeUdpPairs(n: number): Promise<number[]> {
  const bound = (await boundUdpPorts()) ?? new Set<number>();
  for (;;) {
    const a = 20000 + 4 * Math.floor(Math.random() * 9000);
    const ports = Array.from({ length: 2 * n }, (_, i) => a + i);
    if (!ports.some((p) => bound.has(p))) return Array.from({ length: n }, (_, i) => a + 2 * i);
  }
}

/** Waits (bounded) until every port is bound; a fixed wait where /proc cannot be read. */
export async function waitUdpBound(ports: number[], timeoutMs: number): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const bound = await boundUdpPorts();
    if (!bound) return void await sleep(1500);
    if (ports.every((p) => bound.has(p))) return;
    await sleep(50);
  }
  throw new Error(`Cannot send RTP: current ports ${ports.join(", ")} are not bound after ${timeoutMs} ms`);
}
