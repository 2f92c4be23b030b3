// The client inside a master: the same typed calls and informers as over HTTP, through the
// apiserver's handlers directly (no socket), with the same validation and errors.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasStatusReason, type ConfigMap } from '@raftplane/api';
import { createClient, createInformer, type Client } from '@raftplane/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { Master, createKubeApi, createKvService, parseClusterConfig } from '../src/index.js';

let dir: string;
let master: Master;
let client: Client;
const stop = new AbortController();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-in-process-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'in-process-test',
    secret: 'in-process-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
  });
  const logger = pino({ level: 'silent' });
  master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const { inProcess } = await createKubeApi({ master, service: createKvService(master), logger });
  client = createClient(inProcess);
  for (let i = 0; i < 300 && !master.isLeading(); i++) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 100; i++) {
    try {
      await client.resource('namespaces').get('default');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

afterAll(async () => {
  stop.abort();
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the in-process client', () => {
  test('typed calls: create, get, list, patch, update with a stale resourceVersion (409), delete (404 after)', async () => {
    const cms = client.resource('configmaps', 'default');
    const created = await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { k: 'v' } }, data: { x: '1' } });
    expect(created.metadata.uid).toEqual(expect.any(String));
    expect((await cms.get('a')).data).toEqual({ x: '1' });
    expect((await cms.list({ labelSelector: 'k=v' })).items.map((c) => c.metadata.name)).toEqual(['a']);
    const patched = await cms.patch('a', 'merge', { data: { x: '2' } });
    expect(patched.data).toEqual({ x: '2' });
    await expect(cms.update({ ...created, data: { x: '3' } })).rejects.toSatisfy((e) => hasStatusReason(e, 'Conflict'));
    await expect(cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } })).rejects.toSatisfy((e) => hasStatusReason(e, 'Invalid'));
    await cms.delete('a');
    await expect(cms.get('a')).rejects.toSatisfy((e) => hasStatusReason(e, 'NotFound'));
  });

  test('binding and scale through the typed client', async () => {
    const pods = client.resource('pods', 'default');
    const pod = await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.bind(pod, 'node-1');
    expect((await pods.get('p')).spec?.nodeName).toBe('node-1');
    const deployments = client.resource('deployments', 'default');
    await deployments.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const scale = await deployments.getScale('d');
    await deployments.updateScale('d', { ...scale, spec: { replicas: 4 } });
    expect((await deployments.get('d')).spec?.replicas).toBe(4);
  });

  test('an informer lists, then watches in process: every change arrives, in order', async () => {
    const informer = createInformer(client, 'configmaps', { namespace: 'default' });
    const seen: string[] = [];
    informer.addHandler({
      onAdd: (cm: ConfigMap) => seen.push(`add ${cm.metadata.name}`),
      onUpdate: (_old: ConfigMap, cm: ConfigMap) => seen.push(`update ${cm.metadata.name} ${cm.data?.['n']}`),
      onDelete: (cm) => seen.push(`delete ${'lastKnown' in cm ? cm.lastKnown.metadata.name : cm.metadata.name}`),
    });
    void informer.run(stop.signal);
    await informer.waitForSync(stop.signal);
    const cms = client.resource('configmaps', 'default');
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' }, data: { n: '1' } });
    await cms.patch('w', 'merge', { data: { n: '2' } });
    await cms.delete('w');
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['add w', 'update w 2', 'delete w']);
    expect(informer.stats()).toMatchObject({ relists: 0, lists: 1 });
  });
});
