// The pieces every server-side printer is made of (kubernetes pkg/printers): column definitions,
// cells, and the AGE and `<none>` conventions kubectl users know.

import { humanDuration } from './human-duration.js';
import { labelSelectorObjectToString } from './labels.js';
import { parseTime } from './metadata.js';
import type { Container, PodTemplateSpec } from './types/core.js';
import type { KubeObject, LabelSelector, Time } from './types/meta.js';

/** meta/v1 TableColumnDefinition. `priority > 0` columns are shown only by `kubectl get -o wide`. */
export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export type TableCell = string | number | boolean | null;

/** A row's meta/v1 TableRowCondition: `Completed` marks a pod that has finished. */
export interface TableRowCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface PrintContext {
  /** Epoch milliseconds: ages are measured from here. */
  readonly now: number;
}

/** One kind's printer: its columns, and one cell per column for an object. */
export interface Printer {
  readonly columns: readonly TableColumnDefinition[];
  cells(obj: KubeObject, context: PrintContext): TableCell[];
  conditions?(obj: KubeObject): TableRowCondition[] | undefined;
}

export function column(
  name: string,
  type: TableColumnDefinition['type'],
  description: string,
  extra: { priority?: number; format?: string } = {},
): TableColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

export const nameColumn = column('Name', 'string', 'Name must be unique within a namespace.', { format: 'name' });
export const ageColumn = column(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

/**
 * Wraps a printer written for one kind: the registry hands printers plain objects, and the
 * kind argument of toTable says which type they are.
 */
export function printer<T extends KubeObject>(
  columns: readonly TableColumnDefinition[],
  cells: (obj: T, context: PrintContext) => TableCell[],
  conditions?: (obj: T) => TableRowCondition[] | undefined,
): Printer {
  return {
    columns,
    cells: (obj, context) => cells(obj as T, context),
    ...(conditions ? { conditions: (obj: KubeObject) => conditions(obj as T) } : {}),
  };
}

/** translateTimestampSince: the age of a timestamp, `<unknown>` when it is not set. */
export function ageSince(time: Time | null | undefined, context: PrintContext): string {
  if (!time) return '<unknown>';
  return humanDuration(context.now - parseTime(time));
}

export function orNone(text: string | undefined): string {
  return text ? text : '<none>';
}

/** labels.FormatLabels: `a=1,b=2` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

/** layoutContainerCells: the wide CONTAINERS and IMAGES cells of a workload. */
export function containerCells(template: PodTemplateSpec | undefined): [string, string] {
  const containers: readonly Container[] = template?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(',')];
}

/** The wide SELECTOR cell: `app=web,tier in (a,b)`; Kubernetes prints the null selector as "". */
export function selectorCell(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  try {
    return labelSelectorObjectToString(selector);
  } catch {
    return '<invalid>';
  }
}

export const containersColumn = column('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
export const imagesColumn = column('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });
export const selectorColumn = column('Selector', 'string', 'Label selector for pods.', { priority: 1 });
