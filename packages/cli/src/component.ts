// Runs the scheduler or the controller manager as its own process (issue 7): an HTTP client to the
// masters, a LeaseLeadership that elects one active replica, and the same component code a master
// runs under RaftLeadership. SIGTERM or SIGINT stops the component, releases the Lease (so another
// replica takes over at once) and resolves with exit code 0; a component that fails or stops while
// still leading resolves with 1, after releasing, so that a supervisor restarts it and a healthy
// replica leads meanwhile.

import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createHttpClient, LeaseLeadership, type Client, type Leadership } from '@raftplane/client';
import { startControllerManager } from '@raftplane/controllers';
import { Scheduler } from '@raftplane/scheduler';
import type { Logger } from 'pino';
import type { ComponentKind, ComponentOptions } from './component-options.js';
import { invalidFlag } from './errors.js';
import { boundedLeaseClient, leaseCallMsMax } from './lease-client.js';
import { createComponentLogger } from './logger.js';

/** How long a stopping replica waits for its component and its client to wind down. */
const shutdownMsMax = 10_000;

/** Starts one term of the component; the promise settles once it has stopped. */
function startComponent(options: ComponentOptions, client: Client, signal: AbortSignal, logger: Logger): Promise<void> {
  const { kind } = options;
  if (kind === 'scheduler') return new Scheduler({ client, random: Math.random, logger, percentageOfNodesToScore: options.percentageOfNodesToScore }).run(signal);
  return startControllerManager(client, signal, { logger }).done;
}

/** Leadership without an election (`--leader-elect=false`): one term, from start to stop. */
class UnconditionalLeadership implements Leadership {
  async run(lead: (signal: AbortSignal) => void, stop: AbortSignal): Promise<void> {
    if (stop.aborted) return;
    lead(stop);
    await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
  }
}

/** The bearer token: --token, or read from --token-file when the command starts. */
export async function readToken(options: Pick<ComponentOptions, 'token' | 'tokenFile'>): Promise<string | undefined> {
  if (options.tokenFile === undefined) return options.token;
  let text: string;
  try {
    text = await readFile(options.tokenFile, 'utf8');
  } catch (error) {
    throw invalidFlag('token-file', `${options.tokenFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const token = text.trim();
  if (token === '' || /\s/.test(token)) throw invalidFlag('token-file', `${options.tokenFile} must hold one token (non-empty, no spaces or line breaks)`);
  return token;
}

function bounded(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([promise.then(() => true, () => true), timeout]).finally(() => clearTimeout(timer));
}

/** Runs until SIGTERM/SIGINT (or a component failure); resolves with the process's exit code. */
export async function runComponent(options: ComponentOptions): Promise<number> {
  const token = await readToken(options);
  const { kind, identity } = options;
  const logger = createComponentLogger({ component: kind, identity }, options.logLevel);
  const stop = new AbortController();
  // The client outlives `stop`: releasing the Lease is a write made after the component stopped.
  const lifetime = new AbortController();
  setMaxListeners(256, stop.signal, lifetime.signal);
  const client = createHttpClient({ endpoints: options.endpoints, token, signal: lifetime.signal, logger, userAgent: `raftplane-${kind}/0.1.0` });
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      // A second signal: the operator does not want to wait for the release.
      logger.warn({ signal }, 'stopping at once: the lease, if held, expires after its duration');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping: releasing the lease if held');
    stop.abort(new Error(`${signal} received`));
    // Bounded shutdown: the component, the release and the client each get at most shutdownMsMax.
    setTimeout(() => {
      logger.warn({ waitedMs: 3 * shutdownMsMax }, 'could not stop cleanly in time; exiting');
      process.exit(1);
    }, 3 * shutdownMsMax).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const leadership: Leadership = options.leaderElect
    ? new LeaseLeadership({
        client: boundedLeaseClient(client, { callMsMax: leaseCallMsMax(options.renewDeadlineMs, options.retryPeriodMs) }),
        namespace: options.leaseNamespace,
        name: options.leaseName,
        identity,
        leaseDurationMs: options.leaseDurationMs,
        renewDeadlineMs: options.renewDeadlineMs,
        retryPeriodMs: options.retryPeriodMs,
        logger,
      })
    : new UnconditionalLeadership();
  const terms = new Set<Promise<void>>();
  const lead = (signal: AbortSignal): void => {
    setMaxListeners(256, signal);
    const startedAt = Date.now();
    logger.info({ lease: options.leaderElect ? `${options.leaseNamespace}/${options.leaseName}` : null }, `leading: ${kind} started`);
    const term = startComponent(options, client, signal, logger).then(
      () => {
        if (!signal.aborted) throw new Error(`the ${kind} stopped by itself while leading`);
        logger.info({ ledMs: Date.now() - startedAt }, `${kind} stopped: leadership ended`);
      },
      (error: unknown) => {
        if (!signal.aborted) throw error;
        logger.info({ ledMs: Date.now() - startedAt }, `${kind} stopped: leadership ended`);
      },
    );
    const tracked = term.catch((error: unknown) => {
      // A component that cannot go on must not keep the Lease: stop (releasing it) and exit 1.
      logger.error({ err: error }, `the ${kind} failed; stopping so that another replica leads`);
      exitCode = 1;
      stop.abort(error);
    });
    terms.add(tracked);
    void tracked.finally(() => terms.delete(tracked));
  };

  logger.info({ servers: options.endpoints, leaderElect: options.leaderElect, leaseDurationMs: options.leaseDurationMs, renewDeadlineMs: options.renewDeadlineMs, retryPeriodMs: options.retryPeriodMs }, 'starting');
  try {
    await leadership.run(lead, stop.signal);
    if (!(await bounded(Promise.all(terms), shutdownMsMax))) logger.warn({ waitedMs: shutdownMsMax }, `the ${kind} did not stop in time; exiting anyway`);
  } finally {
    lifetime.abort(new Error('exiting'));
    await bounded(client.closed, shutdownMsMax);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  logger.info({ exitCode }, 'stopped');
  return exitCode;
}
