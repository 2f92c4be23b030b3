// What a master replicates into: the interface its state machine (the KV store, packages/kv)
// implements. DESIGN rules 3 and 4 are its contract.

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
   * apply() in two steps: the results, final once this resolves (the commands are committed, so a
   * crash before their batch lands replays them to the same results), and `written`, resolved once
   * the batch is on disk and appliedIndex has moved to it. Batches land in order, each after
   * `writeAfter` when given; a failed one rejects its `written` and every later call.
   */
  applyAhead(commands: readonly Command[], writeAfter?: Promise<unknown>): Promise<{ results: unknown[]; written: Promise<void> }>;
  /** Batches applied but not yet on disk. */
  batchesInFlight(): number;
  /** Resolves once every batch applied so far is on disk. */
  settled(): Promise<void>;
  /**
   * Starts a snapshot of the whole state as of now (appliedIndex, captured before returning), whose
   * bytes are built while the loop goes on applying: a snapshot must never stall the Raft loop.
   * Only when settled (no batch in flight).
   */
  beginSnapshot(): SnapshotJob;
  /** Replaces the whole state with a snapshot's (after the batches in flight); appliedIndex becomes its index. */
  restore(snapshot: Snapshot): Promise<void>;
}
