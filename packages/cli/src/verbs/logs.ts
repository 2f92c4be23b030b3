// `raftplane logs`: a container's output as kubectl logs prints it, from a pod, from one pod of
// a Deployment, ReplicaSet, StatefulSet, DaemonSet or Job (kubectl's choice, said on stderr), or
// from every pod -l selects; -f follows until interrupted, several streams at once line by line.

import { isStatusError, labelSelectorObjectToString, resourceByName, type KubeObject, type LabelSelector, type Pod, type ResourceInfo } from '@raftplane/api';
import { objectPath } from '@raftplane/client';
import { CliError, CliErrorCode } from '../errors.js';
import { nameOf } from './printing.js';
import { integerFlag, parseReadArgs, printedHelp, rfc3339Flag, secondsFlag, stringFlag, verbUsage, type ReadFlag } from './read-flags.js';
import { copyLogLines, copyLogStream, openLogStream } from './read-log-stream.js';
import { resourceFromWord } from './resource-words.js';
import { withSession, type Session, type Verb, type VerbIO } from './session.js';

const flags: readonly ReadFlag[] = [
  { name: 'container', short: 'c', type: 'string', value: '<name>', fallback: 'the only container, else the default-container annotation, else the first', text: 'the container to read' },
  { name: 'follow', short: 'f', type: 'boolean', fallback: 'false', text: 'keep printing new output until interrupted' },
  { name: 'previous', short: 'p', type: 'boolean', fallback: 'false', text: "the previous instance's output, after a restart" },
  { name: 'tail', type: 'string', value: '<lines>', fallback: '-1, all', text: 'only the last lines' },
  { name: 'since', type: 'string', value: '<duration>', fallback: 'all', text: 'only output newer than this: 30s, 5m, 1h' },
  { name: 'since-time', type: 'string', value: '<RFC 3339 time>', fallback: 'all', text: 'only output after this time: 2026-11-26T21:00:00Z (not with --since)' },
  { name: 'timestamps', type: 'boolean', fallback: 'false', text: 'prefix each line with its RFC 3339 time' },
  { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'every pod with these labels instead of one named pod' },
  { name: 'all-containers', type: 'boolean', fallback: 'false', text: "every container of the pod(s), one after another (-f: at once)" },
  { name: 'prefix', type: 'boolean', fallback: 'false', text: 'start each line with [pod/<name>/<container>]' },
  { name: 'max-log-requests', type: 'string', value: '<count>', fallback: '5', text: 'most streams followed at once with -l or --all-containers' },
];

export const logsUsage = verbUsage(
  {
    usage: ['raftplane logs <pod> [<container>] [flags]', 'raftplane logs <type>/<name> [flags]', 'raftplane logs -l <selector> [flags]'],
    summary: ['Prints a container\'s output. For a deployment, replicaset, statefulset, daemonset or job, one of its pods is chosen (running and ready first).'],
    examples: ['raftplane logs web-1', 'raftplane logs -f deploy/web -c web', 'raftplane logs web-1 --previous --tail 20', 'raftplane logs -l app=web --all-containers --prefix'],
  },
  flags,
);

const podsInfo = resourceByName('', 'pods') as ResourceInfo;
/** Kinds whose pods kubectl logs picks from, by their spec.selector. */
const workloadKinds = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job']);
const defaultContainerAnnotation = 'kubectl.kubernetes.io/default-container';

interface LogsOptions {
  readonly container: string | undefined;
  readonly query: Record<string, string>;
  readonly follow: boolean;
  readonly selector: string | undefined;
  readonly allContainers: boolean;
  readonly prefix: boolean;
  readonly streamsMax: number;
}

/** One container's log to print. */
interface LogTarget {
  readonly pod: Pod;
  readonly container: string;
}

