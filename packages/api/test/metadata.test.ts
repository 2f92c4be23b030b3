// What the apiserver does to metadata: uid, creationTimestamp, generateName, generation that rises
// only with the spec, server-owned fields kept on update, graceful deletion and finalizers.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatTime,
  generateName,
  generatedNameAlphabet,
  planDelete,
  prepareForCreate,
  prepareForUpdate,
  resourceByKind,
  type ResourceInfo,
  shouldRemoveAfterUpdate,
  validateCreate,
  withDefaults,
} from '../src/index.js';
import { fixedEnv } from './support/env.js';
import * as objects from './support/objects.js';

function info(apiVersion: string, kind: string): ResourceInfo {
  const found = resourceByKind(apiVersion, kind);
  if (found === undefined) throw new Error(`no resource for ${apiVersion} ${kind}`);
  return found;
}

const deployments = info('apps/v1', 'Deployment');
const pods = info('v1', 'Pod');
const configMaps = info('v1', 'ConfigMap');

describe('create', () => {
  it('sets uid, creationTimestamp (RFC 3339, whole seconds) and generation 1 for kinds that track it', () => {
    const env = fixedEnv();
    const d = prepareForCreate(objects.deployment(), deployments, env);
    expect(d.metadata).toMatchObject({ uid: '6f2b3c1e-0000-4000-8000-000000000001', creationTimestamp: '2026-11-26T12:31:43Z', generation: 1 });
    const cm = prepareForCreate(objects.configMap(), configMaps, env);
    expect(cm.metadata.generation).toBeUndefined();
    expect(cm.metadata.uid).toBe('6f2b3c1e-0000-4000-8000-000000000002');
  });

  it('drops what only the server sets: resourceVersion, deletion marks, a client generation', () => {
    const d = objects.deployment();
    Object.assign(d.metadata, { resourceVersion: '77', deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 5, generation: 9 });
    const created = prepareForCreate(d, deployments, fixedEnv());
    expect(created.metadata.resourceVersion).toBeUndefined();
    expect(created.metadata.deletionTimestamp).toBeUndefined();
    expect(created.metadata.deletionGracePeriodSeconds).toBeUndefined();
    expect(created.metadata.generation).toBe(1);
  });

  it('names an object from generateName: the prefix and five characters of the alphabet', () => {
    const p = objects.pod();
    delete p.metadata.name;
    p.metadata.generateName = 'web-';
    const created = prepareForCreate(p, pods, fixedEnv());
    expect(created.metadata.name).toMatch(new RegExp(`^web-[${generatedNameAlphabet}]{5}$`));
    expect(created.metadata.generateName).toBe('web-');
    expect(validateCreate(created)).toEqual([]);
    // The same seed gives the same name: the name travels in the Raft entry (DESIGN rule 3).
    expect(prepareForCreate(p, pods, fixedEnv()).metadata.name).toBe(created.metadata.name);
  });

  it('keeps a given name over generateName, and cuts a long prefix to 58 characters', () => {
    const p = objects.pod();
    p.metadata.generateName = 'web-';
    expect(prepareForCreate(p, pods, fixedEnv()).metadata.name).toBe('web-0');
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 100 }), fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 5, maxLength: 5 }), (prefix, draws) => {
        let i = 0;
        const name = generateName(prefix, () => draws[i++] ?? 0);
        expect(name.length).toBe(Math.min(prefix.length, 58) + 5);
        expect(name.slice(-5)).toMatch(new RegExp(`^[${generatedNameAlphabet}]{5}$`));
      }),
    );
  });

  it('rejects a random source outside [0, 1) loudly', () => {
    expect(() => generateName('x-', () => 1)).toThrow(/outside \[0, 1\)/);
  });

  it('formats time as metav1.Time does', () => {
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('update', () => {
  const stored = () => {
    const d = prepareForCreate(withDefaults(objects.deployment()), deployments, fixedEnv());
    d.metadata.resourceVersion = '1002';
    d.status = { observedGeneration: 1, replicas: 2, readyReplicas: 2 };
    return d;
  };

  it('bumps generation on a spec change, by deep comparison', () => {
    const prev = stored();
    const next = structuredClone(prev);
    next.spec!.template!.spec!.containers[0]!.image = 'nginx:1.26';
    expect(prepareForUpdate(next, prev, deployments).metadata.generation).toBe(2);
  });

  it('keeps generation when only labels, annotations or a reordered copy of the spec change', () => {
    const prev = stored();
    const next = structuredClone(prev);
    next.metadata.labels = { app: 'web', tier: 'frontend' };
    next.spec = JSON.parse(JSON.stringify({ ...prev.spec, replicas: prev.spec!.replicas })) as typeof prev.spec;
    expect(prepareForUpdate(next, prev, deployments).metadata.generation).toBe(1);
  });

  it('keeps server-owned fields a client tried to change or drop', () => {
    const prev = stored();
    const next = structuredClone(prev);
    delete next.metadata.uid;
    next.metadata.creationTimestamp = '2000-01-01T00:00:00Z';
    next.metadata.generation = 40;
    next.status = { replicas: 99 };
    const updated = prepareForUpdate(next, prev, deployments);
    expect(updated.metadata).toMatchObject({ uid: prev.metadata.uid, creationTimestamp: prev.metadata.creationTimestamp, generation: 1 });
    expect(updated.status).toEqual(prev.status);
  });

  it('through the status subresource, changes status and keeps the spec', () => {
    const prev = stored();
    const next = structuredClone(prev);
    next.spec!.replicas = 10;
    next.status = { observedGeneration: 1, replicas: 2, readyReplicas: 1 };
    const updated = prepareForUpdate(next, prev, deployments, { subresource: 'status' });
    expect(updated.spec).toEqual(prev.spec);
    expect(updated.status?.readyReplicas).toBe(1);
    expect(updated.metadata.generation).toBe(1);
  });
});

describe('delete', () => {
  const boundPod = () => {
    const p = prepareForCreate(withDefaults(objects.pod()), pods, fixedEnv());
    p.spec!.nodeName = 'node-1';
    return p;
  };

  it('marks a bound pod with deletionTimestamp = now + grace and keeps it', () => {
    const env = fixedEnv();
    const plan = planDelete(boundPod(), {}, env);
    expect(plan.action).toBe('update');
    if (plan.action !== 'update') return;
    expect(plan.object.metadata.deletionTimestamp).toBe('2026-11-26T12:32:13Z');
    expect(plan.object.metadata.deletionGracePeriodSeconds).toBe(30);
  });

  it('uses the grace period from DeleteOptions over the pod spec', () => {
    const plan = planDelete(boundPod(), { gracePeriodSeconds: 5 }, fixedEnv());
    expect(plan.action === 'update' && plan.object.metadata.deletionGracePeriodSeconds).toBe(5);
  });

  it('removes at once a pod with grace 0, a pod not bound to a node, and a finished pod', () => {
    expect(planDelete(boundPod(), { gracePeriodSeconds: 0 }, fixedEnv())).toEqual({ action: 'remove' });
    const unbound = boundPod();
    delete unbound.spec!.nodeName;
    expect(planDelete(unbound, {}, fixedEnv())).toEqual({ action: 'remove' });
    const done = boundPod();
    done.status = { phase: 'Succeeded' };
    expect(planDelete(done, {}, fixedEnv())).toEqual({ action: 'remove' });
  });

  it('a second delete may shorten the grace, counted from the first; grace 0 then removes', () => {
    const env = fixedEnv();
    const first = planDelete(boundPod(), {}, env);
    if (first.action !== 'update') throw new Error('expected the pod to be marked');
    env.advance(10_000);
    const shorter = planDelete(first.object, { gracePeriodSeconds: 20 }, env);
    expect(shorter.action === 'update' && shorter.object.metadata).toMatchObject({ deletionTimestamp: '2026-11-26T12:32:03Z', deletionGracePeriodSeconds: 20 });
    expect(planDelete(first.object, { gracePeriodSeconds: 60 }, env)).toEqual({ action: 'update', object: first.object });
    expect(planDelete(first.object, { gracePeriodSeconds: 0 }, env)).toEqual({ action: 'remove' });
  });

  it('marks, not removes, an object with finalizers; it goes when the last finalizer is removed', () => {
    const cm = prepareForCreate(objects.configMap(), configMaps, fixedEnv());
    cm.metadata.finalizers = ['example.com/cleanup'];
    const plan = planDelete(cm, {}, fixedEnv());
    if (plan.action !== 'update') throw new Error('expected the config map to be marked');
    expect(plan.object.metadata).toMatchObject({ deletionTimestamp: '2026-11-26T12:31:43Z', deletionGracePeriodSeconds: 0 });
    expect(shouldRemoveAfterUpdate(plan.object)).toBe(false);
    const released = structuredClone(plan.object);
    released.metadata.finalizers = [];
    expect(shouldRemoveAfterUpdate(released)).toBe(true);
    expect(planDelete(objects.configMap(), {}, fixedEnv())).toEqual({ action: 'remove' });
  });
});
