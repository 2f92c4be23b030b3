// The agent against an in-process master, with the process runtime: real child processes on
// loopback pod addresses. Pods are bound by hand (spec.nodeName): no scheduler runs here.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, Pod } from '@raftplane/api';
import type { Client } from '@raftplane/client';
import { Agent } from '../src/agent.js';
import { ProcessRuntime } from '../src/runtime/process-runtime.js';
import { eventually, startCluster, type TestCluster } from '../../controllers/test/support/cluster.js';

let cluster: TestCluster;
let client: Client;
let dataDir: string;
let stopAgent: AbortController;
let agent: Agent;
let runtime: ProcessRuntime;

const nodeName = 'agent-test-node';
const nodeAddress = '127.0.1.41';

async function startAgent(): Promise<void> {
  stopAgent = new AbortController();
  runtime = await ProcessRuntime.open({ stateDir: join(dataDir, 'runtime'), nodeName });
  agent = new Agent({
    client,
    runtime,
    dataDir,
    identity: { name: nodeName, address: nodeAddress, cpu: '4', memory: '8Gi', pods: 110, labels: { 'node-role.kubernetes.io/worker': '' }, taints: [], podCidr: '127.1.41.0/24', port: 0, runtimeName: 'process', agentVersion: '0.1.0' },
    heartbeatMs: 500,
    resyncMs: 1_000,
    restartBackoff: { initialMs: 300, maxMs: 1_200 },
  });
  await agent.start(stopAgent.signal);
}

async function halt(): Promise<void> {
  stopAgent.abort();
  await agent.done();
  await runtime.close();
}

beforeAll(async () => {
  cluster = await startCluster();
  client = cluster.client;
  dataDir = await mkdtemp(join(tmpdir(), 'raftplane-agent-'));
  await startAgent();
}, 60_000);

