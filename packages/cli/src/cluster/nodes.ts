// The agents and the proxy of a local cluster as detached `raftplane agent` / `raftplane proxy`
// processes, with pid files and logs beside the masters' in the run directory, and what they were
// started with (`nodes.json`), so that `cluster down` knows which runtime to clean up after.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { livePid, waitGone } from './masters.js';

/**
 * This package's compiled entry point, run again for each agent and the proxy; found from
 * dist/cluster/ and from src/cluster/ alike (`npm run cluster` runs the sources through tsx).
 */
export const cliMain = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export type RuntimeKind = 'process' | 'docker';

export interface NodeSpec {
  readonly name: string;
  /** The node's own loopback address; its pods get 127.1.N.0/24 (the agent's default). */
  readonly address: string;
}

/** What `cluster up` started the nodes with, kept in `<run dir>/nodes.json`. */
export interface NodesRecord {
  readonly runtime: RuntimeKind;
  readonly dockerSocket: string;
  readonly nodes: readonly NodeSpec[];
}

/** Node N is `node-N` on 127.0.1.N, as the README's manual commands and the e2e tests have it. */
export function nodeSpecs(count: number): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({ name: `node-${i + 1}`, address: `127.0.1.${i + 1}` }));
}

/** `agent-node-1`, `proxy`: the names `cluster logs` takes and the pid and log files use. */
export type ComponentName = `agent-${string}` | 'proxy';

export interface StartOptions {
  readonly servers: readonly string[];
  readonly tokenFile: string;
}

export class NodeProcesses {
  constructor(
    readonly runDir: string,
    readonly workDir: string,
  ) {}

  pidFile(component: ComponentName): string {
    return join(this.runDir, `${component}.pid`);
  }

  logFile(component: ComponentName): string {
    return join(this.runDir, `${component}.log`);
  }

  /** The size of `component`'s log now (0 when there is none): where this run's lines begin. */
  async logBytes(component: ComponentName): Promise<number> {
    return (await stat(this.logFile(component)).catch(() => null))?.size ?? 0;
  }

  agentDataDir(node: string): string {
    return join(this.runDir, `agent-${node}`);
  }

  async record(): Promise<NodesRecord | null> {
    try {
      return JSON.parse(await readFile(join(this.runDir, 'nodes.json'), 'utf8')) as NodesRecord;
    } catch {
      return null;
    }
  }

  async writeRecord(record: NodesRecord): Promise<void> {
    await writeFile(join(this.runDir, 'nodes.json'), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** The components the record names: every agent, then the proxy. */
  async components(): Promise<ComponentName[]> {
    const record = await this.record();
    return [...(record?.nodes ?? []).map((n): ComponentName => `agent-${n.name}`), 'proxy'];
  }

  /** The pid of `component` if it runs; a recycled pid is told apart by the token file in its arguments. */
  async pid(component: ComponentName): Promise<number | null> {
    const tokenFile = join(this.runDir, 'admin.token');
    const [kind, name] = component === 'proxy' ? ['proxy', null] : ['agent', component.slice('agent-'.length)];
    return livePid(this.pidFile(component), (argv) => {
      const at = argv.indexOf(cliMain);
      return at !== -1 && argv[at + 1] === kind && argv.includes(tokenFile) && (name === null || argv[argv.indexOf('--name') + 1] === name);
    });
  }

  async running(): Promise<Map<ComponentName, number>> {
    const out = new Map<ComponentName, number>();
    for (const component of await this.components()) {
      const pid = await this.pid(component);
      if (pid !== null) out.set(component, pid);
    }
    return out;
  }

  async startAgent(node: NodeSpec, record: NodesRecord, options: StartOptions): Promise<number | null> {
    const args = ['agent', '--name', node.name, '--address', node.address, '--servers', options.servers.join(','), '--token-file', options.tokenFile];
    args.push('--runtime', record.runtime, '--data-dir', this.agentDataDir(node.name));
    if (record.runtime === 'docker') args.push('--docker-socket', record.dockerSocket);
    await mkdir(this.agentDataDir(node.name), { recursive: true });
    return this.spawnDetached(`agent-${node.name}`, args);
  }

  async startProxy(nodes: readonly NodeSpec[], options: StartOptions): Promise<number | null> {
    const addresses = nodes.map((n) => n.address).join(',');
    return this.spawnDetached('proxy', ['proxy', '--servers', options.servers.join(','), '--token-file', options.tokenFile, '--node-port-addresses', addresses]);
  }

  /** Starts `raftplane <args>` detached (it outlives this command), its output appended to its log. */
  private async spawnDetached(component: ComponentName, args: readonly string[]): Promise<number | null> {
    if ((await this.pid(component)) !== null) return null;
    const log = openSync(this.logFile(component), 'a');
    try {
      const child = spawn(process.execPath, [cliMain, ...args], { cwd: this.workDir, detached: true, stdio: ['ignore', log, log], env: process.env });
      if (child.pid === undefined) throw new Error(`${component} could not be started`);
      child.unref();
      await writeFile(this.pidFile(component), `${child.pid}\n`);
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  /** SIGTERM, SIGKILL after `timeoutMs`; returns the pid it stopped, or null if it did not run. */
  async stop(component: ComponentName, timeoutMs = 15_000): Promise<number | null> {
    const pid = await this.pid(component);
    if (pid === null) return null;
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, timeoutMs))) {
      process.kill(pid, 'SIGKILL');
      await waitGone(pid, 5_000);
    }
    await unlink(this.pidFile(component)).catch(() => undefined);
    return pid;
  }
}
