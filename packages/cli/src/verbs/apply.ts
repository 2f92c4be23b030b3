// `raftplane apply -f`: kubectl's client-side apply. Each object is created with the
// last-applied-configuration annotation, or patched with the three-way merge of what was applied
// last, what the manifest says now and what is live (@raftplane/api three-way-merge.ts), so a field
// dropped from the manifest is removed and fields others set are kept.

import { hasStatusReason, kindsWithPatchStrategies, kubectlApplyPatch, lastAppliedAnnotation, lastAppliedConfiguration, qualifiedResource, withLastAppliedConfiguration, type KubeObject } from '@raftplane/api';
import { loadManifests, type Manifest } from './manifests.js';
import { withSession, type Session, type Verb } from './session.js';
import { createObject, dryRunSuffix, forEachReporting, nameOf, namespaceOf, objectRef, parseDryRun, patchObject, resourceOfManifest, type DryRun } from './write-support.js';
import { dryRunFlag, filenameFlag, filenames, outputFlag, outputName, parseWriteArgs, recursiveFlag } from './write-flags.js';

const flags = [filenameFlag, recursiveFlag, dryRunFlag, outputFlag];

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
  return withSession(values, io, (session) =>
    forEachReporting(manifests, session, io, async (manifest) => {
      const outcome = await applyOne(session, manifest, values.namespace as string | undefined, dryRun, io.signal, (line) => io.stderr.write(`${line}\n`));
      io.stdout.write(printName ? `${outcome.ref}\n` : `${outcome.ref} ${outcome.verb}${outcome.verb === 'unchanged' ? '' : dryRunSuffix(dryRun)}\n`);
    }),
  );
};

interface Outcome {
  readonly ref: string;
  readonly verb: 'created' | 'configured' | 'unchanged';
}

async function applyOne(session: Session, manifest: Manifest, explicitNamespace: string | undefined, dryRun: DryRun, signal: AbortSignal, warn: (line: string) => void): Promise<Outcome> {
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
    if (dryRun !== 'client') await createObject(session, info, namespace, body, { dryRun, fieldManager: 'kubectl-client-side-apply', signal });
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
  if (dryRun !== 'client') await patchObject(session, info, namespace, name, type, patch, dryRun, signal);
  return { ref, verb: 'configured' };
}
