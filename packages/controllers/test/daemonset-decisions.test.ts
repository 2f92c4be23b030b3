// The DaemonSet controller's pure decisions: node eligibility (nodeSelector, required affinity,
// taints against tolerations and the daemon defaults), the per-node plan, the rolling update's
// choice of nodes, and the status.
import type { DaemonSet, Node, Pod, PodTemplateSpec, Taint } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import { nodeEligibilityChanged } from '../src/daemonset-controller.js';
import {
  daemonNodeFit,
  daemonPodNodeName,
  daemonPodTolerations,
  daemonSetMaxUnavailable,
  daemonSetPlan,
  daemonSetPodsToReplace,
  daemonSetStatusFor,
  daemonSetTemplateHashLabel,
  daemonTolerationToleratesTaint,
} from '../src/daemonset-decisions.js';

const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node => ({ metadata: { name, labels, resourceVersion: '1' }, spec: { taints } });
const template = (spec: Partial<NonNullable<PodTemplateSpec['spec']>> = {}): PodTemplateSpec => ({ metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });
const ready = [{ type: 'Ready', status: 'True' as const, lastTransitionTime: '2020-01-01T00:00:00Z' }];
const pod = (name: string, nodeName: string, hash: string, opts: { ready?: boolean; phase?: 'Running' | 'Failed'; deleting?: boolean; created?: string } = {}): Pod => ({
  metadata: {
    name,
    labels: { app: 'd', [daemonSetTemplateHashLabel]: hash },
    creationTimestamp: opts.created ?? '2020-01-01T00:00:00Z',
    ...(opts.deleting === true ? { deletionTimestamp: '2020-01-01T00:01:00Z' } : {}),
  },
  spec: { containers: [], nodeName },
  status: { phase: opts.phase ?? 'Running', conditions: opts.ready === false ? [] : ready },
});
const byNode = (...pods: Pod[]): Map<string, Pod[]> => {
  const map = new Map<string, Pod[]>();
  for (const p of pods) map.set(p.spec?.nodeName ?? '', [...(map.get(p.spec?.nodeName ?? '') ?? []), p]);
  return map;
};

