// client-go's SharedInformerFactory, reduced to what the controller manager needs: one informer
// per resource, shared by every controller that asks for it, started together under one signal.

import { createInformer, type Client, type Clock, type ClientLogger, type Informer, type ResourceName, type ResourceTypes } from '@raftplane/client';

export interface InformerFactoryOptions {
  readonly clock?: Clock;
  readonly logger?: ClientLogger;
  /** Every informer's resync period; 0 (default) never. */
  readonly resyncMs?: number;
}

export class SharedInformerFactory {
  private readonly informers = new Map<string, Informer<never>>();
  private readonly runs: Promise<void>[] = [];
  private started = false;

  constructor(
    private readonly client: Client,
    private readonly options: InformerFactoryOptions = {},
  ) {}

  /** The one informer for `resource` in every namespace; created on first ask. Ask before `start`. */
  informer<R extends ResourceName>(resource: R): Informer<ResourceTypes[R]> {
    let informer = this.informers.get(resource) as Informer<ResourceTypes[R]> | undefined;
    if (informer === undefined) {
      informer = createInformer(this.client, resource, { clock: this.options.clock, logger: this.options.logger, resyncMs: this.options.resyncMs ?? 0 });
      this.informers.set(resource, informer as unknown as Informer<never>);
    }
    return informer;
  }

  /** Runs every informer asked for so far until `signal` aborts. Once. */
  start(signal: AbortSignal): void {
    if (this.started) return;
    this.started = true;
    for (const informer of this.informers.values()) this.runs.push(informer.run(signal).catch(() => undefined));
  }

  /** Settles once every informer's run has (after the signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.runs);
  }
}
