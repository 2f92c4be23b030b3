// The typed calls on one resource (client-go's typed clientset, one interface for all kinds):
// each call builds a TransportRequest in Kubernetes' paths and parameters, and turns the answer
// into the object or the server's StatusError.

import type { DeleteOptions, KubeObject, List, ResourceInfo, Scale, Status, Verb } from '@raftplane/api';
import { groupVersionOf } from '@raftplane/api';
import type { Clock } from './clock.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { createIdempotently, withConcreteName } from './idempotent-create.js';
import type { ClientLogger } from './logger.js';
import { collectionPath, objectPath } from './paths.js';
import type { RetryPolicy } from './retry-loop.js';
import { statusErrorFromResponse } from './status-errors.js';
import type { Transport, TransportRequest, TransportResponse, WatchEvent, WatchStream } from './transport.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/** The Content-Type of each patch type, as the apiserver dispatches on it. */
export const patchContentTypes: Readonly<Record<PatchType, string>> = Object.freeze({
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
});

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface GetOptions extends CallOptions {
  readonly resourceVersion?: string;
}

export interface ListOptions extends CallOptions {
  /** The string form: `app=web,tier!=db`. */
  readonly labelSelector?: string;
  /** The string form: `spec.nodeName=node-1`. */
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions extends CallOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Events after this one; unset or "0" starts with synthetic ADDED events for the current state. */
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  /** The server ends the watch after this long (normally: the stream just ends). */
  readonly timeoutSeconds?: number;
}

export interface WriteOptions extends CallOptions {
  readonly fieldManager?: string;
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. */
  readonly force?: boolean;
  readonly subresource?: 'status' | 'scale';
}

export interface DeleteCallOptions extends CallOptions {
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

export interface DeleteCollectionOptions extends DeleteCallOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface ResourceClient<T extends KubeObject> {
  readonly info: ResourceInfo;
  /** The namespace calls are bound to; undefined lists and watches every namespace. */
  readonly namespace: string | undefined;
  get(name: string, options?: GetOptions): Promise<T>;
  /** One page. */
  list(options?: ListOptions): Promise<List<T>>;
  /** Every page, `limit` (default 500) at a time, following `continue`; the first page's resourceVersion. */
  listAll(options?: ListOptions): Promise<List<T>>;
  /** Names the object first when it only has generateName, so that a lost answer can be retried (idempotent-create.ts). */
  create(obj: T, options?: WriteOptions): Promise<T>;
  /** PUT: a compare-and-swap when metadata.resourceVersion is set. */
  update(obj: T, options?: WriteOptions): Promise<T>;
  updateStatus(obj: T, options?: WriteOptions): Promise<T>;
  /** `apply` needs `fieldManager`; the body of `json` is an array of operations. */
  patch(name: string, type: PatchType, patch: unknown, options?: PatchOptions): Promise<T>;
  /** The object as it is now marked for deletion, or a Success Status when it is gone. */
  delete(name: string, options?: DeleteCallOptions): Promise<T | Status>;
  deleteCollection(options?: DeleteCollectionOptions): Promise<List<T> | Status>;
  watch(options?: WatchOptions): Promise<WatchStream<WatchEvent<T>>>;
  getScale(name: string, options?: CallOptions): Promise<Scale>;
  updateScale(name: string, scale: Scale, options?: WriteOptions): Promise<Scale>;
}

/** What typed calls need beyond the transport. */
export interface ResourceClientContext {
  readonly transport: Transport;
  readonly random: () => number;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly logger: ClientLogger;
}

/** The page size listAll (and the informer) asks for: kubectl's and client-go's. */
export const listPageLimit = 500;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function defined(entries: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) query[key] = String(value);
  return query;
}

function deleteOptionsBody(options: DeleteCallOptions): DeleteOptions {
  const body: DeleteOptions = { kind: 'DeleteOptions', apiVersion: 'v1' };
  if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
  if (options.preconditions !== undefined) body.preconditions = { ...options.preconditions };
  if (options.propagationPolicy !== undefined) body.propagationPolicy = options.propagationPolicy;
  return body;
}

export class TypedResourceClient<T extends KubeObject> implements ResourceClient<T> {
  constructor(
    private readonly context: ResourceClientContext,
    readonly info: ResourceInfo,
    readonly namespace: string | undefined,
  ) {}

