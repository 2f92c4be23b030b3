// Benchmark: the Kubernetes API of a throwaway three-master cluster (issue 6).
//   1. creates of small pods from 32 clients, straight to the leader: objects/s, p50/p99;
//   2. 1,000 WebSocket watchers (spread over the three masters; followers relay to the leader),
//      each watching the pods of one node (`fieldSelector=spec.nodeName=...`, as node agents do),
//      while pods bound to those nodes are created at 1,000/s: delivery latency p50/p99, measured
//      from just before the create is sent to the event's arrival, in this one process;
//   3. a list of 10,000 pods from the leader: latency, and the leader's peak resident memory.
// Usage: npm run bench:api [-- --seconds 10 --clients 32 --watchers 1000 --rate 1000 --list-pods 10000]
// Prints a table and, as its last line, one JSON object with the figures.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import { agreedLeader } from './lib/cluster-control.js';
import { adminToken, tempCluster } from './lib/temp-cluster.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '32' },
    watchers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1000' },
    'list-pods': { type: 'string', default: '10000' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const watcherCount = Number(values.watchers);
const rate = Number(values.rate);
const listPods = Number(values['list-pods']);
for (const [name, value] of Object.entries({ seconds, clients, watchers: watcherCount, rate, listPods })) {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
}

const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function podBody(name: string, namespace: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
  });
}

