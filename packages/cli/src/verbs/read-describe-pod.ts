// `describe pod`, section by section as kubectl's PodDescriber writes it: the pod, each container
// (state, readiness, restarts, environment, mounts), conditions, volumes, then its events.

import { parseQuantity, type Container, type ContainerState, type ContainerStatus, type Event, type EnvVar, type Pod, type Volume } from '@raftplane/api';
import { controlledBy, describeEvents, describeLabels, describeTime, DescribeText } from './read-describe-text.js';

export function describePod(pod: Pod, events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  const { metadata, spec, status } = pod;
  text.line(0, 'Name:', metadata.name ?? '');
  text.line(0, 'Namespace:', metadata.namespace ?? '');
  // As kubectl: only what the spec says (the apiserver does not default these here).
  if (spec?.priority !== undefined) text.line(0, 'Priority:', String(spec.priority));
  if (spec?.priorityClassName) text.line(0, 'Priority Class Name:', spec.priorityClassName);
  if (spec?.serviceAccountName) text.line(0, 'Service Account:', spec.serviceAccountName);
  text.line(0, 'Node:', spec?.nodeName ? `${spec.nodeName}${status?.hostIP ? `/${status.hostIP}` : ''}` : '<none>');
  if (status?.startTime) text.line(0, 'Start Time:', describeTime(status.startTime));
  describeLabels(text, metadata);
  if (metadata.deletionTimestamp) text.line(0, 'Status:', `Terminating (lasts ${metadata.deletionGracePeriodSeconds ?? 0}s)`);
  else text.line(0, 'Status:', status?.phase ?? 'Unknown');
  if (status?.reason) text.line(0, 'Reason:', status.reason);
  if (status?.message) text.line(0, 'Message:', status.message);
  text.line(0, 'IP:', status?.podIP ?? '');
  const ips = status?.podIPs ?? [];
  if (ips.length === 0) text.line(0, 'IPs:', '<none>');
  else {
    text.line(0, 'IPs:');
    for (const ip of ips) text.line(1, 'IP:', ip.ip);
  }
  const owner = controlledBy(pod);
  if (owner !== undefined) text.line(0, 'Controlled By:', owner);
  if ((spec?.initContainers ?? []).length > 0) describeContainers(text, 'Init Containers:', spec?.initContainers ?? [], status?.initContainerStatuses ?? []);
  describeContainers(text, 'Containers:', spec?.containers ?? [], status?.containerStatuses ?? []);
  describeConditions(text, pod);
  describeVolumes(text, spec?.volumes ?? []);
  text.line(0, 'QoS Class:', status?.qosClass ?? qosClass(pod));
  text.map(0, 'Node-Selectors:', spec?.nodeSelector);
  const tolerations = (spec?.tolerations ?? []).map((t) => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}${t.effect ? `:${t.effect}` : ''}${t.tolerationSeconds === undefined ? '' : ` for ${t.tolerationSeconds}s`}`);
  if (tolerations.length === 0) text.line(0, 'Tolerations:', '<none>');
  tolerations.forEach((t, i) => text.line(0, i === 0 ? 'Tolerations:' : '', t));
  describeEvents(text, events, nowMs);
  return text.toString();
}

/** qos.GetPodQOS, for a pod whose status does not say: no requests or limits at all is BestEffort; cpu and memory limits on every container, requests equal to them, is Guaranteed. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const set = (list: Record<string, unknown> | undefined): boolean => Object.keys(list ?? {}).length > 0;
  if (containers.every((c) => !set(c.resources?.requests) && !set(c.resources?.limits))) return 'BestEffort';
  const guaranteed = containers.every((c) =>
    (['cpu', 'memory'] as const).every((r) => {
      const limit = c.resources?.limits?.[r];
      const request = c.resources?.requests?.[r] ?? limit;
      return limit !== undefined && parseQuantity(limit) === parseQuantity(request ?? 0);
    }),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function describeState(text: DescribeText, label: string, state: ContainerState | undefined): void {
  if (state?.running) {
    text.line(2, label, 'Running');
    text.line(3, 'Started:', describeTime(state.running.startedAt));
  } else if (state?.waiting) {
    text.line(2, label, 'Waiting');
    if (state.waiting.reason) text.line(3, 'Reason:', state.waiting.reason);
    if (state.waiting.message) text.line(3, 'Message:', state.waiting.message);
  } else if (state?.terminated) {
    const t = state.terminated;
    text.line(2, label, 'Terminated');
    if (t.reason) text.line(3, 'Reason:', t.reason);
    if (t.message) text.line(3, 'Message:', t.message);
    text.line(3, 'Exit Code:', String(t.exitCode));
    if (t.signal) text.line(3, 'Signal:', String(t.signal));
    text.line(3, 'Started:', describeTime(t.startedAt));
    text.line(3, 'Finished:', describeTime(t.finishedAt));
  } else {
    text.line(2, label, 'Waiting');
  }
}

function envValue(env: EnvVar): string {
  if (env.value !== undefined) return env.value;
  const from = env.valueFrom;
  if (from?.fieldRef) return `(${from.fieldRef.apiVersion ?? 'v1'}:${from.fieldRef.fieldPath})`;
  if (from?.configMapKeyRef) return `<set to the key '${from.configMapKeyRef.key}' of config map '${from.configMapKeyRef.name ?? ''}'>`;
  if (from?.secretKeyRef) return `<set to the key '${from.secretKeyRef.key}' in secret '${from.secretKeyRef.name ?? ''}'>`;
  return '';
}

function describeContainers(text: DescribeText, label: string, containers: readonly Container[], statuses: readonly ContainerStatus[]): void {
  text.line(0, label);
  for (const container of containers) {
    const status = statuses.find((s) => s.name === container.name);
    text.line(1, `${container.name}:`);
    if (status?.containerID) text.line(2, 'Container ID:', status.containerID);
    text.line(2, 'Image:', container.image ?? '');
    text.line(2, 'Image ID:', status?.imageID ?? '');
    const ports = container.ports ?? [];
    if (ports.length === 0) {
      text.line(2, 'Port:', '<none>');
      text.line(2, 'Host Port:', '<none>');
    } else {
      text.line(2, ports.length === 1 ? 'Port:' : 'Ports:', ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', '));
      text.line(2, ports.length === 1 ? 'Host Port:' : 'Host Ports:', ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', '));
    }
    if ((container.command ?? []).length > 0) {
      text.line(2, 'Command:');
      for (const part of container.command ?? []) text.line(3, part);
    }
    if ((container.args ?? []).length > 0) {
      text.line(2, 'Args:');
      for (const part of container.args ?? []) text.line(3, part);
    }
    describeState(text, 'State:', status?.state);
    if (status?.lastState && Object.keys(status.lastState).length > 0) describeState(text, 'Last State:', status.lastState);
    text.line(2, 'Ready:', status?.ready === true ? 'True' : 'False');
    text.line(2, 'Restart Count:', String(status?.restartCount ?? 0));
    for (const [label, list] of [['Limits:', container.resources?.limits], ['Requests:', container.resources?.requests]] as const) {
      const keys = Object.keys(list ?? {}).sort();
      if (keys.length === 0) continue;
      text.line(2, label);
      for (const key of keys) text.line(3, `${key}:`, String(list?.[key] ?? ''));
    }
    const env = container.env ?? [];
    if (env.length === 0) text.line(2, 'Environment:', '<none>');
    else {
      text.line(2, 'Environment:');
      for (const e of env) text.line(3, `${e.name}:`, envValue(e));
    }
    const mounts = container.volumeMounts ?? [];
    if (mounts.length === 0) text.line(2, 'Mounts:', '<none>');
    else {
      text.line(2, 'Mounts:');
      for (const m of mounts) text.line(3, `${m.mountPath} from ${m.name} (${m.readOnly === true ? 'ro' : 'rw'})`);
    }
  }
}

function describeConditions(text: DescribeText, pod: Pod): void {
  const conditions = pod.status?.conditions ?? [];
  if (conditions.length === 0) return;
  text.line(0, 'Conditions:');
  text.line(1, 'Type', 'Status');
  // kubectl writes both cells with a trailing space.
  for (const c of conditions) text.line(1, `${c.type} `, `${c.status} `);
}

function volumeSource(volume: Volume): string[][] {
  if (volume.emptyDir) return [['Type:', 'EmptyDir (a temporary directory that shares a pod\'s lifetime)'], ['Medium:', volume.emptyDir.medium ?? ''], ['SizeLimit:', volume.emptyDir.sizeLimit === undefined ? '<unset>' : String(volume.emptyDir.sizeLimit)]];
  if (volume.hostPath) return [['Type:', 'HostPath (bare host directory volume)'], ['Path:', volume.hostPath.path]];
  if (volume.configMap) return [['Type:', 'ConfigMap (a volume populated by a ConfigMap)'], ['Name:', volume.configMap.name ?? ''], ['Optional:', String(volume.configMap.optional ?? false)]];
  if (volume.secret) return [['Type:', 'Secret (a volume populated by a Secret)'], ['SecretName:', volume.secret.secretName ?? ''], ['Optional:', String(volume.secret.optional ?? false)]];
  return [['Type:', '<unknown>']];
}

function describeVolumes(text: DescribeText, volumes: readonly Volume[]): void {
  if (volumes.length === 0) {
    text.line(0, 'Volumes:', '<none>');
    return;
  }
  text.line(0, 'Volumes:');
  for (const volume of volumes) {
    text.line(1, `${volume.name}:`);
    for (const [label, value] of volumeSource(volume)) text.line(2, label ?? '', value ?? '');
  }
}