function optionsOf(values: Record<string, string | boolean | string[] | undefined>, positionals: readonly string[]): LogsOptions {
  const selector = stringFlag(values, 'selector');
  if (selector !== undefined && positionals.length > 0) throw new CliError(CliErrorCode.InvalidArgument, 'only a selector (-l) or a pod name is allowed');
  if (selector === undefined && positionals.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'a pod or <type>/<name> must be given: raftplane logs <pod> (see --help)');
  if (positionals.length > 2) throw new CliError(CliErrorCode.InvalidArgument, `expected raftplane logs <pod> [<container>], got ${positionals.length} arguments`);
  const flagContainer = stringFlag(values, 'container');
  if (flagContainer !== undefined && positionals[1] !== undefined) throw new CliError(CliErrorCode.ConflictingFlags, 'only one of -c or an inline container name may be given', '--container');
  const allContainers = values['all-containers'] === true;
  if (allContainers && (flagContainer ?? positionals[1]) !== undefined) throw new CliError(CliErrorCode.ConflictingFlags, '--all-containers=true should not be specified with container name', '--all-containers');
  const streamsMax = integerFlag(values, 'max-log-requests', false) ?? 5;
  if (streamsMax < 1) throw new CliError(CliErrorCode.InvalidFlag, '--max-log-requests must be greater than 0', '--max-log-requests');
  const tail = integerFlag(values, 'tail', true);
  const since = secondsFlag(values, 'since');
  const sinceTime = rfc3339Flag(values, 'since-time');
  if (since !== undefined && sinceTime !== undefined) throw new CliError(CliErrorCode.ConflictingFlags, 'at most one of --since or --since-time may be given', '--since-time');
  const follow = values.follow === true;
  const previous = values.previous === true;
  const query: Record<string, string> = {};
  if (follow) query.follow = 'true';
  if (previous) query.previous = 'true';
  if (tail !== undefined && tail >= 0) query.tailLines = String(tail);
  if (since !== undefined) query.sinceSeconds = String(since);
  if (sinceTime !== undefined) query.sinceTime = sinceTime;
  if (values.timestamps === true) query.timestamps = 'true';
  return { container: flagContainer ?? positionals[1], query, follow, selector, allContainers, prefix: values.prefix === true, streamsMax };
}

/** kubectl's podutils.ByLogging: scheduled, then Running, then ready, then most restarts, then oldest. */
function loggingRank(a: Pod, b: Pod): number {
  const phaseRank = (p: Pod): number => ({ Running: 0, Unknown: 1, Pending: 2 } as Record<string, number>)[p.status?.phase ?? ''] ?? 3;
  const ready = (p: Pod): number => ((p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 0 : 1);
  const restarts = (p: Pod): number => (p.status?.containerStatuses ?? []).reduce((n, s) => n + s.restartCount, 0);
  const scheduled = (p: Pod): number => (p.spec?.nodeName ? 0 : 1);
  return scheduled(a) - scheduled(b) || phaseRank(a) - phaseRank(b) || ready(a) - ready(b) || restarts(b) - restarts(a) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
}

/** The pod named by the argument; for a workload, one of its pods, saying which on stderr when there was a choice. */
async function podFor(session: Session, word: string, io: VerbIO): Promise<Pod> {
  const slash = word.indexOf('/');
  const info = slash === -1 ? podsInfo : resourceFromWord(word.slice(0, slash));
  const name = slash === -1 ? word : word.slice(slash + 1);
  if (name === '') throw new CliError(CliErrorCode.InvalidArgument, `arguments in resource/name form must have a name: ${JSON.stringify(word)}`);
  const obj = await session.client.resourceFor(info, session.namespace).get(name, { signal: io.signal });
  if (info.kind === 'Pod') return obj as Pod;
  if (!workloadKinds.has(info.kind)) throw new CliError(CliErrorCode.InvalidArgument, `cannot get the logs from ${nameOf(info, name)}: logs come from pods, deployments, replicasets, statefulsets, daemonsets and jobs`);
  const selector = labelSelectorObjectToString((obj as KubeObject & { spec?: { selector?: LabelSelector } }).spec?.selector);
  if (selector === '') throw new CliError(CliErrorCode.InvalidArgument, `${nameOf(info, name)} has no selector to find its pods by`);
  const pods = (await session.client.resourceFor(podsInfo, session.namespace).listAll({ labelSelector: selector, signal: io.signal })).items as Pod[];
  const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined);
  const chosen = [...(live.length > 0 ? live : pods)].sort(loggingRank)[0];
  if (chosen === undefined) throw new CliError(CliErrorCode.InvalidArgument, `no pods found for ${nameOf(info, name)} (selector ${selector})`);
  if (pods.length > 1) io.stderr.write(`Found ${pods.length} pods, using pod/${chosen.metadata.name ?? ''}\n`);
  return chosen;
}

