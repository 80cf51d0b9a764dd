/*
 * players.c: the C twin of bench/players.ts, a process of N light RTMP or
 * HTTP-FLV players for `deno task bench` (issue 13 asks for figures taken with
 * a load generator written in C). At 800 players the Deno process saturates
 * its core, which inflates time to first frame and may hold delivery back; this
 * one does the same work in one thread with epoll and no allocation per frame.
 *
 * The contract is players.ts's, line for line:
 *
 *   players_c URL N SECONDS      URL rtmp://host:port/app/name or http://host:port/app/name.flv
 *
 * - A probe player connects first and reads eagerly; the time at which it sees
 *   each video timestamp is the live edge. "probe ready" once its play request
 *   is written; "probe failed: REASON" (exit 1) if it fails before that.
 * - stdin, a line each: "go" (the N players join, 25 every 20 ms, from
 *   JOIN_PHASE_MS, 1000 ms, after the next keyframe the probe sees: every run
 *   joins at the same point of the GOP, so the GOP bursts and a GOP-less
 *   server's wait for a keyframe are the same from run to run; JOIN_PHASE_MS=-1
 *   joins at once; with no keyframe within 5 s of "go" they join then), "mark" (the
 *   media bytes delivered to the players so far; two marks give windowBytes),
 *   "stop" (the players end; the probe 500 ms later). SECONDS bounds the run.
 * - "playing X ms after go" once every player has its first frame or failed.
 * - At the end one JSON line: {"probe":R,"players":[R...],"joinMs":ms,"windowBytes":n}
 *   where R has tally.ts's PlayerResult fields.
 *
 * Pacing (tally.ts): a player that sets up (connect, handshake or request,
 * waiting for its first keyframe) reads as soon as its socket is ready; once it
 * has its first frame it reads only at sweeps, every SWEEP_MS (20) ms on one
 * clock shared by the process: one read() of up to 96 KiB per player per sweep,
 * as a real player with a buffer does. The probe always reads eagerly.
 *
 * Memory is bounded: players keep no media. The RTMP chunk parser and the FLV
 * parser are streaming ones that keep, per message, its header and its first 4
 * payload bytes (enough to classify a frame and read a control value); every
 * read goes into one shared 96 KiB buffer. A setup block (pending output, S1,
 * the response head) lives only until the player has sent its request and
 * read what comes before the media.
 *
 * Linux only (epoll, timerfd); libc and POSIX otherwise. bench/players_c.ts
 * builds it on demand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* ---- limits and pacing (players.ts, tally.ts) */

/** Bytes per read: what the Deno player reads at most (the RTMP reader's input region). */
#define READ_BYTES (96 * 1024)
/** Players join in batches of this many... */
#define JOIN_BATCH 25
/** ...this many ms apart (players.ts). */
#define JOIN_GAP_MS 20.0
/** The join starts this long after the keyframe that follows "go"; JOIN_PHASE_MS in the environment changes it. */
#define STANDARD_JOIN_PHASE_MS 1000.0
/** With no keyframe this long after "go" (an audio-only stream), the join starts anyway. */
#define KEYFRAME_WAIT_MS 5000.0
/** The probe ends this long after "stop" (players.ts). */
#define PROBE_TAIL_MS 500.0
/** tally.ts STANDARD_SWEEP_MS; SWEEP_MS in the environment changes it. */
#define STANDARD_SWEEP_MS 20.0
#define MAX_SWEEP_MS 10000.0
#define MAX_PLAYERS 20000
#define MAX_SECONDS 3600.0
/** The longest URL accepted: its pieces go into fixed-size opening messages. */
#define MAX_URL 400
/** Live-edge points kept (a video timestamp each): 36 minutes at 240 fps. */
#define EDGE_CAP (1 << 19)
/** Room for pending output: C0+C1, or C2 and the opening commands, or the GET. */
#define OUT_CAP 4096
/** Room for S1, or for the response head (a longer head fails the player). */
#define AUX_CAP 8192
/** A chunk size line longer than this fails the player. */
#define SIZE_LINE_CAP 32
/** epoll events taken per wait. */
#define MAX_EVENTS 256
/** Room for an error message. */
#define ERROR_CAP 160
/** stdin lines longer than this are ignored. */
#define LINE_CAP 256

/* ---- RTMP (Adobe RTMP Specification 1.0) */

/** 5.2.2: the version byte of C0 and S0. */
#define RTMP_VERSION 3
/** 5.2.3: C1, S1, C2 and S2 are this long. */
#define HANDSHAKE_SIZE 1536
/** 5.4.1: the chunk size until the peer sends Set Chunk Size. */
#define DEFAULT_CHUNK_SIZE 128
/** The chunk size this client sends with (rtmp_open.ts). */
#define CLIENT_CHUNK_SIZE 4096
/** src/wasm/chunk_reader.ts DEFAULT_MAX_MESSAGE_LENGTH: 8 MiB. */
#define MAX_MESSAGE_LENGTH (8u * 1024 * 1024)
/** wasm/assembly/abi.ts MAX_CHUNK_SIZE: the largest chunk size a peer may set. */
#define MAX_CHUNK_SIZE 16777215u
/** wasm/assembly/abi.ts MAX_CHUNK_STREAMS: chunk streams one connection may open. */
#define MAX_CHUNK_STREAMS 64
/** 5.3.1.3: a 3-byte timestamp field of 0xFFFFFF means an extended timestamp follows. */
#define EXTENDED_MARK 0xffffffu
/** 5.3.1.1: 2- and 3-byte basic headers count chunk stream ids from 64. */
#define CSID_OFFSET 64u
/** The largest chunk header: a 3-byte basic header, a type 0 header, an extended timestamp. */
#define MAX_CHUNK_HEADER (3 + 11 + 4)

/** 5.3.1.2: message header bytes per chunk format 0..3. */
static const uint8_t MESSAGE_HEADER_BYTES[4] = {11, 7, 3, 0};

/** Message type ids (5.4, 7.1). */
enum {
  /** 5.4.1 Set Chunk Size. */
  MSG_SET_CHUNK_SIZE = 1,
  /** 5.4.2 Abort Message. */
  MSG_ABORT = 2,
  /** 7.1.4 Audio Message. */
  MSG_AUDIO = 8,
  /** 7.1.5 Video Message. */
  MSG_VIDEO = 9,
  /** 7.1.1 Command Message, AMF0. */
  MSG_COMMAND_AMF0 = 20,
};

/** Chunk stream ids this client sends on (src/rtmp/message.ts ChunkStreamId). */
enum {
  /** 5.3.1.1: protocol control messages. */
  CSID_CONTROL = 2,
  /** Commands. */
  CSID_COMMAND = 3,
};

/** AMF0 type markers (AMF0 Specification 2.1). */
enum {
  AMF0_NUMBER = 0x00,
  AMF0_STRING = 0x02,
  AMF0_OBJECT = 0x03,
  AMF0_NULL = 0x05,
  AMF0_OBJECT_END = 0x09,
};

/* ---- FLV (FLV specification v10.1) */

