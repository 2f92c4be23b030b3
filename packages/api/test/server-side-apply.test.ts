// Server-side apply with field managers: the walk-through of kubernetes.io "Server-Side Apply"
// (managers, conflicts, force, dropping fields, shared ownership), with managedFields compared to
// the examples on that page.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FieldSet,
  applyServerSide,
  fromFieldsV1,
  managedFieldSetOf,
  recordUpdate,
  toFieldsV1,
  type JsonObject,
} from '../src/index.js';

const t0 = '2010-10-10T00:00:00Z';
const t1 = '2010-10-11T00:00:00Z';
const t2 = '2010-10-12T00:00:00Z';

const deployment = (replicas: number, image = 'nginx:1.14.2'): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'nginx-deployment', labels: { app: 'nginx' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'nginx' } },
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image }] } },
  },
});

const managedFields = (object: JsonObject): JsonObject[] => ((object.metadata as JsonObject).managedFields ?? []) as JsonObject[];
const spec = (object: JsonObject): JsonObject => object.spec as JsonObject;

describe('managedFields in Kubernetes FieldsV1 shape', () => {
  it('matches the ConfigMap example from the Server-Side Apply docs', () => {
    // kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
    const applied: JsonObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'test-cm', namespace: 'default', labels: { 'test-label': 'test' } },
      data: { key: 'some value' },
    };
    const { object, conflicts } = applyServerSide({ current: null, applied, manager: 'kubectl', force: false, kind: 'ConfigMap', now: t0 });
    expect(conflicts).toBeNull();
    expect(managedFields(object)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: t0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:test-label': {} } }, 'f:data': { 'f:key': {} } },
      },
    ]);
    expect(JSON.stringify(Object.keys(managedFields(object)[0] ?? {}))).toBe('["manager","operation","apiVersion","time","fieldsType","fieldsV1"]');
  });

  it('keys list items by their merge key, with "." for the item itself', () => {
    const { object } = applyServerSide({ current: null, applied: deployment(3), manager: 'kubectl', force: false, kind: 'Deployment', now: t0 });
    expect(managedFields(object)[0]?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': { 'f:matchLabels': { 'f:app': {} } },
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
  });

  it('an Update that creates a map owns the map itself, as kubectl-client-side-apply entries show', () => {
    const next: JsonObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }, data: { a: '1' } };
    const object = recordUpdate(null, next, 'kubectl-client-side-apply', 'ConfigMap', t0);
    expect(managedFields(object)).toEqual([
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'v1',
        time: t0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:data': { '.': {}, 'f:a': {} },
          'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } },
        },
      },
    ]);
  });

  it('FieldsV1 decodes and encodes back to the same set, including v: set members', () => {
    const fields = { 'f:metadata': { 'f:finalizers': { 'v:"a/x"': {}, 'v:"b/y"': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"x"}': { '.': {}, 'f:name': {} } } } };
    const set = fromFieldsV1(fields);
    expect(set.size).toBe(4);
    expect(toFieldsV1(set)).toEqual(fields);
    expect(toFieldsV1(managedFieldSetOf({ metadata: { finalizers: ['a/x', 'b/y'] }, spec: { containers: [{ name: 'x' }] } }, 'Pod', 'apply'))).toEqual(fields);
    expect(() => fromFieldsV1({ 'x:bad': {} })).toThrow(/not f:, k:, v: or i:/);
    expect(new FieldSet().size).toBe(0);
  });
});

