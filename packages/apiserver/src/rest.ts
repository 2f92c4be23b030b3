// The verbs on one resource, as Kubernetes' generic registry runs them: decode, default, set
// metadata, validate, then one compare-and-swap write (rule 7: nothing bad reaches the log).

import {
  applyJsonPatch,
  applyServerSide,
  badRequestError,
  conflictError,
  formatTime,
  invalidError,
  invalidObjectError,
  isJsonObject,
  JsonPatchError,
  mergePatch,
  prepareForCreate,
  prepareForUpdate,
  recordUpdate,
  shouldRemoveAfterUpdate,
  StatusError,
  StrategicMergePatchError,
  strategicMergePatch,
  unsupportedMediaTypeError,
  validateCreate,
  validateUpdate,
  withDefaults,
  type KubeObject,
  type MetadataEnv,
  type ResourceInfo,
  type Service,
} from '@raftplane/api';
import { mediaType, objectOf, parseJsonBody, parseYamlBody } from './body.js';
import type { ObjectStore, UpdateDecision, UpdateResult } from './object-store.js';
import { keepAllocatedValues } from './service-allocation.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType {
  switch (mediaType(contentType)) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
      return 'apply';
    default:
      throw unsupportedMediaTypeError(contentType ?? '(none)');
  }
}

/** What every write carries besides its body. */
export interface WriteContext {
  readonly namespace: string;
  readonly fieldManager: string;
  readonly dryRun: boolean;
}

function withoutVolatile(obj: KubeObject): unknown {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(withoutVolatile(a)) === JSON.stringify(withoutVolatile(b));
}

/** Applies a patch body to the current object as JSON; bad patches are 400 or 422 naming the problem. */
export function applyPatch(current: KubeObject, type: Exclude<PatchType, 'apply'>, patch: unknown, kind: string): unknown {
  try {
    switch (type) {
      case 'merge':
        if (!isJsonObject(patch)) throw badRequestError('a merge patch must be a JSON object');
        return mergePatch(current, patch);
      case 'json':
        if (!Array.isArray(patch)) throw badRequestError('a JSON patch must be a JSON array of operations');
        return applyJsonPatch(current, patch);
      case 'strategic':
        if (!isJsonObject(patch)) throw badRequestError('a strategic merge patch must be a JSON object');
        return strategicMergePatch(current, patch, kind);
    }
  } catch (error) {
    if (error instanceof JsonPatchError || error instanceof StrategicMergePatchError) {
      throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: error.message, reason: 'Invalid', code: 422 });
    }
    throw error;
  }
}

/**
 * What the kinds' create strategies set: a new pod starts Pending whatever status it was sent
 * with; a Job without `manualSelector` gets the selector `controller-uid=<uid>`, with the labels
 * on its pod template (Kubernetes 1.20's job strategy).
 */
function resetStatusOnCreate(obj: KubeObject): void {
  if (obj.kind === 'Pod') (obj as KubeObject & { status?: unknown }).status = { phase: 'Pending' };
  if (obj.kind === 'Job') {
    const job = obj as KubeObject & { spec?: { manualSelector?: boolean; selector?: unknown; template?: { metadata?: { labels?: Record<string, string> } } } };
    const spec = job.spec;
    if (spec === undefined || spec.manualSelector === true) return;
    const uid = job.metadata.uid ?? '';
    spec.selector = { matchLabels: { 'controller-uid': uid } };
    const template = (spec.template ??= {});
    const meta = (template.metadata ??= {});
    meta.labels = { ...meta.labels, 'controller-uid': uid, 'job-name': job.metadata.name ?? '' };
  }
}

/** A Service update that leaves out its clusterIP or nodePorts keeps those it holds (service-allocation.ts). */
function keepServiceAddresses(info: ResourceInfo, next: KubeObject, current: KubeObject): void {
  if (info.group === '' && info.kind === 'Service') keepAllocatedValues(next as Service, current as Service);
}

