// The HTTP front of the Kubernetes API without a store behind it: a follower that knows no leader
// waits a bounded time, then answers 503 with Retry-After; tokens and in-flight limits.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { ApiHandler, InflightLimiter, KubeApiServer, parseTokenFile, silentLogger, tokenAuthenticator, TokenFileError, type ApiBackend } from '../src/index.js';

const unusedBackend: ApiBackend = {
  range: () => Promise.reject(new Error('no store in this test')),
  txn: () => Promise.reject(new Error('no store in this test')),
  watch: () => {
    throw new Error('no store in this test');
  },
  compactedRevision: () => 0,
};

const servers: Server[] = [];
const agents: Agent[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  for (const agent of agents.splice(0)) await agent.close();
});

async function followerWithoutLeader(leaderWaitMs: number): Promise<string> {
  const handler = new ApiHandler({
    backend: unusedBackend,
    env: { now: Date.now, uid: () => 'uid', random: () => 0.5 },
    authorization: { adminGroups: ['system:masters'], readOnlyGroups: [] },
    serverAddress: '127.0.0.1:1',
    bookmarkIntervalMs: 1000,
    watchTimeoutMsMin: 60_000,
    watchTimeoutSecondsMax: 3600,
  });
  const dispatcher = new Agent();
  agents.push(dispatcher);
  const kube = new KubeApiServer({
    handler,
    backend: unusedBackend,
    leader: { isLeader: () => false, leaderApi: () => null, selfId: 2 },
    authenticate: tokenAuthenticator(null),
    limits: { bodyBytesMax: 1024, inflightPerUserMax: 10, inflightMax: 100, leaderWaitMs, watchBufferBytesMax: 1 << 20 },
    logger: silentLogger,
    now: Date.now,
    dispatcher,
  });
  const server = createServer((req, res) => kube.handle(req, res));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('KubeApiServer without a leader', () => {
  test('a request waits for a leader, then gets 503 with Retry-After; discovery is still served', async () => {
    const base = await followerWithoutLeader(300);
    const started = Date.now();
    const res = await request(`${base}/api/v1/namespaces/default/pods`);
    const body = (await res.body.json()) as { reason: string; code: number; message: string };
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(body).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    expect(body.message).toContain('no leader is elected');
    const discovery = await request(`${base}/api/v1`);
    expect(discovery.statusCode).toBe(200);
    await discovery.body.text();
  });

  test('a body over the limit is 413 before anything else', async () => {
    const base = await followerWithoutLeader(10_000);
    const res = await request(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: 'x'.repeat(2048), headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(413);
    expect(((await res.body.json()) as { reason: string }).reason).toBe('RequestEntityTooLarge');
  });
});

describe('tokens and limits', () => {
  test('the token file format of kube-apiserver, with clear errors', () => {
    const users = parseTokenFile('# comment\nsecret-token-for-alice,alice,1,"system:masters,dev"\n\nsecret-token-for-bob-1,bob,2\n', 'tokens.csv');
    expect(users.get('secret-token-for-alice')).toEqual({ name: 'alice', uid: '1', groups: ['system:masters', 'dev'] });
    expect(users.get('secret-token-for-bob-1')?.groups).toEqual([]);
    expect(() => parseTokenFile('short,x,1\n', 'f.csv')).toThrow(new TokenFileError('f.csv:1: the token of user x is shorter than 16 characters'));
    expect(() => parseTokenFile('only-a-token-here-123\n', 'f.csv')).toThrow(/f\.csv:1: expected token,user,uid/);
    expect(() => parseTokenFile('', 'f.csv')).toThrow(/no tokens/);
    const authenticate = tokenAuthenticator(users);
    expect(authenticate('Bearer secret-token-for-alice')?.name).toBe('alice');
    expect(authenticate('Bearer nope')).toBeNull();
    expect(authenticate(undefined, `base64url.bearer.authorization.k8s.io.${Buffer.from('secret-token-for-bob-1').toString('base64url')}`)?.name).toBe('bob');
  });

  test('in-flight limits per user and in total', () => {
    const limiter = new InflightLimiter({ perUserMax: 2, totalMax: 3 });
    const a1 = limiter.acquire('a');
    limiter.acquire('a');
    expect(() => limiter.acquire('a')).toThrow(/too many requests from user "a"/);
    const b1 = limiter.acquire('b');
    expect(() => limiter.acquire('c')).toThrow(/too many requests in flight/);
    a1();
    a1();
    b1();
    expect(limiter.inFlight()).toBe(1);
    expect(limiter.refused).toEqual({ user: 1, total: 1 });
  });
});
