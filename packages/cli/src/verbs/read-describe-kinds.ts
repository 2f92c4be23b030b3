// `describe` for nodes, deployments and services, as kubectl's NodeDescriber, DeploymentDescriber
// and ServiceDescriber write them; each takes the related objects describe.ts fetched.

import { humanDuration, labelSelectorObjectToString, parseQuantity, parseTime, type Deployment, type Endpoints, type Event, type Node, type Pod, type PodTemplateSpec, type ReplicaSet, type Service, type WorkloadCondition } from '@raftplane/api';
import { describeEvents, describeLabels, describeMeta, describeTime, DescribeText } from './read-describe-text.js';

const roleLabelPrefix = 'node-role.kubernetes.io/';

function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith(roleLabelPrefix) && key.length > roleLabelPrefix.length) roles.add(key.slice(roleLabelPrefix.length));
    if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

/** The sum of one resource's requests over a pod's containers, in the resource's unit (cores, bytes). */
function podRequest(pod: Pod, resource: 'cpu' | 'memory'): number {
  return (pod.spec?.containers ?? []).reduce((sum, c) => sum + (parseQuantity(c.resources?.requests?.[resource] ?? 0) ?? 0), 0);
}

/** `250m`, `2`; `64Mi`, `1Gi`: a total back in the units an operator wrote. */
function formatAmount(amount: number, resource: 'cpu' | 'memory'): string {
  if (resource === 'cpu') {
    const millis = Math.round(amount * 1000);
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
  }
  for (const [unit, bytes] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (amount >= bytes && amount % bytes === 0) return `${amount / bytes}${unit}`;
  return String(amount);
}

/** `250m (6%)`: a request and its share of what the node offers. */
function share(amount: number, allocatable: number | undefined, resource: 'cpu' | 'memory'): string {
  const percent = allocatable === undefined || allocatable <= 0 ? 0 : Math.trunc((amount / allocatable) * 100);
  return `${formatAmount(amount, resource)} (${percent}%)`;
}

export function describeNode(node: Node, pods: readonly Pod[], events: readonly Event[], nowMs: number): string {
  const text = new DescribeText();
  text.line(0, 'Name:', node.metadata.name ?? '');
  text.line(0, 'Roles:', nodeRoles(node));
  describeLabels(text, node.metadata);
  text.line(0, 'CreationTimestamp:', describeTime(node.metadata.creationTimestamp));
  const taints = (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  if (taints.length === 0) text.line(0, 'Taints:', '<none>');
  taints.forEach((t, i) => text.line(0, i === 0 ? 'Taints:' : '', t));
  text.line(0, 'Unschedulable:', String(node.spec?.unschedulable ?? false));
  const conditions = node.status?.conditions ?? [];
  text.line(0, 'Conditions:');
  text.line(1, 'Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message');
  text.line(1, '----', '------', '-----------------', '------------------', '------', '-------');
  for (const c of conditions) text.line(1, c.type, c.status, describeTime(c.lastHeartbeatTime), describeTime(c.lastTransitionTime), c.reason ?? '', c.message ?? '');
  text.line(0, 'Addresses:');
  for (const a of node.status?.addresses ?? []) text.line(1, `${a.type}:`, a.address);
  for (const [label, list] of [['Capacity:', node.status?.capacity], ['Allocatable:', node.status?.allocatable]] as const) {
    text.line(0, label);
    for (const key of Object.keys(list ?? {}).sort()) text.line(1, `${key}:`, String(list?.[key] ?? ''));
  }
  describeSystemInfo(text, node);
  const running = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  text.line(0, 'Non-terminated Pods:', `(${running.length} in total)`);
  text.line(1, 'Namespace', 'Name', 'CPU Requests', 'Memory Requests', 'Age');
  text.line(1, '---------', '----', '------------', '---------------', '---');
  const cpu = parseQuantity(node.status?.allocatable?.cpu ?? 0);
  const memory = parseQuantity(node.status?.allocatable?.memory ?? 0);
  for (const pod of running) {
    const age = pod.metadata.creationTimestamp ? humanDuration(nowMs - parseTime(pod.metadata.creationTimestamp)) : '<unknown>';
    text.line(1, pod.metadata.namespace ?? '', pod.metadata.name ?? '', share(podRequest(pod, 'cpu'), cpu, 'cpu'), share(podRequest(pod, 'memory'), memory, 'memory'), age);
  }
  describeEvents(text, events, nowMs);
  return text.toString();
}

/** System Info, from what the agent reported (empty before it has). */
function describeSystemInfo(text: DescribeText, node: Node): void {
  const info = node.status?.nodeInfo;
  text.line(0, 'System Info:');
  text.line(1, 'Machine ID:', info?.machineID ?? '');
  text.line(1, 'Kernel Version:', info?.kernelVersion ?? '');
  text.line(1, 'OS Image:', info?.osImage ?? '');
  text.line(1, 'Operating System:', info?.operatingSystem ?? '');
  text.line(1, 'Architecture:', info?.architecture ?? '');
  text.line(1, 'Container Runtime Version:', info?.containerRuntimeVersion ?? '');
  text.line(1, 'Kubelet Version:', info?.kubeletVersion ?? '');
  text.line(0, 'PodCIDR:', node.spec?.podCIDR ?? '');
}

/** The Pod Template section of a workload: labels, then each container's image, ports and environment. */
function describeTemplate(text: DescribeText, template: PodTemplateSpec | undefined): void {
  text.line(0, 'Pod Template:');
  text.map(1, 'Labels:', template?.metadata?.labels);
  text.line(1, 'Containers:');
  for (const container of template?.spec?.containers ?? []) {
    // kubectl indents a template's container names by one space more than their section.
    text.line(1, ` ${container.name}:`);
    text.line(2, 'Image:', container.image ?? '');
    const ports = container.ports ?? [];
    text.line(2, 'Port:', ports.length === 0 ? '<none>' : ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', '));
    const env = container.env ?? [];
    if (env.length === 0) text.line(2, 'Environment:', '<none>');
    else {
      text.line(2, 'Environment:');
      for (const e of env) text.line(3, `${e.name}:`, e.value ?? '');
    }
  }
  const volumes = template?.spec?.volumes ?? [];
  text.line(1, 'Volumes:', volumes.length === 0 ? '<none>' : volumes.map((v) => v.name).join(', '));
}

function describeWorkloadConditions(text: DescribeText, conditions: readonly WorkloadCondition[]): void {
  if (conditions.length === 0) return;
  text.line(0, 'Conditions:');
  text.line(1, 'Type', 'Status', 'Reason');
  text.line(1, '----', '------', '------');
  for (const c of conditions) text.line(1, c.type, c.status, c.reason ?? '');
}

const revisionAnnotation = 'deployment.kubernetes.io/revision';

function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number {
  return Number(obj.metadata.annotations?.[revisionAnnotation] ?? 0);
}

/** kubectl's `web-6d4f (3/3 replicas created)`. */
function replicaSetLine(rs: ReplicaSet): string {
  return `${rs.metadata.name ?? ''} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`;
}

/** The new ReplicaSet is the one at the Deployment's revision; the old ones are the others that still have pods. */
export function splitReplicaSets(deployment: Deployment, owned: readonly ReplicaSet[]): { newRs: ReplicaSet | undefined; oldRs: ReplicaSet[] } {
  const revision = revisionOf(deployment);
  const byRevision = [...owned].sort((a, b) => revisionOf(b) - revisionOf(a));
  const newRs = owned.find((rs) => revisionOf(rs) === revision && revision > 0) ?? byRevision[0];
  const oldRs = owned.filter((rs) => rs !== newRs && ((rs.spec?.replicas ?? 0) > 0 || (rs.status?.replicas ?? 0) > 0));
  return { newRs, oldRs };
}

export function describeDeployment(deployment: Deployment, owned: readonly ReplicaSet[], events: readonly Event[], nowMs: number): string {
  const text = new DescribeText();
  const { spec, status } = deployment;
  text.line(0, 'Name:', deployment.metadata.name ?? '');
  text.line(0, 'Namespace:', deployment.metadata.namespace ?? '');
  text.line(0, 'CreationTimestamp:', describeTime(deployment.metadata.creationTimestamp));
  describeLabels(text, deployment.metadata);
  text.line(0, 'Selector:', labelSelectorObjectToString(spec?.selector));
  const desired = spec?.replicas ?? 1;
  const unavailable = status?.unavailableReplicas ?? 0;
  text.line(0, 'Replicas:', `${desired} desired | ${status?.updatedReplicas ?? 0} updated | ${status?.replicas ?? 0} total | ${status?.availableReplicas ?? 0} available | ${unavailable} unavailable`);
  const strategy = spec?.strategy?.type ?? 'RollingUpdate';
  text.line(0, 'StrategyType:', strategy);
  text.line(0, 'MinReadySeconds:', String(spec?.minReadySeconds ?? 0));
  if (strategy === 'RollingUpdate') {
    const rolling = spec?.strategy?.rollingUpdate;
    text.line(0, 'RollingUpdateStrategy:', `${rolling?.maxUnavailable ?? '25%'} max unavailable, ${rolling?.maxSurge ?? '25%'} max surge`);
  }
  describeTemplate(text, spec?.template);
  describeWorkloadConditions(text, status?.conditions ?? []);
  const { newRs, oldRs } = splitReplicaSets(deployment, owned);
  text.line(0, 'OldReplicaSets:', oldRs.length === 0 ? '<none>' : oldRs.map(replicaSetLine).join(', '));
  text.line(0, 'NewReplicaSet:', newRs === undefined ? '<none>' : replicaSetLine(newRs));
  describeEvents(text, events, nowMs);
  return text.toString();
}

function endpointsLine(endpoints: Endpoints | undefined, port: number | undefined): string {
  const addresses = (endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).filter((p) => port === undefined || p.port === port || (s.ports ?? []).length === 1).map((p) => `${a.ip}:${p.port}`)));
  return addresses.length === 0 ? '<none>' : addresses.join(',');
}

