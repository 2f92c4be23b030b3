// A throwaway cluster for tests and benchmarks: a config on free loopback ports, data and logs in a temporary
// directory, real master processes; cleanup kills whatever runs and deletes the directory.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterControl } from './cluster-control.js';

/** Ports the OS says are free now (bound on 127.0.0.1:0, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface TempClusterOptions {
  readonly masters: number;
  readonly secret?: string;
  /** Per-master secret overrides (to test a master holding the wrong one). */
  readonly secretOf?: Readonly<Record<number, string>>;
  readonly raft?: Readonly<Record<string, number | boolean>>;
  readonly snapshot?: Readonly<Record<string, number>>;
  readonly api?: Readonly<Record<string, number>>;
  /** Which leader components run inside the masters (default: all, as in the shipped configs). */
  readonly components?: Readonly<{ scheduler?: boolean; controllerManager?: boolean; nodeMonitorGracePeriodMs?: number; podEvictionTimeoutMs?: number }>;
  /** Settings of the Kubernetes API (packages/apiserver), beside the token file below. */
  readonly apiserver?: Readonly<Record<string, unknown>>;
  /**
   * Users of the Kubernetes API, written as the cluster's token file; by default one admin
   * (`adminToken`) and one read-only user (`viewerToken`).
   */
  readonly tokens?: readonly { readonly token: string; readonly user: string; readonly groups: readonly string[] }[];
}

/** The tokens of a temporary cluster's default users. */
export const adminToken = 'temp-cluster-admin-token-0123456789';
export const viewerToken = 'temp-cluster-viewer-token-0123456789';

const defaultTokens = [
  { token: adminToken, user: 'admin', groups: ['system:masters'] },
  { token: viewerToken, user: 'viewer', groups: ['raftplane:viewers'] },
];

export interface TempCluster {
  readonly dir: string;
  readonly control: ClusterControl;
  /** Controls for masters given their own config (a different secret). */
  readonly controlOf: (id: number) => ClusterControl;
  startAll(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function tempCluster(options: TempClusterOptions): Promise<TempCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-cluster-'));
  const ports = await freePorts(options.masters * 2);
  const config = (secret: string) => ({
    name: 'test',
    secret,
    masters: Array.from({ length: options.masters }, (_, i) => ({
      id: i + 1,
      peer: `127.0.0.1:${ports[2 * i]}`,
      api: `127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: join(dir, `m${i + 1}`),
    })),
    raft: { tickMs: 100, electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, ...(options.raft ?? {}) },
    snapshot: { entriesMax: 10_000, catchUpEntries: 5_000, ...(options.snapshot ?? {}) },
    api: { proposalTimeoutMs: 5_000, ...(options.api ?? {}) },
    apiserver: { tokenFile: 'tokens.csv', ...(options.apiserver ?? {}) },
    ...(options.components === undefined ? {} : { components: options.components }),
  });
  const tokens = options.tokens ?? defaultTokens;
  await writeFile(join(dir, 'tokens.csv'), tokens.map((t, i) => `${t.token},${t.user},${i + 1},"${t.groups.join(',')}"`).join('\n') + '\n');
  const secret = options.secret ?? 'test-cluster-shared-secret';
  await writeFile(join(dir, 'cluster.json'), JSON.stringify(config(secret), null, 2));
  const control = await ClusterControl.load(join(dir, 'cluster.json'), { runDir: join(dir, 'run') });
  const others = new Map<number, ClusterControl>();
  for (const [id, other] of Object.entries(options.secretOf ?? {})) {
    const file = join(dir, `cluster-m${id}.json`);
    await writeFile(file, JSON.stringify(config(other), null, 2));
    others.set(Number(id), await ClusterControl.load(file, { runDir: join(dir, 'run') }));
  }
  const controlOf = (id: number): ClusterControl => others.get(id) ?? control;
  return {
    dir,
    control,
    controlOf,
    async startAll() {
      for (const id of control.ids()) await controlOf(id).start(id);
    },
    async cleanup() {
      for (const id of control.ids()) {
        const c = controlOf(id);
        await c.signal(id, 'SIGCONT');
        await c.kill(id);
      }
      for (const c of [control, ...others.values()]) await c.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
