// Score plugins give 0–100 per node as Kubernetes computes them; the weighted sum picks the node.

import { describe, expect, test } from 'vitest';
import {
  balancedAllocation,
  defaultNormalize,
  leastAllocated,
  newPodContext,
  preferredNodeAffinity,
  scoreNodes,
  selectorSpread,
  taintTolerationScore,
  type WeightedScorer,
} from '../src/index.js';
import { makeNode, makePod, nodeInfoWith } from './fixtures.js';

describe('leastAllocated', () => {
  test('the free share of cpu and memory after placing the pod, averaged', () => {
    const ctx = newPodContext(makePod('p', { cpu: '1', memory: '1Gi' }));
    // cpu: (4 - 1) / 4 = 75; memory: (8 - 1) / 8 = 87.5 -> 87; mean 81.
    expect(leastAllocated.score(ctx, nodeInfoWith(makeNode('n', { cpu: '4', memory: '8Gi' })))).toBe(81);
    // 2 cpu and 3Gi already used, plus the pod: cpu (4 - 3) / 4 = 25, memory (8 - 4) / 8 = 50 -> 37.
    const busy = nodeInfoWith(makeNode('n', { cpu: '4', memory: '8Gi' }), makePod('a', { nodeName: 'n', cpu: '2', memory: '3Gi' }));
    expect(leastAllocated.score(ctx, busy)).toBe(37);
  });

  test('a pod without requests counts the defaults (100m, 200Mi) when scoring', () => {
    const ctx = newPodContext(makePod('p'));
    // cpu: (1000 - 100) / 1000 = 90; memory: (1000Mi - 200Mi) / 1000Mi = 80 -> 85.
    expect(leastAllocated.score(ctx, nodeInfoWith(makeNode('n', { cpu: '1', memory: '1000Mi' })))).toBe(85);
  });
});

describe('balancedAllocation', () => {
  test('100 when cpu and memory are used in the same proportion, lower as they drift apart', () => {
    expect(balancedAllocation.score(newPodContext(makePod('p', { cpu: '1', memory: '2Gi' })), nodeInfoWith(makeNode('n', { cpu: '4', memory: '8Gi' })))).toBe(100);
    // cpu 0.5, memory 0.125: std 0.1875 -> 81.
    expect(balancedAllocation.score(newPodContext(makePod('p', { cpu: '2', memory: '1Gi' })), nodeInfoWith(makeNode('n', { cpu: '4', memory: '8Gi' })))).toBe(81);
  });
});

describe('selectorSpread', () => {
  test('fewer pods of the same controller scores higher; 100 everywhere when there are none', () => {
    const ctx = newPodContext(makePod('p', { ownerUid: 'rs-1' }), (other) => other.metadata.ownerReferences?.[0]?.uid === 'rs-1');
    const nodes = [
      nodeInfoWith(makeNode('a'), makePod('a1', { nodeName: 'a', ownerUid: 'rs-1' }), makePod('a2', { nodeName: 'a', ownerUid: 'rs-1' })),
      nodeInfoWith(makeNode('b'), makePod('b1', { nodeName: 'b', ownerUid: 'rs-1' }), makePod('b2', { nodeName: 'b', ownerUid: 'other' })),
      nodeInfoWith(makeNode('c')),
    ];
    const scores = nodes.map((n) => selectorSpread.score(ctx, n));
    expect(scores).toEqual([2, 1, 0]);
    selectorSpread.normalize!(scores);
    expect(scores).toEqual([0, 50, 100]);
    const none = [0, 0];
    defaultNormalize(none, true);
    expect(none).toEqual([100, 100]);
  });
});

describe('preferredNodeAffinity', () => {
  test('sums the weights of matching preferred terms, scaled so the best node gets 100', () => {
    const pod = makePod('p');
    pod.spec!.affinity = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 80, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
          { weight: 20, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
        ],
      },
    };
    const ctx = newPodContext(pod);
    const nodes = [nodeInfoWith(makeNode('a', { labels: { zone: 'a', disk: 'ssd' } })), nodeInfoWith(makeNode('b', { labels: { zone: 'a' } })), nodeInfoWith(makeNode('c', { labels: { disk: 'hdd' } }))];
    const scores = nodes.map((n) => preferredNodeAffinity.score(ctx, n));
    expect(scores).toEqual([100, 80, 20]);
    preferredNodeAffinity.normalize!(scores);
    expect(scores).toEqual([100, 80, 20]);
    const half = [40, 20, 0];
    preferredNodeAffinity.normalize!(half);
    expect(half).toEqual([100, 50, 0]);
  });
});

describe('taintTolerationScore', () => {
  test('counts untolerated PreferNoSchedule taints, fewer is better', () => {
    const ctx = newPodContext(makePod('p'));
    const scores = [nodeInfoWith(makeNode('a', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })), nodeInfoWith(makeNode('b'))].map((n) => taintTolerationScore.score(ctx, n));
    expect(scores).toEqual([1, 0]);
    taintTolerationScore.normalize!(scores);
    expect(scores).toEqual([0, 100]);
  });
});

describe('scoreNodes', () => {
  test('the weighted sum of each scorer, normalized per scorer', () => {
    const scorers: WeightedScorer[] = [
      { scorer: { name: 'const', score: () => 10 }, weight: 3 },
      { scorer: { name: 'index', score: (_ctx, n) => (n.name === 'a' ? 2 : 1), normalize: (s) => defaultNormalize(s, false) }, weight: 2 },
    ];
    expect(scoreNodes(scorers, newPodContext(makePod('p')), [nodeInfoWith(makeNode('a')), nodeInfoWith(makeNode('b'))])).toEqual([30 + 200, 30 + 100]);
  });
});
