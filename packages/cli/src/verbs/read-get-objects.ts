// `get` with output made from the objects themselves rather than the server's Table: -o yaml,
// json, name, jsonpath= and custom-columns=, as kubectl prints them.

import type { KubeObject, ResourceInfo } from '@raftplane/api';
import { colourFor, listOf, nameOf, TableWriter, toJson, toYaml, withoutManagedFields } from './printing.js';
import { noResources, reportable, sortedBy, type GetOptions, type Target } from './read-get-options.js';
import { executeJsonPath, goValueText, templateValues } from './read-jsonpath.js';
import type { Session, VerbIO } from './session.js';

interface Found {
  readonly info: ResourceInfo;
  readonly obj: KubeObject;
}

async function fetchObjects(session: Session, targets: readonly Target[], options: GetOptions, io: VerbIO, errors: string[]): Promise<Found[]> {
  const found: Found[] = [];
  for (const { info, names } of targets) {
    const resource = session.client.resourceFor(info, options.allNamespaces ? undefined : session.namespace);
    const ofType: Found[] = [];
    if (names === undefined) {
      const list = await resource.listAll({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, signal: io.signal });
      ofType.push(...list.items.map((obj) => ({ info, obj })));
    }
    for (const name of names ?? []) {
      try {
        ofType.push({ info, obj: await resource.get(name, { signal: io.signal }) });
      } catch (error) {
        const line = reportable(error);
        if (line === undefined) throw error;
        errors.push(line);
      }
    }
    found.push(...sortedBy(ofType, (f) => f.obj, options.sortBy).map((f) => ({ info: f.info, obj: withoutManagedFields(f.obj) })));
  }
  return found;
}

/** custom-columns: each column's values joined by commas, `<none>` when a path finds nothing. */
function customColumns(found: readonly Found[], options: GetOptions, io: VerbIO): string {
  if (options.output.kind !== 'custom-columns') return '';
  const { columns } = options.output;
  const rows = found.map(({ obj }) =>
    columns.map((c) => {
      const values = templateValues(c.template, obj);
      return values.length === 0 ? '<none>' : values.map(goValueText).join(',');
    }),
  );
  const writer = new TableWriter(colourFor(io.isTTY, io.env));
  const lines = options.noHeaders ? writer.lines(rows, false) : writer.lines([columns.map((c) => c.header), ...rows], true);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export async function printObjects(session: Session, targets: readonly Target[], options: GetOptions, io: VerbIO): Promise<number> {
  const errors: string[] = [];
  const found = await fetchObjects(session, targets, options, io, errors);
  const single = targets.length === 1 && targets[0]?.names?.length === 1 && found.length === 1;
  const value = single ? (found[0]?.obj as KubeObject) : listOf(found.map((f) => f.obj));
  const printsEmpty = options.output.kind === 'yaml' || options.output.kind === 'json' || options.output.kind === 'jsonpath';
  if (found.length > 0 || (printsEmpty && errors.length === 0)) {
    switch (options.output.kind) {
      case 'name':
        io.stdout.write(found.map(({ info, obj }) => `${nameOf(info, obj.metadata.name ?? '')}\n`).join(''));
        break;
      case 'json':
        io.stdout.write(toJson(value));
        break;
      case 'yaml':
        io.stdout.write(toYaml(value));
        break;
      case 'jsonpath':
        // kubectl adds no newline: the template says where lines end.
        io.stdout.write(executeJsonPath(options.output.template, value));
        break;
      case 'custom-columns':
        io.stdout.write(customColumns(found, options, io));
        break;
      case 'table':
        break;
    }
  }
  if (found.length === 0 && errors.length === 0 && !printsEmpty) io.stderr.write(`${noResources(session, targets, options)}\n`);
  for (const line of errors) io.stderr.write(`${line}\n`);
  return errors.length === 0 ? 0 : 1;
}
