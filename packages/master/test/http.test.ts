// The master's HTTP port: status and health, etcd's API through the gateway (a write applied and
// read back, linearizably), and bad requests answered with a clear error that changes nothing.
// One in-process master (a cluster of one).

import { once } from 'node:events';
import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { createEtcdGateway, etcdGatewayDefaults, type EtcdGateway } from '../src/etcd/gateway.js';
import { Master, createApiServer, createKubeApi, createKvService, parseClusterConfig } from '../src/index.js';

let dir: string;
let master: Master;
let server: Server;
let gateway: EtcdGateway;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-http-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'http-test',
    secret: 'http-test-shared-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
    api: { bodyBytesMax: 1024 },
  });
  const logger = pino({ level: 'silent' });
  master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const service = createKvService(master);
  gateway = createEtcdGateway({ ...etcdGatewayDefaults, requestBytesMax: config.api.bodyBytesMax, service, logger });
  server = createApiServer({ master, logger, gateway, kubeApi: (await createKubeApi({ master, service, logger })).server });
  server.listen(apiPort, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${apiPort}`;
  // One master elects itself after one election timeout (1-2 s), longer on a loaded machine.
  for (let i = 0; i < 300 && !master.isReady(); i++) await new Promise((r) => setTimeout(r, 50));
  // The new leader's own writes (the system namespaces of the Kubernetes API) are done before the
  // tests count log entries.
  for (let i = 0; i < 200; i++) {
    const res = await request(`${base}/api/v1/namespaces/kube-node-lease`);
    await res.body.text();
    if (res.statusCode === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  server.close();
  await gateway.close();
  server.closeAllConnections();
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: string | Uint8Array): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${base}${path}`, { method: method as 'GET', ...(body === undefined ? {} : { body }) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

describe('the master HTTP port', () => {
  test('a cluster of one elects itself and is ready', async () => {
    expect(master.isReady()).toBe(true);
    expect((await call('GET', '/readyz')).status).toBe(200);
    expect((await call('GET', '/livez')).status).toBe(200);
    const status = (await call('GET', '/status')).json;
    expect(status).toMatchObject({ id: 1, role: 'leader', leader: 1, cluster: 'http-test' });
  });

  test('a put is applied and a linearizable range reads it back, with etcd headers', async () => {
    const key = Buffer.from('hello').toString('base64');
    const put = await call('POST', '/v3/kv/put', JSON.stringify({ key, value: Buffer.from('world').toString('base64') }));
    expect(put.status).toBe(200);
    const revision = (put.json['header'] as { revision: string }).revision;
    const range = await call('POST', '/v3/kv/range', JSON.stringify({ key }));
    expect(range.status).toBe(200);
    expect(range.json['kvs']).toEqual([{ key, create_revision: revision, mod_revision: revision, version: '1', value: Buffer.from('world').toString('base64') }]);
    expect(range.json['header']).toMatchObject({ member_id: '1', revision, raft_term: expect.any(String) });
    expect(master.status().revision).toBe(Number(revision));
  });

  test.each([
    ['POST', '/v3/kv/put', '{"key": "not base64!"}', 400, 3],
    ['POST', '/v3/kv/put', '{"value": "eA=="}', 400, 3],
    ['POST', '/v3/kv/range', '{"key": "eA==", "revision": "999999"}', 400, 11],
    ['POST', '/v3/kv/put', `{"key": "eA==", "value": "${'x'.repeat(4 * 1024 * 1024)}"}`, 429, 8],
  ] as const)('%s %s with a bad request: %i (gRPC code %i) with etcd\'s error body, and nothing changes', async (method, path, body, status, code) => {
    const before = master.status();
    const answer = await call(method, path, body);
    expect(answer.status).toBe(status);
    expect(answer.json['code']).toBe(code);
    expect(answer.json['error']).toBe(answer.json['message']);
    expect(String(answer.json['message']).length).toBeGreaterThan(10);
    const after = master.status();
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(after.revision).toBe(before.revision);
  });

  test('an unknown path is a 404 naming it', async () => {
    const answer = await call('GET', '/nope');
    expect(answer.status).toBe(404);
    expect(String(answer.json['message'])).toMatch(/GET \/nope: no such endpoint/);
  });
});
