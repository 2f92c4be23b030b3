// `raftplane apply -f`: kubectl's client-side apply. Each object is created with the
// last-applied-configuration annotation, or patched with the three-way merge of what was applied
// last, what the manifest says now and what is live (@raftplane/api three-way-merge.ts), so a field
// dropped from the manifest is removed and fields others set are kept.

import { hasStatusReason, isStatusError, kindsWithPatchStrategies, kubectlApplyPatch, lastAppliedAnnotation, lastAppliedConfiguration, qualifiedResource, withLastAppliedConfiguration, type KubeObject } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';
import { loadManifests, type Manifest } from './manifests.js';
import { withSession, type Session, type Verb } from './session.js';
import { createObject, dryRunSuffix, type ApplyParameters, forEachReporting, nameOf, namespaceOf, objectRef, parseDryRun, patchObject, resourceOfManifest, type DryRun } from './write-support.js';
import { dryRunFlag, filenameFlag, filenames, outputFlag, outputName, parseWriteArgs, recursiveFlag, type WriteFlag } from './write-flags.js';

const flags: WriteFlag[] = [
  filenameFlag,
  recursiveFlag,
  { name: 'server-side', type: 'boolean', fallback: 'false', text: 'server-side apply: the API merges and records who owns each field' },
  { name: 'force-conflicts', type: 'boolean', fallback: 'false', text: 'server-side: take fields another manager owns' },
  { name: 'field-manager', type: 'string', value: '<name>', fallback: 'kubectl (server-side), kubectl-client-side-apply', text: 'the manager recorded for the fields set' },
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
  examples: ['raftplane apply -f deploy/', 'cat web.yaml | raftplane apply -f -'],
};

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
  return withSession(values, io, (session) =>
    forEachReporting(manifests, session, io, async (manifest) => {
      if (serverSide) {
        const ref = await applyServerSide(session, manifest, values.namespace as string | undefined, dryRun, { fieldManager, force: values['force-conflicts'] === true }, io.signal);
        io.stdout.write(printName ? `${ref}\n` : `${ref} serverside-applied${dryRunSuffix(dryRun)}\n`);
        return;
      }
      const outcome = await applyOne(session, manifest, values.namespace as string | undefined, dryRun, fieldManager, io.signal, (line) => io.stderr.write(`${line}\n`));
      io.stdout.write(printName ? `${outcome.ref}\n` : `${outcome.ref} ${outcome.verb}${dryRunSuffix(dryRun)}\n`);
    }),
  );
};

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
