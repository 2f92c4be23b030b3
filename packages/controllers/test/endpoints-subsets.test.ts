// The Endpoints computation, pure: ready and not-ready addresses apart, pods without an IP or
// being deleted left out, numeric and named target ports resolved per pod, packing by port set.

import type { Pod, Service, ServicePort } from '@raftplane/api';
import { describe, expect, test } from 'vitest';
import { endpointSubsetsFor, jsonEqual, resolveTargetPort, serviceHasSelector, shouldPodBeInEndpoints, subsetsEqual } from '../src/endpoints-subsets.js';

function pod(name: string, ip: string | undefined, ready: boolean, ports: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[] = []): Pod {
  const status: Pod['status'] = { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  if (ip !== undefined) status.podIP = ip;
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx:1', ports }] },
    status,
  };
}

function service(ports: ServicePort[], extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return { metadata: { name: 'web', namespace: 'ns' }, spec: { selector: { app: 'web' }, ports, ...extra } };
}

describe('which pods an Endpoints lists', () => {
  test('a pod without an IP, being deleted, or finished is left out', () => {
    expect(shouldPodBeInEndpoints(pod('a', '127.0.2.1', true))).toBe(true);
    expect(shouldPodBeInEndpoints(pod('a', undefined, true))).toBe(false);
    const deleting = pod('a', '127.0.2.1', true);
    deleting.metadata.deletionTimestamp = '2026-11-26T00:00:00Z';
    expect(shouldPodBeInEndpoints(deleting)).toBe(false);
    const done = pod('a', '127.0.2.1', false);
    (done.status as NonNullable<Pod['status']>).phase = 'Succeeded';
    expect(shouldPodBeInEndpoints(done)).toBe(false);
  });

  test('only a non-empty selector makes the Service the controller\'s', () => {
    expect(serviceHasSelector(service([]))).toBe(true);
    expect(serviceHasSelector({ metadata: { name: 'x' }, spec: {} })).toBe(false);
    expect(serviceHasSelector({ metadata: { name: 'x' }, spec: { selector: {} } })).toBe(false);
  });
});

describe('target ports', () => {
  const p = pod('a', '127.0.2.1', true, [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }]);

  test('a number is taken as is, and no targetPort means the Service port', () => {
    expect(resolveTargetPort(p, { port: 80, targetPort: 9090 })).toBe(9090);
    expect(resolveTargetPort(p, { port: 80 })).toBe(80);
  });

  test('a name is looked up among the container ports of the same protocol', () => {
    expect(resolveTargetPort(p, { port: 80, targetPort: 'http' })).toBe(8080);
    expect(resolveTargetPort(p, { port: 53, targetPort: 'dns', protocol: 'UDP' })).toBe(5353);
    expect(resolveTargetPort(p, { port: 53, targetPort: 'dns', protocol: 'TCP' })).toBeUndefined();
    expect(resolveTargetPort(p, { port: 80, targetPort: 'missing' })).toBeUndefined();
  });
});

describe('subsets', () => {
  test('ready and not-ready addresses apart, one subset, sorted, with name and protocol from the Service port', () => {
    const pods = [pod('b', '127.0.2.2', true, [{ name: 'http', containerPort: 8080 }]), pod('a', '127.0.2.1', true, [{ name: 'http', containerPort: 8080 }]), pod('c', '127.0.2.3', false, [{ name: 'http', containerPort: 8080 }]), pod('d', undefined, true)];
    const subsets = endpointSubsetsFor(service([{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }]), pods);
    expect(subsets).toEqual([
      {
        addresses: [
          { ip: '127.0.2.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } },
          { ip: '127.0.2.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' } },
        ],
        notReadyAddresses: [{ ip: '127.0.2.3', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'c', uid: 'uid-c' } }],
        ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  test('pods whose named port resolves differently land in different subsets; a pod lacking the name is left out', () => {
    const pods = [pod('a', '127.0.2.1', true, [{ name: 'http', containerPort: 8080 }]), pod('b', '127.0.2.2', true, [{ name: 'http', containerPort: 9090 }]), pod('c', '127.0.2.3', true, [])];
    const subsets = endpointSubsetsFor(service([{ port: 80, targetPort: 'http' }]), pods);
    expect(subsets).toHaveLength(2);
    expect(subsets.map((s) => [s.addresses?.map((a) => a.ip), s.ports])).toEqual([
      [['127.0.2.1'], [{ port: 8080, protocol: 'TCP' }]],
      [['127.0.2.2'], [{ port: 9090, protocol: 'TCP' }]],
    ]);
  });

  test('several Service ports, numeric and named, resolve together', () => {
    const pods = [pod('a', '127.0.2.1', true, [{ name: 'metrics', containerPort: 9100 }])];
    const subsets = endpointSubsetsFor(service([{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9100, targetPort: 'metrics' }]), pods);
    expect(subsets[0]?.ports).toEqual([
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9100, protocol: 'TCP' },
    ]);
  });

  test('publishNotReadyAddresses lists not-ready pods as ready; no pods, no subsets', () => {
    const pods = [pod('a', '127.0.2.1', false)];
    expect(endpointSubsetsFor(service([{ port: 80 }], { publishNotReadyAddresses: true }), pods)[0]?.addresses).toHaveLength(1);
    expect(endpointSubsetsFor(service([{ port: 80 }]), [])).toEqual([]);
  });

  test('equal subsets compare equal whatever the key order; absent and empty are the same', () => {
    const subsets = endpointSubsetsFor(service([{ port: 80 }]), [pod('a', '127.0.2.1', true)]);
    const reordered = JSON.parse(JSON.stringify(subsets, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v)));
    expect(subsetsEqual(reordered, subsets)).toBe(true);
    expect(subsetsEqual(undefined, [])).toBe(true);
    expect(subsetsEqual([], subsets)).toBe(false);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });
});
