// Issue 8 end to end: three masters (scheduler and controllers inside), two agents and the proxy
// as real `raftplane` processes, once with each runtime. A Deployment of busybox web servers
// behind a NodePort Service: requests reach every pod, scaling is followed, a killed process and
// a failing liveness probe restart the container, a failing readiness probe takes the pod out of
// the proxy's rotation, an agent restart adopts what runs, a SIGKILLed leader master disturbs no
// pod, a stopped agent's pods move to the other node, kubectl shows what Kubernetes would, and
// deleting the Deployment leaves no container and no process behind.

import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Deployment, Pod, Service } from '@raftplane/api';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import { adminToken, tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { dockerApi, dockerSocket, describeDocker, TEST_IMAGE } from '../../packages/agent/test/support/docker.js';
import { describeOutput, startCli, type CliProcess } from '../../scripts/lib/cli-process.js';
import { awaitLeader, until } from '../support/cluster-checks.js';
import { kubectl, startKubectl, writeKubeconfig, type KubectlOptions } from '../support/kubectl.js';

type RuntimeName = 'process' | 'docker';

const nodeAddresses = { 'node-1': '127.0.1.1', 'node-2': '127.0.1.2' } as const;
type NodeName = keyof typeof nodeAddresses;

/** The web server: its page names its pod; `ready` and `alive` are files the probes fetch. */
function webScript(runtime: RuntimeName): string {
  // The process runtime shows volumes as ./<mountPath> in the container's working directory.
  const www = runtime === 'process' ? 'www' : '/www';
  const httpd = runtime === 'process' ? 'busybox httpd' : 'httpd';
  return `echo "$HOSTNAME" > ${www}/index.html; touch ${www}/ready ${www}/alive; echo "serving $HOSTNAME on $POD_IP:8080"; exec ${httpd} -f -p "$POD_IP:8080" -h ${www}`;
}

function deployment(runtime: RuntimeName, replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'web',
              image: runtime === 'docker' ? TEST_IMAGE : 'busybox',
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/sh', '-c', webScript(runtime)],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
              livenessProbe: { httpGet: { path: '/alive', port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
              volumeMounts: [{ name: 'www', mountPath: '/www' }],
            },
          ],
          volumes: [{ name: 'www', emptyDir: {} }],
        },
      },
    },
  };
}

async function httpGet(url: string): Promise<string | null> {
  try {
    const response = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    return (await response.body.text()).trim();
  } catch {
    return null;
  }
}

