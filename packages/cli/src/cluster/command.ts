// `raftplane cluster <command>` (issue 9), and `npm run cluster -- <command>` (scripts/cluster.ts,
// the same code with masters only by default): parses the flags whole, then runs one subcommand.
// A failure is one line on stderr and exit code 1; a usage error exit code 2.

import { createReadStream, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { parseDurationMs } from '../duration.js';
import { openContext, masterId, type ClusterContext, type ClusterFlags } from './context.js';
import { defaultDockerSocket } from './docker.js';
import { down } from './down.js';
import { ClusterError, ClusterErrorCode } from './errors.js';
import { agreedLeader } from './masters.js';
import { nodeSpecs, type ComponentName } from './nodes.js';
import { printStatus } from './status.js';
import { up } from './up.js';

export interface ClusterCommandOptions {
  /** How the command is run, for usage and hints: `raftplane cluster` or `npm run cluster --`. */
  readonly program: string;
  /** The repository: masters run here, relative data directories and `.cluster/` resolve here. */
  readonly workDir: string;
  /** The default config, `<repo>/cluster-configs/local-3.json`. */
  readonly defaultConfig: string;
  /** Agents `up` starts unless told (`npm run cluster` starts masters only, as it always did). */
  readonly agentsDefault: number;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly isTTY: boolean;
}

function usage(program: string, agentsDefault: number): string {
  return `usage: ${program} <command> [flags]

  up                     start what is not running: the masters, then ${agentsDefault === 0 ? 'with --agents N ' : ''}the agents (node-N on
                         127.0.1.N) and the proxy; wait for each; write kubeconfig and raftplane.json
  down                   stop the proxy, the agents, the containers they leave running, the masters
  status                 per master: pid, role, term, leader, commit/applied index, lag, ready, live;
                         the nodes and their readiness; the agent and proxy processes
  kill <master>          SIGKILL one master (and wait for a new leader if it led)
  stop <master>          stop one master cleanly (SIGTERM: leadership handed over first)
  start <master>         start one master
  pause <master>         SIGSTOP one master
  resume <master>        SIGCONT one master
  transfer-leader <master>  hand leadership to that master (Raft §3.10)
  logs <component> [-f]  a master's (1, m1), an agent's (agent-node-1) or the proxy's log; -f follows
  wipe                   down, then delete the cluster's data and logs

flags:
  --config <file>        the cluster config (default cluster-configs/local-3.json)
  --agents <n>           up: node agents to run, 0 to 9 (default ${agentsDefault})
  --runtime <kind>       up: the agents' container runtime, process or docker (default process)
  --docker-socket <path> up: the Docker engine's socket (default $DOCKER_HOST's, else /var/run/docker.sock,
                         else /tmp/raftplane-docker/docker.sock if there)
  --demo                 up: deploy the demo app (a Deployment and a NodePort Service), print its URL
  --delete-demo          down: delete the demo app through the API first
  --timeout <duration>   how long each stage of up may take (default 60s)
  --run-dir <dir>        pid files and logs (default .cluster/<name>)
  -f, --follow           logs: keep printing new lines until Ctrl-C
  -h, --help             this text`;
}


/** Parses every flag before anything runs (house rule 9); a bad one is an InvalidUsage ClusterError naming it. */
export function parseClusterFlags(argv: readonly string[], options: Pick<ClusterCommandOptions, 'program' | 'agentsDefault' | 'defaultConfig'>): { positionals: string[]; flags: ClusterFlags; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        'run-dir': { type: 'string' },
        agents: { type: 'string' },
        runtime: { type: 'string' },
        'docker-socket': { type: 'string' },
        timeout: { type: 'string' },
        'timeout-ms': { type: 'string' }, // npm run cluster's spelling, kept
        demo: { type: 'boolean', default: false },
        'delete-demo': { type: 'boolean', default: false },
        follow: { type: 'boolean', short: 'f', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.InvalidUsage, `${(error as Error).message} (see ${options.program} --help)`);
  }
  const v = parsed.values;
  const agents = v.agents === undefined ? options.agentsDefault : Number(v.agents);
  if (!Number.isInteger(agents) || agents < 0 || agents > 9) throw new ClusterError(ClusterErrorCode.InvalidUsage, `--agents ${JSON.stringify(v.agents)} must be an integer from 0 to 9 (node N gets 127.0.1.N)`);
  const runtime = v.runtime ?? 'process';
  if (runtime !== 'process' && runtime !== 'docker') throw new ClusterError(ClusterErrorCode.InvalidUsage, `--runtime ${JSON.stringify(runtime)} is not one of process, docker`);
  const timeoutMs = v['timeout-ms'] !== undefined ? Number(v['timeout-ms']) : v.timeout === undefined ? 60_000 : parseDurationMs(v.timeout);
  if (timeoutMs === null || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ClusterError(ClusterErrorCode.InvalidUsage, `--timeout ${JSON.stringify(v.timeout ?? v['timeout-ms'])} is not a duration like 60s or 2m`);
  const dockerSocket = v['docker-socket'] ?? defaultDockerSocket();
  if (!dockerSocket.startsWith('/')) throw new ClusterError(ClusterErrorCode.InvalidUsage, `--docker-socket ${JSON.stringify(dockerSocket)} must be an absolute path`);
  const flags: ClusterFlags = {
    config: v.config ?? options.defaultConfig,
    runDir: v['run-dir'],
    agents,
    runtime,
    dockerSocket,
    timeoutMs,
    follow: v.follow,
    demo: v.demo,
    deleteDemo: v['delete-demo'],
  };
  return { positionals: parsed.positionals, flags, help: v.help };
}

/** After the leader went away: waits for the others to agree on a new one and says who. */
async function reportNewLeader(context: ClusterContext, gone: number): Promise<void> {
  const statuses = await context.control
    .waitFor('a new leader', (s) => ![0, gone].includes(agreedLeader(s)), 15_000)
    .catch(() => null);
  const leader = statuses === null ? 0 : agreedLeader(statuses);
  context.say(leader === 0 ? 'no new leader within 15 s: see cluster status' : `new leader: master ${leader} (term ${statuses?.get(leader)?.term ?? '?'})`);
}

async function signalMaster(context: ClusterContext, command: 'kill' | 'stop' | 'pause' | 'resume', argument: string | undefined): Promise<void> {
  const { control, say } = context;
  const id = masterId(context, argument);
  const signalOf = { kill: 'SIGKILL', stop: 'SIGTERM', pause: 'SIGSTOP', resume: 'SIGCONT' } as const;
  const wasLeader = command !== 'resume' && (await control.client.leader()) === id;
  const pid = command === 'kill' ? await control.kill(id) : command === 'stop' ? await control.stop(id) : await control.signal(id, signalOf[command]);
  say(pid === null ? `master ${id} is not running` : `master ${id} (pid ${pid}): ${signalOf[command]} sent`);
  if (pid !== null && wasLeader) await reportNewLeader(context, id);
}

/**
 * How long `transfer-leader` waits for a target that is not yet connected to the leader or not yet
 * caught up: a master just started (`cluster start 3 && cluster transfer-leader 3`) is both for a
 * moment. Any other refusal is final at once.
 */
const TRANSFER_TARGET_WAIT_MS = 15_000;
const TRANSFER_TARGET_RETRY_MS = 250;
const TRANSIENT_REFUSALS: ReadonlySet<string> = new Set(['not-connected', 'not-caught-up']);

async function transferLeader(context: ClusterContext, argument: string | undefined): Promise<void> {
  const { control, say } = context;
  const to = masterId(context, argument);
  const deadline = Date.now() + TRANSFER_TARGET_WAIT_MS;
  let waiting = false;
  for (;;) {
    const leader = await control.client.leader();
    if (leader === 0) throw new ClusterError(ClusterErrorCode.NotRunning, `cluster ${control.config.name} has no leader to hand leadership over (see ${context.program} status)`);
    if (leader === to) {
      say(`master ${to} already leads`);
      return;
    }
    const master = control.config.masters.find((m) => m.id === leader);
    const response = await fetch(`http://${master?.api.host}:${master?.api.port}/transfer-leader?to=${to}`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
    const body = (await response.json()) as { handedOver?: boolean; leader?: number; term?: number; message?: string; reason?: string };
    if (response.status === 200) {
      say(`leadership moved: master ${leader} → master ${body.leader} (term ${body.term})`);
      return;
    }
    if (response.status === 504) throw new ClusterError(ClusterErrorCode.Timeout, `master ${to} did not take over in time; master ${leader} ${body.leader === leader ? 'still leads' : 'stepped down'} (see ${context.program} status)`);
    const refusal = `master ${leader} refused: ${body.message ?? `HTTP ${response.status}`}`;
    if (!TRANSIENT_REFUSALS.has(body.reason ?? '') || Date.now() >= deadline || context.signal.aborted) {
      throw new ClusterError(ClusterErrorCode.TransferRefused, waiting ? `${refusal} (still, after ${TRANSFER_TARGET_WAIT_MS / 1000} s)` : refusal);
    }
    if (!waiting) say(`waiting for master ${to}: ${body.message}`);
    waiting = true;
    await new Promise((r) => setTimeout(r, TRANSFER_TARGET_RETRY_MS));
  }
}

/** `1`, `m1`, `master-1` → the master's log; `agent-node-1` or `node-1`, `proxy` → theirs. */
async function logFile(context: ClusterContext, argument: string | undefined): Promise<string> {
  if (argument !== undefined && /^(?:m|master-?)?\d+$/.test(argument)) return context.control.logFile(masterId(context, argument));
  const agents = [...(await context.nodes.components()), ...nodeSpecs(context.flags.agents).map((n) => `agent-${n.name}`)].filter((c) => c !== 'proxy');
  const known = new Set<string>([...agents.sort(), 'proxy']);
  const name = argument !== undefined && /^node-\d+$/.test(argument) ? `agent-${argument}` : argument;
  if (name === undefined || !known.has(name)) {
    const what = argument === undefined ? 'a component is required' : `no component ${JSON.stringify(argument)}`;
    throw new ClusterError(ClusterErrorCode.UnknownMember, `${what} (components: masters ${context.control.ids().join(', ')}, ${[...known].join(', ')})`);
  }
  return context.nodes.logFile(name as ComponentName);
}

async function printLog(context: ClusterContext, file: string, out: Writable): Promise<void> {
  await new Promise<void>((done, fail) => createReadStream(file).on('error', fail).on('end', done).pipe(out, { end: false })).catch((error: NodeJS.ErrnoException) => {
    throw new ClusterError(ClusterErrorCode.NotRunning, error.code === 'ENOENT' ? `${file} does not exist: that component never ran here` : error.message);
  });
  if (!context.flags.follow) return;
  let offset = (await stat(file)).size;
  const pump = async (): Promise<void> => {
    const { size } = await stat(file);
    if (size <= offset) return;
    await new Promise<void>((done) => createReadStream(file, { start: offset, end: size - 1 }).on('end', done).pipe(out, { end: false }));
    offset = size;
  };
  const watcher = watch(file, () => void pump().catch(() => undefined));
  await new Promise<void>((done) => {
    if (context.signal.aborted) done();
    context.signal.addEventListener('abort', () => done(), { once: true });
  });
  watcher.close();
}

async function dispatch(context: ClusterContext, command: string, argument: string | undefined, options: ClusterCommandOptions): Promise<number> {
  const { control, say } = context;
  switch (command) {
    case 'up':
      await up(context);
      return 0;
    case 'down':
      await down(context);
      return 0;
    case 'status':
      await printStatus(context);
      return 0;
    case 'kill':
    case 'stop':
    case 'pause':
    case 'resume':
      await signalMaster(context, command, argument);
      return 0;
    case 'start': {
      const id = masterId(context, argument);
      const pid = await control.start(id);
      say(pid === null ? `master ${id} is already running (pid ${await control.pid(id)})` : `master ${id} starting (pid ${pid})`);
      return 0;
    }
    case 'transfer-leader':
      await transferLeader(context, argument);
      return 0;
    case 'logs':
      await printLog(context, await logFile(context, argument), options.stdout);
      return 0;
    case 'wipe':
      await down(context, true);
      await control.wipe();
      say(`cluster ${control.config.name}: data and logs deleted`);
      return 0;
    default:
      options.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${usage(options.program, options.agentsDefault)}\n`);
      return 2;
  }
}

/** Runs one `cluster` command; never throws: a failure is printed and gives exit code 1 (2 for usage). */
export async function runCluster(argv: readonly string[], options: ClusterCommandOptions): Promise<number> {
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  let context: ClusterContext | null = null;
  try {
    const { positionals, flags, help } = parseClusterFlags(argv, options);
    const [command, argument, ...extra] = positionals;
    if (help || command === undefined) {
      (help ? options.stdout : options.stderr).write(`${usage(options.program, options.agentsDefault)}\n`);
      return help ? 0 : 2;
    }
    if (extra.length > 0) throw new ClusterError(ClusterErrorCode.InvalidUsage, `unexpected argument ${JSON.stringify(extra[0])} for ${command}`);
    context = await openContext(flags, { workDir: options.workDir, program: options.program, stdout: options.stdout, isTTY: options.isTTY, signal: interrupt.signal });
    return await dispatch(context, command, argument, options);
  } catch (error) {
    const code = error instanceof ClusterError ? error.code : undefined;
    const interrupted = interrupt.signal.aborted ? ' (interrupted: what started keeps running; stop it with cluster down)' : '';
    options.stderr.write(`${options.program}: ${(error as Error).message}${interrupted}\n`);
    return code === ClusterErrorCode.InvalidUsage ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    await context?.control.close();
  }
}
