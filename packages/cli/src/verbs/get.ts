// `raftplane get`: kubectl get's tables (the apiserver's own columns), -o wide|yaml|json|name,
// selectors, -A, and -w (the table, then one row per change under the same header).

import { isStatusError, resources, type KubeObject, type ResourceInfo, type Table } from '@raftplane/api';
import type { Client } from '@raftplane/client';
import { CliError, CliErrorCode } from '../errors.js';
import { listOf, nameOf, TableWriter, colourFor, toJson, toYaml } from './printing.js';
import { describeStatus } from './api-errors.js';
import { outputFlag, parseReadArgs, printedHelp, stringFlag, verbUsage, type ReadFlag } from './read-flags.js';
import { bodyRow, headerRow, listTable, localRow, objectTable, rowShape, type Selectors } from './read-tables.js';
import { watchObjects } from './read-watch.js';
import { parseResourceArgs } from './resource-words.js';
import { withSession, type Session, type Verb, type VerbIO } from './session.js';

const outputs = ['wide', 'yaml', 'json', 'name'] as const;
type Output = (typeof outputs)[number] | undefined;

const flags: readonly ReadFlag[] = [
  { name: 'output', short: 'o', type: 'string', value: '<format>', fallback: 'a table', text: outputs.join(' | ') },
  { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'label selector: app=web,tier!=db, env in (a,b)' },
  { name: 'field-selector', type: 'string', value: '<selector>', fallback: 'none', text: 'field selector: status.phase=Running,spec.nodeName=node-1' },
  { name: 'all-namespaces', short: 'A', type: 'boolean', fallback: 'false', text: 'every namespace, with a NAMESPACE column' },
  { name: 'watch', short: 'w', type: 'boolean', fallback: 'false', text: 'after the table, print a row for every change until interrupted' },
  { name: 'no-headers', type: 'boolean', fallback: 'false', text: 'leave out the header line' },
  { name: 'show-labels', type: 'boolean', fallback: 'false', text: 'add a LABELS column' },
];

export const getUsage = verbUsage(
  {
    usage: ['raftplane get <type>[,<type>...] [<name>...] [flags]', 'raftplane get <type>/<name>... [flags]'],
    summary: ['Prints resources as kubectl get does: the apiserver\'s columns, aligned.', `\`all\` stands for ${resources.filter((r) => r.categories.includes('all')).map((r) => r.resource).join(', ')}.`],
    examples: ['raftplane get pods -o wide', 'raftplane get deploy,svc -l app=web', 'raftplane get pod/web-1 -o yaml', 'raftplane get pods -A -w'],
  },
  flags,
);

interface GetOptions extends Selectors {
  readonly output: Output;
  readonly allNamespaces: boolean;
  readonly watch: boolean;
  readonly noHeaders: boolean;
  readonly showLabels: boolean;
}

