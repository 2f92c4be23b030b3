// The server-side Tables `get` prints (kubectl-wire.md §2): fetched with kubectl's Accept header so
// the columns are the apiserver's, and turned into rows of text with kubectl's extra columns
// (NAMESPACE for -A, -L label columns, LABELS for --show-labels) and `type/name` when several
// types are printed.

import { groupVersionOf, toTable, type KubeObject, type ResourceInfo, type Table, type TableCell, type TableRow } from '@raftplane/api';
import { collectionPath, listPageLimit, objectPath, statusErrorFromResponse, type Client, type TransportRequest } from '@raftplane/client';
import { formatLabels, headerOf, nameOf } from './printing.js';

/** kubectl's Accept for `get`: a Table, else plain JSON from a server that has no Tables. */
export const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export interface Selectors {
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
}

function isTable(body: unknown): body is Table {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Table' && Array.isArray((body as { rows?: unknown }).rows);
}

async function requestTable(client: Client, request: TransportRequest, info: ResourceInfo): Promise<Table> {
  const response = await client.transport.request(request);
  if (response.status < 200 || response.status >= 300) throw statusErrorFromResponse(response, request);
  if (isTable(response.body)) return response.body;
  // A server without Tables answered with the object or list: print it with our own printers.
  const body = response.body as { items?: KubeObject[] } & KubeObject;
  const objects = Array.isArray(body.items) ? body.items : [body];
  return toTable(objects, info.kind, { now: Date.now, wide: true, includeObject: request.query?.includeObject === 'Object' ? 'Object' : 'Metadata', listMeta: { resourceVersion: body.metadata?.resourceVersion ?? '' } });
}

/** Every row of a list as a Table, page by page (500 rows a page, as kubectl asks). `namespace` undefined: all namespaces. */
export async function listTable(client: Client, info: ResourceInfo, namespace: string | undefined, selectors: Selectors, signal: AbortSignal, includeObject: 'Object' | undefined): Promise<Table> {
  const path = collectionPath(info, namespace);
  let first: Table | undefined;
  const rows: TableRow[] = [];
  let next: string | undefined;
  do {
    const query: Record<string, string> = { limit: String(listPageLimit) };
    if (selectors.labelSelector !== undefined) query.labelSelector = selectors.labelSelector;
    if (selectors.fieldSelector !== undefined) query.fieldSelector = selectors.fieldSelector;
    if (next !== undefined) query.continue = next;
    if (includeObject !== undefined) query.includeObject = includeObject;
    const page = await requestTable(client, { method: 'GET', path, query, headers: { accept: tableAccept }, signal }, info);
    first ??= page;
    rows.push(...page.rows);
    next = page.metadata.continue === undefined || page.metadata.continue === '' ? undefined : page.metadata.continue;
  } while (next !== undefined);
  return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion ?? '' }, rows };
}

/** One object as a one-row Table; throws the server's StatusError (NotFound) when it is not there. */
export async function objectTable(client: Client, info: ResourceInfo, namespace: string, name: string, signal: AbortSignal, includeObject: 'Object' | undefined): Promise<Table> {
  const query: Record<string, string> = includeObject === undefined ? {} : { includeObject };
  return requestTable(client, { method: 'GET', path: objectPath(info, namespace, name), query, headers: { accept: tableAccept }, signal }, info);
}

/** A watched object as a Table row, by the same printers the apiserver uses (the transport's watch has no Table form). */
export function localRow(obj: KubeObject, info: ResourceInfo): TableRow {
  const table = toTable([{ ...obj, kind: obj.kind ?? info.kind, apiVersion: obj.apiVersion ?? groupVersionOf(info) }], info.kind, { now: Date.now, wide: true, includeObject: 'Metadata' });
  return table.rows[0] as TableRow;
}

export interface RowShape {
  readonly info: ResourceInfo;
  /** Column indexes shown: priority 0, or all for -o wide. */
  readonly shown: readonly number[];
  readonly nameIndex: number;
  readonly withNamespace: boolean;
  readonly withLabels: boolean;
  /** -L: one column per label key, headed by the key's last part upper-cased. */
  readonly labelColumns: readonly string[];
  /** `pod/web-1` in the name column: several types are printed, or --show-kind. */
  readonly withType: boolean;
}

export function rowShape(table: Table, info: ResourceInfo, options: { wide: boolean; allNamespaces: boolean; showLabels: boolean; labelColumns: readonly string[]; withType: boolean }): RowShape {
  const shown = table.columnDefinitions.flatMap((c, i) => (options.wide || c.priority === 0 ? [i] : []));
  const nameIndex = table.columnDefinitions.findIndex((c) => c.format === 'name' || c.name === 'Name');
  // kubectl adds NAMESPACE with -A only for namespaced resources (nodes have none).
  return { info, shown, nameIndex, withNamespace: options.allNamespaces && info.namespaced, withLabels: options.showLabels, labelColumns: options.labelColumns, withType: options.withType };
}

export function headerRow(table: Table, shape: RowShape): string[] {
  const names = shape.shown.map((i) => headerOf(table.columnDefinitions[i]?.name ?? ''));
  const labelHeaders = shape.labelColumns.map((key) => (key.split('/').at(-1) ?? key).toUpperCase());
  return [...(shape.withNamespace ? ['NAMESPACE'] : []), ...names, ...labelHeaders, ...(shape.withLabels ? ['LABELS'] : [])];
}

function cellText(cell: TableCell | undefined): string {
  if (cell === null || cell === undefined) return '<none>';
  return String(cell);
}

export function bodyRow(row: TableRow, shape: RowShape): string[] {
  const metadata = (row.object as KubeObject | undefined)?.metadata;
  const cells = shape.shown.map((i) => {
    const text = cellText(row.cells[i]);
    return i === shape.nameIndex && shape.withType ? nameOf(shape.info, text) : text;
  });
  const labelCells = shape.labelColumns.map((key) => metadata?.labels?.[key] ?? '');
  return [...(shape.withNamespace ? [metadata?.namespace ?? ''] : []), ...cells, ...labelCells, ...(shape.withLabels ? [formatLabels(metadata?.labels)] : [])];
}
