// Decoders for the Engine API's two stream shapes: the multiplexed stream of a container without a
// TTY (logs, exec output) and newline-delimited JSON (pull progress, events). Both are bounded state
// machines fed chunks as they arrive, cut anywhere (STYLE §4, `ws` receiver).

import assert from 'node:assert/strict';
import { LineSplitter } from '@raftplane/client';
import { AgentError, AgentErrorCode } from '../errors.js';

const HEADER_BYTES = 8;
const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;

/**
 * Docker's stdcopy framing: an 8-byte header (stream: 0 stdin, 1 stdout, 2 stderr; three zero
 * bytes; the payload's size, 32-bit big-endian), then the payload. Payloads come out as views into
 * the incoming chunks, in order, stdout and stderr interleaved as written; a frame's payload may come
 * out in several pieces, as its bytes arrive.
 */
export class DockerFrameDecoder {
  private state: typeof STATE_HEADER | typeof STATE_PAYLOAD = STATE_HEADER;
  /** The header being read, allocated once. */
  private readonly header = Buffer.alloc(HEADER_BYTES);
  /** 0 <= headerBytes < HEADER_BYTES while in STATE_HEADER. */
  private headerBytes = 0;
  /** > 0 while in STATE_PAYLOAD. */
  private payloadBytesLeft = 0;

  constructor(
    /** A declared frame above this is not Docker's framing (the engine writes a line, or a 32 KiB copy buffer, per frame). */
    private readonly frameBytesMax: number,
    private readonly origin: string,
  ) {
    assert.ok(frameBytesMax >= 1, `frameBytesMax ${frameBytesMax} must be >= 1`);
  }

  /** Whether the input so far ended between frames (a stream cut elsewhere lost part of a frame). */
  get atFrameBoundary(): boolean {
    return this.state === STATE_HEADER && this.headerBytes === 0;
  }

  push(chunk: Uint8Array): Buffer[] {
    const input = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const payloads: Buffer[] = [];
    let offset = 0;
    while (offset < input.length) {
      if (this.state === STATE_HEADER) {
        const taken = Math.min(HEADER_BYTES - this.headerBytes, input.length - offset);
        input.copy(this.header, this.headerBytes, offset, offset + taken);
        this.headerBytes += taken;
        offset += taken;
        if (this.headerBytes === HEADER_BYTES) this.startPayload();
      } else {
        const taken = Math.min(this.payloadBytesLeft, input.length - offset);
        payloads.push(input.subarray(offset, offset + taken));
        this.payloadBytesLeft -= taken;
        offset += taken;
        if (this.payloadBytesLeft === 0) this.state = STATE_HEADER;
      }
    }
    assert.ok(offset === input.length, `frame decoder consumed ${offset} of ${input.length} bytes`);
    return payloads;
  }

  private startPayload(): void {
    const stream = this.header[0];
    const padding = this.header.readUIntBE(1, 3);
    const payloadBytes = this.header.readUInt32BE(4);
    this.headerBytes = 0;
    if ((stream !== 0 && stream !== 1 && stream !== 2) || padding !== 0) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `${this.origin}: not a multiplexed Docker stream (frame header ${this.header.toString('hex')})`);
    }
    if (payloadBytes > this.frameBytesMax) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, `${this.origin}: a frame of ${payloadBytes} bytes is over ${this.frameBytesMax}`);
    }
    // An empty frame is legal; it leaves the decoder between frames.
    if (payloadBytes > 0) {
      this.state = STATE_PAYLOAD;
      this.payloadBytesLeft = payloadBytes;
    }
  }
}

/** Splits newline-delimited JSON into lines; a line over `lineBytesMax` is an error, not growth. */
export class LineDecoder extends LineSplitter {
  constructor(lineBytesMax: number, origin: string) {
    assert.ok(lineBytesMax >= 1, `lineBytesMax ${lineBytesMax} must be >= 1`);
    super(lineBytesMax, origin, (max, from) => new AgentError(AgentErrorCode.RuntimeUnavailable, `${from}: a line over ${max} bytes`));
  }
}
