// A single in-process master for controller tests, a test-only agent that marks pods Running and
// Ready (no containers, no nodes), and helpers to wait for conditions. Each test stops what it starts.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTime, type Pod } from '@raftplane/api';
import { createClient, createInformer, type Client } from '@raftplane/client';
import { Master, createKubeApi, createKvService, parseClusterConfig } from '@raftplane/master';
import pino from 'pino';
import { freePorts } from '../../../../scripts/lib/temp-cluster.js';

export interface TestCluster {
  readonly client: Client;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-controllers-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'controllers-test',
    secret: 'controllers-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
  });
  const logger = pino({ level: 'silent' });
  const master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const { inProcess } = await createKubeApi({ master, service: createKvService(master), logger });
  const client = createClient(inProcess);
  for (let i = 0; i < 300 && !master.isLeading(); i++) await delay(50);
  for (let i = 0; i < 100; i++) {
    try {
      // The leader creates the system namespaces in order; kube-node-lease is the last.
      await client.resource('namespaces').get('kube-node-lease');
      break;
    } catch {
      await delay(50);
    }
  }
  return {
    client,
    async stop() {
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function createNamespace(client: Client, name: string): Promise<void> {
  await client.resource('namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Polls `check` until it returns true, or fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await delay(20);
  }
}

/** The test-only agent: every pending pod in `namespace` becomes Running and Ready after `delayMs`. */
export function startFakeAgent(client: Client, namespace: string, signal: AbortSignal, delayMs = 30): { done: Promise<void>; readyCount: () => number } {
  const informer = createInformer(client, 'pods', { namespace });
  const timers = new Set<NodeJS.Timeout>();
  let readied = 0;
  const markReady = async (pod: Pod): Promise<void> => {
    const fresh = informer.cache.get(`${namespace}/${pod.metadata.name}`);
    if (fresh === undefined || fresh.metadata.deletionTimestamp !== undefined || fresh.status?.phase === 'Running') return;
    const copy = structuredClone(fresh);
    const now = formatTime(Date.now());
    copy.status = { ...copy.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
    try {
      await client.resource('pods', namespace).updateStatus(copy, { signal });
      readied++;
    } catch {
      // Gone or changed meanwhile: the next event brings it back if it still matters.
    }
  };
  const schedule = (pod: Pod): void => {
    if (pod.status?.phase === 'Running' || signal.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void markReady(pod);
    }, delayMs);
    timers.add(timer);
  };
  informer.addHandler({ onAdd: schedule, onUpdate: (_old, pod) => schedule(pod) });
  signal.addEventListener('abort', () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  }, { once: true });
  return { done: informer.run(signal).catch(() => undefined), readyCount: () => readied };
}

export const podTemplate = (labels: Record<string, string>, image = 'nginx:1') => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image }] },
});
