// The namespace controller's pure decisions: which resources hold content, which objects still
// need a DELETE, and the status written once the content is gone.

import type { ConfigMap, Namespace } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import { isNamespaceTerminating, namespaceContentRemoved, namespaceContentResources, objectsToDelete } from '../src/namespace-controller-plan.js';

describe('namespace content', () => {
  test('every namespaced resource that supports delete, bindings and cluster-scoped ones excluded', () => {
    const names = namespaceContentResources().map((r) => r.resource).sort();
    expect(names).toEqual(['configmaps', 'daemonsets', 'deployments', 'endpoints', 'events', 'jobs', 'leases', 'pods', 'replicasets', 'secrets', 'services', 'statefulsets']);
  });

  test('objects already marked for deletion get no second DELETE', () => {
    const cm = (name: string, deletionTimestamp?: string): ConfigMap => ({ metadata: { name, ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }) } });
    expect(objectsToDelete([cm('a'), cm('b', '2026-01-01T00:00:00Z'), cm('c')]).map((o) => o.metadata.name)).toEqual(['a', 'c']);
  });

  test('a namespace terminates once marked', () => {
    expect(isNamespaceTerminating({ metadata: { name: 'a' } })).toBe(false);
    expect(isNamespaceTerminating({ metadata: { name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' } })).toBe(true);
  });

  test('the final status says the content is gone, once, and leaves the input alone', () => {
    const ns: Namespace = Object.freeze({ metadata: { name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { phase: 'Terminating' } }) as Namespace;
    const once = namespaceContentRemoved(ns, Date.UTC(2026, 0, 1, 0, 0, 5));
    const twice = namespaceContentRemoved(once, Date.UTC(2026, 0, 1, 0, 0, 6));
    const conditions = (twice.status as { conditions?: unknown[] }).conditions;
    expect(conditions).toHaveLength(1);
    expect(conditions?.[0]).toMatchObject({ type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', lastTransitionTime: '2026-01-01T00:00:06Z' });
    expect(ns.status).toEqual({ phase: 'Terminating' });
  });
});
