// A `raftplane <command>` child process for end-to-end tests and benchmarks (an agent, the
// proxy): its JSON log lines and stderr collected, and `stop()` to end it (SIGTERM, then SIGKILL
// after a grace period), awaiting its exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from './cluster-control.js';

export const cliMain = join(repoRoot, 'packages/cli/dist/main.js');

export interface CliProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** JSON log lines from stdout (other lines kept as { line }). */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function startCli(name: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, [cliMain, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ line });
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    name,
    child,
    lines,
    stderr,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What a process logged, for a failing test's message. */
export function describeOutput(proc: CliProcess, lastLines = 20): string {
  const out = proc.lines.slice(-lastLines).map((l) => JSON.stringify(l));
  return `${proc.name} stdout (last ${lastLines}):\n${out.join('\n')}\nstderr:\n${proc.stderr.join('')}`;
}
