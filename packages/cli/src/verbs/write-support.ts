// What the write verbs share: kubectl's names for objects in output (`deployment.apps/web`), the
// --dry-run modes, the resource and namespace of a manifest, writes that can be a server dry run
// (the typed client has no dryRun parameter, so those go through the transport), and printing a
// failure for one object while the others go on, as kubectl does.

import { groupVersionOf, resourceByKind, resources, type KubeObject, type ResourceInfo } from '@raftplane/api';
import { collectionPath, objectPath, patchContentTypes, statusErrorFromResponse, type PatchType, type TransportRequest } from '@raftplane/client';
import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { describeCliFailure } from './api-errors.js';
import type { ManifestObject, Manifest } from './manifests.js';
import { editDistance } from './resource-words.js';
import type { Session, VerbIO } from './session.js';

/** `deployment.apps` or `pod`: how kubectl names a kind in its output. */
export function kindRef(info: Pick<ResourceInfo, 'kind' | 'group'>): string {
  return info.group === '' ? info.kind.toLowerCase() : `${info.kind.toLowerCase()}.${info.group}`;
}

/** `deployment.apps/web`: kubectl's `-o name` and the subject of "created", "configured", "scaled". */
export function objectRef(info: Pick<ResourceInfo, 'kind' | 'group'>, name: string): string {
  return `${kindRef(info)}/${name}`;
}

export type DryRun = 'none' | 'client' | 'server';

/** --dry-run's value (kubectl: none, client, server). */
export function parseDryRun(value: string | undefined): DryRun {
  if (value === undefined || value === 'none') return 'none';
  if (value === 'client' || value === 'server') return value;
  throw new CliError(CliErrorCode.InvalidFlag, `Invalid dry-run value (${value}). Must be "none", "server", or "client".`, '--dry-run');
}

/** What kubectl appends to "created" and friends under --dry-run. */
export function dryRunSuffix(dryRun: DryRun): string {
  return dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
}

