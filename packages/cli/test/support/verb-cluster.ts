// The kubectl-like verbs' tests: one in-process master serving the Kubernetes API over HTTP on a
// free loopback port (leader components on, so Deployments get ReplicaSets and pods get bound
// when there are nodes), and a way to run a verb in process with its output captured.

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import { Master, createApiServer, createEtcdGateway, createKubeApi, createKvService, etcdGatewayDefaults, parseClusterConfig, runLeaderComponents } from '@raftplane/master';
import { freePorts } from '../../../../scripts/lib/temp-cluster.js';
import { runVerb } from '../../src/verbs/index.js';

export interface VerbCluster {
  /** `http://127.0.0.1:<port>`: pass as `--server`. */
  readonly server: string;
  /** An admin client on the same API, for setting up and checking. */
  readonly client: HttpClient;
  stop(): Promise<void>;
}

export async function startVerbCluster(options: { components?: boolean } = {}): Promise<VerbCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-cli-verbs-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'cli-verbs-test',
    secret: 'cli-verbs-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
    components: { scheduler: options.components ?? true, controllerManager: options.components ?? true },
  });
  const logger = pino({ level: 'silent' });
  const master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const service = createKvService(master);
  const gateway = createEtcdGateway({ ...etcdGatewayDefaults, requestBytesMax: config.api.bodyBytesMax, service, logger });
  const kube = await createKubeApi({ master, service, logger });
  const server: Server = createApiServer({ master, logger, gateway, kubeApi: kube.server });
  server.listen(apiPort, '127.0.0.1');
  await once(server, 'listening');
  const stop = new AbortController();
  const componentsDone = runLeaderComponents({ master, transport: kube.inProcess, settings: config.components, logger, signal: stop.signal });
  const origin = `http://127.0.0.1:${apiPort}`;
  const client = createHttpClient({ endpoints: [origin], signal: stop.signal });
  for (let i = 0; i < 300 && !master.isReady(); i++) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 200; i++) {
    if ((await client.resource('namespaces').get('kube-node-lease').catch(() => null)) !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    server: origin,
    client,
    async stop() {
      stop.abort();
      await client.closed.catch(() => undefined);
      await componentsDone;
      server.close();
      await gateway.close();
      server.closeAllConnections();
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface VerbRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `raftplane <verb> <argv...>` in process against `server`; stdin from `input`. */
export async function runVerbAgainst(server: string, verb: string, argv: readonly string[], options: { input?: string; signal?: AbortSignal; isTTY?: boolean } = {}): Promise<VerbRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const code = await runVerb(verb, [...argv, '--server', server], {
    stdout,
    stderr,
    env: { RAFTPLANE_CONFIG: '/nonexistent/raftplane.json' },
    isTTY: options.isTTY ?? false,
    signal: options.signal ?? new AbortController().signal,
    stdin,
  });
  return { code, stdout: out, stderr: err };
}

/** Polls `probe` every 50 ms until it returns a value (not undefined); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
