// Strategic merge patch: the cases from Kubernetes' docs ("Update API Objects in Place Using
// kubectl patch", the strategic-merge-patch design doc) and the strategicpatch tests, plus the
// two-way diff checked by fast-check: applying createStrategicMergePatch(a, b) to a gives b.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StrategicMergePatchError, createStrategicMergePatch, strategicMergePatch, type JsonObject } from '../src/index.js';

const pod = (): JsonObject => ({
  metadata: { name: 'web', finalizers: ['a.example.com/x', 'b.example.com/y'], labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'sidecar', image: 'proxy:1', volumeMounts: [{ mountPath: '/data', name: 'data' }] },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    tolerations: [{ key: 'k1', operator: 'Exists' }, { key: 'k2', operator: 'Exists' }],
    nodeName: 'node-a',
  },
});

const names = (object: JsonObject, path = ['spec', 'containers']): unknown[] => {
  let value: unknown = object;
  for (const key of path) value = (value as Record<string, unknown>)[key];
  return (value as { name?: unknown }[]).map((item) => item.name ?? item);
};

describe('strategicMergePatch on a Pod', () => {
  it('adds a container, which Kubernetes puts first when no $setElementOrder is given', () => {
    const result = strategicMergePatch(pod(), { spec: { containers: [{ name: 'new', image: 'new:1' }] } }, 'Pod');
    expect(names(result)).toEqual(['new', 'app', 'sidecar']);
  });

  it('adds a container at the end with $setElementOrder, as kubectl sends it', () => {
    const patch = { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }, { name: 'new' }], containers: [{ name: 'new', image: 'new:1' }] } };
    expect(names(strategicMergePatch(pod(), patch, 'Pod'))).toEqual(['app', 'sidecar', 'new']);
  });

  it("changes one container's image and keeps everything else", () => {
    const result = strategicMergePatch(pod(), { spec: { containers: [{ name: 'sidecar', image: 'proxy:2' }] } }, 'Pod');
    const expected = pod();
    ((expected.spec as JsonObject).containers as JsonObject[])[1]!.image = 'proxy:2';
    // Both were on the server, so the server order holds (mergeSortedSlice).
    expect(names(result)).toEqual(['app', 'sidecar']);
    expect(((result.spec as JsonObject).containers as JsonObject[]).find((c) => c.name === 'sidecar')).toEqual({ name: 'sidecar', image: 'proxy:2', volumeMounts: [{ mountPath: '/data', name: 'data' }] });
    expect(((result.spec as JsonObject).containers as JsonObject[]).find((c) => c.name === 'app')).toEqual(((expected.spec as JsonObject).containers as JsonObject[])[0]);
  });

  it("orders the elements a patch names in the patch's order", () => {
    const patch = { spec: { containers: [{ name: 'sidecar', image: 'proxy:2' }, { name: 'app', image: 'app:2' }] } };
    expect(names(strategicMergePatch(pod(), patch, 'Pod'))).toEqual(['sidecar', 'app']);
  });

  it('deletes a container with $patch: delete', () => {
    const result = strategicMergePatch(pod(), { spec: { containers: [{ name: 'app', $patch: 'delete' }] } }, 'Pod');
    expect(names(result)).toEqual(['sidecar']);
  });

  it('reorders with $setElementOrder alone', () => {
    const result = strategicMergePatch(pod(), { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }] } }, 'Pod');
    expect(names(result)).toEqual(['sidecar', 'app']);
    expect((result.spec as JsonObject)['$setElementOrder/containers']).toBeUndefined();
  });

  it('replaces a merging list with $patch: replace', () => {
    const result = strategicMergePatch(pod(), { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'only:1' }] } }, 'Pod');
    expect((result.spec as JsonObject).containers).toEqual([{ name: 'only', image: 'only:1' }]);
  });

  it('merges ports by containerPort, env by name and volumeMounts by mountPath', () => {
    const patch = {
      spec: {
        containers: [
          { name: 'app', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 8080 }], env: [{ name: 'B', value: 'two' }] },
          { name: 'sidecar', volumeMounts: [{ mountPath: '/data', readOnly: true }] },
        ],
      },
    };
    const [app, sidecar] = (strategicMergePatch(pod(), patch, 'Pod').spec as JsonObject).containers as JsonObject[];
    expect(app!.ports).toEqual([{ containerPort: 80, name: 'web' }, { containerPort: 8080 }, { containerPort: 443 }]);
    expect(app!.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'two' }]);
    expect(sidecar!.volumeMounts).toEqual([{ mountPath: '/data', name: 'data', readOnly: true }]);
  });

  it('replaces tolerations whole (no patch strategy in k8s.io/api)', () => {
    const result = strategicMergePatch(pod(), { spec: { tolerations: [{ key: 'k3', operator: 'Exists' }] } }, 'Pod');
    expect((result.spec as JsonObject).tolerations).toEqual([{ key: 'k3', operator: 'Exists' }]);
  });

  it('unions finalizers and deletes with $deleteFromPrimitiveList', () => {
    const added = strategicMergePatch(pod(), { metadata: { finalizers: ['b.example.com/y', 'c.example.com/z'] } }, 'Pod');
    expect((added.metadata as JsonObject).finalizers).toEqual(['a.example.com/x', 'b.example.com/y', 'c.example.com/z']);
    const removed = strategicMergePatch(pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example.com/x', 'absent'] } }, 'Pod');
    expect((removed.metadata as JsonObject).finalizers).toEqual(['b.example.com/y']);
    const reordered = strategicMergePatch(pod(), { metadata: { '$setElementOrder/finalizers': ['b.example.com/y', 'a.example.com/x'] } }, 'Pod');
    expect((reordered.metadata as JsonObject).finalizers).toEqual(['b.example.com/y', 'a.example.com/x']);
  });

  it('null deletes a field; a map merges', () => {
    const result = strategicMergePatch(pod(), { metadata: { labels: { tier: 'front' } }, spec: { nodeName: null, volumes: null } }, 'Pod');
    expect((result.metadata as JsonObject).labels).toEqual({ app: 'web', tier: 'front' });
    expect(result.spec).not.toHaveProperty('nodeName');
    expect(result.spec).not.toHaveProperty('volumes');
  });

  it('$patch: replace on a map replaces it; $patch: delete leaves {} as Kubernetes does', () => {
    const replaced = strategicMergePatch(pod(), { metadata: { labels: { $patch: 'replace', only: 'this' } } }, 'Pod');
    expect((replaced.metadata as JsonObject).labels).toEqual({ only: 'this' });
    const deleted = strategicMergePatch(pod(), { metadata: { labels: { $patch: 'delete' } } }, 'Pod');
    expect((deleted.metadata as JsonObject).labels).toEqual({});
  });

  it('merges ownerReferences by uid and status conditions by type', () => {
    const original = {
      metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs', apiVersion: 'apps/v1' }] },
      status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
    };
    const result = strategicMergePatch(original, { metadata: { ownerReferences: [{ uid: 'u1', controller: true }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'Pod');
    expect(result).toEqual({
      metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs', apiVersion: 'apps/v1', controller: true }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] },
    });
  });

  it('changes neither argument', () => {
    const original = pod();
    const patch = { spec: { containers: [{ name: 'app', $patch: 'delete' }, { name: 'x', image: 'x' }] }, metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example.com/x'] } };
    const patchCopy = structuredClone(patch);
    strategicMergePatch(original, patch, 'Pod');
    expect(original).toEqual(pod());
    expect(patch).toEqual(patchCopy);
  });
});

describe('other kinds', () => {
  const deployment = (): JsonObject => ({
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }, { name: 'log', image: 'log:1' }] } },
    },
  });

  it.each(['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job'])('%s merges its pod template containers by name', (kind) => {
    const result = strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } }, kind);
    expect((((result.spec as JsonObject).template as JsonObject).spec as JsonObject).containers).toEqual([
      { name: 'app', image: 'app:2' },
      { name: 'log', image: 'log:1' },
    ]);
  });

  it('$retainKeys clears the keys it does not list (Deployment strategy to Recreate)', () => {
    const result = strategicMergePatch(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, 'Deployment');
    expect((result.spec as JsonObject).strategy).toEqual({ type: 'Recreate' });
    // Without $retainKeys the old rollingUpdate would stay behind.
    expect((strategicMergePatch(deployment(), { spec: { strategy: { type: 'Recreate' } } }, 'Deployment').spec as JsonObject).strategy).toHaveProperty('rollingUpdate');
  });

  it('Service ports merge by port', () => {
    const service = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] } };
    const result = strategicMergePatch(service, { spec: { ports: [{ port: 443, targetPort: 9443 }] } }, 'Service');
    expect((result.spec as JsonObject).ports).toEqual([{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 9443 }]);
  });

  it('an unknown kind (a CRD) replaces lists, as JSON merge patch does, but keeps metadata rules', () => {
    const widget = { metadata: { finalizers: ['a'] }, spec: { items: [{ name: 'a', v: 1 }, { name: 'b' }] } };
    const result = strategicMergePatch(widget, { metadata: { finalizers: ['b'] }, spec: { items: [{ name: 'a', v: 2 }] } }, 'Widget');
    expect(result).toEqual({ metadata: { finalizers: ['b', 'a'] }, spec: { items: [{ name: 'a', v: 2 }] } });
  });
});

