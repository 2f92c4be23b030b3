// The frame decoder: an explicit, bounded state machine fed socket chunks of any size, which
// hands out each frame's body, as a view into the chunk when the whole body lies in one chunk.

import assert from 'node:assert/strict';
import { TransportError, TransportErrorCode } from './errors.js';
import { FRAME_HEADER_BYTES } from './wire.js';

export const DecoderState = {
  /** Reading the 4-byte big-endian body length (possibly split across chunks). */
  Header: 0,
  /** Reading `bodyBytes` of body (possibly split across chunks). */
  Body: 1,
  /** A frame was too large or empty, or the handler asked to stop: further input is ignored. */
  Stopped: 2,
} as const;
export type DecoderState = (typeof DecoderState)[keyof typeof DecoderState];

/** Receives one frame body; returns false to stop decoding (the connection is closing). */
export type FrameHandler = (body: Buffer) => boolean;

export class FrameDecoder {
  /**
   * The largest body accepted, checked on every header before anything is allocated. It may be
   * changed between frames: the handshake runs with a small limit, raised once the peer proves
   * membership, so an unauthenticated peer cannot make us allocate a large body.
   */
  frameBytesMax: number;
  private state: DecoderState = DecoderState.Header;
  /** Scratch for a header split across chunks; allocated once. */
  private readonly header: Buffer = Buffer.alloc(FRAME_HEADER_BYTES);
  /** Invariant: 0 <= headerFilled < FRAME_HEADER_BYTES in state Header. */
  private headerFilled = 0;
  /** The body being assembled from several chunks; null while the body is still to start. */
  private body: Buffer | null = null;
  /** Invariant: 0 <= bodyFilled < bodyBytes <= frameBytesMax in state Body. */
  private bodyFilled = 0;
  private bodyBytes = 0;

  constructor(frameBytesMax: number) {
    assert.ok(Number.isSafeInteger(frameBytesMax) && frameBytesMax >= 1, `frameBytesMax ${frameBytesMax} must be an integer >= 1`);
    this.frameBytesMax = frameBytesMax;
  }

  get current(): DecoderState {
    return this.state;
  }

  /** Bytes of a partial frame held between chunks (header and body): at most frameBytesMax + 4. */
  get bufferedBytes(): number {
    if (this.state === DecoderState.Header) return this.headerFilled;
    if (this.state === DecoderState.Body) return FRAME_HEADER_BYTES + this.bodyFilled;
    return 0;
  }

  /** Stops decoding; later chunks are ignored. */
  stop(): void {
    this.state = DecoderState.Stopped;
    this.body = null;
  }

  /**
   * Feeds one chunk; `onFrame` is called for each complete frame, in order. Returns the error
   * that stopped decoding (a frame too large or empty), or null. Each turn of the loop consumes at
   * least one byte, so it ends within chunk.byteLength turns.
   */
  push(chunk: Buffer, onFrame: FrameHandler): TransportError | null {
    let offset = 0;
    while (offset < chunk.byteLength && this.state !== DecoderState.Stopped) {
      const before = offset;
      if (this.state === DecoderState.Header) {
        offset = this.readHeader(chunk, offset);
        if ((this.state as DecoderState) === DecoderState.Body) {
          const error = this.checkLength();
          if (error !== null) return error;
        }
      } else {
        offset = this.readBody(chunk, offset, onFrame);
      }
      if (!(offset > before)) assert.fail(`frame decoder made no progress at offset ${offset} of ${chunk.byteLength}`);
    }
    return null;
  }

  private readHeader(chunk: Buffer, offset: number): number {
    if (this.headerFilled === 0 && chunk.byteLength - offset >= FRAME_HEADER_BYTES) {
      this.bodyBytes = chunk.readUInt32BE(offset);
      this.state = DecoderState.Body;
      return offset + FRAME_HEADER_BYTES;
    }
    const n = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.byteLength - offset);
    chunk.copy(this.header, this.headerFilled, offset, offset + n);
    this.headerFilled += n;
    if (this.headerFilled === FRAME_HEADER_BYTES) {
      this.bodyBytes = this.header.readUInt32BE(0);
      this.headerFilled = 0;
      this.state = DecoderState.Body;
    }
    return offset + n;
  }

  private checkLength(): TransportError | null {
    if (this.bodyBytes === 0) {
      this.stop();
      return new TransportError(TransportErrorCode.MalformedFrame, 'empty frame (length 0)');
    }
    if (this.bodyBytes > this.frameBytesMax) {
      const bytes = this.bodyBytes;
      this.stop();
      return new TransportError(TransportErrorCode.FrameTooLarge, `frame of ${bytes} bytes is above the limit of ${this.frameBytesMax}`);
    }
    this.bodyFilled = 0;
    return null;
  }

  private readBody(chunk: Buffer, offset: number, onFrame: FrameHandler): number {
    const available = chunk.byteLength - offset;
    if (this.body === null && available >= this.bodyBytes) {
      // The whole body is in this chunk: hand out a view, no copy.
      const end = offset + this.bodyBytes;
      this.state = DecoderState.Header;
      if (!onFrame(chunk.subarray(offset, end))) this.stop();
      return end;
    }
    // Allocated only after checkLength bounded bodyBytes by frameBytesMax.
    this.body ??= Buffer.allocUnsafe(this.bodyBytes);
    const n = Math.min(this.bodyBytes - this.bodyFilled, available);
    chunk.copy(this.body, this.bodyFilled, offset, offset + n);
    this.bodyFilled += n;
    if (this.bodyFilled === this.bodyBytes) {
      const body = this.body;
      this.body = null;
      this.bodyFilled = 0;
      this.state = DecoderState.Header;
      if (!onFrame(body)) this.stop();
    }
    return offset + n;
  }
}