/** E.4.1 TagType; also the RTMP message type ids of audio and video. */
enum { TAG_AUDIO = 8, TAG_VIDEO = 9, TAG_SCRIPT_DATA = 18 };
/** E.2: the FLV header. */
#define FLV_HEADER_SIZE 9
/** E.4.1: TagType, DataSize, Timestamp, TimestampExtended, StreamID. */
#define TAG_HEADER_SIZE 11
/** src/media/flv.ts DEFAULT_MAX_TAG_SIZE: 8 MiB. */
#define MAX_TAG_SIZE (8u * 1024 * 1024)
/** src/media/flv.ts: a DataOffset above this is refused. */
#define MAX_DATA_OFFSET 1024u
/** E.4.3.1 VIDEODATA FrameType 1: key frame. */
#define FRAME_TYPE_KEY 1
/** E.4.3.1 VIDEODATA CodecID 7: AVC. */
#define CODEC_AVC 7
/** E.4.3.2 AVCPacketType. */
enum { AVC_SEQUENCE_HEADER = 0, AVC_NALU = 1 };
/** Enhanced RTMP VideoPacketType (src/media/flv.ts ExVideoPacketType). */
enum { EX_SEQUENCE_START = 0, EX_CODED_FRAMES = 1, EX_CODED_FRAMES_X = 3 };
/** Enhanced RTMP: bit 7 of a video tag's first byte, IsExHeader. */
#define EX_HEADER_BIT 0x80

/* ---- state */

/** One chunk stream's memory between chunks (chunk_reader_ref.ts ChunkStream); no payload kept. */
struct chunk_stream {
  uint32_t csid, timestamp, delta, length, stream_id, received;
  uint8_t type, extended, in_message;
  /** The message's first payload bytes: a frame's tag header, a control message's value. */
  uint8_t head[4];
};

/** An RTMP player's input: the handshake, then the chunk stream. */
struct rtmp_in {
  /** S0 + S1 + S2 bytes read so far. */
  uint32_t hs_got;
  /** ms from connect to S1's last byte: C2's time2 (5.2.4). */
  uint32_t s1_read_at;
  uint32_t chunk_size;
  /** A chunk header gathered across reads. */
  uint8_t hdr[MAX_CHUNK_HEADER];
  uint8_t hdr_len;
  uint8_t nstreams;
  /** The chunk stream whose chunk payload is being read, and its bytes left in the chunk. */
  int16_t current;
  uint32_t left;
  struct chunk_stream streams[MAX_CHUNK_STREAMS];
};

/** FlvReader's states (src/media/flv.ts). */
enum { FLV_HEADER, FLV_SKIP, FLV_PREV_SIZE, FLV_TAG_HEADER, FLV_DATA };

/** An HTTP-FLV player's input: the response head, the chunked framing, the FLV stream in it. */
struct http_in {
  bool head_done, chunked, ended;
  /** Chunked framing (RFC 9112 7.1): data bytes left in this chunk, or -1 while reading a size line. */
  int64_t left;
  /** The CRLF after a chunk's data still to skip. */
  uint8_t crlf;
  uint8_t size_len;
  char size_line[SIZE_LINE_CAP];
  /** The FLV stream: state, a fixed-size field gathered across pieces, the current tag. */
  uint8_t flv_state;
  uint8_t small_len;
  uint8_t small[TAG_HEADER_SIZE];
  uint8_t tag_type;
  uint8_t head[4];
  uint32_t skip, prev_tag_size, tag_ts, tag_size, tag_got;
  uint64_t offset;
};

/** What a player holds only while it sets up: pending output, and S1 or the response head. */
struct setup {
  uint8_t out[OUT_CAP];
  size_t out_len, out_off;
  uint8_t aux[AUX_CAP];
  size_t aux_len;
};

/** A player's stage. */
enum { ST_WAITING, ST_CONNECTING, ST_OPEN, ST_DONE };

/** One player: its socket, its parser, and its PlayerResult (tally.ts). */
struct player {
  int fd;
  uint8_t stage;
  bool probe;
  /** Reading at sweeps (it has its first frame); out of epoll then. */
  bool sweeping;
  /** The play request (play, or the GET) is written. */
  bool ready;
  /** The play request is queued: once the output drains, the player is ready. */
  bool requested;
  /** Has its first frame or failed: counted for "playing". */
  bool settled;
  bool failed;
  uint32_t events;
  /** When it started to connect, ms on the process clock. */
  double t0;
  struct setup *setup;
  /* PlayerResult */
  long long frames, video_frames, bytes;
  double first_frame_ms, lag_ms;
  int64_t first_ts, last_ts;
  char error[ERROR_CAP];
  union {
    struct rtmp_in rtmp;
    struct http_in http;
  } in;
};

/** The live edge: when the probe saw each video timestamp, in timestamp order. */
static struct {
  int64_t ts;
  double at;
} edge[EDGE_CAP];
static size_t edge_len;

/** The URL's pieces. */
static bool is_rtmp;
static char host[MAX_URL + 1], app[MAX_URL + 1], name[MAX_URL + 1], path[MAX_URL + 1];
static unsigned port;
static struct sockaddr_storage addr;
static socklen_t addr_len;

static struct player *players; /* players[0] is the probe */
static int n_players;
static int joined, settled, live;
static int ep;
static double sweep_ms = STANDARD_SWEEP_MS;
static double join_phase_ms = STANDARD_JOIN_PHASE_MS;
/** When the probe last saw a keyframe (now_ms()); -1 before the first. */
static double probe_key_at = -1;
static struct timespec origin;
static double stop_at, probe_stop_at;
static uint8_t read_buf[READ_BYTES];
static uint64_t rng;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - origin.tv_sec) * 1e3 + (double)(t.tv_nsec - origin.tv_nsec) / 1e6;
}

static uint32_t u24(const uint8_t *b) { return ((uint32_t)b[0] << 16) | ((uint32_t)b[1] << 8) | b[2]; }

static uint32_t u32(const uint8_t *b) {
  return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static void put_u32(uint8_t *b, uint32_t v) {
  b[0] = (uint8_t)(v >> 24);
  b[1] = (uint8_t)(v >> 16);
  b[2] = (uint8_t)(v >> 8);
  b[3] = (uint8_t)v;
}

/** xorshift64: C1's random bytes (not a secret, only not constant). */
static uint8_t random_byte(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint8_t)(rng >> 24);
}

/** Exits 2 with a message: misuse, or what the process cannot do at all. */
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

/* ---- epoll bookkeeping */

/** epoll data for the two non-player fds. */
enum { EV_STDIN = -1, EV_SWEEP = -2 };

/** What the player waits for: the probe and setting-up players are in epoll, sweeping ones are not. */
static void watch(struct player *p) {
  uint32_t want = 0;
  if (p->stage == ST_CONNECTING) {
    want = EPOLLOUT;
  } else if (p->stage == ST_OPEN && !p->sweeping) {
    want = EPOLLIN;
    if (p->setup && p->setup->out_off < p->setup->out_len) want |= EPOLLOUT;
  }
  if (want == p->events) return;
  struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)(p - players)};
  int op = p->events == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl(ep, op, p->fd, &ev) < 0) die("Cannot watch a player's socket: %s", strerror(errno));
  p->events = want;
}

