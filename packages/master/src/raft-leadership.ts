// The client's Leadership interface over the master's own Raft leadership: components inside a
// master (scheduler, controllers) run the same code as in their standalone processes, where a
// Lease elects them (client's LeaseLeadership). Leadership here is established once this master
// leads and has applied an entry of its term, and ends the turn it stops leading (rule 5).

import type { Leadership } from '@raftplane/client';
import type { Master } from './master.js';

export class RaftLeadership implements Leadership {
  constructor(private readonly master: Master) {}

  run(lead: (signal: AbortSignal) => void, stop: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (stop.aborted) return resolve();
      let current: AbortController | null = null;
      const unsubscribe = this.master.onLeadership((signal) => {
        // One term of the component per term of leadership; it ends with either signal.
        current = new AbortController();
        const term = current;
        signal.addEventListener('abort', () => term.abort(signal.reason), { once: true });
        lead(term.signal);
      });
      stop.addEventListener(
        'abort',
        () => {
          unsubscribe();
          current?.abort(stop.reason);
          resolve();
        },
        { once: true },
      );
    });
  }
}
