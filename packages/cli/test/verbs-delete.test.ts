// delete against an in-process master with its controllers: by name, type/name, -f, -l and --all;
// --cascade=background|foreground|orphan as the garbage collector carries them out; NotFound
// (and --ignore-not-found); grace periods and dry runs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '@raftplane/api';
import { runVerbAgainst, startVerbCluster, until, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startVerbCluster();
  dir = await mkdtemp(join(tmpdir(), 'raftplane-delete-'));
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const del = (argv: string[], options: { input?: string } = {}) => runVerbAgainst(cluster.server, 'delete', argv, options);
const configMaps = () => cluster.client.resource('configmaps', 'default');
const replicaSets = () => cluster.client.resource('replicasets', 'default');


async function configMap(name: string, labels: Record<string, string> = {}): Promise<void> {
  await configMaps().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });
}

/** A Deployment, once the controller has made its ReplicaSet; returns that ReplicaSet. */
async function deploymentWithReplicaSet(name: string): Promise<KubeObject> {
  await cluster.client.resource('deployments', 'default').create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
  });
  return until(`the ReplicaSet of ${name}`, async () => (await replicaSets().list({ labelSelector: `app=${name}` })).items[0]);
}

async function gone(get: () => Promise<unknown>): Promise<boolean> {
  return get().then(
    () => false,
    (error: { status?: { reason?: string } }) => error.status?.reason === 'NotFound',
  );
}

