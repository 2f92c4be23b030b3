// `raftplane scale --replicas=N`: through the scale subresource, as kubectl does. Preconditions
// (--current-replicas, --resource-version) are checked against the Scale read and then held by
// writing with its resourceVersion, so a change in between is a conflict, never a silent scale.

import { hasStatusReason, type ResourceInfo, type Scale } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';
import { loadManifests } from './manifests.js';
import { parseResourceArgs } from './resource-words.js';
import { withSession, type Session, type Verb } from './session.js';
import { filenameFlag, filenames, parseWriteArgs, recursiveFlag, type WriteFlag } from './write-flags.js';
import { forEachReporting, integerFlag, nameOf, namespaceOf, objectRef, resourceOfManifest } from './write-support.js';

const flags: WriteFlag[] = [
  { name: 'replicas', type: 'string', value: '<count>', fallback: 'none: required', text: 'the new number of replicas' },
  { name: 'current-replicas', type: 'string', value: '<count>', fallback: 'none', text: 'scale only if the current number is this' },
  { name: 'resource-version', type: 'string', value: '<version>', fallback: 'none', text: "scale only if the object's resourceVersion is this" },
  filenameFlag,
  recursiveFlag,
];

export const scaleUsage = {
  usage: ['raftplane scale --replicas=<count> <type> <name> | <type>/<name> | -f <file>'],
  summary: ['Sets the replicas of a Deployment, ReplicaSet or StatefulSet through its scale subresource.'],
  examples: ['raftplane scale deploy/web --replicas=5', 'raftplane scale deploy/web --replicas=5 --current-replicas=3'],
};

interface Preconditions {
  readonly currentReplicas: number | undefined;
  readonly resourceVersion: string | undefined;
}

export const scale: Verb = async (argv, io) => {
  const { values, positionals, helped } = parseWriteArgs('scale', argv, flags, scaleUsage, io);
  if (helped) return 0;
  if (values.replicas === undefined) throw new CliError(CliErrorCode.MissingFlag, 'required flag(s) "replicas" not set', '--replicas');
  const replicas = integerFlagOr('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0', values.replicas as string);
  const preconditions: Preconditions = {
    currentReplicas: integerFlag('current-replicas', values['current-replicas'] as string | undefined, 0),
    resourceVersion: values['resource-version'] as string | undefined,
  };
  const files = filenames(values);
  const manifests = files.length === 0 ? [] : await loadManifests({ paths: files, recursive: values.recursive === true, stdin: io.stdin });
  const pairs = files.length === 0 ? parseResourceArgs(positionals) : [];
  if (pairs.length === 0 && manifests.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'You must provide one or more resources by argument or filename.');
  const missingName = pairs.find((p) => p.name === undefined);
  if (missingName !== undefined) throw new CliError(CliErrorCode.InvalidArgument, `resource(s) were provided, but no name was specified (${missingName.info.resource})`);
  return withSession(values, io, async (session) => {
    const targets = [
      ...pairs.map(({ info, name }) => ({ info, namespace: info.namespaced ? session.namespace : undefined, name: name ?? '' })),
      ...manifests.map((manifest) => {
        const info = resourceOfManifest(manifest);
        return { info, namespace: namespaceOf(info, manifest.object, session, values.namespace as string | undefined), name: nameOf(manifest, info) };
      }),
    ];
    return forEachReporting(targets, session, io, async ({ info, namespace, name }) => {
      await scaleOne(session, info, namespace, name, replicas, preconditions, io.signal);
      io.stdout.write(`${objectRef(info, name)} scaled\n`);
    });
  });
};

function integerFlagOr(message: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new CliError(CliErrorCode.InvalidFlag, message, '--replicas');
  return n;
}

/** Reads, checks and writes again on a conflict: a controller's status write moves the resourceVersion too. */
const conflictRetriesMax = 5;

async function scaleOne(session: Session, info: ResourceInfo, namespace: string | undefined, name: string, replicas: number, preconditions: Preconditions, signal: AbortSignal): Promise<void> {
  if (!info.subresources.some((s) => s.name === 'scale')) throw new CliError(CliErrorCode.InvalidArgument, `${objectRef(info, name)} cannot be scaled: ${info.resource} have no scale subresource`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await scaleOnce(session, info, namespace, name, replicas, preconditions, signal);
    } catch (error) {
      // kubectl's ScaleCondition does the same: a conflict means read and check the preconditions again.
      if (!hasStatusReason(error, 'Conflict') || attempt >= conflictRetriesMax) throw error;
    }
  }
}

async function scaleOnce(session: Session, info: ResourceInfo, namespace: string | undefined, name: string, replicas: number, preconditions: Preconditions, signal: AbortSignal): Promise<void> {
  const client = session.client.resourceFor(info, namespace);
  const current = await client.getScale(name, { signal });
  const was = current.spec?.replicas ?? 0;
  if (preconditions.currentReplicas !== undefined && preconditions.currentReplicas !== was) {
    throw new CliError(CliErrorCode.InvalidArgument, `Expected replicas to be ${preconditions.currentReplicas}, was ${was}`);
  }
  const version = current.metadata.resourceVersion ?? '';
  if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== version) {
    throw new CliError(CliErrorCode.InvalidArgument, `Expected resource version to be ${preconditions.resourceVersion}, was ${version}`);
  }
  const held = preconditions.currentReplicas !== undefined || preconditions.resourceVersion !== undefined;
  const metadata = { ...current.metadata };
  // Without a precondition the new count holds whatever happened since the read: no compare-and-swap.
  if (!held) delete metadata.resourceVersion;
  const next: Scale = { ...current, metadata, spec: { ...current.spec, replicas } };
  await client.updateScale(name, next, { signal, fieldManager: 'kubectl-scale' });
}
