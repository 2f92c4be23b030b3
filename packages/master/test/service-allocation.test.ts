// Service addresses (issue 8): ClusterIPs from apiserver.serviceClusterIPRange and NodePorts from
// apiserver.serviceNodePortRange, claimed in the Service's own txn, so that no two Services ever
// share one, a delete frees them, and a refused write leaves no claim behind. One in-process master
// with a tiny IP range (127.100.0.0/26: 61 addresses to hand out) and ten NodePorts.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasStatusReason, isStatusError, type Service, type StatusError } from '@raftplane/api';
import { nodePortClaimPrefix, rangeRequest, serviceIPClaimPrefix } from '@raftplane/apiserver';
import { createClient, type Client } from '@raftplane/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePorts } from '../../../scripts/lib/temp-cluster.js';
import type { KvService } from '../src/etcd/service.js';
import { Master, createKubeApi, createKvService, parseClusterConfig } from '../src/index.js';

let dir: string;
let master: Master;
let kv: KvService;
let client: Client;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-service-allocation-'));
  const [peerPort, apiPort] = await freePorts(2);
  const config = parseClusterConfig({
    name: 'service-allocation-test',
    secret: 'service-allocation-test-secret',
    masters: [{ id: 1, peer: `127.0.0.1:${peerPort}`, api: `127.0.0.1:${apiPort}`, dataDir: join(dir, 'm1') }],
    apiserver: { serviceClusterIPRange: '127.100.0.0/26', serviceNodePortRange: '30000-30009' },
    components: { scheduler: false, controllerManager: false },
  });
  const logger = pino({ level: 'silent' });
  master = await Master.start({ config, id: 1, logger }, (error) => {
    throw error;
  });
  kv = createKvService(master);
  client = createClient((await createKubeApi({ master, service: kv, logger })).inProcess);
  for (let i = 0; i < 300 && !master.isLeading(); i++) await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 100; i++) {
    try {
      await client.resource('namespaces').get('default');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  for (const name of ['ips', 'ports', 'full']) await client.resource('namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});

afterAll(async () => {
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

function service(name: string, spec: Service['spec'] = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } };
}

/** The claims under a prefix: address → owner (namespace/name). */
async function claims(prefix: string): Promise<Map<string, string>> {
  const key = encoder.encode(prefix);
  const end = encoder.encode(prefix.slice(0, -1) + '0');
  const response = await kv.range(rangeRequest({ key, rangeEnd: end }));
  return new Map(
    response.kvs.map((k) => {
      const owner = JSON.parse(decoder.decode(k.value)) as { namespace: string; name: string };
      return [decoder.decode(k.key).slice(prefix.length), `${owner.namespace}/${owner.name}`];
    }),
  );
}

async function refusal(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    if (isStatusError(error)) return error;
    throw error;
  }
  throw new Error('the write was accepted');
}

function inRange(ip: string): boolean {
  const last = Number(ip.split('.')[3]);
  return ip.startsWith('127.100.0.') && last >= 2 && last <= 62;
}

describe('ClusterIPs', () => {
  test('a Service without clusterIP gets a free one from the range, single-stack IPv4, and its claim names it', async () => {
    const created = await client.resource('services', 'ips').create(service('web'));
    const ip = created.spec?.clusterIP ?? '';
    expect(inRange(ip)).toBe(true);
    expect(created.spec).toMatchObject({ clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    expect((await claims(serviceIPClaimPrefix)).get(ip)).toBe('ips/web');
    expect((await client.resource('services', 'ips').get('web')).spec?.clusterIP).toBe(ip);
  });

  test('a headless Service (clusterIP None) gets no address', async () => {
    const before = await claims(serviceIPClaimPrefix);
    const created = await client.resource('services', 'ips').create(service('headless', { clusterIP: 'None' }));
    expect(created.spec).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'] });
    expect(await claims(serviceIPClaimPrefix)).toEqual(before);
  });

  test('a requested IP is granted when free, refused when taken or outside the range, and a refusal leaves no claim', async () => {
    const services = client.resource('services', 'ips');
    const created = await services.create(service('asked', { clusterIP: '127.100.0.1' }));
    expect(created.spec?.clusterIPs).toEqual(['127.100.0.1']);
    const before = await claims(serviceIPClaimPrefix);
    const taken = await refusal(services.create(service('again', { clusterIP: '127.100.0.1' })));
    expect(taken.reason).toBe('Invalid');
    expect(taken.message).toBe('Service "again" is invalid: spec.clusterIPs: Invalid value: "127.100.0.1": provided IP is already allocated');
    const outside = await refusal(services.create(service('outside', { clusterIP: '127.100.1.1' })));
    expect(outside.code).toBe(422);
    expect(outside.message).toContain('spec.clusterIPs: Invalid value: "127.100.1.1": provided IP is not in the valid range. The range of valid IPs is 127.100.0.0/26');
    // The broadcast address is not in the valid range either.
    expect((await refusal(services.create(service('broadcast', { clusterIP: '127.100.0.63' })))).code).toBe(422);
    // A write refused for another reason after choosing an address: AlreadyExists.
    expect((await refusal(services.create(service('web')))).reason).toBe('AlreadyExists');
    expect(await claims(serviceIPClaimPrefix)).toEqual(before);
  });

  test('an IP asked for in clusterIPs alone is granted as clusterIP', async () => {
    const held = await claims(serviceIPClaimPrefix);
    const free = Array.from({ length: 61 }, (_, i) => `127.100.0.${i + 2}`).find((ip) => !held.has(ip)) ?? '';
    const created = await client.resource('services', 'ips').create(service('by-list', { clusterIPs: [free] }));
    expect(created.spec).toMatchObject({ clusterIP: free, clusterIPs: [free] });
    expect((await claims(serviceIPClaimPrefix)).get(free)).toBe('ips/by-list');
  });

  test('a deleted Service frees its IP, which another Service may then ask for', async () => {
    const services = client.resource('services', 'ips');
    const created = await services.create(service('short-lived'));
    const ip = created.spec?.clusterIP ?? '';
    await services.delete('short-lived');
    expect((await claims(serviceIPClaimPrefix)).has(ip)).toBe(false);
    const reused = await services.create(service('reuser', { clusterIP: ip }));
    expect(reused.spec?.clusterIP).toBe(ip);
    expect((await claims(serviceIPClaimPrefix)).get(ip)).toBe('ips/reuser');
  });

  test('an update without clusterIP keeps it; a change is refused as immutable', async () => {
    const services = client.resource('services', 'ips');
    const current = await services.get('web');
    const { clusterIP, clusterIPs: _ips, ...rest } = current.spec ?? {};
    const replaced = await services.update({ ...current, spec: { ...rest, ports: [{ port: 81 }] } });
    expect(replaced.spec?.clusterIP).toBe(clusterIP);
    expect(replaced.spec?.clusterIPs).toEqual([clusterIP]);
    // A free address of the range: web's own was chosen at random (a fixed one here was web's once in 61 runs).
    const held = await claims(serviceIPClaimPrefix);
    const other = Array.from({ length: 61 }, (_, i) => `127.100.0.${i + 2}`).find((ip) => !held.has(ip)) ?? '';
    const changed = await refusal(services.update({ ...replaced, spec: { ...replaced.spec, clusterIP: other, clusterIPs: [other] } }));
    expect(changed.reason).toBe('Invalid');
    expect(changed.message).toContain(`spec.clusterIP: Invalid value: "${other}": field is immutable`);
    expect((await claims(serviceIPClaimPrefix)).get(clusterIP ?? '')).toBe('ips/web');
  });
});

describe('NodePorts', () => {
  test('a NodePort Service gets a free port for every port without one, and the one it asks for', async () => {
    const created = await client.resource('services', 'ports').create(
      service('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30005 }] }),
    );
    const [a, b] = created.spec?.ports ?? [];
    expect(a?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(a?.nodePort).toBeLessThanOrEqual(30009);
    expect(a?.nodePort).not.toBe(30005);
    expect(b?.nodePort).toBe(30005);
    const owned = await claims(nodePortClaimPrefix);
    expect(owned.get(String(a?.nodePort))).toBe('ports/np');
    expect(owned.get('30005')).toBe('ports/np');
  });

  test('a port chosen for one port of a Service is never the one another of its ports asks for (30 tries)', async () => {
    // Before the fix the choice ignored the asked-for ports further down the list: 1 in 8 here.
    // The port asked for is one that 'np' (above, whose first port was chosen at random) left free.
    const held = await claims(nodePortClaimPrefix);
    const asked = [30007, 30008, 30009, 30000].find((p) => !held.has(String(p))) as number;
    const services = client.resource('services', 'ports');
    for (let i = 0; i < 30; i++) {
      const created = await services.create(service('pair', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: asked }] }));
      const [a, b] = created.spec?.ports ?? [];
      expect(b?.nodePort).toBe(asked);
      expect(a?.nodePort).not.toBe(asked);
      await services.delete('pair');
    }
  });

  test('a taken or out-of-range nodePort is refused, naming the port', async () => {
    const services = client.resource('services', 'ports');
    const before = await claims(nodePortClaimPrefix);
    const taken = await refusal(services.create(service('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30005 }] })));
    expect(taken.message).toBe('Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30005: provided port is already allocated');
    const outside = await refusal(services.create(service('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })));
    expect(outside.message).toContain('spec.ports[0].nodePort: Invalid value: 30080: provided port is not in the valid range. The range of valid ports is 30000-30009');
    expect(await claims(nodePortClaimPrefix)).toEqual(before);
    expect((await claims(serviceIPClaimPrefix)).has('')).toBe(false);
  });

  test('an update keeps nodePorts left out, a change to ClusterIP releases them, a change to NodePort allocates', async () => {
    const services = client.resource('services', 'ports');
    const current = await services.get('np');
    const held = (current.spec?.ports ?? []).map((p) => p.nodePort);
    const replaced = await services.update({ ...current, spec: { ...current.spec, ports: (current.spec?.ports ?? []).map(({ nodePort: _n, ...p }) => p) } });
    expect(replaced.spec?.ports?.map((p) => p.nodePort)).toEqual(held);
    const asClusterIP = await services.update({ ...replaced, spec: { ...replaced.spec, type: 'ClusterIP' } });
    expect(asClusterIP.spec?.ports?.map((p) => p.nodePort)).toEqual([undefined, undefined]);
    expect([...(await claims(nodePortClaimPrefix)).values()]).not.toContain('ports/np');
    const asNodePort = await services.update({ ...asClusterIP, spec: { ...asClusterIP.spec, type: 'NodePort' } });
    const ports = asNodePort.spec?.ports?.map((p) => p.nodePort ?? 0) ?? [];
    expect(ports.every((p) => p >= 30000 && p <= 30009)).toBe(true);
    const owned = await claims(nodePortClaimPrefix);
    for (const port of ports) expect(owned.get(String(port))).toBe('ports/np');
    // A removed port gives its nodePort back.
    const fewer = await services.update({ ...asNodePort, spec: { ...asNodePort.spec, ports: asNodePort.spec?.ports?.slice(0, 1) } });
    expect(fewer.spec?.ports).toHaveLength(1);
    expect((await claims(nodePortClaimPrefix)).has(String(ports[1]))).toBe(false);
  });

  test('a deleted NodePort Service frees its ports and its IP', async () => {
    const services = client.resource('services', 'ports');
    const current = await services.get('np');
    await services.delete('np');
    expect([...(await claims(nodePortClaimPrefix)).values()]).not.toContain('ports/np');
    expect((await claims(serviceIPClaimPrefix)).has(current.spec?.clusterIP ?? '')).toBe(false);
    const again = await services.create(service('np', { type: 'NodePort', ports: [{ port: 80, nodePort: current.spec?.ports?.[0]?.nodePort }] }));
    expect(again.spec?.ports?.[0]?.nodePort).toBe(current.spec?.ports?.[0]?.nodePort);
  });
});

describe('under contention and when full', () => {
  test('50 Services created at once never share an IP; once the range is full, a clear error and no claim', async () => {
    const services = client.resource('services', 'full');
    const taken = (await claims(serviceIPClaimPrefix)).size;
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => services.create(service(`s${i}`))));
    const ips = created.map((s) => s.spec?.clusterIP ?? '');
    expect(new Set(ips).size).toBe(50);
    expect(ips.every(inRange)).toBe(true);
    const owned = await claims(serviceIPClaimPrefix);
    ips.forEach((ip, i) => expect(owned.get(ip)).toBe(`full/s${i}`));
    // 61 addresses are handed out on their own (…0.2 to …0.62); …0.1 is only given when asked for.
    const left = 61 - (taken + 50) + (owned.has('127.100.0.1') ? 1 : 0);
    for (let i = 0; i < left; i++) await services.create(service(`more${i}`));
    const full = await refusal(services.create(service('one-too-many')));
    expect(full.code).toBe(500);
    expect(full.message).toContain('failed to allocate a serviceIP: range is full');
    expect((await claims(serviceIPClaimPrefix)).size).toBe(62);
    await expect(services.get('one-too-many')).rejects.toSatisfy((e) => hasStatusReason(e, 'NotFound'));
    // Freeing one makes room again.
    await services.delete('s0');
    expect((await services.create(service('one-too-many'))).spec?.clusterIP).toBe(ips[0]);
  });
});