/** Ends a player: closes its socket and frees its setup block. */
static void end_player(struct player *p) {
  if (p->stage == ST_DONE) return;
  if (p->fd >= 0) close(p->fd); /* closing drops it from epoll */
  p->fd = -1;
  p->events = 0;
  free(p->setup);
  p->setup = NULL;
  if (!p->probe && p->stage != ST_WAITING) live--;
  p->stage = ST_DONE;
}

/** Fails a player with `fmt` as its error (the first reason is kept). Returns false. */
static bool fail(struct player *p, const char *fmt, ...) {
  if (!p->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    p->failed = true;
  }
  if (!p->probe && !p->settled) {
    p->settled = true;
    settled++;
  }
  end_player(p);
  return false;
}

/* ---- the tally (tally.ts) */

/** The probe's arrival time of the newest edge timestamp <= ts, or -1 when none. */
static double edge_at(int64_t ts) {
  size_t lo = 0, hi = edge_len;
  double found = -1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (edge[mid].ts <= ts) {
      found = edge[mid].at;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return found;
}

/** One whole video picture; pictures before the first keyframe do not count (Tally.picture). */
static void picture(struct player *p, int64_t ms, bool keyframe, double now) {
  if (p->first_ts < 0 && !keyframe) return;
  p->video_frames++;
  if (p->first_frame_ms < 0) {
    p->first_frame_ms = now - p->t0;
    if (!p->probe && !p->settled) {
      p->settled = true;
      settled++;
    }
  }
  if (p->first_ts < 0) p->first_ts = ms;
  p->last_ts = ms;
  if (p->probe && keyframe) probe_key_at = now;
  if (p->probe && (edge_len == 0 || edge[edge_len - 1].ts <= ms) && edge_len < EDGE_CAP) {
    edge[edge_len].ts = ms;
    edge[edge_len].at = now;
    edge_len++;
  }
}

/**
 * One audio or video message or tag of `len` bytes whose first bytes are `head` (Tally.frame), classified
 * as src/media/frame.ts `classify` does a video payload.
 */
static void frame(struct player *p, int type, int64_t ts, uint32_t len, const uint8_t *head, double now) {
  p->frames++;
  p->bytes += len;
  if (type != TAG_VIDEO || len == 0) {
    /* classify: an empty payload is neither keyframe nor sequence header, so a picture */
    if (type == TAG_VIDEO) picture(p, ts, false, now);
    return;
  }
  uint8_t b0 = head[0];
  bool keyframe, sequence_header;
  if (b0 & EX_HEADER_BIT) {
    /* Enhanced RTMP: bits 4-6 FrameType, bits 0-3 PacketType */
    int frame_type = (b0 >> 4) & 0x07, packet_type = b0 & 0x0f;
    sequence_header = packet_type == EX_SEQUENCE_START;
    bool coded = packet_type == EX_CODED_FRAMES || packet_type == EX_CODED_FRAMES_X;
    keyframe = coded && frame_type == FRAME_TYPE_KEY;
  } else if ((b0 & 0x0f) == CODEC_AVC) {
    int packet_type = len > 1 ? head[1] : -1;
    keyframe = packet_type == AVC_NALU && (b0 >> 4) == FRAME_TYPE_KEY;
    sequence_header = packet_type == AVC_SEQUENCE_HEADER;
  } else {
    keyframe = (b0 >> 4) == FRAME_TYPE_KEY;
    sequence_header = false;
  }
  if (!sequence_header) picture(p, ts, keyframe, now);
}

/** After a read's frames: the lag behind the probe's arrival of the same timestamp (Tally.swept). */
static void swept(struct player *p, double now) {
  if (p->probe || p->last_ts < 0) return;
  double at = edge_at(p->last_ts);
  if (at >= 0) p->lag_ms = now - at;
}

/* ---- output */

/** Writes the pending output; once the play request is all written, the player is ready. */
static bool flush_out(struct player *p) {
  struct setup *s = p->setup;
  while (s && s->out_off < s->out_len) {
    ssize_t k = send(p->fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return fail(p, "Cannot write to the server: %s", strerror(errno));
    }
    s->out_off += (size_t)k;
  }
  if (p->requested && !p->ready) {
    p->ready = true;
    if (p->probe) {
      printf("probe ready\n");
      fflush(stdout);
    }
  }
  return true;
}

/** Room for `n` more bytes of output, or NULL (the player fails: the opening does not fit). */
static uint8_t *out_room(struct player *p, size_t n) {
  struct setup *s = p->setup;
  if (s->out_off == s->out_len) s->out_off = s->out_len = 0;
  if (s->out_len + n > OUT_CAP) {
    fail(p, "Cannot queue %zu bytes of output: %zu of %d pending", n, s->out_len - s->out_off, OUT_CAP);
    return NULL;
  }
  uint8_t *o = s->out + s->out_len;
  s->out_len += n;
  return o;
}

/* AMF0 values into a payload; `o` has room (the URL's length is bounded). */
static size_t amf_string(uint8_t *o, const char *v) {
  size_t n = strlen(v);
  o[0] = AMF0_STRING;
  o[1] = (uint8_t)(n >> 8);
  o[2] = (uint8_t)n;
  memcpy(o + 3, v, n);
  return 3 + n;
}

static size_t amf_number(uint8_t *o, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  o[0] = AMF0_NUMBER;
  for (int i = 0; i < 8; i++) o[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
  return 9;
}

static size_t amf_key(uint8_t *o, const char *k) {
  size_t n = strlen(k);
  o[0] = (uint8_t)(n >> 8);
  o[1] = (uint8_t)n;
  memcpy(o + 2, k, n);
  return 2 + n;
}

/**
 * Queues one message with a type 0 header (timestamp 0) on chunk stream `csid` (below 64), in chunks of
 * `chunk_size` payload bytes with type 3 headers after the first (5.3.1).
 */
static bool put_message(struct player *p, uint8_t csid, uint8_t type, uint32_t stream_id, const uint8_t *payload,
                        size_t len, size_t chunk_size) {
  size_t chunks = len == 0 ? 1 : (len + chunk_size - 1) / chunk_size;
  uint8_t *o = out_room(p, 12 + len + (chunks - 1));
  if (!o) return false;
  o[0] = csid;
  o[1] = o[2] = o[3] = 0; /* timestamp */
  o[4] = (uint8_t)(len >> 16);
  o[5] = (uint8_t)(len >> 8);
  o[6] = (uint8_t)len;
  o[7] = type;
  o[8] = (uint8_t)stream_id; /* the message stream id is little-endian (5.3.1.2.1) */
  o[9] = (uint8_t)(stream_id >> 8);
  o[10] = (uint8_t)(stream_id >> 16);
  o[11] = (uint8_t)(stream_id >> 24);
  o += 12;
  for (size_t off = 0; off < len; off += chunk_size) {
    if (off > 0) *o++ = (uint8_t)(0xc0 | csid);
    size_t n = len - off < chunk_size ? len - off : chunk_size;
    memcpy(o, payload + off, n);
    o += n;
  }
  return true;
}

/**
 * After S2: C2 (S1 echoed, time2 = when S1 was read, 5.2.4), Set Chunk Size 4096, connect, createStream
 * and play on message stream 1, as rtmp_open.ts and players.ts send them.
 */
static bool rtmp_opening(struct player *p) {
  uint8_t *c2 = out_room(p, HANDSHAKE_SIZE);
  if (!c2) return false;
  memcpy(c2, p->setup->aux, HANDSHAKE_SIZE);
  put_u32(c2 + 4, p->in.rtmp.s1_read_at);
  uint8_t size[4];
  put_u32(size, CLIENT_CHUNK_SIZE);
  if (!put_message(p, CSID_CONTROL, MSG_SET_CHUNK_SIZE, 0, size, 4, DEFAULT_CHUNK_SIZE)) return false;
  uint8_t b[4 * MAX_URL + 256];
  char tc_url[2 * MAX_URL + 32];
  snprintf(tc_url, sizeof tc_url, "rtmp://%s:%u/%s", host, port, app);
  size_t n = amf_string(b, "connect");
  n += amf_number(b + n, 1);
  b[n++] = AMF0_OBJECT;
  n += amf_key(b + n, "app");
  n += amf_string(b + n, app);
  n += amf_key(b + n, "tcUrl");
  n += amf_string(b + n, tc_url);
  n += amf_key(b + n, "flashVer");
  n += amf_string(b + n, "LNX 9,0,124,2");
  b[n++] = 0;
  b[n++] = 0;
  b[n++] = AMF0_OBJECT_END;
  if (!put_message(p, CSID_COMMAND, MSG_COMMAND_AMF0, 0, b, n, CLIENT_CHUNK_SIZE)) return false;
  n = amf_string(b, "createStream");
  n += amf_number(b + n, 2);
  b[n++] = AMF0_NULL;
  if (!put_message(p, CSID_COMMAND, MSG_COMMAND_AMF0, 0, b, n, CLIENT_CHUNK_SIZE)) return false;
  n = amf_string(b, "play");
  n += amf_number(b + n, 0);
  b[n++] = AMF0_NULL;
  n += amf_string(b + n, name);
  n += amf_number(b + n, -1000);
  if (!put_message(p, CSID_COMMAND, MSG_COMMAND_AMF0, 1, b, n, CLIENT_CHUNK_SIZE)) return false;
  p->requested = true;
  return flush_out(p);
}

/** Once connected: C0 + C1 (time, zero, random; 5.2.2, 5.2.3), or the GET. */
static bool open_player(struct player *p) {
  if (is_rtmp) {
    uint8_t *o = out_room(p, 1 + HANDSHAKE_SIZE);
    if (!o) return false;
    o[0] = RTMP_VERSION;
    put_u32(o + 1, (uint32_t)(now_ms() - p->t0));
    put_u32(o + 5, 0);
    for (int i = 9; i < 1 + HANDSHAKE_SIZE; i++) o[i] = random_byte();
    p->in.rtmp.chunk_size = DEFAULT_CHUNK_SIZE;
    p->in.rtmp.current = -1;
    return flush_out(p);
  }
  char req[3 * MAX_URL + 128];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: sluice-bench\r\n\r\n", path,
                   host, port);
  uint8_t *o = out_room(p, (size_t)n);
  if (!o) return false;
  memcpy(o, req, (size_t)n);
  p->in.http.left = -1;
  p->requested = true;
  return flush_out(p);
}

/* ---- RTMP input */

static struct chunk_stream *find_stream(struct rtmp_in *r, uint32_t csid) {
  for (int i = 0; i < r->nstreams; i++) {
    if (r->streams[i].csid == csid) return &r->streams[i];
  }
  return NULL;
}

/** The chunk stream id of a basic header (5.3.1.1) whose `basic` bytes are all in `h`. */
static uint32_t chunk_stream_id(const uint8_t *h) {
  uint32_t low = h[0] & 0x3fu;
  if (low == 0) return CSID_OFFSET + h[1];
  if (low == 1) return CSID_OFFSET + h[1] + h[2] * 256u;
  return low;
}

/** How many bytes the chunk header in r->hdr needs, from what it has so far (5.3.1). */
static size_t header_size(struct rtmp_in *r) {
  if (r->hdr_len < 1) return 1;
  int fmt = r->hdr[0] >> 6, low = r->hdr[0] & 0x3f;
  size_t basic = low == 0 ? 2 : low == 1 ? 3 : 1;
  if (r->hdr_len < basic) return basic;
  size_t mh = MESSAGE_HEADER_BYTES[fmt];
  if (r->hdr_len < basic + mh) return basic + mh;
  bool extended;
  if (fmt < 3) {
    extended = u24(r->hdr + basic) == EXTENDED_MARK;
  } else {
    struct chunk_stream *cs = find_stream(r, chunk_stream_id(r->hdr));
    extended = cs && cs->extended;
  }
  return basic + mh + (extended ? 4 : 0);
}

/** A message is complete: Set Chunk Size and Abort apply; audio and video count (ChunkReader #complete). */
static bool complete(struct player *p, struct chunk_stream *cs, double now) {
  struct rtmp_in *r = &p->in.rtmp;
  cs->in_message = 0;
  if (cs->type == MSG_SET_CHUNK_SIZE) {
    if (cs->length < 4) {
      return fail(p, "Cannot apply a Set Chunk Size message of %u bytes on chunk stream %u: need 4", cs->length,
                  cs->csid);
    }
    uint32_t size = u32(cs->head);
    if (size < 1 || size > MAX_CHUNK_SIZE) {
      return fail(p, "Cannot set chunk size to %u on chunk stream %u: allowed 1..%u", size, cs->csid,
                  MAX_CHUNK_SIZE);
    }
    r->chunk_size = size;
  } else if (cs->type == MSG_ABORT) {
    if (cs->length < 4) {
      return fail(p, "Cannot apply an Abort message of %u bytes on chunk stream %u: need 4", cs->length, cs->csid);
    }
    struct chunk_stream *target = find_stream(r, u32(cs->head));
    if (target) target->in_message = 0;
  } else if (cs->type == MSG_AUDIO || cs->type == MSG_VIDEO) {
    frame(p, cs->type, cs->timestamp, cs->length, cs->head, now);
  }
  return true;
}

/** A whole chunk header is in r->hdr: the chunk stream's state moves on (ChunkReader #header). */
static bool on_header(struct player *p, double now) {
  struct rtmp_in *r = &p->in.rtmp;
  const uint8_t *h = r->hdr;
  int fmt = h[0] >> 6, low = h[0] & 0x3f;
  size_t basic = low == 0 ? 2 : low == 1 ? 3 : 1;
  uint32_t csid = chunk_stream_id(h);
  size_t mh = MESSAGE_HEADER_BYTES[fmt];
  struct chunk_stream *cs = find_stream(r, csid);
  if (!cs && fmt != 0) {
    return fail(p, "Cannot parse a type %d chunk header on chunk stream %u: no previous header on it", fmt, csid);
  }
  const uint8_t *at = h + basic;
  uint32_t field = fmt < 3 ? u24(at) : 0;
  bool extended = fmt < 3 ? field == EXTENDED_MARK : cs->extended;
  if (cs && cs->in_message && fmt != 3) {
    return fail(p, "Cannot start a new message on chunk stream %u: current message has %u of %u bytes", csid,
                cs->received, cs->length);
  }
  uint32_t length = fmt <= 1 ? u24(at + 3) : 0;
  if (length > MAX_MESSAGE_LENGTH) {
    return fail(p, "Cannot accept a message of %u bytes on chunk stream %u: limit %u", length, csid,
                MAX_MESSAGE_LENGTH);
  }
  if (!cs) {
    if (r->nstreams >= MAX_CHUNK_STREAMS) {
      return fail(p, "Cannot open chunk stream %u: limit %d chunk streams", csid, MAX_CHUNK_STREAMS);
    }
    cs = &r->streams[r->nstreams++];
    memset(cs, 0, sizeof *cs);
    cs->csid = csid;
  }
  uint32_t value = extended ? u32(at + mh) : field;
  if (fmt < 3) cs->extended = extended;
  bool starts = !cs->in_message;
  switch (fmt) {
  case 0:
    cs->timestamp = value;
    cs->delta = 0;
    cs->length = length;
    cs->type = at[6];
    cs->stream_id = (uint32_t)at[7] | ((uint32_t)at[8] << 8) | ((uint32_t)at[9] << 16) | ((uint32_t)at[10] << 24);
    break;
  case 1:
    cs->delta = value;
    cs->timestamp += value;
    cs->length = length;
    cs->type = at[6];
    break;
  case 2:
    cs->delta = value;
    cs->timestamp += value;
    break;
  default:
    /* the extended field a type 3 chunk repeats is read past and ignored */
    if (starts) cs->timestamp += cs->delta;
  }
  if (starts) {
    cs->in_message = 1;
    cs->received = 0;
  }
  r->current = (int16_t)(cs - r->streams);
  uint32_t rest = cs->length - cs->received;
  r->left = rest < r->chunk_size ? rest : r->chunk_size;
  if (r->left == 0) return complete(p, cs, now);
  return true;
}

/** Chunk-stream bytes (5.3): headers gathered across reads, payloads counted and dropped. */
static bool chunks_feed(struct player *p, const uint8_t *d, size_t n, double now) {
  struct rtmp_in *r = &p->in.rtmp;
  size_t i = 0;
  while (i < n) {
    if (r->left > 0) {
      struct chunk_stream *cs = &r->streams[r->current];
      size_t take = r->left < n - i ? r->left : n - i;
      for (size_t k = 0; cs->received + k < 4 && k < take; k++) cs->head[cs->received + k] = d[i + k];
      cs->received += (uint32_t)take;
      r->left -= (uint32_t)take;
      i += take;
      if (r->left == 0 && cs->received == cs->length && !complete(p, cs, now)) return false;
      continue;
    }
    size_t need = header_size(r);
    while (r->hdr_len < need && i < n) {
      r->hdr[r->hdr_len++] = d[i++];
      need = header_size(r);
    }
    if (r->hdr_len < need) return true;
    r->hdr_len = 0;
    if (!on_header(p, now)) return false;
  }
  return true;
}

/** RTMP bytes: S0 + S1 + S2 first (5.2.5), then chunks. */
static bool rtmp_feed(struct player *p, const uint8_t *d, size_t n, double now) {
  struct rtmp_in *r = &p->in.rtmp;
  const uint32_t hs_total = 1 + 2 * HANDSHAKE_SIZE;
  size_t i = 0;
  while (i < n && r->hs_got < hs_total) {
    if (r->hs_got == 0) {
      if (d[i] != RTMP_VERSION) return fail(p, "Cannot handshake: current version %u in S0", d[i]);
      i++;
      r->hs_got++;
      continue;
    }
    uint32_t end = r->hs_got <= HANDSHAKE_SIZE ? 1 + HANDSHAKE_SIZE : hs_total;
    size_t take = end - r->hs_got < n - i ? end - r->hs_got : n - i;
    if (r->hs_got <= HANDSHAKE_SIZE) memcpy(p->setup->aux + r->hs_got - 1, d + i, take);
    r->hs_got += (uint32_t)take;
    i += take;
    if (r->hs_got == 1 + HANDSHAKE_SIZE) r->s1_read_at = (uint32_t)(now - p->t0);
    if (r->hs_got == hs_total && !rtmp_opening(p)) return false;
  }
  return chunks_feed(p, d + i, n - i, now);
}

/* ---- HTTP-FLV input */

/** A whole FLV tag: audio and video count (FlvReader #emit). */
static void flv_emit(struct player *p, double now) {
  struct http_in *h = &p->in.http;
  if (h->tag_type == TAG_AUDIO || h->tag_type == TAG_VIDEO) {
    frame(p, h->tag_type, h->tag_ts, h->tag_size, h->head, now);
  }
  h->flv_state = FLV_PREV_SIZE;
}

/** Gathers a fixed-size field into h->small; returns the bytes used and whether it is whole. */
static size_t collect(struct http_in *h, const uint8_t *d, size_t n, size_t size, bool *whole) {
  size_t take = size - h->small_len < n ? size - h->small_len : n;
  memcpy(h->small + h->small_len, d, take);
  h->small_len += (uint8_t)take;
  h->offset += take;
  *whole = h->small_len == size;
  if (*whole) h->small_len = 0;
  return take;
}

/** FLV stream bytes (E.2, E.3, E.4.1), checked as src/media/flv.ts FlvReader checks them. */
static bool flv_feed(struct player *p, const uint8_t *d, size_t n, double now) {
  struct http_in *h = &p->in.http;
  const uint8_t *s = h->small;
  size_t i = 0;
  bool whole;
  while (i < n) {
    switch (h->flv_state) {
    case FLV_HEADER:
      i += collect(h, d + i, n - i, FLV_HEADER_SIZE, &whole);
      if (!whole) break;
      if (s[0] != 'F' || s[1] != 'L' || s[2] != 'V') {
        return fail(p, "Cannot read FLV header: signature is %02x %02x %02x, expected 46 4c 56 (\"FLV\")", s[0],
                    s[1], s[2]);
      }
      if (u32(s + 5) < FLV_HEADER_SIZE || u32(s + 5) > MAX_DATA_OFFSET) {
        return fail(p, "Cannot read FLV header: DataOffset is %u, expected %d..%u", u32(s + 5), FLV_HEADER_SIZE,
                    MAX_DATA_OFFSET);
      }
      h->skip = u32(s + 5) - FLV_HEADER_SIZE;
      h->flv_state = h->skip > 0 ? FLV_SKIP : FLV_PREV_SIZE;
      break;
    case FLV_SKIP: {
      size_t take = h->skip < n - i ? h->skip : n - i;
      h->skip -= (uint32_t)take;
      h->offset += take;
      i += take;
      if (h->skip == 0) h->flv_state = FLV_PREV_SIZE;
      break;
    }
    case FLV_PREV_SIZE:
      i += collect(h, d + i, n - i, 4, &whole);
      if (!whole) break;
      if (u32(s) != h->prev_tag_size) {
        return fail(p, "Cannot read FLV stream at byte %llu: PreviousTagSize is %u, expected %u",
                    (unsigned long long)(h->offset - 4), u32(s), h->prev_tag_size);
      }
      h->flv_state = FLV_TAG_HEADER;
      break;
    case FLV_TAG_HEADER: {
      i += collect(h, d + i, n - i, TAG_HEADER_SIZE, &whole);
      if (!whole) break;
      unsigned long long at = (unsigned long long)(h->offset - TAG_HEADER_SIZE);
      /* E.4.1: Reserved UB[2], Filter UB[1] (1 = encrypted), TagType UB[5] */
      if (s[0] & 0x20) return fail(p, "Cannot read FLV tag at byte %llu: Filter is 1 (encrypted), not supported", at);
      int type = s[0] & 0x1f;
      if (type != TAG_AUDIO && type != TAG_VIDEO && type != TAG_SCRIPT_DATA) {
        return fail(p, "Cannot read FLV tag at byte %llu: TagType is %d, expected 8, 9 or 18", at, type);
      }
      uint32_t size = u24(s + 1);
      if (size > MAX_TAG_SIZE) {
        return fail(p, "Cannot read FLV tag at byte %llu: DataSize is %u, limit %u", at, size, MAX_TAG_SIZE);
      }
      h->tag_type = (uint8_t)type;
      h->tag_ts = ((uint32_t)s[7] << 24) | u24(s + 4);
      h->tag_size = size;
      h->tag_got = 0;
      h->prev_tag_size = TAG_HEADER_SIZE + size;
      h->flv_state = FLV_DATA;
      if (size == 0) flv_emit(p, now);
      break;
    }
    default: {
      size_t take = h->tag_size - h->tag_got < n - i ? h->tag_size - h->tag_got : n - i;
      for (size_t k = 0; h->tag_got + k < 4 && k < take; k++) h->head[h->tag_got + k] = d[i + k];
      h->tag_got += (uint32_t)take;
      h->offset += take;
      i += take;
      if (h->tag_got == h->tag_size) flv_emit(p, now);
    }
    }
  }
  return true;
}

/** The response head is in aux: the status (200 or fail) and whether the body is chunked. */
static bool parse_head(struct player *p) {
  struct http_in *h = &p->in.http;
  char *head = (char *)p->setup->aux;
  head[p->setup->aux_len - 4] = '\0'; /* drop the blank line */
  char *line_end = strstr(head, "\r\n");
  if (line_end) *line_end = '\0';
  char *sp = strchr(head, ' ');
  int status = sp ? atoi(sp + 1) : 0;
  if (status != 200) return fail(p, "HTTP status %d", status);
  for (char *l = line_end ? line_end + 2 : NULL; l && *l;) {
    char *next = strstr(l, "\r\n");
    if (next) *next = '\0';
    char *colon = strchr(l, ':');
    if (colon) {
      *colon = '\0';
      char *k = l, *v = colon + 1;
      while (*k == ' ' || *k == '\t') k++;
      while (*v == ' ' || *v == '\t') v++;
      size_t kl = strlen(k), vl = strlen(v);
      while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t')) k[--kl] = '\0';
      while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = '\0';
      if (strcasecmp(k, "transfer-encoding") == 0) h->chunked = strcasecmp(v, "chunked") == 0;
    }
    l = next ? next + 2 : NULL;
  }
  h->head_done = true;
  return true;
}

/** A chunk size line (RFC 9112 7.1): hex digits, extensions after ';' ignored, as parseInt(s, 16) reads it. */
static bool parse_size_line(struct player *p) {
  struct http_in *h = &p->in.http;
  h->size_line[h->size_len] = '\0';
  const char *c = h->size_line;
  while (*c == ' ' || *c == '\t') c++;
  if (c[0] == '0' && (c[1] == 'x' || c[1] == 'X')) c += 2;
  int64_t v = 0;
  int digits = 0;
  for (; *c; c++, digits++) {
    int x = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : *c >= 'A' && *c <= 'F' ? *c - 'A' + 10 : -1;
    if (x < 0) break;
    if (digits >= 15) return fail(p, "bad chunk size line");
    v = v * 16 + x;
  }
  if (digits == 0) return fail(p, "bad chunk size line");
  h->left = v;
  h->size_len = 0;
  if (v == 0) h->ended = true;
  return true;
}

/** HTTP bytes: the head, then the body, unframed when chunked (players.ts HttpResponseReader). */
static bool http_feed(struct player *p, const uint8_t *d, size_t n, double now) {
  struct http_in *h = &p->in.http;
  size_t i = 0;
  while (!h->head_done && i < n) {
    struct setup *s = p->setup;
    if (s->aux_len >= AUX_CAP - 1) return fail(p, "Cannot read the response head: over %d bytes", AUX_CAP - 1);
    s->aux[s->aux_len++] = d[i++];
    if (s->aux_len >= 4 && memcmp(s->aux + s->aux_len - 4, "\r\n\r\n", 4) == 0 && !parse_head(p)) return false;
  }
  if (!h->chunked) return flv_feed(p, d + i, n - i, now);
  while (i < n && !h->ended) {
    if (h->crlf > 0) {
      i++;
      h->crlf--;
    } else if (h->left < 0) {
      char c = (char)d[i++];
      if (c == '\n') {
        if (!parse_size_line(p)) return false;
      } else if (c != '\r') {
        if (h->size_len >= SIZE_LINE_CAP - 1) return fail(p, "bad chunk size line");
        h->size_line[h->size_len++] = c;
      }
    } else {
      size_t take = (uint64_t)h->left < n - i ? (size_t)h->left : n - i;
      if (!flv_feed(p, d + i, take, now)) return false;
      i += take;
      h->left -= (int64_t)take;
      if (h->left == 0) {
        h->left = -1;
        h->crlf = 2;
      }
    }
  }
  return true;
}

/* ---- players */

/** The setup block goes once the request is written and what comes before the media is read. */
static void drop_setup(struct player *p) {
  if (!p->setup || !p->ready || p->setup->out_off < p->setup->out_len) return;
  if (is_rtmp ? p->in.rtmp.hs_got < 1 + 2 * HANDSHAKE_SIZE : !p->in.http.head_done) return;
  free(p->setup);
  p->setup = NULL;
}

/** Starts a player: a non-blocking connect with TCP_NODELAY, as librtmp (small commands are not held back). */
static void start_player(struct player *p) {
  p->t0 = now_ms();
  p->stage = ST_CONNECTING;
  if (!p->probe) live++;
  p->setup = calloc(1, sizeof *p->setup);
  if (!p->setup) die("Cannot start a player: out of memory");
  p->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0) {
    fail(p, "Cannot open a socket: %s", strerror(errno));
    return;
  }
  int one = 1;
  setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(p->fd, (struct sockaddr *)&addr, addr_len) < 0 && errno != EINPROGRESS) {
    fail(p, "Cannot connect to %s:%u: %s", host, port, strerror(errno));
    return;
  }
  watch(p);
}