describe('applyServerSide', () => {
  const first = () => applyServerSide({ current: null, applied: deployment(3), manager: 'kubectl', force: false, kind: 'Deployment', now: t0 }).object;

  it('the first apply creates the object with the manager owning what it sent', () => {
    const object = first();
    expect(spec(object).replicas).toBe(3);
    expect(managedFields(object).map((e) => [e.manager, e.operation])).toEqual([['kubectl', 'Apply']]);
  });

  it('re-applying the same configuration changes nothing, not even the time', () => {
    const object = first();
    const again = applyServerSide({ current: object, applied: deployment(3), manager: 'kubectl', force: false, kind: 'Deployment', now: t1 });
    expect(again.conflicts).toBeNull();
    expect(again.object).toEqual(object);
  });

  it('changing a value the manager owns updates its entry time, without a conflict', () => {
    const object = first();
    const scaled = applyServerSide({ current: object, applied: deployment(4), manager: 'kubectl', force: false, kind: 'Deployment', now: t1 });
    expect(scaled.conflicts).toBeNull();
    expect(spec(scaled.object).replicas).toBe(4);
    expect(managedFields(scaled.object)[0]).toMatchObject({ time: t1, fieldsV1: managedFields(object)[0]?.fieldsV1 });
  });

  it('a second manager applying a different value conflicts, with Kubernetes wording', () => {
    const object = first();
    const { object: unchanged, conflicts } = applyServerSide({ current: object, applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 5 } }, manager: 'autoscaler', force: false, kind: 'Deployment', now: t1 });
    expect(unchanged).toEqual(object);
    expect(conflicts).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }] },
      code: 409,
    });
  });

  it('force takes the field over and the first manager loses it', () => {
    const object = first();
    const forced = applyServerSide({ current: object, applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 5 } }, manager: 'autoscaler', force: true, kind: 'Deployment', now: t1 });
    expect(forced.conflicts).toBeNull();
    expect(spec(forced.object).replicas).toBe(5);
    const [kubectl, autoscaler] = managedFields(forced.object);
    expect((kubectl?.fieldsV1 as JsonObject)['f:spec']).not.toHaveProperty('f:replicas');
    expect(autoscaler).toMatchObject({ manager: 'autoscaler', operation: 'Apply', time: t1, fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    // kubectl now conflicts if it sends its old value, and can drop the field to stop managing it.
    expect(applyServerSide({ current: forced.object, applied: deployment(3), manager: 'kubectl', force: false, kind: 'Deployment', now: t2 }).conflicts?.message).toBe(
      'Apply failed with 1 conflict: conflict with "autoscaler": .spec.replicas',
    );
    const withoutReplicas = deployment(3);
    delete spec(withoutReplicas).replicas;
    const dropped = applyServerSide({ current: forced.object, applied: withoutReplicas, manager: 'kubectl', force: false, kind: 'Deployment', now: t2 });
    expect(dropped.conflicts).toBeNull();
    expect(spec(dropped.object).replicas).toBe(5);
  });

  it('applying the same value another manager owns is no conflict: both own it', () => {
    const object = first();
    const shared = applyServerSide({ current: object, applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 3 } }, manager: 'other', force: false, kind: 'Deployment', now: t1 });
    expect(shared.conflicts).toBeNull();
    expect(managedFields(shared.object).map((e) => (e.fieldsV1 as JsonObject)['f:spec'])).toEqual([expect.objectContaining({ 'f:replicas': {} }), { 'f:replicas': {} }]);
  });

  it('removing a field from the applied configuration removes it from the object', () => {
    const object = first();
    const next = deployment(3);
    delete ((next.metadata as JsonObject).labels as JsonObject).app;
    next.metadata = { name: 'nginx-deployment' };
    const result = applyServerSide({ current: object, applied: next, manager: 'kubectl', force: false, kind: 'Deployment', now: t1 });
    expect((result.object.metadata as JsonObject).labels).toEqual({});
    expect(managedFields(result.object)[0]?.time).toBe(t1);
  });

  it('a field another manager also set stays when the first stops applying it', () => {
    const object = first();
    const shared = applyServerSide({ current: object, applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { replicas: 3 } }, manager: 'other', force: false, kind: 'Deployment', now: t1 }).object;
    const withoutReplicas = deployment(3);
    delete spec(withoutReplicas).replicas;
    const result = applyServerSide({ current: shared, applied: withoutReplicas, manager: 'kubectl', force: false, kind: 'Deployment', now: t2 });
    expect(spec(result.object).replicas).toBe(3);
  });

  it('a container dropped from the configuration goes; one another manager owns a field of stays', () => {
    const applied = deployment(3);
    const podSpec = (spec(applied).template as JsonObject).spec as JsonObject;
    podSpec.containers = [{ name: 'nginx', image: 'nginx:1' }, { name: 'sidecar', image: 'proxy:1' }, { name: 'logger', image: 'log:1' }];
    const created = applyServerSide({ current: null, applied, manager: 'kubectl', force: false, kind: 'Deployment', now: t0 }).object;
    const injector = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx-deployment' }, spec: { template: { spec: { containers: [{ name: 'logger', image: 'log:1' }] } } } };
    const shared = applyServerSide({ current: created, applied: injector, manager: 'injector', force: false, kind: 'Deployment', now: t1 }).object;
    podSpec.containers = [{ name: 'nginx', image: 'nginx:1' }];
    const result = applyServerSide({ current: shared, applied, manager: 'kubectl', force: false, kind: 'Deployment', now: t2 }).object;
    const containers = ((spec(result).template as JsonObject).spec as JsonObject).containers;
    expect(containers).toEqual([{ name: 'nginx', image: 'nginx:1' }, { name: 'logger', image: 'log:1' }]);
  });

  it('fields an Update changed conflict with a later apply, naming the manager with apiVersion and time', () => {
    const object = first();
    const scaled = recordUpdate(object, { ...object, spec: { ...spec(object), replicas: 7 } }, 'kubectl-client-side-apply', 'Deployment', t1);
    expect(managedFields(scaled).map((e) => [e.manager, e.operation])).toEqual([
      ['kubectl', 'Apply'],
      ['kubectl-client-side-apply', 'Update'],
    ]);
    expect((managedFields(scaled)[0]?.fieldsV1 as JsonObject)['f:spec']).not.toHaveProperty('f:replicas');
    const { conflicts } = applyServerSide({ current: scaled, applied: deployment(3), manager: 'kubectl', force: false, kind: 'Deployment', now: t2 });
    expect(conflicts?.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1 at 2010-10-11T00:00:00Z: .spec.replicas');
    expect(conflicts?.details?.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1 at 2010-10-11T00:00:00Z', field: '.spec.replicas' }]);
  });

  it('lists several conflicts by manager, as Kubernetes does', () => {
    const object = first();
    const other = deployment(4, 'nginx:2');
    const { conflicts } = applyServerSide({ current: object, applied: other, manager: 'other', force: false, kind: 'Deployment', now: t1 });
    expect(conflicts?.message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image');
  });

  it('an object created without managedFields gets a before-first-apply manager', () => {
    const live = deployment(3);
    const { conflicts } = applyServerSide({ current: live, applied: deployment(4), manager: 'kubectl', force: false, kind: 'Deployment', now: t1 });
    expect(conflicts?.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1 at 2010-10-11T00:00:00Z: .spec.replicas');
  });

  it('two managers applying label sets: each apply is idempotent and the labels are what someone still applies (fast-check)', () => {
    const labels = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.constant('v'));
    fc.assert(
      fc.property(labels, labels, labels, (first, second, firstAgain) => {
        const config = (l: Record<string, string>): JsonObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: l } });
        const step = (current: JsonObject | null, l: Record<string, string>, manager: string, now: string) =>
          applyServerSide({ current, applied: config(l), manager, force: false, kind: 'ConfigMap', now }).object;
        const one = step(null, first, 'one', t0);
        const two = step(one, second, 'two', t1);
        expect(step(two, second, 'two', t2)).toEqual(two);
        const three = step(two, firstAgain, 'one', t2);
        const expected = Object.fromEntries(['a', 'b', 'c', 'd'].filter((k) => k in second || k in firstAgain).map((k) => [k, 'v']));
        expect(((three.metadata as JsonObject).labels as JsonObject | undefined) ?? {}).toEqual(expected);
      }),
    );
  });
});

