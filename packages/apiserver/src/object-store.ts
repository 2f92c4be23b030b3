// The object store: Kubernetes' storage interface (apiserver storage/etcd3) over the replicated KV.
// Every write is one KV txn that compares the modRevision the decision was made on, so a write
// based on a stale read cannot commit (DESIGN rule 5): creates compare createRevision 0, updates and
// deletes the object's modRevision, and creates in a namespace also the namespace's modRevision.

import {
  alreadyExistsError,
  conflictError,
  forbiddenError,
  matchesFields,
  matchesLabels,
  notFoundError,
  resourceByName,
  StatusError,
  type KubeObject,
  type ParsedFieldSelector,
  type ParsedLabelSelector,
  type ResourceInfo,
} from '@raftplane/api';
import type { Compare, KeyValue, RequestOp, TxnResponse } from '@raftplane/kv';
import { rangeRequest, type ApiBackend } from './backend.js';
import { decodeObject, encodeObject } from './codec.js';
import { encodeContinueToken, type ContinueToken } from './continue-token.js';
import { collectionPrefix, keyAfter, keyText, objectKey, prefixEnd, textBytes } from './keys.js';
import { asStatusError, tooLargeResourceVersionError } from './kv-errors.js';
import type { PlannedWrite, WritePlanner } from './service-allocation.js';

const namespaces = resourceByName('', 'namespaces') as ResourceInfo;

/** How many times a write retries after losing a race it may retry (an unconditional update, a patch). */
export const updateAttemptsMax = 16;

export interface ReadOptions {
  /** 0: the newest state (linearizable); otherwise the state at exactly this revision. */
  readonly revision: number;
  /** Read this master's copy without confirming leadership (`resourceVersion=0`: any state will do). */
  readonly serializable: boolean;
  /** With `revision` 0: the state must be at least this new (resourceVersionMatch=NotOlderThan). */
  readonly minRevision: number;
}

export const newest: ReadOptions = { revision: 0, serializable: false, minRevision: 0 };

/**
 * How a write reads what it decides on: this master's copy, without confirming leadership. The
 * write's compare-and-swap makes a stale read harmless (the txn fails and the write decides again
 * from the fresh value); an answer that a stale read could make wrong (not found, a precondition
 * not met) is confirmed with a linearizable read first. Saves each write a ReadIndex round.
 */
const forWrite: ReadOptions = { revision: 0, serializable: true, minRevision: 0 };

export interface ListOptions extends ReadOptions {
  readonly labelSelector: ParsedLabelSelector | null;
  readonly fieldSelector: ParsedFieldSelector | null;
  /** 0: no limit. */
  readonly limit: number;
  readonly continueFrom: ContinueToken | null;
}

export interface ListResult {
  readonly items: KubeObject[];
  /** The revision the list reflects: its resourceVersion. */
  readonly revision: number;
  /** Set when more items remain. */
  readonly continueToken?: string;
}

/** What an update decides from the current object. */
export type UpdateDecision =
  | { readonly action: 'write'; readonly object: KubeObject }
  | { readonly action: 'remove' }
  /** Nothing to write: the answer is `object` (the current one, or a view of it). */
  | { readonly action: 'keep'; readonly object?: KubeObject };

export interface UpdateResult {
  /** The object as stored (or, after a remove, as it was with the delete's revision). */
  readonly object: KubeObject;
  readonly removed: boolean;
  readonly changed: boolean;
}

export interface UpdateOptions {
  /** Retry from a fresh read when another write got in between (no resourceVersion precondition). */
  readonly retryOnConflict: boolean;
  readonly dryRun?: boolean;
}

export function describeTarget(info: ResourceInfo, namespace: string, name: string): string {
  return info.namespaced ? `${info.resource} ${namespace}/${name}` : `${info.resource} ${name}`;
}

/** Whether an object passes a list's or watch's selectors. */
export function selectorsMatch(obj: KubeObject, kind: string, labels: ParsedLabelSelector | null, fields: ParsedFieldSelector | null): boolean {
  if (labels !== null && !matchesLabels(labels, obj.metadata?.labels)) return false;
  if (fields !== null && !matchesFields(fields, obj, kind)) return false;
  return true;
}

function modRevisionIs(key: Uint8Array, revision: number): Compare {
  return { result: 'EQUAL', target: 'MOD', key, rangeEnd: new Uint8Array(0), operand: revision };
}

function putOp(key: Uint8Array, obj: KubeObject): RequestOp {
  return { put: { key, value: encodeObject(obj), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } };
}

/**
 * How many times a write that claims addresses chooses again after losing them to another write:
 * many Services created at once in a nearly full range collide often, and each round at least
 * one of the colliding writes commits.
 */
export const claimAttemptsMax = 64;

function createAttemptsMax(planned: PlannedWrite | null): number {
  return planned !== null && planned.compare.length > 0 ? claimAttemptsMax : updateAttemptsMax;
}

