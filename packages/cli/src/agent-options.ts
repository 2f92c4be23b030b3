// The flags of `raftplane agent`, parsed and validated whole before anything starts (house rule
// 9), with --help generated from the same table. Shares the components' helpers for --servers,
// tokens, durations, parse errors and the help layout.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { flagLines, logLevels, parseArgsError, parseConnectionFlags, parseDuration, type FlagSpec, type LogLevel } from './component-options.js';
import { formatDurationMs } from './duration.js';
import { CliError, CliErrorCode, invalidFlag } from './errors.js';

export type RuntimeKind = 'process' | 'docker';
type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface AgentCliOptions {
  readonly endpoints: readonly string[];
  readonly token: string | undefined;
  readonly tokenFile: string | undefined;
  readonly logLevel: LogLevel;
  readonly name: string;
  readonly address: string;
  readonly runtime: RuntimeKind;
  readonly dataDir: string;
  readonly dockerSocket: string;
  readonly podNetwork: 'host' | 'bridge';
  /** Undefined: 127.1.N.0/24 from the address 127.0.1.N. */
  readonly podCidr: string | undefined;
  readonly port: number;
  readonly cpu: string | undefined;
  readonly memory: string | undefined;
  readonly maxPods: number;
  readonly labels: Record<string, string>;
  readonly taints: { key: string; value?: string; effect: TaintEffect }[];
  readonly heartbeatMs: number;
  readonly statusReportMs: number;
  readonly resyncMs: number;
  readonly restartBackoffMs: number;
  readonly restartBackoffMaxMs: number;
}

export type ParsedAgentArgs = { readonly help: true } | { readonly help: false; readonly options: AgentCliOptions };

const defaults = { runtime: 'process', dockerSocket: '/var/run/docker.sock', port: 10250, maxPods: 110, heartbeatMs: 10_000, statusReportMs: 60_000, resyncMs: 10_000, restartBackoffMs: 10_000, restartBackoffMaxMs: 300_000 } as const;

const agentFlags: readonly FlagSpec[] = [
  { name: 'name', type: 'string', value: '<node>', fallback: '(required)', text: "the Node's name (a DNS subdomain)" },
  { name: 'address', type: 'string', value: '<ip>', fallback: '(required)', text: "the node's own loopback address, e.g. 127.0.1.1 (its InternalIP; the log endpoint listens there)" },
  { name: 'servers', type: 'string', value: '<url,...>', fallback: '(required)', text: "the masters' API addresses, comma-separated: http://127.0.0.1:6441 or https://..." },
  { name: 'token', type: 'string', value: '<token>', fallback: 'none', text: 'bearer token for the API (use --token-file to keep it out of ps)' },
  { name: 'token-file', type: 'string', value: '<path>', fallback: 'none', text: 'file holding the bearer token (surrounding whitespace ignored)' },
  { name: 'runtime', type: 'string', value: 'process|docker', fallback: defaults.runtime, text: 'run containers as child processes, or through the Docker Engine API' },
  { name: 'data-dir', type: 'string', value: '<path>', fallback: '.raftplane/agent-<name>', text: "the agent's own files: pod directories and volumes, pod addresses, process runtime state and logs" },
  { name: 'docker-socket', type: 'string', value: '<path>', fallback: defaults.dockerSocket, text: "the Docker engine's unix socket (--runtime docker)" },
  { name: 'pod-network', type: 'string', value: 'host|bridge', fallback: 'host', text: "docker: containers on the host's network binding their pod address, or the engine's bridge" },
  { name: 'pod-cidr', type: 'string', value: '<cidr>', fallback: '127.1.N.0/24 for address 127.0.1.N', text: "the node's pod range, inside 127.0.0.0/8: each pod gets its own address from it ($POD_IP)" },
  { name: 'port', type: 'string', value: '<port>', fallback: String(defaults.port), text: 'port of the log endpoint on --address (0: any free port, registered in the Node)' },
  { name: 'cpu', type: 'string', value: '<quantity>', fallback: "the machine's cores", text: 'cpu capacity the node reports (e.g. 4, 3500m)' },
  { name: 'memory', type: 'string', value: '<quantity>', fallback: "the machine's memory", text: 'memory capacity the node reports (e.g. 8Gi)' },
  { name: 'max-pods', type: 'string', value: '<n>', fallback: String(defaults.maxPods), text: 'pods the node takes at most' },
  { name: 'node-labels', type: 'string', value: '<k=v,...>', fallback: 'none', text: "labels added to the Node (beside kubernetes.io/hostname, os and arch)" },
  { name: 'register-with-taints', type: 'string', value: '<k=v:Effect,...>', fallback: 'none', text: 'taints the Node is registered with (NoSchedule, PreferNoSchedule, NoExecute)' },
  { name: 'heartbeat', type: 'string', value: '<duration>', fallback: formatDurationMs(defaults.heartbeatMs), text: "how often the node's Lease in kube-node-lease is renewed" },
  { name: 'status-report', type: 'string', value: '<duration>', fallback: '1m', text: "the Node's Ready condition is rewritten at least this often" },
  { name: 'resync', type: 'string', value: '<duration>', fallback: formatDurationMs(defaults.resyncMs), text: 'every pod is reconciled again this often (besides every change)' },
  { name: 'restart-backoff', type: 'string', value: '<duration>', fallback: formatDurationMs(defaults.restartBackoffMs), text: "CrashLoopBackOff's first delay, doubling per restart" },
  { name: 'restart-backoff-max', type: 'string', value: '<duration>', fallback: '5m', text: "CrashLoopBackOff's longest delay" },
  { name: 'log-level', type: 'string', value: '<level>', fallback: 'info', text: logLevels.join(' | ') },
  { name: 'help', type: 'boolean', fallback: 'false', text: 'print this help and exit' },
];

