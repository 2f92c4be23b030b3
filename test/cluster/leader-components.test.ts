// Real master processes with the scheduler and the controllers running inside the leader, and
// simulated node agents: a Deployment's pods are created by the controllers, bound by the
// scheduler and marked running by the agents. The leader is then SIGKILLed; the new leader's
// components carry on (a scale-up is served) and nothing is done twice (exactly the replicas asked
// for, each pod bound once, to a node that exists).

import { setMaxListeners } from 'node:events';
import type { Deployment, Pod } from '@raftplane/api';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { adminToken, tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitLeader } from '../support/cluster-checks.js';
import { SimulatedNode } from '../support/simulated-nodes.js';

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the scheduler and controllers inside the leader', () => {
  let cluster: TempCluster;
  const stop = new AbortController();
  let client: HttpClient;
  const nodes: SimulatedNode[] = [];
  beforeEach(async () => {
    setMaxListeners(64, stop.signal);
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
  });
  afterEach(async () => {
    for (const node of nodes) await node.stopAgent();
    stop.abort();
    await client?.closed;
    await cluster.cleanup();
  });

  test('a Deployment is created, scheduled and run; after a leader SIGKILL the new leader scales it, nothing done twice', async () => {
    const { control } = cluster;
    const leader = await awaitLeader(control);
    client = createHttpClient({ endpoints: control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`), token: adminToken, signal: stop.signal });
    await until('the default namespace', async () => (await client.resource('namespaces').get('default')) ?? null, 10_000);
    for (const name of ['node-a', 'node-b', 'node-c']) {
      const node = new SimulatedNode({ client, name, cpu: '2', startDelayMs: 20, heartbeatMs: 1_000 });
      await node.start();
      nodes.push(node);
    }
    const deployments = client.resource('deployments', 'default');
    await deployments.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 5,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } },
      },
    });
    const available = (replicas: number) => async (): Promise<Deployment | null> => {
      const d = await deployments.get('web');
      return d.status?.availableReplicas === replicas && d.status.updatedReplicas === replicas && d.status.replicas === replicas ? d : null;
    };
    await until('5 available replicas', available(5), 30_000);

    await control.kill(leader);
    const killedAt = Date.now();
    const newLeader = await awaitLeader(control, 10_000);
    expect(newLeader).not.toBe(leader);
    await until('the scale-up to be accepted', async () => (await deployments.patch('web', 'merge', { spec: { replicas: 8 } })) ?? null, 10_000);
    // The new leader's controllers act: a ReplicaSet scaled up (its first write after the failover).
    await until('the ReplicaSet at 8', async () => {
      const sets = await client.resource('replicasets', 'default').list({ labelSelector: 'app=web' });
      return sets.items.some((rs) => rs.spec?.replicas === 8) ? true : null;
    }, 15_000);
    const resumedMs = Date.now() - killedAt;
    await until('8 available replicas', available(8), 30_000);

    const pods = (await client.resource('pods', 'default').list({ labelSelector: 'app=web' })).items as Pod[];
    expect(pods).toHaveLength(8);
    expect(pods.every((p) => ['node-a', 'node-b', 'node-c'].includes(p.spec?.nodeName ?? ''))).toBe(true);
    expect(pods.every((p) => p.status?.phase === 'Running')).toBe(true);
    const sets = (await client.resource('replicasets', 'default').list({ labelSelector: 'app=web' })).items;
    expect(sets).toHaveLength(1);
    const scheduled = (await client.resource('events', 'default').list()).items.filter((e) => (e as { reason?: string }).reason === 'Scheduled');
    // Each pod was bound once: one Scheduled event per pod.
    expect(new Set(scheduled.map((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name)).size).toBe(scheduled.length);
    console.log(`leader-components: leader ${leader} -> ${newLeader}; the new leader's controllers scaled the ReplicaSet ${resumedMs} ms after the SIGKILL`);
  });
});
