// `raftplane delete`: by type and name (`deploy web`, `deploy/web`), by manifest (-f), by label
// selector (-l) or --all, with kubectl's --cascade (background, foreground, orphan), grace period
// and --wait (default on: return once each object is gone, as kubectl does).

import { hasStatusReason, qualifiedResource, type ResourceInfo } from '@raftplane/api';
import { parseDurationMs } from '../duration.js';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { loadManifests } from './manifests.js';
import { parseResourceArgs } from './resource-words.js';
import { withSession, type ParsedVerbArgs, type Session, type Verb, type VerbIO } from './session.js';
import { dryRunFlag, filenameFlag, filenames, outputFlag, outputName, parseWriteArgs, recursiveFlag, type WriteFlag } from './write-flags.js';
import { checkTargetCount, deleteObject, dryRunSuffix, forEachReporting, kindRef, nameOf, namespaceOf, objectRef, parseDryRun, resourceOfManifest, type DeleteRequest, type DryRun } from './write-support.js';
import { waitForObject } from './write-wait.js';

const flags: WriteFlag[] = [
  filenameFlag,
  recursiveFlag,
  { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'delete every object of the type(s) that matches: app=web,tier!=db' },
  { name: 'all', type: 'boolean', fallback: 'false', text: 'delete every object of the type(s) in the namespace' },
  { name: 'cascade', type: 'string', value: '<background|foreground|orphan>', fallback: 'background', text: 'what happens to dependents: deleted after (background), before the owner goes (foreground), or kept (orphan)' },
  { name: 'grace-period', type: 'string', value: '<seconds>', fallback: "-1, the object's own", text: 'seconds a pod gets to stop; 0 means 1 unless --force' },
  { name: 'now', type: 'boolean', fallback: 'false', text: 'grace period 1: stop pods at once' },
  { name: 'force', type: 'boolean', fallback: 'false', text: 'with no --grace-period, remove at once without waiting for the node (force deleted)' },
  { name: 'ignore-not-found', type: 'boolean', fallback: 'false', text: 'an object that does not exist is not an error' },
  { name: 'wait', type: 'boolean', fallback: 'true (--wait=false to return at once)', text: 'return once each object is gone' },
  { name: 'timeout', type: 'string', value: '<duration>', fallback: 'none: wait for ever', text: 'give up waiting after this long' },
  dryRunFlag,
  outputFlag,
];

export const deleteUsage = {
  usage: ['raftplane delete <type> <name>... | <type>/<name>... | <type> -l <selector> | <type> --all | -f <file|dir|->'],
  summary: ['Deletes objects, by name, by label selector or as manifests name them, and waits until they are gone.'],
  examples: ['raftplane delete deploy web', 'raftplane delete pods -l app=web --grace-period=5', 'raftplane delete deploy/web --cascade=orphan'],
};

/** One object to delete. */
interface Target {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string;
}

/** --cascade's values; true and false are kubectl's deprecated spellings of background and orphan. */
function parseCascade(value: string | undefined): DeleteRequest['propagationPolicy'] {
  const policies: Record<string, DeleteRequest['propagationPolicy']> = { background: 'Background', true: 'Background', foreground: 'Foreground', orphan: 'Orphan', false: 'Orphan' };
  if (value === undefined) return 'Background';
  const policy = policies[value];
  if (policy === undefined) throw new CliError(CliErrorCode.InvalidFlag, `invalid cascade value (${value}). Must be "background", "foreground", or "orphan".`, '--cascade');
  return policy;
}

/** kubectl's grace rules: --now is 1 s; 0 without --force becomes 1 (never lose a pod by accident); --force alone is 0. */
function gracePeriod(values: Record<string, unknown>): number | undefined {
  const given = values['grace-period'] === undefined ? undefined : Number(values['grace-period']);
  if (given !== undefined && (!Number.isSafeInteger(given) || given < -1)) throw invalidFlag('grace-period', `must be an integer >= -1, got ${JSON.stringify(values['grace-period'])}`);
  if (values.now === true) {
    if (given !== undefined && given !== -1) throw new CliError(CliErrorCode.ConflictingFlags, '--now and --grace-period cannot be specified together');
    return 1;
  }
  if (values.force === true) return given === undefined || given === -1 ? 0 : given;
  if (given === 0) return 1;
  return given === undefined || given === -1 ? undefined : given;
}

/** `--wait=false` is how kubectl users spell it; parseArgs has no negation, so it is read here. */
function takeWait(argv: readonly string[]): { argv: string[]; wait: boolean | undefined } {
  let wait: boolean | undefined;
  const rest = argv.filter((arg) => {
    const match = /^--wait=(true|false)$/.exec(arg);
    if (match === null) return true;
    wait = match[1] === 'true';
    return false;
  });
  return { argv: rest, wait };
}

