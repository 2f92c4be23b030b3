// The agent's Node: built from its flags and the machine, registered once at start (created, or
// taken over when it exists: labels, addresses, capacity and daemon endpoint brought up to date,
// taints and cordon left as the cluster set them), then kept alive by heartbeats: the Lease in
// kube-node-lease renewed every heartbeat, and the Ready condition rewritten when it is not ours
// (the node lifecycle controller marked it Unknown while we were away) or grew old.

import { cpus, totalmem } from 'node:os';
import { formatTime, hasStatusReason, type Lease, type Node, type NodeCondition, type Taint } from '@raftplane/api';
import type { Client } from '@raftplane/client';

export interface NodeIdentity {
  readonly name: string;
  readonly address: string;
  /** cpu as a quantity ('4', '3500m'), memory ('8Gi'), pods ('110'); from the machine when absent. */
  readonly cpu: string | undefined;
  readonly memory: string | undefined;
  readonly pods: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly podCidr: string;
  /** The port of the agent's HTTP endpoint (container logs) on `address`. */
  readonly port: number;
  readonly runtimeName: string;
  readonly agentVersion: string;
}

const leaseDurationSeconds = 40;

export function nodeCapacity(identity: NodeIdentity): Record<string, string> {
  return {
    cpu: identity.cpu ?? String(cpus().length),
    memory: identity.memory ?? `${Math.floor(totalmem() / 1024)}Ki`,
    pods: String(identity.pods),
  };
}

function readyCondition(nowMs: number, previous: NodeCondition | undefined): NodeCondition {
  const now = formatTime(nowMs);
  const transition = previous?.status === 'True' && previous.lastTransitionTime ? previous.lastTransitionTime : now;
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'raftplane agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: transition };
}

function pressureConditions(nowMs: number, previous: readonly NodeCondition[]): NodeCondition[] {
  const now = formatTime(nowMs);
  return (['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const).map((type) => {
    const before = previous.find((c) => c.type === type);
    const transition = before?.status === 'False' && before.lastTransitionTime ? before.lastTransitionTime : now;
    return { type, status: 'False', reason: `KubeletHasNo${type}`, message: `raftplane agent has no ${type.replace('Pressure', '').toLowerCase()} pressure`, lastHeartbeatTime: now, lastTransitionTime: transition };
  });
}

/** The Node's status as this agent reports it. */
export function nodeStatus(identity: NodeIdentity, previous: Node['status'], nowMs: number): NonNullable<Node['status']> {
  const capacity = nodeCapacity(identity);
  const conditions = previous?.conditions ?? [];
  return {
    ...previous,
    capacity,
    allocatable: capacity,
    conditions: [...pressureConditions(nowMs, conditions), readyCondition(nowMs, conditions.find((c) => c.type === 'Ready'))],
    addresses: [
      { type: 'InternalIP', address: identity.address },
      { type: 'Hostname', address: identity.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: identity.port } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: process.release.name === 'node' ? process.version : '',
      osImage: `raftplane agent (${process.platform})`,
      containerRuntimeVersion: `${identity.runtimeName}://${identity.agentVersion}`,
      kubeletVersion: `v1.32.0-raftplane.${identity.agentVersion}`,
      kubeProxyVersion: '',
      operatingSystem: process.platform,
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
  };
}

function nodeLabels(identity: NodeIdentity): Record<string, string> {
  return { 'kubernetes.io/hostname': identity.name, 'kubernetes.io/os': process.platform, 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch, ...identity.labels };
}

/** Creates the Node, or updates the one that exists; returns it as stored. */
export async function registerNode(client: Client, identity: NodeIdentity, nowMs: number, signal: AbortSignal): Promise<Node> {
  const nodes = client.resource('nodes');
  const fresh: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: identity.name, labels: nodeLabels(identity) },
    spec: { podCIDR: identity.podCidr, podCIDRs: [identity.podCidr], ...(identity.taints.length === 0 ? {} : { taints: [...identity.taints] }) },
    // With its status, as the kubelet registers: the scheduler never sees a node with no capacity.
    status: nodeStatus(identity, undefined, nowMs),
  };
  let node: Node;
  try {
    return await nodes.create(fresh, { signal });
  } catch (error) {
    if (!hasStatusReason(error, 'AlreadyExists')) throw error;
    const existing = await nodes.get(identity.name, { signal });
    // Registered before: labels and the pod range follow the flags; taints and cordon stay the cluster's.
    node = await nodes.update({ ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...nodeLabels(identity) } }, spec: { ...existing.spec, podCIDR: identity.podCidr, podCIDRs: [identity.podCidr] } }, { signal });
  }
  return nodes.updateStatus({ ...node, status: nodeStatus(identity, node.status, nowMs) }, { signal });
}

/** RFC 3339 with microseconds, as Lease times are written. */
function microTime(nowMs: number): string {
  return new Date(nowMs).toISOString().replace('Z', '000Z');
}

/** The node's heartbeats: the Lease, and the Node's status when it needs rewriting. */
export class NodeHeartbeat {
  private lease: Lease | null = null;
  private lastStatusMs = 0;

  constructor(
    private readonly client: Client,
    private readonly identity: NodeIdentity,
    /** How often the Ready condition is rewritten even when nothing changed (the kubelet's nodeStatusReportFrequency). */
    private readonly statusReportMs: number,
  ) {}

  /** Renews the Lease (creating it when missing). */
  async renewLease(nowMs: number, signal: AbortSignal): Promise<void> {
    const leases = this.client.resource('leases', 'kube-node-lease');
    const name = this.identity.name;
    const renewTime = microTime(nowMs);
    if (this.lease !== null) {
      try {
        this.lease = await leases.update({ ...this.lease, spec: { ...this.lease.spec, holderIdentity: name, leaseDurationSeconds, renewTime } }, { signal });
        return;
      } catch (error) {
        // Someone else wrote it (or it was deleted): read it again below.
        if (!hasStatusReason(error, 'Conflict') && !hasStatusReason(error, 'NotFound')) throw error;
      }
    }
    let current: Lease | null;
    try {
      current = await leases.get(name, { signal });
    } catch (error) {
      if (!hasStatusReason(error, 'NotFound')) throw error;
      current = null;
    }
    this.lease =
      current === null
        ? await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds, renewTime, acquireTime: renewTime } }, { signal })
        : await leases.update({ ...current, spec: { ...current.spec, holderIdentity: name, leaseDurationSeconds, renewTime } }, { signal });
  }

  /** Rewrites the Node's status when its Ready condition is not this agent's or is older than statusReportMs. */
  async reportStatus(node: Node | undefined, nowMs: number, signal: AbortSignal): Promise<void> {
    const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
    const ours = ready?.status === 'True' && ready.reason === 'KubeletReady';
    if (node !== undefined && ours && nowMs - this.lastStatusMs < this.statusReportMs) return;
    const nodes = this.client.resource('nodes');
    const current = node ?? (await nodes.get(this.identity.name, { signal }));
    await nodes.updateStatus({ ...current, status: nodeStatus(this.identity, current.status, nowMs) }, { signal });
    this.lastStatusMs = nowMs;
  }
}
