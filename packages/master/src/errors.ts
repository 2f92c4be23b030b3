// The catalogue of failures a master reports, each with a stable code; callers test the code.

export const MasterErrorCode = {
  /** The cluster config is unreadable or invalid; `path` names the setting. */
  InvalidConfig: 'MASTER_INVALID_CONFIG',
  /** A command-line flag is missing or invalid. */
  InvalidArgument: 'MASTER_INVALID_ARGUMENT',
  /** The master is shutting down and takes no more work. */
  Stopping: 'MASTER_STOPPING',
  /** Too many proposals are waiting for the Raft loop. */
  Overloaded: 'MASTER_OVERLOADED',
  /** A proposal was not applied in time: it may or may not take effect. */
  ProposalTimeout: 'MASTER_PROPOSAL_TIMEOUT',
  /** A proposal was overwritten by a new leader's log: it was not applied and may be retried. */
  ProposalLost: 'MASTER_PROPOSAL_LOST',
  /** A leadership transfer asked of a master that is not the leader, or to a target that is unknown, unreachable or behind; `reason` says which. */
  TransferRefused: 'MASTER_TRANSFER_REFUSED',
} as const;
export type MasterErrorCode = (typeof MasterErrorCode)[keyof typeof MasterErrorCode];

export class MasterError extends Error {
  override readonly name = 'MasterError';
  readonly code: MasterErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: MasterErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}
