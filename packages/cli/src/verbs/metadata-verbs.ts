// `raftplane label|annotate TYPE NAME key=value key-`: kubectl's metadata verbs. A key that is
// already set is refused unless --overwrite (see refuseOverwrites for each verb's rule); a
// trailing `-` removes a key. The change goes as a JSON merge patch of metadata alone, holding
// --resource-version when one is given.

import type { KubeObject, ResourceInfo } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';
import { loadManifests } from './manifests.js';
import { parseResourceArgs } from './resource-words.js';
import { withSession, type Session, type Verb, type VerbIO } from './session.js';
import { dryRunFlag, filenameFlag, filenames, parseWriteArgs, recursiveFlag, type WriteFlag } from './write-flags.js';
import { checkTargetCount, dryRunSuffix, forEachReporting, nameOf, namespaceOf, objectRef, parseDryRun, patchObject, resourceOfManifest, type DryRun } from './write-support.js';

function flagsFor(what: string): WriteFlag[] {
  return [
    { name: 'overwrite', type: 'boolean', fallback: 'false', text: `replace ${what}s that are already set` },
    { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'change every object of the type(s) that matches' },
    { name: 'all', type: 'boolean', fallback: 'false', text: 'change every object of the type(s) in the namespace' },
    { name: 'resource-version', type: 'string', value: '<version>', fallback: 'none', text: "change only if the object's resourceVersion is this" },
    filenameFlag,
    recursiveFlag,
    dryRunFlag,
  ];
}

type Field = 'labels' | 'annotations';

interface Changes {
  readonly set: ReadonlyMap<string, string>;
  readonly remove: readonly string[];
}

interface Target {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string;
}

/** kubectl's split: the first argument that is `k=v` or `k-` starts the changes. */
export function parseChanges(args: readonly string[], what: 'label' | 'annotation'): { resources: string[]; changes: Changes } {
  const first = args.findIndex((a) => a.includes('=') || a.endsWith('-'));
  const resources = first === -1 ? [...args] : args.slice(0, first);
  const set = new Map<string, string>();
  const remove: string[] = [];
  for (const arg of first === -1 ? [] : args.slice(first)) {
    const eq = arg.indexOf('=');
    if (eq > 0) set.set(arg.slice(0, eq), arg.slice(eq + 1));
    else if (eq === -1 && arg.endsWith('-') && arg.length > 1) remove.push(arg.slice(0, -1));
    else throw new CliError(CliErrorCode.InvalidArgument, `invalid ${what} spec: ${arg}`);
  }
  for (const key of remove) {
    if (set.has(key)) throw new CliError(CliErrorCode.InvalidArgument, `can not both modify and remove ${what === 'label' ? 'a label' : 'an annotation'} in the same command`);
  }
  if (set.size === 0 && remove.length === 0) throw new CliError(CliErrorCode.InvalidArgument, `at least one ${what} update is required`);
  return { resources, changes: { set, remove } };
}

function metadataVerb(verb: 'label' | 'annotate', field: Field): Verb {
  const what: ChangeOptions['what'] = verb === 'label' ? 'label' : 'annotation';
  return async (argv, io) => {
    const usage = {
      usage: [`raftplane ${verb} <type> <name> | <type>/<name> | <type> -l <selector> | -f <file>  key=value... key-...`],
      summary: [`Sets ${what}s (key=value) and removes them (key-); a key already set needs --overwrite.`],
      examples: [`raftplane ${verb} deploy/web team=blue`, `raftplane ${verb} deploy/web team=red --overwrite`, `raftplane ${verb} deploy/web team-`],
    };
    const { values, positionals, helped } = parseWriteArgs(verb, argv, flagsFor(what), usage, io);
    if (helped) return 0;
    const dryRun = parseDryRun(values['dry-run'] as string | undefined);
    const { resources, changes } = parseChanges(positionals, what);
    const files = filenames(values);
    const manifests = files.length === 0 ? [] : await loadManifests({ paths: files, recursive: values.recursive === true, stdin: io.stdin });
    if (files.length > 0 && resources.length > 0) throw new CliError(CliErrorCode.InvalidArgument, 'cannot specify both resources and -f: give one or the other');
    if (files.length === 0 && resources.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'one or more resources must be specified as <resource> <name> or <resource>/<name>');
    const pairs = parseResourceArgs(resources);
    const selecting = values.selector !== undefined || values.all === true;
    if (!selecting && pairs.some((p) => p.name === undefined)) throw new CliError(CliErrorCode.InvalidArgument, 'resource(s) were provided, but no name was specified');
    return withSession(values, io, async (session) => {
      const targets: Target[] = manifests.map((manifest) => {
        const info = resourceOfManifest(manifest);
        return { info, namespace: namespaceOf(info, manifest.object, session, values.namespace as string | undefined), name: nameOf(manifest, info) };
      });
      for (const { info, name } of pairs) {
        const namespace = info.namespaced ? session.namespace : undefined;
        if (name !== undefined) targets.push({ info, namespace, name });
        else for (const item of (await session.client.resourceFor(info, namespace).listAll({ ...(values.all === true ? {} : { labelSelector: values.selector as string }), signal: io.signal })).items) targets.push({ info, namespace, name: item.metadata.name ?? '' });
        checkTargetCount(targets.length, values.all === true ? '--all' : `-l ${String(values.selector)}`);
      }
      const options: ChangeOptions = { field, what, overwrite: values.overwrite === true, resourceVersion: values['resource-version'] as string | undefined, dryRun };
      return forEachReporting(targets, session, io, (target) => changeOne(session, target, changes, options, io));
    });
  };
}