export class ResourceRest {
  constructor(
    private readonly store: ObjectStore,
    private readonly env: MetadataEnv,
  ) {}

  private now(): string {
    return formatTime(this.env.now());
  }

  /** Fills the path's namespace into a body object, or refuses a body naming another one. */
  private placeInNamespace(obj: KubeObject, info: ResourceInfo, namespace: string): void {
    if (!info.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    const given = obj.metadata.namespace;
    if (given !== undefined && given !== '' && given !== namespace) {
      throw badRequestError(`the namespace of the provided object (${given}) does not match the namespace sent on the request (${namespace})`);
    }
    obj.metadata.namespace = namespace;
  }

  async create(info: ResourceInfo, body: unknown, context: WriteContext): Promise<KubeObject> {
    const obj = objectOf(body, info);
    this.placeInNamespace(obj, info, context.namespace);
    const prepared = prepareForCreate(withDefaults(obj), info, this.env);
    resetStatusOnCreate(prepared);
    const invalid = invalidObjectError(prepared, validateCreate(prepared));
    if (invalid !== undefined) throw invalid;
    const recorded = recordUpdate(null, prepared, context.fieldManager, info.kind, this.now()) as unknown as KubeObject;
    return this.store.create(info, context.namespace, recorded, { dryRun: context.dryRun });
  }

  /**
   * The decision for replacing `current` with `next` (a PUT body or a patched object): defaults,
   * server-owned metadata, validation, managed fields; no write when nothing changed.
   */
  private decideReplace(info: ResourceInfo, current: KubeObject, next: KubeObject, manager: string, subresource?: 'status'): UpdateDecision {
    const name = current.metadata.name ?? '';
    if (next.metadata.name !== undefined && next.metadata.name !== '' && next.metadata.name !== name) {
      throw badRequestError(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    next.metadata.name = name;
    // An unconditional update (no resourceVersion given) replaces the version it was decided on.
    if (!next.metadata.resourceVersion) next.metadata.resourceVersion = current.metadata.resourceVersion;
    keepServiceAddresses(info, next, current);
    const prepared = prepareForUpdate(withDefaults(next), current, info, subresource === undefined ? {} : { subresource });
    const invalid = invalidObjectError(prepared, validateUpdate(prepared, current));
    if (invalid !== undefined) throw invalid;
    if (sameObject(prepared, current)) return { action: 'keep' };
    const recorded = recordUpdate(current, prepared, manager, info.kind, this.now()) as unknown as KubeObject;
    if (shouldRemoveAfterUpdate(recorded)) return { action: 'remove' };
    return { action: 'write', object: recorded };
  }

  /** The resourceVersion precondition a body carries, checked against the current object. */
  private checkPrecondition(info: ResourceInfo, current: KubeObject, wanted: string | undefined): void {
    if (wanted === undefined || wanted === '') return;
    if (wanted !== current.metadata.resourceVersion) throw conflictError(info, current.metadata.name ?? '');
  }

  async update(info: ResourceInfo, name: string, body: unknown, context: WriteContext, subresource?: 'status'): Promise<UpdateResult> {
    const obj = objectOf(body, info);
    this.placeInNamespace(obj, info, context.namespace);
    if (obj.metadata.name !== undefined && obj.metadata.name !== '' && obj.metadata.name !== name) {
      throw badRequestError(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    const wanted = obj.metadata.resourceVersion;
    return this.store.update(
      info,
      context.namespace,
      name,
      (current) => {
        this.checkPrecondition(info, current, wanted);
        return this.decideReplace(info, current, structuredClone(obj), context.fieldManager, subresource);
      },
      // Without a resourceVersion the update is unconditional: it is decided again on a race.
      { retryOnConflict: wanted === undefined || wanted === '', dryRun: context.dryRun },
    );
  }

  /**
   * PATCH: merge, JSON, strategic merge or server-side apply. A patch is decided again from the
   * fresh object when another write got in between, unless it names a resourceVersion. Apply of a
   * missing object creates it (201).
   */
  async patch(
    info: ResourceInfo,
    name: string,
    type: PatchType,
    bodyBytes: Uint8Array | null,
    context: WriteContext & { readonly force: boolean },
    subresource?: 'status',
  ): Promise<{ result: UpdateResult; created: boolean }> {
    const patch = type === 'apply' ? parseYamlBody(bodyBytes) : parseJsonBody(bodyBytes);
    if (type === 'apply') {
      if (!isJsonObject(patch)) throw badRequestError('an apply patch must be an object (the applied configuration)');
      if (context.fieldManager === '') throw badRequestError('fieldManager: Required value: is required for apply patch');
      const applied = objectOf(patch, info);
      if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
        throw badRequestError(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
      }
      const existing = await this.store.find(info, context.namespace, name);
      if (existing === null && subresource === undefined) {
        const result = applyServerSide({ current: null, applied, manager: context.fieldManager, force: context.force, kind: info.kind, now: this.now() });
        const obj = objectOf(result.object, info);
        obj.metadata.name = name;
        this.placeInNamespace(obj, info, context.namespace);
        const prepared = prepareForCreate(withDefaults(obj), info, this.env);
        resetStatusOnCreate(prepared);
        const invalid = invalidObjectError(prepared, validateCreate(prepared));
        if (invalid !== undefined) throw invalid;
        const created = await this.store.create(info, context.namespace, prepared, { dryRun: context.dryRun });
        return { result: { object: created, removed: false, changed: true }, created: true };
      }
    }
    const wanted = isJsonObject(patch) && isJsonObject(patch['metadata']) ? patch['metadata']['resourceVersion'] : undefined;
    const result = await this.store.update(
      info,
      context.namespace,
      name,
      (current) => {
        this.checkPrecondition(info, current, typeof wanted === 'string' ? wanted : undefined);
        let next: unknown;
        if (type === 'apply') {
          const applied = objectOf(patch, info);
          this.placeInNamespace(applied, info, context.namespace);
          const { resourceVersion: _rv, ...liveMeta } = current.metadata;
          const outcome = applyServerSide({ current: { ...current, metadata: liveMeta }, applied, manager: context.fieldManager, force: context.force, kind: info.kind, now: this.now() });
          if (outcome.conflicts !== null) throw new StatusError(outcome.conflicts);
          next = outcome.object;
          const obj = objectOf(next, info);
          obj.metadata.resourceVersion = current.metadata.resourceVersion;
          keepServiceAddresses(info, obj, current);
          const prepared = prepareForUpdate(withDefaults(obj), current, info, subresource === undefined ? {} : { subresource });
          const invalid = invalidObjectError(prepared, validateUpdate(prepared, current));
          if (invalid !== undefined) throw invalid;
          if (sameObject(prepared, current)) return { action: 'keep' };
          return shouldRemoveAfterUpdate(prepared) ? { action: 'remove' } : { action: 'write', object: prepared };
        }
        next = applyPatch(current, type, patch, info.kind);
        const obj = objectOf(next, info);
        // A patch may not move the object: its name and namespace stay those of the URL.
        if (obj.metadata.namespace !== current.metadata.namespace && info.namespaced) {
          throw badRequestError(`the namespace of the patched object (${String(obj.metadata.namespace)}) does not match the namespace sent on the request (${context.namespace})`);
        }
        return this.decideReplace(info, current, obj, context.fieldManager, subresource);
      },
      { retryOnConflict: typeof wanted !== 'string', dryRun: context.dryRun },
    );
    return { result, created: false };
  }
}

/** The 422 for a value out of range on a subresource body (`Scale.autoscaling "web" is invalid`). */
export function invalidSubresource(kind: { group: string; kind: string }, name: string, field: string, value: unknown, detail: string): StatusError {
  return invalidError(kind, name, [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` }]);
}