export const deleteVerb: Verb = async (argv, io) => {
  const taken = takeWait(argv);
  const { values, positionals, helped } = parseWriteArgs('delete', taken.argv, flags, deleteUsage, io);
  if (helped) return 0;
  const dryRun = parseDryRun(values['dry-run'] as string | undefined);
  const printName = outputName(values.output as string | undefined);
  const options: DeleteRequest = { propagationPolicy: parseCascade(values.cascade as string | undefined), ...withGrace(gracePeriod(values)) };
  const wait = (taken.wait ?? values.wait ?? true) === true && dryRun === 'none';
  const timeoutMs = values.timeout === undefined ? undefined : parseDurationMs(values.timeout as string);
  if (timeoutMs === null) throw invalidFlag('timeout', `must be a duration (30s, 1m), got ${JSON.stringify(values.timeout)}`);
  const selection = await selectTargets(values, positionals, io);
  return withSession(values, io, async (session) => {
    const targets = await resolveTargets(selection, session, values);
    if (targets.length === 0) {
      io.stdout.write('No resources found\n');
      return 0;
    }
    if (options.gracePeriodSeconds === 0 && values.force === true) {
      io.stderr.write('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n');
    }
    const deleted: { target: Target; uid: string | undefined }[] = [];
    const code = await forEachReporting(targets, session, io, async (target) => {
      const uid = await deleteOne(session, target, options, dryRun, values['ignore-not-found'] === true, io.signal);
      if (uid === null) return;
      deleted.push({ target, uid });
      const operation = `${options.gracePeriodSeconds === 0 ? 'force deleted' : 'deleted'}${dryRunSuffix(dryRun)}`;
      io.stdout.write(printName ? `${objectRef(target.info, target.name)}\n` : `${kindRef(target.info)} "${target.name}" ${operation}\n`);
    });
    if (!wait) return code;
    const waited = await forEachReporting(deleted, session, io, async ({ target, uid }) => {
      // Gone, or replaced by a new object of the same name (another uid): kubectl's wait condition.
      const what = `${qualifiedResource(target.info)}/${target.name}`;
      await waitForObject(session.client.resourceFor(target.info, target.namespace), target.name, (o) => (o === null || o.metadata.uid !== uid ? true : undefined), { signal: io.signal, timeoutMs, what });
    });
    return Math.max(code, waited);
  });
};

function withGrace(grace: number | undefined): { gracePeriodSeconds?: number } {
  return grace === undefined ? {} : { gracePeriodSeconds: grace };
}

/** Deletes one object; its uid (to wait on), or null when it was not there and --ignore-not-found. */
async function deleteOne(session: Session, target: Target, options: DeleteRequest, dryRun: DryRun, ignoreNotFound: boolean, signal: AbortSignal): Promise<string | undefined | null> {
  if (dryRun === 'client') {
    // Still read it: a dry run of deleting nothing should say NotFound.
    const found = await session.client
      .resourceFor(target.info, target.namespace)
      .get(target.name, { signal })
      .catch((error: unknown) => rethrowUnlessIgnored(error, ignoreNotFound));
    return found === null ? null : undefined;
  }
  try {
    const answer = (await deleteObject(session, target.info, target.namespace, target.name, options, dryRun, signal)) as { kind?: string; metadata?: { uid?: string }; details?: { uid?: string } };
    return answer.kind === 'Status' ? answer.details?.uid : answer.metadata?.uid;
  } catch (error) {
    rethrowUnlessIgnored(error, ignoreNotFound);
    return null;
  }
}

function rethrowUnlessIgnored(error: unknown, ignoreNotFound: boolean): null {
  if (ignoreNotFound && hasStatusReason(error, 'NotFound')) return null;
  throw error;
}

type Selection =
  | { readonly by: 'manifests'; readonly manifests: Awaited<ReturnType<typeof loadManifests>> }
  | { readonly by: 'names'; readonly pairs: ReturnType<typeof parseResourceArgs>; readonly selector: string | undefined; readonly all: boolean };

/** What the arguments select, checked before the cluster is contacted. */
async function selectTargets(values: ParsedVerbArgs['values'], positionals: string[], io: VerbIO): Promise<Selection> {
  const files = filenames(values);
  const selector = values.selector as string | undefined;
  const all = values.all === true;
  if (files.length > 0) {
    if (positionals.length > 0) throw new CliError(CliErrorCode.InvalidArgument, 'cannot specify both resources and -f: give one or the other');
    const manifests = await loadManifests({ paths: files, recursive: values.recursive === true, stdin: io.stdin });
    for (const manifest of manifests) resourceOfManifest(manifest);
    return { by: 'manifests', manifests };
  }
  if (positionals.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'You must provide one or more resources by argument or filename.');
  const pairs = parseResourceArgs(positionals);
  const named = pairs.some((p) => p.name !== undefined);
  if (named && (selector !== undefined || all)) throw new CliError(CliErrorCode.InvalidArgument, 'name cannot be provided when a selector or --all is specified');
  if (!named && selector === undefined && !all) throw new CliError(CliErrorCode.InvalidArgument, 'resource(s) were provided, but no name was specified');
  return { by: 'names', pairs, selector, all };
}

/** The objects a selection names; a selector or --all lists them, as kubectl does, to print each. */
async function resolveTargets(selection: Selection, session: Session, values: Record<string, unknown>): Promise<Target[]> {
  const explicit = values.namespace as string | undefined;
  if (selection.by === 'manifests') {
    return selection.manifests.map((manifest) => {
      const info = resourceOfManifest(manifest);
      return { info, namespace: namespaceOf(info, manifest.object, session, explicit), name: nameOf(manifest, info) };
    });
  }
  const targets: Target[] = [];
  for (const { info, name } of selection.pairs) {
    const namespace = info.namespaced ? session.namespace : undefined;
    if (name !== undefined) {
      targets.push({ info, namespace, name });
      continue;
    }
    const list = await session.client.resourceFor(info, namespace).listAll({ ...(selection.selector === undefined ? {} : { labelSelector: selection.selector }) });
    for (const item of list.items) targets.push({ info, namespace, name: item.metadata.name ?? '' });
    checkTargetCount(targets.length, selection.selector === undefined ? '--all' : `-l ${selection.selector}`);
  }
  return targets;
}
