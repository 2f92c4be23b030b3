// Benchmark: the scheduler against a throwaway three-master cluster (issue 7). N simulated nodes
// (Node objects with capacity and a Ready condition; nothing runs), then M pods created in a
// burst through the API from 32 clients. The scheduler runs where the shipped configs run it,
// inside the leader master (--scheduler in-master, the default; in-process client), or in this
// process as a standalone scheduler would (--scheduler standalone: HTTP client, informers over
// WebSocket). Prints pods bound per second from the burst's start to the last binding seen,
// p50/p99 time from a pod's create to its binding (both seen here), how many Scheduled events
// were written, and the leader's peak resident memory. Then, on a fresh cluster whose leader runs
// the controllers, N trials of controller failover: leader SIGKILL → the new leader's first write.
// Usage: npm run bench:scheduler [-- --nodes 1000 --pods 10000 --clients 32 --scheduler in-master --failover-trials 5]
// Prints a table and, as its last line, one JSON object with the figures.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Pod } from '@raftplane/api';
import { createHttpClient, createInformer } from '@raftplane/client';
import { Scheduler } from '@raftplane/scheduler';
import { agreedLeader } from './lib/cluster-control.js';
import { adminToken, tempCluster } from './lib/temp-cluster.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '32' },
    'failover-trials': { type: 'string', default: '5' },
    scheduler: { type: 'string', default: 'in-master' },
  },
});
const placement = values.scheduler;
if (placement !== 'in-master' && placement !== 'standalone') throw new Error(`--scheduler must be in-master or standalone, got ${JSON.stringify(placement)}`);
const trials = Number(values['failover-trials']);
const nodeCount = Number(values.nodes);
const podCount = Number(values.pods);
const clients = Number(values.clients);
for (const [name, value] of Object.entries({ nodes: nodeCount, pods: podCount, clients })) {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function peakRssMiB(pid: number): Promise<number> {
  const match = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]) / 1024;
}

async function inParallel(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await work(next++);
  }));
}

/**
 * Controller failover: a cluster whose leader runs the controllers; each trial SIGKILLs the leader,
 * asks for one more replica, and times the kill → the new leader's controllers scaling the
 * ReplicaSet (its first write; election included). Returns one figure per trial, in ms.
 */
