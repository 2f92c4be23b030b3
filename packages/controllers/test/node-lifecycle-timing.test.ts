// The node lifecycle controller's pure parts: grace measured on this instance's clock (and started
// over by a new instance), toleration seconds of the unreachable taint, eviction plans, and the
// condition and taint it writes.

import type { Node, Pod, Toleration } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import {
  graceLeftMs,
  hasUnreachableTaint,
  isMarkedUnknown,
  nodeStatusUnknownMessage,
  nodeStatusUnknownReason,
  observeLease,
  planEvictions,
  toleratesUnreachable,
  unreachableTaintKey,
  unreachableTolerationMs,
  withPodNotReady,
  withReadyCondition,
  withUnreachableTaint,
} from '../src/node-lifecycle-timing.js';

const podWith = (name: string, tolerations?: Toleration[]): Pod => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}` }, spec: { containers: [], nodeName: 'n1', ...(tolerations ? { tolerations } : {}) } });

describe('grace period on the controller\'s own clock', () => {
  test('starts when the node is first seen, whatever the renewTime says', () => {
    const health = observeLease(undefined, '2020-01-01T00:00:00.000000Z', 5_000);
    expect(health).toEqual({ renewTime: '2020-01-01T00:00:00.000000Z', probeMs: 5_000, renewalSeen: false });
    expect(graceLeftMs(health, 5_000, 3_000)).toBe(3_000);
    expect(graceLeftMs(health, 7_999, 3_000)).toBe(1);
    expect(graceLeftMs(health, 8_000, 3_000)).toBe(0);
  });

  test('a new renewTime restarts it and counts as a renewal; the same renewTime does not', () => {
    let health = observeLease(undefined, 'r1', 0);
    health = observeLease(health, 'r1', 2_000);
    expect(health.probeMs).toBe(0);
    expect(health.renewalSeen).toBe(false);
    health = observeLease(health, 'r2', 2_500);
    expect(health).toEqual({ renewTime: 'r2', probeMs: 2_500, renewalSeen: true });
    expect(graceLeftMs(health, 4_000, 3_000)).toBe(1_500);
  });

  test('a node with no Lease yet gets a full grace period, and its first Lease is a renewal', () => {
    let health = observeLease(undefined, undefined, 100);
    expect(graceLeftMs(health, 100, 40_000)).toBe(40_000);
    health = observeLease(health, 'r1', 200);
    expect(health.renewalSeen).toBe(true);
  });

  test('a Lease that disappears is no renewal: the grace keeps running; one made again is', () => {
    let health = observeLease(undefined, 'r1', 0);
    health = observeLease(health, undefined, 2_000);
    expect(health).toEqual({ renewTime: undefined, probeMs: 0, renewalSeen: false });
    health = observeLease(health, 'r2', 2_500);
    expect(health).toEqual({ renewTime: 'r2', probeMs: 2_500, renewalSeen: true });
  });
});

describe('toleration of node.kubernetes.io/unreachable:NoExecute', () => {
  test('which tolerations match', () => {
    expect(toleratesUnreachable({ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute' })).toBe(true);
    expect(toleratesUnreachable({ operator: 'Exists' })).toBe(true);
    expect(toleratesUnreachable({ key: unreachableTaintKey, operator: 'Exists' })).toBe(true);
    expect(toleratesUnreachable({ key: unreachableTaintKey, effect: 'NoSchedule', operator: 'Exists' })).toBe(false);
    expect(toleratesUnreachable({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' })).toBe(false);
    expect(toleratesUnreachable({ key: unreachableTaintKey, operator: 'Equal', value: 'x', effect: 'NoExecute' })).toBe(false);
  });

  test('no matching toleration: the default; tolerationSeconds: the least one; no limit: forever; 0 or less: at once', () => {
    expect(unreachableTolerationMs(podWith('a'), 300_000)).toBe(300_000);
    expect(unreachableTolerationMs(podWith('a', [{ key: 'other', operator: 'Exists' }]), 2_000)).toBe(2_000);
    const t = (s?: number): Toleration => ({ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute', ...(s === undefined ? {} : { tolerationSeconds: s }) });
    expect(unreachableTolerationMs(podWith('a', [t(60)]), 300_000)).toBe(60_000);
    expect(unreachableTolerationMs(podWith('a', [t(60), t(5)]), 300_000)).toBe(5_000);
    expect(unreachableTolerationMs(podWith('a', [t()]), 300_000)).toBe(Number.POSITIVE_INFINITY);
    expect(unreachableTolerationMs(podWith('a', [t(), t(7)]), 300_000)).toBe(7_000);
    expect(unreachableTolerationMs(podWith('a', [t(0)]), 300_000)).toBe(0);
    expect(unreachableTolerationMs(podWith('a', [t(-5)]), 300_000)).toBe(0);
  });
});

describe('eviction plans', () => {
  test('each pod is due its toleration after it was first planned; the start survives replanning', () => {
    const pods = [podWith('a'), podWith('b', [{ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }])];
    const first = planEvictions(pods, new Map(), 10_000, 5_000);
    expect(first.get('uid-a')).toEqual({ uid: 'uid-a', startMs: 10_000, dueMs: 15_000 });
    expect(first.get('uid-b')?.dueMs).toBe(11_000);
    const later = planEvictions([...pods, podWith('c')], first, 12_000, 5_000);
    expect(later.get('uid-a')?.dueMs).toBe(15_000);
    expect(later.get('uid-c')).toEqual({ uid: 'uid-c', startMs: 12_000, dueMs: 17_000 });
  });

  test('pods gone, finished or deleting drop out of the plan', () => {
    const done = podWith('done');
    done.status = { phase: 'Succeeded' };
    const deleting = podWith('deleting');
    deleting.metadata.deletionTimestamp = '2026-11-26T00:00:00Z';
    const first = planEvictions([podWith('a'), podWith('b')], new Map(), 0, 1_000);
    const next = planEvictions([podWith('a'), done, deleting], first, 500, 1_000);
    expect([...next.keys()]).toEqual(['uid-a']);
  });
});

describe('what the controller writes', () => {
  const node: Node = {
    metadata: { name: 'n1' },
    spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: '2026-01-01T00:00:00Z', lastHeartbeatTime: '2026-01-01T00:00:05Z' }] },
  };

  test('Ready=Unknown with the reason and message, a new transition time, the heartbeat kept, the input untouched', () => {
    const marked = withReadyCondition(node, 'Unknown', nodeStatusUnknownReason, nodeStatusUnknownMessage, '2026-11-26T10:00:00Z');
    expect(marked.status?.conditions).toEqual([
      { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: '2026-11-26T10:00:00Z', lastHeartbeatTime: '2026-01-01T00:00:05Z' },
    ]);
    expect(isMarkedUnknown(marked)).toBe(true);
    expect(isMarkedUnknown(node)).toBe(false);
    expect(node.status?.conditions?.[0]?.status).toBe('True');
  });

  test('the taint is added beside the others with timeAdded, once, and removed alone', () => {
    const tainted = withUnreachableTaint(node, true, '2026-11-26T10:00:00Z');
    expect(tainted.spec?.taints).toEqual([
      { key: 'dedicated', value: 'x', effect: 'NoSchedule' },
      { key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2026-11-26T10:00:00Z' },
    ]);
    expect(withUnreachableTaint(tainted, true, 'later').spec?.taints).toHaveLength(2);
    expect(hasUnreachableTaint(tainted)).toBe(true);
    const cleared = withUnreachableTaint(tainted, false, 'later');
    expect(cleared.spec?.taints).toEqual([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
    expect(withUnreachableTaint({ metadata: { name: 'n2' } }, false, 'x').spec?.taints).toBeUndefined();
  });
});

describe('pods on a silent node', () => {
  test('Ready becomes False, other conditions kept, the input untouched', () => {
    const pod: Pod = { metadata: { name: 'p' }, status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] } };
    const marked = withPodNotReady(pod, '2026-11-26T10:00:00Z');
    expect(marked.status?.conditions).toEqual([
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'NodeUnreachable', message: 'The node this pod runs on stopped posting status.', lastTransitionTime: '2026-11-26T10:00:00Z' },
    ]);
    expect(pod.status?.conditions?.[1]?.status).toBe('True');
    expect(withPodNotReady({ metadata: { name: 'q' } }, 'now').status?.conditions).toHaveLength(1);
  });
});
