// label and annotate against an in-process master: set, overwrite (refused without --overwrite,
// in kubectl's words), remove with `key-`, by selector and by manifest, --resource-version held.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerbAgainst, startVerbCluster, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startVerbCluster({ components: false });
  dir = await mkdtemp(join(tmpdir(), 'raftplane-metadata-'));
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const run = (verb: string, argv: string[]) => runVerbAgainst(cluster.server, verb, argv);
const configMaps = () => cluster.client.resource('configmaps', 'default');

async function configMap(name: string, labels: Record<string, string> = {}): Promise<void> {
  await configMaps().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });
}

describe('label', () => {
  it('adds, refuses to overwrite without --overwrite, overwrites, and removes with key-', async () => {
    await configMap('web');
    expect(await run('label', ['configmap', 'web', 'app=web', 'tier=front'])).toEqual({ code: 0, stdout: 'configmap/web labeled\n', stderr: '' });
    expect((await configMaps().get('web')).metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(await run('label', ['cm/web', 'app=api'])).toEqual({ code: 1, stdout: '', stderr: "'app' already has a value (web), and --overwrite is false\n" });
    expect(await run('label', ['cm/web', 'app=api', '--overwrite'])).toEqual({ code: 0, stdout: 'configmap/web labeled\n', stderr: '' });
    expect(await run('label', ['cm/web', 'app=api', '--overwrite'])).toEqual({ code: 0, stdout: 'configmap/web not labeled\n', stderr: '' });
    // The same value again needs no --overwrite; two refusals are aggregated as kubectl does.
    expect(await run('label', ['cm/web', 'app=api'])).toEqual({ code: 0, stdout: 'configmap/web not labeled\n', stderr: '' });
    expect(await run('label', ['cm/web', 'app=x', 'tier=y'])).toEqual({
      code: 1,
      stdout: '',
      stderr: "['app' already has a value (api), and --overwrite is false, 'tier' already has a value (front), and --overwrite is false]\n",
    });
    expect(await run('label', ['cm/web', 'tier-'])).toEqual({ code: 0, stdout: 'configmap/web unlabeled\n', stderr: '' });
    expect((await configMaps().get('web')).metadata.labels).toEqual({ app: 'api' });
    expect(await run('label', ['cm/web', 'missing-'])).toEqual({ code: 0, stdout: 'configmap/web not labeled\n', stderr: 'label "missing" not found.\n' });
  });

  it('labels every object a selector matches, and what a manifest names', async () => {
    await configMap('s1', { group: 'g' });
    await configMap('s2', { group: 'g' });
    expect(await run('label', ['configmaps', '-l', 'group=g', 'picked=yes'])).toEqual({ code: 0, stdout: 'configmap/s1 labeled\nconfigmap/s2 labeled\n', stderr: '' });
    const path = join(dir, 's1.yaml');
    await writeFile(path, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s1}\n');
    expect(await run('label', ['-f', path, 'from=file'])).toEqual({ code: 0, stdout: 'configmap/s1 labeled\n', stderr: '' });
    expect((await configMaps().get('s1')).metadata.labels).toEqual({ group: 'g', picked: 'yes', from: 'file' });
  });

  it('shows the field path of an invalid label, and holds --resource-version', async () => {
    await configMap('strict');
    const invalid = await run('label', ['cm/strict', 'app=not valid']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^The ConfigMap "strict" is invalid:\n\* metadata\.labels: Invalid value: "not valid": /);
    expect(await run('label', ['cm/strict', 'a=b', '--resource-version=1'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error from server (Conflict): Operation cannot be fulfilled on configmaps "strict": the object has been modified; please apply your changes to the latest version and try again\n',
    });
  });

  it('refuses malformed changes, a key both set and removed, and no change at all', async () => {
    expect(await run('label', ['cm/web', '=x'])).toEqual({ code: 1, stdout: '', stderr: 'invalid label spec: =x\n' });
    expect(await run('label', ['cm/web', 'a=1', 'a-'])).toEqual({ code: 1, stdout: '', stderr: 'can not both modify and remove a label in the same command\n' });
    expect(await run('label', ['cm/web'])).toEqual({ code: 1, stdout: '', stderr: 'at least one label update is required\n' });
    expect(await run('label', ['cm/absent', 'a=1'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "absent" not found\n' });
    expect(await run('label', ['confgmap', 'web', 'a=1'])).toEqual({ code: 1, stdout: '', stderr: 'the server doesn\'t have a resource type "confgmap" (did you mean "configmaps"?)\n' });
  });
});

describe('annotate', () => {
  it('adds, refuses to overwrite, overwrites, removes, and changes nothing in a dry run', async () => {
    await configMap('notes');
    expect(await run('annotate', ['cm', 'notes', 'owner=ops', 'note=a value with spaces'])).toEqual({ code: 0, stdout: 'configmap/notes annotated\n', stderr: '' });
    expect(await run('annotate', ['cm/notes', 'owner=dev'])).toEqual({ code: 1, stdout: '', stderr: "--overwrite is false but found the following declared annotation(s): 'owner' already has a value (ops)\n" });
    expect(await run('annotate', ['cm/notes', 'owner=ops', 'note=b'])).toEqual({
      code: 1,
      stdout: '',
      stderr: "--overwrite is false but found the following declared annotation(s): 'owner' already has a value (ops); 'note' already has a value (a value with spaces)\n",
    });
    expect(await run('annotate', ['cm/notes', 'kubernetes.io/change-cause=first'])).toEqual({ code: 0, stdout: 'configmap/notes annotated\n', stderr: '' });
    expect(await run('annotate', ['cm/notes', 'kubernetes.io/change-cause=second'])).toEqual({ code: 0, stdout: 'configmap/notes annotated\n', stderr: '' });
    expect(await run('annotate', ['cm/notes', 'kubernetes.io/change-cause-'])).toEqual({ code: 0, stdout: 'configmap/notes annotated\n', stderr: '' });
    expect(await run('annotate', ['cm/notes', 'owner=dev', '--overwrite'])).toEqual({ code: 0, stdout: 'configmap/notes annotated\n', stderr: '' });
    expect(await run('annotate', ['cm/notes', 'note-'])).toEqual({ code: 0, stdout: 'configmap/notes annotated\n', stderr: '' });
    expect(await run('annotate', ['cm/notes', 'extra=1', '--dry-run=server'])).toEqual({ code: 0, stdout: 'configmap/notes annotated (server dry run)\n', stderr: '' });
    expect((await configMaps().get('notes')).metadata.annotations).toEqual({ owner: 'dev' });
    expect(await run('annotate', ['cm/notes', '=x'])).toEqual({ code: 1, stdout: '', stderr: 'invalid annotation spec: =x\n' });
  });
});

describe('--help of every write verb', () => {
  const verbs: [string, string[], string][] = [
    ['apply', [], 'usage: raftplane apply -f'],
    ['create', [], 'usage: raftplane create -f'],
    ['delete', [], 'usage: raftplane delete '],
    ['scale', [], 'usage: raftplane scale --replicas'],
    ['rollout', [], 'usage: raftplane rollout status|history'],
    ['rollout', ['status'], 'usage: raftplane rollout status|history'],
    ['cordon', [], 'usage: raftplane cordon <node>'],
    ['uncordon', [], 'usage: raftplane uncordon <node>'],
    ['drain', [], 'usage: raftplane drain <node>'],
    ['label', [], 'usage: raftplane label '],
    ['annotate', [], 'usage: raftplane annotate '],
  ];
  it.each(verbs)('%s %j --help prints the usage and every flag with its default', async (verb, before, start) => {
    const run = await runVerbAgainst(cluster.server, verb, [...before, '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.startsWith(start)).toBe(true);
    expect(run.stdout).toContain('  -s, --server <url,...>');
    expect(run.stdout).toContain('  -h, --help');
    for (const line of run.stdout.split('\n').filter((l) => /^ {2}(-[a-zA-Z], |    )--/.test(l))) expect(line).toMatch(/\(default .+\)$/);
  });

  it('names an unknown flag', async () => {
    expect(await runVerbAgainst(cluster.server, 'label', ['cm/x', 'a=b', '--sideways'])).toEqual({ code: 1, stdout: '', stderr: 'unknown flag --sideways for raftplane label (see --help)\n' });
  });
});
