// `raftplane cordon|uncordon|drain NODE`: kubectl's node maintenance. Cordon marks the node
// unschedulable; drain cordons, then removes its pods with kubectl's filters (DaemonSet pods,
// pods no controller would replace, pods with emptyDir data) and waits until they are gone.
// raftplane serves no pods/eviction subresource (no PodDisruptionBudgets to consult), so drain
// deletes pods, as `kubectl drain --disable-eviction` does.

import { hasStatusReason, type Node, type Pod } from '@raftplane/api';
import { parseDurationMs } from '../duration.js';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { withSession, type Session, type Verb, type VerbIO } from './session.js';
import { dryRunFlag, parseWriteArgs, type WriteFlag } from './write-flags.js';
import { drainPlan, type DrainFilters } from './write-drain-plan.js';
import { deleteObject, dryRunSuffix, forEachReporting, parseDryRun, patchObject, type DryRun } from './write-support.js';
import { waitForObject } from './write-wait.js';

const cordonFlags: WriteFlag[] = [{ name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'every node whose labels match' }, dryRunFlag];

/** The nodes -l selects (read now), or the names given (each read when its turn comes, so one missing fails alone). */
async function selectNodes(session: Session, names: readonly string[], selector: string | undefined, signal: AbortSignal): Promise<(Node | string)[]> {
  if (selector !== undefined) return (await session.client.resource('nodes').listAll({ labelSelector: selector, signal })).items;
  return [...names];
}

function readNode(session: Session, node: Node | string, signal: AbortSignal): Promise<Node> {
  return typeof node === 'string' ? session.client.resource('nodes').get(node, { signal }) : Promise.resolve(node);
}

/** Sets spec.unschedulable; prints `node/n1 cordoned` or `already cordoned`, as kubectl does. */
async function setUnschedulable(session: Session, node: Node, unschedulable: boolean, dryRun: DryRun, io: VerbIO): Promise<void> {
  const name = node.metadata.name ?? '';
  const word = unschedulable ? 'cordoned' : 'uncordoned';
  if ((node.spec?.unschedulable === true) === unschedulable) {
    io.stdout.write(`node/${name} already ${word}\n`);
    return;
  }
  // false is spelled by removing the field, as kubectl's patch (omitempty) does.
  if (dryRun !== 'client') await patchObject(session, session.client.resource('nodes').info, undefined, name, 'strategic', { spec: { unschedulable: unschedulable ? true : null } }, dryRun, io.signal, { fieldManager: 'kubectl-cordon' });
  io.stdout.write(`node/${name} ${word}${dryRunSuffix(dryRun)}\n`);
}

function cordonVerb(verb: 'cordon' | 'uncordon', unschedulable: boolean): Verb {
  return async (argv, io) => {
    const usage = { usage: [`raftplane ${verb} <node>... | -l <selector>`], summary: [unschedulable ? 'Marks nodes unschedulable: new pods go elsewhere, running ones stay.' : 'Marks nodes schedulable again.'] };
    const { values, positionals, helped } = parseWriteArgs(verb, argv, cordonFlags, usage, io);
    if (helped) return 0;
    const selector = values.selector as string | undefined;
    if (positionals.length === 0 && selector === undefined) throw new CliError(CliErrorCode.InvalidArgument, `${verb} needs a node name (raftplane ${verb} NODE) or -l selector`);
    const dryRun = parseDryRun(values['dry-run'] as string | undefined);
    return withSession(values, io, async (session) => {
      const nodes = await selectNodes(session, positionals, selector, io.signal);
      if (nodes.length === 0) {
        io.stderr.write('No resources found\n');
        return 0;
      }
      return forEachReporting(nodes, session, io, async (node) => setUnschedulable(session, await readNode(session, node, io.signal), unschedulable, dryRun, io));
    });
  };
}

export const cordon = cordonVerb('cordon', true);
export const uncordon = cordonVerb('uncordon', false);

const drainFlags: WriteFlag[] = [
  { name: 'ignore-daemonsets', type: 'boolean', fallback: 'false', text: 'leave DaemonSet pods (otherwise drain refuses)' },
  { name: 'force', type: 'boolean', fallback: 'false', text: 'delete pods no controller will replace (otherwise drain refuses)' },
  { name: 'delete-emptydir-data', type: 'boolean', fallback: 'false', text: 'delete pods with emptyDir volumes, and their data (otherwise drain refuses)' },
  { name: 'disable-eviction', type: 'boolean', fallback: 'false', text: 'accepted for kubectl scripts: raftplane always deletes (no pods/eviction is served)' },
  { name: 'grace-period', type: 'string', value: '<seconds>', fallback: "-1, each pod's own", text: 'seconds each pod gets to stop' },
  { name: 'timeout', type: 'string', value: '<duration>', fallback: '0: wait for ever', text: 'give up waiting for the pods after this long' },
  { name: 'pod-selector', type: 'string', value: '<selector>', fallback: 'none', text: 'only the pods whose labels match' },
  ...cordonFlags,
];

export const drainUsage = {
  usage: ['raftplane drain <node> [--ignore-daemonsets] [--force] [--delete-emptydir-data] [--grace-period=<s>] [--timeout=<d>]'],
  summary: ['Cordons the node, then deletes its pods (refusing DaemonSet pods, pods without a controller and emptyDir data unless told) and waits until they are gone.'],
};

