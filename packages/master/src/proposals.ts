// Proposals waiting for their entries to be applied. The leader learns from the core where each
// proposal lands (index and term); when that index is applied the proposal is settled exactly:
// the same term means it was applied (with its result), another term means another leader's entry
// took the index and ours never will be applied (DESIGN: followers forward; only leaders propose).

import { MasterError, MasterErrorCode } from './errors.js';

export interface Proposal<R> {
  readonly data: Uint8Array;
  readonly deadline: number;
  readonly resolve: (outcome: Applied<R>) => void;
  readonly reject: (error: Error) => void;
}

export interface Applied<R> {
  readonly index: number;
  readonly term: number;
  readonly result: R;
}

interface Appended<R> extends Proposal<R> {
  readonly index: number;
  readonly term: number;
}

export class ProposalTracker<R> {
  /** Waiting for the loop to propose them. */
  private queued: Proposal<R>[] = [];
  /** Appended by this master as leader and not yet applied, by log index (so oldest first). */
  private readonly appended = new Map<number, Appended<R>>();

  constructor(
    private readonly master: number,
    /** Bound on queued + appended; past it new proposals are refused (429). */
    private readonly pendingMax: number,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.queued.length + this.appended.size;
  }

  hasQueued(): boolean {
    return this.queued.length > 0;
  }

  /** Queues `data`; resolves once applied. Refuses at once past the bound. */
  add(data: Uint8Array, now: number): Promise<Applied<R>> {
    if (this.size >= this.pendingMax) {
      return Promise.reject(
        new MasterError(MasterErrorCode.Overloaded, `master ${this.master}: ${this.pendingMax} proposals are already waiting (api.pendingProposalsMax)`),
      );
    }
    return new Promise<Applied<R>>((resolve, reject) => {
      this.queued.push({ data, deadline: now + this.timeoutMs, resolve, reject });
    });
  }

  /** Hands the queued proposals to `propose`, which returns where each landed or throws (refused). */
  proposeQueued(now: number, propose: (data: Uint8Array) => { index: number; term: number }): void {
    const queued = this.queued;
    this.queued = [];
    for (const p of queued) {
      if (p.deadline <= now) {
        p.reject(this.timeoutError(null));
        continue;
      }
      try {
        const { index, term } = propose(p.data);
        this.appended.set(index, { ...p, index, term });
      } catch (error) {
        p.reject(error as Error);
      }
    }
  }

  /** The entry at `index` (of `term`) was applied with `result`. */
  applied(index: number, term: number, result: R, leader: number): void {
    const p = this.appended.get(index);
    if (p === undefined) return;
    this.appended.delete(index);
    if (term === p.term) {
      p.resolve({ index, term, result });
      return;
    }
    p.reject(
      new MasterError(
        MasterErrorCode.ProposalLost,
        `master ${this.master}: the leader changed before the proposal at ${index} (term ${p.term}) committed; it was not applied`,
        { leader },
      ),
    );
  }

  /** Fails proposals past their deadline (a coarse timer calls this); they may still take effect. */
  expire(now: number, leader: number): void {
    for (const [index, p] of this.appended) {
      if (p.deadline > now) break;
      this.appended.delete(index);
      p.reject(this.timeoutError(leader));
    }
  }

  /** Fails everything (shutdown): the outcome of what was appended is unknown. */
  rejectAll(error: Error): void {
    for (const p of this.queued) p.reject(error);
    for (const p of this.appended.values()) p.reject(error);
    this.queued = [];
    this.appended.clear();
  }

  private timeoutError(leader: number | null): MasterError {
    return new MasterError(
      MasterErrorCode.ProposalTimeout,
      `master ${this.master}: proposal not applied within ${this.timeoutMs} ms; it may still take effect`,
      leader === null ? {} : { leader },
    );
  }
}