afterAll(async () => {
  // Every pod deleted through the API: the agent stops their processes before confirming.
  await client.resource('pods', 'default').deleteCollection({ gracePeriodSeconds: 1 }).catch(() => undefined);
  await eventually('every pod is gone', async () => (await client.resource('pods', 'default').list()).items.length === 0, 20_000).catch(() => undefined);
  await halt();
  for (const container of await runtime.list()) {
    await runtime.stop(container.id, 0);
    await runtime.remove(container.id);
  }
  await cluster.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

const node = process.execPath;
/** A web server on $POD_IP:$PORT that answers with its pod's name. */
const webServer = `require('http').createServer((q, s) => s.end(process.env.HOSTNAME)).listen(Number(process.env.PORT), process.env.POD_IP, () => console.log('listening on ' + process.env.POD_IP))`;

function podOf(name: string, containers: Container[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec, containers } };
}

async function getPod(name: string): Promise<Pod> {
  return client.resource('pods', 'default').get(name);
}

async function waitFor(name: string, what: string, check: (pod: Pod) => boolean, timeoutMs = 20_000): Promise<Pod> {
  let last: Pod | undefined;
  await eventually(`${name}: ${what} (last status ${JSON.stringify(last?.status)})`, async () => check((last = await getPod(name))), timeoutMs);
  return last as Pod;
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe('agent with the process runtime', () => {
  it('registers its node with capacity, labels, addresses, pod range and log port, and renews its Lease', async () => {
    const registered = await client.resource('nodes').get(nodeName);
    expect(registered.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '' });
    expect(registered.spec?.podCIDR).toBe('127.1.41.0/24');
    expect(registered.status?.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
    expect(registered.status?.addresses).toContainEqual({ type: 'InternalIP', address: nodeAddress });
    expect(registered.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(registered.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBeGreaterThan(0);
    let first: string | undefined;
    await eventually('the lease exists', async () => (first = (await client.resource('leases', 'kube-node-lease').get(nodeName).catch(() => undefined))?.spec?.renewTime) !== undefined, 5_000);
    await eventually('the lease is renewed', async () => (await client.resource('leases', 'kube-node-lease').get(nodeName)).spec?.renewTime !== first, 5_000);
  });

  it('runs two pods that both serve :8080 on their own addresses, and reports them Running and Ready', async () => {
    const pods = client.resource('pods', 'default');
    for (const name of ['web-a', 'web-b']) await pods.create(podOf(name, [{ name: 'web', image: 'node', command: [node, '-e', webServer], env: [{ name: 'PORT', value: '8080' }] }]));
    const a = await waitFor('web-a', 'Running and Ready', (p) => p.status?.phase === 'Running' && isReady(p));
    const b = await waitFor('web-b', 'Running and Ready', (p) => p.status?.phase === 'Running' && isReady(p));
    expect(a.status?.podIP).toMatch(/^127\.1\.41\.\d+$/);
    expect(b.status?.podIP).not.toBe(a.status?.podIP);
    expect(a.status?.hostIP).toBe(nodeAddress);
    expect(a.status?.containerStatuses?.[0]).toMatchObject({ name: 'web', ready: true, restartCount: 0, started: true, image: 'node' });
    expect(a.status?.containerStatuses?.[0]?.containerID).toMatch(/^process:\/\//);
    for (const pod of [a, b]) {
      await eventually(`${pod.metadata.name} answers`, async () => {
        try {
          const response = await request(`http://${pod.status?.podIP}:8080/`);
          return (await response.body.text()) === pod.metadata.name;
        } catch {
          return false;
        }
      }, 10_000);
    }
  });

  it('restarts a container that exits, with back-off, restartCount and lastState; restartPolicy Never ends Failed', async () => {
    const pods = client.resource('pods', 'default');
    await pods.create(podOf('crasher', [{ name: 'app', image: 'sh', command: ['/bin/sh', '-c', 'echo started; sleep 0.2; exit 3'] }]));
    const crashed = await waitFor('crasher', 'restarted twice', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
    expect(crashed.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    await waitFor('crasher', 'in CrashLoopBackOff', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff', 10_000);
    await pods.create(podOf('once', [{ name: 'app', image: 'sh', command: ['/bin/sh', '-c', 'exit 1'] }], { restartPolicy: 'Never' }));
    const failed = await waitFor('once', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(1);
    await pods.create(podOf('job-like', [{ name: 'app', image: 'sh', command: ['/bin/sh', '-c', 'exit 0'] }], { restartPolicy: 'OnFailure' }));
    await waitFor('job-like', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
  });

  it('serves logs: the current and the previous attempt, a tail, and a clear error for an unknown container', async () => {
    const port = (await client.resource('nodes').get(nodeName)).status?.daemonEndpoints?.kubeletEndpoint?.Port;
    const logs = async (query: string): Promise<{ status: number; text: string }> => {
      const response = await request(`http://${nodeAddress}:${port}/containerLogs/default/crasher/app${query}`);
      return { status: response.statusCode, text: await response.body.text() };
    };
    expect(await logs('')).toEqual({ status: 200, text: 'started\n' });
    expect(await logs('?previous=true')).toEqual({ status: 200, text: 'started\n' });
    expect(await logs('?tailLines=0')).toEqual({ status: 200, text: '' });
    const unknown = await request(`http://${nodeAddress}:${port}/containerLogs/default/crasher/nope`);
    expect(unknown.statusCode).toBe(400);
    expect(await unknown.body.text()).toBe('container nope is not valid for pod crasher\n');
    const badTail = await logs('?tailLines=x');
    expect(badTail).toEqual({ status: 400, text: 'tailLines="x": must be a non-negative integer\n' });
  });

  it('a pod without command waits with CreateContainerConfigError, and a missing ConfigMap key names it', async () => {
    const pods = client.resource('pods', 'default');
    await pods.create(podOf('no-command', [{ name: 'app', image: 'busybox' }]));
    const waiting = await waitFor('no-command', 'waiting with a config error', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(waiting.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/command/);
    expect(waiting.status?.phase).toBe('Pending');
    await pods.create(podOf('no-config', [{ name: 'app', image: 'sh', command: ['/bin/sh', '-c', 'sleep 60'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x' } } }] }]));
    const missing = await waitFor('no-config', 'waiting for its ConfigMap', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(missing.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/configmap "absent" not found/);
  });

  it('gives containers env from values, ConfigMaps, Secrets and the pod, and mounts configMap and emptyDir volumes', async () => {
    await client.resource('configmaps', 'default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { greeting: 'hello', 'app.conf': 'mode=fast' } });
    await client.resource('secrets', 'default').create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } });
    const script = 'echo "$GREETING $PASSWORD $MY_NAME $POD_IP"; cat config/app.conf; echo; echo data > scratch/file && cat scratch/file; sleep 60';
    await client.resource('pods', 'default').create(
      podOf('configured', [
        {
          name: 'app',
          image: 'sh',
          command: ['/bin/sh', '-c', script],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          volumeMounts: [
            { name: 'config', mountPath: '/config' },
            { name: 'scratch', mountPath: '/scratch' },
          ],
        },
      ], { volumes: [{ name: 'config', configMap: { name: 'settings', items: [{ key: 'app.conf', path: 'app.conf' }] } }, { name: 'scratch', emptyDir: {} }] }),
    );
    const pod = await waitFor('configured', 'Running', (p) => p.status?.phase === 'Running');
    const port = (await client.resource('nodes').get(nodeName)).status?.daemonEndpoints?.kubeletEndpoint?.Port;
    await eventually('the logs show the environment and the volumes', async () => {
      const response = await request(`http://${nodeAddress}:${port}/containerLogs/default/configured/app`);
      const text = await response.body.text();
      return text === `hello s3cret configured ${pod.status?.podIP}\nmode=fast\ndata\n`;
    }, 10_000);
  });

  it('restarts a container whose liveness probe fails, and takes a pod out of Ready while its readiness probe fails', async () => {
    const pods = client.resource('pods', 'default');
    // Ready while the file exists; the liveness probe's port is never opened.
    await pods.create(
      podOf('probed', [
        {
          name: 'app',
          image: 'sh',
          command: ['/bin/sh', '-c', 'touch ready; sleep 600'],
          readinessProbe: { exec: { command: ['/bin/sh', '-c', 'test -f ready'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ]),
    );
    await waitFor('probed', 'Ready', isReady);
    await pods.create(podOf('unhealthy', [{ name: 'app', image: 'sh', command: ['/bin/sh', '-c', 'sleep 600'], livenessProbe: { tcpSocket: { port: 18099 }, periodSeconds: 1, failureThreshold: 2 } }]));
    const restarted = await waitFor('unhealthy', 'restarted by its liveness probe', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 20_000);
    expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated).toBeDefined();
    const events = await client.resource('events', 'default').list();
    expect(events.items.some((e) => e.involvedObject.name === 'unhealthy' && e.reason === 'Unhealthy' && /Liveness probe failed/.test(e.message ?? ''))).toBe(true);
    expect(events.items.some((e) => e.involvedObject.name === 'unhealthy' && e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message ?? ''))).toBe(true);
  });

  it('an agent that restarts adopts its running containers: same container ids, no restarts', async () => {
    const before = await getPod('web-a');
    const id = before.status?.containerStatuses?.[0]?.containerID;
    await halt();
    await startAgent();
    // Resyncs come and go; the container stays the same one.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const after = await getPod('web-a');
    expect(after.status?.containerStatuses?.[0]?.containerID).toBe(id);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(after.status?.podIP).toBe(before.status?.podIP);
    expect(isReady(after)).toBe(true);
  });

  it('a deleted pod has its processes stopped within its grace period, then is removed', async () => {
    const pods = client.resource('pods', 'default');
    const pod = await getPod('web-b');
    const ip = pod.status?.podIP;
    await pods.delete('web-b');
    await eventually('web-b is gone', async () => (await pods.list()).items.every((p) => p.metadata.name !== 'web-b'), 15_000);
    expect((await runtime.list()).some((c) => c.labels.podName === 'web-b')).toBe(false);
    await expect(request(`http://${ip}:8080/`)).rejects.toThrow();
  });
});