/** One read of up to READ_BYTES into the shared buffer, fed to the player's parser. */
static void read_player(struct player *p) {
  ssize_t n;
  do n = read(p->fd, read_buf, READ_BYTES);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail(p, "Cannot read from the server: %s", strerror(errno));
    return;
  }
  if (n == 0) {
    fail(p, "server closed the connection");
    return;
  }
  double now = now_ms();
  if (!(is_rtmp ? rtmp_feed(p, read_buf, (size_t)n, now) : http_feed(p, read_buf, (size_t)n, now))) return;
  swept(p, now);
  if (!is_rtmp && p->in.http.ended) {
    fail(p, "the response ended");
    return;
  }
  drop_setup(p);
  /* Frames flow: from now on it reads at sweeps (tally.ts pace()). */
  if (!p->probe && p->first_frame_ms >= 0 && !p->setup) p->sweeping = true;
}

/** What epoll reported for a player's socket. */
static void on_player_event(struct player *p, uint32_t events) {
  if (p->stage == ST_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err) {
      fail(p, "Cannot connect to %s:%u: %s", host, port, strerror(err));
      return;
    }
    p->stage = ST_OPEN;
    if (!open_player(p)) return;
    watch(p);
    return;
  }
  if (p->stage != ST_OPEN) return;
  if ((events & EPOLLOUT) && !flush_out(p)) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_player(p);
  if (p->stage == ST_OPEN) {
    drop_setup(p);
    watch(p);
  }
}

