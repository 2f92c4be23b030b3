// @kubernetes/client-node, the JavaScript Kubernetes client, against a three-master cluster through a
// follower over https with a bearer token: CoreV1Api creates, lists, patches, replaces and deletes
// pods, and its Watch sees exactly those changes, in order, with the resourceVersions the writes
// returned; a second watch from the same resourceVersion replays the same events (DESIGN rule 6).

import { CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminToken, tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitLeader } from '../support/cluster-checks.js';

interface SeenEvent {
  readonly type: string;
  readonly name: string;
  readonly resourceVersion: string;
  readonly labels: Record<string, string>;
}

interface RunningWatch {
  readonly events: SeenEvent[];
  /** Settles when the client calls `done`: with the error it was given, or null. */
  readonly done: Promise<Error | null>;
  readonly controller: AbortController;
}

const namespace = 'client-node';

let cluster: TempCluster;
let kc: KubeConfig;
let core: CoreV1Api;

async function startWatch(resourceVersion: string): Promise<RunningWatch> {
  const events: SeenEvent[] = [];
  let settle: (error: Error | null) => void = () => undefined;
  const done = new Promise<Error | null>((resolve) => (settle = resolve));
  const controller = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { resourceVersion },
    (type: string, object: V1Pod) => {
      events.push({
        type,
        name: object.metadata?.name ?? '',
        resourceVersion: object.metadata?.resourceVersion ?? '',
        labels: { ...(object.metadata?.labels ?? {}) },
      });
    },
    (error: unknown) => settle(error === null || error === undefined ? null : (error as Error)),
  );
  return { events, done, controller };
}

async function waitForEvents(watch: RunningWatch, count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (watch.events.length < count) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms with ${watch.events.length} of ${count} watch events: ${JSON.stringify(watch.events)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Aborts the watch and waits for the client to report it closed, so that no socket is left open. */
async function stopWatch(watch: RunningWatch): Promise<Error | null> {
  watch.controller.abort();
  return watch.done;
}

function pod(name: string, labels: Record<string, string>): V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] } };
}

