// The DaemonSet controller against a real in-process master, with Node objects and a test agent
// that marks pods Running and Ready and confirms graceful deletions: a pod per node, following
// nodes as they come and go or change, none on a tainted node, and a rolling update.

import { formatTime, type DaemonSet, type Node, type Pod, type Taint } from '@raftplane/api';
import { createInformer, type Client } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DaemonSetController } from '../src/daemonset-controller.js';
import { daemonSetTemplateHashLabel } from '../src/daemonset-decisions.js';
import { controllerRefOf, isPodReady } from '../src/pods.js';
import { createNamespace, eventually, startCluster, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

/**
 * The test-only agent: a pending pod becomes Running and Ready after `delayMs`; a pod marked for
 * deletion is removed at once, as a kubelet confirms a graceful deletion once its containers stop.
 */
function startDaemonAgent(client: Client, namespace: string, signal: AbortSignal, delayMs = 30): { done: Promise<void>; informer: ReturnType<typeof createInformer<'pods'>> } {
  const informer = createInformer(client, 'pods', { namespace });
  const timers = new Set<NodeJS.Timeout>();
  const markReady = async (name: string): Promise<void> => {
    const fresh = informer.cache.getByName(namespace, name);
    if (fresh === undefined || fresh.metadata.deletionTimestamp !== undefined || fresh.status?.phase === 'Running') return;
    const copy = structuredClone(fresh);
    copy.status = { ...copy.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(Date.now()) }] };
    await client.resource('pods', namespace).updateStatus(copy, { signal }).catch(() => undefined);
  };
  const onPod = (pod: Pod): void => {
    if (signal.aborted) return;
    if (pod.metadata.deletionTimestamp !== undefined) {
      void client.resource('pods', namespace).delete(pod.metadata.name ?? '', { signal, gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (pod.status?.phase === 'Running') return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void markReady(pod.metadata.name ?? '');
    }, delayMs);
    timers.add(timer);
  };
  informer.addHandler({ onAdd: onPod, onUpdate: (_old, pod) => onPod(pod) });
  signal.addEventListener('abort', () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  }, { once: true });
  return { done: informer.run(signal).catch(() => undefined), informer };
}

interface Harness {
  readonly controller: DaemonSetController;
  readonly pods: () => Promise<Pod[]>;
  /** Live (not terminating) pods by node name. */
  readonly podsByNode: () => Promise<Map<string, Pod[]>>;
  readonly agentPods: ReturnType<typeof createInformer<'pods'>>;
}

async function withDaemonSetController(namespace: string, body: (h: Harness) => Promise<void>): Promise<void> {
  const { client } = cluster;
  await createNamespace(client, namespace);
  const stop = new AbortController();
  const dsInformer = createInformer(client, 'daemonsets', { namespace });
  const podInformer = createInformer(client, 'pods', { namespace });
  const nodeInformer = createInformer(client, 'nodes');
  const controller = new DaemonSetController(client, dsInformer, podInformer, nodeInformer);
  const agent = startDaemonAgent(client, namespace, stop.signal);
  const runs = [dsInformer.run(stop.signal), podInformer.run(stop.signal), nodeInformer.run(stop.signal), controller.run(stop.signal), agent.done];
  const pods = async () => (await client.resource('pods', namespace).list()).items;
  const podsByNode = async () => {
    const map = new Map<string, Pod[]>();
    for (const pod of await pods()) {
      if (pod.metadata.deletionTimestamp !== undefined) continue;
      const name = pod.spec?.nodeName ?? '';
      map.set(name, [...(map.get(name) ?? []), pod]);
    }
    return map;
  };
  try {
    await body({ controller, pods, podsByNode, agentPods: agent.informer });
  } finally {
    stop.abort();
    await Promise.all(runs);
  }
}

async function createNode(name: string, labels: Record<string, string>, taints: Taint[] = []): Promise<Node> {
  return cluster.client.resource('nodes').create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    spec: { taints },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: formatTime(Date.now()), lastTransitionTime: formatTime(Date.now()) }] },
  });
}

const dsBody = (name: string, pool: string, image = 'agent:1'): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { nodeSelector: { pool }, containers: [{ name: 'c', image }] } },
  },
});

const sorted = (names: Iterable<string>) => [...names].sort();

