// The cluster config: which masters exist and where, the shared secret, and every timing and
// size setting. Validated whole at load: unknown keys are rejected by name, every value is
// checked, and relationships between values are asserted (house rule 9).

import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { parseNodePortRange, parseServiceIPRange, serviceRangeDefaults } from '@raftplane/apiserver';
import { raftDefaults, type RaftConfig } from '@raftplane/raft';
import { MasterError, MasterErrorCode } from './errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface MasterConfig {
  readonly id: number;
  /** Where peers reach this master (Raft traffic). */
  readonly peer: HostPort;
  /** Where clients reach this master (HTTP: status, health, and the API). */
  readonly api: HostPort;
  /** This master's LevelDB; relative paths are taken from the working directory. */
  readonly dataDir: string;
  /**
   * Where this master dials a peer instead of the peer's own address, by peer id: a
   * fault-injecting proxy on the link (npm run chaos). Only peers with a higher id: the lower id dials.
   */
  readonly dialVia: ReadonlyMap<number, HostPort>;
}

/** The core's options a cluster config sets (every master the same), plus the tick length. */
export type RaftSettings = { readonly tickMs: number } & Omit<RaftConfig, 'id' | 'storage' | 'random' | 'applied' | 'logger' | 'proposalForwarding'>;

export interface SnapshotSettings {
  /** Take a snapshot (and compact the log) once this many entries were applied since the last one. */
  readonly entriesMax: number;
  /** Entries kept behind a snapshot so that a slightly lagging follower catches up without one. */
  readonly catchUpEntries: number;
}

export interface TransportSettings {
  readonly queueBytesMax: number;
  readonly frameBytesMax: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  readonly idleTimeoutMs: number;
}

export interface ApiSettings {
  /** A proposal not applied within this time is answered "request timed out" (outcome unknown). */
  readonly proposalTimeoutMs: number;
  /** Requests with a bigger body are refused (etcd's --max-request-bytes: 1.5 MiB). */
  readonly bodyBytesMax: number;
  /** Proposals waiting for the Raft loop; past it new ones get "too many requests". */
  readonly pendingProposalsMax: number;
  /** Linearizable reads waiting for ReadIndex; past it new ones get "too many requests". */
  readonly pendingReadsMax: number;
  /** Bytes a watch stream may have unsent before the watch is cut off as too slow. */
  readonly watchBufferBytesMax: number;
}

export interface KvSettings {
  /** A client session (exactly-once writes) unused this long is forgotten. */
  readonly sessionTtlMs: number;
  /** Client sessions kept; past it the least recently used is forgotten. */
  readonly sessionsMax: number;
  readonly txnOpsMax: number;
  readonly leaseTtlMaxSeconds: number;
  /** Watch history kept: at least this many revisions (DESIGN: 10,000)... */
  readonly historyRevisionsMin: number;
  /** ...and at least this long (DESIGN: 5 minutes), whichever keeps more. The leader compacts past both. */
  readonly historyAgeMsMin: number;
  /** How often the leader checks whether to compact. */
  readonly compactionCheckMs: number;
}

export interface WatchSettings {
  /** Events buffered for one watcher before it is canceled as too slow. */
  readonly eventsQueuedMax: number;
  readonly historyPageRevisions: number;
  /** Progress notifications for idle watchers that asked for them (etcd: 10 minutes). */
  readonly progressIntervalMs: number;
  readonly watchersMax: number;
}

