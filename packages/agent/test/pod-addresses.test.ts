import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAgentError } from '../src/errors.js';
import { defaultPodCidr, parsePodCidr, PodAddressPool } from '../src/pod-addresses.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function file(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-addresses-'));
  dirs.push(dir);
  return join(dir, 'pod-addresses.json');
}

describe('pod addresses', () => {
  it('gives each pod its own loopback address, keeps it across a restart of the agent, and reuses released ones', async () => {
    const path = await file();
    const range = parsePodCidr('pod-cidr', '127.1.3.0/29');
    const pool = await PodAddressPool.open(range, path);
    const a = await pool.allocate('a', 'pod a');
    const b = await pool.allocate('b', 'pod b');
    expect([a, b]).toEqual(['127.1.3.1', '127.1.3.2']);
    expect(await pool.allocate('a', 'pod a')).toBe(a);
    const reopened = await PodAddressPool.open(range, path);
    expect(reopened.get('a')).toBe(a);
    expect(reopened.get('b')).toBe(b);
    for (const uid of ['c', 'd', 'e', 'f']) await reopened.allocate(uid, uid);
    await expect(reopened.allocate('g', 'pod default/g')).rejects.toSatisfy((e) => isAgentError(e, 'AGENT_POD_ADDRESSES_EXHAUSTED') && /pod default\/g/.test((e as Error).message));
    await reopened.release('b');
    expect(await reopened.allocate('g', 'g')).toBe('127.1.3.2');
  });

  it('refuses ranges outside loopback or malformed, naming the option', () => {
    expect(() => parsePodCidr('pod-cidr', '10.0.0.0/24')).toThrow(/option pod-cidr: 10.0.0.0\/24 is outside 127.0.0.0\/8/);
    expect(() => parsePodCidr('pod-cidr', '127.1.1.0')).toThrow(/option pod-cidr: "127.1.1.0" is not an IPv4 CIDR/);
    expect(() => parsePodCidr('pod-cidr', '127.1.1.0/31')).toThrow(/prefix 8 to 30/);
    expect(defaultPodCidr('127.0.1.2')).toBe('127.1.2.0/24');
  });
});
