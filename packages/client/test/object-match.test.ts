// The test that makes a repeated create safe: the stored object matches what was sent when it
// holds every field the client set (the server only adds: defaults, uid, status), with the same
// labels, annotations and owner references.

import { describe, expect, it } from 'vitest';
import { jsonContains, storedMatchesSent } from '../src/index.js';

const sent = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-x7k2p', generateName: 'web-', namespace: 'default', labels: { app: 'web' }, annotations: { a: '1' } },
  spec: { containers: [{ name: 'main', image: 'nginx' }] },
};

const stored = {
  ...sent,
  metadata: { ...sent.metadata, uid: 'u1', resourceVersion: '12', creationTimestamp: '2026-11-26T12:00:00Z' },
  spec: { containers: [{ name: 'main', image: 'nginx', terminationMessagePath: '/dev/termination-log' }], restartPolicy: 'Always' },
  status: { phase: 'Pending' },
};

describe('stored matches sent', () => {
  it('accepts what the server added: defaults, uid, resourceVersion, status', () => {
    expect(storedMatchesSent(stored, sent)).toBe(true);
  });

  it('rejects another spec, other labels, other annotations, other owners', () => {
    expect(storedMatchesSent({ ...stored, spec: { containers: [{ name: 'main', image: 'redis' }] } }, sent)).toBe(false);
    expect(storedMatchesSent({ ...stored, metadata: { ...stored.metadata, labels: { app: 'db' } } }, sent)).toBe(false);
    expect(storedMatchesSent({ ...stored, metadata: { ...stored.metadata, annotations: {} } }, sent)).toBe(false);
    const owned = { ...sent, metadata: { ...sent.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'r1' }] } };
    expect(storedMatchesSent(stored, owned)).toBe(false);
  });

  it('compares the data of kinds without a spec', () => {
    const cm = { metadata: { name: 'c' }, data: { a: '1' } };
    expect(storedMatchesSent({ ...cm, metadata: { name: 'c', uid: 'u' } }, cm)).toBe(true);
    expect(storedMatchesSent({ ...cm, data: { a: '2' } }, cm)).toBe(false);
  });

  it('containment: arrays keep their length, objects may gain keys, values are equal', () => {
    expect(jsonContains({ a: 1, b: 2 }, { a: 1 })).toBe(true);
    expect(jsonContains([1, 2], [1])).toBe(false);
    expect(jsonContains([{ a: 1, b: 1 }], [{ a: 1 }])).toBe(true);
    expect(jsonContains({ a: '1' }, { a: 1 })).toBe(false);
    expect(jsonContains({}, { a: null })).toBe(true);
  });
});
