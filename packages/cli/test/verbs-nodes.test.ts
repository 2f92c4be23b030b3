// cordon, uncordon and drain against an in-process master with its scheduler and controllers, on
// Node objects (no agents): drain's refusals (DaemonSet pods, pods no controller replaces, emptyDir
// data) in kubectl's words, its overrides with their warnings, and pods deleted and waited for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '@raftplane/api';
import { runVerbAgainst, startVerbCluster, until, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;

async function createNode(name: string, labels: Record<string, string> = {}): Promise<void> {
  const status: Node['status'] = { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, allocatable: { cpu: '8', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] };
  await cluster.client.resource('nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: {}, status });
  await cluster.client.resource('nodes').patch(name, 'merge', { status }, { subresource: 'status' });
}

beforeAll(async () => {
  cluster = await startVerbCluster();
  await createNode('c1', { pool: 'maintenance' });
  await createNode('c2', { pool: 'maintenance' });
  await createNode('d1', { role: 'drain' });
});
afterAll(async () => {
  await cluster?.stop();
});

const run = (verb: string, argv: string[]) => runVerbAgainst(cluster.server, verb, argv);
const node = async (name: string) => (await cluster.client.resource('nodes').get(name)) as Node;


async function podsOn(nodeName: string): Promise<Pod[]> {
  return (await cluster.client.resource('pods').list({ fieldSelector: `spec.nodeName=${nodeName}` })).items;
}

describe('cordon and uncordon', () => {
  it('marks a node unschedulable and back, saying when it already was', async () => {
    expect(await run('cordon', ['c1'])).toEqual({ code: 0, stdout: 'node/c1 cordoned\n', stderr: '' });
    expect((await node('c1')).spec?.unschedulable).toBe(true);
    expect(await run('cordon', ['c1'])).toEqual({ code: 0, stdout: 'node/c1 already cordoned\n', stderr: '' });
    expect(await run('uncordon', ['c1'])).toEqual({ code: 0, stdout: 'node/c1 uncordoned\n', stderr: '' });
    expect((await node('c1')).spec?.unschedulable).toBeUndefined();
    expect(await run('uncordon', ['c1'])).toEqual({ code: 0, stdout: 'node/c1 already uncordoned\n', stderr: '' });
  });

  it('takes nodes by label selector, and changes nothing with --dry-run', async () => {
    expect(await run('cordon', ['-l', 'pool=maintenance', '--dry-run=server'])).toEqual({ code: 0, stdout: 'node/c1 cordoned (server dry run)\nnode/c2 cordoned (server dry run)\n', stderr: '' });
    expect((await node('c2')).spec?.unschedulable).toBeUndefined();
    expect(await run('cordon', ['-l', 'pool=maintenance'])).toEqual({ code: 0, stdout: 'node/c1 cordoned\nnode/c2 cordoned\n', stderr: '' });
    expect(await run('uncordon', ['-l', 'pool=maintenance'])).toEqual({ code: 0, stdout: 'node/c1 uncordoned\nnode/c2 uncordoned\n', stderr: '' });
  });

  it('says NotFound for an absent node and asks for a name', async () => {
    expect(await run('cordon', ['nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): nodes "nope" not found\n' });
    // One missing node fails alone: the others are still cordoned.
    expect(await run('cordon', ['nope', 'c2'])).toEqual({ code: 1, stdout: 'node/c2 cordoned\n', stderr: 'Error from server (NotFound): nodes "nope" not found\n' });
    expect(await run('uncordon', ['c2'])).toEqual({ code: 0, stdout: 'node/c2 uncordoned\n', stderr: '' });
    expect(await run('uncordon', [])).toEqual({ code: 1, stdout: '', stderr: 'uncordon needs a node name (raftplane uncordon NODE) or -l selector\n' });
  });
});

describe('drain', () => {
  it("refuses DaemonSet pods, pods without a controller and emptyDir data, in kubectl's words, then drains with the overrides", async () => {
    const onD1 = { nodeSelector: { role: 'drain' } };
    await cluster.client.resource('deployments', 'default').create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { ...onD1, containers: [{ name: 'main', image: 'busybox' }] } } },
    });
    await cluster.client.resource('daemonsets', 'default').create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { ...onD1, containers: [{ name: 'main', image: 'busybox' }] } } },
    });
    await cluster.client.resource('pods', 'default').create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bare' },
      spec: { nodeName: 'd1', containers: [{ name: 'main', image: 'busybox' }], volumes: [{ name: 'scratch', emptyDir: {} }] },
    });
    const initial = await until('four pods on d1', async () => {
      const pods = await podsOn('d1');
      return pods.length === 4 ? pods : undefined;
    });
    const daemonPod = initial.find((p) => p.metadata.labels?.app === 'agent')?.metadata.name ?? '';
    const webPods = initial.filter((p) => p.metadata.labels?.app === 'web').map((p) => p.metadata.name ?? '').sort();

    const refused = await run('drain', ['d1']);
    const errors = [
      `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/${daemonPod}`,
      'cannot delete Pods with local storage (use --delete-emptydir-data to override): default/bare',
    ];
    expect(refused).toEqual({
      code: 1,
      stdout: 'node/d1 cordoned\n',
      stderr: [`unable to drain node "d1" due to error: [${errors.join(', ')}], continuing command...`, 'There are pending nodes to be drained:', ' d1', ...errors, ''].join('\n'),
    });
    expect((await node('d1')).spec?.unschedulable).toBe(true);
    expect(await podsOn('d1')).toHaveLength(4);

    const withoutForce = await run('drain', ['d1', '--ignore-daemonsets', '--delete-emptydir-data']);
    expect(withoutForce.stderr).toBe(
      [
        'unable to drain node "d1" due to error: cannot delete Pods declare no controller (use --force to override): default/bare, continuing command...',
        'There are pending nodes to be drained:',
        ' d1',
        'cannot delete Pods declare no controller (use --force to override): default/bare',
        '',
      ].join('\n'),
    );

    const drained = await run('drain', ['d1', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--grace-period=0', '--timeout=20s']);
    expect(drained).toEqual({
      code: 0,
      stdout: ['node/d1 already cordoned', 'pod/bare deleted', ...webPods.map((p) => `pod/${p} deleted`), 'node/d1 drained', ''].join('\n'),
      stderr: `Warning: ignoring DaemonSet-managed Pods: default/${daemonPod}\nWarning: deleting Pods with local storage: default/bare\n`,
    });
    // Only the DaemonSet's pod is left; the web pods' replacements cannot land on a cordoned node.
    expect((await podsOn('d1')).map((p) => p.metadata.name)).toEqual([daemonPod]);
    expect(await run('uncordon', ['d1'])).toEqual({ code: 0, stdout: 'node/d1 uncordoned\n', stderr: '' });
  });

  it('changes nothing in a dry run, and waits out the pods\' grace periods together', async () => {
    // After the uncordon above, the web Deployment's replacements land on d1 again.
    const web = await until('two web pods on d1', async () => {
      const pods = (await podsOn('d1')).filter((p) => p.metadata.labels?.app === 'web' && p.metadata.deletionTimestamp === undefined);
      return pods.length === 2 ? pods.map((p) => p.metadata.name ?? '').sort() : undefined;
    });
    expect(await run('drain', ['d1', '--ignore-daemonsets', '--dry-run=client'])).toEqual({
      code: 0,
      stdout: ['node/d1 cordoned (dry run)', ...web.map((p) => `pod/${p} deleted (dry run)`), 'node/d1 drained (dry run)', ''].join('\n'),
      stderr: expect.stringMatching(/^Warning: ignoring DaemonSet-managed Pods: default\/agent-/) as unknown,
    });
    expect((await node('d1')).spec?.unschedulable).toBeUndefined();
    // No agent confirms the deletion: the apiserver removes each pod once its 1 s grace has run out.
    const drained = await run('drain', ['d1', '--ignore-daemonsets', '--grace-period=1', '--timeout=20s']);
    expect(drained.code).toBe(0);
    expect(drained.stdout).toBe(['node/d1 cordoned', ...web.map((p) => `pod/${p} deleted`), 'node/d1 drained', ''].join('\n'));
    expect((await podsOn('d1')).filter((p) => p.metadata.labels?.app === 'web')).toEqual([]);
  });

  it('needs one node', async () => {
    expect(await run('drain', [])).toEqual({ code: 1, stdout: '', stderr: 'drain needs exactly one node name (raftplane drain NODE) or -l selector\n' });
  });
});
