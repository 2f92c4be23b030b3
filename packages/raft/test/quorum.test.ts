// Quickcheck of the real majority arithmetic against deliberately naive versions written here
// (in the manner of etcd-io/raft quorum/quick_test.go), plus the cases worth naming.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { majorityCommittedIndex, majorityVoteResult, type NodeId, type VoteResult } from '../src/index.js';

/**
 * Naive commit index: try every candidate index, keep the largest that more than half of the
 * voters have reached. Quadratic, obviously right.
 */
function naiveCommittedIndex(voters: readonly NodeId[], match: ReadonlyMap<NodeId, number>): number {
  if (voters.length === 0) return Number.MAX_SAFE_INTEGER;
  const candidates = [0, ...voters.map((id) => match.get(id) ?? 0)];
  let best = 0;
  for (const candidate of candidates) {
    const reached = voters.filter((id) => (match.get(id) ?? 0) >= candidate).length;
    if (2 * reached > voters.length && candidate > best) best = candidate;
  }
  return best;
}

/** Naive election outcome: won with more than half granted, lost once those not against are no majority. */
function naiveVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  const granted = voters.filter((id) => votes.get(id) === true).length;
  const notAgainst = voters.filter((id) => votes.get(id) !== false).length;
  if (2 * granted > voters.length) return 'won';
  if (2 * notAgainst <= voters.length) return 'lost';
  return 'pending';
}

const votersArb = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 0, maxLength: 9 });

describe('majorityCommittedIndex', () => {
  it('agrees with the naive version for any voters and match indexes', () => {
    fc.assert(
      fc.property(
        votersArb,
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 0, max: 5 }),
        (voters, matches, missing) => {
          // Some voters have no entry at all (counted as 0); others may be absent from the voters.
          const match = new Map<NodeId, number>();
          for (let id = 1; id <= 12; id++) if (id > missing) match.set(id, matches[id - 1] as number);
          const scratch: number[] = [99, 98, 97];
          const real = majorityCommittedIndex(voters, (id) => match.get(id) ?? 0, scratch);
          expect(real).toBe(naiveCommittedIndex(voters, match));
        },
      ),
      { seed: 53, numRuns: 2000 },
    );
  });

  it.each([
    { matches: [5], expected: 5 },
    { matches: [5, 3], expected: 3 },
    { matches: [5, 3, 1], expected: 3 },
    { matches: [1, 5, 3, 2], expected: 2 },
    { matches: [9, 9, 1, 1, 1], expected: 1 },
    { matches: [9, 9, 9, 1, 1], expected: 9 },
  ])('with match indexes $matches the commit index is $expected', ({ matches, expected }) => {
    const voters = matches.map((_, i) => i + 1);
    expect(majorityCommittedIndex(voters, (id) => matches[id - 1] ?? 0)).toBe(expected);
  });

  it('an empty voter set agrees to anything', () => {
    expect(majorityCommittedIndex([], () => 0)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('majorityVoteResult', () => {
  it('agrees with the naive version for any voters and votes', () => {
    fc.assert(
      fc.property(
        votersArb,
        fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 12, maxLength: 12 }),
        (voters, ballot) => {
          // Votes from non-voters (ids outside `voters`) must not count.
          const votes = new Map<NodeId, boolean>();
          ballot.forEach((vote, i) => {
            if (vote !== undefined) votes.set(i + 1, vote);
          });
          expect(majorityVoteResult(voters, votes)).toBe(naiveVoteResult(voters, votes));
        },
      ),
      { seed: 96, numRuns: 2000 },
    );
  });

  it.each([
    { voters: [1, 2, 3], votes: [[1, true]], result: 'pending' },
    { voters: [1, 2, 3], votes: [[1, true], [2, true]], result: 'won' },
    { voters: [1, 2, 3], votes: [[1, true], [2, false]], result: 'pending' },
    { voters: [1, 2, 3], votes: [[2, false], [3, false]], result: 'lost' },
    { voters: [1, 2, 3, 4], votes: [[1, true], [2, true]], result: 'pending' },
    { voters: [1, 2, 3, 4], votes: [[3, false], [4, false]], result: 'lost' },
    { voters: [1, 2, 3], votes: [[7, true], [8, true], [1, true]], result: 'pending' },
  ] as Array<{ voters: number[]; votes: Array<[number, boolean]>; result: VoteResult }>)(
    'voters $voters with votes $votes: $result',
    ({ voters, votes, result }) => {
      expect(majorityVoteResult(voters, new Map(votes))).toBe(result);
    },
  );

  it('an empty voter set is won at once', () => {
    expect(majorityVoteResult([], new Map())).toBe('won');
  });
});
