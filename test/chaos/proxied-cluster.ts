// A fresh cluster for consistency testing: the masters and settings of a given config, on fresh
// loopback ports with their own data, every peer link through a FaultProxy (the lower id dials
// the higher through it); then heal everything, wait until every master has applied the same,
// and read the final state and the whole event history back.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadClusterConfig } from '@raftplane/master';
import { request } from 'undici';
import { ClusterControl, agreedLeader } from '../../scripts/lib/cluster-control.js';
import { freePorts } from '../../scripts/lib/temp-cluster.js';
import type { FinalState, WatchEvent } from '../checkers/history.js';
import { FaultProxy } from './fault-proxy.js';
import { KvOps } from './kv-ops.js';
import { decodeWatchEvent, type WatchResponseJson } from './workloads.js';

export interface ProxiedClusterOptions {
  /** The cluster config whose masters and settings are copied. */
  readonly config: string;
  /** cluster.json, the masters' logs and pid files, and data/ go here. */
  readonly runDir: string;
  /** Extra environment for the masters (a planted bug). */
  readonly env?: Readonly<Record<string, string>>;
  /** The proxy's generator (reset and jitter draws), seeded by the caller. */
  readonly random: () => number;
  /**
   * Keep every revision at least this long (kv.historyAgeMsMin): a run's whole event history
   * must still be readable at the end for the watch checker. Default: the config's own.
   */
  readonly historyAgeMsMin?: number;
}

export class ProxiedCluster {
  private constructor(
    readonly control: ClusterControl,
    readonly proxy: FaultProxy,
    readonly ids: readonly number[],
    readonly endpoints: ReadonlyMap<number, string>,
  ) {}

  /** Writes the config, starts the proxy and every master, and waits for a leader. */
  static async create(options: ProxiedClusterOptions): Promise<ProxiedCluster> {
    await loadClusterConfig(options.config); // a bad config is refused with its own clear error
    const base = JSON.parse(await readFile(options.config, 'utf8')) as Record<string, unknown> & { masters: { id: number }[] };
    const ids = base.masters.map((m) => m.id).sort((a, b) => a - b);
    const ports = await freePorts(ids.length * 2);
    const peer = (i: number) => ({ host: '127.0.0.1', port: ports[2 * i] as number });
    const links = ids.flatMap((low, i) => ids.flatMap((high, j) => (high > low ? [{ from: low, to: high, target: peer(j) }] : [])));
    const proxy = await FaultProxy.start(links, { random: options.random });
    try {
      const masters = ids.map((id, i) => {
        const dialVia: Record<string, string> = {};
        for (const other of ids) {
          if (other <= id) continue;
          const via = proxy.address(id, other);
          dialVia[String(other)] = `${via.host}:${via.port}`;
        }
        return { id, peer: `127.0.0.1:${peer(i).port}`, api: `127.0.0.1:${ports[2 * i + 1]}`, dataDir: join(options.runDir, 'data', `m${id}`), dialVia };
      });
      // Progress notifications every second: a watcher tells a silent master from a quiet one.
      const watch = { ...((base['watch'] as Record<string, unknown> | undefined) ?? {}), progressIntervalMs: 1_000 };
      const kvSection = (base['kv'] as Record<string, unknown> | undefined) ?? {};
      const kv = options.historyAgeMsMin === undefined ? base['kv'] : { ...kvSection, historyAgeMsMin: Math.max(Number(kvSection['historyAgeMsMin'] ?? 0), options.historyAgeMsMin) };
      // Files the base config names are relative to its folder; the copy lives elsewhere.
      const apiserver = { ...((base['apiserver'] as Record<string, unknown> | undefined) ?? {}) };
      for (const file of ['tokenFile', 'tlsCertFile', 'tlsKeyFile']) {
        if (typeof apiserver[file] === 'string') apiserver[file] = resolve(dirname(options.config), apiserver[file] as string);
      }
      const path = join(options.runDir, 'cluster.json');
      await writeFile(path, `${JSON.stringify({ ...base, name: 'chaos', masters, watch, apiserver, ...(kv === undefined ? {} : { kv }) }, null, 2)}\n`);
      const control = await ClusterControl.load(path, { runDir: options.runDir, env: options.env ?? {} });
      const endpoints = new Map(control.config.masters.map((m) => [m.id, `http://${m.api.host}:${m.api.port}`]));
      const cluster = new ProxiedCluster(control, proxy, ids, endpoints);
      try {
        for (const id of ids) await control.start(id);
        await control.waitFor('a leader', (s) => agreedLeader(s) !== 0, 30_000);
      } catch (error) {
        await cluster.close(); // stops whatever started, and the proxy
        throw error;
      }
      return cluster;
    } catch (error) {
      await proxy.close(); // idempotent
      throw error;
    }
  }

