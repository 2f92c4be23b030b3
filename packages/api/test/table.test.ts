// Server-side printing: the rows `kubectl get` shows (kubernetes 1.20 printers.go), cell for cell.

import { describe, expect, it } from 'vitest';
import {
  humanDuration,
  partialObjectMetadataList,
  podStatusText,
  resources,
  toTable,
  type ContainerStatus,
  type Deployment,
  type Job,
  type KubeObject,
  type Node,
  type Pod,
  type Service,
  type TableOptions,
} from '../src/index.js';
import { nodeRoles } from '../src/table-printers-core.js';

const created = '2026-11-26T12:00:00Z';
const now = Date.parse(created) + 5 * 60_000;
const options: TableOptions = { now: () => now, wide: false, includeObject: 'Metadata' };

function podWith(status: Pod['status'], extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: created, ...extra },
    spec: { containers: [{ name: 'nginx', image: 'nginx' }, { name: 'sidecar', image: 'busybox' }], nodeName: 'n1' },
    status,
  };
}

function containerStatus(name: string, state: ContainerStatus['state'], ready: boolean, restartCount = 0): ContainerStatus {
  return { name, state, ready, restartCount, image: 'x', imageID: '' };
}

function podRow(pod: Pod): unknown[] {
  return toTable([pod], 'Pod', options).rows[0]?.cells ?? [];
}

describe('pod rows', () => {
  it('running: READY counts ready running containers', () => {
    const pod = podWith({
      phase: 'Running',
      containerStatuses: [
        containerStatus('nginx', { running: {} }, true, 2),
        containerStatus('sidecar', { running: {} }, false, 1),
      ],
    });
    expect(podRow(pod)).toEqual(['web', '1/2', 'Running', 3, '5m']);
  });

  it('pending while images are pulled: ContainerCreating', () => {
    const waiting = { waiting: { reason: 'ContainerCreating' } };
    const pod = podWith({ phase: 'Pending', containerStatuses: [containerStatus('nginx', waiting, false), containerStatus('sidecar', waiting, false)] });
    expect(podRow(pod)).toEqual(['web', '0/2', 'ContainerCreating', 0, '5m']);
  });

  it('pending and unscheduled: the phase', () => {
    expect(podRow(podWith({ phase: 'Pending' }))).toEqual(['web', '0/2', 'Pending', 0, '5m']);
  });

  it('crash looping: CrashLoopBackOff with the restarts', () => {
    const pod = podWith({
      phase: 'Running',
      containerStatuses: [
        containerStatus('nginx', { waiting: { reason: 'CrashLoopBackOff' } }, false, 5),
        containerStatus('sidecar', { running: {} }, true),
      ],
    });
    expect(podRow(pod)).toEqual(['web', '1/2', 'CrashLoopBackOff', 5, '5m']);
  });

  it('completed: Completed, and a row condition', () => {
    const done = { terminated: { exitCode: 0, reason: 'Completed' } };
    const pod = podWith({ phase: 'Succeeded', containerStatuses: [containerStatus('nginx', done, false), containerStatus('sidecar', done, false)] });
    const row = toTable([pod], 'Pod', options).rows[0];
    expect(row?.cells).toEqual(['web', '0/2', 'Completed', 0, '5m']);
    expect(row?.conditions?.[0]).toMatchObject({ type: 'Completed', status: 'True', reason: 'Succeeded' });
  });

  it('Completed next to a running container reads Running', () => {
    const pod = podWith({
      phase: 'Running',
      containerStatuses: [
        containerStatus('nginx', { running: {} }, true),
        containerStatus('sidecar', { terminated: { exitCode: 0, reason: 'Completed' } }, false),
      ],
    });
    expect(podStatusText(pod).status).toBe('Running');
  });

  it('terminated without a reason: ExitCode or Signal', () => {
    const pod = podWith({ phase: 'Running', containerStatuses: [containerStatus('nginx', { terminated: { exitCode: 137, signal: 9 } }, false)] });
    expect(podStatusText(pod).status).toBe('Signal:9');
    const exited = podWith({ phase: 'Running', containerStatuses: [containerStatus('nginx', { terminated: { exitCode: 3 } }, false)] });
    expect(podStatusText(exited).status).toBe('ExitCode:3');
  });

  it('terminating: Terminating when deletionTimestamp is set', () => {
    const pod = podWith(
      { phase: 'Running', containerStatuses: [containerStatus('nginx', { running: {} }, true), containerStatus('sidecar', { running: {} }, true)] },
      { deletionTimestamp: '2026-11-26T12:05:30Z' },
    );
    expect(podRow(pod)).toEqual(['web', '2/2', 'Terminating', 0, '5m']);
  });

  it('init containers: Init:x/y, Init:<reason>, and their restarts', () => {
    const pod = podWith({
      phase: 'Pending',
      initContainerStatuses: [
        containerStatus('migrate', { terminated: { exitCode: 0, reason: 'Completed' } }, false),
        containerStatus('seed', { running: {} }, false, 1),
      ],
      containerStatuses: [containerStatus('nginx', { waiting: { reason: 'PodInitializing' } }, false)],
    });
    pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], initContainers: [{ name: 'migrate' }, { name: 'seed' }] };
    expect(podStatusText(pod)).toEqual({ ready: '0/2', status: 'Init:1/2', restarts: 1 });
    const failing = podWith({
      phase: 'Pending',
      initContainerStatuses: [containerStatus('migrate', { waiting: { reason: 'CrashLoopBackOff' } }, false, 4)],
    });
    expect(podStatusText(failing)).toMatchObject({ status: 'Init:CrashLoopBackOff', restarts: 4 });
    const errored = podWith({ phase: 'Failed', initContainerStatuses: [containerStatus('migrate', { terminated: { exitCode: 1, reason: 'Error' } }, false)] });
    expect(podStatusText(errored).status).toBe('Init:Error');
  });

  it('the status reason wins over the phase (Evicted)', () => {
    expect(podStatusText(podWith({ phase: 'Failed', reason: 'Evicted' })).status).toBe('Evicted');
  });

  it('wide: IP NODE NOMINATED NODE READINESS GATES at priority 1', () => {
    const pod = podWith({ phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }] });
    const table = toTable([pod], 'Pod', { ...options, wide: true });
    expect(table.columnDefinitions.map((c) => [c.name, c.priority])).toEqual([
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ]);
    expect(table.rows[0]?.cells.slice(5)).toEqual(['10.0.0.5', 'n1', '<none>', '<none>']);
    expect(table.columnDefinitions[0]).toEqual({ name: 'Name', type: 'string', format: 'name', description: expect.any(String), priority: 0 });
    expect(table.columnDefinitions[3]?.type).toBe('integer');
  });
});

