/**
 * Clients that connect with objectEncoding 3 (AMF3) and then send their
 * commands and data as AMF3-wrapped messages (types 17 and 15: a 0x00 format
 * byte, then AMF0 values), as Flash-era players and some encoders do.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import { isAv, readMedia, readUntil, startServer, SyntheticStream, test } from "../_util/live.ts";
import { decodeAmf0, encodeAmf0 } from "../../src/amf/amf0.ts";
import { RtmpClient } from "../../src/rtmp/client/client.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";

/** An AMF3-wrapped message: format byte 0x00, then AMF0 values (RTMP spec 7.1.1 / 7.1.2). */
function amf3Wrapped(
  typeId: number,
  streamId: number,
  ...values: Parameters<typeof encodeAmf0>
): RtmpMessage {
  const body = encodeAmf0(...values);
  const payload = new Uint8Array(1 + body.length);
  payload.set(body, 1);
  return { csid: ChunkStreamId.Command, typeId, streamId, timestamp: 0, payload };
}

test("RTMP: an objectEncoding 3 client publishes with type 17 commands and type 15 metadata, and a player gets it", async () => {
  const server = await startServer();
  const pub = await RtmpClient.connect(`${server.app}/amf3`, { objectEncoding: 3 });
  const viewer = await RtmpClient.connect(`${server.app}/amf3`);
  try {
    // createStream and publish as CommandAmf3 (17); the server's first stream id is 1.
    await pub.sendMessages([
      amf3Wrapped(MessageType.CommandAmf3, 0, "createStream", 2, null),
      amf3Wrapped(MessageType.CommandAmf3, 1, "publish", 0, null, "amf3", "live"),
      amf3Wrapped(MessageType.DataAmf3, 1, "@setDataFrame", "onMetaData", { width: 640, height: 360 }),
    ]);
    const syn = new SyntheticStream({ marker: 0x33 });
    const toMessages = (frames: ReturnType<SyntheticStream["next"]>): RtmpMessage[] =>
      frames.map((f) => ({
        csid: f.kind === MessageType.Video ? ChunkStreamId.Video : ChunkStreamId.Audio,
        typeId: f.kind,
        streamId: 1,
        timestamp: f.timestamp,
        payload: f.payload,
      }));
    await pub.sendMessages(toMessages(syn.headers()));
    const player = await viewer.play("amf3");
    for (let i = 0; i < 30; i++) await pub.sendMessages(toMessages(syn.next()));
    const { match: meta } = await readUntil(
      player,
      (ev) =>
        ev.type === "media" && ev.kind === MessageType.DataAmf0 && decodeAmf0(ev.payload)[0] === "onMetaData",
      "onMetaData",
    );
    assert(meta.type === "media");
    // Stored as players expect it: AMF0 (no 0x00 format byte, no @setDataFrame), the object intact.
    assertEquals(decodeAmf0(meta.payload), ["onMetaData", { width: 640, height: 360 }]);
    const media = await readMedia(player, 20);
    assert(media.length >= 20, `the player got ${media.length} frames`);
    assert(media.every(isAv));
  } finally {
    await viewer.close();
    await pub.close();
    await server.stop();
  }
});
