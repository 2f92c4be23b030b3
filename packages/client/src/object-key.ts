// Cache keys, as client-go's MetaNamespaceKeyFunc makes them: `namespace/name`, or `name` for a
// cluster-scoped object. The key is what handlers enqueue and what `sync(key)` reads back.

import type { KubeObject } from '@raftplane/api';

export function objectKey(obj: Pick<KubeObject, 'metadata'>): string {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

/** The inverse of objectKey: `{ namespace: 'default', name: 'web' }`, or no namespace for `node-1`. */
export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash === -1 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