/** The Kubernetes API (packages/apiserver) on every master. */
export interface ApiserverSettings {
  /**
   * Bearer tokens, in kube-apiserver's `--token-auth-file` format (`token,user,uid,"group1,group2"`),
   * resolved against the config file's folder; null: no authentication (everyone is an admin).
   */
  readonly tokenFile: string | null;
  /** The API port's TLS certificate and key (PEM), resolved like tokenFile; null: each master makes a self-signed one in its data directory. */
  readonly tlsCertFile: string | null;
  readonly tlsKeyFile: string | null;
  /** Members of these groups may do everything... */
  readonly adminGroups: readonly string[];
  /** ...and of these, get, list and watch. Anyone else gets 403. */
  readonly readOnlyGroups: readonly string[];
  /** Bigger request bodies get 413 (Kubernetes: 3 MiB). */
  readonly bodyBytesMax: number;
  /** Requests one user may have in flight (watches not counted); past it, 429. */
  readonly inflightPerUserMax: number;
  readonly inflightMax: number;
  /** How long a request waits through an election before 503 with Retry-After. */
  readonly leaderWaitMs: number;
  /** How often a watch that allows bookmarks gets one. */
  readonly bookmarkIntervalMs: number;
  /** A watch without timeoutSeconds ends after a random time in [this, 2 × this). */
  readonly watchTimeoutMsMin: number;
  readonly watchTimeoutSecondsMax: number;
  /** How often the leader removes pods whose grace period ran out and empties deleted namespaces. */
  readonly leaderDutiesIntervalMs: number;
  /**
   * Where Services get their ClusterIPs (kube-apiserver's --service-cluster-ip-range): an IPv4 CIDR
   * inside 127.0.0.0/8, since the service proxy listens on ClusterIPs as loopback addresses.
   */
  readonly serviceClusterIPRange: string;
  /** Where NodePort Services get their ports (--service-node-port-range), "min-max". */
  readonly serviceNodePortRange: string;
}

/** Leader-only components run inside the masters (off when they run as their own processes). */
export interface ComponentSettings {
  readonly scheduler: boolean;
  readonly controllerManager: boolean;
  /** A node whose Lease is not renewed this long becomes Ready=Unknown and tainted unreachable (DESIGN: 40 s). */
  readonly nodeMonitorGracePeriodMs: number;
  /** Pods on an unreachable node without a toleration of their own are evicted after this (Kubernetes: 300 s). */
  readonly podEvictionTimeoutMs: number;
  /** kube-scheduler's percentageOfNodesToScore: 0, adaptive (Kubernetes' default), or 1 to 100. */
  readonly percentageOfNodesToScore: number;
}

export interface ClusterConfig {
  readonly name: string;
  /** Masters prove membership to each other with it (HMAC challenge-response; never sent). */
  readonly secret: string;
  readonly masters: readonly MasterConfig[];
  readonly raft: RaftSettings;
  readonly snapshot: SnapshotSettings;
  readonly transport: TransportSettings;
  readonly api: ApiSettings;
  readonly kv: KvSettings;
  readonly watch: WatchSettings;
  readonly apiserver: ApiserverSettings;
  readonly components: ComponentSettings;
}

// The core's defaults, less what is not a cluster-wide setting (a master's applied index, and
// forwarding, which the master always turns off).
const { applied: _applied, proposalForwarding: _forwarding, ...coreDefaults } = raftDefaults;

/** The defaults of DESIGN.md's "Time and sizes" table, for the sections a config may leave out. */
export const settingsDefaults = {
  raft: { tickMs: 100, ...coreDefaults, deferCommitBroadcast: true },
  snapshot: { entriesMax: 100_000, catchUpEntries: 5_000 },
  transport: {
    queueBytesMax: 64 * 1024 * 1024,
    frameBytesMax: 16 * 1024 * 1024,
    reconnectDelayMsMin: 50,
    reconnectDelayMsMax: 2_000,
    idleTimeoutMs: 5_000,
  },
  api: {
    proposalTimeoutMs: 5_000,
    bodyBytesMax: 1.5 * 1024 * 1024,
    pendingProposalsMax: 10_000,
    pendingReadsMax: 10_000,
    watchBufferBytesMax: 4 * 1024 * 1024,
  },
  kv: {
    sessionTtlMs: 10 * 60_000,
    sessionsMax: 100_000,
    txnOpsMax: 128,
    leaseTtlMaxSeconds: 9_000_000_000,
    historyRevisionsMin: 10_000,
    historyAgeMsMin: 5 * 60_000,
    compactionCheckMs: 5_000,
  },
  watch: { eventsQueuedMax: 10_000, historyPageRevisions: 1_000, progressIntervalMs: 10 * 60_000, watchersMax: 100_000 },
  components: { scheduler: true, controllerManager: true, nodeMonitorGracePeriodMs: 40_000, podEvictionTimeoutMs: 300_000, percentageOfNodesToScore: 0 },
  apiserver: {
    bodyBytesMax: 3 * 1024 * 1024,
    inflightPerUserMax: 400,
    inflightMax: 2_000,
    leaderWaitMs: 5_000,
    bookmarkIntervalMs: 60_000,
    watchTimeoutMsMin: 30 * 60_000,
    watchTimeoutSecondsMax: 24 * 3600,
    leaderDutiesIntervalMs: 1_000,
  },
} as const satisfies Pick<ClusterConfig, 'raft' | 'snapshot' | 'transport' | 'api' | 'kv' | 'watch' | 'components'> & {
  apiserver: Omit<ApiserverSettings, 'tokenFile' | 'tlsCertFile' | 'tlsKeyFile' | 'adminGroups' | 'readOnlyGroups' | 'serviceClusterIPRange' | 'serviceNodePortRange'>;
};

