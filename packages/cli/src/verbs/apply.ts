// `raftplane apply -f`: kubectl's client-side apply. Each object is created with the
// last-applied-configuration annotation, or patched with the three-way merge of what was applied
// last, what the manifest says now and what is live (@raftplane/api three-way-merge.ts), so a field
// dropped from the manifest is removed and fields others set are kept.

import {
  LabelSelectorError,
  hasStatusReason,
  isStatusError,
  kindsWithPatchStrategies,
  kubectlApplyPatch,
  lastAppliedAnnotation,
  lastAppliedConfiguration,
  matchesLabels,
  parseLabelSelector,
  qualifiedResource,
  resourceByName,
  withLastAppliedConfiguration,
  type KubeObject,
  type ParsedLabelSelector,
  type ResourceInfo,
} from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';
import { loadManifests, type Manifest } from './manifests.js';
import { withSession, type Session, type Verb } from './session.js';
import { createObject, deleteObject, dryRunSuffix, type ApplyParameters, forEachReporting, nameOf, namespaceOf, objectRef, parseDryRun, patchObject, resourceOfManifest, type DryRun } from './write-support.js';
import { dryRunFlag, filenameFlag, filenames, outputFlag, outputName, parseWriteArgs, recursiveFlag, type WriteFlag } from './write-flags.js';

const flags: WriteFlag[] = [
  filenameFlag,
  recursiveFlag,
  { name: 'server-side', type: 'boolean', fallback: 'false', text: 'server-side apply: the API merges and records who owns each field' },
  { name: 'force-conflicts', type: 'boolean', fallback: 'false', text: 'server-side: take fields another manager owns' },
  { name: 'field-manager', type: 'string', value: '<name>', fallback: 'kubectl (server-side), kubectl-client-side-apply', text: 'the manager recorded for the fields set' },
  { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'only the manifests\' objects with these labels; with --prune, what may be pruned' },
  { name: 'prune', type: 'boolean', fallback: 'false', text: 'delete objects this apply would have made (they carry the last-applied annotation) that the manifests no longer hold; needs -l or --all' },
  { name: 'all', type: 'boolean', fallback: 'false', text: 'with --prune: every type of kubectl\'s default prune list, whatever its labels' },
  dryRunFlag,
  outputFlag,
];

export const applyUsage = {
  usage: ['raftplane apply -f <file|dir|-> [-f ...] [-R] [--dry-run=client|server] [-o name]'],
  summary: [
    'Creates each object of the manifests, or changes it to match them: a three-way merge of what the',
    'last apply sent (the kubectl.kubernetes.io/last-applied-configuration annotation), the manifest',
    'and the live object, so a field dropped from the manifest is removed and fields others set stay.',
  ],
  examples: ['raftplane apply -f deploy/', 'cat web.yaml | raftplane apply -f -', 'raftplane apply -f deploy/ --prune -l app=web'],
};

/**
 * kubectl's default prune list (cmd/apply/prune.go), of the kinds this API serves: namespaced ones
 * are pruned in each namespace the manifests visit, the others once.
 */
const pruneResources: readonly (readonly [group: string, resource: string])[] = [
  ['', 'configmaps'], ['', 'endpoints'], ['', 'namespaces'], ['', 'persistentvolumeclaims'], ['', 'persistentvolumes'], ['', 'pods'],
  ['', 'replicationcontrollers'], ['', 'secrets'], ['', 'services'], ['batch', 'jobs'], ['batch', 'cronjobs'], ['networking.k8s.io', 'ingresses'],
  ['apps', 'daemonsets'], ['apps', 'deployments'], ['apps', 'replicasets'], ['apps', 'statefulsets'],
];

interface PruneOptions {
  readonly selector: ParsedLabelSelector | null;
  readonly selectorText: string | undefined;
}

