// How the read verbs print: text aligned as Go's text/tabwriter aligns kubectl's tables and
// describe output, -o json|yaml|name as kubectl writes them, and colour only on a terminal.

import { stringify } from 'yaml';
import type { KubeObject, ResourceInfo } from '@raftplane/api';

export interface TabwriterOptions {
  /** A column is at least this wide, padding included (kubectl's tables: 6; describe: 0). */
  readonly minWidth: number;
  /** Spaces after the widest cell of a column (kubectl's tables: 3; describe: 2). */
  readonly padding: number;
}

/** kubectl's `get` tables (printers.GetNewTabWriter: minwidth 6, padding 3). */
export const tableLayout: TabwriterOptions = { minWidth: 6, padding: 3 };
/** kubectl's `describe` (describe.tabbedString: minwidth 0, padding 2). */
export const describeLayout: TabwriterOptions = { minWidth: 0, padding: 2 };

/**
 * Go's text/tabwriter over `\t`-separated cells: a cell ended by a tab belongs to a column, and a
 * column's width is shared by the run of adjacent lines that have a cell in it; the last cell of
 * a line is not padded. Lines without a tab break a run, which is how describe's sections align
 * on their own.
 */
export function tabwrite(text: string, options: TabwriterOptions): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const out: string[] = new Array<string>(lines.length);
  const widths: number[] = [];
  const emit = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] as string[];
      out[i] = cells.map((cell, c) => (c < cells.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell)).join('');
    }
  };
  const format = (lineFrom: number, lineTo: number): void => {
    const column = widths.length;
    let start = lineFrom;
    for (let at = lineFrom; at < lineTo; at++) {
      if (column >= (lines[at] as string[]).length - 1) continue;
      // A run of lines with a cell in this column starts here.
      emit(start, at);
      start = at;
      let width = options.minWidth;
      for (; at < lineTo && column < (lines[at] as string[]).length - 1; at++) {
        width = Math.max(width, displayWidth((lines[at] as string[])[column] ?? '') + options.padding);
      }
      widths.push(width);
      format(start, at);
      widths.pop();
      start = at;
      at--;
    }
    emit(start, lineTo);
  };
  format(0, lines.length);
  return out.join('\n');
}

/** Characters as a terminal shows them: colour codes take no room. */
export function displayWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/** Rows of cells as kubectl prints a table: columns left-aligned, 3 spaces apart, the last not padded. */
export function alignRows(rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return [];
  return tabwrite(rows.map((r) => r.join('\t')).join('\n'), tableLayout).split('\n');
}

/**
 * A table printed in pieces (`get -w`, `events -w`): each piece is aligned with the widths seen so
 * far, which only grow, as tabwriter.RememberWidths keeps kubectl's watch rows under the header.
 */
export class TableWriter {
  private widths: number[] = [];

  constructor(private readonly colour: Colour) {}

  /** The lines for `rows`; `header` marks the first row as the header (bold on a terminal). */
  lines(rows: readonly (readonly string[])[], header: boolean): string[] {
    for (const row of rows) {
      row.forEach((cell, c) => {
        if (c < row.length - 1) this.widths[c] = Math.max(this.widths[c] ?? tableLayout.minWidth, displayWidth(cell) + tableLayout.padding);
      });
    }
    return rows.map((row, r) => {
      const text = row.map((cell, c) => (c < row.length - 1 ? cell.padEnd((this.widths[c] ?? 0) + cell.length - displayWidth(cell)) : cell)).join('');
      return header && r === 0 ? this.colour.bold(text) : this.colour.status(text, row);
    });
  }
}

/** ANSI colour, or nothing at all when the output is not a terminal. */
export interface Colour {
  bold(text: string): string;
  /** A whole row, red when one of its cells is a failure status. */
  status(text: string, cells: readonly string[]): string;
}

/** Statuses an operator must see: the pod printer's words for something broken. */
const failureWords = /^(Failed|Error|CrashLoopBackOff|ImagePullBackOff|ErrImagePull|CreateContainerConfigError|OOMKilled|Evicted|NotReady|Warning|Init:(Error|CrashLoopBackOff)|Init:ExitCode:\d+|ExitCode:\d+|Signal:\d+)$/;

/** Colour on a terminal, unless NO_COLOR is set to anything (no-color.org). */
export function colourFor(isTTY: boolean, env: NodeJS.ProcessEnv = {}): Colour {
  if (!isTTY || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return { bold: (t) => t, status: (t) => t };
  return {
    bold: (t) => `\x1b[1m${t}\x1b[0m`,
    status: (t, cells) => (cells.some((c) => failureWords.test(c)) ? `\x1b[31m${t}\x1b[0m` : t),
  };
}

/** kubectl's column header: the definition's name upper-cased (`Nominated Node` → `NOMINATED NODE`). */
export function headerOf(name: string): string {
  return name.toUpperCase();
}

/** kubectl leaves managedFields out unless asked (--show-managed-fields): they drown the object. */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** kubectl's `List` wrapper for several objects (-o json|yaml with a list or several names). */
export function listOf(items: readonly KubeObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/** Sorts keys as sigs.k8s.io/yaml does (it goes through a map): apiVersion, kind, metadata, spec, status. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, sortedKeys(record[k])]));
}

/**
 * `-o json` as kubectl writes it: Go's json.MarshalIndent of a map, so keys sorted, four spaces,
 * and `<`, `>`, `&`, U+2028, U+2029 escaped as Go escapes them.
 */
export function toJson(value: unknown): string {
  const text = JSON.stringify(sortedKeys(value), null, 4).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${text}\n`;
}

/**
 * `-o yaml` as kubectl writes it: keys sorted, block sequences not indented under their key,
 * no line folding (a long message stays one line, so it can be copied), plain scalars where YAML 1.1
 * readers would not mistake them (`"yes"`, `"0755"` stay quoted).
 */
export function toYaml(value: unknown): string {
  return stringify(sortedKeys(value), { indent: 2, indentSeq: false, lineWidth: 0, minContentWidth: 0, version: '1.1', aliasDuplicateObjects: false });
}

/** `-o name`: `pod/web-1`, `deployment.apps/web` (the singular, with the group for non-core kinds). */
export function nameOf(info: ResourceInfo, name: string): string {
  return `${info.group === '' ? info.singular : `${info.singular}.${info.group}`}/${name}`;
}

/** labels.FormatLabels: `a=1,b=2` sorted by key, `<none>` when there are none. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}