describe('bad patches name the field and what is wrong', () => {
  it.each<[string, unknown, RegExp]>([
    ['a list element without its merge key', { spec: { containers: [{ image: 'x' }] } }, /at spec.containers: element \{"image":"x"\} has no merge key "name"/],
    ['$patch: delete without the merge key', { spec: { containers: [{ $patch: 'delete' }] } }, /at spec.containers: \$patch: delete element .* has no merge key "name"/],
    ['an unknown list directive', { spec: { containers: [{ name: 'a', $patch: 'explode' }] } }, /unknown \$patch directive "explode" in a list/],
    ['$patch: merge in a list', { spec: { containers: [{ $patch: 'merge' }] } }, /merging lists cannot yet be specified/],
    ['an unknown map directive', { metadata: { $patch: 'explode' } }, /at metadata: unknown \$patch directive "explode" in a map/],
    ['$patch: delete in a primitive list', { metadata: { finalizers: [{ $patch: 'delete' }] } }, /use \$deleteFromPrimitiveList\/finalizers/],
    ['a key outside $retainKeys', { spec: { $retainKeys: ['nodeName'], hostname: 'x' } }, /at spec: field "hostname" is in the patch but not in \$retainKeys/],
    ['$retainKeys that is not a list of strings', { spec: { $retainKeys: 'nodeName' } }, /\$retainKeys must be a list of strings/],
    ['a patch element missing from $setElementOrder', { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'x' }] } }, /element \{"name":"x"\} is missing from \$setElementOrder\/containers/],
    ['$setElementOrder that is not a list', { spec: { '$setElementOrder/containers': 'app' } }, /\$setElementOrder\/containers must be a list/],
    ['a patch that is not an object', ['x'], /must be a JSON object/],
  ])('%s', (_name, patch, message) => {
    expect(() => strategicMergePatch(pod(), patch as JsonObject, 'Pod')).toThrow(StrategicMergePatchError);
    expect(() => strategicMergePatch(pod(), patch as JsonObject, 'Pod')).toThrow(message);
  });
});

