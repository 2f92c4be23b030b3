// The flags of `raftplane scheduler` and `raftplane controller-manager`, parsed and validated whole
// before anything starts (house rule 9): each bad flag gets its own one-line error naming it, and
// --help is generated from the same table, so it lists every flag with its default.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDurationMs, formatDurationMs } from './duration.js';
import { CliError, CliErrorCode, invalidFlag } from './errors.js';

export type ComponentKind = 'scheduler' | 'controller-manager';

export const componentKinds: readonly ComponentKind[] = ['scheduler', 'controller-manager'];

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** client-go's leaderelection defaults (kube-scheduler, kube-controller-manager). */
export const leaseDefaults = { namespace: 'kube-system', durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export interface ComponentOptions {
  readonly kind: ComponentKind;
  /** Normalised origins, `http://127.0.0.1:6441`. */
  readonly endpoints: readonly string[];
  readonly token: string | undefined;
  /** Read when the component starts (parsing does no I/O). */
  readonly tokenFile: string | undefined;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly identity: string;
  readonly logLevel: LogLevel;
  /** The scheduler's kube-scheduler percentageOfNodesToScore (0: adaptive); 0 for the controller manager. */
  readonly percentageOfNodesToScore: number;
}

export type ParsedComponentArgs = { readonly help: true } | { readonly help: false; readonly options: ComponentOptions };

export interface FlagSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly value?: string;
  /** As --help shows it. */
  readonly fallback: string;
  readonly text: string;
}

export function defaultLeaseName(kind: ComponentKind): string {
  return kind === 'scheduler' ? 'kube-scheduler' : 'kube-controller-manager';
}

function flagSpecs(kind: ComponentKind): readonly FlagSpec[] {
  const schedulerOnly: FlagSpec[] =
    kind === 'scheduler'
      ? [{ name: 'percentage-of-nodes-to-score', type: 'string', value: '<0-100>', fallback: '0', text: 'share of the nodes a pass looks for feasible ones among (kube-scheduler\'s percentageOfNodesToScore); 0 is adaptive: 50% less 1% per 125 nodes, at least 5%, never under 100 nodes' }]
      : [];
  return [
    ...schedulerOnly,
    { name: 'servers', type: 'string', value: '<url,...>', fallback: '(required)', text: "the masters' API addresses, comma-separated: http://127.0.0.1:6441 or https://..." },
    { name: 'token', type: 'string', value: '<token>', fallback: 'none', text: 'bearer token for the API (use --token-file to keep it out of ps)' },
    { name: 'token-file', type: 'string', value: '<path>', fallback: 'none', text: 'file holding the bearer token (surrounding whitespace ignored)' },
    { name: 'leader-elect', type: 'boolean', fallback: 'true', text: 'elect one active replica through a Lease; --leader-elect=false runs unconditionally' },
    { name: 'lease-namespace', type: 'string', value: '<namespace>', fallback: leaseDefaults.namespace, text: "namespace of the leader election's Lease" },
    { name: 'lease-name', type: 'string', value: '<name>', fallback: defaultLeaseName(kind), text: "name of the leader election's Lease" },
    { name: 'lease-duration', type: 'string', value: '<duration>', fallback: formatDurationMs(leaseDefaults.durationMs), text: 'how long others wait after the last renewal seen before taking over (whole seconds in the Lease, rounded up)' },
    { name: 'renew-deadline', type: 'string', value: '<duration>', fallback: formatDurationMs(leaseDefaults.renewDeadlineMs), text: 'the leader steps down when it cannot renew for this long; below --lease-duration' },
    { name: 'retry-period', type: 'string', value: '<duration>', fallback: formatDurationMs(leaseDefaults.retryPeriodMs), text: 'how often to try to acquire or renew; below --renew-deadline' },
    { name: 'identity', type: 'string', value: '<id>', fallback: '<hostname>_<random>', text: 'this replica in the Lease (unique per replica)' },
    { name: 'log-level', type: 'string', value: '<level>', fallback: 'info', text: logLevels.join(' | ') },
    { name: 'help', type: 'boolean', fallback: 'false', text: 'print this help and exit' },
  ];
}

const summaries: Readonly<Record<ComponentKind, string>> = {
  scheduler: 'Runs the scheduler outside the masters: binds pending pods to nodes.',
  'controller-manager': 'Runs the controller manager outside the masters: the ReplicaSet and Deployment controllers.',
};

