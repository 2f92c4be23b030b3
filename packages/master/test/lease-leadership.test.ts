// Leader election through a coordination.k8s.io/v1 Lease (the standalone scheduler's and
// controller manager's), against the real apiserver in process: one holder at a time; a clean
// stop releases the Lease and the next replica takes over at once; a replica that dies without
// releasing is replaced once the Lease has gone unrenewed for its duration.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lease } from '@raftplane/api';
import { createClient, LeaseLeadership, type Client } from '@raftplane/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { Master, RaftLeadership, createKubeApi, createKvService, parseClusterConfig } from '../src/index.js';

let dir: string;
let master: Master;
let client: Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-lease-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'lease-test',
    secret: 'lease-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
  });
  const logger = pino({ level: 'silent' });
  master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  client = createClient((await createKubeApi({ master, service: createKvService(master), logger })).inProcess);
  for (let i = 0; i < 200; i++) {
    try {
      await client.resource('namespaces').get('kube-system');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

afterAll(async () => {
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

function replica(identity: string, name = 'test-scheduler') {
  const leadership = new LeaseLeadership({ client, namespace: 'kube-system', name, identity, leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 200 });
  const stop = new AbortController();
  const terms: { start: number; end: number | null }[] = [];
  const done = leadership.run((signal) => {
    const term = { start: Date.now(), end: null as number | null };
    terms.push(term);
    signal.addEventListener('abort', () => (term.end = Date.now()), { once: true });
  }, stop.signal);
  return { identity, stop, terms, done, leading: () => terms.length > 0 && terms[terms.length - 1]!.end === null };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('LeaseLeadership', () => {
  test('one holder at a time; a clean stop hands over at once; a dead holder is replaced after the lease duration', async () => {
    const a = replica('a');
    await until(() => a.leading(), 5_000);
    const b = replica('b');
    const c = replica('c');
    await new Promise((r) => setTimeout(r, 1_000));
    expect([a, b, c].filter((r) => r.leading()).map((r) => r.identity)).toEqual(['a']);

    // A clean stop releases the Lease: the next one takes it within about one retry period.
    a.stop.abort();
    await a.done;
    const handover = await until(() => b.leading() || c.leading(), 3_000);
    expect(handover).toBeLessThan(1_000);
    expect([b, c].filter((r) => r.leading())).toHaveLength(1);
    const lease = (await client.resource('leases', 'kube-system').get('test-scheduler')) as Lease;
    const holder = [b, c].find((r) => r.leading())!;
    expect(lease.spec?.holderIdentity).toBe(holder.identity);
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);

    const other = holder === b ? c : b;
    holder.stop.abort();
    await holder.done;
    await until(() => other.leading(), 3_000);
    other.stop.abort();
    await other.done;
    const released = (await client.resource('leases', 'kube-system').get('test-scheduler')) as Lease;
    expect(released.spec?.holderIdentity).toBe('');
    // Never two at once: the terms of all replicas do not overlap.
    const terms = [a, b, c].flatMap((r) => r.terms).sort((x, y) => x.start - y.start);
    for (let i = 1; i < terms.length; i++) expect(terms[i]!.start).toBeGreaterThanOrEqual(terms[i - 1]!.end ?? Infinity);
  }, 30_000);

  test('a holder that died without releasing is replaced only after its lease has gone unrenewed for its duration', async () => {
    const wall = new Date().toISOString().replace('Z', '000Z');
    await client.resource('leases', 'kube-system').create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'dead-holder' },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 2, acquireTime: wall, renewTime: wall, leaseTransitions: 3 },
    });
    const d = replica('d', 'dead-holder');
    const waited = await until(() => d.leading(), 6_000);
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(3_500);
    const lease = (await client.resource('leases', 'kube-system').get('dead-holder')) as Lease;
    expect(lease.spec).toMatchObject({ holderIdentity: 'd', leaseTransitions: 4 });
    d.stop.abort();
    await d.done;
  }, 30_000);
});

describe('RaftLeadership', () => {
  test('a component runs while this master leads, and its signal aborts when the component is stopped', async () => {
    const stop = new AbortController();
    const signals: AbortSignal[] = [];
    const done = new RaftLeadership(master).run((signal) => signals.push(signal), stop.signal);
    expect(master.isLeading()).toBe(true);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    stop.abort();
    await done;
    expect(signals[0]!.aborted).toBe(true);
  });
});
