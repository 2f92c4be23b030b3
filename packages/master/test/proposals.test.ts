// Proposals settle exactly: applied with their result when their index is applied in their term,
// refused as lost (not applied, safe to retry) when another term's entry takes the index, timed
// out (outcome unknown) past their deadline, and refused at once past the bound.

import { describe, expect, test } from 'vitest';
import { MasterErrorCode } from '../src/errors.js';
import { ProposalTracker } from '../src/proposals.js';

const data = new Uint8Array([1]);

describe('ProposalTracker', () => {
  test('a proposal resolves with its result when its index is applied in the term it was appended in', async () => {
    const tracker = new ProposalTracker<string>(1, 10, 1_000);
    const applied = tracker.add(data, 0);
    tracker.proposeQueued(0, () => ({ index: 7, term: 2 }));
    tracker.applied(6, 2, 'not ours', 1);
    tracker.applied(7, 2, 'ours', 1);
    await expect(applied).resolves.toEqual({ index: 7, term: 2, result: 'ours' });
    expect(tracker.size).toBe(0);
  });

  test('another term at its index means it was lost: refused as MASTER_PROPOSAL_LOST, naming the leader', async () => {
    const tracker = new ProposalTracker<string>(1, 10, 1_000);
    const applied = tracker.add(data, 0);
    tracker.proposeQueued(0, () => ({ index: 7, term: 2 }));
    tracker.applied(7, 3, 'another leader’s entry', 2);
    await expect(applied).rejects.toMatchObject({ code: MasterErrorCode.ProposalLost, details: { leader: 2 } });
  });

  test('a refusal by the core is passed on, and nothing is left waiting', async () => {
    const tracker = new ProposalTracker<string>(1, 10, 1_000);
    const applied = tracker.add(data, 0);
    const refusal = new Error('not the leader');
    tracker.proposeQueued(0, () => {
      throw refusal;
    });
    await expect(applied).rejects.toBe(refusal);
    expect(tracker.size).toBe(0);
  });

  test('past the deadline, queued and appended proposals time out, oldest first, and later ones stay', async () => {
    const tracker = new ProposalTracker<string>(1, 10, 100);
    const early = tracker.add(data, 0);
    tracker.proposeQueued(0, () => ({ index: 1, term: 1 }));
    const late = tracker.add(data, 50);
    tracker.proposeQueued(50, () => ({ index: 2, term: 1 }));
    tracker.expire(120, 3);
    await expect(early).rejects.toMatchObject({ code: MasterErrorCode.ProposalTimeout, details: { leader: 3 } });
    expect(tracker.size).toBe(1);
    tracker.applied(2, 1, 'done', 1);
    await expect(late).resolves.toMatchObject({ index: 2 });
    const stale = tracker.add(data, 0);
    tracker.proposeQueued(200, () => ({ index: 3, term: 1 }));
    await expect(stale).rejects.toMatchObject({ code: MasterErrorCode.ProposalTimeout });
  });

  test('past the bound, a new proposal is refused at once with MASTER_OVERLOADED', async () => {
    const tracker = new ProposalTracker<string>(1, 2, 1_000);
    void tracker.add(data, 0);
    void tracker.add(data, 0);
    await expect(tracker.add(data, 0)).rejects.toMatchObject({ code: MasterErrorCode.Overloaded });
    expect(tracker.size).toBe(2);
  });

  test('rejectAll fails everything waiting, queued or appended', async () => {
    const tracker = new ProposalTracker<string>(1, 10, 1_000);
    const a = tracker.add(data, 0);
    tracker.proposeQueued(0, () => ({ index: 1, term: 1 }));
    const b = tracker.add(data, 0);
    const stop = new Error('stopping');
    tracker.rejectAll(stop);
    await expect(a).rejects.toBe(stop);
    await expect(b).rejects.toBe(stop);
    expect(tracker.size).toBe(0);
  });
});