function parsePrune(values: Record<string, unknown>): { prune: PruneOptions | null; selector: ParsedLabelSelector | null } {
  const selectorText = values.selector as string | undefined;
  let selector: ParsedLabelSelector | null = null;
  if (selectorText !== undefined) {
    try {
      selector = parseLabelSelector(selectorText);
    } catch (error) {
      if (error instanceof LabelSelectorError) throw new CliError(CliErrorCode.InvalidFlag, error.message, '--selector');
      throw error;
    }
  }
  const all = values.all === true;
  if (values.prune !== true) {
    if (all) throw new CliError(CliErrorCode.ConflictingFlags, '--all is only for --prune', '--all');
    return { prune: null, selector };
  }
  if (all && selector !== null) throw new CliError(CliErrorCode.ConflictingFlags, 'cannot set --all and --selector at the same time', '--all');
  // kubectl's words: pruning without a selector would take every applied object of every listed type.
  if (!all && selector === null) {
    throw new CliError(CliErrorCode.InvalidArgument, 'all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector');
  }
  return { prune: { selector, selectorText }, selector };
}

export const apply: Verb = async (argv, io) => {
  const { values, helped } = parseWriteArgs('apply', argv, flags, applyUsage, io);
  if (helped) return 0;
  const dryRun = parseDryRun(values['dry-run'] as string | undefined);
  const printName = outputName(values.output as string | undefined);
  const manifests = await loadManifests({ paths: filenames(values), recursive: values.recursive === true, stdin: io.stdin });
  // Resolve every kind first: an unknown one fails the command before anything changes.
  for (const manifest of manifests) resourceOfManifest(manifest);
  const serverSide = values['server-side'] === true;
  if (serverSide && dryRun === 'client') throw new CliError(CliErrorCode.ConflictingFlags, "--dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)");
  if (!serverSide && values['force-conflicts'] === true) throw new CliError(CliErrorCode.ConflictingFlags, '--force-conflicts only works with --server-side');
  const fieldManager = (values['field-manager'] as string | undefined) ?? (serverSide ? 'kubectl' : 'kubectl-client-side-apply');
  const { prune, selector } = parsePrune(values);
  // -l applies only the manifests' objects it selects, as kubectl does.
  const selected = selector === null ? manifests : manifests.filter((m) => matchesLabels(selector, m.object.metadata.labels as Record<string, string> | undefined));
  return withSession(values, io, async (session) => {
    const applied = new Set<string>();
    const namespaces = new Set<string>();
    const code = await forEachReporting(selected, session, io, async (manifest) => {
      const info = resourceOfManifest(manifest);
      const namespace = namespaceOf(info, manifest.object, session, values.namespace as string | undefined);
      if (namespace !== undefined) namespaces.add(namespace);
      applied.add(appliedKey(info, namespace, nameOf(manifest, info)));
      if (serverSide) {
        const ref = await applyServerSide(session, manifest, values.namespace as string | undefined, dryRun, { fieldManager, force: values['force-conflicts'] === true }, io.signal);
        io.stdout.write(printName ? `${ref}\n` : `${ref} serverside-applied${dryRunSuffix(dryRun)}\n`);
        return;
      }
      const outcome = await applyOne(session, manifest, values.namespace as string | undefined, dryRun, fieldManager, io.signal, (line) => io.stderr.write(`${line}\n`));
      io.stdout.write(printName ? `${outcome.ref}\n` : `${outcome.ref} ${outcome.verb}${dryRunSuffix(dryRun)}\n`);
    });
    // kubectl prunes only after an apply without failures: a half-applied set must not delete the rest.
    if (prune === null || code !== 0) return code;
    if (namespaces.size === 0) namespaces.add(session.namespace);
    return pruneObjects(session, prune, applied, namespaces, dryRun, printName, io);
  });
};

function appliedKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${info.group}/${info.resource}/${namespace ?? ''}/${name}`;
}

/**
 * kubectl apply --prune: every object of the prune list, in the namespaces the manifests visited
 * (cluster-wide for the others), that this apply's way of working made (it carries the
 * last-applied annotation), matches the selector and is not among the objects just applied, is
 * deleted (background cascade) and reported `<kind>/<name> pruned`.
 */
async function pruneObjects(session: Session, prune: PruneOptions, applied: ReadonlySet<string>, namespaces: ReadonlySet<string>, dryRun: DryRun, printName: boolean, io: Parameters<Verb>[1]): Promise<number> {
  const doomed: { info: ResourceInfo; namespace: string | undefined; name: string }[] = [];
  for (const [group, resource] of pruneResources) {
    const info = resourceByName(group, resource);
    if (info === undefined) continue;
    for (const namespace of info.namespaced ? [...namespaces].sort() : [undefined]) {
      const list = await session.client.resourceFor(info, namespace).listAll({ ...(prune.selectorText === undefined ? {} : { labelSelector: prune.selectorText }), signal: io.signal });
      for (const object of list.items as KubeObject[]) {
        const name = object.metadata.name ?? '';
        if (lastAppliedConfiguration(object) === null || applied.has(appliedKey(info, namespace, name))) continue;
        if (object.metadata.deletionTimestamp !== undefined) continue;
        if (prune.selector !== null && !matchesLabels(prune.selector, object.metadata.labels)) continue;
        doomed.push({ info, namespace, name });
      }
    }
  }
  return forEachReporting(doomed, session, io, async ({ info, namespace, name }) => {
    if (dryRun !== 'client') await deleteObject(session, info, namespace, name, { propagationPolicy: 'Background' }, dryRun, io.signal);
    const ref = objectRef(info, name);
    io.stdout.write(printName ? `${ref}\n` : `${ref} pruned${dryRunSuffix(dryRun)}\n`);
  });
}

interface Outcome {
  readonly ref: string;
  readonly verb: 'created' | 'configured' | 'unchanged';
}

async function applyOne(session: Session, manifest: Manifest, explicitNamespace: string | undefined, dryRun: DryRun, fieldManager: string, signal: AbortSignal, warn: (line: string) => void): Promise<Outcome> {
  const info = resourceOfManifest(manifest);
  const namespace = namespaceOf(info, manifest.object, session, explicitNamespace);
  const name = nameOf(manifest, info);
  const ref = objectRef(info, name);
  const live = await session.client
    .resourceFor(info, namespace)
    .get(name, { signal })
    .catch((error: unknown) => {
      if (hasStatusReason(error, 'NotFound')) return null;
      throw error;
    });
  if (live === null) {
    const body = withLastAppliedConfiguration(manifest.object) as unknown as KubeObject;
    if (dryRun !== 'client') await createObject(session, info, namespace, body, { dryRun, fieldManager, signal });
    return { ref, verb: 'created' };
  }
  if (lastAppliedConfiguration(live) === null) {
    // kubectl's warning: without the annotation nothing can be removed by this apply, only set.
    warn(`Warning: resource ${qualifiedResource(info)}/${name} is missing the ${lastAppliedAnnotation} annotation which is required by raftplane apply. raftplane apply should only be used on resources created declaratively by either raftplane create --save-config or raftplane apply. The missing annotation will be patched automatically.`);
  }
  const patch = kubectlApplyPatch(manifest.object, live, info.kind);
  if (Object.keys(patch).length === 0) return { ref, verb: 'unchanged' };
  // Kinds without a strategy table (none today; custom resources later) take a JSON merge patch, as kubectl sends them.
  const type = kindsWithPatchStrategies().includes(info.kind) ? 'strategic' : 'merge';
  if (dryRun !== 'client') await patchObject(session, info, namespace, name, type, patch, dryRun, signal, { fieldManager });
  return { ref, verb: 'configured' };
}

/** kubectl's advice after a server-side apply conflict (cmd/apply/apply.go). */
const conflictAdvice = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the \`--force-conflicts\` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts`;

/** PATCH with the apply type: the API merges and tracks field owners; creates when absent. */
async function applyServerSide(session: Session, manifest: Manifest, explicitNamespace: string | undefined, dryRun: DryRun, parameters: ApplyParameters, signal: AbortSignal): Promise<string> {
  const info = resourceOfManifest(manifest);
  const namespace = namespaceOf(info, manifest.object, session, explicitNamespace);
  const name = nameOf(manifest, info);
  try {
    await patchObject(session, info, namespace, name, 'apply', manifest.object, dryRun, signal, parameters);
  } catch (error) {
    const causes = isStatusError(error) ? (error.status.details?.causes ?? []) : [];
    if (hasStatusReason(error, 'Conflict') && causes.some((c) => c.reason === 'FieldManagerConflict')) {
      throw new CliError(CliErrorCode.InvalidArgument, `${(error as Error & { status: { message?: string } }).status.message ?? ''}\n${conflictAdvice}`);
    }
    throw error;
  }
  return objectRef(info, name);
}
