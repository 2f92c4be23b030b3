// Pod and pod template validation (kubernetes pkg/apis/core/validation/validation.go,
// ValidatePodSpec and its helpers): field paths and messages as Kubernetes writes them.

import type {
  Container,
  EnvVar,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Affinity,
} from './types/core.js';
import type { IntOrString } from './types/meta.js';
import {
  type FieldCause,
  duplicate,
  forbidden,
  invalid,
  notFound,
  required,
} from './validation-errors.js';
import { nonNegative, oneOf, validateAnnotations, validateLabels, validateObjectMeta } from './validation-meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, isValidPortName, isValidPortNum } from './validation-names.js';
import { parseQuantity, quantityFormatMessage } from './validation-quantity.js';

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const dnsPolicies = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const taintEffects = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
const int32Max = 2147483647;

export function validatePortNumOrName(port: IntOrString | undefined, field: string): FieldCause[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(field, port, m));
  if (typeof port === 'string' && port !== '') return isValidPortName(port).map((m) => invalid(field, port, m));
  return [required(field)];
}

function validateVolumes(volumes: readonly Volume[] | undefined, field: string): { causes: FieldCause[]; names: Set<string> } {
  const causes: FieldCause[] = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((vol, i) => {
    const at = `${field}[${i}]`;
    if (!vol.name) causes.push(required(`${at}.name`));
    else for (const m of isDNS1123Label(vol.name)) causes.push(invalid(`${at}.name`, vol.name, m));
    if (vol.name && names.has(vol.name)) causes.push(duplicate(`${at}.name`, vol.name));
    if (vol.name) names.add(vol.name);
    const sources = (['emptyDir', 'hostPath', 'configMap', 'secret'] as const).filter((s) => vol[s] !== undefined);
    if (sources.length === 0) causes.push(required(at, 'must specify a volume type'));
    for (const extra of sources.slice(1)) causes.push(forbidden(`${at}.${extra}`, 'may not specify more than 1 volume type'));
    if (vol.hostPath !== undefined && !vol.hostPath.path) causes.push(required(`${at}.hostPath.path`));
    if (vol.configMap !== undefined && !vol.configMap.name) causes.push(required(`${at}.configMap.name`));
    if (vol.secret !== undefined && !vol.secret.secretName) causes.push(required(`${at}.secret.secretName`));
  });
  return { causes, names };
}