  async get(name: string, options: GetOptions = {}): Promise<T> {
    this.requireVerb('get');
    const path = objectPath(this.info, this.namespaceFor('get', undefined), this.requireName('get', name));
    return this.call({ method: 'GET', path, query: defined({ resourceVersion: options.resourceVersion }), signal: options.signal }, name);
  }

  async list(options: ListOptions = {}): Promise<List<T>> {
    this.requireVerb('list');
    const query = defined({
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit,
      continue: options.continue,
      resourceVersion: options.resourceVersion,
      resourceVersionMatch: options.resourceVersionMatch,
    });
    const list = await this.call<List<T>>({ method: 'GET', path: collectionPath(this.info, this.namespace), query, signal: options.signal }, undefined);
    if (!Array.isArray(list.items) || !isRecord(list.metadata)) throw this.malformed('GET', collectionPath(this.info, this.namespace), 'a list without items or metadata', undefined);
    // Items carry kind and apiVersion on the wire; fill them where a server left them out, as client-go's decoder does.
    for (const item of list.items) {
      item.kind ??= this.info.kind;
      item.apiVersion ??= groupVersionOf(this.info);
    }
    return list;
  }

  async listAll(options: ListOptions = {}): Promise<List<T>> {
    const items: T[] = [];
    let first: List<T> | undefined;
    let next: string | undefined = options.continue;
    do {
      const page: List<T> = await this.list({ ...options, limit: options.limit ?? listPageLimit, continue: next });
      first ??= page;
      items.push(...page.items);
      next = page.metadata.continue === '' ? undefined : page.metadata.continue;
    } while (next !== undefined);
    return { kind: first.kind, apiVersion: first.apiVersion, metadata: { resourceVersion: first.metadata.resourceVersion }, items };
  }

  async create(obj: T, options: WriteOptions = {}): Promise<T> {
    this.requireVerb('create');
    const named = withConcreteName(obj, this.context.random);
    const namespace = this.namespaceFor('create', named.metadata?.namespace);
    const request = { method: 'POST' as const, path: collectionPath(this.info, namespace), query: defined({ fieldManager: options.fieldManager }), body: named, signal: options.signal };
    const outcome = await createIdempotently(
      {
        ...this.context,
        send: (r) => this.context.transport.request(r),
        getStored: (name, signal) => this.get(name, { signal }) as Promise<KubeObject>,
        errorOf: (response) => statusErrorFromResponse(response, request),
      },
      request,
    );
    return 'stored' in outcome ? (outcome.stored as T) : this.object(outcome, request, named.metadata?.name);
  }

  async update(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.put('update', obj, undefined, options);
  }

  async updateStatus(obj: T, options: WriteOptions = {}): Promise<T> {
    this.requireSubresource('status');
    return this.put('update', obj, 'status', options);
  }

  async patch(name: string, type: PatchType, patch: unknown, options: PatchOptions = {}): Promise<T> {
    this.requireVerb('patch');
    if (options.subresource !== undefined) this.requireSubresource(options.subresource);
    if (type === 'apply' && (options.fieldManager === undefined || options.fieldManager === '')) {
      throw this.invalid(`apply patch of ${this.info.resource} "${name}" needs a fieldManager`, name);
    }
    const path = objectPath(this.info, this.namespaceFor('patch', undefined), this.requireName('patch', name), options.subresource);
    const query = defined({ fieldManager: options.fieldManager, force: type === 'apply' ? (options.force ?? false) : options.force });
    return this.call({ method: 'PATCH', path, query, headers: { 'content-type': patchContentTypes[type] }, body: patch, signal: options.signal }, name);
  }

  async delete(name: string, options: DeleteCallOptions = {}): Promise<T | Status> {
    this.requireVerb('delete');
    const path = objectPath(this.info, this.namespaceFor('delete', undefined), this.requireName('delete', name));
    return this.call({ method: 'DELETE', path, body: deleteOptionsBody(options), signal: options.signal }, name);
  }

  async deleteCollection(options: DeleteCollectionOptions = {}): Promise<List<T> | Status> {
    this.requireVerb('deletecollection');
    const path = collectionPath(this.info, this.namespaceFor('deletecollection', undefined));
    const query = defined({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector });
    return this.call({ method: 'DELETE', path, query, body: deleteOptionsBody(options), signal: options.signal }, undefined);
  }

