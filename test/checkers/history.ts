// The records a chaos run writes (history.jsonl in the run's folder) and the checkers read.
// Times are milliseconds on one monotonic clock (performance.now() of the chaos process).

/** A client operation on one key. A client process has at most one operation outstanding. */
export interface Operation {
  readonly type: 'op';
  /** Unique in the history. */
  readonly id: number;
  /** The client worker that ran it (sequential: its operations never overlap). */
  readonly process: number;
  /**
   * The key; its model follows from `kind`:
   * - register keys: `read` (output.value: the value, null when absent), `write` (input.value),
   *   `cas` (input.from → input.to; output.succeeded: whether the compare held);
   * - list keys: `append` (input.value appended to the list; output.value: the list after it, as
   *   the txn that appended read it back, elements joined by ','), `readList` (output.value: the
   *   list, elements joined by ',', '' when empty or absent).
   */
  readonly key: string;
  readonly kind: 'read' | 'write' | 'cas' | 'append' | 'readList';
  readonly input: { readonly value?: string; readonly from?: string | null; readonly to?: string };
  /** Present when outcome is 'ok'. */
  readonly output?: { readonly value?: string | null; readonly succeeded?: boolean };
  readonly invokeMs: number;
  /** When the answer came; for 'unknown', when the client gave up (the effect may land later). */
  readonly completeMs: number;
  /**
   * ok: answered; fail: definitely not applied (e.g. "no leader" before proposing, a refusal);
   * unknown: a timeout or a broken connection, it may or may not have taken effect, at any time
   * after invokeMs.
   */
  readonly outcome: 'ok' | 'fail' | 'unknown';
  /** The master that answered, the revision of the answer, the error: for reading a history. */
  readonly master?: number;
  readonly revision?: number;
  readonly error?: string;
}

/** One event a watcher received (etcd's mvccpb.Event, decoded). */
export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly version: number;
}

/** What happened to one watcher, in the order it happened. */
export type WatchRecord =
  /** A watch was created on `master` for [key, rangeEnd) from `startRevision` (a resume after a break asks for last seen + 1). */
  | { readonly type: 'watch-open'; readonly watcher: string; readonly master: number; readonly key: string; readonly rangeEnd: string; readonly startRevision: number; readonly atMs: number }
  /** One message of events (etcd sends all events of a revision in one message; a message may hold several revisions). */
  | { readonly type: 'watch-events'; readonly watcher: string; readonly events: readonly WatchEvent[]; readonly atMs: number }
  /** The stream broke (connection lost, master killed) or was cancelled; compactRevision when cancelled as compacted. */
  | { readonly type: 'watch-closed'; readonly watcher: string; readonly reason: string; readonly compactRevision?: number; readonly atMs: number };

export type HistoryRecord = Operation | WatchRecord;

/** The state read at the end, once the cluster is healed: every key under the workload's prefixes. */
export interface FinalState {
  /** key → value (list keys hold their elements joined by ','). */
  readonly values: ReadonlyMap<string, string>;
  /** The store's revision it was read at. */
  readonly revision: number;
  /**
   * Every event of the run as one watch from revision 1 on a healthy cluster reads it back (the
   * reference the watchers are held to); null when history was compacted.
   */
  readonly events: readonly WatchEvent[] | null;
}

/** A checker's verdict. */
export interface Verdict {
  readonly checker: string;
  readonly ok: boolean;
  /** One line: what was checked and what was found. */
  readonly summary: string;
  /** Each problem, naming the operations (ids) or watchers and revisions involved. */
  readonly problems: readonly string[];
}