interface ChangeOptions {
  readonly field: Field;
  readonly what: 'label' | 'annotation';
  readonly overwrite: boolean;
  readonly resourceVersion: string | undefined;
  readonly dryRun: DryRun;
}

async function changeOne(session: Session, target: Target, changes: Changes, options: ChangeOptions, io: VerbIO): Promise<void> {
  const live: KubeObject = await session.client.resourceFor(target.info, target.namespace).get(target.name, { signal: io.signal });
  const current = live.metadata[options.field] ?? {};
  if (!options.overwrite) refuseOverwrites(current, changes, options.field);
  const patch: Record<string, string | null> = {};
  for (const [key, value] of changes.set) patch[key] = value;
  for (const key of changes.remove) {
    if (current[key] === undefined && options.what === 'label') io.stderr.write(`label "${key}" not found.\n`);
    patch[key] = null;
  }
  const metadata: Record<string, unknown> = { [options.field]: patch };
  if (options.resourceVersion !== undefined) metadata.resourceVersion = options.resourceVersion;
  if (options.dryRun !== 'client') await patchObject(session, target.info, target.namespace, target.name, 'merge', { metadata }, options.dryRun, io.signal, { fieldManager: options.field === 'labels' ? 'kubectl-label' : 'kubectl-annotate' });
  io.stdout.write(`${objectRef(target.info, target.name)} ${outcome(current, changes, options)}${dryRunSuffix(options.dryRun)}\n`);
}

/** The change-cause annotation may always be overwritten (kubectl's rule: rollout records it). */
const changeCauseAnnotation = 'kubernetes.io/change-cause';

/**
 * Without --overwrite, kubectl refuses a key that already has a value, in each verb's words:
 * label only when the value would change (aggregated `[a, b]` when several do), annotate whenever
 * the key is set (except change-cause), all on one line.
 */
function refuseOverwrites(current: Readonly<Record<string, string>>, changes: Changes, field: Field): void {
  const set = [...changes.set].filter(([key]) => current[key] !== undefined);
  if (field === 'labels') {
    const errors = set.filter(([key, value]) => current[key] !== value).map(([key]) => `'${key}' already has a value (${current[key] ?? ''}), and --overwrite is false`);
    if (errors.length > 0) throw new CliError(CliErrorCode.InvalidArgument, errors.length === 1 ? (errors[0] ?? '') : `[${errors.join(', ')}]`);
    return;
  }
  const found = set.filter(([key]) => key !== changeCauseAnnotation).map(([key]) => `'${key}' already has a value (${current[key] ?? ''})`);
  if (found.length > 0) throw new CliError(CliErrorCode.InvalidArgument, `--overwrite is false but found the following declared annotation(s): ${found.join('; ')}`);
}

/** kubectl's words: annotate always says "annotated"; label says whether anything changed. */
function outcome(current: Readonly<Record<string, string>>, changes: Changes, options: ChangeOptions): string {
  if (options.field === 'annotations') return 'annotated';
  const added = [...changes.set].some(([key, value]) => current[key] !== value);
  const removed = changes.remove.some((key) => current[key] !== undefined);
  if (!added && !removed) return 'not labeled';
  return !added && removed ? 'unlabeled' : 'labeled';
}

export const label = metadataVerb('label', 'labels');
export const annotate = metadataVerb('annotate', 'annotations');