/** -c, else the only container, else (as kubectl) the default-container annotation or the first, said on stderr. */
function containerFor(pod: Pod, given: string | undefined, io: VerbIO): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (given !== undefined) return given;
  if (names.length === 1) return names[0] as string;
  const annotated = pod.metadata.annotations?.[defaultContainerAnnotation];
  const chosen = annotated !== undefined && names.includes(annotated) ? annotated : names[0];
  if (chosen === undefined) throw new CliError(CliErrorCode.InvalidArgument, `pod ${pod.metadata.name ?? ''} has no containers`);
  if (annotated === undefined) io.stderr.write(`Defaulted container "${chosen}" out of: ${names.join(', ')}\n`);
  return chosen;
}

/** The pods and containers to print: one pod (or a workload's chosen one), or every pod -l selects. */
async function targetsFor(session: Session, positionals: readonly string[], options: LogsOptions, io: VerbIO): Promise<LogTarget[]> {
  let pods: Pod[];
  if (options.selector === undefined) pods = [await podFor(session, positionals[0] as string, io)];
  else {
    pods = (await session.client.resourceFor(podsInfo, session.namespace).listAll({ labelSelector: options.selector, signal: io.signal })).items as Pod[];
    if (pods.length === 0) io.stderr.write(`No resources found in ${session.namespace} namespace.\n`);
  }
  return pods.flatMap((pod) =>
    options.allContainers ? (pod.spec?.containers ?? []).map((c) => ({ pod, container: c.name })) : [{ pod, container: containerFor(pod, options.container, io) }],
  );
}

export const logsVerb: Verb = async (argv, io) => {
  const { values, positionals } = parseReadArgs('logs', argv, flags);
  if (printedHelp(values, io, logsUsage)) return 0;
  const options = optionsOf(values, positionals);
  return withSession(values, io, async (session) => {
    const targets = await targetsFor(session, positionals, options, io);
    if (options.follow && targets.length > options.streamsMax) {
      throw new CliError(CliErrorCode.InvalidFlag, `you are attempting to follow ${targets.length} log streams, but maximum allowed concurrency is ${options.streamsMax}, use --max-log-requests to increase the limit`, '--max-log-requests');
    }
    // Several streams are copied line by line, so that lines from different containers never mix.
    const whole = targets.length === 1 && !options.prefix;
    // The first stream to fail stops the others, and is the error reported.
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(io.signal.reason);
    io.signal.addEventListener('abort', onAbort, { once: true });
    let failure: unknown;
    const print = async (target: LogTarget): Promise<void> => {
      try {
        await printLog(session, target, options, whole, io.stdout, stop.signal);
      } catch (error) {
        if (failure === undefined && !stop.signal.aborted) failure = error;
        stop.abort(error);
      }
    };
    try {
      if (options.follow) await Promise.all(targets.map(print));
      else for (const target of targets) if (!stop.signal.aborted) await print(target);
    } finally {
      io.signal.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined && !(io.signal.aborted && !isStatusError(failure))) throw failure;
    return 0;
  });
};

async function printLog(session: Session, target: LogTarget, options: LogsOptions, whole: boolean, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  const { pod, container } = target;
  const path = objectPath(podsInfo, pod.metadata.namespace ?? session.namespace, pod.metadata.name ?? '', 'log');
  const stream = await openLogStream({ servers: session.config.servers, token: session.config.token, path, query: { ...options.query, container }, signal, connectTimeoutMs: 2_000, headersTimeoutMs: 15_000 });
  const prefix = options.prefix ? `[pod/${pod.metadata.name ?? ''}/${container}] ` : '';
  await (whole ? copyLogStream(stream, out, signal) : copyLogLines(stream, out, prefix, signal));
}
