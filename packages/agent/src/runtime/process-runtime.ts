// The process runtime (`--runtime process`, the default): runs each container as a child process
// of the agent, with no daemon, and keeps what it knows in files so a restarted agent adopts them.
//
// What a container is here, and what it is not:
//   - A `/bin/sh` supervisor (process-supervisor.ts) in a session and process group of its own,
//     running `command` + `args` in the foreground and writing the exit status to a file, so the
//     status outlives the agent. The group is the container: stop signals the group, and once the
//     supervisor has exited whatever is left in the group is SIGKILLed, as the kernel does to a PID
//     namespace whose init exits. To kill a container by hand, signal its group: `kill -KILL -<pid>`
//     with the pid from processGroupId(id) (or the state file).
//   - No isolation: no namespaces, no cgroups. `image` is recorded and never pulled; cpuMillis and
//     memoryBytes are not enforced (so never 'OOMKilled'); the pod's address is only what the
//     container is told ($POD_IP, which the agent puts in env) and binds to.
//   - Volume mounts are symlinks `<container dir>/<mountPath without the leading slash>` to the
//     volume's host path (process-mounts.ts), where `<container dir>` is
//     `<podDir>/containers/<name>`, also the working directory unless the spec sets workingDir.
//     Containers should use relative paths, or paths from their environment. readOnly is not enforced.
//   - Logs: stdout and stderr go straight to `<podDir>/logs/<name>/<attempt>.log`, a descriptor the
//     child holds, so output keeps flowing while no agent runs. No per-line times (process-logs.ts).
//   - State: `<stateDir>/containers/<id>.json` (process-state.ts) and `<id>.exit` (the supervisor's).
//     open() adopts this node's containers: a recorded pid that is alive, with the recorded start
//     time and the exit file among its arguments, is still running; exits of adopted containers are
//     found by polling /proc, and one that ended while no agent ran reads its status from the exit file.
// Needs Linux (/proc) and /bin/sh.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AgentError, AgentErrorCode, invalidOption } from '../errors.js';
import { runExec } from './process-exec.js';
import { readLog, type LogSource } from './process-logs.js';
import { linkMounts } from './process-mounts.js';
import {
  STATE_VERSION,
  errorCode,
  newContainerId,
  readExitFile,
  readProcStat,
  readStateFile,
  stateFileName,
  supervisorStatus,
  writeStateFile,
  type ProcessContainerState,
} from './process-state.js';
import { containerEnv, resolveExecutable, signalExitCode, spawnSupervisor } from './process-supervisor.js';
import type {
  ContainerLabels,
  ContainerRuntime,
  ContainerStartSpec,
  ExecResult,
  ImagePullPolicy,
  LogOptions,
  RuntimeContainer,
} from './runtime.js';

/** The pino call shape (fields first, then the message), so the agent passes its pino logger in. */
export interface ProcessRuntimeLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ProcessRuntimeOptions {
  /** The agent's directory for runtime state; `containers/` under it holds one file per container. */
  readonly stateDir: string;
  /** Only containers labelled with this node are listed, adopted and reported. */
  readonly nodeName: string;
  readonly logger?: ProcessRuntimeLogger;
  /** Wall-clock milliseconds for createdAt, startedAt and finishedAt. Default Date.now. */
  readonly clock?: () => number;
}

/** How often adopted containers (not our children, so no 'exit' event) are looked up in /proc. */
export const ADOPTED_POLL_MS = 500;
/** The same, while someone waits for one to exit (stop, a log follower). */
export const EXIT_WAIT_POLL_MS = 50;
/** How long stop waits after SIGKILL before it reports the container as unkillable (stuck in the kernel). */
export const KILL_WAIT_MS = 10_000;

const TIMER_MS_MAX = 2 ** 31 - 1;

const silentLogger: ProcessRuntimeLogger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

interface SupervisorExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One container this runtime knows. Invariant: `state.exitCode !== undefined` once exited, never unset again. */
interface Entry {
  state: ProcessContainerState;
  /** Set when this runtime spawned it (exit comes as an event); undefined when adopted (found by polling /proc). */
  readonly child: ChildProcess | undefined;
  /** Called once, when the container is marked exited. */
  readonly exitWaiters: Set<() => void>;
  /** The stop in progress, which concurrent stop() calls share. */
  stopping: Promise<void> | undefined;
  /** stop() had to SIGKILL it: a missing exit status is then 137 'Error', not 'ContainerStatusUnknown'. */
  killedByStop: boolean;
  /** State file writes, one after another, each writing the newest state. */
  writes: Promise<void>;
  /** Set by remove(): no more writes, the files are going. */
  removed: boolean;
}

