// The scheduler and the controllers inside a master (issue 7): started when this master's
// leadership is established, stopped the turn it ends (DESIGN rule 5), through the same
// Leadership interface the standalone processes use with a Lease. They reach state only through
// the client, here the in-process transport (same handlers and validation as HTTP, no socket).
// Their writes are compare-and-swap on resourceVersion, so a deposed leader's cannot commit.

import { setMaxListeners } from 'node:events';
import { createClient, type Transport } from '@raftplane/client';
import { startControllerManager } from '@raftplane/controllers';
import { Scheduler } from '@raftplane/scheduler';
import type { Logger } from 'pino';
import type { ComponentSettings } from './config.js';
import type { Master } from './master.js';
import { RaftLeadership } from './raft-leadership.js';

export interface LeaderComponentsOptions {
  readonly master: Master;
  readonly transport: Transport;
  readonly settings: ComponentSettings;
  readonly logger: Logger;
  /** Stops the components for good (the master is shutting down). */
  readonly signal: AbortSignal;
}

/** Runs the enabled components under this master's leadership; resolves once `signal` aborts. */
export function runLeaderComponents(options: LeaderComponentsOptions): Promise<void> {
  const { master, settings, logger } = options;
  if (!settings.scheduler && !settings.controllerManager) return Promise.resolve();
  const client = createClient(options.transport, { logger });
  return new RaftLeadership(master).run((signal) => {
    // Every informer and controller listens to the term's signal.
    setMaxListeners(256, signal);
    const started = Date.now();
    if (settings.scheduler) {
      const scheduler = new Scheduler({
        client,
        random: Math.random,
        logger: logger.child({ component: 'scheduler' }),
        percentageOfNodesToScore: settings.percentageOfNodesToScore,
      });
      scheduler.run(signal).catch((error: unknown) => logger.error({ err: error }, 'the scheduler stopped with an error'));
    }
    if (settings.controllerManager) {
      const manager = startControllerManager(client, signal, {
        logger: logger.child({ component: 'controller-manager' }),
        nodeLifecycle: { nodeMonitorGracePeriodMs: settings.nodeMonitorGracePeriodMs, defaultEvictionTimeoutMs: settings.podEvictionTimeoutMs },
      });
      manager.done.catch((error: unknown) => logger.error({ err: error }, 'the controller manager stopped with an error'));
    }
    logger.info({ scheduler: settings.scheduler, controllerManager: settings.controllerManager, startMs: Date.now() - started }, 'leader components started');
    signal.addEventListener('abort', () => logger.info({}, 'leader components stopped: leadership ended'), { once: true });
  }, options.signal);
}
