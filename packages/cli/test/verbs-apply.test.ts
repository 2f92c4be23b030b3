// apply -f and create -f against an in-process master over HTTP: create, configured, unchanged, a
// field dropped from the manifest removed (three-way merge), multi-document files, directories,
// stdin, and every error the issue names, each with its exact line.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '@raftplane/api';
import { runVerbAgainst, startVerbCluster, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startVerbCluster({ components: false });
  dir = await mkdtemp(join(tmpdir(), 'raftplane-apply-'));
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

function deployment(name: string, extra: { replicas?: number; env?: string; label?: string } = {}): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    ...(extra.label === undefined ? [] : ['  labels:', `    team: ${extra.label}`]),
    'spec:',
    `  replicas: ${extra.replicas ?? 2}`,
    '  selector:',
    `    matchLabels: {app: ${name}}`,
    '  template:',
    `    metadata: {labels: {app: ${name}}}`,
    '    spec:',
    '      containers:',
    '      - name: main',
    '        image: busybox',
    ...(extra.env === undefined ? [] : ['        env:', `        - {name: MODE, value: ${extra.env}}`]),
    '',
  ].join('\n');
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const apply = (argv: string[], options: { input?: string } = {}) => runVerbAgainst(cluster.server, 'apply', argv, options);

describe('apply -f', () => {
  it('creates, then reports configured, then unchanged', async () => {
    const path = await file('web.yaml', deployment('web'));
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'deployment.apps/web created\n', stderr: '' });
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'deployment.apps/web unchanged\n', stderr: '' });
    await file('web.yaml', deployment('web', { replicas: 3 }));
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'deployment.apps/web configured\n', stderr: '' });
    const live = (await cluster.client.resource('deployments', 'default').get('web')) as Deployment;
    expect(live.spec?.replicas).toBe(3);
    expect(live.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('"replicas":3');
    expect((live.metadata.managedFields ?? []).map((m) => m.manager)).toEqual(['kubectl-client-side-apply']);
  });
});

describe('apply -f: three-way merge', () => {
  it('removes a field dropped from the manifest and keeps one another client set', async () => {
    const path = await file('merge.yaml', deployment('merge', { env: 'fast', label: 'blue' }));
    expect((await apply(['-f', path])).stdout).toBe('deployment.apps/merge created\n');
    // Another client adds an annotation: apply never applied it, so apply leaves it.
    await cluster.client.resource('deployments', 'default').patch('merge', 'merge', { metadata: { annotations: { owner: 'ops' } } });
    await file('merge.yaml', deployment('merge'));
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'deployment.apps/merge configured\n', stderr: '' });
    const live = (await cluster.client.resource('deployments', 'default').get('merge')) as Deployment;
    expect(live.metadata.labels?.team).toBeUndefined();
    expect(live.spec?.template?.spec?.containers[0]?.env).toBeUndefined();
    expect(live.metadata.annotations?.owner).toBe('ops');
  });
});

describe('apply -f: what the server and others set', () => {
  it('leaves a Service\'s allocated clusterIP alone: unchanged, then configured for a new port', async () => {
    const service = (port: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: ${port}}\n`;
    const path = await file('svc.yaml', service(80));
    expect((await apply(['-f', path])).stdout).toBe('service/svc created\n');
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'service/svc unchanged\n', stderr: '' });
    await file('svc.yaml', service(8080));
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'service/svc configured\n', stderr: '' });
    const live = await cluster.client.resource('services', 'default').get('svc');
    expect(live.spec?.ports?.map((p) => p.port)).toEqual([8080]);
    expect(live.spec?.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('warns once when the live object was not made by apply, then merges', async () => {
    await cluster.client.resource('configmaps', 'default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'imperative' }, data: { a: '1' } });
    const path = await file('imperative.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: imperative}\ndata: {b: "2"}\n');
    expect(await apply(['-f', path])).toEqual({
      code: 0,
      stdout: 'configmap/imperative configured\n',
      stderr:
        'Warning: resource configmaps/imperative is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by raftplane apply. raftplane apply should only be used on resources created declaratively by either raftplane create --save-config or raftplane apply. The missing annotation will be patched automatically.\n',
    });
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'configmap/imperative unchanged\n', stderr: '' });
    expect((await cluster.client.resource('configmaps', 'default').get('imperative')).data).toEqual({ a: '1', b: '2' });
  });
});

describe('apply --server-side', () => {
  it('creates and changes through the API, names a field owned by another manager, and takes it with --force-conflicts', async () => {
    const cm = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "${value}"}\n`;
    const path = await file('ssa.yaml', cm('1'));
    expect(await apply(['-f', path, '--server-side', '--field-manager=team-a'])).toEqual({ code: 0, stdout: 'configmap/ssa serverside-applied\n', stderr: '' });
    await file('ssa.yaml', cm('2'));
    const conflict = await apply(['-f', path, '--server-side']);
    expect(conflict.code).toBe(1);
    expect(conflict.stdout).toBe('');
    expect(conflict.stderr.split('\n').slice(0, 2)).toEqual(['Apply failed with 1 conflict: conflict with "team-a": .data.a', 'Please review the fields above--they currently have other managers. Here']);
    expect(conflict.stderr).toContain('re-run the apply\n  command with the `--force-conflicts` flag.');
    expect(await apply(['-f', path, '--server-side', '--force-conflicts'])).toEqual({ code: 0, stdout: 'configmap/ssa serverside-applied\n', stderr: '' });
    expect((await cluster.client.resource('configmaps', 'default').get('ssa')).data).toEqual({ a: '2' });
    expect((await apply(['-f', path, '--server-side', '--dry-run=client'])).stderr).toBe("--dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)\n");
    expect((await apply(['-f', path, '--force-conflicts'])).stderr).toBe('--force-conflicts only works with --server-side\n');
  });
});

