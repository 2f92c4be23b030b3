// `POST /transfer-leader?to=<id>` on a master's HTTP port (issue 9, `raftplane cluster
// transfer-leader`): the leader hands leadership to a caught-up member and answers once it has
// stepped down; a malformed id, an unknown master and a request to a follower are refused with
// the reason, and change nothing. Three masters in this process, on loopback.

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

interface Running {
  readonly master: Master;
  readonly server: Server;
  readonly gateway: EtcdGateway;
  readonly base: string;
}

let dir: string;
const running: Running[] = [];

async function until<T>(what: string, check: () => T | null, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function leader(): Running {
  const found = running.find((r) => r.master.status().role === 'leader');
  if (found === undefined) throw new Error('no leader');
  return found;
}

async function transfer(at: Running, to: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${at.base}/transfer-leader?to=${to}`, { method: 'POST' });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-transfer-'));
  const ports = await freePorts(6);
  const config = parseClusterConfig({
    name: 'transfer-test',
    secret: 'transfer-test-shared-secret',
    masters: [1, 2, 3].map((id) => ({ id, peer: `127.0.0.1:${ports[2 * id - 2]}`, api: `127.0.0.1:${ports[2 * id - 1]}`, dataDir: join(dir, `m${id}`) })),
  });
  const logger = pino({ level: 'silent' });
  for (const m of config.masters) {
    const master = await Master.start({ config, id: m.id, logger }, (error) => {
      throw error;
    });
    const service = createKvService(master);
    const gateway = createEtcdGateway({ ...etcdGatewayDefaults, requestBytesMax: config.api.bodyBytesMax, service, logger });
    const server = createApiServer({ master, logger, gateway, kubeApi: (await createKubeApi({ master, service, logger })).server });
    server.listen(m.api.port, '127.0.0.1');
    await once(server, 'listening');
    running.push({ master, server, gateway, base: `http://127.0.0.1:${m.api.port}` });
  }
  await until('a leader every master knows, all caught up', () => {
    const statuses = running.map((r) => r.master.status());
    const lead = statuses.find((s) => s.role === 'leader');
    return lead !== undefined && statuses.every((s) => s.leader === lead.id && s.applied === lead.commit && s.ready) ? lead : null;
  });
}, 60_000);

afterAll(async () => {
  for (const r of running) {
    r.server.close();
    await r.gateway.close();
    r.server.closeAllConnections();
  }
  await Promise.all(running.map((r) => r.master.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('POST /transfer-leader', () => {
  test('refusals name the reason and change nothing: a malformed id (400), an unknown master (404), a follower asked (409, naming the leader)', async () => {
    const from = leader();
    const term = from.master.status().term;
    const malformed = await transfer(from, 'two');
    expect(malformed.status).toBe(400);
    expect(String(malformed.json['message'])).toMatch(/want the id of the master/);
    const unknown = await transfer(from, '9');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'MASTER_TRANSFER_REFUSED', reason: 'unknown-target' });
    expect(String(unknown.json['message'])).toMatch(/no master 9 in cluster transfer-test \(masters: 1, 2, 3\)/);
    const follower = running.find((r) => r !== from) as Running;
    const asked = await transfer(follower, String(from.master.id));
    expect(asked.status).toBe(409);
    expect(asked.json).toMatchObject({ code: 'MASTER_TRANSFER_REFUSED', reason: 'not-leader', leader: from.master.id });
    expect(leader()).toBe(from);
    expect(from.master.status().term).toBe(term);
  });

  test('the leader hands leadership to the master asked for and answers once it has stepped down', async () => {
    const from = leader();
    const to = running.find((r) => r !== from) as Running;
    const before = from.master.status().term;
    const answer = await transfer(from, String(to.master.id));
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ handedOver: true, leader: to.master.id });
    expect(Number(answer.json['term'])).toBeGreaterThan(before);
    await until('the new leader known to all', () => (running.every((r) => r.master.status().leader === to.master.id) ? true : null));
    expect(leader()).toBe(to);
  });

  test('asking the leader to hand over to itself is a no-op answered 200', async () => {
    const at = leader();
    const term = at.master.status().term;
    const answer = await transfer(at, String(at.master.id));
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ handedOver: true, leader: at.master.id, term });
  });
});
