// Who may do what: an admin group may do everything, a read-only group may get, list and watch.
// Anyone else is refused with Kubernetes' 403 wording.

import { qualifiedResource, StatusError, type ResourceInfo } from '@raftplane/api';

export interface UserInfo {
  readonly name: string;
  readonly uid: string;
  readonly groups: readonly string[];
}

export interface AuthorizationPolicy {
  readonly adminGroups: readonly string[];
  readonly readOnlyGroups: readonly string[];
}

export const defaultAuthorizationPolicy: AuthorizationPolicy = { adminGroups: ['system:masters'], readOnlyGroups: ['raftplane:viewers'] };

const readVerbs = new Set(['get', 'list', 'watch']);

export function isAllowed(policy: AuthorizationPolicy, user: UserInfo, verb: string): boolean {
  if (user.groups.some((g) => policy.adminGroups.includes(g))) return true;
  return readVerbs.has(verb) && user.groups.some((g) => policy.readOnlyGroups.includes(g));
}

/** `pods "x" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the namespace "default"` */
export function authorize(policy: AuthorizationPolicy, user: UserInfo, verb: string, info: ResourceInfo, namespace: string, name: string | null, subresource: string | null): void {
  if (isAllowed(policy, user, verb)) return;
  const resource = subresource === null ? info.resource : `${info.resource}/${subresource}`;
  const subject = name === null ? qualifiedResource(info) : `${qualifiedResource(info)} ${JSON.stringify(name)}`;
  const where = namespace === '' ? (info.namespaced ? ' at the cluster scope' : '') : ` in the namespace ${JSON.stringify(namespace)}`;
  const message = `${subject} is forbidden: User ${JSON.stringify(user.name)} cannot ${verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(info.group)}${where}`;
  throw new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Forbidden',
    details: { ...(name === null ? {} : { name }), group: info.group, kind: info.resource },
    code: 403,
  });
}
