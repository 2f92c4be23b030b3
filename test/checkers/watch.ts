// Holds every watcher to etcd's watch guarantees: ordered, unique, atomic, reliable, resumable,
// and in agreement with the other watchers and the reference (the events read back at the end).

import type { FinalState, Verdict, WatchEvent, WatchRecord } from './history.js';
import { boundedProblems, eventText } from './operation-text.js';

type OpenRecord = Extract<WatchRecord, { type: 'watch-open' }>;
type EventsRecord = Extract<WatchRecord, { type: 'watch-events' }>;
type ClosedRecord = Extract<WatchRecord, { type: 'watch-closed' }>;

interface Session {
  readonly open: OpenRecord;
  readonly messages: EventsRecord[];
  close: ClosedRecord | null;
}

/** The events of each revision, and the revisions in order. */
interface Reference {
  readonly byRevision: ReadonlyMap<number, readonly WatchEvent[]>;
  readonly revisions: readonly number[];
}

const problemsMax = 500;
/** Revisions listed in one gap problem; the count says how many more. */
const gapRevisionsShownMax = 8;

export function checkWatches(records: readonly WatchRecord[], final: FinalState): Verdict {
  const problems: string[] = [];
  const watchers = byWatcher(records, problems);
  const reference = final.events === null ? unionOf(watchers) : referenceOf(final.events);
  let eventsCount = 0;
  let sessionsCount = 0;
  for (const [watcher, sessions] of watchers) {
    sessionsCount += sessions.length;
    eventsCount += sessions.reduce((n, s) => n + s.messages.reduce((m, message) => m + message.events.length, 0), 0);
    problems.push(...watcherProblems(watcher, sessions, reference, final.events !== null));
  }
  if (final.events === null) problems.push(...disagreements(watchers));
  const against =
    final.events === null
      ? 'against each other (no reference: history was compacted, so gaps were not checked)'
      : `against the reference (${final.events.length} events up to revision ${final.revision})`;
  const summary =
    `${watchers.size} watchers, ${sessionsCount} sessions (${sessionsCount - watchers.size} resumes), ${eventsCount} events checked ${against}: ` +
    (problems.length === 0 ? 'ordered, unique, atomic, reliable, resumable, in agreement' : `${problems.length} problems`);
  return { checker: 'watch', ok: problems.length === 0, summary, problems: boundedProblems(problems, problemsMax) };
}

/** Each watcher's sessions, in order: a watch-open and what followed it. */
function byWatcher(records: readonly WatchRecord[], problems: string[]): Map<string, Session[]> {
  const watchers = new Map<string, Session[]>();
  for (const record of records) {
    const sessions = watchers.get(record.watcher) ?? [];
    watchers.set(record.watcher, sessions);
    const current = sessions[sessions.length - 1];
    if (record.type === 'watch-open') {
      sessions.push({ open: record, messages: [], close: null });
    } else if (current === undefined || current.close !== null) {
      problems.push(`watcher ${record.watcher}: ${record.type} at ${record.atMs.toFixed(3)} ms outside any watch (no watch-open before it since the last close)`);
    } else if (record.type === 'watch-events') {
      current.messages.push(record);
    } else {
      current.close = record;
    }
  }
  for (const [watcher, sessions] of watchers) if (sessions.length === 0) watchers.delete(watcher);
  return watchers;
}

function referenceOf(events: readonly WatchEvent[]): Reference {
  const byRevision = new Map<number, WatchEvent[]>();
  for (const event of events) {
    const list = byRevision.get(event.modRevision);
    if (list === undefined) byRevision.set(event.modRevision, [event]);
    else list.push(event);
  }
  return { byRevision, revisions: [...byRevision.keys()].sort((a, b) => a - b) };
}

/** Without a reference: every (revision, key) any watcher saw, first seen first. */
function unionOf(watchers: ReadonlyMap<string, readonly Session[]>): Reference {
  const seen = new Map<string, WatchEvent>();
  for (const sessions of watchers.values()) {
    for (const session of sessions) for (const message of session.messages) for (const event of message.events) seen.set(eventId(event), seen.get(eventId(event)) ?? event);
  }
  return referenceOf([...seen.values()]);
}

