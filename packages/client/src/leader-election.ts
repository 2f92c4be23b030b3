// Leadership for leader-only components (DESIGN rule 5): one interface, two implementations. Inside
// a master, Raft's own leadership (the master adapts `onLeadership` to it). In a standalone
// process (`raftplane scheduler`, `raftplane controller-manager`), a coordination.k8s.io/v1 Lease
// that the replicas compete for, as client-go's leaderelection does: the holder renews it every
// retry period and gives up if it cannot renew within the renew deadline; the others take it once
// they have seen it unchanged for a lease duration (measured on their own clock, never by
// comparing their time with the holder's). A clean exit releases it, so the next one takes over at
// once. Every write is a compare-and-swap on the Lease's resourceVersion.

import { hasStatusReason, type Lease } from '@raftplane/api';
import type { Client } from './client.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { invalidOption } from './errors.js';
import { silentLogger, type ClientLogger } from './logger.js';

export interface Leadership {
  /**
   * Runs `lead` each time leadership is gained, with a signal that aborts when it is lost; returns
   * once `stop` aborts (after releasing leadership when it holds it).
   */
  run(lead: (signal: AbortSignal) => void, stop: AbortSignal): Promise<void>;
}

export interface LeaseLeadershipOptions {
  readonly client: Client;
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica: `<hostname>_<random>`. */
  readonly identity: string;
  /** client-go's defaults: 15 s, 10 s, 2 s. */
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock?: Clock;
  /** Wall-clock time for the Lease's acquireTime/renewTime (informational: never compared across replicas). */
  readonly wallClock?: () => number;
  readonly logger?: ClientLogger;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export class LeaseLeadership implements Leadership {
  private readonly clock: Clock;
  private readonly wallClock: () => number;
  private readonly logger: ClientLogger;
  /** The last Lease seen, and when (on our clock) its content last changed. */
  private observed: { lease: Lease; at: number } | null = null;

  constructor(private readonly options: LeaseLeadershipOptions) {
    if (!(options.leaseDurationMs > options.renewDeadlineMs)) throw invalidOption('leaseDurationMs', `${options.leaseDurationMs} must exceed renewDeadlineMs ${options.renewDeadlineMs}`);
    if (!(options.renewDeadlineMs > options.retryPeriodMs)) throw invalidOption('renewDeadlineMs', `${options.renewDeadlineMs} must exceed retryPeriodMs ${options.retryPeriodMs}`);
    if (!(options.retryPeriodMs > 0)) throw invalidOption('retryPeriodMs', `${options.retryPeriodMs} must be positive`);
    if (options.identity === '') throw invalidOption('identity', 'must not be empty');
    this.clock = options.clock ?? systemClock;
    this.wallClock = options.wallClock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  private leases() {
    return this.options.client.resource('leases', this.options.namespace);
  }

  /** One attempt to take or keep the Lease; true when this replica holds it afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const { name, identity, leaseDurationMs } = this.options;
    const now = this.clock.now();
    const wall = microTime(this.wallClock());
    let current: Lease;
    try {
      current = await this.leases().get(name, { signal });
    } catch (error) {
      if (!hasStatusReason(error, 'NotFound')) throw error;
      const created = await this.leases().create(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: this.options.namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), acquireTime: wall, renewTime: wall, leaseTransitions: 0 },
        },
        { signal },
      );
      this.observed = { lease: created, at: now };
      return true;
    }
    if (this.observed === null || this.observed.lease.metadata.resourceVersion !== current.metadata.resourceVersion) this.observed = { lease: current, at: now };
    const holder = current.spec?.holderIdentity ?? '';
    const held = holder !== '' && holder !== identity && now < this.observed.at + (current.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (held) return false;
    const spec = current.spec ?? {};
    const taking = holder !== identity;
    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        renewTime: wall,
        ...(taking ? { acquireTime: wall, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      const updated = await this.leases().update(next, { signal });
      this.observed = { lease: updated, at: now };
      if (taking) this.logger.info({ lease: `${this.options.namespace}/${name}`, identity, previous: holder }, 'acquired the lease');
      return true;
    } catch (error) {
      if (hasStatusReason(error, 'Conflict')) return false; // someone else wrote it first
      throw error;
    }
  }

  /**
   * A signal that aborts after `ms` on the injected clock, or with `parent`. (A timer, not
   * AbortSignal.timeout inside AbortSignal.any, which Node 20 can lose after a garbage collection.)
   */
  private deadlineSignal(ms: number, parent?: AbortSignal): { signal: AbortSignal; cancel: () => void } {
    const controller = new AbortController();
    const timer = this.clock.setTimer(() => controller.abort(new Error(`lease ${this.options.namespace}/${this.options.name}: the renew deadline passed`)), Math.max(0, ms));
    const onParent = (): void => controller.abort(parent?.reason);
    parent?.addEventListener('abort', onParent, { once: true });
    return {
      signal: controller.signal,
      cancel: () => {
        timer.cancel();
        parent?.removeEventListener('abort', onParent);
      },
    };
  }

  /** Gives the Lease up (holder cleared, duration 1 s) when this replica holds it; `signal` bounds the call. */
  async release(signal?: AbortSignal): Promise<void> {
    const observed = this.observed?.lease;
    if (observed === undefined || observed.spec?.holderIdentity !== this.options.identity) return;
    try {
      await this.leases().update({ ...observed, spec: { ...observed.spec, holderIdentity: '', leaseDurationSeconds: 1 } }, { signal });
      this.logger.info({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'released the lease');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not release the lease; the next holder waits for it to expire');
    }
  }

  async run(lead: (signal: AbortSignal) => void, stop: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    while (!stop.aborted) {
      // Acquire: retry every period until this replica holds the lease.
      let holds = false;
      try {
        holds = await this.tryAcquireOrRenew(stop);
      } catch (error) {
        if (stop.aborted) break;
        this.logger.warn({ err: error }, 'lease acquire failed; retrying');
      }
      if (!holds) {
        await sleep(this.clock, retryPeriodMs, stop).catch(() => undefined);
        continue;
      }
      const term = new AbortController();
      lead(term.signal);
      // Renew: every period; a renewal not achieved within the deadline ends leadership.
      let lastRenewed = this.clock.now();
      while (!stop.aborted) {
        await sleep(this.clock, retryPeriodMs, stop).catch(() => undefined);
        if (stop.aborted) break;
        let renewed = false;
        // A renewal may not outlast the deadline (client-go bounds it the same way): a call stuck
        // in retries past it would let this replica lead after another has taken over.
        const deadline = this.deadlineSignal(lastRenewed + renewDeadlineMs - this.clock.now(), stop);
        try {
          renewed = await this.tryAcquireOrRenew(deadline.signal);
        } catch (error) {
          this.logger.warn({ err: error }, 'lease renewal failed');
        } finally {
          deadline.cancel();
        }
        if (renewed) {
          lastRenewed = this.clock.now();
          continue;
        }
        // Another replica holds it now, or renewing failed for longer than the deadline: step down.
        const holder = this.observed?.lease.spec?.holderIdentity ?? '';
        if (holder !== this.options.identity || this.clock.now() - lastRenewed >= renewDeadlineMs) break;
      }
      term.abort(new Error(`lease ${this.options.namespace}/${this.options.name}: leadership of ${this.options.identity} ended`));
      if (stop.aborted) {
        const bound = this.deadlineSignal(renewDeadlineMs);
        await this.release(bound.signal);
        bound.cancel();
        return;
      }
      this.logger.warn({ lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity }, 'lost the lease');
    }
  }
}