/** --help's flag lines, each with its default, from a flag table (shared by every standalone command). */
export function flagLines(specs: readonly FlagSpec[]): string[] {
  const left = specs.map((s) => `--${s.name}${s.value === undefined ? '' : ` ${s.value}`}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `  ${left[i]!.padEnd(width)}${s.text} ${s.fallback.startsWith('(') ? s.fallback : `(default ${s.fallback})`}`);
}

export function componentUsage(kind: ComponentKind): string {
  const lines = flagLines(flagSpecs(kind));
  return [
    `usage: raftplane ${kind} --servers <url,...> [flags]`,
    '',
    summaries[kind],
    'Replicas elect one active instance through a coordination.k8s.io/v1 Lease; a clean exit',
    '(SIGTERM, SIGINT) releases it, so that another replica takes over at once.',
    'Durations: 15s, 1500ms, 1m30s.',
    '',
    'flags:',
    ...lines,
  ].join('\n');
}

/** `--leader-elect=false` as Kubernetes spells it: node's parseArgs takes no value for a boolean. */
function splitLeaderElect(argv: readonly string[]): { rest: string[]; leaderElect: boolean | undefined } {
  const rest: string[] = [];
  let leaderElect: boolean | undefined;
  for (const arg of argv) {
    const match = /^--leader-elect=(.*)$/.exec(arg);
    if (match === null) {
      if (arg === '--leader-elect') leaderElect = true;
      else rest.push(arg);
      continue;
    }
    if (match[1] === 'true') leaderElect = true;
    else if (match[1] === 'false') leaderElect = false;
    else throw invalidFlag('leader-elect', `must be true or false, got ${JSON.stringify(match[1])}`);
  }
  return { rest, leaderElect };
}

/** Node's parseArgs errors, as one line that names the flag; `kind` is the command (`scheduler`, `proxy`). */
export function parseArgsError(error: unknown, kind: string): CliError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new CliError(CliErrorCode.UnknownFlag, `unknown flag ${flag ?? message} for raftplane ${kind} (see --help)`, flag);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const positional = /'([^']*)'/.exec(message)?.[1] ?? message;
    return new CliError(CliErrorCode.UnknownFlag, `unexpected argument ${JSON.stringify(positional)} for raftplane ${kind}: it takes flags only (see --help)`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (flag !== undefined && /argument missing/.test(message)) return new CliError(CliErrorCode.InvalidFlag, `${flag} needs a value`, flag);
    if (flag !== undefined && /does not take an argument/.test(message)) return new CliError(CliErrorCode.InvalidFlag, `${flag} takes no value`, flag);
    // `--tail -1`: node's message is three lines. (A short flag's is reworded by the verbs, which know its long name.)
    if (flag !== undefined && flag.startsWith('--') && /ambiguous/.test(message)) {
      return new CliError(CliErrorCode.InvalidFlag, `${flag} needs a value (one that starts with a dash is written ${flag}=<value>)`, flag);
    }
  }
  return new CliError(CliErrorCode.InvalidFlag, message, flag);
}

/** --servers: the masters' API origins, each checked. */
export function parseServers(text: string | undefined): string[] {
  if (text === undefined) throw new CliError(CliErrorCode.MissingFlag, '--servers is required: the masters\' API addresses, e.g. --servers http://127.0.0.1:6441', '--servers');
  const parts = text.split(',').map((p) => p.trim());
  if (parts.every((p) => p === '')) throw invalidFlag('servers', 'must list at least one address');
  return parts.map((part) => {
    if (part === '') throw invalidFlag('servers', `has an empty address in ${JSON.stringify(text)}`);
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw invalidFlag('servers', `${JSON.stringify(part)} is not a URL (want http://host:port or https://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidFlag('servers', `${JSON.stringify(part)} must use http:// or https://`);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw invalidFlag('servers', `${JSON.stringify(part)} must be a bare origin, without a path, query or credentials`);
    }
    return url.origin;
  });
}

