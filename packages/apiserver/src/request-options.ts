// Query parameters of Kubernetes requests, parsed and checked before anything is read or written:
// a bad value is a 400 that names the parameter (DESIGN rule 7).

import {
  FieldSelectorError,
  LabelSelectorError,
  badRequestError,
  parseFieldSelectorFor,
  parseLabelSelector,
  labelSelectorIsEverything,
  type ParsedFieldSelector,
  type ParsedLabelSelector,
} from '@raftplane/api';
import { decodeContinueToken, type ContinueToken } from './continue-token.js';
import type { ListOptions, ReadOptions } from './object-store.js';

export function parseLabelSelectorParam(query: URLSearchParams): ParsedLabelSelector | null {
  const text = query.get('labelSelector');
  if (text === null || text === '') return null;
  try {
    const selector = parseLabelSelector(text);
    return labelSelectorIsEverything(selector) ? null : selector;
  } catch (error) {
    if (error instanceof LabelSelectorError) throw badRequestError(`unable to parse requirement: ${error.message}`);
    throw error;
  }
}

export function parseFieldSelectorParam(query: URLSearchParams, kind: string): ParsedFieldSelector | null {
  const text = query.get('fieldSelector');
  if (text === null || text === '') return null;
  try {
    const selector = parseFieldSelectorFor(text, kind);
    return selector.requirements.length === 0 ? null : selector;
  } catch (error) {
    if (error instanceof FieldSelectorError) throw badRequestError(`fieldSelector: ${error.message}`);
    throw error;
  }
}

/** A non-negative integer parameter, or `fallback` when absent. */
export function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw badRequestError(`${name}: must be a non-negative integer, got ${JSON.stringify(text)}`);
  return value;
}

export function booleanParam(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === '' || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  throw badRequestError(`${name}: must be true or false, got ${JSON.stringify(text)}`);
}

function resourceVersionNumber(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw badRequestError(`resourceVersion: invalid value ${JSON.stringify(text)}: must be a decimal number`);
  return Number(text);
}

/**
 * Kubernetes' resourceVersion semantics for get and list: unset is the newest state (a consistent
 * read); "0" is any state (this master's copy); N is "not older than N", or exactly N with
 * resourceVersionMatch=Exact.
 */
export function parseReadOptions(query: URLSearchParams): ReadOptions {
  const text = query.get('resourceVersion');
  const match = query.get('resourceVersionMatch');
  if (match !== null && match !== '' && match !== 'NotOlderThan' && match !== 'Exact') {
    throw badRequestError(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
  }
  if (text === null || text === '') {
    if (match) throw badRequestError('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    return { revision: 0, serializable: false, minRevision: 0 };
  }
  const revision = resourceVersionNumber(text);
  if (match === 'Exact') {
    if (revision === 0) throw badRequestError('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    return { revision, serializable: false, minRevision: 0 };
  }
  if (revision === 0) return { revision: 0, serializable: true, minRevision: 0 };
  return { revision: 0, serializable: false, minRevision: revision };
}

export function parseListOptions(query: URLSearchParams, kind: string): ListOptions {
  const labelSelector = parseLabelSelectorParam(query);
  const fieldSelector = parseFieldSelectorParam(query, kind);
  const limit = integerParam(query, 'limit', 0);
  const continueText = query.get('continue');
  let continueFrom: ContinueToken | null = null;
  if (continueText !== null && continueText !== '') {
    const rv = query.get('resourceVersion');
    if (rv !== null && rv !== '' && rv !== '0') throw badRequestError('specifying resource version is not allowed when using continue');
    if (query.get('resourceVersionMatch')) throw badRequestError('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
    continueFrom = decodeContinueToken(continueText);
    return { revision: 0, serializable: false, minRevision: 0, labelSelector, fieldSelector, limit, continueFrom };
  }
  return { ...parseReadOptions(query), labelSelector, fieldSelector, limit, continueFrom };
}

/** Where a watch starts: after a revision, or (null) with the current state first. */
export function parseWatchStart(query: URLSearchParams): { afterRevision: number | null; serializableStart: boolean } {
  const text = query.get('resourceVersion');
  if (text === null || text === '') return { afterRevision: null, serializableStart: false };
  if (text === '0') return { afterRevision: null, serializableStart: true };
  return { afterRevision: resourceVersionNumber(text), serializableStart: false };
}

/** `dryRun=All` (the only value Kubernetes accepts). */
export function parseDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const value of values) if (value !== 'All') throw badRequestError(`dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`);
  return values.length > 0;
}
