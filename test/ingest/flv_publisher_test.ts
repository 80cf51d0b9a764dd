import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { RecordingHub } from "../_util/ingest_fakes.ts";
import { aacRaw, avcKeyframe, avcSequenceHeader, RecordingLogger } from "../_util/hub_fakes.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { makeConfig } from "../../src/config/config.ts";
import { ProtocolError, StreamBusyError } from "../../src/errors.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FlvPublisher } from "../../src/ingest/flv_publisher.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { TagType } from "../../src/media/flv.ts";
import { decodeAmf0 } from "../../src/amf/amf0.ts";
import { encodeData } from "../../src/rtmp/command.ts";

/** `@setDataFrame`, `onMetaData`, object {width: 640}, as some pushers write their script tag. */
const WRAPPED_METADATA = hex(`
  02 00 0d 40 73 65 74 44 61 74 61 46 72 61 6d 65   # "@setDataFrame"
  02 00 0a 6f 6e 4d 65 74 61 44 61 74 61            # "onMetaData"
  03                                                # object
  00 05 77 69 64 74 68                              #   key "width"
  00 40 84 00 00 00 00 00 00                        #   640
  00 00 09                                          # end
`);

/** The same metadata as players expect it: the wrapper gone. */
const PLAYER_METADATA = hex(`
  02 00 0a 6f 6e 4d 65 74 61 44 61 74 61            # "onMetaData"
  03                                                # object
  00 05 77 69 64 74 68                              #   key "width"
  00 40 84 00 00 00 00 00 00                        #   640
  00 00 09                                          # end
`);

function started(hub = new RecordingHub(), key = "live/a"): { hub: RecordingHub; publisher: FlvPublisher } {
  const publisher = new FlvPublisher(key, "test", hub);
  publisher.start();
  return { hub, publisher };
}

Deno.test("FlvPublisher.push() stores a script tag's @setDataFrame onMetaData as the stream's metadata, unwrapped", () => {
  const { hub, publisher } = started();
  publisher.push({ type: TagType.ScriptData, timestamp: 0, data: WRAPPED_METADATA });
  assertEquals(hub.pushed.length, 1);
  assertEquals(hub.pushed[0].kind, "metadata");
  assertEquals(toHex(hub.pushed[0].payload), toHex(PLAYER_METADATA));
});

Deno.test("FlvPublisher.push() stores a bare onMetaData script tag as metadata too", () => {
  const { hub, publisher } = started();
  publisher.push({ type: TagType.ScriptData, timestamp: 0, data: PLAYER_METADATA });
  assertEquals(hub.pushed.map((p) => [p.kind, toHex(p.payload)]), [["metadata", toHex(PLAYER_METADATA)]]);
});

Deno.test("FlvPublisher.push() drops the omitMetadataKeys from onMetaData", () => {
  const hub = new RecordingHub();
  const publisher = new FlvPublisher("live/a", "test", hub, { omitMetadataKeys: ["duration", "filesize"] });
  publisher.start();
  const data = encodeData("onMetaData", { duration: 8, width: 320, filesize: 1000 });
  publisher.push({ type: TagType.ScriptData, timestamp: 0, data });
  assertEquals(decodeAmf0(hub.pushed[0].payload), ["onMetaData", { width: 320 }]);
});

Deno.test("FlvPublisher.push() sends other script data as data frames and drops @clearDataFrame", () => {
  const { hub, publisher } = started();
  const cue = encodeData("onCuePoint", { name: "a" });
  publisher.push({ type: TagType.ScriptData, timestamp: 40, data: cue });
  publisher.push({ type: TagType.ScriptData, timestamp: 80, data: encodeData("@clearDataFrame") });
  assertEquals(hub.pushed.map((p) => [p.kind, p.timestamp, toHex(p.payload)]), [[
    FrameKind.Data,
    40,
    toHex(cue),
  ]]);
  assertEquals(publisher.counts.dataMessages, 1);
});

