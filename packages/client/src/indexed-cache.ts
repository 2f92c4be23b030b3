// The informer's local copy of the objects it watches (client-go's thread-safe store with
// indexers), keyed `namespace/name`, with indexes by namespace, by `spec.nodeName`, by label and
// by any custom indexer, so that controllers find "the pods of this node" or "the pods this
// selector picks" without scanning everything.

import { matchesLabels, parseLabelSelector, type KubeObject, type ParsedLabelSelector } from '@raftplane/api';
import { invalidOption } from './errors.js';
import { objectKey } from './object-key.js';

/** The index values of one object: zero, one or several strings. Must be pure and total. */
export type Indexer<T> = (obj: T) => readonly string[];

/** Built-in index names. */
export const namespaceIndex = 'namespace';
export const nodeNameIndex = 'spec.nodeName';

/** The read side of the cache: what listers and sync functions use. Objects are frozen. */
export interface CacheReader<T extends KubeObject> {
  get(key: string): T | undefined;
  getByName(namespace: string | undefined, name: string): T | undefined;
  list(): T[];
  keys(): string[];
  size(): number;
  byNamespace(namespace: string): T[];
  /** Pods (or anything with `spec.nodeName`) on that node. */
  byNodeName(nodeName: string): T[];
  /** Objects whose labels the selector (string form, or parsed) matches, optionally in one namespace. */
  byLabels(selector: string | ParsedLabelSelector, namespace?: string): T[];
  byIndex(indexName: string, value: string): T[];
}

function namespaceOf(obj: KubeObject): readonly string[] {
  const namespace = obj.metadata?.namespace;
  return namespace === undefined || namespace === '' ? [] : [namespace];
}

function nodeNameOf(obj: KubeObject): readonly string[] {
  const spec = obj.spec as { nodeName?: unknown } | undefined;
  return typeof spec?.nodeName === 'string' && spec.nodeName !== '' ? [spec.nodeName] : [];
}

/** value → keys, for one index; empty sets are removed so the map never grows with churn. */
type ValueIndex = Map<string, Set<string>>;

function addTo(index: ValueIndex, value: string, key: string): void {
  let keys = index.get(value);
  if (keys === undefined) index.set(value, (keys = new Set()));
  keys.add(key);
}

function removeFrom(index: ValueIndex, value: string, key: string): void {
  const keys = index.get(value);
  if (keys === undefined) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
}

export class IndexedCache<T extends KubeObject> implements CacheReader<T> {
  private readonly objects = new Map<string, T>();
  private readonly indexers = new Map<string, Indexer<T>>();
  private readonly indexes = new Map<string, ValueIndex>();
  /** label key → label value → object keys. */
  private readonly labels = new Map<string, ValueIndex>();

  constructor(customIndexers: Readonly<Record<string, Indexer<T>>> = {}) {
    this.indexers.set(namespaceIndex, namespaceOf);
    this.indexers.set(nodeNameIndex, nodeNameOf);
    for (const [name, indexer] of Object.entries(customIndexers)) {
      if (this.indexers.has(name)) throw invalidOption(`indexers.${name}`, 'is a built-in index name');
      if (typeof indexer !== 'function') throw invalidOption(`indexers.${name}`, 'must be a function');
      this.indexers.set(name, indexer);
    }
    for (const name of this.indexers.keys()) this.indexes.set(name, new Map());
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  size(): number {
    return this.objects.size;
  }

  byNamespace(namespace: string): T[] {
    return this.byIndex(namespaceIndex, namespace);
  }

  byNodeName(nodeName: string): T[] {
    return this.byIndex(nodeNameIndex, nodeName);
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.indexes.get(indexName);
    if (index === undefined) throw invalidOption('indexName', `no index named ${JSON.stringify(indexName)} (have ${[...this.indexes.keys()].join(', ')})`);
    return this.objectsOf(index.get(value) ?? []);
  }

  byLabels(selector: string | ParsedLabelSelector, namespace?: string): T[] {
    const parsed = typeof selector === 'string' ? parseLabelSelector(selector) : selector;
    if (parsed.matchesNothing) return [];
    const candidates = this.labelCandidates(parsed) ?? (namespace === undefined ? this.objects.keys() : (this.indexes.get(namespaceIndex)?.get(namespace) ?? []));
    return this.objectsOf(candidates).filter(
      (obj) => (namespace === undefined || obj.metadata?.namespace === namespace) && matchesLabels(parsed, obj.metadata?.labels),
    );
  }

  /** Stores `obj` (already frozen) under its key; returns what it replaced. */
  put(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.objects.get(key);
    if (old !== undefined) this.unindex(key, old);
    this.objects.set(key, obj);
    this.index(key, obj);
    return old;
  }

  /** Removes the object under `key`; returns it. */
  remove(key: string): T | undefined {
    const old = this.objects.get(key);
    if (old === undefined) return undefined;
    this.unindex(key, old);
    this.objects.delete(key);
    return old;
  }

  /** The smallest candidate set an equality or existence requirement allows; undefined when none narrows. */
  private labelCandidates(selector: ParsedLabelSelector): Iterable<string> | undefined {
    let best: Set<string> | undefined;
    for (const requirement of selector.requirements) {
      const byValue = this.labels.get(requirement.key);
      let keys: Set<string>;
      switch (requirement.operator) {
        case '=':
        case '==':
        case 'in':
          keys = new Set(requirement.values.flatMap((value) => [...(byValue?.get(value) ?? [])]));
          break;
        case 'exists':
          keys = new Set([...(byValue?.values() ?? [])].flatMap((set) => [...set]));
          break;
        default:
          continue;
      }
      if (best === undefined || keys.size < best.size) best = keys;
    }
    return best;
  }

  private objectsOf(keys: Iterable<string>): T[] {
    const found: T[] = [];
    for (const key of keys) {
      const obj = this.objects.get(key);
      if (obj !== undefined) found.push(obj);
    }
    return found;
  }

  private index(key: string, obj: T): void {
    for (const [name, indexer] of this.indexers) {
      const index = this.indexes.get(name) as ValueIndex;
      for (const value of indexer(obj)) addTo(index, value, key);
    }
    for (const [labelKey, value] of Object.entries(obj.metadata?.labels ?? {})) {
      let byValue = this.labels.get(labelKey);
      if (byValue === undefined) this.labels.set(labelKey, (byValue = new Map()));
      addTo(byValue, value, key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, indexer] of this.indexers) {
      const index = this.indexes.get(name) as ValueIndex;
      for (const value of indexer(obj)) removeFrom(index, value, key);
    }
    for (const [labelKey, value] of Object.entries(obj.metadata?.labels ?? {})) {
      const byValue = this.labels.get(labelKey);
      if (byValue === undefined) continue;
      removeFrom(byValue, value, key);
      if (byValue.size === 0) this.labels.delete(labelKey);
    }
  }
}