export function agentUsage(): string {
  return [
    'usage: raftplane agent --name <node> --address <ip> --servers <url,...> [flags]',
    '',
    "The node agent (raftplane's kubelet): registers its Node, renews its Lease, runs the pods bound",
    'to it (child processes, or Docker containers), probes them and reports their status, and serves',
    "their logs for `kubectl logs`. SIGTERM or SIGINT stops the agent and leaves the containers",
    'running: an agent started again adopts them. Durations: 10s, 500ms, 1m30s.',
    '',
    'flags:',
    ...flagLines(agentFlags),
  ].join('\n');
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function parseLoopback(flag: string, text: string | undefined): string {
  if (text === undefined) throw new CliError(CliErrorCode.MissingFlag, `--${flag} is required: the node's own loopback address, e.g. --${flag} 127.0.1.1`, `--${flag}`);
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1).map(Number);
  if (octets === undefined || octets.some((o) => o > 255)) throw invalidFlag(flag, `${JSON.stringify(text)} is not an IPv4 address`);
  if (octets[0] !== 127) throw invalidFlag(flag, `${text} is outside 127.0.0.0/8: raftplane keeps every node on loopback`);
  return text;
}

function parseInteger(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw invalidFlag(flag, `${JSON.stringify(text)} must be an integer from ${min} to ${max}`);
  return Number(text);
}

function parseQuantity(flag: string, text: string | undefined, pattern: RegExp, example: string): string | undefined {
  if (text === undefined) return undefined;
  if (!pattern.test(text)) throw invalidFlag(flag, `${JSON.stringify(text)} is not a quantity like ${example}`);
  return text;
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined || text === '') return labels;
  for (const part of text.split(',')) {
    const [key = '', value, ...extra] = part.split('=');
    if (value === undefined || extra.length > 0 || !labelKey.test(key) || !labelValue.test(value) || value.length > 63) throw invalidFlag('node-labels', `${JSON.stringify(part)} is not key=value with a valid label key and value`);
    labels[key] = value;
  }
  return labels;
}

