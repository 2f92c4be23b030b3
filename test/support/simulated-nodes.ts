// Test-only node agents (issue 7's "simulated nodes"): each registers a Node with capacity and a
// Ready condition, renews its Lease in kube-node-lease, and marks the pods bound to it Running and
// Ready after a short delay, without running anything. A pod marked for deletion is confirmed
// (deleted with grace 0), as a real agent does once its containers stopped. Stopping one (or
// pausing its heartbeat) is how tests make a node go silent.

import { formatTime, hasStatusReason, type Node, type Pod } from '@raftplane/api';
import { createInformer, sleep, systemClock, type Client } from '@raftplane/client';

export interface SimulatedNodeOptions {
  readonly client: Client;
  readonly name: string;
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: number;
  readonly labels?: Record<string, string>;
  readonly taints?: Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
  /** How long a bound pod takes to become Running and Ready. */
  readonly startDelayMs?: number;
  readonly heartbeatMs?: number;
}

export class SimulatedNode {
  private readonly stop = new AbortController();
  private heartbeats = true;
  /** Pods this agent has tried to start, and when it last tried. */
  private readonly started = new Map<string, number>();
  private informer: ReturnType<typeof createInformer<'pods'>> | null = null;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimulatedNodeOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Registers the node (or takes it over), then follows its pods until stopped. */
  async start(): Promise<void> {
    const { client, name } = this.options;
    const now = formatTime(Date.now());
    const capacity = { cpu: this.options.cpu ?? '4', memory: this.options.memory ?? '8Gi', pods: String(this.options.pods ?? 110) };
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...this.options.labels } },
      spec: this.options.taints === undefined ? {} : { taints: this.options.taints },
      status: {
        capacity,
        allocatable: capacity,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated node is ready', lastHeartbeatTime: now, lastTransitionTime: now }],
        addresses: [{ type: 'InternalIP', address: '127.0.1.1' }, { type: 'Hostname', address: name }],
      },
    };
    try {
      await client.resource('nodes').create(node);
    } catch (error) {
      if (!hasStatusReason(error, 'AlreadyExists')) throw error;
    }
    const informer = createInformer(client, 'pods', { fieldSelector: `spec.nodeName=${name}` });
    this.informer = informer;
    informer.addHandler({ onAdd: (pod) => this.onPod(pod), onUpdate: (_old, pod) => this.onPod(pod) });
    this.done = Promise.all([informer.run(this.stop.signal), this.heartbeat()]).then(() => undefined);
    await informer.waitForSync(this.stop.signal);
  }

  private onPod(pod: Pod): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const pods = this.options.client.resource('pods', pod.metadata.namespace ?? 'default');
    if (pod.metadata.deletionTimestamp !== undefined) {
      void pods.delete(pod.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (pod.status?.phase === 'Running') return;
    // Tried already: only again after a while (the resync on each heartbeat), as a kubelet would.
    const tried = this.started.get(key);
    if (tried !== undefined && Date.now() - tried < 1_000) return;
    this.started.set(key, Date.now());
    setTimeout(() => {
      if (this.stop.signal.aborted) return;
      const now = formatTime(Date.now());
      const running: Pod = {
        ...pod,
        status: {
          ...pod.status,
          phase: 'Running',
          hostIP: '127.0.1.1',
          startTime: now,
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            { type: 'Initialized', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
            { type: 'Ready', status: 'True', lastTransitionTime: now },
          ],
          containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: now } } })),
        },
      };
      const { resourceVersion: _rv, ...meta } = running.metadata;
      void pods.updateStatus({ ...running, metadata: meta }).catch(() => undefined);
    }, this.options.startDelayMs ?? 50);
  }

  /** Renews the node's Lease in kube-node-lease while heartbeats are on. */
  private async heartbeat(): Promise<void> {
    const leases = this.options.client.resource('leases', 'kube-node-lease');
    const name = this.options.name;
    while (!this.stop.signal.aborted) {
      // Resync: a status write or a deletion confirmation lost in a failover is tried again.
      for (const pod of this.informer?.cache.list() ?? []) this.onPod(pod);
      if (this.heartbeats) {
        const renewTime = new Date().toISOString().replace('Z', '000Z');
        try {
          const lease = await leases.get(name).catch((error: unknown) => (hasStatusReason(error, 'NotFound') ? null : Promise.reject(error)));
          if (lease === null) await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime } });
          else await leases.update({ ...lease, spec: { ...lease.spec, renewTime } });
        } catch {
          // The next beat tries again (a leader change, a conflict).
        }
      }
      await sleep(systemClock, this.options.heartbeatMs ?? 1_000, this.stop.signal).catch(() => undefined);
    }
  }

  /** The node goes silent: no more Lease renewals (its pods stay as they are). */
  pauseHeartbeats(): void {
    this.heartbeats = false;
  }

  resumeHeartbeats(): void {
    this.heartbeats = true;
  }

  async stopAgent(): Promise<void> {
    this.stop.abort();
    await this.done.catch(() => undefined);
  }
}