export class ProcessRuntime implements ContainerRuntime {
  readonly name = 'process';
  private readonly stateDir: string;
  private readonly containersDir: string;
  private readonly nodeName: string;
  private readonly logger: ProcessRuntimeLogger;
  private readonly clock: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly exitListeners = new Set<(id: string) => void>();
  /** Aborted by close(): log followers end. */
  private readonly closing = new AbortController();
  /**
   * Set by close(). From then on this runtime watches nothing: 'exit' events are ignored (the next
   * agent reads the exit files), and its own children are looked up in /proc, like adopted ones,
   * only when asked (stop, inspect, list, logs). It refuses to start containers.
   */
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;

  private constructor(options: ProcessRuntimeOptions) {
    this.stateDir = resolve(options.stateDir);
    this.containersDir = join(this.stateDir, 'containers');
    this.nodeName = options.nodeName;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
  }

  /** Validates the options, adopts this node's containers from `stateDir`, and starts watching them. */
  static async open(options: ProcessRuntimeOptions): Promise<ProcessRuntime> {
    if (typeof options.stateDir !== 'string' || options.stateDir === '') throw invalidOption('stateDir', 'must be a non-empty path');
    if (typeof options.nodeName !== 'string' || options.nodeName === '') throw invalidOption('nodeName', 'must be a non-empty string');
    if (options.clock !== undefined && typeof options.clock !== 'function') throw invalidOption('clock', 'must be a function returning wall-clock ms');
    if (readProcStatOrUndefined(process.pid) === undefined) {
      throw new AgentError(AgentErrorCode.RuntimeUnavailable, 'the process runtime needs Linux: /proc/<pid>/stat is unreadable');
    }
    const runtime = new ProcessRuntime(options);
    mkdirSync(runtime.containersDir, { recursive: true, mode: 0o700 });
    await runtime.adoptAll();
    runtime.pollTimer = setInterval(() => runtime.pollAdopted(), ADOPTED_POLL_MS);
    // The agent may exit while containers run: polling must not keep it alive.
    runtime.pollTimer.unref();
    return runtime;
  }

  /** The image is the host: nothing to pull, for any policy (Never included: nothing can be absent). */
  ensureImage(_image: string, _policy: ImagePullPolicy, _signal: AbortSignal): Promise<{ readonly pulled: boolean }> {
    return Promise.resolve({ pulled: false });
  }

  async start(spec: ContainerStartSpec): Promise<RuntimeContainer> {
    this.assertOpen('start');
    const { labels } = spec;
    assert.equal(labels.nodeName, this.nodeName, `start: container of node ${labels.nodeName} on the runtime of node ${this.nodeName}`);
    assert.ok(Number.isSafeInteger(labels.attempt) && labels.attempt >= 0, `start: attempt ${labels.attempt} is not an integer >= 0`);
    try {
      return await this.launch(spec);
    } catch (error) {
      const fields = { podNamespace: labels.podNamespace, podName: labels.podName, podUid: labels.podUid, container: labels.containerName, attempt: labels.attempt };
      this.logger.warn({ ...fields, code: error instanceof AgentError ? error.code : undefined, err: error }, 'container did not start');
      throw error;
    }
  }