const apiserverGroupDefaults = { adminGroups: ['system:masters'], readOnlyGroups: ['raftplane:viewers'] } as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function invalid(source: string, path: string, message: string): MasterError {
  return new MasterError(MasterErrorCode.InvalidConfig, `cluster config ${source}: ${path} ${message}`, { path });
}

function asObject(source: string, path: string, value: unknown): Record<string, Json> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(source, path, 'must be an object');
  return value as Record<string, Json>;
}

function rejectUnknown(source: string, path: string, object: Record<string, Json>, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw invalid(source, `${path}.${key}`, `is not a known setting (known: ${known.join(', ')})`);
    }
  }
}

function integer(source: string, path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(source, path, `must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonEmptyString(source: string, path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(source, path, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

/** "127.0.0.1:2380" → { host, port }. */
function hostPort(source: string, path: string, value: unknown): HostPort {
  const text = nonEmptyString(source, path, value);
  const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(text);
  if (match === null) throw invalid(source, path, `must be "host:port", got ${JSON.stringify(text)}`);
  const port = integer(source, path, Number(match[2]), 1, 65_535);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** Reads a section whose every key has a default; each given value must have the default's type. */
function section<T extends Record<string, number | boolean>>(
  source: string,
  path: string,
  value: unknown,
  defaults: T,
  minimums: Partial<Record<keyof T, number>> = {},
): T {
  if (value === undefined) return { ...defaults };
  const object = asObject(source, path, value);
  rejectUnknown(source, path, object, Object.keys(defaults));
  const out: Record<string, number | boolean> = { ...defaults };
  for (const [key, fallback] of Object.entries(defaults)) {
    const given = object[key];
    if (given === undefined) continue;
    if (typeof fallback === 'boolean') {
      if (typeof given !== 'boolean') throw invalid(source, `${path}.${key}`, `must be true or false, got ${JSON.stringify(given)}`);
      out[key] = given;
    } else {
      out[key] = integer(source, `${path}.${key}`, given, (minimums as Record<string, number>)[key] ?? 1);
    }
  }
  return out as T;
}

function stringList(source: string, path: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) throw invalid(source, path, `must be a list of non-empty strings, got ${JSON.stringify(value)}`);
  return value as string[];
}

function apiserverSettings(source: string, value: unknown, baseDir: string): ApiserverSettings {
  const object = value === undefined ? {} : asObject(source, 'apiserver', value);
  const { tokenFile, tlsCertFile, tlsKeyFile, adminGroups, readOnlyGroups, serviceClusterIPRange, serviceNodePortRange, ...numbers } = object;
  const limits = section(source, 'apiserver', numbers, settingsDefaults.apiserver);
  const file = (name: string, given: unknown): string | null =>
    given === undefined || given === null ? null : resolvePath(baseDir, nonEmptyString(source, `apiserver.${name}`, given));
  const cert = file('tlsCertFile', tlsCertFile);
  const key = file('tlsKeyFile', tlsKeyFile);
  if ((cert === null) !== (key === null)) throw invalid(source, 'apiserver.tlsCertFile', 'and apiserver.tlsKeyFile must be given together');
  return {
    ...limits,
    tokenFile: file('tokenFile', tokenFile),
    tlsCertFile: cert,
    tlsKeyFile: key,
    adminGroups: stringList(source, 'apiserver.adminGroups', adminGroups, apiserverGroupDefaults.adminGroups),
    readOnlyGroups: stringList(source, 'apiserver.readOnlyGroups', readOnlyGroups, apiserverGroupDefaults.readOnlyGroups),
    serviceClusterIPRange: serviceRange(source, 'apiserver.serviceClusterIPRange', serviceClusterIPRange, serviceRangeDefaults.serviceClusterIPRange, parseServiceIPRange),
    serviceNodePortRange: serviceRange(source, 'apiserver.serviceNodePortRange', serviceNodePortRange, serviceRangeDefaults.serviceNodePortRange, parseNodePortRange),
  };
}

/** A service range as written (the apiserver parses it again); checked here so a bad one stops the master at load. */
function serviceRange(source: string, path: string, value: unknown, fallback: string, parse: (text: string) => unknown): string {
  if (value === undefined) return fallback;
  const text = nonEmptyString(source, path, value);
  try {
    parse(text);
  } catch (error) {
    throw invalid(source, path, (error as Error).message);
  }
  return text;
}

function master(source: string, path: string, value: unknown): MasterConfig {
  const object = asObject(source, path, value);
  rejectUnknown(source, path, object, ['id', 'peer', 'api', 'dataDir', 'dialVia']);
  const dialVia = new Map<number, HostPort>();
  if (object['dialVia'] !== undefined) {
    for (const [peer, address] of Object.entries(asObject(source, `${path}.dialVia`, object['dialVia']))) {
      const peerId = /^[1-9][0-9]*$/.test(peer) ? Number(peer) : NaN;
      if (!Number.isSafeInteger(peerId)) throw invalid(source, `${path}.dialVia`, `keys must be master ids, got ${JSON.stringify(peer)}`);
      dialVia.set(peerId, hostPort(source, `${path}.dialVia.${peer}`, address));
    }
  }
  return {
    id: integer(source, `${path}.id`, object['id'], 1, 2 ** 31),
    peer: hostPort(source, `${path}.peer`, object['peer']),
    api: hostPort(source, `${path}.api`, object['api']),
    dataDir: nonEmptyString(source, `${path}.dataDir`, object['dataDir']),
    dialVia,
  };
}

/**
 * Validates a parsed config; `source` (a file name) is named in every error, and files the config
 * names (the token file) are found relative to `baseDir` (the config file's folder).
 */
export function parseClusterConfig(value: unknown, source = '<config>', baseDir = '.'): ClusterConfig {
  const object = asObject(source, '(top level)', value);
  rejectUnknown(source, '(top level)', object, ['name', 'secret', 'masters', 'raft', 'snapshot', 'transport', 'api', 'kv', 'watch', 'apiserver', 'components']);
  const name = nonEmptyString(source, 'name', object['name']);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw invalid(source, 'name', `must be lower-case letters, digits and dashes, got ${JSON.stringify(name)}`);
  const secret = nonEmptyString(source, 'secret', object['secret']);
  if (secret.length < 16) throw invalid(source, 'secret', 'must be at least 16 characters');
  const mastersValue = object['masters'];
  if (!Array.isArray(mastersValue) || mastersValue.length === 0) throw invalid(source, 'masters', 'must be a non-empty list');
  const masters = mastersValue.map((m, i) => master(source, `masters[${i}]`, m));
  const seen = { ids: new Set<number>(), addresses: new Set<string>(), dirs: new Set<string>() };
  masters.forEach((m, i) => {
    if (seen.ids.has(m.id)) throw invalid(source, `masters[${i}].id`, `${m.id} is used twice`);
    seen.ids.add(m.id);
    for (const address of [`${m.peer.host}:${m.peer.port}`, `${m.api.host}:${m.api.port}`]) {
      if (seen.addresses.has(address)) throw invalid(source, `masters[${i}]`, `address ${address} is used twice`);
      seen.addresses.add(address);
    }
    if (seen.dirs.has(m.dataDir)) throw invalid(source, `masters[${i}].dataDir`, `${m.dataDir} is used twice`);
    seen.dirs.add(m.dataDir);
  });
  masters.forEach((m, i) => {
    for (const peer of m.dialVia.keys()) {
      if (!seen.ids.has(peer) || peer === m.id) throw invalid(source, `masters[${i}].dialVia.${peer}`, `${peer} is not another master of the cluster`);
      if (peer < m.id) throw invalid(source, `masters[${i}].dialVia.${peer}`, `master ${m.id} never dials master ${peer}: the lower id dials the higher`);
    }
  });
  const raft = section(source, 'raft', object['raft'], settingsDefaults.raft, { inflightBytesMax: 0 });
  if (raft.electionTimeoutTicks <= raft.heartbeatIntervalTicks) {
    throw invalid(source, 'raft.electionTimeoutTicks', `(${raft.electionTimeoutTicks}) must be greater than raft.heartbeatIntervalTicks (${raft.heartbeatIntervalTicks})`);
  }
  const snapshot = section(source, 'snapshot', object['snapshot'], settingsDefaults.snapshot, { catchUpEntries: 0 });
  const transport = section(source, 'transport', object['transport'], settingsDefaults.transport);
  if (transport.reconnectDelayMsMin > transport.reconnectDelayMsMax) {
    throw invalid(source, 'transport.reconnectDelayMsMin', `(${transport.reconnectDelayMsMin}) must not exceed transport.reconnectDelayMsMax (${transport.reconnectDelayMsMax})`);
  }
  if (transport.frameBytesMax < raft.messageBytesMax + 64 * 1024 || transport.frameBytesMax < raft.snapshotChunkBytesMax + 64 * 1024) {
    throw invalid(source, 'transport.frameBytesMax', `(${transport.frameBytesMax}) must exceed raft.messageBytesMax and raft.snapshotChunkBytesMax by 64 KiB for framing`);
  }
  if (transport.idleTimeoutMs <= raft.tickMs * raft.heartbeatIntervalTicks) {
    throw invalid(source, 'transport.idleTimeoutMs', `(${transport.idleTimeoutMs}) must be longer than one heartbeat interval (${raft.tickMs * raft.heartbeatIntervalTicks} ms)`);
  }
  const api = section(source, 'api', object['api'], settingsDefaults.api);
  const kv = section(source, 'kv', object['kv'], settingsDefaults.kv);
  const watch = section(source, 'watch', object['watch'], settingsDefaults.watch);
  const apiserver = apiserverSettings(source, object['apiserver'], baseDir);
  const components = section(source, 'components', object['components'], settingsDefaults.components, { percentageOfNodesToScore: 0 });
  if (components.percentageOfNodesToScore > 100) {
    throw invalid(source, 'components.percentageOfNodesToScore', `must be 0 (adaptive) to 100, got ${components.percentageOfNodesToScore}`);
  }
  return { name, secret, masters, raft, snapshot, transport, api, kv, watch, apiserver, components };
}

export async function loadClusterConfig(file: string): Promise<ClusterConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MasterError(MasterErrorCode.InvalidConfig, `cluster config ${file}: cannot be read (${(error as Error).message})`, { path: file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MasterError(MasterErrorCode.InvalidConfig, `cluster config ${file}: is not valid JSON (${(error as Error).message})`, { path: file });
  }
  return parseClusterConfig(parsed, file, dirname(file));
}

export function masterById(config: ClusterConfig, id: number): MasterConfig {
  const found = config.masters.find((m) => m.id === id);
  if (found === undefined) {
    throw new MasterError(
      MasterErrorCode.InvalidConfig,
      `cluster config for ${config.name} has no master ${id} (masters: ${config.masters.map((m) => m.id).join(', ')})`,
      { path: 'masters' },
    );
  }
  return found;
}
