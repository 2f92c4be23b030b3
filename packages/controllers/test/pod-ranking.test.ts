// Which pods a ReplicaSet deletes first: unscheduled, pending, not ready, ready for less time, newer.
import type { Pod } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import { comparePodsForDeletion, isPodAvailable, podsToDelete } from '../src/index.js';

const pod = (name: string, o: { node?: string; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; readySince?: string; created?: string; restarts?: number } = {}): Pod => ({
  metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'c', image: 'i' }], ...(o.node === undefined ? {} : { nodeName: o.node }) },
  status: {
    phase: o.phase ?? 'Pending',
    conditions: o.readySince === undefined ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: o.readySince }],
    containerStatuses: [{ name: 'c', ready: o.readySince !== undefined, restartCount: o.restarts ?? 0, image: 'i', imageID: '' }],
  },
});

describe('pod ranking for deletion', () => {
  test('each rule in order', () => {
    const ranked = [
      pod('ready-old', { node: 'n', phase: 'Running', readySince: '2026-01-01T00:00:00Z' }),
      pod('ready-new', { node: 'n', phase: 'Running', readySince: '2026-01-02T00:00:00Z' }),
      pod('running-not-ready', { node: 'n', phase: 'Running' }),
      pod('pending-scheduled', { node: 'n', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
    ];
    expect(podsToDelete(ranked, 5).map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending-scheduled', 'running-not-ready', 'ready-new', 'ready-old']);
    expect(podsToDelete(ranked, 2).map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending-scheduled']);
    expect(ranked[0]?.metadata.name).toBe('ready-old');
  });
  test('more restarts, then newer, go first; the order is total', () => {
    const a = pod('a', { restarts: 3 });
    const b = pod('b', { restarts: 0 });
    expect(comparePodsForDeletion(a, b)).toBeLessThan(0);
    const older = pod('older', { created: '2026-01-01T00:00:00Z' });
    const newer = pod('newer', { created: '2026-01-05T00:00:00Z' });
    expect(podsToDelete([older, newer], 1)[0]?.metadata.name).toBe('newer');
    expect(comparePodsForDeletion(pod('x'), pod('y'))).not.toBe(0);
  });
  test('availability waits minReadySeconds after Ready', () => {
    const p = pod('p', { phase: 'Running', readySince: '2026-01-01T00:00:00Z' });
    const readyMs = Date.parse('2026-01-01T00:00:00Z');
    expect(isPodAvailable(p, 0, readyMs)).toBe(true);
    expect(isPodAvailable(p, 10, readyMs + 9_000)).toBe(false);
    expect(isPodAvailable(p, 10, readyMs + 10_000)).toBe(true);
  });
});
