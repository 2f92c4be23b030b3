// The catalogue of the client's own failures: stable codes, one per failure, each carrying the
// context a log line needs.

import { describe, expect, it } from 'vitest';
import { ClientError, ClientErrorCode, invalidOption, isClientError } from '../src/index.js';

describe('client error catalogue', () => {
  it('has one distinct CLIENT_ code per failure', () => {
    const codes = Object.values(ClientErrorCode);
    expect(codes).toHaveLength(9);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [key, code] of Object.entries(ClientErrorCode)) {
      expect(code).toBe(`CLIENT_${key.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`);
    }
  });

  it('carries its code, its details and its cause', () => {
    const cause = new Error('socket hang up');
    const error = new ClientError(ClientErrorCode.OutcomeUnknown, 'lost', { endpoint: 'http://127.0.0.1:6441', method: 'POST', path: '/api/v1/namespaces/default/pods' }, { cause });
    expect(error.name).toBe('ClientError');
    expect(error.message).toBe('CLIENT_OUTCOME_UNKNOWN: lost');
    expect(error.details.endpoint).toBe('http://127.0.0.1:6441');
    expect(error.cause).toBe(cause);
    expect(isClientError(error, ClientErrorCode.OutcomeUnknown)).toBe(true);
    expect(isClientError(error, ClientErrorCode.Unreachable)).toBe(false);
    expect(isClientError(new Error('x'))).toBe(false);
    expect(invalidOption('retry.attemptsMax', 'must be >= 1').details.option).toBe('retry.attemptsMax');
  });
});
