// One Kubernetes API request, from its method, path, query, headers and body to its answer: the
// routing of verbs, the presentation (object, list, Table, metadata only) and the authorization
// check. The HTTP server (http-server.ts) and the in-process client both call it.

import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  badRequestError,
  groupVersionOf,
  methodNotAllowedError,
  parseIncludeObject,
  partialObjectMetadata,
  partialObjectMetadataList,
  StatusError,
  toTable,
  type KubeObject,
  type ListMeta,
  type MetadataEnv,
  type Pod,
  type ResourceInfo,
  type Status,
} from '@raftplane/api';
import type { ApiBackend } from './backend.js';
import { parseJsonBody, parseObjectBody, requireJsonContent } from './body.js';
import { authorize, type AuthorizationPolicy, type UserInfo } from './authz.js';
import { deleteObject, parseDeleteOptions } from './delete.js';
import { ObjectStore, type UpdateResult } from './object-store.js';
import type { ObjectWatchOptions } from './object-watch.js';
import { booleanParam, integerParam, parseDryRun, parseFieldSelectorParam, parseLabelSelectorParam, parseListOptions, parseReadOptions, parseWatchStart } from './request-options.js';
import { ResourceRest, patchTypeOf, type WriteContext } from './rest.js';
import { parseRoute } from './router.js';
import { silentLogger, type ApiLogger } from './logger.js';
import { WatchCaches, watchCacheDefaults, type WatchCache, type WatchCacheSettings } from './watch-cache.js';
import { bindPod, podLogTarget, scaleOf, updateScale } from './subresources.js';
import { ServiceAllocator } from './service-allocation.js';
import { parseServiceRanges, serviceRangeDefaults, type ServiceRanges } from './service-ranges.js';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: {
    readonly accept?: string | undefined;
    readonly contentType?: string | undefined;
    readonly userAgent?: string | undefined;
  };
  readonly body: Uint8Array | null;
  readonly user: UserInfo;
}

/** How objects are shown: as they are, as a server-side Table, or as metadata only. */
export type Presentation = { readonly as: 'object' } | { readonly as: 'table'; readonly includeObject: 'None' | 'Metadata' | 'Object' } | { readonly as: 'metadata' };

export type ApiResult =
  | { readonly type: 'response'; readonly status: number; readonly body: unknown; readonly contentType?: string }
  | { readonly type: 'watch'; readonly options: Omit<ObjectWatchOptions, 'output' | 'onCutOff'>; readonly presentation: Presentation }
  /** A stream served elsewhere (a node agent's container logs): the HTTP server proxies `url`. */
  | { readonly type: 'proxy'; readonly url: string };


export interface ApiHandlerOptions {
  readonly backend: ApiBackend;
  readonly env: MetadataEnv;
  readonly authorization: AuthorizationPolicy;
  /** The `host:port` clients should use (`GET /api`). */
  readonly serverAddress: string;
  readonly bookmarkIntervalMs: number;
  /** A watch without timeoutSeconds ends after a random time in [min, 2 × min), as Kubernetes' do. */
  readonly watchTimeoutMsMin: number;
  readonly watchTimeoutSecondsMax: number;
  /** Where Services get their ClusterIPs and NodePorts (the cluster config's); the defaults when absent. */
  readonly serviceRanges?: ServiceRanges;
  /** The watch caches' settings; null: every watch reads the hub directly. */
  readonly watchCache?: WatchCacheSettings | null;
  readonly logger?: ApiLogger;
}

