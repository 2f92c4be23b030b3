// Benchmark: the etcd v3 JSON API over HTTP, raftplane against etcd with one identical generator
// (issue 4). A throwaway three-master raftplane cluster and, when `etcd` is on PATH, a throwaway
// three-member etcd on loopback (free ports, own temp dir), one after the other so that they never
// share the CPU. Per target, all to the leader (found with /v3/maintenance/status: `leader` equals
// `header.member_id`), 256-byte values, keys random among 10,000, a warm-up then N seconds per row:
// sequential puts from 1 client, puts from 64 clients, linearizable single-key ranges from 64
// clients. Keep-alive connections through undici's Pool (Node's fetch costs the generator most of a
// core; see ../shared/reference/etcd-baseline.md).
// Usage: npm run bench:kv [-- --seconds 10 --targets raftplane,etcd --workloads put1,put,range --rounds 1]
// --rounds N measures every target N times, in turn (raftplane, etcd, then etcd, raftplane, ...),
// each on a fresh cluster: the table shows each row's median round and the ratio of the medians, so
// that one slow moment of the machine does not decide a row.
// Prints a table with the ratio raftplane/etcd per row and, as its last line, one JSON object.
// Exits 1 when a target failed (its error is in the table and the JSON), after measuring the others.

import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { etcdBinary, tempEtcd } from '../test/etcd-compat/temp-etcd.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    // 5 s: V8 compiles a master's hot paths over its first few thousand requests; a short warm-up
    // measures that, not the steady state a long-running master serves from. etcd gets the same.
    'warmup-seconds': { type: 'string', default: '5' },
    clients: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '256' },
    keys: { type: 'string', default: '10000' },
    targets: { type: 'string', default: 'raftplane,etcd' },
    workloads: { type: 'string', default: 'put1,put,range' },
    'timeout-ms': { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values['warmup-seconds']);
const concurrency = Number(values.clients);
const valueBytes = Number(values['value-bytes']);
const keyCount = Number(values.keys);
const requestTimeoutMs = Number(values['timeout-ms']);
const rounds = Number(values.rounds);
for (const [name, value] of Object.entries({ seconds, 'warmup-seconds': warmupSeconds, clients: concurrency, 'value-bytes': valueBytes, keys: keyCount, 'timeout-ms': requestTimeoutMs })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(values[name as keyof typeof values])}`);
}
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of at least 1, got ${JSON.stringify(values.rounds)}`);
const targetNames = values.targets.split(',').map((t) => t.trim());
for (const t of targetNames) if (t !== 'raftplane' && t !== 'etcd') throw new Error(`--targets: unknown target ${JSON.stringify(t)} (raftplane, etcd)`);

type Kind = 'put' | 'range';

interface Workload {
  readonly name: string;
  readonly kind: Kind;
  readonly clients: number;
}

const allWorkloads: Readonly<Record<string, Workload>> = {
  put1: { name: 'put, 1 sequential client', kind: 'put', clients: 1 },
  put: { name: `put, ${concurrency} concurrent clients`, kind: 'put', clients: concurrency },
  range: { name: `linearizable range, ${concurrency} clients`, kind: 'range', clients: concurrency },
};
// --workloads picks rows (to profile one alone, say); the default runs all three.
const workloads: readonly Workload[] = values.workloads.split(',').map((w) => {
  const workload = allWorkloads[w.trim()];
  if (workload === undefined) throw new Error(`--workloads: unknown workload ${JSON.stringify(w)} (${Object.keys(allWorkloads).join(', ')})`);
  return workload;
});

interface Row {
  readonly workload: string;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly failed: number;
}

type Outcome = { readonly ok: true; readonly leader: string; readonly rows: readonly Row[] } | { readonly ok: false; readonly error: string; readonly rows: readonly Row[] };

