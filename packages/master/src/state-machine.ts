// What a master replicates into: the interface every state machine implements (the KV store
// next, a small test state machine now). DESIGN rules 3 and 4 are its contract.

import type { Snapshot } from '@raftplane/raft';

/** A committed entry, unwrapped: `payload` is null for the leaders' empty entries. */
export interface Command {
  readonly index: number;
  readonly term: number;
  readonly payload: Uint8Array | null;
}

/** A snapshot being built: the index it is as of, and its bytes when ready. */
export interface SnapshotJob {
  readonly index: number;
  readonly data: Promise<Uint8Array>;
}

export interface StateMachine {
  /** The last index applied, as recorded with the data itself (rule 4). */
  readonly appliedIndex: number;
  /**
   * Applies committed commands in order and returns one result per command. Uses only the
   * commands and its own store (rule 3); writes its data and the new applied index in one atomic
   * batch (rule 4), so a restart resumes exactly after the last applied command.
   */
  apply(commands: readonly Command[]): Promise<unknown[]>;
  /**
   * Starts a snapshot of the whole state as of now (appliedIndex, captured before returning), whose
   * bytes are built while the loop goes on applying: a snapshot must never stall the Raft loop.
   */
  beginSnapshot(): SnapshotJob;
  /** Replaces the whole state with a snapshot's; appliedIndex becomes its index. */
  restore(snapshot: Snapshot): Promise<void>;
}
