// The Kubernetes API of one in-process master (a cluster of one): every resource and verb, the
// resourceVersion rules, watch over chunked HTTP and WebSocket, and every refusal with its code
// (400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429), each changing nothing.

import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { createEtcdGateway, etcdGatewayDefaults, type EtcdGateway } from '../src/etcd/gateway.js';
import { Master, createApiServer, createKubeApi, createKvService, parseClusterConfig } from '../src/index.js';

const adminToken = 'kube-api-test-admin-token';
const viewerToken = 'kube-api-test-viewer-token';
const flooderToken = 'kube-api-test-flooder-token';

let dir: string;
let master: Master;
let server: Server;
let gateway: EtcdGateway;
let base: string;
let closeKubeApi: () => void;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-kube-api-'));
  const [peerPort, apiPort] = await freePorts(2);
  await writeFile(
    join(dir, 'tokens.csv'),
    `${adminToken},admin,1,"system:masters"\n${viewerToken},viewer,2,"raftplane:viewers"\n${flooderToken},flooder,3,"system:masters"\n`,
  );
  const config = parseClusterConfig(
    {
      name: 'kube-api-test',
      secret: 'kube-api-test-shared-secret',
      masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
      apiserver: { tokenFile: 'tokens.csv', bodyBytesMax: 64 * 1024, inflightPerUserMax: 8, bookmarkIntervalMs: 200, leaderDutiesIntervalMs: 200 },
    },
    'kube-api-test',
    dir,
  );
  const logger = pino({ level: 'silent' });
  master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  const service = createKvService(master);
  gateway = createEtcdGateway({ ...etcdGatewayDefaults, service, logger });
  const { server: kubeApi } = await createKubeApi({ master, service, logger });
  closeKubeApi = () => kubeApi.close();
  server = createApiServer({ master, logger, gateway, kubeApi });
  server.listen(apiPort, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; i < 300 && !master.isLeading(); i++) await new Promise((r) => setTimeout(r, 50));
  // The leader creates the system namespaces.
  for (let i = 0; i < 100 && (await api('GET', '/api/v1/namespaces/default')).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  closeKubeApi();
  server.close();
  await gateway.close();
  server.closeAllConnections();
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

async function api(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string | Buffer; token?: string | null; contentType?: string; accept?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? adminToken : options.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body: string | Buffer | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.accept !== undefined) headers['accept'] = options.accept;
  const res = await request(`${base}${path}`, { method: method as 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.body.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, json, headers: res.headers };
}

/** A POST whose headers and first body byte are sent at once; the rest is sent by `finish`, which resolves to the status. */
function heldPost(path: string, token: string, body: unknown): { finish: () => Promise<number> } {
  const text = JSON.stringify(body);
  const url = new URL(`${base}${path}`);
  const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } });
  const answered = new Promise<number>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
  answered.catch(() => undefined); // awaited through finish(); a test that fails first leaves it to afterAll's closing
  req.write(text.slice(0, 1));
  return {
    finish: () => {
      req.end(text.slice(1));
      return answered;
    },
  };
}

function pod(name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } };
}

function deployment(name: string, replicas = 1): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

