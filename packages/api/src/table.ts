// Server-side printing: the meta.k8s.io/v1 Table the apiserver answers when kubectl asks with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (kubectl-wire.md §2, §3). Each kind has
// Kubernetes' columns; a kind without a printer gets Kubernetes' default NAME, CREATED AT.

import type { ObjectMeta, KubeObject, ListMeta } from './types/meta.js';
import { column, nameColumn, type Printer, type TableCell, type TableColumnDefinition, type TableRowCondition, printer } from './table-printing.js';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  podPrinter,
  secretPrinter,
  servicePrinter,
} from './table-printers-core.js';
import {
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  leasePrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './table-printers-workloads.js';

export type { TableCell, TableColumnDefinition, TableRowCondition } from './table-printing.js';

/** What each row carries besides its cells: `Metadata` (the server default) is what kubectl needs for `-A`. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

export interface PartialObjectMetadataList {
  kind: 'PartialObjectMetadataList';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  items: PartialObjectMetadata[];
}

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  /** Absent for `includeObject: 'None'`. */
  object?: PartialObjectMetadata | KubeObject;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableOptions {
  /** Epoch milliseconds, for AGE and DURATION. */
  now: () => number;
  /** Include the `priority: 1` columns that `kubectl get -o wide` shows (the apiserver always does). */
  wide: boolean;
  includeObject: IncludeObject;
  /** The list's metadata (resourceVersion, continue) copied to the table's. */
  listMeta?: ListMeta;
}

const printers: ReadonlyMap<string, Printer> = new Map([
  ['Pod', podPrinter],
  ['Node', nodePrinter],
  ['Service', servicePrinter],
  ['Endpoints', endpointsPrinter],
  ['ConfigMap', configMapPrinter],
  ['Secret', secretPrinter],
  ['Namespace', namespacePrinter],
  ['Event', eventPrinter],
  ['Deployment', deploymentPrinter],
  ['ReplicaSet', replicaSetPrinter],
  ['DaemonSet', daemonSetPrinter],
  ['StatefulSet', statefulSetPrinter],
  ['Job', jobPrinter],
  ['Lease', leasePrinter],
]);

/** The apiserver's DefaultTableConvertor, for kinds without a printer. */
const defaultPrinter: Printer = printer<KubeObject>(
  [nameColumn, column('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? null],
);

/** Whether a kind has Kubernetes' own columns (and not just NAME, CREATED AT). */
export function hasTablePrinter(kind: string): boolean {
  return printers.has(kind);
}

/** The table for a list of objects of one kind; an empty list still has the column definitions. */
export function toTable(objects: readonly KubeObject[], kind: string, options: TableOptions): Table {
  const chosen = printers.get(kind) ?? defaultPrinter;
  const shown = chosen.columns.map((c, i) => ({ c, i })).filter(({ c }) => options.wide || c.priority === 0);
  const context = { now: options.now() };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...options.listMeta },
    columnDefinitions: shown.map(({ c }) => ({ ...c })),
    rows: objects.map((obj) => {
      const cells = chosen.cells(obj, context);
      const row: TableRow = { cells: shown.map(({ i }) => cells[i] ?? null) };
      const conditions = chosen.conditions?.(obj);
      if (conditions) row.conditions = conditions;
      const object = rowObject(obj, options.includeObject);
      if (object) row.object = object;
      return row;
    }),
  };
}

function rowObject(obj: KubeObject, includeObject: IncludeObject): PartialObjectMetadata | KubeObject | undefined {
  switch (includeObject) {
    case 'None':
      return undefined;
    case 'Metadata':
      return partialObjectMetadata(obj);
    case 'Object':
      return obj;
  }
}

/** meta.AsPartialObjectMetadata: the object's metadata alone, as `?includeObject=Metadata` returns it. */
export function partialObjectMetadata(obj: KubeObject): PartialObjectMetadata {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** What `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` lists. */
export function partialObjectMetadataList(objects: readonly KubeObject[], listMeta: ListMeta = {}): PartialObjectMetadataList {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...listMeta },
    items: objects.map(partialObjectMetadata),
  };
}

/** The `includeObject` query parameter, or the default (`Metadata`) when absent or unknown. */
export function parseIncludeObject(value: string | null | undefined): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}
