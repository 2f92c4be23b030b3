// The nemesis: faults from a seeded schedule, each injected, held a while, then healed. Process
// faults go through ClusterControl (SIGKILL then restart, SIGSTOP then SIGCONT, a rolling
// SIGTERM restart); network faults through the FaultProxy on every peer link.

import type { Random } from '@raftplane/raft';
import type { ClusterControl } from '../../scripts/lib/cluster-control.js';
import type { FaultProxy } from './fault-proxy.js';
import type { Recorder } from './recorder.js';

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'restart'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface NemesisOptions {
  readonly kinds: readonly FaultKind[];
  /** Quiet time between faults, ms: [min, max). */
  readonly quietMs: readonly [number, number];
  /** How long a fault is held before it is healed, ms: [min, max). */
  readonly holdMs: readonly [number, number];
  /** When set, a second fault may start while one is held (on other masters). */
  readonly overlap: boolean;
}

/** What a fault did, so that it can be undone. */
interface Injected {
  readonly kind: FaultKind;
  readonly detail: string;
  readonly masters: readonly number[];
  heal(): Promise<void>;
}

export class Nemesis {
  readonly counts = new Map<string, number>();
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly held = new Set<Injected>();
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly control: ClusterControl,
    private readonly proxy: FaultProxy,
    private readonly random: Random,
    private readonly recorder: Recorder,
    private readonly options: NemesisOptions,
    /** The current leader's id (0 when none is known). */
    private readonly leader: () => number,
  ) {}

  start(): void {
    this.running = this.schedule();
  }

  /** Stops scheduling and heals everything held. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    await this.running;
    for (const injected of [...this.held]) await this.heal(injected);
  }

  private between([min, max]: readonly [number, number]): number {
    return min + this.random.int(Math.max(1, max - min));
  }

  /** Sleeps `ms`, or until stop(): the schedule and every held fault sleep at once. */
  private async sleep(ms: number): Promise<void> {
    if (this.stopped) return;
    let wake = (): void => undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.sleepers.add(wake);
    });
    this.sleepers.delete(wake);
  }

  private async schedule(): Promise<void> {
    const pending: Promise<void>[] = [];
    while (!this.stopped) {
      await this.sleep(this.between(this.options.quietMs));
      if (this.stopped) break;
      const busy = new Set([...this.held].flatMap((h) => h.masters));
      if (busy.size > 0 && !this.options.overlap) continue;
      const kind = this.options.kinds[this.random.int(this.options.kinds.length)] as FaultKind;
      // A rolling restart or a network fault touches every master: never on top of another fault.
      if (busy.size > 0 && (kind === 'restart' || kind === 'partition')) continue;
      const injected = await this.inject(kind, busy);
      if (injected === null) continue;
      this.held.add(injected);
      this.counts.set(injected.kind, (this.counts.get(injected.kind) ?? 0) + 1);
      const hold = this.between(this.options.holdMs);
      const healing = (async () => {
        await this.sleep(hold);
        if (this.held.has(injected)) await this.heal(injected);
      })();
      if (this.options.overlap) pending.push(healing);
      else await healing;
    }
    await Promise.all(pending);
  }

  private async heal(injected: Injected): Promise<void> {
    this.held.delete(injected);
    await injected.heal();
    this.recorder.add({ type: 'fault', atMs: this.recorder.now(), phase: 'end', fault: injected.kind, detail: injected.detail });
  }

  private record(kind: FaultKind, detail: string): void {
    this.recorder.add({ type: 'fault', atMs: this.recorder.now(), phase: 'start', fault: kind, detail });
  }

  /** A master to hit: the leader half of the time (when known and free), otherwise any free one. */
  private target(busy: ReadonlySet<number>): number | null {
    const free = this.control.ids().filter((id) => !busy.has(id));
    if (free.length === 0) return null;
    const leader = this.leader();
    if (leader !== 0 && free.includes(leader) && this.random.int(2) === 0) return leader;
    return free[this.random.int(free.length)] as number;
  }

  private async inject(kind: FaultKind, busy: ReadonlySet<number>): Promise<Injected | null> {
    const ids = this.control.ids();
    switch (kind) {
      case 'kill': {
        const id = this.target(busy);
        if (id === null) return null;
        const detail = `SIGKILL master ${id}${id === this.leader() ? ' (leader)' : ''}, restart when healed`;
        this.record(kind, detail);
        await this.control.kill(id);
        return { kind, detail, masters: [id], heal: async () => void (await this.control.start(id)) };
      }
      case 'pause': {
        const id = this.target(busy);
        if (id === null) return null;
        const detail = `SIGSTOP master ${id}${id === this.leader() ? ' (leader)' : ''}, SIGCONT when healed`;
        this.record(kind, detail);
        await this.control.signal(id, 'SIGSTOP');
        return { kind, detail, masters: [id], heal: async () => void (await this.control.signal(id, 'SIGCONT')) };
      }
      case 'partition': {
        const detail = this.partition(ids);
        this.record(kind, detail);
        return { kind, detail, masters: ids, heal: async () => this.proxy.heal() };
      }
      case 'restart': {
        const detail = `rolling restart of masters ${ids.join(', ')} (SIGTERM, start, next once a leader is back)`;
        this.record(kind, detail);
        for (const id of ids) {
          if (this.stopped) break;
          await this.control.stop(id);
          await this.control.start(id);
          await this.control.waitFor(`a leader after restarting master ${id}`, (s) => [...s.values()].filter((x) => x?.role === 'leader').length > 0, 15_000).catch(() => undefined);
        }
        return { kind, detail, masters: ids, heal: async () => undefined };
      }
    }
  }

  /** One network fault on the proxy; returns what it did, for the report. */
  private partition(ids: readonly number[]): string {
    const shuffled = [...ids];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
    }
    const leader = this.leader();
    switch (this.random.int(4)) {
      case 0: {
        const isolated = leader !== 0 ? leader : (shuffled[0] as number);
        this.proxy.isolate(isolated);
        return `isolate master ${isolated}${isolated === leader ? ' (leader)' : ''}`;
      }
      case 1: {
        const minority = shuffled.slice(0, Math.floor((ids.length - 1) / 2));
        const majority = shuffled.slice(minority.length);
        this.proxy.partition([minority, majority]);
        return `split {${minority.join(',')}} | {${majority.join(',')}}`;
      }
      case 2: {
        // One-way loss: one master's messages to the others vanish, theirs still reach it.
        const from = leader !== 0 && this.random.int(2) === 0 ? leader : (shuffled[0] as number);
        for (const to of ids) if (to !== from) this.proxy.set(from, to, { blackhole: true });
        return `one-way loss: nothing from master ${from}${from === leader ? ' (leader)' : ''} reaches the others`;
      }
      default: {
        const delayMs = 10 + this.random.int(90);
        const resetProbability = (1 + this.random.int(5)) / 100;
        for (const from of ids) for (const to of ids) if (from !== to) this.proxy.set(from, to, { delayMs, jitterMs: delayMs, resetProbability });
        return `every link: delay ${delayMs}-${2 * delayMs} ms, ${Math.round(resetProbability * 100)}% of chunks reset the connection`;
      }
    }
  }
}
