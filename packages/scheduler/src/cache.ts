// The scheduler's view of the cluster (kube-scheduler's internal cache): nodes with the pods on
// them, fed by the informers, plus the pods this scheduler has assumed — placed in memory the
// moment a node is chosen, before the binding commits — so that the next pod of a burst sees the
// room the previous one took (issue 7). An assumed pod is confirmed when the informer shows it
// bound, forgotten when its binding fails, and expires `assumedPodTtlMs` after its binding
// finished if the informer never shows it (a lost watch event must not hold room forever).
// No I/O and no clock: time comes in as `nowMs`.

import assert from 'node:assert/strict';
import type { Node, Pod } from '@raftplane/api';
import { objectKey } from '@raftplane/client';
import { addPodToNodeInfo, newNodeInfo, removePodFromNodeInfo, withNode, type NodeInfo } from './node-info.js';

interface PodState {
  pod: Pod;
  nodeName: string;
  assumed: boolean;
  /** Set once the binding finished: when an assumed pod the informer never confirmed is dropped. */
  deadlineMs: number | undefined;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Pods bound (or assumed) to nodes the cache does not know yet, by node name. */
  private readonly podsOfUnknownNodes = new Map<string, Map<string, Pod>>();
  private readonly podStates = new Map<string, PodState>();
  private sortedNodes: NodeInfo[] | undefined;

  constructor(private readonly assumedPodTtlMs: number) {
    assert.ok(assumedPodTtlMs > 0, `assumedPodTtlMs ${assumedPodTtlMs} must be > 0`);
  }

  /** Every known node, sorted by name so that a decision depends only on state and the random generator. */
  nodeInfos(): readonly NodeInfo[] {
    this.sortedNodes ??= [...this.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.sortedNodes;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  nodeCount(): number {
    return this.nodes.size;
  }

  /** Adds or replaces a node; its pods stay. */
  setNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const old = this.nodes.get(name);
    let info: NodeInfo;
    if (old !== undefined) info = withNode(old, node);
    else {
      info = newNodeInfo(node);
      for (const pod of this.podsOfUnknownNodes.get(name)?.values() ?? []) addPodToNodeInfo(info, pod);
      this.podsOfUnknownNodes.delete(name);
    }
    this.nodes.set(name, info);
    this.sortedNodes = undefined;
  }

  /** Removes a node; pods still bound to it are kept aside until they go or the node returns. */
  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (info === undefined) return;
    this.nodes.delete(name);
    this.sortedNodes = undefined;
    if (info.pods.size > 0) this.podsOfUnknownNodes.set(name, new Map(info.pods));
  }

  /** A pod the informer shows bound to `spec.nodeName`: added, moved, or confirms an assumption. */
  upsertBoundPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    assert.ok(nodeName !== undefined && nodeName !== '', `upsertBoundPod(${objectKey(pod)}): the pod is not bound`);
    const key = objectKey(pod);
    this.detach(key);
    this.attach(key, pod, nodeName);
    this.podStates.set(key, { pod, nodeName, assumed: false, deadlineMs: undefined });
  }

  /** The pod is gone (deleted, terminal): its room is free again. Returns whether the cache had it. */
  removePod(key: string): boolean {
    const had = this.detach(key);
    this.podStates.delete(key);
    return had;
  }

  /** Places `pod` on `nodeName` before the binding commits. */
  assumePod(pod: Pod, nodeName: string): void {
    const key = objectKey(pod);
    assert.ok(!this.podStates.has(key), `assumePod(${key}): the cache already has this pod on ${this.podStates.get(key)?.nodeName}`);
    const placed: Pod = { ...pod, spec: { containers: [], ...pod.spec, nodeName } };
    this.attach(key, placed, nodeName);
    this.podStates.set(key, { pod: placed, nodeName, assumed: true, deadlineMs: undefined });
  }

  /** The binding of an assumed pod finished: it expires `assumedPodTtlMs` from now unless confirmed first. */
  finishBinding(key: string, nowMs: number): void {
    const state = this.podStates.get(key);
    if (state?.assumed === true) state.deadlineMs = nowMs + this.assumedPodTtlMs;
  }

  /** The binding failed: an assumed pod leaves the node. A confirmed pod stays (the informer knows better). */
  forgetPod(key: string): boolean {
    if (this.podStates.get(key)?.assumed !== true) return false;
    return this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.podStates.get(key)?.assumed === true;
  }

  /** Whether the cache has the pod on a node, assumed or bound. */
  hasPod(key: string): boolean {
    return this.podStates.has(key);
  }

  assumedCount(): number {
    let count = 0;
    for (const state of this.podStates.values()) if (state.assumed) count++;
    return count;
  }

  /** Drops assumed pods whose deadline has passed; returns their keys. */
  expireAssumed(nowMs: number): string[] {
    const expired: string[] = [];
    for (const [key, state] of this.podStates) {
      if (state.assumed && state.deadlineMs !== undefined && state.deadlineMs <= nowMs) expired.push(key);
    }
    for (const key of expired) this.removePod(key);
    return expired;
  }

  private attach(key: string, pod: Pod, nodeName: string): void {
    const info = this.nodes.get(nodeName);
    if (info !== undefined) {
      addPodToNodeInfo(info, pod);
      return;
    }
    let pods = this.podsOfUnknownNodes.get(nodeName);
    if (pods === undefined) this.podsOfUnknownNodes.set(nodeName, (pods = new Map()));
    pods.set(key, pod);
  }

  private detach(key: string): boolean {
    const state = this.podStates.get(key);
    if (state === undefined) return false;
    const info = this.nodes.get(state.nodeName);
    if (info !== undefined) return removePodFromNodeInfo(info, key);
    const pods = this.podsOfUnknownNodes.get(state.nodeName);
    const had = pods?.delete(key) === true;
    if (pods?.size === 0) this.podsOfUnknownNodes.delete(state.nodeName);
    return had;
  }
}
