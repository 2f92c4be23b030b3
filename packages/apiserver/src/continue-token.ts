// The `continue` token of a paged list, in Kubernetes' own format (apiserver storage/etcd3): base64 of
// `{"v":"meta.k8s.io/v1","rv":<revision of the first page>,"start":"<next key after the prefix>"}`.
// Every page reads at the first page's revision, so the pages together are one consistent snapshot.

import { badRequestError } from '@raftplane/api';

export interface ContinueToken {
  /** The revision every page of the list reads at. */
  readonly revision: number;
  /** The key the next page starts at, relative to the list's prefix. */
  readonly start: string;
}

const tokenVersion = 'meta.k8s.io/v1';

export function encodeContinueToken(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: tokenVersion, rv: token.revision, start: token.start })).toString('base64url');
}

/** Throws 400 BadRequest naming what is wrong with a token the client sent. */
export function decodeContinueToken(text: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badRequestError(`continue key is not valid: not base64-encoded JSON: ${JSON.stringify(text.slice(0, 64))}`);
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (record['v'] !== tokenVersion) throw badRequestError(`continue key is not valid: incorrect encoded start resourceVersion (version ${String(record['v'])})`);
  const revision = record['rv'];
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    throw badRequestError(`continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  }
  const start = record['start'];
  if (typeof start !== 'string' || start === '' || start.includes('..') || start.startsWith('/')) {
    throw badRequestError('continue key is not valid: the start key is missing or escapes the listed prefix');
  }
  return { revision, start };
}
