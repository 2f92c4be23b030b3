// Benchmark: pod startup end to end (issue 8). A throwaway three-master cluster (scheduler and
// controllers inside), two agents as real `raftplane agent` processes, then a Deployment of N
// replicas created through the API; for each pod, the time from its creation (its ADDED event,
// seen here) to Running and Ready (the status update, seen here): Kubernetes' pod startup SLO is
// p99 ≤ 5 s, image pulls excluded (the images here are local). Once per runtime asked for; the
// docker runtime needs an engine (scripts/docker-engine.sh start && ... image).
// Usage: npm run bench:pods [-- --replicas 100 --runtimes process,docker]
// Prints a table and, as its last line, one JSON object with the figures.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Pod } from '@raftplane/api';
import { createHttpClient, createInformer } from '@raftplane/client';
import { startCli, describeOutput, type CliProcess } from './lib/cli-process.js';
import { agreedLeader } from './lib/cluster-control.js';
import { adminToken, tempCluster } from './lib/temp-cluster.js';

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '100' },
    runtimes: { type: 'string', default: 'process,docker' },
    'docker-socket': { type: 'string', default: process.env.RAFTPLANE_DOCKER_SOCKET ?? '/tmp/raftplane-docker/docker.sock' },
    image: { type: 'string', default: 'raftplane/busybox:test' },
  },
});
const replicas = Number(values.replicas);
if (!Number.isSafeInteger(replicas) || replicas <= 0) throw new Error(`--replicas must be a positive integer, got ${values.replicas}`);
const runtimes = (values.runtimes ?? '').split(',').map((r) => r.trim());
for (const runtime of runtimes) if (runtime !== 'process' && runtime !== 'docker') throw new Error(`--runtimes: ${JSON.stringify(runtime)} is not process or docker`);

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);
}

const isReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

interface RunFigures {
  readonly runtime: string;
  readonly replicas: number;
  readonly allReadyMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function run(runtime: 'process' | 'docker'): Promise<RunFigures> {
  const cluster = await tempCluster({ masters: 3 });
  const stop = new AbortController();
  const agents: CliProcess[] = [];
  try {
    await cluster.startAll();
    const servers = cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    const tokenFile = join(cluster.dir, 'admin.token');
    await writeFile(tokenFile, adminToken);
    const client = createHttpClient({ endpoints: servers, token: adminToken, signal: stop.signal });
    await cluster.control.waitFor('a leader', (statuses) => agreedLeader(statuses) !== 0, 15_000);
    await until('the default namespace', async () => (await client.resource('namespaces').get('default').catch(() => null)) !== null, 15_000);
    for (const [i, address] of ['127.0.1.1', '127.0.1.2'].entries()) {
      const dataDir = join(cluster.dir, `agent-${i + 1}`);
      await mkdir(dataDir, { recursive: true });
      const args = ['agent', '--name', `node-${i + 1}`, '--address', address, '--servers', servers.join(','), '--token-file', tokenFile, '--runtime', runtime, '--data-dir', dataDir, '--port', '0', '--max-pods', String(replicas), '--log-level', 'warn'];
      if (runtime === 'docker') args.push('--docker-socket', values['docker-socket'] ?? '');
      agents.push(startCli(`agent node-${i + 1}`, args));
    }
    for (const [i, agent] of agents.entries()) {
      await until(`node-${i + 1} Ready`, async () => {
        const node = await client.resource('nodes').get(`node-${i + 1}`).catch(() => null);
        return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      }, 30_000).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${describeOutput(agent)}`);
      });
    }

    const created = new Map<string, number>();
    const ready = new Map<string, number>();
    const informer = createInformer(client, 'pods', { namespace: 'default', labelSelector: 'app=bench' });
    const seen = (pod: Pod): void => {
      const name = pod.metadata.name ?? '';
      if (!created.has(name)) created.set(name, Date.now());
      if (!ready.has(name) && isReady(pod)) ready.set(name, Date.now());
    };
    informer.addHandler({ onAdd: seen, onUpdate: (_old, pod) => seen(pod) });
    const informerDone = informer.run(stop.signal);
    await informer.waitForSync(stop.signal);

    const command = ['/bin/sh', '-c', 'exec sleep 3600'];
    const start = Date.now();
    await client.resource('deployments', 'default').create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bench' },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'bench' } },
        template: { metadata: { labels: { app: 'bench' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: runtime === 'docker' ? (values.image ?? '') : 'busybox', imagePullPolicy: 'IfNotPresent', command }] } },
      },
    });
    await until(`${replicas} pods Running and Ready`, () => ready.size >= replicas, 300_000);
    const allReadyMs = Date.now() - start;
    const startup = [...ready.entries()].map(([name, at]) => at - (created.get(name) ?? at)).sort((a, b) => a - b);

    // Clean up through the API, so the agents stop what they started.
    await client.resource('deployments', 'default').delete('bench');
    await until('every pod gone', async () => (await client.resource('pods', 'default').list({ labelSelector: 'app=bench' })).items.length === 0, 120_000);
    stop.abort();
    await informerDone.catch(() => undefined);
    return { runtime, replicas, allReadyMs, p50Ms: percentile(startup, 50), p99Ms: percentile(startup, 99), maxMs: startup[startup.length - 1] ?? NaN };
  } finally {
    stop.abort();
    for (const agent of agents) await agent.stop();
    await cluster.cleanup();
  }
}

const results: RunFigures[] = [];
for (const runtime of runtimes) {
  process.stderr.write(`bench:pods: ${replicas} replicas with the ${runtime} runtime...\n`);
  results.push(await run(runtime as 'process' | 'docker'));
}
const header = ['runtime', 'replicas', 'create → all Ready (ms)', 'per pod p50 (ms)', 'per pod p99 (ms)', 'per pod max (ms)'];
const rows = results.map((r) => [r.runtime, String(r.replicas), String(r.allReadyMs), String(r.p50Ms), String(r.p99Ms), String(r.maxMs)]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log('Kubernetes pod startup SLO: p99 <= 5000 ms per pod (image pull excluded).');
console.log(JSON.stringify({ bench: 'pods', replicas, results }));
