// `raftplane get`: kubectl get's tables (the apiserver's own columns), -o wide|yaml|json|name|
// jsonpath=|custom-columns=, selectors, -A, --sort-by, -L, and -w (the table, then one row per
// change under the same header).

import { resources, type KubeObject, type Table, type TableRow } from '@raftplane/api';
import { colourFor, TableWriter } from './printing.js';
import { parseReadArgs, printedHelp, verbUsage, type ReadFlag } from './read-flags.js';
import { printObjects } from './read-get-objects.js';
import { noResources, optionsOf, outputWords, reportable, sortedBy, targetsOf, type GetOptions, type Target } from './read-get-options.js';
import { bodyRow, headerRow, listTable, localRow, objectTable, rowShape, type RowShape } from './read-tables.js';
import { watchObjects } from './read-watch.js';
import { withSession, type Session, type Verb, type VerbIO } from './session.js';

const flags: readonly ReadFlag[] = [
  { name: 'output', short: 'o', type: 'string', value: '<format>', fallback: 'a table', text: outputWords.join(' | ') },
  { name: 'selector', short: 'l', type: 'string', value: '<selector>', fallback: 'none', text: 'label selector: app=web,tier!=db, env in (a,b)' },
  { name: 'field-selector', type: 'string', value: '<selector>', fallback: 'none', text: 'field selector: status.phase=Running,spec.nodeName=node-1' },
  { name: 'all-namespaces', short: 'A', type: 'boolean', fallback: 'false', text: 'every namespace, with a NAMESPACE column' },
  { name: 'watch', short: 'w', type: 'boolean', fallback: 'false', text: 'after the table, print a row for every change until interrupted' },
  { name: 'watch-only', type: 'boolean', fallback: 'false', text: 'like -w, without the table of what exists now' },
  { name: 'output-watch-events', type: 'boolean', fallback: 'false', text: 'with -w: an EVENT column first (ADDED, MODIFIED, DELETED)' },
  { name: 'sort-by', type: 'string', value: '<jsonpath>', fallback: 'name order', text: 'sort by a field of each object: .metadata.creationTimestamp' },
  { name: 'label-columns', short: 'L', type: 'string', multiple: true, value: '<key,...>', fallback: 'none', text: 'a column with the value of each of these labels' },
  { name: 'no-headers', type: 'boolean', fallback: 'false', text: 'leave out the header line' },
  { name: 'show-labels', type: 'boolean', fallback: 'false', text: 'add a LABELS column' },
  { name: 'show-kind', type: 'boolean', fallback: 'false', text: 'name objects as type/name even for one type' },
];

export const getUsage = verbUsage(
  {
    usage: ['raftplane get <type>[,<type>...] [<name>...] [flags]', 'raftplane get <type>/<name>... [flags]'],
    summary: ["Prints resources as kubectl get does: the apiserver's columns, aligned.", `\`all\` stands for ${resources.filter((r) => r.categories.includes('all')).map((r) => r.resource).join(', ')}.`],
    examples: [
      'raftplane get pods -o wide',
      'raftplane get deploy,svc -l app=web',
      'raftplane get pod/web-1 -o yaml',
      "raftplane get pods -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}'",
      'raftplane get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName --sort-by=.spec.nodeName',
      'raftplane get pods -A -w',
    ],
  },
  flags,
);

export const getVerb: Verb = async (argv, io) => {
  const { values, positionals } = parseReadArgs('get', argv, flags);
  if (printedHelp(values, io, getUsage)) return 0;
  const targets = targetsOf(positionals);
  const options = optionsOf(values, targets);
  return withSession(values, io, async (session) => {
    if (options.watch) return watchTable(session, targets[0] as Target, options, io);
    if (options.output.kind !== 'table') return printObjects(session, targets, options, io);
    return printTables(session, targets, options, io);
  });
};