/** The 409 for a create that kept losing races: its namespace kept changing, or its addresses kept being taken. */
function raceLostError(info: ResourceInfo, namespace: string, name: string, planned: PlannedWrite | null): StatusError {
  if (planned !== null && planned.compare.length > 0) {
    return conflictError(info, name, `the addresses chosen for it were taken by other writes ${claimAttemptsMax} times in a row; try again`);
  }
  return conflictError(namespaces, namespace, 'the namespace kept changing while an object was created in it');
}

export class ObjectStore {
  constructor(
    private readonly backend: ApiBackend,
    /** Adds to a write's txn what its kind needs (Service address claims); none for most kinds. */
    private readonly planner: WritePlanner | null = null,
  ) {}

  private oldest(): number {
    return this.backend.compactedRevision() + 1;
  }

  private async readKey(key: Uint8Array, options: ReadOptions, context: string): Promise<{ kv: KeyValue | null; revision: number }> {
    let response;
    try {
      response = await this.backend.range(rangeRequest({ key, revision: options.revision, serializable: options.serializable }));
    } catch (error) {
      throw asStatusError(error, context, { requested: options.revision, oldest: this.oldest() });
    }
    if (options.minRevision > response.header.revision) throw tooLargeResourceVersionError(options.minRevision, response.header.revision);
    return { kv: response.kvs[0] ?? null, revision: response.header.revision };
  }

  /** The object, or 404 NotFound. */
  async get(info: ResourceInfo, namespace: string, name: string, options: ReadOptions = newest): Promise<KubeObject> {
    const { kv } = await this.readKey(objectKey(info, namespace, name), options, `get ${describeTarget(info, namespace, name)}`);
    if (kv === null) throw notFoundError(info, name);
    return decodeObject(kv);
  }

  /** The object, or null when there is none. */
  async find(info: ResourceInfo, namespace: string, name: string, options: ReadOptions = newest): Promise<KubeObject | null> {
    const { kv } = await this.readKey(objectKey(info, namespace, name), options, `get ${describeTarget(info, namespace, name)}`);
    return kv === null ? null : decodeObject(kv);
  }

  /**
   * A page of a list: the matching objects in key order, at most `limit`, all read at one revision
   * (the continue token's, or the first page's), so that pages together are a consistent snapshot.
   */
  async list(info: ResourceInfo, namespace: string, options: ListOptions): Promise<ListResult> {
    const prefix = collectionPrefix(info, namespace);
    const prefixText = keyText(prefix);
    const end = prefixEnd(prefix);
    const context = `list ${info.resource}${info.namespaced && namespace !== '' ? ` in namespace ${namespace}` : ''}`;
    let revision = options.continueFrom?.revision ?? options.revision;
    let from = options.continueFrom === null ? prefix : textBytes(prefixText + options.continueFrom.start);
    const limit = options.limit;
    const items: KubeObject[] = [];
    // Selectors filter after reading, so a page may take several reads; each asks for one more
    // key than it needs, to know whether the list goes on.
    const pageKeys = limit > 0 ? Math.max(limit + 1, 64) : 0;
    for (;;) {
      let response;
      try {
        response = await this.backend.range(
          rangeRequest({ key: from, rangeEnd: end, limit: pageKeys, revision, serializable: options.serializable && revision === options.revision }),
        );
      } catch (error) {
        throw asStatusError(error, context, { requested: revision, oldest: this.oldest() });
      }
      if (revision === 0) {
        if (options.minRevision > response.header.revision) throw tooLargeResourceVersionError(options.minRevision, response.header.revision);
        revision = response.header.revision;
      }
      for (const kv of response.kvs) {
        const obj = decodeObject(kv);
        if (!selectorsMatch(obj, info.kind, options.labelSelector, options.fieldSelector)) continue;
        if (limit > 0 && items.length === limit) {
          return { items, revision, continueToken: encodeContinueToken({ revision, start: keyText(kv.key).slice(prefixText.length) }) };
        }
        items.push(obj);
      }
      const last = response.kvs[response.kvs.length - 1];
      if (!response.more || last === undefined) return { items, revision };
      from = keyAfter(last.key);
    }
  }

