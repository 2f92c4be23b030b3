// Issue 7's "the leader is SIGKILLed while 1,000 pods are being scheduled: every pod ends up bound
// exactly once, none to a node without room". Three real masters with the scheduler and the
// controllers inside the leader; 20 Node objects written directly (no agents: this test renews
// their Leases itself, so the node lifecycle controller keeps them Ready), whose cpu is exactly
// what the 1,000 pods ask for (20 × 1000m = 1,000 × 20m), so that one double-booked node would
// leave a pod with nowhere to go and a node over its allocatable. Ten more pods ask for more cpu
// than any node has: they must stay Pending with a FailedScheduling event. The pods are created in
// a burst from 32 parallel clients; once some hundreds are bound the leader is SIGKILLed and the
// new leader's scheduler finishes the job.
//
// Checked: a watch (an informer, resuming across the failover) sees each pod's nodeName set once
// and never changed, and no pod deleted; in the store of every surviving master each bound pod was
// written exactly twice (create, binding) and each unfit pod once; every pod has at most one
// `Scheduled` event, naming the node it is bound to (events in flight on the killed leader may be
// lost: the pods without one are counted and printed); on every node the requests of the pods
// bound to it fit its allocatable cpu, memory and pod count.

import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { formatTime, hasStatusReason, type Event, type Node, type Pod } from '@raftplane/api';
import { createHttpClient, createInformer, type HttpClient } from '@raftplane/client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { adminToken, tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitLeader, until } from '../support/cluster-checks.js';

const nodeCount = 20;
const nodeCpuMilli = 1_000;
const nodeMemoryMi = 4 * 1024;
const nodePodsMax = 110;
const podCount = 1_000;
const podCpuMilli = 20; // podCount × podCpuMilli = nodeCount × nodeCpuMilli: no slack at all
const podMemoryMi = 64;
const unfitCount = 10;
const unfitCpuMilli = 1_500; // more than any node's allocatable
const clients = 32;
/** Bindings seen before the leader is killed. */
const killAfterBound = 300;

