// Validation of the core/v1 kinds without a pod template, plus the Lease, Binding and Scale bodies
// (kubernetes pkg/apis/core/validation, coordination/validation, autoscaling/validation).

import type { Binding, ConfigMap, Endpoints, Event, Namespace, Node, Secret, Service } from './types/core.js';
import type { Scale } from './types/autoscaling.js';
import type { Lease } from './types/coordination.js';
import { type FieldCause, duplicate, forbidden, GoSyntax, invalid, notSupported, required, tooLong } from './validation-errors.js';
import { nonNegative, oneOf, validateLabels, validateObjectMeta } from './validation-meta.js';
import { isConfigMapKey, isQualifiedName, isValidIP, isValidLabelValue, isValidPortName, isValidPortNum } from './validation-names.js';
import { validatePortNumOrName } from './validation-pod.js';

/** Kubernetes' limit on the data of one ConfigMap or Secret, in bytes (1 MiB). */
export const configDataBytesMax = 1024 * 1024;
/** The default --service-node-port-range (the cluster config's apiserver.serviceNodePortRange). */
export const nodePortMin = 30000;
export const nodePortMax = 32767;

const namespaced = { namespaced: true, nameRule: 'dns1123-subdomain' } as const;
const protocols = ['SCTP', 'TCP', 'UDP'];

export function validateNamespace(ns: Namespace): FieldCause[] {
  return validateObjectMeta(ns.metadata, { namespaced: false, nameRule: 'dns1123-label' });
}

