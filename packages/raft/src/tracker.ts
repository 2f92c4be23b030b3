// The leader's and candidate's bookkeeping over the voter set: per-peer progress, votes received,
// and the quorum questions asked of them. Peers are always visited in ascending id order.

import { Progress } from './progress.js';
import { majorityCommittedIndex, majorityVoteResult, type VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export class ProgressTracker {
  /** Sorted ascending. */
  readonly voters: readonly NodeId[];
  readonly progress: ReadonlyMap<NodeId, Progress>;
  private readonly votes = new Map<NodeId, boolean>();
  private readonly scratch: number[] = [];

  constructor(confState: ConfState, nextIndex: number, inflightMsgsMax: number, inflightBytesMax: number) {
    this.voters = [...new Set(confState.voters)].sort((a, b) => a - b);
    const progress = new Map<NodeId, Progress>();
    for (const id of this.voters) progress.set(id, new Progress(nextIndex, inflightMsgsMax, inflightBytesMax));
    this.progress = progress;
  }

  confState(): ConfState {
    return { voters: this.voters.slice() };
  }

  isVoter(id: NodeId): boolean {
    return this.progress.has(id);
  }

  isSingleton(): boolean {
    return this.voters.length === 1;
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  /** The highest index replicated on a majority. */
  committed(): number {
    return majorityCommittedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0, this.scratch);
  }

  /** Whether a majority (counting `self`) was heard from recently (check-quorum, thesis §6.2). */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) active.set(id, id === self || pr.recentActive);
    return majorityVoteResult(this.voters, active) === 'won';
  }

  /** Whether `ids` include a majority of the voters. */
  isQuorum(ids: ReadonlySet<NodeId>): boolean {
    let count = 0;
    for (const id of this.voters) if (ids.has(id)) count++;
    return count >= Math.floor(this.voters.length / 2) + 1;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; only the first vote from each voter counts. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    return { granted, rejected, result: majorityVoteResult(this.voters, this.votes) };
  }
}
