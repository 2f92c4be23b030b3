// Defaults the apiserver fills into a pod spec (kubernetes pkg/apis/core/v1/defaults.go:
// SetDefaults_PodSpec, _Container, _Probe, _Volume, ...). Used for pods and for every pod template.

import type { Container, PodSpec, PodTemplateSpec, Probe, PullPolicy, Volume } from './types/core.js';

export const defaultTerminationGracePeriodSeconds = 30;
export const defaultSchedulerName = 'default-scheduler';
export const defaultTerminationMessagePath = '/dev/termination-log';
/** 0644: the file mode Kubernetes gives projected ConfigMap and Secret files. */
export const defaultVolumeMode = 0o644;

/**
 * Always for `:latest` or an image with neither tag nor digest, IfNotPresent otherwise. The tag is
 * what follows the last `:` after the last `/`, so a registry port (`host:5000/app`) is not a tag.
 */
export function defaultPullPolicy(image: string): PullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  const tag = colon === -1 ? 'latest' : lastPart.slice(colon + 1);
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: Probe | undefined): void {
  if (probe === undefined) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  if (probe.httpGet !== undefined) {
    probe.httpGet.path ||= '/';
    probe.httpGet.scheme ??= 'HTTP';
  }
}

function defaultContainer(ctr: Container, hostNetwork: boolean): void {
  ctr.imagePullPolicy ??= defaultPullPolicy(ctr.image ?? '');
  ctr.terminationMessagePath ||= defaultTerminationMessagePath;
  ctr.terminationMessagePolicy ??= 'File';
  for (const port of ctr.ports ?? []) {
    port.protocol ??= 'TCP';
    // With the host's network the container listens on the host's port: Kubernetes makes them equal.
    if (hostNetwork && !port.hostPort) port.hostPort = port.containerPort;
  }
  for (const env of ctr.env ?? []) {
    if (env.valueFrom?.fieldRef !== undefined) env.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  defaultProbe(ctr.livenessProbe);
  defaultProbe(ctr.readinessProbe);
  defaultProbe(ctr.startupProbe);
  // A limit without a request means the request equals the limit (SetDefaults_Pod).
  const limits = ctr.resources?.limits;
  if (ctr.resources !== undefined && limits !== undefined && Object.keys(limits).length > 0) {
    const requests = (ctr.resources.requests ??= {});
    for (const [name, q] of Object.entries(limits)) if (!(name in requests)) requests[name] = q;
  }
}

function defaultVolume(vol: Volume): void {
  if (vol.emptyDir === undefined && vol.hostPath === undefined && vol.configMap === undefined && vol.secret === undefined) {
    vol.emptyDir = {};
  }
  if (vol.configMap !== undefined) vol.configMap.defaultMode ??= defaultVolumeMode;
  if (vol.secret !== undefined) vol.secret.defaultMode ??= defaultVolumeMode;
  if (vol.hostPath !== undefined) vol.hostPath.type ??= '';
}

/** Fills a pod spec's defaults in place. Idempotent: a defaulted spec is left as it is. */
export function defaultPodSpecInPlace(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= defaultTerminationGracePeriodSeconds;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ||= defaultSchedulerName;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  const hostNetwork = spec.hostNetwork === true;
  for (const ctr of spec.initContainers ?? []) defaultContainer(ctr, hostNetwork);
  for (const ctr of spec.containers ?? []) defaultContainer(ctr, hostNetwork);
  for (const vol of spec.volumes ?? []) defaultVolume(vol);
}

/** Pod templates get the same defaults as pods (Kubernetes defaults the nested PodSpec). */
export function defaultPodTemplateInPlace(template: PodTemplateSpec | undefined): void {
  if (template?.spec !== undefined) defaultPodSpecInPlace(template.spec);
}
