// Objects for the client's tests.

import type { ConfigMap, Pod } from '@raftplane/api';

export function pod(name: string, options: { namespace?: string; labels?: Record<string, string>; nodeName?: string; image?: string } = {}): Pod {
  const spec: NonNullable<Pod['spec']> = { containers: [{ name: 'main', image: options.image ?? 'nginx:1.27' }] };
  if (options.nodeName !== undefined) spec.nodeName = options.nodeName;
  const metadata: Pod['metadata'] = { name, namespace: options.namespace ?? 'default' };
  if (options.labels !== undefined) metadata.labels = options.labels;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

export function configMap(name: string, data: Record<string, string>, namespace = 'default'): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}
