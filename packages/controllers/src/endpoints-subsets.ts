// The pure half of the Endpoints controller (kubernetes pkg/controller/endpoint): which pods a
// Service's Endpoints list, ready and not ready apart, with the Service's ports resolved per pod
// (podutil.FindPort) and the result packed into subsets by port set (endpoints.RepackSubsets).

import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Protocol, Service, ServicePort } from '@raftplane/api';
import { isPodReady } from './pods.js';

/** Whether the Service's Endpoints are the controller's to write: a selector with at least one label. */
export function serviceHasSelector(service: Service): boolean {
  const selector = service.spec?.selector;
  return selector != null && Object.keys(selector).length > 0;
}

/**
 * ShouldPodBeInEndpoints: a pod with an IP, not being deleted, and not finished (a Succeeded or
 * Failed pod will never serve again).
 */
export function shouldPodBeInEndpoints(pod: Pod): boolean {
  if ((pod.status?.podIP ?? '') === '') return false;
  if (pod.metadata.deletionTimestamp != null) return false;
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * podutil.FindPort: the container port a Service port reaches on this pod. A number (or no
 * targetPort: the Service port itself) is taken as is; a name is looked up among the pod's
 * container ports of the same protocol. Undefined when the name is on no container.
 */
export function resolveTargetPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  // An IntOrString given as a numeric string ("8080") is a number (intstr.Parse).
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

/** The Endpoints port for one Service port on one pod: name and protocol from the Service. */
function endpointPort(servicePort: ServicePort, port: number): EndpointPort {
  const result: EndpointPort = { port, protocol: servicePort.protocol ?? ('TCP' as Protocol) };
  if (servicePort.name !== undefined && servicePort.name !== '') result.name = servicePort.name;
  return result;
}

/** The Endpoints address of a pod: its IP, node, and a reference back to it. */
export function endpointAddressFor(pod: Pod): EndpointAddress {
  const address: EndpointAddress = {
    ip: pod.status?.podIP ?? '',
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  const nodeName = pod.spec?.nodeName;
  if (nodeName !== undefined && nodeName !== '') address.nodeName = nodeName;
  return address;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  const byName = (a.name ?? '').localeCompare(b.name ?? '');
  if (byName !== 0) return byName;
  if (a.port !== b.port) return a.port - b.port;
  return (a.protocol ?? '').localeCompare(b.protocol ?? '');
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  const byIp = a.ip.localeCompare(b.ip);
  if (byIp !== 0) return byIp;
  return (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

interface SubsetBuilder {
  readonly ports: EndpointPort[];
  readonly ready: EndpointAddress[];
  readonly notReady: EndpointAddress[];
}

/**
 * The subsets of the Endpoints of `service` given the pods its selector picks (the caller selects).
 * Pods whose named ports resolve alike share a subset, so the usual result is one subset; a port
 * whose name a pod lacks is left out for that pod. With `publishNotReadyAddresses`, not-ready pods
 * count as ready. Sorted (ports, addresses, subsets), so equal inputs give equal outputs.
 */
export function endpointSubsetsFor(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const servicePorts = service.spec?.ports ?? [];
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const byPorts = new Map<string, SubsetBuilder>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod)) continue;
    const ports: EndpointPort[] = [];
    for (const servicePort of servicePorts) {
      const port = resolveTargetPort(pod, servicePort);
      if (port !== undefined) ports.push(endpointPort(servicePort, port));
    }
    // A Service with ports, none of which this pod has, gets nothing from it.
    if (servicePorts.length > 0 && ports.length === 0) continue;
    ports.sort(comparePorts);
    const key = JSON.stringify(ports);
    let builder = byPorts.get(key);
    if (builder === undefined) byPorts.set(key, (builder = { ports, ready: [], notReady: [] }));
    if (publishNotReady || isPodReady(pod)) builder.ready.push(endpointAddressFor(pod));
    else builder.notReady.push(endpointAddressFor(pod));
  }
  const subsets: EndpointSubset[] = [];
  for (const key of [...byPorts.keys()].sort()) {
    const builder = byPorts.get(key) as SubsetBuilder;
    const subset: EndpointSubset = {};
    // Empty lists are left out, as the apiserver's JSON (omitempty) would, so a read-back compares equal.
    if (builder.ready.length > 0) subset.addresses = builder.ready.sort(compareAddresses);
    if (builder.notReady.length > 0) subset.notReadyAddresses = builder.notReady.sort(compareAddresses);
    if (builder.ports.length > 0) subset.ports = builder.ports;
    subsets.push(subset);
  }
  return subsets;
}

/** Structural equality of JSON values, blind to key order and to keys whose value is undefined. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((value, i) => jsonEqual(value, bs[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((k) => jsonEqual(ao[k], bo[k]));
}

/** Whether stored subsets already say what `desired` says (an absent list equals an empty one). */
export function subsetsEqual(current: readonly EndpointSubset[] | undefined, desired: readonly EndpointSubset[]): boolean {
  return jsonEqual(current ?? [], desired);
}
