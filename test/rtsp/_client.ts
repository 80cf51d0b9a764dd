/**
 * A minimal RTSP client over a TCP connection, for the server tests: writes requests, reads responses
 * and interleaved frames in order (the socket-free RtspReader), and tells when the server closed.
 *
 * @module
 */
import { type RequestInit, type RtspResponse, writeRequest } from "../../src/rtsp/message.ts";
import type { InterleavedFrame } from "../../src/rtsp/interleaved.ts";
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