/** Kubernetes' own verb names for a request to a resource. */
function verbOf(method: string, name: string | null, watch: boolean): string {
  switch (method) {
    case 'GET':
      return name === null ? (watch ? 'watch' : 'list') : watch ? 'watch' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name === null ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

/** The Accept header's choice: `as=Table` or `as=PartialObjectMetadata[List]`, else plain objects. */
export function presentationOf(accept: string | undefined, query: URLSearchParams): Presentation {
  if (accept === undefined) return { as: 'object' };
  for (const clause of accept.split(',')) {
    const params = clause.split(';').map((p) => p.trim());
    const as = params.find((p) => p.startsWith('as='))?.slice(3);
    if (as === 'Table') return { as: 'table', includeObject: parseIncludeObject(query.get('includeObject')) };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'metadata' };
    if (as === undefined) return { as: 'object' };
  }
  return { as: 'object' };
}

function ensureKind(obj: KubeObject, info: ResourceInfo): KubeObject {
  return obj.kind === info.kind && obj.apiVersion !== undefined ? obj : { ...obj, kind: info.kind, apiVersion: groupVersionOf(info) };
}

function response(status: number, body: unknown): ApiResult {
  return { type: 'response', status, body };
}

export class ApiHandler {
  private readonly store: ObjectStore;
  private readonly rest: ResourceRest;
  private readonly caches: WatchCaches | null;

  constructor(private readonly options: ApiHandlerOptions) {
    const ranges = options.serviceRanges ?? parseServiceRanges(serviceRangeDefaults.serviceClusterIPRange, serviceRangeDefaults.serviceNodePortRange);
    this.store = new ObjectStore(options.backend, new ServiceAllocator(options.backend, ranges, () => options.env.random()));
    this.rest = new ResourceRest(this.store, options.env);
    const cacheSettings = options.watchCache === undefined ? watchCacheDefaults : options.watchCache;
    this.caches = cacheSettings === null ? null : new WatchCaches(options.backend, cacheSettings, options.logger ?? silentLogger);
  }

  /** The watch cache of a resource; null when watch caches are off. */
  watchCacheOf(info: ResourceInfo): WatchCache | null {
    return this.caches?.of(info) ?? null;
  }

  /** Stops the watch caches (their watchers end and resume elsewhere). */
  close(): void {
    this.caches?.close();
  }

  /** The object store the handler writes through (for leader duties on the same master). */
  get objects(): ObjectStore {
    return this.store;
  }

  async handle(request: ApiRequest): Promise<ApiResult> {
    const route = parseRoute(request.path);
    switch (route.kind) {
      case 'api-versions':
        return this.discovery(request, apiVersions(this.options.serverAddress));
      case 'api-groups':
        return this.discovery(request, apiGroupList());
      case 'api-group':
        return this.discovery(request, apiGroup(route.group));
      case 'resource-list':
        return this.discovery(request, apiResourceList(route.group, route.version));
      case 'not-found':
        throw notFoundPath();
      case 'resource':
        break;
    }
    const { info, namespace, name, subresource } = route;
    const watch = route.legacyWatch || booleanParam(request.query, 'watch');
    const verb = verbOf(request.method, name, watch);
    authorize(this.options.authorization, request.user, verb, info, namespace, name, subresource);
    const presentation = presentationOf(request.headers.accept, request.query);
    const dryRun = parseDryRun(request.query);
    const context: WriteContext = { namespace, fieldManager: fieldManagerOf(request), dryRun };

    // Across namespaces, a namespaced resource can only be listed and watched.
    if (info.namespaced && namespace === '' && verb !== 'list' && verb !== 'watch') {
      throw methodNotAllowedError(`${request.method} is not supported on ${info.resource} across all namespaces: name a namespace (/namespaces/<namespace>/${info.resource})`);
    }
    if (info.resource === 'bindings') {
      if (verb !== 'create') throw methodNotAllowedError(`bindings only supports create (POST), not ${request.method}`);
      const body = parseJsonBody(request.body) as { metadata?: { name?: string } };
      const podName = body?.metadata?.name;
      if (typeof podName !== 'string' || podName === '') throw badRequestError('metadata.name: Required value: the binding must name the pod');
      return response(201, await bindPod(this.store, this.options.env, podsOf(info), namespace, podName, body, dryRun));
    }
    if (subresource !== null) return this.subresource(request, info, namespace, name as string, subresource, context, presentation);

    switch (verb) {
      case 'get': {
        const obj = await this.store.get(info, namespace, name as string, parseReadOptions(request.query));
        return response(200, this.presentOne(ensureKind(obj, info), info, presentation));
      }
      case 'list': {
        const listed = await this.store.list(info, namespace, parseListOptions(request.query, info.kind));
        const meta: ListMeta = { resourceVersion: String(listed.revision), ...(listed.continueToken === undefined ? {} : { continue: listed.continueToken }) };
        return response(200, this.presentList(listed.items.map((o) => ensureKind(o, info)), info, meta, presentation));
      }
      case 'watch':
        return this.watch(request, info, namespace, name, presentation);
      case 'create': {
        if (name !== null) throw methodNotAllowedError(`POST to a named ${info.kind} is not supported: create with POST to the collection`);
        const created = await this.rest.create(info, parseObjectBody(request.body, request.headers.contentType), context);
        return response(201, this.presentOne(ensureKind(created, info), info, presentation));
      }
      case 'update': {
        const result = await this.rest.update(info, name as string, parseObjectBody(request.body, request.headers.contentType), context);
        return response(200, this.presentOne(ensureKind(result.object, info), info, presentation));
      }
      case 'patch': {
        const type = patchTypeOf(request.headers.contentType);
        const { result, created } = await this.rest.patch(info, name as string, type, request.body, { ...context, force: booleanParam(request.query, 'force') });
        return response(created ? 201 : 200, this.presentOne(ensureKind(result.object, info), info, presentation));
      }
      case 'delete': {
        const body = request.body === null || request.body.byteLength === 0 ? undefined : parseJsonBody(request.body);
        const options = parseDeleteOptions(body, request.query, dryRun);
        const result = await deleteObject(this.store, this.options.env, info, namespace, name as string, options);
        return response(result.removed ? 200 : 202, this.presentOne(ensureKind(result.object, info), info, presentation));
      }
      case 'deletecollection':
        return this.deleteCollection(request, info, namespace, dryRun, presentation);
      default:
        throw methodNotAllowedError(`${request.method} is not supported on ${request.path}`);
    }
  }

  private discovery(request: ApiRequest, document: unknown): ApiResult {
    if (request.method !== 'GET') throw methodNotAllowedError(`${request.method} is not supported on ${request.path}: discovery documents are read-only`);
    if (document === undefined) throw notFoundPath();
    return response(200, document);
  }

  private presentOne(obj: KubeObject, info: ResourceInfo, presentation: Presentation): unknown {
    switch (presentation.as) {
      case 'object':
        return obj;
      case 'metadata':
        return partialObjectMetadata(obj);
      case 'table':
        return toTable([obj], info.kind, { now: this.options.env.now, wide: true, includeObject: presentation.includeObject, listMeta: { resourceVersion: obj.metadata.resourceVersion } });
    }
  }

  private presentList(items: KubeObject[], info: ResourceInfo, meta: ListMeta, presentation: Presentation): unknown {
    switch (presentation.as) {
      case 'object':
        return { kind: info.listKind, apiVersion: groupVersionOf(info), metadata: meta, items };
      case 'metadata':
        return partialObjectMetadataList(items, meta);
      case 'table':
        return toTable(items, info.kind, { now: this.options.env.now, wide: true, includeObject: presentation.includeObject, listMeta: meta });
    }
  }

  private watch(request: ApiRequest, info: ResourceInfo, namespace: string, name: string | null, presentation: Presentation): ApiResult {
    const query = new URLSearchParams(request.query);
    // A watch of one object (`/pods/x?watch=true`, or the legacy `/watch/.../pods/x`) is a
    // watch of the collection with metadata.name selected.
    if (name !== null) {
      const fields = query.get('fieldSelector');
      query.set('fieldSelector', fields ? `${fields},metadata.name=${name}` : `metadata.name=${name}`);
    }
    const timeoutSeconds = integerParam(query, 'timeoutSeconds', 0);
    const min = this.options.watchTimeoutMsMin;
    const timeoutMs =
      timeoutSeconds > 0 ? Math.min(timeoutSeconds, this.options.watchTimeoutSecondsMax) * 1000 : Math.floor(min + this.options.env.random() * min);
    return {
      type: 'watch',
      presentation,
      options: {
        info,
        namespace,
        labelSelector: parseLabelSelectorParam(query),
        fieldSelector: parseFieldSelectorParam(query, info.kind),
        ...parseWatchStart(query),
        bookmarks: booleanParam(query, 'allowWatchBookmarks'),
        bookmarkIntervalMs: this.options.bookmarkIntervalMs,
        timeoutMs,
        cache: this.caches?.of(info) ?? null,
      },
    };
  }

  private async deleteCollection(request: ApiRequest, info: ResourceInfo, namespace: string, dryRun: boolean, presentation: Presentation): Promise<ApiResult> {
    const body = request.body === null || request.body.byteLength === 0 ? undefined : parseJsonBody(request.body);
    const options = parseDeleteOptions(body, request.query, dryRun);
    const listed = await this.store.list(info, namespace, { ...parseListOptions(request.query, info.kind), limit: 0, continueFrom: null });
    const deleted: KubeObject[] = [];
    for (const obj of listed.items) {
      let result: UpdateResult;
      try {
        result = await deleteObject(this.store, this.options.env, info, namespace || (obj.metadata.namespace ?? ''), obj.metadata.name ?? '', options);
      } catch (error) {
        // Gone meanwhile: that is what was asked for.
        if (error instanceof StatusError && error.reason === 'NotFound') continue;
        throw error;
      }
      deleted.push(ensureKind(result.object, info));
    }
    return response(200, this.presentList(deleted, info, { resourceVersion: String(listed.revision) }, presentation));
  }

  private async subresource(
    request: ApiRequest,
    info: ResourceInfo,
    namespace: string,
    name: string,
    subresource: string,
    context: WriteContext,
    presentation: Presentation,
  ): Promise<ApiResult> {
    const method = request.method;
    const sub = info.subresources.find((s) => s.name === subresource);
    if (sub === undefined) throw notFoundPath();
    switch (subresource) {
      case 'status':
      case 'finalize':
        if (method === 'GET') return response(200, this.presentOne(ensureKind(await this.store.get(info, namespace, name, parseReadOptions(request.query)), info), info, presentation));
        if (method === 'PUT') {
          requireJsonContent(request.headers.contentType);
          const result = await this.rest.update(info, name, parseJsonBody(request.body), context, 'status');
          return response(200, ensureKind(result.object, info));
        }
        if (method === 'PATCH') {
          const { result } = await this.rest.patch(info, name, patchTypeOf(request.headers.contentType), request.body, { ...context, force: booleanParam(request.query, 'force') }, 'status');
          return response(200, ensureKind(result.object, info));
        }
        break;
      case 'scale':
        if (method === 'GET') return response(200, scaleOf(await this.store.get(info, namespace, name, parseReadOptions(request.query))));
        if (method === 'PUT') {
          requireJsonContent(request.headers.contentType);
          return response(200, await updateScale(this.store, info, namespace, name, { body: parseJsonBody(request.body) }, context.dryRun));
        }
        if (method === 'PATCH') {
          const type = patchTypeOf(request.headers.contentType);
          if (type === 'apply') throw badRequestError('server-side apply of the scale subresource is not supported: patch spec.replicas with a merge patch');
          return response(200, await updateScale(this.store, info, namespace, name, { patchType: type, patch: parseJsonBody(request.body) }, context.dryRun));
        }
        break;
      case 'binding':
        if (method === 'POST') return response(201, await bindPod(this.store, this.options.env, info, namespace, name, parseJsonBody(request.body), context.dryRun));
        break;
      case 'log':
        if (method === 'GET') return { type: 'proxy', url: await podLogTarget(this.store, (await this.store.get(info, namespace, name)) as Pod, request.query) };
        break;
      default:
        break;
    }
    throw methodNotAllowedError(`${method} is not supported on ${info.resource}/${subresource}`);
  }
}

function podsOf(bindings: ResourceInfo): ResourceInfo {
  return { ...bindings, resource: 'pods', kind: 'Pod', listKind: 'PodList', singular: 'pod' };
}

/** `the server could not find the requested resource`, Kubernetes' 404 for a path it does not serve. */
export function notFoundPath(): StatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 };
  return new StatusError(status);
}

/** `?fieldManager=`, else the client's user agent up to its first `/` (Kubernetes' default). */
function fieldManagerOf(request: ApiRequest): string {
  const given = request.query.get('fieldManager');
  if (given !== null && given !== '') {
    if (given.length > 128) throw badRequestError(`fieldManager: Too long: may not be longer than 128 characters`);
    return given;
  }
  const agent = request.headers.userAgent ?? '';
  const product = agent.split('/')[0]?.trim() ?? '';
  return product === '' ? 'unknown' : product.slice(0, 128);
}

