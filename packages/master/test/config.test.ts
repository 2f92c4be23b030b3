// The cluster config is validated whole: every bad value and every unknown key is refused with an
// error naming the setting; relationships between settings are checked; the shipped configs load.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadClusterConfig, MasterError, MasterErrorCode, parseClusterConfig, settingsDefaults } from '../src/index.js';

const valid = {
  name: 'test',
  secret: 'a-secret-of-sixteen-plus',
  masters: [
    { id: 1, peer: '127.0.0.1:7001', api: '127.0.0.1:6001', dataDir: '/tmp/m1' },
    { id: 2, peer: '127.0.0.1:7002', api: '127.0.0.1:6002', dataDir: '/tmp/m2' },
  ],
};

function refusal(value: unknown): MasterError {
  try {
    parseClusterConfig(value, 'x.json');
  } catch (error) {
    if (error instanceof MasterError) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('cluster config', () => {
  test('a minimal config gets every default of DESIGN.md', () => {
    const config = parseClusterConfig(valid, 'x.json');
    expect(config.raft).toEqual(settingsDefaults.raft);
    expect(config.snapshot).toEqual(settingsDefaults.snapshot);
    expect(config.transport).toEqual(settingsDefaults.transport);
    expect(config.api).toEqual(settingsDefaults.api);
    expect(config.masters[1]).toEqual({ id: 2, peer: { host: '127.0.0.1', port: 7002 }, api: { host: '127.0.0.1', port: 6002 }, dataDir: '/tmp/m2', dialVia: new Map() });
  });

  test('dialVia routes a link through another address (a fault-injecting proxy)', () => {
    const config = parseClusterConfig({ ...valid, masters: [{ ...valid.masters[0], dialVia: { '2': '127.0.0.1:9002' } }, valid.masters[1]] }, 'x.json');
    expect(config.masters[0]?.dialVia).toEqual(new Map([[2, { host: '127.0.0.1', port: 9002 }]]));
  });

  test.each([
    [{ ...valid, colour: 'blue' }, '(top level).colour'],
    [{ ...valid, raft: { tickMS: 100 } }, 'raft.tickMS'],
    [{ ...valid, name: 'Has Spaces' }, 'name'],
    [{ ...valid, secret: 'short' }, 'secret'],
    [{ ...valid, masters: [] }, 'masters'],
    [{ ...valid, masters: [{ ...valid.masters[0], id: 0 }] }, 'masters[0].id'],
    [{ ...valid, masters: [{ ...valid.masters[0], peer: '127.0.0.1' }] }, 'masters[0].peer'],
    [{ ...valid, masters: [{ ...valid.masters[0], api: '127.0.0.1:70000' }] }, 'masters[0].api'],
    [{ ...valid, masters: [valid.masters[0], { ...valid.masters[1], id: 1 }] }, 'masters[1].id'],
    [{ ...valid, masters: [valid.masters[0], { ...valid.masters[1], api: '127.0.0.1:6001' }] }, 'masters[1]'],
    [{ ...valid, masters: [valid.masters[0], { ...valid.masters[1], dataDir: '/tmp/m1' }] }, 'masters[1].dataDir'],
    [{ ...valid, masters: [{ ...valid.masters[0], role: 'x' }] }, 'masters[0].role'],
    [{ ...valid, masters: [{ ...valid.masters[0], dialVia: { '3': '127.0.0.1:9003' } }, valid.masters[1]] }, 'masters[0].dialVia.3'],
    [{ ...valid, masters: [valid.masters[0], { ...valid.masters[1], dialVia: { '1': '127.0.0.1:9001' } }] }, 'masters[1].dialVia.1'],
    [{ ...valid, masters: [{ ...valid.masters[0], dialVia: { two: '127.0.0.1:9002' } }, valid.masters[1]] }, 'masters[0].dialVia'],
    [{ ...valid, masters: [{ ...valid.masters[0], dialVia: { '2': 'nowhere' } }, valid.masters[1]] }, 'masters[0].dialVia.2'],
    [{ ...valid, raft: { tickMs: 0 } }, 'raft.tickMs'],
    [{ ...valid, raft: { preVote: 'yes' } }, 'raft.preVote'],
    [{ ...valid, raft: { electionTimeoutTicks: 2, heartbeatIntervalTicks: 2 } }, 'raft.electionTimeoutTicks'],
    [{ ...valid, transport: { reconnectDelayMsMin: 500, reconnectDelayMsMax: 100 } }, 'transport.reconnectDelayMsMin'],
    [{ ...valid, transport: { frameBytesMax: 1024 } }, 'transport.frameBytesMax'],
    [{ ...valid, transport: { idleTimeoutMs: 50 } }, 'transport.idleTimeoutMs'],
    [{ ...valid, api: { bodyBytesMax: -1 } }, 'api.bodyBytesMax'],
    [{ ...valid, apiserver: { serviceClusterIPRange: 'fd00::/108' } }, 'apiserver.serviceClusterIPRange'],
    [{ ...valid, apiserver: { serviceClusterIPRange: '10.96.0.0/12' } }, 'apiserver.serviceClusterIPRange'],
    [{ ...valid, apiserver: { serviceClusterIPRange: '127.100.0.5/16' } }, 'apiserver.serviceClusterIPRange'],
    [{ ...valid, apiserver: { serviceClusterIPRange: '127.100.0.0/31' } }, 'apiserver.serviceClusterIPRange'],
    [{ ...valid, apiserver: { serviceNodePortRange: '32767-30000' } }, 'apiserver.serviceNodePortRange'],
    [{ ...valid, apiserver: { serviceNodePortRange: 30000 } }, 'apiserver.serviceNodePortRange'],
    [[], '(top level)'],
  ])('refuses %j, naming %s', (value, path) => {
    const error = refusal(value);
    expect(error.code).toBe(MasterErrorCode.InvalidConfig);
    expect(error.details['path']).toBe(path);
    expect(error.message).toContain('x.json');
  });

  test('the service ranges default to 127.100.0.0/16 and 30000-32767, and a bad one says what is wrong', () => {
    const config = parseClusterConfig(valid, 'x.json');
    expect(config.apiserver.serviceClusterIPRange).toBe('127.100.0.0/16');
    expect(config.apiserver.serviceNodePortRange).toBe('30000-32767');
    const given = parseClusterConfig({ ...valid, apiserver: { serviceClusterIPRange: '127.200.0.0/24', serviceNodePortRange: '31000-31099' } }, 'x.json');
    expect(given.apiserver).toMatchObject({ serviceClusterIPRange: '127.200.0.0/24', serviceNodePortRange: '31000-31099' });
    expect(refusal({ ...valid, apiserver: { serviceClusterIPRange: 'fd00::/108' } }).message).toContain('apiserver.serviceClusterIPRange must be an IPv4 CIDR');
    expect(refusal({ ...valid, apiserver: { serviceClusterIPRange: '127.100.0.5/16' } }).message).toContain('did you mean 127.100.0.0/16?');
  });

  test('components.percentageOfNodesToScore is 0 (adaptive) by default, 0 to 100 when given, refused otherwise', () => {
    expect(parseClusterConfig(valid, 'x.json').components.percentageOfNodesToScore).toBe(0);
    expect(parseClusterConfig({ ...valid, components: { percentageOfNodesToScore: 100 } }, 'x.json').components).toMatchObject({ percentageOfNodesToScore: 100, scheduler: true });
    for (const bad of [101, -1, 2.5, '50']) {
      const error = refusal({ ...valid, components: { percentageOfNodesToScore: bad } });
      expect(error.code).toBe(MasterErrorCode.InvalidConfig);
      expect(error.message).toContain('components.percentageOfNodesToScore');
    }
  });

  test('a file that is not JSON or not there is refused with its name', async () => {
    await expect(loadClusterConfig('/nonexistent/cluster.json')).rejects.toMatchObject({ code: MasterErrorCode.InvalidConfig });
    await expect(loadClusterConfig(fileURLToPath(import.meta.url))).rejects.toThrow(/is not valid JSON/);
  });

  test('every shipped config in cluster-configs/ loads', async () => {
    const dir = fileURLToPath(new URL('../../../cluster-configs/', import.meta.url));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['local-1.json', 'local-3.json', 'local-5.json']);
    for (const file of files) {
      const config = await loadClusterConfig(join(dir, file));
      expect(config.masters.length).toBe(Number(/local-(\d)/.exec(file)?.[1]));
      for (const m of config.masters) expect(m.peer.host).toBe('127.0.0.1');
    }
  });
});
