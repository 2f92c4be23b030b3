// The Endpoints controller (kubernetes pkg/controller/endpoint): for every Service with a selector,
// an Endpoints object of the same name listing the ready and not-ready addresses of the pods it
// selects, with the Service's ports resolved per pod; written only when it would change.

import { hasStatusReason, labelSelectorFromSet, matchesLabels, type Endpoints, type KubeObject, type Pod, type Service } from '@raftplane/api';
import { type Client, type DeletedFinalStateUnknown, deletedObject, EventRecorder, type Informer, isUnchanged, objectKey } from '@raftplane/client';
import { Controller, type ControllerOptions } from './controller.js';
import { endpointSubsetsFor, jsonEqual, serviceHasSelector, subsetsEqual } from './endpoints-subsets.js';

export interface EndpointsControllerOptions extends ControllerOptions {
  readonly events?: EventRecorder;
}

export class EndpointsController extends Controller {
  readonly events: EventRecorder;
  /** Writes made (creates, updates, deletes): what tests check "writes only on change" against. */
  private writeCount = 0;

  constructor(
    private readonly client: Client,
    private readonly services: Informer<Service>,
    private readonly pods: Informer<Pod>,
    private readonly endpoints: Informer<Endpoints>,
    options: EndpointsControllerOptions = {},
  ) {
    super('endpoints-controller', options);
    this.events = options.events ?? new EventRecorder(client, { component: this.name, wallClockMs: this.wallClockMs });
    services.addHandler({
      onAdd: (svc) => this.enqueue(svc),
      onUpdate: (old, svc) => {
        if (!isUnchanged(old, svc)) this.enqueue(svc);
      },
      onDelete: (svc) => this.enqueue(svc),
    });
    pods.addHandler({
      onAdd: (pod) => this.enqueueServicesOf(pod),
      onUpdate: (old, pod) => this.onPodUpdate(old, pod),
      onDelete: (pod) => this.enqueueServicesOf(deletedObject(pod)),
    });
    // Endpoints deleted by someone else come back; nothing else about them is watched (as Kubernetes).
    endpoints.addHandler({ onDelete: (ep) => this.enqueue(ep) });
  }

  /** Creates, updates and deletes of Endpoints this controller has made. */
  writes(): number {
    return this.writeCount;
  }

  protected informers(): readonly Informer<KubeObject>[] {
    return [this.services, this.pods, this.endpoints] as unknown as Informer<KubeObject>[];
  }

  override async run(signal: AbortSignal): Promise<void> {
    this.events.bind(signal);
    void this.enqueueLeftoverEndpoints(signal);
    await super.run(signal);
  }

  protected override async afterStop(): Promise<void> {
    await this.events.drain();
  }

  /**
   * checkLeftoverEndpoints: once the caches are synced, every Endpoints is looked at once, so that
   * the Endpoints of a Service deleted while no leader ran are deleted too.
   */
  private async enqueueLeftoverEndpoints(signal: AbortSignal): Promise<void> {
    try {
      await Promise.all(this.informers().map((informer) => informer.waitForSync(signal)));
    } catch {
      return;
    }
    for (const ep of this.endpoints.cache.list()) {
      if (this.services.cache.get(objectKey(ep)) === undefined) this.enqueue(ep);
    }
  }

  // ---- handlers: pods to the keys of the Services that select them ----

  private enqueueServicesOf(pod: Pod): void {
    for (const svc of this.services.cache.byNamespace(pod.metadata.namespace ?? '')) {
      if (serviceHasSelector(svc) && matchesLabels(labelSelectorFromSet(svc.spec?.selector ?? {}), pod.metadata.labels)) this.enqueue(svc);
    }
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (isUnchanged(old, pod)) return;
    this.enqueueServicesOf(pod);
    // A relabelled pod leaves the Services that selected it before.
    if (!jsonEqual(old.metadata.labels ?? {}, pod.metadata.labels ?? {})) this.enqueueServicesOf(old);
  }

  // ---- sync ----

  protected async sync(key: string, signal: AbortSignal): Promise<void> {
    const service = this.services.cache.get(key);
    const current = this.endpoints.cache.get(key);
    if (service === undefined) {
      if (current !== undefined) await this.deleteEndpoints(current, signal);
      return;
    }
    // A Service without a selector has its Endpoints managed by someone else.
    if (!serviceHasSelector(service)) return;
    const namespace = service.metadata.namespace ?? '';
    const pods = this.pods.cache.byLabels(labelSelectorFromSet(service.spec?.selector ?? {}), namespace);
    const subsets = endpointSubsetsFor(service, pods);
    const labels = { ...(service.metadata.labels ?? {}) };
    if (current === undefined) {
      await this.createEndpoints(service, subsets, labels, signal);
      return;
    }
    if (subsetsEqual(current.subsets, subsets) && jsonEqual(current.metadata.labels ?? {}, labels)) return;
    const copy = structuredClone(current) as Endpoints;
    copy.subsets = subsets;
    copy.metadata.labels = labels;
    // Compare-and-swap on the cached resourceVersion: a 409 retries with the newer object.
    await this.client.resource('endpoints', namespace).update(copy, { signal });
    this.writeCount++;
  }

  private async createEndpoints(service: Service, subsets: Endpoints['subsets'], labels: Record<string, string>, signal: AbortSignal): Promise<void> {
    const body: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: service.metadata.name, namespace: service.metadata.namespace, labels },
      subsets,
    };
    try {
      await this.client.resource('endpoints', service.metadata.namespace).create(body, { signal });
      this.writeCount++;
    } catch (error) {
      // AlreadyExists: made meanwhile (by us before a restart); the informer brings it, then an update.
      if (!hasStatusReason(error, 'AlreadyExists') && !signal.aborted) {
        const svc = { ...service, kind: 'Service', apiVersion: 'v1' } as KubeObject;
        this.events.record(svc, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${objectKey(service)}: ${(error as Error).message}`);
      }
      throw error;
    }
  }

  private async deleteEndpoints(ep: Endpoints, signal: AbortSignal): Promise<void> {
    try {
      await this.client.resource('endpoints', ep.metadata.namespace).delete(ep.metadata.name ?? '', { signal, preconditions: { uid: ep.metadata.uid } });
      this.writeCount++;
    } catch (error) {
      if (!hasStatusReason(error, 'NotFound')) throw error;
    }
  }
}
