// The core's configuration, validated whole when a node is built: every bad option gets its own
// error naming it, and unknown options are rejected rather than ignored.

import { RaftError, RaftErrorCode } from './errors.js';
import type { Random } from './random.js';
import type { Storage } from './storage.js';
import { NONE, type NodeId } from './types.js';

/** Structured log lines from the core; the caller decides where they go. Defaults to nowhere. */
export interface RaftLogger {
  info(event: string, fields: Readonly<Record<string, unknown>>): void;
  warn(event: string, fields: Readonly<Record<string, unknown>>): void;
}

export interface RaftConfig {
  /** This node's id; must not be 0. */
  readonly id: NodeId;
  /** What this node has persisted. The voter set comes from here, never from configuration. */
  readonly storage: Storage;
  /** The only source of randomness (election timeouts). */
  readonly random: Random;
  /** Index the state machine has applied (from its own durable record); 0 for a new node. */
  readonly applied: number;
  /** Base election timeout: a follower waits a random number of ticks in [t, 2t) (Raft §5.2). */
  readonly electionTimeoutTicks: number;
  /** Ticks between a leader's heartbeats; less than the election timeout. */
  readonly heartbeatIntervalTicks: number;
  /** Byte cap of the entries in one append message (at least one entry is always sent). */
  readonly messageBytesMax: number;
  /** Appends in flight to one follower in replicate state. */
  readonly inflightMsgsMax: number;
  /** Bytes of appends in flight to one follower; 0 for no byte cap. */
  readonly inflightBytesMax: number;
  /** Bytes of proposals appended but not yet applied on the leader; past it proposals are dropped. */
  readonly uncommittedBytesMax: number;
  /** Byte cap of committed entries handed out in one Ready (at least one entry). */
  readonly committedBytesPerReadyMax: number;
  /** Snapshots are streamed to followers in chunks of at most this many bytes. */
  readonly snapshotChunkBytesMax: number;
  /** ReadIndex requests waiting on the leader; past it new ones are refused. */
  readonly readIndexRequestsMax: number;
  /** Thesis §9.6: ask whether an election could be won before disrupting the cluster with a new term. */
  readonly preVote: boolean;
  /** Thesis §6.2: a leader steps down when it has not heard from a quorum for an election timeout. */
  readonly checkQuorum: boolean;
  /** A follower forwards proposals to the leader (true) or refuses them naming the leader (false). */
  readonly proposalForwarding: boolean;
  /**
   * When the leader's commit index moves, do not send the followers an empty append just to
   * carry it (false: send at once, as etcd-io/raft does). The new commit index then travels
   * with the next append or heartbeat, or when the host calls broadcastCommit(): a host that
   * calls it a moment after an idle turn keeps followers' apply prompt, and under load saves
   * every follower one message and one turn per commit.
   */
  readonly deferCommitBroadcast: boolean;
  readonly logger?: RaftLogger;
}

/**
 * DESIGN.md's defaults for everything but identity, storage and randomness. Callers spread it at
 * the call site, so every value in force is visible there.
 */
export const raftDefaults = Object.freeze({
  applied: 0,
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 1,
  messageBytesMax: 1024 * 1024,
  inflightMsgsMax: 256,
  inflightBytesMax: 32 * 1024 * 1024,
  uncommittedBytesMax: 64 * 1024 * 1024,
  committedBytesPerReadyMax: 64 * 1024 * 1024,
  snapshotChunkBytesMax: 1024 * 1024,
  readIndexRequestsMax: 10_000,
  preVote: true,
  checkQuorum: true,
  proposalForwarding: true,
  deferCommitBroadcast: false,
}) satisfies Omit<RaftConfig, 'id' | 'storage' | 'random' | 'logger'>;

const knownOptions: ReadonlySet<string> = new Set([
  'id',
  'storage',
  'random',
  'logger',
  ...Object.keys(raftDefaults),
]);

function invalid(option: string, message: string): RaftError {
  return new RaftError(RaftErrorCode.InvalidConfig, `raft config: ${option} ${message}`, { option });
}

function requireInteger(config: RaftConfig, option: keyof RaftConfig, min: number): void {
  const value = config[option];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(option, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
}

export function validateRaftConfig(config: RaftConfig): void {
  for (const option of Object.keys(config)) {
    if (!knownOptions.has(option)) throw invalid(option, 'is not a known option');
  }
  if (config.id === NONE) throw invalid('id', 'must not be 0 (0 means "no node")');
  requireInteger(config, 'id', 1);
  if (typeof config.storage !== 'object' || config.storage === null || typeof config.storage.initialState !== 'function') {
    throw invalid('storage', 'must implement Storage');
  }
  if (typeof config.random !== 'object' || config.random === null || typeof config.random.int !== 'function') {
    throw invalid('random', 'must implement Random (a seeded generator)');
  }
  if (config.logger !== undefined) {
    const logger = config.logger as Partial<RaftLogger> | null;
    if (typeof logger !== 'object' || logger === null || typeof logger.info !== 'function' || typeof logger.warn !== 'function') {
      throw invalid('logger', 'must have info() and warn() methods');
    }
  }
  requireInteger(config, 'applied', 0);
  requireInteger(config, 'electionTimeoutTicks', 1);
  requireInteger(config, 'heartbeatIntervalTicks', 1);
  if (config.electionTimeoutTicks <= config.heartbeatIntervalTicks) {
    throw invalid(
      'electionTimeoutTicks',
      `(${config.electionTimeoutTicks}) must be greater than heartbeatIntervalTicks (${config.heartbeatIntervalTicks})`,
    );
  }
  requireInteger(config, 'messageBytesMax', 1);
  requireInteger(config, 'inflightMsgsMax', 1);
  requireInteger(config, 'inflightBytesMax', 0);
  requireInteger(config, 'uncommittedBytesMax', 1);
  requireInteger(config, 'committedBytesPerReadyMax', 1);
  requireInteger(config, 'snapshotChunkBytesMax', 1);
  requireInteger(config, 'readIndexRequestsMax', 1);
  for (const option of ['preVote', 'checkQuorum', 'proposalForwarding', 'deferCommitBroadcast'] as const) {
    if (typeof config[option] !== 'boolean') throw invalid(option, `must be a boolean, got ${JSON.stringify(config[option])}`);
  }
}
