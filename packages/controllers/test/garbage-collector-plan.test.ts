// The garbage collector's pure decisions: owner absence by uid, what happens to a dependent for
// each mix of owner states, the order of a foreground deletion, and the owner index.

import type { ConfigMap, OwnerReference } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import {
  OwnerIndex,
  foregroundPlan,
  itemKey,
  ownerStateOf,
  parseItemKey,
  planDependent,
  resourceOfOwnerRef,
  withoutFinalizer,
  withoutOwnerRefs,
  type OwnerRefState,
} from '../src/garbage-collector-plan.js';

const ref = (uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid, ...extra });
const obj = (name: string, uid: string, meta: Partial<ConfigMap['metadata']> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid, ...meta } });
const state = (uid: string, s: OwnerRefState['state']): OwnerRefState => ({ ref: ref(uid), state: s });

describe('owner absence is decided by uid', () => {
  test('no live object under the name: absent', () => {
    expect(ownerStateOf(ref('a'), undefined)).toBe('absent');
  });
  test('an owner recreated under the same name is another owner: absent', () => {
    expect(ownerStateOf(ref('a'), obj('web', 'b'))).toBe('absent');
  });
  test('the same uid: solid, or waiting while it is deleted in the foreground', () => {
    expect(ownerStateOf(ref('a'), obj('web', 'a'))).toBe('solid');
    expect(ownerStateOf(ref('a'), obj('web', 'a', { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }))).toBe('waiting');
    // Marked for deletion for another reason (orphan): still there, so still an owner.
    expect(ownerStateOf(ref('a'), obj('web', 'a', { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] }))).toBe('solid');
  });
});

describe('what happens to a dependent', () => {
  test('no owners, or every owner solid: kept', () => {
    expect(planDependent([], false)).toEqual({ action: 'keep' });
    expect(planDependent([state('a', 'solid'), state('b', 'unresolved')], false)).toEqual({ action: 'keep' });
  });
  test('every owner absent: deleted in the background', () => {
    expect(planDependent([state('a', 'absent'), state('b', 'absent')], true)).toEqual({ action: 'delete', propagationPolicy: 'Background' });
  });
  test('another owner still live: only the dangling references go', () => {
    expect(planDependent([state('a', 'absent'), state('b', 'solid'), state('c', 'waiting')], false)).toEqual({ action: 'removeOwnerRefs', uids: ['a', 'c'] });
  });
  test('an owner of a kind the collector does not follow counts as live', () => {
    expect(planDependent([state('a', 'absent'), state('n', 'unresolved')], false)).toEqual({ action: 'removeOwnerRefs', uids: ['a'] });
  });
  test('an owner waiting in the foreground: deleted, in the foreground when it has dependents of its own', () => {
    expect(planDependent([state('a', 'waiting')], false)).toEqual({ action: 'delete', propagationPolicy: 'Background' });
    expect(planDependent([state('a', 'waiting'), state('b', 'absent')], true)).toEqual({ action: 'delete', propagationPolicy: 'Foreground' });
  });
});

describe('foreground deletion', () => {
  test('blocking dependents first, marked ones skipped, only blocking ones hold the owner', () => {
    const free = obj('free', '1', { ownerReferences: [ref('o')] });
    const blocking = obj('blocking', '2', { ownerReferences: [ref('o', { blockOwnerDeletion: true })] });
    const going = obj('going', '3', { ownerReferences: [ref('o', { blockOwnerDeletion: true })], deletionTimestamp: '2026-01-01T00:00:00Z' });
    const plan = foregroundPlan([free, blocking, going], 'o');
    expect(plan.toDelete.map((d) => d.metadata.name)).toEqual(['blocking', 'free']);
    expect(plan.blockingLeft).toBe(2);
    expect(foregroundPlan([free], 'o')).toEqual({ toDelete: [free], blockingLeft: 0 });
    expect(foregroundPlan([], 'o')).toEqual({ toDelete: [], blockingLeft: 0 });
  });
});

describe('helpers', () => {
  test('owner references resolve to the collected resources by group and kind', () => {
    expect(resourceOfOwnerRef({ apiVersion: 'apps/v1', kind: 'ReplicaSet' })).toBe('replicasets');
    expect(resourceOfOwnerRef({ apiVersion: 'batch/v1', kind: 'Job' })).toBe('jobs');
    expect(resourceOfOwnerRef({ apiVersion: 'v1', kind: 'ConfigMap' })).toBe('configmaps');
    expect(resourceOfOwnerRef({ apiVersion: 'v1', kind: 'Node' })).toBeUndefined();
    expect(resourceOfOwnerRef({ apiVersion: 'example.com/v1', kind: 'ReplicaSet' })).toBeUndefined();
  });
  test('references and finalizers are removed by uid and by name, other entries kept', () => {
    expect(withoutOwnerRefs([ref('a'), ref('b'), ref('c')], ['a', 'c'])).toEqual([ref('b')]);
    expect(withoutOwnerRefs(undefined, ['a'])).toEqual([]);
    expect(withoutFinalizer(['foregroundDeletion', 'example.com/x'], 'foregroundDeletion')).toEqual(['example.com/x']);
  });
  test('item keys carry the resource and the cache key', () => {
    expect(parseItemKey(itemKey('pods', 'ns', 'web-1'))).toEqual({ resource: 'pods', cacheKey: 'ns/web-1' });
  });
});

describe('the owner index', () => {
  test('follows added, changed and removed references', () => {
    const index = new OwnerIndex();
    index.set('pods/ns/b', ['o1']);
    index.set('pods/ns/a', ['o1', 'o2']);
    expect(index.dependents('o1')).toEqual(['pods/ns/a', 'pods/ns/b']);
    index.set('pods/ns/a', ['o2']);
    expect(index.dependents('o1')).toEqual(['pods/ns/b']);
    expect(index.dependents('o2')).toEqual(['pods/ns/a']);
    index.set('pods/ns/a', []);
    index.set('pods/ns/b', []);
    expect(index.dependents('o1')).toEqual([]);
    expect(index.dependents('o2')).toEqual([]);
    expect(index.size()).toBe(0);
  });
});
