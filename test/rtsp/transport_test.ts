/**
 * The Transport header (RFC 2326 12.39): one case table of values real
 * clients and servers sent (the captures in test/fixtures/rtsp/) and the
 * spec's forms, each read and written back; the server's choice among a
 * client's transports; what is refused with 400, and 461 when nothing fits.
 */
import { RtspError, RtspStatus } from "../../src/rtsp/status.ts";
import {
  chooseTransport,
  formatTransport,
  MAX_TRANSPORT_SPECS,
  parseTransport,
  type TransportSpec,
  type TransportSupport,
} from "../../src/rtsp/transport.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom } from "../_util/mutate.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const cases: { name: string; value: string; specs: TransportSpec[] }[] = [
  {
    name: "ffmpeg playing over TCP",
    value: "RTP/AVP/TCP;unicast;interleaved=0-1",
    specs: [{ protocol: "RTP", profile: "AVP", lower: "TCP", delivery: "unicast", interleaved: [0, 1] }],
  },
  {
    name: "ffmpeg playing over UDP",
    value: "RTP/AVP/UDP;unicast;client_port=6154-6155",
    specs: [{ protocol: "RTP", profile: "AVP", lower: "UDP", delivery: "unicast", clientPort: [6154, 6155] }],
  },
  {
    name: "ffmpeg publishing over TCP (mode=record, unquoted)",
    value: "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record",
    specs: [{
      protocol: "RTP",
      profile: "AVP",
      lower: "TCP",
      delivery: "unicast",
      interleaved: [2, 3],
      modes: ["RECORD"],
    }],
  },
  {
    name: "ffmpeg's listen-mode server answering (mode=receive)",
    value: "RTP/AVP/TCP;unicast;mode=receive;interleaved=0-1",
    specs: [{
      protocol: "RTP",
      profile: "AVP",
      lower: "TCP",
      delivery: "unicast",
      modes: ["RECORD"],
      interleaved: [0, 1],
    }],
  },
  {
    name: "a server answer with server_port and ssrc",
    value: "RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257;ssrc=0BADC0DE",
    specs: [{
      protocol: "RTP",
      profile: "AVP",
      lower: "UDP",
      delivery: "unicast",
      clientPort: [4588, 4589],
      serverPort: [6256, 6257],
      ssrc: 0x0badc0de,
    }],
  },
  {
    name: "a list, multicast first (RFC 2326 12.39's example, with a quoted mode list)",
    value: 'RTP/AVP;multicast;ttl=127;mode="PLAY",RTP/AVP;unicast;client_port=3456-3457;mode="PLAY,RECORD"',
    specs: [
      { protocol: "RTP", profile: "AVP", lower: "UDP", delivery: "multicast", ttl: 127, modes: ["PLAY"] },
      {
        protocol: "RTP",
        profile: "AVP",
        lower: "UDP",
        delivery: "unicast",
        clientPort: [3456, 3457],
        modes: ["PLAY", "RECORD"],
      },
    ],
  },
  {
    name: "lower case, single port and channel, short ssrc, unknown parameters",
    value:
      "rtp/avp/tcp;interleaved=4;ssrc=1f;x-dynamic-rate=1;append, rtp/avp;client_port=5000;destination=10.0.0.2",
    specs: [
      { protocol: "RTP", profile: "AVP", lower: "TCP", interleaved: [4, 5], ssrc: 0x1f, append: true },
      { protocol: "RTP", profile: "AVP", lower: "UDP", clientPort: [5000, 5001], destination: "10.0.0.2" },
    ],
  },
  {
    name: "RTP/AVPF and RTP/SAVP (read, never chosen)",
    value: "RTP/AVPF;unicast;client_port=5000-5001,RTP/SAVP/TCP;unicast;interleaved=0-1",
    specs: [
      { protocol: "RTP", profile: "AVPF", lower: "UDP", delivery: "unicast", clientPort: [5000, 5001] },
      { protocol: "RTP", profile: "SAVP", lower: "TCP", delivery: "unicast", interleaved: [0, 1] },
    ],
  },
];

for (const c of cases) {
  Deno.test(`parseTransport() reads ${c.name}`, () => {
    assertEquals(parseTransport(c.value), c.specs);
  });

  Deno.test(`formatTransport() writes ${c.name} so parseTransport() reads it back`, () => {
    for (const spec of c.specs) {
      const written = formatTransport(spec);
      const [back] = parseTransport(written);
      // A spec without unicast/multicast is written unicast.
      assertEquals(back, { ...spec, delivery: spec.delivery ?? "unicast" }, written);
    }
  });
}

