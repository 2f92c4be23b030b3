// The certificate the API port serves TLS with. kubectl sends a bearer token only over TLS (client-go
// reads a kubeconfig's credentials only for an https server), so the Kubernetes API needs it. A
// cluster config may name a certificate and key; otherwise each master makes a self-signed one
// for its API address on first start and keeps it in its data directory (clients then skip
// verification: `insecure-skip-tls-verify`, loopback development only).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { HostPort } from './config.js';

export interface ServingCert {
  readonly cert: string;
  readonly key: string;
  /** Where it came from, for the log. */
  readonly source: string;
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string } | null> {
  try {
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function loadServingCert(options: { certFile: string | null; keyFile: string | null; dataDir: string; api: HostPort; now: Date }): Promise<ServingCert> {
  if (options.certFile !== null && options.keyFile !== null) {
    const pair = await readPair(options.certFile, options.keyFile);
    if (pair === null) throw new Error(`apiserver.tlsCertFile ${options.certFile} or apiserver.tlsKeyFile ${options.keyFile} does not exist`);
    return { ...pair, source: options.certFile };
  }
  const dir = join(options.dataDir, 'apiserver-tls');
  const certFile = join(dir, 'serving.crt');
  const keyFile = join(dir, 'serving.key');
  const existing = await readPair(certFile, keyFile);
  if (existing !== null) return { ...existing, source: certFile };
  const host = options.api.host;
  const altNames: { type: 2 | 7; ip?: string; value?: string }[] = [
    { type: 7, ip: '127.0.0.1' },
    { type: 2, value: 'localhost' },
  ];
  if (host !== '127.0.0.1') altNames.push(isIP(host) !== 0 ? { type: 7, ip: host } : { type: 2, value: host });
  const notAfter = new Date(options.now);
  notAfter.setFullYear(notAfter.getFullYear() + 10);
  const pems = await generate([{ name: 'commonName', value: `raftplane-apiserver-${host}-${options.api.port}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: options.now,
    notAfterDate: notAfter,
    extensions: [{ name: 'subjectAltName', altNames }],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(keyFile, pems.private, { mode: 0o600 });
  await writeFile(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, source: `${certFile} (made now, self-signed)` };
}
