// One port, two protocols: plain HTTP and TLS reach the same HTTP server, told apart by the first
// byte; the certificate a master makes for itself names its address and is kept across restarts.

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDualListener } from '../src/dual-listener.js';
import { loadServingCert } from '../src/serving-cert.js';

let dir: string;
let http: HttpServer;
let listener: Server;
let port: number;
let cert: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'raftplane-dual-'));
  const serving = await loadServingCert({ certFile: null, keyFile: null, dataDir: dir, api: { host: '127.0.0.1', port: 1 }, now: new Date() });
  cert = serving.cert;
  http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${(req.socket as { encrypted?: boolean }).encrypted === true ? 'tls' : 'plain'} ${req.url}`);
  });
  listener = createDualListener(http, serving);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as AddressInfo).port;
});

afterAll(async () => {
  listener.close();
  http.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
});

describe('the dual listener', () => {
  test('plain HTTP and TLS on the same port reach the same server', async () => {
    const plain = await request(`http://127.0.0.1:${port}/a`);
    expect(await plain.body.text()).toBe('plain /a');
    const trusting = new Agent({ connect: { ca: cert } });
    const secure = await request(`https://127.0.0.1:${port}/b`, { dispatcher: trusting });
    expect(await secure.body.text()).toBe('tls /b');
    await trusting.close();
  });

  test('the self-signed certificate names 127.0.0.1, and a master keeps it across restarts', async () => {
    const x509 = new X509Certificate(cert);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    const again = await loadServingCert({ certFile: null, keyFile: null, dataDir: dir, api: { host: '127.0.0.1', port: 1 }, now: new Date() });
    expect(again.cert).toBe(cert);
  });

  test('a client that does not trust the certificate is refused, and the port keeps serving', async () => {
    await expect(request(`https://127.0.0.1:${port}/c`)).rejects.toThrow();
    expect(await (await request(`http://127.0.0.1:${port}/d`)).body.text()).toBe('plain /d');
  });
});
