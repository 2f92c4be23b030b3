// Small pure helpers shared by the core's modules.

import { entryBytes, type Entry } from './types.js';

/** The longest prefix of `entries` within `bytesMax`, but never fewer than one entry. */
export function limitBytes<T extends Entry>(entries: T[], bytesMax: number): T[] {
  if (entries.length === 0) return entries;
  let size = entryBytes(entries[0] as T);
  let limit = 1;
  for (; limit < entries.length; limit++) {
    size += entryBytes(entries[limit] as T);
    if (size > bytesMax) break;
  }
  return limit === entries.length ? entries : entries.slice(0, limit);
}

export function payloadBytes(entries: readonly Entry[]): number {
  let size = 0;
  for (const entry of entries) size += entry.data.byteLength;
  return size;
}

/** A string that identifies a byte sequence, for use as a Map key. */
export function bytesKey(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.byteLength; i++) key += String.fromCharCode(bytes[i] as number);
  return key;
}
