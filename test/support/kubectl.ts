// Runs a real kubectl binary against a test cluster: a kubeconfig written into the test's own
// directory (never ~/.kube), one command at a time with a timeout, or a long-running one (`get -w`)
// in the background.

import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export interface KubectlResult {
  /** The exit code; null when kubectl was killed (timeout or `stop()`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubeconfigOptions {
  /** `https://127.0.0.1:<apiPort>`: kubectl sends bearer tokens only over https. */
  readonly server: string;
  readonly token: string;
}

/**
 * Writes a kubeconfig with one cluster, one user and one context. The masters' certificates are
 * self-signed, so TLS verification is off (loopback only, DESIGN "Running on one machine").
 */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: raftplane',
    '  cluster:',
    `    server: ${JSON.stringify(options.server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: test-user',
    '  user:',
    `    token: ${JSON.stringify(options.token)}`,
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: raftplane',
    '    user: test-user',
    'current-context: test',
    '',
  ].join('\n');
  await writeFile(path, text, { mode: 0o600 });
}

/** Throws a clear error unless `bin` is an executable file (the tests never skip a missing kubectl). */
export function requireKubectl(bin: string, installHint: string): void {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`kubectl is missing: ${bin} is not an executable file (${installHint})`);
  }
}

export interface KubectlOptions {
  readonly bin: string;
  readonly kubeconfig: string;
  /** kubectl's discovery cache; one per kubectl version, so that the versions never share one. */
  readonly cacheDir: string;
  /**
   * HOME for kubectl: a directory of the test's own, so that nothing is read from or written to
   * the user's ~/.kube even where a flag is missing.
   */
  readonly home: string;
  /** Working directory (manifests are passed relative to it or absolute). */
  readonly cwd?: string;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Written to kubectl's stdin (for `-f -`). */
  readonly input?: string;
}

/** The kubectl arguments shared by every call: this kubeconfig and this cache, nothing from ~/.kube. */
function baseArgs(options: KubectlOptions): string[] {
  return [`--kubeconfig=${options.kubeconfig}`, `--cache-dir=${options.cacheDir}`];
}

function childEnv(options: KubectlOptions): NodeJS.ProcessEnv {
  return { ...process.env, HOME: options.home, KUBECONFIG: options.kubeconfig };
}

/** Runs kubectl once; resolves with its exit code and output (it never rejects on a non-zero exit). */
export function kubectl(options: KubectlOptions, args: readonly string[], run: RunOptions = {}): Promise<KubectlResult> {
  const timeoutMs = run.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.bin,
      [...baseArgs(options), ...args],
      { cwd: options.cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: childEnv(options) },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code === 'string') {
          reject(new Error(`kubectl ${args.join(' ')}: could not run ${options.bin}: ${error.message}`));
          return;
        }
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, signal: (error?.signal as NodeJS.Signals | undefined) ?? null, stdout, stderr });
      },
    );
    if (run.input !== undefined) child.stdin?.end(run.input);
    else child.stdin?.end();
  });
}

export interface BackgroundKubectl {
  /** Output so far. */
  stdout(): string;
  /** Resolves once stdout satisfies `predicate`; rejects after `timeoutMs` or if kubectl exits first. */
  waitForOutput(what: string, predicate: (stdout: string) => boolean, timeoutMs: number): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s); resolves when the process is gone. */
  stop(): Promise<KubectlResult>;
}

/** Starts a long-running kubectl (e.g. `get -w`) that is killed after `timeoutMs` at the latest. */
export function startKubectl(options: KubectlOptions, args: readonly string[], timeoutMs: number): BackgroundKubectl {
  const child = spawn(options.bin, [...baseArgs(options), ...args], {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(options),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<KubectlResult>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`kubectl ${args.join(' ')}: could not run ${options.bin}: ${error.message}`)));
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  // The last resort against a hung kubectl; stop() normally ends it long before.
  const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let ended = false;
  void exited.finally(() => {
    ended = true;
    clearTimeout(deadline);
  }).catch(() => undefined);
  return {
    stdout: () => stdout,
    async waitForOutput(what, predicate, waitMs) {
      const until = Date.now() + waitMs;
      while (!predicate(stdout)) {
        if (ended) throw new Error(`kubectl ${args.join(' ')} exited before ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        if (Date.now() >= until) throw new Error(`timed out after ${waitMs} ms waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!ended) child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      try {
        return await exited;
      } finally {
        clearTimeout(force);
      }
    },
  };
}

/**
 * A kubectl table (`get`, `api-resources`) as one record per row, keyed by the header's column
 * names. kubectl aligns every cell to the start of its header cell, so the cells are cut at those
 * positions; an empty cell (a resource with no short name) stays an empty string.
 */
export function parseTable(stdout: string): Record<string, string>[] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0];
  if (header === undefined) return [];
  // Column names may hold single spaces ("NOMINATED NODE"); columns are two or more spaces apart.
  const columns = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index }));
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    columns.forEach((column, i) => {
      const end = columns[i + 1]?.start ?? line.length;
      row[column.name] = line.slice(column.start, end).trim();
    });
    return row;
  });
}

/** The column names of a kubectl table's header. */
export function tableHeader(stdout: string): string[] {
  const header = stdout.split('\n').find((line) => line.trim() !== '') ?? '';
  return [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => m[0]);
}
