/**
 * A minimal RTSP client over a TCP connection, for the server tests: writes requests, reads responses
 * and interleaved frames in order (the socket-free RtspReader), and tells when the server closed; and
 * the preamble the play tests start with (`setupBoth`, `setupAndPlay`).
 *
 * @module
 */
import { assertEquals } from "../_util/assert.ts";
import type { InterleavedFrame } from "../../src/media/rtp/interleaved.ts";
import { parseSession } from "../../src/rtsp/headers.ts";
import { type RequestInit, type RtspResponse, writeRequest } from "../../src/rtsp/message.ts";
import { RtspReader } from "../../src/rtsp/reader.ts";

export class RtspTestClient {
  readonly conn: Deno.Conn;
  readonly #reader = new RtspReader();
  readonly #items: (RtspResponse | InterleavedFrame)[] = [];
  #cseq = 0;
  #eof = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  static async connect(port: number): Promise<RtspTestClient> {
    return new RtspTestClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends a request with the next CSeq; returns that CSeq. */
  async send(init: Omit<RequestInit, "cseq">): Promise<number> {
    const cseq = ++this.#cseq;
    await this.conn.write(writeRequest({ ...init, cseq }));
    return cseq;
  }

  /** Sends a request and reads until its response (interleaved frames before it are kept for next()). */
  async request(init: Omit<RequestInit, "cseq">): Promise<RtspResponse> {
    await this.send(init);
    for (;;) {
      const i = this.#items.findIndex((x) => x.type === "response");
      if (i >= 0) return this.#items.splice(i, 1)[0] as RtspResponse;
      if (!(await this.#fill())) throw new Error(`connection closed before the answer to ${init.method}`);
    }
  }

  /** The next item the server sent (response or interleaved frame); undefined once it closed. */
  async next(): Promise<RtspResponse | InterleavedFrame | undefined> {
    while (this.#items.length === 0) if (!(await this.#fill())) return undefined;
    return this.#items.shift();
  }

  /** Reads to the end; resolves true when the server closed the connection. */
  async closedByServer(): Promise<boolean> {
    while (await this.#fill()) this.#items.length = 0;
    return this.#eof;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const buf = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    for (const item of this.#reader.push(buf.subarray(0, n))) {
      if (item.type !== "request") this.#items.push(item);
    }
    return true;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** TCP interleaved on channels 0-1 (RTP, RTCP): the video track's Transport by default. */
export const TCP_VIDEO = "RTP/AVP/TCP;unicast;interleaved=0-1";
/** TCP interleaved on channels 2-3: the audio track's Transport by default. */
export const TCP_AUDIO = "RTP/AVP/TCP;unicast;interleaved=2-3";

/** How {@linkcode setupAndPlay} sets up and plays. */
export interface SetupAndPlayOptions {
  /** The Transport of each track's SETUP, video then audio; default TCP_VIDEO and TCP_AUDIO. */
  readonly transports?: readonly [string, string];
  /** PLAY's Range header ("npt=1.5-"); none by default. */
  readonly range?: string;
  /** The URL PLAY names; default `url` (players often name the Content-Base, `url/`). */
  readonly playUri?: string;
}

/**
 * DESCRIBE `url`, then SETUP of trackID=0 and trackID=1 in one session (TCP_VIDEO and TCP_AUDIO unless
 * given); each must answer 200. The session id.
 */
export async function setupBoth(
  client: RtspTestClient,
  url: string,
  transports: readonly [string, string] = [TCP_VIDEO, TCP_AUDIO],
): Promise<string> {
  assertEquals((await client.request({ method: "DESCRIBE", uri: url })).status, 200, "DESCRIBE");
  const v = await client.request({ method: "SETUP", uri: `${url}/trackID=0`, transport: transports[0] });
  assertEquals(v.status, 200, "SETUP of the video track");
  const id = parseSession(v.headers.get("Session")!).id;
  const a = await client.request({
    method: "SETUP",
    uri: `${url}/trackID=1`,
    transport: transports[1],
    session: { id },
  });
  assertEquals(a.status, 200, "SETUP of the audio track");
  return id;
}

/** {@linkcode setupBoth}, then PLAY: the session id and PLAY's answer, for the test to check. */
export async function setupAndPlay(
  client: RtspTestClient,
  url: string,
  opts: SetupAndPlayOptions = {},
): Promise<{ id: string; play: RtspResponse }> {
  const id = await setupBoth(client, url, opts.transports);
  const play = await client.request({
    method: "PLAY",
    uri: opts.playUri ?? url,
    session: { id },
    ...(opts.range !== undefined && { headers: [["Range", opts.range]] }),
  });
  return { id, play };
}
