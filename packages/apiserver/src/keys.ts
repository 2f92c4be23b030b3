// Where objects live in the KV store (DESIGN "Data layout"): `/registry/<resource>/<namespace>/<name>`,
// cluster-scoped kinds without the namespace part. Namespace and object names never contain '/',
// so a namespace's prefix never matches another namespace's keys.

import type { ResourceInfo } from '@raftplane/api';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const registryPrefix = '/registry/';

export function objectKey(info: Pick<ResourceInfo, 'resource' | 'namespaced'>, namespace: string, name: string): Uint8Array {
  return encoder.encode(info.namespaced ? `${registryPrefix}${info.resource}/${namespace}/${name}` : `${registryPrefix}${info.resource}/${name}`);
}

/** The prefix of every object of a resource, or of one namespace's when `namespace` is not ''. */
export function collectionPrefix(info: Pick<ResourceInfo, 'resource' | 'namespaced'>, namespace: string): Uint8Array {
  return encoder.encode(info.namespaced && namespace !== '' ? `${registryPrefix}${info.resource}/${namespace}/` : `${registryPrefix}${info.resource}/`);
}

/** The end of the range of keys that start with `prefix` (etcd's clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

/** The smallest key after `key`: `key` + a zero byte (where a page of a list resumes). */
export function keyAfter(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}

export function keyText(key: Uint8Array): string {
  return decoder.decode(key);
}

export function textBytes(text: string): Uint8Array {
  return encoder.encode(text);
}
