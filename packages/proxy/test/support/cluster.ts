// An in-process master for the proxy tests (the in-master controllers off, so that the tests' own
// Endpoints objects stand), TCP backends standing in for pods, and a client that reports what a
// connection through the proxy got. Each test stops what it starts.

import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoints } from '@raftplane/api';
import { createClient, type Client } from '@raftplane/client';
import { Master, createKubeApi, createKvService, parseClusterConfig } from '@raftplane/master';
import pino from 'pino';
import { freePorts } from '../../../../scripts/lib/temp-cluster.js';

export interface TestCluster {
  readonly client: Client;
  stop(): Promise<void>;
}

export async function startCluster(serviceClusterIPRange: string): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-proxy-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'proxy-test',
    secret: 'proxy-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
    apiserver: { serviceClusterIPRange },
    components: { scheduler: false, controllerManager: false },
  });
  const logger = pino({ level: 'silent' });
  const master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const client = createClient((await createKubeApi({ master, service: createKvService(master), logger })).inProcess);
  for (let i = 0; i < 300 && !master.isLeading(); i++) await delay(50);
  await eventually('the default namespace', async () => {
    try {
      await client.resource('namespaces').get('default');
      return true;
    } catch {
      return false;
    }
  });
  return {
    client,
    async stop() {
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true, or fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await delay(20);
  }
}

/** A pod stand-in: answers every connection with its name, then ends it. */
export interface Backend {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startBackend(name: string, ip: string): Promise<Backend> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(name);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ip, port: 0 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    ip,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** Endpoints naming these backends as ready (one subset each: they listen on different ports). */
export function endpointsOf(name: string, backends: readonly { ip: string; port: number }[], portName?: string): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name },
    subsets: backends.map((b) => ({ addresses: [{ ip: b.ip }], ports: [{ ...(portName === undefined ? {} : { name: portName }), port: b.port, protocol: 'TCP' as const }] })),
  };
}

/**
 * What one connection got: the bytes the far end sent before it ended, 'reset' when the connection
 * was reset or closed with nothing, 'refused' when nothing listens.
 */
export function ask(host: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }) });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'reset');
    });
    socket.on('close', () => resolve(data === '' ? 'reset' : data));
  });
}
