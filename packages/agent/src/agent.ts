// The node agent (raftplane's kubelet): registers its Node, heartbeats, follows only its own pods
// (a spec.nodeName field selector over an informer) and reconciles each with pod-sync.ts on a work
// queue, at most one sync per pod at a time. The runtime's exit notifications and the probes'
// verdicts queue the pod concerned; a resync every `resyncMs` re-reads the runtime and queues
// every pod, so nothing missed stays missed. Stopping the agent (its signal) leaves the containers
// running: an agent that starts again adopts them.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Node, type Pod } from '@raftplane/api';
import { createInformer, deletedObject, EventRecorder, objectKey, WorkQueue, type Client, type Informer } from '@raftplane/client';
import { ContainerIndex, podKeyOf } from './container-index.js';
import { invalidOption } from './errors.js';
import { LogServer } from './log-server.js';
import { NodeHeartbeat, registerNode, type NodeIdentity } from './node-registration.js';
import { apiConfigSource, type ConfigSource } from './pod-config.js';
import { PodAddressPool, parsePodCidr } from './pod-addresses.js';
import { syncPod, type PodSyncContext, type WaitingReasons } from './pod-sync.js';
import { Prober, type ProbeKind, type ProbeOutcome, type ProbeTarget } from './prober.js';
import { kubeletRestartBackoff, RestartBackoff, type RestartBackoffSettings } from './restart-backoff.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { wait } from './wait.js';

export interface AgentLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const silent: AgentLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface AgentOptions {
  readonly client: Client;
  readonly runtime: ContainerRuntime;
  readonly identity: NodeIdentity;
  /** The agent's own files: pod directories, the pod address table. */
  readonly dataDir: string;
  /** Lease renewal period (the kubelet's 10 s). */
  readonly heartbeatMs?: number;
  /** The Ready condition is rewritten at least this often (the kubelet's 5 min; 1 min here). */
  readonly statusReportMs?: number;
  /** Every pod is synced again this often. Default 10 s. */
  readonly resyncMs?: number;
  readonly restartBackoff?: RestartBackoffSettings;
  /** Pods synced at once. Default 16. */
  readonly workers?: number;
  /** Where the log server listens; default identity.address. Port 0 picks a free one (then registered). */
  readonly listenAddress?: string;
  readonly configSource?: ConfigSource;
  readonly logger?: AgentLogger;
  readonly wallClockMs?: () => number;
}

export class Agent {
  private readonly logger: AgentLogger;
  private readonly wallClockMs: () => number;
  private readonly containers = new ContainerIndex();
  private readonly waiting = new Map<string, WaitingReasons>();
  private readonly killRequests = new Map<string, string>();
  private pods: Informer<Pod> | undefined;
  private node: Informer<Node> | undefined;
  private context: PodSyncContext | undefined;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private queue: WorkQueue<string> | undefined;

  constructor(private readonly options: AgentOptions) {
    this.logger = options.logger ?? silent;
    this.wallClockMs = options.wallClockMs ?? Date.now;
    for (const [name, value] of [
      ['heartbeatMs', options.heartbeatMs],
      ['statusReportMs', options.statusReportMs],
      ['resyncMs', options.resyncMs],
      ['workers', options.workers],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw invalidOption(name, `${value} must be an integer >= 1`);
    }
  }

  get name(): string {
    return this.options.identity.name;
  }

  /** The pod's address on this node, once it has one. */
  podAddress(uid: string): string | undefined {
    return this.context?.addresses.get(uid);
  }

  /**
   * Registers the node, starts serving logs and following pods; resolves once the pods are listed
   * and the runtime's containers known. `done()` settles after `signal` aborts and all has stopped.
   */
  async start(signal: AbortSignal): Promise<void> {
    const { client, runtime, identity, dataDir } = this.options;
    const podsDir = join(dataDir, 'pods');
    await mkdir(podsDir, { recursive: true });
    const addresses = await PodAddressPool.open(parsePodCidr('pod-cidr', identity.podCidr), join(dataDir, 'pod-addresses.json'));
    const logServer = await LogServer.listen({ address: this.options.listenAddress ?? identity.address, port: identity.port, runtime, containers: this.containers, pods: () => this.pods, logger: this.logger });
    const registered: NodeIdentity = { ...identity, port: logServer.port };
    // Like the kubelet, registration is retried until it succeeds: the masters may still be starting.
    for (let attempt = 1; ; attempt++) {
      try {
        await registerNode(client, registered, this.wallClockMs(), signal);
        break;
      } catch (error) {
        if (signal.aborted) throw error;
        this.logger.warn({ node: identity.name, attempt, err: error instanceof Error ? error.message : String(error) }, 'could not register the node; retrying');
        await wait(Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)), signal);
      }
    }
    this.logger.info({ node: identity.name, address: identity.address, podCidr: identity.podCidr, port: logServer.port, runtime: runtime.name }, 'node registered');

