// The in-memory state behind the fake masters: objects by resource, one global revision (the
// resourceVersion of every write), the event history watches replay from, and compaction, after
// which a watch from an older revision gets 410.

import {
  alreadyExistsError,
  conflictError,
  expiredError,
  matchesFields,
  matchesLabels,
  notFoundError,
  parseFieldSelector,
  parseLabelSelector,
  tooOldResourceVersionMessage,
  type KubeObject,
  type ResourceInfo,
} from '@raftplane/api';

export interface StoreEvent {
  readonly revision: number;
  readonly resource: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

export interface Selection {
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | null | undefined;
  readonly fieldSelector?: string | null | undefined;
}

/** Whether `obj` of kind `kind` is in the selection (namespace, labels, fields). */
export function selects(selection: Selection, obj: KubeObject, kind: string): boolean {
  if (selection.namespace !== undefined && obj.metadata.namespace !== selection.namespace) return false;
  if (selection.labelSelector && !matchesLabels(parseLabelSelector(selection.labelSelector), obj.metadata.labels)) return false;
  if (selection.fieldSelector && !matchesFields(parseFieldSelector(selection.fieldSelector), obj, kind)) return false;
  return true;
}

function storeKey(resource: string, namespace: string | undefined, name: string): string {
  return `${resource}/${namespace ?? ''}/${name}`;
}

export class FakeStore {
  revision = 100;
  compactedRevision = 0;
  private uidCounter = 0;
  private readonly objects = new Map<string, KubeObject>();
  private history: StoreEvent[] = [];
  private readonly subscribers = new Set<(event: StoreEvent) => void>();
  /** List snapshots by continue token: pages of one list all come from the state of its first page. */
  private readonly snapshots = new Map<string, { revision: number; items: KubeObject[] }>();
  private snapshotCounter = 0;

  get(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject {
    const obj = this.objects.get(storeKey(info.resource, namespace, name));
    if (obj === undefined) throw notFoundError(info, name);
    return structuredClone(obj);
  }

  has(info: ResourceInfo, namespace: string | undefined, name: string): boolean {
    return this.objects.has(storeKey(info.resource, namespace, name));
  }

  count(resource: string): number {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${resource}/`)).length;
  }

  all(info: ResourceInfo, selection: Selection): KubeObject[] {
    const prefix = `${info.resource}/`;
    return [...this.objects.entries()]
      .filter(([key, obj]) => key.startsWith(prefix) && selects(selection, obj, info.kind))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => structuredClone(obj));
  }

  create(info: ResourceInfo, input: KubeObject): KubeObject {
    const namespace = info.namespaced ? input.metadata.namespace : undefined;
    const name = input.metadata.name as string;
    if (this.objects.has(storeKey(info.resource, namespace, name))) throw alreadyExistsError(info, name);
    const obj = structuredClone(input);
    obj.kind = info.kind;
    obj.apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
    obj.metadata.uid = `uid-${++this.uidCounter}`;
    obj.metadata.creationTimestamp = '2026-11-26T12:00:00Z';
    return this.write(info, 'ADDED', obj);
  }

  update(info: ResourceInfo, input: KubeObject): KubeObject {
    const namespace = info.namespaced ? input.metadata.namespace : undefined;
    const name = input.metadata.name as string;
    const current = this.objects.get(storeKey(info.resource, namespace, name));
    if (current === undefined) throw notFoundError(info, name);
    if (input.metadata.resourceVersion !== undefined && input.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflictError(info, name);
    const obj = structuredClone(input);
    obj.kind = current.kind;
    obj.apiVersion = current.apiVersion;
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    return this.write(info, 'MODIFIED', obj);
  }

  /** Applies `change` to a copy of the stored object and writes it (a MODIFIED event). */
  modify(info: ResourceInfo, namespace: string | undefined, name: string, change: (obj: KubeObject) => void): KubeObject {
    const obj = this.get(info, namespace, name);
    change(obj);
    return this.update(info, obj);
  }

  delete(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject {
    const key = storeKey(info.resource, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw notFoundError(info, name);
    this.objects.delete(key);
    // As Kubernetes does, the DELETED object carries the revision of the delete.
    this.revision++;
    const obj = structuredClone(current);
    obj.metadata.resourceVersion = String(this.revision);
    this.emit({ revision: this.revision, resource: info.resource, type: 'DELETED', object: obj });
    return structuredClone(obj);
  }

  /** Forgets history up to now: a watch from an older revision gets 410. */
  compact(): void {
    this.compactedRevision = this.revision;
    this.history = [];
    this.snapshots.clear();
  }

  /** Events of `resource` after `revision`, or 410 when that revision was compacted. */
  eventsAfter(resource: string, revision: number): StoreEvent[] {
    if (revision < this.compactedRevision) throw expiredError(tooOldResourceVersionMessage(revision, this.compactedRevision));
    return this.history.filter((e) => e.resource === resource && e.revision > revision);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /** One page of a list; the token names a snapshot taken by the first page. */
  page(info: ResourceInfo, selection: Selection, limit: number | undefined, token: string | undefined): { revision: number; items: KubeObject[]; continueToken: string | undefined } {
    let snapshot: { revision: number; items: KubeObject[] };
    let offset = 0;
    if (token === undefined) {
      snapshot = { revision: this.revision, items: this.all(info, selection) };
    } else {
      const [id, at] = token.split(':');
      const found = this.snapshots.get(id ?? '');
      if (found === undefined) throw expiredError('The provided continue parameter is too old to display a consistent list result.');
      snapshot = found;
      offset = Number(at);
    }
    const end = limit === undefined || limit <= 0 ? snapshot.items.length : Math.min(snapshot.items.length, offset + limit);
    let continueToken: string | undefined;
    if (end < snapshot.items.length) {
      const id = token?.split(':')[0] ?? `s${++this.snapshotCounter}`;
      this.snapshots.set(id, snapshot);
      continueToken = `${id}:${end}`;
    }
    return { revision: snapshot.revision, items: snapshot.items.slice(offset, end), continueToken };
  }

  private write(info: ResourceInfo, type: 'ADDED' | 'MODIFIED', obj: KubeObject): KubeObject {
    this.revision++;
    obj.metadata.resourceVersion = String(this.revision);
    this.objects.set(storeKey(info.resource, info.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name as string), obj);
    this.emit({ revision: this.revision, resource: info.resource, type, object: structuredClone(obj) });
    return structuredClone(obj);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    for (const subscriber of this.subscribers) subscriber(event);
  }
}
