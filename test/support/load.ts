// A write load for process tests: concurrent clients putting unique keys through the etcd API,
// recording what was acknowledged (and at which revision) and what failed or is unknown. Each
// client writes with a session (client id and sequence), so its retries apply at most once.

import { randomUUID } from 'node:crypto';

import type { MasterClient } from '@raftplane/master';

export interface Acknowledged {
  /** The key written; its value is the key too. */
  readonly key: string;
  readonly revision: number;
  /** When the client got the answer (ms since the epoch). */
  readonly at: number;
}

export class WriteLoad {
  readonly acknowledged: Acknowledged[] = [];
  failed = 0;
  /** Timed out (504) or cut off: may or may not have taken effect. */
  unknown = 0;
  private stopped = false;
  private readonly workers: Promise<void>[] = [];

  constructor(
    private readonly client: MasterClient,
    private readonly clients: number,
    private readonly prefix = 'w',
  ) {}

  start(): this {
    for (let w = 0; w < this.clients; w++) this.workers.push(this.worker(w));
    return this;
  }

  private async worker(w: number): Promise<void> {
    const clientId = randomUUID();
    for (let seq = 0; !this.stopped; seq++) {
      const key = `${this.prefix}${w}-${seq}`;
      const outcome = await this.client.put(key, key, { deadlineMs: 3_000, session: { clientId, sequence: seq + 1 } });
      if (outcome.ok) this.acknowledged.push({ key, revision: outcome.revision, at: Date.now() });
      else if (outcome.status === 0 || outcome.message === 'etcdserver: request timed out') this.unknown++;
      else this.failed++;
      if (!outcome.ok) await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  /** The longest time between two consecutive acknowledgements, in ms. */
  longestGapMs(): number {
    const times = this.acknowledged.map((a) => a.at).sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, (times[i] as number) - (times[i - 1] as number));
    return gap;
  }
}