function eventId(event: WatchEvent): string {
  return `${event.modRevision}\u0000${event.key}`;
}

/** etcd's range: rangeEnd '' is the key alone, '\0' every key from it on. (UTF-16 order: keys are ASCII.) */
function inRange(key: string, open: OpenRecord): boolean {
  if (open.rangeEnd === '') return key === open.key;
  if (open.rangeEnd === '\u0000') return key >= open.key;
  return key >= open.key && key < open.rangeEnd;
}

function sameEvent(a: WatchEvent, b: WatchEvent): boolean {
  return a.type === b.type && a.key === b.key && a.value === b.value && a.modRevision === b.modRevision && a.createRevision === b.createRevision && a.version === b.version;
}

/** What one watcher saw, across its sessions, for the checks that follow. */
interface Seen {
  /** (revision, key) → the event. */
  readonly events: Map<string, WatchEvent>;
  /** revision → the message (a running count over the watcher's messages) it arrived in. */
  readonly messageOf: Map<number, number>;
  maxRevision: number;
}

/** `trusted`: the reference is the events read back at the end, not the union of the watchers. */
function watcherProblems(watcher: string, sessions: readonly Session[], reference: Reference, trusted: boolean): string[] {
  const problems: string[] = [];
  const seen: Seen = { events: new Map(), messageOf: new Map(), maxRevision: 0 };
  let messageCount = 0;
  sessions.forEach((session, i) => {
    const { open } = session;
    const where = `watcher ${watcher} (watch ${i + 1}, opened on master ${open.master} from revision ${open.startRevision})`;
    const previous = sessions[i - 1];
    if (previous !== undefined) problems.push(...resumeProblems(where, previous, open, seen.maxRevision));
    const received = new Map<number, Set<string>>();
    for (const message of session.messages) {
      messageCount++;
      for (const event of message.events) {
        const problem = eventProblem(where, event, open, seen, messageCount, trusted ? reference : null);
        if (problem !== null) problems.push(problem);
        if (!received.has(event.modRevision)) received.set(event.modRevision, new Set());
        received.get(event.modRevision)!.add(event.key);
      }
    }
    problems.push(...incompleteRevisions(where, open, received, reference));
    if (trusted) problems.push(...gaps(where, open, received, seen, reference));
  });
  return problems;
}

/** A resume asks for the revision after the last one seen (or, after a compaction, up to the compact revision). */
function resumeProblems(where: string, previous: Session, open: OpenRecord, lastSeen: number): string[] {
  const expected = lastSeen > 0 ? lastSeen + 1 : previous.open.startRevision;
  // Nothing seen yet of a watch from "now" (revision 0): there is no right revision to ask for.
  if (expected <= 0) return [];
  const compactedTo = previous.close?.compactRevision ?? 0;
  if (open.startRevision < expected) {
    return [`${where}: resumed from revision ${open.startRevision}, but it had seen up to ${lastSeen}: it asks again for revisions it saw (resumable)`];
  }
  if (open.startRevision > Math.max(expected, compactedTo)) {
    return [`${where}: resumed from revision ${open.startRevision}, but it had seen up to ${lastSeen}: revisions ${expected}–${open.startRevision - 1} were never asked for (resumable)`];
  }
  return [];
}

/**
 * Range, resumability, uniqueness, order, atomicity across messages, agreement with the reference
 * (when there is one): one problem at most per event.
 */
function eventProblem(where: string, event: WatchEvent, open: OpenRecord, seen: Seen, message: number, reference: Reference | null): string | null {
  const revision = event.modRevision;
  const at = `revision ${revision}, key ${JSON.stringify(event.key)}`;
  const id = eventId(event);
  if (seen.events.has(id)) return `${where}: ${at}: duplicate: seen before (unique)`;
  const previousMessage = seen.messageOf.get(revision);
  const maxBefore = seen.maxRevision;
  seen.events.set(id, event);
  seen.messageOf.set(revision, message);
  seen.maxRevision = Math.max(seen.maxRevision, revision);
  if (!inRange(event.key, open)) return `${where}: ${at}: outside the watched range [${JSON.stringify(open.key)}, ${JSON.stringify(open.rangeEnd)})`;
  if (open.startRevision > 0 && revision < open.startRevision) return `${where}: ${at}: before the revision the watch started from (resumable)`;
  if (revision < maxBefore) return `${where}: ${at}: arrived after revision ${maxBefore} (ordered)`;
  if (previousMessage !== undefined && previousMessage !== message) return `${where}: ${at}: revision ${revision} split across two messages (atomic)`;
  if (reference === null) return null;
  const expected = reference.byRevision.get(revision)?.find((e) => e.key === event.key);
  if (expected === undefined) return `${where}: ${at}: ${eventText(event)} is not in the reference (agreement)`;
  if (!sameEvent(expected, event)) return `${where}: ${at}: saw ${eventText(event)}, the reference has ${eventText(expected)} (agreement)`;
  return null;
}

