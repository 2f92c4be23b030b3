// The typed layer over the Transport interface alone, with an in-memory transport that records
// each request (as a master's in-process transport would receive it): the paths, methods,
// parameters, patch media types and bodies of every call, for every served resource.

import { resources, type KubeObject, type Status } from '@raftplane/api';
import { describe, expect, it } from 'vitest';
import {
  ClientErrorCode,
  createClient,
  isClientError,
  patchContentTypes,
  resourceNames,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type WatchEvent,
  type WatchRequest,
  type WatchStream,
} from '../src/index.js';
import { sequenceRandom } from './support/clocks.js';
import { pod } from './support/objects.js';

class RecordingTransport implements Transport {
  readonly requests: TransportRequest[] = [];
  readonly watches: WatchRequest[] = [];
  answer: (request: TransportRequest) => TransportResponse = (request) => ({
    status: 200,
    headers: {},
    body: { kind: 'Thing', metadata: { name: request.path.split('/').at(-1) } },
  });
  events: WatchEvent[] = [];

  async request(request: TransportRequest): Promise<TransportResponse> {
    this.requests.push(request);
    return this.answer(request);
  }

  async watch(request: WatchRequest): Promise<WatchStream> {
    this.watches.push(request);
    const events = [...this.events];
    return {
      origin: 'in-process',
      close: async () => {},
      async *[Symbol.asyncIterator]() {
        yield* events;
      },
    };
  }

  last(): TransportRequest {
    return this.requests.at(-1)!;
  }
}

function setup(): { transport: RecordingTransport; client: ReturnType<typeof createClient> } {
  const transport = new RecordingTransport();
  return { transport, client: createClient(transport, { random: sequenceRandom([0.5]) }) };
}

function invalidArgument(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (isClientError(error, ClientErrorCode.InvalidArgument)) return error.message;
    throw error;
  }
  return 'no error';
}

async function rejectedCode(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isClientError(error) ? error.code : String(error);
}

describe('the resource type map', () => {
  it('names every served resource, and each resolves to its registry entry', () => {
    expect([...resourceNames].sort()).toEqual(resources.map((r) => r.resource).sort());
    const { client } = setup();
    for (const name of resourceNames) expect(client.resource(name).info.resource).toBe(name);
  });
});

describe('paths', () => {
  it('core namespaced, core cluster-scoped and named groups', async () => {
    const { transport, client } = setup();
    await client.resource('pods', 'default').get('web');
    await client.resource('nodes').get('node-1');
    await client.resource('deployments', 'prod').get('api');
    await client.resource('leases', 'kube-node-lease').get('node-1');
    await client.resource('jobs', 'batch-ns').get('nightly');
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/namespaces/default/pods/web',
      'GET /api/v1/nodes/node-1',
      'GET /apis/apps/v1/namespaces/prod/deployments/api',
      'GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1',
      'GET /apis/batch/v1/namespaces/batch-ns/jobs/nightly',
    ]);
  });

  it('escapes names in a path segment', async () => {
    const { transport, client } = setup();
    await client.resource('configmaps', 'default').get('a b/c');
    expect(transport.last().path).toBe('/api/v1/namespaces/default/configmaps/a%20b%2Fc');
  });
});

