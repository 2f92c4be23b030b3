// The node lifecycle controller on a ManualClock, against in-memory informers and a fake client:
// exactly when a silent node is marked and tainted, when each pod is evicted, recovery on renewal,
// and that a new instance (a new leader) starts every grace period over instead of trusting
// timestamps a previous leader wrote.

import { conflictError, type KubeObject, type Lease, type Node, type Pod } from '@raftplane/api';
import { type Client, deepFreeze, EventRecorder, IndexedCache, type Informer, type InformerHandler, ManualClock, objectKey } from '@raftplane/client';
import { afterEach, describe, expect, test } from 'vitest';
import { NodeLifecycleController } from '../src/node-lifecycle-controller.js';
import { unreachableTaintKey } from '../src/node-lifecycle-timing.js';

/** An informer whose cache the test fills; every put is delivered to the handlers at once, as a watch would. */
class FakeInformer<T extends KubeObject> {
  readonly cache = new IndexedCache<T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private revision = 1;

  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  hasSynced(): boolean {
    return true;
  }

  async waitForSync(): Promise<void> {}

  put(obj: T): T {
    const copy = structuredClone(obj);
    copy.metadata.resourceVersion = String(++this.revision);
    const frozen = deepFreeze(copy);
    const old = this.cache.put(frozen);
    for (const h of this.handlers) {
      if (old === undefined) h.onAdd?.(frozen);
      else h.onUpdate?.(old, frozen);
    }
    return frozen;
  }

  remove(key: string): void {
    const old = this.cache.remove(key);
    if (old !== undefined) for (const h of this.handlers) h.onDelete?.(old);
  }
}

interface Write {
  readonly verb: 'update' | 'updateStatus' | 'delete';
  readonly resource: string;
  readonly name: string;
  readonly atMs: number;
}

function world(clock: ManualClock) {
  const nodes = new FakeInformer<Node>();
  const leases = new FakeInformer<Lease>();
  const pods = new FakeInformer<Pod>();
  const writes: Write[] = [];
  const cas = <T extends KubeObject>(informer: FakeInformer<T>, obj: T): T => {
    const stored = informer.cache.get(objectKey(obj));
    if (stored?.metadata.resourceVersion !== obj.metadata.resourceVersion) throw conflictError({ group: '', resource: 'nodes' }, obj.metadata.name ?? '');
    return informer.put(obj);
  };
  const client = {
    resource(resource: string) {
      return {
        async update(obj: Node) {
          writes.push({ verb: 'update', resource, name: obj.metadata.name ?? '', atMs: clock.now() });
          return cas(nodes, obj);
        },
        async updateStatus(obj: Node | Pod) {
          writes.push({ verb: 'updateStatus', resource, name: obj.metadata.name ?? '', atMs: clock.now() });
          return resource === 'pods' ? cas(pods, obj as Pod) : cas(nodes, obj as Node);
        },
        async delete(name: string, options: { preconditions?: { uid?: string } }) {
          writes.push({ verb: 'delete', resource, name, atMs: clock.now() });
          const pod = pods.cache.get(`ns/${name}`);
          expect(pod?.metadata.uid).toBe(options.preconditions?.uid);
          pods.remove(`ns/${name}`);
          return pod;
        },
      };
    },
  } as unknown as Client;
  return { nodes, leases, pods, writes, client };
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
});

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function startController(w: ReturnType<typeof world>, clock: ManualClock) {
  const stop = new AbortController();
  stops.push(stop);
  const events = new EventRecorder(undefined, { component: 'node-lifecycle-controller' });
  const controller = new NodeLifecycleController(w.client, w.nodes as unknown as Informer<Node>, w.leases as unknown as Informer<Lease>, w.pods as unknown as Informer<Pod>, {
    clock,
    wallClockMs: () => Date.parse('2026-11-26T12:00:00Z') + clock.now(),
    nodeMonitorGracePeriodMs: 3_000,
    defaultEvictionTimeoutMs: 5_000,
    events,
  });
  const done = controller.run(stop.signal);
  return { controller, events, stop, done };
}

