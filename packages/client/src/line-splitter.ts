// Splits a byte stream into lines (a chunked HTTP watch body, one JSON event each; Docker's
// newline-delimited JSON streams), bounded: a line longer than `lineBytesMax` is an error, not a
// buffer that grows until memory runs out.

import { ClientError, ClientErrorCode } from './errors.js';

const NEWLINE = 0x0a;

export class LineSplitter {
  /** Bytes of the line not yet ended, in arrival order. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly lineBytesMax: number,
    private readonly origin: string,
    /** The error for a line over the limit; default: the client's ResponseTooLarge about a watch event. */
    private readonly tooLong: (lineBytesMax: number, origin: string) => Error = (max, origin) =>
      new ClientError(ClientErrorCode.ResponseTooLarge, `watch event from ${origin} is over ${max} bytes`, { endpoint: origin }),
  ) {}

  /** The lines this chunk completes, without their `\n`. */
  push(data: Uint8Array): string[] {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE, start); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      this.append(chunk.subarray(start, newline));
      lines.push(Buffer.concat(this.pending, this.pendingBytes).toString('utf8'));
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
    return lines;
  }

  /** What is left once the body ended: a last line without `\n`, or ''. */
  end(): string {
    const rest = Buffer.concat(this.pending, this.pendingBytes).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    return rest;
  }

  private append(piece: Buffer): void {
    this.pendingBytes += piece.byteLength;
    if (this.pendingBytes > this.lineBytesMax) throw this.tooLong(this.lineBytesMax, this.origin);
    this.pending.push(piece);
  }
}