    const events = new EventRecorder(client, { component: 'kubelet', wallClockMs: this.wallClockMs });
    events.bind(signal);
    const queue = new WorkQueue<string>({ signal, name: `agent ${identity.name} pods` });
    this.queue = queue;
    const prober = new Prober(runtime, (target, kind, outcome) => this.onProbe(target, kind, outcome), signal);
    this.context = {
      client,
      runtime,
      containers: this.containers,
      addresses,
      prober,
      backoff: new RestartBackoff(this.options.restartBackoff ?? kubeletRestartBackoff),
      configSource: this.options.configSource ?? apiConfigSource(client),
      nodeName: identity.name,
      hostIP: identity.address,
      podsDir,
      wallClockMs: this.wallClockMs,
      event: (pod, type, reason, message) => events.record({ ...pod, kind: 'Pod', apiVersion: 'v1' }, type, reason, message),
      logger: this.logger,
      killRequests: this.killRequests,
      signal,
    };
    this.containers.replaceAll(await runtime.list());
    const pods = createInformer(client, 'pods', { fieldSelector: `spec.nodeName=${identity.name}` });
    const node = createInformer(client, 'nodes', { fieldSelector: `metadata.name=${identity.name}` });
    this.pods = pods;
    this.node = node;
    pods.addHandler({
      onAdd: (pod) => queue.add(objectKey(pod)),
      onUpdate: (_old, pod) => queue.add(objectKey(pod)),
      onDelete: (pod) => queue.add(objectKey(deletedObject(pod))),
    });
    const unsubscribe = runtime.onExit((id) => void this.onContainerExit(id, queue));
    const informers = Promise.all([pods.run(signal), node.run(signal)]);
    await Promise.all([pods.waitForSync(signal), node.waitForSync(signal)]);
    this.syncedOnce = true;
    // Pods this node runs containers for but no longer has (deleted while the agent was down).
    for (const key of this.containers.podKeys()) queue.add(key);
    for (const key of pods.cache.keys()) queue.add(key);
    const workers = Array.from({ length: this.options.workers ?? 16 }, () => this.worker(queue));
    const heartbeat = this.heartbeatLoop(new NodeHeartbeat(client, registered, this.options.statusReportMs ?? 60_000), signal);
    const resync = this.resyncLoop(queue, addresses, signal);
    this.running = (async () => {
      await Promise.allSettled([informers, heartbeat, resync, ...workers]);
      unsubscribe();
      await prober.close();
      await events.drain();
      await logServer.close();
    })();
  }

  /** Settles once the agent has stopped (its signal aborted). */
  async done(): Promise<void> {
    await this.running;
  }

  private async worker(queue: WorkQueue<string>): Promise<void> {
    const context = this.context;
    if (context === undefined) return;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const pod = this.pods?.cache.get(key);
        let waiting = this.waiting.get(key);
        if (waiting === undefined) this.waiting.set(key, (waiting = new Map()));
        const outcome = await syncPod(context, key, pod, waiting);
        if (pod === undefined) this.waiting.delete(key);
        queue.forget(key);
        if (outcome.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
      } catch (error) {
        if (!context.signal.aborted) {
          this.logger.warn({ node: this.name, pod: key, err: error instanceof Error ? error.message : String(error) }, 'pod sync failed; retrying');
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  }

  private async onContainerExit(id: string, queue: WorkQueue<string>): Promise<void> {
    try {
      const container = await this.options.runtime.inspect(id);
      if (container === undefined) return;
      this.containers.put(container);
      this.context?.prober.forget(id);
      queue.add(podKeyOf(container));
    } catch (error) {
      this.logger.warn({ node: this.name, container: id, err: error instanceof Error ? error.message : String(error) }, 'could not inspect an exited container');
    }
  }

  private onProbe(target: ProbeTarget, kind: ProbeKind, outcome: ProbeOutcome): void {
    const pod = this.pods?.cache.get(target.podKey);
    const context = this.context;
    if (pod !== undefined && context !== undefined && !outcome.success) {
      const name = kind === 'liveness' ? 'Liveness' : kind === 'readiness' ? 'Readiness' : 'Startup';
      context.event(pod, 'Warning', 'Unhealthy', `${name} probe failed: ${outcome.message}`);
    }
    if (!outcome.changed) return;
    if (kind !== 'readiness' && !outcome.verdict) this.killRequests.set(target.containerId, `failed ${kind} probe`);
    this.queue?.add(target.podKey);
  }

  private async heartbeatLoop(heartbeat: NodeHeartbeat, signal: AbortSignal): Promise<void> {
    const periodMs = this.options.heartbeatMs ?? 10_000;
    while (!signal.aborted) {
      try {
        await heartbeat.renewLease(this.wallClockMs(), signal);
        await heartbeat.reportStatus(this.node?.cache.get(this.name), this.wallClockMs(), signal);
      } catch (error) {
        if (!signal.aborted) this.logger.warn({ node: this.name, err: error instanceof Error ? error.message : String(error) }, 'heartbeat failed; the next one tries again');
      }
      await wait(periodMs, signal);
    }
  }

  private async resyncLoop(queue: WorkQueue<string>, addresses: PodAddressPool, signal: AbortSignal): Promise<void> {
    const periodMs = this.options.resyncMs ?? 10_000;
    while (!signal.aborted) {
      await wait(periodMs, signal);
      if (signal.aborted) break;
      try {
        this.containers.replaceAll(await this.options.runtime.list());
      } catch (error) {
        this.logger.warn({ node: this.name, err: error instanceof Error ? error.message : String(error) }, 'could not list the runtime\'s containers');
      }
      const known = new Set(this.pods?.cache.keys() ?? []);
      for (const key of known) queue.add(key);
      for (const key of this.containers.podKeys()) if (!known.has(key)) queue.add(key);
      // Addresses of pods that have neither a pod object nor containers any more.
      const liveUids = new Set([...(this.pods?.cache.list() ?? []).map((p) => p.metadata.uid ?? ''), ...this.containers.all().map((c) => c.labels.podUid)]);
      for (const uid of addresses.pods()) if (!liveUids.has(uid) && this.syncedOnce) await addresses.release(uid);
      if (this.context !== undefined) for (const id of this.context.prober.containers()) if (this.containers.get(id)?.state !== 'running') this.context.prober.forget(id);
    }
  }
}