describe('apply --prune', () => {
  const configMap = (name: string, team: string) => ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', `  name: ${name}`, '  labels:', `    team: ${team}`, 'data: {a: "1"}', ''].join('\n');

  it('deletes what an earlier apply made and the manifests no longer hold, within the selector, and nothing else', async () => {
    const set = join(dir, 'prune-set');
    await mkdir(set, { recursive: true });
    await writeFile(join(set, 'a.yaml'), deployment('p-a', { label: 'p' }));
    await writeFile(join(set, 'b.yaml'), deployment('p-b', { label: 'p' }));
    await writeFile(join(set, 'cm.yaml'), configMap('p-cm', 'p'));
    expect(await apply(['-f', set, '--prune', '-l', 'team=p'])).toEqual({ code: 0, stdout: 'deployment.apps/p-a created\ndeployment.apps/p-b created\nconfigmap/p-cm created\n', stderr: '' });
    // Applied under another label, and made without apply under this one: neither may be pruned.
    expect((await apply(['-f', await file('q.yaml', configMap('q-cm', 'q'))])).code).toBe(0);
    await cluster.client.resource('configmaps', 'default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p-hand', labels: { team: 'p' } }, data: {} });

    await rm(join(set, 'b.yaml'));
    expect(await apply(['-f', set, '--prune', '-l', 'team=p', '--dry-run=client'])).toEqual({
      code: 0,
      stdout: 'deployment.apps/p-a unchanged (dry run)\nconfigmap/p-cm unchanged (dry run)\ndeployment.apps/p-b pruned (dry run)\n',
      stderr: '',
    });
    expect(await cluster.client.resource('deployments', 'default').get('p-b')).toBeDefined();
    expect(await apply(['-f', set, '--prune', '-l', 'team=p'])).toEqual({ code: 0, stdout: 'deployment.apps/p-a unchanged\nconfigmap/p-cm unchanged\ndeployment.apps/p-b pruned\n', stderr: '' });
    await expect(cluster.client.resource('deployments', 'default').get('p-b')).rejects.toMatchObject({ status: { reason: 'NotFound' } });
    for (const name of ['q-cm', 'p-hand', 'p-cm']) expect(await cluster.client.resource('configmaps', 'default').get(name)).toBeDefined();
  });

  it('-l alone applies only the selected objects; --prune needs -l or --all, and --all goes with --prune alone', async () => {
    const mixed = await file('mixed.yaml', `${configMap('sel-yes', 'sel')}---\n${configMap('sel-no', 'other')}`);
    expect(await apply(['-f', mixed, '-l', 'team=sel'])).toEqual({ code: 0, stdout: 'configmap/sel-yes created\n', stderr: '' });
    expect((await apply(['-f', mixed, '--prune'])).stderr).toBe(
      'all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector\n',
    );
    expect((await apply(['-f', mixed, '--all'])).stderr).toBe('--all is only for --prune\n');
    expect((await apply(['-f', mixed, '--prune', '--all', '-l', 'team=sel'])).stderr).toBe('cannot set --all and --selector at the same time\n');
    expect((await apply(['-f', mixed, '-l', 'team in (a'])).code).toBe(1);
    await expect(cluster.client.resource('configmaps', 'default').get('sel-no')).rejects.toMatchObject({ status: { reason: 'NotFound' } });
  });
});

