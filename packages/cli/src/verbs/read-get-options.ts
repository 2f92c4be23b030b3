// What `get` was asked for: the targets (types and names, grouped as kubectl groups them), the
// output (a table, wide, yaml, json, name, jsonpath=, custom-columns=), selectors, sorting and
// the extra columns, each checked with kubectl's wording before anything is sent.

import { isStatusError, resources, type KubeObject, type ResourceInfo } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';
import { describeStatus } from './api-errors.js';
import { evaluatePath, parseJsonPath, parsePath, type JsonPathTemplate } from './read-jsonpath.js';
import { stringFlag } from './read-flags.js';
import { parseResourceArgs } from './resource-words.js';
import type { Session } from './session.js';

export type Output =
  | { readonly kind: 'table'; readonly wide: boolean }
  | { readonly kind: 'yaml' | 'json' | 'name' }
  | { readonly kind: 'jsonpath'; readonly template: JsonPathTemplate }
  | { readonly kind: 'custom-columns'; readonly columns: readonly { readonly header: string; readonly template: JsonPathTemplate }[] };

export const outputWords = ['wide', 'yaml', 'json', 'name', 'jsonpath=<template>', 'custom-columns=<header>:<path>,...'];

export interface GetOptions {
  readonly output: Output;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly allNamespaces: boolean;
  /** -w, or --watch-only. */
  readonly watch: boolean;
  /** --watch-only: no table of what exists now. */
  readonly watchOnly: boolean;
  /** --output-watch-events: an EVENT column. */
  readonly watchEvents: boolean;
  readonly noHeaders: boolean;
  readonly showLabels: boolean;
  readonly showKind: boolean;
  /** -L: label keys shown as columns. */
  readonly labelColumns: readonly string[];
  /** --sort-by: a JSONPath into each object. */
  readonly sortBy: ReturnType<typeof parsePath> | undefined;
}

/** One request: a list of a type, or some of its objects by name. */
export interface Target {
  readonly info: ResourceInfo;
  readonly names: readonly string[] | undefined;
}

/** `all` as kubectl expands it: every resource in the `all` category, in discovery order. */
function expandAll(positionals: readonly string[]): string[] {
  const [first, ...rest] = positionals;
  if (first === undefined || first.includes('/')) return [...positionals];
  const words = first.split(',').flatMap((word) => (word.toLowerCase() === 'all' ? resources.filter((r) => r.categories.includes('all')).map((r) => r.resource) : [word]));
  return [words.join(','), ...rest];
}

/** Arguments as kubectl groups them: objects of one type together, types in the order given. */
export function targetsOf(positionals: readonly string[]): Target[] {
  const byType = new Map<string, { info: ResourceInfo; names: string[] | undefined }>();
  for (const { info, name } of parseResourceArgs(expandAll(positionals))) {
    const key = `${info.group}/${info.resource}`;
    const target = byType.get(key) ?? { info, names: name === undefined ? undefined : [] };
    if (name !== undefined) (target.names ??= []).push(name);
    byType.set(key, target);
  }
  return [...byType.values()];
}

/** `.a.b` or `{.a.b}`: kubectl takes a bare path in custom-columns and --sort-by. */
function braced(path: string): string {
  return path.startsWith('{') ? path : `{${path}}`;
}

function outputOf(text: string | undefined): Output {
  if (text === undefined) return { kind: 'table', wide: false };
  if (text === 'wide') return { kind: 'table', wide: true };
  if (text === 'yaml' || text === 'json' || text === 'name') return { kind: text };
  if (text.startsWith('jsonpath=')) return { kind: 'jsonpath', template: parseJsonPath(text.slice('jsonpath='.length)) };
  if (text.startsWith('custom-columns=')) {
    const columns = text.slice('custom-columns='.length).split(',').map((spec) => {
      const colon = spec.indexOf(':');
      if (colon <= 0 || colon === spec.length - 1) throw new CliError(CliErrorCode.InvalidFlag, `unexpected custom-columns spec: ${spec}, expected <header>:<json-path-expr>`, '--output');
      return { header: spec.slice(0, colon), template: parseJsonPath(braced(spec.slice(colon + 1))) };
    });
    return { kind: 'custom-columns', columns };
  }
  throw new CliError(CliErrorCode.InvalidFlag, `unable to match a printer suitable for the output format "${text}", allowed formats are: custom-columns,json,jsonpath,name,wide,yaml`, '--output');
}

