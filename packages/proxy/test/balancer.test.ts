// Which backend a connection tries first: round robin, and ClientIP affinity that lasts its timeout
// from the last use, ends when the backend is no longer ready, and remembers a bounded number of clients.

import { describe, expect, test } from 'vitest';
import { ServicePortBalancer, affinityClientsMax, frontendsOf } from '../src/index.js';

const a = { ip: '127.77.0.1', port: 80 };
const b = { ip: '127.77.0.2', port: 80 };
const c = { ip: '127.77.0.3', port: 80 };

describe('ServicePortBalancer', () => {
  test('round robin: each connection starts at the next backend, the others follow as fallbacks', () => {
    const balancer = new ServicePortBalancer(() => 0);
    expect(balancer.order([a, b, c], '127.0.0.9', 0, 0)).toEqual([a, b, c]);
    expect(balancer.order([a, b, c], '127.0.0.9', 0, 0)).toEqual([b, c, a]);
    expect(balancer.order([a, b, c], '127.0.0.9', 0, 0)).toEqual([c, a, b]);
    expect(balancer.order([a, b], '127.0.0.9', 0, 0)).toEqual([a, b]);
    expect(balancer.order([], '127.0.0.9', 0, 0)).toEqual([]);
  });

  test('ClientIP affinity: the same backend until the timeout since the last use, or until it is not ready', () => {
    const balancer = new ServicePortBalancer(() => 0);
    const timeoutMs = 10_000;
    expect(balancer.order([a, b, c], '127.0.0.9', 0, timeoutMs)[0]).toEqual(a);
    balancer.connected(b, '127.0.0.9', 0, timeoutMs);
    for (let t = 1_000; t <= 30_000; t += 5_000) {
      expect(balancer.order([a, b, c], '127.0.0.9', t, timeoutMs)[0]).toEqual(b);
      balancer.connected(b, '127.0.0.9', t, timeoutMs);
    }
    expect(balancer.order([a, c], '127.0.0.9', 31_000, timeoutMs)[0]).not.toEqual(b);
    // Timed out: round robin again, and forgotten.
    expect(balancer.order([a, b, c], '127.0.0.9', 26_000 + timeoutMs + 1, timeoutMs)).toHaveLength(3);
    expect(balancer.affinityCount()).toBe(0);
  });

  test('affinity remembers at most affinityClientsMax clients, forgetting the least recently seen', () => {
    const balancer = new ServicePortBalancer(() => 0);
    for (let i = 0; i <= affinityClientsMax; i++) balancer.connected(a, `client-${i}`, i, 1_000_000);
    expect(balancer.affinityCount()).toBe(affinityClientsMax);
    expect(balancer.order([b, a], 'client-0', 0, 1_000_000)[0]).toEqual(b);
    expect(balancer.order([b, a], `client-${affinityClientsMax}`, 0, 1_000_000)[0]).toEqual(a);
  });
});

describe('frontendsOf', () => {
  test('TCP ports on the ClusterIP, NodePorts on every node address, ready addresses of the same-named port only', () => {
    const frontends = frontendsOf(
      {
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          type: 'NodePort',
          clusterIP: '127.100.0.7',
          ports: [
            { name: 'http', port: 80, nodePort: 30080 },
            { name: 'dns', port: 53, protocol: 'UDP' },
          ],
        },
      },
      {
        metadata: { name: 'web', namespace: 'default' },
        subsets: [
          { addresses: [{ ip: '127.77.0.1' }], notReadyAddresses: [{ ip: '127.77.0.2' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'other', port: 9090, protocol: 'TCP' }] },
        ],
      },
      ['127.0.0.1', '127.0.1.1'],
    );
    expect(frontends.map((f) => `${f.address}:${f.port}`)).toEqual(['127.100.0.7:80', '127.0.0.1:30080', '127.0.1.1:30080']);
    for (const f of frontends) expect(f.backends).toEqual([{ ip: '127.77.0.1', port: 8080 }]);
    expect(frontendsOf({ metadata: { name: 'h' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } }, undefined, [])).toEqual([]);
  });
});
