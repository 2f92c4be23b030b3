// scale and rollout against an in-process master with its scheduler and controllers, one Node
// (an object with capacity and Ready, no agent) and pods made Ready by status updates: scale with
// its preconditions, rollout status live on a terminal and line by line off one, history, undo
// (to the previous revision and to a named one), restart, pause and resume.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Node, Pod } from '@raftplane/api';
import { runVerb } from '../src/verbs/index.js';
import { runVerbAgainst, startVerbCluster, until, type VerbCluster } from './support/verb-cluster.js';

let cluster: VerbCluster;

beforeAll(async () => {
  cluster = await startVerbCluster();
  const status: Node['status'] = { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, allocatable: { cpu: '8', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] };
  await cluster.client.resource('nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {}, status });
  await cluster.client.resource('nodes').patch('n1', 'merge', { status }, { subresource: 'status' });
});
afterAll(async () => {
  await cluster?.stop();
});

const run = (verb: string, argv: string[]) => runVerbAgainst(cluster.server, verb, argv);
const deployments = () => cluster.client.resource('deployments', 'default');
const pods = () => cluster.client.resource('pods', 'default');


async function createDeployment(name: string, replicas: number, image = 'busybox:1'): Promise<void> {
  await deployments().create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } } },
  });
}

/** The deployment's pods that are bound and not yet Ready. */
async function unreadyPods(app: string): Promise<Pod[]> {
  const list = await pods().list({ labelSelector: `app=${app}` });
  return list.items.filter((p) => p.spec?.nodeName !== undefined && p.metadata.deletionTimestamp === undefined && !(p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
}

/** What the agent would report once the pod's containers run and pass readiness. */
async function markReady(pod: Pod): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
    containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: now } } }],
  };
  await pods().patch(pod.metadata.name ?? '', 'merge', { status }, { subresource: 'status' });
}

/** Makes pods Ready as they come, until the deployment's rollout is complete. */
async function makeAllReady(app: string): Promise<void> {
  await until(`${app} rolled out`, async () => {
    for (const pod of await unreadyPods(app)) await markReady(pod);
    const d = (await deployments().get(app)) as Deployment;
    const s = d.status ?? {};
    const wanted = d.spec?.replicas ?? 1;
    const done = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === wanted && s.replicas === wanted && s.availableReplicas === wanted;
    return done ? true : undefined;
  });
}

/** Runs a verb in process with stdout readable while it runs. */
function start(verb: string, argv: string[], isTTY: boolean): { output: () => string; done: Promise<number>; abort: AbortController } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  stderr.setEncoding('utf8').on('data', (chunk: string) => (out += `[stderr]${chunk}`));
  const abort = new AbortController();
  const done = runVerb(verb, [...argv, '--server', cluster.server], { stdout, stderr, env: { RAFTPLANE_CONFIG: '/nonexistent/raftplane.json' }, isTTY, signal: abort.signal });
  return { output: () => out, done, abort };
}

