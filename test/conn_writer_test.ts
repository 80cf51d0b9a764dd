import { assertEquals, assertRejects } from "./_util/assert.ts";
import { ConnWriter, COPY_BYTES, type WritableConn } from "../src/conn_writer.ts";

/** A socket that takes at most `take` bytes per write and holds each write until released. */
class FakeConn implements WritableConn {
  writes: Uint8Array[] = [];
  /** The arrays as handed over (writes holds copies). */
  given: Uint8Array[] = [];
  closed = false;
  fail = false;
  #release: (() => void)[] = [];
  constructor(readonly take = Infinity) {}
  write(bytes: Uint8Array): Promise<number> {
    if (this.fail) return Promise.reject(new Error("broken pipe"));
    const n = Math.min(this.take, bytes.length);
    this.given.push(bytes);
    this.writes.push(bytes.slice(0, n));
    return new Promise((resolve) => this.#release.push(() => resolve(n)));
  }
  release(): void {
    for (const r of this.#release.splice(0)) r();
  }
  close(): void {
    this.closed = true;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("ConnWriter.write() writes at once when idle and batches what comes while a write is under way", async () => {
  const conn = new FakeConn();
  const w = new ConnWriter(conn);
  const first = Uint8Array.of(1, 2);
  const a = w.write(first);
  assertEquals(conn.writes.length, 1);
  assertEquals(conn.writes[0], first, "the caller's bytes, at once");
  const b = w.write(Uint8Array.of(3));
  const c = w.write(Uint8Array.of(4, 5));
  assertEquals(w.queuedBytes, 3);
  conn.release();
  await a;
  await tick();
  assertEquals(conn.writes.map((x) => [...x]), [[1, 2], [3, 4, 5]], "the two later writes went out as one");
  conn.release();
  await Promise.all([b, c]);
  assertEquals(w.bytesOut, 5);
  assertEquals(w.idle, true);
});

Deno.test("ConnWriter.write() writes the rest of what the socket took in part, in order", async () => {
  const conn = new FakeConn(2);
  const w = new ConnWriter(conn);
  const done = w.write(Uint8Array.of(1, 2, 3, 4, 5));
  for (let i = 0; i < 3; i++) {
    conn.release();
    await tick();
  }
  await done;
  assertEquals(conn.writes.map((x) => [...x]), [[1, 2], [3, 4], [5]]);
});

Deno.test("ConnWriter.write() rejects a failed write, the batch behind it and every later write", async () => {
  const conn = new FakeConn();
  const w = new ConnWriter(conn);
  const a = w.write(Uint8Array.of(1));
  const b = w.write(Uint8Array.of(2));
  conn.fail = true;
  conn.release();
  await a;
  await assertRejects(() => b, Error, "broken pipe");
  await assertRejects(() => w.write(Uint8Array.of(3)), Error, "broken pipe");
});

Deno.test("ConnWriter.drained waits for the write under way and its batch; onFailed hears the first failure once", async () => {
  const conn = new FakeConn();
  const failures: string[] = [];
  const w = new ConnWriter(conn, (e) => failures.push(e.message));
  await w.drained; // nothing written yet
  const a = w.write(Uint8Array.of(1));
  const b = w.write(Uint8Array.of(2));
  let drained = false;
  const d = w.drained.then(() => drained = true);
  conn.release();
  await a;
  await tick();
  assertEquals(drained, false, "the batch is still under way");
  conn.release();
  await b;
  await d;
  assertEquals(drained, true);
  conn.fail = true;
  const c = w.write(Uint8Array.of(3));
  const e = w.write(Uint8Array.of(4));
  await assertRejects(() => c, Error, "broken pipe");
  await assertRejects(() => e, Error, "broken pipe");
  await assertRejects(() => w.write(Uint8Array.of(5)), Error, "broken pipe");
  await w.drained; // settles, failed or not
  assertEquals(failures, ["broken pipe"], "reported once");
});

Deno.test("ConnWriter.refuse(): the batch behind the write under way and every later write reject with its error", async () => {
  const conn = new FakeConn();
  const failures: Error[] = [];
  const w = new ConnWriter(conn, (e) => failures.push(e));
  const a = w.write(Uint8Array.of(1));
  const b = w.write(Uint8Array.of(2));
  w.refuse(new Error("closed by its owner"));
  conn.release();
  await a; // the write under way settles as the socket says
  await assertRejects(() => b, Error, "closed by its owner");
  await assertRejects(() => w.write(Uint8Array.of(3)), Error, "closed by its owner");
  assertEquals(conn.writes.length, 1, "nothing more reached the socket");
  assertEquals(failures.length, 0, "a refusal is not a socket failure");
});

Deno.test("ConnWriter batches small writes into one but writes a large one (a GOP burst) on its own, uncopied, in order", async () => {
  const conn = new FakeConn();
  const w = new ConnWriter(conn);
  const first = w.write(Uint8Array.of(1));
  const big = new Uint8Array(COPY_BYTES + 1).fill(9);
  const batch = [
    w.write(Uint8Array.of(2)),
    w.write(Uint8Array.of(3)),
    w.write(big),
    w.write(Uint8Array.of(4)),
  ];
  let settled = 0;
  for (const p of batch) p.then(() => settled++);
  conn.release();
  await first;
  await tick();
  assertEquals(conn.writes.map((x) => [...x]), [[1], [2, 3]], "the small ones before the large one, joined");
  const late = w.write(Uint8Array.of(5)); // joins the part of the batch still waiting
  conn.release();
  await tick();
  assertEquals(conn.given.length, 3);
  assertEquals(conn.given[2] === big, true, "the large write is the caller's array, not a copy");
  assertEquals(settled, 0, "the batch's writers wait for all of it");
  conn.release();
  await tick();
  assertEquals(conn.writes.map((x) => [...x]).slice(3), [[4, 5]]);
  conn.release();
  await Promise.all([...batch, late]);
  assertEquals(w.bytesOut, 5 + big.length);
  assertEquals(w.idle, true);
});

Deno.test("ConnWriter: a write that fails in the middle of a split batch rejects the whole batch and what follows", async () => {
  const conn = new FakeConn();
  const w = new ConnWriter(conn);
  const first = w.write(Uint8Array.of(1));
  const a = w.write(Uint8Array.of(2));
  const big = w.write(new Uint8Array(COPY_BYTES + 1));
  const b = w.write(Uint8Array.of(3));
  conn.release();
  await first;
  await tick();
  conn.fail = true;
  conn.release(); // [2] done; the large write fails
  await assertRejects(() => a, Error, "broken pipe");
  await assertRejects(() => big, Error, "broken pipe");
  await assertRejects(() => b, Error, "broken pipe");
  await assertRejects(() => w.write(Uint8Array.of(4)), Error, "broken pipe");
});