async function inParallel(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** '20m' → 20, '1' → 1000, '1.5' → 1500. */
function cpuMilli(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  if (typeof quantity === 'number') return quantity * 1000;
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

/** '64Mi' → 64, '4Gi' → 4096 (the only forms this test writes). */
function memoryMi(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  if (typeof quantity === 'number') return quantity / (1024 * 1024);
  if (quantity.endsWith('Mi')) return Number(quantity.slice(0, -2));
  if (quantity.endsWith('Gi')) return Number(quantity.slice(0, -2)) * 1024;
  throw new Error(`unexpected memory quantity ${quantity}`);
}

const podName = (i: number) => `p-${String(i).padStart(4, '0')}`;
const unfitName = (i: number) => `unfit-${i}`;

describe('the leader SIGKILLed while 1,000 pods are being scheduled', () => {
  let cluster: TempCluster | null = null;
  let stop: AbortController;
  let client: HttpClient | null = null;
  beforeEach(() => {
    stop = new AbortController();
    setMaxListeners(256, stop.signal);
    client = null;
  });
  afterEach(async () => {
    stop.abort();
    await client?.closed;
    await cluster?.cleanup();
    cluster = null;
  });

  test('every pod is bound exactly once, none to a node without room; the pods that fit nowhere stay Pending', async () => {
    const startedAt = Date.now();
    cluster = await tempCluster({ masters: 3 });
    await cluster.startAll();
    const { control } = cluster;
    const endpoints = control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    const api = createHttpClient({ endpoints, token: adminToken, signal: stop.signal, connectionsPerEndpointMax: clients + 8 });
    client = api;
    const leader = await awaitLeader(control);
    await until('the default and kube-node-lease namespaces', async () => ((await api.resource('namespaces').get('default')) && (await api.resource('namespaces').get('kube-node-lease')) ? true : null), 15_000);

    // The nodes, with a Lease each, renewed every second until the end (the node lifecycle
    // controller would make them Unknown after its grace period otherwise).
    const nodeNames = Array.from({ length: nodeCount }, (_, i) => `node-${String(i).padStart(2, '0')}`);
    const capacity = { cpu: String(nodeCpuMilli / 1000), memory: `${nodeMemoryMi / 1024}Gi`, pods: String(nodePodsMax) };
    const microTime = () => new Date().toISOString().replace('Z', '000Z');
    await inParallel(nodeCount, 8, async (i) => {
      const name = nodeNames[i]!;
      const now = formatTime(Date.now());
      const node: Node = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
        status: {
          capacity,
          allocatable: capacity,
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'a Node object written by the test', lastHeartbeatTime: now, lastTransitionTime: now }],
        },
      };
      await api.resource('nodes').create(node);
      await api.resource('leases', 'kube-node-lease').create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() } });
    });
    let leaseRenewalsFailed = 0;
    const renewing = (async () => {
      while (!stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, 1_000));
        if (stop.signal.aborted) return;
        const renewTime = microTime();
        await Promise.all(
          nodeNames.map((name) =>
            api
              .resource('leases', 'kube-node-lease')
              .patch(name, 'merge', { spec: { renewTime } }, { signal: stop.signal })
              .catch(() => {
                leaseRenewalsFailed++;
              }),
          ),
        );
      }
    })();

    // A watch on the pods, across the failover: the first nodeName seen for each pod, when it
    // was seen and at which resourceVersion; any change of a nodeName, and any deletion.
    const firstNode = new Map<string, { node: string; at: number; rv: number }>();
    const violations: string[] = [];
    const seePod = (pod: Pod): void => {
      const name = pod.metadata.name ?? '';
      const node = pod.spec?.nodeName;
      const first = firstNode.get(name);
      if (first !== undefined && first.node !== node) violations.push(`pod ${name} was bound to ${first.node}, then seen with nodeName ${JSON.stringify(node)} (rv ${pod.metadata.resourceVersion})`);
      if (first === undefined && node) firstNode.set(name, { node, at: Date.now(), rv: Number(pod.metadata.resourceVersion) });
    };
    const watcher = createInformer(api, 'pods', { namespace: 'default' });
    watcher.addHandler({
      onAdd: seePod,
      onUpdate: (_old, pod) => seePod(pod),
      onDelete: (obj) => violations.push(`pod deleted: ${JSON.stringify('metadata' in obj ? obj.metadata.name : obj)}`),
    });
    const watching = watcher.run(stop.signal).catch(() => undefined);
    await watcher.waitForSync(stop.signal);

    // The leader's scheduler sees every node before the burst (its node informer).
    await new Promise((r) => setTimeout(r, 500));

    // The killer: once some hundreds of bindings are seen, SIGKILL the leader.
    let killedAt = 0;
    let boundAtKill = 0;
    let newLeader = 0;
    let newLeaderElectedAt = 0;
    let revisionAtNewLeader = 0;
    const killing = (async () => {
      await until(`${killAfterBound} bindings`, async () => (firstNode.size >= killAfterBound ? true : null), 60_000, 5);
      boundAtKill = firstNode.size;
      const oldTerm = (await control.client.status(leader))?.term ?? 0;
      killedAt = Date.now(); // SIGKILL is sent at once; kill() then waits for the process to be gone
      await control.kill(leader);
      // Watch the survivors closely: the first of them to lead in a later term, and the revision
      // its store is at once it applied its own first entry (the no-op, after which the killed
      // leader's last entries, if committed at all, are applied). Bindings at later revisions are
      // the new leader's; the revision may be read a little late, which only counts a few of the
      // new leader's bindings as the old one's, never the reverse.
      const survivors = control.ids().filter((id) => id !== leader);
      let noopIndex = 0;
      await until(
        'a new leader that applied its first entry',
        async () => {
          for (const id of survivors) {
            const s = await control.client.status(id);
            if (s === null || s.role !== 'leader' || s.term <= oldTerm) continue;
            if (newLeader !== id) {
              newLeader = id;
              newLeaderElectedAt = Date.now();
              noopIndex = s.lastIndex;
            }
            if (s.applied >= noopIndex) {
              revisionAtNewLeader = s.revision;
              return true;
            }
          }
          return null;
        },
        15_000,
        5,
      );
      expect(await awaitLeader(control, 15_000)).toBe(newLeader);
    })();

    // The burst: 1,000 pods that fit, with the 10 that fit nowhere spread among them.
    const burstStart = Date.now();
    let createRetries = 0;
    const create = async (pod: Pod): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          await api.resource('pods', 'default').create(pod);
          return;
        } catch (error) {
          if (attempt > 0 && hasStatusReason(error, 'AlreadyExists')) return; // an earlier attempt landed
          if (attempt >= 20) throw error;
          createRetries++;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const pod = (name: string, cpu: number): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: 'burst' } },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: `${cpu}m`, memory: `${podMemoryMi}Mi` } } }] },
    });
    const stride = podCount / unfitCount;
    await inParallel(podCount + unfitCount, clients, async (i) => {
      // Every stride-th create (plus one) is an unfit pod.
      const slot = i % (stride + 1);
      const group = Math.floor(i / (stride + 1));
      if (slot === stride && group < unfitCount) await create(pod(unfitName(group), unfitCpuMilli));
      else await create(pod(podName(group * stride + slot), podCpuMilli));
    });
    const burstMs = Date.now() - burstStart;
    await killing;
    expect(newLeader).not.toBe(leader);

    await until(`${podCount} pods bound`, async () => (firstNode.size >= podCount ? true : null), 60_000);
    const allBoundAt = Date.now();
    // The unfit pods' FailedScheduling events, and the Scheduled events still being written.
    const events = await until(
      'a FailedScheduling event for every unfit pod',
      async () => {
        const all = (await api.resource('events', 'default').list()).items as Event[];
        const failed = new Set(all.filter((e) => e.reason === 'FailedScheduling').map((e) => e.involvedObject?.name));
        return Array.from({ length: unfitCount }, (_, i) => unfitName(i)).every((n) => failed.has(n)) ? all : null;
      },
      15_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 1_000)); // any binding a straggler would still make
    const eventsNow = (await api.resource('events', 'default').list()).items as Event[];

    // 1. The watch: each pod bound once and never moved, none deleted; exactly the fitting pods bound.
    expect(violations).toEqual([]);
    const pods = (await api.resource('pods', 'default').list()).items;
    expect(pods).toHaveLength(podCount + unfitCount);
    const fitting = Array.from({ length: podCount }, (_, i) => podName(i));
    for (const name of fitting) expect(firstNode.has(name), `pod ${name} bound`).toBe(true);
    for (let i = 0; i < unfitCount; i++) expect(firstNode.has(unfitName(i)), `unfit pod ${unfitName(i)} unbound`).toBe(false);
    for (const p of pods) {
      const name = p.metadata.name ?? '';
      expect(p.spec?.nodeName, `pod ${name}'s nodeName now and as first seen`).toBe(firstNode.get(name)?.node);
      if (p.spec?.nodeName) expect(nodeNames).toContain(p.spec.nodeName);
    }

    // 2. The store of every surviving master: a bound pod written twice (create, binding), an unfit one once.
    const survivors = control.ids().filter((id) => id !== leader);
    const prefix = '/registry/pods/default/';
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    for (const id of survivors) {
      await until(`master ${id} to apply the bindings`, async () => ((await control.client.status(id))?.revision ?? 0) >= Math.max(...[...firstNode.values()].map((f) => f.rv)) ? true : null, 10_000);
      const answer = await control.client.call(id, '/v3/kv/range', { key: b64(prefix), range_end: b64('/registry/pods/default0'), keys_only: true, serializable: true });
      expect(answer.status).toBe(200);
      const kvs = (answer.body['kvs'] ?? []) as { key: string; version?: string }[];
      const versions = new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString().slice(prefix.length), Number(kv.version ?? 0)]));
      expect(versions.size, `pods in master ${id}'s store`).toBe(podCount + unfitCount);
      const wrong = [...versions].filter(([name, version]) => version !== (name.startsWith('unfit-') ? 1 : 2));
      expect(wrong, `pods on master ${id} not written exactly (create + one binding)`).toEqual([]);
    }

    // 3. Events: at most one Scheduled per pod, naming the node it is bound to; FailedScheduling for the unfit ones.
    const scheduledPerPod = new Map<string, Event[]>();
    for (const e of eventsNow.filter((e) => e.reason === 'Scheduled')) {
      const name = e.involvedObject?.name ?? '';
      scheduledPerPod.set(name, [...(scheduledPerPod.get(name) ?? []), e]);
    }
    const twice = [...scheduledPerPod].filter(([, list]) => list.length > 1).map(([name, list]) => `${name}: ${list.map((e) => e.message).join(' | ')}`);
    expect(twice, 'pods with more than one Scheduled event').toEqual([]);
    for (const [name, [e]] of scheduledPerPod) {
      const node = firstNode.get(name)?.node;
      expect(node, `a Scheduled event for ${name}, which is not bound`).toBeDefined();
      expect(e!.message).toBe(`Successfully assigned default/${name} to ${node}`);
    }
    const withoutScheduled = fitting.filter((name) => !scheduledPerPod.has(name));
    // Lost events should be the killed leader's in-flight writes: count those of the new leader's bindings apart.
    const withoutScheduledByNewLeader = withoutScheduled.filter((name) => (firstNode.get(name)?.rv ?? 0) > revisionAtNewLeader).length;
    for (let i = 0; i < unfitCount; i++) {
      const failed = events.filter((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === unfitName(i));
      expect(failed.length, `FailedScheduling events of ${unfitName(i)}`).toBeGreaterThan(0);
      expect(failed.some((e) => e.message === `0/${nodeCount} nodes are available: ${nodeCount} Insufficient cpu.`), `${unfitName(i)}: ${failed.map((e) => e.message).join(' | ')}`).toBe(true);
    }
    const failedOfFitting = new Set(eventsNow.filter((e) => e.reason === 'FailedScheduling' && !(e.involvedObject?.name ?? '').startsWith('unfit-')).map((e) => e.involvedObject?.name)).size;

    // 4. Room: on every node, the requests of the pods bound to it fit its allocatable.
    const nodes = (await api.resource('nodes').list()).items;
    expect(nodes).toHaveLength(nodeCount);
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      const on = pods.filter((p) => p.spec?.nodeName === name);
      const cpu = on.reduce((sum, p) => sum + (p.spec?.containers ?? []).reduce((s, c) => s + cpuMilli(c.resources?.requests?.['cpu']), 0), 0);
      const memory = on.reduce((sum, p) => sum + (p.spec?.containers ?? []).reduce((s, c) => s + memoryMi(c.resources?.requests?.['memory']), 0), 0);
      const allocatable = node.status?.allocatable ?? {};
      expect(cpu, `cpu requested on ${name}`).toBeLessThanOrEqual(cpuMilli(allocatable['cpu']));
      expect(memory, `memory requested on ${name}`).toBeLessThanOrEqual(memoryMi(allocatable['memory']));
      expect(on.length, `pods on ${name}`).toBeLessThanOrEqual(Number(allocatable['pods']));
      // Still Ready: the Leases were renewed throughout (else the placement would be moot).
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, `${name} Ready`).toBe('True');
    }

    // The new leader's own account (its log): when its components started, and events it lost.
    const logLines = (await readFile(control.logFile(newLeader), 'utf8').catch(() => '')).split('\n').flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { time?: string; msg?: string };
        return [{ msg: entry.msg, time: Date.parse(entry.time ?? '') }];
      } catch {
        return [];
      }
    });
    const componentsStarted = logLines.find((l) => l.msg === 'leader components started' && (l.time ?? 0) >= killedAt)?.time;
    const schedulerSynced = logLines.find((l) => l.msg === 'scheduler caches synced; scheduling' && (l.time ?? 0) >= killedAt)?.time;
    const eventsLostByNewLeader = logLines.filter((l) => l.msg === 'event not recorded' || l.msg === 'event dropped: too many event writes in flight').length;

    // The summary.
    const bindings = [...firstNode.values()];
    const byNewLeader = bindings.filter((b) => b.rv > revisionAtNewLeader && b.at >= killedAt).sort((a, b) => a.at - b.at);
    const oldLeaderSeenAfterKill = bindings.filter((b) => b.rv <= revisionAtNewLeader && b.at >= killedAt).length;
    const firstByNewLeaderMs = byNewLeader.length === 0 ? NaN : byNewLeader[0]!.at - killedAt;
    const stats = watcher.stats();
    stop.abort();
    await Promise.all([renewing, watching]);
    console.log(
      `scheduling-failover: ${bindings.length}/${podCount} bound (${unfitCount} unfit Pending); burst of ${podCount + unfitCount} creates ${burstMs} ms (${createRetries} retried); ` +
        `leader ${leader} SIGKILLed ${killedAt - burstStart} ms into the burst at ${boundAtKill} bound (${oldLeaderSeenAfterKill} more of its bindings seen after the kill), ${newLeader} elected after ${newLeaderElectedAt - killedAt} ms, its first binding seen ${firstByNewLeaderMs} ms after the kill ` +
        `(${byNewLeader.length} bindings by it; its components started ${componentsStarted === undefined ? '?' : componentsStarted - killedAt} ms and its scheduler synced ${schedulerSynced === undefined ? '?' : schedulerSynced - killedAt} ms after the kill; event writes it logged as lost: ${eventsLostByNewLeader}); all bound ${allBoundAt - killedAt} ms after the kill; ${withoutScheduled.length} pods without a Scheduled event (${withoutScheduledByNewLeader} of them bound by the new leader), ${failedOfFitting} fitting pods with a FailedScheduling event; ` +
        `watch resumes ${stats.resumes}, relists ${stats.relists}; lease renewals failed ${leaseRenewalsFailed}; total ${Date.now() - startedAt} ms`,
    );
  });
});
