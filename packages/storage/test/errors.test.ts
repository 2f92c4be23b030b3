// The error catalogue: stable, unique, prefixed codes (house rule 7), and messages that always
// name the data directory.

import { describe, expect, it } from 'vitest';
import { StorageError, StorageErrorCode, isStorageError } from '../src/index.js';

describe('StorageErrorCode', () => {
  it('holds seven codes, each STORAGE_ plus its key in upper snake case, all different', () => {
    const entries = Object.entries(StorageErrorCode);
    expect(entries).toHaveLength(7);
    for (const [key, code] of entries) expect(code).toBe(`STORAGE_${key.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`);
    expect(new Set(Object.values(StorageErrorCode)).size).toBe(entries.length);
  });
});

describe('StorageError', () => {
  it('names the data directory first, and carries code, index and record', () => {
    const error = new StorageError(StorageErrorCode.Corrupt, '/x/m1', 'raft log entry 1042: checksum mismatch', { index: 1042, record: 'raft log entry 1042' });
    expect(error.message).toBe('data directory /x/m1: raft log entry 1042: checksum mismatch');
    expect({ name: error.name, code: error.code, dataDir: error.dataDir, index: error.index, record: error.record }).toEqual({
      name: 'StorageError',
      code: 'STORAGE_CORRUPT',
      dataDir: '/x/m1',
      index: 1042,
      record: 'raft log entry 1042',
    });
    expect(isStorageError(error, StorageErrorCode.Corrupt)).toBe(true);
    expect(isStorageError(error, StorageErrorCode.Closed)).toBe(false);
    expect(isStorageError(new Error('x'))).toBe(false);
  });
});
