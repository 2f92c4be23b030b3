// The process runtime's durable record of one container: a JSON file per container under
// `<stateDir>/containers/<id>.json`, written atomically, read back by the next agent to adopt what
// still runs. Also reads /proc, which tells whether a recorded pid is still the process we started.

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { ContainerLabels } from './runtime.js';

/** Bumped when a field changes meaning; a file of another version is skipped, not guessed at. */
export const STATE_VERSION = 1;
/** A state file larger than this is not ours (env and labels are small); it is skipped. */
export const STATE_FILE_BYTES_MAX = 1024 * 1024;

/** What one state file holds. Optional fields are absent until known (JSON has no undefined). */
export interface ProcessContainerState {
  readonly version: typeof STATE_VERSION;
  /** Random hex, 24 characters; also the file's name. */
  readonly id: string;
  readonly labels: ContainerLabels;
  readonly image: string;
  /** The supervisor shell's pid, which is also the container's process group id (it is the group's leader). */
  readonly pid: number;
  /**
   * Field 22 of /proc/<pid>/stat (clock ticks after boot) when the supervisor started. Pids are reused
   * (pid_max is often 32768), so a live pid is ours only if its start time is this one.
   */
  readonly pidStartTicks: number;
  /** The container's working directory and full environment: exec runs with them, also after adoption. */
  readonly workingDir: string;
  readonly env: Readonly<Record<string, string>>;
  /** This attempt's log file (stdout and stderr). */
  readonly logPath: string;
  /** Where the supervisor writes the exit status ("3\n") once the command has exited. */
  readonly exitPath: string;
  /** Wall-clock ms. */
  readonly createdAt: number;
  readonly startedAt: number;
  /** The three below are set together, once the container has exited. */
  readonly finishedAt?: number;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly message?: string;
}

export function stateFileName(id: string): string {
  assert.match(id, /^[0-9a-f]{16,64}$/, `container id ${JSON.stringify(id)} is not hex of 16 to 64 digits`);
  return `${id}.json`;
}

