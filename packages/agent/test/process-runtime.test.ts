// The process runtime with real processes in temporary directories: start, env and pod addresses,
// exit codes, stop, logs, adoption by a second runtime, exec, errors, remove, mounts. Every process
// group a test starts is SIGKILLed after it, and the file ends by checking none is left.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../src/errors.js';
import { ProcessRuntime } from '../src/runtime/process-runtime.js';
import type { ContainerStartSpec, RuntimeContainer } from '../src/runtime/runtime.js';

const NODE_NAME = 'node-a';
let root = '';
let dirCount = 0;
const opened: ProcessRuntime[] = [];
/** Every container's process group (its supervisor's pid), killed after each test. */
const groups = new Set<number>();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'raftplane-process-runtime-'));
});

afterEach(async () => {
  for (const pgid of groups) killGroup(pgid, 'SIGKILL');
  for (const runtime of opened.splice(0)) await runtime.close();
});

afterAll(async () => {
  await until('every process group the tests started to be gone', () => [...groups].every(isGroupGone), 5_000);
  rmSync(root, { recursive: true, force: true });
});

function freshDir(kind: string): string {
  dirCount += 1;
  const dir = join(root, `${kind}-${dirCount}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function openRuntime(stateDir = freshDir('state'), nodeName = NODE_NAME): Promise<ProcessRuntime> {
  const runtime = await ProcessRuntime.open({ stateDir, nodeName });
  opened.push(runtime);
  return runtime;
}

interface Pod {
  readonly uid: string;
  readonly name: string;
  readonly podDir: string;
}

function newPod(): Pod {
  const podDir = freshDir('pod');
  return { uid: `uid-${dirCount}`, name: `pod-${dirCount}`, podDir };
}

function specOf(pod: Pod, containerName: string, command: string[] | undefined, extra: Partial<ContainerStartSpec> = {}): ContainerStartSpec {
  return {
    labels: { nodeName: NODE_NAME, podUid: pod.uid, podNamespace: 'default', podName: pod.name, containerName, attempt: 0 },
    image: 'busybox:1.36',
    command,
    args: undefined,
    env: {},
    workingDir: undefined,
    mounts: [],
    podIP: '127.1.1.2',
    cpuMillis: undefined,
    memoryBytes: undefined,
    podDir: pod.podDir,
    ...extra,
  };
}

async function start(runtime: ProcessRuntime, spec: ContainerStartSpec): Promise<RuntimeContainer> {
  const container = await runtime.start(spec);
  const pgid = runtime.processGroupId(container.id);
  expect(pgid).toBeGreaterThan(1);
  groups.add(pgid ?? 0);
  return container;
}

const LOOP = ['sh', '-c', 'echo ready; while :; do sleep 0.05; done'];

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

function exited(runtime: ProcessRuntime, id: string): Promise<RuntimeContainer> {
  return until(`container ${id} to exit`, async () => {
    const container = await runtime.inspect(id);
    return container?.state === 'exited' ? container : undefined;
  });
}

async function logText(runtime: ProcessRuntime, id: string, options: { follow?: boolean; tailLines?: number; sinceMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const chunks: Buffer[] = [];
  const stream = runtime.logs(id, {
    follow: options.follow ?? false,
    tailLines: options.tailLines,
    sinceMs: options.sinceMs,
    timestamps: false,
    signal: options.signal ?? new AbortController().signal,
  });
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function logged(runtime: ProcessRuntime, id: string, text: string): Promise<boolean> {
  return until(`${JSON.stringify(text)} in the log of ${id}`, async () => (await logText(runtime, id)).includes(text));
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * No live process is left in the group. Zombies do not count: they are dead, and orphans here are
 * reaped by an init that only looks every couple of seconds.
 */
function isGroupGone(pgid: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // After the last ')': state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return false;
  }
  return true;
}

/** The command itself: the supervisor's only child. */
function commandPid(pgid: number): number {
  const children = readFileSync(`/proc/${pgid}/task/${pgid}/children`, 'utf8').trim().split(' ');
  expect(children).toHaveLength(1);
  return Number(children[0]);
}

async function expectAgentError(promise: Promise<unknown>, code: AgentErrorCode, text: string): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAgentError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as Error).message).toContain(text);
}

describe('start, list and inspect', () => {
  it('runs a sh -c loop as a running container with a hex id, its labels and image, listed and inspected', async () => {
    const stateDir = freshDir('state');
    const runtime = await openRuntime(stateDir);
    const pod = newPod();
    const spec = specOf(pod, 'loop', ['sh', '-c', 'while :; do echo tick; sleep 0.05; done']);
    const container = await start(runtime, spec);
    expect(container.id).toMatch(/^[0-9a-f]{16,}$/);
    expect(container).toMatchObject({ state: 'running', image: 'busybox:1.36', imageId: '', labels: spec.labels, exitCode: undefined, finishedAt: undefined });
    expect(container.startedAt).toBeGreaterThanOrEqual(container.createdAt);
    expect(await runtime.list()).toEqual([container]);
    expect(await runtime.inspect(container.id)).toEqual(container);
    expect(await runtime.inspect('0123456789abcdef0123')).toBeUndefined();
    await logged(runtime, container.id, 'tick\ntick\n');
    expect(readFileSync(join(pod.podDir, 'logs', 'loop', '0.log'), 'utf8')).toMatch(/^tick\n/);
    expect(existsSync(join(pod.podDir, 'containers', 'loop'))).toBe(true);
    const state = JSON.parse(readFileSync(join(stateDir, 'containers', `${container.id}.json`), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ id: container.id, pid: runtime.processGroupId(container.id), labels: spec.labels, image: 'busybox:1.36' });
    expect(state['pidStartTicks']).toBeTypeOf('number');
    // Another node's runtime on the same state directory sees none of it.
    expect(await (await openRuntime(stateDir, 'node-b')).list()).toEqual([]);
    for (const policy of ['Always', 'IfNotPresent', 'Never'] as const) {
      expect(await runtime.ensureImage('no-such-image:latest', policy, new AbortController().signal)).toEqual({ pulled: false });
    }
  });

  it('gives the command exactly the spec env plus PATH and HOME, in its container dir, with args after command', async () => {
    const runtime = await openRuntime();
    const pod = newPod();
    const script = 'process.stdout.write(JSON.stringify({ env: process.env, cwd: process.cwd(), argv: process.argv.slice(1) }))';
    const env = { POD_IP: '127.1.1.2', GREETING: 'hello world' };
    const container = await start(runtime, specOf(pod, 'env', [process.execPath, '-e', script], { env, args: ['--', 'a b', 'c'] }));
    expect(await exited(runtime, container.id)).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const seen = JSON.parse(await logText(runtime, container.id)) as { env: Record<string, string>; cwd: string; argv: string[] };
    const expected: Record<string, string> = { ...env, PATH: process.env['PATH'] ?? '' };
    if (process.env['HOME'] !== undefined) expected['HOME'] = process.env['HOME'];
    expect(seen.env).toEqual(expected);
    expect(seen.cwd).toBe(join(pod.podDir, 'containers', 'env'));
    expect(seen.argv).toEqual(['a b', 'c']);
  });

  it('runs two containers listening on port 18080, each on its own pod IP', async () => {
    const runtime = await openRuntime();
    const script = [
      "const net = require('node:net');",
      'net.createServer((socket) => socket.end(`hello from ${process.env.POD_IP}`))',
      "  .listen(18080, process.env.POD_IP, () => console.log('listening'));",
    ].join('\n');
    const ips = ['127.1.1.2', '127.1.1.3'];
    const containers = await Promise.all(
      ips.map((ip) => start(runtime, specOf(newPod(), 'server', [process.execPath, '-e', script], { env: { POD_IP: ip }, podIP: ip }))),
    );
    for (const container of containers) await logged(runtime, container.id, 'listening');
    for (const ip of ips) expect(await fetchText(ip, 18080)).toBe(`hello from ${ip}`);
    await Promise.all(containers.map((container) => runtime.stop(container.id, 2_000)));
    // Node's default SIGTERM action: killed by signal 15.
    for (const container of containers) expect(await runtime.inspect(container.id)).toMatchObject({ state: 'exited', exitCode: 143 });
  });
});

function fetchText(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

describe('exit codes', () => {
  it('exit 0 is Completed and exit 3 is Error with code 3; onExit tells each', async () => {
    const runtime = await openRuntime();
    const seen: string[] = [];
    const unsubscribe = runtime.onExit((id) => seen.push(id));
    const zero = await start(runtime, specOf(newPod(), 'zero', ['sh', '-c', 'exit 0']));
    const three = await start(runtime, specOf(newPod(), 'three', ['sh', '-c', 'echo failing >&2; exit 3']));
    expect(await exited(runtime, zero.id)).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const failed = await exited(runtime, three.id);
    expect(failed).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(failed.finishedAt).toBeGreaterThanOrEqual(failed.startedAt ?? Infinity);
    expect(await logText(runtime, three.id)).toBe('failing\n');
    await until('onExit for both', () => seen.length === 2);
    expect(seen.sort()).toEqual([zero.id, three.id].sort());
    unsubscribe();
  });

  it('a command SIGKILLed by someone else exits 137, and so does a group SIGKILLed by someone else', async () => {
    const runtime = await openRuntime();
    const one = await start(runtime, specOf(newPod(), 'one', ['sleep', '30']));
    const group = await start(runtime, specOf(newPod(), 'group', ['sleep', '30']));
    // The command alone: the supervisor survives and records 128 + 9.
    process.kill(commandPid(runtime.processGroupId(one.id) ?? 0), 'SIGKILL');
    // The whole group, supervisor included: its own death by SIGKILL says the same.
    killGroup(runtime.processGroupId(group.id) ?? 0, 'SIGKILL');
    expect(await exited(runtime, one.id)).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(await exited(runtime, group.id)).toMatchObject({ exitCode: 137, reason: 'Error' });
  });

  it('kills what the command left in its group once it has exited, as a PID namespace would', async () => {
    const runtime = await openRuntime();
    const container = await start(runtime, specOf(newPod(), 'leaver', ['sh', '-c', 'sleep 30 & echo $! > left.pid; exit 0']));
    expect(await exited(runtime, container.id)).toMatchObject({ exitCode: 0 });
    const pgid = runtime.processGroupId(container.id) ?? 0;
    await until('the background sleep to be killed', () => isGroupGone(pgid));
  });
});

describe('stop', () => {
  it('sends SIGTERM to the group once; a command that traps it exits before the grace period', async () => {
    const runtime = await openRuntime();
    const script = 'n=0; trap "n=\\$((n+1))" TERM; echo ready; while [ $n -eq 0 ]; do sleep 0.05; done; sleep 0.2; echo "terms=$n"; exit 0';
    const container = await start(runtime, specOf(newPod(), 'graceful', ['sh', '-c', script]));
    await logged(runtime, container.id, 'ready');
    const startedMs = Date.now();
    await runtime.stop(container.id, 10_000);
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    expect(await runtime.inspect(container.id)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    // The command's own shell may say its sleep was "Terminated"; the supervisor says nothing.
    expect(await logText(runtime, container.id)).toMatch(/^ready\n(Terminated\n)?terms=1\n$/);
  });

  it('SIGKILLs a command that ignores SIGTERM once the grace period is over: 137', async () => {
    const runtime = await openRuntime();
    const container = await start(runtime, specOf(newPod(), 'stubborn', ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done']));
    await logged(runtime, container.id, 'ready');
    const seen: string[] = [];
    runtime.onExit((id) => seen.push(id));
    const startedMs = Date.now();
    const first = runtime.stop(container.id, 300);
    const second = runtime.stop(container.id, 300);
    expect(second).toBe(first);
    await first;
    const elapsedMs = Date.now() - startedMs;
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(await runtime.inspect(container.id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'Error' });
    await until('onExit', () => seen.includes(container.id));
    // Stopping an exited or an unknown container does nothing.
    await runtime.stop(container.id, 300);
    await runtime.stop('0123456789abcdef0123', 300);
  });
});

describe('logs', () => {
  it('tailLines sends the last lines; sinceMs after the last write skips the output', async () => {
    const runtime = await openRuntime();
    const container = await start(runtime, specOf(newPod(), 'count', ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; done; printf partial']));
    await exited(runtime, container.id);
    const all = `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join('')}partial`;
    expect(await logText(runtime, container.id)).toBe(all);
    expect(await logText(runtime, container.id, { tailLines: 3 })).toBe('line 9\nline 10\npartial');
    expect(await logText(runtime, container.id, { tailLines: 0 })).toBe('');
    expect(await logText(runtime, container.id, { tailLines: 100 })).toBe(all);
    expect(await logText(runtime, container.id, { sinceMs: Date.now() + 60_000 })).toBe('');
    expect(await logText(runtime, container.id, { sinceMs: 0 })).toBe(all);
    await expectAgentError(logText(runtime, '0123456789abcdef0123'), AgentErrorCode.ContainerNotFound, '0123456789abcdef0123');
  });

  it('tailLines counts a final newline as the end of the last line', async () => {
    const runtime = await openRuntime();
    const container = await start(runtime, specOf(newPod(), 'lines', ['sh', '-c', 'printf "a\\nb\\n\\nc\\n"']));
    await exited(runtime, container.id);
    expect(await logText(runtime, container.id, { tailLines: 1 })).toBe('c\n');
    expect(await logText(runtime, container.id, { tailLines: 2 })).toBe('\nc\n');
    expect(await logText(runtime, container.id, { tailLines: 4 })).toBe('a\nb\n\nc\n');
  });

  it('follow sends lines as they are written and ends once the container has exited', async () => {
    const runtime = await openRuntime();
    const container = await start(runtime, specOf(newPod(), 'slow', ['sh', '-c', 'for i in 1 2 3 4 5; do echo "n$i"; sleep 0.1; done']));
    const arrivals: string[] = [];
    for await (const chunk of runtime.logs(container.id, { follow: true, tailLines: undefined, sinceMs: undefined, timestamps: false, signal: new AbortController().signal })) {
      arrivals.push(Buffer.from(chunk).toString('utf8'));
    }
    expect(arrivals.join('')).toBe('n1\nn2\nn3\nn4\nn5\n');
    expect(arrivals.length).toBeGreaterThan(1);
    expect((await runtime.inspect(container.id))?.state).toBe('exited');
  });

  it('follow ends when its signal aborts, with the container still running', async () => {
    const runtime = await openRuntime();
    const container = await start(runtime, specOf(newPod(), 'forever', ['sh', '-c', 'while :; do echo tick; sleep 0.05; done']));
    const abort = new AbortController();
    let text = '';
    for await (const chunk of runtime.logs(container.id, { follow: true, tailLines: 1, sinceMs: undefined, timestamps: false, signal: abort.signal })) {
      text += Buffer.from(chunk).toString('utf8');
      if (text.split('\n').length > 3) abort.abort();
    }
    expect(text).toMatch(/^(tick\n)+/);
    expect((await runtime.inspect(container.id))?.state).toBe('running');
  });
});

describe('adoption after an agent restart', () => {
  it('a second runtime on the same state dir finds running containers and the exits that happened while no agent watched', async () => {
    const stateDir = freshDir('state');
    const first = await openRuntime(stateDir);
    const waitForGo = 'echo waiting; while [ ! -e go ]; do sleep 0.05; done;';
    const sevenPod = newPod();
    const laterPod = newPod();
    const running = await start(first, specOf(newPod(), 'running', ['sh', '-c', 'while :; do echo tick; sleep 0.05; done'], { env: { FOO: 'bar' } }));
    const seven = await start(first, specOf(sevenPod, 'seven', ['sh', '-c', `${waitForGo} exit 7`]));
    const killed = await start(first, specOf(newPod(), 'killed', ['sleep', '30']));
    const later = await start(first, specOf(laterPod, 'later', ['sh', '-c', `${waitForGo} exit 0`]));
    await logged(first, seven.id, 'waiting');
    await logged(first, later.id, 'waiting');
    await first.close();

    // While no agent runs: one exits with 7, one is SIGKILLed with its supervisor.
    writeFileSync(join(sevenPod.podDir, 'containers', 'seven', 'go'), '');
    killGroup(first.processGroupId(killed.id) ?? 0, 'SIGKILL');
    await until('both to be gone', () => isGroupGone(first.processGroupId(seven.id) ?? 0) && isGroupGone(first.processGroupId(killed.id) ?? 0));

    const second = await openRuntime(stateDir);
    const seen: string[] = [];
    second.onExit((id) => seen.push(id));
    expect(await second.inspect(running.id)).toMatchObject({ state: 'running', createdAt: running.createdAt, startedAt: running.startedAt });
    expect(await second.inspect(seven.id)).toMatchObject({ state: 'exited', exitCode: 7, reason: 'Error' });
    expect(await second.inspect(killed.id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'ContainerStatusUnknown' });
    expect((await second.list()).map((c) => c.id).sort()).toEqual([running.id, seven.id, killed.id, later.id].sort());

    // An adopted container that exits now is found by polling.
    writeFileSync(join(laterPod.podDir, 'containers', 'later', 'go'), '');
    await until('onExit of the adopted container', () => seen.includes(later.id), 3_000);
    expect(await second.inspect(later.id)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });

    // Exec, logs and stop work on adopted containers.
    expect(await second.exec(running.id, ['sh', '-c', 'echo $FOO'], 2_000)).toEqual({ exitCode: 0, output: 'bar\n' });
    await second.stop(running.id, 2_000);
    expect(await second.inspect(running.id)).toMatchObject({ state: 'exited', exitCode: 143, reason: 'Error' });
    expect(await logText(second, running.id, { tailLines: 1 })).toBe('tick\n');
    await until('onExit of the stopped container', () => seen.includes(running.id));
  });

  it('a recorded pid that now belongs to another process is not the container, and that process is left alone', async () => {
    const stateDir = freshDir('state');
    // A process group leader of our own, standing in for whoever got the pid.
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const strangerPid = stranger.pid ?? 0;
    groups.add(strangerPid);
    const runtime = await openRuntime(stateDir);
    const container = await start(runtime, specOf(newPod(), 'gone', ['sh', '-c', 'exit 0']));
    await exited(runtime, container.id);
    await runtime.close();
    const statePath = join(stateDir, 'containers', `${container.id}.json`);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>;
    // As if the agent died before recording the exit, and the pid went to the stranger.
    const { finishedAt: _f, exitCode: _e, reason: _r, message: _m, ...running } = state;
    rmSync(join(stateDir, 'containers', `${container.id}.exit`));
    writeFileSync(statePath, JSON.stringify({ ...running, pid: strangerPid }));
    writeFileSync(join(stateDir, 'containers', 'garbage.json'), '{not json');

    const adopted = await openRuntime(stateDir);
    expect(await adopted.inspect(container.id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'ContainerStatusUnknown' });
    expect(isGroupGone(strangerPid)).toBe(false);
    expect((await adopted.list()).map((c) => c.id)).toEqual([container.id]);
    stranger.kill('SIGKILL');
  });
});

describe('after close', () => {
  it('watches nothing, refuses to start, and still stops, inspects, lists and removes', async () => {
    const runtime = await openRuntime();
    const pod = newPod();
    const container = await start(runtime, specOf(pod, 'left', LOOP));
    const seen: string[] = [];
    runtime.onExit((id) => seen.push(id));
    await runtime.close();
    await expectAgentError(runtime.start(specOf(pod, 'late', LOOP)), AgentErrorCode.RuntimeUnavailable, 'closed');
    expect((await runtime.inspect(container.id))?.state).toBe('running');
    await runtime.stop(container.id, 0);
    // SIGTERM then SIGKILL at once: whichever killed the shell first.
    const stopped = await runtime.inspect(container.id);
    expect(stopped).toMatchObject({ state: 'exited', reason: 'Error' });
    expect([137, 143]).toContain(stopped?.exitCode);
    await runtime.remove(container.id);
    expect(await runtime.list()).toEqual([]);
    expect(seen).toEqual([container.id]);
  });
});

describe('clock and logger', () => {
  it('stamps containers with the injected clock and logs with the pod and container named', async () => {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const record = (level: string) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
    const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const runtime = await ProcessRuntime.open({ stateDir: freshDir('state'), nodeName: NODE_NAME, logger, clock: () => 1_700_000_000_000 });
    opened.push(runtime);
    const pod = newPod();
    const container = await start(runtime, specOf(pod, 'quick', ['true']));
    expect(await exited(runtime, container.id)).toMatchObject({ createdAt: 1_700_000_000_000, startedAt: 1_700_000_000_000, finishedAt: 1_700_000_000_000 });
    await runtime.start(specOf(pod, 'broken', ['no-such-command-here'])).catch(() => undefined);
    const context = { podNamespace: 'default', podName: pod.name, podUid: pod.uid };
    expect(lines).toContainEqual({ level: 'info', message: 'container started', fields: expect.objectContaining({ ...context, container: 'quick', containerId: container.id }) });
    expect(lines).toContainEqual({ level: 'warn', message: 'container did not start', fields: expect.objectContaining({ ...context, container: 'broken', code: AgentErrorCode.StartContainer }) });
    await expect(ProcessRuntime.open({ stateDir: '', nodeName: NODE_NAME })).rejects.toThrow('stateDir');
  });
});

describe('exec', () => {
  it('runs with the container env and working dir; reports exit codes, timeouts and at most 10 KiB of output', async () => {
    const runtime = await openRuntime();
    const pod = newPod();
    const container = await start(runtime, specOf(pod, 'target', LOOP, { env: { FOO: 'bar' } }));
    expect(await runtime.exec(container.id, ['sh', '-c', 'echo $FOO; pwd'], 2_000)).toEqual({ exitCode: 0, output: `bar\n${join(pod.podDir, 'containers', 'target')}\n` });
    expect(await runtime.exec(container.id, ['sh', '-c', 'echo nope >&2; exit 4'], 2_000)).toEqual({ exitCode: 4, output: 'nope\n' });
    const startedMs = Date.now();
    expect(await runtime.exec(container.id, ['sh', '-c', 'sleep 5; sleep 5'], 200)).toEqual({ exitCode: -1, output: 'timeout' });
    expect(Date.now() - startedMs).toBeLessThan(2_000);
    const big = await runtime.exec(container.id, ['sh', '-c', 'head -c 20000 /dev/zero | tr "\\0" a'], 2_000);
    expect(big).toEqual({ exitCode: 0, output: 'a'.repeat(10 * 1024) });
    expect((await runtime.exec(container.id, ['no-such-command-here'], 2_000)).exitCode).toBe(127);
    await runtime.stop(container.id, 1_000);
    await expectAgentError(runtime.exec(container.id, ['true'], 2_000), AgentErrorCode.ContainerNotFound, 'not running');
    await expectAgentError(runtime.exec('0123456789abcdef0123', ['true'], 2_000), AgentErrorCode.ContainerNotFound, '0123456789abcdef0123');
  });
});

describe('errors', () => {
  it('a container without command is CreateContainerConfig, naming it and its pod', async () => {
    const runtime = await openRuntime();
    const pod = newPod();
    await expectAgentError(
      runtime.start(specOf(pod, 'web', undefined, { args: ['--port', '80'] })),
      AgentErrorCode.CreateContainerConfig,
      `the process runtime runs \`command\`; container web of pod default/${pod.name} has none`,
    );
    expect(await runtime.list()).toEqual([]);
  });

  it('a missing or non-executable executable is StartContainer, and nothing is left', async () => {
    const runtime = await openRuntime();
    const pod = newPod();
    await expectAgentError(runtime.start(specOf(pod, 'missing', ['no-such-command-here'])), AgentErrorCode.StartContainer, 'no-such-command-here');
    writeFileSync(join(pod.podDir, 'plain.txt'), 'not a program');
    await expectAgentError(runtime.start(specOf(pod, 'plain', [join(pod.podDir, 'plain.txt')])), AgentErrorCode.StartContainer, 'plain.txt');
    expect(await runtime.list()).toEqual([]);
  });
});

