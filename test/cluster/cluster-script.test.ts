// `npm run cluster` end to end: up, up again, status, kill, start, pause, resume, logs, down,
// down again and wipe, each saying clearly what it did, against a throwaway config.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster-control.js';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';

const run = promisify(execFile);

describe('npm run cluster', () => {
  let cluster: TempCluster;
  let cli: (...args: string[]) => Promise<{ stdout: string; code: number }>;
  beforeAll(async () => {
    cluster = await tempCluster({ masters: 3 });
    const runDir = cluster.control.runDir;
    cli = async (...args) => {
      try {
        const { stdout } = await run(
          process.execPath,
          ['--import', 'tsx', join(repoRoot, 'scripts/cluster.ts'), ...args, '--config', cluster.control.configPath, '--run-dir', runDir],
          { cwd: repoRoot, timeout: 60_000 },
        );
        return { stdout, code: 0 };
      } catch (error) {
        const failed = error as { stdout?: string; stderr?: string; code?: number };
        return { stdout: `${failed.stdout ?? ''}${failed.stderr ?? ''}`, code: failed.code ?? 1 };
      }
    };
  });
  afterAll(async () => cluster.cleanup());

  test('up starts every master and returns once a leader is elected, with a status table', async () => {
    const { stdout, code } = await cli('up');
    expect(code).toBe(0);
    expect(stdout).toMatch(/masters up/);
    expect(stdout).toMatch(/leader elected: master \d/);
    expect(stdout.match(/^\d\s+\d+\s+(leader|follower)/gm)?.length).toBe(3);
  });

  test('up again says the cluster is already up', async () => {
    const { stdout, code } = await cli('up');
    expect(code).toBe(0);
    expect(stdout).toMatch(/cluster test is already up \(pids \d+, \d+, \d+\); nothing to start/);
  });

  test('kill, status, start, pause and resume act on one master and say so', async () => {
    expect((await cli('kill', '2')).stdout).toMatch(/master 2 \(pid \d+\): SIGKILL sent/);
    expect((await cli('status')).stdout).toMatch(/^2\s+-\s+down/m);
    expect((await cli('kill', '2')).stdout).toMatch(/master 2 is not running/);
    expect((await cli('start', '2')).stdout).toMatch(/master 2 starting \(pid \d+\)/);
    expect((await cli('start', '2')).stdout).toMatch(/master 2 is already running/);
    expect((await cli('pause', '3')).stdout).toMatch(/master 3 \(pid \d+\): SIGSTOP sent/);
    expect((await cli('resume', '3')).stdout).toMatch(/master 3 \(pid \d+\): SIGCONT sent/);
    await cluster.control.waitFor('all three to answer', (s) => [...s.values()].every((x) => x !== null), 15_000);
  });

  test('logs prints a master’s JSON log lines; a bad id names the masters there are', async () => {
    const { stdout } = await cli('logs', '1');
    const first = JSON.parse(stdout.split('\n')[0] as string) as Record<string, unknown>;
    expect(first).toMatchObject({ master: 1, cluster: 'test' });
    const bad = await cli('logs', '9');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/no master "9" \(masters of test: 1, 2, 3\)/);
  });

  test('down stops everything, down again says nothing runs, wipe deletes data and logs', async () => {
    expect((await cli('down')).stdout.match(/master \d stopped/g)?.length).toBe(3);
    expect((await cli('down')).stdout).toMatch(/cluster test is not running; nothing to stop/);
    expect((await cli('wipe')).stdout).toMatch(/cluster test: data and logs deleted/);
    expect(existsSync(cluster.control.dataDir(1))).toBe(false);
    expect(existsSync(cluster.control.runDir)).toBe(false);
  });

  test('an unknown command is refused with the usage', async () => {
    const { stdout, code } = await cli('explode');
    expect(code).toBe(2);
    expect(stdout).toMatch(/unknown command "explode"/);
    expect(stdout).toMatch(/usage: npm run cluster/);
  });
});