function shapeOf(table: Table, target: Target, options: GetOptions, severalTypes: boolean): RowShape {
  return rowShape(table, target.info, {
    wide: options.output.kind === 'table' && options.output.wide,
    allNamespaces: options.allNamespaces,
    showLabels: options.showLabels,
    labelColumns: options.labelColumns,
    withType: severalTypes || options.showKind,
  });
}

/** The rows of one target: its list, or each named object (a missing one is reported and skipped). */
async function rowsOf(session: Session, target: Target, options: GetOptions, signal: AbortSignal, errors: string[]): Promise<{ table: Table | undefined; rows: TableRow[] }> {
  const namespace = options.allNamespaces ? undefined : session.namespace;
  // --sort-by reads the whole objects, which the Table rows then carry.
  const includeObject = options.sortBy === undefined ? undefined : 'Object';
  const tables: Table[] = [];
  if (target.names === undefined) tables.push(await listTable(session.client, target.info, namespace, options, signal, includeObject));
  for (const name of target.names ?? []) {
    try {
      tables.push(await objectTable(session.client, target.info, session.namespace, name, signal, includeObject));
    } catch (error) {
      const line = reportable(error);
      if (line === undefined) throw error;
      errors.push(line);
    }
  }
  const rows = sortedBy(tables.flatMap((t) => t.rows), (r) => r.object as KubeObject | undefined, options.sortBy);
  return { table: tables[0], rows };
}

async function printTables(session: Session, targets: readonly Target[], options: GetOptions, io: VerbIO): Promise<number> {
  const errors: string[] = [];
  const blocks: string[][] = [];
  const colour = colourFor(io.isTTY, io.env);
  for (const target of targets) {
    const { table, rows } = await rowsOf(session, target, options, io.signal, errors);
    if (rows.length === 0 || table === undefined) continue;
    const shape = shapeOf(table, target, options, targets.length > 1);
    const body = rows.map((r) => bodyRow(r, shape));
    const writer = new TableWriter(colour);
    blocks.push(options.noHeaders ? writer.lines(body, false) : writer.lines([headerRow(table, shape), ...body], true));
  }
  if (blocks.length > 0) io.stdout.write(`${blocks.map((b) => b.join('\n')).join('\n\n')}\n`);
  else if (errors.length === 0) io.stderr.write(`${noResources(session, targets, options)}\n`);
  for (const line of errors) io.stderr.write(`${line}\n`);
  return errors.length === 0 ? 0 : 1;
}

/** `get -w`: the current table, then a row for every change until io.signal aborts; the header is printed once. */
async function watchTable(session: Session, target: Target, options: GetOptions, io: VerbIO): Promise<number> {
  const name = target.names?.[0];
  const namespace = options.allNamespaces ? undefined : session.namespace;
  const fieldSelector = name === undefined ? options.fieldSelector : [`metadata.name=${name}`, ...(options.fieldSelector === undefined ? [] : [options.fieldSelector])].join(',');
  const selectors = { labelSelector: options.labelSelector, fieldSelector };
  const table = await listTable(session.client, target.info, namespace, selectors, io.signal, undefined);
  const shape = shapeOf(table, target, options, false);
  const writer = new TableWriter(colourFor(io.isTTY, io.env));
  let headerDue = !options.noHeaders;
  const header = [...(options.watchEvents ? ['EVENT'] : []), ...headerRow(table, shape)];
  const print = (rows: string[][]): void => {
    if (rows.length === 0) return;
    const lines = headerDue ? writer.lines([header, ...rows], true) : writer.lines(rows, false);
    headerDue = false;
    io.stdout.write(`${lines.join('\n')}\n`);
  };
  const row = (type: string, cells: string[]): string[] => (options.watchEvents ? [type, ...cells] : cells);
  if (!options.watchOnly) print(table.rows.map((r) => row('ADDED', bodyRow(r, shape))));
  await watchObjects(session.client, target.info, namespace, selectors, table.metadata.resourceVersion ?? '', io.signal, (event) => {
    print([row(event.type, bodyRow(localRow(event.object, target.info), shape))]);
  });
  return 0;
}
