// Starts, signals and inspects the master processes of one cluster: detached processes with pid
// files and logs under a run directory (`.cluster/<name>/`). Used by `raftplane cluster`, by
// `npm run cluster` (scripts/cluster.ts), by the tests that run real masters and by the benchmarks.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadClusterConfig, MasterClient, type ClusterConfig, type MasterStatus } from '@raftplane/master';

/** The master's own entry point (the package exports only its index; main.js sits beside it). */
export const masterMain = join(dirname(createRequire(import.meta.url).resolve('@raftplane/master')), 'main.js');

export interface ClusterControlOptions {
  /** Where the masters run (relative data directories resolve here); default the working directory. */
  readonly workDir?: string;
  /** Where pid files and logs go; default `<workDir>/.cluster/<name>`. */
  readonly runDir?: string;
  /** Extra environment for the master processes (on top of this process's). */
  readonly env?: Readonly<Record<string, string>>;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in `file` if that process is alive and its command line passes `matches`, else null. */
export async function livePid(file: string, matches: (argv: readonly string[]) => boolean): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  // Guard against a recycled pid: the process must be the one the file was written for.
  try {
    if (!matches((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0'))) return null;
  } catch {
    // No /proc here: trust the pid file.
  }
  return pid;
}

/** Waits until `pid` is gone; returns whether it went within `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

export class ClusterControl {
  readonly client: MasterClient;

  private constructor(
    readonly configPath: string,
    readonly config: ClusterConfig,
    readonly runDir: string,
    readonly workDir: string,
    private readonly env: Readonly<Record<string, string>> = {},
  ) {
    this.client = new MasterClient(config);
  }

  static async load(configPath: string, options: ClusterControlOptions = {}): Promise<ClusterControl> {
    const absolute = resolve(configPath);
    const config = await loadClusterConfig(absolute);
    const workDir = resolve(options.workDir ?? process.cwd());
    const runDir = options.runDir ?? join(workDir, '.cluster', config.name);
    await mkdir(runDir, { recursive: true });
    return new ClusterControl(absolute, config, runDir, workDir, options.env);
  }

  ids(): number[] {
    return this.config.masters.map((m) => m.id);
  }

  pidFile(id: number): string {
    return join(this.runDir, `m${id}.pid`);
  }

  logFile(id: number): string {
    return join(this.runDir, `m${id}.log`);
  }

  dataDir(id: number): string {
    const dir = this.config.masters.find((m) => m.id === id)?.dataDir;
    if (dir === undefined) throw new Error(`cluster ${this.config.name} has no master ${id}`);
    return isAbsolute(dir) ? dir : join(this.workDir, dir);
  }

  requireId(text: string | undefined): number {
    const id = Number(text);
    if (!this.ids().includes(id)) {
      throw new Error(`${text === undefined ? 'a master id is required' : `no master ${JSON.stringify(text)}`} (masters of ${this.config.name}: ${this.ids().join(', ')})`);
    }
    return id;
  }

  /** The pid of master `id` if it runs (its pid file names a live process), else null. */
  async pid(id: number): Promise<number | null> {
    return livePid(this.pidFile(id), (argv) => argv.includes(masterMain) && argv[argv.indexOf('--id') + 1] === String(id));
  }

  /** Starts master `id` as a detached process; returns its pid, or null if it already ran. */
  async start(id: number): Promise<number | null> {
    if ((await this.pid(id)) !== null) return null;
    if (!existsSync(masterMain)) throw new Error(`${masterMain} is missing: run \`npm run build\` first`);
    await mkdir(this.runDir, { recursive: true });
    const log = openSync(this.logFile(id), 'a');
    try {
      // RAFTPLANE_MASTER_NODE_ARGS: extra node flags for each master, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
      // (node refuses --cpu-prof in NODE_OPTIONS). Split on spaces: no quoting.
      const nodeArgs = (process.env.RAFTPLANE_MASTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
      const child = spawn(process.execPath, [...nodeArgs, masterMain, '--config', this.configPath, '--id', String(id)], {
        cwd: this.workDir,
        detached: true,
        stdio: ['ignore', log, log],
        env: { ...process.env, ...this.env },
      });
      if (child.pid === undefined) throw new Error(`master ${id} could not be started`);
      child.unref();
      await writeFile(this.pidFile(id), `${child.pid}\n`);
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  async signal(id: number, signal: NodeJS.Signals): Promise<number | null> {
    const pid = await this.pid(id);
    if (pid === null) return null;
    process.kill(pid, signal);
    return pid;
  }

  /** Waits until master `id`'s process is gone; returns whether it went within `timeoutMs`. */
  async waitExit(id: number, pid: number, timeoutMs: number): Promise<boolean> {
    if (!(await waitGone(pid, timeoutMs))) return false;
    await unlink(this.pidFile(id)).catch(() => undefined);
    return true;
  }

  /** SIGKILL, then wait for it to be gone. */
  async kill(id: number): Promise<number | null> {
    const pid = await this.signal(id, 'SIGKILL');
    if (pid !== null) await this.waitExit(id, pid, 10_000);
    return pid;
  }

  /** SIGTERM (clean shutdown, leadership handed over), SIGKILL if it takes longer than `timeoutMs`. */
  async stop(id: number, timeoutMs = 15_000): Promise<number | null> {
    const pid = await this.pid(id);
    if (pid === null) return null;
    process.kill(pid, 'SIGCONT'); // a paused master cannot handle SIGTERM
    process.kill(pid, 'SIGTERM');
    if (!(await this.waitExit(id, pid, timeoutMs))) {
      process.kill(pid, 'SIGKILL');
      await this.waitExit(id, pid, 5_000);
    }
    return pid;
  }

  async running(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const id of this.ids()) {
      const pid = await this.pid(id);
      if (pid !== null) out.set(id, pid);
    }
    return out;
  }

  /** Polls until `predicate` holds on the masters' statuses; returns them, or throws after `timeoutMs`. */
  async waitFor(
    what: string,
    predicate: (statuses: Map<number, MasterStatus | null>) => boolean,
    timeoutMs: number,
  ): Promise<Map<number, MasterStatus | null>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await this.client.statusAll();
      if (predicate(statuses)) return statuses;
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${statusTable(statuses)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Removes the run directory and every master's data directory. Masters must be down. */
  async wipe(): Promise<void> {
    for (const id of this.ids()) await rm(this.dataDir(id), { recursive: true, force: true });
    await rm(this.runDir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The leader all answering masters agree on, or 0 when there is none or they disagree. */
export function agreedLeader(statuses: Map<number, MasterStatus | null>, quorum = true): number {
  const answering = [...statuses.values()].filter((s): s is MasterStatus => s !== null);
  const leaders = answering.filter((s) => s.role === 'leader');
  if (leaders.length === 0) return 0;
  const top = leaders.reduce((a, b) => (b.term > a.term ? b : a));
  const following = answering.filter((s) => s.leader === top.id && s.term === top.term).length;
  return !quorum || following > statuses.size / 2 ? top.id : 0;
}

/**
 * One row per master. `lag` is how far its applied index trails the leader's commit index; `ready`
 * is the master's own /readyz verdict (a leader known, caught up to it); `live`, when given, its
 * /livez (the loop not wedged).
 */
export function statusTable(statuses: Map<number, MasterStatus | null>, pids: Map<number, number> = new Map(), live?: Map<number, boolean>): string {
  const leader = [...statuses.values()].find((s) => s?.role === 'leader') ?? null;
  const header = ['master', 'pid', 'role', 'term', 'leader', 'commit', 'applied', 'lag', 'last index', 'snapshot', 'ready', ...(live === undefined ? [] : ['live'])];
  const liveCell = (id: number): string[] => (live === undefined ? [] : [live.get(id) === true ? 'yes' : 'no']);
  const rows = [...statuses.entries()].map(([id, s]) => {
    // A process that runs but does not answer is paused or wedged, not down.
    if (s === null) return [String(id), String(pids.get(id) ?? '-'), pids.has(id) ? 'no-answer' : 'down', '-', '-', '-', '-', '-', '-', '-', 'no', ...liveCell(id)];
    const lag = leader === null ? '-' : String(Math.max(0, leader.commit - s.applied));
    return [
      String(id),
      String(pids.get(id) ?? '-'),
      s.role,
      String(s.term),
      s.leader === 0 ? '-' : String(s.leader),
      String(s.commit),
      String(s.applied),
      lag,
      String(s.lastIndex),
      String(s.snapshotIndex),
      s.ready ? 'yes' : 'no',
      ...liveCell(id),
    ];
  });
  return formatTable(header, rows);
}

/** Columns padded to their widest cell, two spaces apart, like kubectl's tables. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