describe('delete by name', () => {
  it('deletes by type and names, and by type/name', async () => {
    await configMap('a');
    await configMap('b');
    await configMap('c');
    expect(await del(['configmap', 'a', 'b'])).toEqual({ code: 0, stdout: 'configmap "a" deleted\nconfigmap "b" deleted\n', stderr: '' });
    expect(await del(['cm/c'])).toEqual({ code: 0, stdout: 'configmap "c" deleted\n', stderr: '' });
    expect(await gone(() => configMaps().get('a'))).toBe(true);
    expect(await gone(() => configMaps().get('c'))).toBe(true);
  });

  it("says NotFound in kubectl's words, goes on with the rest, and exits 1", async () => {
    await configMap('present');
    expect(await del(['configmaps', 'absent', 'present'])).toEqual({ code: 1, stdout: 'configmap "present" deleted\n', stderr: 'Error from server (NotFound): configmaps "absent" not found\n' });
    expect(await del(['deploy/absent'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): deployments.apps "absent" not found\n' });
    expect(await del(['configmaps', 'absent', '--ignore-not-found'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await del(['configmaps', 'absent', '--ignore-not-found', '--dry-run=client'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await del(['configmaps', 'absent', '--dry-run=client'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "absent" not found\n' });
  });

  it('refuses an unknown type with the closest one, and arguments that select nothing', async () => {
    expect(await del(['deplyment', 'web'])).toEqual({ code: 1, stdout: '', stderr: 'the server doesn\'t have a resource type "deplyment" (did you mean "deployments"?)\n' });
    expect(await del(['configmaps'])).toEqual({ code: 1, stdout: '', stderr: 'resource(s) were provided, but no name was specified\n' });
    expect(await del([])).toEqual({ code: 1, stdout: '', stderr: 'You must provide one or more resources by argument or filename.\n' });
    expect((await del(['configmaps', 'x', '-l', 'a=b'])).stderr).toBe('name cannot be provided when a selector or --all is specified\n');
    expect((await del(['configmaps', 'x', '--cascade=sideways'])).stderr).toBe('invalid cascade value (sideways). Must be "background", "foreground", or "orphan".\n');
  });

  it('changes nothing with --dry-run, and prints -o name', async () => {
    await configMap('kept');
    expect(await del(['cm', 'kept', '--dry-run=server'])).toEqual({ code: 0, stdout: 'configmap "kept" deleted (server dry run)\n', stderr: '' });
    expect(await del(['cm', 'kept', '--dry-run=client'])).toEqual({ code: 0, stdout: 'configmap "kept" deleted (dry run)\n', stderr: '' });
    expect(await gone(() => configMaps().get('kept'))).toBe(false);
    expect(await del(['cm', 'kept', '-o', 'name'])).toEqual({ code: 0, stdout: 'configmap/kept\n', stderr: '' });
  });

  it('force-deletes with --force, with the warning kubectl prints', async () => {
    await configMap('forced');
    expect(await del(['cm', 'forced', '--force'])).toEqual({
      code: 0,
      stdout: 'configmap "forced" force deleted\n',
      stderr: 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n',
    });
  });
});

describe('delete -f and -l', () => {
  it('deletes what the manifests name', async () => {
    await configMap('from-file');
    const path = join(dir, 'cm.yaml');
    await writeFile(path, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: never-made}\n');
    expect(await del(['-f', path])).toEqual({ code: 1, stdout: 'configmap "from-file" deleted\n', stderr: 'Error from server (NotFound): configmaps "never-made" not found\n' });
  });

  it('deletes each object a label selector matches, and says when none does', async () => {
    await configMap('sel-1', { tier: 'cache' });
    await configMap('sel-2', { tier: 'cache' });
    await configMap('sel-3', { tier: 'web' });
    expect(await del(['configmaps', '-l', 'tier=cache'])).toEqual({ code: 0, stdout: 'configmap "sel-1" deleted\nconfigmap "sel-2" deleted\n', stderr: '' });
    expect(await gone(() => configMaps().get('sel-3'))).toBe(false);
    expect(await del(['configmaps', '-l', 'tier=cache'])).toEqual({ code: 0, stdout: 'No resources found\n', stderr: '' });
  });
});

describe('delete --all, --wait and --timeout', () => {
  it('deletes every object of a type in the namespace -n names', async () => {
    await cluster.client.resource('namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sweep' } });
    for (const name of ['x', 'y']) await cluster.client.resource('configmaps', 'sweep').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    expect(await del(['configmaps', '--all', '-n', 'sweep'])).toEqual({ code: 0, stdout: 'configmap "x" deleted\nconfigmap "y" deleted\n', stderr: '' });
    expect((await cluster.client.resource('configmaps', 'sweep').list()).items).toEqual([]);
  });

  it('waits for a namespace until the namespace controller has emptied and removed it', async () => {
    await cluster.client.resource('configmaps', 'sweep').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside' } });
    expect(await del(['namespace', 'sweep', '--timeout=20s'])).toEqual({ code: 0, stdout: 'namespace "sweep" deleted\n', stderr: '' });
    expect(await gone(() => cluster.client.resource('namespaces').get('sweep'))).toBe(true);
  });

  it('waits while a finalizer holds the object: gives up at --timeout, returns at once with --wait=false', async () => {
    await configMaps().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    expect(await del(['cm', 'held', '--timeout=300ms'])).toEqual({ code: 1, stdout: 'configmap "held" deleted\n', stderr: 'timed out waiting for the condition on configmaps/held\n' });
    expect(await del(['cm', 'held', '--wait=false'])).toEqual({ code: 0, stdout: 'configmap "held" deleted\n', stderr: '' });
    const waiting = del(['cm', 'held']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await configMaps().patch('held', 'merge', { metadata: { finalizers: null } });
    expect(await waiting).toEqual({ code: 0, stdout: 'configmap "held" deleted\n', stderr: '' });
    expect(await gone(() => configMaps().get('held'))).toBe(true);
  });
});

describe('delete --cascade', () => {
  it('background (the default): the owner goes at once, the garbage collector takes its ReplicaSet', async () => {
    const rs = await deploymentWithReplicaSet('bg');
    expect(await del(['deployment', 'bg'])).toEqual({ code: 0, stdout: 'deployment.apps "bg" deleted\n', stderr: '' });
    await until('the ReplicaSet collected', async () => ((await gone(() => replicaSets().get(rs.metadata.name ?? ''))) ? true : undefined));
  });

  it('foreground: the owner waits for its dependents, and delete waits for the owner', async () => {
    const rs = await deploymentWithReplicaSet('fg');
    expect(await del(['deployment', 'fg', '--cascade=foreground'])).toEqual({ code: 0, stdout: 'deployment.apps "fg" deleted\n', stderr: '' });
    // --wait (the default) returned only once the Deployment was gone, which foreground means after its ReplicaSet.
    expect(await gone(() => replicaSets().get(rs.metadata.name ?? ''))).toBe(true);
    expect(await gone(() => cluster.client.resource('deployments', 'default').get('fg'))).toBe(true);
  });

  it('orphan: the ReplicaSet stays, without its owner reference', async () => {
    const rs = await deploymentWithReplicaSet('orph');
    expect(await del(['deployment', 'orph', '--cascade=orphan'])).toEqual({ code: 0, stdout: 'deployment.apps "orph" deleted\n', stderr: '' });
    const left = await replicaSets().get(rs.metadata.name ?? '');
    expect(left.metadata.ownerReferences ?? []).toEqual([]);
  });
});
