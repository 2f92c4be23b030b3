// The node lifecycle controller (kubernetes pkg/controller/nodelifecycle, with its NoExecute taint
// manager): a node whose Lease goes unrenewed for the grace period becomes Ready=Unknown with the
// unreachable taint, its pods are evicted when their toleration runs out, and it recovers when the
// Lease is renewed again. Time is this instance's own clock, so a new leader starts grace over.

import assert from 'node:assert/strict';
import { formatTime, hasStatusReason, type KubeObject, type Lease, type Node, type Pod } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, isUnchanged, objectKey } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import { invalidOption } from './errors.js';
import { isPodReady } from './pods.js';
import {
  defaultEvictionTimeoutMs,
  defaultNodeMonitorGracePeriodMs,
  graceLeftMs,
  hasUnreachableTaint,
  isEvictable,
  isMarkedUnknown,
  nodeLeaseNamespace,
  nodeStatusRecoveredMessage,
  nodeStatusRecoveredReason,
  nodeStatusUnknownMessage,
  nodeStatusUnknownReason,
  observeLease,
  planEvictions,
  withPodNotReady,
  withReadyCondition,
  withUnreachableTaint,
  type NodeHealth,
  type PlannedEviction,
} from './node-lifecycle-timing.js';

export interface NodeLifecycleControllerOptions extends ControllerOptions {
  /** A node whose Lease is not renewed for this long is Unknown. Default 40 s (DESIGN: 3 s in tests). */
  readonly nodeMonitorGracePeriodMs?: number;
  /** How long a pod without a toleration of the unreachable taint stays on such a node. Default 300 s. */
  readonly defaultEvictionTimeoutMs?: number;
  /** Where node Leases live. Default `kube-node-lease`. */
  readonly leaseNamespace?: string;
  readonly events?: EventRecorder;
}

function nonNegativeMs(value: number | undefined, fallback: number, option: string, minMs: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < minMs) throw invalidOption(option, `${resolved} must be a number >= ${minMs}`);
  return resolved;
}

export class NodeLifecycleController extends Controller {
  readonly events: EventRecorder;
  readonly nodeMonitorGracePeriodMs: number;
  readonly defaultEvictionTimeoutMs: number;
  private readonly leaseNamespace: string;
  /** Per node name, what this instance saw of its Lease. Entries go with their node. */
  private readonly health = new Map<string, NodeHealth>();
  /** Per silent node, its pods' evictions by uid; rebuilt from the node's pods on every sync, so bounded by them. */
  private readonly evictions = new Map<string, Map<string, PlannedEviction>>();
  private evictionCount = 0;

  constructor(
    private readonly client: Client,
    private readonly nodes: Informer<Node>,
    private readonly leases: Informer<Lease>,
    private readonly pods: Informer<Pod>,
    options: NodeLifecycleControllerOptions = {},
  ) {
    super('node-lifecycle-controller', options);
    this.nodeMonitorGracePeriodMs = nonNegativeMs(options.nodeMonitorGracePeriodMs, defaultNodeMonitorGracePeriodMs, 'nodeMonitorGracePeriodMs', 1);
    this.defaultEvictionTimeoutMs = nonNegativeMs(options.defaultEvictionTimeoutMs, defaultEvictionTimeoutMs, 'defaultEvictionTimeoutMs', 0);
    this.leaseNamespace = options.leaseNamespace ?? nodeLeaseNamespace;
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    nodes.addHandler({ onAdd: (node) => this.enqueue(node), onUpdate: (_old, node) => this.enqueue(node), onDelete: (node) => this.enqueue(node) });
    leases.addHandler({ onAdd: (lease) => this.onLease(lease), onUpdate: (_old, lease) => this.onLease(lease), onDelete: (lease) => this.onLease(lease) });
    pods.addHandler({ onAdd: (pod) => this.onPod(pod), onUpdate: (old, pod) => (isUnchanged(old, pod) ? undefined : this.onPod(pod)) });
  }

  /** Pods this instance has deleted for their node's unreachable taint. */
  evicted(): number {
    return this.evictionCount;
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.nodes, this.leases, this.pods] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  // ---- handlers: a Lease or a pod to its node's key ----

  private onLease(value: Lease | DeletedFinalStateUnknown<Lease>): void {
    const lease = deletedObject(value);
    if (lease.metadata.namespace === this.leaseNamespace && lease.metadata.name !== undefined) this.enqueueKey(lease.metadata.name);
  }

