// Each filter plugin rejects with Kubernetes' wording and passes otherwise.

import { describe, expect, test } from 'vitest';
import {
  FilterReason,
  defaultFilters,
  hostPortConflicts,
  newPodContext,
  nodeAffinity,
  nodeName,
  nodePorts,
  nodeReady,
  nodeResourcesFit,
  nodeUnschedulable,
  runFilters,
  taintToleration,
  type Filter,
} from '../src/index.js';
import { makeNode, makePod, nodeInfoWith } from './fixtures.js';

describe('nodeReady', () => {
  test('rejects a node whose Ready condition is False or Unknown; passes True and a node with no Ready condition', () => {
    const ctx = newPodContext(makePod('p'));
    expect(nodeReady(ctx, nodeInfoWith(makeNode('n', { ready: 'False' })))).toEqual([FilterReason.NodeNotReady]);
    expect(nodeReady(ctx, nodeInfoWith(makeNode('n', { ready: 'Unknown' })))).toEqual(['node(s) were not ready']);
    expect(nodeReady(ctx, nodeInfoWith(makeNode('n', { ready: 'True' })))).toEqual([]);
    expect(nodeReady(ctx, nodeInfoWith(makeNode('n', { ready: null })))).toEqual([]);
  });
});

describe('nodeUnschedulable', () => {
  test('rejects a cordoned node unless the pod tolerates node.kubernetes.io/unschedulable:NoSchedule', () => {
    const cordoned = nodeInfoWith(makeNode('n', { unschedulable: true }));
    expect(nodeUnschedulable(newPodContext(makePod('p')), cordoned)).toEqual(['node(s) were unschedulable']);
    const tolerant = makePod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(nodeUnschedulable(newPodContext(tolerant), cordoned)).toEqual([]);
    expect(nodeUnschedulable(newPodContext(makePod('p')), nodeInfoWith(makeNode('n')))).toEqual([]);
  });
});

describe('nodeName', () => {
  test('a pod naming a node fits only that node', () => {
    const ctx = newPodContext(makePod('p', { nodeName: 'a' }));
    expect(nodeName(ctx, nodeInfoWith(makeNode('a')))).toEqual([]);
    expect(nodeName(ctx, nodeInfoWith(makeNode('b')))).toEqual(["node(s) didn't match the requested node name"]);
    expect(nodeName(newPodContext(makePod('q')), nodeInfoWith(makeNode('b')))).toEqual([]);
  });
});

describe('taintToleration', () => {
  test('names the first untolerated NoSchedule or NoExecute taint as {key: value}', () => {
    const node = nodeInfoWith(makeNode('n', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }, { key: 'gpu', value: 'true', effect: 'NoExecute' }] }));
    expect(taintToleration(newPodContext(makePod('p')), node)).toEqual(['node(s) had untolerated taint {gpu: true}']);
    const tolerant = makePod('p', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoExecute' }] });
    expect(taintToleration(newPodContext(tolerant), node)).toEqual([]);
  });

  test('a taint without a value prints an empty value', () => {
    const node = nodeInfoWith(makeNode('n', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }));
    expect(taintToleration(newPodContext(makePod('p')), node)).toEqual(['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
  });
});

describe('nodeAffinity', () => {
  const node = nodeInfoWith(makeNode('n', { labels: { zone: 'a', disk: 'ssd', cores: '8' } }));
  const reject = [FilterReason.NodeAffinity];

  test('nodeSelector needs every label', () => {
    expect(nodeAffinity(newPodContext(makePod('p', { nodeSelector: { zone: 'a', disk: 'ssd' } })), node)).toEqual([]);
    expect(nodeAffinity(newPodContext(makePod('p', { nodeSelector: { zone: 'b' } })), node)).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
  });

  test.each([
    [{ key: 'zone', operator: 'In' as const, values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'In' as const, values: ['b'] }, false],
    [{ key: 'zone', operator: 'NotIn' as const, values: ['b'] }, true],
    [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }, false],
    [{ key: 'missing', operator: 'NotIn' as const, values: ['a'] }, true],
    [{ key: 'disk', operator: 'Exists' as const }, true],
    [{ key: 'gpu', operator: 'Exists' as const }, false],
    [{ key: 'gpu', operator: 'DoesNotExist' as const }, true],
    [{ key: 'disk', operator: 'DoesNotExist' as const }, false],
    [{ key: 'cores', operator: 'Gt' as const, values: ['4'] }, true],
    [{ key: 'cores', operator: 'Gt' as const, values: ['8'] }, false],
    [{ key: 'cores', operator: 'Lt' as const, values: ['16'] }, true],
    [{ key: 'zone', operator: 'Lt' as const, values: ['16'] }, false],
    [{ key: 'missing', operator: 'Gt' as const, values: ['1'] }, false],
  ])('required term %j matches: %s', (requirement, matches) => {
    const pod = makePod('p');
    pod.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [requirement] }] } } };
    expect(nodeAffinity(newPodContext(pod), node)).toEqual(matches ? [] : reject);
  });

  test('terms are ORed, expressions within a term ANDed, an empty term matches nothing', () => {
    const pod = makePod('p');
    const terms = [
      { matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a'] }, { key: 'disk', operator: 'In' as const, values: ['hdd'] }] },
      { matchExpressions: [{ key: 'cores', operator: 'Gt' as const, values: ['2'] }] },
    ];
    pod.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } };
    expect(nodeAffinity(newPodContext(pod), node)).toEqual([]);
    pod.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [terms[0]!] } } };
    expect(nodeAffinity(newPodContext(pod), node)).toEqual(reject);
    pod.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } };
    expect(nodeAffinity(newPodContext(pod), node)).toEqual(reject);
  });

  test('matchFields on metadata.name', () => {
    const pod = makePod('p');
    pod.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }] } } };
    expect(nodeAffinity(newPodContext(pod), node)).toEqual([]);
    expect(nodeAffinity(newPodContext(pod), nodeInfoWith(makeNode('other')))).toEqual(reject);
  });
});

