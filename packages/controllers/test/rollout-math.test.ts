// The pure rollout arithmetic: fenceposts and rounding, rollout steps, proportional scaling.
import type { ReplicaSet } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import { maxReplicasAnnotation, newReplicaSetReplicas, oldReplicaSetsStep, oldReplicasMaxScaleDown, proportionalSizes, resolveFenceposts, scaledValue, slowStartBatches } from '../src/index.js';

describe('maxSurge / maxUnavailable resolution', () => {
  test('surge rounds up, unavailable rounds down', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts('25%', '25%', 8)).toEqual({ surge: 2, unavailable: 2 });
    expect(resolveFenceposts('10%', '10%', 5)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(3, 1, 10)).toEqual({ surge: 3, unavailable: 1 });
  });
  test('both zero makes unavailable 1', () => {
    expect(resolveFenceposts(0, 0, 10)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts('1%', '1%', 10)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts('0%', '4%', 10)).toEqual({ surge: 0, unavailable: 1 });
  });
  test('percentages of zero replicas, and a bad value', () => {
    expect(scaledValue('50%', 0, true)).toBe(0);
    expect(() => scaledValue('half', 4, true)).toThrow(/IntOrString/);
  });
});

describe('rollout steps', () => {
  test('the new ReplicaSet grows to replicas + maxSurge total, never past replicas', () => {
    expect(newReplicaSetReplicas(10, 3, 10, 0)).toBe(3);
    expect(newReplicaSetReplicas(10, 3, 13, 3)).toBe(3);
    expect(newReplicaSetReplicas(10, 3, 11, 3)).toBe(5);
    expect(newReplicaSetReplicas(10, 3, 9, 9)).toBe(10);
    expect(newReplicaSetReplicas(10, 0, 10, 0)).toBe(0);
  });
  test('old pods go only down to replicas - maxUnavailable, counting unavailable new pods', () => {
    expect(oldReplicasMaxScaleDown(13, 10, 2, 3)).toBe(2);
    expect(oldReplicasMaxScaleDown(13, 10, 2, 5)).toBe(0);
    expect(oldReplicasMaxScaleDown(13, 10, 2, 0)).toBe(5);
    expect(oldReplicasMaxScaleDown(10, 10, 0, 0)).toBe(0);
  });
  test('unhealthy old pods first, then available ones down to the minimum, oldest first', () => {
    const old = [
      { name: 'a', replicas: 4, available: 2 },
      { name: 'b', replicas: 6, available: 6 },
    ];
    // 2 unhealthy in a go first; then 10 available - 8 minimum = 2 more, from a then b.
    expect(oldReplicaSetsStep(old, 5, 10, 8)).toEqual(new Map([['a', 0]]));
    expect(oldReplicaSetsStep(old, 1, 10, 8)).toEqual(new Map([['a', 3]]));
    expect(oldReplicaSetsStep(old, 10, 8, 8)).toEqual(new Map([['a', 2]]));
  });
  test('slow start batches', () => {
    expect(slowStartBatches(10)).toEqual([1, 2, 4, 3]);
    expect(slowStartBatches(1)).toEqual([1]);
    expect(slowStartBatches(0)).toEqual([]);
  });
});

describe('proportional scaling', () => {
  const rs = (name: string, replicas: number, created: string, max: number): ReplicaSet => ({
    metadata: { name, creationTimestamp: created, annotations: { [maxReplicasAnnotation]: String(max) } },
    spec: { replicas },
  });
  test('a resize mid-rollout is spread by size, leftovers to the largest', () => {
    // 10 replicas + 3 surge: old 8, new 5; scaled to 20 + 5 surge.
    const sizes = proportionalSizes([rs('old', 8, '2026-01-01T00:00:00Z', 13), rs('new', 5, '2026-01-02T00:00:00Z', 13)], 20, 5, 13);
    expect((sizes.get('old') ?? 0) + (sizes.get('new') ?? 0)).toBe(25);
    expect(sizes.get('old')).toBe(15);
    expect(sizes.get('new')).toBe(10);
  });
  test('to zero', () => {
    const sizes = proportionalSizes([rs('old', 8, '2026-01-01T00:00:00Z', 13), rs('new', 5, '2026-01-02T00:00:00Z', 13)], 0, 0, 13);
    expect(sizes).toEqual(new Map([['old', 0], ['new', 0]]));
  });
});
