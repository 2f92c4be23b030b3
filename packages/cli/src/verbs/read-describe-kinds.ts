// `describe` for deployments, services, config maps and secrets, as kubectl's describers write
// them; each takes the related objects describe.ts fetched.

import { labelSelectorObjectToString, type ConfigMap, type Deployment, type Namespace, type Pod, type Endpoints, type Event, type PodTemplateSpec, type ReplicaSet, type Secret, type Service, type WorkloadCondition } from '@raftplane/api';
import { controlledBy, describeEvents, describeLabels, describeMeta, describeTime, DescribeText } from './read-describe-text.js';

/**
 * The Pod Template section of a workload: labels, then each container's image, ports and
 * environment. `withAnnotations`: the template's annotations after its labels, as `rollout history
 * --revision` prints them.
 */
export function describeTemplate(text: DescribeText, template: PodTemplateSpec | undefined, withAnnotations = false): void {
  text.line(0, 'Pod Template:');
  text.map(1, 'Labels:', template?.metadata?.labels);
  if (withAnnotations) text.map(1, 'Annotations:', template?.metadata?.annotations, ': ');
  text.line(1, 'Containers:');
  for (const container of template?.spec?.containers ?? []) {
    // kubectl indents a template's container names by one space more than their section.
    text.line(1, ` ${container.name}:`);
    text.line(2, 'Image:', container.image ?? '');
    const ports = container.ports ?? [];
    text.line(2, 'Port:', ports.length === 0 ? '<none>' : ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', '));
    text.line(2, 'Host Port:', ports.length === 0 ? '<none>' : ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', '));
    const env = container.env ?? [];
    if (env.length === 0) text.line(2, 'Environment:', '<none>');
    else {
      text.line(2, 'Environment:');
      for (const e of env) text.line(3, `${e.name}:`, e.value ?? '');
    }
    const mounts = container.volumeMounts ?? [];
    if (mounts.length === 0) text.line(2, 'Mounts:', '<none>');
    else {
      text.line(2, 'Mounts:');
      for (const m of mounts) text.line(3, `${m.mountPath} from ${m.name} (${m.readOnly === true ? 'ro' : 'rw'})`);
    }
  }
  const volumes = template?.spec?.volumes ?? [];
  text.line(1, 'Volumes:', volumes.length === 0 ? '<none>' : volumes.map((v) => v.name).join(', '));
  text.map(1, 'Node-Selectors:', template?.spec?.nodeSelector);
  const tolerations = (template?.spec?.tolerations ?? []).map((t) => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}${t.effect ? `:${t.effect}` : ''}`);
  if (tolerations.length === 0) text.line(1, 'Tolerations:', '<none>');
  tolerations.forEach((t, i) => text.line(1, i === 0 ? 'Tolerations:' : '', t));
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

export function describeDeployment(deployment: Deployment, owned: readonly ReplicaSet[], events: readonly Event[] | undefined, nowMs: number): string {
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

export function describeService(service: Service, endpoints: Endpoints | undefined, events: readonly Event[] | undefined, nowMs: number): string {
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

/** kubectl's `0 Running / 2 Waiting / 0 Succeeded / 0 Failed` over a workload's pods. */
export function podsStatus(pods: readonly Pod[]): string {
  const count = (phase: string): number => pods.filter((p) => (p.status?.phase ?? 'Pending') === phase).length;
  return `${count('Running')} Running / ${count('Pending')} Waiting / ${count('Succeeded')} Succeeded / ${count('Failed')} Failed`;
}

/** kubectl's ReplicaSetDescriber: `pods` are the ones it owns. */
export function describeReplicaSet(rs: ReplicaSet, pods: readonly Pod[], events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  text.line(0, 'Name:', rs.metadata.name ?? '');
  text.line(0, 'Namespace:', rs.metadata.namespace ?? '');
  text.line(0, 'Selector:', labelSelectorObjectToString(rs.spec?.selector));
  describeLabels(text, rs.metadata);
  const owner = controlledBy(rs);
  if (owner !== undefined) text.line(0, 'Controlled By:', owner);
  text.line(0, 'Replicas:', `${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired`);
  text.line(0, 'Pods Status:', podsStatus(pods));
  describeTemplate(text, rs.spec?.template);
  describeWorkloadConditions(text, rs.status?.conditions ?? []);
  describeEvents(text, events, nowMs);
  return text.toString();
}

/** kubectl's NamespaceDescriber (which shows no events); raftplane serves no quotas or limit ranges, so, as kubectl against it, none are listed. */
export function describeNamespace(namespace: Namespace): string {
  const text = new DescribeText();
  text.line(0, 'Name:', namespace.metadata.name ?? '');
  describeLabels(text, namespace.metadata);
  text.line(0, 'Status:', namespace.status?.phase ?? '');
  return text.toString();
}

/** kubectl's ConfigMap form: each key, a rule, and its value as written. */
export function describeConfigMap(configMap: ConfigMap, events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  describeMeta(text, configMap.metadata, true);
  text.line(0, '');
  text.line(0, 'Data');
  text.line(0, '====');
  for (const key of Object.keys(configMap.data ?? {}).sort()) {
    text.line(0, `${key}:`);
    text.line(0, '----');
    // A value's own tabs must not become columns.
    for (const line of (configMap.data?.[key] ?? '').split('\n')) text.line(0, line.replaceAll('\t', '    '));
  }
  const binary = Object.keys(configMap.binaryData ?? {}).sort();
  if (binary.length > 0) {
    text.line(0, '');
    text.line(0, 'BinaryData');
    text.line(0, '====');
    for (const key of binary) text.line(0, `${key}:`, `${Buffer.from(configMap.binaryData?.[key] ?? '', 'base64').byteLength} bytes`);
  }
  describeEvents(text, events, nowMs);
  return text.toString();
}

/** kubectl's Secret form: the type, and each key's size, never its value. */
export function describeSecret(secret: Secret, events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  describeMeta(text, secret.metadata, true);
  text.line(0, '');
  text.line(0, 'Type:', secret.type ?? 'Opaque');
  text.line(0, '');
  text.line(0, 'Data');
  text.line(0, '====');
  for (const key of Object.keys(secret.data ?? {}).sort()) text.line(0, `${key}:`, `${Buffer.from(secret.data?.[key] ?? '', 'base64').byteLength} bytes`);
  describeEvents(text, events, nowMs);
  return text.toString();
}

/** kubectl's EndpointsDescriber: each subset's ready and not-ready addresses and its ports. */
export function describeEndpoints(endpoints: Endpoints, events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  describeMeta(text, endpoints.metadata, true);
  text.line(0, 'Subsets:');
  for (const subset of endpoints.subsets ?? []) {
    const ready = (subset.addresses ?? []).map((a) => a.ip).join(',');
    const notReady = (subset.notReadyAddresses ?? []).map((a) => a.ip).join(',');
    text.line(1, 'Addresses:', ready === '' ? '<none>' : ready);
    text.line(1, 'NotReadyAddresses:', notReady === '' ? '<none>' : notReady);
    const ports = subset.ports ?? [];
    if (ports.length === 0) text.line(1, 'Ports:', '<none>');
    else {
      text.line(1, 'Ports:');
      text.line(2, 'Name', 'Port', 'Protocol');
      text.line(2, '----', '----', '--------');
      for (const port of ports) text.line(2, port.name ? port.name : '<unset>', String(port.port), port.protocol ?? 'TCP');
    }
    text.line(0, '');
  }
  describeEvents(text, events, nowMs);
  return text.toString();
}