describe('nodePorts', () => {
  test('a host port in use on the node, on the same protocol, conflicts', () => {
    const node = nodeInfoWith(makeNode('n'), makePod('web', { nodeName: 'n', hostPorts: [8080] }));
    expect(nodePorts(newPodContext(makePod('p', { hostPorts: [8080] })), node)).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(nodePorts(newPodContext(makePod('p', { hostPorts: [8081] })), node)).toEqual([]);
    expect(nodePorts(newPodContext(makePod('p')), node)).toEqual([]);
  });

  test('0.0.0.0 collides with every address; two specific addresses do not collide', () => {
    const used = new Map([['10.0.0.1/TCP/80', 1]]);
    expect(hostPortConflicts(used, { hostIp: '0.0.0.0', protocol: 'TCP', port: 80 })).toBe(true);
    expect(hostPortConflicts(used, { hostIp: '10.0.0.2', protocol: 'TCP', port: 80 })).toBe(false);
    expect(hostPortConflicts(used, { hostIp: '10.0.0.1', protocol: 'UDP', port: 80 })).toBe(false);
    expect(hostPortConflicts(new Map([['0.0.0.0/TCP/80', 1]]), { hostIp: '10.0.0.2', protocol: 'TCP', port: 80 })).toBe(true);
  });
});

describe('nodeResourcesFit', () => {
  test('counts the requests of pods already on the node against allocatable', () => {
    const node = nodeInfoWith(makeNode('n', { cpu: '2', memory: '4Gi' }), makePod('a', { nodeName: 'n', cpu: '1500m', memory: '1Gi' }));
    expect(nodeResourcesFit(newPodContext(makePod('p', { cpu: '500m' })), node)).toEqual([]);
    expect(nodeResourcesFit(newPodContext(makePod('p', { cpu: '501m' })), node)).toEqual(['Insufficient cpu']);
    expect(nodeResourcesFit(newPodContext(makePod('p', { memory: '3Gi' })), node)).toEqual([]);
    expect(nodeResourcesFit(newPodContext(makePod('p', { cpu: '1', memory: '3Gi', })), node)).toEqual(['Insufficient cpu']);
    expect(nodeResourcesFit(newPodContext(makePod('p', { cpu: '1', memory: '4Gi' })), node)).toEqual(['Insufficient cpu', 'Insufficient memory']);
  });

  test('a container without requests counts 0, but every pod counts against the pod limit', () => {
    const full = nodeInfoWith(makeNode('n', { cpu: '1', pods: 2 }), makePod('a', { nodeName: 'n', cpu: '1' }), makePod('b', { nodeName: 'n' }));
    expect(nodeResourcesFit(newPodContext(makePod('p')), full)).toEqual(['Too many pods']);
    const room = nodeInfoWith(makeNode('n', { cpu: '1', pods: 3 }), makePod('a', { nodeName: 'n', cpu: '1' }));
    expect(nodeResourcesFit(newPodContext(makePod('p')), room)).toEqual([]);
    expect(nodeResourcesFit(newPodContext(makePod('p', { cpu: '1m' })), room)).toEqual(['Insufficient cpu']);
  });

  test('init containers count by their largest request, against the sum of the others', () => {
    const pod = makePod('p', { cpu: '500m' });
    pod.spec!.initContainers = [{ name: 'init', image: 'busybox', resources: { requests: { cpu: '2' } } }];
    expect(nodeResourcesFit(newPodContext(pod), nodeInfoWith(makeNode('n', { cpu: '1' })))).toEqual(['Insufficient cpu']);
  });
});

describe('runFilters', () => {
  test('stops at the first filter that rejects, in the default order', () => {
    const node = nodeInfoWith(makeNode('n', { unschedulable: true, cpu: '1', taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }));
    expect(runFilters(defaultFilters, newPodContext(makePod('p', { cpu: '2' })), node)).toEqual([FilterReason.NodeUnschedulable]);
    const calls: string[] = [];
    const spy = (name: string, reasons: string[]): Filter => ({ name, filter: () => (calls.push(name), reasons) });
    expect(runFilters([spy('a', []), spy('b', ['no']), spy('c', ['never'])], newPodContext(makePod('p')), node)).toEqual(['no']);
    expect(calls).toEqual(['a', 'b']);
  });
});
