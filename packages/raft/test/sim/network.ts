// The simulated network between cores: a bag of messages in flight that can drop, duplicate,
// reorder (pick among the oldest `reorderWindow`) and cut links one way or both. All its choices
// come from one seeded generator, so a run replays exactly.

import type { Message, NodeId, Random } from '../../src/index.js';

export interface NetworkFaults {
  /** Chance in percent that a message is lost on delivery. */
  readonly dropPercent: number;
  /** Chance in percent that a delivered message is also left in flight to arrive again later. */
  readonly duplicatePercent: number;
  /** 1 delivers in send order; N picks among the N oldest messages in flight. */
  readonly reorderWindow: number;
  /** Chance in percent that a message is held back for 1 to `delayTicksMax` ticks. */
  readonly delayPercent?: number;
  readonly delayTicksMax?: number;
}

export const RELIABLE: NetworkFaults = { dropPercent: 0, duplicatePercent: 0, reorderWindow: 1 };

interface InFlight {
  readonly m: Message;
  /** The tick from which it may be delivered. */
  readonly dueTick: number;
}

export class SimNetwork {
  private inFlight: InFlight[] = [];
  /** The simulation's current tick, which delays are measured against. */
  now = 0;
  private readonly cut = new Set<string>();
  faults: NetworkFaults = RELIABLE;
  /** Bound on messages in flight; the oldest are lost past it (a real network has finite buffers). */
  readonly inFlightMax = 5_000;
  sent = 0;
  delivered = 0;

  constructor(private readonly random: Random) {}

  get size(): number {
    return this.inFlight.length;
  }

  send(m: Message): void {
    this.sent++;
    if (this.isCut(m.from, m.to)) return;
    this.inFlight.push({ m, dueTick: this.now + this.delayTicks() });
    if (this.inFlight.length > this.inFlightMax) this.inFlight.shift();
  }

  private delayTicks(): number {
    const percent = this.faults.delayPercent ?? 0;
    if (percent === 0 || this.random.int(100) >= percent) return 0;
    return 1 + this.random.int(Math.max(1, this.faults.delayTicksMax ?? 1));
  }

  /** Messages that may be delivered now. */
  dueCount(): number {
    let due = 0;
    for (const f of this.inFlight) if (f.dueTick <= this.now) due++;
    return due;
  }

  /**
   * Takes the next message to deliver (one of the `reorderWindow` oldest that are due), or null
   * when none is due. A message lost on the way returns 'dropped'.
   */
  take(): Message | 'dropped' | null {
    const window = Math.max(1, this.faults.reorderWindow);
    const candidates: number[] = [];
    for (let i = 0; i < this.inFlight.length && candidates.length < window; i++) {
      if ((this.inFlight[i] as InFlight).dueTick <= this.now) candidates.push(i);
    }
    if (candidates.length === 0) return null;
    const at = candidates[candidates.length === 1 ? 0 : this.random.int(candidates.length)] as number;
    const { m } = this.inFlight[at] as InFlight;
    this.inFlight.splice(at, 1);
    if (this.isCut(m.from, m.to)) return 'dropped';
    if (this.faults.dropPercent > 0 && this.random.int(100) < this.faults.dropPercent) return 'dropped';
    if (this.faults.duplicatePercent > 0 && this.random.int(100) < this.faults.duplicatePercent) {
      this.inFlight.push({ m, dueTick: this.now + this.delayTicks() });
    }
    this.delivered++;
    return m;
  }

  /** Loses everything `from` sent that is still in flight (its machine died with its buffers). */
  dropFrom(from: NodeId): void {
    this.inFlight = this.inFlight.filter((f) => f.m.from !== from);
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** No message crosses between groups; nodes in no group are cut off from everyone. */
  partition(ids: readonly NodeId[], groups: readonly (readonly NodeId[])[]): void {
    this.cut.clear();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, g) => group.forEach((id) => groupOf.set(id, g)));
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        const ga = groupOf.get(a);
        if (ga === undefined || ga !== groupOf.get(b)) this.cutLink(a, b);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Discards everything in flight (used when the whole cluster restarts). */
  clear(): void {
    this.inFlight = [];
  }
}
