// Server-side printers for the core/v1 kinds (kubernetes 1.20 pkg/printers/internalversion
// printers.go): the columns `kubectl get` shows, cell for cell.

import { podStatusText } from './pod-status-text.js';
import {
  ageColumn,
  ageSince,
  column,
  formatLabels,
  nameColumn,
  orNone,
  printer,
  type Printer,
  type TableRowCondition,
} from './table-printing.js';
import type {
  ConfigMap,
  Endpoints,
  Event,
  EventSource,
  Namespace,
  Node,
  NodeAddress,
  Pod,
  PodCondition,
  Secret,
  Service,
  ServicePort,
} from './types/core.js';

/** Fields of newer Kubernetes versions that raftplane's types leave out, read when present. */
type PrintedPod = Pod & {
  spec?: { readinessGates?: { conditionType: string }[] };
  status?: { nominatedNodeName?: string };
};

const podSucceeded: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const podFailed: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

export const podPrinter: Printer = printer<PrintedPod>(
  [
    nameColumn,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'integer', 'The number of times the containers in this pod have been restarted.'),
    ageColumn,
    column('IP', 'string', 'IP address allocated to the pod.', { priority: 1 }),
    column('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node.', { priority: 1 }),
    column('Nominated Node', 'string', 'nominatedNodeName is set when this pod preempts other pods on the node.', { priority: 1 }),
    column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', { priority: 1 }),
  ],
  (pod, context) => {
    const text = podStatusText(pod);
    return [
      pod.metadata.name ?? '',
      text.ready,
      text.status,
      text.restarts,
      ageSince(pod.metadata.creationTimestamp, context),
      orNone(pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP),
      orNone(pod.spec?.nodeName),
      orNone(pod.status?.nominatedNodeName),
      readinessGates(pod),
    ];
  },
  (pod) => (pod.status?.phase === 'Succeeded' ? podSucceeded : pod.status?.phase === 'Failed' ? podFailed : undefined),
);

function readinessGates(pod: PrintedPod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions: readonly PodCondition[] = pod.status?.conditions ?? [];
  const met = gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length;
  return `${met}/${gates.length}`;
}

export const nodePrinter: Printer = printer<Node>(
  [
    nameColumn,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn,
    column('Version', 'string', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', 'List of addresses reachable to the node.', { priority: 1 }),
    column('External-IP', 'string', 'List of addresses reachable to the node.', { priority: 1 }),
    column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
    column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", { priority: 1 }),
    column('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. docker://1.5.0).', { priority: 1 }),
  ],
  (node, context) => {
    const info = node.status?.nodeInfo;
    return [
      node.metadata.name ?? '',
      nodeStatus(node),
      nodeRoles(node.metadata.labels).join(',') || '<none>',
      ageSince(node.metadata.creationTimestamp, context),
      info?.kubeletVersion ?? '',
      nodeAddress(node.status?.addresses, 'InternalIP'),
      nodeAddress(node.status?.addresses, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
);

/** `Ready`, `NotReady` or `Unknown`, then `SchedulingDisabled` for a cordoned node. */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const words = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) words.push('SchedulingDisabled');
  return words.join(',');
}

const roleLabelPrefix = 'node-role.kubernetes.io/';
const legacyRoleLabel = 'kubernetes.io/role';

/** findNodeRoles: `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value, sorted, distinct. */
export function nodeRoles(labels: Readonly<Record<string, string>> | undefined): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (key.startsWith(roleLabelPrefix) && key.length > roleLabelPrefix.length) roles.add(key.slice(roleLabelPrefix.length));
    else if (key === legacyRoleLabel && value !== '') roles.add(value);
  }
  return [...roles].sort();
}