describe('the table envelope', () => {
  it('is a meta.k8s.io/v1 Table with the list resourceVersion and PartialObjectMetadata rows', () => {
    const pod = podWith({ phase: 'Pending' });
    const table = toTable([pod], 'Pod', { ...options, listMeta: { resourceVersion: '1002' } });
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '1002' } });
    expect(table.rows[0]?.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });
  });

  it('includeObject None leaves the object out, Object puts the whole object in', () => {
    const pod = podWith({ phase: 'Pending' });
    expect(toTable([pod], 'Pod', { ...options, includeObject: 'None' }).rows[0]).not.toHaveProperty('object');
    expect(toTable([pod], 'Pod', { ...options, includeObject: 'Object' }).rows[0]?.object).toBe(pod);
  });

  it('an empty list still has the columns', () => {
    const table = toTable([], 'Deployment', options);
    expect(table.rows).toEqual([]);
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
  });

  it('every registry kind has columns; kinds without a printer get NAME, CREATED AT', () => {
    for (const r of resources) expect(toTable([], r.kind, options).columnDefinitions.length).toBeGreaterThan(1);
    const binding: KubeObject = { metadata: { name: 'b', creationTimestamp: created } };
    expect(toTable([binding], 'Binding', options).rows[0]?.cells).toEqual(['b', created]);
  });

  it('wide columns are exactly the priority 1 ones, for every kind', () => {
    for (const r of resources) {
      const narrow = toTable([], r.kind, options).columnDefinitions;
      const wide = toTable([], r.kind, { ...options, wide: true }).columnDefinitions;
      expect(narrow.every((c) => c.priority === 0)).toBe(true);
      expect(wide.filter((c) => c.priority === 0)).toEqual(narrow);
    }
  });

  it('PartialObjectMetadataList lists the metadata', () => {
    const list = partialObjectMetadataList([podWith(undefined)], { resourceVersion: '7' });
    expect(list).toMatchObject({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '7' } });
    expect(list.items[0]?.metadata.name).toBe('web');
  });
});

