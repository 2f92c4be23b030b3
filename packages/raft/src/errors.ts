// The catalogue of failures the Raft core reports to its caller, each with a stable code.
// These are expected conditions of the world (no leader, a full pipeline, compacted history);
// bugs fail an `invariant()` instead, which nobody catches.

export const RaftErrorCode = {
  /** A proposal was not accepted; `reason` says why and `leader` names who to ask instead. */
  ProposalDropped: 'RAFT_PROPOSAL_DROPPED',
  /** A read-index request could not be started (no known leader). */
  ReadIndexDropped: 'RAFT_READ_INDEX_DROPPED',
  /** A leadership transfer could not be requested (no known leader, unknown target). */
  TransferDropped: 'RAFT_TRANSFER_DROPPED',
  /** The requested index is below the first index kept in storage. */
  Compacted: 'RAFT_COMPACTED',
  /** The requested index is beyond the last index in storage. */
  Unavailable: 'RAFT_UNAVAILABLE',
  /** A snapshot older than the one already held was offered to storage. */
  SnapshotOutOfDate: 'RAFT_SNAPSHOT_OUT_OF_DATE',
  /** Storage cannot produce a snapshot right now; the leader will try again later. */
  SnapshotTemporarilyUnavailable: 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE',
  /** A configuration option is missing or out of range; `option` names it. */
  InvalidConfig: 'RAFT_INVALID_CONFIG',
  /** A message that may only be generated locally (Hup, Beat, ...) arrived through step(). */
  LocalMessageStepped: 'RAFT_LOCAL_MESSAGE_STEPPED',
  /** A response came from a node that is not a member. */
  UnknownPeer: 'RAFT_UNKNOWN_PEER',
} as const;
export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode];

export type ProposalDroppedReason =
  | 'no-leader'
  | 'not-leader'
  | 'transfer-in-progress'
  | 'uncommitted-bytes-max'
  | 'not-a-voter';

export interface RaftErrorDetails {
  /** The node that raised the error. */
  readonly node?: number;
  readonly term?: number;
  readonly index?: number;
  /** The known leader (0 when none), so the caller can redirect. */
  readonly leader?: number;
  readonly reason?: ProposalDroppedReason;
  readonly option?: string;
}

export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;
  readonly details: RaftErrorDetails;

  constructor(code: RaftErrorCode, message: string, details: RaftErrorDetails = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function isRaftError(error: unknown, code?: RaftErrorCode): error is RaftError {
  return error instanceof RaftError && (code === undefined || error.code === code);
}

/**
 * Asserts an invariant of the algorithm. A failure is a bug in raftplane (or corrupted
 * durable state): the only safe answer is to stop, so this throws an error nobody catches.
 * The core may not import node:assert (DESIGN rule 1), hence this small twin of it.
 */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    const error = new Error(typeof message === 'string' ? message : message());
    error.name = 'AssertionError';
    throw error;
  }
}
