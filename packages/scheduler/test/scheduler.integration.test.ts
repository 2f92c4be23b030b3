// The Scheduler against one in-process master (real apiserver semantics: validation, binding
// once, resourceVersion CAS): a burst of pods lands within every node's room, a pod that fits
// nowhere gets Kubernetes' FailedScheduling event and is bound once a node that fits appears,
// and aborting the signal stops all scheduling.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '@raftplane/api';
import { ManualClock, createClient, type Client } from '@raftplane/client';
import { Master, createKubeApi, createKvService, parseClusterConfig } from '@raftplane/master';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { Scheduler, milliCpuOf } from '../src/index.js';
import { seededRandom } from './fixtures.js';

let dir: string;
let master: Master;
let client: Client;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-scheduler-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'scheduler-test',
    secret: 'scheduler-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
  });
  const logger = pino({ level: 'silent' });
  master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const { inProcess } = await createKubeApi({ master, service: createKvService(master), logger });
  client = createClient(inProcess);
  await until('the default namespace', async () => (await client.resource('namespaces').get('default').catch(() => undefined)) ?? undefined);
});

afterAll(async () => {
  await master?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function createNode(name: string, cpu: string): Promise<void> {
  const status: Node['status'] = {
    capacity: { cpu, memory: '8Gi', pods: '110' },
    allocatable: { cpu, memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True' }],
  };
  await client.resource('nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status });
  // Status written through its subresource too, in case the create ignored it (as Kubernetes may).
  await client.resource('nodes').patch(name, 'merge', { status }, { subresource: 'status' });
}

async function createPod(name: string, cpu: string): Promise<void> {
  await client.resource('pods', 'default').create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'burst' } },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu, memory: '64Mi' } } }] },
  });
}

async function pods(): Promise<Pod[]> {
  return (await client.resource('pods', 'default').list()).items;
}

describe('Scheduler with an in-process master', () => {
  test('binds a burst within every node, reports and later binds a pod that fits nowhere, stops on abort', async () => {
    for (const name of ['node-1', 'node-2', 'node-3']) await createNode(name, '4');
    const burst = Array.from({ length: 30 }, (_, i) => `web-${String(i).padStart(2, '0')}`);
    await Promise.all(burst.map((name) => createPod(name, '350m')));
    await createPod('big', '6');

    const stop = new AbortController();
    const scheduler = new Scheduler({ client, schedulerName: 'default-scheduler', random: seededRandom(42), logger: pino({ level: 'silent' }) });
    const running = scheduler.run(stop.signal);
    try {
      const bound = await until('30 pods bound', async () => {
        const all = await pods();
        const done = all.filter((p) => burst.includes(p.metadata.name!) && p.spec?.nodeName);
        return done.length === 30 ? all : undefined;
      });
      const cpuByNode = new Map<string, number>();
      for (const pod of bound) {
        const node = pod.spec?.nodeName;
        if (!node) continue;
        cpuByNode.set(node, (cpuByNode.get(node) ?? 0) + milliCpuOf(pod.spec!.containers[0]!.resources!.requests));
      }
      for (const [node, milliCpu] of cpuByNode) expect(milliCpu, node).toBeLessThanOrEqual(4000);
      expect(cpuByNode.size).toBe(3);
      expect(bound.find((p) => p.metadata.name === 'big')?.spec?.nodeName).toBeUndefined();

      // Each pod bound once: one Scheduled event per pod, no binding refused.
      const scheduled = await until('30 Scheduled events', async () => {
        const events = (await client.resource('events', 'default').list({ fieldSelector: 'reason=Scheduled' })).items;
        return events.length >= 30 ? events : undefined;
      });
      expect(new Set(scheduled.map((e) => e.involvedObject.name)).size).toBe(30);
      expect(scheduled).toHaveLength(30);
      const sample = scheduled.find((e) => e.involvedObject.name === 'web-00')!;
      const web00 = bound.find((p) => p.metadata.name === 'web-00')!;
      expect(sample).toMatchObject({
        type: 'Normal',
        message: `Successfully assigned default/web-00 to ${web00.spec!.nodeName}`,
        source: { component: 'default-scheduler' },
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-00', uid: web00.metadata.uid },
        count: 1,
      });
      expect(sample.metadata.name).toMatch(/^web-00\.[0-9a-f]{16}$/);
      expect(sample.firstTimestamp).toEqual(expect.any(String));
      expect(sample.lastTimestamp).toBe(sample.firstTimestamp);
      expect(scheduler.stats()).toMatchObject({ bound: 30, bindConflicts: 0, bindErrors: 0 });

      const failed = await until('a FailedScheduling event for big', async () => {
        const events = (await client.resource('events', 'default').list({ fieldSelector: 'involvedObject.name=big,reason=FailedScheduling' })).items;
        return events[0];
      });
      expect(failed).toMatchObject({ type: 'Warning', message: '0/3 nodes are available: 3 Insufficient cpu.', source: { component: 'default-scheduler' } });

      await createNode('node-4', '8');
      const big = await until('big bound', async () => {
        const pod = await client.resource('pods', 'default').get('big');
        return pod.spec?.nodeName ? pod : undefined;
      });
      expect(big.spec?.nodeName).toBe('node-4');
    } finally {
      stop.abort();
      await running;
    }

    // Stopped: a new pod stays pending.
    await createPod('after-stop', '100m');
    await sleep(500);
    expect((await client.resource('pods', 'default').get('after-stop')).spec?.nodeName).toBeUndefined();
  });

  test('a binding refused with 409 (bound behind its back) forgets the assumed pod; nothing is retried', async () => {
    await createPod('contested', '100m');
    let interfered = false;
    const racing: Client = {
      transport: client.transport,
      resource: (resource, namespace) => client.resource(resource, namespace),
      resourceFor: (info, namespace) => client.resourceFor(info, namespace),
      async bind(pod, nodeName, options) {
        if (pod.metadata.name === 'contested' && !interfered) {
          interfered = true;
          await client.bind(pod, 'node-2');
        }
        return client.bind(pod, nodeName, options);
      },
    };
    const stop = new AbortController();
    const scheduler = new Scheduler({ client: racing, random: seededRandom(3) });
    const running = scheduler.run(stop.signal);
    try {
      await until('the conflict', async () => (scheduler.stats().bindConflicts === 1 ? true : undefined));
      expect((await client.resource('pods', 'default').get('contested')).spec?.nodeName).toBe('node-2');
      await until('no assumed pods', async () => (scheduler.stats().assumed === 0 ? true : undefined));
      expect(scheduler.stats()).toMatchObject({ bindErrors: 0, assumed: 0 });
    } finally {
      stop.abort();
      await running;
    }
  });

  test('aborting settles run promptly and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const scheduler = new Scheduler({ client, random: seededRandom(5), clock });
    const running = scheduler.run(stop.signal);
    await createPod('late-pod', '100m');
    await until('late-pod bound', async () => ((await client.resource('pods', 'default').get('late-pod')).spec?.nodeName ? true : undefined));
    const startMs = Date.now();
    stop.abort();
    await running;
    expect(Date.now() - startMs).toBeLessThan(500);
    expect(clock.pendingCount()).toBe(0);
    await expect(scheduler.run(new AbortController().signal)).rejects.toThrow(/SCHEDULER_ALREADY_RUNNING/);
  });
});
