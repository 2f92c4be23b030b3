// The scheduler and the controller manager as their own processes (`raftplane scheduler`,
// `raftplane controller-manager`, issue 7), two replicas each, against three masters whose own
// components are off, with simulated nodes. One replica of each leads through its Lease; a Deployment
// runs. SIGKILL the leaders: the standbys take over once the Lease has gone unrenewed for its
// duration, and a scale-up completes. SIGTERM the new leaders: they release the Lease and a fresh
// replica takes over at once. Nothing is done twice: exactly the replicas asked for, one
// ReplicaSet, each pod bound once to a node that exists.

import { spawn, type ChildProcess } from 'node:child_process';
import { once, setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deployment, Lease, Pod, ReplicaSet } from '@raftplane/api';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster-control.js';
import { adminToken, tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitLeader, until } from '../support/cluster-checks.js';
import { SimulatedNode } from '../support/simulated-nodes.js';

const cliMain = join(repoRoot, 'packages/cli/dist/main.js');
/** Short lease settings, so that a takeover after a SIGKILL takes about two seconds. */
const leaseDurationMs = 2_000;
const retryPeriodMs = 300;
const leaseFlags = ['--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '300ms'];

type Kind = 'scheduler' | 'controller-manager';
const leaseNames: Record<Kind, string> = { scheduler: 'kube-scheduler', 'controller-manager': 'kube-controller-manager' };

interface Replica {
  readonly kind: Kind;
  readonly identity: string;
  readonly child: ChildProcess;
  /** JSON log lines from its stdout, stderr lines as they came. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('standalone scheduler and controller-manager, two replicas each, leader-elected through Leases', () => {
  let cluster: TempCluster;
  const stop = new AbortController();
  let client: HttpClient;
  const nodes: SimulatedNode[] = [];
  const replicas: Replica[] = [];
  let servers: string;
  let tokenFile: string;
  let caFile: string;

  /**
   * One replica, over http:// or over https:// (the masters' self-signed certificates trusted
   * through NODE_EXTRA_CA_CERTS, since the client has no TLS options yet).
   */
  function startReplica(kind: Kind, identity: string, scheme: 'http' | 'https' = 'http'): Replica {
    const list = scheme === 'http' ? servers : servers.replaceAll('http://', 'https://');
    const env = scheme === 'http' ? process.env : { ...process.env, NODE_EXTRA_CA_CERTS: caFile };
    const child = spawn(process.execPath, [cliMain, kind, '--servers', list, '--token-file', tokenFile, '--identity', identity, ...leaseFlags], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const replica = { kind, identity, child, lines, stderr, exited };
    replicas.push(replica);
    return replica;
  }

  async function holder(kind: Kind): Promise<string> {
    const lease = (await client.resource('leases', 'kube-system').get(leaseNames[kind])) as Lease;
    return lease.spec?.holderIdentity ?? '';
  }

  /** Polls the Lease every 20 ms until a holder other than `previous` (and not empty) holds it. */
  async function newHolder(kind: Kind, previous: string, timeoutMs: number): Promise<string> {
    return until(`a new holder of ${leaseNames[kind]}`, async () => {
      const now = await holder(kind);
      return now !== '' && now !== previous ? now : null;
    }, timeoutMs, 20);
  }

  function logged(replica: Replica, message: string): boolean {
    return replica.lines.some((line) => typeof line.msg === 'string' && line.msg.startsWith(message));
  }

  beforeEach(async () => {
    if (!existsSync(cliMain)) throw new Error(`${cliMain} is missing: run \`npx tsc -b\` first`);
    setMaxListeners(64, stop.signal);
    cluster = await tempCluster({ masters: 3, components: { scheduler: false, controllerManager: false } });
    await cluster.startAll();
    tokenFile = join(cluster.dir, 'admin.token');
    await writeFile(tokenFile, `${adminToken}\n`, { mode: 0o600 });
  });

  afterEach(async () => {
    for (const replica of replicas) {
      if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGKILL');
      await replica.exited;
    }
    for (const node of nodes) await node.stopAgent();
    stop.abort();
    await client?.closed;
    await cluster.cleanup();
  });

  test('SIGKILLed leaders are replaced within the lease settings; SIGTERMed ones hand over at once', async () => {
    const { control } = cluster;
    await awaitLeader(control);
    const endpoints = control.config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
    servers = endpoints.join(',');
    // Each master made a self-signed certificate for its API address on first start.
    caFile = join(cluster.dir, 'masters-ca.pem');
    const certs = await Promise.all(control.ids().map((id) => readFile(join(control.dataDir(id), 'apiserver-tls', 'serving.crt'), 'utf8')));
    await writeFile(caFile, certs.join('\n'));
    client = createHttpClient({ endpoints, token: adminToken, signal: stop.signal });
    await until('the default namespace', async () => (await client.resource('namespaces').get('default')) ?? null, 10_000);
    const byIdentity = new Map<string, Replica>();
    for (const kind of ['scheduler', 'controller-manager'] as const) {
      for (const suffix of ['a', 'b']) {
        const replica = startReplica(kind, `${kind}-${suffix}`);
        byIdentity.set(replica.identity, replica);
      }
    }
    for (const name of ['node-a', 'node-b', 'node-c']) {
      const node = new SimulatedNode({ client, name, cpu: '2', startDelayMs: 20, heartbeatMs: 1_000 });
      await node.start();
      nodes.push(node);
    }

    const deployments = client.resource('deployments', 'default');
    await deployments.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } },
      },
    });
    const available = (count: number) => async (): Promise<Deployment | null> => {
      const d = await deployments.get('web');
      return d.status?.availableReplicas === count && d.status.updatedReplicas === count && d.status.replicas === count ? d : null;
    };
    await until('4 available replicas', available(4), 30_000);

    // One leader per kind, and only it ever started its component.
    const leaders = new Map<Kind, Replica>();
    for (const kind of ['scheduler', 'controller-manager'] as const) {
      const identity = await holder(kind);
      const leader = byIdentity.get(identity);
      expect(leader, `${leaseNames[kind]} is held by ${JSON.stringify(identity)}`).toBeDefined();
      leaders.set(kind, leader!);
      const standby = replicas.find((r) => r.kind === kind && r !== leader)!;
      expect(logged(leader!, 'leading:')).toBe(true);
      expect(logged(standby, 'leading:')).toBe(false);
    }

    // SIGKILL both leaders: no release, so the standbys wait out the lease.
    const killedAt = Date.now();
    for (const leader of leaders.values()) leader.child.kill('SIGKILL');
    const podsBefore = new Set(((await client.resource('pods', 'default').list({ labelSelector: 'app=web' })).items as Pod[]).map((p) => p.metadata.name));
    await deployments.patch('web', 'merge', { spec: { replicas: 6 } });
    const takeoverMs = new Map<Kind, number>();
    const successors = new Map<Kind, Replica>();
    await Promise.all(
      (['scheduler', 'controller-manager'] as const).map(async (kind) => {
        const identity = await newHolder(kind, leaders.get(kind)!.identity, 10_000);
        takeoverMs.set(kind, Date.now() - killedAt);
        successors.set(kind, byIdentity.get(identity)!);
      }),
    );
    // Polled side by side: the new controller manager's first write (the ReplicaSet scaled to 6),
    // and the new scheduler's first binding (a pod created after the kill gets a node).
    const [replicaSetMs, bindingMs] = await Promise.all([
      until('the ReplicaSet at 6', async () => {
        const sets = (await client.resource('replicasets', 'default').list({ labelSelector: 'app=web' })).items as ReplicaSet[];
        return sets.some((rs) => rs.spec?.replicas === 6) ? Date.now() - killedAt : null;
      }, 15_000, 20),
      until('a new pod bound', async () => {
        const pods = (await client.resource('pods', 'default').list({ labelSelector: 'app=web' })).items as Pod[];
        return pods.some((p) => !podsBefore.has(p.metadata.name) && (p.spec?.nodeName ?? '') !== '') ? Date.now() - killedAt : null;
      }, 15_000, 20),
    ]);
    await until('6 available replicas', available(6), 30_000);
    for (const kind of ['scheduler', 'controller-manager'] as const) {
      // The Lease went unrenewed for its duration (seen on the standby's clock, polled every retry period).
      expect(takeoverMs.get(kind)!).toBeGreaterThanOrEqual(leaseDurationMs - retryPeriodMs);
      expect(takeoverMs.get(kind)!).toBeLessThan(leaseDurationMs + 2 * retryPeriodMs + 1_000);
      expect(successors.get(kind)!.identity).not.toBe(leaders.get(kind)!.identity);
    }
    expect(replicaSetMs).toBeLessThan(leaseDurationMs + 3_000);
    expect(bindingMs).toBeLessThan(leaseDurationMs + 3_000);

    // SIGTERM the new leaders with a fresh standby each (over https): the Lease is released, the standby takes it at once.
    const fresh = new Map<Kind, Replica>();
    for (const kind of ['scheduler', 'controller-manager'] as const) {
      const replica = startReplica(kind, `${kind}-c`, 'https');
      byIdentity.set(replica.identity, replica);
      fresh.set(kind, replica);
    }
    // Each fresh replica has started and found the Lease held (it polls every retry period).
    await until('the fresh replicas to start', async () => ([...fresh.values()].every((r) => logged(r, 'starting')) ? true : null), 10_000, 20);
    await new Promise((r) => setTimeout(r, 3 * retryPeriodMs));
    const terminatedAt = Date.now();
    for (const successor of successors.values()) successor.child.kill('SIGTERM');
    const handoverMs = new Map<Kind, number>();
    await Promise.all(
      (['scheduler', 'controller-manager'] as const).map(async (kind) => {
        const identity = await newHolder(kind, successors.get(kind)!.identity, 10_000);
        handoverMs.set(kind, Date.now() - terminatedAt);
        expect(identity).toBe(fresh.get(kind)!.identity);
      }),
    );
    for (const [kind, successor] of successors) {
      const exit = await successor.exited;
      expect(exit, `${successor.identity} exit; stderr: ${successor.stderr.join('')}`).toEqual({ code: 0, signal: null });
      expect(logged(successor, 'released the lease')).toBe(true);
      // At once: about one retry period of the standby, not a lease duration.
      expect(handoverMs.get(kind)!).toBeLessThan(leaseDurationMs);
    }
    // The fresh leaders work: a scale-up to 7 needs both.
    await deployments.patch('web', 'merge', { spec: { replicas: 7 } });
    await until('7 available replicas', available(7), 30_000);

    const pods = (await client.resource('pods', 'default').list({ labelSelector: 'app=web' })).items as Pod[];
    expect(pods).toHaveLength(7);
    expect(pods.every((p) => ['node-a', 'node-b', 'node-c'].includes(p.spec?.nodeName ?? ''))).toBe(true);
    expect(pods.every((p) => p.status?.phase === 'Running')).toBe(true);
    expect((await client.resource('replicasets', 'default').list({ labelSelector: 'app=web' })).items).toHaveLength(1);
    const scheduled = (await client.resource('events', 'default').list()).items.filter((e) => (e as { reason?: string }).reason === 'Scheduled');
    // Each pod was bound once: one Scheduled event per pod, and one per pod that exists.
    const boundNames = scheduled.map((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name);
    expect(new Set(boundNames).size).toBe(boundNames.length);
    expect(boundNames.length).toBe(7);
    // Every log line is a JSON object naming its component and replica.
    for (const replica of replicas) expect(replica.lines.every((l) => l.component === replica.kind && l.identity === replica.identity)).toBe(true);

    console.log(
      `standalone-components: after SIGKILL of the leaders (lease ${leaseDurationMs} ms, retry ${retryPeriodMs} ms): ` +
        `scheduler Lease taken over in ${takeoverMs.get('scheduler')} ms, first new binding at ${bindingMs} ms; ` +
        `controller-manager Lease taken over in ${takeoverMs.get('controller-manager')} ms, ReplicaSet scaled at ${replicaSetMs} ms. ` +
        `After SIGTERM (release): scheduler ${handoverMs.get('scheduler')} ms, controller-manager ${handoverMs.get('controller-manager')} ms`,
    );
  });
});