/** Every event of a received revision in the watched range arrives with it (atomic). */
function incompleteRevisions(where: string, open: OpenRecord, received: ReadonlyMap<number, ReadonlySet<string>>, reference: Reference): string[] {
  const problems: string[] = [];
  for (const [revision, keys] of received) {
    const missing = (reference.byRevision.get(revision) ?? []).filter((e) => inRange(e.key, open) && !keys.has(e.key));
    if (missing.length === 0) continue;
    const names = missing.map((e) => JSON.stringify(e.key)).join(', ');
    problems.push(`${where}: revision ${revision}: got ${[...keys].map((k) => JSON.stringify(k)).join(', ')} but not ${names}, which the same revision changed in its range (atomic)`);
  }
  return problems;
}

/** Every revision of the reference that touches the range, from the start to the last one seen, arrives (reliable). */
function gaps(where: string, open: OpenRecord, received: ReadonlyMap<number, ReadonlySet<string>>, seen: Seen, reference: Reference): string[] {
  const receivedRevisions = [...received.keys()];
  if (receivedRevisions.length === 0) return [];
  // A watch from revision 0 starts "now": nothing before its first event can be held against it.
  const fromRevision = open.startRevision > 0 ? open.startRevision : Math.min(...receivedRevisions);
  const toRevision = Math.max(...receivedRevisions);
  const missing: { revision: number; keys: string[] }[] = [];
  for (let i = lowerBound(reference.revisions, fromRevision); i < reference.revisions.length; i++) {
    const revision = reference.revisions[i]!;
    if (revision > toRevision) break;
    if (seen.messageOf.has(revision)) continue;
    const keys = (reference.byRevision.get(revision) ?? []).filter((e) => inRange(e.key, open)).map((e) => e.key);
    if (keys.length > 0) missing.push({ revision, keys });
  }
  if (missing.length === 0) return [];
  const shown = missing
    .slice(0, gapRevisionsShownMax)
    .map(({ revision, keys }) => `${revision} (${keys.map((k) => JSON.stringify(k)).join(', ')})`)
    .join(', ');
  const more = missing.length > gapRevisionsShownMax ? ` and ${missing.length - gapRevisionsShownMax} more` : '';
  return [`${where}: missed ${missing.length} revisions in its range between ${fromRevision} and ${toRevision}: ${shown}${more} (reliable)`];
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Without a reference: watchers that saw the same (revision, key) saw the same event. */
function disagreements(watchers: ReadonlyMap<string, readonly Session[]>): string[] {
  const versions = new Map<string, { event: WatchEvent; watchers: string[] }[]>();
  for (const [watcher, sessions] of watchers) {
    for (const session of sessions) {
      for (const message of session.messages) {
        for (const event of message.events) {
          const known = versions.get(eventId(event)) ?? [];
          versions.set(eventId(event), known);
          const same = known.find((v) => sameEvent(v.event, event));
          if (same === undefined) known.push({ event, watchers: [watcher] });
          else if (!same.watchers.includes(watcher)) same.watchers.push(watcher);
        }
      }
    }
  }
  const problems: string[] = [];
  for (const known of versions.values()) {
    if (known.length < 2) continue;
    const first = known[0]!.event;
    const accounts = known.map((v) => `${v.watchers.join(', ')} saw ${eventText(v.event)}`).join('; ');
    problems.push(`revision ${first.modRevision}, key ${JSON.stringify(first.key)}: watchers disagree: ${accounts} (agreement)`);
  }
  return problems;
}