/** Every player that plays reads once (tally.ts sweep()). */
static void sweep(void) {
  for (int i = 1; i <= n_players; i++) {
    struct player *p = &players[i];
    if (p->stage == ST_OPEN && p->sweeping) read_player(p);
  }
}

/** The media bytes every player but the probe has received so far (tally.ts deliveredBytes). */
static long long delivered_bytes(void) {
  long long n = 0;
  for (int i = 1; i <= n_players; i++) n += players[i].bytes;
  return n;
}

/* ---- results */

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/** One PlayerResult (tally.ts), with the same field names. */
static void json_result(FILE *f, const struct player *p) {
  fprintf(f, "{\"frames\":%lld,\"videoFrames\":%lld,\"bytes\":%lld,\"firstFrameMs\":%.3f,\"firstTs\":%lld,"
             "\"lastTs\":%lld,\"lagMs\":%.3f",
          p->frames, p->video_frames, p->bytes, p->first_frame_ms, (long long)p->first_ts, (long long)p->last_ts,
          p->lag_ms);
  if (p->failed) {
    fputs(",\"error\":", f);
    json_string(f, p->error);
  }
  fputc('}', f);
}

/* ---- setup of the process */

/** Splits URL into scheme, host, port and path; exits 2 when it is not one this program plays. */
static void parse_url(const char *url) {
  if (strlen(url) > MAX_URL) die("Cannot play %.40s...: the URL is over %d characters", url, MAX_URL);
  const char *rest;
  if (strncmp(url, "rtmp://", 7) == 0) {
    is_rtmp = true;
    rest = url + 7;
    port = 1935;
  } else if (strncmp(url, "http://", 7) == 0) {
    rest = url + 7;
    port = 80;
  } else {
    die("Cannot play %s: use rtmp://host:port/app/name or http://host:port/app/name.flv", url);
  }
  const char *slash = strchr(rest, '/');
  if (!slash) slash = rest + strlen(rest);
  const char *host_end = slash;
  const char *colon = NULL;
  if (rest[0] == '[') {
    const char *close_bracket = memchr(rest, ']', (size_t)(slash - rest));
    if (!close_bracket) die("Cannot play %s: no ']' after the IPv6 address", url);
    if (close_bracket[1] == ':') colon = close_bracket + 1;
    host_end = close_bracket + 1;
  } else {
    colon = memchr(rest, ':', (size_t)(slash - rest));
    if (colon) host_end = colon;
  }
  if (colon) {
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (end != slash || v < 1 || v > 65535) die("Cannot play %s: the port must be 1..65535", url);
    port = (unsigned)v;
  }
  memcpy(host, rest, (size_t)(host_end - rest));
  host[host_end - rest] = '\0';
  if (!host[0]) die("Cannot play %s: no host", url);
  /* the path up to any query or fragment, as URL.pathname */
  size_t plen = strcspn(slash, "?#");
  memcpy(path, slash, plen);
  path[plen] = '\0';
  if (!path[0]) strcpy(path, "/");
  if (is_rtmp) {
    /* players.ts: const [, app, name] = path.split("/") */
    const char *a = path + 1, *a_end = a + strcspn(a, "/");
    memcpy(app, a, (size_t)(a_end - a));
    app[a_end - a] = '\0';
    const char *nm = *a_end ? a_end + 1 : a_end, *n_end = nm + strcspn(nm, "/");
    memcpy(name, nm, (size_t)(n_end - nm));
    name[n_end - nm] = '\0';
    if (!app[0] || !name[0]) die("Cannot play %s: the path must be /app/name", url);
  }
}

