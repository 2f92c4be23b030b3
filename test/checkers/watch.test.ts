// The watch checker: clean watchers with resumes pass (against the reference and without one);
// gaps, reorders, duplicates, split or partial revisions, disagreements and bad resumes fail,
// each named by watcher, revision and key.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FinalState, WatchEvent, WatchRecord } from './history.js';
import { checkWatches } from './watch.js';

function put(modRevision: number, key: string, value: string, createRevision = modRevision, version = 1): WatchEvent {
  return { type: 'PUT', key, value, modRevision, createRevision, version };
}

// Revision 3 is a transaction that changed two keys.
const reference: readonly WatchEvent[] = [
  put(1, 'a', 'a1'),
  put(2, 'b', 'b1'),
  put(3, 'a', 'a2', 1, 2),
  put(3, 'b', 'b2', 2, 2),
  put(4, 'c', 'c1'),
  put(5, 'a', 'a3', 1, 3),
  put(6, 'b', 'b3', 2, 3),
];
const at = (revision: number): WatchEvent[] => reference.filter((e) => e.modRevision === revision);

let clockMs = 0;
const open = (watcher: string, startRevision: number, key = 'a', rangeEnd = 'z'): WatchRecord => ({ type: 'watch-open', watcher, master: 1, key, rangeEnd, startRevision, atMs: clockMs++ });
const message = (watcher: string, ...events: WatchEvent[]): WatchRecord => ({ type: 'watch-events', watcher, events, atMs: clockMs++ });
const closed = (watcher: string, compactRevision?: number): WatchRecord => ({
  type: 'watch-closed',
  watcher,
  reason: compactRevision === undefined ? 'connection lost' : 'compacted',
  ...(compactRevision === undefined ? {} : { compactRevision }),
  atMs: clockMs++,
});

const withReference: FinalState = { values: new Map(), revision: 6, events: reference };
const compacted: FinalState = { values: new Map(), revision: 6, events: null };

/** w1 resumes once; w2 watches only key 'a'; w3 gets several revisions per message. */
const clean: readonly WatchRecord[] = [
  open('w1', 1),
  open('w2', 3, 'a', 'b'),
  message('w1', ...at(1)),
  message('w2', ...at(3).filter((e) => e.key === 'a')),
  message('w1', ...at(2)),
  message('w1', ...at(3)),
  closed('w1'),
  open('w3', 1),
  message('w3', ...at(1), ...at(2), ...at(3), ...at(4)),
  open('w1', 4),
  message('w1', ...at(4), ...at(5)),
  message('w2', ...at(5)),
  closed('w3'),
  open('w3', 5),
  message('w3', ...at(5), ...at(6)),
  message('w1', ...at(6)),
];

function problemsOf(records: readonly WatchRecord[], final = withReference): readonly string[] {
  return checkWatches(records, final).problems;
}

describe('clean watchers', () => {
  it('pass with resumes, ranges and several revisions per message, against the reference', () => {
    const verdict = checkWatches(clean, withReference);
    expect(verdict.problems).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.summary).toMatch(/^3 watchers, 5 sessions \(2 resumes\), 16 events checked against the reference \(7 events up to revision 6\): ordered, unique/);
  });

  it('pass without a reference, and the summary says gaps were not checked', () => {
    const verdict = checkWatches(clean, compacted);
    expect(verdict.ok).toBe(true);
    expect(verdict.summary).toContain('no reference: history was compacted, so gaps were not checked');
  });

  it('may skip what was compacted away when resuming after a compaction', () => {
    const records = [open('w', 1), message('w', ...at(1)), message('w', ...at(2)), message('w', ...at(3)), closed('w', 5), open('w', 5), message('w', ...at(5), ...at(6))];
    expect(problemsOf(records)).toEqual([]);
  });

  it('pass any split of the reference into messages and resumes along revisions', () => {
    const revisions = [1, 2, 3, 4, 5, 6];
    fc.assert(
      fc.property(fc.array(fc.constantFrom('next', 'message', 'resume'), { minLength: 6, maxLength: 20 }), (script) => {
        const records: WatchRecord[] = [open('w', 1)];
        let pending: WatchEvent[] = [];
        let next = 0;
        for (const step of script) {
          if (step === 'next' && next < revisions.length) pending.push(...at(revisions[next++]!));
          if (step === 'message' && pending.length > 0) {
            records.push(message('w', ...pending));
            pending = [];
          }
          if (step === 'resume') {
            // Whatever was not delivered is asked for again.
            next -= new Set(pending.map((e) => e.modRevision)).size;
            pending = [];
            records.push(closed('w'), open('w', (revisions[next - 1] ?? 0) + 1));
          }
        }
        expect(problemsOf(records)).toEqual([]);
        // Losing any event of a revision before the last one delivered is noticed.
        const delivered = records.flatMap((r) => (r.type === 'watch-events' ? r.events : []));
        const lastRevision = Math.max(0, ...delivered.map((e) => e.modRevision));
        const victim = delivered.find((e) => e.modRevision < lastRevision);
        if (victim === undefined) return;
        const broken = records.map((r) => (r.type === 'watch-events' ? { ...r, events: r.events.filter((e) => e !== victim) } : r));
        expect(problemsOf(broken).join('\n')).toMatch(new RegExp(`revision.* ${victim.modRevision}\\b`));
      }),
    );
  });
});

