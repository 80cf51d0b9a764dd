/**
 * `deno task bench micro`: MB/s of each hot path, the WASM module beside its
 * plain TypeScript twin, on inputs of realistic shape (a ~1 Mbit/s H.264 + AAC
 * stream with a 2 s GOP, made by ffmpeg; RTMP chunk sizes 128 and 4096).
 *
 * Each figure is the best of several timed rounds of about 200 ms.
 *
 * @module
 */
import { FlvReader } from "../src/media/flv.ts";
import type { RtmpMessage } from "../src/rtmp/message.ts";
import { ChunkReader as WasmReader } from "../src/wasm/chunk_reader.ts";
import { encodeMessage as wasmEncode } from "../src/wasm/chunk_writer.ts";
import * as wasmFlv from "../src/wasm/flv_pack.ts";
import * as wasmNal from "../src/wasm/nal.ts";
import * as wasmTs from "../src/wasm/ts_packetizer.ts";
import * as wasmRtp from "../src/wasm/rtp_packetizer.ts";
import { avccUnits } from "../src/media/rtp/h264_packetizer.ts";
import { ChunkReader as TsReader } from "../test/_util/chunk_reader_ref.ts";
import { encodeMessage as tsEncode } from "../test/_util/chunk_writer_ref.ts";
import * as tsFlv from "../test/_util/flv_pack_ref.ts";
import * as tsNal from "../test/_util/nal_ref.ts";
import * as tsTs from "../test/_util/ts_packetizer_ref.ts";
import * as tsRtp from "../test/_util/rtp_packetizer_ref.ts";
import { benchFlv, benchH264 } from "./media.ts";
import { concatBytes } from "../src/bytes.ts";

const READ_SIZE = 16 * 1024;
const ROUNDS = 7;
const ROUND_MS = 200;

/** Runs `fn` (which processes `bytes` bytes) repeatedly; returns the best MB/s over the rounds. */
function mbps(bytes: number, fn: () => void): number {
  for (let i = 0; i < 3; i++) fn(); // warm up the JIT
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ROUND_MS) {
      fn();
      n++;
      t = performance.now();
    }
    best = Math.max(best, (bytes * n) / 1e6 / ((t - t0) / 1000));
  }
  return best;
}

interface Row {
  path: string;
  wasm: number;
  ts: number;
}

