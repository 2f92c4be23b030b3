// The service proxy against one in-process master, with real TCP backends on loopback standing in
// for pods and hand-written Endpoints: round robin, a dead backend skipped, Endpoints changes
// followed within a second, no endpoints → the connection closed, ClientIP affinity, NodePorts, a
// port in use retried, a deleted Service's listener closed, and abort closing everything.
// ClusterIPs come from 127.102.0.0/16 and NodePorts are served on 127.103.0.1, addresses no other
// test uses, so that test files running side by side never want the same port.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Service } from '@raftplane/api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ServiceProxy } from '../src/index.js';
import { ask, delay, endpointsOf, eventually, startBackend, startCluster, type Backend, type TestCluster } from './support/cluster.js';

const nodeAddress = '127.103.0.1';
let cluster: TestCluster;
let proxy: ServiceProxy;
let running: Promise<void>;
const stop = new AbortController();
const backends: Backend[] = [];

beforeAll(async () => {
  cluster = await startCluster('127.102.0.0/16');
  for (const [i, name] of ['a', 'b', 'c'].entries()) backends.push(await startBackend(name, `127.77.0.${i + 1}`));
  proxy = new ServiceProxy({ client: cluster.client, nodePortAddresses: [nodeAddress], listenRetryDelayMsMin: 100, listenRetryDelayMsMax: 400 });
  running = proxy.run(stop.signal);
  await proxy.waitForSync(stop.signal);
});

afterAll(async () => {
  stop.abort();
  await running;
  for (const backend of backends) await backend.close();
  await cluster.stop();
});

const services = () => cluster.client.resource('services', 'default');
const endpoints = () => cluster.client.resource('endpoints', 'default');

/**
 * Creates a Service (port 8080) with its Endpoints and waits until the proxy listens on its
 * ClusterIP and, unless `probe` is false, has the Endpoints too (the two arrive on separate watches).
 */
async function serve(name: string, ready: readonly { ip: string; port: number }[], spec: Service['spec'] = {}, probe = true): Promise<Service> {
  await endpoints().create(endpointsOf(name, ready));
  const created = await services().create({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 8080 }], ...spec } });
  const ip = created.spec?.clusterIP ?? '';
  await eventually(`the proxy listens on ${ip}:8080`, () => proxy.listening().includes(`${ip}:8080`));
  if (probe) await eventually(`the proxy has the endpoints of ${name}`, async () => (await ask(ip, 8080)) !== 'reset');
  return created;
}

async function askMany(host: string, port: number, count: number, localAddress?: string): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < count; i++) answers.push(await ask(host, port, localAddress));
  return answers;
}

