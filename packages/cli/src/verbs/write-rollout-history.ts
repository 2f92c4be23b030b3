// A Deployment's revisions, as kubectl reads them (k8s.io/kubectl/pkg/polymorphichelpers/history.go
// and rollback.go): each ReplicaSet it controls carries deployment.kubernetes.io/revision; a
// rollback copies that ReplicaSet's pod template (less its pod-template-hash label) back into the
// Deployment, and the controller then makes the old ReplicaSet new again under a new revision.

import type { Deployment, PodTemplateSpec, ReplicaSet } from '@raftplane/api';
import { describeTemplate } from './read-describe-kinds.js';
import { DescribeText } from './read-describe-text.js';
import type { Session } from './session.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const changeCauseAnnotation = 'kubernetes.io/change-cause';
/** The label the controller adds to each ReplicaSet's template; never part of the Deployment's. */
const podTemplateHashLabel = 'pod-template-hash';

export interface Revision {
  readonly revision: number;
  readonly replicaSet: ReplicaSet;
}

/** The ReplicaSets `deployment` controls, by revision, oldest first. */
export async function revisionsOf(session: Session, deployment: Deployment, signal: AbortSignal): Promise<Revision[]> {
  const list = await session.client.resource('replicasets', deployment.metadata.namespace).listAll({ signal });
  const uid = deployment.metadata.uid;
  const revisions: Revision[] = [];
  for (const rs of list.items) {
    const owner = (rs.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
    if (owner === undefined || owner.uid !== uid) continue;
    const revision = Number(rs.metadata.annotations?.[revisionAnnotation] ?? '');
    if (Number.isSafeInteger(revision) && revision > 0) revisions.push({ revision, replicaSet: rs });
  }
  return revisions.sort((a, b) => a.revision - b.revision);
}

/** `REVISION  CHANGE-CAUSE` with kubectl's tabwriter spacing (two spaces after the widest cell). */
export function historyTable(revisions: readonly Revision[]): string {
  const rows = [['REVISION', 'CHANGE-CAUSE'], ...revisions.map((r) => [String(r.revision), r.replicaSet.metadata.annotations?.[changeCauseAnnotation] ?? '<none>'])];
  const width = Math.max(...rows.map((row) => (row[0] ?? '').length)) + 2;
  return rows.map(([revision = '', cause = '']) => `${revision.padEnd(width)}${cause}\n`).join('');
}

/**
 * `rollout history --revision`'s body (kubectl's ViewHistory): the revision's ReplicaSet template
 * as it is, hash label included, with the ReplicaSet's change-cause copied into its annotations.
 */
export function revisionTemplate(rs: ReplicaSet): string {
  const template = structuredClone(rs.spec?.template ?? {}) as PodTemplateSpec;
  const cause = rs.metadata.annotations?.[changeCauseAnnotation];
  if (cause !== undefined) template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, [changeCauseAnnotation]: cause } };
  const text = new DescribeText();
  describeTemplate(text, template, true);
  return text.toString();
}

/** The template a ReplicaSet was made from: its own, without the controller's hash label. */
export function templateOf(rs: ReplicaSet): PodTemplateSpec {
  const template = structuredClone(rs.spec?.template ?? {}) as PodTemplateSpec;
  const labels = template.metadata?.labels;
  if (labels !== undefined) {
    delete labels[podTemplateHashLabel];
  }
  return template;
}

/** Whether two templates say the same, whatever the order of their keys. */
export function sameTemplate(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  });
}

/** The revision `undo` goes back to: `to`, or the one before the newest. A message when there is none. */
export function rollbackTarget(revisions: readonly Revision[], to: number, name: string): Revision | string {
  if (to > 0) return revisions.find((r) => r.revision === to) ?? `unable to find specified revision ${to} in history`;
  if (revisions.length < 2) return `no rollout history found for deployment "${name}"`;
  return revisions[revisions.length - 2] as Revision;
}
