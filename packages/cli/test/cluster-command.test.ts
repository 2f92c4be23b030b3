// `raftplane cluster`'s flags and refusals, before anything starts: usage errors (exit 2) and
// unknown members (exit 1) say what is wrong and what there is; a port that another process holds
// stops `up` before any master starts, naming that process. Nothing here starts a process.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import { parseClusterFlags, runCluster } from '../src/cluster/command.js';
import { ClusterError, ClusterErrorCode } from '../src/cluster/errors.js';

let dir: string;
let config: string;
let held: Server;
let heldPort: number;
const heldSockets = new Set<Socket>();

const defaults = { program: 'raftplane cluster', agentsDefault: 2, defaultConfig: 'cluster-configs/local-3.json' };

async function cluster(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await runCluster(argv, { ...defaults, workDir: dir, stdout, stderr, isTTY: false });
  return { code, stdout: out, stderr: err };
}

function refusal(argv: string[]): ClusterError {
  try {
    parseClusterFlags(argv, defaults);
  } catch (error) {
    if (error instanceof ClusterError) return error;
    throw error;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-cluster-cmd-'));
  const ports = await freePorts(6);
  config = join(dir, 'cluster.json');
  const masters = [1, 2, 3].map((id) => ({ id, peer: `127.0.0.1:${ports[2 * id - 2]}`, api: `127.0.0.1:${ports[2 * id - 1]}`, dataDir: join(dir, `m${id}`) }));
  await writeFile(config, JSON.stringify({ name: 'cmd-test', secret: 'cmd-test-shared-secret', masters }));
  // Master 2's API port, held by this process as another cluster's master would hold it.
  heldPort = ports[3] as number;
  // It accepts connections and never answers (status asks every master), like a paused master.
  held = createServer((socket) => {
    heldSockets.add(socket);
    socket.once('close', () => heldSockets.delete(socket));
  });
  await new Promise<void>((resolve) => held.listen(heldPort, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  await new Promise((resolve) => held.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('raftplane cluster flags', () => {
  test('defaults: two agents, the process runtime, 60 s per stage, the default config', () => {
    const { flags, positionals } = parseClusterFlags(['up'], defaults);
    expect(positionals).toEqual(['up']);
    expect(flags).toMatchObject({ config: 'cluster-configs/local-3.json', agents: 2, runtime: 'process', timeoutMs: 60_000, demo: false, deleteDemo: false, follow: false });
    expect(parseClusterFlags(['up', '--agents', '0', '--runtime', 'docker', '--docker-socket', '/tmp/d.sock', '--timeout', '2m', '--demo'], defaults).flags).toMatchObject({
      agents: 0,
      runtime: 'docker',
      dockerSocket: '/tmp/d.sock',
      timeoutMs: 120_000,
      demo: true,
    });
    expect(parseClusterFlags(['up', '--timeout-ms', '1500'], defaults).flags.timeoutMs).toBe(1_500);
  });

  test.each([
    [['up', '--agents', '12'], /--agents "12" must be an integer from 0 to 9/],
    [['up', '--agents', 'two'], /--agents "two"/],
    [['up', '--runtime', 'podman'], /--runtime "podman" is not one of process, docker/],
    [['up', '--timeout', 'soon'], /--timeout "soon" is not a duration/],
    [['up', '--docker-socket', 'docker.sock'], /--docker-socket "docker.sock" must be an absolute path/],
    [['up', '--nodes', '3'], /Unknown option '--nodes'/],
  ])('%j is refused with InvalidUsage naming the flag', (argv, message) => {
    const error = refusal(argv);
    expect(error.code).toBe(ClusterErrorCode.InvalidUsage);
    expect(error.message).toMatch(message);
  });

  test('usage errors exit 2: no command, an unknown command (with the usage), a stray argument', async () => {
    expect((await cluster()).code).toBe(2);
    const unknown = await cluster('explode', '--config', config);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "explode"/);
    expect(unknown.stderr).toMatch(/usage: raftplane cluster <command>/);
    const stray = await cluster('status', 'now', 'please', '--config', config);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/unexpected argument "please" for status/);
    const help = await cluster('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/transfer-leader <master>/);
  });

  test('a missing config exits 1 and lists the cluster configs there are', async () => {
    await mkdir(join(dir, 'cluster-configs'), { recursive: true });
    await writeFile(join(dir, 'cluster-configs', 'local-9.json'), '{}');
    const missing = await cluster('up', '--config', join(dir, 'nope.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cluster config .*nope\.json: cannot be read .*\(cluster configs: .*cluster-configs\/local-9\.json\)/);
  });

  test('an unknown master or component exits 1 naming the ones there are', async () => {
    for (const command of ['kill', 'stop', 'start', 'pause', 'resume', 'transfer-leader']) {
      const answer = await cluster(command, '9', '--config', config);
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(/no master "9" \(masters of cmd-test: 1, 2, 3\)/);
    }
    expect((await cluster('kill', '--config', config)).stderr).toMatch(/a master id is required/);
    const logs = await cluster('logs', 'scheduler', '--config', config);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toMatch(/no component "scheduler" \(components: masters 1, 2, 3, .*agent-node-1, agent-node-2, proxy\)/);
  });

  test('up with a port held by another process starts nothing and names the holder', async () => {
    const answer = await cluster('up', '--agents', '0', '--config', config);
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(/cannot start cluster cmd-test: its ports are taken; another cluster is probably running/);
    expect(answer.stderr).toContain(`127.0.0.1:${heldPort} (master 2's API): in use by pid ${process.pid},`);
    for (const id of [1, 2, 3]) expect(existsSync(join(dir, '.cluster', 'cmd-test', `m${id}.pid`))).toBe(false);
  });

  test('status of a cluster that is not running says so, one row per master', async () => {
    const answer = await cluster('status', '--config', config);
    expect(answer.code).toBe(0);
    expect(answer.stdout).toMatch(/^cluster cmd-test is not running$/m);
    expect(answer.stdout.match(/^\d\s+-\s+down/gm)).toHaveLength(3);
  });
});
