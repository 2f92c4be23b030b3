// `exec` for the process runtime (exec probes): runs a command with the container's environment
// and working directory. There is nothing to enter, so it is simply a child process of the agent,
// in a process group of its own so that a timeout kills everything it started.

import { spawn } from 'node:child_process';
import type { ExecResult } from './runtime.js';
import { resolveExecutable, signalExitCode } from './process-supervisor.js';
import { errorCode } from './process-state.js';

/** Kubernetes keeps 10 KiB of a probe's output; the rest is read and dropped. */
export const EXEC_OUTPUT_BYTES_MAX = 10 * 1024;

export interface ExecOptions {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly timeoutMs: number;
}

/**
 * Resolves once the command and its pipes are gone: exit code and output, -1 and 'timeout' when
 * it ran past timeoutMs (its group is SIGKILLed), 127 with the reason when the executable is missing
 * (as a shell reports it). Whatever the command left in its group is SIGKILLed when it exits, so a
 * probe leaves nothing running.
 */
export function runExec(options: ExecOptions): Promise<ExecResult> {
  const [name, ...args] = options.command;
  if (name === undefined) return Promise.resolve({ exitCode: 127, output: 'exec: the command is empty' });
  const found = resolveExecutable(name, options.cwd, options.env['PATH'] ?? '');
  if ('problem' in found) return Promise.resolve({ exitCode: 127, output: `exec: ${found.problem}` });
  return new Promise((resolve) => {
    const child = spawn(found.path, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, windowsHide: true });
    const chunks: Buffer[] = [];
    let outputBytes = 0;
    const collect = (chunk: Buffer): void => {
      const room = EXEC_OUTPUT_BYTES_MAX - outputBytes;
      if (room <= 0) return;
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      chunks.push(kept);
      outputBytes += kept.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    let spawnError: Error | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        if (errorCode(error) !== 'ESRCH') throw error;
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('exit', killGroup);
    // 'close' comes after 'exit' and after both pipes have closed: nothing of the command is left.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ exitCode: -1, output: 'timeout' });
      if (spawnError !== undefined) return resolve({ exitCode: 127, output: `exec: ${spawnError.message}` });
      const exitCode = code ?? (signal === null ? -1 : signalExitCode(signal));
      resolve({ exitCode, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