export async function runMicro(_args: string[]): Promise<void> {
  const flvBytes = await Deno.readFile(await benchFlv(20));
  const reader = new FlvReader();
  const tags = reader.push(flvBytes);
  const messages: RtmpMessage[] = tags.map((t) => ({
    csid: t.type === 8 ? 4 : t.type === 9 ? 6 : 5,
    typeId: t.type,
    streamId: 1,
    timestamp: t.timestamp,
    payload: t.data,
  }));
  const payloadBytes = messages.reduce((s, m) => s + m.payload.length, 0);
  const rows: Row[] = [];

  for (const chunkSize of [128, 4096]) {
    // The wire form: a Set Chunk Size message (when not 128), then every message, delta headers after the first.
    const parts: Uint8Array[] = [];
    if (chunkSize !== 128) {
      const p = new Uint8Array(4);
      new DataView(p.buffer).setUint32(0, chunkSize);
      parts.push(tsEncode({ csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: p }, 128, "full"));
    }
    const prev = new Map<number, number>();
    for (const m of messages) {
      const last = prev.get(m.csid);
      parts.push(tsEncode(m, chunkSize, last === undefined ? "full" : "delta", last ?? 0));
      prev.set(m.csid, m.timestamp);
    }
    const wire = concatBytes(parts);
    // One reader per connection, long-lived, as in the server: the wire replays cleanly into it (it starts
    // with full headers), so the instance is made once, outside the timed loop.
    const demux = (r: { readable(): Uint8Array; commit(n: number): RtmpMessage[] }) => () => {
      let count = 0;
      for (let o = 0; o < wire.length; o += READ_SIZE) {
        const piece = wire.subarray(o, Math.min(wire.length, o + READ_SIZE));
        const view = r.readable();
        view.set(piece);
        count += r.commit(piece.length).length;
      }
      if (count !== messages.length + (chunkSize !== 128 ? 1 : 0)) {
        throw new Error(`demux lost messages: ${count}`);
      }
    };
    rows.push({
      path: `chunk demux, chunk size ${chunkSize} (${READ_SIZE / 1024} KiB reads)`,
      wasm: mbps(wire.length, demux(new WasmReader())),
      ts: mbps(wire.length, demux(new TsReader())),
    });
    const mux = (enc: typeof wasmEncode) => () => {
      const last = new Map<number, number>();
      for (const m of messages) {
        const l = last.get(m.csid);
        enc(m, chunkSize, l === undefined ? "full" : "delta", l ?? 0);
        last.set(m.csid, m.timestamp);
      }
    };
    rows.push({
      path: `chunk mux, chunk size ${chunkSize}`,
      wasm: mbps(payloadBytes, mux(wasmEncode)),
      ts: mbps(payloadBytes, mux(tsEncode)),
    });
  }

  const h264 = await Deno.readFile(await benchH264(20));
  rows.push({
    path: "NAL scan (Annex B start codes), whole stream",
    wasm: mbps(h264.length, () => wasmNal.scanAnnexB(h264)),
    ts: mbps(h264.length, () => tsNal.scanAnnexB(h264)),
  });
  rows.push({
    path: "Annex B -> AVCC, whole stream",
    wasm: mbps(h264.length, () => wasmNal.annexBToAvcc(h264)),
    ts: mbps(h264.length, () => tsNal.annexBToAvcc(h264)),
  });
  const media = tags.filter((t) => t.type !== 18);
  rows.push({
    path: "FLV tag packing, one tag per call",
    wasm: mbps(payloadBytes, () => {
      for (const t of media) wasmFlv.packTag(t.type as 8 | 9, t.timestamp, t.data);
    }),
    ts: mbps(payloadBytes, () => {
      for (const t of media) tsFlv.packTag(t.type as 8 | 9, t.timestamp, t.data);
    }),
  });
  // One PES per frame, as the TS muxer packs them: video on PID 0x100 with a PCR, audio on 0x101.
  const packetize = (impl: typeof tsTs) => () => {
    for (const t of media) {
      const video = t.type === 9;
      impl.packetizePes([t.data], {
        pid: video ? 0x100 : 0x101,
        continuity: 0,
        randomAccess: video ? (t.data[0] >> 4) === 1 : true,
        ...(video && { pcr: t.timestamp * 27_000 }),
      });
    }
  };
  rows.push({
    path: "MPEG-TS packetizing, one PES per frame",
    wasm: mbps(payloadBytes, packetize(wasmTs)),
    ts: mbps(payloadBytes, packetize(tsTs)),
  });
  // One call per video frame, as H264Packetizer packs an access unit: its NAL units at 1400-byte payloads.
  const accessUnits = media
    .filter((t) => t.type === 9 && t.data[0] % 16 === 7 && t.data[1] === 1)
    .map((t) => avccUnits(t.data.subarray(5), 4))
    .filter((units) => units.length > 0);
  const auBytes = accessUnits.reduce((s, units) => s + units.reduce((n, u) => n + u.length, 0), 0);
  const rtp = (impl: typeof tsRtp) => () => {
    for (const units of accessUnits) {
      impl.packetizeNals(units, {
        payloadType: 96,
        ssrc: 0x5eed,
        sequence: 0,
        timestamp: 0,
        maxPayloadSize: 1400,
      });
    }
  };
  rows.push({
    path: "RTP packetizing (H.264 FU-A), one access unit per call",
    wasm: mbps(auBytes, rtp(wasmRtp)),
    ts: mbps(auBytes, rtp(tsRtp)),
  });

  const mbit = ((payloadBytes * 8) / 1e6 / 20).toFixed(2);
  console.log(
    `micro bench: ${messages.length} messages, ${mbit} Mbit/s over 20 s (H.264 High + AAC, 2 s GOP)`,
  );
  console.log(
    `${"hot path".padEnd(52)} ${"WASM MB/s".padStart(10)} ${"TS MB/s".padStart(10)} ${"WASM/TS".padStart(8)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.path.padEnd(52)} ${r.wasm.toFixed(0).padStart(10)} ${r.ts.toFixed(0).padStart(10)} ${
        (r.wasm / r.ts).toFixed(2).padStart(8)
      }`,
    );
  }
}
