// How clients reach a local cluster: the admin token from the cluster's token file, and the three
// files `cluster up` writes into the run directory for them: `kubeconfig` (kubectl),
// `raftplane.json` (the raftplane verbs, see ../verbs/cli-config.ts) and `admin.token` (the agents
// and the proxy, through --token-file, so that the token stays out of `ps`).

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterConfig } from '@raftplane/master';

/** Every master's API origin, `http://127.0.0.1:6441`: plain HTTP, which the API port also speaks. */
export function serverUrls(config: ClusterConfig): string[] {
  return config.masters.map((m) => `http://${m.api.host}:${m.api.port}`);
}

/** The first token in the cluster's token file whose groups include an admin group, or null (no token file). */
export async function adminToken(config: ClusterConfig): Promise<string | null> {
  const settings = config.apiserver;
  if (settings.tokenFile === null) return null;
  const line = (await readFile(settings.tokenFile, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#') && settings.adminGroups.some((g) => l.includes(g)));
  return line === undefined ? null : (line.split(',')[0] ?? null);
}

export interface AccessFiles {
  readonly kubeconfig: string;
  readonly cliConfig: string;
  readonly tokenFile: string;
}

/**
 * Writes the three files (0600: they hold the token). kubectl sends tokens only over TLS, so the
 * kubeconfig points at the first master's https URL (the API port speaks both), with each master's
 * self-signed certificate unless the config names one.
 */
export async function writeAccessFiles(config: ClusterConfig, runDir: string, token: string): Promise<AccessFiles> {
  const first = config.masters[0];
  if (first === undefined) throw new Error(`cluster ${config.name} has no masters`);
  const name = config.name;
  const insecure = config.apiserver.tlsCertFile === null ? '\n    insecure-skip-tls-verify: true' : '';
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: https://${first.api.host}:${first.api.port}${insecure}
users:
- name: ${name}-admin
  user:
    token: ${token}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-admin
    namespace: default
current-context: ${name}
`;
  const files = { kubeconfig: join(runDir, 'kubeconfig'), cliConfig: join(runDir, 'raftplane.json'), tokenFile: join(runDir, 'admin.token') };
  await writeFile(files.kubeconfig, kubeconfig, { mode: 0o600 });
  await writeFile(files.cliConfig, `${JSON.stringify({ servers: serverUrls(config), token, namespace: 'default' }, null, 2)}\n`, { mode: 0o600 });
  await writeFile(files.tokenFile, `${token}\n`, { mode: 0o600 });
  return files;
}

/** GET `path` from the first master that answers within `timeoutMs`; null when none does. */
export async function apiGet<T>(servers: readonly string[], token: string | null, path: string, timeoutMs = 2_000): Promise<T | null> {
  for (const server of servers) {
    try {
      const response = await fetch(`${server}${path}`, {
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) return (await response.json()) as T;
      await response.body?.cancel();
    } catch {
      // Down or paused: try the next master.
    }
  }
  return null;
}