/** The server's address (once, blocking); exits 1 as a failed probe would when it does not resolve. */
static void resolve(void) {
  char h[MAX_URL + 1];
  size_t len = strlen(host);
  if (host[0] == '[') {
    memcpy(h, host + 1, len - 2);
    h[len - 2] = '\0';
  } else {
    strcpy(h, host);
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
  int rc = getaddrinfo(h, NULL, &hints, &res);
  if (rc != 0) {
    printf("probe failed: Cannot resolve %s: %s\n", h, gai_strerror(rc));
    exit(1);
  }
  memcpy(&addr, res->ai_addr, res->ai_addrlen);
  addr_len = res->ai_addrlen;
  if (addr.ss_family == AF_INET) ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)port);
  else ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)port);
  freeaddrinfo(res);
}

/** Raises the open-file limit as far as allowed; exits 2 when it cannot hold every player. */
static void raise_file_limit(int need) {
  struct rlimit l;
  if (getrlimit(RLIMIT_NOFILE, &l) < 0) die("Cannot read the open-file limit: %s", strerror(errno));
  if (l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
    getrlimit(RLIMIT_NOFILE, &l);
  }
  if (l.rlim_cur < (rlim_t)need) {
    die("Cannot open %d connections: the open-file limit is %llu (hard %llu)", need, (unsigned long long)l.rlim_cur,
        (unsigned long long)l.rlim_max);
  }
}

