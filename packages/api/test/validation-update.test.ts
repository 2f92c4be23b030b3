// Validation on UPDATE: metadata that never changes, immutable selectors and templates, a Service's
// clusterIP once set, and the few pod spec changes Kubernetes allows.

import { describe, expect, it } from 'vitest';
import {
  type KubeObject,
  podUpdateForbiddenMessage,
  prepareForCreate,
  resourceByKind,
  validateUpdate,
  withDefaults,
} from '../src/index.js';
import * as objects from './support/objects.js';
import { fixedEnv } from './support/env.js';

/** The object as stored: defaulted, with server metadata and a resourceVersion. */
function stored<T extends KubeObject>(obj: T): T {
  const info = resourceByKind(obj.apiVersion ?? '', obj.kind ?? '');
  if (info === undefined) throw new Error(`no resource for ${obj.kind}`);
  const created = prepareForCreate(withDefaults(obj), info, fixedEnv());
  created.metadata.resourceVersion = '1002';
  return created;
}

function changed<T extends KubeObject>(prev: T, change: (next: T) => void): T {
  const next = structuredClone(prev);
  change(next);
  return next;
}

describe('metadata on update', () => {
  it('an unchanged object is a valid update', () => {
    for (const obj of objects.everyKind().filter((o) => o.kind !== 'Scale')) {
      const prev = stored(obj);
      expect(validateUpdate(structuredClone(prev), prev), obj.kind).toEqual([]);
    }
  });

  it('name, namespace, uid and creationTimestamp are immutable', () => {
    const prev = stored(objects.pod());
    const next = changed(prev, (p) => {
      p.metadata.name = 'web-1';
      p.metadata.namespace = 'prod';
      p.metadata.uid = 'another';
      p.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
    });
    expect(validateUpdate(next, prev)).toEqual(
      expect.arrayContaining([
        { reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: "web-1": field is immutable' },
        { reason: 'FieldValueInvalid', field: 'metadata.namespace', message: 'Invalid value: "prod": field is immutable' },
        { reason: 'FieldValueInvalid', field: 'metadata.uid', message: 'Invalid value: "another": field is immutable' },
        { reason: 'FieldValueInvalid', field: 'metadata.creationTimestamp', message: 'Invalid value: "2020-01-01T00:00:00Z": field is immutable' },
      ]),
    );
  });

  it('an update needs a resourceVersion', () => {
    const prev = stored(objects.configMap());
    const next = changed(prev, (c) => delete c.metadata.resourceVersion);
    expect(validateUpdate(next, prev)).toContainEqual({
      reason: 'FieldValueInvalid',
      field: 'metadata.resourceVersion',
      message: 'Invalid value: "": must be specified for an update',
    });
  });

  it('no finalizer may be added once deletion has begun', () => {
    const prev = changed(stored(objects.configMap()), (c) => (c.metadata.deletionTimestamp = '2026-11-26T12:32:13Z'));
    const next = changed(prev, (c) => (c.metadata.finalizers = ['example.com/cleanup']));
    expect(validateUpdate(next, prev)).toContainEqual({
      reason: 'FieldValueForbidden',
      field: 'metadata.finalizers',
      message: 'Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/cleanup"}',
    });
  });
});

describe('immutable spec fields', () => {
  it('a Deployment, ReplicaSet, DaemonSet or StatefulSet selector cannot change', () => {
    for (const make of [objects.deployment, objects.replicaSet, objects.daemonSet]) {
      const prev = stored(make() as KubeObject & { spec: { selector: object; template: { metadata: { labels: object } } } });
      const next = changed(prev, (o) => {
        o.spec.selector = { matchLabels: { app: 'web2' } };
        o.spec.template.metadata.labels = { app: 'web2' };
      });
      expect(validateUpdate(next, prev), prev.kind).toEqual([
        {
          reason: 'FieldValueInvalid',
          field: 'spec.selector',
          message:
            'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
        },
      ]);
    }
  });

  it('a Deployment may change its template and replicas', () => {
    const prev = stored(objects.deployment());
    const next = changed(prev, (d) => {
      d.spec!.replicas = 5;
      d.spec!.template!.spec!.containers[0]!.image = 'nginx:1.26';
    });
    expect(validateUpdate(next, prev)).toEqual([]);
  });

  it("a Job's template and selector cannot change", () => {
    const prev = stored(objects.job());
    const next = changed(prev, (j) => (j.spec!.template!.spec!.containers[0]!.image = 'perl:5.36'));
    const causes = validateUpdate(next, prev);
    expect(causes.map((c) => [c.field, c.reason])).toEqual([['spec.template', 'FieldValueInvalid']]);
    expect(causes[0]?.message).toMatch(/: field is immutable$/);
  });

  it("a StatefulSet may change replicas, template and updateStrategy, nothing else in its spec", () => {
    const prev = stored(objects.statefulSet());
    expect(validateUpdate(changed(prev, (s) => (s.spec!.replicas = 1)), prev)).toEqual([]);
    expect(validateUpdate(changed(prev, (s) => (s.spec!.serviceName = 'db-headless')), prev)).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'spec',
        message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', and 'updateStrategy' are forbidden",
      },
    ]);
  });

  it("a Service's clusterIP cannot change once set, but may be set the first time", () => {
    const unset = stored(objects.service());
    expect(validateUpdate(changed(unset, (s) => (s.spec!.clusterIP = '10.96.0.10')), unset)).toEqual([]);
    const prev = changed(unset, (s) => (s.spec!.clusterIP = '10.96.0.10'));
    expect(validateUpdate(changed(prev, (s) => (s.spec!.clusterIP = '10.96.0.11')), prev)).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: 'Invalid value: "10.96.0.11": field is immutable' },
    ]);
  });

  it('an immutable ConfigMap keeps its data', () => {
    const prev = changed(stored(objects.configMap()), (c) => (c.immutable = true));
    expect(validateUpdate(changed(prev, (c) => (c.data = { greeting: 'hi' })), prev)).toEqual([
      { reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' },
    ]);
  });
});