function validateEnv(env: readonly EnvVar[] | undefined, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  (env ?? []).forEach((ev, i) => {
    const at = `${field}[${i}]`;
    if (!ev.name) causes.push(required(`${at}.name`));
    else for (const m of isEnvVarName(ev.name)) causes.push(invalid(`${at}.name`, ev.name, m));
    const from = ev.valueFrom;
    if (from === undefined) return;
    const sources = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const).filter((s) => from[s] !== undefined);
    if (ev.value) causes.push(invalid(`${at}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    if (sources.length === 0) {
      causes.push(invalid(`${at}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (sources.length > 1) {
      causes.push(invalid(`${at}.valueFrom`, '', 'may not have more than one field specified at a time'));
    }
    for (const ref of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const selector = from[ref];
      if (selector === undefined) continue;
      if (!selector.key) causes.push(required(`${at}.valueFrom.${ref}.key`));
      if (!selector.name) causes.push(required(`${at}.valueFrom.${ref}.name`));
    }
    if (from.fieldRef !== undefined && !from.fieldRef.fieldPath) causes.push(required(`${at}.valueFrom.fieldRef.fieldPath`));
  });
  return causes;
}

function validateResources(resources: ResourceRequirements | undefined, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const limits = new Map<string, number>();
  for (const [name, q] of Object.entries(resources?.limits ?? {})) {
    const at = `${field}.limits[${name}]`;
    const value = parseQuantity(q);
    if (value === undefined) causes.push(invalid(at, String(q), quantityFormatMessage));
    else if (value < 0) causes.push(invalid(at, String(q), 'must be greater than or equal to 0'));
    else limits.set(name, value);
  }
  for (const [name, q] of Object.entries(resources?.requests ?? {})) {
    const at = `${field}.requests[${name}]`;
    const value = parseQuantity(q);
    if (value === undefined) causes.push(invalid(at, String(q), quantityFormatMessage));
    else if (value < 0) causes.push(invalid(at, String(q), 'must be greater than or equal to 0'));
    else if (value > (limits.get(name) ?? Infinity)) {
      causes.push(invalid(`${field}.requests`, String(q), `must be less than or equal to ${name} limit`));
    }
  }
  return causes;
}

function validateProbe(probe: Probe | undefined, field: string): FieldCause[] {
  if (probe === undefined) return [];
  const causes: FieldCause[] = [];
  const handlers = (['exec', 'httpGet', 'tcpSocket'] as const).filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) causes.push(required(field, 'must specify a handler type'));
  for (const extra of handlers.slice(1)) causes.push(forbidden(`${field}.${extra}`, 'may not specify more than 1 handler type'));
  if (probe.exec !== undefined && (probe.exec.command ?? []).length === 0) causes.push(required(`${field}.exec.command`));
  if (probe.httpGet !== undefined) {
    causes.push(...validatePortNumOrName(probe.httpGet.port, `${field}.httpGet.port`));
    causes.push(...oneOf(`${field}.httpGet.scheme`, probe.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (probe.tcpSocket !== undefined) causes.push(...validatePortNumOrName(probe.tcpSocket.port, `${field}.tcpSocket.port`));
  for (const n of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    causes.push(...nonNegative(`${field}.${n}`, probe[n]));
  }
  return causes;
}

function validateContainer(ctr: Container, at: string, volumeNames: ReadonlySet<string>, hostNetwork: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!ctr.image) causes.push(required(`${at}.image`));
  const portNames = new Set<string>();
  (ctr.ports ?? []).forEach((port, i) => {
    const p = `${at}.ports[${i}]`;
    if (port.name) {
      for (const m of isValidPortName(port.name)) causes.push(invalid(`${p}.name`, port.name, m));
      if (portNames.has(port.name)) causes.push(duplicate(`${p}.name`, port.name));
      portNames.add(port.name);
    }
    if (!port.containerPort) causes.push(required(`${p}.containerPort`));
    else for (const m of isValidPortNum(port.containerPort)) causes.push(invalid(`${p}.containerPort`, port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) causes.push(invalid(`${p}.hostPort`, port.hostPort, m));
    if (hostNetwork && port.hostPort && port.hostPort !== port.containerPort) {
      causes.push(invalid(`${p}.containerPort`, port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
    }
    causes.push(...oneOf(`${p}.protocol`, port.protocol, protocols));
  });
  causes.push(...validateEnv(ctr.env, `${at}.env`));
  (ctr.volumeMounts ?? []).forEach((mnt, i) => {
    const m = `${at}.volumeMounts[${i}]`;
    if (!mnt.name) causes.push(required(`${m}.name`));
    else if (!volumeNames.has(mnt.name)) causes.push(notFound(`${m}.name`, mnt.name));
    if (!mnt.mountPath) causes.push(required(`${m}.mountPath`));
  });
  causes.push(...validateProbe(ctr.livenessProbe, `${at}.livenessProbe`));
  if (ctr.livenessProbe?.successThreshold !== undefined && ctr.livenessProbe.successThreshold !== 1) {
    causes.push(invalid(`${at}.livenessProbe.successThreshold`, ctr.livenessProbe.successThreshold, 'must be 1'));
  }
  causes.push(...validateProbe(ctr.readinessProbe, `${at}.readinessProbe`));
  causes.push(...validateProbe(ctr.startupProbe, `${at}.startupProbe`));
  causes.push(...validateResources(ctr.resources, `${at}.resources`));
  causes.push(...oneOf(`${at}.imagePullPolicy`, ctr.imagePullPolicy, pullPolicies));
  causes.push(...oneOf(`${at}.terminationMessagePolicy`, ctr.terminationMessagePolicy, ['FallbackToLogsOnError', 'File']));
  return causes;
}

function validateContainers(spec: PodSpec, field: string, volumeNames: ReadonlySet<string>): FieldCause[] {
  const causes: FieldCause[] = [];
  const names = new Set<string>();
  const hostNetwork = spec.hostNetwork === true;
  const lists = [
    ['initContainers', spec.initContainers ?? []],
    ['containers', spec.containers ?? []],
  ] as const;
  for (const [list, containers] of lists) {
    containers.forEach((ctr, i) => {
      const at = `${field}.${list}[${i}]`;
      if (!ctr.name) causes.push(required(`${at}.name`));
      else for (const m of isDNS1123Label(ctr.name)) causes.push(invalid(`${at}.name`, ctr.name, m));
      if (ctr.name && names.has(ctr.name)) causes.push(duplicate(`${at}.name`, ctr.name));
      if (ctr.name) names.add(ctr.name);
      causes.push(...validateContainer(ctr, at, volumeNames, hostNetwork));
    });
  }
  if ((spec.containers ?? []).length === 0) causes.push(required(`${field}.containers`));
  return causes;
}

function validateTolerations(tolerations: readonly Toleration[] | undefined, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const at = `${field}[${i}]`;
    if (t.key) for (const m of isQualifiedName(t.key)) causes.push(invalid(`${at}.key`, t.key, m));
    if (!t.key && t.operator !== 'Exists') {
      causes.push(invalid(`${at}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      causes.push(invalid(`${at}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (t.operator === 'Exists' && t.value) causes.push(invalid(`${at}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    else if (t.operator !== undefined && t.operator !== 'Equal' && t.operator !== 'Exists') {
      causes.push(...oneOf(`${at}.operator`, t.operator, ['Equal', 'Exists']));
    }
    if (t.effect) causes.push(...oneOf(`${at}.effect`, t.effect, taintEffects));
  });
  return causes;
}

function validateNodeSelectorRequirement(req: NodeSelectorRequirement, at: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const values = req.values ?? [];
  if (req.operator === 'In' || req.operator === 'NotIn') {
    if (values.length === 0) causes.push(required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
  } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
    if (values.length > 0) causes.push(forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  } else if (req.operator === 'Gt' || req.operator === 'Lt') {
    if (values.length !== 1) causes.push(required(`${at}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
  } else {
    causes.push(invalid(`${at}.operator`, req.operator, 'not a valid selector operator'));
  }
  for (const m of isQualifiedName(req.key ?? '')) causes.push(invalid(`${at}.key`, req.key ?? '', m));
  return causes;
}

function validateNodeSelectorTerm(term: NodeSelectorTerm, at: string): FieldCause[] {
  return (term.matchExpressions ?? []).flatMap((req, j) => validateNodeSelectorRequirement(req, `${at}.matchExpressions[${j}]`));
}

function validateAffinity(affinity: Affinity | undefined, field: string): FieldCause[] {
  const nodeAffinity = affinity?.nodeAffinity;
  if (nodeAffinity === undefined) return [];
  const causes: FieldCause[] = [];
  const requiredTerms = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (requiredTerms !== undefined) {
    const at = `${field}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
    const terms = requiredTerms.nodeSelectorTerms ?? [];
    if (terms.length === 0) causes.push(required(`${at}.nodeSelectorTerms`, 'must have at least one node selector term'));
    terms.forEach((term, i) => causes.push(...validateNodeSelectorTerm(term, `${at}.nodeSelectorTerms[${i}]`)));
  }
  (nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((pref, i) => {
    const at = `${field}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
    if (!(pref.weight >= 1 && pref.weight <= 100)) causes.push(invalid(`${at}.weight`, pref.weight, 'must be in the range 1-100'));
    causes.push(...validateNodeSelectorTerm(pref.preference ?? {}, `${at}.preference`));
  });
  return causes;
}

/** ValidatePodSpec; `field` is `spec` for a pod, `spec.template.spec` inside a workload. */
export function validatePodSpec(spec: PodSpec | undefined, field: string): FieldCause[] {
  if (spec === undefined) return [required(`${field}.containers`)];
  const { causes, names } = validateVolumes(spec.volumes, `${field}.volumes`);
  causes.push(...validateContainers(spec, field, names));
  causes.push(...oneOf(`${field}.restartPolicy`, spec.restartPolicy, restartPolicies));
  causes.push(...oneOf(`${field}.dnsPolicy`, spec.dnsPolicy, dnsPolicies));
  causes.push(...validateLabels(spec.nodeSelector, `${field}.nodeSelector`));
  if (spec.nodeName) for (const m of isDNS1123Subdomain(spec.nodeName)) causes.push(invalid(`${field}.nodeName`, spec.nodeName, m));
  causes.push(...validateAffinity(spec.affinity, `${field}.affinity`));
  causes.push(...validateTolerations(spec.tolerations, `${field}.tolerations`));
  causes.push(...nonNegative(`${field}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && !(Number.isInteger(deadline) && deadline >= 1 && deadline <= int32Max)) {
    causes.push(invalid(`${field}.activeDeadlineSeconds`, deadline, `must be between 1 and ${int32Max}, inclusive`));
  }
  return causes;
}

/** ValidatePodTemplateSpec: the template's labels and annotations, then its pod spec. */
export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, field: string): FieldCause[] {
  const causes = validateLabels(template?.metadata?.labels, `${field}.metadata.labels`);
  causes.push(...validateAnnotations(template?.metadata?.annotations, `${field}.metadata.annotations`));
  causes.push(...validatePodSpec(template?.spec, `${field}.spec`));
  return causes;
}

export function validatePod(pod: Pod): FieldCause[] {
  const causes = validateObjectMeta(pod.metadata, { namespaced: true, nameRule: 'dns1123-subdomain' });
  causes.push(...validatePodSpec(pod.spec, 'spec'));
  return causes;
}
