// The docker runtime against a real engine (scripts/docker-engine.sh): busybox containers with host
// networking on loopback, their labels, exits, stops, events, logs and execs, adoption by a second
// runtime, and images that are missing. Every container is removed by its node label after each test.

import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../src/errors.js';
import { DockerRuntime } from '../src/runtime/docker-runtime.js';
import type { ContainerStartSpec, RuntimeContainer } from '../src/runtime/runtime.js';
import { containerIdsByLabel, containerPid, describeDocker, dockerSocket, inspectContainerRaw, removeNodeContainers, TEST_IMAGE } from './support/docker.js';

/** Node names of this file's own, so that other tests sharing the engine never see these containers. */
const NODE = `docker-test-${process.pid}`;
const OTHER_NODE = `docker-other-${process.pid}`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Polls `check` until it returns a value (real processes: no virtual time here). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

describe('DockerRuntime.open', () => {
  it('fails with RuntimeUnavailable naming the socket when no engine answers', async () => {
    const socketPath = join(tmpdir(), `no-docker-${process.pid}.sock`);
    const error = await rejection(DockerRuntime.open({ socketPath, nodeName: NODE }));
    expect(isAgentError(error, AgentErrorCode.RuntimeUnavailable)).toBe(true);
    expect(String(error)).toContain(socketPath);
  });

  it('refuses bad options by name', async () => {
    const relative = await rejection(DockerRuntime.open({ socketPath: 'docker.sock', nodeName: NODE }));
    expect(isAgentError(relative, AgentErrorCode.InvalidOption)).toBe(true);
    expect(String(relative)).toContain('socketPath');
    const badNode = await rejection(DockerRuntime.open({ socketPath: dockerSocket(), nodeName: 'Not_A_Node' }));
    expect(String(badNode)).toContain('nodeName');
    const badNetwork = await rejection(DockerRuntime.open({ socketPath: dockerSocket(), nodeName: NODE, podNetwork: 'none' as 'host' }));
    expect(String(badNetwork)).toContain('podNetwork');
  });
});

