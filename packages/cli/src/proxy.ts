// `raftplane proxy` (issue 8): the service proxy as its own process, one per machine. An HTTP
// client to the masters and a ServiceProxy until SIGTERM or SIGINT; then every listener and
// connection is closed and the command resolves with exit code 0 (1 if the proxy failed).

import { hostname } from 'node:os';
import { ServiceProxy } from '@raftplane/proxy';
import { readToken } from './component.js';
import { runNodeProcess } from './node-process.js';
import { parseProxyArgs, proxyUsage } from './proxy-options.js';

export async function runProxy(argv: string[]): Promise<number> {
  const parsed = parseProxyArgs(argv);
  if (parsed.help) {
    process.stdout.write(`${proxyUsage()}\n`);
    return 0;
  }
  const options = parsed.options;
  const token = await readToken(options);
  return runNodeProcess(
    { component: 'proxy', identity: hostname(), logLevel: options.logLevel, endpoints: options.endpoints, token, userAgent: 'raftplane-proxy/0.1.0', stoppingMessage: 'stopping: closing every listener and connection' },
    async ({ logger, client, stop }) => {
      logger.info({ servers: options.endpoints, nodePortAddresses: options.nodePortAddresses }, 'starting');
      await new ServiceProxy({ client, nodePortAddresses: options.nodePortAddresses, logger }).run(stop);
    },
  );
}