export function describeService(service: Service, endpoints: Endpoints | undefined, events: readonly Event[], nowMs: number): string {
  const text = new DescribeText();
  const spec = service.spec;
  describeMeta(text, service.metadata, true);
  text.map(0, 'Selector:', spec?.selector);
  text.line(0, 'Type:', spec?.type ?? 'ClusterIP');
  text.line(0, 'IP Family Policy:', spec?.ipFamilyPolicy ?? 'SingleStack');
  text.line(0, 'IP Families:', (spec?.ipFamilies ?? ['IPv4']).join(','));
  text.line(0, 'IP:', spec?.clusterIP ?? '');
  text.line(0, 'IPs:', (spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])).join(',') || '<none>');
  if (spec?.type === 'ExternalName') text.line(0, 'External Name:', spec.externalName ?? '');
  for (const port of spec?.ports ?? []) {
    const name = port.name ? port.name : '<unset>';
    const protocol = port.protocol ?? 'TCP';
    text.line(0, 'Port:', `${name}  ${port.port}/${protocol}`);
    text.line(0, 'TargetPort:', `${port.targetPort ?? port.port}/${protocol}`);
    if (port.nodePort !== undefined && port.nodePort !== 0) text.line(0, 'NodePort:', `${name}  ${port.nodePort}/${protocol}`);
    const target = typeof port.targetPort === 'number' ? port.targetPort : undefined;
    text.line(0, 'Endpoints:', endpointsLine(endpoints, target));
  }
  text.line(0, 'Session Affinity:', spec?.sessionAffinity ?? 'None');
  if (spec?.type === 'NodePort' || spec?.type === 'LoadBalancer') text.line(0, 'External Traffic Policy:', spec.externalTrafficPolicy ?? 'Cluster');
  describeEvents(text, events, nowMs);
  return text.toString();
}
