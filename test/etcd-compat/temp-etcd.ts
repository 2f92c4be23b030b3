// A throwaway etcd cluster for tests and benchmarks: members on free loopback ports, data and logs
// in a temporary directory; stop() ends every member and deletes the directory. Started as
// ../shared/reference/etcd-cluster.sh starts one (default durability, default timings), but never
// on its fixed ports, so that it cannot collide with a reference cluster left running.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Ports the OS says are free now (bound on 127.0.0.1:0, then released). The twin of freePorts in
 * scripts/lib/temp-cluster.ts, kept apart on purpose: that module loads @raftplane/master, and the
 * etcd side (the tool's own proof, the benchmark's reference) must work while raftplane's does not.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** The `etcd` executable on PATH, or null when there is none. */
export function etcdBinary(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface TempEtcdOptions {
  readonly members: number;
  /** How long the members may take to agree on a leader. */
  readonly readyTimeoutMs?: number;
}

export interface TempEtcd {
  readonly dir: string;
  /** Client URLs, `http://127.0.0.1:<port>`, one per member in start order. */
  readonly endpoints: readonly string[];
  logFile(index: number): string;
  /** SIGKILL every member (its data is thrown away: no need for etcd's slow clean stop), wait for each to exit, delete the directory. */
  stop(): Promise<void>;
}

interface StatusAnswer {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
}

async function status(endpoint: string): Promise<StatusAnswer | null> {
  try {
    const res = await fetch(`${endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1_000) });
    return res.ok ? ((await res.json()) as StatusAnswer) : null;
  } catch {
    return null;
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export async function tempEtcd(options: TempEtcdOptions): Promise<TempEtcd> {
  const binary = etcdBinary();
  if (binary === null) throw new Error('no `etcd` on PATH (Debian: apt-get install etcd-server)');
  const { members } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-etcd-'));
  const ports = await freePorts(members * 2);
  const names = Array.from({ length: members }, (_, i) => `e${i + 1}`);
  const clientUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i]}`;
  const peerUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
  const logFile = (i: number): string => join(dir, `${names[i]}.log`);
  const children: ChildProcess[] = [];
  // Members must not outlive a process that exits without calling stop() (a crash, process.exit).
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const child of children) child.kill('SIGKILL');
    for (const child of children) {
      if (!(await exited(child, 10_000))) throw new Error(`etcd pid ${child.pid} did not exit within 10 s of SIGKILL`);
    }
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < members; i++) {
      const log = openSync(logFile(i), 'a');
      try {
        const args = [
          '--name', names[i] as string, '--data-dir', join(dir, names[i] as string),
          '--listen-client-urls', clientUrl(i), '--advertise-client-urls', clientUrl(i),
          '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
          '--initial-cluster', initialCluster, '--initial-cluster-token', `raftplane-${ports[0]}`,
          '--initial-cluster-state', 'new', '--logger=zap', '--log-outputs=stderr',
        ];
        const child = spawn(binary, args, { stdio: ['ignore', log, log] });
        children.push(child);
      } finally {
        closeSync(log);
      }
    }
    const endpoints = names.map((_, i) => clientUrl(i));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const dead = children.findIndex((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead >= 0) throw new Error(`etcd member ${names[dead]} exited at start:\n${readFileSync(logFile(dead), 'utf8').slice(-2_000)}`);
      const statuses = await Promise.all(endpoints.map(status));
      const leaders = new Set(statuses.map((s) => s?.leader));
      if (statuses.every((s) => s !== null) && leaders.size === 1 && !leaders.has(undefined)) break;
      if (Date.now() > deadline) {
        const tails = names.map((n, i) => `--- ${n}\n${readFileSync(logFile(i), 'utf8').slice(-1_000)}`).join('\n');
        throw new Error(`etcd members did not agree on a leader within ${readyTimeoutMs} ms\n${tails}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { dir, endpoints, logFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