describe('remove', () => {
  it('deletes the state file, the exit file and the log file; a running container is killed first', async () => {
    const stateDir = freshDir('state');
    const runtime = await openRuntime(stateDir);
    const pod = newPod();
    const done = await start(runtime, specOf(pod, 'done', ['sh', '-c', 'echo bye']));
    const busy = await start(runtime, specOf(pod, 'busy', LOOP));
    await exited(runtime, done.id);
    const files = (id: string, name: string): string[] => [
      join(stateDir, 'containers', `${id}.json`),
      join(stateDir, 'containers', `${id}.exit`),
      join(pod.podDir, 'logs', name, '0.log'),
    ];
    expect(files(done.id, 'done').map(existsSync)).toEqual([true, true, true]);
    const busyGroup = runtime.processGroupId(busy.id) ?? 0;
    await runtime.remove(done.id);
    await runtime.remove(busy.id);
    expect([...files(done.id, 'done'), ...files(busy.id, 'busy')].map(existsSync)).toEqual([false, false, false, false, false, false]);
    expect(await runtime.list()).toEqual([]);
    await until('the removed container to be gone', () => isGroupGone(busyGroup));
    expect(runtime.processGroupId(busy.id)).toBeUndefined();
    await runtime.remove(done.id);
  });
});

describe('volume mounts', () => {
  it('links each mount under the container dir; a mount inside another is refused', async () => {
    const runtime = await openRuntime();
    const pod = newPod();
    const volume = freshDir('volume');
    writeFileSync(join(volume, 'setting'), 'on');
    const mounts = [{ hostPath: volume, containerPath: '/etc/config', readOnly: true }];
    const container = await start(runtime, specOf(pod, 'reader', ['sh', '-c', 'cat etc/config/setting'], { mounts }));
    await exited(runtime, container.id);
    expect(await logText(runtime, container.id)).toBe('on');
    expect(readlinkSync(join(pod.podDir, 'containers', 'reader', 'etc', 'config'))).toBe(volume);
    const nested = [...mounts, { hostPath: freshDir('volume'), containerPath: '/etc/config/inner', readOnly: false }];
    await expectAgentError(runtime.start(specOf(pod, 'reader', ['true'], { mounts: nested })), AgentErrorCode.CreateContainerConfig, 'inside another volume');
    await expectAgentError(runtime.start(specOf(pod, 'escape', ['true'], { mounts: [{ hostPath: volume, containerPath: '/../x', readOnly: false }] })), AgentErrorCode.CreateContainerConfig, 'below /');
  });
});