/** Reads a chunked watch until `until` says stop (or the time runs out), then aborts it. */
async function httpWatch(path: string, until: (events: any[]) => boolean, timeoutMs = 5_000): Promise<{ status: number; events: any[]; contentType: string | undefined }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const res = await request(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` }, signal: controller.signal });
  const events: any[] = [];
  let buffered = '';
  try {
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        events.push(JSON.parse(buffered.slice(0, newline)));
        buffered = buffered.slice(newline + 1);
      }
      if (until(events)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: res.statusCode, events, contentType: res.headers['content-type'] as string | undefined };
}

describe('discovery and version', () => {
  test('the legacy discovery documents list every group, version and resource kubectl needs', async () => {
    expect((await api('GET', '/api')).json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await api('GET', '/apis')).json;
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'coordination.k8s.io']));
    const core = (await api('GET', '/api/v1')).json;
    expect(core.resources.find((r: any) => r.name === 'pods')).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'] });
    expect(core.resources.map((r: any) => r.name)).toEqual(expect.arrayContaining(['pods/status', 'pods/binding', 'pods/log', 'nodes', 'namespaces']));
    const apps = (await api('GET', '/apis/apps/v1')).json;
    expect(apps.resources.find((r: any) => r.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect((await api('GET', '/apis/apps')).json).toMatchObject({ kind: 'APIGroup', name: 'apps' });
    expect((await api('GET', '/version')).json).toMatchObject({ major: '1', minor: '20' });
    expect((await api('GET', '/apis/nope/v1')).status).toBe(404);
  });

  test('openapi v2 is an empty document (validation skipped) and v3 is not served', async () => {
    const v2 = await api('GET', '/openapi/v2');
    expect(v2.status).toBe(200);
    expect(v2.headers['content-type']).toBe('application/octet-stream');
    expect((await api('GET', '/openapi/v3')).status).toBe(404);
  });

  test('every answer names the leader', async () => {
    const answer = await api('GET', '/api/v1/namespaces');
    expect(answer.headers['x-raftplane-leader']).toBe(base);
  });
});

describe('authentication and authorization', () => {
  test('a request without a token, or with an unknown one, is 401 and changes nothing', async () => {
    const none = await api('POST', '/api/v1/namespaces/default/pods', { body: pod('no-token'), token: null });
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await api('GET', '/api/v1/namespaces/default/pods', { token: 'not-a-known-token-at-all' })).status).toBe(401);
    expect((await api('GET', '/api/v1/namespaces/default/pods/no-token')).status).toBe(404);
  });

  test('the read-only group may get, list and watch, and nothing else (403)', async () => {
    expect((await api('GET', '/api/v1/namespaces/default/pods', { token: viewerToken })).status).toBe(200);
    const refused = await api('POST', '/api/v1/namespaces/default/pods', { body: pod('by-viewer'), token: viewerToken });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toBe('pods is forbidden: User "viewer" cannot create resource "pods" in API group "" in the namespace "default"');
    expect((await api('GET', '/api/v1/namespaces/default/pods/by-viewer')).status).toBe(404);
  });

  test('health endpoints stay open', async () => {
    expect((await api('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await api('GET', '/readyz', { token: null })).status).toBe(200);
  });
});

describe('create, get, list, update, patch, delete', () => {
  test('create answers 201 with uid, creationTimestamp and resourceVersion; get reads it back', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/pods', { body: pod('p1', { app: 'a' }) });
    expect(created.status).toBe(201);
    expect(created.json.metadata).toMatchObject({ name: 'p1', namespace: 'default', uid: expect.any(String), resourceVersion: expect.stringMatching(/^\d+$/) });
    expect(created.json.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst' });
    expect(created.json.status).toEqual({ phase: 'Pending' });
    const got = await api('GET', '/api/v1/namespaces/default/pods/p1');
    expect(got.json).toEqual(created.json);
    const dup = await api('POST', '/api/v1/namespaces/default/pods', { body: pod('p1') });
    expect(dup.status).toBe(409);
    expect(dup.json).toMatchObject({ reason: 'AlreadyExists', message: 'pods "p1" already exists' });
  });

  test('generateName makes a fresh name', async () => {
    const created = await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { generateName: 'gen-' }, data: { k: 'v' } } });
    expect(created.status).toBe(201);
    expect(created.json.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(created.json).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
  });

  test('a create in a namespace that does not exist is 404 and in one being deleted is 403', async () => {
    const missing = await api('POST', '/api/v1/namespaces/nowhere/pods', { body: pod('x') });
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('namespaces "nowhere" not found');
  });

  test('update with the current resourceVersion succeeds; with a stale one it is 409 and changes nothing', async () => {
    const cm = (await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'cm1' }, data: { a: '1' } } })).json;
    const updated = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { body: { ...cm, data: { a: '2' } } });
    expect(updated.status).toBe(200);
    expect(Number(updated.json.metadata.resourceVersion)).toBeGreaterThan(Number(cm.metadata.resourceVersion));
    const stale = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { body: { ...cm, data: { a: '3' } } });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(stale.json.message).toContain('the object has been modified');
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/cm1')).json.data).toEqual({ a: '2' });
    // Without a resourceVersion the update is unconditional.
    const { resourceVersion: _rv, ...meta } = cm.metadata;
    const unconditional = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { body: { ...cm, metadata: meta, data: { a: '4' } } });
    expect(unconditional.status).toBe(200);
    expect(unconditional.json.data).toEqual({ a: '4' });
  });

  test('an update that changes nothing keeps the resourceVersion', async () => {
    const current = (await api('GET', '/api/v1/namespaces/default/configmaps/cm1')).json;
    const same = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { body: current });
    expect(same.json.metadata.resourceVersion).toBe(current.metadata.resourceVersion);
  });

  test('the three patch types and server-side apply', async () => {
    await api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('web', 1) });
    const merge = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { body: { metadata: { labels: { m: '1' } } }, contentType: 'application/merge-patch+json' });
    expect(merge.status).toBe(200);
    expect(merge.json.metadata.labels).toEqual({ m: '1' });
    const json = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', {
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      contentType: 'application/json-patch+json',
    });
    expect(json.json.spec.replicas).toBe(3);
    expect(json.json.metadata.generation).toBe(2);
    const strategic = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', {
      body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:2' }] } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(strategic.json.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sidecar', 'c']);
    const applied = await api('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=tester', {
      raw: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  x: "1"\n',
      contentType: 'application/apply-patch+yaml',
    });
    expect(applied.status).toBe(201);
    expect(applied.json.metadata.managedFields[0]).toMatchObject({ manager: 'tester', operation: 'Apply' });
    const conflict = await api('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=other', {
      raw: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  x: "2"\n',
      contentType: 'application/apply-patch+yaml',
    });
    expect(conflict.status).toBe(409);
    expect(conflict.json.reason).toBe('Conflict');
    const forced = await api('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=other&force=true', {
      raw: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  x: "2"\n',
      contentType: 'application/apply-patch+yaml',
    });
    expect(forced.json.data).toEqual({ x: '2' });
    const badType = await api('PATCH', '/api/v1/namespaces/default/configmaps/ssa', { body: {}, contentType: 'text/plain' });
    expect(badType.status).toBe(415);
  });

  test('list answers the store revision; limit and continue page through one consistent snapshot', async () => {
    for (let i = 0; i < 5; i++) await api('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: `s${i}` }, stringData: {}, data: { k: 'dg==' } } });
    const first = await api('GET', '/api/v1/namespaces/default/secrets?limit=2');
    expect(first.json).toMatchObject({ kind: 'SecretList', apiVersion: 'v1' });
    expect(first.json.items.map((s: any) => s.metadata.name)).toEqual(['s0', 's1']);
    expect(first.json.metadata.continue).toEqual(expect.any(String));
    const revision = first.json.metadata.resourceVersion;
    // A write between pages is not seen by the pages that follow.
    await api('DELETE', '/api/v1/namespaces/default/secrets/s3');
    const second = await api('GET', `/api/v1/namespaces/default/secrets?limit=2&continue=${first.json.metadata.continue}`);
    expect(second.json.items.map((s: any) => s.metadata.name)).toEqual(['s2', 's3']);
    expect(second.json.metadata.resourceVersion).toBe(revision);
    const third = await api('GET', `/api/v1/namespaces/default/secrets?limit=2&continue=${second.json.metadata.continue}`);
    expect(third.json.items.map((s: any) => s.metadata.name)).toEqual(['s4']);
    expect(third.json.metadata.continue).toBeUndefined();
    const now = await api('GET', '/api/v1/namespaces/default/secrets');
    expect(now.json.items.map((s: any) => s.metadata.name)).toEqual(['s0', 's1', 's2', 's4']);
  });

  test('resourceVersion and resourceVersionMatch on get and list', async () => {
    const cm = (await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'rv' }, data: { v: '1' } } })).json;
    const rv1 = cm.metadata.resourceVersion;
    await api('PUT', '/api/v1/namespaces/default/configmaps/rv', { body: { ...cm, data: { v: '2' } } });
    const exact = await api('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv1}&resourceVersionMatch=Exact&fieldSelector=metadata.name=rv`);
    expect(exact.json.items[0].data).toEqual({ v: '1' });
    expect(exact.json.metadata.resourceVersion).toBe(rv1);
    const notOlder = await api('GET', `/api/v1/namespaces/default/configmaps/rv?resourceVersion=${rv1}`);
    expect(notOlder.json.data).toEqual({ v: '2' });
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/rv?resourceVersion=0')).json.data).toEqual({ v: '2' });
    const future = await api('GET', '/api/v1/namespaces/default/configmaps/rv?resourceVersion=999999999');
    expect(future.status).toBe(504);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact')).status).toBe(400);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=abc')).status).toBe(400);
  });

  test('label and field selectors on list', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('sel-a', { tier: 'front', env: 'prod' }) });
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('sel-b', { tier: 'back', env: 'prod' }) });
    const names = async (query: string) => (await api('GET', `/api/v1/namespaces/default/pods?${query}`)).json.items.map((p: any) => p.metadata.name);
    expect(await names('labelSelector=tier%3Dfront')).toEqual(['sel-a']);
    expect(await names('labelSelector=env%3Dprod%2Ctier%20in%20(back)')).toEqual(['sel-b']);
    expect(await names('fieldSelector=metadata.name%3Dsel-b')).toEqual(['sel-b']);
    expect(await names('fieldSelector=status.phase%3DPending&labelSelector=env')).toEqual(['sel-a', 'sel-b']);
    const bad = await api('GET', '/api/v1/namespaces/default/pods?fieldSelector=spec.nope%3Dx');
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('field label not supported: spec.nope');
    expect((await api('GET', '/api/v1/namespaces/default/pods?labelSelector=a%20in%20(')).status).toBe(400);
    // Across namespaces.
    const all = await api('GET', '/api/v1/pods?labelSelector=env%3Dprod');
    expect(all.json.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['default/sel-a', 'default/sel-b']);
  });

  test('a server-side Table has Kubernetes columns, and rows with metadata', async () => {
    const table = await api('GET', '/api/v1/namespaces/default/pods?labelSelector=env%3Dprod', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(table.json.kind).toBe('Table');
    expect(table.json.columnDefinitions.map((c: any) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.json.rows[0].cells.slice(0, 4)).toEqual(['sel-a', '0/1', 'Pending', 0]);
    expect(table.json.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'sel-a', namespace: 'default' } });
    const partial = await api('GET', '/api/v1/namespaces/default/pods', { accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' });
    expect(partial.json.kind).toBe('PartialObjectMetadataList');
  });

  test('delete: an unbound pod goes at once; a bound pod is marked and removed after its grace period', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('gone-now') });
    const now = await api('DELETE', '/api/v1/namespaces/default/pods/gone-now');
    expect(now.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/gone-now')).status).toBe(404);
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('graceful', {}, { nodeName: 'node-1', terminationGracePeriodSeconds: 1 }) });
    const marked = await api('DELETE', '/api/v1/namespaces/default/pods/graceful');
    expect(marked.status).toBe(202);
    expect(marked.json.metadata).toMatchObject({ deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 1 });
    expect((await api('GET', '/api/v1/namespaces/default/pods/graceful')).status).toBe(200);
    // Nobody confirms: the leader removes it once the grace period has run out.
    let status = 200;
    for (let i = 0; i < 60 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await api('GET', '/api/v1/namespaces/default/pods/graceful')).status;
    }
    expect(status).toBe(404);
    // A node that confirms (grace 0) removes it at once.
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('confirmed', {}, { nodeName: 'node-1' }) });
    expect((await api('DELETE', '/api/v1/namespaces/default/pods/confirmed')).status).toBe(202);
    expect((await api('DELETE', '/api/v1/namespaces/default/pods/confirmed', { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 } })).status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/confirmed')).status).toBe(404);
  });

  test('delete preconditions and deletecollection', async () => {
    const cm = (await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'pre', labels: { batch: 'x' } } } })).json;
    const wrong = await api('DELETE', '/api/v1/namespaces/default/configmaps/pre', { body: { preconditions: { uid: 'not-the-uid' } } });
    expect(wrong.status).toBe(409);
    expect(wrong.json.message).toContain('Precondition failed: UID in precondition: not-the-uid');
    expect((await api('DELETE', '/api/v1/namespaces/default/configmaps/pre', { body: { preconditions: { uid: cm.metadata.uid } } })).status).toBe(200);
    for (const name of ['c1', 'c2', 'c3']) await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name, labels: { batch: name === 'c3' ? 'y' : 'x' } } } });
    const deleted = await api('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dx');
    expect(deleted.json.items.map((c: any) => c.metadata.name)).toEqual(['c1', 'c2']);
    const left = (await api('GET', '/api/v1/namespaces/default/configmaps?labelSelector=batch')).json.items.map((c: any) => c.metadata.name);
    expect(left).toEqual(['c3']);
    expect((await api('DELETE', '/api/v1/namespaces/default/configmaps/never-was')).status).toBe(404);
  });

  test('Foreground and Orphan deletion leave the object marked with the finalizer the garbage collector removes', async () => {
    for (const [policy, finalizer] of [['Foreground', 'foregroundDeletion'], ['Orphan', 'orphan']] as const) {
      const name = `owner-${finalizer.toLowerCase()}`;
      await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name } } });
      const marked = await api('DELETE', `/api/v1/namespaces/default/configmaps/${name}`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy } });
      expect(marked.status).toBe(202);
      expect(marked.json.metadata).toMatchObject({ finalizers: [finalizer], deletionTimestamp: expect.any(String) });
      // The collector's last step: the finalizer removed, and the object goes.
      const removed = await api('PATCH', `/api/v1/namespaces/default/configmaps/${name}`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
      expect(removed.status).toBe(200);
      expect((await api('GET', `/api/v1/namespaces/default/configmaps/${name}`)).status).toBe(404);
    }
    expect((await api('DELETE', '/api/v1/namespaces/default/configmaps/x', { body: { propagationPolicy: 'Sideways' } })).status).toBe(400);
  });

  test('cluster-scoped kinds, and namespaces: deleting one marks it Terminating and refuses new content', async () => {
    const node = await api('POST', '/api/v1/nodes', { body: { metadata: { name: 'node-a', labels: { zone: 'z1' } }, status: { capacity: { cpu: '2', memory: '1Gi', pods: '10' } } } });
    expect(node.status).toBe(201);
    expect(node.json.metadata.namespace).toBeUndefined();
    expect((await api('GET', '/api/v1/nodes/node-a')).json.status.allocatable).toEqual({ cpu: '2', memory: '1Gi', pods: '10' });
    expect((await api('POST', '/api/v1/namespaces', { body: { metadata: { name: 'team' } } })).status).toBe(201);
    await api('POST', '/api/v1/namespaces/team/configmaps', { body: { metadata: { name: 'inside' } } });
    const deleting = await api('DELETE', '/api/v1/namespaces/team');
    expect(deleting.json.status.phase).toBe('Terminating');
    expect(deleting.json.metadata.deletionTimestamp).toEqual(expect.any(String));
    const refused = await api('POST', '/api/v1/namespaces/team/configmaps', { body: { metadata: { name: 'late' } } });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain('because it is being terminated');
    // Emptying and removing it is the namespace controller's (packages/controllers), not run here.
    expect((await api('GET', '/api/v1/namespaces/team/configmaps/inside')).status).toBe(200);
  });

  test('every kind can be created and read back', async () => {
    const bodies: [string, unknown][] = [
      ['/api/v1/namespaces/default/services', { metadata: { name: 'svc' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } }],
      ['/api/v1/namespaces/default/endpoints', { metadata: { name: 'svc' }, subsets: [{ addresses: [{ ip: '127.0.0.5' }], ports: [{ port: 80 }] }] }],
      ['/api/v1/namespaces/default/events', { metadata: { name: 'ev1' }, involvedObject: { kind: 'Pod', name: 'p1', namespace: 'default' }, reason: 'Tested', message: 'hello', type: 'Normal' }],
      ['/apis/apps/v1/namespaces/default/replicasets', { ...deployment('rs1'), kind: 'ReplicaSet' }],
      ['/apis/apps/v1/namespaces/default/daemonsets', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds1' }, spec: (deployment('ds1') as any).spec }],
      ['/apis/apps/v1/namespaces/default/statefulsets', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'sts1' }, spec: { ...(deployment('sts1') as any).spec, serviceName: 'sts1' } }],
      ['/apis/batch/v1/namespaces/default/jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'job1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }],
      ['/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { metadata: { name: 'node-a' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40 } }],
    ];
    for (const [path, body] of bodies) {
      const created = await api('POST', path, { body });
      expect(created.status, `${path}: ${JSON.stringify(created.json)}`).toBe(201);
      const name = (body as any).metadata.name;
      expect((await api('GET', `${path}/${name}`)).json.metadata.uid).toBe(created.json.metadata.uid);
    }
  });
});

