// The ABI shared by the WebAssembly module and its host (src/wasm/). Every
// constant here is exported from index.ts, so the host reads addresses, sizes
// and status codes from the instance instead of repeating them.
//
// The module imports its memory (env.memory). The host makes one memory per
// instance and never grows it, so views built over it stay valid for the life
// of the instance. Two roles use the same module with different memories:
//
//   conn  - one instance per RTMP connection: chunk demux state and the
//           socket's input region. CONN_PAGES pages.
//   codec - one instance per process for synchronous, stream-level work:
//           chunk mux, NAL scanning, FLV packing. CODEC_PAGES pages.
//
// The first 1 KiB is left to the compiler's static data (the stub runtime
// never allocates; the layout test checks the data end stays below it).

// ---- status codes: 0 and up is success (often a count), negative is an error

export const ST_OK: i32 = 0;
/** A chunk header's format or field is impossible (e.g. a type 1-3 chunk with no previous header). */
export const ST_BAD_HEADER: i32 = -1;
/** A message declares a length above the configured cap. */
export const ST_MESSAGE_TOO_LONG: i32 = -2;
/** Set Chunk Size asked for a size outside 1..the cap. */
export const ST_BAD_CHUNK_SIZE: i32 = -3;
/** More chunk streams are open at once than the table holds. */
export const ST_TOO_MANY_CHUNK_STREAMS: i32 = -4;
/** The input does not fit the region, or a length argument is out of range. */
export const ST_INPUT_TOO_LONG: i32 = -5;
/** The output does not fit the region. */
export const ST_OUTPUT_TOO_LONG: i32 = -6;
/** A bitstream (SPS, Annex B, AVCC) is malformed. */
export const ST_BAD_BITSTREAM: i32 = -7;
/** A message header field is out of range for the chunk format (e.g. length over 24 bits). */
export const ST_BAD_ARGUMENT: i32 = -8;

// ---- conn role memory map (per connection)

export const CONN_PAGES: i32 = 2;
/** Parser state and the chunk-stream table. */
export const CONN_STATE_PTR: i32 = 1024;
export const CONN_STATE_SIZE: i32 = 7168;
/** Events written by parse(): fixed-size records, see chunk_parse.ts. */
export const CONN_EVENTS_PTR: i32 = 8192;
export const EVENT_SIZE: i32 = 32;
export const CONN_EVENTS_CAP: i32 = 768;
/** Socket bytes land here (conn.read() straight into a view of it). */
export const CONN_INPUT_PTR: i32 = 32768;
export const CONN_INPUT_SIZE: i32 = 98304;
/** The input region's first bytes hold an incomplete chunk header carried over from the last read,
 *  right-aligned so that it ends where the next read starts (a header is at most 18 bytes). */
export const CONN_CARRY_SIZE: i32 = 32;
/** Where socket reads land: CONN_INPUT_PTR + CONN_CARRY_SIZE, up to the end of the input region. */
export const CONN_READ_PTR: i32 = 32800;

// ---- codec role memory map (one per process)

export const CODEC_PAGES: i32 = 400;
/** Spans (offset, length) written by the NAL scanner, 8 bytes each. */
export const CODEC_SPANS_PTR: i32 = 65536;
export const CODEC_SPANS_CAP: i32 = 122880;
/** Input to mux / scan / pack. */
export const CODEC_IN_PTR: i32 = 1048576;
export const CODEC_IN_SIZE: i32 = 9437184;
/** Output of mux / convert / pack. */
export const CODEC_OUT_PTR: i32 = 10485760;
export const CODEC_OUT_SIZE: i32 = 15728640;

// ---- caps

/** The largest chunk size a peer may set (and the server may use). */
export const MAX_CHUNK_SIZE: i32 = 16777215;
/** Hard ceiling for the configurable message-length cap: the codec input region. */
export const MAX_MESSAGE_LENGTH: i32 = 9437184;
/** Chunk streams a connection may have open at once (nginx-rtmp's max_streams is 32). */
export const MAX_CHUNK_STREAMS: i32 = 64;

// ---- MPEG-TS (ts_packet.ts)

/** The largest PES packet one tsPacketize call splits: its packets (188/184 of it and a few more) fit CODEC_OUT_SIZE. */
export const TS_MAX_PES_SIZE: i32 = 12582912;