describe('broken watchers', () => {
  it('fail a gap, naming watcher, revision and key', () => {
    const problems = problemsOf([open('w', 1), message('w', ...at(1)), message('w', ...at(3)), message('w', ...at(4))]);
    expect(problems).toEqual(['watcher w (watch 1, opened on master 1 from revision 1): missed 1 revisions in its range between 1 and 4: 2 ("b") (reliable)']);
  });

  it('fail a gap across a resume that continued correctly but lost a revision', () => {
    const problems = problemsOf([open('w', 1), message('w', ...at(1)), closed('w'), open('w', 2), message('w', ...at(3))]);
    expect(problems).toEqual(['watcher w (watch 2, opened on master 1 from revision 2): missed 1 revisions in its range between 2 and 3: 2 ("b") (reliable)']);
  });

  it('fail a reorder', () => {
    const problems = problemsOf([open('w', 1), message('w', ...at(2)), message('w', ...at(1))]);
    expect(problems).toContain('watcher w (watch 1, opened on master 1 from revision 1): revision 1, key "a": arrived after revision 2 (ordered)');
  });

  it('fail a duplicate event', () => {
    const problems = problemsOf([open('w', 1), message('w', ...at(1)), message('w', ...at(1)), message('w', ...at(2))]);
    expect(problems).toEqual(['watcher w (watch 1, opened on master 1 from revision 1): revision 1, key "a": duplicate: seen before (unique)']);
  });

  it('fail a revision split across two messages, and one that never arrives whole', () => {
    const split = problemsOf([open('w', 1), message('w', ...at(1), ...at(2)), message('w', at(3)[0]!), message('w', at(3)[1]!)]);
    expect(split).toEqual(['watcher w (watch 1, opened on master 1 from revision 1): revision 3, key "b": revision 3 split across two messages (atomic)']);
    const partial = problemsOf([open('w', 1), message('w', ...at(1), ...at(2)), message('w', at(3)[0]!), message('w', ...at(4))]);
    expect(partial).toEqual(['watcher w (watch 1, opened on master 1 from revision 1): revision 3: got "a" but not "b", which the same revision changed in its range (atomic)']);
  });

  it('fail a watcher that disagrees with the reference, or with another watcher when there is none', () => {
    const wrong = put(5, 'a', 'WRONG', 1, 3);
    const records = [open('w1', 5), message('w1', ...at(5)), open('w2', 5), message('w2', wrong)];
    expect(problemsOf(records)).toEqual([
      'watcher w2 (watch 1, opened on master 1 from revision 5): revision 5, key "a": saw PUT "a"="WRONG" (mod 5, create 1, version 3), the reference has PUT "a"="a3" (mod 5, create 1, version 3) (agreement)',
    ]);
    expect(problemsOf(records, compacted)).toEqual([
      'revision 5, key "a": watchers disagree: w1 saw PUT "a"="a3" (mod 5, create 1, version 3); w2 saw PUT "a"="WRONG" (mod 5, create 1, version 3) (agreement)',
    ]);
    expect(problemsOf([open('w', 1), message('w', put(1, 'a', 'a1'), put(1, 'zz', 'phantom'))])).toEqual([
      'watcher w (watch 1, opened on master 1 from revision 1): revision 1, key "zz": outside the watched range ["a", "z")',
    ]);
    expect(problemsOf([open('w', 1), message('w', put(1, 'a', 'a1'), put(1, 'y', 'phantom'))])).toEqual([
      'watcher w (watch 1, opened on master 1 from revision 1): revision 1, key "y": PUT "y"="phantom" (mod 1, create 1, version 1) is not in the reference (agreement)',
    ]);
  });

  it('fail a resume from the wrong revision, in either direction, and events before the start', () => {
    const skipped = problemsOf([open('w', 1), message('w', ...at(1), ...at(2), ...at(3)), closed('w'), open('w', 5), message('w', ...at(5))]);
    expect(skipped).toEqual(['watcher w (watch 2, opened on master 1 from revision 5): resumed from revision 5, but it had seen up to 3: revisions 4–4 were never asked for (resumable)']);
    const repeated = problemsOf([open('w', 1), message('w', ...at(1), ...at(2), ...at(3)), closed('w'), open('w', 3), message('w', ...at(4))]);
    expect(repeated).toEqual(['watcher w (watch 2, opened on master 1 from revision 3): resumed from revision 3, but it had seen up to 3: it asks again for revisions it saw (resumable)']);
    const early = problemsOf([open('w', 1), message('w', ...at(1), ...at(2)), closed('w'), open('w', 4), message('w', ...at(3), ...at(4))]);
    expect(early).toContain('watcher w (watch 2, opened on master 1 from revision 4): revision 3, key "a": before the revision the watch started from (resumable)');
    expect(early).toContain('watcher w (watch 2, opened on master 1 from revision 4): resumed from revision 4, but it had seen up to 2: revisions 3–3 were never asked for (resumable)');
  });

  it('fail events that arrive outside any watch', () => {
    const problems = problemsOf([open('w', 1), message('w', ...at(1)), closed('w'), message('w', ...at(2))]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^watcher w: watch-events at [\d.]+ ms outside any watch \(no watch-open before it since the last close\)$/);
  });
});