describe('FieldSet', () => {
  it('never takes two different paths for one, whatever their elements hold (NUL, empty)', () => {
    const tricky = [[], [''], ['', ''], ['f:a', 'f:b'], ['f:a\u0000f:b'], ['f:a\u0000', 'f:b'], ['f:a', '\u0000f:b'], ['\u0001'], ['\u0001', '']];
    const set = new FieldSet(tricky);
    expect(set.size).toBe(tricky.length);
    for (const path of tricky) expect(set.has(path)).toBe(true);
    expect(set.has(['f:a', 'f:b', ''])).toBe(false);
    expect([...set.difference(new FieldSet([['f:a', 'f:b']]))]).toHaveLength(tricky.length - 1);
  });

  it('union, difference, intersection, filter and equals agree with a model over arbitrary paths', () => {
    const element = fc.oneof(fc.constantFrom('f:a', 'f:b', '.', '', '\u0000', 'f:\u0000x', 'k:{"name":"c"}'), fc.string({ maxLength: 3 }));
    const paths = fc.array(fc.array(element, { maxLength: 3 }), { maxLength: 8 });
    fc.assert(
      fc.property(paths, paths, (a, b) => {
        const key = (p: readonly string[]) => JSON.stringify(p);
        const sa = new Set(a.map(key));
        const sb = new Set(b.map(key));
        const keys = (set: FieldSet) => [...set].map(key).sort();
        const x = new FieldSet(a);
        const y = new FieldSet(b);
        expect(keys(x.union(y))).toEqual([...new Set([...sa, ...sb])].sort());
        expect(keys(x.difference(y))).toEqual([...sa].filter((k) => !sb.has(k)).sort());
        expect(keys(x.intersection(y))).toEqual([...sa].filter((k) => sb.has(k)).sort());
        expect(keys(x.filter((p) => p.length === 1))).toEqual([...sa].filter((k) => (JSON.parse(k) as string[]).length === 1).sort());
        expect(x.equals(y)).toBe(sa.size === sb.size && [...sa].every((k) => sb.has(k)));
      }),
    );
  });
});