describe('pod updates', () => {
  const prev = (): ReturnType<typeof objects.pod> => stored(objects.pod());

  it('may change container images', () => {
    const p = prev();
    expect(validateUpdate(changed(p, (n) => (n.spec!.containers[0]!.image = 'nginx:1.26')), p)).toEqual([]);
  });

  it('may set or shorten activeDeadlineSeconds, not lengthen it', () => {
    const p = prev();
    const set = changed(p, (n) => (n.spec!.activeDeadlineSeconds = 600));
    expect(validateUpdate(set, p)).toEqual([]);
    expect(validateUpdate(changed(set, (n) => (n.spec!.activeDeadlineSeconds = 300)), set)).toEqual([]);
    expect(validateUpdate(changed(set, (n) => (n.spec!.activeDeadlineSeconds = 900)), set)).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.activeDeadlineSeconds', message: 'Invalid value: 900: must be less than or equal to previous value' },
    ]);
  });

  it('may add tolerations, not remove them', () => {
    const p = prev();
    const added = changed(p, (n) => n.spec!.tolerations!.push({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }));
    expect(validateUpdate(added, p)).toEqual([]);
    const removed = changed(p, (n) => (n.spec!.tolerations = []));
    expect(validateUpdate(removed, p)).toEqual([
      { reason: 'FieldValueForbidden', field: 'spec.tolerations[0]', message: 'Forbidden: existing toleration can not be modified except its tolerationSeconds' },
    ]);
  });

  it('may not change anything else: Forbidden at spec with Kubernetes message', () => {
    const p = prev();
    const causes = validateUpdate(changed(p, (n) => (n.spec!.restartPolicy = 'Never')), p);
    expect(causes.map((c) => [c.field, c.reason])).toEqual([['spec', 'FieldValueForbidden']]);
    expect(causes[0]?.message.startsWith(`Forbidden: ${podUpdateForbiddenMessage}\n`)).toBe(true);
    expect(podUpdateForbiddenMessage).toBe(
      'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)',
    );
    expect(causes[0]?.message).toContain('- restartPolicy: "Always"\n+ restartPolicy: "Never"');
  });

  it('may not add containers', () => {
    const p = prev();
    const next = changed(p, (n) => n.spec!.containers.push({ name: 'sidecar', image: 'busybox:1.36' }));
    expect(validateUpdate(next, p)).toContainEqual({
      reason: 'FieldValueForbidden',
      field: 'spec.containers',
      message: 'Forbidden: pod updates may not add or remove containers',
    });
  });
});