beforeAll(async () => {
  cluster = await tempCluster({ masters: 3 });
  await cluster.startAll();
  const { control } = cluster;
  const leader = await awaitLeader(control, 20_000);
  const follower = control.config.masters.find((m) => m.id !== leader);
  if (follower === undefined) throw new Error('no follower');
  kc = new KubeConfig();
  kc.loadFromOptions({
    // The masters' certificates are self-signed (loopback only).
    clusters: [{ name: 'raftplane', server: `https://${follower.api.host}:${follower.api.port}`, skipTLSVerify: true }],
    users: [{ name: 'admin', token: adminToken }],
    contexts: [{ name: 'test', cluster: 'raftplane', user: 'admin' }],
    currentContext: 'test',
  });
  core = kc.makeApiClient(CoreV1Api);
  // The leader creates the system namespaces shortly after its election.
  const until = Date.now() + 20_000;
  for (;;) {
    const found = await core.readNamespace({ name: 'default' }).then(
      () => true,
      () => false,
    );
    if (found) break;
    if (Date.now() > until) throw new Error(`namespace default did not appear within 20 s (leader ${leader}, follower ${follower.id})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const created = await core.createNamespace({ body: { metadata: { name: namespace } } });
  expect(created.metadata?.name).toBe(namespace);
}, 120_000);

afterAll(async () => {
  await cluster?.cleanup();
}, 60_000);

describe('@kubernetes/client-node through a follower', () => {
  test('CoreV1Api creates, lists, patches, replaces and deletes pods; Watch sees each change once, in order', async () => {
    const empty = await core.listNamespacedPod({ namespace });
    expect(empty.items).toEqual([]);
    const startRevision = empty.metadata?.resourceVersion ?? '';
    expect(startRevision).toMatch(/^[1-9]\d*$/);

    const watch = await startWatch(startRevision);
    let replay: RunningWatch | null = null;
    let ended: Error | null;
    try {
      const a = await core.createNamespacedPod({ namespace, body: pod('a', { app: 'demo' }) });
      const b = await core.createNamespacedPod({ namespace, body: pod('b', { app: 'demo' }) });
      expect(a.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.status?.phase).toBe('Pending');
      const createdA = a.metadata?.resourceVersion ?? '';
      const createdB = b.metadata?.resourceVersion ?? '';
      expect(Number(createdB)).toBeGreaterThan(Number(createdA));
      expect(Number(createdA)).toBeGreaterThan(Number(startRevision));

      const list = await core.listNamespacedPod({ namespace });
      expect(list.items.map((p) => [p.metadata?.name, p.metadata?.resourceVersion])).toEqual([
        ['a', createdA],
        ['b', createdB],
      ]);
      expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(createdB));
      const selected = await core.listNamespacedPod({ namespace, labelSelector: 'app=demo', fieldSelector: 'metadata.name=b' });
      expect(selected.items.map((p) => p.metadata?.name)).toEqual(['b']);

      // Label a with a JSON merge patch, b with a replace (compare-and-swap on resourceVersion).
      const patchedA = await core.patchNamespacedPod(
        { namespace, name: 'a', body: { metadata: { labels: { step: 'patched' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      expect(patchedA.metadata?.labels).toEqual({ app: 'demo', step: 'patched' });
      const current = await core.readNamespacedPod({ namespace, name: 'b' });
      expect(current.metadata?.resourceVersion).toBe(createdB);
      const replacedB = await core.replaceNamespacedPod({
        namespace,
        name: 'b',
        body: { ...current, metadata: { ...current.metadata, labels: { app: 'demo', step: 'replaced' } } },
      });
      expect(replacedB.metadata?.labels).toEqual({ app: 'demo', step: 'replaced' });
      // A replace from the stale read is a Conflict and changes nothing.
      await expect(
        core.replaceNamespacedPod({ namespace, name: 'b', body: { ...current, metadata: { ...current.metadata, labels: { step: 'stale' } } } }),
      ).rejects.toMatchObject({ code: 409 });

      await core.deleteNamespacedPod({ namespace, name: 'a' });
      await core.deleteNamespacedPod({ namespace, name: 'b' });
      // Unbound pods go at once: nothing is left to list.
      expect((await core.listNamespacedPod({ namespace })).items).toEqual([]);

      await waitForEvents(watch, 6, 10_000);
      // Nothing more arrives (a stale replace must not show up).
      await new Promise((r) => setTimeout(r, 300));
      const patchedRv = patchedA.metadata?.resourceVersion ?? '';
      const replacedRv = replacedB.metadata?.resourceVersion ?? '';
      expect(watch.events.map(({ type, name, labels }) => ({ type, name, labels }))).toEqual([
        { type: 'ADDED', name: 'a', labels: { app: 'demo' } },
        { type: 'ADDED', name: 'b', labels: { app: 'demo' } },
        { type: 'MODIFIED', name: 'a', labels: { app: 'demo', step: 'patched' } },
        { type: 'MODIFIED', name: 'b', labels: { app: 'demo', step: 'replaced' } },
        { type: 'DELETED', name: 'a', labels: { app: 'demo', step: 'patched' } },
        { type: 'DELETED', name: 'b', labels: { app: 'demo', step: 'replaced' } },
      ]);
      const revisions = watch.events.map((e) => e.resourceVersion);
      expect(revisions.slice(0, 4)).toEqual([createdA, createdB, patchedRv, replacedRv]);
      for (let i = 1; i < revisions.length; i++) expect(Number(revisions[i]), `event ${i} after event ${i - 1}`).toBeGreaterThan(Number(revisions[i - 1]));

      // A second watch from the same resourceVersion replays the same history, event for event.
      replay = await startWatch(startRevision);
      await waitForEvents(replay, 6, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(replay.events).toEqual(watch.events);
    } finally {
      ended = await stopWatch(watch);
      if (replay !== null) await stopWatch(replay);
    }
    // The client reports the abort it was asked for (a close by the server would come as null).
    expect(ended === null || ended.name === 'AbortError', `watch ended with ${String(ended)}`).toBe(true);
  });
});