describe('subresources', () => {
  test('status: the main resource keeps status, the status subresource keeps spec', async () => {
    const current = (await api('GET', '/apis/apps/v1/namespaces/default/deployments/web')).json;
    const main = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web', { body: { ...current, status: { replicas: 9 } } });
    expect(main.json.status).toEqual(current.status);
    const status = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web/status', { body: { ...main.json, spec: { ...main.json.spec, replicas: 7 }, status: { replicas: 2, observedGeneration: 3 } } });
    expect(status.status).toBe(200);
    expect(status.json.status).toMatchObject({ replicas: 2 });
    expect(status.json.spec.replicas).toBe(main.json.spec.replicas);
    const patched = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/status', { body: { status: { readyReplicas: 1 } }, contentType: 'application/merge-patch+json' });
    expect(patched.json.status).toMatchObject({ replicas: 2, readyReplicas: 1 });
  });

  test('scale reads and writes spec.replicas as an autoscaling/v1 Scale', async () => {
    const scale = await api('GET', '/apis/apps/v1/namespaces/default/deployments/web/scale');
    expect(scale.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 3 }, status: { replicas: 2, selector: 'app=web' } });
    const patched = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json' });
    expect(patched.json.spec.replicas).toBe(5);
    expect((await api('GET', '/apis/apps/v1/namespaces/default/deployments/web')).json.spec.replicas).toBe(5);
    const put = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web' }, spec: { replicas: 4 } } });
    expect(put.json.spec.replicas).toBe(4);
    const negative = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { spec: { replicas: -1 } } });
    expect(negative.status).toBe(422);
    expect(negative.json.details.causes[0]).toMatchObject({ field: 'spec.replicas' });
    const stale = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { metadata: { name: 'web', resourceVersion: '1' }, spec: { replicas: 1 } } });
    expect(stale.status).toBe(409);
  });

  test('binding assigns a pod to a node once', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('to-bind') });
    const bound = await api('POST', '/api/v1/namespaces/default/pods/to-bind/binding', { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind' }, target: { kind: 'Node', name: 'node-a' } } });
    expect(bound.status).toBe(201);
    expect(bound.json).toMatchObject({ kind: 'Status', status: 'Success' });
    const pod1 = (await api('GET', '/api/v1/namespaces/default/pods/to-bind')).json;
    expect(pod1.spec.nodeName).toBe('node-a');
    expect(pod1.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    const again = await api('POST', '/api/v1/namespaces/default/pods/to-bind/binding', { body: { metadata: { name: 'to-bind' }, target: { name: 'node-b' } } });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('is already assigned to node "node-a"');
    const noTarget = await api('POST', '/api/v1/namespaces/default/pods/to-bind/binding', { body: { metadata: { name: 'to-bind' } } });
    expect(noTarget.status).toBe(422);
  });

  test('log names what is missing: a node without an agent endpoint, a pod without a node, a bad tailLines', async () => {
    const log = await api('GET', '/api/v1/namespaces/default/pods/to-bind/log');
    expect(log.status).toBe(404);
    expect(log.json.message).toBe('pods "to-bind" has no logs to show: node node-a has no agent endpoint (status.daemonEndpoints)');
    await api('POST', '/api/v1/namespaces/default/pods', { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unbound-log' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    const unbound = await api('GET', '/api/v1/namespaces/default/pods/unbound-log/log');
    expect(unbound.status).toBe(400);
    expect(unbound.json.message).toBe('pod unbound-log does not have a host assigned');
    await api('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } } });
    await api('PUT', '/api/v1/nodes/node-a/status', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.1.99' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } } });
    const badTail = await api('GET', '/api/v1/namespaces/default/pods/to-bind/log?tailLines=-3');
    expect(badTail.status).toBe(400);
    expect(badTail.json.message).toContain('tailLines: Invalid value: "-3"');
    const badTime = await api('GET', '/api/v1/namespaces/default/pods/to-bind/log?sinceTime=yesterday');
    expect([badTime.status, badTime.json.message]).toEqual([400, 'sinceTime: Invalid value: "yesterday": must be an RFC 3339 time']);
    const both = await api('GET', '/api/v1/namespaces/default/pods/to-bind/log?sinceTime=2026-11-26T21:00:00Z&sinceSeconds=5');
    expect([both.status, both.json.message]).toEqual([400, 'at most one of `sinceTime` or `sinceSeconds` may be specified']);
    // The endpoint exists but nothing listens there: the agent cannot be reached.
    const unreachable = await api('GET', '/api/v1/namespaces/default/pods/to-bind/log');
    expect(unreachable.status).toBe(503);
    expect(unreachable.json.message).toContain('the node agent at 127.0.1.99:1 could not be reached');
  });
});

describe('bad input changes nothing', () => {
  test('malformed JSON, wrong types, wrong kind, mismatched names and bad names', async () => {
    const before = (await api('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion;
    const malformed = await api('POST', '/api/v1/namespaces/default/configmaps', { raw: '{"metadata": {' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.message).toContain('not valid JSON');
    const wrongKind = await api('POST', '/api/v1/namespaces/default/configmaps', { body: { kind: 'Secret', metadata: { name: 'x' } } });
    expect(wrongKind.status).toBe(400);
    const badName = await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'Not_A_Name' } } });
    expect(badName.status).toBe(422);
    expect(badName.json.details.causes[0]).toMatchObject({ field: 'metadata.name' });
    const wrongType = await api('POST', '/apis/apps/v1/namespaces/default/deployments', { body: { ...deployment('typed'), spec: { ...(deployment('typed') as any).spec, replicas: 'three' } } });
    expect(wrongType.status).toBe(422);
    const otherNamespace = await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'x', namespace: 'kube-system' } } });
    expect(otherNamespace.status).toBe(400);
    const renamed = await api('PUT', '/api/v1/namespaces/default/configmaps/cm1', { body: { metadata: { name: 'other' } } });
    expect(renamed.status).toBe(400);
    const immutable = (await api('GET', '/apis/apps/v1/namespaces/default/deployments/web')).json;
    const selectorChange = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/web', { body: { ...immutable, spec: { ...immutable.spec, selector: { matchLabels: { app: 'other' } } } } });
    expect(selectorChange.status).toBe(422);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion).toBe(before);
  });

  test('unknown paths are 404, unsupported methods 405, oversize bodies 413', async () => {
    expect((await api('GET', '/api/v1/namespaces/default/widgets')).status).toBe(404);
    expect((await api('GET', '/api/v1/pods/x')).status).toBe(404);
    expect((await api('PUT', '/api/v1/pods')).status).toBe(405);
    const huge = await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'huge' }, data: { blob: 'x'.repeat(100 * 1024) } } });
    expect(huge.status).toBe(413);
    expect(huge.json.reason).toBe('RequestEntityTooLarge');
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/huge')).status).toBe(404);
  });

  test('a client flooding the server gets 429 while another user is still served', async () => {
    // The flooder holds all 8 of its slots with requests whose bodies are still being sent (a slot
    // is taken when the headers arrive), so refusals do not depend on how fast the store commits.
    const held = Array.from({ length: 8 }, (_, i) => heldPost('/api/v1/namespaces/default/configmaps', flooderToken, { metadata: { name: `flood-${i}` } }));
    let refused: Answer | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const extra = await api('POST', '/api/v1/namespaces/default/configmaps', { token: flooderToken, body: { metadata: { name: `flood-extra-${i}` } } });
      if (extra.status === 429) refused = extra;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(refused?.status).toBe(429);
    expect(refused!.headers['retry-after']).toBe('1');
    expect(refused!.json).toMatchObject({ reason: 'TooManyRequests', code: 429 });
    expect(refused!.json.message).toContain('too many requests from user "flooder": 8 in flight (at most 8)');
    // Another user is served while the flooder's slots are all taken.
    expect((await api('GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    // The held requests finish normally once their bodies arrive, and give their slots back.
    expect(await Promise.all(held.map((h) => h.finish()))).toEqual(Array(8).fill(201));
    expect((await api('POST', '/api/v1/namespaces/default/configmaps', { token: flooderToken, body: { metadata: { name: 'flood-after' } } })).status).toBe(201);
  });
});

describe('watch', () => {
  test('chunked HTTP: headers at once, one event per line, from a resourceVersion, with selectors (a pod that stops matching is DELETED)', async () => {
    const start = (await api('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion;
    const watching = httpWatch(`/api/v1/namespaces/default/pods?watch=true&resourceVersion=${start}&labelSelector=w%3D1`, (events) => events.length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('w1', { w: '1' }) });
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('w-other', { w: '2' }) });
    await api('PATCH', '/api/v1/namespaces/default/pods/w1', { body: { metadata: { annotations: { a: 'b' } } }, contentType: 'application/merge-patch+json' });
    await api('PATCH', '/api/v1/namespaces/default/pods/w1', { body: { metadata: { labels: { w: '0' } } }, contentType: 'application/merge-patch+json' });
    const { status, events, contentType } = await watching;
    expect(status).toBe(200);
    expect(contentType).toBe('application/json');
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    const revisions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
  });

  test('without a resourceVersion the current state comes first as ADDED', async () => {
    const { events } = await httpWatch('/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Dsel-a', (e) => e.length >= 1);
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'sel-a' } } });
  });

  test('bookmarks and timeoutSeconds', async () => {
    const started = Date.now();
    const { events } = await httpWatch('/api/v1/namespaces/default/pods?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=none%3Dnone', () => false, 5_000);
    expect(Date.now() - started).toBeLessThan(4_000);
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThan(0);
    expect(bookmarks[0].object).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
  });

  test('a watch from a compacted resourceVersion gets 410 Gone; so does a list continue from a compacted revision', async () => {
    const page = await api('GET', '/api/v1/namespaces/default/secrets?limit=1');
    await api('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'after-compaction' } } });
    const compactedAt = Number((await api('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion);
    const compaction = await request(`${base}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(compactedAt), physical: true }) });
    const compacted = await compaction.body.text();
    expect(compaction.statusCode, compacted).toBe(200);
    const pastRead = await api('GET', '/api/v1/namespaces/default/pods?resourceVersion=2&resourceVersionMatch=Exact');
    expect(pastRead.status, JSON.stringify(pastRead.json)).toBe(410);
    const { events } = await httpWatch('/api/v1/namespaces/default/pods?watch=true&resourceVersion=2', (e) => e.length >= 1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    const expired = await api('GET', `/api/v1/namespaces/default/secrets?limit=1&continue=${page.json.metadata.continue}`);
    expect(expired.status).toBe(410);
    expect((await api('GET', '/api/v1/namespaces/default/secrets?limit=1&continue=bm90LWEtdG9rZW4')).status).toBe(400);
  });

  test('WebSocket: one event per message, Table presentation for kubectl -w', async () => {
    const start = (await api('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion;
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${start}`, { headers: { authorization: `Bearer ${adminToken}` } });
    const messages: any[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await once(ws, 'open');
    await api('POST', '/api/v1/namespaces/default/pods', { body: pod('ws1') });
    await api('DELETE', '/api/v1/namespaces/default/pods/ws1');
    for (let i = 0; i < 50 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    ws.close();
    expect(messages.map((m) => `${m.type} ${m.object.metadata.name}`)).toEqual(['ADDED ws1', 'DELETED ws1']);
    const refused = new WebSocket(`${base.replace('http', 'ws')}/api/v1/namespaces/default/pods?watch=true`);
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(401);
    refused.on('error', () => {});
    refused.terminate();
    const table = await httpWatch(`/api/v1/namespaces/default/pods?watch=true&resourceVersion=${start}`.replace('watch=true', 'watch=true'), (e) => e.length >= 1);
    expect(table.events[0].object.kind).toBe('Pod');
  });
});
