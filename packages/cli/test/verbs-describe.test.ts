// raftplane describe against an in-process master (scheduler and controllers on): kubectl's text
// for pods, nodes, deployments, services and other kinds, with their events, and every error.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedServer, forbiddingServer, linesOf } from './support/read-output.js';
import { runVerbAgainst, startVerbCluster, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
const describeVerb = (...argv: string[]) => runVerbAgainst(cluster.server, 'describe', argv);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
const heartbeat = '2026-01-02T03:04:05Z';

beforeAll(async () => {
  cluster = await startVerbCluster();
  const c = cluster.client;
  await c.resource('namespaces').create({ metadata: { name: 'shop' } });
  await c.resource('nodes').create({ metadata: { name: 'node-a', labels: { 'node-role.kubernetes.io/worker': '' } }, spec: { taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }] } });
  const node = await c.resource('nodes').get('node-a');
  await c.resource('nodes').updateStatus({
    ...node,
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'node-a' }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'agent is posting ready status', lastHeartbeatTime: heartbeat, lastTransitionTime: heartbeat }],
    },
  });
  const pods = c.resource('pods', 'shop');
  await pods.create({
    metadata: { name: 'web-1', labels: { app: 'web', tier: 'fe' }, annotations: { note: 'hi' } },
    spec: {
      nodeName: 'node-a',
      priority: 0,
      serviceAccountName: 'builder',
      containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }], volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }], resources: { requests: { cpu: '250m', memory: '64Mi' } } }],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  });
  const web1 = await pods.get('web-1');
  await pods.updateStatus({
    ...web1,
    status: {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: '10.1.0.7',
      podIPs: [{ ip: '10.1.0.7' }],
      startTime: '2026-11-26T21:53:06Z',
      conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 1, image: 'nginx', imageID: 'sha256:abc', containerID: 'process://42', state: { running: { startedAt: '2026-11-26T21:54:00Z' } }, lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: '2026-11-26T21:53:10Z', finishedAt: '2026-11-26T21:53:59Z' } } }],
    },
  });
  const events = c.resource('events', 'shop');
  const uid = web1.metadata.uid ?? '';
  await events.create({ metadata: { name: 'web-1.a' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid }, reason: 'Scheduled', message: 'Successfully assigned shop/web-1 to node-a', type: 'Normal', source: { component: 'default-scheduler' }, firstTimestamp: daysAgo(5), lastTimestamp: daysAgo(5), count: 1 });
  await events.create({ metadata: { name: 'web-1.b' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid }, reason: 'BackOff', message: 'Back-off restarting failed container', type: 'Warning', source: { component: 'agent' }, firstTimestamp: daysAgo(5), lastTimestamp: daysAgo(3), count: 3 });
  // Events about another kind of object with the same name, or an earlier pod of the same name, must not show.
  await events.create({ metadata: { name: 'web-1.old' }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'an-earlier-pod' }, reason: 'Killing', message: 'an earlier pod', type: 'Normal', firstTimestamp: daysAgo(9), lastTimestamp: daysAgo(9), count: 1 });
  await events.create({ metadata: { name: 'web.svc' }, involvedObject: { kind: 'Service', name: 'web-1', namespace: 'shop' }, reason: 'Other', message: 'not about the pod', type: 'Normal', firstTimestamp: daysAgo(1), lastTimestamp: daysAgo(1), count: 1 });
  await c.resource('deployments', 'shop').create({ metadata: { name: 'api' }, spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'api:1' }] } } } });
  await c.resource('services', 'shop').create({ metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  await c.resource('configmaps', 'shop').create({ metadata: { name: 'settings', labels: { app: 'web' } }, data: { mode: 'fast' } });
}, 30_000);
afterAll(async () => cluster?.stop());

/** Polls `describe` until `predicate` holds for its output (controllers work in the background). */
async function describeUntil(argv: string[], predicate: (stdout: string) => boolean): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const run = await describeVerb(...argv);
    if (run.code === 0 && predicate(run.stdout)) return run.stdout;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`describe ${argv.join(' ')} never matched`);
}

