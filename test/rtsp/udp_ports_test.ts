import dgram from "node:dgram";
import { UdpPortPool, UdpPortsExhaustedError } from "../../src/rtsp/udp_ports.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";

/** A socket bound to `port` on loopback, or undefined when it is busy. */
function hold(port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.once("error", () => {
      try {
        s.close();
      } catch { /* closed */ }
      resolve(undefined);
    });
    s.bind(port, "127.0.0.1", () => resolve(s));
  });
}

/** Whether nothing holds `port` now (a bind there succeeds). */
async function free(port: number): Promise<boolean> {
  const s = await hold(port);
  if (s) await new Promise<void>((r) => s.close(() => r()));
  return s !== undefined;
}

/** An even base port with `n` pairs above it all free now. */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 30000 + 2 * Math.floor(Math.random() * 15000);
    let ok = true;
    for (let p = base; p < base + 2 * n && ok; p++) ok = await free(p);
    if (ok) return base;
  }
}

Deno.test("UdpPortPool.allocate() with no range binds an even RTP port and RTCP one above", async () => {
  const pool = new UdpPortPool({ hostname: "127.0.0.1" });
  try {
    const pairs = [await pool.allocate(), await pool.allocate(), await pool.allocate()];
    for (const p of pairs) {
      assertEquals(p.rtpPort % 2, 0, `RTP port ${p.rtpPort} is even`);
      assertEquals(p.rtcpPort, p.rtpPort + 1);
      assert(!(await free(p.rtpPort)) && !(await free(p.rtcpPort)), "both ports are held");
    }
    assertEquals(new Set(pairs.map((p) => p.rtpPort)).size, 3, "three distinct pairs");
    assertEquals(pool.inUse, 3);
  } finally {
    await pool.close();
  }
  assertEquals(pool.inUse, 0);
});

Deno.test("UdpPortPool.allocate() walks the range and throws UdpPortsExhaustedError past its last pair", async () => {
  const base = await freeRange(2);
  const pool = new UdpPortPool({ first: base, last: base + 3, hostname: "127.0.0.1" });
  try {
    assertEquals(pool.pairCount, 2);
    const a = await pool.allocate();
    const b = await pool.allocate();
    assertEquals([a.rtpPort, a.rtcpPort, b.rtpPort, b.rtcpPort], [base, base + 1, base + 2, base + 3]);
    const e = await assertRejects(() => pool.allocate(), UdpPortsExhaustedError, "limit 2");
    assertEquals(e.range, [base, base + 3]);
  } finally {
    await pool.close();
  }
});

Deno.test("UdpPortPool pair.close() releases both ports for the next allocation", async () => {
  const base = await freeRange(1);
  const pool = new UdpPortPool({ first: base, last: base + 1, hostname: "127.0.0.1" });
  try {
    const a = await pool.allocate();
    await a.close();
    await a.close(); // a second close does nothing
    assertEquals(pool.inUse, 0);
    assert(await free(base) && await free(base + 1), "the ports are free again");
    const b = await pool.allocate();
    assertEquals(b.rtpPort, base);
  } finally {
    await pool.close();
  }
});

Deno.test("UdpPortPool.allocate() skips a pair whose RTP or RTCP port another socket holds", async () => {
  const base = await freeRange(3);
  const busyRtcp = await hold(base + 1);
  const busyRtp = await hold(base + 2);
  assert(busyRtcp && busyRtp);
  const pool = new UdpPortPool({ first: base, last: base + 5, hostname: "127.0.0.1" });
  try {
    const a = await pool.allocate();
    assertEquals(a.rtpPort, base + 4, "the first two pairs are skipped");
    assert(await free(base), "the RTP socket of the half-busy pair was given back");
    await assertRejects(() => pool.allocate(), UdpPortsExhaustedError, "has no free pair");
    assertEquals(pool.inUse, 1);
  } finally {
    await pool.close();
    busyRtcp.close();
    busyRtp.close();
  }
});

Deno.test("UdpPortPool.allocate() throws UdpPortsExhaustedError at maxPairs with no range", async () => {
  const pool = new UdpPortPool({ hostname: "127.0.0.1", maxPairs: 1 });
  try {
    await pool.allocate();
    await assertRejects(() => pool.allocate(), UdpPortsExhaustedError, "current open pairs 1, limit 1");
  } finally {
    await pool.close();
  }
});

Deno.test("UdpPortPool rounds an odd first port up and refuses a range with no pair", () => {
  assertEquals(new UdpPortPool({ first: 8001, last: 8999 }).first, 8002);
  assertEquals(new UdpPortPool({ first: 8000, last: 8999 }).pairCount, 500);
  assertThrows(() => new UdpPortPool({ first: 8001, last: 8002 }), RangeError, "holds no even/odd pair");
  assertThrows(() => new UdpPortPool({ first: 8000 }), RangeError, "last must be an integer");
  assertThrows(() => new UdpPortPool({ first: 70000, last: 70001 }), RangeError, "first must be");
});

Deno.test("UdpPortPool.allocate() after close() throws RangeError", async () => {
  const pool = new UdpPortPool({ hostname: "127.0.0.1" });
  await pool.close();
  await assertRejects(() => pool.allocate(), RangeError, "pool is closed");
});
