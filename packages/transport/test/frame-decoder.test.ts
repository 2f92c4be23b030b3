// The frame decoder, fed input split at every byte (house rule 12): the frames that come out do
// not depend on how the stream was cut; oversized and empty frames stop it before anything is
// allocated; a body inside one chunk comes out as a view of it.

import { describe, expect, it } from 'vitest';
import { DecoderState, FRAME_HEADER_BYTES, FrameDecoder, FrameKind, TransportErrorCode, encodeMessagesFrame, type TransportError } from '../src/index.js';
import { append, entry, heartbeat, snapChunk } from './support/fixtures.js';

/** A stream of several frames of different sizes, the last one large enough to span many chunks. */
function stream(): { bytes: Buffer; bodies: Buffer[] } {
  const frames = [
    encodeMessagesFrame(FrameKind.Messages, [heartbeat(1, 2, 5)], 0, 1),
    encodeMessagesFrame(FrameKind.Messages, [append(1, 2, 0, [entry(1, 1), entry(2, 1, new Uint8Array(300))]), heartbeat(1, 2, 6)], 0, 2),
    Buffer.from([0, 0, 0, 1, 0xc0]), // a 1-byte body: the smallest frame
    encodeMessagesFrame(FrameKind.Bulk, [snapChunk(1, 2, 0, 700, new Uint8Array(700).fill(0xab))], 0, 1),
  ];
  return { bytes: Buffer.concat(frames), bodies: frames.map((f) => f.subarray(FRAME_HEADER_BYTES)) };
}

function same(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x.equals(b[i] as Buffer));
}

/** Feeds `chunks` to a fresh decoder; returns the bodies (copied, to compare) and any error. */
function decode(chunks: readonly Buffer[], frameBytesMax = 1 << 20): { bodies: Buffer[]; error: TransportError | null } {
  const decoder = new FrameDecoder(frameBytesMax);
  const bodies: Buffer[] = [];
  for (const chunk of chunks) {
    const error = decoder.push(chunk, (body) => {
      bodies.push(Buffer.from(body));
      return true;
    });
    if (error !== null) return { bodies, error };
  }
  expect(decoder.current).toBe(DecoderState.Header);
  expect(decoder.bufferedBytes).toBe(0);
  return { bodies, error: null };
}

describe('frame decoder', () => {
  it('decodes the same frames whichever byte the stream is split at', () => {
    const { bytes, bodies } = stream();
    for (let split = 0; split <= bytes.byteLength; split++) {
      const { bodies: out, error } = decode([bytes.subarray(0, split), bytes.subarray(split)]);
      expect(error).toBeNull();
      expect(same(out, bodies), `split at byte ${split}`).toBe(true);
    }
  });

  it('decodes the same frames whichever two bytes the first 64 bytes are split at', () => {
    const { bytes, bodies } = stream();
    for (let a = 0; a <= 64; a++) {
      for (let b = a; b <= 64; b++) {
        const { bodies: out } = decode([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
        expect(same(out, bodies), `splits at ${a} and ${b}`).toBe(true);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const { bytes, bodies } = stream();
    const chunks = Array.from({ length: bytes.byteLength }, (_, i) => bytes.subarray(i, i + 1));
    expect(decode(chunks).bodies).toEqual(bodies);
  });

  it('hands out a body that lies in one chunk as a view of that chunk (zero copy)', () => {
    const { bytes } = stream();
    const views: Buffer[] = [];
    new FrameDecoder(1 << 20).push(bytes, (body) => {
      views.push(body);
      return true;
    });
    expect(views).toHaveLength(4);
    for (const view of views) expect(view.buffer).toBe(bytes.buffer);
  });

  it('tracks a partial frame it holds between chunks, bounded by the frame', () => {
    const { bytes } = stream();
    const decoder = new FrameDecoder(1 << 20);
    decoder.push(bytes.subarray(0, 2), () => true);
    expect(decoder.current).toBe(DecoderState.Header);
    expect(decoder.bufferedBytes).toBe(2);
    decoder.push(bytes.subarray(2, 9), () => true);
    expect(decoder.current).toBe(DecoderState.Body);
    expect(decoder.bufferedBytes).toBe(9);
  });

  it('stops at a header above frameBytesMax, before allocating the body', () => {
    const header = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    for (let split = 0; split <= 4; split++) {
      const { bodies, error } = decode([header.subarray(0, split), header.subarray(split)], 1024);
      expect(bodies).toEqual([]);
      expect(error?.code).toBe(TransportErrorCode.FrameTooLarge);
      expect(error?.message).toBe('frame of 2147483647 bytes is above the limit of 1024');
    }
  });

  it('accepts a frame of exactly frameBytesMax and refuses one byte more', () => {
    const exact = Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.alloc(8)]);
    expect(decode([exact], 8).bodies).toHaveLength(1);
    const over = Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.alloc(9)]);
    expect(decode([over], 8).error?.code).toBe(TransportErrorCode.FrameTooLarge);
  });

  it('refuses an empty frame', () => {
    const { error } = decode([Buffer.from([0, 0, 0, 0, 0x90])]);
    expect(error?.code).toBe(TransportErrorCode.MalformedFrame);
    expect(error?.message).toBe('empty frame (length 0)');
  });

  it('delivers the frames before a bad header, then ignores all later input', () => {
    const { bytes, bodies } = stream();
    const decoder = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    const error = decoder.push(Buffer.concat([bytes, Buffer.from([0xff, 0xff, 0xff, 0xff])]), (body) => {
      out.push(Buffer.from(body));
      return true;
    });
    expect(error?.code).toBe(TransportErrorCode.FrameTooLarge);
    expect(out).toEqual(bodies);
    expect(decoder.current).toBe(DecoderState.Stopped);
    expect(decoder.push(bytes, () => expect.unreachable('a stopped decoder decodes nothing'))).toBeNull();
  });

  it('stops when the handler says so, mid-chunk', () => {
    const { bytes } = stream();
    const decoder = new FrameDecoder(1 << 20);
    let calls = 0;
    decoder.push(bytes, () => ++calls < 2);
    expect(calls).toBe(2);
    expect(decoder.current).toBe(DecoderState.Stopped);
  });

  it('applies a raised limit from the next header on (the handshake runs with a small one)', () => {
    const decoder = new FrameDecoder(16);
    const small = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.alloc(4)]);
    const big = Buffer.concat([Buffer.from([0, 0, 0, 64]), Buffer.alloc(64)]);
    let frames = 0;
    const error = decoder.push(Buffer.concat([small, big]), () => {
      decoder.frameBytesMax = 1024;
      frames++;
      return true;
    });
    expect(error).toBeNull();
    expect(frames).toBe(2);
  });
});