describe('pods', () => {
  it('prints every section as kubectl describe pod does', async () => {
    const run = await describeVerb('pod', 'web-1', '-n', 'shop');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(linesOf(run.stdout)).toEqual([
      'Name:             web-1',
      'Namespace:        shop',
      'Priority:         0',
      'Service Account:  builder',
      'Node:             node-a/127.0.0.1',
      'Start Time:       Thu, 26 Nov 2026 21:53:06 +0000',
      'Labels:           app=web',
      '                  tier=fe',
      'Annotations:      note: hi',
      'Status:           Running',
      'IP:               10.1.0.7',
      'IPs:',
      '  IP:  10.1.0.7',
      'Containers:',
      '  web:',
      '    Container ID:   process://42',
      '    Image:          nginx',
      '    Image ID:       sha256:abc',
      '    Port:           80/TCP',
      '    Host Port:      0/TCP',
      '    State:          Running',
      '      Started:      Thu, 26 Nov 2026 21:54:00 +0000',
      '    Last State:     Terminated',
      '      Reason:       Error',
      '      Exit Code:    137',
      '      Started:      Thu, 26 Nov 2026 21:53:10 +0000',
      '      Finished:     Thu, 26 Nov 2026 21:53:59 +0000',
      '    Ready:          True',
      '    Restart Count:  1',
      '    Requests:',
      '      cpu:     250m',
      '      memory:  64Mi',
      '    Environment:',
      '      MODE:  prod',
      '    Mounts:',
      '      /data from data (ro)',
      'Conditions:',
      '  Type           Status',
      '  Ready          True ',
      '  PodScheduled   True ',
      'Volumes:',
      '  data:',
      // The last volume's lines share a tabwriter run with QoS Class and the rest, as in kubectl.
      "    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)",
      '    Medium:      ',
      '    SizeLimit:   <unset>',
      'QoS Class:       Burstable',
      'Node-Selectors:  <none>',
      'Tolerations:     <none>',
      'Events:',
      '  Type     Reason     Age              From               Message',
      '  ----     ------     ----             ----               -------',
      '  Normal   Scheduled  5d               default-scheduler  Successfully assigned shop/web-1 to node-a',
      '  Warning  BackOff    3d (x3 over 5d)  agent              Back-off restarting failed container',
    ]);
  });

  it('falls back to every object whose name starts with the one given, two blank lines apart', async () => {
    await cluster.client.resource('pods', 'shop').create({ metadata: { name: 'web-2' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
    // The scheduler cannot place web-2 (node-a is tainted) and records why: describe shows its event.
    const text = await describeUntil(['pods', 'web', '-n', 'shop'], (out) => out.includes('FailedScheduling'));
    const parts = text.split('\n\n\n');
    expect(parts.map((p) => p.split('\n')[0])).toEqual(['Name:             web-1', 'Name:         web-2']);
    expect(linesOf(parts[1] ?? '').slice(-4)).toEqual([
      'Events:',
      expect.stringMatching(/^ {2}Type {5}Reason {12}Age +From {15}Message$/),
      expect.stringMatching(/^ {2}---- {5}------ {12}---- +---- {15}-------$/),
      expect.stringMatching(/^ {2}Warning {2}FailedScheduling {2}\d+s +default-scheduler {2}0\/1 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: web\}\.$/),
    ]);
  });

  it('describes every object a selector picks', async () => {
    const run = await describeVerb('pods', '-n', 'shop', '-l', 'tier=fe');
    expect(run.stdout.split('\n\n\n')).toHaveLength(1);
    expect(run.stdout.startsWith('Name:             web-1\n')).toBe(true);
  });
});

describe('nodes, deployments, services and other kinds', () => {
  it('prints a node with its conditions, addresses, capacity and the pods it runs', async () => {
    const lines = linesOf((await describeVerb('node/node-a')).stdout);
    expect(lines.slice(0, 3)).toEqual(['Name:               node-a', 'Roles:              worker', 'Labels:             node-role.kubernetes.io/worker=']);
    expect(lines[4]).toMatch(/^CreationTimestamp: {2}\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(lines).toContain('Taints:             dedicated=web:NoSchedule');
    expect(lines).toContain('Unschedulable:      false');
    // From here on, kubectl 1.20's text for the same node, except for the newer `Age` header.
    const lease = lines.findIndex((l) => l.startsWith('Lease:'));
    expect(lines.slice(lease)).toEqual([
      'Lease:              Failed to get lease: leases.coordination.k8s.io "node-a" not found',
      'Conditions:',
      '  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason       Message',
      '  ----    ------  -----------------                 ------------------                ------       -------',
      '  Ready   True    Fri, 02 Jan 2026 03:04:05 +0000   Fri, 02 Jan 2026 03:04:05 +0000   AgentReady   agent is posting ready status',
      'Addresses:',
      '  InternalIP:  127.0.0.1',
      '  Hostname:    node-a',
      'Capacity:',
      '  cpu:     4',
      '  memory:  8Gi',
      '  pods:    110',
      'Allocatable:',
      '  cpu:     4',
      '  memory:  8Gi',
      '  pods:    110',
      'System Info:',
      '  Machine ID:                 ',
      '  System UUID:                ',
      '  Boot ID:                    ',
      '  Kernel Version:             ',
      '  OS Image:                   ',
      '  Operating System:           ',
      '  Architecture:               ',
      '  Container Runtime Version:  ',
      '  Kubelet Version:            ',
      '  Kube-Proxy Version:         ',
      'Non-terminated Pods:          (1 in total)',
      '  Namespace                   Name     CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age',
      '  ---------                   ----     ------------  ----------  ---------------  -------------  ---',
      expect.stringMatching(/^ {2}shop {24}web-1 {4}250m \(6%\) {5}0 \(0%\) {6}64Mi \(0%\) {8}0 \(0%\) {9}\d+s$/),
      'Allocated resources:',
      '  (Total limits may be over 100 percent, i.e., overcommitted.)',
      '  Resource           Requests   Limits',
      '  --------           --------   ------',
      '  cpu                250m (6%)  0 (0%)',
      '  memory             64Mi (0%)  0 (0%)',
      '  ephemeral-storage  0 (0%)     0 (0%)',
      'Events:              <none>',
    ]);
  });

  it('shows the node\'s Lease when its agent keeps one', async () => {
    await cluster.client.resource('leases', 'kube-node-lease').create({ metadata: { name: 'node-a' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40, renewTime: '2026-11-26T21:53:06.000000Z' } });
    const lines = linesOf((await describeVerb('no', 'node-a')).stdout);
    const lease = lines.indexOf('Lease:');
    expect(lines.slice(lease, lease + 4)).toEqual(['Lease:', '  HolderIdentity:  node-a', '  AcquireTime:     <unset>', '  RenewTime:       Thu, 26 Nov 2026 21:53:06 +0000']);
  });

  it('prints a deployment with its replicas line, template, conditions and ReplicaSets', async () => {
    const text = await describeUntil(['deploy', 'api', '-n', 'shop'], (out) => /NewReplicaSet: +api-\w+ \(2\/2 replicas created\)/.test(out) && out.includes('ScalingReplicaSet'));
    const lines = linesOf(text);
    expect(lines).toContain('Selector:               app=api');
    expect(lines).toContain('Replicas:               2 desired | 2 updated | 2 total | 0 available | 2 unavailable');
    expect(lines).toContain('StrategyType:           RollingUpdate');
    expect(lines).toContain('RollingUpdateStrategy:  25% max unavailable, 25% max surge');
    const template = lines.indexOf('Pod Template:');
    expect(lines.slice(template, template + 12)).toEqual([
      'Pod Template:',
      '  Labels:  app=api',
      '  Containers:',
      '   api:',
      '    Image:         api:1',
      '    Port:          <none>',
      '    Host Port:     <none>',
      '    Environment:   <none>',
      '    Mounts:        <none>',
      '  Volumes:         <none>',
      '  Node-Selectors:  <none>',
      '  Tolerations:     <none>',
    ]);
    expect(lines).toContain('OldReplicaSets:  <none>');
    expect(lines.find((l) => l.includes('ScalingReplicaSet'))).toMatch(/^ {2}Normal {2}ScalingReplicaSet {2}\d+s +deployment-controller {2}Scaled up replica set api-\w+ to 2$/);
  });

  it('prints a ReplicaSet with its owner, replicas, pods status and events', async () => {
    const rsName = (await cluster.client.resource('replicasets', 'shop').list()).items.find((rs) => rs.metadata.name?.startsWith('api-'))?.metadata.name ?? '';
    const text = await describeUntil(['rs', rsName, '-n', 'shop'], (out) => (out.match(/SuccessfulCreate/g) ?? []).length === 2);
    const lines = linesOf(text);
    const hash = rsName.slice('api-'.length);
    expect(lines.slice(0, 3)).toEqual([`Name:           ${rsName}`, 'Namespace:      shop', `Selector:       app=api,pod-template-hash=${hash}`]);
    expect(lines).toContain('Controlled By:  Deployment/api');
    expect(lines).toContain('Replicas:       2 current / 2 desired');
    expect(lines).toContain('Pods Status:    0 Running / 2 Waiting / 0 Succeeded / 0 Failed');
    expect(lines.filter((l) => l.includes('SuccessfulCreate'))).toEqual([
      expect.stringMatching(new RegExp(`^ {2}Normal {2}SuccessfulCreate {2}\\d+s +replicaset-controller {2}Created pod: ${rsName}-\\w+$`)),
      expect.stringMatching(new RegExp(`^ {2}Normal {2}SuccessfulCreate {2}\\d+s +replicaset-controller {2}Created pod: ${rsName}-\\w+$`)),
    ]);
  });

  it('names the old ReplicaSet while a rollout is stuck on unready pods', async () => {
    await cluster.client.resource('deployments', 'shop').patch('api', 'merge', { spec: { template: { spec: { containers: [{ name: 'api', image: 'api:2' }] } } } });
    const text = await describeUntil(['deploy', 'api', '-n', 'shop'], (out) => /OldReplicaSets: +api-\w+ \(\d\/\d replicas created\)/.test(out));
    const newRs = /NewReplicaSet: +(api-\w+)/.exec(text)?.[1];
    const oldRs = /OldReplicaSets: +(api-\w+)/.exec(text)?.[1];
    expect(newRs).toBeDefined();
    expect(oldRs).not.toBe(newRs);
  });

  it('prints a service with its ports, node port and endpoints', async () => {
    const lines = linesOf((await describeVerb('svc', 'web', '-n', 'shop')).stdout);
    expect(lines.map((l) => l.replace(/\d+\.\d+\.\d+\.\d+/g, '<ip>').replace(/\b3\d{4}\b/, '<port>'))).toEqual([
      'Name:                     web',
      'Namespace:                shop',
      'Labels:                   <none>',
      'Annotations:              <none>',
      'Selector:                 app=web',
      'Type:                     NodePort',
      'IP Family Policy:         SingleStack',
      'IP Families:              IPv4',
      'IP:                       <ip>',
      'IPs:                      <ip>',
      'Port:                     http  80/TCP',
      'TargetPort:               8080/TCP',
      'NodePort:                 http  <port>/TCP',
      expect.stringMatching(/^Endpoints: {16}(<none>|<ip>:8080)$/),
      'Session Affinity:         None',
      'External Traffic Policy:  Cluster',
      'Events:                   <none>',
    ]);
  });

  it('prints a config map\'s data and a secret\'s sizes, never its values', async () => {
    expect((await describeVerb('cm', 'settings', '-n', 'shop')).stdout).toBe(
      ['Name:         settings', 'Namespace:    shop', 'Labels:       app=web', 'Annotations:  <none>', '', 'Data', '====', 'mode:', '----', 'fast', 'Events:  <none>', ''].join('\n'),
    );
    await cluster.client.resource('secrets', 'shop').create({ metadata: { name: 'creds' }, type: 'Opaque', data: { password: Buffer.from('s3cret').toString('base64') } });
    expect((await describeVerb('secret/creds', '-n', 'shop')).stdout).toBe(
      ['Name:         creds', 'Namespace:    shop', 'Labels:       <none>', 'Annotations:  <none>', '', 'Type:  Opaque', '', 'Data', '====', 'password:  6 bytes', 'Events:    <none>', ''].join('\n'),
    );
  });

  it('prints a job, a daemon set and a stateful set as kubectl does', async () => {
    const c = cluster.client;
    await c.resource('jobs', 'shop').create({ metadata: { name: 'pi' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } } });
    await c.resource('daemonsets', 'shop').create({ metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'a:1' }] } } } });
    await c.resource('statefulsets', 'shop').create({ metadata: { name: 'db' }, spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } } } });
    const job = linesOf(await describeUntil(['job', 'pi', '-n', 'shop'], (out) => out.includes('SuccessfulCreate')));
    expect(job).toEqual(expect.arrayContaining(['Parallelism:    1', 'Completions:    1', expect.stringMatching(/^Start Time: {5}\w{3}, /), 'Pods Statuses:  1 Running / 0 Succeeded / 0 Failed']));
    expect(job.at(-1)).toMatch(/^ {2}Normal {2}SuccessfulCreate {2}\d+s +job-controller {2}Created pod: pi-\w+$/);
    const ds = linesOf((await describeVerb('ds', 'agent', '-n', 'shop')).stdout);
    expect(ds.slice(0, 4)).toEqual(['Name:           agent', 'Selector:       app=agent', 'Node-Selector:  <none>', 'Labels:         <none>']);
    // kubectl writes the node counts after a plain space, outside the aligned columns.
    expect(ds.filter((l) => l.includes('Number of Nodes'))).toEqual([
      expect.stringMatching(/^Desired Number of Nodes Scheduled: \d+$/),
      expect.stringMatching(/^Current Number of Nodes Scheduled: \d+$/),
      expect.stringMatching(/^Number of Nodes Scheduled with Up-to-date Pods: \d+$/),
      expect.stringMatching(/^Number of Nodes Scheduled with Available Pods: \d+$/),
      expect.stringMatching(/^Number of Nodes Misscheduled: \d+$/),
    ]);
    expect(ds).toContain('Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed');
    const sts = linesOf((await describeVerb('sts', 'db', '-n', 'shop')).stdout);
    expect(sts).toEqual(expect.arrayContaining(['Selector:           app=db', 'Replicas:           2 desired | 0 total', 'Update Strategy:    RollingUpdate', 'Pods Status:        0 Running / 0 Waiting / 0 Succeeded / 0 Failed', 'Volume Claims:     <none>']));
  });

  it('prints endpoints subset by subset, as kubectl', async () => {
    await cluster.client.resource('endpoints', 'shop').create({ metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '10.1.0.7' }, { ip: '10.1.0.8' }], notReadyAddresses: [{ ip: '10.1.0.9' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { port: 9090 }] }] });
    expect((await describeVerb('ep', 'manual', '-n', 'shop')).stdout).toBe(
      [
        'Name:         manual',
        'Namespace:    shop',
        'Labels:       <none>',
        'Annotations:  <none>',
        'Subsets:',
        '  Addresses:          10.1.0.7,10.1.0.8',
        '  NotReadyAddresses:  10.1.0.9',
        '  Ports:',
        '    Name     Port  Protocol',
        '    ----     ----  --------',
        '    http     8080  TCP',
        '    <unset>  9090  TCP',
        '',
        'Events:  <none>',
        '',
      ].join('\n'),
    );
  });

  it('--show-events=false leaves the events out', async () => {
    const lines = linesOf((await describeVerb('pod', 'web-1', '-n', 'shop', '--show-events=false')).stdout);
    expect(lines.at(-1)).toBe('Tolerations:     <none>');
    expect(lines.some((l) => l.startsWith('Events:'))).toBe(false);
    expect((await describeVerb('pod', 'web-1', '--show-events=maybe')).stderr).toBe('--show-events must be true or false, got "maybe"\n');
  });

  it('prints a namespace with its status', async () => {
    expect((await describeVerb('ns', 'shop')).stdout).toMatch(/^Name: {9}shop\nLabels: {7}.*\n(.*\n)*Annotations: {2}<none>\nStatus: {7}Active\n$/);
  });

  it('prints other kinds generically: metadata, the object as YAML, events', async () => {
    await cluster.client.resource('leases', 'shop').create({ metadata: { name: 'lock' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } });
    expect((await describeVerb('lease', 'lock', '-n', 'shop')).stdout).toBe(
      ['Name:         lock', 'Namespace:    shop', 'Labels:       <none>', 'Annotations:  <none>', 'API Version:  coordination.k8s.io/v1', 'Kind:         Lease', 'spec:', '  holderIdentity: me', '  leaseDurationSeconds: 15', 'Events:  <none>', ''].join('\n'),
    );
  });
});

