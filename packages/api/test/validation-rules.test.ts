// Each validation rule has a failing case: the cause names the exact field path, the reason, and
// Kubernetes' message for it.

import { describe, expect, it } from 'vitest';
import { type FieldCause, type KubeObject, validateCreate, withDefaults } from '../src/index.js';
import * as objects from './support/objects.js';

const dns1123Subdomain =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const dns1123Label =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const dns1035Label =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const qualifiedNamePart =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const labelValue =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

interface Case {
  name: string;
  object: () => KubeObject;
  cause: FieldCause;
}

/** Builds a case from a fixture and an in-place change to it. */
function broken<T extends KubeObject>(make: () => T, change: (obj: T) => void): () => KubeObject {
  return () => {
    const obj = make();
    change(obj);
    return obj;
  };
}

const cases: Case[] = [
  // ---- metadata
  {
    name: 'a name that is not a DNS-1123 subdomain',
    object: broken(objects.pod, (p) => (p.metadata.name = 'Web_0')),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "Web_0": ${dns1123Subdomain}` },
  },
  {
    name: 'a subdomain name longer than 253',
    object: broken(objects.configMap, (c) => (c.metadata.name = 'a'.repeat(254))),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters` },
  },
  {
    name: 'a namespace name with a dot (labels allow none)',
    object: broken(objects.namespace, (n) => (n.metadata.name = 'team.a')),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "team.a": ${dns1123Label}` },
  },
  {
    name: 'a namespace name longer than 63',
    object: broken(objects.namespace, (n) => (n.metadata.name = 'n'.repeat(64))),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${'n'.repeat(64)}": must be no more than 63 characters` },
  },
  {
    name: 'a service name starting with a digit (Kubernetes wants a DNS-1035 label)',
    object: broken(objects.service, (s) => (s.metadata.name = '1web')),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "1web": ${dns1035Label}` },
  },
  {
    name: 'no name and no generateName',
    object: broken(objects.pod, (p) => delete p.metadata.name),
    cause: { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' },
  },
  {
    name: 'a namespaced object without a namespace',
    object: broken(objects.configMap, (c) => delete c.metadata.namespace),
    cause: { reason: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' },
  },
  {
    name: 'a cluster-scoped object with a namespace',
    object: broken(objects.node, (n) => (n.metadata.namespace = 'default')),
    cause: { reason: 'FieldValueForbidden', field: 'metadata.namespace', message: 'Forbidden: not allowed on this type' },
  },
  {
    name: 'a label key with a bad name part',
    object: broken(objects.pod, (p) => (p.metadata.labels = { 'example.com/-bad': 'x' })),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "example.com/-bad": ${qualifiedNamePart}` },
  },
  {
    name: 'a label key whose prefix is not a subdomain',
    object: broken(objects.pod, (p) => (p.metadata.labels = { 'Example.com/app': 'x' })),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "Example.com/app": prefix part ${dns1123Subdomain}` },
  },
  {
    name: 'a label key name part longer than 63',
    object: broken(objects.pod, (p) => (p.metadata.labels = { ['k'.repeat(64)]: 'x' })),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters` },
  },
  {
    name: 'a label value with a space',
    object: broken(objects.pod, (p) => (p.metadata.labels = { app: 'my app' })),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "my app": ${labelValue}` },
  },
  {
    name: 'a label value longer than 63',
    object: broken(objects.pod, (p) => (p.metadata.labels = { app: 'v'.repeat(64) })),
    cause: { reason: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters` },
  },
  {
    name: 'annotations over 256 KiB in total',
    object: broken(objects.deployment, (d) => (d.metadata.annotations = { a: 'x'.repeat(128 * 1024), b: 'y'.repeat(128 * 1024) })),
    cause: { reason: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: must have at most 262144 bytes' },
  },
  // ---- pods
  {
    name: 'a pod without containers',
    object: broken(objects.pod, (p) => (p.spec!.containers = [])),
    cause: { reason: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' },
  },
  {
    name: 'a container without an image',
    object: broken(objects.pod, (p) => delete p.spec!.containers[0]!.image),
    cause: { reason: 'FieldValueRequired', field: 'spec.containers[0].image', message: 'Required value' },
  },
  {
    name: 'a container without a name',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.name = '')),
    cause: { reason: 'FieldValueRequired', field: 'spec.containers[0].name', message: 'Required value' },
  },
  {
    name: 'two containers with one name',
    object: broken(objects.pod, (p) => p.spec!.containers.push({ name: 'nginx', image: 'busybox:1.36' })),
    cause: { reason: 'FieldValueDuplicate', field: 'spec.containers[1].name', message: 'Duplicate value: "nginx"' },
  },
  {
    name: 'an init container and a container with one name',
    object: broken(objects.pod, (p) => (p.spec!.initContainers = [{ name: 'nginx', image: 'busybox:1.36' }])),
    cause: { reason: 'FieldValueDuplicate', field: 'spec.containers[0].name', message: 'Duplicate value: "nginx"' },
  },
  {
    name: 'a container port above 65535',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.ports = [{ containerPort: 70000 }])),
    cause: { reason: 'FieldValueInvalid', field: 'spec.containers[0].ports[0].containerPort', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' },
  },
  {
    name: 'a container port protocol that does not exist',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.ports = [{ containerPort: 80, protocol: 'HTTP' as 'TCP' }])),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.containers[0].ports[0].protocol', message: 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"' },
  },
  {
    name: 'an unknown restartPolicy',
    object: broken(objects.pod, (p) => (p.spec!.restartPolicy = 'Sometimes' as 'Always')),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.restartPolicy', message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"' },
  },
  {
    name: 'a negative terminationGracePeriodSeconds',
    object: broken(objects.pod, (p) => (p.spec!.terminationGracePeriodSeconds = -1)),
    cause: { reason: 'FieldValueInvalid', field: 'spec.terminationGracePeriodSeconds', message: 'Invalid value: -1: must be greater than or equal to 0' },
  },
  {
    name: 'a configMapKeyRef without a key',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.env![1]!.valueFrom!.configMapKeyRef!.key = '')),
    cause: { reason: 'FieldValueRequired', field: 'spec.containers[0].env[1].valueFrom.configMapKeyRef.key', message: 'Required value' },
  },
  {
    name: 'an env var with both value and valueFrom',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.env![2]!.value = 'plain')),
    cause: { reason: 'FieldValueInvalid', field: 'spec.containers[0].env[2].valueFrom', message: 'Invalid value: "": may not be specified when `value` is not empty' },
  },
  {
    name: 'a request above its limit',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.resources = { requests: { cpu: '2' }, limits: { cpu: '500m' } })),
    cause: { reason: 'FieldValueInvalid', field: 'spec.containers[0].resources.requests', message: 'Invalid value: "2": must be less than or equal to cpu limit' },
  },
  {
    name: 'a probe with no handler',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.readinessProbe = { periodSeconds: 5 })),
    cause: { reason: 'FieldValueRequired', field: 'spec.containers[0].readinessProbe', message: 'Required value: must specify a handler type' },
  },
  {
    name: 'a probe with two handlers',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.livenessProbe = { httpGet: { port: 80 }, tcpSocket: { port: 80 } })),
    cause: { reason: 'FieldValueForbidden', field: 'spec.containers[0].livenessProbe.tcpSocket', message: 'Forbidden: may not specify more than 1 handler type' },
  },
  {
    name: 'a volume mount of a volume that does not exist',
    object: broken(objects.pod, (p) => (p.spec!.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data' }])),
    cause: { reason: 'FieldValueNotFound', field: 'spec.containers[0].volumeMounts[0].name', message: 'Not found: "data"' },
  },
  {
    name: 'two volumes with one name',
    object: broken(objects.pod, (p) => p.spec!.volumes!.push({ name: 'cache', emptyDir: {} })),
    cause: { reason: 'FieldValueDuplicate', field: 'spec.volumes[2].name', message: 'Duplicate value: "cache"' },
  },
  {
    name: 'a hostPath volume without a path',
    object: broken(objects.daemonSet, (d) => (d.spec!.template!.spec!.volumes![0]!.hostPath!.path = '')),
    cause: { reason: 'FieldValueRequired', field: 'spec.template.spec.volumes[0].hostPath.path', message: 'Required value' },
  },
  {
    name: 'a toleration with Exists and a value',
    object: broken(objects.pod, (p) => (p.spec!.tolerations = [{ key: 'dedicated', operator: 'Exists', value: 'gpu' }])),
    cause: { reason: 'FieldValueInvalid', field: 'spec.tolerations[0].operator', message: 'Invalid value: "gpu": value must be empty when `operator` is \'Exists\'' },
  },
  {
    name: 'a node affinity In without values',
    object: broken(objects.pod, (p) => {
      p.spec!.affinity = {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] } },
      };
    }),
    cause: {
      reason: 'FieldValueRequired',
      field: 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values',
      message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    },
  },
  // ---- workloads
  {
    name: 'a deployment without a selector',
    object: broken(objects.deployment, (d) => delete d.spec!.selector),
    cause: { reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' },
  },
  {
    name: 'a deployment whose template labels do not match its selector',
    object: broken(objects.deployment, (d) => (d.spec!.template!.metadata!.labels = { app: 'api', tier: 'backend' })),
    cause: {
      reason: 'FieldValueInvalid',
      field: 'spec.template.metadata.labels',
      message: 'Invalid value: map[string]string{"app":"api", "tier":"backend"}: `selector` does not match template `labels`',
    },
  },
  {
    name: 'a deployment with an empty selector',
    object: broken(objects.deployment, (d) => (d.spec!.selector = {})),
    cause: {
      reason: 'FieldValueInvalid',
      field: 'spec.selector',
      message:
        'Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    },
  },
  {
    name: 'negative replicas',
    object: broken(objects.deployment, (d) => (d.spec!.replicas = -1)),
    cause: { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
  },
  {
    name: 'a deployment template with restartPolicy Never',
    object: broken(objects.deployment, (d) => (d.spec!.template!.spec!.restartPolicy = 'Never')),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Never": supported values: "Always"' },
  },
  {
    name: 'a replica set template with restartPolicy OnFailure',
    object: broken(objects.replicaSet, (r) => (r.spec!.template!.spec!.restartPolicy = 'OnFailure')),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "OnFailure": supported values: "Always"' },
  },
  {
    name: 'a template container without an image',
    object: broken(objects.replicaSet, (r) => (r.spec!.template!.spec!.containers[0]!.image = '')),
    cause: { reason: 'FieldValueRequired', field: 'spec.template.spec.containers[0].image', message: 'Required value' },
  },
  {
    name: 'a maxSurge that is not a percentage',
    object: broken(objects.deployment, (d) => (d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25x' } })),
    cause: {
      reason: 'FieldValueInvalid',
      field: 'spec.strategy.rollingUpdate.maxSurge',
      message: "Invalid value: 25x: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    },
  },
  {
    name: 'maxSurge and maxUnavailable both zero',
    object: broken(objects.deployment, (d) => (d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } })),
    cause: { reason: 'FieldValueInvalid', field: 'spec.strategy.rollingUpdate.maxUnavailable', message: 'Invalid value: 0%: may not be 0 when `maxSurge` is 0' },
  },
  {
    name: 'a job whose template restartPolicy was defaulted to Always',
    object: () => withDefaults(broken(objects.job, (j) => delete j.spec!.template!.spec!.restartPolicy)()),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' },
  },
  {
    name: 'a statefulset with an unknown podManagementPolicy',
    object: broken(objects.statefulSet, (s) => (s.spec!.podManagementPolicy = 'AllAtOnce' as 'Parallel')),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.podManagementPolicy', message: 'Unsupported value: "AllAtOnce": supported values: "OrderedReady", "Parallel"' },
  },
  // ---- services and the rest
  {
    name: 'a service port of 0',
    object: broken(objects.service, (s) => (s.spec!.ports![0]!.port = 0)),
    cause: { reason: 'FieldValueInvalid', field: 'spec.ports[0].port', message: 'Invalid value: 0: must be between 1 and 65535, inclusive' },
  },
  {
    name: 'two service ports, one unnamed',
    object: broken(objects.nodePortService, (s) => delete s.spec!.ports![1]!.name),
    cause: { reason: 'FieldValueRequired', field: 'spec.ports[1].name', message: 'Required value' },
  },
  {
    name: 'a nodePort on a ClusterIP service',
    object: broken(objects.service, (s) => (s.spec!.ports![0]!.nodePort = 30080)),
    cause: { reason: 'FieldValueForbidden', field: 'spec.ports[0].nodePort', message: "Forbidden: may not be used when `type` is 'ClusterIP'" },
  },
  {
    name: 'an unknown service type',
    object: broken(objects.service, (s) => (s.spec!.type = 'Headless' as 'ClusterIP')),
    cause: { reason: 'FieldValueNotSupported', field: 'spec.type', message: 'Unsupported value: "Headless": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"' },
  },
  {
    name: 'a clusterIP that is not an address',
    object: broken(objects.service, (s) => (s.spec!.clusterIP = '10.0.0.300')),
    cause: { reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: "Invalid value: \"10.0.0.300\": must be empty, 'None', or a valid IP address" },
  },
  {
    name: 'a taint without an effect',
    object: broken(objects.node, (n) => (n.spec!.taints = [{ key: 'dedicated', effect: '' as 'NoSchedule' }])),
    cause: { reason: 'FieldValueRequired', field: 'spec.taints[0].effect', message: 'Required value' },
  },
  {
    name: 'a config map key with a slash',
    object: broken(objects.configMap, (c) => (c.data = { 'conf/app': 'x' })),
    cause: {
      reason: 'FieldValueInvalid',
      field: 'data[conf/app]',
      message: "Invalid value: \"conf/app\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    },
  },
  {
    name: 'a binding without a target name',
    object: broken(objects.binding, (b) => (b.target = { kind: 'Node' })),
    cause: { reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' },
  },
  {
    name: 'a lease of zero seconds',
    object: broken(objects.lease, (l) => (l.spec!.leaseDurationSeconds = 0)),
    cause: { reason: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds', message: 'Invalid value: 0: must be greater than 0' },
  },
  {
    name: 'a negative scale',
    object: broken(objects.scale, (s) => (s.spec = { replicas: -2 })),
    cause: { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -2: must be greater than or equal to 0' },
  },
];

describe('validation rules', () => {
  for (const c of cases) {
    it(`reports ${c.name} at ${c.cause.field} as ${c.cause.reason}`, () => {
      expect(validateCreate(c.object())).toContainEqual(c.cause);
    });
  }

  it('reports every problem of an object, not only the first', () => {
    const p = objects.pod();
    p.metadata.name = 'Bad';
    p.spec!.containers[0]!.image = '';
    p.spec!.restartPolicy = 'Sometimes' as 'Always';
    expect(validateCreate(p).map((c) => c.field)).toEqual(['metadata.name', 'spec.containers[0].image', 'spec.restartPolicy']);
  });

  it('accepts a generateName prefix that ends in a dash', () => {
    const p = objects.pod();
    delete p.metadata.name;
    p.metadata.generateName = 'web-';
    expect(validateCreate(p)).toEqual([]);
  });

  it('accepts annotations of exactly 256 KiB in total', () => {
    const d = objects.deployment();
    d.metadata.annotations = { a: 'x'.repeat(256 * 1024 - 1) };
    expect(validateCreate(d)).toEqual([]);
  });
});
