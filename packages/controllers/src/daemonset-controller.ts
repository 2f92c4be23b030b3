// The DaemonSet controller (kubernetes pkg/controller/daemon): one pod per eligible node, added as
// nodes come and removed as they go or stop being eligible, and a RollingUpdate that replaces old
// pods node by node with at most maxUnavailable nodes down. Pods are created with spec.nodeName
// preset (Kubernetes before 1.12), so they need no scheduler; see daemonset-decisions.ts.

import { hasStatusReason, labelSelectorAsSelector, matchesLabels, type DaemonSet, type KubeObject, type Node, type ParsedLabelSelector, type Pod } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, isTombstone, objectKey } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import {
  daemonNodeFit,
  daemonPodNodeName,
  daemonPodTolerations,
  daemonSetMaxUnavailable,
  daemonSetPlan,
  daemonSetPodsToReplace,
  daemonSetStatusFor,
  daemonSetTemplateHashLabel,
  sameDaemonSetStatus,
  type DaemonNodePods,
} from './daemonset-decisions.js';
import { ControllerError, ControllerErrorCode, invalidOption } from './errors.js';
import { ControllerExpectations } from './expectations.js';
import { controllerRefOf, controllerRefTo, msUntilAvailable } from './pods.js';
import { slowStartBatches } from './replicaset-controller.js';
import { computeTemplateHash, stableJson } from './template-hash.js';

export interface DaemonSetControllerOptions extends ControllerOptions {
  /** Creates or deletes of one sync at most (Kubernetes' burstReplicas). Default 250. */
  readonly burstPods?: number;
  readonly expectationsTimeoutMs?: number;
  readonly events?: EventRecorder;
}

export class DaemonSetController extends Controller {
  /** Creates asked for and not yet seen, per DaemonSet (a sync may both create and delete). */
  readonly creations: ControllerExpectations;
  /** Deletes asked for and not yet seen, per DaemonSet. */
  readonly deletions: ControllerExpectations;
  readonly events: EventRecorder;
  private readonly burstPods: number;