describe('errors', () => {
  it('reports a missing object as kubectl does', async () => {
    expect(await describeVerb('pod', 'nope', '-n', 'shop')).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n' });
  });

  it('names the closest resource type for an unknown one', async () => {
    expect(await describeVerb('nodez', 'x')).toEqual({ code: 1, stdout: '', stderr: 'the server doesn\'t have a resource type "nodez" (did you mean "nodes"?)\n' });
  });

  it('names the endpoint tried when the cluster cannot be reached', async () => {
    const closed = await closedServer();
    const run = await runVerbAgainst(closed, 'describe', ['pod', 'x']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^cannot reach the cluster: tried ${closed} \\(`));
  });

  it('prints a Forbidden answer as kubectl does', async () => {
    const fake = await forbiddingServer();
    try {
      const run = await runVerbAgainst(fake.server, 'describe', ['pod', 'x']);
      expect(run).toEqual({ code: 1, stdout: '', stderr: 'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"\n' });
    } finally {
      await fake.close();
    }
  });

  it('rejects unknown flags and missing arguments; --help lists the flags', async () => {
    expect((await describeVerb('pod', 'x', '--bogus')).stderr).toBe('unknown flag --bogus for raftplane describe (see --help)\n');
    expect((await describeVerb()).stderr).toBe('You must specify the type of resource to describe. Use "raftplane api-resources" for a complete list of supported resources.\n');
    expect((await describeVerb('pod', 'x', '-l', 'a=b')).stderr).toBe('name cannot be provided when a selector is specified\n');
    const help = linesOf((await describeVerb('--help')).stdout);
    expect(help[0]).toBe('usage: raftplane describe <type> <name-or-prefix>... [flags]');
    for (const flag of ['--show-events', '-l, --selector <selector>', '-A, --all-namespaces', '-n, --namespace <namespace>', '-h, --help']) {
      expect(help.find((l) => l.trimStart().startsWith(flag)), flag).toMatch(/\(default .+\)$/);
    }
  });
});
