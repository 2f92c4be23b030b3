// Real kubectl binaries (v1.32 and Debian's v1.20) against a three-master cluster, through a
// follower over https with bearer tokens: every verb we claim to support, each checked on
// kubectl's output and exit code and on the state the server then holds (read back over https
// from the leader, a different master). The tests of one kubectl version share one namespace and
// run in order: later tests use the objects earlier ones made.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster-control.js';
import { adminToken, tempCluster, viewerToken, type TempCluster } from '../../scripts/lib/temp-cluster.js';
import { awaitLeader } from '../support/cluster-checks.js';
import {
  kubectl,
  parseTable,
  requireKubectl,
  startKubectl,
  tableHeader,
  writeKubeconfig,
  type KubectlOptions,
  type KubectlResult,
} from '../support/kubectl.js';

const versions = [
  { version: '1.32', bin: '/usr/bin/kubectl', install: 'CI expects the machine to have it at /usr/bin/kubectl (.ci/run checks)' },
  { version: '1.20', bin: join(repoRoot, 'tools/kube120/usr/bin/kubectl'), install: 'run `bash scripts/install-kubectl-1.20.sh`' },
] as const;

interface ManagedField {
  readonly manager: string;
  readonly operation: string;
  readonly apiVersion: string;
  readonly fieldsV1?: Record<string, unknown>;
}

interface Container {
  readonly name: string;
  readonly image: string;
}

/** The parts of a stored object these tests read. */
interface KubeObject {
  readonly kind: string;
  readonly apiVersion: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid: string;
    readonly resourceVersion: string;
    readonly generation?: number;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly managedFields?: readonly ManagedField[];
    readonly deletionTimestamp?: string;
  };
  readonly spec?: {
    readonly replicas?: number;
    readonly minReadySeconds?: number;
    readonly nodeName?: string;
    readonly containers?: readonly Container[];
    readonly template?: { readonly spec: { readonly containers: readonly Container[] } };
  };
  readonly status?: { readonly phase?: string; readonly replicas?: number; readonly selector?: string };
}

let cluster: TempCluster;
let workDir: string;
/** The follower every kubectl talks to, and the leader the tests read the state back from. */
let followerServer: string;
let leaderServer: string;
// The masters' certificates are self-signed (loopback only).
const tls = new Agent({ connect: { rejectUnauthorized: false } });

