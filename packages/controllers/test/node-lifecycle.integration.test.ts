// The node lifecycle controller against a real in-process master: a node whose Lease stops being
// renewed becomes Ready=Unknown with the unreachable taint and its pods are evicted as their
// tolerations run out (the others marked not ready); renewing the Lease again brings it back.

import type { Lease, Node, Pod } from '@raftplane/api';
import { createInformer, type Client } from '@raftplane/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NodeLifecycleController } from '../src/node-lifecycle-controller.js';
import { unreachableTaintKey } from '../src/node-lifecycle-timing.js';
import { createNamespace, eventually, startCluster, type TestCluster } from './support/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster.stop();
});

/** DESIGN: 3 s grace and 1 s renewals in tests. */
const gracePeriodMs = 3_000;
const renewMs = 1_000;
const evictionTimeoutMs = 1_000;

const microTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

/** A test-only node agent's heartbeat: registers the node Ready and renews its Lease until stopped. */
async function registerNode(client: Client, name: string): Promise<void> {
  const nodes = client.resource('nodes');
  const created = await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  const withStatus = structuredClone(created) as Node;
  withStatus.status = { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] };
  await nodes.updateStatus(withStatus);
  await client.resource('leases', 'kube-node-lease').create({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(Date.now()) },
  });
}

function startHeartbeat(client: Client, name: string): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, renewMs));
      if (stopped) break;
      const leases = client.resource('leases', 'kube-node-lease');
      const lease = structuredClone(await leases.get(name)) as Lease;
      lease.spec = { ...lease.spec, renewTime: microTime(Date.now()) };
      await leases.update(lease);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

async function createPodOn(client: Client, namespace: string, name: string, node: string, tolerationSeconds?: number): Promise<void> {
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx:1' }] } };
  if (tolerationSeconds !== undefined) pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], tolerations: [{ key: unreachableTaintKey, operator: 'Exists', effect: 'NoExecute', tolerationSeconds }] };
  await client.resource('pods', namespace).create(pod);
}

const ready = (node: Node) => node.status?.conditions?.find((c) => c.type === 'Ready');
const tainted = (node: Node) => (node.spec?.taints ?? []).some((t) => t.key === unreachableTaintKey && t.effect === 'NoExecute');

describe('node lifecycle controller', () => {
  test('a node whose Lease stops being renewed is marked Unknown and tainted, its pods evicted; renewed again, it recovers', async () => {
    const { client } = cluster;
    const ns = 'nl-evict';
    const nodeName = 'nl-node-1';
    await createNamespace(client, ns);
    await registerNode(client, nodeName);
    await createPodOn(client, ns, 'plain', nodeName);
    await createPodOn(client, ns, 'patient', nodeName, 3_600);
    const patient = structuredClone(await client.resource('pods', ns).get('patient')) as Pod;
    patient.status = { ...patient.status, phase: 'Running', podIP: '127.0.2.1', conditions: [{ type: 'Ready', status: 'True' }] };
    await client.resource('pods', ns).updateStatus(patient);

    const stop = new AbortController();
    const nodeInformer = createInformer(client, 'nodes');
    const leaseInformer = createInformer(client, 'leases', { namespace: 'kube-node-lease' });
    const podInformer = createInformer(client, 'pods', { namespace: ns });
    const controller = new NodeLifecycleController(client, nodeInformer, leaseInformer, podInformer, { nodeMonitorGracePeriodMs: gracePeriodMs, defaultEvictionTimeoutMs: evictionTimeoutMs });
    const runs = [nodeInformer.run(stop.signal), leaseInformer.run(stop.signal), podInformer.run(stop.signal), controller.run(stop.signal)];
    let stopHeartbeat = startHeartbeat(client, nodeName);
    try {
      const nodes = client.resource('nodes');
      const pods = client.resource('pods', ns);
      // Renewed for longer than the grace period: left alone.
      await new Promise((resolve) => setTimeout(resolve, gracePeriodMs + renewMs));
      let node = await nodes.get(nodeName);
      expect(ready(node)?.status).toBe('True');
      expect(tainted(node)).toBe(false);

      await stopHeartbeat();
      const silentSinceMs = Date.now();
      await eventually('Unknown and tainted', async () => {
        const n = await nodes.get(nodeName);
        return ready(n)?.status === 'Unknown' && tainted(n);
      });
      expect(Date.now() - silentSinceMs).toBeGreaterThanOrEqual(gracePeriodMs - renewMs);
      node = await nodes.get(nodeName);
      expect(ready(node)).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
      expect(node.spec?.taints?.find((t) => t.key === unreachableTaintKey)?.timeAdded).toBeDefined();

      // The pod without a toleration is evicted (marked for deletion: its node cannot confirm); the patient one stays.
      await eventually('plain evicted', async () => (await pods.get('plain')).metadata.deletionTimestamp !== undefined);
      expect((await pods.get('patient')).metadata.deletionTimestamp).toBeUndefined();
      expect((await pods.get('patient')).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
      expect(controller.evicted()).toBe(1);
      await eventually('eviction event written', async () => (await client.resource('events', ns).list()).items.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === 'plain'));

      stopHeartbeat = startHeartbeat(client, nodeName);
      await eventually('recovered', async () => {
        const n = await nodes.get(nodeName);
        return ready(n)?.status === 'True' && !tainted(n);
      });
      expect(ready(await nodes.get(nodeName))?.reason).toBe('NodeLeaseRenewed');
      expect((await pods.get('patient')).metadata.deletionTimestamp).toBeUndefined();
    } finally {
      await stopHeartbeat();
      stop.abort();
      await Promise.all(runs);
    }
  });
});
