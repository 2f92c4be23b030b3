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
import { awaitLeader, until } from '../support/cluster-checks.js';
import { SimulatedNode } from '../support/simulated-nodes.js';

describe('the scheduler and controllers inside the leader', () => {
  let cluster: TempCluster | null = null;
  let stop: AbortController;
  let client: HttpClient | null = null;
  let nodes: SimulatedNode[] = [];
  beforeEach(() => {
    stop = new AbortController();
    setMaxListeners(64, stop.signal);
    nodes = [];
    client = null;
  });
  afterEach(async () => {
    for (const node of nodes) await node.stopAgent();
    stop.abort();
    await client?.closed;
    await cluster?.cleanup();
    cluster = null;
  });

  /** A three-master cluster with these component settings, and an admin client on it. */
  async function start(components?: Parameters<typeof tempCluster>[0]['components']): Promise<{ cluster: TempCluster; client: HttpClient }> {
    cluster = await tempCluster({ masters: 3, ...(components === undefined ? {} : { components }) });
    await cluster.startAll();
    client = createHttpClient({ endpoints: cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`), token: adminToken, signal: stop.signal });
    return { cluster, client };
  }

  test('a Deployment is created, scheduled and run; after a leader SIGKILL the new leader scales it, nothing done twice', async () => {
    const { cluster, client } = await start();
    const { control } = cluster;
    const leader = await awaitLeader(control);
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

  test('a node that stops heartbeating becomes Unknown and tainted; its pods are evicted and replaced on the others', async () => {
    const { cluster, client } = await start({ nodeMonitorGracePeriodMs: 3_000, podEvictionTimeoutMs: 1_000 });
    const { control } = cluster;
    await awaitLeader(control);
    await until('the default namespace', async () => (await client.resource('namespaces').get('default')) ?? null, 10_000);
    for (const name of ['node-a', 'node-b', 'node-c']) {
      const node = new SimulatedNode({ client, name, cpu: '2', startDelayMs: 20, heartbeatMs: 500 });
      await node.start();
      nodes.push(node);
    }
    const deployments = client.resource('deployments', 'default');
    await deployments.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'spread' },
      spec: {
        replicas: 6,
        selector: { matchLabels: { app: 'spread' } },
        template: {
          metadata: { labels: { app: 'spread' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
        },
      },
    });
    const podsOn = async (node: string) => (await client.resource('pods', 'default').list({ labelSelector: 'app=spread' })).items.filter((p) => p.spec?.nodeName === node && p.status?.phase === 'Running');
    await until('6 available replicas', async () => ((await deployments.get('spread')).status?.availableReplicas === 6 ? true : null), 30_000);
    expect((await podsOn('node-c')).length).toBeGreaterThan(0);

    // node-c dies: no heartbeats, and nobody there to confirm its pods' deletion.
    const dead = nodes.find((n) => n.name === 'node-c')!;
    await dead.stopAgent();
    const diedAt = Date.now();
    const tainted = await until('node-c Unknown and tainted', async () => {
      const node = await client.resource('nodes').get('node-c');
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && (node.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? node : null;
    }, 15_000);
    expect(tainted.metadata.name).toBe('node-c');
    const unknownAfterMs = Date.now() - diedAt;
    await until('6 available replicas again, none on node-c', async () => {
      const d = await deployments.get('spread');
      const all = (await client.resource('pods', 'default').list({ labelSelector: 'app=spread' })).items.filter((p) => p.metadata.deletionTimestamp === undefined);
      return d.status?.availableReplicas === 6 && all.length === 6 && all.every((p) => p.spec?.nodeName !== 'node-c') ? true : null;
    }, 30_000);
    const replacedAfterMs = Date.now() - diedAt;
    // The evicted pods are gone once their grace ran out (no node confirmed them).
    await until('node-c empty', async () => ((await client.resource('pods', 'default').list({ labelSelector: 'app=spread' })).items.some((p) => p.spec?.nodeName === 'node-c') ? null : true), 15_000);
    console.log(`leader-components: node-c Unknown and tainted ${unknownAfterMs} ms after it died; its pods replaced after ${replacedAfterMs} ms`);
  });
});