/** One request: a list of a type, or some of its objects by name. */
interface Target {
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
function targetsOf(positionals: readonly string[]): Target[] {
  const byType = new Map<string, { info: ResourceInfo; names: string[] | undefined }>();
  for (const { info, name } of parseResourceArgs(expandAll(positionals))) {
    const key = `${info.group}/${info.resource}`;
    const target = byType.get(key) ?? { info, names: name === undefined ? undefined : [] };
    if (name !== undefined) (target.names ??= []).push(name);
    byType.set(key, target);
  }
  return [...byType.values()];
}

function optionsOf(values: Record<string, string | boolean | string[] | undefined>, targets: readonly Target[]): GetOptions {
  const options: GetOptions = {
    output: outputFlag(values, outputs),
    labelSelector: stringFlag(values, 'selector'),
    fieldSelector: stringFlag(values, 'field-selector'),
    allNamespaces: values['all-namespaces'] === true,
    watch: values.watch === true,
    noHeaders: values['no-headers'] === true,
    showLabels: values['show-labels'] === true,
  };
  if (targets.length === 0) throw new CliError(CliErrorCode.InvalidArgument, 'you must specify the type of resource to get, e.g. raftplane get pods (see --help)');
  const named = targets.some((t) => t.names !== undefined);
  if (named && options.labelSelector !== undefined) throw new CliError(CliErrorCode.InvalidArgument, 'name cannot be provided when a selector is specified');
  if (named && options.allNamespaces) throw new CliError(CliErrorCode.InvalidArgument, 'a resource cannot be retrieved by name across all namespaces');
  if (options.watch && targets.length > 1) throw new CliError(CliErrorCode.InvalidArgument, 'you may only specify a single resource type with --watch');
  if (options.watch && (targets[0]?.names?.length ?? 0) > 1) throw new CliError(CliErrorCode.InvalidArgument, 'watch is only supported on individual resources and resource collections, but 2 or more names were given');
  if (options.watch && (options.output === 'yaml' || options.output === 'json' || options.output === 'name')) throw new CliError(CliErrorCode.InvalidArgument, `--watch prints tables only: drop -o ${options.output}`);
  return options;
}

export const getVerb: Verb = async (argv, io) => {
  const { values, positionals } = parseReadArgs('get', argv, flags);
  if (printedHelp(values, io, getUsage)) return 0;
  const targets = targetsOf(positionals);
  const options = optionsOf(values, targets);
  return withSession(values, io, async (session) => {
    if (options.watch) return watchTable(session, targets[0] as Target, options, io);
    if (options.output === 'yaml' || options.output === 'json' || options.output === 'name') return printObjects(session, targets, options, io);
    return printTables(session, targets, options, io);
  });
};

/** A failed named get: NotFound and Forbidden are reported and the rest still printed, as kubectl does. */
function reportable(error: unknown): string | undefined {
  return isStatusError(error) && (error.status.reason === 'NotFound' || error.status.reason === 'Forbidden') ? describeStatus(error.status) : undefined;
}

async function tablesOf(session: Session, target: Target, options: GetOptions, signal: AbortSignal, errors: string[]): Promise<Table[]> {
  const namespace = options.allNamespaces ? undefined : session.namespace;
  if (target.names === undefined) return [await listTable(session.client, target.info, namespace, options, signal)];
  const tables: Table[] = [];
  for (const name of target.names) {
    try {
      tables.push(await objectTable(session.client, target.info, session.namespace, name, signal));
    } catch (error) {
      const line = reportable(error);
      if (line === undefined) throw error;
      errors.push(line);
    }
  }
  return tables;
}

function noResources(session: Session, targets: readonly Target[], options: GetOptions): string {
  if (options.allNamespaces || targets.every((t) => !t.info.namespaced)) return 'No resources found';
  return `No resources found in ${session.namespace} namespace.`;
}

async function printTables(session: Session, targets: readonly Target[], options: GetOptions, io: VerbIO): Promise<number> {
  const errors: string[] = [];
  const blocks: string[][] = [];
  const colour = colourFor(io.isTTY, io.env);
  for (const target of targets) {
    const tables = await tablesOf(session, target, options, io.signal, errors);
    const rows = tables.flatMap((t) => t.rows);
    if (rows.length === 0 || tables[0] === undefined) continue;
    const shape = rowShape(tables[0], target.info, { wide: options.output === 'wide', allNamespaces: options.allNamespaces, showLabels: options.showLabels, withType: targets.length > 1 });
    const body = rows.map((r) => bodyRow(r, shape));
    const writer = new TableWriter(colour);
    blocks.push(options.noHeaders ? writer.lines(body, false) : writer.lines([headerRow(tables[0], shape), ...body], true));
  }
  if (blocks.length > 0) io.stdout.write(`${blocks.map((b) => b.join('\n')).join('\n\n')}\n`);
  else if (errors.length === 0) io.stderr.write(`${noResources(session, targets, options)}\n`);
  for (const line of errors) io.stderr.write(`${line}\n`);
  return errors.length === 0 ? 0 : 1;
}

async function printObjects(session: Session, targets: readonly Target[], options: GetOptions, io: VerbIO): Promise<number> {
  const errors: string[] = [];
  const found: { info: ResourceInfo; obj: KubeObject }[] = [];
  for (const { info, names } of targets) {
    const resource = session.client.resourceFor(info, options.allNamespaces ? undefined : session.namespace);
    if (names === undefined) {
      const list = await resource.listAll({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, signal: io.signal });
      found.push(...list.items.map((obj) => ({ info, obj })));
      continue;
    }
    for (const name of names) {
      try {
        found.push({ info, obj: await resource.get(name, { signal: io.signal }) });
      } catch (error) {
        const line = reportable(error);
        if (line === undefined) throw error;
        errors.push(line);
      }
    }
  }
  // kubectl leaves managedFields out unless asked (--show-managed-fields): they drown the object.
  for (const f of found) f.obj = withoutManagedFields(f.obj);
  const single = targets.length === 1 && targets[0]?.names?.length === 1 && found.length === 1;
  if (options.output === 'name') {
    if (found.length > 0) io.stdout.write(found.map(({ info, obj }) => `${nameOf(info, obj.metadata.name ?? '')}\n`).join(''));
  } else if (single || found.length > 0 || errors.length === 0) {
    const value = single ? (found[0]?.obj as KubeObject) : listOf(found.map((f) => f.obj));
    io.stdout.write(options.output === 'json' ? toJson(value) : toYaml(value));
  }
  if (found.length === 0 && errors.length === 0 && options.output === 'name') io.stderr.write(`${noResources(session, targets, options)}\n`);
  for (const line of errors) io.stderr.write(`${line}\n`);
  return errors.length === 0 ? 0 : 1;
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** `get -w`: the current table, then a row for every change until io.signal aborts; the header is printed once. */
async function watchTable(session: Session, target: Target, options: GetOptions, io: VerbIO): Promise<number> {
  const name = target.names?.[0];
  const namespace = options.allNamespaces ? undefined : session.namespace;
  const fieldSelector = name === undefined ? options.fieldSelector : [`metadata.name=${name}`, ...(options.fieldSelector === undefined ? [] : [options.fieldSelector])].join(',');
  const selectors = { labelSelector: options.labelSelector, fieldSelector };
  const table = await listTable(session.client, target.info, namespace, selectors, io.signal);
  const shape = rowShape(table, target.info, { wide: options.output === 'wide', allNamespaces: options.allNamespaces, showLabels: options.showLabels, withType: false });
  const writer = new TableWriter(colourFor(io.isTTY, io.env));
  let headerDue = !options.noHeaders;
  const print = (rows: string[][]): void => {
    if (rows.length === 0) return;
    const lines = headerDue ? writer.lines([headerRow(table, shape), ...rows], true) : writer.lines(rows, false);
    headerDue = false;
    io.stdout.write(`${lines.join('\n')}\n`);
  };
  print(table.rows.map((r) => bodyRow(r, shape)));
  await watchObjects(session.client as Client, target.info, namespace, selectors, table.metadata.resourceVersion ?? '', io.signal, (event) => {
    print([bodyRow(localRow(event.object, target.info), shape)]);
  });
  return 0;
}
