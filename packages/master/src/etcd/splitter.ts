// Cuts a byte stream (a watch or keepalive POST body, WebSocket frames) into whole messages: JSON
// objects one after another with any whitespace between (what Go's json.Decoder reads for
// grpc-gateway), or msgpack values back to back. Each is an explicit, bounded state machine.

import { Unpackr } from 'msgpackr';
import { EtcdGatewayError } from './errors.js';

/** Turns bytes as they arrive into complete messages; throws EtcdGatewayError on bad or oversize input. */
export interface MessageSplitter {
  /** The messages completed by this chunk, in order. */
  feed(chunk: Uint8Array): unknown[];
  /** The input ended: throws if a message was left unfinished. */
  end(): void;
}

export interface SplitterLimits {
  /** One message may not exceed this many bytes. */
  readonly messageBytesMax: number;
  /** Objects and arrays nested deeper than this are refused (JSON only). */
  readonly depthMax: number;
}

/** States of the JSON splitter: only structure is tracked; JSON.parse checks each message whole. */
const enum JsonState {
  /** Between messages: whitespace, or `{` to start one. */
  Between = 0,
  /** Inside an object or array, outside any string. */
  Value = 1,
  /** Inside a string. */
  Text = 2,
  /** Right after a backslash inside a string. */
  Escape = 3,
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

export class JsonMessageSplitter implements MessageSplitter {
  private state = JsonState.Between;
  /** Open objects and arrays of the current message; 0 exactly when state is Between. */
  private depth = 0;
  /** Earlier chunks' parts of the current message (views, not copies). */
  private parts: Uint8Array[] = [];
  private partsBytes = 0;

  constructor(private readonly limits: SplitterLimits) {}

  feed(chunk: Uint8Array): unknown[] {
    const messages: unknown[] = [];
    let start = this.state === JsonState.Between ? -1 : 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      switch (this.state) {
        case JsonState.Between:
          if (byte === SPACE || byte === TAB || byte === LF || byte === CR) continue;
          if (byte !== OPEN_BRACE) throw malformed(`expected a JSON object, found ${describeByte(byte)}`);
          start = i;
          this.depth = 1;
          this.state = JsonState.Value;
          break;
        case JsonState.Value:
          if (byte === QUOTE) this.state = JsonState.Text;
          else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.enter();
          else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --this.depth === 0) {
            messages.push(this.finish(chunk.subarray(start, i + 1)));
            start = -1;
          }
          break;
        case JsonState.Text:
          if (byte === BACKSLASH) this.state = JsonState.Escape;
          else if (byte === QUOTE) this.state = JsonState.Value;
          break;
        case JsonState.Escape:
          this.state = JsonState.Text;
          break;
      }
    }
    if (start >= 0) this.keep(chunk.subarray(start));
    return messages;
  }

  end(): void {
    if (this.state !== JsonState.Between) throw malformed(`the body ended inside a JSON object (${this.partsBytes} bytes unfinished)`);
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > this.limits.depthMax) throw malformed(`JSON nested deeper than ${this.limits.depthMax} levels`);
  }

  private keep(part: Uint8Array): void {
    this.partsBytes += part.byteLength;
    this.checkSize(this.partsBytes);
    this.parts.push(part);
  }

  private finish(last: Uint8Array): unknown {
    const size = this.partsBytes + last.byteLength;
    this.checkSize(size);
    const whole = this.parts.length === 0 ? last : Buffer.concat([...this.parts, last], size);
    this.parts = [];
    this.partsBytes = 0;
    this.state = JsonState.Between;
    return parseJson(whole);
  }

  private checkSize(size: number): void {
    if (size > this.limits.messageBytesMax) {
      throw new EtcdGatewayError('ETCD_GW_MESSAGE_TOO_LARGE', `grpc: received message larger than max (${size} vs. ${this.limits.messageBytesMax})`);
    }
  }
}

/** Parses one JSON text; an empty (or all-whitespace) body is an empty request, as for grpc-gateway. */
export function parseJson(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw malformed(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The msgpack decoder for request bodies: plain maps; 64-bit integers (uint64/int64 encodings) as bigint, checked by the reader. */
export const msgpackUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

/** Decodes one whole msgpack body; trailing bytes are an error. */
export function parseMsgpack(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return null;
  try {
    return msgpackUnpackr.unpack(bytes) as unknown;
  } catch (error) {
    throw malformed(`the body is not valid msgpack: ${(error as Error).message}`);
  }
}

/**
 * msgpack values back to back. msgpack frames itself, so no structure is tracked: the unfinished
 * tail is kept (at most messageBytesMax) and decoding retried when more bytes come.
 */
export class MsgpackMessageSplitter implements MessageSplitter {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly limits: SplitterLimits) {}

  feed(chunk: Uint8Array): unknown[] {
    const input = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: unknown[] = [];
    let consumed = 0;
    try {
      msgpackUnpackr.unpackMultiple(input, (value: unknown, _start?: number, end?: number) => {
        messages.push(value);
        consumed = end ?? input.byteLength;
      });
    } catch (error) {
      if ((error as { incomplete?: boolean }).incomplete !== true) throw malformed(`a message is not valid msgpack: ${(error as Error).message}`);
    }
    const rest = input.subarray(consumed);
    if (rest.byteLength > this.limits.messageBytesMax) {
      throw new EtcdGatewayError('ETCD_GW_MESSAGE_TOO_LARGE', `grpc: received message larger than max (${rest.byteLength} vs. ${this.limits.messageBytesMax})`);
    }
    // A copy: `rest` may be a view into a chunk the caller reuses.
    this.pending = rest.byteLength === 0 ? new Uint8Array(0) : Uint8Array.from(rest);
    return messages;
  }

  end(): void {
    if (this.pending.byteLength > 0) throw malformed(`the body ended inside a msgpack message (${this.pending.byteLength} bytes unfinished)`);
  }
}

function malformed(message: string): EtcdGatewayError {
  return new EtcdGatewayError('ETCD_GW_MALFORMED_BODY', message);
}

function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}