export const drain: Verb = async (argv, io) => {
  const { values, positionals, helped } = parseWriteArgs('drain', argv, drainFlags, drainUsage, io);
  if (helped) return 0;
  if (positionals.length !== 1 && values.selector === undefined) throw new CliError(CliErrorCode.InvalidArgument, 'drain needs exactly one node name (raftplane drain NODE) or -l selector');
  const dryRun = parseDryRun(values['dry-run'] as string | undefined);
  const grace = values['grace-period'] === undefined ? -1 : Number(values['grace-period']);
  if (!Number.isSafeInteger(grace) || grace < -1) throw invalidFlag('grace-period', `must be an integer >= -1, got ${JSON.stringify(values['grace-period'])}`);
  const timeoutMs = values.timeout === undefined ? undefined : parseDurationMs(values.timeout as string);
  if (timeoutMs === null) throw invalidFlag('timeout', `must be a duration (30s, 5m), got ${JSON.stringify(values.timeout)}`);
  const filters: DrainFilters = { ignoreDaemonSets: values['ignore-daemonsets'] === true, force: values.force === true, deleteEmptyDirData: values['delete-emptydir-data'] === true };
  return withSession(values, io, async (session) => {
    const nodes = await selectNodes(session, positionals, values.selector as string | undefined, io.signal);
    return forEachReporting(nodes, session, io, async (given) => {
      const node = await readNode(session, given, io.signal);
      await setUnschedulable(session, node, true, dryRun, io);
      await drainNode(session, node.metadata.name ?? '', { filters, dryRun, grace, timeoutMs: timeoutMs === 0 ? undefined : timeoutMs, podSelector: values['pod-selector'] as string | undefined }, io);
    });
  });
};

interface DrainOptions {
  readonly filters: DrainFilters;
  readonly dryRun: DryRun;
  /** -1: each pod's own terminationGracePeriodSeconds. */
  readonly grace: number;
  readonly timeoutMs: number | undefined;
  readonly podSelector: string | undefined;
}

async function drainNode(session: Session, name: string, options: DrainOptions, io: VerbIO): Promise<void> {
  const list = await session.client.resource('pods').listAll({ fieldSelector: `spec.nodeName=${name}`, ...(options.podSelector === undefined ? {} : { labelSelector: options.podSelector }), signal: io.signal });
  const plan = drainPlan(list.items, options.filters);
  if (plan.errors.length > 0) {
    const joined = plan.errors.length === 1 ? plan.errors[0] : `[${plan.errors.join(', ')}]`;
    throw new CliError(CliErrorCode.InvalidArgument, [`unable to drain node "${name}" due to error: ${joined}, continuing command...`, 'There are pending nodes to be drained:', ` ${name}`, ...plan.errors].join('\n'));
  }
  for (const warning of plan.warnings) io.stderr.write(`Warning: ${warning}\n`);
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  // Every pod is deleted before any is waited for, so their grace periods run together: the drain
  // takes the longest grace, not their sum.
  const waiting: Pod[] = [];
  for (const pod of plan.remove) if (await deletePod(session, pod, options, io)) waiting.push(pod);
  for (const pod of waiting) await waitForPod(session, pod, deadline, io);
  io.stdout.write(`node/${name} drained${dryRunSuffix(options.dryRun)}\n`);
}

/** Deletes one pod and waits until it is gone (or replaced under its name by another uid). */
/** Deletes one pod (or dry-runs it); true when there is something to wait for. */
async function deletePod(session: Session, pod: Pod, options: DrainOptions, io: VerbIO): Promise<boolean> {
  const name = pod.metadata.name ?? '';
  const namespace = pod.metadata.namespace ?? '';
  const pods = session.client.resource('pods', namespace);
  const grace = options.grace >= 0 ? { gracePeriodSeconds: options.grace } : {};
  if (options.dryRun !== 'none') {
    if (options.dryRun === 'server') await deleteObject(session, pods.info, namespace, name, grace, 'server', io.signal);
    io.stdout.write(`pod/${name} deleted${dryRunSuffix(options.dryRun)}\n`);
    return false;
  }
  try {
    await pods.delete(name, { ...grace, preconditions: { uid: pod.metadata.uid ?? '' }, signal: io.signal });
  } catch (error) {
    // Gone already (NotFound), or replaced by a pod of another uid (the precondition's Conflict): the wait sees it.
    if (!hasStatusReason(error, 'NotFound') && !hasStatusReason(error, 'Conflict')) throw error;
  }
  return true;
}

/** Waits until the pod is gone (or replaced under its name by another uid). */
async function waitForPod(session: Session, pod: Pod, deadline: number | undefined, io: VerbIO): Promise<void> {
  const name = pod.metadata.name ?? '';
  const namespace = pod.metadata.namespace ?? '';
  const timeoutMs = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
  const pods = session.client.resource('pods', namespace);
  const gone = await waitForObject(pods, name, (o) => (o === null || o.metadata.uid !== pod.metadata.uid ? true : undefined), { signal: io.signal, timeoutMs, what: `pods/${name} in namespace "${namespace}"` });
  if (gone !== true) throw new CliError(CliErrorCode.InvalidArgument, `drain was interrupted while waiting for pod "${name}" in namespace "${namespace}" to terminate`);
  io.stdout.write(`pod/${name} deleted\n`);
}

