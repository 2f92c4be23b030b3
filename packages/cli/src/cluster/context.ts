// What every `cluster` subcommand works with: the parsed flags, the masters' control, the agents'
// and proxy's processes, where to write, and the signal that Ctrl-C aborts.

import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ClusterError, ClusterErrorCode } from './errors.js';
import { ClusterControl } from './masters.js';
import { NodeProcesses, type RuntimeKind } from './nodes.js';
import { Progress } from './progress.js';

export interface ClusterFlags {
  readonly config: string;
  readonly runDir: string | undefined;
  readonly agents: number;
  readonly runtime: RuntimeKind;
  readonly dockerSocket: string;
  readonly timeoutMs: number;
  readonly follow: boolean;
  readonly demo: boolean;
  readonly deleteDemo: boolean;
}

export interface ClusterContext {
  readonly flags: ClusterFlags;
  readonly control: ClusterControl;
  readonly nodes: NodeProcesses;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** How to run this command again in help texts: `raftplane cluster`, `npm run cluster --`. */
  readonly program: string;
  say(line: string): void;
}

export interface ContextOptions {
  readonly workDir: string;
  readonly program: string;
  readonly stdout: Writable;
  readonly isTTY: boolean;
  readonly signal: AbortSignal;
}

/** Loads the cluster config (a missing one lists the configs there are) and the process handles. */
export async function openContext(flags: ClusterFlags, options: ContextOptions): Promise<ClusterContext> {
  const configPath = resolve(flags.config);
  let control: ClusterControl;
  try {
    control = await ClusterControl.load(configPath, { workDir: options.workDir, ...(flags.runDir === undefined ? {} : { runDir: resolve(flags.runDir) }) });
  } catch (error) {
    const shipped = join(options.workDir, 'cluster-configs');
    const configs = (await readdir(shipped).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).map((f) => relative(process.cwd(), join(shipped, f)));
    const hint = configs.length === 0 ? '' : ` (cluster configs: ${configs.join(', ')})`;
    throw new ClusterError(ClusterErrorCode.InvalidConfig, `${(error as Error).message}${hint}`);
  }
  const say = (line: string): void => void options.stdout.write(`${line}\n`);
  return {
    flags,
    control,
    nodes: new NodeProcesses(control.runDir, options.workDir),
    progress: new Progress(options.stdout, options.isTTY),
    signal: options.signal,
    program: options.program,
    say,
  };
}

/** A master id as typed (`2`, `m2`, `master-2`), or an UnknownMember error naming the masters there are. */
export function masterId(context: ClusterContext, text: string | undefined): number {
  const ids = context.control.ids();
  const id = Number(/^(?:m|master-?)?(\d+)$/.exec(text ?? '')?.[1] ?? Number.NaN);
  if (!ids.includes(id)) {
    const what = text === undefined ? 'a master id is required' : `no master ${JSON.stringify(text)}`;
    throw new ClusterError(ClusterErrorCode.UnknownMember, `${what} (masters of ${context.control.config.name}: ${ids.join(', ')})`);
  }
  return id;
}
