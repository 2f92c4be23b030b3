// A transport in a process of its own, for tests that stop and continue a peer (SIGSTOP,
// SIGCONT). Node 2 of a two-node cluster; prints its port as one JSON line, then runs until
// stdin closes (so it never outlives the test that started it).

import { Transport } from '../../src/index.js';
import { CLUSTER, HOST, SECRET } from './fixtures.js';

const abort = new AbortController();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const transport = await Transport.start({
  self: { id: 2, host: HOST, port: 0 },
  peers: [{ id: 1, host: HOST, port: 0 }],
  clusterName: CLUSTER,
  secret: SECRET,
  queueBytesMax: 1024 * 1024,
  frameBytesMax: 1024 * 1024,
  reconnectDelayMsMin: 10,
  reconnectDelayMsMax: 100,
  idleTimeoutMs: Number(process.env['IDLE_TIMEOUT_MS'] ?? 5000),
  random: Math.random,
  onMessages: () => undefined,
  onUnreachable: () => undefined,
  logger: silent,
  signal: abort.signal,
});
process.stdout.write(`${JSON.stringify({ port: transport.port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => abort.abort());