describe('scale', () => {
  it('scales by type and name and by type/name', async () => {
    await createDeployment('sc', 1);
    expect(await run('scale', ['deployment', 'sc', '--replicas=3'])).toEqual({ code: 0, stdout: 'deployment.apps/sc scaled\n', stderr: '' });
    expect(((await deployments().get('sc')) as Deployment).spec?.replicas).toBe(3);
    expect(await run('scale', ['--replicas', '0', 'deploy/sc'])).toEqual({ code: 0, stdout: 'deployment.apps/sc scaled\n', stderr: '' });
    expect(((await deployments().get('sc')) as Deployment).spec?.replicas).toBe(0);
  });

  it('checks --current-replicas and --resource-version before scaling', async () => {
    await createDeployment('pre', 2);
    expect(await run('scale', ['deploy/pre', '--replicas=5', '--current-replicas=3'])).toEqual({ code: 1, stdout: '', stderr: 'Expected replicas to be 3, was 2\n' });
    expect(((await deployments().get('pre')) as Deployment).spec?.replicas).toBe(2);
    expect(await run('scale', ['deploy/pre', '--replicas=5', '--current-replicas=2'])).toEqual({ code: 0, stdout: 'deployment.apps/pre scaled\n', stderr: '' });
    const run1 = await run('scale', ['deploy/pre', '--replicas=1', '--resource-version=1']);
    expect(run1.code).toBe(1);
    expect(run1.stderr).toMatch(/^Expected resource version to be 1, was \d+\n$/);
  });

  it('scales what a manifest names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raftplane-scale-'));
    try {
      const path = join(dir, 'sc.yaml');
      await writeFile(path, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: sc}\n');
      expect(await run('scale', ['-f', path, '--replicas=2'])).toEqual({ code: 0, stdout: 'deployment.apps/sc scaled\n', stderr: '' });
      expect(((await deployments().get('sc')) as Deployment).spec?.replicas).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses what cannot be scaled, a missing or negative count, and an absent object', async () => {
    expect(await run('scale', ['deploy/sc'])).toEqual({ code: 1, stdout: '', stderr: 'required flag(s) "replicas" not set\n' });
    expect(await run('scale', ['deploy/sc', '--replicas=-1'])).toEqual({ code: 1, stdout: '', stderr: 'The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n' });
    expect(await run('scale', ['configmap/x', '--replicas=1'])).toEqual({ code: 1, stdout: '', stderr: 'configmap/x cannot be scaled: configmaps have no scale subresource\n' });
    expect(await run('scale', ['deploy/absent', '--replicas=1'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): deployments.apps "absent" not found\n' });
  });
});

