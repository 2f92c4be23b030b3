// When an idle leader sends followers a commit index that no append has carried (with
// raft.deferCommitBroadcast): a fixed delay after the loop first went idle with the newest such
// commit index. Under a steady stream of writes each commit index rides on the next append, and a
// deadline left over from an older commit index would send every other one on its own. Pure: the
// caller passes the time (performance.now()) and runs the timer.

export class CommitBroadcastClock {
  private commit = 0;
  private idleSinceMs = 0;

  constructor(readonly delayMs: number) {}

  /** The loop went idle at `nowMs` with `commit` unsent to some follower. */
  idle(commit: number, nowMs: number): void {
    if (commit === this.commit) return;
    this.commit = commit;
    this.idleSinceMs = nowMs;
  }

  /** How long from `nowMs` until the newest unsent commit index is due: 0 means send it now. */
  remainingMs(nowMs: number): number {
    return Math.max(0, this.delayMs - (nowMs - this.idleSinceMs));
  }
}