function nodeAddress(addresses: readonly NodeAddress[] | undefined, type: NodeAddress['type']): string {
  return addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

export const servicePrinter: Printer = printer<Service>(
  [
    nameColumn,
    column('Type', 'string', 'type determines how the Service is exposed.'),
    column('Cluster-IP', 'string', 'clusterIP is the IP address of the service.'),
    column('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic.'),
    column('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    ageColumn,
    column('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', { priority: 1 }),
  ],
  (service, context) => [
    service.metadata.name ?? '',
    service.spec?.type ?? '',
    orNone(service.spec?.clusterIPs?.[0] ?? service.spec?.clusterIP),
    serviceExternalIP(service),
    servicePorts(service.spec?.ports ?? []) || '<none>',
    ageSince(service.metadata.creationTimestamp, context),
    formatLabels(service.spec?.selector),
  ],
);

/** makePortString: `80/TCP`, or `80:30080/TCP` with a node port, joined by commas. */
export function servicePorts(ports: readonly ServicePort[]): string {
  return ports
    .map((p) => {
      const protocol = p.protocol ?? 'TCP';
      return p.nodePort ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(',');
}

/** getServiceExternalIP, as the server prints it (wide: load balancer addresses are not shortened). */
function serviceExternalIP(service: Service): string {
  const externalIPs = service.spec?.externalIPs ?? [];
  switch (service.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((a) => a !== '');
      const all = [...ingress, ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return service.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

export const endpointsPrinter: Printer = printer<Endpoints>(
  [nameColumn, column('Endpoints', 'string', 'Endpoints of the service'), ageColumn],
  (endpoints, context) => [
    endpoints.metadata.name ?? '',
    formatEndpoints(endpoints),
    ageSince(endpoints.metadata.creationTimestamp, context),
  ],
);

const endpointsShownMax = 3;

/** formatEndpoints: up to three `ip:port`, then `+ N more...`; `<none>` without subsets. */
export function formatEndpoints(endpoints: Endpoints): string {
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const all: string[] = [];
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    if (ports.length === 0) all.push(...addresses.map((a) => a.ip));
    for (const port of ports) all.push(...addresses.map((a) => joinHostPort(a.ip, port.port)));
  }
  const shown = all.slice(0, endpointsShownMax).join(',');
  return all.length > endpointsShownMax ? `${shown} + ${all.length - endpointsShownMax} more...` : shown;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export const configMapPrinter: Printer = printer<ConfigMap>(
  [nameColumn, column('Data', 'string', 'Data contains the configuration data.'), ageColumn],
  (configMap, context) => [
    configMap.metadata.name ?? '',
    Object.keys(configMap.data ?? {}).length + Object.keys(configMap.binaryData ?? {}).length,
    ageSince(configMap.metadata.creationTimestamp, context),
  ],
);

export const secretPrinter: Printer = printer<Secret>(
  [nameColumn, column('Type', 'string', 'The type of the secret'), column('Data', 'string', 'The number of entries in the secret'), ageColumn],
  (secret, context) => [
    secret.metadata.name ?? '',
    secret.type ?? '',
    Object.keys(secret.data ?? {}).length,
    ageSince(secret.metadata.creationTimestamp, context),
  ],
);

export const namespacePrinter: Printer = printer<Namespace>(
  [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn],
  (namespace, context) => [
    namespace.metadata.name ?? '',
    namespace.status?.phase ?? '',
    ageSince(namespace.metadata.creationTimestamp, context),
  ],
);

export const eventPrinter: Printer = printer<Event>(
  [
    column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    column('Object', 'string', 'The object that this event is about.'),
    column('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', { priority: 1 }),
    column('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
    column('Message', 'string', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 'The time at which the event was first recorded.', { priority: 1 }),
    column('Count', 'string', 'The number of times this event has occurred.', { priority: 1 }),
    column('Name', 'string', 'Name must be unique within a namespace.', { priority: 1, format: 'name' }),
  ],
  (event, context) => {
    const firstSeen = ageSince(event.firstTimestamp || event.eventTime, context);
    const lastSeen = event.lastTimestamp ? ageSince(event.lastTimestamp, context) : firstSeen;
    const involved = event.involvedObject;
    const kind = (involved.kind ?? '').toLowerCase();
    return [
      lastSeen,
      event.type ?? '',
      event.reason ?? '',
      involved.name ? `${kind}/${involved.name}` : kind,
      involved.fieldPath ?? '',
      eventSource(event.source),
      (event.message ?? '').trim(),
      firstSeen,
      event.count || 1,
      event.metadata.name ?? '',
    ];
  },
);

function eventSource(source: EventSource | undefined): string {
  return [source?.component ?? '', ...(source?.host ? [source.host] : [])].join(', ');
}