describe('daemon node eligibility', () => {
  test('nodeSelector must match the node labels', () => {
    const t = template({ nodeSelector: { disk: 'ssd' } });
    expect(daemonNodeFit(t, node('a', { disk: 'ssd', zone: 'z' }))).toEqual({ shouldRun: true, shouldContinueRunning: true });
    expect(daemonNodeFit(t, node('b', { disk: 'hdd' }))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(daemonNodeFit(t, node('c'))).toEqual({ shouldRun: false, shouldContinueRunning: false });
  });

  test('required node affinity: terms ORed, requirements ANDed, matchFields on metadata.name', () => {
    const t = template({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'gpu', operator: 'DoesNotExist' }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] }],
          },
        },
      },
    });
    expect(daemonNodeFit(t, node('n1', { zone: 'a' })).shouldRun).toBe(true);
    expect(daemonNodeFit(t, node('n2', { zone: 'a', gpu: '1' })).shouldRun).toBe(false);
    expect(daemonNodeFit(t, node('n3', { zone: 'c' })).shouldRun).toBe(false);
    expect(daemonNodeFit(t, node('special', { zone: 'c' })).shouldRun).toBe(true);
  });

  test('an untolerated NoSchedule taint: no new pod, an existing one stays; NoExecute: neither', () => {
    const t = template();
    expect(daemonNodeFit(t, node('a', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]))).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(daemonNodeFit(t, node('b', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(daemonNodeFit(t, node('c', {}, [{ key: 'soft', effect: 'PreferNoSchedule' }]))).toEqual({ shouldRun: true, shouldContinueRunning: true });
  });

  test('a toleration in the template lets the pod on (Equal needs the value, Exists does not)', () => {
    const taint: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    expect(daemonNodeFit(template({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), node('a', {}, [taint])).shouldRun).toBe(true);
    expect(daemonNodeFit(template({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web' }] }), node('a', {}, [taint])).shouldRun).toBe(false);
    expect(daemonNodeFit(template({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), node('a', {}, [taint])).shouldRun).toBe(true);
    expect(daemonNodeFit(template({ tolerations: [{ operator: 'Exists' }] }), node('a', {}, [taint, { key: 'x', effect: 'NoExecute' }])).shouldRun).toBe(true);
    expect(daemonTolerationToleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
  });

  test('daemon pods tolerate not-ready, unreachable, pressure and cordoning as Kubernetes adds them', () => {
    const t = template();
    for (const taint of [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    ] as Taint[]) {
      expect(daemonNodeFit(t, node('a', {}, [taint])).shouldRun, taint.key).toBe(true);
    }
    const network: Taint = { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' };
    expect(daemonNodeFit(t, node('a', {}, [network])).shouldRun).toBe(false);
    expect(daemonNodeFit(template({ hostNetwork: true }), node('a', {}, [network])).shouldRun).toBe(true);
    // Added once, after the template's own.
    const own = { key: 'mine', operator: 'Exists' as const };
    const tolerations = daemonPodTolerations(template({ tolerations: [own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }] }));
    expect(tolerations[0]).toEqual(own);
    expect(tolerations.filter((x) => x.key === 'node.kubernetes.io/not-ready')).toHaveLength(1);
    expect(tolerations).toHaveLength(7);
  });

  test('the node of a daemon pod: nodeName, else the metadata.name its affinity pins', () => {
    expect(daemonPodNodeName(pod('p', 'n1', 'h'))).toBe('n1');
    const pinned: Pod = { metadata: {}, spec: { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] } } } } };
    expect(daemonPodNodeName(pinned)).toBe('n2');
    expect(daemonPodNodeName({ metadata: {}, spec: { containers: [] } })).toBeUndefined();
  });

  test('a heartbeat is no eligibility change; labels and taints are', () => {
    const a = node('a', { x: '1' });
    expect(nodeEligibilityChanged(a, { ...a, metadata: { ...a.metadata, resourceVersion: '2' }, status: { conditions: ready } })).toBe(false);
    expect(nodeEligibilityChanged(a, { ...a, metadata: { ...a.metadata, resourceVersion: '2', labels: { x: '2' } } })).toBe(true);
    expect(nodeEligibilityChanged(a, { ...a, metadata: { ...a.metadata, resourceVersion: '2' }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } })).toBe(true);
  });
});

describe('daemon set plan', () => {
  test('creates on eligible nodes without a pod, deletes from ineligible ones, force-deletes on vanished nodes', () => {
    const t = template({ nodeSelector: { role: 'worker' } });
    const nodes = [node('a', { role: 'worker' }), node('b', { role: 'worker' }), node('c', { role: 'db' })];
    const onA = pod('pa', 'a', 'h');
    const onC = pod('pc', 'c', 'h');
    const onGone = pod('pg', 'gone', 'h');
    const plan = daemonSetPlan(t, nodes, byNode(onA, onC, onGone));
    expect(plan.createOnNodes).toEqual(['b']);
    expect(plan.deletePods).toEqual([onC]);
    expect(plan.forceDeletePods).toEqual([onGone]);
  });

  test('a node whose pod is terminating waits for it to go before a new one; failed pods go; duplicates keep the oldest', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const terminating = pod('pa', 'a', 'h', { deleting: true });
    const failed = pod('pb', 'b', 'h', { phase: 'Failed' });
    const older = pod('pc1', 'c', 'h', { created: '2020-01-01T00:00:00Z' });
    const newer = pod('pc2', 'c', 'h', { created: '2020-01-02T00:00:00Z' });
    const plan = daemonSetPlan(template(), nodes, byNode(terminating, failed, newer, older));
    expect(plan.createOnNodes).toEqual([]);
    expect(plan.deletePods).toEqual([failed, newer]);
    // The failed pod gone, node b gets a new one.
    expect(daemonSetPlan(template(), nodes, byNode(older)).createOnNodes).toEqual(['a', 'b']);
  });

  test('a NoSchedule taint added later leaves the running pod; NoExecute evicts it', () => {
    const p = pod('pa', 'a', 'h');
    expect(daemonSetPlan(template(), [node('a', {}, [{ key: 'k', effect: 'NoSchedule' }])], byNode(p)).deletePods).toEqual([]);
    expect(daemonSetPlan(template(), [node('a', {}, [{ key: 'k', effect: 'NoExecute' }])], byNode(p)).deletePods).toEqual([p]);
    expect(daemonSetPlan(template(), [node('b', {}, [{ key: 'k', effect: 'NoSchedule' }])], new Map()).createOnNodes).toEqual([]);
  });
});

describe('daemon set rolling update', () => {
  const nowMs = Date.parse('2021-01-01T00:00:00Z');
  const view = (...pods: Pod[]) => pods.map((p) => ({ nodeName: p.spec?.nodeName ?? '', shouldRun: true, pods: [p] }));

  test('maxUnavailable 1: one old pod at a time, in node-name order', () => {
    const pods = [pod('pc', 'c', 'old'), pod('pa', 'a', 'old'), pod('pb', 'b', 'old')];
    expect(daemonSetPodsToReplace(view(...pods), 'new', 1, 0, nowMs).map((p) => p.metadata.name)).toEqual(['pa']);
    expect(daemonSetPodsToReplace(view(...pods), 'new', 2, 0, nowMs).map((p) => p.metadata.name)).toEqual(['pa', 'pb']);
  });

  test('a node being replaced (no pod, or a new pod not yet available) uses up the budget', () => {
    const waiting = [{ nodeName: 'a', shouldRun: true, pods: [] }, ...view(pod('pb', 'b', 'old'), pod('pc', 'c', 'old'))];
    expect(daemonSetPodsToReplace(waiting, 'new', 1, 0, nowMs)).toEqual([]);
    const starting = view(pod('pa', 'a', 'new', { ready: false }), pod('pb', 'b', 'old'), pod('pc', 'c', 'old'));
    expect(daemonSetPodsToReplace(starting, 'new', 1, 0, nowMs)).toEqual([]);
    const done = view(pod('pa', 'a', 'new'), pod('pb', 'b', 'old'), pod('pc', 'c', 'old'));
    expect(daemonSetPodsToReplace(done, 'new', 1, 0, nowMs).map((p) => p.metadata.name)).toEqual(['pb']);
  });

  test('an old pod that is unavailable anyway is replaced at once; minReadySeconds delays availability', () => {
    const broken = view(pod('pa', 'a', 'old', { ready: false }), pod('pb', 'b', 'old'));
    expect(daemonSetPodsToReplace(broken, 'new', 1, 0, nowMs).map((p) => p.metadata.name)).toEqual(['pa']);
    const longReady = pod('pb', 'b', 'old');
    longReady.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2019-01-01T00:00:00Z' }] };
    const freshlyReady = view(pod('pa', 'a', 'new'), longReady);
    const readyAt = Date.parse('2020-01-01T00:00:00Z');
    expect(daemonSetPodsToReplace(freshlyReady, 'new', 1, 30, readyAt + 10_000)).toEqual([]);
    expect(daemonSetPodsToReplace(freshlyReady, 'new', 1, 30, readyAt + 30_000).map((p) => p.metadata.name)).toEqual(['pb']);
  });

  test('nodes that should not run the daemon are left out; all up to date means nothing to do', () => {
    const nodes = [{ nodeName: 'a', shouldRun: false, pods: [] }, ...view(pod('pb', 'b', 'new'))];
    expect(daemonSetPodsToReplace(nodes, 'new', 1, 0, nowMs)).toEqual([]);
  });

  test('maxUnavailable: numbers as they are, percentages of desired rounded up, at least 1', () => {
    expect(daemonSetMaxUnavailable(undefined, 10)).toBe(1);
    expect(daemonSetMaxUnavailable(3, 10)).toBe(3);
    expect(daemonSetMaxUnavailable('25%', 10)).toBe(3);
    expect(daemonSetMaxUnavailable('10%', 3)).toBe(1);
    expect(daemonSetMaxUnavailable(0, 3)).toBe(1);
  });
});

describe('daemon set status', () => {
  test('desired, current, ready, available, updated and misscheduled per node', () => {
    const ds: DaemonSet = { metadata: { name: 'd', generation: 4 }, spec: { template: template({ nodeSelector: { role: 'w' } }) } };
    const nodes = [node('a', { role: 'w' }), node('b', { role: 'w' }), node('c', { role: 'w' }), node('x', { role: 'db' })];
    const status = daemonSetStatusFor(ds, nodes, byNode(pod('pa', 'a', 'new'), pod('pb', 'b', 'old', { ready: false }), pod('px', 'x', 'old'), pod('pc', 'c', 'new', { deleting: true })), 'new', Date.now());
    expect(status).toEqual({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberReady: 1,
      numberAvailable: 1,
      numberUnavailable: 2,
      updatedNumberScheduled: 1,
      numberMisscheduled: 1,
      observedGeneration: 4,
    });
  });
});