function parseTaints(text: string | undefined): AgentCliOptions['taints'] {
  if (text === undefined || text === '') return [];
  return text.split(',').map((part) => {
    const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(part);
    if (match === null || !labelKey.test(match[1] ?? '') || !labelValue.test(match[2] ?? '')) {
      throw invalidFlag('register-with-taints', `${JSON.stringify(part)} is not key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute`);
    }
    return { key: match[1] ?? '', ...(match[2] === undefined ? {} : { value: match[2] }), effect: match[3] as TaintEffect };
  });
}

/** Parses `raftplane agent`'s argv (everything after `agent`). Throws a CliError. */
export function parseAgentArgs(argv: readonly string[]): ParsedAgentArgs {
  const options = Object.fromEntries(agentFlags.map((s) => [s.name, { type: s.type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: options as ParseArgsConfig['options'], strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw parseArgsError(error, 'agent');
  }
  if (values.help === true) return { help: true };
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const name = str('name');
  if (name === undefined) throw new CliError(CliErrorCode.MissingFlag, '--name is required: the Node\'s name, e.g. --name node-1', '--name');
  if (name.length > 253 || !dnsSubdomain.test(name)) throw invalidFlag('name', `${JSON.stringify(name)} is not a valid node name (lowercase letters, digits, '-' and '.', at most 253 characters)`);
  const address = parseLoopback('address', str('address'));
  const connection = parseConnectionFlags(str);
  const runtime = str('runtime') ?? defaults.runtime;
  if (runtime !== 'process' && runtime !== 'docker') throw invalidFlag('runtime', `${JSON.stringify(runtime)} is not one of process, docker`);
  const podNetwork = str('pod-network') ?? 'host';
  if (podNetwork !== 'host' && podNetwork !== 'bridge') throw invalidFlag('pod-network', `${JSON.stringify(podNetwork)} is not one of host, bridge`);
  const dockerSocket = str('docker-socket') ?? defaults.dockerSocket;
  if (!dockerSocket.startsWith('/')) throw invalidFlag('docker-socket', `${JSON.stringify(dockerSocket)} must be an absolute path`);
  const dataDir = str('data-dir') ?? `.raftplane/agent-${name}`;
  if (dataDir === '') throw invalidFlag('data-dir', 'must name a directory');
  const restartBackoffMs = parseDuration('restart-backoff', str('restart-backoff'), defaults.restartBackoffMs);
  const restartBackoffMaxMs = parseDuration('restart-backoff-max', str('restart-backoff-max'), defaults.restartBackoffMaxMs);
  if (restartBackoffMaxMs < restartBackoffMs) throw new CliError(CliErrorCode.ConflictingFlags, `--restart-backoff-max ${formatDurationMs(restartBackoffMaxMs)} must not be shorter than --restart-backoff ${formatDurationMs(restartBackoffMs)}`, '--restart-backoff-max');
  return {
    help: false,
    options: {
      ...connection,
      name,
      address,
      runtime,
      dataDir,
      dockerSocket,
      podNetwork,
      podCidr: str('pod-cidr'),
      port: parseInteger('port', str('port'), defaults.port, 0, 65_535),
      cpu: parseQuantity('cpu', str('cpu'), /^\d+(\.\d+)?m?$/, '4 or 3500m'),
      memory: parseQuantity('memory', str('memory'), /^\d+(\.\d+)?([KMGT]i|[kMGT])?$/, '8Gi'),
      maxPods: parseInteger('max-pods', str('max-pods'), defaults.maxPods, 1, 10_000),
      labels: parseLabels(str('node-labels')),
      taints: parseTaints(str('register-with-taints')),
      heartbeatMs: parseDuration('heartbeat', str('heartbeat'), defaults.heartbeatMs),
      statusReportMs: parseDuration('status-report', str('status-report'), defaults.statusReportMs),
      resyncMs: parseDuration('resync', str('resync'), defaults.resyncMs),
      restartBackoffMs,
      restartBackoffMaxMs,
    },
  };
}