/** 24 hex digits: 96 random bits, so ids never collide across agents sharing a state directory. */
export function newContainerId(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Writes `state` to `path` through a temporary file and a rename, so a reader (the next agent) sees
 * the old file or the new one, never half of one. No fsync: containers do not survive the machine
 * going down, only the agent going down, and a rename is atomic for that.
 */
export async function writeStateFile(path: string, state: ProcessContainerState): Promise<void> {
  assert.equal(state.version, STATE_VERSION);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // 0600: the environment may hold Secrets' values.
  await writeFile(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Reads and checks one state file; a file that is not a valid state is an Error naming the problem. */
export async function readStateFile(path: string): Promise<ProcessContainerState> {
  const { size } = await stat(path);
  if (size > STATE_FILE_BYTES_MAX) throw new Error(`${path}: ${size} bytes, more than ${STATE_FILE_BYTES_MAX}`);
  const text = await readFile(path, 'utf8');
  return parseState(JSON.parse(text) as unknown, path);
}

function parseState(value: unknown, path: string): ProcessContainerState {
  const fail = (problem: string): never => {
    throw new Error(`${path}: ${problem}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const v = value as Record<string, unknown>;
  if (v['version'] !== STATE_VERSION) fail(`version ${String(v['version'])}, expected ${STATE_VERSION}`);
  const str = (key: string): string => (typeof v[key] === 'string' ? (v[key] as string) : fail(`${key} is not a string`));
  const int = (key: string): number => (Number.isSafeInteger(v[key]) ? (v[key] as number) : fail(`${key} is not an integer`));
  const optional = <T>(key: string, read: (key: string) => T): T | undefined => (v[key] === undefined ? undefined : read(key));
  const labels = parseLabels(v['labels'], fail);
  const env = v['env'];
  if (typeof env !== 'object' || env === null || Object.values(env).some((x) => typeof x !== 'string')) fail('env is not a map of strings');
  const state: ProcessContainerState = {
    version: STATE_VERSION,
    id: str('id'),
    labels,
    image: str('image'),
    pid: int('pid'),
    pidStartTicks: int('pidStartTicks'),
    workingDir: str('workingDir'),
    env: env as Record<string, string>,
    logPath: str('logPath'),
    exitPath: str('exitPath'),
    createdAt: int('createdAt'),
    startedAt: int('startedAt'),
    finishedAt: optional('finishedAt', int),
    exitCode: optional('exitCode', int),
    reason: optional('reason', str),
    message: optional('message', str),
  };
  if (!/^[0-9a-f]{16,64}$/.test(state.id)) fail(`id ${JSON.stringify(state.id)} is not hex`);
  if (state.pid <= 1) fail(`pid ${state.pid} is not a child's`);
  if ((state.exitCode === undefined) !== (state.finishedAt === undefined)) fail('exitCode and finishedAt must be set together');
  return state;
}

function parseLabels(value: unknown, fail: (problem: string) => never): ContainerLabels {
  if (typeof value !== 'object' || value === null) return fail('labels is not an object');
  const v = value as Record<string, unknown>;
  for (const key of ['nodeName', 'podUid', 'podNamespace', 'podName', 'containerName']) {
    if (typeof v[key] !== 'string') fail(`labels.${key} is not a string`);
  }
  if (!Number.isSafeInteger(v['attempt'])) fail('labels.attempt is not an integer');
  return {
    nodeName: v['nodeName'] as string,
    podUid: v['podUid'] as string,
    podNamespace: v['podNamespace'] as string,
    podName: v['podName'] as string,
    containerName: v['containerName'] as string,
    attempt: v['attempt'] as number,
  };
}

/** What /proc says about a pid: its state letter (R, S, D, Z, ...) and its start time in clock ticks. */
export interface ProcStat {
  readonly state: string;
  readonly startTicks: number;
}

/** undefined once the pid is gone. Synchronous: one small read, and callers must not yield before it (see start). */
export function readProcStat(pid: number): ProcStat | undefined {
  assert.ok(Number.isSafeInteger(pid) && pid > 0, `pid ${pid} is not a positive integer`);
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ESRCH') return undefined;
    throw error;
  }
  // Field 2 (comm) is in parentheses and may itself hold spaces and parentheses: split after the last ')'.
  // What follows starts at field 3 (state), so field 22 (starttime) is index 19.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(rest[19]);
  assert.ok(rest[0] !== undefined && Number.isSafeInteger(startTicks), `/proc/${pid}/stat unreadable: ${text}`);
  return { state: rest[0], startTicks };
}

/**
 * What has become of a recorded supervisor: still `alive`; `exited` (gone, or a zombie not yet
 * reaped by its parent); or `reused` — the pid now names another process. Ours must have the
 * recorded start time (pids are reused, pid_max is often 32768) and its exit file among its
 * arguments (two processes can start in the same 10 ms tick).
 */
export type SupervisorStatus = 'alive' | 'exited' | 'reused';

export function supervisorStatus(pid: number, startTicks: number, exitPath: string): SupervisorStatus {
  const stat = readProcStat(pid);
  if (stat === undefined) return 'exited';
  if (stat.startTicks !== startTicks) return 'reused';
  // A zombie's pid cannot be reused yet, and its arguments are gone: it is ours, and it has exited.
  if (stat.state === 'Z' || stat.state === 'X') return 'exited';
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ESRCH') return 'exited';
    throw error;
  }
  return cmdline.split('\0').includes(exitPath) ? 'alive' : 'reused';
}

/** The status the supervisor wrote, or undefined when it wrote none (killed first) or the file is damaged. */
export function readExitFile(path: string): { readonly exitCode: number; readonly writtenAtMs: number } | undefined {
  let text: string;
  let writtenAtMs: number;
  try {
    text = readFileSync(path, 'utf8');
    writtenAtMs = Math.floor(statSync(path).mtimeMs);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  // A supervisor SIGKILLed between creating the file and writing to it leaves it empty.
  if (!/^\d{1,3}\n?$/.test(text)) return undefined;
  const exitCode = Number(text.trim());
  return exitCode <= 255 ? { exitCode, writtenAtMs } : undefined;
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