async function apiGet(server: string, path: string): Promise<{ status: number; body: KubeObject }> {
  const response = await request(`${server}${path}`, {
    dispatcher: tls,
    headers: { authorization: `Bearer ${adminToken}`, accept: 'application/json' },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: response.statusCode, body: (await response.body.json()) as KubeObject };
}

/** The object as the leader has it now; fails the test unless it exists. */
async function stored(path: string): Promise<KubeObject> {
  const { status, body } = await apiGet(leaderServer, path);
  expect(status, `GET ${path}: ${JSON.stringify(body)}`).toBe(200);
  return body;
}

async function storedStatus(path: string): Promise<number> {
  return (await apiGet(leaderServer, path)).status;
}

/** Asserts a zero exit, showing kubectl's stderr when it is not. */
function expectOk(result: KubectlResult, what: string): void {
  expect(result.code, `${what} failed (signal ${result.signal}):\n${result.stderr}${result.stdout}`).toBe(0);
}

function expectFailed(result: KubectlResult, what: string): void {
  expect(result.signal, `${what} was killed:\n${result.stderr}`).toBeNull();
  expect(result.code, `${what} should have failed:\n${result.stdout}`).not.toBe(0);
}

function podYaml(name: string, labels: Record<string, string>, extra: { nodeName?: string; image?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    ...Object.entries(labels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    'spec:',
    ...(extra.nodeName === undefined ? [] : [`  nodeName: ${extra.nodeName}`]),
    '  containers:',
    '  - name: main',
    `    image: ${extra.image ?? 'nginx:1.25'}`,
    '',
  ].join('\n');
}

function deploymentYaml(name: string, replicas: number, image: string): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    `    app: ${name}`,
    'spec:',
    `  replicas: ${replicas}`,
    '  selector:',
    '    matchLabels:',
    `      app: ${name}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app: ${name}`,
    '    spec:',
    '      containers:',
    '      - name: nginx',
    `        image: ${image}`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  // The API surface alone: no scheduler or controllers acting on what the tests create (they have tests of their own).
  cluster = await tempCluster({ masters: 3, components: { scheduler: false, controllerManager: false } });
  await cluster.startAll();
  const { control } = cluster;
  const leader = await awaitLeader(control, 20_000);
  const follower = control.ids().find((id) => id !== leader) as number;
  const apiOf = (id: number): string => {
    const master = control.config.masters.find((m) => m.id === id);
    if (master === undefined) throw new Error(`no master ${id}`);
    return `https://${master.api.host}:${master.api.port}`;
  };
  followerServer = apiOf(follower);
  leaderServer = apiOf(leader);
  // The leader creates the system namespaces shortly after its election.
  const until = Date.now() + 20_000;
  while ((await apiGet(followerServer, '/api/v1/namespaces/default').catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > until) throw new Error(`namespace default did not appear within 20 s (leader ${leader}, follower ${follower})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  workDir = await mkdtemp(join(tmpdir(), 'raftplane-kubectl-'));
}, 120_000);

afterAll(async () => {
  await cluster?.cleanup();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  await tls.close();
}, 60_000);

describe.each(versions)('kubectl $version through a follower', ({ version, bin, install }) => {
  const ns = `kubectl-${version.replace('.', '-')}`;
  let dir: string;
  let admin: KubectlOptions;
  let viewer: KubectlOptions;
  let stranger: KubectlOptions;
  /** kubectl as the admin, in this version's namespace. */
  const k = (args: readonly string[]): Promise<KubectlResult> => kubectl(admin, ['--namespace', ns, ...args]);
  const manifest = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const podPath = (name: string): string => `/api/v1/namespaces/${ns}/pods/${name}`;
  const deploymentPath = (name: string): string => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;

  beforeAll(async () => {
    requireKubectl(bin, install);
    dir = join(workDir, version);
    await mkdir(dir, { recursive: true });
    const options = async (user: string, token: string): Promise<KubectlOptions> => {
      const kubeconfig = join(dir, `kubeconfig-${user}`);
      await writeKubeconfig(kubeconfig, { server: followerServer, token });
      return { bin, kubeconfig, cacheDir: join(dir, `cache-${user}`), home: dir, cwd: dir };
    };
    admin = await options('admin', adminToken);
    viewer = await options('viewer', viewerToken);
    stranger = await options('stranger', 'not-a-token-of-this-cluster-0123456789');
    const clientVersion = await kubectl(admin, ['version', '--client', '--output=json']);
    expectOk(clientVersion, 'kubectl version --client');
    const gitVersion = (JSON.parse(clientVersion.stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
    expect(gitVersion, `${bin} is not kubectl v${version}`).toMatch(new RegExp(`^v${version.replace('.', '\\.')}\\.`));
    // From a manifest, sent as JSON by every kubectl; `create namespace` has a test of its own below.
    const created = await kubectl(admin, ['create', '-f', '-'], { input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n` });
    expectOk(created, 'kubectl create -f namespace');
    expect(created.stdout.trim()).toBe(`namespace/${ns} created`);
  }, 120_000);

  test('api-resources lists pods, deployments and leases with their groups and short names', async () => {
    const result = await kubectl(admin, ['api-resources']);
    expectOk(result, 'api-resources');
    expect(tableHeader(result.stdout)).toEqual(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    const byName = new Map(parseTable(result.stdout).map((row) => [row['NAME'], row]));
    expect(byName.get('pods')).toEqual({ NAME: 'pods', SHORTNAMES: 'po', APIVERSION: 'v1', NAMESPACED: 'true', KIND: 'Pod' });
    expect(byName.get('namespaces')).toEqual({ NAME: 'namespaces', SHORTNAMES: 'ns', APIVERSION: 'v1', NAMESPACED: 'false', KIND: 'Namespace' });
    expect(byName.get('deployments')).toEqual({ NAME: 'deployments', SHORTNAMES: 'deploy', APIVERSION: 'apps/v1', NAMESPACED: 'true', KIND: 'Deployment' });
    // Leases have no short name in Kubernetes either.
    expect(byName.get('leases')).toEqual({ NAME: 'leases', SHORTNAMES: '', APIVERSION: 'coordination.k8s.io/v1', NAMESPACED: 'true', KIND: 'Lease' });
    // Short names resolve: `get po` is `get pods`.
    const short = await k(['get', 'po']);
    expectOk(short, 'get po');
    expect(short.stderr).toContain(`No resources found in ${ns} namespace.`);
  });

  test('no OpenAPI schema is served: explain ends at once with one clear line, and validation is skipped (create -f worked above)', async () => {
    const explain = await kubectl(admin, ['explain', 'pods']);
    expect(explain.code, explain.stderr).not.toBe(0);
    expect(explain.stderr.trim()).toBe('error: couldn\'t find resource for "/v1, Kind=Pod"');
  });

  test('create -f makes the object; creating it again is AlreadyExists and changes nothing', async () => {
    const web = await manifest('web-1.yaml', podYaml('web-1', { app: 'web', tier: 'front' }, { nodeName: 'node-a' }));
    const db = await manifest('db-1.yaml', podYaml('db-1', { app: 'db' }, { image: 'redis:7' }));
    const first = await k(['create', '-f', web]);
    expectOk(first, 'create -f web-1.yaml');
    expect(first.stdout.trim()).toBe('pod/web-1 created');
    const second = await k(['create', '-f', db]);
    expectOk(second, 'create -f db-1.yaml');
    expect(second.stdout.trim()).toBe('pod/db-1 created');

    const pod = await stored(podPath('web-1'));
    expect(pod.metadata.namespace).toBe(ns);
    expect(pod.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(pod.spec?.nodeName).toBe('node-a');
    expect(pod.spec?.containers?.map((c) => [c.name, c.image])).toEqual([['main', 'nginx:1.25']]);
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.metadata.managedFields?.map((f) => [f.manager, f.operation])).toEqual([['kubectl-create', 'Update']]);
    expect((await stored(podPath('db-1'))).spec?.nodeName).toBeUndefined();

    const again = await k(['create', '-f', web]);
    expectFailed(again, 'a second create -f web-1.yaml');
    expect(again.stderr).toContain('Error from server (AlreadyExists)');
    expect(again.stderr).toContain('pods "web-1" already exists');
    expect((await stored(podPath('web-1'))).metadata.resourceVersion).toBe(pod.metadata.resourceVersion);
  });

  // kubectl v1.32 sends the objects its generators build in protobuf (Content-Type:
  // application/vnd.kubernetes.protobuf), which kube-apiserver accepts for built-in types; v1.20
  // sends JSON. The namespace of this test was made from a manifest, which every kubectl sends as JSON.
  const generated = [
    { name: 'create namespace', command: ['create', 'namespace', `${ns}-generated`], output: `namespace/${ns}-generated created`, path: `/api/v1/namespaces/${ns}-generated` },
    { name: 'create configmap', command: ['create', 'configmap', 'generated', '--from-literal=key=value'], output: 'configmap/generated created', path: `/api/v1/namespaces/${ns}/configmaps/generated` },
    { name: 'create deployment', command: ['create', 'deployment', 'generated', '--image=nginx:1.25'], output: 'deployment.apps/generated created', path: deploymentPath('generated') },
  ];
  for (const { name, command, output, path } of generated) {
    test(`${name} (kubectl builds the object)`, async () => {
      const result = await k(command);
      expectOk(result, command.join(' '));
      expect(result.stdout.trim()).toBe(output);
      expect((await stored(path)).metadata.name).toBe(command[2]);
    });
  }

  test('get: the pod table, -o wide, -l, -A, -o yaml and -o json', async () => {
    const table = await k(['get', 'pods']);
    expectOk(table, 'get pods');
    expect(tableHeader(table.stdout)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const rows = parseTable(table.stdout);
    expect(rows.map((r) => r['NAME'])).toEqual(['db-1', 'web-1']);
    for (const row of rows) {
      expect(row).toMatchObject({ READY: '0/1', STATUS: 'Pending', RESTARTS: '0' });
      expect(row['AGE']).toMatch(/^\d+s$/);
    }

    const wide = await k(['get', 'pods', '-o', 'wide']);
    expectOk(wide, 'get pods -o wide');
    expect(tableHeader(wide.stdout)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const wideRows = new Map(parseTable(wide.stdout).map((row) => [row['NAME'], row]));
    expect(wideRows.get('web-1')).toMatchObject({ IP: '<none>', NODE: 'node-a', 'NOMINATED NODE': '<none>', 'READINESS GATES': '<none>' });
    expect(wideRows.get('db-1')).toMatchObject({ NODE: '<none>' });

    const selected = await k(['get', 'pods', '-l', 'app=web']);
    expectOk(selected, 'get pods -l app=web');
    expect(parseTable(selected.stdout).map((r) => r['NAME'])).toEqual(['web-1']);
    const setBased = await k(['get', 'pods', '-l', 'app in (web,db),tier!=front']);
    expectOk(setBased, 'get pods -l set-based');
    expect(parseTable(setBased.stdout).map((r) => r['NAME'])).toEqual(['db-1']);
    const none = await k(['get', 'pods', '-l', 'app=nothing']);
    expectOk(none, 'get pods -l app=nothing');
    expect(none.stdout).toBe('');
    expect(none.stderr.trim()).toBe(`No resources found in ${ns} namespace.`);

    const all = await kubectl(admin, ['get', 'pods', '-A']);
    expectOk(all, 'get pods -A');
    expect(tableHeader(all.stdout)).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const ours = parseTable(all.stdout).filter((r) => r['NAMESPACE'] === ns);
    expect(ours.map((r) => r['NAME'])).toEqual(['db-1', 'web-1']);

    const pod = await stored(podPath('web-1'));
    const yaml = await k(['get', 'pod', 'web-1', '-o', 'yaml']);
    expectOk(yaml, 'get pod web-1 -o yaml');
    const lines = yaml.stdout.split('\n');
    for (const line of ['apiVersion: v1', 'kind: Pod', '  name: web-1', `  namespace: ${ns}`, `  uid: ${pod.metadata.uid}`, `  resourceVersion: "${pod.metadata.resourceVersion}"`, '  nodeName: node-a', '  phase: Pending']) {
      expect(lines, `-o yaml has the line ${JSON.stringify(line)}`).toContain(line);
    }
    const json = await k(['get', 'pod', 'web-1', '-o', 'json']);
    expectOk(json, 'get pod web-1 -o json');
    // kubectl from v1.21 on leaves managedFields out unless asked (--show-managed-fields).
    const withoutManagedFields = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } });
    expect(withoutManagedFields(JSON.parse(json.stdout) as KubeObject)).toEqual(withoutManagedFields(pod));
  });

  test('get -w prints a row for each object created, changed and deleted while it watches', async () => {
    const first = await k(['create', '-f', await manifest('watched-0.yaml', podYaml('watched-0', { app: 'watched' }))]);
    expectOk(first, 'create watched-0');
    const watch = startKubectl(admin, ['--namespace', ns, 'get', 'pods', '-l', 'app=watched', '-w', '--output-watch-events'], 60_000);
    let ended: KubectlResult;
    try {
      await watch.waitForOutput('the initial list', (out) => /watched-0/.test(out), 20_000);
      expectOk(await k(['create', '-f', await manifest('watched-1.yaml', podYaml('watched-1', { app: 'watched' }))]), 'create watched-1');
      expectOk(await k(['label', 'pod', 'watched-1', 'step=two']), 'label watched-1');
      expectOk(await k(['delete', 'pod', 'watched-1']), 'delete watched-1');
      await watch.waitForOutput('the DELETED row of watched-1', (out) => /DELETED\s+watched-1/.test(out), 20_000);
    } finally {
      ended = await watch.stop();
    }
    expect(ended.stderr).toBe('');
    expect(tableHeader(watch.stdout())).toEqual(['EVENT', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const events = parseTable(watch.stdout());
    expect(events.map((r) => [r['EVENT'], r['NAME'], r['STATUS']])).toEqual([
      ['ADDED', 'watched-0', 'Pending'],
      ['ADDED', 'watched-1', 'Pending'],
      ['MODIFIED', 'watched-1', 'Pending'],
      ['DELETED', 'watched-1', 'Pending'],
    ]);
    expect(await storedStatus(podPath('watched-1'))).toBe(404);
  });

  test('apply -f: created, then unchanged, then configured after the manifest changes', async () => {
    const path = await manifest('web-deployment.yaml', deploymentYaml('web', 1, 'nginx:1.25'));
    const created = await k(['apply', '-f', path]);
    expectOk(created, 'apply (create)');
    expect(created.stdout.trim()).toBe('deployment.apps/web created');
    const first = await stored(deploymentPath('web'));
    const lastApplied = JSON.parse(first.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? 'null') as KubeObject | null;
    expect(lastApplied?.spec?.replicas).toBe(1);
    expect(lastApplied?.metadata.namespace).toBe(ns);
    expect(first.spec?.template?.spec.containers.map((c) => c.image)).toEqual(['nginx:1.25']);

    const unchanged = await k(['apply', '-f', path]);
    expectOk(unchanged, 'apply (unchanged)');
    expect(unchanged.stdout.trim()).toBe('deployment.apps/web unchanged');
    expect((await stored(deploymentPath('web'))).metadata.resourceVersion).toBe(first.metadata.resourceVersion);

    await writeFile(path, deploymentYaml('web', 2, 'nginx:1.26'));
    const configured = await k(['apply', '-f', path]);
    expectOk(configured, 'apply (configured)');
    expect(configured.stdout.trim()).toBe('deployment.apps/web configured');
    const after = await stored(deploymentPath('web'));
    expect(after.spec?.replicas).toBe(2);
    expect(after.spec?.template?.spec.containers.map((c) => [c.name, c.image])).toEqual([['nginx', 'nginx:1.26']]);
    expect(after.metadata.generation).toBe(2);
    const newLastApplied = JSON.parse(after.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? 'null') as KubeObject | null;
    expect(newLastApplied?.spec?.template?.spec.containers).toEqual([{ name: 'nginx', image: 'nginx:1.26' }]);
    expect(after.metadata.managedFields?.map((f) => [f.manager, f.operation])).toEqual([['kubectl-client-side-apply', 'Update']]);

    const table = await k(['get', 'deployments', '-o', 'wide']);
    expectOk(table, 'get deployments -o wide');
    expect(tableHeader(table.stdout)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    // No controllers yet: nothing is up to date or available.
    expect(parseTable(table.stdout).filter((r) => r['NAME'] === 'web')).toEqual([
      expect.objectContaining({ NAME: 'web', READY: '0/2', 'UP-TO-DATE': '0', AVAILABLE: '0', CONTAINERS: 'nginx', IMAGES: 'nginx:1.26', SELECTOR: 'app=web' }),
    ]);
  });

  test('apply --server-side: serverside-applied, the fields owned by manager kubectl with operation Apply', async () => {
    const path = await manifest('api-deployment.yaml', deploymentYaml('api', 1, 'busybox:1.36'));
    const applied = await k(['apply', '--server-side', '-f', path]);
    expectOk(applied, 'apply --server-side (create)');
    expect(applied.stdout.trim()).toBe('deployment.apps/api serverside-applied');
    const first = await stored(deploymentPath('api'));
    const owners = first.metadata.managedFields ?? [];
    expect(owners.map((f) => [f.manager, f.operation, f.apiVersion])).toEqual([['kubectl', 'Apply', 'apps/v1']]);
    expect(owners[0]?.fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    // Server-side apply keeps no last-applied annotation.
    expect(first.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();

    await writeFile(path, deploymentYaml('api', 3, 'busybox:1.36'));
    const again = await k(['apply', '--server-side', '-f', path]);
    expectOk(again, 'apply --server-side (update)');
    expect(again.stdout.trim()).toBe('deployment.apps/api serverside-applied');
    const after = await stored(deploymentPath('api'));
    expect(after.spec?.replicas).toBe(3);
    expect(after.metadata.managedFields?.map((f) => [f.manager, f.operation])).toEqual([['kubectl', 'Apply']]);
  });

  test('scale sets spec.replicas, and the Scale subresource shows it', async () => {
    const scaled = await k(['scale', 'deployment', 'web', '--replicas=3']);
    expectOk(scaled, 'scale');
    expect(scaled.stdout.trim()).toBe('deployment.apps/web scaled');
    const deployment = await stored(deploymentPath('web'));
    expect(deployment.spec?.replicas).toBe(3);

    const raw = await kubectl(admin, ['get', '--raw', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`]);
    expectOk(raw, 'get --raw .../scale');
    const scale = JSON.parse(raw.stdout) as KubeObject;
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', namespace: ns, uid: deployment.metadata.uid, resourceVersion: deployment.metadata.resourceVersion },
      spec: { replicas: 3 },
      status: { replicas: 0, selector: 'app=web' },
    });

    // A failed precondition changes nothing.
    const wrong = await k(['scale', 'deployment', 'web', '--current-replicas=2', '--replicas=4']);
    expectFailed(wrong, 'scale --current-replicas=2');
    expect(wrong.stderr).toContain('Expected replicas to be 2, was 3');
    expect((await stored(deploymentPath('web'))).metadata.resourceVersion).toBe(deployment.metadata.resourceVersion);
  });

  test('label and annotate: add, refuse to overwrite without --overwrite, overwrite, remove', async () => {
    const labeled = await k(['label', 'pod', 'db-1', 'env=prod']);
    expectOk(labeled, 'label');
    expect(labeled.stdout.trim()).toBe('pod/db-1 labeled');
    const first = await stored(podPath('db-1'));
    expect(first.metadata.labels).toEqual({ app: 'db', env: 'prod' });

    const refused = await k(['label', 'pod', 'db-1', 'env=dev']);
    expectFailed(refused, 'label without --overwrite');
    expect(refused.stderr).toContain("'env' already has a value (prod), and --overwrite is false");
    expect((await stored(podPath('db-1'))).metadata.resourceVersion).toBe(first.metadata.resourceVersion);

    expectOk(await k(['label', 'pod', 'db-1', 'env=dev', '--overwrite']), 'label --overwrite');
    expect((await stored(podPath('db-1'))).metadata.labels).toEqual({ app: 'db', env: 'dev' });
    const removed = await k(['label', 'pod', 'db-1', 'env-']);
    expectOk(removed, 'label env-');
    // v1.20 says "labeled" here, v1.32 "unlabeled".
    expect(removed.stdout.trim()).toMatch(/^pod\/db-1 (un)?labeled$/);
    expect((await stored(podPath('db-1'))).metadata.labels).toEqual({ app: 'db' });

    const annotated = await k(['annotate', 'pod', 'db-1', 'note=hello world', 'owner=team-a']);
    expectOk(annotated, 'annotate');
    expect(annotated.stdout.trim()).toBe('pod/db-1 annotated');
    expect((await stored(podPath('db-1'))).metadata.annotations).toEqual({ note: 'hello world', owner: 'team-a' });
    expectOk(await k(['annotate', 'pod', 'db-1', 'owner-']), 'annotate owner-');
    expect((await stored(podPath('db-1'))).metadata.annotations).toEqual({ note: 'hello world' });

    const deployment = await k(['annotate', 'deployment', 'web', 'team=platform']);
    expectOk(deployment, 'annotate deployment');
    expect(deployment.stdout.trim()).toBe('deployment.apps/web annotated');
    expect((await stored(deploymentPath('web'))).metadata.annotations?.['team']).toBe('platform');
  });

  test('patch: strategic merge (the default), --type=merge and --type=json', async () => {
    const containers = async (): Promise<string[][]> =>
      ((await stored(deploymentPath('web'))).spec?.template?.spec.containers ?? []).map((c) => [c.name, c.image]);

    // Strategic merge merges containers by name: a new one is added, the others stay. Without
    // $setElementOrder, Kubernetes puts the patch's items before the server-only ones.
    const added = await k(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1.36"}]}}}}']);
    expectOk(added, 'patch (strategic, add a container)');
    expect(added.stdout.trim()).toBe('deployment.apps/web patched');
    expect(await containers()).toEqual([['side', 'busybox:1.36'], ['nginx', 'nginx:1.26']]);
    const changed = await k(['patch', 'deployment', 'web', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}']);
    expectOk(changed, 'patch (strategic, change a container)');
    expect(await containers()).toEqual([['side', 'busybox:1.36'], ['nginx', 'nginx:1.27']]);

    const merged = await k(['patch', 'deployment', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"patched":"merge"}},"spec":{"minReadySeconds":5}}']);
    expectOk(merged, 'patch --type=merge');
    expect(merged.stdout.trim()).toBe('deployment.apps/web patched');
    const afterMerge = await stored(deploymentPath('web'));
    expect(afterMerge.metadata.labels).toEqual({ app: 'web', patched: 'merge' });
    expect(afterMerge.spec?.minReadySeconds).toBe(5);

    const json = await k(['patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":5},{"op":"replace","path":"/metadata/labels/patched","value":"json"}]']);
    expectOk(json, 'patch --type=json');
    expect(json.stdout.trim()).toBe('deployment.apps/web patched');
    const afterJson = await stored(deploymentPath('web'));
    expect(afterJson.spec?.replicas).toBe(5);
    expect(afterJson.metadata.labels).toEqual({ app: 'web', patched: 'json' });

    // A JSON patch whose test fails is rejected whole.
    const failed = await k(['patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":7},{"op":"test","path":"/spec/replicas","value":99}]']);
    expectFailed(failed, 'patch --type=json with a failing test');
    expect(failed.stderr).toContain('The request is invalid');
    expect((await stored(deploymentPath('web'))).metadata.resourceVersion).toBe(afterJson.metadata.resourceVersion);
  });

  test('describe shows a pod and a deployment', async () => {
    const pod = await k(['describe', 'pod', 'web-1']);
    expectOk(pod, 'describe pod');
    expect(pod.stdout).toMatch(/^Name:\s+web-1$/m);
    expect(pod.stdout).toMatch(new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
    expect(pod.stdout).toMatch(/^Node:\s+node-a\/$/m);
    expect(pod.stdout).toMatch(/^Labels:\s+app=web\n\s+tier=front$/m);
    expect(pod.stdout).toMatch(/^Status:\s+Pending$/m);
    expect(pod.stdout).toMatch(/^Containers:\n\s+main:\n\s+Image:\s+nginx:1\.25$/m);

    const deployment = await k(['describe', 'deployment', 'web']);
    expectOk(deployment, 'describe deployment');
    expect(deployment.stdout).toMatch(/^Name:\s+web$/m);
    expect(deployment.stdout).toMatch(/^Selector:\s+app=web$/m);
    expect(deployment.stdout).toMatch(/^Replicas:\s+5 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    expect(deployment.stdout).toMatch(/^\s+side:\n\s+Image:\s+busybox:1\.36$/m);
    expect(deployment.stdout).toMatch(/^\s+nginx:\n\s+Image:\s+nginx:1\.27$/m);
  });

  test('delete waits until the object is gone; get then says NotFound', async () => {
    const pod = await k(['delete', 'pod', 'db-1']);
    expectOk(pod, 'delete pod');
    expect(pod.stdout.trim()).toMatch(/^pod "db-1" deleted/);
    expect(await storedStatus(podPath('db-1'))).toBe(404);
    const gone = await k(['get', 'pod', 'db-1']);
    expectFailed(gone, 'get of a deleted pod');
    expect(gone.stderr.trim()).toBe('Error from server (NotFound): pods "db-1" not found');

    const deployment = await k(['delete', '-f', join(dir, 'web-deployment.yaml')]);
    expectOk(deployment, 'delete -f deployment');
    expect(deployment.stdout.trim()).toMatch(/^deployment\.apps "web" deleted/);
    expect(await storedStatus(deploymentPath('web'))).toBe(404);
    const again = await k(['delete', 'deployment', 'web']);
    expectFailed(again, 'a second delete');
    expect(again.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "web" not found');
  });

  test('a viewer may get, but create, label and delete are Forbidden and change nothing', async () => {
    const as = (args: readonly string[]): Promise<KubectlResult> => kubectl(viewer, ['--namespace', ns, ...args]);
    const list = await as(['get', 'pods']);
    expectOk(list, 'viewer get pods');
    expect(parseTable(list.stdout).map((r) => r['NAME'])).toEqual(['watched-0', 'web-1']);
    const before = await stored(podPath('web-1'));

    const created = await as(['create', '-f', await manifest('intruder.yaml', podYaml('intruder', { app: 'intruder' }))]);
    expectFailed(created, 'viewer create');
    expect(created.stderr).toMatch(/forbidden/i);
    expect(created.stderr).toContain('User "viewer" cannot create resource "pods"');
    expect(await storedStatus(podPath('intruder'))).toBe(404);

    const labeled = await as(['label', 'pod', 'web-1', 'owned=viewer']);
    expectFailed(labeled, 'viewer label');
    expect(labeled.stderr).toMatch(/forbidden/i);

    const deleted = await as(['delete', 'pod', 'web-1']);
    expectFailed(deleted, 'viewer delete');
    expect(deleted.stderr).toMatch(/forbidden/i);
    expect(deleted.stderr).toContain('User "viewer" cannot delete resource "pods"');

    const after = await stored(podPath('web-1'));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
  });

  test('a token the cluster does not know is Unauthorized', async () => {
    const as = (args: readonly string[]): Promise<KubectlResult> => kubectl(stranger, ['--namespace', ns, ...args]);
    const list = await as(['get', 'pods']);
    expectFailed(list, 'get with a wrong token');
    expect(list.stderr).toMatch(/Unauthorized|provide credentials/);
    expect(list.stdout).toBe('');
    const created = await as(['create', '-f', join(dir, 'intruder.yaml')]);
    expectFailed(created, 'create with a wrong token');
    expect(created.stderr).toMatch(/Unauthorized|provide credentials/);
    expect(await storedStatus(podPath('intruder'))).toBe(404);
  });
});
