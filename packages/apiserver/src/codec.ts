// Objects as stored: JSON without metadata.resourceVersion, which is the key's modRevision and is
// filled in on the way out (DESIGN "Data layout"), so a stored value never disagrees with its key.

import { internalError, type KubeObject } from '@raftplane/api';
import type { KeyValue } from '@raftplane/kv';
import { keyText } from './keys.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeObject(obj: KubeObject): Uint8Array {
  const meta = obj.metadata;
  if (meta?.resourceVersion === undefined) return encoder.encode(JSON.stringify(obj));
  const { resourceVersion: _resourceVersion, ...rest } = meta;
  return encoder.encode(JSON.stringify({ ...obj, metadata: rest }));
}

/** The object a key holds, with resourceVersion = `revision` (its modRevision unless given). */
export function decodeObject(kv: KeyValue, revision: number = kv.modRevision): KubeObject {
  let obj: KubeObject;
  try {
    obj = JSON.parse(decoder.decode(kv.value)) as KubeObject;
  } catch (error) {
    throw internalError(`the value stored at ${keyText(kv.key)} (revision ${kv.modRevision}) is not JSON: ${(error as Error).message}`);
  }
  (obj.metadata ??= {}).resourceVersion = String(revision);
  return obj;
}

/** The object with its resourceVersion replaced (events of deleted objects carry the delete's revision). */
export function withResourceVersion<T extends KubeObject>(obj: T, revision: number): T {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
}