Deno.test("formatTransport() writes a server's answers as clients expect them", () => {
  assertEquals(
    formatTransport({
      protocol: "RTP",
      profile: "AVP",
      lower: "UDP",
      delivery: "unicast",
      clientPort: [6154, 6155],
      serverPort: [50000, 50001],
      ssrc: 0xabc,
    }),
    "RTP/AVP;unicast;client_port=6154-6155;server_port=50000-50001;ssrc=00000ABC",
  );
  assertEquals(
    formatTransport({
      protocol: "RTP",
      profile: "AVP",
      lower: "TCP",
      interleaved: [2, 3],
      modes: ["RECORD"],
    }),
    'RTP/AVP/TCP;unicast;interleaved=2-3;mode="RECORD"',
  );
  assertThrows(
    () => formatTransport({ protocol: "RTP", profile: "AVP", lower: "TCP", ssrc: 2 ** 32 }),
    RangeError,
    "ssrc",
  );
});

const PLAY_ANY: TransportSupport = { lower: ["UDP", "TCP"], mode: "PLAY" };

Deno.test("chooseTransport() takes the client's first spec the server supports", () => {
  const value =
    "RTP/AVP;multicast;ttl=16,RTP/AVP/TCP;unicast;interleaved=0-1,RTP/AVP;unicast;client_port=5000-5001";
  const tcp = chooseTransport(value, PLAY_ANY);
  assert(tcp.ok);
  assertEquals(tcp.spec.lower, "TCP");
  const udp = chooseTransport(value, { lower: ["UDP"], mode: "PLAY" });
  assert(udp.ok);
  assertEquals(udp.spec.clientPort, [5000, 5001]);
});

Deno.test("chooseTransport() matches the session's mode: PLAY by default, RECORD for a publish", () => {
  const record = "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record";
  assert(chooseTransport(record, { lower: ["TCP"], mode: "RECORD" }).ok);
  assert(!chooseTransport(record, { lower: ["TCP"], mode: "PLAY" }).ok);
  assert(!chooseTransport("RTP/AVP/TCP;unicast;interleaved=0-1", { lower: ["TCP"], mode: "RECORD" }).ok);
  assert(chooseTransport("RTP/AVP/TCP;interleaved=0-1", PLAY_ANY).ok, "no unicast word: taken as unicast");
});

Deno.test("chooseTransport() answers 461 with the reasons when nothing fits", () => {
  const choice = chooseTransport(
    "RTP/AVP;multicast,RTP/SAVP;unicast;client_port=1-2,RTP/AVP;unicast,RTP/AVP/TCP;unicast",
    { lower: ["UDP"], mode: "PLAY" },
  );
  assert(!choice.ok);
  assertEquals(choice.status, RtspStatus.UnsupportedTransport);
  assertEquals(
    choice.reason,
    "RTP/AVP/UDP: multicast is not offered; RTP/SAVP/UDP: only RTP/AVP; RTP/AVP/UDP: no client_port; " +
      "RTP/AVP/TCP: TCP is not offered",
  );
});

Deno.test("parseTransport() refuses malformed values with 400", () => {
  const bad: [string, string][] = [
    ["", "current value is empty"],
    ["RTP", 'current transport is "RTP"'],
    ["RTP/AVP/SCTP", 'current lower transport is "SCTP"'],
    ["RTP/AVP/TCP;interleaved=256-257", 'current interleaved is "256-257"'],
    ["RTP/AVP;client_port=0-1", 'current client_port is "0-1"'],
    ["RTP/AVP;client_port=65535", 'current client_port is "65535"'],
    ["RTP/AVP;client_port=a-b", 'current client_port is "a-b"'],
    ["RTP/AVP;ssrc=123456789", 'current ssrc is "123456789"'],
    ["RTP/AVP;ttl=256", 'current ttl is "256"'],
    ['RTP/AVP;mode="PLAY', "unclosed quote"],
    ["RTP/AVP;mode=", 'current mode is ""'],
    ["RTP/AVP;destination=a b", 'current destination is "a b"'],
    [
      Array(MAX_TRANSPORT_SPECS + 1).fill("RTP/AVP").join(","),
      `${MAX_TRANSPORT_SPECS + 1} transports, limit 16`,
    ],
  ];
  for (const [value, message] of bad) {
    const e = assertThrows(() => parseTransport(value), RtspError, message);
    assertEquals([e.status, e.code], [RtspStatus.BadRequest, "rtsp_transport"], value);
  }
  assertThrows(() => chooseTransport("RTP", PLAY_ANY), RtspError);
});

Deno.test("parseTransport() throws nothing but ProtocolError on mutated values", () => {
  const random = seededRandom(1239);
  for (const c of cases) {
    for (const m of mutations(enc.encode(c.value), random, 200)) {
      expectOnlyProtocolError(m, (b) => parseTransport(dec.decode(b)));
    }
  }
});
