// `raftplane proxy` (issue 8): the service proxy as its own process, one per machine. An HTTP
// client to the masters and a ServiceProxy until SIGTERM or SIGINT; then every listener and
// connection is closed and the command resolves with exit code 0 (1 if the proxy failed).

import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { createHttpClient } from '@raftplane/client';
import { ServiceProxy } from '@raftplane/proxy';
import { readToken } from './component.js';
import { createComponentLogger } from './logger.js';
import { parseProxyArgs, proxyUsage } from './proxy-options.js';

/** How long a stopping proxy waits for its client to wind down. */
const shutdownMsMax = 10_000;

export async function runProxy(argv: string[]): Promise<number> {
  const parsed = parseProxyArgs(argv);
  if (parsed.help) {
    process.stdout.write(`${proxyUsage()}\n`);
    return 0;
  }
  const options = parsed.options;
  const token = await readToken(options);
  const logger = createComponentLogger({ component: 'proxy', identity: hostname() }, options.logLevel);
  const stop = new AbortController();
  const lifetime = new AbortController();
  setMaxListeners(64, stop.signal, lifetime.signal);
  const client = createHttpClient({ endpoints: options.endpoints, token, signal: lifetime.signal, logger, userAgent: 'raftplane-proxy/0.1.0' });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(1);
    logger.info({ signal }, 'stopping: closing every listener and connection');
    stop.abort(new Error(`${signal} received`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  logger.info({ servers: options.endpoints, nodePortAddresses: options.nodePortAddresses }, 'starting');
  let exitCode = 0;
  try {
    await new ServiceProxy({ client, nodePortAddresses: options.nodePortAddresses, logger }).run(stop.signal);
  } catch (error) {
    logger.error({ err: error }, 'the proxy failed');
    exitCode = 1;
  } finally {
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