  /** Checks the spec, prepares the directories, spawns the supervisor and records it. */
  private async launch(spec: ContainerStartSpec): Promise<RuntimeContainer> {
    const { labels } = spec;
    const where = describe(labels);
    const command = spec.command ?? [];
    const [name] = command;
    if (name === undefined) {
      throw new AgentError(AgentErrorCode.CreateContainerConfig, `the process runtime runs \`command\`; ${where} has none`);
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(labels.containerName)) {
      throw new AgentError(AgentErrorCode.CreateContainerConfig, `${where}: the name cannot be a directory name`);
    }
    const dirs = this.prepareDirs(spec, where);
    const env = containerEnv(spec.env, process.env);
    const found = resolveExecutable(name, dirs.workingDir, env['PATH'] ?? '');
    if ('problem' in found) throw new AgentError(AgentErrorCode.StartContainer, `${where}: ${found.problem}`);

    const id = newContainerId();
    const exitPath = join(this.containersDir, `${id}.exit`);
    const createdAt = this.clock();
    const args = [...command.slice(1), ...(spec.args ?? [])];
    const child = this.spawn(where, { executable: found.path, args, env, cwd: dirs.workingDir, exitPath, logPath: dirs.logPath });
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolveError) => child.once('error', resolveError));
      throw new AgentError(AgentErrorCode.StartContainer, `${where}: ${error.message}`, { cause: error });
    }
    // Read before yielding to the event loop: until then libuv cannot reap the child, so /proc/<pid>
    // is still this child even if it has already exited.
    const stat = readProcStat(pid);
    assert.ok(stat !== undefined, `start: /proc/${pid}/stat of our unreaped child is missing`);
    const { workingDir, logPath } = dirs;
    const state: ProcessContainerState = { version: STATE_VERSION, id, labels: { ...labels }, image: spec.image, pid, pidStartTicks: stat.startTicks, workingDir, env, logPath, exitPath, createdAt, startedAt: this.clock() };
    const entry = newEntry(state, child);
    child.on('error', (error) => this.logger.error({ ...fieldsOf(entry.state), err: error }, 'container supervisor error'));
    child.once('exit', (code, signal) => {
      // After close() the next agent reads the exit file; this one no longer watches.
      if (!this.closed) this.markExited(entry, { code, signal });
    });
    this.entries.set(id, entry);
    await this.persistOrKill(entry, where);
    this.logger.info({ ...fieldsOf(entry.state), pid }, 'container started');
    return snapshot(entry.state);
  }

  /** Creates the container dir, the working dir and the log dir, and links the mounts. */
  private prepareDirs(spec: ContainerStartSpec, where: string): { workingDir: string; logPath: string } {
    const { containerName, attempt } = spec.labels;
    const rootDir = join(spec.podDir, 'containers', containerName);
    const workingDir = spec.workingDir === undefined ? rootDir : resolve(rootDir, spec.workingDir);
    const logPath = join(spec.podDir, 'logs', containerName, `${attempt}.log`);
    try {
      mkdirSync(rootDir, { recursive: true });
      mkdirSync(workingDir, { recursive: true });
      mkdirSync(dirname(logPath), { recursive: true });
    } catch (error) {
      throw new AgentError(AgentErrorCode.CreateContainer, `${where}: ${messageOf(error)}`, { cause: error });
    }
    try {
      linkMounts(rootDir, spec.mounts);
    } catch (error) {
      throw new AgentError(AgentErrorCode.CreateContainerConfig, `${where}: ${messageOf(error)}`, { cause: error });
    }
    return { workingDir, logPath };
  }

  private spawn(
    where: string,
    options: { executable: string; args: string[]; env: Record<string, string>; cwd: string; exitPath: string; logPath: string },
  ): ChildProcess {
    let logFd: number;
    try {
      // Append: a second start of the same attempt (after an agent crash) adds to the file.
      logFd = openSync(options.logPath, 'a', 0o640);
    } catch (error) {
      throw new AgentError(AgentErrorCode.CreateContainer, `${where}: log file: ${messageOf(error)}`, { cause: error });
    }
    try {
      return spawnSupervisor({ ...options, logFd });
    } catch (error) {
      // Synchronous refusals: a NUL byte in an argument or a variable, too many arguments.
      throw new AgentError(AgentErrorCode.CreateContainer, `${where}: ${messageOf(error)}`, { cause: error });
    } finally {
      // The child has its own copy of the descriptor.
      closeSync(logFd);
    }
  }

  /** A container no state file records would be lost to the next agent: kill it instead. */
  private async persistOrKill(entry: Entry, where: string): Promise<void> {
    try {
      await this.persist(entry);
    } catch (error) {
      this.entries.delete(entry.state.id);
      signalGroupQuietly(entry.state.pid, 'SIGKILL');
      throw new AgentError(AgentErrorCode.CreateContainer, `${where}: state file: ${messageOf(error)}`, { cause: error });
    }
  }

  stop(id: string, gracePeriodMs: number): Promise<void> {
    assert.ok(!Number.isNaN(gracePeriodMs), 'stop: gracePeriodMs is NaN');
    // What is left of a deadline may already be negative: that is "no grace left", not a bug.
    const graceMs = Math.max(0, Math.ceil(gracePeriodMs));
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.resolve();
    this.refresh(entry);
    if (entry.state.exitCode !== undefined) return Promise.resolve();
    entry.stopping ??= this.stopEntry(entry, graceMs).finally(() => {
      entry.stopping = undefined;
    });
    return entry.stopping;
  }

  private async stopEntry(entry: Entry, gracePeriodMs: number): Promise<void> {
    this.logger.info({ ...fieldsOf(entry.state), gracePeriodMs }, 'stopping container');
    this.signalGroup(entry, 'SIGTERM');
    if (await this.waitExited(entry, gracePeriodMs, undefined)) return;
    entry.killedByStop = true;
    this.logger.info(fieldsOf(entry.state), 'container still running after its grace period: SIGKILL');
    this.signalGroup(entry, 'SIGKILL');
    if (await this.waitExited(entry, KILL_WAIT_MS, undefined)) return;
    throw new AgentError(
      AgentErrorCode.RuntimeUnavailable,
      `${describe(entry.state.labels)} (${entry.state.id}): process group ${entry.state.pid} still there ${KILL_WAIT_MS} ms after SIGKILL`,
    );
  }

  /** Signals the container's process group, unless it is already gone (ESRCH: its exit is on its way). */
  private signalGroup(entry: Entry, signal: 'SIGTERM' | 'SIGKILL'): void {
    this.refresh(entry);
    if (entry.state.exitCode !== undefined) return;
    try {
      process.kill(-entry.state.pid, signal);
    } catch (error) {
      if (errorCode(error) === 'ESRCH') return;
      throw new AgentError(
        AgentErrorCode.RuntimeUnavailable,
        `${describe(entry.state.labels)} (${entry.state.id}): ${signal} to process group ${entry.state.pid}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * True once the container has exited, false after `ms` (or when `signal` aborts). Containers
   * without an 'exit' event to wait for (adopted, or after close) are looked up in /proc meanwhile.
   */
  private waitExited(entry: Entry, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (entry.state.exitCode !== undefined) return Promise.resolve(true);
    if (signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolveWait) => {
      const done = (exited: boolean): void => {
        clearTimeout(timer);
        clearInterval(poll);
        entry.exitWaiters.delete(onExit);
        signal?.removeEventListener('abort', onAbort);
        resolveWait(exited);
      };
      const onExit = (): void => done(true);
      const onAbort = (): void => done(false);
      // setTimeout fires at once past 2^31 - 1 ms; a longer grace period is as good as forever.
      const timer = setTimeout(() => done(false), Math.min(ms, TIMER_MS_MAX));
      // A no-op for a child of ours while open (its 'exit' event comes), but close() may come meanwhile.
      const poll = setInterval(() => this.refreshFromTimer(entry), EXIT_WAIT_POLL_MS);
      entry.exitWaiters.add(onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async remove(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.refresh(entry);
    if (entry.state.exitCode === undefined) {
      this.logger.warn(fieldsOf(entry.state), 'removing a running container: killing it first');
      await this.stop(id, 0);
    }
    entry.removed = true;
    this.entries.delete(id);
    await entry.writes;
    await Promise.all([
      rm(join(this.containersDir, stateFileName(id)), { force: true }),
      rm(entry.state.exitPath, { force: true }),
      rm(entry.state.logPath, { force: true }),
    ]);
    this.logger.info(fieldsOf(entry.state), 'container removed');
  }

  list(): Promise<RuntimeContainer[]> {
    const containers: RuntimeContainer[] = [];
    for (const entry of this.entries.values()) {
      this.refresh(entry);
      containers.push(snapshot(entry.state));
    }
    containers.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return Promise.resolve(containers);
  }

  inspect(id: string): Promise<RuntimeContainer | undefined> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.resolve(undefined);
    this.refresh(entry);
    return Promise.resolve(snapshot(entry.state));
  }

  /** See process-logs.ts for what sinceMs and timestamps can mean here. Ends (no error) when the runtime closes. */
  async *logs(id: string, options: LogOptions): AsyncIterable<Uint8Array> {
    const entry = this.entries.get(id);
    if (entry === undefined) throw this.notFound(id);
    // A follower started after close() is the caller's to end.
    const signal = this.closed ? options.signal : AbortSignal.any([options.signal, this.closing.signal]);
    const source: LogSource = {
      path: entry.state.logPath,
      hasExited: () => {
        this.refresh(entry);
        return entry.state.exitCode !== undefined || entry.removed;
      },
      waitForChange: async (ms, waitSignal) => {
        await this.waitExited(entry, ms, waitSignal);
      },
    };
    yield* readLog(source, { ...options, signal });
  }

  /** Runs `command` beside the container, with its environment and working directory (nothing to enter). */
  async exec(id: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    assert.ok(Number.isSafeInteger(timeoutMs) && timeoutMs > 0, `exec: timeoutMs ${timeoutMs} is not an integer > 0`);
    const entry = this.entries.get(id);
    if (entry === undefined) throw this.notFound(id);
    this.refresh(entry);
    if (entry.state.exitCode !== undefined) {
      throw new AgentError(AgentErrorCode.ContainerNotFound, `${describe(entry.state.labels)} (${id}) is not running: it exited with ${entry.state.exitCode}`);
    }
    return runExec({ command, env: entry.state.env, cwd: entry.state.workingDir, timeoutMs });
  }

  onExit(listener: (id: string) => void): () => void {
    this.exitListeners.add(listener);
    return () => {
      this.exitListeners.delete(listener);
    };
  }

  /**
   * Stops watching: no more polling, log followers end, 'exit' events are ignored; waits for stops in
   * flight. Containers keep running, and their exits are left for the next agent, which reads the
   * supervisors' exit files. stop, remove, list, inspect, logs and exec still work (see `closed`).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(new AgentError(AgentErrorCode.RuntimeUnavailable, 'the process runtime is closed'));
    clearInterval(this.pollTimer);
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.stopping));
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.writes));
  }

  /**
   * The container's process group id (its supervisor's pid), for tests and tools that must kill a
   * container the way the world would: `process.kill(-pgid, 'SIGKILL')`. The command itself is the
   * supervisor's only child (`/proc/<pgid>/task/<pgid>/children`). undefined for an unknown id.
   */
  processGroupId(id: string): number | undefined {
    return this.entries.get(id)?.state.pid;
  }

  /** Reads every state file of this node; a running one whose process is gone is marked exited now. */
  private async adoptAll(): Promise<void> {
    for (const name of await readdir(this.containersDir)) {
      if (!name.endsWith('.json')) continue;
      let state: ProcessContainerState;
      try {
        state = await readStateFile(join(this.containersDir, name));
      } catch (error) {
        // Not ours to judge further: keep it, skip it, say so.
        this.logger.warn({ file: join(this.containersDir, name), err: error }, 'skipping an unreadable container state file');
        continue;
      }
      if (state.labels.nodeName !== this.nodeName || name !== `${state.id}.json`) continue;
      const entry = newEntry(state, undefined);
      this.entries.set(state.id, entry);
      this.refresh(entry);
      this.logger.info({ ...fieldsOf(entry.state), running: entry.state.exitCode === undefined }, 'adopted container');
    }
  }

  private pollAdopted(): void {
    for (const entry of this.entries.values()) this.refreshFromTimer(entry);
  }

  /** refresh() for timer callbacks, which must not throw (that would end the agent): the next round looks again. */
  private refreshFromTimer(entry: Entry): void {
    try {
      this.refresh(entry);
    } catch (error) {
      this.logger.error({ ...fieldsOf(entry.state), err: error }, 'could not look up a container process');
    }
  }

  /** For a container not watched through its 'exit' event (adopted, or after close): has it exited since? */
  private refresh(entry: Entry): void {
    if ((entry.child !== undefined && !this.closed) || entry.removed || entry.state.exitCode !== undefined) return;
    if (supervisorStatus(entry.state.pid, entry.state.pidStartTicks, entry.state.exitPath) !== 'alive') this.markExited(entry, undefined);
  }

  /**
   * Records the exit: the status the supervisor wrote, else what its own exit says (`observed`, our
   * children only), else 137. Kills what the command left in its group, wakes waiters, writes the
   * state file, then tells the onExit listeners.
   */
  private markExited(entry: Entry, observed: SupervisorExit | undefined): void {
    if (entry.state.exitCode !== undefined || entry.removed) return;
    const written = readExitFile(entry.state.exitPath);
    const status = exitStatus(written?.exitCode, observed, entry.killedByStop);
    killLeftovers(entry.state);
    const nowMs = this.clock();
    // Adopted: the exit may have happened long before we looked; the exit file's time says when.
    const finishedAt = observed === undefined && written !== undefined ? Math.min(nowMs, Math.max(entry.state.startedAt, written.writtenAtMs)) : nowMs;
    entry.state = { ...entry.state, finishedAt, exitCode: status.exitCode, reason: status.reason, message: status.message };
    assert.ok(entry.state.exitCode !== undefined && entry.state.finishedAt !== undefined);
    for (const waiter of entry.exitWaiters) waiter();
    entry.exitWaiters.clear();
    this.logger.info({ ...fieldsOf(entry.state), exitCode: status.exitCode, reason: status.reason }, 'container exited');
    this.persist(entry).then(
      () => this.notifyExit(entry.state.id),
      (error: unknown) => {
        this.logger.error({ ...fieldsOf(entry.state), err: error }, 'could not record a container exit; the next agent will find it again');
        this.notifyExit(entry.state.id);
      },
    );
  }

  private notifyExit(id: string): void {
    for (const listener of this.exitListeners) {
      try {
        listener(id);
      } catch (error) {
        this.logger.error({ containerId: id, err: error }, 'an onExit listener threw');
      }
    }
  }

  /** Queues a write of the entry's newest state after the writes before it. */
  private persist(entry: Entry): Promise<void> {
    const path = join(this.containersDir, stateFileName(entry.state.id));
    const write = entry.writes.then(() => (entry.removed ? undefined : writeStateFile(path, entry.state)));
    entry.writes = write.catch(() => undefined);
    return write;
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new AgentError(AgentErrorCode.RuntimeUnavailable, `${operation}: the process runtime is closed`);
  }

  private notFound(id: string): AgentError {
    return new AgentError(AgentErrorCode.ContainerNotFound, `no container ${id} on node ${this.nodeName}`);
  }
}

function newEntry(state: ProcessContainerState, child: ChildProcess | undefined): Entry {
  return { state, child, exitWaiters: new Set(), stopping: undefined, killedByStop: false, writes: Promise.resolve(), removed: false };
}

/** What a container's exit code and reason are, from the best evidence there is. Pure. */
export function exitStatus(
  written: number | undefined,
  observed: SupervisorExit | undefined,
  killedByStop: boolean,
): { exitCode: number; reason: string; message: string | undefined } {
  const byCode = (exitCode: number): { exitCode: number; reason: string; message: undefined } => ({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message: undefined });
  if (written !== undefined) return byCode(written);
  if (observed !== undefined && observed.code !== null) return byCode(observed.code);
  if (observed !== undefined && observed.signal !== null) {
    return { exitCode: signalExitCode(observed.signal), reason: 'Error', message: `killed by ${observed.signal}` };
  }
  if (killedByStop) return { exitCode: 137, reason: 'Error', message: 'killed by SIGKILL after its grace period' };
  return {
    exitCode: 137,
    reason: 'ContainerStatusUnknown',
    message: 'the container exited while no agent was watching and left no exit status (killed with SIGKILL?)',
  };
}

/**
 * SIGKILLs what is left in the container's group once its supervisor has gone. Not when the pid now
 * names another live process: Linux keeps a pid unused while it is a group's id, so a reused pid
 * means our group is empty, and the new process may lead a group of its own.
 */
function killLeftovers(state: ProcessContainerState): void {
  if (supervisorStatus(state.pid, state.pidStartTicks, state.exitPath) === 'reused') return;
  signalGroupQuietly(state.pid, 'SIGKILL');
}

function signalGroupQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (errorCode(error) !== 'ESRCH' && errorCode(error) !== 'EPERM') throw error;
  }
}

function readProcStatOrUndefined(pid: number): ReturnType<typeof readProcStat> {
  try {
    return readProcStat(pid);
  } catch {
    return undefined;
  }
}

function snapshot(state: ProcessContainerState): RuntimeContainer {
  return Object.freeze({
    id: state.id,
    labels: Object.freeze({ ...state.labels }),
    image: state.image,
    imageId: '',
    state: state.exitCode === undefined ? 'running' : 'exited',
    createdAt: state.createdAt,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    exitCode: state.exitCode,
    reason: state.reason,
    message: state.message,
  });
}

function describe(labels: ContainerLabels): string {
  return `container ${labels.containerName} of pod ${labels.podNamespace}/${labels.podName}`;
}

function fieldsOf(state: ProcessContainerState): Record<string, unknown> {
  const { labels } = state;
  return { containerId: state.id, podNamespace: labels.podNamespace, podName: labels.podName, podUid: labels.podUid, container: labels.containerName, attempt: labels.attempt };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
