// The namespace controller (kubernetes pkg/controller/namespace): a namespace marked for deletion
// (Terminating) has every object in it deleted through the API, pods gracefully as the API
// decides, and is removed once nothing is left in it.

import { hasStatusReason, type KubeObject, type Namespace, type ResourceInfo } from '@raftplane/api';
import type { Client, Informer, ResourceClient, ResourceName } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import { ControllerError, ControllerErrorCode, invalidOption } from './errors.js';
import { EventRecorder } from '@raftplane/client';
import { isNamespaceTerminating, namespaceContentRemoved, namespaceContentResources, objectsToDelete } from './namespace-controller-plan.js';

export interface NamespaceControllerOptions extends ControllerOptions {
  readonly events?: EventRecorder;
  /** How long before a namespace whose content is still going (pods in their grace period, objects held by finalizers) is looked at again. Default 1000 ms. */
  readonly contentRecheckMs?: number;
  /** DELETE requests in flight at once for one namespace. Default 50. */
  readonly deletesInFlightMax?: number;
}

interface ContentPass {
  deleted: number;
  failed: number;
  firstError: unknown;
}

export class NamespaceController extends Controller {
  readonly events: EventRecorder;
  private readonly contentRecheckMs: number;
  private readonly deletesInFlightMax: number;
  private readonly contentResources: readonly ResourceInfo[] = namespaceContentResources();

  constructor(
    private readonly client: Client,
    private readonly namespaces: Informer<Namespace>,
    options: NamespaceControllerOptions = {},
  ) {
    super('namespace-controller', options);
    this.contentRecheckMs = options.contentRecheckMs ?? 1000;
    this.deletesInFlightMax = options.deletesInFlightMax ?? 50;
    if (!Number.isSafeInteger(this.contentRecheckMs) || this.contentRecheckMs < 1) throw invalidOption('contentRecheckMs', `${this.contentRecheckMs} must be an integer >= 1`);
    if (!Number.isSafeInteger(this.deletesInFlightMax) || this.deletesInFlightMax < 1) throw invalidOption('deletesInFlightMax', `${this.deletesInFlightMax} must be an integer >= 1`);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    namespaces.addHandler({
      onAdd: (ns) => this.enqueueIfTerminating(ns),
      onUpdate: (_old, ns) => this.enqueueIfTerminating(ns),
    });
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.namespaces] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  private enqueueIfTerminating(ns: Namespace): void {
    if (isNamespaceTerminating(ns)) this.enqueue(ns as KubeObject);
  }

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const ns = this.namespaces.cache.get(key);
    if (ns === undefined || !isNamespaceTerminating(ns)) return;
    const name = ns.metadata.name ?? '';
    const nsObj = { ...ns, kind: 'Namespace', apiVersion: 'v1' } as KubeObject;
    const pass = await this.deleteContent(name, signal);
    if (pass.deleted > 0) this.events.record(nsObj, 'Normal', 'DeletedContent', `Deleted ${pass.deleted} objects in namespace ${name}`);
    if (pass.failed > 0) {
      if (!signal.aborted) this.events.record(nsObj, 'Warning', 'FailedDeleteContent', `Failed to delete ${pass.failed} objects: ${(pass.firstError as Error).message}`);
      throw new ControllerError(ControllerErrorCode.PartialSync, `namespace ${name}: ${pass.failed} deletes failed`, { cause: pass.firstError });
    }
    const remaining = await this.countContent(name, signal);
    if (remaining > 0) {
      // Pods in their grace period, objects held by finalizers: their own deletion ends them.
      this.logger.debug({ controller: this.name, namespace: name, remaining }, 'content still going; looking again later');
      this.enqueueAfter(key, this.contentRecheckMs);
      return;
    }
    await this.finalize(ns, nsObj, signal);
  }

  private api(info: ResourceInfo, namespace: string): ResourceClient<KubeObject> {
    return this.client.resource(info.resource as ResourceName, namespace) as unknown as ResourceClient<KubeObject>;
  }

  /** One DELETE for every object in the namespace not already marked, `deletesInFlightMax` at a time. */
  private async deleteContent(namespace: string, signal: AbortSignal): Promise<ContentPass> {
    const pass: ContentPass = { deleted: 0, failed: 0, firstError: undefined };
    for (const info of this.contentResources) {
      const api = this.api(info, namespace);
      const victims = objectsToDelete((await api.listAll({ signal })).items);
      for (let start = 0; start < victims.length; start += this.deletesInFlightMax) {
        const batch = victims.slice(start, start + this.deletesInFlightMax);
        const results = await Promise.allSettled(batch.map((obj) => api.delete(obj.metadata.name ?? '', { signal, preconditions: { uid: obj.metadata.uid } })));
        for (const result of results) {
          if (result.status === 'fulfilled') pass.deleted++;
          // Gone already, or the name now holds another object (which its own DELETE handles).
          else if (hasStatusReason(result.reason, 'NotFound') || hasStatusReason(result.reason, 'Conflict')) continue;
          else {
            pass.failed++;
            pass.firstError ??= result.reason;
          }
        }
      }
    }
    return pass;
  }

  private async countContent(namespace: string, signal: AbortSignal): Promise<number> {
    let count = 0;
    for (const info of this.contentResources) count += (await this.api(info, namespace).listAll({ signal })).items.length;
    return count;
  }

  /**
   * Writes the namespace's status (NamespaceContentRemaining False). Today's apiserver removes a
   * Terminating namespace on any write (no finalizers, no grace left); until it has a real
   * `finalize` (spec.finalizers), a namespace that survives the write is looked at again.
   */
  private async finalize(ns: Namespace, nsObj: KubeObject, signal: AbortSignal): Promise<void> {
    const name = ns.metadata.name ?? '';
    const namespaces = this.client.resource('namespaces');
    try {
      await namespaces.updateStatus(namespaceContentRemoved(ns, this.wallClockMs()), { signal });
      const still = await namespaces.get(name, { signal });
      if (still.metadata.uid === ns.metadata.uid) {
        this.logger.warn({ controller: this.name, namespace: name, finalizers: still.spec?.finalizers ?? [] }, 'namespace is empty but was not removed; looking again later');
        this.enqueueAfter(name, this.contentRecheckMs);
        return;
      }
    } catch (error) {
      if (!hasStatusReason(error, 'NotFound')) throw error;
    }
    this.logger.info({ controller: this.name, namespace: name }, 'removed namespace after deleting its content');
    this.events.record(nsObj, 'Normal', 'NamespaceRemoved', `Removed namespace ${name}: no content left`);
  }
}
