// Kubernetes' REST paths for a resource: `/api/v1` for the core group, `/apis/<group>/<version>`
// otherwise; `namespaces/<ns>/` before the resource when it is namespaced.

import type { ResourceInfo } from '@raftplane/api';

type PathInfo = Pick<ResourceInfo, 'group' | 'version' | 'resource' | 'namespaced'>;

function groupVersionPrefix(info: PathInfo): string {
  return info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
}

function segment(text: string): string {
  return encodeURIComponent(text);
}

/**
 * The collection: `/api/v1/namespaces/default/pods`; for a namespaced resource without a
 * namespace, every namespace (`/api/v1/pods`, list and watch only); cluster-scoped resources ignore it.
 */
export function collectionPath(info: PathInfo, namespace: string | undefined): string {
  const prefix = groupVersionPrefix(info);
  if (info.namespaced && namespace !== undefined) return `${prefix}/namespaces/${segment(namespace)}/${info.resource}`;
  return `${prefix}/${info.resource}`;
}

/** One object, or one of its subresources: `/apis/apps/v1/namespaces/default/deployments/web/scale`. */
export function objectPath(info: PathInfo, namespace: string | undefined, name: string, subresource?: string): string {
  const path = `${collectionPath(info, namespace)}/${segment(name)}`;
  return subresource === undefined ? path : `${path}/${subresource}`;
}