describe('workload, service and node rows', () => {
  it('deployment: READY UP-TO-DATE AVAILABLE AGE, wide CONTAINERS IMAGES SELECTOR', () => {
    const deployment: Deployment = {
      metadata: { name: 'web', creationTimestamp: created },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'log', image: 'fluentd' }] } },
      },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(toTable([deployment], 'Deployment', options).rows[0]?.cells).toEqual(['web', '2/3', 3, 2, '5m']);
    expect(toTable([deployment], 'Deployment', { ...options, wide: true }).rows[0]?.cells).toEqual([
      'web', '2/3', 3, 2, '5m', 'nginx,log', 'nginx:1.25,fluentd', 'app=web',
    ]);
  });

  it('job: COMPLETIONS and DURATION', () => {
    const job: Job = {
      metadata: { name: 'pi', creationTimestamp: created },
      spec: { completions: 3 },
      status: { succeeded: 1, startTime: created, completionTime: '2026-11-26T12:01:30Z' },
    };
    expect(toTable([job], 'Job', options).rows[0]?.cells).toEqual(['pi', '1/3', '90s', '5m']);
  });

  it('service ports: 80/TCP, 80:30080/TCP, <none>', () => {
    const service = (spec: Service['spec']): Service => ({ metadata: { name: 'web', creationTimestamp: created }, spec });
    const clusterIP = service({ type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] });
    expect(toTable([clusterIP], 'Service', options).rows[0]?.cells).toEqual(['web', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', '5m']);
    const nodePort = service({ type: 'NodePort', clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] });
    expect(toTable([nodePort], 'Service', options).rows[0]?.cells.slice(1, 5)).toEqual(['NodePort', '10.96.0.11', '<none>', '80:30080/TCP']);
    const headless = service({ type: 'ClusterIP', clusterIP: 'None' });
    expect(toTable([headless], 'Service', options).rows[0]?.cells.slice(2, 5)).toEqual(['None', '<none>', '<none>']);
    const lb = service({ type: 'LoadBalancer', clusterIP: '10.96.0.12', ports: [{ port: 443, protocol: 'TCP', nodePort: 31443 }] });
    expect(toTable([lb], 'Service', options).rows[0]?.cells[3]).toBe('<pending>');
  });

  it('node: STATUS and ROLES from node-role.kubernetes.io/<role> labels', () => {
    const node: Node = {
      metadata: {
        name: 'n1',
        creationTimestamp: created,
        labels: { 'node-role.kubernetes.io/master': '', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'n1' },
      },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.10' }],
        nodeInfo: {
          machineID: '', systemUUID: '', bootID: '', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12', containerRuntimeVersion: 'raftplane://0.1',
          kubeletVersion: 'v1.20.0-raftplane', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64',
        },
      },
    };
    expect(toTable([node], 'Node', options).rows[0]?.cells).toEqual(['n1', 'Ready,SchedulingDisabled', 'control-plane,master', '5m', 'v1.20.0-raftplane']);
    expect(toTable([node], 'Node', { ...options, wide: true }).rows[0]?.cells.slice(5)).toEqual([
      '192.168.1.10', '<none>', 'Debian GNU/Linux 12', '6.1.0', 'raftplane://0.1',
    ]);
    const bare: Node = { metadata: { name: 'n2' } };
    expect(toTable([bare], 'Node', options).rows[0]?.cells).toEqual(['n2', 'Unknown', '<none>', '<unknown>', '']);
    expect(nodeRoles({ 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' })).toEqual(['worker']);
  });

  it('core kinds: endpoints, configmap, secret, namespace, event, lease', () => {
    const meta = { name: 'x', creationTimestamp: created };
    const rows = (kind: string, obj: KubeObject) => toTable([obj], kind, options).rows[0]?.cells;
    const endpoints = {
      metadata: meta,
      subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4' }], ports: [{ port: 80 }] }],
    };
    expect(rows('Endpoints', endpoints)).toEqual(['x', '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...', '5m']);
    expect(rows('ConfigMap', { metadata: meta, data: { a: '1', b: '2' } } as KubeObject)).toEqual(['x', 2, '5m']);
    expect(rows('Secret', { metadata: meta, type: 'Opaque', data: { t: 'eA==' } } as KubeObject)).toEqual(['x', 'Opaque', 1, '5m']);
    expect(rows('Namespace', { metadata: meta, status: { phase: 'Active' } })).toEqual(['x', 'Active', '5m']);
    const event = {
      metadata: meta,
      involvedObject: { kind: 'Pod', name: 'web' },
      type: 'Normal',
      reason: 'Scheduled',
      message: 'Successfully assigned default/web to n1 ',
      lastTimestamp: '2026-11-26T12:04:00Z',
    };
    expect(rows('Event', event as KubeObject)).toEqual(['60s', 'Normal', 'Scheduled', 'pod/web', 'Successfully assigned default/web to n1']);
    expect(rows('Lease', { metadata: meta, spec: { holderIdentity: 'm1' } })).toEqual(['x', 'm1', '5m']);
  });
});

describe('humanDuration (duration.HumanDuration)', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  it.each([
    [-2 * s, '<invalid>'],
    [-1 * s, '0s'],
    [-999, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [150 * s, '2m30s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m, '10m'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 12 * m, '3h12m'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h, '8h'],
    [47 * h + 59 * m, '47h'],
    [48 * h, '2d'],
    [2 * d + 4 * h, '2d4h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d, '8d'],
    [729 * d, '729d'],
    [730 * d, '2y'],
    [731 * d, '2y1d'],
    [8 * 365 * d - 1, '7y364d'],
    [8 * 365 * d, '8y'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