// Request bodies are built once: the generator should spend its CPU sending, not encoding.
const value = Buffer.alloc(valueBytes, 'raftplane-bench-kv ').toString('base64');
const keys = Array.from({ length: keyCount }, (_, i) => Buffer.from(`bench-kv/key-${String(i).padStart(6, '0')}`).toString('base64'));
const bodies: Record<Kind, readonly string[]> = {
  put: keys.map((key) => JSON.stringify({ key, value })),
  range: keys.map((key) => JSON.stringify({ key })), // linearizable: serializable is not set
};
const paths: Record<Kind, string> = { put: '/v3/kv/put', range: '/v3/kv/range' };

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StatusAnswer {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
}

/** The endpoint whose member leads (`leader` equals `header.member_id`); fails with what each endpoint answered. */
async function findLeader(target: string, endpoints: readonly string[], timeoutMs = 20_000): Promise<{ url: string; memberId: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers: string[] = [];
    let notFound = 0;
    for (const url of endpoints) {
      try {
        const res = await request(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, headersTimeout: 2_000, bodyTimeout: 2_000 });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          if (res.statusCode === 404) notFound++;
          answers.push(`${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          continue;
        }
        const status = JSON.parse(text) as StatusAnswer;
        if (status.leader !== undefined && status.leader === status.header?.member_id) return { url, memberId: status.leader };
        answers.push(`${url}: member ${status.header?.member_id ?? '?'} follows ${status.leader ?? 'no leader'}`);
      } catch (error) {
        answers.push(`${url}: ${(error as Error).message}`);
      }
    }
    // Every endpoint up but without the route: the API is not there, and waiting will not bring it.
    if (notFound === endpoints.length) throw new Error(`${target}: POST /v3/maintenance/status is not served (HTTP 404 on every endpoint):\n  ${answers.join('\n  ')}`);
    if (Date.now() >= deadline) throw new Error(`${target}: no endpoint reports itself as leader on POST /v3/maintenance/status within ${timeoutMs} ms:\n  ${answers.join('\n  ')}`);
    await sleep(200);
  }
}

/** One put and one range must answer 200 before anything is measured: a missing API fails here, at once. */
async function preflight(target: string, pool: Pool): Promise<void> {
  for (const kind of ['put', 'range'] as const) {
    const res = await pool.request({ path: paths[kind], method: 'POST', body: bodies[kind][0] as string, headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${target}: POST ${paths[kind]} answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  }
}

async function measure(target: string, pool: Pool, workload: Workload): Promise<Row> {
  const latencies: number[] = [];
  let failed = 0;
  let lastError = '';
  let measuring = false;
  let stop = false;
  const headers = { 'content-type': 'application/json' };
  const worker = async (): Promise<void> => {
    while (!stop) {
      const body = bodies[workload.kind][Math.floor(Math.random() * keyCount)] as string;
      const started = process.hrtime.bigint();
      let ok = false;
      try {
        const res = await pool.request({ path: paths[workload.kind], method: 'POST', body, headers });
        const text = await res.body.text();
        ok = res.statusCode === 200;
        if (!ok) lastError = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (measuring) {
        if (ok) latencies.push(ms);
        else failed++;
      }
      if (!ok) await sleep(5); // never spin on a failing server
    }
  };
  const workers = Array.from({ length: workload.clients }, () => worker());
  await sleep(warmupSeconds * 1000);
  measuring = true;
  const startedAt = process.hrtime.bigint();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
  stop = true;
  await Promise.all(workers);
  if (latencies.length === 0) throw new Error(`${target}: no ${workload.kind} succeeded in ${seconds} s (${failed} failed; last: ${lastError})`);
  latencies.sort((a, b) => a - b);
  const row = {
    workload: workload.name,
    opsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    ok: latencies.length,
    failed,
  };
  console.error(`  ${target}: ${row.workload}: ${row.opsPerSecond} ops/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms${failed > 0 ? `, ${failed} failed (last: ${lastError})` : ''}`);
  return row;
}

/** Runs every workload against the leader of `endpoints`; a failure ends the target, keeping the rows measured so far. */
async function benchTarget(target: string, endpoints: readonly string[]): Promise<Outcome> {
  const rows: Row[] = [];
  let pool: Pool | null = null;
  try {
    const leader = await findLeader(target, endpoints);
    console.error(`  ${target}: leader ${leader.memberId} at ${leader.url}`);
    pool = new Pool(leader.url, {
      connections: concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
      connect: { timeout: 5_000 },
    });
    await preflight(target, pool);
    for (const workload of workloads) rows.push(await measure(target, pool, workload));
    return { ok: true, leader: leader.url, rows };
  } catch (error) {
    return { ok: false, error: (error as Error).message, rows };
  } finally {
    await pool?.close();
  }
}

async function benchRaftplane(): Promise<Outcome> {
  // Loaded here: when raftplane's packages do not load, etcd is still measured.
  let tempCluster: typeof import('./lib/temp-cluster.js').tempCluster;
  try {
    ({ tempCluster } = await import('./lib/temp-cluster.js'));
  } catch (error) {
    return { ok: false, error: `raftplane: cannot load scripts/lib/temp-cluster.ts: ${(error as Error).message}`, rows: [] };
  }
  // The shipped snapshot interval (100,000 entries, as etcd 3.4's --snapshot-count), not the
  // temporary cluster's test setting of 10,000: etcd is measured on its defaults too.
  const { settingsDefaults } = await import('@raftplane/master');
  const cluster = await tempCluster({ masters: 3, snapshot: { entriesMax: settingsDefaults.snapshot.entriesMax } });
  try {
    await cluster.startAll();
    const endpoints = cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    return await benchTarget('raftplane', endpoints);
  } catch (error) {
    return { ok: false, error: `raftplane: ${(error as Error).message}`, rows: [] };
  } finally {
    // SIGTERM first: masters exit cleanly, so flags like --cpu-prof (RAFTPLANE_MASTER_NODE_ARGS) write their files.
    await Promise.all(cluster.control.ids().map((id) => cluster.control.stop(id)));
    await cluster.cleanup();
  }
}

async function benchEtcd(): Promise<Outcome> {
  const etcd = await tempEtcd({ members: 3 }).catch((error: Error) => error);
  if (etcd instanceof Error) return { ok: false, error: `etcd: ${etcd.message}`, rows: [] };
  try {
    return await benchTarget('etcd', etcd.endpoints);
  } finally {
    await etcd.stop();
  }
}

type Result = Outcome | { readonly skipped: string };
/** Every round's result per target, in the order measured. */
const byRound: Record<string, Result[]> = Object.fromEntries(targetNames.map((t) => [t, []]));
for (let round = 0; round < rounds; round++) {
  // Every other round the other target goes first: neither always meets the machine fresh.
  const order = round % 2 === 0 ? targetNames : [...targetNames].reverse();
  for (const target of order) {
    console.error(`${target}: starting a three-member cluster on loopback${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ''}`);
    let result: Result;
    if (target === 'raftplane') result = await benchRaftplane();
    else if (etcdBinary() === null) result = { skipped: 'no `etcd` on PATH (Debian: apt-get install etcd-server)' };
    else result = await benchEtcd();
    (byRound[target] as Result[]).push(result);
  }
}

/** A row's rounds (ops/s ascending): the median is the middle one (the lower middle of an even count). */
const roundsOf = (name: string, workload: string): Row[] =>
  (byRound[name] ?? [])
    .flatMap((r) => ('rows' in r ? r.rows.filter((row) => row.workload === workload) : []))
    .sort((a, b) => a.opsPerSecond - b.opsPerSecond);
const medianRow = (name: string, workload: string): Row[] => {
  const measured = roundsOf(name, workload);
  return measured.length === 0 ? [] : [measured[Math.floor((measured.length - 1) / 2)] as Row];
};
/** A target's result: its first failure or skip, else one outcome whose rows are the median rounds (with one round, that round). */
const results: Record<string, Result> = Object.fromEntries(
  targetNames.map((t) => {
    const all = byRound[t] as Result[];
    const bad = all.find((r) => !('ok' in r) || !r.ok);
    const first = all[0] as Outcome;
    return [t, bad ?? { ok: true, leader: first.ok ? first.leader : '', rows: workloads.flatMap((w) => medianRow(t, w.name)) }];
  }),
);
const outcome = (name: string): Outcome | null => {
  const r = results[name];
  return r !== undefined && 'rows' in r ? r : null;
};
const rowOf = (name: string, workload: string): Row | null => outcome(name)?.rows.find((r) => r.workload === workload) ?? null;
const ratios = workloads.map((w) => {
  const ours = rowOf('raftplane', w.name);
  const theirs = rowOf('etcd', w.name);
  return { workload: w.name, raftplaneToEtcd: ours !== null && theirs !== null ? Number((ours.opsPerSecond / theirs.opsPerSecond).toFixed(2)) : null };
});

const cells = (name: string, workload: string): string[] => {
  const row = rowOf(name, workload);
  if (row !== null) return [row.opsPerSecond.toLocaleString('en-US'), row.p50Ms.toFixed(2), row.p99Ms.toFixed(2)];
  const r = results[name];
  return [r === undefined ? 'not run' : 'skipped' in r ? 'skipped' : 'failed', '-', '-'];
};
const header = ['workload', 'raftplane ops/s', 'p50 ms', 'p99 ms', 'etcd ops/s', 'p50 ms', 'p99 ms', 'raftplane/etcd'];
const table = workloads.map((w, i) => [w.name, ...cells('raftplane', w.name), ...cells('etcd', w.name), ratios[i]?.raftplaneToEtcd?.toFixed(2) ?? '-']);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] as string).length)));
const line = (row: readonly string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
console.log(
  `kv benchmark: three-member clusters on 127.0.0.1, HTTP/JSON (etcd v3 gateway API), undici keep-alive pool, requests to the leader, ${valueBytes}-byte values, keys random among ${keyCount.toLocaleString('en-US')}, ${warmupSeconds} s warm-up + ${seconds} s per row, ${rounds > 1 ? `median of ${rounds} rounds, ` : ''}node ${process.version}`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table) console.log(line(row));
if (rounds > 1) {
  for (const name of targetNames) {
    for (const w of workloads) {
      const measured = (byRound[name] ?? []).map((r) => ('rows' in r ? r.rows.find((row) => row.workload === w.name)?.opsPerSecond : undefined));
      console.log(`${name}: ${w.name}: ops/s by round ${measured.map((v) => (v === undefined ? '-' : v.toLocaleString('en-US'))).join(', ')}`);
    }
  }
}
for (const name of targetNames) {
  const r = results[name];
  if (r !== undefined && 'skipped' in r) console.log(`${name}: skipped: ${r.skipped}`);
  else if (r !== undefined && !r.ok) console.log(`${name}: FAILED: ${r.error}`);
  else if (r !== undefined) console.log(`${name}: leader at ${r.leader}`);
}
console.log('etcd 3.4 baseline on this kind of machine (../shared/reference/etcd-baseline.md): put 1 client 1,222/s (p50 0.8 ms); put 64 clients 8,684/s (p99 15-19 ms); linearizable range 64 clients 11,194/s. Target: raftplane/etcd >= 1 on every row.');
const failed = Object.values(results).some((r) => 'ok' in r && !r.ok);
console.log(JSON.stringify({ bench: 'kv', node: process.version, valueBytes, keys: keyCount, warmupSeconds, seconds, clients: concurrency, rounds, targets: results, ratios, ...(rounds > 1 ? { byRound } : {}) }));
process.exitCode = failed ? 1 : 0;
