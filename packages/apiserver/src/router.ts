// Request paths, as Kubernetes lays them out: `/api/v1/...` for the core group and
// `/apis/<group>/<version>/...` for the others; `namespaces/<ns>/<resource>[/<name>[/<sub>]]` or
// `<resource>[/<name>[/<sub>]]`. The legacy `/watch/` prefix is understood too.

import { resourceByName, type ResourceInfo } from '@raftplane/api';

export type Route =
  | { readonly kind: 'api-versions' }
  | { readonly kind: 'api-groups' }
  | { readonly kind: 'api-group'; readonly group: string }
  | { readonly kind: 'resource-list'; readonly group: string; readonly version: string }
  | {
      readonly kind: 'resource';
      readonly info: ResourceInfo;
      /** '' for cluster-scoped kinds, and for namespaced kinds listed across every namespace. */
      readonly namespace: string;
      readonly name: string | null;
      readonly subresource: string | null;
      /** The path was under the legacy `/watch/` prefix. */
      readonly legacyWatch: boolean;
    }
  | { readonly kind: 'not-found' };

const notFound: Route = { kind: 'not-found' };

function segmentsOf(path: string): string[] | null {
  const parts = path.split('/').filter((p) => p !== '');
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return null;
  }
}

export function parseRoute(path: string): Route {
  const segments = segmentsOf(path);
  if (segments === null || segments.length === 0) return notFound;
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { kind: 'api-versions' };
    group = '';
    version = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { kind: 'api-groups' };
    if (segments.length === 2) return { kind: 'api-group', group: segments[1]! };
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  } else {
    return notFound;
  }
  if (rest.length === 0) return { kind: 'resource-list', group, version };
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  // `namespaces/<ns>/<resource>...` names a namespaced collection, unless it is the namespace
  // object itself (`namespaces/<ns>` or one of its subresources).
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1]!;
    rest = rest.slice(2);
    if (namespace === '') return notFound;
  }
  const info = resourceByName(group, rest[0]!);
  if (info === undefined || info.version !== version || rest.length > 3) return notFound;
  if (namespace !== '' && !info.namespaced) return notFound;
  const name = rest[1] ?? null;
  const subresource = rest[2] ?? null;
  if (name === '' || (subresource !== null && !info.subresources.some((s) => s.name === subresource))) return notFound;
  // A namespaced object is addressed inside its namespace; across namespaces only collections are.
  if (info.namespaced && namespace === '' && name !== null) return notFound;
  return { kind: 'resource', info, namespace, name, subresource, legacyWatch };
}