describe('calls', () => {
  it('list with every parameter, filling kind and apiVersion into items', async () => {
    const { transport, client } = setup();
    transport.answer = () => ({ status: 200, headers: {}, body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'a' } }] } });
    const list = await client.resource('pods').list({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: 10, continue: 'tok', resourceVersion: '5', resourceVersionMatch: 'NotOlderThan' });
    expect(transport.last().path).toBe('/api/v1/pods');
    expect(transport.last().query).toEqual({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: '10', continue: 'tok', resourceVersion: '5', resourceVersionMatch: 'NotOlderThan' });
    expect(list.items[0]).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
  });

  it('listAll follows continue 500 at a time and keeps the first page\'s resourceVersion', async () => {
    const { transport, client } = setup();
    transport.answer = (request) => {
      const page = request.query?.continue === undefined ? 0 : Number(request.query.continue);
      const metadata: Record<string, string> = { resourceVersion: String(40 + page) };
      if (page < 2) metadata.continue = String(page + 1);
      return { status: 200, headers: {}, body: { kind: 'NodeList', apiVersion: 'v1', metadata, items: [{ metadata: { name: `n${page}` } }] } };
    };
    const list = await client.resource('nodes').listAll();
    expect(list.items.map((n) => n.metadata.name)).toEqual(['n0', 'n1', 'n2']);
    expect(list.metadata.resourceVersion).toBe('40');
    expect(transport.requests.map((r) => r.query)).toEqual([{ limit: '500' }, { limit: '500', continue: '1' }, { limit: '500', continue: '2' }]);
  });

  it('create POSTs to the collection of the object\'s namespace with fieldManager', async () => {
    const { transport, client } = setup();
    await client.resource('pods').create(pod('web', { namespace: 'team-a' }), { fieldManager: 'scheduler' });
    expect(transport.last()).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/team-a/pods', query: { fieldManager: 'scheduler' } });
    expect((transport.last().body as KubeObject).metadata.name).toBe('web');
  });

  it('update and updateStatus PUT to the object and its status', async () => {
    const { transport, client } = setup();
    const deployments = client.resource('deployments', 'default');
    const obj = { apiVersion: 'apps/v1' as const, kind: 'Deployment' as const, metadata: { name: 'web', resourceVersion: '12' } };
    await deployments.update(obj);
    await deployments.updateStatus(obj);
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /apis/apps/v1/namespaces/default/deployments/web',
      'PUT /apis/apps/v1/namespaces/default/deployments/web/status',
    ]);
    expect((transport.last().body as KubeObject).metadata.resourceVersion).toBe('12');
  });

  it('patch sends each of the four media types; apply sends fieldManager and force', async () => {
    const { transport, client } = setup();
    const deployments = client.resource('deployments', 'default');
    await deployments.patch('web', 'merge', { spec: { replicas: 2 } });
    await deployments.patch('web', 'json', [{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    await deployments.patch('web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'main', image: 'x' }] } } } });
    await deployments.patch('web', 'apply', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, { fieldManager: 'kubectl', force: true });
    await deployments.patch('web', 'merge', { status: { replicas: 1 } }, { subresource: 'status' });
    expect(transport.requests.map((r) => r.headers?.['content-type'])).toEqual([
      patchContentTypes.merge,
      patchContentTypes.json,
      patchContentTypes.strategic,
      patchContentTypes.apply,
      patchContentTypes.merge,
    ]);
    expect(patchContentTypes).toEqual({
      merge: 'application/merge-patch+json',
      json: 'application/json-patch+json',
      strategic: 'application/strategic-merge-patch+json',
      apply: 'application/apply-patch+yaml',
    });
    expect(transport.requests[3]!.query).toEqual({ fieldManager: 'kubectl', force: 'true' });
    expect(transport.requests[1]!.body).toEqual([{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    expect(transport.last().path).toBe('/apis/apps/v1/namespaces/default/deployments/web/status');
  });

  it('delete sends DeleteOptions; deleteCollection sends selectors too', async () => {
    const { transport, client } = setup();
    transport.answer = () => ({ status: 200, headers: {}, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 } satisfies Status });
    const pods = client.resource('pods', 'default');
    const result = await pods.delete('web', { gracePeriodSeconds: 0, preconditions: { uid: 'u1', resourceVersion: '9' }, propagationPolicy: 'Foreground' });
    expect((result as Status).status).toBe('Success');
    expect(transport.last()).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/default/pods/web' });
    expect(transport.last().body).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: 'u1', resourceVersion: '9' }, propagationPolicy: 'Foreground' });
    await pods.deleteCollection({ labelSelector: 'app=web', fieldSelector: 'status.phase=Succeeded', propagationPolicy: 'Background' });
    expect(transport.last()).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/default/pods', query: { labelSelector: 'app=web', fieldSelector: 'status.phase=Succeeded' } });
    expect(transport.last().body).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
  });

  it('getScale and updateScale use the scale subresource with an autoscaling/v1 Scale', async () => {
    const { transport, client } = setup();
    const replicasets = client.resource('replicasets', 'default');
    await replicasets.getScale('web');
    await replicasets.updateScale('web', { metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 4 } });
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/apps/v1/namespaces/default/replicasets/web/scale',
      'PUT /apis/apps/v1/namespaces/default/replicasets/web/scale',
    ]);
    expect(transport.last().body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 } });
  });

  it('bind POSTs a Binding to pods/<name>/binding with the pod\'s uid', async () => {
    const { transport, client } = setup();
    transport.answer = () => ({ status: 201, headers: {}, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } });
    await client.bind({ metadata: { name: 'web', namespace: 'default', uid: 'u-1' } }, 'node-2');
    expect(transport.last()).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/default/pods/web/binding' });
    expect(transport.last().body).toEqual({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web', namespace: 'default', uid: 'u-1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-2' } });
  });

  it('watch passes its parameters and yields the transport\'s events', async () => {
    const { transport, client } = setup();
    transport.events = [
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '5' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '6' } } },
    ];
    const stream = await client.resource('pods', 'default').watch({ resourceVersion: '4', allowWatchBookmarks: true, labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', timeoutSeconds: 300 });
    const seen: string[] = [];
    for await (const event of stream) seen.push(`${event.type} ${event.object.metadata.resourceVersion}`);
    expect(seen).toEqual(['ADDED 5', 'BOOKMARK 6']);
    expect(transport.watches[0]).toMatchObject({
      path: '/api/v1/namespaces/default/pods',
      query: { resourceVersion: '4', allowWatchBookmarks: 'true', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', timeoutSeconds: '300' },
    });
  });
});

describe('arguments that cannot make a request', () => {
  it('are CLIENT_INVALID_ARGUMENT, and nothing is sent', async () => {
    const { transport, client } = setup();
    expect(await rejectedCode(client.resource('pods').get('web'))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('pods', 'a').create(pod('web', { namespace: 'b' })))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('pods', 'default').getScale('web'))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('namespaces').deleteCollection())).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('bindings', 'default').get('x'))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('deployments', 'default').patch('web', 'apply', {}))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('configmaps', 'default').updateStatus({ metadata: { name: 'c' } }))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.resource('configmaps', 'default').update({ metadata: {} }))).toBe(ClientErrorCode.InvalidArgument);
    expect(await rejectedCode(client.bind({ metadata: { name: 'web' } }, 'n1'))).toBe(ClientErrorCode.InvalidArgument);
    expect(invalidArgument(() => client.resource('widgets' as 'pods'))).toContain('widgets');
    expect(transport.requests).toHaveLength(0);
  });

  it('a 2xx answer without a JSON object is CLIENT_MALFORMED_RESPONSE', async () => {
    const { transport, client } = setup();
    transport.answer = () => ({ status: 200, headers: {}, body: 'not json' });
    expect(await rejectedCode(client.resource('nodes').get('n1'))).toBe(ClientErrorCode.MalformedResponse);
  });
});
