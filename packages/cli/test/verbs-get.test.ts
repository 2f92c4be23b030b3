// raftplane get against an in-process master: kubectl's tables (aligned, the apiserver's columns),
// every output format, selectors, -A, several types, -w, and each error as one line.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveResource, type Pod, type ResourceInfo } from '@raftplane/api';
import type { Client, WatchEvent, WatchOptions } from '@raftplane/client';
import { parseReadArgs } from '../src/verbs/read-flags.js';
import { watchObjects } from '../src/verbs/read-watch.js';
import { closedServer, forbiddingServer, linesOf, readTable, startVerb } from './support/read-output.js';
import { runVerbAgainst, startVerbCluster, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
const get = (...argv: string[]) => runVerbAgainst(cluster.server, 'get', argv);
const age = expect.stringMatching(/^\d+s$/);

function pod(name: string, app: string, nodeName?: string): Pod {
  return { metadata: { name, labels: { app } }, spec: { containers: [{ name: 'web', image: 'nginx' }], ...(nodeName === undefined ? {} : { nodeName }) } };
}

/** Marks a bound pod Running and Ready, as its agent would. */
async function markRunning(namespace: string, name: string, ip: string): Promise<void> {
  const pods = cluster.client.resource('pods', namespace);
  const current = await pods.get(name);
  await pods.updateStatus({
    ...current,
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '127.0.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 2, image: 'nginx', imageID: '', state: { running: { startedAt: new Date().toISOString() } } }],
    },
  });
}

