// The README's quick start from a fresh clone (issue 9), so that it cannot rot: clone this
// repository's HEAD into a temporary folder, `npm ci`, `npm start` (timed: the demo app must serve
// within 60 s), curl the URL it prints, see the pods Running on both nodes, SIGKILL the leader with
// `raftplane cluster kill` (the app keeps serving, `cluster status` names a new leader), `cluster
// down` and `up` (the containers the agents leave running are stopped, and come back), `npm stop`,
// and then no process of that clone is left: no master, agent, proxy or pod.
//
// What is cloned is HEAD: commit first, uncommitted changes are not part of the run. `npm ci` is
// `--prefer-offline`, from npm's cache when it has the packages.
//
// The default local cluster has fixed ports (6441-6443, 7441-7443) and node addresses (127.0.1.1-2):
// the test refuses to start, naming the holder, while anything else holds them.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeBusyPort, portFree } from '../../packages/cli/src/cluster/ports.js';
import { repoRoot } from '../../scripts/lib/cluster-control.js';

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** The fixed addresses of the default cluster (cluster-configs/local-3.json, nodes node-1 and node-2). */
const fixedPorts = [
  ...[6441, 6442, 6443, 7441, 7442, 7443].map((port) => ({ host: '127.0.0.1', port, what: 'a port of cluster local-3' })),
  { host: '127.0.1.1', port: 10_250, what: "agent node-1's log endpoint" },
  { host: '127.0.1.2', port: 10_250, what: "agent node-2's log endpoint" },
];

let dir: string;
let clone: string;

/** Runs `command` in the clone, without this process's npm and raftplane settings leaking in. */
function run(command: string, args: readonly string[], timeoutMs: number): Promise<Outcome> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'RAFTPLANE_CONFIG' && k !== 'INIT_CWD'));
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - startedAt });
    });
  });
}

function expectOk(what: string, outcome: Outcome): string {
  if (outcome.code !== 0) throw new Error(`${what} exited ${outcome.code} after ${outcome.ms} ms\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`);
  return outcome.stdout;
}

