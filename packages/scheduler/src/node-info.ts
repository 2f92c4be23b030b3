// What the scheduler knows of one node (the framework's NodeInfo): the node object, what it
// offers, and the sums over the pods on it — bound pods seen through the informer and pods this
// scheduler assumed onto it and has not seen back yet — kept up to date incrementally.

import type { Node, Pod, Protocol, Taint } from '@raftplane/api';
import { objectKey } from '@raftplane/client';
import { nodeAllocatable, podRequests, type NodeAllocatable, type Resources } from './resources.js';

/** One host port in use: `hostIP` 0.0.0.0 means every address. */
export interface HostPort {
  readonly hostIp: string;
  readonly protocol: Protocol;
  readonly port: number;
}

export const anyHostIp = '0.0.0.0';

export interface NodeInfo {
  readonly name: string;
  readonly node: Node;
  readonly allocatable: NodeAllocatable;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
  /** Ready condition: 'True', 'False', 'Unknown', or undefined when the node reports none. */
  readonly ready: string | undefined;
  /** Pods on the node by `namespace/name`, assumed ones included. */
  readonly pods: Map<string, Pod>;
  /** The sum of the pods' requests (a container without one counts 0): what filters compare. */
  readonly requested: Resources;
  /** The same with defaults for missing requests: what scores compare (schedutil.GetNonzeroRequests). */
  readonly nonZeroRequested: Resources;
  /** Host ports in use, as `ip/protocol/port`, with how many pods use each. */
  readonly usedPorts: Map<string, number>;
}

export function newNodeInfo(node: Node): NodeInfo {
  const info: NodeInfo = {
    name: node.metadata.name ?? '',
    node,
    allocatable: nodeAllocatable(node),
    labels: node.metadata.labels ?? {},
    taints: node.spec?.taints ?? [],
    unschedulable: node.spec?.unschedulable === true,
    ready: node.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    pods: new Map(),
    requested: { milliCpu: 0, memoryBytes: 0 },
    nonZeroRequested: { milliCpu: 0, memoryBytes: 0 },
    usedPorts: new Map(),
  };
  return info;
}

/** The same pods on a changed node object (labels, taints, allocatable, conditions). */
export function withNode(info: NodeInfo, node: Node): NodeInfo {
  const next = newNodeInfo(node);
  for (const pod of info.pods.values()) addPodToNodeInfo(next, pod);
  return next;
}

/** The host ports a pod asks for (containers only: init containers' ports are not reserved). */
export function podHostPorts(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort <= 0) continue;
      ports.push({ hostIp: p.hostIP === undefined || p.hostIP === '' ? anyHostIp : p.hostIP, protocol: p.protocol ?? 'TCP', port: p.hostPort });
    }
  }
  return ports;
}

export function hostPortKey(p: HostPort): string {
  return `${p.hostIp}/${p.protocol}/${p.port}`;
}

export function addPodToNodeInfo(info: NodeInfo, pod: Pod): void {
  const key = objectKey(pod);
  if (info.pods.has(key)) removePodFromNodeInfo(info, key);
  info.pods.set(key, pod);
  addResources(info.requested, podRequests(pod), 1);
  addResources(info.nonZeroRequested, podRequests(pod, true), 1);
  for (const p of podHostPorts(pod)) {
    const k = hostPortKey(p);
    info.usedPorts.set(k, (info.usedPorts.get(k) ?? 0) + 1);
  }
}

/** Removes the pod stored under `key`; returns whether there was one. */
export function removePodFromNodeInfo(info: NodeInfo, key: string): boolean {
  const pod = info.pods.get(key);
  if (pod === undefined) return false;
  info.pods.delete(key);
  addResources(info.requested, podRequests(pod), -1);
  addResources(info.nonZeroRequested, podRequests(pod, true), -1);
  for (const p of podHostPorts(pod)) {
    const k = hostPortKey(p);
    const count = (info.usedPorts.get(k) ?? 0) - 1;
    if (count <= 0) info.usedPorts.delete(k);
    else info.usedPorts.set(k, count);
  }
  return true;
}

function addResources(into: Resources, r: Resources, sign: 1 | -1): void {
  into.milliCpu += sign * r.milliCpu;
  into.memoryBytes += sign * r.memoryBytes;
}
