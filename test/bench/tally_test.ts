/** The players' read pacing: eager while setting up, then one shared sweep clock. */
import { STANDARD_SWEEP_MS, sweep, Tally } from "../../bench/tally.ts";
import { assertEquals } from "../_util/assert.ts";
import { MessageType } from "../../src/rtmp/message.ts";

/** An FLV video tag body: AVC keyframe NALU (frame type 1, codec 7, AVCPacketType 1, composition 0). */
const KEYFRAME = new Uint8Array([0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65]);

Deno.test("Tally.pace() reads at once until the first frame and for the probe, then at the shared sweep", async () => {
  const probe = new Tally(true);
  const a = new Tally(false);
  const b = new Tally(false);
  assertEquals(a.pace(), undefined);
  a.frame(MessageType.Video, 0, KEYFRAME, performance.now());
  b.frame(MessageType.Video, 0, KEYFRAME, performance.now());
  probe.frame(MessageType.Video, 0, KEYFRAME, performance.now());
  assertEquals(a.r.firstFrameMs >= 0, true);
  assertEquals(probe.pace(), undefined);
  // Both players wait for one and the same tick of the process's clock.
  const pa = a.pace();
  assertEquals(pa !== undefined && pa === b.pace() && pa === sweep(), true);
  await pa;
  // The next sweep is a new tick.
  const next = a.pace();
  assertEquals(next !== pa, true);
  await next;
  assertEquals(STANDARD_SWEEP_MS, 20);
});
