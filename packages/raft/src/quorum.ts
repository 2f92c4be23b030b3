// Majority arithmetic: which index a majority has, and whether an election is won (Raft §5.2, §5.3).

import type { NodeId } from './types.js';

export type VoteResult = 'pending' | 'lost' | 'won';

/**
 * The largest index that at least a majority of `voters` have, given each voter's match index
 * (a voter missing from `matchOf` counts as 0). `scratch` avoids an allocation per call.
 */
export function majorityCommittedIndex(
  voters: readonly NodeId[],
  matchOf: (id: NodeId) => number,
  scratch: number[] = [],
): number {
  const n = voters.length;
  if (n === 0) return Number.MAX_SAFE_INTEGER; // An empty config agrees to anything.
  scratch.length = n;
  for (let i = 0; i < n; i++) scratch[i] = matchOf(voters[i] as NodeId);
  // Insertion sort, descending: n is at most a handful and this runs on every acknowledgement.
  for (let i = 1; i < n; i++) {
    const value = scratch[i] as number;
    let j = i - 1;
    while (j >= 0 && (scratch[j] as number) < value) {
      scratch[j + 1] = scratch[j] as number;
      j--;
    }
    scratch[j + 1] = value;
  }
  // The (n/2 + 1)-th largest value is held by a majority.
  return scratch[Math.floor(n / 2)] as number;
}

/** The outcome of an election given the votes seen so far (true = granted). */
export function majorityVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = Math.floor(voters.length / 2) + 1;
  if (granted >= quorum) return 'won';
  if (granted + missing >= quorum) return 'pending';
  return 'lost';
}