describe('apply -f: the masters', () => {
  it('goes on to the next master when the first cannot be reached', async () => {
    const path = await file('second.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: via-second}\n');
    expect(await runVerbAgainst(`http://127.0.0.1:1,${cluster.server}`, 'apply', ['-f', path])).toEqual({ code: 0, stdout: 'configmap/via-second created\n', stderr: '' });
  });

  it('names every endpoint tried when none answers', async () => {
    const path = await file('none.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    const run = await runVerbAgainst('http://127.0.0.1:1,http://127.0.0.2:1', 'apply', ['-f', path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^cannot reach the cluster: tried http:\/\/127\.0\.0\.1:1, http:\/\/127\.0\.0\.2:1 \(.*\); is it running\? \(raftplane cluster status\)\n$/);
  });
});

describe('apply -f: sources', () => {
  it('applies every document of a multi-document file, skipping empty ones', async () => {
    const text = ['---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: one}', 'data: {a: "1"}', '---', '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: two}', ''].join('\n');
    const path = await file('multi.yaml', text);
    expect(await apply(['-f', path])).toEqual({ code: 0, stdout: 'configmap/one created\nconfigmap/two created\n', stderr: '' });
  });

  it('applies a directory: its .yaml, .yml and .json files sorted by name, and subdirectories with -R', async () => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'nested'), { recursive: true });
    await writeFile(join(tree, 'b.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dir-b}\n');
    await writeFile(join(tree, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dir-a' } }));
    await writeFile(join(tree, 'notes.txt'), 'not a manifest');
    await writeFile(join(tree, 'nested', 'c.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dir-c}\n');
    expect(await apply(['-f', tree])).toEqual({ code: 0, stdout: 'configmap/dir-a created\nconfigmap/dir-b created\n', stderr: '' });
    expect(await apply(['-f', tree, '-R'])).toEqual({ code: 0, stdout: 'configmap/dir-a unchanged\nconfigmap/dir-b unchanged\nconfigmap/dir-c created\n', stderr: '' });
  });

  it('reads stdin for -f -, and -f may repeat', async () => {
    const other = await file('other.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file}\n');
    const run = await apply(['-f', '-', '-f', other], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-stdin}\n' });
    expect(run).toEqual({ code: 0, stdout: 'configmap/from-stdin created\nconfigmap/from-file created\n', stderr: '' });
  });

  it('prints names only with -o name, and changes nothing with --dry-run=client or server', async () => {
    const path = await file('dry.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n');
    expect(await apply(['-f', path, '--dry-run=client'])).toEqual({ code: 0, stdout: 'configmap/dry created (dry run)\n', stderr: '' });
    expect(await apply(['-f', path, '--dry-run=server'])).toEqual({ code: 0, stdout: 'configmap/dry created (server dry run)\n', stderr: '' });
    await expect(cluster.client.resource('configmaps', 'default').get('dry')).rejects.toMatchObject({ status: { reason: 'NotFound' } });
    expect(await apply(['-f', path, '-o', 'name'])).toEqual({ code: 0, stdout: 'configmap/dry\n', stderr: '' });
  });
});

describe('apply -f: errors', () => {
  it('names the file and the document of invalid YAML, and applies nothing from it', async () => {
    const path = await file('bad.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad-first}\n---\nkind: ConfigMap\nmetadata: {name: [x\n');
    const run = await apply(['-f', path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error parsing ${path} (document 2): Flow sequence in block collection must be sufficiently indented and end with a ] at line 7, column 1\n`);
    await expect(cluster.client.resource('configmaps', 'default').get('bad-first')).rejects.toMatchObject({ status: { reason: 'NotFound' } });
  });

  it('names a document without apiVersion or kind', async () => {
    const path = await file('nokind.yaml', 'metadata: {name: x}\n');
    expect(await apply(['-f', path])).toEqual({ code: 1, stdout: '', stderr: `error validating "${path}" (document 1): error validating data: [apiVersion not set, kind not set]\n` });
  });

  it('says which files a directory lacks, and a path that does not exist', async () => {
    await mkdir(join(dir, 'empty'), { recursive: true });
    expect((await apply(['-f', join(dir, 'empty')])).stderr).toBe(`error reading ${join(dir, 'empty')}: recognized file extensions are [.json .yaml .yml]\n`);
    expect((await apply(['-f', join(dir, 'missing.yaml')])).stderr).toBe(`the path "${join(dir, 'missing.yaml')}" does not exist\n`);
    expect(await apply([])).toEqual({ code: 1, stdout: '', stderr: 'must specify one of -f and -k\n' });
  });

  it('refuses an unknown kind with the closest served one', async () => {
    const path = await file('typo.yaml', 'apiVersion: apps/v1\nkind: Deploymnt\nmetadata: {name: web}\n');
    expect(await apply(['-f', path])).toEqual({
      code: 1,
      stdout: '',
      stderr: `resource mapping not found for name: "web" namespace: "" from "${path}": no matches for kind "Deploymnt" in version "apps/v1" (did you mean "Deployment"?)\n`,
    });
    const wrongGroup = await file('group.yaml', 'apiVersion: v1\nkind: Deployment\nmetadata: {name: web}\n');
    expect((await apply(['-f', wrongGroup])).stderr).toBe(`resource mapping not found for name: "web" namespace: "" from "${wrongGroup}": no matches for kind "Deployment" in version "v1" (Deployment is served as apiVersion "apps/v1")\n`);
  });

  it('lists each invalid field path', async () => {
    const path = await file('invalid.yaml', deployment('invalid', { replicas: -1 }).replace('image: busybox', 'image: ""'));
    const run = await apply(['-f', path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('The Deployment "invalid" is invalid:');
    expect(lines).toContain('* spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(lines.some((l) => l.startsWith('* spec.template.spec.containers[0].image: Required value'))).toBe(true);
  });

  it("shows kubectl's conflict line for a stale resourceVersion", async () => {
    const path = await file('stale.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stale}\ndata: {a: "1"}\n');
    await apply(['-f', path]);
    const live = await cluster.client.resource('configmaps', 'default').get('stale');
    await cluster.client.resource('configmaps', 'default').patch('stale', 'merge', { data: { b: '2' } });
    await file('stale.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stale, resourceVersion: "${live.metadata.resourceVersion}"}\ndata: {a: "3"}\n`);
    expect(await apply(['-f', path])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error from server (Conflict): Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again\n',
    });
  });

  it('goes on with the other objects after one fails, and exits 1', async () => {
    const text = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: Bad_Name}', '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: after-bad}', ''].join('\n');
    const run = await apply(['-f', await file('partial.yaml', text)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('configmap/after-bad created\n');
    expect(run.stderr).toMatch(/^The ConfigMap "Bad_Name" is invalid:\n\* metadata\.name: Invalid value: "Bad_Name": /);
  });

  it('refuses a manifest whose namespace is not the one -n names', async () => {
    const path = await file('ns.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n');
    expect((await apply(['-f', path, '-n', 'default'])).stderr).toBe(`the namespace from the provided object "other" does not match the namespace "default". You must pass '--namespace=other' to perform this operation.\n`);
  });

  it('names every endpoint tried when the cluster cannot be reached', async () => {
    const path = await file('unreachable.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    const run = await runVerbAgainst('http://127.0.0.1:1', 'apply', ['-f', path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^cannot reach the cluster: tried http:\/\/127\.0\.0\.1:1 \(.*\); is it running\? \(raftplane cluster status\)\n$/);
  });

  it('rejects a bad --dry-run and -o', async () => {
    const path = await file('flags.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    expect((await apply(['-f', path, '--dry-run=maybe'])).stderr).toBe('Invalid dry-run value (maybe). Must be "none", "server", or "client".\n');
    expect((await apply(['-f', path, '-o', 'yaml'])).stderr).toBe('unable to match a printer suitable for the output format "yaml", allowed formats are: name\n');
  });
});

describe('create -f', () => {
  const create = (argv: string[], options: { input?: string } = {}) => runVerbAgainst(cluster.server, 'create', argv, options);

  it('creates each object, then says AlreadyExists for it', async () => {
    const path = await file('create.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: made-ns}\n');
    expect(await create(['-f', path])).toEqual({ code: 0, stdout: 'configmap/made created\nnamespace/made-ns created\n', stderr: '' });
    expect(await create(['-f', path])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error from server (AlreadyExists): configmaps "made" already exists\nError from server (AlreadyExists): namespaces "made-ns" already exists\n',
    });
  });

  it('names a generated name, and --save-config lets apply merge later', async () => {
    const run = await create(['-f', '-', '--save-config'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^configmap\/gen-[a-z0-9]{5} created\n$/);
    const name = run.stdout.slice('configmap/'.length, -' created\n'.length);
    const live = await cluster.client.resource('configmaps', 'default').get(name);
    expect(live.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeDefined();
  });

  it('refuses arguments: only manifests', async () => {
    expect(await create(['deployment', 'web'])).toEqual({ code: 1, stdout: '', stderr: 'create takes manifests with -f, not arguments (got "deployment")\n' });
  });
});
