// One decision: the fits-nowhere message word for word, the best node, and ties broken by the
// injected generator.

import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Scheduler, defaultFilters, defaultScorers, feasibleNodesToFind, filtersFor, fitErrorMessage, newPodContext, schedulePod, selectHost, type SchedulingProfile } from '../src/index.js';
import { makeNode, makePod, nodeInfoWith, seededRandom } from './fixtures.js';

const profile = (random: () => number = () => 0): SchedulingProfile => ({ filters: defaultFilters, scorers: defaultScorers, random });

describe('fitErrorMessage', () => {
  test('counts each reason and sorts the "<count> <reason>" strings as Go sort.Strings does', () => {
    const reasons = new Map([
      ['Insufficient cpu', 2],
      ['node(s) had untolerated taint {key: value}', 1],
    ]);
    expect(fitErrorMessage(3, reasons)).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu.');
    expect(fitErrorMessage(5, new Map([['Insufficient memory', 2], ['Insufficient cpu', 3]]))).toBe('0/5 nodes are available: 2 Insufficient memory, 3 Insufficient cpu.');
  });
});

describe('schedulePod', () => {
  test('a pod that fits nowhere gets the Kubernetes message over every node', () => {
    const nodes = [
      nodeInfoWith(makeNode('a', { cpu: '1' })),
      nodeInfoWith(makeNode('b', { cpu: '1' })),
      nodeInfoWith(makeNode('c', { cpu: '8', taints: [{ key: 'key', value: 'value', effect: 'NoSchedule' }] })),
    ];
    const result = schedulePod(profile(), newPodContext(makePod('p', { cpu: '2' })), nodes);
    expect(result).toMatchObject({ kind: 'unschedulable', message: '0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu.' });
  });

  test('every filter wording, in one message', () => {
    const nodes = [
      nodeInfoWith(makeNode('cordoned', { unschedulable: true })),
      nodeInfoWith(makeNode('down', { ready: 'False' })),
      nodeInfoWith(makeNode('small', { cpu: '1', memory: '1Gi' })),
      nodeInfoWith(makeNode('full', { pods: 1 }), makePod('x', { nodeName: 'full' })),
      nodeInfoWith(makeNode('ports'), makePod('y', { nodeName: 'ports', hostPorts: [80] })),
      nodeInfoWith(makeNode('elsewhere', { labels: { zone: 'b' } })),
    ];
    const pod = makePod('p', { cpu: '2', memory: '2Gi', hostPorts: [80], nodeSelector: { 'kubernetes.io/hostname': 'small' } });
    nodes[5] = nodeInfoWith(makeNode('elsewhere'));
    const result = schedulePod(profile(), newPodContext(pod), nodes);
    expect(result.kind).toBe('unschedulable');
    expect(result.kind === 'unschedulable' && result.message).toBe(
      "0/6 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were not ready, 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  test('no nodes at all', () => {
    expect(schedulePod(profile(), newPodContext(makePod('p')), [])).toMatchObject({ kind: 'unschedulable', message: 'no nodes available to schedule pods' });
  });

  test('picks the emptier node', () => {
    const nodes = [nodeInfoWith(makeNode('a'), makePod('x', { nodeName: 'a', cpu: '3', memory: '6Gi' })), nodeInfoWith(makeNode('b'))];
    expect(schedulePod(profile(), newPodContext(makePod('p', { cpu: '500m', memory: '1Gi' })), nodes)).toMatchObject({ kind: 'scheduled', nodeName: 'b', feasibleCount: 2 });
  });

  test('ties are broken by the injected generator, the same way for the same seed', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((n) => nodeInfoWith(makeNode(n)));
    const pick = (random: () => number): string[] =>
      Array.from({ length: 20 }, (_, i) => {
        const r = schedulePod(profile(random), newPodContext(makePod(`p${i}`, { cpu: '100m' })), nodes);
        return r.kind === 'scheduled' ? r.nodeName : '';
      });
    const first = pick(seededRandom(7));
    expect(pick(seededRandom(7))).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(selectHost([5, 9, 9, 1], () => 0)).toBe(1);
    expect(selectHost([5, 9, 9, 1], () => 0.99)).toBe(2);
  });
});