  /**
   * Stores a new object; 409 AlreadyExists when the name is taken. In a namespace, the namespace
   * must exist and not be terminating, checked in the same txn. What the planner adds (address
   * claims) rides in the same txn and is planned again when the txn lost a race.
   */
  async create(info: ResourceInfo, namespace: string, obj: KubeObject, options: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const name = obj.metadata?.name ?? '';
    const key = objectKey(info, namespace, name);
    const context = `create ${describeTarget(info, namespace, name)}`;
    for (let attempt = 1; ; attempt++) {
      const compare: Compare[] = [{ result: 'EQUAL', target: 'CREATE', key, rangeEnd: new Uint8Array(0), operand: 0 }];
      if (info.namespaced) {
        const nsKey = objectKey(namespaces, '', namespace);
        let ns = await this.readKey(nsKey, forWrite, context);
        if (ns.kv === null) ns = await this.readKey(nsKey, newest, context);
        if (ns.kv === null) throw notFoundError(namespaces, namespace);
        const nsObject = decodeObject(ns.kv);
        if (nsObject.metadata.deletionTimestamp !== undefined) {
          throw forbiddenError(info, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
        }
        compare.push(modRevisionIs(ns.kv.key, ns.kv.modRevision));
      }
      const planned = await this.planner?.plan(info, null, obj) ?? null;
      const stored = planned?.object ?? obj;
      if (options.dryRun) {
        const existing = await this.readKey(key, newest, context);
        if (existing.kv !== null) throw alreadyExistsError(info, name);
        return stored;
      }
      const success = [putOp(key, stored), ...(planned?.success ?? [])];
      compare.push(...(planned?.compare ?? []));
      const response = await this.txn({ compare, success, failure: [{ range: rangeRequest({ key }) }] }, context);
      if (response.succeeded) return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(response.header.revision) } };
      const existing = response.responses[0];
      if (existing !== undefined && 'range' in existing && existing.range.kvs.length > 0) throw alreadyExistsError(info, name);
      // The namespace changed, or another write claimed an address this one chose: decide again.
      if (attempt >= createAttemptsMax(planned)) throw raceLostError(info, namespace, name, planned);
    }
  }

  /**
   * Kubernetes' GuaranteedUpdate: reads the object, lets `decide` say what to do with it, and
   * writes that with a compare on the modRevision read. When another write got in between, it
   * decides again from the fresh object if `retryOnConflict`, else answers 409 Conflict.
   */
  async update(
    info: ResourceInfo,
    namespace: string,
    name: string,
    decide: (current: KubeObject) => UpdateDecision | Promise<UpdateDecision>,
    options: UpdateOptions,
  ): Promise<UpdateResult> {
    const key = objectKey(info, namespace, name);
    const context = `update ${describeTarget(info, namespace, name)}`;
    let read = await this.readKey(key, forWrite, context);
    let confirmed = false;
    for (let attempt = 1; ; attempt++) {
      if (read.kv === null && !confirmed) {
        read = await this.readKey(key, newest, context);
        confirmed = true;
      }
      if (read.kv === null) throw notFoundError(info, name);
      const current = decodeObject(read.kv);
      let decision: UpdateDecision;
      try {
        decision = await decide(current);
      } catch (error) {
        // A precondition may have failed only because this copy is behind: confirm, then decide again.
        if (confirmed || !(error instanceof StatusError) || error.reason !== 'Conflict') throw error;
        read = await this.readKey(key, newest, context);
        confirmed = true;
        continue;
      }
      if (decision.action === 'keep') {
        // "Nothing to change" from a copy that may be behind is confirmed against the newest state.
        if (!confirmed) {
          read = await this.readKey(key, newest, context);
          confirmed = true;
          continue;
        }
        return { object: decision.object ?? current, removed: false, changed: false };
      }
      const planned = await this.planner?.plan(info, current, decision.action === 'write' ? decision.object : null) ?? null;
      const written = decision.action === 'write' ? (planned?.object ?? decision.object) : null;
      if (options.dryRun) {
        return written !== null ? { object: written, removed: false, changed: true } : { object: current, removed: true, changed: true };
      }
      const success: RequestOp[] = [
        written !== null ? putOp(key, written) : { deleteRange: { key, rangeEnd: new Uint8Array(0), prevKv: false } },
        ...(planned?.success ?? []),
      ];
      const compare = [modRevisionIs(key, read.kv.modRevision), ...(planned?.compare ?? [])];
      const response = await this.txn({ compare, success, failure: [{ range: rangeRequest({ key }) }] }, context);
      const revision = String(response.header.revision);
      if (response.succeeded) {
        const stored = written ?? current;
        return { object: { ...stored, metadata: { ...stored.metadata, resourceVersion: revision } }, removed: written === null, changed: true };
      }
      const fresh = response.responses[0];
      const kv = fresh !== undefined && 'range' in fresh ? (fresh.range.kvs[0] ?? null) : null;
      // The object is as read: only an address this write chose was claimed meanwhile, which is no
      // conflict of the caller's; choose again.
      const claimLost = kv !== null && kv.modRevision === read.kv.modRevision && (planned?.compare.length ?? 0) > 0;
      if (claimLost && attempt < createAttemptsMax(planned)) {
        read = { kv, revision: response.header.revision };
        confirmed = true;
        continue;
      }
      if (!options.retryOnConflict || attempt >= updateAttemptsMax) throw conflictError(info, name);
      // Read inside the txn on the leader, at its revision: as fresh as a linearizable read.
      read = { kv, revision: response.header.revision };
      confirmed = true;
    }
  }

  private async txn(request: Parameters<ApiBackend['txn']>[0], context: string): Promise<TxnResponse> {
    try {
      return await this.backend.txn(request);
    } catch (error) {
      throw asStatusError(error, context);
    }
  }
}