  /** A pod arriving on an unreachable node gets its eviction planned; pods elsewhere are no concern. */
  private onPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (nodeName === undefined || nodeName === '') return;
    const node = this.nodes.cache.get(nodeName);
    if (node !== undefined && hasUnreachableTaint(node)) this.enqueueKey(nodeName);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const node = this.nodes.cache.get(key);
    if (node === undefined) {
      this.health.delete(key);
      this.evictions.delete(key);
      return;
    }
    const nowMs = this.clock.now();
    const lease = this.leases.cache.getByName(this.leaseNamespace, key);
    const health = observeLease(this.health.get(key), lease?.spec?.renewTime ?? undefined, nowMs);
    this.health.set(key, health);
    const leftMs = graceLeftMs(health, nowMs, this.nodeMonitorGracePeriodMs);
    if (leftMs > 0) {
      this.evictions.delete(key);
      // Undo only on evidence seen by this instance: right after a leader change a node stays as it was.
      if (health.renewalSeen) await this.markReachable(node, signal);
      this.enqueueAfter(key, leftMs);
      return;
    }
    const tainted = await this.markUnreachable(node, signal);
    await this.markPodsNotReady(tainted, signal);
    await this.evictPods(tainted, nowMs, signal);
  }

  /** Ready=False on the node's ready pods (MarkPodsNotReady); a pod changed meanwhile is retried with the node. */
  private async markPodsNotReady(node: Node, signal: AbortSignal): Promise<void> {
    const now = formatTime(this.wallClockMs());
    let firstError: unknown;
    for (const pod of this.pods.cache.byNodeName(node.metadata.name ?? '')) {
      if (!isEvictable(pod) || !isPodReady(pod)) continue;
      try {
        await this.client.resource('pods', pod.metadata.namespace).updateStatus(withPodNotReady(pod, now), { signal });
      } catch (error) {
        if (!hasStatusReason(error, 'NotFound')) firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  /** Ready=Unknown (if not already), then the taint (if not already): two compare-and-swap writes. */
  private async markUnreachable(node: Node, signal: AbortSignal): Promise<Node> {
    const now = formatTime(this.wallClockMs());
    const nodes = this.client.resource('nodes');
    let current = node;
    if (!isMarkedUnknown(current)) {
      current = await nodes.updateStatus(withReadyCondition(current, 'Unknown', nodeStatusUnknownReason, nodeStatusUnknownMessage, now), { signal });
      this.logger.info({ controller: this.name, node: objectKey(node) }, 'node lease not renewed within the grace period: Ready=Unknown');
      this.events.record({ ...node, kind: 'Node', apiVersion: 'v1' } as KubeObject, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
    }
    if (!hasUnreachableTaint(current)) {
      current = await nodes.update(withUnreachableTaint(current, true, now), { signal });
      this.logger.info({ controller: this.name, node: objectKey(node) }, 'tainted node.kubernetes.io/unreachable:NoExecute');
    }
    assert.ok(hasUnreachableTaint(current), `node ${objectKey(node)} still lacks the unreachable taint after tainting`);
    return current;
  }

  /** The taint off and, when the Unknown is ours, Ready=True back: the Lease was renewed. */
  private async markReachable(node: Node, signal: AbortSignal): Promise<void> {
    const now = formatTime(this.wallClockMs());
    const nodes = this.client.resource('nodes');
    let current = node;
    if (hasUnreachableTaint(current)) {
      current = await nodes.update(withUnreachableTaint(current, false, now), { signal });
      this.logger.info({ controller: this.name, node: objectKey(node) }, 'node lease renewed: unreachable taint removed');
    }
    if (isMarkedUnknown(current)) {
      await nodes.updateStatus(withReadyCondition(current, 'True', nodeStatusRecoveredReason, nodeStatusRecoveredMessage, now), { signal });
      this.events.record({ ...node, kind: 'Node', apiVersion: 'v1' } as KubeObject, 'Normal', 'NodeReady', `Node ${node.metadata.name} status is now: NodeReady`);
    }
  }

  /** Deletes the pods whose toleration ran out; comes back when the next one will. */
  private async evictPods(node: Node, nowMs: number, signal: AbortSignal): Promise<void> {
    const nodeName = node.metadata.name ?? '';
    const pods = this.pods.cache.byNodeName(nodeName);
    const plan = planEvictions(pods, this.evictions.get(nodeName) ?? new Map(), nowMs, this.defaultEvictionTimeoutMs);
    this.evictions.set(nodeName, plan);
    let nextDueMs = Number.POSITIVE_INFINITY;
    let firstError: unknown;
    for (const pod of pods) {
      const planned = plan.get(pod.metadata.uid ?? '');
      if (planned === undefined) continue;
      if (planned.dueMs > nowMs) {
        nextDueMs = Math.min(nextDueMs, planned.dueMs);
        continue;
      }
      try {
        await this.evict(pod, signal);
      } catch (error) {
        firstError ??= error;
      }
    }
    if (Number.isFinite(nextDueMs)) this.enqueueAfter(nodeName, nextDueMs - nowMs);
    if (firstError !== undefined) throw firstError;
  }

  private async evict(pod: Pod, signal: AbortSignal): Promise<void> {
    try {
      await this.client.resource('pods', pod.metadata.namespace).delete(pod.metadata.name ?? '', { signal, preconditions: { uid: pod.metadata.uid } });
    } catch (error) {
      // Gone already, or a new pod of the same name: nothing of ours to evict.
      if (hasStatusReason(error, 'NotFound') || hasStatusReason(error, 'Conflict')) return;
      throw error;
    }
    this.evictionCount++;
    this.logger.info({ controller: this.name, pod: objectKey(pod), node: pod.spec?.nodeName }, 'evicted pod from unreachable node');
    this.events.record({ ...pod, kind: 'Pod', apiVersion: 'v1' } as KubeObject, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${objectKey(pod)}`);
  }
}