/** Processes left by the clone: working directory or command line inside it, or a pod address of node-1 or node-2. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim();
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      const podIp = /(?:^|\0)POD_IP=(127\.1\.[12]\.\d+)(?:\0|$)/.exec(env)?.[1];
      if (cwd.startsWith(clone) || cmdline.includes(clone) || podIp !== undefined) found.push(`${entry}: ${cmdline} (cwd ${cwd}${podIp === undefined ? '' : `, POD_IP ${podIp}`})`);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

async function curl(url: string): Promise<string | null> {
  const outcome = await run('curl', ['--silent', '--show-error', '--max-time', '3', url], 10_000);
  return outcome.code === 0 ? outcome.stdout.trim() : null;
}

function leaderOf(status: string): number {
  return Number(/leader master (\d+)/.exec(status)?.[1] ?? 0);
}

describe('the README quick start, from a fresh clone', () => {
  let url = '';

  beforeAll(async () => {
    const busy: string[] = [];
    for (const p of fixedPorts) if (!(await portFree(p.host, p.port))) busy.push(await describeBusyPort(p.host, p.port, p.what));
    if (busy.length > 0) throw new Error(`the quick start needs the default cluster's ports, but ${busy.join('; ')}. Stop that cluster first (npm stop in its folder)`);
    dir = await mkdtemp(join(tmpdir(), 'raftplane-quickstart-'));
    clone = join(dir, 'raftplane');
    const cloned = await new Promise<number | null>((resolve) => spawn('git', ['clone', '--quiet', '--local', repoRoot, clone], { stdio: 'ignore' }).once('close', resolve));
    expect(cloned).toBe(0);
  }, 60_000);

  afterAll(async () => {
    if (clone === undefined) return;
    // After a failure midway: take the cluster down, then whatever is still left.
    if (leftovers().length > 0) await run('npm', ['stop'], 90_000).catch(() => undefined);
    for (const line of leftovers()) {
      try {
        process.kill(Number(line.split(':')[0]), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  test('npm ci && npm start serves the demo app within 60 s, at the URL it prints', async () => {
    const ci = await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], 180_000);
    expectOk('npm ci', ci);
    const start = await run('npm', ['start'], 120_000);
    const stdout = expectOk('npm start', start);
    url = /^demo app: (http:\/\/127\.0\.1\.1:\d+\/)$/m.exec(stdout)?.[1] ?? '';
    expect(url, stdout).not.toBe('');
    console.log(`quickstart: npm ci ${(ci.ms / 1000).toFixed(1)} s, npm start ${(start.ms / 1000).toFixed(1)} s (build included) until ${url} served`);
    expect(start.ms).toBeLessThan(60_000);
    expect(await curl(url)).toMatch(/^demo-[a-z0-9]+-[a-z0-9]+$/);
  }, 240_000);

  test('the demo pods run on both nodes (raftplane get pods -o wide, or kubectl while the get verb is not there)', async () => {
    const hasGet = (await run('npx', ['raftplane', 'get', '--help'], 30_000)).code === 0;
    const listing = hasGet
      ? await run('npx', ['raftplane', 'get', 'pods', '-o', 'wide'], 30_000)
      : await run('kubectl', ['--kubeconfig', join(clone, '.cluster/local-3/kubeconfig'), 'get', 'pods', '-o', 'wide'], 30_000);
    const table = expectOk(hasGet ? 'raftplane get pods -o wide' : 'kubectl get pods -o wide', listing);
    console.log(`quickstart: pods listed with ${hasGet ? 'npx raftplane get pods -o wide' : 'kubectl --kubeconfig .cluster/local-3/kubeconfig get pods -o wide'}`);
    const rows = table.split('\n').filter((l) => l.startsWith('demo-'));
    expect(rows, table).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/\sRunning\s/);
    expect(new Set(rows.map((r) => /\s(node-\d)\s/.exec(r)?.[1])), table).toEqual(new Set(['node-1', 'node-2']));
  }, 60_000);

  test('raftplane cluster kill <leader>: the app keeps serving and cluster status names the new leader; start and transfer-leader bring it back', async () => {
    const before = leaderOf(expectOk('cluster status', await run('npx', ['raftplane', 'cluster', 'status'], 30_000)));
    expect(before).toBeGreaterThan(0);
    const killed = expectOk('cluster kill', await run('npx', ['raftplane', 'cluster', 'kill', String(before)], 60_000));
    expect(killed).toMatch(new RegExp(`master ${before} \\(pid \\d+\\): SIGKILL sent`));
    expect(killed).toMatch(/new leader: master \d/);
    for (let i = 0; i < 6; i++) expect(await curl(url)).toMatch(/^demo-/);
    const status = expectOk('cluster status', await run('npx', ['raftplane', 'cluster', 'status'], 30_000));
    const after = leaderOf(status);
    expect(after, status).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect(status).toMatch(new RegExp(`^${before}\\s+-\\s+down`, 'm'));

    // The killed master comes back as a follower and takes leadership back on request, once caught up.
    expect(expectOk('cluster start', await run('npx', ['raftplane', 'cluster', 'start', String(before)], 30_000))).toMatch(new RegExp(`master ${before} starting`));
    // At once, as the README has it: transfer-leader waits for a target still connecting or catching up.
    const moved = await run('npx', ['raftplane', 'cluster', 'transfer-leader', String(before)], 30_000);
    expect(expectOk('cluster transfer-leader', moved)).toMatch(new RegExp(`leadership moved: master ${after} → master ${before} \\(term \\d+\\)`));
    expect(leaderOf(expectOk('cluster status', await run('npx', ['raftplane', 'cluster', 'status'], 30_000)))).toBe(before);
    expect(await curl(url)).toMatch(/^demo-/);
  }, 120_000);

  test('cluster down stops the containers the agents leave running; cluster up brings the app back at the same URL', async () => {
    const down = expectOk('cluster down', await run('npx', ['raftplane', 'cluster', 'down'], 90_000));
    expect(down).toMatch(/stopped 3 containers the agents left running \(process runtime\)/);
    expect(leftovers()).toEqual([]);
    expectOk('cluster up', await run('npx', ['raftplane', 'cluster', 'up'], 120_000));
    const deadline = Date.now() + 30_000;
    let body: string | null = null;
    while (Date.now() < deadline && !/^demo-/.test(body ?? '')) {
      body = await curl(url);
      if (body === null) await new Promise((r) => setTimeout(r, 250));
    }
    expect(body).toMatch(/^demo-/);
  }, 150_000);

  test('npm stop leaves no process behind: no master, agent, proxy or pod', async () => {
    const stop = await run('npm', ['stop'], 120_000);
    expectOk('npm stop', stop);
    console.log(`quickstart: npm stop ${(stop.ms / 1000).toFixed(1)} s`);
    expect(leftovers()).toEqual([]);
    expect(await curl(url)).toBeNull();
  }, 150_000);
});