describe('DaemonSet controller', () => {
  test('a pod per node; a new node gets one, a deleted node loses its, a tainted node gets none, a relabelled node loses its', async () => {
    const ns = 'ds-nodes';
    const pool = 'ds-nodes';
    await withDaemonSetController(ns, async ({ controller, pods, podsByNode }) => {
      for (const name of ['dn-1', 'dn-2', 'dn-3']) await createNode(name, { pool });
      await createNode('dn-other', { pool: 'elsewhere' });
      const dss = cluster.client.resource('daemonsets', ns);
      const ds = await dss.create(dsBody('agent', pool));
      await eventually('3 available', async () => (await dss.get('agent')).status?.numberAvailable === 3);
      let byNode = await podsByNode();
      expect(sorted(byNode.keys())).toEqual(['dn-1', 'dn-2', 'dn-3']);
      for (const [nodeName, list] of byNode) {
        expect(list, nodeName).toHaveLength(1);
        const pod = list[0] as Pod;
        expect(controllerRefOf(pod)).toMatchObject({ kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid, controller: true });
        expect(pod.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute')).toBe(true);
        expect(pod.metadata.labels?.[daemonSetTemplateHashLabel]).toBeDefined();
      }
      expect((await dss.get('agent')).status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 3, numberMisscheduled: 0, observedGeneration: 1 });

      await createNode('dn-4', { pool });
      await eventually('a pod on the new node', async () => (await podsByNode()).get('dn-4')?.length === 1);
      await eventually('4 available', async () => (await dss.get('agent')).status?.numberAvailable === 4);

      await cluster.client.resource('nodes').delete('dn-2');
      await eventually('the deleted node\'s pod gone', async () => !(await pods()).some((p) => p.spec?.nodeName === 'dn-2'));
      await eventually('desired 3', async () => (await dss.get('agent')).status?.desiredNumberScheduled === 3);

      await createNode('dn-5', { pool }, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]);
      await createNode('dn-6', { pool });
      await eventually('a pod on the untainted newcomer', async () => (await podsByNode()).get('dn-6')?.length === 1);
      expect((await pods()).some((p) => p.spec?.nodeName === 'dn-5')).toBe(false);
      await eventually('4 desired, 4 available', async () => {
        const status = (await dss.get('agent')).status;
        return status?.desiredNumberScheduled === 4 && status.numberAvailable === 4;
      });

      await cluster.client.resource('nodes').patch('dn-1', 'merge', { metadata: { labels: { pool: 'elsewhere' } } });
      await eventually('the relabelled node\'s pod gone', async () => !(await pods()).some((p) => p.spec?.nodeName === 'dn-1'));
      byNode = await podsByNode();
      expect(sorted(byNode.keys())).toEqual(['dn-3', 'dn-4', 'dn-6']);
      expect((await pods()).some((p) => p.spec?.nodeName === 'dn-other')).toBe(false);
      const reasons = controller.events.recent().map((e) => e.reason);
      expect(reasons.filter((r) => r === 'SuccessfulCreate')).toHaveLength(5);
      expect(reasons.filter((r) => r === 'SuccessfulDelete')).toHaveLength(2);
    });
  });

  test('a template change rolls out node by node, never more than maxUnavailable (1) nodes without an available pod', async () => {
    const ns = 'ds-roll';
    const pool = 'ds-roll';
    await withDaemonSetController(ns, async ({ pods, podsByNode, agentPods }) => {
      const nodes = ['dr-1', 'dr-2', 'dr-3', 'dr-4'];
      for (const name of nodes) await createNode(name, { pool });
      const dss = cluster.client.resource('daemonsets', ns);
      await dss.create(dsBody('agent', pool, 'agent:1'));
      await eventually('4 available', async () => (await dss.get('agent')).status?.numberAvailable === 4);

      // Checked at every pod event the agent's informer sees.
      let unavailableMax = 0;
      let podsOnOneNodeMax = 0;
      const check = (): void => {
        const live = agentPods.cache.byNamespace(ns).filter((p) => p.metadata.deletionTimestamp === undefined);
        const availableNodes = new Set(live.filter(isPodReady).map((p) => p.spec?.nodeName));
        unavailableMax = Math.max(unavailableMax, nodes.filter((n) => !availableNodes.has(n)).length);
        for (const n of nodes) podsOnOneNodeMax = Math.max(podsOnOneNodeMax, live.filter((p) => p.spec?.nodeName === n).length);
      };
      agentPods.addHandler({ onAdd: check, onUpdate: check, onDelete: check });

      const before = new Set((await pods()).map((p) => p.metadata.name));
      await dss.patch('agent', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } });
      await eventually('rolled out', async () => {
        const status = (await dss.get('agent')).status;
        return status?.observedGeneration === 2 && status.updatedNumberScheduled === 4 && status.numberAvailable === 4;
      });
      const byNode = await podsByNode();
      expect(sorted(byNode.keys())).toEqual(nodes);
      for (const list of byNode.values()) {
        expect(list).toHaveLength(1);
        expect(list[0]?.spec?.containers[0]?.image).toBe('agent:2');
        expect(before.has(list[0]?.metadata.name ?? '')).toBe(false);
      }
      expect(unavailableMax).toBe(1);
      expect(podsOnOneNodeMax).toBe(1);
    });
  });
});
