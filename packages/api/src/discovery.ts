// Discovery documents built from the resource registry (kinds.ts): what kubectl fetches before
// almost every command (kubectl-wire.md §1): `/api`, `/apis`, `/apis/<group>`, `/api/v1`,
// `/apis/<group>/<version>`, and `/version`.

import { groupVersionOf, resources, servedGroupVersions, type ResourceInfo, type Verb } from './kinds.js';

export interface ServerAddressByClientCIDR {
  clientCIDR: string;
  serverAddress: string;
}

/** `GET /api`: the core group's versions. It has no apiVersion, as in Kubernetes. */
export interface APIVersions {
  kind: 'APIVersions';
  versions: string[];
  serverAddressByClientCIDRs: ServerAddressByClientCIDR[];
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: 'v1';
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

/** `GET /apis`: every named group (the core group is listed by `/api` instead). */
export interface APIGroupList {
  kind: 'APIGroupList';
  apiVersion: 'v1';
  groups: APIGroup[];
}

export interface APIResource {
  /** `pods`, or `pods/status` for a subresource. */
  name: string;
  singularName: string;
  namespaced: boolean;
  /** Set only when it differs from the list's group version (`deployments/scale` is autoscaling/v1). */
  group?: string;
  version?: string;
  kind: string;
  verbs: Verb[];
  shortNames?: string[];
  categories?: string[];
}

/** `GET /api/v1`, `GET /apis/apps/v1`. */
export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

/** `GET /version`: version.Info. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** `GET /api`; `serverAddress` is the `host:port` clients should use (Kubernetes' advertise address). */
export function apiVersions(serverAddress: string): APIVersions {
  const versions = servedGroupVersions().filter((gv) => gv.group === '').map((gv) => gv.version);
  return { kind: 'APIVersions', versions, serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** `GET /apis`. */
export function apiGroupList(): APIGroupList {
  const names = [...new Set(servedGroupVersions().map((gv) => gv.group).filter((g) => g !== ''))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((name) => groupDocument(name)) };
}

/** `GET /apis/<group>`, or undefined when the group is not served. */
export function apiGroup(name: string): APIGroup | undefined {
  if (name === '' || !servedGroupVersions().some((gv) => gv.group === name)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(name) };
}

function groupDocument(name: string): APIGroup {
  const versions = servedGroupVersions()
    .filter((gv) => gv.group === name)
    .map((gv) => ({ groupVersion: groupVersionOf(gv), version: gv.version }));
  const preferred = versions[0];
  if (preferred === undefined) throw new Error(`apiGroup: group ${JSON.stringify(name)} serves no version`);
  return { name, versions, preferredVersion: { ...preferred } };
}

/**
 * `GET /api/v1` (group `''`) or `GET /apis/<group>/<version>`: each resource, then its
 * subresources (`pods/status`, `deployments/scale`); undefined when the group version is not served.
 */
export function apiResourceList(group: string, version: string): APIResourceList | undefined {
  const served = resources.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf({ group, version }),
    resources: served.flatMap((r) => [resourceDocument(r), ...subresourceDocuments(r)]),
  };
}

function resourceDocument(r: ResourceInfo): APIResource {
  const doc: APIResource = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...r.verbs] };
  if (r.shortNames.length > 0) doc.shortNames = [...r.shortNames];
  if (r.categories.length > 0) doc.categories = [...r.categories];
  return doc;
}

function subresourceDocuments(r: ResourceInfo): APIResource[] {
  return r.subresources.map((s) => {
    const doc: APIResource = { name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: [...s.verbs] };
    if (s.group !== r.group || s.version !== r.version) {
      doc.group = s.group;
      doc.version = s.version;
    }
    return doc;
  });
}

/** `GET /version`: the Kubernetes version raftplane speaks, 1.20. */
export function versionInfo(overrides: Partial<Pick<VersionInfo, 'gitCommit' | 'buildDate' | 'goVersion'>> = {}): VersionInfo {
  return {
    major: '1',
    minor: '20',
    gitVersion: 'v1.20.0-raftplane',
    gitCommit: overrides.gitCommit ?? '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: overrides.buildDate ?? '1970-01-01T00:00:00Z',
    // raftplane runs on Node.js; the field is kept for clients that print it. Kubernetes 1.20.0 used go1.15.5.
    goVersion: overrides.goVersion ?? 'go1.15.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