  async watch(options: WatchOptions = {}): Promise<WatchStream<WatchEvent<T>>> {
    this.requireVerb('watch');
    const query = defined({
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      timeoutSeconds: options.timeoutSeconds,
    });
    const stream = await this.context.transport.watch({ path: collectionPath(this.info, this.namespace), query, signal: options.signal });
    return stream as WatchStream<WatchEvent<T>>;
  }

  async getScale(name: string, options: CallOptions = {}): Promise<Scale> {
    this.requireSubresource('scale');
    const path = objectPath(this.info, this.namespaceFor('get', undefined), this.requireName('get', name), 'scale');
    return this.call({ method: 'GET', path, signal: options.signal }, name);
  }

  async updateScale(name: string, scale: Scale, options: WriteOptions = {}): Promise<Scale> {
    this.requireSubresource('scale');
    const path = objectPath(this.info, this.namespaceFor('update', scale.metadata?.namespace), this.requireName('update', name), 'scale');
    const body: Scale = { ...scale, kind: 'Scale', apiVersion: 'autoscaling/v1' };
    return this.call({ method: 'PUT', path, query: defined({ fieldManager: options.fieldManager }), body, signal: options.signal }, name);
  }

  private async put(verb: Verb, obj: T, subresource: 'status' | undefined, options: WriteOptions): Promise<T> {
    this.requireVerb(verb);
    const name = this.requireName(verb, obj.metadata?.name);
    const path = objectPath(this.info, this.namespaceFor(verb, obj.metadata?.namespace), name, subresource);
    return this.call({ method: 'PUT', path, query: defined({ fieldManager: options.fieldManager }), body: obj, signal: options.signal }, name);
  }

  /** Sends one request and returns the answer's object, or throws the server's StatusError. */
  private async call<R = T>(request: TransportRequest, name: string | undefined): Promise<R> {
    return this.object<R>(await this.context.transport.request(request), request, name);
  }

  private object<R = T>(response: TransportResponse, request: TransportRequest, name: string | undefined): R {
    if (response.status < 200 || response.status >= 300) throw statusErrorFromResponse(response, request);
    if (!isRecord(response.body)) throw this.malformed(request.method, request.path, `HTTP ${response.status} without a JSON object`, name);
    return response.body as R;
  }

  private namespaceFor(verb: Verb, objectNamespace: string | undefined): string | undefined {
    if (!this.info.namespaced) return undefined;
    if (this.namespace !== undefined && objectNamespace !== undefined && objectNamespace !== '' && objectNamespace !== this.namespace) {
      throw this.invalid(`${verb} ${this.info.resource}: the object's namespace "${objectNamespace}" is not the client's "${this.namespace}"`, undefined);
    }
    const namespace = this.namespace ?? (objectNamespace === '' ? undefined : objectNamespace);
    if (namespace === undefined) throw this.invalid(`${verb} ${this.info.resource}: a namespace is required (resource is namespaced)`, undefined);
    return namespace;
  }

  private requireName(verb: Verb, name: string | undefined): string {
    if (name === undefined || name === '') throw this.invalid(`${verb} ${this.info.resource}: a name is required`, undefined);
    return name;
  }

  private requireVerb(verb: Verb): void {
    if (!this.info.verbs.includes(verb)) throw this.invalid(`${this.info.resource} do not support ${verb} (served verbs: ${this.info.verbs.join(', ')})`, undefined);
  }

  private requireSubresource(subresource: string): void {
    if (!this.info.subresources.some((s) => s.name === subresource)) throw this.invalid(`${this.info.resource} have no ${subresource} subresource`, undefined);
  }

  private invalid(message: string, name: string | undefined): ClientError {
    return new ClientError(ClientErrorCode.InvalidArgument, message, { resource: this.info.resource, name, namespace: this.namespace });
  }

  private malformed(method: string, path: string, what: string, name: string | undefined): ClientError {
    return new ClientError(ClientErrorCode.MalformedResponse, `${method} ${path} answered ${what}`, { method, path, resource: this.info.resource, name, namespace: this.namespace });
  }
}