  /** Heals the network, resumes paused masters, starts stopped ones, and waits until all have applied the same. */
  async healAndSettle(timeoutMs: number): Promise<void> {
    this.proxy.heal();
    for (const id of this.ids) {
      await this.control.signal(id, 'SIGCONT');
      await this.control.start(id);
    }
    await this.control.waitFor(
      'every master to apply what the leader committed',
      (s) => {
        const leader = [...s.values()].find((x) => x?.role === 'leader');
        if (leader === undefined || leader === null || leader.applied !== leader.commit) return false;
        return this.ids.every((id) => s.get(id)?.applied === leader.applied && s.get(id)?.revision === leader.revision);
      },
      timeoutMs,
    );
  }

  /** The leader's view of [key, rangeEnd) (linearizable) and every event in it from revision 1. */
  async finalState(key: string, rangeEnd: string): Promise<FinalState> {
    const ops = new KvOps(this.endpoints, 5_000);
    try {
      for (let tries = 0; tries < 40; tries++) {
        const leader = agreedLeader(await this.control.client.statusAll());
        if (leader !== 0) {
          const read = await ops.readPrefix(leader, key, rangeEnd);
          if (read.outcome === 'ok') {
            const events = await readAllEvents(this.endpoints.get(leader) as string, key, rangeEnd, read.revision, 30_000);
            return { values: read.value, revision: read.revision, events };
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error('could not read the final state from a leader after healing');
    } finally {
      await ops.close();
    }
  }

  /** SIGTERM every master (SIGKILL after 10 s), close the proxy. */
  async close(): Promise<void> {
    for (const id of this.ids) await this.control.stop(id, 10_000).catch(() => undefined);
    await this.control.close();
    await this.proxy.close();
  }
}

/** Every event in [key, rangeEnd) from revision 1 to `toRevision`, as one watch reads it back; null when compacted. */
async function readAllEvents(url: string, key: string, rangeEnd: string, toRevision: number, timeoutMs: number): Promise<WatchEvent[] | null> {
  const events: WatchEvent[] = [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    // A progress notification tells us the history up to toRevision is complete even when the last revisions are outside the range.
    const body = JSON.stringify({ create_request: { key: Buffer.from(key).toString('base64'), range_end: Buffer.from(rangeEnd).toString('base64'), start_revision: '1', progress_notify: true } });
    const res = await request(`${url}/v3/watch`, { method: 'POST', body, signal: abort.signal, bodyTimeout: 0 });
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString();
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as { result?: WatchResponseJson };
        buffered = buffered.slice(nl + 1);
        if (line.result?.canceled === true) return null;
        const received = line.result?.events ?? [];
        events.push(...received.map(decodeWatchEvent));
        const last = events[events.length - 1]?.modRevision ?? 0;
        const progress = received.length === 0 && line.result?.created !== true ? Number(line.result?.header?.revision ?? 0) : 0;
        if (last >= toRevision || progress >= toRevision) return events;
      }
    }
    return events;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