Deno.test("FlvPublisher.push() hands audio and video bodies on unchanged, with the tag timestamp as the raw timestamp", () => {
  const { hub, publisher } = started();
  const tags = [
    { type: TagType.Video, timestamp: 5000, data: avcSequenceHeader() },
    { type: TagType.Video, timestamp: 5000, data: avcKeyframe() },
    { type: TagType.Audio, timestamp: 5023, data: aacRaw() },
  ] as const;
  for (const t of tags) publisher.push(t);
  assertEquals(hub.pushed.map((p) => [p.kind, p.timestamp]), [
    [FrameKind.Video, 5000],
    [FrameKind.Video, 5000],
    [FrameKind.Audio, 5023],
  ]);
  tags.forEach((t, i) => assert(hub.pushed[i].payload === t.data, `tag ${i} is handed on without a copy`));
  assertEquals(publisher.counts.videoFrames, 2);
  assertEquals(publisher.counts.audioFrames, 1);
});

Deno.test("FlvPublisher.push() drops empty audio and video tags", () => {
  const { hub, publisher } = started();
  publisher.push({ type: TagType.Video, timestamp: 0, data: new Uint8Array(0) });
  publisher.push({ type: TagType.Audio, timestamp: 0, data: new Uint8Array(0) });
  assertEquals(hub.pushed, []);
});

Deno.test("FlvPublisher.push() throws ProtocolError for a script tag with bad AMF", () => {
  const { publisher } = started();
  assertThrows(
    () => publisher.push({ type: TagType.ScriptData, timestamp: 0, data: hex("02 00 0a 6f 6e") }),
    ProtocolError,
  );
});

Deno.test("FlvPublisher.start() throws StreamBusyError when the name has a publisher", () => {
  const { hub } = started();
  const second = new FlvPublisher("live/a", "second", hub);
  assertThrows(() => second.start(), StreamBusyError);
  assert(!second.live);
});

Deno.test("FlvPublisher.stop() unpublishes once, and pushes afterwards go nowhere", () => {
  const { hub, publisher } = started();
  publisher.stop();
  publisher.stop();
  assertEquals(hub.unpublished, ["live/a"]);
  publisher.push({ type: TagType.Video, timestamp: 0, data: avcKeyframe() });
  assertEquals(hub.pushed, []);
});

Deno.test("FlvPublisher.close() from the hub stops it and tells its owner why", () => {
  const { hub, publisher } = started();
  const reasons: string[] = [];
  publisher.onClose = (r) => reasons.push(r);
  publisher.close("server stopping");
  assertEquals(reasons, ["server stopping"]);
  assertEquals(hub.unpublished, ["live/a"]);
});

Deno.test("FlvPublisher under a StreamHub: the stream goes into the reconnect grace when it stops", () => {
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0 }, new RecordingLogger());
  try {
    const publisher = new FlvPublisher("live/a", "test", hub);
    publisher.start();
    publisher.push({ type: TagType.ScriptData, timestamp: 0, data: WRAPPED_METADATA });
    publisher.push({ type: TagType.Video, timestamp: 0, data: avcKeyframe() });
    const stream = hub.get("live/a")!;
    assertEquals(toHex(stream.metadata!.payload), toHex(PLAYER_METADATA));
    assertEquals(stream.stats.videoFrames, 1);
    assertThrows(() => new FlvPublisher("live/a", "second", hub).start(), StreamBusyError);
    publisher.stop();
    assertEquals(stream.state, "grace");
  } finally {
    hub.stop();
  }
});

Deno.test("FlvPublisher exposes its options' protocol and remote as PublisherHandle labels, which stream snapshots show", () => {
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0 }, new RecordingLogger());
  const publisher = new FlvPublisher("live/a", "http-push 10.0.0.9:4000", hub, {
    protocol: "http-push",
    remote: "10.0.0.9:4000",
  });
  assertEquals([publisher.protocol, publisher.remote], ["http-push", "10.0.0.9:4000"]);
  publisher.start();
  const snap = hub.get("live/a")?.snapshot();
  assertEquals(snap?.publisher?.protocol, "http-push");
  assertEquals(snap?.publisher?.remote, "10.0.0.9:4000");
  const bare = new FlvPublisher("live/b", "file", hub);
  assertEquals([bare.protocol, bare.remote], [undefined, undefined]);
  hub.stop();
});
