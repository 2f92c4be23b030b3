// kubectl apply's three-way merge: the cases from "Declarative Management of Kubernetes Objects
// Using Configuration Files" (kubernetes.io) — apply twice, drop a field, change one container,
// leave server defaults and other writers' fields alone — plus a fast-check property on labels.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneJson } from '../src/json-value.js';
import {
  createThreeWayMergePatch,
  kubectlApplyPatch,
  lastAppliedAnnotation,
  lastAppliedConfiguration,
  strategicMergePatch,
  withLastAppliedConfiguration,
  type JsonObject,
} from '../src/index.js';

const manifest = (): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'frontend' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'app', image: 'app:1', ports: [{ containerPort: 80 }] },
          { name: 'sidecar', image: 'proxy:1' },
        ],
      },
    },
  },
});

/** What the apiserver stores after a create: the applied manifest plus fields it defaults. */
function createdOnServer(applied: JsonObject): JsonObject {
  const live = cloneJson(applied);
  const metadata = live.metadata as JsonObject;
  metadata.uid = 'u-1';
  metadata.resourceVersion = '7';
  const spec = live.spec as JsonObject;
  spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  spec.revisionHistoryLimit = 10;
  const containers = ((spec.template as JsonObject).spec as JsonObject).containers as JsonObject[];
  for (const container of containers) {
    container.terminationMessagePath = '/dev/termination-log';
    container.imagePullPolicy = 'IfNotPresent';
  }
  return live;
}

/** Runs `kubectl apply` of `next` against `live` and returns the patch and the resulting object. */
function apply(next: JsonObject, live: JsonObject) {
  const patch = kubectlApplyPatch(next, live, 'Deployment');
  return { patch, result: strategicMergePatch(live, patch, 'Deployment') };
}

