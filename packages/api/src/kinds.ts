// The registry of served resources: what discovery lists (`/api/v1`, `/apis/apps/v1`) and what
// the apiserver needs to route a path to a kind, with Kubernetes' names, short names and verbs.

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface SubresourceInfo {
  /** The path segment after the object's name: `status`, `scale`, `binding`, `log`. */
  readonly name: string;
  /** The group, version and kind of the subresource's body; for `scale`, autoscaling/v1 Scale. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly verbs: readonly Verb[];
}

export interface ResourceInfo {
  /** `''` for the core (legacy) group served under `/api`. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  /** Plural, lower case: the path segment and the KV key segment (`/registry/pods/...`). */
  readonly resource: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly namespaced: boolean;
  readonly verbs: readonly Verb[];
  readonly subresources: readonly SubresourceInfo[];
  /** `all` puts the resource in `kubectl get all`. */
  readonly categories: readonly string[];
  /** Whether the server keeps metadata.generation (1 on create, +1 on each spec change). */
  readonly tracksGeneration: boolean;
}

const allVerbs: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const statusVerbs: readonly Verb[] = ['get', 'patch', 'update'];

function status(group: string, version: string, kind: string): SubresourceInfo {
  return { name: 'status', group, version, kind, verbs: statusVerbs };
}

const scale: SubresourceInfo = { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: statusVerbs };

interface Entry {
  group: string;
  version: string;
  kind: string;
  resource: string;
  shortNames?: readonly string[];
  namespaced: boolean;
  verbs?: readonly Verb[];
  subresources?: readonly SubresourceInfo[];
  categories?: readonly string[];
  tracksGeneration?: boolean;
}

function entry(e: Entry): ResourceInfo {
  return Object.freeze({
    group: e.group,
    version: e.version,
    kind: e.kind,
    listKind: `${e.kind}List`,
    resource: e.resource,
    singular: e.kind.toLowerCase(),
    shortNames: Object.freeze([...(e.shortNames ?? [])]),
    namespaced: e.namespaced,
    verbs: e.verbs ?? allVerbs,
    subresources: Object.freeze([...(e.subresources ?? [])]),
    categories: Object.freeze([...(e.categories ?? [])]),
    tracksGeneration: e.tracksGeneration ?? false,
  });
}

/** Every resource raftplane serves, core group first, in the order discovery lists them. */
export const resources: readonly ResourceInfo[] = Object.freeze([
  entry({ group: '', version: 'v1', kind: 'Binding', resource: 'bindings', namespaced: true, verbs: ['create'] }),
  entry({ group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', shortNames: ['cm'], namespaced: true }),
  entry({ group: '', version: 'v1', kind: 'Endpoints', resource: 'endpoints', shortNames: ['ep'], namespaced: true }),
  entry({ group: '', version: 'v1', kind: 'Event', resource: 'events', shortNames: ['ev'], namespaced: true }),
  entry({
    group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', shortNames: ['ns'], namespaced: false,
    // Kubernetes serves no deletecollection on namespaces: deleting every namespace is never wanted.
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [status('', 'v1', 'Namespace'), { name: 'finalize', group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] }],
  }),
  entry({ group: '', version: 'v1', kind: 'Node', resource: 'nodes', shortNames: ['no'], namespaced: false, subresources: [status('', 'v1', 'Node')] }),
  entry({
    group: '', version: 'v1', kind: 'Pod', resource: 'pods', shortNames: ['po'], namespaced: true, categories: ['all'],
    subresources: [
      status('', 'v1', 'Pod'),
      { name: 'binding', group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
      { name: 'log', group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
    ],
  }),
  entry({ group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true }),
  entry({
    group: '', version: 'v1', kind: 'Service', resource: 'services', shortNames: ['svc'], namespaced: true, categories: ['all'],
    subresources: [status('', 'v1', 'Service')],
  }),
  entry({
    group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', shortNames: ['ds'], namespaced: true,
    categories: ['all'], subresources: [status('apps', 'v1', 'DaemonSet')], tracksGeneration: true,
  }),
  entry({
    group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', shortNames: ['deploy'], namespaced: true,
    categories: ['all'], subresources: [status('apps', 'v1', 'Deployment'), scale], tracksGeneration: true,
  }),
  entry({
    group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', shortNames: ['rs'], namespaced: true,
    categories: ['all'], subresources: [status('apps', 'v1', 'ReplicaSet'), scale], tracksGeneration: true,
  }),
  entry({
    group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets', shortNames: ['sts'], namespaced: true,
    categories: ['all'], subresources: [status('apps', 'v1', 'StatefulSet'), scale], tracksGeneration: true,
  }),
  entry({
    group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', namespaced: true, categories: ['all'],
    subresources: [status('batch', 'v1', 'Job')], tracksGeneration: true,
  }),
  entry({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true }),
]);

/** `v1` for the core group, `apps/v1` otherwise: the apiVersion objects carry. */
export function groupVersionOf(info: { group: string; version: string }): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** Splits an apiVersion: `apps/v1` to `{ group: 'apps', version: 'v1' }`, `v1` to the core group. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash === -1) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The resource a request path names (`apps`, `deployments`), or undefined when it is not served. */
export function resourceByName(group: string, resource: string): ResourceInfo | undefined {
  return resources.find((r) => r.group === group && r.resource === resource);
}

/** The resource for an object's apiVersion and kind, or undefined when it is not served. */
export function resourceByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  const { group, version } = parseApiVersion(apiVersion);
  return resources.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/**
 * What kubectl resolves from a word on the command line: a plural, singular or short name, or the
 * kind, optionally qualified by group (`deployments.apps`, `deploy`, `Deployment`). Case-insensitive.
 */
export function resolveResource(word: string): ResourceInfo | undefined {
  const lower = word.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot === -1 ? lower : lower.slice(0, dot);
  const group = dot === -1 ? undefined : lower.slice(dot + 1);
  return resources.find(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.resource === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name)),
  );
}

/** `pods`, or `deployments.apps`: how Kubernetes names a resource in NotFound and Conflict messages. */
export function qualifiedResource(info: { group: string; resource: string }): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

/** `Pod`, or `Deployment.apps`: how Kubernetes names a kind in Invalid messages. */
export function qualifiedKind(info: { group: string; kind: string }): string {
  return info.group === '' ? info.kind : `${info.kind}.${info.group}`;
}

/** The distinct group versions served, core first: what `/api` and `/apis` list. */
export function servedGroupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of resources) seen.set(groupVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}
