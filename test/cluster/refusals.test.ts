// Real master processes refuse bad state with a clear error: a corrupt log record stops a master
// from starting (naming the directory and the index), and a master with the wrong shared secret
// is refused by its peers and never joins.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, test } from 'vitest';
import { repoRoot } from '../../scripts/lib/cluster-control.js';
import { awaitLeader } from '../support/cluster-checks.js';
import { WriteLoad } from '../support/load.js';
import { tempCluster, type TempCluster } from '../../scripts/lib/temp-cluster.js';

/** Runs one master in the foreground until it exits; returns its exit code and stderr. */
function runMaster(configPath: string, id: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'packages/master/dist/main.js'), '--config', configPath, '--id', String(id)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('refusals', () => {
  let cluster: TempCluster | null = null;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = null;
  });

  test('a corrupt log record: the master refuses to start, naming the data directory and the index', async () => {
    cluster = await tempCluster({ masters: 3 });
    const { control } = cluster;
    await cluster.startAll();
    await awaitLeader(control);
    const load = new WriteLoad(control.client, 2).start();
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    const victim = 2;
    await control.stop(victim);
    // Flip one byte in the middle of a stored log record, through LevelDB itself.
    const dataDir = control.dataDir(victim);
    const db = new Level<Uint8Array, Uint8Array>(dataDir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const logKeys: Uint8Array[] = [];
    for await (const key of db.keys({ gte: new TextEncoder().encode('!raft-log!'), lt: new TextEncoder().encode('!raft-log"') })) logKeys.push(key);
    expect(logKeys.length).toBeGreaterThan(10);
    const key = logKeys[Math.floor(logKeys.length / 2)] as Uint8Array;
    const value = (await db.get(key)) as Uint8Array;
    const corrupted = Uint8Array.from(value);
    const at = corrupted.byteLength - 1;
    corrupted[at] = (corrupted[at] as number) ^ 0xff;
    await db.put(key, corrupted);
    await db.close();
    const index = Number(new DataView(key.buffer, key.byteOffset + key.byteLength - 8, 8).getBigUint64(0));

    const { code, stderr } = await runMaster(control.configPath, victim);
    expect(code).toBe(1);
    expect(stderr).toContain('STORAGE_CORRUPT');
    expect(stderr).toContain(dataDir);
    expect(stderr).toContain(String(index));
  });

  test('a master with the wrong shared secret is refused by its peers, logged, and never joins', async () => {
    cluster = await tempCluster({ masters: 3, secretOf: { 3: 'an-entirely-different-secret' } });
    const { control } = cluster;
    await cluster.startAll();
    const leader = await awaitLeader(control);
    expect(leader).not.toBe(3);
    await new Promise((r) => setTimeout(r, 2_000));
    const outsider = await control.client.status(3);
    expect(outsider?.leader).toBe(0);
    expect(outsider?.commit).toBe(0);
    const logs = (await Promise.all([1, 2].map((id) => readFile(control.logFile(id), 'utf8')))).join('\n');
    expect(logs).toMatch(/wrong shared secret/);
  });
});
