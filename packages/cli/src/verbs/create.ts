// `raftplane create -f`: POST each object of the manifests; one that exists already is kubectl's
// AlreadyExists line and the others still go. --save-config records the last-applied
// configuration so that a later `apply` can three-way merge.

import { withLastAppliedConfiguration, type KubeObject } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';
import { loadManifests } from './manifests.js';
import { withSession, type Verb } from './session.js';
import { dryRunFlag, filenameFlag, filenames, outputFlag, outputName, parseWriteArgs, recursiveFlag, type WriteFlag } from './write-flags.js';
import { createObject, dryRunSuffix, forEachReporting, namespaceOf, objectRef, parseDryRun, resourceOfManifest } from './write-support.js';

const flags: WriteFlag[] = [
  filenameFlag,
  recursiveFlag,
  dryRunFlag,
  outputFlag,
  { name: 'save-config', type: 'boolean', fallback: 'false', text: 'record the last-applied-configuration annotation, so that a later apply can merge' },
];

export const createUsage = {
  usage: ['raftplane create -f <file|dir|-> [-f ...] [-R] [--save-config] [--dry-run=client|server] [-o name]'],
  summary: ['Creates each object of the manifests; one that exists already is an AlreadyExists error (see apply).'],
};

export const create: Verb = async (argv, io) => {
  const { values, positionals, helped } = parseWriteArgs('create', argv, flags, createUsage, io);
  if (helped) return 0;
  // kubectl's generators (`create deployment web --image=...`) are not here: only -f.
  if (positionals.length > 0) throw new CliError(CliErrorCode.InvalidArgument, `create takes manifests with -f, not arguments (got ${JSON.stringify(positionals[0])})`);
  const dryRun = parseDryRun(values['dry-run'] as string | undefined);
  const printName = outputName(values.output as string | undefined);
  const manifests = await loadManifests({ paths: filenames(values), recursive: values.recursive === true, stdin: io.stdin });
  for (const manifest of manifests) resourceOfManifest(manifest);
  return withSession(values, io, (session) =>
    forEachReporting(manifests, session, io, async (manifest) => {
      const info = resourceOfManifest(manifest);
      const namespace = namespaceOf(info, manifest.object, session, values.namespace as string | undefined);
      const body = (values['save-config'] === true ? withLastAppliedConfiguration(manifest.object) : manifest.object) as unknown as KubeObject;
      let name = manifest.object.metadata.name ?? '';
      if (dryRun !== 'client') name = (await createObject(session, info, namespace, body, { dryRun, fieldManager: 'kubectl-create', signal: io.signal })).metadata.name ?? name;
      io.stdout.write(printName ? `${objectRef(info, name)}\n` : `${objectRef(info, name)} created${dryRunSuffix(dryRun)}\n`);
    }),
  );
};
