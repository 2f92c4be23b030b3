// The apiserver's defaults: the values Kubernetes fills in, inside pod templates too, and
// defaulting is idempotent (twice is once) and leaves its input untouched.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultPullPolicy, type KubeObject, type Pod, withDefaults } from '../src/index.js';
import * as objects from './support/objects.js';

describe('pod defaults', () => {
  it('fills the pod spec, containers, ports, probes and volumes as Kubernetes does', () => {
    const pod = withDefaults(objects.pod());
    const spec = pod.spec!;
    expect(spec).toMatchObject({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      securityContext: {},
    });
    const ctr = spec.containers[0]!;
    expect(ctr).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    expect(ctr.ports).toEqual([{ containerPort: 80, name: 'http', protocol: 'TCP' }]);
    expect(ctr.readinessProbe).toEqual({
      httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(spec.volumes?.[1]).toEqual({ name: 'config', configMap: { name: 'web-config', defaultMode: 420 } });
  });

  it('pulls :latest and untagged images always, tagged and digested ones if not present', () => {
    expect(defaultPullPolicy('nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx:latest')).toBe('Always');
    expect(defaultPullPolicy('registry.local:5000/team/nginx')).toBe('Always');
    expect(defaultPullPolicy('registry.local:5000/team/nginx:1.25')).toBe('IfNotPresent');
    expect(defaultPullPolicy('nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31')).toBe('IfNotPresent');
  });

  it('makes requests equal to limits when only limits are given', () => {
    const p = objects.pod();
    p.spec!.containers[0]!.resources = { limits: { cpu: '1', memory: '256Mi' } };
    expect(withDefaults(p).spec!.containers[0]!.resources).toEqual({ limits: { cpu: '1', memory: '256Mi' }, requests: { cpu: '1', memory: '256Mi' } });
  });

  it('a volume with no source becomes an emptyDir', () => {
    const p = objects.pod();
    p.spec!.volumes = [{ name: 'scratch' }];
    expect(withDefaults(p).spec!.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
  });
});

describe('workload defaults, pod templates included', () => {
  it('Deployment: 1 replica, RollingUpdate 25%/25%, 10 revisions, 600 s progress deadline', () => {
    const d = objects.deployment();
    delete d.spec!.replicas;
    const spec = withDefaults(d).spec!;
    expect(spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(spec.template?.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst' });
    expect(spec.template?.spec?.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP' }] });
  });

  it('a Recreate Deployment gets no rollingUpdate', () => {
    const d = objects.deployment();
    d.spec!.strategy = { type: 'Recreate' };
    expect(withDefaults(d).spec!.strategy).toEqual({ type: 'Recreate' });
  });

  it('ReplicaSet: 1 replica and a defaulted template', () => {
    const rs = objects.replicaSet();
    delete rs.spec!.replicas;
    const spec = withDefaults(rs).spec!;
    expect(spec.replicas).toBe(1);
    expect(spec.template?.spec?.schedulerName).toBe('default-scheduler');
  });

  it('DaemonSet: RollingUpdate with maxUnavailable 1', () => {
    expect(withDefaults(objects.daemonSet()).spec!.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  });

  it('StatefulSet: OrderedReady, RollingUpdate from partition 0', () => {
    expect(withDefaults(objects.statefulSet()).spec).toMatchObject({
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
    });
  });

  it('Job: parallelism and completions 1, backoffLimit 6, labels from its template', () => {
    const j = objects.job();
    delete j.spec!.backoffLimit;
    const job = withDefaults(j);
    expect(job.spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6 });
    expect(job.metadata.labels).toEqual({ 'controller-uid': '6f2b3c1e-0000-4000-8000-000000000001', 'job-name': 'pi' });
    j.spec!.parallelism = 3;
    const parallel = withDefaults(j).spec!;
    expect(parallel.parallelism).toBe(3);
    expect(parallel).not.toHaveProperty('completions');
  });
});

describe('other kinds', () => {
  it('Service: ClusterIP, no session affinity, TCP ports with targetPort = port', () => {
    const s = objects.service();
    s.spec!.ports = [{ port: 80 }, { port: 443, targetPort: 8443, name: 'https' }];
    expect(withDefaults(s).spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      selector: { app: 'web' },
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 443, targetPort: 8443, name: 'https', protocol: 'TCP' },
      ],
    });
  });

  it('Namespace Active, Secret Opaque, Node allocatable = capacity', () => {
    expect(withDefaults(objects.namespace()).status).toEqual({ phase: 'Active' });
    const s = objects.secret();
    delete s.type;
    expect(withDefaults(s).type).toBe('Opaque');
    expect(withDefaults(objects.node()).status?.allocatable).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
  });
});

const imageArb = fc
  .tuple(fc.constantFrom('', 'registry.local:5000/', 'ghcr.io/team/'), fc.constantFrom('nginx', 'busybox'), fc.constantFrom('', ':latest', ':1.25', '@sha256:abc'))
  .map(([registry, name, tag]) => registry + name + tag);

const podArb: fc.Arbitrary<Pod> = fc
  .record({
    images: fc.array(imageArb, { minLength: 1, maxLength: 3 }),
    hostNetwork: fc.boolean(),
    grace: fc.option(fc.nat(120), { nil: undefined }),
    limits: fc.boolean(),
    probe: fc.constantFrom(undefined, 'http', 'tcp'),
  })
  .map(({ images, hostNetwork, grace, limits, probe }) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      hostNetwork,
      ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }),
      containers: images.map((image, i) => ({
        name: `c${i}`,
        image,
        ports: [{ containerPort: 8080 + i }],
        ...(limits ? { resources: { limits: { cpu: '250m' } } } : {}),
        ...(probe === 'http' ? { livenessProbe: { httpGet: { port: 8080 } } } : probe === 'tcp' ? { readinessProbe: { tcpSocket: { port: 8080 } } } : {}),
      })),
    },
  }));

describe('defaulting is idempotent', () => {
  it('for every fixture kind, twice is once, and the input is not changed', () => {
    for (const obj of objects.everyKind()) {
      const before = structuredClone(obj);
      const once = withDefaults(obj);
      expect(withDefaults(once), obj.kind).toEqual(once);
      expect(obj, obj.kind).toEqual(before);
    }
  });

  it('for generated pods, and for the same pods as Deployment templates', () => {
    fc.assert(
      fc.property(podArb, (pod) => {
        const once = withDefaults(pod);
        expect(withDefaults(once)).toEqual(once);
        const d: KubeObject = { ...objects.deployment(), spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: pod.spec } } };
        const dOnce = withDefaults(d);
        expect(withDefaults(dOnce)).toEqual(dOnce);
        // The template gets exactly the pod's defaults.
        expect((dOnce.spec as { template: { spec: unknown } }).template.spec).toEqual(once.spec);
      }),
    );
  });
});
