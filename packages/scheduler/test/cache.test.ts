// The scheduler cache: assumed pods take room at once, so a burst is never double-booked; the
// informer confirms them, a failed binding forgets them, a lost confirmation expires them.

import { describe, expect, test } from 'vitest';
import { SchedulerCache, defaultFilters, defaultScorers, newPodContext, schedulePod } from '../src/index.js';
import { makeNode, makePod, seededRandom } from './fixtures.js';

describe('SchedulerCache', () => {
  test('a burst of pods scheduled back to back with assumption never exceeds any node', () => {
    const cache = new SchedulerCache(30_000);
    for (const name of ['a', 'b', 'c']) cache.setNode(makeNode(name, { cpu: '2' }));
    const profile = { filters: defaultFilters, scorers: defaultScorers, random: seededRandom(1) };
    const placed = new Map<string, number>();
    let unschedulable = 0;
    for (let i = 0; i < 15; i++) {
      const pod = makePod(`p${i}`, { cpu: '500m' });
      const result = schedulePod(profile, newPodContext(pod), cache.nodeInfos());
      if (result.kind === 'unschedulable') {
        unschedulable++;
        expect(result.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
        continue;
      }
      cache.assumePod(pod, result.nodeName);
      placed.set(result.nodeName, (placed.get(result.nodeName) ?? 0) + 1);
    }
    expect([...placed.values()]).toEqual([4, 4, 4]);
    expect(unschedulable).toBe(3);
    for (const info of cache.nodeInfos()) expect(info.requested.milliCpu).toBe(2000);
  });

  test('the informer confirming an assumed pod keeps its room counted once', () => {
    const cache = new SchedulerCache(30_000);
    cache.setNode(makeNode('a', { cpu: '2' }));
    const pod = makePod('p', { cpu: '1' });
    cache.assumePod(pod, 'a');
    expect(cache.isAssumed('default/p')).toBe(true);
    cache.upsertBoundPod({ ...pod, spec: { ...pod.spec!, nodeName: 'a' } });
    expect(cache.isAssumed('default/p')).toBe(false);
    expect(cache.nodeInfo('a')!.requested.milliCpu).toBe(1000);
    expect(cache.nodeInfo('a')!.pods.size).toBe(1);
    expect(cache.forgetPod('default/p')).toBe(false);
    expect(cache.nodeInfo('a')!.requested.milliCpu).toBe(1000);
  });

  test('a failed binding forgets the assumed pod and frees its room', () => {
    const cache = new SchedulerCache(30_000);
    cache.setNode(makeNode('a', { cpu: '2' }));
    cache.assumePod(makePod('p', { cpu: '1', hostPorts: [80] }), 'a');
    expect(cache.nodeInfo('a')!.usedPorts.size).toBe(1);
    expect(cache.forgetPod('default/p')).toBe(true);
    expect(cache.nodeInfo('a')!.requested.milliCpu).toBe(0);
    expect(cache.nodeInfo('a')!.pods.size).toBe(0);
    expect(cache.nodeInfo('a')!.usedPorts.size).toBe(0);
  });

  test('an assumed pod never confirmed expires assumedPodTtlMs after its binding finished', () => {
    const cache = new SchedulerCache(1_000);
    cache.setNode(makeNode('a'));
    cache.assumePod(makePod('p', { cpu: '1' }), 'a');
    expect(cache.expireAssumed(1_000_000)).toEqual([]);
    cache.finishBinding('default/p', 5_000);
    expect(cache.expireAssumed(5_999)).toEqual([]);
    expect(cache.expireAssumed(6_000)).toEqual(['default/p']);
    expect(cache.nodeInfo('a')!.pods.size).toBe(0);
  });

  test('pods bound to a node the cache does not know yet are counted when it appears; a node update keeps them', () => {
    const cache = new SchedulerCache(30_000);
    cache.upsertBoundPod(makePod('p', { nodeName: 'late', cpu: '1' }));
    expect(cache.nodeInfos()).toEqual([]);
    cache.setNode(makeNode('late', { cpu: '2' }));
    expect(cache.nodeInfo('late')!.requested.milliCpu).toBe(1000);
    cache.setNode(makeNode('late', { cpu: '4', labels: { zone: 'a' } }));
    expect(cache.nodeInfo('late')!.requested.milliCpu).toBe(1000);
    expect(cache.nodeInfo('late')!.allocatable.milliCpu).toBe(4000);
    cache.upsertBoundPod(makePod('p', { nodeName: 'late', cpu: '2' }));
    expect(cache.nodeInfo('late')!.requested.milliCpu).toBe(2000);
    expect(cache.removePod('default/p')).toBe(true);
    expect(cache.nodeInfo('late')!.requested.milliCpu).toBe(0);
  });
});
