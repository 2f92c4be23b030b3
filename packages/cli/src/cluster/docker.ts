// Before `cluster up --runtime docker` starts agents: is there an engine, and (for --demo) the image?
// Asked over the engine's unix socket with node:http, as the runtime itself speaks to it. The demo
// image is never pulled: nothing may leave loopback, so a missing image is an error with the fix.

import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { ClusterError, ClusterErrorCode } from './errors.js';

/** The engine `scripts/docker-engine.sh start` runs for the tests, when no system engine is there. */
const testEngineSocket = '/tmp/raftplane-docker/docker.sock';

/** $DOCKER_HOST's socket, else /var/run/docker.sock, else the test engine's socket if it exists. */
export function defaultDockerSocket(): string {
  const host = process.env.DOCKER_HOST ?? '';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (!existsSync('/var/run/docker.sock') && existsSync(testEngineSocket)) return testEngineSocket;
  return '/var/run/docker.sock';
}

function get(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 3_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.once('error', reject);
    req.end();
  });
}

/** Throws InvalidUsage naming the socket when no engine answers, or the image when it is missing. */
export async function checkDocker(socketPath: string, image: string | null): Promise<void> {
  const ping = await get(socketPath, '/_ping').catch((error: Error) => error);
  if (ping !== 200) {
    const why = ping instanceof Error ? ping.message : `HTTP ${ping}`;
    throw new ClusterError(ClusterErrorCode.InvalidUsage, `--runtime docker: no Docker engine answers on ${socketPath} (${why}); start one (bash scripts/docker-engine.sh start) or name its socket with --docker-socket`);
  }
  if (image === null) return;
  if ((await get(socketPath, `/images/${encodeURIComponent(image)}/json`)) !== 200) {
    throw new ClusterError(ClusterErrorCode.InvalidUsage, `--runtime docker: the engine on ${socketPath} has no image ${image}, and nothing is pulled from outside loopback; import it with bash scripts/docker-engine.sh image`);
  }
}