/** A positive duration flag (`15s`, `1500ms`), or `fallbackMs` when absent. */
export function parseDuration(flag: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const ms = parseDurationMs(text);
  if (ms === null) throw invalidFlag(flag, `${JSON.stringify(text)} is not a duration (want e.g. 15s, 1500ms, 1m30s)`);
  if (ms <= 0) throw invalidFlag(flag, `${JSON.stringify(text)} must be positive`);
  return ms;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseName(flag: string, text: string | undefined, fallback: string, pattern: RegExp, lengthMax: number, what: string): string {
  const value = text ?? fallback;
  if (value.length > lengthMax || !pattern.test(value)) throw invalidFlag(flag, `${JSON.stringify(value)} is not a valid ${what} (lowercase letters, digits and '-', at most ${lengthMax} characters)`);
  return value;
}

/** The flags every command that talks to the masters has: --servers, --token or --token-file, --log-level. */
export function parseConnectionFlags(str: (name: string) => string | undefined): { endpoints: string[]; token: string | undefined; tokenFile: string | undefined; logLevel: LogLevel } {
  const endpoints = parseServers(str('servers'));
  const token = str('token');
  const tokenFile = str('token-file');
  if (token !== undefined && tokenFile !== undefined) throw new CliError(CliErrorCode.ConflictingFlags, '--token and --token-file were both given: use one', '--token');
  if (token !== undefined && (token === '' || /\s/.test(token))) throw invalidFlag('token', 'must be non-empty, without spaces or line breaks');
  if (tokenFile === '') throw invalidFlag('token-file', 'must name a file');
  const logLevel = str('log-level') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) throw invalidFlag('log-level', `${JSON.stringify(logLevel)} is not one of ${logLevels.join(', ')}`);
  return { endpoints, token, tokenFile, logLevel: logLevel as LogLevel };
}

export interface ComponentDefaults {
  /** `<hostname>_<random>`, computed only when --identity is absent. */
  readonly identity: () => string;
}

/** Parses one subcommand's argv (everything after `raftplane <kind>`). Throws a CliError. */
export function parseComponentArgs(kind: ComponentKind, argv: readonly string[], defaults: ComponentDefaults): ParsedComponentArgs {
  const { rest, leaderElect } = splitLeaderElect(argv);
  const options = Object.fromEntries(flagSpecs(kind).filter((s) => s.name !== 'leader-elect').map((s) => [s.name, { type: s.type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: options as ParseArgsConfig['options'], strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw parseArgsError(error, kind);
  }
  if (values.help === true) return { help: true };
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const { endpoints, token, tokenFile, logLevel } = parseConnectionFlags(str);
  const leaseDurationMs = parseDuration('lease-duration', str('lease-duration'), leaseDefaults.durationMs);
  const renewDeadlineMs = parseDuration('renew-deadline', str('renew-deadline'), leaseDefaults.renewDeadlineMs);
  const retryPeriodMs = parseDuration('retry-period', str('retry-period'), leaseDefaults.retryPeriodMs);
  // client-go's leaderelection rules: the holder must give up before others may take over.
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new CliError(CliErrorCode.ConflictingFlags, `--lease-duration ${formatDurationMs(leaseDurationMs)} must be longer than --renew-deadline ${formatDurationMs(renewDeadlineMs)}`, '--lease-duration');
  }
  if (!(renewDeadlineMs > retryPeriodMs)) {
    throw new CliError(CliErrorCode.ConflictingFlags, `--renew-deadline ${formatDurationMs(renewDeadlineMs)} must be longer than --retry-period ${formatDurationMs(retryPeriodMs)}`, '--renew-deadline');
  }
  const identity = str('identity') ?? defaults.identity();
  if (identity === '' || /\s/.test(identity) || identity.length > 253) throw invalidFlag('identity', `${JSON.stringify(identity)} must be non-empty, without whitespace, at most 253 characters`);
  return {
    help: false,
    options: {
      kind,
      endpoints,
      token,
      tokenFile,
      leaderElect: leaderElect ?? true,
      leaseNamespace: parseName('lease-namespace', str('lease-namespace'), leaseDefaults.namespace, dnsLabel, 63, 'namespace'),
      leaseName: parseName('lease-name', str('lease-name'), defaultLeaseName(kind), dnsSubdomain, 253, 'Lease name'),
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      identity,
      logLevel,
      percentageOfNodesToScore: kind === 'scheduler' ? parsePercentage(str('percentage-of-nodes-to-score')) : 0,
    },
  };
}

function parsePercentage(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d{1,3}$/.test(text) || Number(text) > 100) throw invalidFlag('percentage-of-nodes-to-score', `${JSON.stringify(text)} must be a whole number from 0 (adaptive) to 100`);
  return Number(text);
}