/** A sweep every sweep_ms on the process clock: tick k at origin + k * sweep_ms. */
static int sweep_timer(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) die("Cannot create the sweep timer: %s", strerror(errno));
  long long step = (long long)(sweep_ms * 1e6);
  long long first = (long long)origin.tv_sec * 1000000000LL + origin.tv_nsec + step;
  struct itimerspec t = {
      .it_interval = {.tv_sec = step / 1000000000LL, .tv_nsec = step % 1000000000LL},
      .it_value = {.tv_sec = first / 1000000000LL, .tv_nsec = first % 1000000000LL},
  };
  if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL) < 0) die("Cannot start the sweep timer: %s", strerror(errno));
  return fd;
}

int main(int argc, char **argv) {
  clock_gettime(CLOCK_MONOTONIC, &origin);
  if (argc != 4) die("Usage: players_c URL N SECONDS  (URL rtmp://host:port/app/name or http://host:port/app/name.flv)");
  parse_url(argv[1]);
  char *end;
  long n = strtol(argv[2], &end, 10);
  if (*end || n < 0 || n > MAX_PLAYERS) die("Cannot run %s players: N must be 0..%d", argv[2], MAX_PLAYERS);
  double seconds = strtod(argv[3], &end);
  if (*end || !(seconds > 0) || seconds > MAX_SECONDS) {
    die("Cannot run for %s s: SECONDS must be above 0 and at most %.0f", argv[3], MAX_SECONDS);
  }
  const char *sw = getenv("SWEEP_MS");
  if (sw) {
    sweep_ms = strtod(sw, &end);
    if (*end || !(sweep_ms >= 1) || sweep_ms > MAX_SWEEP_MS) {
      die("Cannot use SWEEP_MS=%s: allowed 1..%.0f ms", sw, MAX_SWEEP_MS);
    }
  }
  const char *phase = getenv("JOIN_PHASE_MS");
  if (phase) {
    join_phase_ms = strtod(phase, &end);
    if (*end || !(join_phase_ms == -1 || (join_phase_ms >= 0 && join_phase_ms <= MAX_SWEEP_MS))) {
      die("Cannot use JOIN_PHASE_MS=%s: allowed -1 (join at once) or 0..%.0f ms", phase, MAX_SWEEP_MS);
    }
  }
  n_players = (int)n;
  signal(SIGPIPE, SIG_IGN);
  raise_file_limit(n_players + 16);
  resolve();
  rng = ((uint64_t)origin.tv_nsec << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
  players = calloc((size_t)n_players + 1, sizeof *players);
  if (!players) die("Cannot hold %d players: out of memory", n_players);
  for (int i = 0; i <= n_players; i++) {
    players[i].fd = -1;
    players[i].first_frame_ms = -1;
    players[i].first_ts = players[i].last_ts = -1;
  }
  struct player *probe = &players[0];
  probe->probe = true;
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("Cannot create epoll: %s", strerror(errno));
  int timer = sweep_timer();
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)EV_SWEEP};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev) < 0) die("Cannot watch the sweep timer: %s", strerror(errno));
  ev.data.u64 = (uint64_t)(int64_t)EV_STDIN;
  bool stdin_open = epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0;
  /* EPERM: a file or /dev/null, which cannot say "go" when it is time: taken as no commands */
  if (!stdin_open && errno != EPERM) die("Cannot watch stdin: %s", strerror(errno));

  /* SECONDS bounds the run; "stop" ends it sooner. The probe joins first. */
  stop_at = seconds * 1000;
  probe_stop_at = stop_at + PROBE_TAIL_MS;
  start_player(probe);

  bool go = false, stopped = false, playing_said = false;
  double join_started = 0, next_join = 0;
  /** "go" came and the join waits for the probe's next keyframe (JOIN_PHASE_MS); when "go" came. */
  bool go_waits = false;
  double go_at = 0;
  long long marks[2];
  int n_marks = 0;
  char line[LINE_CAP];
  size_t line_len = 0;
  bool line_too_long = false;
  struct epoll_event evs[MAX_EVENTS];

  for (;;) {
    double now = now_ms();
    if (!stopped && now >= stop_at) {
      stopped = true;
      for (int i = 1; i <= n_players; i++) end_player(&players[i]);
    }
    if (now >= probe_stop_at) end_player(probe);
    if (!probe->ready && probe->stage == ST_DONE) {
      printf("probe failed: %s\n", probe->failed ? probe->error : "it ended before it was ready");
      return 1;
    }
    /* The join starts JOIN_PHASE_MS after the first keyframe the probe sees after "go". */
    if (go_waits && (probe_key_at >= go_at || now - go_at >= KEYFRAME_WAIT_MS)) {
      go_waits = false;
      double from = probe_key_at >= go_at ? probe_key_at + join_phase_ms : now;
      join_started = next_join = from;
    }
    /* Players join in batches, after the stream is live (the bench waits before it sends "go"). */
    while (go && !go_waits && !stopped && joined < n_players && now >= next_join) {
      for (int k = 0; k < JOIN_BATCH && joined < n_players; k++) start_player(&players[++joined]);
      now = now_ms();
      next_join = now + JOIN_GAP_MS;
    }
    if (go && !go_waits && !playing_said && joined == n_players && settled == n_players) {
      playing_said = true;
      printf("playing %.0f ms after go\n", now - join_started);
      fflush(stdout);
    }
    bool players_done = stopped || (go && !go_waits && joined == n_players && live == 0);
    if (players_done && probe->stage == ST_DONE && (!stdin_open || now >= probe_stop_at)) break;
    /* players.ts: no "go" line, no run (once the probe is ready, so a probe that fails says why) */
    if (!go && (now >= probe_stop_at || (!stdin_open && probe->ready))) {
      fprintf(stderr, "Cannot run the players: no \"go\" on stdin\n");
      return 1;
    }

    double wake = probe_stop_at;
    if (!stopped && stop_at < wake) wake = stop_at;
    if (go && !go_waits && !stopped && joined < n_players && next_join < wake) wake = next_join;
    if (go_waits && go_at + KEYFRAME_WAIT_MS < wake) wake = go_at + KEYFRAME_WAIT_MS;
    int timeout = wake <= now ? 0 : (int)(wake - now) + 1;
    int nev = epoll_wait(ep, evs, MAX_EVENTS, timeout);
    if (nev < 0) {
      if (errno == EINTR) continue;
      die("Cannot wait for events: %s", strerror(errno));
    }
    bool tick = false;
    for (int e = 0; e < nev; e++) {
      int64_t id = (int64_t)evs[e].data.u64;
      if (id == EV_SWEEP) {
        uint64_t expirations;
        if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) {
          die("Cannot read the sweep timer: %s", strerror(errno));
        }
        tick = true; /* one sweep however many ticks passed: no catching up */
      } else if (id == EV_STDIN) {
        char buf[1024];
        ssize_t k = read(STDIN_FILENO, buf, sizeof buf);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k <= 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
          stdin_open = false;
          continue;
        }
        for (ssize_t j = 0; j < k; j++) {
          if (buf[j] != '\n') {
            if (line_len < LINE_CAP - 1) line[line_len++] = buf[j];
            else line_too_long = true;
            continue;
          }
          line[line_len] = '\0';
          bool ok = !line_too_long;
          line_len = 0;
          line_too_long = false;
          double t = now_ms();
          if (!go) {
            if (!ok || strcmp(line, "go") != 0) {
              fprintf(stderr, "Cannot start the players: the first line on stdin is not \"go\"\n");
              return 1;
            }
            go = true;
            join_started = next_join = t;
            if (join_phase_ms >= 0) {
              go_waits = true;
              go_at = t;
            }
          } else if (ok && strcmp(line, "mark") == 0) {
            if (n_marks < 2) marks[n_marks++] = delivered_bytes();
          } else if (ok && strcmp(line, "stop") == 0) {
            if (t < stop_at) stop_at = t;
            if (t + PROBE_TAIL_MS < probe_stop_at) probe_stop_at = t + PROBE_TAIL_MS;
          }
        }
      } else {
        on_player_event(&players[id], evs[e].events);
      }
    }
    /* The probe's and setting-up players' events first, then the sweep. */
    if (tick) sweep();
  }

  long long window_bytes = n_marks >= 2 ? marks[1] - marks[0] : -1;
  fputs("{\"probe\":", stdout);
  json_result(stdout, probe);
  fputs(",\"players\":[", stdout);
  for (int i = 1; i <= n_players; i++) {
    if (i > 1) fputc(',', stdout);
    json_result(stdout, &players[i]);
  }
  printf("],\"joinMs\":%.3f,\"windowBytes\":%lld}\n", go ? now_ms() - join_started : 0.0, window_bytes);
  fflush(stdout);
  return 0;
}
