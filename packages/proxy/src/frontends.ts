// What the proxy should listen on, from the Services and Endpoints it has cached: one frontend per
// TCP service port on the ClusterIP, and for NodePort and LoadBalancer Services one more on every
// node address at the nodePort, each with the ready backends of that port. Pure.

import type { Endpoints, Service, ServicePort } from '@raftplane/api';

export interface Backend {
  readonly ip: string;
  readonly port: number;
}

/** What connections to one listening address go to. */
export interface Frontend {
  /** `namespace/name:portName`: the service port it serves (several frontends may share one). */
  readonly servicePort: string;
  readonly address: string;
  readonly port: number;
  /** The ready endpoints of the port, in the Endpoints object's order, without duplicates. */
  readonly backends: readonly Backend[];
  /** ClientIP session affinity: how long a client keeps its backend after its last connection; 0: none. */
  readonly affinityMs: number;
}

export function backendKey(backend: Backend): string {
  return `${backend.ip}:${backend.port}`;
}

export function listenKey(address: string, port: number): string {
  return `${address}:${port}`;
}

function isTcp(protocol: string | undefined): boolean {
  return (protocol ?? 'TCP') === 'TCP';
}

/**
 * The ready addresses × the endpoint port named like the service port (the Endpoints controller
 * names them so; an unnamed port matches an unnamed one). Not-ready addresses never get traffic.
 */
export function readyBackends(port: ServicePort, endpoints: Endpoints | undefined): Backend[] {
  const seen = new Set<string>();
  const backends: Backend[] = [];
  for (const subset of endpoints?.subsets ?? []) {
    const target = (subset.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && isTcp(p.protocol));
    if (target === undefined) continue;
    for (const address of subset.addresses ?? []) {
      const backend = { ip: address.ip, port: target.port };
      if (seen.has(backendKey(backend))) continue;
      seen.add(backendKey(backend));
      backends.push(backend);
    }
  }
  return backends;
}

function affinityMsOf(service: Service): number {
  if (service.spec?.sessionAffinity !== 'ClientIP') return 0;
  // Kubernetes' default (3 hours) when the apiserver did not fill it in.
  return (service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10_800) * 1000;
}

/** The frontends of one Service; none for a headless or ExternalName one. */
export function frontendsOf(service: Service, endpoints: Endpoints | undefined, nodePortAddresses: readonly string[]): Frontend[] {
  const spec = service.spec;
  const clusterIP = spec?.clusterIP ?? '';
  if (spec === undefined || spec.type === 'ExternalName' || clusterIP === '' || clusterIP === 'None') return [];
  const name = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
  const affinityMs = affinityMsOf(service);
  const frontends: Frontend[] = [];
  for (const port of spec.ports ?? []) {
    if (!isTcp(port.protocol)) continue;
    const servicePort = `${name}:${port.name ?? ''}`;
    const backends = readyBackends(port, endpoints);
    frontends.push({ servicePort, address: clusterIP, port: port.port, backends, affinityMs });
    const nodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? (port.nodePort ?? 0) : 0;
    if (nodePort === 0) continue;
    for (const address of nodePortAddresses) frontends.push({ servicePort, address, port: nodePort, backends, affinityMs });
  }
  return frontends;
}