describe('createThreeWayMergePatch as kubectl apply uses it', () => {
  it('applying the same manifest twice sends an empty patch', () => {
    const live = createdOnServer(withLastAppliedConfiguration(manifest()));
    expect(kubectlApplyPatch(manifest(), live, 'Deployment')).toEqual({});
  });

  it('records the manifest without the annotation itself in last-applied-configuration', () => {
    const sent = withLastAppliedConfiguration(manifest());
    expect(lastAppliedConfiguration(sent)).toEqual(manifest());
    expect(lastAppliedConfiguration(withLastAppliedConfiguration(sent))).toEqual(manifest());
    expect(lastAppliedConfiguration(manifest())).toBeNull();
  });

  it('removing a label from the manifest deletes it, but keeps a label another client added', () => {
    const live = createdOnServer(withLastAppliedConfiguration(manifest()));
    ((live.metadata as JsonObject).labels as JsonObject).team = 'payments';
    const next = manifest();
    delete ((next.metadata as JsonObject).labels as JsonObject).tier;
    const { patch, result } = apply(next, live);
    expect((patch.metadata as JsonObject).labels).toEqual({ tier: null });
    expect((result.metadata as JsonObject).labels).toEqual({ app: 'web', team: 'payments' });
    expect(kubectlApplyPatch(next, result, 'Deployment')).toEqual({});
  });

  it('changing one container image yields a patch touching only that container', () => {
    const original = manifest();
    const live = createdOnServer(original);
    const next = manifest();
    const containers = (((next.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[];
    (containers[0] as JsonObject).image = 'app:2';
    const patch = createThreeWayMergePatch(original, next, live, 'Deployment');
    expect(patch).toEqual({
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', image: 'app:2' }],
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
          },
        },
      },
    });
    const result = strategicMergePatch(live, patch, 'Deployment');
    const resultContainers = (((result.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[];
    expect(resultContainers.map((c) => [c.name, c.image, c.terminationMessagePath])).toEqual([
      ['app', 'app:2', '/dev/termination-log'],
      ['sidecar', 'proxy:1', '/dev/termination-log'],
    ]);
  });

  it('leaves fields the server defaulted (in current, not in original or modified) alone', () => {
    const original = manifest();
    const live = createdOnServer(original);
    const next = manifest();
    (next.spec as JsonObject).replicas = 3;
    const patch = createThreeWayMergePatch(original, next, live, 'Deployment');
    expect(patch).toEqual({ spec: { replicas: 3 } });
    const result = strategicMergePatch(live, patch, 'Deployment');
    expect((result.spec as JsonObject).strategy).toEqual((live.spec as JsonObject).strategy);
    expect((result.spec as JsonObject).revisionHistoryLimit).toBe(10);
    expect((result.metadata as JsonObject).uid).toBe('u-1');
  });

  it('a container dropped from the manifest is deleted by key; one added is sent whole', () => {
    const original = manifest();
    const live = createdOnServer(original);
    const next = manifest();
    const podSpec = ((next.spec as JsonObject).template as JsonObject).spec as JsonObject;
    podSpec.containers = [(podSpec.containers as JsonObject[])[0] as JsonObject, { name: 'logger', image: 'log:1' }];
    const patch = createThreeWayMergePatch(original, next, live, 'Deployment');
    expect(patch).toEqual({
      spec: {
        template: {
          spec: {
            containers: [{ name: 'logger', image: 'log:1' }, { name: 'sidecar', $patch: 'delete' }],
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'logger' }],
          },
        },
      },
    });
    const result = strategicMergePatch(live, patch, 'Deployment');
    const names = ((((result.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]).map((c) => c.name);
    expect(names).toEqual(['app', 'logger']);
  });

  it('a container that loses an env var and changes image gets one patch item, not two', () => {
    const original = manifest();
    const originalApp = ((((original.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    originalApp.env = [{ name: 'A', value: '1' }, { name: 'B', value: '2' }];
    const live = createdOnServer(original);
    const next = cloneJson(original);
    const nextApp = ((((next.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    nextApp.env = [{ name: 'A', value: '1' }];
    nextApp.image = 'app:2';
    const patch = createThreeWayMergePatch(original, next, live, 'Deployment');
    expect(patch).toEqual({
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', $patch: 'delete' }], '$setElementOrder/env': [{ name: 'A' }] }],
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
          },
        },
      },
    });
    const result = strategicMergePatch(live, patch, 'Deployment');
    const app = ((((result.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    expect([app.image, app.env, app.imagePullPolicy]).toEqual(['app:2', [{ name: 'A', value: '1' }], 'IfNotPresent']);
  });

  it('kubectl ends the annotation with a newline, as its JSON encoder does', () => {
    const annotations = ((withLastAppliedConfiguration(manifest()).metadata as JsonObject).annotations as JsonObject)[lastAppliedAnnotation];
    expect(annotations).toBe(`${JSON.stringify(manifest())}\n`);
  });

  it('a manifest value someone changed on the server is set back; the first apply deletes nothing', () => {
    const live = createdOnServer(manifest());
    (live.spec as JsonObject).replicas = 9;
    ((live.metadata as JsonObject).labels as JsonObject).extra = 'x';
    expect(createThreeWayMergePatch(null, manifest(), live, 'Deployment')).toEqual({ spec: { replicas: 2 } });
  });

  it('a primitive set list (finalizers) loses what the manifest dropped and keeps what others added', () => {
    const original: JsonObject = { metadata: { name: 'x', finalizers: ['a/x', 'b/y'] } };
    const live: JsonObject = { metadata: { name: 'x', finalizers: ['a/x', 'b/y', 'c/z'] } };
    const next: JsonObject = { metadata: { name: 'x', finalizers: ['a/x'] } };
    const patch = createThreeWayMergePatch(original, next, live, 'Deployment');
    expect(patch).toEqual({ metadata: { '$deleteFromPrimitiveList/finalizers': ['b/y'], '$setElementOrder/finalizers': ['a/x'] } });
    expect((strategicMergePatch(live, patch, 'Deployment').metadata as JsonObject).finalizers).toEqual(['a/x', 'c/z']);
  });

  it('an unknown kind (a CRD) gets a JSON merge patch: lists replaced whole, deletions as null', () => {
    const original: JsonObject = { spec: { a: 1, b: 2, items: [1, 2] } };
    const live: JsonObject = { spec: { a: 1, b: 2, items: [1, 2], defaulted: true } };
    const next: JsonObject = { spec: { a: 1, items: [3] } };
    expect(createThreeWayMergePatch(original, next, live, 'Widget')).toEqual({ spec: { b: null, items: [3] } });
    expect(createThreeWayMergePatch(original, original, live, 'Widget')).toEqual({});
  });

  it('names the annotation kubectl uses', () => {
    expect(lastAppliedAnnotation).toBe('kubectl.kubernetes.io/last-applied-configuration');
  });

  it('labels end as (current minus what the manifest dropped) plus the manifest (fast-check)', () => {
    const labels = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constantFrom('1', '2'));
    fc.assert(
      fc.property(labels, labels, labels, (original, modified, current) => {
        for (const kind of ['Deployment', 'Widget']) {
          const wrap = (l: Record<string, string>): JsonObject => ({ metadata: { name: 'x', labels: l } });
          const patch = createThreeWayMergePatch(wrap(original), wrap(modified), wrap(current), kind);
          const result = strategicMergePatch(wrap(current), patch, kind);
          const expected: Record<string, string> = {};
          for (const [k, v] of Object.entries(current)) if (!(k in original) || k in modified) expected[k] = v;
          Object.assign(expected, modified);
          expect(((result.metadata as JsonObject).labels as JsonObject | undefined) ?? {}).toEqual(expected);
        }
      }),
    );
  });
});
