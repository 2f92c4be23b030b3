// The error catalogue is closed and stable, options are validated whole at start (each bad option
// with its own error naming it), and the reconnect backoff grows, is jittered, and is bounded.

import { describe, expect, it } from 'vitest';
import {
  Transport,
  TransportError,
  TransportErrorCode,
  isTransportError,
  validateTransportOptions,
  type TransportOptions,
} from '../src/index.js';
import { reconnectDelayMs } from '../src/backoff.js';
import { HOST, baseOptions, capturingLogger, seededRandom } from './support/fixtures.js';

function validOptions(): TransportOptions {
  return {
    ...baseOptions(),
    self: { id: 2, host: HOST, port: 0 },
    peers: [
      { id: 1, host: HOST, port: 0 },
      { id: 3, host: HOST, port: 7000 },
    ],
    onMessages: () => undefined,
    onUnreachable: () => undefined,
    logger: capturingLogger(),
    signal: new AbortController().signal,
  };
}

function rejectedOption(overrides: Record<string, unknown>): string {
  try {
    validateTransportOptions({ ...validOptions(), ...overrides } as TransportOptions);
  } catch (error) {
    if (isTransportError(error, TransportErrorCode.InvalidOption)) return error.details.option ?? '(no option named)';
    return `threw ${String(error)}`;
  }
  return 'accepted';
}

describe('error catalogue', () => {
  it('has one unique TRANSPORT_ code per failure', () => {
    const codes = Object.values(TransportErrorCode);
    expect(codes).toHaveLength(18);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^TRANSPORT_[A-Z_]+$/);
  });

  it('carries the code, the details and the cause', () => {
    const cause = new Error('EADDRINUSE');
    const error = new TransportError(TransportErrorCode.ListenFailed, 'cannot listen', { address: '127.0.0.1:1' }, { cause });
    expect(error.name).toBe('TransportError');
    expect(isTransportError(error, TransportErrorCode.ListenFailed)).toBe(true);
    expect(isTransportError(error, TransportErrorCode.WrongSecret)).toBe(false);
    expect(error.cause).toBe(cause);
  });
});

describe('transport options', () => {
  it('accepts valid options, with a port-0 self and port-0 peers below it', () => {
    expect(rejectedOption({})).toBe('accepted');
  });

  it.each([
    ['self', { self: null }],
    ['self.id', { self: { id: 0, host: HOST, port: 0 } }],
    ['self.host', { self: { id: 2, host: '', port: 0 } }],
    ['self.port', { self: { id: 2, host: HOST, port: 70000 } }],
    ['peers', { peers: 'all' }],
    ['peers[1].port', { peers: [{ id: 1, host: HOST, port: 0 }, { id: 3, host: HOST, port: 0 }] }],
    ['peers[0].id', { peers: [{ id: 2, host: HOST, port: 1 }] }],
    ['peers[1].id', { peers: [{ id: 3, host: HOST, port: 1 }, { id: 3, host: HOST, port: 1 }] }],
    ['clusterName', { clusterName: '' }],
    ['secret', { secret: 'short' }],
    ['frameBytesMax', { frameBytesMax: 100 }],
    ['queueBytesMax', { queueBytesMax: 1024, frameBytesMax: 4096 }],
    ['reconnectDelayMsMin', { reconnectDelayMsMin: 0 }],
    ['reconnectDelayMsMax', { reconnectDelayMsMin: 100, reconnectDelayMsMax: 50 }],
    ['idleTimeoutMs', { idleTimeoutMs: 1.5 }],
    ['random', { random: 4 }],
    ['onMessages', { onMessages: undefined }],
    ['onUnreachable', { onUnreachable: null }],
    ['logger', { logger: { info: () => undefined } }],
    ['signal', { signal: {} }],
    ['heartbeatMs', { heartbeatMs: 100 }],
  ])('names %s when it is wrong', (option, overrides) => {
    expect(rejectedOption(overrides)).toBe(option);
  });

  it('start() rejects bad options and an aborted signal before listening', async () => {
    await expect(Transport.start({ ...validOptions(), frameBytesMax: 1 })).rejects.toMatchObject({ code: TransportErrorCode.InvalidOption, details: { option: 'frameBytesMax' } });
    const abort = new AbortController();
    abort.abort(new Error('shutting down'));
    await expect(Transport.start({ ...validOptions(), signal: abort.signal })).rejects.toThrow('shutting down');
  });
});

describe('reconnect backoff', () => {
  it('doubles from the minimum up to the maximum, with jitter in the upper half', () => {
    const random = seededRandom(3);
    for (let failures = 0; failures < 40; failures++) {
      const ceiling = Math.min(2000, 50 * 2 ** failures);
      for (let i = 0; i < 20; i++) {
        const delay = reconnectDelayMs(failures, 50, 2000, random);
        expect(delay).toBeGreaterThanOrEqual(Math.max(50, ceiling / 2 - 1));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('is the same for the same random draws, and spreads for different ones', () => {
    expect(reconnectDelayMs(5, 10, 10_000, () => 0)).toBe(160);
    expect(reconnectDelayMs(5, 10, 10_000, () => 0.999)).toBe(320);
    expect(reconnectDelayMs(0, 10, 10_000, () => 0)).toBe(10);
  });
});
