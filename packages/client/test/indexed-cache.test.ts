// The informer's cache indexes: by namespace, by label (any selector), by spec.nodeName and by
// custom indexers, kept right as objects change and go; and the same lookups on a live informer.

import { parseLabelSelector, resourceByName, type Pod } from '@raftplane/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientErrorCode, deepFreeze, IndexedCache, isClientError, objectKey, splitObjectKey } from '../src/index.js';
import { until } from './support/clocks.js';
import { pod } from './support/objects.js';
import { startHarness, type Harness } from './support/harness.js';
import { startInformer, type RunningInformer } from './support/informers.js';

const byImage = (p: Pod): string[] => (p.spec?.containers ?? []).map((c) => c.image ?? '');

function names(objects: readonly Pod[]): string[] {
  return objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
}

function filled(): IndexedCache<Pod> {
  const cache = new IndexedCache<Pod>({ image: byImage });
  for (const p of [
    pod('web-1', { labels: { app: 'web', tier: 'front' }, nodeName: 'n1' }),
    pod('web-2', { labels: { app: 'web', tier: 'front' }, nodeName: 'n2' }),
    pod('db-1', { labels: { app: 'db', tier: 'back' }, nodeName: 'n1', image: 'postgres:16' }),
    pod('job-1', { namespace: 'batch', labels: { app: 'web' } }),
    pod('bare', { namespace: 'batch' }),
  ]) {
    cache.put(deepFreeze(p));
  }
  return cache;
}

describe('keys', () => {
  it('are namespace/name, or name for cluster-scoped objects, and split back', () => {
    expect(objectKey({ metadata: { name: 'web', namespace: 'default' } })).toBe('default/web');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitObjectKey('default/web')).toEqual({ namespace: 'default', name: 'web' });
    expect(splitObjectKey('node-1')).toEqual({ namespace: undefined, name: 'node-1' });
  });
});

describe('indexes', () => {
  it('by namespace and by node name', () => {
    const cache = filled();
    expect(names(cache.byNamespace('batch'))).toEqual(['batch/bare', 'batch/job-1']);
    expect(names(cache.byNodeName('n1'))).toEqual(['default/db-1', 'default/web-1']);
    expect(cache.byNodeName('n9')).toEqual([]);
    expect(cache.getByName('batch', 'bare')?.metadata.name).toBe('bare');
  });

  it('by labels, with every selector form, optionally in one namespace', () => {
    const cache = filled();
    expect(names(cache.byLabels('app=web'))).toEqual(['batch/job-1', 'default/web-1', 'default/web-2']);
    expect(names(cache.byLabels('app=web', 'default'))).toEqual(['default/web-1', 'default/web-2']);
    expect(names(cache.byLabels('app in (web,db),tier!=front'))).toEqual(['batch/job-1', 'default/db-1']);
    expect(names(cache.byLabels('tier'))).toEqual(['default/db-1', 'default/web-1', 'default/web-2']);
    expect(names(cache.byLabels('!tier'))).toEqual(['batch/bare', 'batch/job-1']);
    expect(names(cache.byLabels('app notin (web)'))).toEqual(['batch/bare', 'default/db-1']);
    expect(names(cache.byLabels(''))).toHaveLength(5);
    expect(names(cache.byLabels(parseLabelSelector('app=web,tier=front')))).toEqual(['default/web-1', 'default/web-2']);
    expect(cache.byLabels('app=none')).toEqual([]);
  });

  it('by a custom indexer', () => {
    const cache = filled();
    expect(names(cache.byIndex('image', 'postgres:16'))).toEqual(['default/db-1']);
    expect(cache.byIndex('image', 'nginx:1.27')).toHaveLength(4);
  });

  it('follow an object that changes, and forget one that goes', () => {
    const cache = filled();
    const moved = pod('web-1', { labels: { app: 'api' }, nodeName: 'n3', image: 'api:2' });
    const old = cache.put(deepFreeze(moved));
    expect(old?.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(names(cache.byLabels('app=web'))).toEqual(['batch/job-1', 'default/web-2']);
    expect(names(cache.byLabels('app=api'))).toEqual(['default/web-1']);
    expect(names(cache.byNodeName('n1'))).toEqual(['default/db-1']);
    expect(names(cache.byIndex('image', 'api:2'))).toEqual(['default/web-1']);
    cache.remove('default/web-1');
    expect(cache.byLabels('app=api')).toEqual([]);
    expect(cache.byNodeName('n3')).toEqual([]);
    expect(cache.size()).toBe(4);
  });

  it('rejects an unknown index name and a custom indexer named like a built-in', () => {
    const cache = filled();
    const optionOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (error) {
        if (isClientError(error, ClientErrorCode.InvalidOption)) return error.details.option;
        throw error;
      }
      return undefined;
    };
    expect(optionOf(() => cache.byIndex('nope', 'x'))).toBe('indexName');
    expect(optionOf(() => new IndexedCache<Pod>({ namespace: () => [] }))).toBe('indexers.namespace');
  });
});

describe('indexes on a live informer', () => {
  const pods = resourceByName('', 'pods')!;
  let harness: Harness | undefined;
  let running: RunningInformer<Pod> | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await harness?.stop();
    harness = undefined;
  });

  it('answer node and label lookups as pods are bound and relabelled', async () => {
    harness = await startHarness(1);
    const { store } = harness.cluster;
    store.create(pods, pod('web-1', { labels: { app: 'web' } }));
    store.create(pods, pod('web-2', { labels: { app: 'web' } }));
    running = startInformer(harness, 'pods', { indexers: { image: byImage } });
    await running.informer.waitForSync(AbortSignal.timeout(10_000));
    await until(() => harness!.cluster.masters[0]!.openWatchCount() === 1, 'the watch opened');
    const { cache } = running.informer;
    expect(cache.byNodeName('n1')).toEqual([]);
    await harness.client.bind({ metadata: { name: 'web-1', namespace: 'default' } }, 'n1');
    store.modify(pods, 'default', 'web-2', (p) => (p.metadata.labels = { app: 'api' }));
    await until(() => running!.log.length === 4, 'the bind and the relabel');
    expect(names(cache.byNodeName('n1'))).toEqual(['default/web-1']);
    expect(names(cache.byLabels('app=web'))).toEqual(['default/web-1']);
    expect(names(cache.byLabels('app=api'))).toEqual(['default/web-2']);
    expect(cache.byIndex('image', 'nginx:1.27')).toHaveLength(2);
  });
});
