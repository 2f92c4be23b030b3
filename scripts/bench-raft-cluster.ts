// Benchmark: a three-master cluster on loopback (real processes, LevelDB with fsync), writes (etcd
// puts) through the leader from 1 client and from 64 concurrent clients: committed writes per
// second, p50/p99 latency, and fsyncs per second. Usage: npm run bench:raft:cluster [-- --seconds 10]
// Prints a table and, as its last line, one JSON object with the figures.

import { parseArgs } from 'node:util';
import { MasterClient } from '@raftplane/master';
import { agreedLeader } from './lib/cluster-control.js';
import { tempCluster } from './lib/temp-cluster.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'warmup-seconds': { type: 'string', default: '1' },
    'value-bytes': { type: 'string', default: '256' },
    clients: { type: 'string', default: '64' },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values['warmup-seconds']);
const valueBytes = Number(values['value-bytes']);
const concurrency = Number(values.clients);
for (const [name, value] of Object.entries({ seconds, warmupSeconds, valueBytes, concurrency })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
}

interface Phase {
  readonly name: string;
  readonly clients: number;
  readonly proposalsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly fsyncsPerSecond: number;
  readonly failed: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function phase(name: string, client: MasterClient, leader: number, clients: number): Promise<Phase> {
  const value = 'a'.repeat(valueBytes);
  let sequence = 0;
  const latencies: number[] = [];
  let failed = 0;
  let measuring = false;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const started = process.hrtime.bigint();
      const outcome = await client.putAt(leader, `bench/${(sequence++ % 10_000).toString().padStart(5, '0')}`, value);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (!outcome.ok) await new Promise((r) => setTimeout(r, 5)); // never spin on a failing master
      if (!measuring) continue;
      if (outcome.ok) latencies.push(ms);
      else failed++;
    }
  };
  const workers = Array.from({ length: clients }, () => worker());
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  const before = await client.statusAll();
  measuring = true;
  const startedAt = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const after = await client.statusAll();
  stop = true;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  const fsyncs = [...after.entries()].reduce((sum, [id, s]) => sum + ((s?.storage.syncedBatches ?? 0) - (before.get(id)?.storage.syncedBatches ?? 0)), 0);
  return {
    name,
    clients,
    proposalsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    fsyncsPerSecond: Math.round(fsyncs / elapsed),
    failed,
  };
}

const cluster = await tempCluster({ masters: 3 });
try {
  await cluster.startAll();
  const statuses = await cluster.control.waitFor('a leader', (s) => agreedLeader(s) !== 0, 20_000);
  const leader = agreedLeader(statuses);
  const client = new MasterClient(cluster.control.config, { connections: concurrency + 4 });
  const phases = [await phase('1 client', client, leader, 1), await phase(`${concurrency} clients`, client, leader, concurrency)];
  await client.close();
  const header = ['load', 'proposals/s', 'p50 ms', 'p99 ms', 'fsyncs/s (3 masters)', 'failed'];
  const rows = phases.map((p) => [p.name, p.proposalsPerSecond.toLocaleString('en-US'), p.p50Ms.toFixed(2), p.p99Ms.toFixed(2), p.fsyncsPerSecond.toLocaleString('en-US'), String(p.failed)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(`raftplane: 3 masters on loopback, leader ${leader}, ${valueBytes}-byte proposals through the leader, ${seconds} s per load, node ${process.version}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log('etcd 3.4 on this kind of machine (../shared/reference/etcd-baseline.md): put, 1 client 1,222/s p50 0.8 ms p99 1.5 ms; 64 clients 8,684/s p50 7-8 ms p99 15-19 ms');
  console.log(JSON.stringify({ bench: 'raft-cluster', node: process.version, valueBytes, seconds, leader, phases }));
} finally {
  await cluster.cleanup();
}