describe('ServiceProxy', () => {
  test('connections to the ClusterIP go round robin across the ready endpoints', async () => {
    const svc = await serve('rr', backends);
    const answers = await askMany(svc.spec?.clusterIP ?? '', 8080, 6);
    expect(new Set(answers.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
    expect(answers.slice(3)).toEqual(answers.slice(0, 3));
  });

  test('an endpoint that refuses connections is skipped', async () => {
    const dead = { ip: '127.77.0.9', port: backends[0]!.port };
    const svc = await serve('skip', [dead, backends[0]!, dead, backends[1]!]);
    const answers = await askMany(svc.spec?.clusterIP ?? '', 8080, 8);
    expect(new Set(answers)).toEqual(new Set(['a', 'b']));
  });

  test('an endpoint that does not answer is skipped after the connect timeout (1 s)', async () => {
    const stuck = await stuckBackend('127.77.0.30');
    try {
      const svc = await serve('slow', [backends[2]!]);
      const ip = svc.spec?.clusterIP ?? '';
      const current = await endpoints().get('slow');
      await endpoints().update({ ...current, subsets: endpointsOf('slow', [stuck.address, backends[2]!]).subsets });
      await delay(200);
      const started = Date.now();
      // Round robin puts the stuck endpoint first for one of two connections.
      expect(await askMany(ip, 8080, 2)).toEqual(['c', 'c']);
      const tookMs = Date.now() - started;
      expect(tookMs).toBeGreaterThanOrEqual(900);
      expect(tookMs).toBeLessThan(2_500);
    } finally {
      await stuck.close();
    }
  });

  test('an Endpoints change is followed within a second; no endpoints: the connection is closed', async () => {
    const svc = await serve('moving', [backends[0]!]);
    const ip = svc.spec?.clusterIP ?? '';
    expect(await ask(ip, 8080)).toBe('a');
    const current = await endpoints().get('moving');
    const changedAt = Date.now();
    await endpoints().update({ ...current, subsets: endpointsOf('moving', [backends[2]!]).subsets });
    await eventually('connections reach c', async () => (await ask(ip, 8080)) === 'c', 1_000);
    expect(Date.now() - changedAt).toBeLessThan(1_000);
    expect(await askMany(ip, 8080, 3)).toEqual(['c', 'c', 'c']);
    const moved = await endpoints().get('moving');
    await endpoints().update({ ...moved, subsets: [] });
    await eventually('connections are closed', async () => (await ask(ip, 8080)) === 'reset', 1_000);
    // The listener stays: a new endpoint is served at once.
    expect(proxy.listening()).toContain(`${ip}:8080`);
  });

  test('sessionAffinity ClientIP: a client keeps its endpoint while it stays ready', async () => {
    const svc = await serve('sticky', backends, { sessionAffinity: 'ClientIP' });
    expect(svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds).toBe(10_800);
    const ip = svc.spec?.clusterIP ?? '';
    const first = await askMany(ip, 8080, 5, '127.0.0.11');
    expect(new Set(first).size).toBe(1);
    const other = await askMany(ip, 8080, 5, '127.0.0.12');
    expect(new Set(other).size).toBe(1);
    // Its endpoint goes away: the client gets another one, and keeps that.
    const kept = backends.filter((b) => b.name !== first[0]);
    const current = await endpoints().get('sticky');
    await endpoints().update({ ...current, subsets: endpointsOf('sticky', kept).subsets });
    await eventually('the client moves', async () => (await ask(ip, 8080, '127.0.0.11')) !== first[0], 1_000);
    const moved = await askMany(ip, 8080, 5, '127.0.0.11');
    expect(new Set(moved).size).toBe(1);
    expect(moved[0]).not.toBe(first[0]);
  });

  test('a NodePort Service is served on the node address at its nodePort, and a port in use is retried', async () => {
    // Someone holds the nodePort the Service asks for: the proxy logs, retries, and listens once it is free.
    const nodePort = await freeNodePort();
    const blocker = await listenOn(nodeAddress, nodePort);
    const created = await services().create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 8080, nodePort }] } });
    await endpoints().create(endpointsOf('np', [backends[1]!]));
    const ip = created.spec?.clusterIP ?? '';
    await eventually('the ClusterIP is served', () => proxy.listening().includes(`${ip}:8080`));
    expect(proxy.listening()).not.toContain(`${nodeAddress}:${nodePort}`);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await eventually('the nodePort is served', () => proxy.listening().includes(`${nodeAddress}:${nodePort}`), 2_000);
    expect(await ask(nodeAddress, nodePort)).toBe('b');
    expect(await ask(ip, 8080)).toBe('b');
  });

  test("a deleted Service's listeners close", async () => {
    const svc = await serve('short', [backends[0]!], { type: 'NodePort' });
    const ip = svc.spec?.clusterIP ?? '';
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    await eventually('the nodePort is served', () => proxy.listening().includes(`${nodeAddress}:${nodePort}`));
    expect(await ask(nodeAddress, nodePort)).toBe('a');
    await services().delete('short');
    await eventually('connections are refused', async () => (await ask(ip, 8080)) === 'refused' && (await ask(nodeAddress, nodePort)) === 'refused', 1_000);
    expect(proxy.listening().filter((a) => a.startsWith(`${ip}:`) || a === `${nodeAddress}:${nodePort}`)).toEqual([]);
  });

  test('abort closes every listener and every connection, then run() resolves', async () => {
    // A backend that never answers, and a client connection held open through the proxy.
    const silent = await holdingBackend('127.77.0.20');
    const svc = await serve('held', [silent.address], {}, false);
    let client = connect({ host: svc.spec?.clusterIP ?? '', port: 8080 });
    client.on('error', () => {});
    await eventually('the backend has a connection', async () => {
      await delay(50);
      if (silent.connections.size === 1 && !client.destroyed) return true;
      // Reset before the proxy had the Endpoints: try again.
      client.destroy();
      client = connect({ host: svc.spec?.clusterIP ?? '', port: 8080 });
      client.on('error', () => {});
      return false;
    });
    const closed = new Promise<void>((resolve) => (client.destroyed ? resolve() : client.once('close', () => resolve())));
    const listening = proxy.listening();
    expect(listening.length).toBeGreaterThan(0);
    stop.abort();
    await running;
    await closed;
    expect(proxy.listening()).toEqual([]);
    for (const address of listening) {
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
      expect(await ask(host, port)).toBe('refused');
    }
    await eventually('the backend side is closed too', () => silent.connections.size === 0, 1_000);
    await silent.close();
  });
});

async function listenOn(host: string, port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return server;
}

/** A nodePort nobody listens on at the node address now. */
async function freeNodePort(): Promise<number> {
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    try {
      const server = await listenOn(nodeAddress, port);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    } catch {
      await delay(1);
    }
  }
}

/** A backend that accepts and keeps connections without answering. */
async function holdingBackend(ip: string): Promise<{ address: { ip: string; port: number }; connections: Set<Socket>; close(): Promise<void> }> {
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: ip, port: 0 }, () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { address: { ip, port }, connections, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * An endpoint that never completes a connection: a listener with a backlog of one in a worker whose
 * event loop is blocked (so nothing is accepted), its queue filled by connections of our own; the
 * kernel then drops further SYNs, and a connect waits as it would for a host that is gone.
 */
async function stuckBackend(ip: string): Promise<{ address: { ip: string; port: number }; close(): Promise<void> }> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ host: workerData.ip, port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
     });`,
    { eval: true, workerData: { ip } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const socket = connect({ host: ip, port });
    socket.on('error', () => {});
    fillers.push(socket);
  }
  await delay(100);
  return {
    address: { ip, port },
    async close() {
      for (const socket of fillers) socket.destroy();
      await worker.terminate();
    },
  };
}
