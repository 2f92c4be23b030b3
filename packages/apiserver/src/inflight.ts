// Fairness under load: each user may have a bounded number of requests in flight, and the server
// as a whole too. A client flooding the server gets 429 with Retry-After instead of slowing
// everyone else (a simple form of Kubernetes' max-requests-inflight and priority and fairness).
// Long-running requests (watches) are not counted: they are bounded by the watch hub.

import { tooManyRequestsError } from '@raftplane/api';

export interface InflightLimits {
  readonly perUserMax: number;
  readonly totalMax: number;
}

export class InflightLimiter {
  private total = 0;
  private readonly byUser = new Map<string, number>();
  /** Refusals so far, by reason, for status and tests. */
  readonly refused = { user: 0, total: 0 };

  constructor(private readonly limits: InflightLimits) {}

  /** Takes a slot for `user`, or throws 429; the returned function gives it back (once). */
  acquire(user: string): () => void {
    const mine = this.byUser.get(user) ?? 0;
    if (mine >= this.limits.perUserMax) {
      this.refused.user++;
      throw tooManyRequestsError(`too many requests from user ${JSON.stringify(user)}: ${mine} in flight (at most ${this.limits.perUserMax}); please try again later`, 1);
    }
    if (this.total >= this.limits.totalMax) {
      this.refused.total++;
      throw tooManyRequestsError(`the server has too many requests in flight (${this.total}); please try again later`, 1);
    }
    this.total++;
    this.byUser.set(user, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byUser.get(user) ?? 1) - 1;
      if (left === 0) this.byUser.delete(user);
      else this.byUser.set(user, left);
    };
  }

  inFlight(): number {
    return this.total;
  }
}
