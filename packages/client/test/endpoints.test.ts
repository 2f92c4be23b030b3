// The endpoint set: the leader hint first, then the configured order, moving past a master that
// failed; a leader outside the configured list is never followed.

import { describe, expect, it } from 'vitest';
import { ClientErrorCode, EndpointSet, isClientError, normalizeEndpoint } from '../src/index.js';

const a = 'http://127.0.0.1:6441';
const b = 'http://127.0.0.1:6442';
const c = 'http://127.0.0.1:6443';

describe('endpoint set', () => {
  it('uses the first endpoint until one fails, then the next, round the list', () => {
    const set = new EndpointSet([a, b, c]);
    expect(set.pick()).toBe(a);
    set.markFailed(a);
    expect(set.pick()).toBe(b);
    set.markFailed(b);
    set.markFailed(c);
    expect(set.pick()).toBe(a);
  });

  it('prefers the leader an answer named, and forgets it when it fails', () => {
    const set = new EndpointSet([a, b, c]);
    set.noteLeader(`${c}/`);
    expect(set.pick()).toBe(c);
    set.markFailed(c);
    expect(set.leaderHint()).toBeUndefined();
    expect(set.pick()).toBe(a);
  });

  it('ignores a leader outside the list, and garbage', () => {
    const set = new EndpointSet([a, b]);
    set.noteLeader('http://10.0.0.1:6441');
    set.noteLeader('not a url');
    set.noteLeader('');
    expect(set.leaderHint()).toBeUndefined();
  });

  it('normalizes endpoints to their origin and rejects anything else', () => {
    expect(normalizeEndpoint('http://127.0.0.1:6441/', 'e')).toBe(a);
    for (const bad of ['127.0.0.1:6441', 'ws://127.0.0.1:1', 'http://127.0.0.1:1/prefix', 'http://u:p@127.0.0.1:1', 'http://127.0.0.1:1/?q=1']) {
      let error: unknown;
      try {
        normalizeEndpoint(bad, 'endpoints[3]');
      } catch (e) {
        error = e;
      }
      expect(isClientError(error, ClientErrorCode.InvalidOption), bad).toBe(true);
    }
  });
});