describe('percentageOfNodesToScore (kube-scheduler numFeasibleNodesToFind)', () => {
  test('adaptive: every node under 100, then 50% less 1% per 125 nodes, at least 5% and never under 100', () => {
    expect(feasibleNodesToFind(0)).toBe(0);
    expect(feasibleNodesToFind(99)).toBe(99);
    expect(feasibleNodesToFind(100)).toBe(100); // 50% of 100 is 50, raised to the minimum
    expect(feasibleNodesToFind(200)).toBe(100); // 49%: 98, raised to 100
    expect(feasibleNodesToFind(1000)).toBe(420); // 42%
    expect(feasibleNodesToFind(5000)).toBe(500); // 10%
    expect(feasibleNodesToFind(10_000)).toBe(500); // 50 - 80 < 5: 5%
    expect(feasibleNodesToFind(1000, 100)).toBe(1000);
    expect(feasibleNodesToFind(1000, 20)).toBe(200);
    expect(feasibleNodesToFind(1000, 1)).toBe(100);
  });

  const many = (count: number) => Array.from({ length: count }, (_, i) => nodeInfoWith(makeNode(`n-${String(i).padStart(4, '0')}`)));

  test('stops once enough feasible nodes are found, starting at the given index and wrapping around', () => {
    const nodes = many(1000);
    const result = schedulePod(profile(), newPodContext(makePod('p', { cpu: '100m' })), nodes, 900);
    expect(result).toMatchObject({ kind: 'scheduled', feasibleCount: 420, processed: 420 });
    // Looked at n-0900..n-0999 then n-0000..n-0319: the choice is among those.
    const chosen = result.kind === 'scheduled' ? Number(result.nodeName.slice(2)) : -1;
    expect(chosen >= 900 || chosen < 320).toBe(true);
  });

  test('infeasible nodes do not count toward the feasible ones wanted: the pass goes on past them', () => {
    const nodes = many(1000);
    // The first 700 from the start are too small.
    for (let i = 0; i < 700; i++) nodes[i] = nodeInfoWith(makeNode(`n-${String(i).padStart(4, '0')}`, { cpu: '1' }));
    const result = schedulePod(profile(), newPodContext(makePod('p', { cpu: '2' })), nodes, 0);
    expect(result).toMatchObject({ kind: 'scheduled', feasibleCount: 300, processed: 1000 });
  });

  test('a pod that fits nowhere is checked against every node, and the message counts them all', () => {
    const nodes = many(300).map((n, i) => nodeInfoWith(makeNode(`n-${i}`, { cpu: '1' })));
    const result = schedulePod(profile(), newPodContext(makePod('p', { cpu: '2' })), nodes, 123);
    expect(result).toMatchObject({ kind: 'unschedulable', message: '0/300 nodes are available: 300 Insufficient cpu.', processed: 300 });
  });

  test('the Scheduler refuses a percentage outside 0..100, naming the option', () => {
    expect(() => new Scheduler({ client: {} as never, random: () => 0, percentageOfNodesToScore: 101 })).toThrow(/percentageOfNodesToScore/);
    expect(() => new Scheduler({ client: {} as never, random: () => 0, percentageOfNodesToScore: -1 })).toThrow(/percentageOfNodesToScore/);
  });
});

describe('PreFilter and PreScore Skip', () => {
  // The skips only save calls: with them stripped, every decision must come out the same.
  const unskipped: SchedulingProfile = {
    filters: defaultFilters.map(({ name, filter }) => ({ name, filter })),
    scorers: defaultScorers.map(({ scorer, weight }) => ({ weight, scorer: { name: scorer.name, score: scorer.score.bind(scorer), ...(scorer.normalize ? { normalize: scorer.normalize.bind(scorer) } : {}) } })),
    random: () => 0,
  };

  test('filters that cannot reject any node for a pod are left out; scorers that score all nodes alike are not called', () => {
    const pod = makePod('p', { cpu: '100m' });
    const ctx = newPodContext(pod);
    expect(filtersFor(defaultFilters, ctx).map((f) => f.name)).toEqual(['NodeReady', 'NodeUnschedulable', 'TaintToleration', 'NodeResourcesFit']);
    const picky = newPodContext(makePod('q', { nodeName: 'a', nodeSelector: { zone: 'a' }, hostPorts: [80] }));
    expect(filtersFor(defaultFilters, picky).map((f) => f.name)).toEqual(defaultFilters.map((f) => f.name));
  });

  test('decisions and messages are the same with and without the skips (property)', () => {
    const nodeArb = fc.record({
      cpu: fc.constantFrom('1', '2', '4'),
      zone: fc.constantFrom('a', 'b'),
      tainted: fc.boolean(),
      prefer: fc.boolean(),
      unschedulable: fc.boolean(),
      ready: fc.constantFrom<'True' | 'False'>('True', 'True', 'False'),
      port: fc.boolean(),
    });
    const podArb = fc.record({
      cpu: fc.constantFrom('100m', '1500m', '3'),
      selector: fc.boolean(),
      nodeName: fc.boolean(),
      hostPort: fc.boolean(),
      tolerate: fc.boolean(),
      owner: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 8 }), podArb, fc.nat(20), (nodeInputs, p, start) => {
        const nodes = nodeInputs.map((n, i) => {
          const taints = [
            ...(n.tainted ? [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' as const }] : []),
            ...(n.prefer ? [{ key: 'soft', value: 'y', effect: 'PreferNoSchedule' as const }] : []),
          ];
          const node = makeNode(`n${i}`, { cpu: n.cpu, labels: { zone: n.zone }, taints, unschedulable: n.unschedulable, ready: n.ready });
          const others = n.port ? [makePod(`x${i}`, { nodeName: `n${i}`, hostPorts: [80], ownerUid: 'rs-1' })] : [makePod(`y${i}`, { nodeName: `n${i}`, ownerUid: 'rs-1' })];
          return nodeInfoWith(node, ...others);
        });
        const pod = makePod('p', {
          cpu: p.cpu,
          nodeSelector: p.selector ? { zone: 'a' } : undefined,
          nodeName: p.nodeName ? 'n0' : undefined,
          hostPorts: p.hostPort ? [80] : undefined,
          tolerations: p.tolerate ? [{ key: 'dedicated', operator: 'Exists' }] : undefined,
          ownerUid: p.owner ? 'rs-1' : undefined,
        });
        const group = p.owner ? (other: typeof pod) => other.metadata.ownerReferences?.[0]?.uid === 'rs-1' : undefined;
        const ctx = newPodContext(pod, group);
        expect(schedulePod(profile(), ctx, nodes, start)).toEqual(schedulePod(unskipped, ctx, nodes, start));
      }),
    );
  });
});
