// The master's HTTP port answers bad requests with a clear error that names what is wrong, and
// changes nothing; good ones are applied and read back. One in-process master (a cluster of one).

import { once } from 'node:events';
import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { Master, createApiServer, parseClusterConfig } from '../src/index.js';

let dir: string;
let master: Master;
let server: Server;
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
  server = createApiServer({ master, logger, bodyBytesMax: config.api.bodyBytesMax });
  server.listen(apiPort, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${apiPort}`;
  // One master elects itself after one election timeout (1-2 s), longer on a loaded machine.
  for (let i = 0; i < 300 && !master.isReady(); i++) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  server.close();
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

  test('a proposal is applied and read back at the index it was given', async () => {
    const created = await call('POST', '/test/proposals', 'hello');
    expect(created.status).toBe(201);
    const index = created.json['index'] as number;
    const read = await request(`${base}/test/entries/${index}`);
    expect(read.statusCode).toBe(200);
    expect(await read.body.text()).toBe('hello');
  });

  test.each([
    ['POST', '/test/proposals', '', 400, 'BadRequest', /body \(the payload to propose\) is empty/],
    ['POST', '/test/proposals', 'x'.repeat(2048), 413, 'RequestEntityTooLarge', /exceeds the limit of 1024 bytes/],
    ['PUT', '/test/proposals', 'x', 405, 'MethodNotAllowed', /use POST/],
    ['GET', '/test/entries/99999', undefined, 404, 'NotFound', /entry 99999 is not applied here/],
    ['GET', '/test/entries/-1', undefined, 404, 'NotFound', /no such endpoint/],
    ['GET', '/nope', undefined, 404, 'NotFound', /GET \/nope: no such endpoint/],
  ] as const)('%s %s with a bad request: %i %s, and nothing changes', async (method, path, body, status, code, message) => {
    const before = master.status();
    const answer = await call(method, path, body);
    expect(answer.status).toBe(status);
    expect(answer.json['code']).toBe(code);
    expect(String(answer.json['message'])).toMatch(message);
    const after = master.status();
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(after.applied).toBe(before.applied);
  });
});