  constructor(
    private readonly client: Client,
    private readonly daemonSets: Informer<DaemonSet>,
    private readonly pods: Informer<Pod>,
    private readonly nodes: Informer<Node>,
    options: DaemonSetControllerOptions = {},
  ) {
    super('daemonset-controller', options);
    this.burstPods = options.burstPods ?? 250;
    if (!Number.isSafeInteger(this.burstPods) || this.burstPods < 1) throw invalidOption('burstPods', `${this.burstPods} must be an integer >= 1`);
    this.creations = new ControllerExpectations(this.clock, options.expectationsTimeoutMs);
    this.deletions = new ControllerExpectations(this.clock, options.expectationsTimeoutMs);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    daemonSets.addHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (old, ds) => {
        if (old.metadata.resourceVersion !== ds.metadata.resourceVersion) this.enqueue(ds);
      },
      onDelete: (ds) => {
        const key = objectKey(deletedObject(ds));
        this.creations.delete(key);
        this.deletions.delete(key);
        this.enqueue(ds);
      },
    });
    pods.addHandler({ onAdd: (pod) => this.onPodAdd(pod), onUpdate: (old, pod) => this.onPodUpdate(old, pod), onDelete: (pod) => this.onPodDelete(pod) });
    nodes.addHandler({
      onAdd: () => this.enqueueAll(),
      onUpdate: (old, node) => {
        if (nodeEligibilityChanged(old, node)) this.enqueueAll();
      },
      onDelete: () => this.enqueueAll(),
    });
  }

  /** Expectations of both kinds are met (or expired). */
  satisfied(key: string): boolean {
    return this.creations.satisfied(key) && this.deletions.satisfied(key);
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.daemonSets, this.pods, this.nodes] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  // ---- handlers: objects to keys, nothing else (plus expectations bookkeeping) ----

  /** A node came, went, or changed what eligibility reads: every DaemonSet looks again. */
  private enqueueAll(): void {
    for (const ds of this.daemonSets.cache.list()) this.enqueue(ds);
  }

  private ownerOf(pod: Pod): DaemonSet | undefined {
    const ref = controllerRefOf(pod);
    if (ref === undefined || ref.kind !== 'DaemonSet') return undefined;
    const ds = this.daemonSets.cache.getByName(pod.metadata.namespace, ref.name);
    return ds?.metadata.uid === ref.uid ? ds : undefined;
  }

  private onPodAdd(pod: Pod): void {
    if (pod.metadata.deletionTimestamp !== undefined) {
      this.onPodDelete(pod);
      return;
    }
    const ds = this.ownerOf(pod);
    if (ds === undefined) return;
    const key = objectKey(ds);
    this.creations.creationObserved(key);
    this.enqueueKey(key);
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const ds = this.ownerOf(pod);
    if (ds === undefined) return;
    const key = objectKey(ds);
    if (pod.metadata.deletionTimestamp !== undefined && old.metadata.deletionTimestamp === undefined) this.deletions.deletionObserved(key, objectKey(pod));
    this.enqueueKey(key);
    // A ready pod becomes available with time alone: come back then (the rollout waits on it).
    const leftMs = msUntilAvailable(pod, ds.spec?.minReadySeconds ?? 0, this.wallClockMs());
    if (leftMs !== undefined) this.enqueueAfter(key, leftMs + 1000);
  }

  private onPodDelete(value: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(value);
    const ds = this.ownerOf(pod);
    if (ds === undefined) return;
    const key = objectKey(ds);
    this.deletions.deletionObserved(key, isTombstone(value) ? value.key : objectKey(pod));
    this.enqueueKey(key);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const ds = this.daemonSets.cache.get(key);
    if (ds === undefined) {
      this.creations.delete(key);
      this.deletions.delete(key);
      return;
    }
    let selector: ParsedLabelSelector;
    try {
      selector = labelSelectorAsSelector(ds.spec?.selector);
    } catch (error) {
      this.events.record(asDaemonSetObject(ds), 'Warning', 'InvalidSelector', `invalid selector: ${(error as Error).message}`);
      throw new ControllerError(ControllerErrorCode.InvalidSpec, `DaemonSet ${key}: invalid selector`, { cause: error });
    }
    const hash = computeTemplateHash(ds.spec?.template, ds.status?.collisionCount);
    const nodes = this.nodes.cache.list();
    const podsByNode = this.podsByNode(ds, selector);
    let manageError: unknown;
    if (this.satisfied(key) && ds.metadata.deletionTimestamp === undefined) {
      try {
        await this.manage(key, ds, hash, nodes, podsByNode, signal);
      } catch (error) {
        manageError = error;
      }
    }
    const status = daemonSetStatusFor(ds, nodes, podsByNode, hash, this.wallClockMs());
    if (!sameDaemonSetStatus(ds.status, status)) {
      const copy = structuredClone(ds);
      copy.status = status;
      await this.client.resource('daemonsets', ds.metadata.namespace).updateStatus(copy, { signal });
    }
    if (manageError !== undefined) throw manageError;
  }

  /** This DaemonSet's pods (controller reference and selector; orphans are not adopted), by node. */
  private podsByNode(ds: DaemonSet, selector: ParsedLabelSelector): Map<string, Pod[]> {
    const byNode = new Map<string, Pod[]>();
    for (const pod of this.pods.cache.byNamespace(ds.metadata.namespace ?? '')) {
      if (controllerRefOf(pod)?.uid !== ds.metadata.uid || !matchesLabels(selector, pod.metadata.labels)) continue;
      const nodeName = daemonPodNodeName(pod);
      if (nodeName === undefined) continue;
      const list = byNode.get(nodeName);
      if (list === undefined) byNode.set(nodeName, [pod]);
      else list.push(pod);
    }
    return byNode;
  }

  /** The plan (creates, deletes) plus, for RollingUpdate, the old pods to replace now; carried out at once. */
  private async manage(key: string, ds: DaemonSet, hash: string, nodes: readonly Node[], podsByNode: ReadonlyMap<string, readonly Pod[]>, signal: AbortSignal): Promise<void> {
    const plan = daemonSetPlan(ds.spec?.template, nodes, podsByNode);
    const deletes = [...plan.deletePods];
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const leaving = new Set([...plan.deletePods, ...plan.forceDeletePods]);
      const view: DaemonNodePods[] = nodes.map((node) => {
        const nodeName = node.metadata.name ?? '';
        const pods = (podsByNode.get(nodeName) ?? []).filter((pod) => pod.metadata.deletionTimestamp === undefined && !leaving.has(pod));
        return { nodeName, shouldRun: daemonNodeFit(ds.spec?.template, node).shouldRun, pods };
      });
      const desired = view.filter((node) => node.shouldRun).length;
      const maxUnavailable = daemonSetMaxUnavailable(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired);
      deletes.push(...daemonSetPodsToReplace(view, hash, maxUnavailable, ds.spec?.minReadySeconds ?? 0, this.wallClockMs()));
    }
    const createOn = plan.createOnNodes.slice(0, this.burstPods);
    const deleteNow = deletes.slice(0, this.burstPods);
    const forceNow = plan.forceDeletePods.slice(0, this.burstPods);
    this.creations.expectCreations(key, createOn.length);
    this.deletions.expectDeletions(key, [...deleteNow, ...forceNow].map((pod) => objectKey(pod)));
    const results = await Promise.allSettled([this.deletePods(key, ds, deleteNow, undefined, signal), this.deletePods(key, ds, forceNow, 0, signal), this.createPods(key, ds, hash, createOn, signal)]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }

  private podFor(ds: DaemonSet, hash: string, nodeName: string): Pod {
    const template = ds.spec?.template ?? {};
    const spec = structuredClone(template.spec ?? { containers: [] });
    spec.nodeName = nodeName;
    spec.tolerations = daemonPodTolerations(template);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata.name}-`,
        namespace: ds.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), [daemonSetTemplateHashLabel]: hash },
        ownerReferences: [controllerRefTo(ds, 'apps/v1', 'DaemonSet')],
      },
      spec,
    };
    if (template.metadata?.annotations !== undefined) pod.metadata.annotations = { ...template.metadata.annotations };
    return pod;
  }

  /** Creates in slow-start batches; a create that failed or was never tried is taken off the expectations. */
  private async createPods(key: string, ds: DaemonSet, hash: string, nodeNames: readonly string[], signal: AbortSignal): Promise<void> {
    const dsObj = asDaemonSetObject(ds);
    let made = 0;
    let firstError: unknown;
    for (const batch of slowStartBatches(nodeNames.length)) {
      const names = nodeNames.slice(made, made + batch);
      const results = await Promise.allSettled(names.map((nodeName) => this.client.resource('pods', ds.metadata.namespace).create(this.podFor(ds, hash, nodeName), { signal })));
      made += batch;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') {
          this.events.record(dsObj, 'Normal', 'SuccessfulCreate', `Created pod: ${result.value.metadata.name} on node ${names[i]}`);
          return;
        }
        this.creations.creationObserved(key);
        firstError ??= result.reason;
        if (!signal.aborted) this.events.record(dsObj, 'Warning', 'FailedCreate', `Error creating pod on node ${names[i]}: ${(result.reason as Error).message}`);
      });
      if (firstError !== undefined) break;
    }
    for (let skipped = nodeNames.length - made; skipped > 0; skipped--) this.creations.creationObserved(key);
    if (firstError !== undefined) throw new ControllerError(ControllerErrorCode.PartialSync, `DaemonSet ${key}: ${made} creates attempted of ${nodeNames.length}`, { cause: firstError });
  }

  /** Deletes `victims`; `gracePeriodSeconds` 0 for pods whose node is gone (no agent will confirm). */
  private async deletePods(key: string, ds: DaemonSet, victims: readonly Pod[], gracePeriodSeconds: number | undefined, signal: AbortSignal): Promise<void> {
    const dsObj = asDaemonSetObject(ds);
    let firstError: unknown;
    await Promise.all(
      victims.map(async (pod) => {
        try {
          await this.client.resource('pods', pod.metadata.namespace).delete(pod.metadata.name ?? '', { signal, gracePeriodSeconds, preconditions: { uid: pod.metadata.uid } });
          this.events.record(dsObj, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name} on node ${daemonPodNodeName(pod)}`);
        } catch (error) {
          this.deletions.deletionObserved(key, objectKey(pod));
          if (hasStatusReason(error, 'NotFound')) return;
          firstError ??= error;
          if (!signal.aborted) this.events.record(dsObj, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
        }
      }),
    );
    if (firstError !== undefined) throw new ControllerError(ControllerErrorCode.PartialSync, `DaemonSet ${key}: some deletes failed`, { cause: firstError });
  }
}

function asDaemonSetObject(ds: DaemonSet): KubeObject {
  return { ...ds, kind: 'DaemonSet', apiVersion: 'apps/v1' } as KubeObject;
}

/** What daemon eligibility reads of a node changed: labels or taints (heartbeats change neither). */
export function nodeEligibilityChanged(old: Node, node: Node): boolean {
  if (old.metadata.resourceVersion === node.metadata.resourceVersion) return false;
  return stableJson(old.metadata.labels ?? {}) !== stableJson(node.metadata.labels ?? {}) || stableJson(old.spec?.taints ?? []) !== stableJson(node.spec?.taints ?? []);
}
