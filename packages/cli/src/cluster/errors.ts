// The failures `raftplane cluster` reports, each with a stable code (tests assert on the code); the
// message is the one line an operator reads: what is wrong and what to do about it.

export const ClusterErrorCode = {
  /** The cluster config file does not exist or is invalid. */
  InvalidConfig: 'CLUSTER_INVALID_CONFIG',
  /** A port or address the cluster needs is held by another process (another cluster, usually). */
  PortInUse: 'CLUSTER_PORT_IN_USE',
  /** A master id, or a component name for `logs`, that the cluster does not have. */
  UnknownMember: 'CLUSTER_UNKNOWN_MEMBER',
  /** A command or flag that `cluster` does not have, or a bad flag value. */
  InvalidUsage: 'CLUSTER_INVALID_USAGE',
  /** The cluster (or the part asked about) is not running. */
  NotRunning: 'CLUSTER_NOT_RUNNING',
  /** Something did not happen in time (a leader, a node Ready, the demo answering). */
  Timeout: 'CLUSTER_TIMEOUT',
  /** The leader refused to hand leadership to the master asked for. */
  TransferRefused: 'CLUSTER_TRANSFER_REFUSED',
} as const;
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