describeDocker('DockerRuntime on a real engine', () => {
  let runtime: DockerRuntime;
  let scratch: string;
  let podNumber = 0;

  function spec(script: string, overrides: Partial<ContainerStartSpec> = {}): ContainerStartSpec {
    podNumber += 1;
    return {
      labels: { nodeName: NODE, podUid: `uid-${podNumber}`, podNamespace: 'default', podName: `pod-${podNumber}`, containerName: 'main', attempt: 0 },
      image: TEST_IMAGE,
      command: ['sh', '-c'],
      args: [script],
      env: {},
      workingDir: undefined,
      mounts: [],
      // From 127.1.201.0/24, the pod range of a node 127.0.1.201 that no agent test runs, so that
      // test files running in parallel never bind the same address and port.
      podIP: '127.1.201.2',
      cpuMillis: undefined,
      memoryBytes: undefined,
      podDir: scratch,
      ...overrides,
    };
  }

  /** Starts a container and resolves with it once it has exited (its die event seen). */
  async function runToExit(script: string, overrides: Partial<ContainerStartSpec> = {}): Promise<RuntimeContainer> {
    const exited = new Set<string>();
    const stopListening = runtime.onExit((id) => exited.add(id));
    try {
      const started = await runtime.start(spec(script, overrides));
      await until('the die event', async () => (exited.has(started.id) ? true : undefined));
      const container = await runtime.inspect(started.id);
      expect(container).toBeDefined();
      return container!;
    } finally {
      stopListening();
    }
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'docker-runtime-'));
    runtime = await DockerRuntime.open({ socketPath: dockerSocket(), nodeName: NODE });
  });

  afterEach(async () => {
    await removeNodeContainers(NODE);
    await removeNodeContainers(OTHER_NODE);
  });

  afterAll(async () => {
    await runtime?.close();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it('starts a busybox sh loop with host networking; list and inspect show it running, with its labels', async () => {
    const before = Date.now();
    const started = await runtime.start(spec('while true; do sleep 1; done', { cpuMillis: 500, memoryBytes: 64 * 1024 * 1024 }));
    expect(started).toMatchObject({ state: 'running', image: TEST_IMAGE, labels: { nodeName: NODE, podNamespace: 'default', containerName: 'main', attempt: 0 } });
    expect(started.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(started.createdAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(started.startedAt).toBeGreaterThanOrEqual(started.createdAt);
    expect(started.exitCode).toBeUndefined();

    expect(await runtime.list()).toEqual([started]);
    expect(await runtime.inspect(started.id)).toEqual(started);
    expect(await runtime.inspect('0123456789ab-unknown')).toBeUndefined();

    const raw = (await inspectContainerRaw(started.id)) as { Name: string; HostConfig: Record<string, unknown>; Config: { Labels: Record<string, string> } };
    expect(raw.Name).toMatch(new RegExp(`^/rp_${NODE}_default_${started.labels.podName}_main_0_[0-9a-f]{6}$`));
    expect(raw.HostConfig).toMatchObject({ NetworkMode: 'host', NanoCpus: 500_000_000, Memory: 64 * 1024 * 1024, Init: false });
    expect(raw.Config.Labels).toMatchObject({ 'io.raftplane.node': NODE, 'io.raftplane.pod.uid': started.labels.podUid, 'io.raftplane.attempt': '0' });
  });

  it('gives the container its env with POD_IP, its working dir and its mounts, read-only where asked', async () => {
    const data = await mkdtemp(join(scratch, 'data-'));
    await writeFile(join(data, 'file'), 'from the host\n');
    const config = await mkdtemp(join(scratch, 'config-'));
    const container = await runToExit('echo "$POD_IP $GREETING"; pwd; cat /data/file; echo written > /data/out; touch /config/x 2>/dev/null || echo read-only', {
      env: { GREETING: 'hello' },
      workingDir: '/www',
      podIP: '127.1.201.9',
      mounts: [
        { hostPath: data, containerPath: '/data', readOnly: false },
        { hostPath: config, containerPath: '/config', readOnly: true },
      ],
    });
    expect(container).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    const output = await collect(runtime.logs(container.id, { follow: false, tailLines: undefined, sinceMs: undefined, timestamps: false, signal: new AbortController().signal }));
    expect(output).toBe('127.1.201.9 hello\n/www\nfrom the host\nread-only\n');
  });

  it("runs two pods' httpd on :18080 at once, each on its own loopback address", async () => {
    const pages: string[] = [];
    for (const [ip, page] of [['127.1.201.2', 'pod a'], ['127.1.201.3', 'pod b']] as const) {
      const www = await mkdtemp(join(scratch, 'www-'));
      await writeFile(join(www, 'index.html'), `${page}\n`);
      pages.push(www);
      await runtime.start(spec('exec httpd -f -p "$POD_IP:18080" -h /srv', { podIP: ip, mounts: [{ hostPath: www, containerPath: '/srv', readOnly: true }] }));
    }
    const get = async (ip: string): Promise<string | undefined> => {
      const response = await fetch(`http://${ip}:18080/index.html`);
      return response.ok ? await response.text() : undefined;
    };
    expect(await until('httpd on 127.1.201.2', () => get('127.1.201.2'))).toBe('pod a\n');
    expect(await until('httpd on 127.1.201.3', () => get('127.1.201.3'))).toBe('pod b\n');
    expect((await runtime.list()).map((container) => container.state)).toEqual(['running', 'running']);
  });

  it('reports exit codes: 0 as Completed, 3 as Error, a SIGKILL from outside as 137', async () => {
    const completed = await runToExit('exit 0');
    expect(completed).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    expect(completed.finishedAt).toBeGreaterThanOrEqual(completed.startedAt!);
    expect(await runToExit('echo failing >&2; exit 3')).toMatchObject({ state: 'exited', exitCode: 3, reason: 'Error' });

    const exited = new Set<string>();
    const stopListening = runtime.onExit((id) => exited.add(id));
    const looping = await runtime.start(spec('while true; do sleep 1; done'));
    // A crash behind the agent's back: kill the container's process on the host.
    process.kill(await containerPid(looping.id), 'SIGKILL');
    await until('the die event of the killed container', async () => (exited.has(looping.id) ? true : undefined));
    stopListening();
    expect(await runtime.inspect(looping.id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'Error' });
  });

  it('stops with SIGTERM first, and SIGKILL once the grace has passed', async () => {
    const polite = await runtime.start(spec("trap 'exit 7' TERM; while true; do sleep 0.1; done"));
    let startMs = Date.now();
    await runtime.stop(polite.id, 5_000);
    expect(Date.now() - startMs).toBeLessThan(3_000);
    expect(await runtime.inspect(polite.id)).toMatchObject({ state: 'exited', exitCode: 7 });

    // sh as PID 1 ignores SIGTERM without a trap: only the SIGKILL after the grace ends it.
    const stubborn = await runtime.start(spec('while true; do sleep 0.1; done'));
    startMs = Date.now();
    await runtime.stop(stubborn.id, 1_000);
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(900);
    expect(await runtime.inspect(stubborn.id)).toMatchObject({ state: 'exited', exitCode: 137 });

    // Under a second the runtime signals and waits itself.
    const quick = await runtime.start(spec('while true; do sleep 0.1; done'));
    startMs = Date.now();
    await runtime.stop(quick.id, 300);
    const quickMs = Date.now() - startMs;
    expect(quickMs).toBeGreaterThanOrEqual(250);
    expect(quickMs).toBeLessThan(3_000);
    expect(await runtime.inspect(quick.id)).toMatchObject({ state: 'exited', exitCode: 137 });

    // Stopping what has exited, or what never existed, and removing the unknown: no-ops.
    await runtime.stop(quick.id, 1_000);
    await runtime.stop(quick.id, 0);
    await runtime.stop(quick.id, -500);
    await runtime.stop('0123456789ab-unknown', 1_000);
    await runtime.remove('0123456789ab-unknown');
    await runtime.remove(quick.id);
    expect(await runtime.inspect(quick.id)).toBeUndefined();
  });

  it("calls onExit for this node's containers only, and not after the listener is removed", async () => {
    const other = await DockerRuntime.open({ socketPath: dockerSocket(), nodeName: OTHER_NODE });
    try {
      const seen: string[] = [];
      const stopListening = runtime.onExit((id) => seen.push(id));
      const theirs = await other.start({ ...spec('exit 0'), labels: { ...spec('').labels, nodeName: OTHER_NODE } });
      const ours = await runtime.start(spec('sleep 0.2'));
      await until('our die event', async () => (seen.includes(ours.id) ? true : undefined));
      // Both died; the other node's exit was before ours and never arrived.
      expect(seen).toEqual([ours.id]);
      expect((await other.inspect(theirs.id))?.state).toBe('exited');
      stopListening();
      // A listener still registered hears the next exit; the removed one does not.
      const control: string[] = [];
      const stopControl = runtime.onExit((id) => control.push(id));
      const later = await runtime.start(spec('exit 0'));
      await until('the later die event', async () => (control.includes(later.id) ? true : undefined));
      stopControl();
      expect(seen).toEqual([ours.id]);
    } finally {
      await other.close();
    }
  });

  it('is adopted by a second runtime of the same node, and invisible to another node', async () => {
    const running = await runtime.start(spec('while true; do sleep 1; done'));
    const exited = await runToExit('exit 2');
    const again = await DockerRuntime.open({ socketPath: dockerSocket(), nodeName: NODE });
    const other = await DockerRuntime.open({ socketPath: dockerSocket(), nodeName: OTHER_NODE });
    try {
      const byId = (containers: RuntimeContainer[]): string[] => containers.map((container) => container.id).sort();
      expect(byId(await again.list())).toEqual([running.id, exited.id].sort());
      expect(await again.inspect(running.id)).toEqual(await runtime.inspect(running.id));
      expect(await other.list()).toEqual([]);
      expect(await other.inspect(running.id)).toBeUndefined();
      // Adopted means controlled: the second runtime stops what the first started.
      await again.stop(running.id, 0);
      expect((await runtime.inspect(running.id))?.state).toBe('exited');
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('serves logs: stdout and stderr, a tail, timestamps, since, follow until aborted', async () => {
    const container = await runtime.start(spec('for i in 1 2 3 4 5; do echo "line $i"; done; echo oops >&2; sleep 0.5; echo late; while true; do echo tick; sleep 0.1; done'));
    const options = { follow: false, tailLines: undefined, sinceMs: undefined, timestamps: false, signal: new AbortController().signal };
    const all = await until('the late line', async () => {
      const text = await collect(runtime.logs(container.id, options));
      return text.includes('late\n') ? text : undefined;
    });
    // Each stream keeps its order; the engine reads stdout and stderr apart, so not their order between them.
    const lines = all.split('\n');
    expect(lines.filter((line) => line !== 'oops').slice(0, 6)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'late']);
    expect(lines.indexOf('oops')).toBeGreaterThan(-1);
    expect(lines.indexOf('oops')).toBeLessThan(lines.indexOf('late'));

    const tail = await collect(runtime.logs(container.id, { ...options, tailLines: 2 }));
    expect(tail.split('\n').filter((line) => line !== '')).toHaveLength(2);

    const stamped = (await collect(runtime.logs(container.id, { ...options, timestamps: true }))).split('\n');
    const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (.*)$/;
    expect(stamped[0]).toMatch(stamp);
    // Just after the newest of the early lines (stdout and stderr are stamped apart, so any may be it).
    const earlyMs = stamped
      .map((line) => stamp.exec(line))
      .filter((match) => match !== null && (match[2]!.startsWith('line ') || match[2] === 'oops'))
      .map((match) => Date.parse(match![1]!.replace(/(\.\d{3})\d+/, '$1')));
    expect(earlyMs).toHaveLength(6);
    const since = await collect(runtime.logs(container.id, { ...options, sinceMs: Math.max(...earlyMs) + 1 }));
    expect(since.startsWith('late\n')).toBe(true);

    const controller = new AbortController();
    let followed = '';
    for await (const chunk of runtime.logs(container.id, { ...options, follow: true, tailLines: 0, signal: controller.signal })) {
      followed += Buffer.from(chunk).toString('utf8');
      // New lines keep arriving while following; the abort ends the stream without an error.
      if (followed.split('tick\n').length > 3) controller.abort();
    }
    expect(followed.startsWith('tick\ntick\ntick\n')).toBe(true);

    const unknown = await rejection(collect(runtime.logs('0123456789ab-unknown', options)));
    expect(isAgentError(unknown, AgentErrorCode.ContainerNotFound)).toBe(true);
  });

  it('ends a followed log when the container exits', async () => {
    const container = await runtime.start(spec('echo one; sleep 0.3; echo two'));
    const text = await collect(runtime.logs(container.id, { follow: true, tailLines: undefined, sinceMs: undefined, timestamps: false, signal: new AbortController().signal }));
    expect(text).toBe('one\ntwo\n');
  });

  it('execs a command: its exit code and output, at most 10 KiB of it, and a timeout', async () => {
    const container = await runtime.start(spec('while true; do sleep 1; done', { env: { GREETING: 'hi' } }));
    // stdout and stderr are copied by two goroutines of the engine: their order between them is not kept.
    const both = await runtime.exec(container.id, ['sh', '-c', 'echo "$GREETING"; echo err >&2; exit 3'], 5_000);
    expect(both.exitCode).toBe(3);
    expect(both.output.split('\n').sort()).toEqual(['', 'err', 'hi']);
    expect(await runtime.exec(container.id, ['true'], 5_000)).toEqual({ exitCode: 0, output: '' });

    const long = await runtime.exec(container.id, ['seq', '1', '20000'], 5_000);
    expect(long.exitCode).toBe(0);
    expect(long.output).toHaveLength(10 * 1024);
    expect(long.output.startsWith('1\n2\n3\n')).toBe(true);

    const startMs = Date.now();
    expect(await runtime.exec(container.id, ['sleep', '5'], 300)).toEqual({ exitCode: -1, output: 'timeout' });
    expect(Date.now() - startMs).toBeLessThan(2_000);

    expect(await runtime.exec(container.id, [], 1_000)).toEqual({ exitCode: 127, output: 'exec: the command is empty' });
    const noBinary = await runtime.exec(container.id, ['/bin/not-there'], 5_000);
    expect(noBinary.exitCode, noBinary.output).toBeGreaterThanOrEqual(126);
    expect(noBinary.output).toMatch(/not-there/);

    const missing = await rejection(runtime.exec('0123456789ab-unknown', ['true'], 1_000));
    expect(isAgentError(missing, AgentErrorCode.ContainerNotFound)).toBe(true);
  });

  describe('images', () => {
    /** A registry on loopback that has nothing: the engine's pull fails there and goes nowhere else. */
    let registry: Server;
    let registryHost: string;

    beforeAll(async () => {
      registry = createServer((request, response) => {
        if (request.url === '/v2/') {
          response.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
          return;
        }
        response
          .writeHead(404, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' })
          .end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: {} }] }));
      });
      await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
      registryHost = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      registry.closeAllConnections();
      await new Promise((resolve) => registry.close(resolve));
    });

    it('finds a present image under IfNotPresent and Never without pulling', async () => {
      const signal = new AbortController().signal;
      expect(await runtime.ensureImage(TEST_IMAGE, 'IfNotPresent', signal)).toEqual({ pulled: false });
      expect(await runtime.ensureImage(TEST_IMAGE, 'Never', signal)).toEqual({ pulled: false });
    });

    it('fails ImageNeverPull for a missing image under Never', async () => {
      const error = await rejection(runtime.ensureImage(`${registryHost}/raftplane/missing:never`, 'Never', new AbortController().signal));
      expect(isAgentError(error, AgentErrorCode.ImageNeverPull)).toBe(true);
      expect(String(error)).toContain(`${registryHost}/raftplane/missing:never`);
    });

    it("fails ImagePull with the engine's reason for a missing image under IfNotPresent and Always", async () => {
      const image = `${registryHost}/raftplane/missing:test`;
      const notFound = await rejection(runtime.ensureImage(image, 'IfNotPresent', new AbortController().signal));
      expect(isAgentError(notFound, AgentErrorCode.ImagePull)).toBe(true);
      expect(String(notFound)).toContain(`pulling ${image}`);
      expect(String(notFound)).toMatch(/manifest unknown|not found/);

      // Nothing listens on a closed port: the engine cannot connect, and says so.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const unreachable = await rejection(runtime.ensureImage(`127.0.0.1:${closedPort}/raftplane/missing:test`, 'Always', new AbortController().signal));
      expect(isAgentError(unreachable, AgentErrorCode.ImagePull)).toBe(true);
      expect(String(unreachable)).toMatch(/connection refused/);

      const invalid = await rejection(runtime.ensureImage('Not A Reference', 'IfNotPresent', new AbortController().signal));
      expect(isAgentError(invalid, AgentErrorCode.ImagePull)).toBe(true);
    });

    it('fails CreateContainer for a missing image, and StartContainer (removing the container) for a missing executable', async () => {
      const noImage = await rejection(runtime.start(spec('true', { image: `${registryHost}/raftplane/missing:test` })));
      expect(isAgentError(noImage, AgentErrorCode.CreateContainer)).toBe(true);
      expect(String(noImage)).toMatch(/No such image/i);

      const noBinary = await rejection(runtime.start(spec('', { command: ['/bin/not-there'], args: undefined })));
      expect(isAgentError(noBinary, AgentErrorCode.StartContainer)).toBe(true);
      expect(String(noBinary)).toMatch(/not-there/);
      expect(await containerIdsByLabel('io.raftplane.node', NODE)).toEqual([]);
    });
  });

  it('closes every socket on close(), the event stream and a followed log included', async () => {
    const pipes = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'PipeWrap').length;
    const baseline = pipes();
    const own = await DockerRuntime.open({ socketPath: dockerSocket(), nodeName: NODE });
    // The event stream is open once it has delivered a die event.
    const exited: string[] = [];
    own.onExit((id) => exited.push(id));
    const short = await own.start(spec('exit 0'));
    await until('the die event', async () => (exited.includes(short.id) ? true : undefined));
    // The follower is open once it has delivered output.
    const looping = await own.start(spec('while true; do echo tick; sleep 0.1; done'));
    const logs = own.logs(looping.id, { follow: true, tailLines: undefined, sinceMs: undefined, timestamps: false, signal: new AbortController().signal })[Symbol.asyncIterator]();
    expect((await logs.next()).done).toBe(false);
    expect(pipes()).toBeGreaterThanOrEqual(baseline + 2);

    await own.close();
    // The follower's connection is gone: its next read fails as RuntimeUnavailable.
    const afterClose = await logs.next().catch((error: unknown) => error);
    expect(isAgentError(afterClose, AgentErrorCode.RuntimeUnavailable), String(afterClose)).toBe(true);
    await until('no socket of the closed runtime left', async () => (pipes() <= baseline ? true : undefined), 2_000);
    const closed = await rejection(own.list());
    expect(isAgentError(closed, AgentErrorCode.RuntimeUnavailable)).toBe(true);
  });
});