async function controllerFailoverTrials(trials: number): Promise<number[]> {
  const cluster = await tempCluster({ masters: 3, components: { scheduler: false, controllerManager: true } });
  const stop = new AbortController();
  const times: number[] = [];
  try {
    await cluster.startAll();
    const endpoints = cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    const client = createHttpClient({ endpoints, token: adminToken, signal: stop.signal, retry: { attemptsMax: 40, delayMsMin: 20, delayMsMax: 200 } });
    const until = async (what: string, probe: () => Promise<boolean>): Promise<void> => {
      const deadline = performance.now() + 30_000;
      while (!(await probe().catch(() => false))) {
        if (performance.now() > deadline) throw new Error(`controller failover: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until('the default namespace', async () => (await client.resource('namespaces').get('default')) !== undefined);
    const deployments = client.resource('deployments', 'default');
    await deployments.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'failover' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'failover' } }, template: { metadata: { labels: { app: 'failover' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const replicaSetAt = async (replicas: number) => (await client.resource('replicasets', 'default').list({ labelSelector: 'app=failover' })).items.some((rs) => rs.spec?.replicas === replicas);
    await until('the ReplicaSet', () => replicaSetAt(1));
    for (let trial = 1; trial <= trials; trial++) {
      const statuses = await cluster.control.waitFor('a leader', (all) => agreedLeader(all) !== 0, 30_000);
      const leader = agreedLeader(statuses);
      await cluster.control.kill(leader);
      const killedAt = performance.now();
      await until('the scale-up to be accepted', async () => (await deployments.patch('failover', 'merge', { spec: { replicas: trial + 1 } })) !== undefined);
      await until(`the ReplicaSet at ${trial + 1}`, () => replicaSetAt(trial + 1));
      times.push(performance.now() - killedAt);
      await cluster.control.start(leader);
      await cluster.control.waitFor('all three masters', (all) => [...all.values()].every((s) => s !== null), 30_000);
    }
    return times;
  } finally {
    stop.abort();
    await cluster.cleanup();
  }
}

async function main(): Promise<void> {
  // The scheduler under test runs inside the leader or here (--scheduler); controllers nowhere.
  let cleaned = false;
  const cluster = await tempCluster({ masters: 3, components: { scheduler: placement === 'in-master', controllerManager: false }, snapshot: { entriesMax: 100_000 }, apiserver: { inflightPerUserMax: 10_000, inflightMax: 20_000 } });
  const stop = new AbortController();
  try {
    await cluster.startAll();
    const statuses = await cluster.control.waitFor('a leader', (all) => agreedLeader(all) !== 0, 30_000);
    const leaderId = agreedLeader(statuses);
    const endpoints = cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    const client = createHttpClient({ endpoints, token: adminToken, signal: stop.signal, connectionsPerEndpointMax: clients + 8 });
    for (let i = 0; i < 100; i++) {
      try {
        await client.resource('namespaces').get('default');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const now = new Date().toISOString().replace('.000Z', 'Z');
    await inParallel(nodeCount, clients, async (i) => {
      const capacity = { cpu: '4', memory: '16Gi', pods: '110' };
      await client.resource('nodes').create({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
        status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now }] },
      });
    });

    // Bindings as this process sees them, and the scheduler itself.
    const createdAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    const watcher = createInformer(client, 'pods', { namespace: 'default' });
    const seeBinding = (pod: Pod): void => {
      const name = pod.metadata.name ?? '';
      if (pod.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, performance.now());
    };
    watcher.addHandler({ onAdd: seeBinding, onUpdate: (_old, pod) => seeBinding(pod) });
    void watcher.run(stop.signal);
    await watcher.waitForSync(stop.signal);
    const scheduler = placement === 'standalone' ? new Scheduler({ client, random: Math.random }) : null;
    const scheduling = scheduler?.run(stop.signal) ?? Promise.resolve();
    await new Promise((r) => setTimeout(r, 1_000)); // its informers sync

    const burstStart = performance.now();
    let failed = 0;
    await inParallel(podCount, clients, async (i) => {
      const name = `p-${i}`;
      createdAt.set(name, performance.now());
      try {
        await client.resource('pods', 'default').create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { app: 'bench' } },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
        });
      } catch {
        failed++;
      }
    });
    const burstEnd = performance.now();
    const expected = podCount - failed;
    const deadline = performance.now() + 300_000;
    while (boundAt.size < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const lastBinding = Math.max(...boundAt.values());
    const latencies = [...boundAt].map(([name, at]) => at - (createdAt.get(name) ?? at)).sort((a, b) => a - b);
    // The scheduler writes a Scheduled event per pod after its binding, in the background (and,
    // like client-go's recorder, drops what does not fit its in-flight bound): count what landed.
    const events = client.resource('events', 'default');
    let scheduledEvents = -1;
    for (let unchangedPolls = 0, waited = 0; unchangedPolls < 2 && waited < 30; waited++) {
      const items = (await events.list()).items as { reason?: string }[];
      const count = items.filter((e) => e.reason === 'Scheduled').length;
      unchangedPolls = count === scheduledEvents ? unchangedPolls + 1 : 0;
      scheduledEvents = count;
      if (count >= boundAt.size) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const leaderPid = (await cluster.control.pid(leaderId)) ?? 0;
    const figures = {
      nodes: nodeCount,
      pods: podCount,
      createFailed: failed,
      bound: boundAt.size,
      burstSeconds: (burstEnd - burstStart) / 1000,
      podsBoundPerSecond: boundAt.size / ((lastBinding - burstStart) / 1000),
      createToBindP50Ms: percentile(latencies, 50),
      createToBindP99Ms: percentile(latencies, 99),
      scheduledEvents,
      leaderPeakRssMiB: await peakRssMiB(leaderPid),
      schedulerPlacement: placement,
      scheduler: scheduler?.stats() ?? null,
    };
    stop.abort();
    await scheduling.catch(() => undefined);
    // This cluster is done with; the failover trials get one of their own. SIGTERM first: masters
    // exit cleanly, so flags like --cpu-prof (RAFTPLANE_MASTER_NODE_ARGS) write their files.
    cleaned = true;
    await Promise.all(cluster.control.ids().map((id) => cluster.control.stop(id)));
    await cluster.cleanup();
    const failover = await controllerFailoverTrials(trials);
    const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    const rows = [
      ['figure', 'value'],
      ['scheduler', placement === 'in-master' ? 'inside the leader master (in-process client)' : 'standalone, in this process (HTTP, WebSocket informers)'],
      ['nodes / pods', `${nodeCount} / ${podCount} (${failed} creates failed)`],
      ['pods bound', `${figures.bound}`],
      ['pods bound per second (burst start → last binding)', f(figures.podsBoundPerSecond, 0)],
      ['create → binding p50 / p99', `${f(figures.createToBindP50Ms, 0)} / ${f(figures.createToBindP99Ms, 0)} ms`],
      ['burst of creates took', `${f(figures.burstSeconds, 2)} s`],
      ['Scheduled events written', `${figures.scheduledEvents}`],
      ['leader peak RSS', `${f(figures.leaderPeakRssMiB, 0)} MiB`],
      [`controller failover (${trials} trials: SIGKILL → new leader scales)`, `${failover.map((t) => f(t, 0)).join(', ')} ms (max ${f(Math.max(...failover), 0)})`],
    ];
    const width = Math.max(...rows.map((r) => r[0]!.length));
    for (const row of rows) console.log(`${row[0]!.padEnd(width)}  ${row[1]}`);
    console.log(JSON.stringify({ bench: 'scheduler', ...figures, controllerFailoverMs: failover }));
  } finally {
    stop.abort();
    if (!cleaned) await cluster.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
