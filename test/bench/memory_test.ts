/** The memory mode's reading of the admin API's sessions: queued bytes when a session has them. */
import { isQueuedBytesField, sumQueued } from "../../bench/memory.ts";
import { assertEquals } from "../_util/assert.ts";

Deno.test("isQueuedBytesField() knows queued-bytes names and no other byte counters", () => {
  for (const name of ["queuedBytes", "queueBytes", "bytesQueued", "QueuedBytes"]) {
    assertEquals(isQueuedBytesField(name), true, name);
  }
  for (const name of ["bytesOut", "bytesIn", "framesDropped", "queuedFrames"]) {
    assertEquals(isQueuedBytesField(name), false, name);
  }
});

Deno.test("sumQueued() adds up the sessions' queued bytes and counts the sessions that have them", () => {
  const clients = [
    { id: "1", bytesOut: 1_000_000, queuedBytes: 4096 },
    { id: "2", bytesOut: 5, queuedBytes: 1024 },
    { id: "3", bytesOut: 7 }, // a publisher: no queue
  ];
  assertEquals(sumQueued(clients), { exposed: true, bytes: 5120, sessions: 2 });
});

Deno.test("sumQueued() says the API does not expose queued bytes when no session has the field", () => {
  const q = sumQueued([{ id: "1", bytesOut: 10, framesSent: 2, lagMs: 3 }]);
  assertEquals(q.exposed, false);
  assertEquals(!q.exposed && q.why.startsWith("GET /api/v1/clients has no queued-bytes field"), true);
});