const readyNode = (name: string): Node => ({ metadata: { name, uid: `uid-${name}` }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } });
const lease = (name: string, renewTime: string): Lease => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, renewTime } });
const podOn = (name: string, node: string, tolerationSeconds?: number | 'forever'): Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: {
    nodeName: node,
    containers: [{ name: 'c', image: 'nginx:1' }],
    ...(tolerationSeconds === undefined
      ? {}
      : { tolerations: [{ key: unreachableTaintKey, operator: 'Exists' as const, effect: 'NoExecute' as const, ...(tolerationSeconds === 'forever' ? {} : { tolerationSeconds }) }] }),
  },
  status: { phase: 'Running' },
});

function readyOf(node: Node | undefined) {
  return node?.status?.conditions?.find((c) => c.type === 'Ready');
}

describe('node lifecycle on a ManualClock', () => {
  test('silent for the grace period: Unknown and tainted; pods evicted as their tolerations run out; renewed: recovered', async () => {
    const clock = new ManualClock(0);
    const w = world(clock);
    const { controller, events } = startController(w, clock);
    w.nodes.put(readyNode('n1'));
    w.leases.put(lease('n1', 'r0'));
    w.pods.put(podOn('plain', 'n1'));
    w.pods.put(podOn('short', 'n1', 1));
    w.pods.put({ ...podOn('forever', 'n1', 'forever'), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    await settle();

    await clock.advanceAsync(2_000);
    w.leases.put(lease('n1', 'r1'));
    await settle();
    await clock.advanceAsync(2_999);
    await settle();
    expect(w.writes).toEqual([]);
    expect(readyOf(w.nodes.cache.get('n1'))?.status).toBe('True');

    await clock.advanceAsync(1);
    await settle();
    expect(w.writes.map((x) => `${x.verb} ${x.resource}/${x.name}@${x.atMs}`)).toEqual(['updateStatus nodes/n1@5000', 'update nodes/n1@5000', 'updateStatus pods/forever@5000']);
    expect(w.pods.cache.get('ns/forever')?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NodeUnreachable' });
    const marked = w.nodes.cache.get('n1');
    expect(readyOf(marked)).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(marked?.spec?.taints).toEqual([{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2026-11-26T12:00:05Z' }]);

    await clock.advanceAsync(999);
    await settle();
    expect(w.pods.cache.size()).toBe(3);
    await clock.advanceAsync(1);
    await settle();
    expect(w.pods.cache.keys().sort()).toEqual(['ns/forever', 'ns/plain']);
    await clock.advanceAsync(3_999);
    await settle();
    expect(w.pods.cache.size()).toBe(2);
    await clock.advanceAsync(1);
    await settle();
    expect(w.pods.cache.keys()).toEqual(['ns/forever']);
    expect(w.writes.filter((x) => x.verb === 'delete').map((x) => `${x.name}@${x.atMs}`)).toEqual(['short@6000', 'plain@10000']);
    expect(controller.evicted()).toBe(2);
    expect(events.recent().filter((e) => e.reason === 'TaintManagerEviction').map((e) => e.name)).toEqual(['short', 'plain']);

    // Much later the pod that tolerates forever is still there; then the Lease is renewed.
    await clock.advanceAsync(600_000);
    await settle();
    expect(w.pods.cache.keys()).toEqual(['ns/forever']);
    w.leases.put(lease('n1', 'r2'));
    await settle();
    const recovered = w.nodes.cache.get('n1');
    expect(recovered?.spec?.taints).toBeUndefined();
    expect(readyOf(recovered)).toMatchObject({ status: 'True', reason: 'NodeLeaseRenewed' });
    expect(events.recent().map((e) => e.reason)).toContain('NodeReady');
  });

  test('a node whose Lease keeps being renewed is never marked', async () => {
    const clock = new ManualClock(0);
    const w = world(clock);
    startController(w, clock);
    w.nodes.put(readyNode('n1'));
    for (let i = 0; i < 20; i++) {
      w.leases.put(lease('n1', `r${i}`));
      await settle();
      await clock.advanceAsync(1_000);
      await settle();
    }
    expect(w.writes).toEqual([]);
  });

  test('a new instance (new leader) starts the grace over: nothing is marked, evicted or recovered before it has seen for itself', async () => {
    const clock = new ManualClock(1_000_000);
    const w = world(clock);
    // Handlers first, then the objects: what an informer's first list delivers as adds.
    startController(w, clock);
    // What a previous leader left: n1 healthy by its last write, n2 marked and tainted long ago.
    w.nodes.put(readyNode('n1'));
    w.leases.put(lease('n1', '2020-01-01T00:00:00.000000Z'));
    const dead: Node = {
      metadata: { name: 'n2', uid: 'uid-n2' },
      spec: { taints: [{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2020-01-01T00:00:00Z' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }] },
    };
    w.nodes.put(dead);
    w.leases.put(lease('n2', '2020-01-01T00:00:00.000000Z'));
    w.pods.put(podOn('on-n1', 'n1'));
    w.pods.put(podOn('on-n2', 'n2'));
    await settle();
    await clock.advanceAsync(2_999);
    await settle();
    expect(w.writes).toEqual([]);
    expect(w.pods.cache.size()).toBe(2);

    // Grace over, on this instance's clock: n1 is marked now; n2 already was. Evictions start now.
    await clock.advanceAsync(1);
    await settle();
    expect(w.writes.map((x) => `${x.verb} ${x.name}`)).toEqual(['updateStatus n1', 'update n1']);
    await clock.advanceAsync(4_999);
    await settle();
    expect(w.pods.cache.size()).toBe(2);
    await clock.advanceAsync(1);
    await settle();
    expect(w.pods.cache.size()).toBe(0);
    expect(w.writes.filter((x) => x.verb === 'delete').map((x) => x.atMs - 1_000_000)).toEqual([8_000, 8_000]);
  });

  test('after a leader change a tainted node recovers only once this instance sees its Lease renewed', async () => {
    const clock = new ManualClock(0);
    const w = world(clock);
    startController(w, clock);
    w.nodes.put({
      metadata: { name: 'n2', uid: 'uid-n2' },
      spec: { taints: [{ key: unreachableTaintKey, effect: 'NoExecute', timeAdded: '2020-01-01T00:00:00Z' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }] },
    });
    w.leases.put(lease('n2', 'old'));
    await settle();
    await clock.advanceAsync(1_000);
    await settle();
    expect(w.writes).toEqual([]);
    w.leases.put(lease('n2', 'new'));
    await settle();
    expect(w.writes.map((x) => x.verb)).toEqual(['update', 'updateStatus']);
    expect(w.nodes.cache.get('n2')?.spec?.taints).toBeUndefined();
    expect(readyOf(w.nodes.cache.get('n2'))?.status).toBe('True');
  });

  test('options are validated', () => {
    const w = world(new ManualClock());
    const make = (o: object) => new NodeLifecycleController(w.client, w.nodes as unknown as Informer<Node>, w.leases as unknown as Informer<Lease>, w.pods as unknown as Informer<Pod>, o);
    expect(() => make({ nodeMonitorGracePeriodMs: 0 })).toThrow(/nodeMonitorGracePeriodMs/);
    expect(() => make({ defaultEvictionTimeoutMs: -1 })).toThrow(/defaultEvictionTimeoutMs/);
    expect(make({}).nodeMonitorGracePeriodMs).toBe(40_000);
    expect(make({}).defaultEvictionTimeoutMs).toBe(300_000);
  });
});
