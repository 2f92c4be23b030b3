// Nodes and pods for the scheduler's tests, built from a few numbers.

import type { Node, Pod, Taint, Toleration } from '@raftplane/api';
import { newNodeInfo, addPodToNodeInfo, type NodeInfo } from '../src/index.js';

export interface NodeSpecInput {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | null;
}

export function makeNode(name: string, input: NodeSpecInput = {}): Node {
  const allocatable = { cpu: input.cpu ?? '4', memory: input.memory ?? '8Gi', pods: String(input.pods ?? 110) };
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...input.labels } },
    spec: { taints: input.taints, unschedulable: input.unschedulable },
    status: { capacity: allocatable, allocatable },
  };
  if (input.ready !== null) node.status!.conditions = [{ type: 'Ready', status: input.ready ?? 'True' }];
  return node;
}

export interface PodInput {
  namespace?: string;
  cpu?: string;
  memory?: string;
  hostPorts?: number[];
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  nodeName?: string;
  priority?: number;
  creationTimestamp?: string;
  ownerUid?: string;
}

export function makePod(name: string, input: PodInput = {}): Pod {
  const requests: Record<string, string> = {};
  if (input.cpu !== undefined) requests.cpu = input.cpu;
  if (input.memory !== undefined) requests.memory = input.memory;
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: input.namespace ?? 'default', uid: `uid-${name}`, labels: input.labels, creationTimestamp: input.creationTimestamp },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          resources: Object.keys(requests).length > 0 ? { requests } : undefined,
          ports: input.hostPorts?.map((p) => ({ containerPort: p, hostPort: p })),
        },
      ],
      nodeSelector: input.nodeSelector,
      tolerations: input.tolerations,
      nodeName: input.nodeName,
      priority: input.priority,
      schedulerName: 'default-scheduler',
    },
  };
  if (input.ownerUid !== undefined) pod.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: input.ownerUid, controller: true }];
  return pod;
}

export function nodeInfoWith(node: Node, ...pods: Pod[]): NodeInfo {
  const info = newNodeInfo(node);
  for (const pod of pods) addPodToNodeInfo(info, pod);
  return info;
}

/** A deterministic [0, 1) sequence (mulberry32) for tie-breaking. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