function labelColumnsOf(values: Record<string, string | boolean | string[] | undefined>): string[] {
  const given = values['label-columns'];
  const list = Array.isArray(given) ? given : typeof given === 'string' ? [given] : [];
  return list.flatMap((l) => l.split(',')).map((l) => l.trim()).filter((l) => l !== '');
}

export function optionsOf(values: Record<string, string | boolean | string[] | undefined>, targets: readonly Target[]): GetOptions {
  const sortBy = stringFlag(values, 'sort-by');
  const options: GetOptions = {
    output: outputOf(stringFlag(values, 'output')),
    labelSelector: stringFlag(values, 'selector'),
    fieldSelector: stringFlag(values, 'field-selector'),
    allNamespaces: values['all-namespaces'] === true,
    watch: values.watch === true || values['watch-only'] === true,
    watchOnly: values['watch-only'] === true,
    watchEvents: values['output-watch-events'] === true,
    noHeaders: values['no-headers'] === true,
    showLabels: values['show-labels'] === true,
    showKind: values['show-kind'] === true,
    labelColumns: labelColumnsOf(values),
    sortBy: sortBy === undefined ? undefined : parsePath(braced(sortBy).slice(1, -1).trim(), sortBy),
  };
  if (targets.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'You must specify the type of resource to get. Use "raftplane api-resources" for a complete list of supported resources.');
  const named = targets.some((t) => t.names !== undefined);
  if (named && options.labelSelector !== undefined) throw new CliError(CliErrorCode.InvalidArgument, 'name cannot be provided when a selector is specified');
  if (named && options.allNamespaces) throw new CliError(CliErrorCode.InvalidArgument, 'a resource cannot be retrieved by name across all namespaces');
  if (options.watch && targets.length > 1) throw new CliError(CliErrorCode.InvalidArgument, 'you may only specify a single resource type with --watch');
  if (options.watch && (targets[0]?.names?.length ?? 0) > 1) throw new CliError(CliErrorCode.InvalidArgument, 'watch is only supported on individual resources and resource collections, but 2 or more names were given');
  if (options.watch && options.output.kind !== 'table') throw new CliError(CliErrorCode.InvalidArgument, `--watch prints tables only: drop -o ${stringFlag(values, 'output') ?? ''}`);
  if (options.watch && options.sortBy !== undefined) throw new CliError(CliErrorCode.InvalidArgument, '--sort-by cannot be used with --watch: changes are printed as they come');
  return options;
}

/** A failed named get: NotFound and Forbidden are reported and the rest still printed, as kubectl does. */
export function reportable(error: unknown): string | undefined {
  return isStatusError(error) && (error.status.reason === 'NotFound' || error.status.reason === 'Forbidden') ? describeStatus(error.status) : undefined;
}

export function noResources(session: Session, targets: readonly Target[], options: GetOptions): string {
  if (options.allNamespaces || targets.every((t) => !t.info.namespaced)) return 'No resources found';
  return `No resources found in ${session.namespace} namespace.`;
}

function sortValue(obj: unknown, path: ReturnType<typeof parsePath>): string | number | undefined {
  const value = evaluatePath(obj, path)[0];
  if (typeof value === 'number') return value;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Sorts by --sort-by's value (numbers as numbers); objects without it come first, as kubectl's sorter puts them. */
export function sortedBy<T>(items: readonly T[], objectOf: (item: T) => KubeObject | undefined, path: GetOptions['sortBy']): T[] {
  if (path === undefined) return [...items];
  const keyed = items.map((item) => ({ item, key: sortValue(objectOf(item), path) }));
  keyed.sort((a, b) => {
    if (a.key === undefined || b.key === undefined) return a.key === undefined ? (b.key === undefined ? 0 : -1) : 1;
    if (typeof a.key === 'number' && typeof b.key === 'number') return a.key - b.key;
    return String(a.key) < String(b.key) ? -1 : String(a.key) > String(b.key) ? 1 : 0;
  });
  return keyed.map((k) => k.item);
}
