// The -f loader on its own: documents, Lists, JSON, document numbers in errors, directories,
// stdin, and its bounds; and drain's pod filters, which are pure.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '@raftplane/api';
import { CliErrorCode } from '../src/errors.js';
import { loadManifests, parseManifestText } from '../src/verbs/manifests.js';
import { drainPlan } from '../src/verbs/write-drain-plan.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-manifests-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;

describe('parseManifestText', () => {
  it('numbers documents from 1 as YAML counts them (a comment before the first --- is its prefix), skipping empty ones', () => {
    const manifests = parseManifestText(`# header\n---\n${cm('a')}---\n# nothing here\n---\n${cm('b')}`, 'f.yaml');
    expect(manifests.map((m) => [m.object.metadata.name, m.document, m.source])).toEqual([
      ['a', 1, 'f.yaml'],
      ['b', 3, 'f.yaml'],
    ]);
  });

  it('reads JSON, and expands a v1 List into its items', () => {
    expect(parseManifestText(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' } }), 'f.json')[0]?.object.metadata.name).toBe('j');
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'y' } }] };
    expect(parseManifestText(JSON.stringify(list), 'list.json').map((m) => m.object.kind)).toEqual(['ConfigMap', 'Secret']);
  });

  it('gives an object without metadata an empty one', () => {
    expect(parseManifestText('apiVersion: v1\nkind: Namespace\n', 'f.yaml')[0]?.object.metadata).toEqual({});
  });

  it('names the file and document of a syntax error, a repeated key, a scalar and a missing kind', () => {
    const fail = (text: string) => {
      try {
        parseManifestText(text, 'f.yaml');
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
      throw new Error('no error');
    };
    expect(fail(`${cm('a')}---\nmetadata: {name: [\n`)).toEqual({ code: CliErrorCode.InvalidManifest, message: expect.stringMatching(/^error parsing f\.yaml \(document 2\): .* at line \d+, column \d+$/) as unknown });
    expect(fail('apiVersion: v1\napiVersion: v2\nkind: X\n').message).toBe('error parsing f.yaml (document 1): Map keys must be unique at line 2, column 1');
    expect(fail(`${cm('a')}---\njust text\n`).message).toBe('error validating "f.yaml" (document 2): a manifest must be a mapping (an object), got string');
    expect(fail('- a\n- b\n').message).toBe('error validating "f.yaml" (document 1): a manifest must be a mapping (an object), got a list');
    expect(fail('apiVersion: v1\nmetadata: {name: x}\n').message).toBe('error validating "f.yaml" (document 1): error validating data: [kind not set]');
  });
});

describe('loadManifests', () => {
  it('takes files and directories in order, sorted within a directory, nested ones only with recursive', async () => {
    await mkdir(join(dir, 'd', 'sub'), { recursive: true });
    await writeFile(join(dir, 'd', 'z.yaml'), cm('z'));
    await writeFile(join(dir, 'd', 'A.yml'), cm('upper-a'));
    await writeFile(join(dir, 'd', 'm.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' } }));
    await writeFile(join(dir, 'd', 'readme.md'), '# not a manifest');
    await writeFile(join(dir, 'd', 'sub', 'deep.yaml'), cm('deep'));
    await writeFile(join(dir, 'single.yaml'), cm('single'));
    const names = async (recursive: boolean) => (await loadManifests({ paths: [join(dir, 'single.yaml'), join(dir, 'd')], recursive, stdin: undefined })).map((m) => m.object.metadata.name);
    expect(await names(false)).toEqual(['single', 'upper-a', 'm', 'z']);
    expect(await names(true)).toEqual(['single', 'upper-a', 'm', 'deep', 'z']);
  });

  it('reads stdin once, named STDIN in errors', async () => {
    const stdin = new PassThrough();
    stdin.end('kind: ConfigMap\n');
    await expect(loadManifests({ paths: ['-'], recursive: false, stdin })).rejects.toThrow('error validating "STDIN" (document 1): error validating data: [apiVersion not set]');
    await expect(loadManifests({ paths: ['-', '-'], recursive: false, stdin: new PassThrough() })).rejects.toMatchObject({ code: CliErrorCode.InvalidArgument });
  });

  it('needs at least one -f', async () => {
    await expect(loadManifests({ paths: [], recursive: false, stdin: undefined })).rejects.toMatchObject({ code: CliErrorCode.MissingFlag, message: 'must specify one of -f and -k' });
  });
});

describe('drainPlan', () => {
  const pod = (name: string, extra: { owner?: string; emptyDir?: boolean; phase?: 'Succeeded' | 'Failed'; mirror?: boolean } = {}): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      ...(extra.owner === undefined ? {} : { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner, name: 'o', uid: 'u', controller: true }] }),
      ...(extra.mirror === true ? { annotations: { 'kubernetes.io/config.mirror': 'x' } } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'i' }], ...(extra.emptyDir === true ? { volumes: [{ name: 'v', emptyDir: {} }] } : {}) },
    ...(extra.phase === undefined ? {} : { status: { phase: extra.phase } }),
  });
  const none = { ignoreDaemonSets: false, force: false, deleteEmptyDirData: false };

  it('removes controlled and finished pods, skips mirror pods, and refuses the rest without overrides', () => {
    const plan = drainPlan([pod('rs', { owner: 'ReplicaSet' }), pod('done', { phase: 'Succeeded' }), pod('mirror', { mirror: true }), pod('ds', { owner: 'DaemonSet' }), pod('bare'), pod('scratch', { owner: 'ReplicaSet', emptyDir: true })], none);
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['done', 'rs']);
    expect(plan.errors).toEqual([
      'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds',
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch',
      'cannot delete Pods declare no controller (use --force to override): default/bare',
    ]);
  });

  it('warns for what the overrides let through', () => {
    const plan = drainPlan([pod('ds', { owner: 'DaemonSet' }), pod('bare'), pod('scratch', { owner: 'ReplicaSet', emptyDir: true })], { ignoreDaemonSets: true, force: true, deleteEmptyDirData: true });
    expect(plan.errors).toEqual([]);
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['bare', 'scratch']);
    expect(plan.warnings).toEqual(['ignoring DaemonSet-managed Pods: default/ds', 'deleting Pods with local storage: default/scratch', 'deleting Pods that declare no controller: default/bare']);
  });
});
