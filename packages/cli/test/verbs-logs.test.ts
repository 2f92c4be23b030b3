// raftplane logs against an in-process master whose node points at a fake agent (the kubelet's
// /containerLogs endpoint) on loopback: the apiserver proxies pods/log to it as it would to a
// real agent. Pods, workloads, containers, every flag, -f until interrupted, and every error.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '@raftplane/api';
import { closedServer, forbiddingServer, linesOf, startVerb } from './support/read-output.js';
import { runVerbAgainst, startVerbCluster, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
let agent: Server;
/** Every request the fake agent got: its path and query. */
const seen: { path: string; query: Record<string, string> }[] = [];
let followClosed = false;
const logs = (...argv: string[]) => runVerbAgainst(cluster.server, 'logs', argv);

/** The kubelet's log endpoint, enough of it: one-line text errors, follow streams that stay open. */
function fakeAgent(): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const query = Object.fromEntries(url.searchParams);
    seen.push({ path: url.pathname, query });
    const [, , , pod] = url.pathname.split('/');
    const container = query.container ?? '';
    const valid = pod?.startsWith('web-') === true ? ['web'] : ['a', 'b'];
    if (!valid.includes(container)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`container ${container} is not valid for pod ${pod}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (query.follow === 'true') {
      res.write('first\n');
      const timer = setTimeout(() => res.write('second\n'), 50);
      res.once('close', () => {
        clearTimeout(timer);
        followClosed = true;
      });
      return;
    }
    if (query.previous === 'true') {
      res.end(`previous run of ${container}\n`);
      return;
    }
    const lines = [`${pod}/${container} line 1`, `${pod}/${container} line 2`];
    const tail = query.tailLines === undefined ? lines : lines.slice(-Number(query.tailLines));
    res.end(tail.map((l) => `${query.timestamps === 'true' ? '2026-11-26T21:53:06.000000000Z ' : ''}${l}\n`).join(''));
  });
}

function pod(name: string, labels: Record<string, string>, containers: string[], nodeName?: string, annotations?: Record<string, string>): Pod {
  return { metadata: { name, labels, ...(annotations === undefined ? {} : { annotations }) }, spec: { containers: containers.map((c) => ({ name: c, image: 'busybox' })), ...(nodeName === undefined ? {} : { nodeName }) } };
}

beforeAll(async () => {
  agent = fakeAgent();
  agent.listen(0, '127.0.0.1');
  await once(agent, 'listening');
  cluster = await startVerbCluster({ components: false });
  const c = cluster.client;
  await c.resource('namespaces').create({ metadata: { name: 'shop' } });
  await c.resource('nodes').create({ metadata: { name: 'node-a' } });
  const node = await c.resource('nodes').get('node-a');
  await c.resource('nodes').updateStatus({ ...node, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: (agent.address() as AddressInfo).port } } } });
  const pods = c.resource('pods', 'shop');
  await pods.create(pod('web-1', { app: 'web' }, ['web'], 'node-a'));
  await pods.create(pod('web-2', { app: 'web' }, ['web']));
  await pods.create(pod('two', { app: 'two' }, ['a', 'b'], 'node-a'));
  await pods.create(pod('annotated', { app: 'annotated' }, ['a', 'b'], 'node-a', { 'kubectl.kubernetes.io/default-container': 'b' }));
  const web1 = await pods.get('web-1');
  await pods.updateStatus({ ...web1, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  await c.resource('deployments', 'shop').create({ metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'busybox' }] } } } });
  await c.resource('services', 'shop').create({ metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
  agent?.closeAllConnections();
  await new Promise((r) => agent?.close(r));
});

describe('a pod', () => {
  it('prints the container\'s output as the agent serves it', async () => {
    expect(await logs('web-1', '-n', 'shop')).toEqual({ code: 0, stdout: 'web-1/web line 1\nweb-1/web line 2\n', stderr: '' });
    expect(seen.at(-1)).toEqual({ path: '/containerLogs/shop/web-1', query: { container: 'web' } });
    expect((await logs('pod/web-1', '-n', 'shop')).stdout).toBe('web-1/web line 1\nweb-1/web line 2\n');
  });

  it('passes --tail, --since and --timestamps on as the agent\'s parameters', async () => {
    expect((await logs('web-1', '-n', 'shop', '--tail', '1', '--since', '5m', '--timestamps')).stdout).toBe('2026-11-26T21:53:06.000000000Z web-1/web line 2\n');
    expect(seen.at(-1)?.query).toEqual({ container: 'web', tailLines: '1', sinceSeconds: '300', timestamps: 'true' });
    expect((await logs('web-1', '-n', 'shop', '--since-time', '2026-11-26T21:00:00+01:00')).code).toBe(0);
    expect(seen.at(-1)?.query).toEqual({ container: 'web', sinceTime: '2026-11-26T21:00:00+01:00' });
    // -1 is kubectl's "every line": nothing is passed on.
    expect((await logs('web-1', '-n', 'shop', '--tail=-1')).code).toBe(0);
    expect(seen.at(-1)?.query).toEqual({ container: 'web' });
  });

  it('--previous reads the last instance', async () => {
    expect((await logs('web-1', '-n', 'shop', '-p')).stdout).toBe('previous run of web\n');
    expect(seen.at(-1)?.query).toEqual({ container: 'web', previous: 'true' });
  });

  it('defaults to the first of several containers, saying so; -c, an argument or the annotation choose another', async () => {
    expect(await logs('two', '-n', 'shop')).toEqual({ code: 0, stdout: 'two/a line 1\ntwo/a line 2\n', stderr: 'Defaulted container "a" out of: a, b\n' });
    expect(await logs('two', '-n', 'shop', '-c', 'b')).toEqual({ code: 0, stdout: 'two/b line 1\ntwo/b line 2\n', stderr: '' });
    expect((await logs('two', 'b', '-n', 'shop')).stdout).toBe('two/b line 1\ntwo/b line 2\n');
    expect(await logs('annotated', '-n', 'shop', '--tail', '1')).toEqual({ code: 0, stdout: 'annotated/b line 2\n', stderr: '' });
  });
});

describe('a workload', () => {
  it('picks the scheduled, running, ready pod and says which on stderr', async () => {
    expect(await logs('deploy/web', '-n', 'shop')).toEqual({ code: 0, stdout: 'web-1/web line 1\nweb-1/web line 2\n', stderr: 'Found 2 pods, using pod/web-1\n' });
  });

  it('refuses a kind that has no logs', async () => {
    expect(await logs('svc/web', '-n', 'shop')).toEqual({ code: 1, stdout: '', stderr: 'cannot get the logs from service/web: logs come from pods, deployments, replicasets, statefulsets, daemonsets and jobs\n' });
  });
});

describe('several streams', () => {
  it('-l prints every selected pod\'s log, one after another', async () => {
    expect(await logs('-l', 'app=web', '-n', 'shop', '--tail', '1', '--prefix')).toMatchObject({ code: 1, stdout: '[pod/web-1/web] web-1/web line 2\n', stderr: 'Error from server (BadRequest): pod web-2 does not have a host assigned\n' });
    expect(await logs('-l', 'app=two', '-n', 'shop')).toEqual({ code: 0, stdout: 'two/a line 1\ntwo/a line 2\n', stderr: 'Defaulted container "a" out of: a, b\n' });
    expect(await logs('-l', 'app=none', '-n', 'shop')).toEqual({ code: 0, stdout: '', stderr: 'No resources found in shop namespace.\n' });
  });

  it('--all-containers prints each container in turn, --prefix names each line\'s source', async () => {
    expect(await logs('two', '-n', 'shop', '--all-containers', '--prefix', '--tail', '1')).toEqual({ code: 0, stdout: '[pod/two/a] two/a line 2\n[pod/two/b] two/b line 2\n', stderr: '' });
  });

  it('-f follows every stream at once, line by line, up to --max-log-requests', async () => {
    const follow = startVerb(cluster.server, 'logs', ['-f', '-l', 'app in (two,annotated)', '--all-containers', '--prefix', '-n', 'shop']);
    await follow.waitFor((out) => linesOf(out).length === 8);
    expect(await follow.stop()).toBe(0);
    expect(linesOf(follow.stdout()).sort()).toEqual(['annotated/a', 'annotated/b', 'two/a', 'two/b'].flatMap((s) => [`[pod/${s}] first`, `[pod/${s}] second`]).sort());
    expect(await logs('-f', '-l', 'app in (two,annotated)', '--all-containers', '-n', 'shop', '--max-log-requests', '3')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'you are attempting to follow 4 log streams, but maximum allowed concurrency is 3, use --max-log-requests to increase the limit\n',
    });
  });
});

describe('-f', () => {
  it('prints output as it comes until interrupted, then closes the stream', async () => {
    followClosed = false;
    const follow = startVerb(cluster.server, 'logs', ['-f', 'web-1', '-n', 'shop']);
    await follow.waitFor((out) => out === 'first\nsecond\n');
    expect(seen.at(-1)?.query).toEqual({ container: 'web', follow: 'true' });
    expect(await follow.stop()).toBe(0);
    expect(follow.stderr()).toBe('');
    for (let i = 0; i < 100 && !followClosed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(followClosed).toBe(true);
  });
});

describe('errors', () => {
  it('prints the apiserver\'s and the agent\'s refusals as kubectl does', async () => {
    expect(await logs('nope', '-n', 'shop')).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n' });
    expect(await logs('web-1', '-n', 'shop', '-c', 'missing')).toEqual({ code: 1, stdout: '', stderr: 'Error from server (BadRequest): container missing is not valid for pod web-1\n' });
    expect(await logs('web-2', '-n', 'shop')).toEqual({ code: 1, stdout: '', stderr: 'Error from server (BadRequest): pod web-2 does not have a host assigned\n' });
    expect((await logs('deploy/none', '-n', 'shop')).stderr).toBe('Error from server (NotFound): deployments.apps "none" not found\n');
  });

  it('names the closest resource type for an unknown one', async () => {
    expect((await logs('deploymnt/web')).stderr).toBe('the server doesn\'t have a resource type "deploymnt" (did you mean "deployments"?)\n');
  });

  it('names the endpoint tried when the cluster cannot be reached', async () => {
    const closed = await closedServer();
    const run = await runVerbAgainst(closed, 'logs', ['web-1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^cannot reach the cluster: tried ${closed} \\(`));
  });

  it('streams from the next master when the first is down', async () => {
    const closed = await closedServer();
    expect(await runVerbAgainst(`${closed},${cluster.server}`, 'logs', ['web-1', '-n', 'shop', '--tail', '1'])).toEqual({ code: 0, stdout: 'web-1/web line 2\n', stderr: '' });
  });

  it('sends the bearer token on the raw log stream as on every other call', async () => {
    const authorizations: string[] = [];
    const fake = createServer((req, res) => {
      authorizations.push(`${new URL(req.url ?? '/', 'http://x').pathname} ${req.headers.authorization ?? '-'}`);
      if (req.url?.includes('/log')) res.writeHead(200, { 'content-type': 'text/plain' }).end('hello\n');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(pod('p', {}, ['c'], 'n')));
    });
    fake.listen(0, '127.0.0.1');
    await once(fake, 'listening');
    try {
      const server = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      expect(await runVerbAgainst(server, 'logs', ['p', '--token', 'sekret-token-0123456789'])).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
      expect(authorizations).toEqual(['/api/v1/namespaces/default/pods/p Bearer sekret-token-0123456789', '/api/v1/namespaces/default/pods/p/log Bearer sekret-token-0123456789']);
    } finally {
      fake.closeAllConnections();
      await new Promise((r) => fake.close(r));
    }
  });

  it('prints a Forbidden answer as kubectl does', async () => {
    const fake = await forbiddingServer();
    try {
      expect((await runVerbAgainst(fake.server, 'logs', ['web-1'])).stderr).toBe('Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"\n');
    } finally {
      await fake.close();
    }
  });

  it('rejects bad flags and arguments in one line; --help lists the flags', async () => {
    expect((await logs('web-1', '--tail', 'ten')).stderr).toBe('--tail "ten" must be a non-negative integer (or -1 for all)\n');
    expect((await logs('web-1', '--tail', '-1')).stderr).toBe('--tail needs a value (one that starts with a dash is written --tail=<value>)\n');
    expect((await logs('web-1', '-c')).stderr).toBe('-c needs a value (one that starts with a dash is written --container=<value>)\n');
    expect((await logs('web-1', '--since', 'yesterday')).stderr).toBe('--since "yesterday" is not a positive duration (want e.g. 30s, 5m, 1h)\n');
    expect((await logs('web-1', '--since-time', 'yesterday')).stderr).toBe('--since-time "yesterday" is not an RFC 3339 time (want e.g. 2026-11-26T21:00:00Z)\n');
    expect((await logs('web-1', '--since-time', '2026-13-40T25:00:00Z')).stderr).toContain('is not an RFC 3339 time');
    expect((await logs('web-1', '--since', '5m', '--since-time', '2026-11-26T21:00:00Z')).stderr).toBe('at most one of --since or --since-time may be given\n');
    expect((await logs('web-1', '--bogus')).stderr).toBe('unknown flag --bogus for raftplane logs (see --help)\n');
    expect((await logs()).stderr).toBe('a pod or <type>/<name> must be given: raftplane logs <pod> (see --help)\n');
    expect((await logs('two', 'b', '-c', 'a')).stderr).toBe('only one of -c or an inline container name may be given\n');
    expect((await logs('two', '-l', 'app=two')).stderr).toBe('only a selector (-l) or a pod name is allowed\n');
    expect((await logs('two', '-c', 'a', '--all-containers')).stderr).toBe('--all-containers=true should not be specified with container name\n');
    expect((await logs('two', '--max-log-requests', '0')).stderr).toBe('--max-log-requests must be greater than 0\n');
    const help = linesOf((await logs('--help')).stdout);
    expect(help[0]).toBe('usage: raftplane logs <pod> [<container>] [flags]');
    for (const flag of ['-c, --container <name>', '-f, --follow', '-p, --previous', '--tail <lines>', '--since <duration>', '--since-time <RFC 3339 time>', '--timestamps', '-l, --selector <selector>', '--all-containers', '--prefix', '--max-log-requests <count>', '-n, --namespace <namespace>']) {
      expect(help.find((l) => l.trimStart().startsWith(flag)), flag).toMatch(/\(default .+\)$/);
    }
  });
});