beforeAll(async () => {
  cluster = await startVerbCluster({ components: false });
  await cluster.client.resource('namespaces').create({ metadata: { name: 'shop' } });
  await cluster.client.resource('namespaces').create({ metadata: { name: 'empty' } });
  await cluster.client.resource('nodes').create({ metadata: { name: 'node-a' } });
  const pods = cluster.client.resource('pods', 'shop');
  await pods.create(pod('web-1', 'web', 'node-a'));
  await pods.create(pod('web-2', 'web'));
  await pods.create(pod('db-1', 'db'));
  await markRunning('shop', 'web-1', '10.1.0.7');
  await cluster.client.resource('services', 'shop').create({ metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
}, 30_000);
afterAll(async () => cluster?.stop());

describe('tables', () => {
  it('prints the apiserver\'s pod columns, aligned, in name order', async () => {
    const run = await get('pods', '-n', 'shop');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const table = readTable(linesOf(run.stdout));
    expect(table.header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(table.rows).toEqual([
      ['db-1', '0/1', 'Pending', '0', age],
      ['web-1', '1/1', 'Running', '2', age],
      ['web-2', '0/1', 'Pending', '0', age],
    ]);
  });

  it('-o wide adds the priority columns (IP, NODE, NOMINATED NODE, READINESS GATES)', async () => {
    const run = await get('pods', 'web-1', '-n', 'shop', '-o', 'wide');
    const table = readTable(linesOf(run.stdout));
    expect(table.header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(table.rows).toEqual([['web-1', '1/1', 'Running', '2', age, '10.1.0.7', 'node-a', '<none>', '<none>']]);
  });

  it('-l and --field-selector are the server\'s selectors', async () => {
    expect(readTable(linesOf((await get('pods', '-n', 'shop', '-l', 'app=web')).stdout)).rows.map((r) => r[0])).toEqual(['web-1', 'web-2']);
    expect(readTable(linesOf((await get('pods', '-n', 'shop', '--field-selector', 'status.phase=Running')).stdout)).rows.map((r) => r[0])).toEqual(['web-1']);
    expect(readTable(linesOf((await get('po', '-n', 'shop', '-l', 'app in (db)')).stdout)).rows.map((r) => r[0])).toEqual(['db-1']);
  });

  it('-A adds NAMESPACE for namespaced kinds only', async () => {
    const pods = readTable(linesOf((await get('pods', '-A', '-l', 'app=web')).stdout));
    expect(pods.header).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(pods.rows.map((r) => r.slice(0, 2))).toEqual([['shop', 'web-1'], ['shop', 'web-2']]);
    const nodes = readTable(linesOf((await get('nodes', '-A')).stdout));
    expect(nodes.header).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
  });

  it('--show-labels adds LABELS; --no-headers drops the header', async () => {
    const labelled = readTable(linesOf((await get('pods', '-n', 'shop', '-l', 'app=db', '--show-labels')).stdout));
    expect(labelled.header.at(-1)).toBe('LABELS');
    expect(labelled.rows).toEqual([['db-1', '0/1', 'Pending', '0', age, 'app=db']]);
    const bare = linesOf((await get('pods', '-n', 'shop', '--no-headers')).stdout);
    expect(bare.map((l) => l.split(/\s+/)[0])).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('prints one table per type, a blank line apart, names prefixed with their type', async () => {
    const run = await get('pods,svc', '-n', 'shop', '-l', 'app!=db');
    const [pods, services] = run.stdout.split('\n\n');
    expect(readTable(linesOf(pods ?? '')).rows.map((r) => r[0])).toEqual(['pod/web-1', 'pod/web-2']);
    const svc = readTable(linesOf(services ?? ''));
    expect(svc.header).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(svc.rows).toEqual([['service/web', 'ClusterIP', expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), '<none>', '80/TCP', age]]);
    const pairs = await get('pod/web-2', 'deploy/missing', 'svc/web', '-n', 'shop');
    expect(pairs.code).toBe(1);
    expect(pairs.stderr).toBe('Error from server (NotFound): deployments.apps "missing" not found\n');
    expect(pairs.stdout.split('\n\n').map((t) => readTable(linesOf(t)).rows.map((r) => r[0]))).toEqual([['pod/web-2'], ['service/web']]);
  });

  it('`all` lists every kind in the all category that has objects', async () => {
    const run = await get('all', '-n', 'shop');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n\n').map((t) => readTable(linesOf(t)).rows.map((r) => r[0]))).toEqual([['pod/db-1', 'pod/web-1', 'pod/web-2'], ['service/web']]);
    expect(await get('all', '-n', 'empty')).toEqual({ code: 0, stdout: '', stderr: 'No resources found in empty namespace.\n' });
  });

  it('makes the header bold only on a terminal', async () => {
    const tty = await runVerbAgainst(cluster.server, 'get', ['pods', '-n', 'shop', '-l', 'app=db'], { isTTY: true });
    expect(linesOf(tty.stdout)[0]).toMatch(/^\x1b\[1mNAME {3}READY {3}STATUS {4}RESTARTS {3}AGE\x1b\[0m$/);
    expect((await get('pods', '-n', 'shop')).stdout).not.toContain('\x1b[');
  });
});

describe('-o yaml, json and name', () => {
  it('prints one named object as YAML, without managedFields', async () => {
    const run = await get('pod', 'web-1', '-n', 'shop', '-o', 'yaml');
    expect(run.code).toBe(0);
    const lines = linesOf(run.stdout);
    expect(lines.slice(0, 3)).toEqual(['apiVersion: v1', 'kind: Pod', 'metadata:']);
    expect(lines).toContain('  name: web-1');
    expect(lines).toContain('  podIP: 10.1.0.7');
    expect(run.stdout).not.toContain('managedFields');
  });

  it('prints a list as a v1 List, in YAML and in JSON', async () => {
    const yaml = linesOf((await get('pods', '-n', 'shop', '-l', 'app=web', '-o', 'yaml')).stdout);
    expect(yaml.slice(0, 4)).toEqual(['apiVersion: v1', 'items:', '- apiVersion: v1', '  kind: Pod']);
    expect(yaml.slice(-3)).toEqual(['kind: List', 'metadata:', '  resourceVersion: ""']);
    const json = JSON.parse((await get('pods', '-n', 'shop', '-o', 'json')).stdout) as { kind: string; items: Pod[] };
    expect(json.kind).toBe('List');
    expect(json.items.map((p) => p.metadata.name)).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('-o jsonpath= runs kubectl\'s template on the object or the List, with no newline added', async () => {
    expect(await get('pods', '-n', 'shop', '-o', 'jsonpath={.items[*].metadata.name}')).toEqual({ code: 0, stdout: 'db-1 web-1 web-2', stderr: '' });
    expect((await get('pods', '-n', 'shop', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}')).stdout).toBe('db-1=Pending\nweb-1=Running\nweb-2=Pending\n');
    expect((await get('pod', 'web-1', '-n', 'shop', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).stdout).toBe('True');
    expect((await get('pods', '-o', 'jsonpath={range .items[*]')).stderr).toBe('error parsing jsonpath {range .items[*]: unclosed action in "{range .items[*]"\n');
  });

  it('-o custom-columns= makes a table from paths, <none> where a path finds nothing', async () => {
    const run = await get('pods', '-n', 'shop', '-o', 'custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,IMAGES:.spec.containers[*].image');
    expect(linesOf(run.stdout)).toEqual(['NAME    NODE     IMAGES', 'db-1    <none>   nginx', 'web-1   node-a   nginx', 'web-2   <none>   nginx']);
    expect((await get('pods', '-o', 'custom-columns=NAME')).stderr).toBe('unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>\n');
  });

  it('--sort-by orders tables and objects by a field; -L adds label columns; --show-kind names the type', async () => {
    const byNode = readTable(linesOf((await get('pods', '-n', 'shop', '--sort-by', '.spec.nodeName', '--show-kind')).stdout));
    expect(byNode.rows.map((r) => r[0])).toEqual(['pod/db-1', 'pod/web-2', 'pod/web-1']);
    const byRestarts = await get('pods', '-n', 'shop', '--sort-by={.status.containerStatuses[0].restartCount}', '-o', 'name');
    expect(byRestarts.stdout).toBe('pod/db-1\npod/web-2\npod/web-1\n');
    const labelled = readTable(linesOf((await get('pods', '-n', 'shop', '-l', 'app=web', '-L', 'app', '-L', 'example.com/tier')).stdout));
    expect(labelled.header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'APP', 'TIER']);
    expect(labelled.rows.map((r) => r.slice(-2))).toEqual([['web', ''], ['web', '']]);
  });

  it('-o name prints type/name lines', async () => {
    expect((await get('pods,svc', '-n', 'shop', '-o', 'name')).stdout).toBe('pod/db-1\npod/web-1\npod/web-2\nservice/web\n');
  });
});

describe('errors', () => {
  it('says No resources found on stderr for an empty list, exit 0', async () => {
    expect(await get('pods', '-n', 'empty')).toEqual({ code: 0, stdout: '', stderr: 'No resources found in empty namespace.\n' });
    expect(await get('pods', '-A', '-l', 'app=nothing')).toEqual({ code: 0, stdout: '', stderr: 'No resources found\n' });
  });

  it('reports a missing object as kubectl does and still prints the others', async () => {
    expect(await get('pod', 'nope', '-n', 'shop')).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n' });
    const mixed = await get('pods', 'web-1', 'nope', '-n', 'shop');
    expect(mixed.code).toBe(1);
    expect(readTable(linesOf(mixed.stdout)).rows.map((r) => r[0])).toEqual(['web-1']);
    expect(mixed.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
  });

  it('prints the server\'s refusal of a bad selector in one line', async () => {
    expect(await get('pods', '-l', 'a b')).toEqual({ code: 1, stdout: '', stderr: 'Error from server (BadRequest): unable to parse requirement: label selector "a b" at offset 2: found \'b\', expected: one of \'=\', \'==\', \'!=\', \'in\', \'notin\', \'>\', \'<\'\n' });
    expect((await get('pods', '--field-selector', 'foo=bar')).stderr).toMatch(/^Error from server \(BadRequest\): fieldSelector: field label not supported: foo \(kind Pod supports metadata\.name, .*\)\n$/);
  });

  it('names the closest resource type for an unknown one', async () => {
    expect(await get('podz')).toEqual({ code: 1, stdout: '', stderr: 'the server doesn\'t have a resource type "podz" (did you mean "pods"?)\n' });
    expect((await get('deploymnets')).stderr).toBe('the server doesn\'t have a resource type "deploymnets" (did you mean "deployments"?)\n');
  });

  it('names every endpoint tried when the cluster cannot be reached', async () => {
    const closed = await closedServer();
    const run = await runVerbAgainst(closed, 'get', ['pods']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^cannot reach the cluster: tried ${closed} \\(.*ECONNREFUSED.*\\); is it running\\? \\(raftplane cluster status\\)\\n$`));
  });

  it('goes on to the next master when one is down, and names them all when none answers', async () => {
    const [first, second] = [await closedServer(), await closedServer()];
    const run = await runVerbAgainst(`${first},${cluster.server}`, 'get', ['pods', '-n', 'shop', '-l', 'app=db']);
    expect(run.code).toBe(0);
    expect(readTable(linesOf(run.stdout)).rows.map((r) => r[0])).toEqual(['db-1']);
    const none = await runVerbAgainst(`${first},${second}`, 'get', ['pods']);
    expect(none.stderr).toMatch(new RegExp(`^cannot reach the cluster: tried ${first}, ${second} \\(`));
  });

  it('prints a Forbidden answer as kubectl does', async () => {
    const fake = await forbiddingServer();
    try {
      const run = await runVerbAgainst(fake.server, 'get', ['pods']);
      expect(run).toEqual({ code: 1, stdout: '', stderr: 'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"\n' });
    } finally {
      await fake.close();
    }
  });

  it('rejects unknown flags, bad formats and arguments in one line', async () => {
    expect(await get('pods', '--bogus')).toEqual({ code: 1, stdout: '', stderr: 'unknown flag --bogus for raftplane get (see --help)\n' });
    // The verb's runner passes --server last, so a bare -o is followed by a flag.
    expect((await get('pods', '-o')).stderr).toBe('-o needs a value (one that starts with a dash is written --output=<value>)\n');
    expect((await get('pods', '-o', 'xml')).stderr).toBe('unable to match a printer suitable for the output format "xml", allowed formats are: custom-columns,json,jsonpath,name,wide,yaml\n');
    expect((await get()).stderr).toBe('You must specify the type of resource to get. Use "raftplane api-resources" for a complete list of supported resources.\n');
    expect((await get('pods', 'web-1', '-l', 'app=web')).stderr).toBe('name cannot be provided when a selector is specified\n');
    expect((await get('pods', 'svc/web')).stderr).toMatch(/^there is no need to specify a resource type as a separate argument/);
    expect((await get('pods,svc', '-w')).stderr).toBe('you may only specify a single resource type with --watch\n');
  });

  it('names a short flag given last without its value by both its names', () => {
    expect(() => parseReadArgs('get', ['pods', '-o'], [{ name: 'output', short: 'o', type: 'string', fallback: 'a table', text: '' }])).toThrow(/^-o, --output needs a value$/);
  });

  it('--help lists every flag with its default', async () => {
    const run = await get('--help');
    expect(run.code).toBe(0);
    const lines = linesOf(run.stdout);
    expect(lines[0]).toBe('usage: raftplane get <type>[,<type>...] [<name>...] [flags]');
    for (const flag of ['-o, --output <format>', '-l, --selector <selector>', '--field-selector <selector>', '-A, --all-namespaces', '-w, --watch', '--watch-only', '--output-watch-events', '--sort-by <jsonpath>', '-L, --label-columns <key,...>', '--no-headers', '--show-labels', '--show-kind', '-n, --namespace <namespace>', '-s, --server <url,...>', '--token <token>', '--config <file>', '-h, --help']) {
      expect(lines.find((l) => l.trimStart().startsWith(flag)), flag).toMatch(/\(default .+\)$/);
    }
  });
});

/** A client whose watches are scripted: each open returns the next stream's events (then the stream ends). */
function scriptedClient(streams: WatchEvent[][], opened: (WatchOptions | undefined)[]): Client {
  const watch = async (options?: WatchOptions) => {
    opened.push(options);
    const events = streams.shift() ?? [];
    return { origin: 'scripted', close: async () => {}, async *[Symbol.asyncIterator]() { yield* events; } };
  };
  return { resourceFor: () => ({ watch }) } as unknown as Client;
}

const podInfo = resolveResource('pods') as ResourceInfo;
const added = (name: string, resourceVersion: string): WatchEvent => ({ type: 'ADDED', object: { metadata: { name, resourceVersion } } });

describe('the watch under -w', () => {
  it('opens the watch again from the last version seen when the server ends it', async () => {
    const opened: (WatchOptions | undefined)[] = [];
    const seen: string[] = [];
    const stop = new AbortController();
    const client = scriptedClient([[added('a', '5'), { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }], [added('b', '12')]], opened);
    await watchObjects(client, podInfo, 'shop', { labelSelector: 'app=web', fieldSelector: undefined }, '3', stop.signal, (event) => {
      seen.push(event.object.metadata.name ?? '');
      if (seen.length === 2) stop.abort();
    });
    expect(seen).toEqual(['a', 'b']);
    expect(opened.map((o) => o?.resourceVersion)).toEqual(['3', '9']);
    expect(opened[0]).toMatchObject({ labelSelector: 'app=web', allowWatchBookmarks: true });
  });

  it('fails with the server\'s Status on an ERROR event (410: the version is gone)', async () => {
    const client = scriptedClient([[{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', message: 'too old resource version: 3 (40)', code: 410 } }]], []);
    await expect(watchObjects(client, podInfo, 'shop', { labelSelector: undefined, fieldSelector: undefined }, '3', new AbortController().signal, () => {})).rejects.toMatchObject({ status: { reason: 'Expired', code: 410 } });
  });

  it('gives up when the server ends every watch at once, instead of spinning', async () => {
    const opened: (WatchOptions | undefined)[] = [];
    const client = scriptedClient([], opened);
    await expect(watchObjects(client, podInfo, 'shop', { labelSelector: undefined, fieldSelector: undefined }, '3', new AbortController().signal, () => {})).rejects.toThrow('the server ended the watch on pods 10 times in a row at once, without an event');
    expect(opened).toHaveLength(10);
  });
});

describe('-w', () => {
  it('prints the table, then one row per change under the same header, until interrupted', async () => {
    const pods = cluster.client.resource('pods', 'shop');
    await pods.create(pod('cache-1', 'cache'));
    const watch = startVerb(cluster.server, 'get', ['pods', '-n', 'shop', '-l', 'app=cache', '-w']);
    await watch.waitFor((out) => out.includes('cache-1'));
    await pods.create(pod('cache-2', 'cache'));
    await watch.waitFor((out) => out.includes('cache-2'));
    await pods.delete('cache-1', { gracePeriodSeconds: 0 });
    await watch.waitFor((out) => linesOf(out).length >= 4);
    expect(await watch.stop()).toBe(0);
    const table = readTable(linesOf(watch.stdout()));
    expect(table.header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(table.rows.map((r) => r[0])).toEqual(['cache-1', 'cache-2', 'cache-1']);
    expect(watch.stderr()).toBe('');
  });

  it('--watch-only skips the current table; --output-watch-events adds an EVENT column', async () => {
    const pods = cluster.client.resource('pods', 'shop');
    await pods.create(pod('queue-1', 'queue'));
    const watch = startVerb(cluster.server, 'get', ['pods', '-n', 'shop', '-l', 'app=queue', '--watch-only', '--output-watch-events']);
    // Touch queue-1 until a change shows: the first ones may land before the watch is open.
    for (let i = 0; !watch.stdout().includes('MODIFIED'); i++) {
      await pods.patch('queue-1', 'merge', { metadata: { labels: { touched: String(i) } } });
      await watch.waitFor((out) => out.includes('MODIFIED'), 200).catch(() => undefined);
    }
    await pods.create(pod('queue-2', 'queue'));
    await watch.waitFor((out) => out.includes('queue-2'));
    expect(await watch.stop()).toBe(0);
    const table = readTable(linesOf(watch.stdout()));
    expect(table.header).toEqual(['EVENT', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    // No ADDED row for queue-1: what existed was not printed.
    const rows = table.rows.map((r) => r.slice(0, 2));
    expect(rows.at(-1)).toEqual(['ADDED', 'queue-2']);
    expect(rows.slice(0, -1).every(([event, name]) => event === 'MODIFIED' && name === 'queue-1')).toBe(true);
  });

  it('watches one object by name', async () => {
    const watch = startVerb(cluster.server, 'get', ['pod', 'db-1', '-n', 'shop', '-w', '--no-headers']);
    await watch.waitFor((out) => out.includes('db-1'));
    const pods = cluster.client.resource('pods', 'shop');
    await pods.patch('db-1', 'merge', { metadata: { labels: { touched: 'yes' } } });
    await pods.patch('web-2', 'merge', { metadata: { labels: { touched: 'yes' } } });
    await watch.waitFor((out) => linesOf(out).length >= 2);
    expect(await watch.stop()).toBe(0);
    expect(linesOf(watch.stdout()).map((l) => l.split(/\s+/)[0])).toEqual(['db-1', 'db-1']);
  });
});

describe('api-resources', () => {
  const apiResources = (...argv: string[]) => runVerbAgainst(cluster.server, 'api-resources', argv);

  it('lists what discovery serves, as kubectl api-resources prints it', async () => {
    const run = await apiResources();
    expect(run.code).toBe(0);
    const lines = linesOf(run.stdout);
    expect(lines.slice(0, 3)).toEqual([
      'NAME           SHORTNAMES   APIVERSION               NAMESPACED   KIND',
      'bindings                    v1                       true         Binding',
      'configmaps     cm           v1                       true         ConfigMap',
    ]);
    expect(lines).toContain('deployments    deploy       apps/v1                  true         Deployment');
    expect(lines.at(-1)).toBe('leases                      coordination.k8s.io/v1   true         Lease');
    expect(run.stdout).not.toContain('pods/');
  });

  it('filters by scope and group; -o name and -o wide', async () => {
    expect((await apiResources('--namespaced=false', '-o', 'name')).stdout).toBe('namespaces\nnodes\n');
    expect((await apiResources('--api-group', 'apps', '-o', 'name')).stdout).toBe('daemonsets.apps\ndeployments.apps\nreplicasets.apps\nstatefulsets.apps\n');
    expect(linesOf((await apiResources('--api-group', 'batch', '-o', 'wide')).stdout)).toEqual([
      'NAME   SHORTNAMES   APIVERSION   NAMESPACED   KIND   VERBS                                                        CATEGORIES',
      'jobs                batch/v1     true         Job    create,delete,deletecollection,get,list,patch,update,watch   all',
    ]);
  });

  it('rejects bad flags in one line and names the endpoint when the cluster is down', async () => {
    expect((await apiResources('--namespaced=maybe')).stderr).toBe('--namespaced must be true or false, got "maybe"\n');
    expect((await apiResources('pods')).stderr).toBe('unexpected argument "pods" for raftplane api-resources: it takes flags only (see --help)\n');
    const closed = await closedServer();
    expect((await runVerbAgainst(closed, 'api-resources', [])).stderr).toMatch(new RegExp(`^cannot reach the cluster: tried ${closed} \\(`));
    expect(linesOf((await apiResources('--help')).stdout)[0]).toBe('usage: raftplane api-resources [flags]');
  });
});