export function validateNode(node: Node): FieldCause[] {
  const causes = validateObjectMeta(node.metadata, { namespaced: false, nameRule: 'dns1123-subdomain' });
  const seen = new Set<string>();
  (node.spec?.taints ?? []).forEach((taint, i) => {
    const at = `spec.taints[${i}]`;
    for (const m of isQualifiedName(taint.key ?? '')) causes.push(invalid(`${at}.key`, taint.key ?? '', m));
    if (taint.value) for (const m of isValidLabelValue(taint.value)) causes.push(invalid(`${at}.value`, taint.value, m));
    if (!taint.effect) causes.push(required(`${at}.effect`));
    else causes.push(...oneOf(`${at}.effect`, taint.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
    const key = `${taint.key}:${taint.effect}`;
    if (seen.has(key)) {
      const shown = new GoSyntax(
        `core.Taint{Key:${JSON.stringify(taint.key)}, Value:${JSON.stringify(taint.value ?? '')}, Effect:${JSON.stringify(taint.effect)}, TimeAdded:(*v1.Time)(nil)}`,
      );
      const cause = duplicate(at, shown);
      causes.push({ ...cause, message: `${cause.message}: taints must be unique by key and effect pair` });
    }
    seen.add(key);
  });
  const cidr = node.spec?.podCIDR;
  if (cidr && !isValidCIDR(cidr)) causes.push(invalid('spec.podCIDRs[0]', cidr, 'must be a valid CIDR'));
  return causes;
}

function isValidCIDR(cidr: string): boolean {
  const [ip, bits, ...rest] = cidr.split('/');
  if (ip === undefined || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) return false;
  return isValidIP(ip) && Number(bits) <= (ip.includes(':') ? 128 : 32);
}

export function validateService(svc: Service): FieldCause[] {
  const causes = validateObjectMeta(svc.metadata, { namespaced: true, nameRule: 'dns1035-label' });
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  causes.push(...oneOf('spec.type', spec.type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
  causes.push(...oneOf('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  const ports = spec.ports ?? [];
  if (ports.length === 0 && spec.clusterIP !== 'None' && type !== 'ExternalName') causes.push(required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const at = `spec.ports[${i}]`;
    if (ports.length > 1 && !port.name) causes.push(required(`${at}.name`));
    if (port.name) {
      for (const m of isValidPortName(port.name)) causes.push(invalid(`${at}.name`, port.name, m));
      if (names.has(port.name)) causes.push(duplicate(`${at}.name`, port.name));
      names.add(port.name);
    }
    for (const m of isValidPortNum(port.port)) causes.push(invalid(`${at}.port`, port.port, m));
    causes.push(...oneOf(`${at}.protocol`, port.protocol, protocols));
    if (port.targetPort !== undefined) causes.push(...validatePortNumOrName(port.targetPort, `${at}.targetPort`));
    // Whether a nodePort lies in the cluster's range (apiserver.serviceNodePortRange) and is free is
    // the apiserver's allocator's to say, as in Kubernetes.
    if (port.nodePort) {
      if (type === 'ClusterIP') causes.push(forbidden(`${at}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else for (const m of isValidPortNum(port.nodePort)) causes.push(invalid(`${at}.nodePort`, port.nodePort, m));
    }
  });
  causes.push(...validateSessionAffinityConfig(spec));
  const ip = spec.clusterIP;
  if (ip && ip !== 'None' && !isValidIP(ip)) causes.push(invalid('spec.clusterIP', ip, "must be empty, 'None', or a valid IP address"));
  if (type === 'ExternalName' && !spec.externalName) causes.push(required('spec.externalName'));
  causes.push(...validateLabels(spec.selector, 'spec.selector'));
  return causes;
}

/** Kubernetes' MaxClientIPServiceAffinitySeconds: one day. */
export const clientIPAffinitySecondsMax = 86_400;

function validateSessionAffinityConfig(spec: NonNullable<Service['spec']>): FieldCause[] {
  const config = spec.sessionAffinityConfig;
  if (spec.sessionAffinity !== 'ClientIP') {
    return config === undefined ? [] : [forbidden('spec.sessionAffinityConfig', `must not be set when session affinity is ${spec.sessionAffinity ?? 'None'}`)];
  }
  const seconds = config?.clientIP?.timeoutSeconds;
  if (seconds === undefined) return [required('spec.sessionAffinityConfig.clientIP.timeoutSeconds')];
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > clientIPAffinitySecondsMax) {
    return [invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', seconds, `must be greater than 0 and less than ${clientIPAffinitySecondsMax}`)];
  }
  return [];
}

export function validateEndpoints(ep: Endpoints): FieldCause[] {
  const causes = validateObjectMeta(ep.metadata, namespaced);
  (ep.subsets ?? []).forEach((subset, i) => {
    const at = `subsets[${i}]`;
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      (subset[list] ?? []).forEach((addr, j) => {
        const a = `${at}.${list}[${j}].ip`;
        if (!addr.ip) causes.push(required(a));
        else if (!isValidIP(addr.ip)) causes.push(invalid(a, addr.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      });
    }
    (subset.ports ?? []).forEach((port, j) => {
      const p = `${at}.ports[${j}]`;
      for (const m of isValidPortNum(port.port)) causes.push(invalid(`${p}.port`, port.port, m));
      if (port.protocol === undefined) causes.push(required(`${p}.protocol`));
      else causes.push(...oneOf(`${p}.protocol`, port.protocol, protocols));
    });
  });
  return causes;
}

function validateDataKeys(data: Record<string, string> | undefined, field: string): { causes: FieldCause[]; totalBytes: number } {
  const causes: FieldCause[] = [];
  let totalBytes = 0;
  for (const [key, value] of Object.entries(data ?? {})) {
    for (const m of isConfigMapKey(key)) causes.push(invalid(`${field}[${key}]`, key, m));
    totalBytes += value.length;
  }
  return { causes, totalBytes };
}

export function validateConfigMap(cm: ConfigMap): FieldCause[] {
  const causes = validateObjectMeta(cm.metadata, namespaced);
  const data = validateDataKeys(cm.data, 'data');
  const binary = validateDataKeys(cm.binaryData, 'binaryData');
  causes.push(...data.causes, ...binary.causes);
  for (const key of Object.keys(cm.binaryData ?? {})) {
    if (Object.hasOwn(cm.data ?? {}, key)) causes.push(invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
  }
  // binaryData is base64 on the wire: three bytes for every four characters.
  if (data.totalBytes + Math.floor((binary.totalBytes * 3) / 4) > configDataBytesMax) causes.push(tooLong('', configDataBytesMax));
  return causes;
}

export function validateSecret(secret: Secret): FieldCause[] {
  const causes = validateObjectMeta(secret.metadata, namespaced);
  const data = validateDataKeys(secret.data, 'data');
  causes.push(...data.causes);
  for (const key of Object.keys(secret.stringData ?? {})) {
    for (const m of isConfigMapKey(key)) causes.push(invalid(`stringData[${key}]`, key, m));
  }
  if (Math.floor((data.totalBytes * 3) / 4) > configDataBytesMax) causes.push(tooLong('data', configDataBytesMax));
  return causes;
}

export function validateEvent(ev: Event): FieldCause[] {
  const causes = validateObjectMeta(ev.metadata, namespaced);
  const involved = ev.involvedObject;
  if (involved === undefined) return [...causes, required('involvedObject')];
  if (involved.namespace && involved.namespace !== ev.metadata?.namespace) {
    causes.push(invalid('involvedObject.namespace', involved.namespace, 'does not match event.namespace'));
  }
  causes.push(...oneOf('type', ev.type, ['Normal', 'Warning']));
  return causes;
}

/** ValidatePodBinding: the target must be a Node, by name. */
export function validateBinding(binding: Binding): FieldCause[] {
  const causes = validateObjectMeta(binding.metadata, namespaced);
  const target = binding.target ?? {};
  if (target.kind && target.kind !== 'Node') causes.push(notSupported('target.kind', target.kind, ['Node', '<empty>']));
  if (!target.name) causes.push(required('target.name'));
  return causes;
}

export function validateLease(lease: Lease): FieldCause[] {
  const causes = validateObjectMeta(lease.metadata, namespaced);
  const duration = lease.spec?.leaseDurationSeconds;
  if (duration !== undefined && duration <= 0) causes.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  causes.push(...nonNegative('spec.leaseTransitions', lease.spec?.leaseTransitions));
  return causes;
}

export function validateScale(scale: Scale): FieldCause[] {
  return nonNegative('spec.replicas', scale.spec?.replicas);
}