describe('createStrategicMergePatch', () => {
  it('writes the patch kubectl would: $setElementOrder, $patch: delete, $deleteFromPrimitiveList', () => {
    const original = pod();
    const modified = pod();
    (modified.metadata as JsonObject).finalizers = ['b.example.com/y', 'c.example.com/z'];
    (modified.spec as JsonObject).containers = [{ name: 'sidecar', image: 'proxy:2', volumeMounts: [{ mountPath: '/data', name: 'data' }] }];
    expect(createStrategicMergePatch(original, modified, 'Pod')).toEqual({
      metadata: {
        finalizers: ['c.example.com/z'],
        '$deleteFromPrimitiveList/finalizers': ['a.example.com/x'],
        '$setElementOrder/finalizers': ['b.example.com/y', 'c.example.com/z'],
      },
      spec: {
        containers: [{ name: 'sidecar', image: 'proxy:2' }, { name: 'app', $patch: 'delete' }],
        '$setElementOrder/containers': [{ name: 'sidecar' }],
      },
    });
  });

  it('adds $retainKeys for retainKeys fields', () => {
    const original = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const modified = { spec: { strategy: { type: 'Recreate' } } };
    const patch = createStrategicMergePatch(original, modified, 'Deployment');
    expect(patch).toEqual({ spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
    expect(strategicMergePatch(original, patch, 'Deployment')).toEqual(modified);
  });
});

// Pods and Deployments built from small alphabets, so lists share keys often. Keys are unique
// per list (Kubernetes validation requires it) and objects hold no null members.
const word = fc.constantFrom('a', 'b', 'c', 'd');
const scalar = fc.constantFrom<string | number | boolean>('x', 'y', 1, 2, true);
const free = fc.dictionary(word, scalar, { maxKeys: 3 });
const port = fc.record({ containerPort: fc.constantFrom(80, 443, 8080), protocol: fc.constantFrom('TCP', 'UDP'), name: word }, { requiredKeys: ['containerPort'] });
const env = fc.record({ name: word, value: scalar }, { requiredKeys: ['name'] });
const container = fc.record(
  {
    name: word,
    image: fc.constantFrom('app:1', 'app:2', 'proxy:1'),
    ports: fc.uniqueArray(port, { selector: (p) => p.containerPort, maxLength: 3 }),
    env: fc.uniqueArray(env, { selector: (e) => e.name, maxLength: 3 }),
    args: fc.array(word, { maxLength: 3 }),
    resources: fc.record({ limits: free, requests: free }, { requiredKeys: [] }),
  },
  { requiredKeys: ['name'] },
);
const volume = fc.oneof(
  fc.record({ name: word, emptyDir: free }),
  fc.record({ name: word, hostPath: fc.record({ path: fc.constantFrom('/a', '/b') }) }),
);
const podSpec = fc.record(
  {
    containers: fc.uniqueArray(container, { selector: (c) => c.name, maxLength: 4 }),
    volumes: fc.uniqueArray(volume, { selector: (v) => v.name, maxLength: 3 }),
    tolerations: fc.array(fc.record({ key: word, operator: fc.constantFrom('Exists', 'Equal') }), { maxLength: 2 }),
    nodeName: word,
    extra: free,
  },
  { requiredKeys: [] },
);
const objectMeta = fc.record(
  {
    labels: free,
    finalizers: fc.uniqueArray(word, { maxLength: 4 }),
    ownerReferences: fc.uniqueArray(fc.record({ uid: word, kind: fc.constantFrom('ReplicaSet', 'Job'), controller: fc.boolean() }), { selector: (o) => o.uid, maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const podObject = fc.record({ metadata: objectMeta, spec: podSpec, status: fc.record({ phase: word, conditions: fc.uniqueArray(fc.record({ type: word, status: word }), { selector: (c) => c.type, maxLength: 3 }) }, { requiredKeys: [] }) }, { requiredKeys: [] });
const strategy = fc.oneof(fc.record({ type: fc.constant('Recreate') }), fc.record({ type: fc.constant('RollingUpdate'), rollingUpdate: free }, { requiredKeys: ['type'] }));
const deploymentObject = fc.record({ metadata: objectMeta, spec: fc.record({ replicas: fc.nat(3), strategy, template: fc.record({ metadata: objectMeta, spec: podSpec }, { requiredKeys: [] }) }, { requiredKeys: [] }) }, { requiredKeys: [] });

describe('createStrategicMergePatch, by fast-check', () => {
  it.each([
    ['Pod', podObject],
    ['Deployment', deploymentObject],
    ['Widget', podObject],
  ] as const)('applying the diff of two %s objects gives the second', (kind, object) => {
    fc.assert(
      fc.property(object, object, (original, modified) => {
        const patch = createStrategicMergePatch(original as JsonObject, modified as JsonObject, kind);
        expect(strategicMergePatch(original as JsonObject, patch, kind)).toEqual(modified);
      }),
      { numRuns: 300 },
    );
  });

  it('the diff of an object with itself is empty', () => {
    fc.assert(
      fc.property(podObject, (object) => {
        expect(createStrategicMergePatch(object as JsonObject, structuredClone(object) as JsonObject, 'Pod')).toEqual({});
      }),
    );
  });
});