describe('apply under the controllers', () => {
  it('leaves what the controllers wrote alone: unchanged after the rollout, configured for a new image', async () => {
    const manifest = (image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: applied}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: applied}}\n  template:\n    metadata: {labels: {app: applied}}\n    spec: {containers: [{name: main, image: ${image}}]}\n`;
    const apply = (image: string) => runVerbAgainst(cluster.server, 'apply', ['-f', '-'], { input: manifest(image) });
    expect((await apply('busybox:1')).stdout).toBe('deployment.apps/applied created\n');
    await makeAllReady('applied');
    expect(await apply('busybox:1')).toEqual({ code: 0, stdout: 'deployment.apps/applied unchanged\n', stderr: '' });
    expect(await apply('busybox:2')).toEqual({ code: 0, stdout: 'deployment.apps/applied configured\n', stderr: '' });
    await makeAllReady('applied');
    expect(((await deployments().get('applied')) as Deployment).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
  });
});

describe('rollout status', () => {
  it('prints a line per change off a terminal, ending with success', async () => {
    await createDeployment('st', 2);
    await until('two pods bound', async () => ((await unreadyPods('st')).length === 2 ? true : undefined));
    await until('the status observed', async () => {
      const s = ((await deployments().get('st')) as Deployment).status;
      return s?.updatedReplicas === 2 && (s.availableReplicas ?? 0) === 0 ? true : undefined;
    });
    const status = start('rollout', ['status', 'deployment/st'], false);
    await until('the first line', async () => (status.output().includes('\n') ? true : undefined));
    const [first, second] = await unreadyPods('st');
    await markReady(first as Pod);
    await until('the second line', async () => (status.output().split('\n').length > 2 ? true : undefined));
    await markReady(second as Pod);
    expect(await status.done).toBe(0);
    expect(status.output()).toBe(
      [
        'Waiting for deployment "st" rollout to finish: 0 of 2 updated replicas are available...',
        'Waiting for deployment "st" rollout to finish: 1 of 2 updated replicas are available...',
        'deployment "st" successfully rolled out',
        '',
      ].join('\n'),
    );
  });

  it('rewrites one live line on a terminal', async () => {
    await createDeployment('live', 1);
    await until('the pod bound', async () => ((await unreadyPods('live')).length === 1 ? true : undefined));
    await until('the status observed', async () => (((await deployments().get('live')) as Deployment).status?.updatedReplicas === 1 ? true : undefined));
    const status = start('rollout', ['status', 'deploy', 'live'], true);
    await until('the waiting line', async () => (status.output().includes('available...') ? true : undefined));
    await makeAllReady('live');
    expect(await status.done).toBe(0);
    expect(status.output()).toBe('\r\x1b[KWaiting for deployment "live" rollout to finish: 0 of 1 updated replicas are available...\r\x1b[Kdeployment "live" successfully rolled out\n');
  });

  it('says it once with --watch=false, stops at --timeout, and stops on the signal', async () => {
    await createDeployment('slow', 1);
    await until('the status observed', async () => (((await deployments().get('slow')) as Deployment).status?.updatedReplicas === 1 ? true : undefined));
    expect(await run('rollout', ['status', 'deploy/slow', '--watch=false'])).toEqual({ code: 0, stdout: 'Waiting for deployment "slow" rollout to finish: 0 of 1 updated replicas are available...\n', stderr: '' });
    expect(await run('rollout', ['status', 'deploy/slow', '--timeout=300ms'])).toEqual({
      code: 1,
      stdout: 'Waiting for deployment "slow" rollout to finish: 0 of 1 updated replicas are available...\n',
      stderr: 'timed out waiting for the condition on deployments.apps/slow\n',
    });
    const status = start('rollout', ['status', 'deploy/slow'], false);
    await until('the waiting line', async () => (status.output().includes('\n') ? true : undefined));
    status.abort.abort(new Error('SIGINT'));
    expect(await status.done).toBe(1);
    expect(status.output()).toContain('[stderr]rollout status was interrupted before the rollout finished\n');
  });

  it('follows a DaemonSet too, and restarts it', async () => {
    await cluster.client.resource('daemonsets', 'default').create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
    });
    const status = start('rollout', ['status', 'ds/agent', '--timeout=15s'], false);
    await until('the DaemonSet rolled out', async () => {
      for (const pod of await unreadyPods('agent')) await markReady(pod);
      return status.output().includes('successfully') ? true : undefined;
    });
    expect(await status.done).toBe(0);
    const lines = status.output().trimEnd().split('\n');
    expect(lines.at(-1)).toBe('daemon set "agent" successfully rolled out');
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^Waiting for daemon set (spec update to be observed|"agent" rollout to finish: \d+ (out of|of) \d+ (new|updated) pods (have been updated|are available))\.\.\.$/);
    expect(await run('rollout', ['restart', 'daemonset/agent'])).toEqual({ code: 0, stdout: 'daemonset.apps/agent restarted\n', stderr: '' });
  });

  it('refuses kinds without a status viewer, and an absent deployment', async () => {
    expect(await run('rollout', ['status', 'configmap/x'])).toEqual({ code: 1, stdout: '', stderr: 'no status viewer has been implemented for ConfigMap\n' });
    expect(await run('rollout', ['status', 'deploy/absent'])).toEqual({ code: 1, stdout: '', stderr: 'Error from server (NotFound): deployments.apps "absent" not found\n' });
    expect(await run('rollout', ['sideways', 'deploy/x'])).toEqual({ code: 1, stdout: '', stderr: 'unknown rollout subcommand "sideways": one of history, pause, restart, resume, status, undo\n' });
  });
});

describe('rollout history, undo, restart, pause, resume', () => {
  const image = async (name: string) => ((await deployments().get(name)) as Deployment).spec?.template?.spec?.containers[0]?.image;

  it('lists revisions, rolls back to the previous one and to a named one', async () => {
    await createDeployment('hist', 1, 'busybox:1');
    await makeAllReady('hist');
    expect(await run('rollout', ['history', 'deploy/hist'])).toEqual({ code: 0, stdout: 'deployment.apps/hist \nREVISION  CHANGE-CAUSE\n1         <none>\n\n', stderr: '' });
    expect(await run('rollout', ['undo', 'deploy/hist'])).toEqual({ code: 1, stdout: '', stderr: 'no rollout history found for deployment "hist"\n' });
    await deployments().patch('hist', 'strategic', { metadata: { annotations: { 'kubernetes.io/change-cause': 'image 2' } }, spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox:2' }] } } } });
    await makeAllReady('hist');
    await until('revision 2', async () => (((await deployments().get('hist')) as Deployment).metadata.annotations?.['deployment.kubernetes.io/revision'] === '2' ? true : undefined));
    expect((await run('rollout', ['history', 'deploy/hist'])).stdout).toBe('deployment.apps/hist \nREVISION  CHANGE-CAUSE\n1         <none>\n2         image 2\n\n');
    // One revision: its pod template as the ReplicaSet holds it, the change-cause among its annotations.
    const second = await run('rollout', ['history', 'deploy/hist', '--revision=2']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      /^deployment\.apps\/hist with revision #2\nPod Template:\n {2}Labels:\s+app=hist\n\s+pod-template-hash=[a-z0-9]+\n {2}Annotations:\s+kubernetes\.io\/change-cause: image 2\n {2}Containers:\n {3}main:\n {4}Image:\s+busybox:2\n/,
    );
    expect((await run('rollout', ['history', 'deploy/hist', '--revision', '1'])).stdout).toMatch(/with revision #1\n[\s\S]*Annotations:\s+<none>\n[\s\S]*Image:\s+busybox:1\n/);
    expect(await run('rollout', ['history', 'deploy/hist', '--revision=7'])).toEqual({ code: 1, stdout: '', stderr: 'unable to find the specified revision 7\n' });
    expect((await run('rollout', ['history', 'deploy/hist', '--revision=two'])).code).toBe(1);

    expect(await run('rollout', ['undo', 'deploy/hist'])).toEqual({ code: 0, stdout: 'deployment.apps/hist rolled back\n', stderr: '' });
    expect(await image('hist')).toBe('busybox:1');
    await makeAllReady('hist');
    // The old ReplicaSet is new again, as revision 3.
    await until('revision 3', async () => ((await run('rollout', ['history', 'deploy/hist'])).stdout.includes('\n3 ') ? true : undefined));
    expect((await run('rollout', ['history', 'deploy/hist'])).stdout).toBe('deployment.apps/hist \nREVISION  CHANGE-CAUSE\n2         image 2\n3         <none>\n\n');

    expect(await run('rollout', ['undo', 'deploy/hist', '--to-revision=2'])).toEqual({ code: 0, stdout: 'deployment.apps/hist rolled back\n', stderr: '' });
    expect(await image('hist')).toBe('busybox:2');
    await until('revision 4', async () => ((await run('rollout', ['history', 'deploy/hist'])).stdout.includes('\n4 ') ? true : undefined));
    expect(await run('rollout', ['undo', 'deploy/hist', '--to-revision=4'])).toEqual({ code: 0, stdout: 'deployment.apps/hist skipped rollback (current template already matches revision 4)\n', stderr: '' });
    expect(await run('rollout', ['undo', 'deploy/hist', '--to-revision=9'])).toEqual({ code: 1, stdout: '', stderr: 'unable to find specified revision 9 in history\n' });
  });

  it('restarts by a new template annotation, and refuses while paused', async () => {
    await createDeployment('rs', 1);
    expect(await run('rollout', ['restart', 'deploy/rs'])).toEqual({ code: 0, stdout: 'deployment.apps/rs restarted\n', stderr: '' });
    const annotations = ((await deployments().get('rs')) as Deployment).spec?.template?.metadata?.annotations ?? {};
    expect(annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    expect(await run('rollout', ['pause', 'deploy/rs'])).toEqual({ code: 0, stdout: 'deployment.apps/rs paused\n', stderr: '' });
    expect(await run('rollout', ['pause', 'deploy/rs'])).toEqual({ code: 1, stdout: '', stderr: 'deployments.apps "rs" is already paused\n' });
    expect(await run('rollout', ['restart', 'deploy/rs'])).toEqual({ code: 1, stdout: '', stderr: 'deployments.apps "rs" can\'t restart paused deployment (run rollout resume first)\n' });
    expect(await run('rollout', ['undo', 'deploy/rs'])).toEqual({ code: 1, stdout: '', stderr: "you cannot rollback a paused deployment; resume it first with 'raftplane rollout resume deployment.apps/rs' and try again\n" });
    expect(await run('rollout', ['resume', 'deploy/rs'])).toEqual({ code: 0, stdout: 'deployment.apps/rs resumed\n', stderr: '' });
    expect(await run('rollout', ['resume', 'deploy/rs'])).toEqual({ code: 1, stdout: '', stderr: 'deployments.apps "rs" is not paused\n' });
    expect(await run('rollout', ['restart', 'configmap/x'])).toEqual({ code: 1, stdout: '', stderr: 'configmaps "x" restarting is not supported\n' });
    expect(await run('rollout', ['history', 'configmap/x'])).toEqual({ code: 1, stdout: '', stderr: 'no history viewer has been implemented for ConfigMap\n' });
  });
});
