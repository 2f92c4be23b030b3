// The Docker stream decoders, fed their input split at every byte (house rule 12): the multiplexed
// frames of logs and exec output, and newline-delimited JSON.

import { describe, expect, it } from 'vitest';
import { DockerFrameDecoder, LineDecoder } from '../src/runtime/docker-frames.js';
import { isAgentError, AgentErrorCode } from '../src/errors.js';

function frame(stream: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function decodeAll(decoder: DockerFrameDecoder, pieces: Buffer[]): string {
  return Buffer.concat(pieces.flatMap((piece) => decoder.push(piece))).toString('utf8');
}

describe('DockerFrameDecoder', () => {
  const input = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err ü\n'), frame(1, ''), frame(1, 'out two\n')]);
  const expected = 'out one\nerr ü\nout two\n';

  it('gives stdout and stderr payloads in order, whole', () => {
    const decoder = new DockerFrameDecoder(1024, 'test');
    expect(decodeAll(decoder, [input])).toBe(expected);
    expect(decoder.atFrameBoundary).toBe(true);
  });

  it('gives the same bytes when the input is split at every byte, in two and in ones', () => {
    for (let cut = 0; cut <= input.length; cut += 1) {
      const decoder = new DockerFrameDecoder(1024, 'test');
      expect(decodeAll(decoder, [input.subarray(0, cut), input.subarray(cut)]), `cut at ${cut}`).toBe(expected);
      expect(decoder.atFrameBoundary).toBe(true);
    }
    const bytes = [...input].map((byte) => Buffer.from([byte]));
    expect(decodeAll(new DockerFrameDecoder(1024, 'test'), bytes)).toBe(expected);
  });

  it('knows when the input stopped inside a frame', () => {
    const decoder = new DockerFrameDecoder(1024, 'test');
    decoder.push(input.subarray(0, 10));
    expect(decoder.atFrameBoundary).toBe(false);
  });

  it('refuses a stream that is not multiplexed (a TTY container), and a frame over its bound', () => {
    const tty = Buffer.from('plain text, no header\n');
    expect(() => new DockerFrameDecoder(1024, 'logs of c1').push(tty)).toThrow(/logs of c1: not a multiplexed Docker stream/);
    const big = frame(1, 'x'.repeat(100));
    let error: unknown;
    try {
      new DockerFrameDecoder(99, 'logs of c1').push(big);
    } catch (caught) {
      error = caught;
    }
    expect(isAgentError(error, AgentErrorCode.RuntimeUnavailable)).toBe(true);
    expect(String(error)).toMatch(/a frame of 100 bytes is over 99/);
  });
});

describe('LineDecoder', () => {
  const input = Buffer.from('{"a":1}\n{"b":"ü"}\n\n{"c":3}');

  it('gives the same lines when the input is split at every byte', () => {
    for (let cut = 0; cut <= input.length; cut += 1) {
      const decoder = new LineDecoder(64, 'test');
      const lines = [...decoder.push(input.subarray(0, cut)), ...decoder.push(input.subarray(cut))];
      expect(lines, `cut at ${cut}`).toEqual(['{"a":1}', '{"b":"ü"}', '']);
      expect(decoder.end()).toBe('{"c":3}');
    }
  });

  it('refuses a line over its bound instead of growing', () => {
    const decoder = new LineDecoder(8, 'events');
    decoder.push(Buffer.from('12345'));
    expect(() => decoder.push(Buffer.from('6789'))).toThrow(/events: a line over 8 bytes/);
  });
});