/** Pids of processes whose environment has POD_IP=<ip> (a container's processes, either runtime), optionally only those running `command`. */
function processesOfPod(ip: string, command?: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (!env.includes(`POD_IP=${ip}`)) continue;
      if (command === undefined || readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(command)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

function podIPsInRange(): string[] {
  // Any process left with a POD_IP from the agents' pod ranges (127.1.1.0/24, 127.1.2.0/24).
  const ips: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const match = /(?:^|\0)POD_IP=(127\.1\.[12]\.\d+)(?:\0|$)/.exec(readFileSync(`/proc/${entry}/environ`, 'latin1'));
      if (match !== null) ips.push(match[1] ?? '');
    } catch {
      // Gone.
    }
  }
  return ips;
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

function endToEnd(runtime: RuntimeName): void {
  let cluster: TempCluster;
  let client: HttpClient;
  const stop = new AbortController();
  const agents = new Map<NodeName, CliProcess>();
  let proxy: CliProcess;
  let servers: string;
  let tokenFile: string;
  let nodePort: number;
  const agentDataDir = (node: NodeName): string => join(cluster.dir, `agent-${node}`);

  function startAgent(node: NodeName): CliProcess {
    const args = ['agent', '--name', node, '--address', nodeAddresses[node], '--servers', servers, '--token-file', tokenFile, '--runtime', runtime, '--data-dir', agentDataDir(node)];
    args.push('--port', '0', '--heartbeat', '1s', '--resync', '2s', '--restart-backoff', '500ms', '--restart-backoff-max', '2s', '--cpu', '4', '--memory', '4Gi');
    if (runtime === 'docker') args.push('--docker-socket', dockerSocket(), '--pod-network', 'host');
    const agent = startCli(`agent ${node}`, args);
    agents.set(node, agent);
    return agent;
  }

  async function pods(): Promise<Pod[]> {
    return (await client.resource('pods', 'default').list({ labelSelector: 'app=web' })).items.filter((p) => p.metadata.deletionTimestamp === undefined);
  }

  async function readyPods(count: number, timeoutMs: number): Promise<Pod[]> {
    return until(
      `${count} web pods Running and Ready`,
      async () => {
        const all = await pods();
        return all.length === count && all.every((p) => p.status?.phase === 'Running' && isReady(p)) ? all : null;
      },
      timeoutMs,
      200,
    );
  }

  /** The pod names answering through the NodePort on `address` over `requests` requests. */
  async function answering(address: string, requests: number): Promise<Set<string>> {
    const names = new Set<string>();
    for (let i = 0; i < requests; i++) {
      const body = await httpGet(`http://${address}:${nodePort}/`);
      if (body !== null) names.add(body);
    }
    return names;
  }

  async function expectServedBy(expected: readonly string[], timeoutMs: number): Promise<void> {
    const want = [...expected].sort().join(',');
    let seen = '';
    await until(
      `the NodePort served by exactly [${want}]`,
      async () => {
        seen = [...(await answering(nodeAddresses['node-1'], expected.length * 4))].sort().join(',');
        return seen === want ? true : null;
      },
      timeoutMs,
      200,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; last seen [${seen}]`);
    });
  }

  function containerIds(list: readonly Pod[]): Record<string, string> {
    return Object.fromEntries(list.map((p) => [p.metadata.name ?? '', `${p.status?.containerStatuses?.[0]?.containerID}#${p.status?.containerStatuses?.[0]?.restartCount}`]));
  }

  beforeAll(async () => {
    cluster = await tempCluster({ masters: 3, components: { nodeMonitorGracePeriodMs: 4_000, podEvictionTimeoutMs: 1_000 } });
    await cluster.startAll();
    servers = cluster.control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`).join(',');
    tokenFile = join(cluster.dir, 'admin.token');
    await writeFile(tokenFile, adminToken);
    client = createHttpClient({ endpoints: servers.split(','), token: adminToken, signal: stop.signal });
    await awaitLeader(cluster.control);
    await until('the default namespace', async () => (await client.resource('namespaces').get('default').catch(() => null)) ?? null, 15_000);
    for (const node of Object.keys(nodeAddresses) as NodeName[]) {
      await mkdir(agentDataDir(node), { recursive: true });
      startAgent(node);
    }
    proxy = startCli('proxy', ['proxy', '--servers', servers, '--token-file', tokenFile, '--node-port-addresses', Object.values(nodeAddresses).join(',')]);
    for (const node of Object.keys(nodeAddresses) as NodeName[]) {
      await until(`node ${node} Ready`, async () => {
        const found = await client.resource('nodes').get(node).catch(() => null);
        return found?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : null;
      }, 20_000).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${describeOutput(agents.get(node) as CliProcess)}`);
      });
    }
  }, 90_000);

  afterAll(async () => {
    await client?.resource('deployments', 'default').delete('web').catch(() => undefined);
    for (const agent of agents.values()) await agent.stop();
    await proxy?.stop();
    stop.abort();
    if (runtime === 'docker') {
      // Whatever a failed test left: containers of this test's nodes.
      const left = await dockerApi('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['io.raftplane.node'] }))}`);
      for (const c of (left.body as { Id: string; Labels: Record<string, string> }[]) ?? []) {
        if (Object.keys(nodeAddresses).includes(c.Labels['io.raftplane.node'] ?? '')) await dockerApi('DELETE', `/containers/${c.Id}?force=true&v=true`);
      }
    } else {
      for (const ip of podIPsInRange()) for (const pid of processesOfPod(ip)) process.kill(pid, 'SIGKILL');
    }
    await cluster?.cleanup();
  }, 60_000);

  test('a Deployment behind a NodePort Service: every pod serves, scaling is followed', async () => {
    const service: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    };
    const created = await client.resource('services', 'default').create(service);
    expect(created.spec?.clusterIP).toMatch(/^127\./);
    nodePort = created.spec?.ports?.[0]?.nodePort ?? 0;
    expect(nodePort).toBeGreaterThanOrEqual(30_000);
    await client.resource('deployments', 'default').create(deployment(runtime, 3));
    const three = await readyPods(3, 60_000);
    expect(new Set(three.map((p) => p.spec?.nodeName))).toEqual(new Set(['node-1', 'node-2']));
    for (const pod of three) expect(pod.status?.podIP).toMatch(pod.spec?.nodeName === 'node-1' ? /^127\.1\.1\./ : /^127\.1\.2\./);
    await expectServedBy(three.map((p) => p.metadata.name ?? ''), 15_000);
    // The ClusterIP serves too, and the other node's address.
    expect(await httpGet(`http://${created.spec?.clusterIP}:80/`)).toMatch(/^web-/);
    expect(await httpGet(`http://${nodeAddresses['node-2']}:${nodePort}/`)).toMatch(/^web-/);

    const scaledAt = Date.now();
    await client.resource('deployments', 'default').patch('web', 'merge', { spec: { replicas: 5 } });
    const five = await readyPods(5, 30_000);
    await expectServedBy(five.map((p) => p.metadata.name ?? ''), 15_000);
    console.log(`e2e ${runtime}: 3 -> 5 replicas serving in ${Date.now() - scaledAt} ms`);
    const downAt = Date.now();
    await client.resource('deployments', 'default').patch('web', 'merge', { spec: { replicas: 3 } });
    const back = await readyPods(3, 30_000);
    await expectServedBy(back.map((p) => p.metadata.name ?? ''), 15_000);
    console.log(`e2e ${runtime}: 5 -> 3 replicas serving in ${Date.now() - downAt} ms`);
  });

  test('a killed process is restarted; a failing liveness probe restarts; a failing readiness probe leaves the rotation', async () => {
    const [victim, probed, unready] = await readyPods(3, 10_000);
    if (victim === undefined || probed === undefined || unready === undefined) throw new Error('three pods expected');
    // The web server itself (not the process runtime's supervisor shell around it).
    const pids = processesOfPod(victim.status?.podIP ?? '', 'httpd');
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await until(`${victim.metadata.name} restarted`, async () => {
      const pod = await client.resource('pods', 'default').get(victim.metadata.name ?? '');
      return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isReady(pod) ? pod : null;
    }, 30_000);

    // The probes fetch files of the pod's emptyDir, which lives in the agent's data directory.
    const volume = (pod: Pod): string => join(agentDataDir(pod.spec?.nodeName as NodeName), 'pods', pod.metadata.uid ?? '', 'volumes', 'www');
    await unlink(join(volume(probed), 'alive'));
    const restarted = await until(`${probed.metadata.name} restarted by its liveness probe`, async () => {
      const pod = await client.resource('pods', 'default').get(probed.metadata.name ?? '');
      return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isReady(pod) ? pod : null;
    }, 30_000);
    expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated).toBeDefined();

    await unlink(join(volume(unready), 'ready'));
    await until(`${unready.metadata.name} not Ready`, async () => (isReady(await client.resource('pods', 'default').get(unready.metadata.name ?? '')) ? null : true), 15_000);
    const others = (await pods()).map((p) => p.metadata.name ?? '').filter((n) => n !== unready.metadata.name);
    await expectServedBy(others, 10_000);
    await writeFile(join(volume(unready), 'ready'), '');
    await expectServedBy([...others, unready.metadata.name ?? ''], 15_000);
  });

  test('an agent restart adopts its containers; a leader SIGKILL disturbs no pod; agents go on with the new leader', async () => {
    const before = containerIds(await readyPods(3, 10_000));
    await agents.get('node-1')?.stop();
    startAgent('node-1');
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(containerIds(await readyPods(3, 10_000))).toEqual(before);

    const leader = await awaitLeader(cluster.control);
    await cluster.control.kill(leader);
    const newLeader = await awaitLeader(cluster.control, 15_000);
    expect(newLeader).not.toBe(leader);
    await expectServedBy(Object.keys(before), 15_000);
    await client.resource('deployments', 'default').patch('web', 'merge', { spec: { replicas: 4 } });
    const four = await readyPods(4, 30_000);
    const after = containerIds(four);
    for (const [name, id] of Object.entries(before)) expect(after[name]).toBe(id);
    await cluster.control.start(leader);
  });

  test('kubectl: get pods -o wide, describe pod with its events, logs -f', async () => {
    const kubeconfig = join(cluster.dir, 'kubeconfig');
    const leader = await awaitLeader(cluster.control);
    const master = cluster.control.config.masters.find((m) => m.id === leader);
    await writeKubeconfig(kubeconfig, { server: `https://${master?.api.host}:${master?.api.port}`, token: adminToken });
    const home = join(cluster.dir, 'kube-home');
    await mkdir(home, { recursive: true });
    const options: KubectlOptions = { bin: '/usr/bin/kubectl', kubeconfig, cacheDir: join(home, 'cache'), home };
    const list = await pods();
    const wide = await kubectl(options, ['get', 'pods', '-o', 'wide', '-l', 'app=web']);
    expect(wide.code, wide.stderr).toBe(0);
    expect(wide.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    for (const pod of list) expect(wide.stdout).toMatch(new RegExp(`${pod.metadata.name}\\s+1/1\\s+Running\\s+\\d+.*\\s${pod.status?.podIP?.replaceAll('.', '\\.')}\\s+${pod.spec?.nodeName}\\s`));
    const target = list[0]?.metadata.name ?? '';
    const describe = await kubectl(options, ['describe', 'pod', target]);
    expect(describe.code, describe.stderr).toBe(0);
    expect(describe.stdout).toMatch(/Status:\s+Running/);
    expect(describe.stdout).toMatch(new RegExp(`IP:\\s+${list[0]?.status?.podIP?.replaceAll('.', '\\.')}`));
    for (const reason of ['Scheduled', 'Created', 'Started']) expect(describe.stdout).toMatch(new RegExp(`Normal\\s+${reason}\\s`));

    const line = `serving ${target} on ${list[0]?.status?.podIP}:8080\n`;
    const logs = await kubectl(options, ['logs', target]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toBe(line);
    const tail = await kubectl(options, ['logs', '--tail=1', '-c', 'web', target]);
    expect(tail.stdout).toBe(line);
    // -f streams what is there and stays open for more, until kubectl is stopped.
    const follow = startKubectl(options, ['logs', '-f', target], 30_000);
    await follow.waitForOutput('the first line', (out) => out === line, 10_000);
    const stopped = await follow.stop();
    expect(stopped.stderr).toBe('');
    expect(stopped.stdout).toBe(line);
    const unknown = await kubectl(options, ['logs', target, '-c', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('container nope is not valid for pod');
  });

  test('a stopped agent: its node goes NotReady and its pods are recreated on the other node', async () => {
    const stoppedAt = Date.now();
    await agents.get('node-2')?.stop();
    await until('node-2 not Ready', async () => {
      const node = await client.resource('nodes').get('node-2');
      return node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True' ? true : null;
    }, 30_000);
    const moved = await until('every web pod Ready on node-1', async () => {
      const all = await pods();
      return all.length === 4 && all.every((p) => p.spec?.nodeName === 'node-1' && isReady(p)) ? all : null;
    }, 60_000);
    console.log(`e2e ${runtime}: node-2's pods running on node-1 ${Date.now() - stoppedAt} ms after its agent stopped`);
    await expectServedBy(moved.map((p) => p.metadata.name ?? ''), 15_000);
    startAgent('node-2');
  });

  test('deleting the Deployment leaves no container and no process', async () => {
    await client.resource('deployments', 'default').delete('web');
    await until('no web pods', async () => ((await client.resource('pods', 'default').list({ labelSelector: 'app=web' })).items.length === 0 ? true : null), 60_000);
    await until('no process of any pod', async () => (podIPsInRange().length === 0 ? true : null), 30_000);
    if (runtime === 'docker') {
      await until('no container of ours', async () => {
        const left = await dockerApi('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['io.raftplane.node'] }))}`);
        const ours = ((left.body as { Labels: Record<string, string> }[]) ?? []).filter((c) => Object.keys(nodeAddresses).includes(c.Labels['io.raftplane.node'] ?? ''));
        return ours.length === 0 ? true : null;
      }, 30_000);
    }
    await rm(join(cluster.dir, 'kube-home'), { recursive: true, force: true });
  });
}

describe('end to end with the process runtime', () => endToEnd('process'));
describeDocker('end to end with the docker runtime', () => endToEnd('docker'));