async function call(pool: Pool, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await pool.request({ method, path, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.statusCode, text: await res.body.text() };
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match === null ? NaN : Number(match[1]) / 1024;
}

async function main(): Promise<void> {
  // The API alone (no scheduler or controllers reacting to the pods), with the shipped snapshot
  // interval (tempCluster's is small, to exercise snapshots in tests).
  const cluster = await tempCluster({ masters: 3, components: { scheduler: false, controllerManager: false }, snapshot: { entriesMax: 100_000 }, apiserver: { inflightPerUserMax: 10_000, inflightMax: 20_000 } });
  try {
    await cluster.startAll();
    const statuses = await cluster.control.waitFor('a leader', (all) => agreedLeader(all) !== 0, 30_000);
    const leaderId = agreedLeader(statuses);
    const apiOf = (id: number): string => {
      const m = cluster.control.config.masters.find((x) => x.id === id)!;
      return `${m.api.host}:${m.api.port}`;
    };
    const leader = new Pool(`http://${apiOf(leaderId)}`, { connections: clients + 8, pipelining: 1 });
    for (let i = 0; i < 100 && (await call(leader, 'GET', '/api/v1/namespaces/default')).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    for (const ns of ['create-bench', 'watch-bench', 'list-bench']) {
      const made = await call(leader, 'POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: ns } }));
      if (made.status !== 201) throw new Error(`creating namespace ${ns}: ${made.status} ${made.text}`);
    }

    // 1. Creates from N clients.
    const createLatencies: number[] = [];
    let createFailures = 0;
    let next = 0;
    const createEnd = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < createEnd) {
          const name = `p-${next++}`;
          const started = performance.now();
          const res = await call(leader, 'POST', '/api/v1/namespaces/create-bench/pods', podBody(name, 'create-bench'));
          if (res.status === 201) createLatencies.push(performance.now() - started);
          else createFailures++;
        }
      }),
    );
    createLatencies.sort((a, b) => a - b);
    const creates = { objectsPerSecond: createLatencies.length / seconds, p50Ms: percentile(createLatencies, 50), p99Ms: percentile(createLatencies, 99), failed: createFailures };

    // 2. Watchers, one per node, spread over the masters; pods bound to their nodes at a fixed rate.
    const ids = cluster.control.ids();
    const sockets: WebSocket[] = [];
    const sentAt = new Map<string, number>();
    const deliveries: number[] = [];
    let duplicates = 0;
    const seen = new Set<string>();
    const startRevision = JSON.parse((await call(leader, 'GET', '/api/v1/namespaces/watch-bench/pods')).text).metadata.resourceVersion as string;
    await Promise.all(
      Array.from({ length: watcherCount }, async (_, i) => {
        const master = apiOf(ids[i % ids.length]!);
        const ws = new WebSocket(
          `ws://${master}/api/v1/namespaces/watch-bench/pods?watch=true&resourceVersion=${startRevision}&fieldSelector=spec.nodeName%3Dnode-${i}`,
          { headers: { authorization: `Bearer ${adminToken}` }, perMessageDeflate: false },
        );
        ws.on('message', (data) => {
          const event = JSON.parse(String(data)) as { type: string; object: { metadata: { name: string } } };
          if (event.type !== 'ADDED') return;
          const name = event.object.metadata.name;
          if (seen.has(name)) duplicates++;
          seen.add(name);
          const sent = sentAt.get(name);
          if (sent !== undefined) deliveries.push(performance.now() - sent);
        });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        sockets.push(ws);
      }),
    );
    const writers = new Pool(`http://${apiOf(leaderId)}`, { connections: 64, pipelining: 1 });
    const total = rate * seconds;
    const writeStart = performance.now();
    let writeFailures = 0;
    const writeLatencies: number[] = [];
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = writeStart + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const name = `w-${i}`;
      const sent = performance.now();
      sentAt.set(name, sent);
      inFlight.push(
        call(writers, 'POST', '/api/v1/namespaces/watch-bench/pods', podBody(name, 'watch-bench', { nodeName: `node-${i % watcherCount}` })).then((res) => {
          if (res.status !== 201) writeFailures++;
          else writeLatencies.push(performance.now() - sent);
        }),
      );
      if (inFlight.length >= 2000) await Promise.all(inFlight.splice(0, 1000));
    }
    await Promise.all(inFlight);
    const achievedRate = total / ((performance.now() - writeStart) / 1000);
    for (let i = 0; i < 100 && deliveries.length < total - writeFailures; i++) await new Promise((r) => setTimeout(r, 100));
    for (const ws of sockets) ws.close();
    await writers.close();
    deliveries.sort((a, b) => a - b);
    writeLatencies.sort((a, b) => a - b);
    const watch = {
      writeP50Ms: percentile(writeLatencies, 50),
      writeP99Ms: percentile(writeLatencies, 99),
      watchers: watcherCount,
      writesPerSecond: achievedRate,
      delivered: deliveries.length,
      expected: total - writeFailures,
      duplicates,
      p50Ms: percentile(deliveries, 50),
      p99Ms: percentile(deliveries, 99),
    };

    // 3. A list of many pods.
    let made = 0;
    let cursor = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (cursor < listPods) {
          const name = `l-${cursor++}`;
          if ((await call(leader, 'POST', '/api/v1/namespaces/list-bench/pods', podBody(name, 'list-bench'))).status === 201) made++;
        }
      }),
    );
    const leaderPid = (await cluster.control.pid(leaderId)) ?? 0;
    const listLatencies: number[] = [];
    let listed = 0;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await call(leader, 'GET', '/api/v1/namespaces/list-bench/pods');
      listLatencies.push(performance.now() - started);
      listed = (JSON.parse(res.text) as { items: unknown[] }).items.length;
    }
    listLatencies.sort((a, b) => a - b);
    const list = { pods: listed, created: made, p50Ms: percentile(listLatencies, 50), maxMs: listLatencies[listLatencies.length - 1]!, leaderPeakRssMiB: await peakRssMiB(leaderPid) };
    await leader.close();

    const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
    const rows = [
      ['workload', 'result', 'p50 ms', 'p99 ms', 'notes'],
      [`create pods, ${clients} clients`, `${f(creates.objectsPerSecond, 0)} objects/s`, f(creates.p50Ms, 2), f(creates.p99Ms, 2), `${creates.failed} failed`],
      [
        `${watcherCount} WS watchers, ${rate} writes/s`,
        `${watch.delivered}/${watch.expected} delivered`,
        f(watch.p50Ms, 2),
        f(watch.p99Ms, 2),
        `${f(watch.writesPerSecond, 0)} writes/s achieved (their p50/p99 ${f(watch.writeP50Ms, 1)}/${f(watch.writeP99Ms, 1)} ms), ${watch.duplicates} duplicates`,
      ],
      [`list ${list.pods} pods`, `${f(list.p50Ms, 0)} ms (max ${f(list.maxMs, 0)})`, f(list.p50Ms, 0), 'n/a', `leader peak RSS ${f(list.leaderPeakRssMiB, 0)} MiB`],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
    console.log(JSON.stringify({ bench: 'api', seconds, creates, watch, list }));
  } finally {
    await cluster.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