/** The served kind closest to `kind`, when it is likely a typo. */
function closestKind(kind: string): string | undefined {
  let best: { kind: string; distance: number } | undefined;
  for (const info of resources) {
    const distance = editDistance(kind.toLowerCase(), info.kind.toLowerCase());
    if (best === undefined || distance < best.distance) best = { kind: info.kind, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(kind.length / 3)) ? best.kind : undefined;
}

/** The resource a manifest's apiVersion and kind name; kubectl's "no matches for kind" otherwise. */
export function resourceOfManifest(manifest: Manifest): ResourceInfo {
  const { apiVersion, kind, metadata } = manifest.object;
  const info = resourceByKind(apiVersion, kind);
  if (info !== undefined && !info.resource.includes('/') && info.verbs.includes('get')) return info;
  const byKind = resources.find((r) => r.kind === kind);
  const hint = byKind !== undefined ? ` (${kind} is served as apiVersion "${groupVersionOf(byKind)}")` : closestKind(kind) !== undefined ? ` (did you mean "${closestKind(kind)}"?)` : '';
  return failUnknownKind(`resource mapping not found for name: "${metadata.name ?? ''}" namespace: "${metadata.namespace ?? ''}" from "${manifest.source}": no matches for kind "${kind}" in version "${apiVersion}"${hint}`);
}

function failUnknownKind(message: string): never {
  throw new CliError(CliErrorCode.UnknownResource, message);
}

/**
 * The namespace an object goes to: its own, else -n, else the config's. kubectl refuses a manifest
 * whose namespace differs from an explicit -n rather than guess which one was meant.
 */
export function namespaceOf(info: ResourceInfo, object: ManifestObject | KubeObject, session: Session, explicit: string | undefined): string | undefined {
  if (!info.namespaced) return undefined;
  const own = object.metadata?.namespace;
  if (own !== undefined && own !== '' && explicit !== undefined && own !== explicit) {
    throw new CliError(CliErrorCode.InvalidArgument, `the namespace from the provided object "${own}" does not match the namespace "${explicit}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  return own !== undefined && own !== '' ? own : session.namespace;
}

/** A manifest's name, which every write verb but create (generateName) needs. */
export function nameOf(manifest: Manifest, info: ResourceInfo): string {
  const name = manifest.object.metadata.name;
  if (typeof name !== 'string' || name === '') {
    throw new CliError(CliErrorCode.InvalidManifest, `error validating "${manifest.source}" (document ${manifest.document}): ${info.kind} has no metadata.name`);
  }
  return name;
}

async function send<T>(session: Session, request: TransportRequest): Promise<T> {
  const response = await session.client.transport.request(request);
  if (response.status < 200 || response.status >= 300) throw statusErrorFromResponse(response, request);
  return response.body as T;
}

const serverDryRun = Object.freeze({ dryRun: 'All' });

/** POST, through the typed client (which retries a create whose answer was lost), or as a server dry run. */
export async function createObject(session: Session, info: ResourceInfo, namespace: string | undefined, object: KubeObject, options: { dryRun: DryRun; fieldManager: string; signal: AbortSignal }): Promise<KubeObject> {
  const { dryRun, fieldManager, signal } = options;
  if (dryRun === 'none') return session.client.resourceFor(info, namespace).create(object, { fieldManager, signal });
  return send(session, { method: 'POST', path: collectionPath(info, namespace), query: { ...serverDryRun, fieldManager }, body: object, signal });
}

/** Who the fields set are recorded for (managedFields), and, for server-side apply only, whether to take them from others. */
export interface ApplyParameters {
  readonly fieldManager: string;
  readonly force?: boolean;
}

export async function patchObject(session: Session, info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, dryRun: DryRun, signal: AbortSignal, apply?: ApplyParameters): Promise<KubeObject> {
  if (dryRun === 'none') return session.client.resourceFor(info, namespace).patch(name, type, patch, { signal, ...apply });
  const query = apply === undefined ? serverDryRun : { ...serverDryRun, fieldManager: apply.fieldManager, ...(apply.force === undefined ? {} : { force: String(apply.force) }) };
  return send(session, { method: 'PATCH', path: objectPath(info, namespace, name), query, headers: { 'content-type': patchContentTypes[type] }, body: patch, signal });
}

export interface DeleteRequest {
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  readonly gracePeriodSeconds?: number;
}

export async function deleteObject(session: Session, info: ResourceInfo, namespace: string | undefined, name: string, options: DeleteRequest, dryRun: DryRun, signal: AbortSignal): Promise<unknown> {
  if (dryRun === 'none') return session.client.resourceFor(info, namespace).delete(name, { ...options, signal });
  return send(session, { method: 'DELETE', path: objectPath(info, namespace, name), query: serverDryRun, body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options }, signal });
}

/**
 * Runs `work` for each item; a failure is printed (kubectl's one line) and the rest go on, as
 * kubectl does with several objects. Returns the exit code: 1 when any failed.
 */
export async function forEachReporting<T>(items: readonly T[], session: Session, io: VerbIO, work: (item: T) => Promise<void>): Promise<number> {
  let failed = 0;
  for (const item of items) {
    if (io.signal.aborted) return 1;
    try {
      await work(item);
    } catch (error) {
      if (unreachable(error)) throw error; // Every other object would fail the same way: say it once.
      failed++;
      io.stderr.write(`${describeCliFailure(error, session.config.servers)}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

function unreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'CLIENT_UNREACHABLE' || code === 'CLIENT_OUTCOME_UNKNOWN';
}

/** How many objects one command changes at most: a selector matching more is likelier a mistake than a plan. */
export const targetsMax = 10_000;

/** Fails fast past targetsMax, before anything is changed. */
export function checkTargetCount(count: number, selection: string): void {
  if (count > targetsMax) throw new CliError(CliErrorCode.InvalidArgument, `${count} objects match ${selection}, more than the ${targetsMax} one command changes: narrow the selection`);
}

/** An integer flag (`--replicas=3`): the value, or a one-line error naming the flag. */
export function integerFlag(flag: string, value: string | undefined, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < minimum) throw invalidFlag(flag, `must be an integer >= ${minimum}, got ${JSON.stringify(value)}`);
  return n;
}
