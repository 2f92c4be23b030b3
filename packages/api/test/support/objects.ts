// Real-looking objects, as kubectl sends them (kubectl-wire.md §4, §5): what a user's manifest
// becomes after `kubectl create -f` or `apply -f`, before the server fills anything in.

import type {
  ConfigMap,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  Job,
  KubeObject,
  Lease,
  Namespace,
  Node,
  Pod,
  ReplicaSet,
  Secret,
  Service,
  StatefulSet,
  Binding,
  Scale,
} from '../../src/index.js';

export function pod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { labels: { app: 'web' }, name: 'web-0', namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'nginx:1.25',
          ports: [{ containerPort: 80, name: 'http' }],
          env: [
            { name: 'MODE', value: 'prod' },
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'greeting' } } },
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'token' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
          livenessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 5 },
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'config', mountPath: '/etc/web' }],
        },
      ],
      volumes: [
        { name: 'cache', emptyDir: {} },
        { name: 'config', configMap: { name: 'web-config' } },
      ],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
  };
}

function template(): NonNullable<Deployment['spec']>['template'] {
  return {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
  };
}

export function deployment(): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}\n' },
      labels: { app: 'web' },
      name: 'web',
      namespace: 'default',
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template() },
  };
}

export function replicaSet(): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-5d78f9c6b4', namespace: 'default', labels: { app: 'web', 'pod-template-hash': '5d78f9c6b4' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d78f9c6b4' } },
      template: { ...template(), metadata: { labels: { app: 'web', 'pod-template-hash': '5d78f9c6b4' } } },
    },
  };
}

export function daemonSet(): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'log-agent', namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: 'log-agent' } },
      template: {
        metadata: { labels: { app: 'log-agent' } },
        spec: {
          containers: [{ name: 'agent', image: 'fluent/fluent-bit:2.2', volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }] }],
          volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
          tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  };
}

export function statefulSet(): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      serviceName: 'db',
      replicas: 3,
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:16' }] } },
    },
  };
}

export function job(): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default' },
    spec: {
      selector: { matchLabels: { 'controller-uid': '6f2b3c1e-0000-4000-8000-000000000001' } },
      template: {
        metadata: { labels: { 'controller-uid': '6f2b3c1e-0000-4000-8000-000000000001', 'job-name': 'pi' } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'] }],
        },
      },
      backoffLimit: 4,
    },
  };
}

export function service(): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

export function nodePortService(): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web-public', namespace: 'default' },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', nodePort: 30080, protocol: 'TCP' },
        { name: 'metrics', port: 9090 },
      ],
    },
  };
}

export function namespace(): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } };
}

export function node(): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' } },
    spec: { podCIDR: '127.1.1.0/24', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'agent is posting ready status' }],
      addresses: [{ type: 'InternalIP', address: '127.0.1.1' }, { type: 'Hostname', address: 'node-1' }],
    },
  };
}

export function endpoints(): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '127.1.1.5', nodeName: 'node-1' }], ports: [{ port: 8080, protocol: 'TCP' }] }],
  };
}

export function configMap(): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: 'default' }, data: { greeting: 'hello', 'nginx.conf': 'events {}' } };
}

export function secret(): Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret', namespace: 'default' }, type: 'Opaque', data: { token: 'czNjcjN0' } };
}

export function event(): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-0.17a1b2c3d4e5f6a7', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
    reason: 'Scheduled',
    message: 'Successfully assigned default/web-0 to node-1',
    source: { component: 'default-scheduler' },
    type: 'Normal',
    count: 1,
  };
}

export function lease(): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'node-1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-11-26T12:31:43.123456Z' },
  };
}

export function binding(): Binding {
  return { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web-0', namespace: 'default' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
}

export function scale(): Scale {
  return { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 3 } };
}

/** One valid object of every kind. */
export function everyKind(): KubeObject[] {
  return [
    pod(), deployment(), replicaSet(), daemonSet(), statefulSet(), job(), service(), nodePortService(), namespace(), node(),
    endpoints(), configMap(), secret(), event(), lease(), binding(), scale(),
  ] as KubeObject[];
}
