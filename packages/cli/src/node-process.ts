// The lifetime of a node-side process (`raftplane agent`, `raftplane proxy`): a JSON logger, an
// HTTP client to the masters, and a stop signal that SIGTERM or SIGINT aborts (a second signal
// exits at once). `run` does the work until the stop signal; a failure before it is exit code 1.
// Then the client is closed (bounded), the signal handlers removed, and the exit code returned.

import { setMaxListeners } from 'node:events';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import type { Logger } from 'pino';
import type { LogLevel } from './component-options.js';
import { createComponentLogger } from './logger.js';

/** How long a stopping process waits for its client to wind down. */
const shutdownMsMax = 10_000;

export interface NodeProcessOptions {
  readonly component: string;
  readonly identity: string;
  readonly logLevel: LogLevel;
  readonly endpoints: readonly string[];
  readonly token: string | undefined;
  readonly userAgent: string;
  /** Logged when the first signal arrives. */
  readonly stoppingMessage: string;
}

export interface NodeProcessContext {
  readonly logger: Logger;
  readonly client: HttpClient;
  readonly stop: AbortSignal;
}

export async function runNodeProcess(options: NodeProcessOptions, run: (context: NodeProcessContext) => Promise<void>, cleanup: () => Promise<void> = async () => {}): Promise<number> {
  const logger = createComponentLogger({ component: options.component, identity: options.identity }, options.logLevel);
  const stop = new AbortController();
  const lifetime = new AbortController();
  setMaxListeners(256, stop.signal, lifetime.signal);
  const client = createHttpClient({ endpoints: options.endpoints, token: options.token, signal: lifetime.signal, logger, userAgent: options.userAgent });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(1);
    logger.info({ signal }, options.stoppingMessage);
    stop.abort(new Error(`${signal} received`));
    setTimeout(() => {
      logger.warn({ waitedMs: 3 * shutdownMsMax }, 'could not stop cleanly in time; exiting');
      process.exit(1);
    }, 3 * shutdownMsMax).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let exitCode = 0;
  try {
    await run({ logger, client, stop: stop.signal });
  } catch (error) {
    if (!stop.signal.aborted) {
      logger.error({ err: error }, `the ${options.component} failed`);
      exitCode = 1;
    }
  } finally {
    await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'cleanup failed'));
    lifetime.abort(new Error('exiting'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.closed.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, shutdownMsMax)))]);
    clearTimeout(timer);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  logger.info({ exitCode }, 'stopped');
  return exitCode;
}
