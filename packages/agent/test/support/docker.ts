// The tests' Docker engine: where its socket is, whether it answers, a `describe` that runs only
// where it does (and fails instead of skipping in CI, which sets RAFTPLANE_REQUIRE_DOCKER=1), and
// the raw Engine API calls tests need behind the runtime's back (find a container's process, clean
// up by label). scripts/docker-engine.sh starts the engine and imports the image.

import { Client } from 'undici';
import { describe, expect, test } from 'vitest';

/** The image scripts/docker-engine.sh imports: Debian's busybox-static with its applets in /bin. */
export const TEST_IMAGE = 'raftplane/busybox:test';

export const START_ENGINE_HINT = 'bash scripts/docker-engine.sh start && bash scripts/docker-engine.sh image';

const DEFAULT_SOCKET = '/tmp/raftplane-docker/docker.sock';

/** RAFTPLANE_DOCKER_SOCKET, else the socket scripts/docker-engine.sh starts by default. */
export function dockerSocket(): string {
  const fromEnv = process.env['RAFTPLANE_DOCKER_SOCKET'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SOCKET;
}

export function dockerRequired(): boolean {
  return process.env['RAFTPLANE_REQUIRE_DOCKER'] === '1';
}

export interface DockerAnswer {
  readonly statusCode: number;
  readonly body: unknown;
}

/** One Engine API call (v1.41) on a connection of its own, closed before it returns. */
export async function dockerApi(method: 'GET' | 'POST' | 'DELETE', path: string, json?: unknown, timeoutMs = 10_000): Promise<DockerAnswer> {
  const client = new Client('http://localhost', { socketPath: dockerSocket(), connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const response = await client.request({
      method,
      path: `/v1.41${path}`,
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? null : JSON.stringify(json),
    });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      // Not JSON (/_ping answers OK): the text it is.
    }
    return { statusCode: response.statusCode, body };
  } finally {
    await client.destroy();
  }
}

/** Whether the engine answers its ping. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const answer = await dockerApi('GET', '/_ping', undefined, 2_000);
    return answer.statusCode === 200 && answer.body === 'OK';
  } catch {
    return false;
  }
}

/** What is missing for the Docker tests, or undefined when the engine answers and has the test image. */
async function dockerProblem(): Promise<string | undefined> {
  if (!(await dockerAvailable())) return `no Docker engine answers on ${dockerSocket()}`;
  const image = await dockerApi('GET', `/images/${TEST_IMAGE}/json`);
  if (image.statusCode !== 200) return `the Docker engine on ${dockerSocket()} has no image ${TEST_IMAGE}`;
  return undefined;
}

/**
 * A `describe` for tests that need the engine and the test image. Missing, the suite is skipped
 * with a message saying how to start the engine, unless RAFTPLANE_REQUIRE_DOCKER=1: then it fails.
 */
export function describeDocker(name: string, fn: () => void): void {
  describe(name, async () => {
    const problem = await dockerProblem();
    if (problem === undefined) {
      fn();
      return;
    }
    if (dockerRequired()) {
      test('the Docker engine answers and has the test image (RAFTPLANE_REQUIRE_DOCKER=1)', () => {
        expect.fail(`${problem}; start it with: ${START_ENGINE_HINT}`);
      });
      return;
    }
    console.warn(`skipping "${name}": ${problem}; start it with: ${START_ENGINE_HINT}`);
    test.skip(`needs a Docker engine (${START_ENGINE_HINT})`, () => {});
  });
}

/** The ids of every container (running or not) whose label `key` is `value`. */
export async function containerIdsByLabel(key: string, value: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${key}=${value}`] }));
  const answer = await dockerApi('GET', `/containers/json?all=1&filters=${filters}`);
  if (answer.statusCode !== 200 || !Array.isArray(answer.body)) throw new Error(`listing containers: HTTP ${answer.statusCode}`);
  return (answer.body as { Id: string }[]).map((container) => container.Id);
}

/** Removes (killing first) every container of node `nodeName`, as the runtime labels them. */
export async function removeNodeContainers(nodeName: string): Promise<number> {
  const ids = await containerIdsByLabel('io.raftplane.node', nodeName);
  for (const id of ids) {
    const answer = await dockerApi('DELETE', `/containers/${id}?force=true&v=true`);
    if (answer.statusCode !== 204 && answer.statusCode !== 404 && answer.statusCode !== 409) throw new Error(`removing container ${id}: HTTP ${answer.statusCode}`);
  }
  return ids.length;
}

/**
 * The host pid of a running container's main process (0 once it has exited). Tests kill it with
 * process.kill(pid, 'SIGKILL') to crash a container behind the agent's back; the engine then
 * records exit code 137 and sends a `die` event, as for any exit.
 */
export async function containerPid(id: string): Promise<number> {
  const answer = await dockerApi('GET', `/containers/${id}/json`);
  const pid = (answer.body as { State?: { Pid?: unknown } } | undefined)?.State?.Pid;
  if (answer.statusCode !== 200 || typeof pid !== 'number') throw new Error(`inspecting container ${id}: HTTP ${answer.statusCode}`);
  return pid;
}

/** The raw `docker inspect` of a container, for what the runtime does not report (HostConfig, name). */
export async function inspectContainerRaw(id: string): Promise<Record<string, unknown>> {
  const answer = await dockerApi('GET', `/containers/${id}/json`);
  if (answer.statusCode !== 200) throw new Error(`inspecting container ${id}: HTTP ${answer.statusCode}`);
  return answer.body as Record<string, unknown>;
}
