// The pieces every `describe` is written with, in kubectl's layout (pkg/describe): a prefix writer
// whose `Label:\tvalue` lines are aligned by tabwriter per run of lines, kubectl's time format,
// labels and annotations one per line, and the Events section.

import { humanDuration, parseTime, type Event, type KubeObject, type ObjectMeta } from '@raftplane/api';
import { describeLayout, tabwrite } from './printing.js';

/** kubectl's PrefixWriter: each level indents two spaces; cells are separated by tabs. */
export class DescribeText {
  private readonly lines: string[] = [];

  /** One line at `level`: `cells` joined by tabs (`['Name:', 'web-1']`). */
  line(level: number, ...cells: string[]): void {
    this.lines.push(`${'  '.repeat(level)}${cells.join('\t')}`);
  }

  /** `Labels:  a=1` then `        b=2` (the rest under the first, as kubectl prints a map). */
  map(level: number, label: string, entries: Readonly<Record<string, string>> | undefined, separator = '='): void {
    const keys = Object.keys(entries ?? {}).sort();
    if (keys.length === 0) {
      this.line(level, label, '<none>');
      return;
    }
    keys.forEach((key, i) => this.line(level, i === 0 ? label : '', `${key}${separator}${entries?.[key] ?? ''}`));
  }

  toString(): string {
    return `${tabwrite(this.lines.join('\n'), describeLayout)}\n`;
  }
}

/** Go's time.RFC1123Z as kubectl prints times: `Thu, 26 Nov 2026 21:53:06 +0000` (UTC here). */
export function describeTime(time: string | null | undefined): string {
  if (time === null || time === undefined || time === '') return '<unset>';
  const date = new Date(parseTime(time));
  const [weekday, day, month, year, clock] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday}, ${day} ${month} ${year} ${clock} +0000`;
}

/** Name, Namespace, Labels, Annotations: the lines every describe opens with. */
export function describeMeta(text: DescribeText, metadata: ObjectMeta, namespaced: boolean): void {
  text.line(0, 'Name:', metadata.name ?? '');
  if (namespaced) text.line(0, 'Namespace:', metadata.namespace ?? '');
  describeLabels(text, metadata);
}

/** Labels, then Annotations, one per line. */
export function describeLabels(text: DescribeText, metadata: ObjectMeta): void {
  text.map(0, 'Labels:', metadata.labels);
  // kubectl leaves out the client-side apply annotation: it is the whole object again.
  const annotations = Object.fromEntries(Object.entries(metadata.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'));
  text.map(0, 'Annotations:', annotations, ': ');
}

/** `ReplicaSet/web-6d4f` for the controller owner, when there is one. */
export function controlledBy(obj: KubeObject): string | undefined {
  const owner = obj.metadata.ownerReferences?.find((o) => o.controller === true);
  return owner === undefined ? undefined : `${owner.kind}/${owner.name}`;
}

function eventTime(event: Event): number {
  const time = event.lastTimestamp || event.eventTime || event.firstTimestamp || event.metadata.creationTimestamp;
  return time ? parseTime(time) : 0;
}

/** Events oldest first, as kubectl's SortableEvents (by last seen). */
export function sortEvents(events: readonly Event[]): Event[] {
  return [...events].sort((a, b) => eventTime(a) - eventTime(b));
}

/** kubectl's AGE of an event: `5s`, or `3m (x4 over 10m)` when it happened more than once. */
export function eventAge(event: Event, nowMs: number): string {
  const last = humanDuration(nowMs - eventTime(event));
  const first = event.firstTimestamp || event.eventTime;
  if ((event.count ?? 1) > 1 && first) return `${last} (x${event.count ?? 1} over ${humanDuration(nowMs - parseTime(first))})`;
  return last;
}

/** The reporting component, as kubectl's `From`. */
export function eventSource(event: Event): string {
  return event.source?.component || event.reportingComponent || '';
}

/** The Events section: `Events:  <none>`, or kubectl's five columns with their underlines; nothing for --show-events=false (undefined). */
export function describeEvents(text: DescribeText, events: readonly Event[] | undefined, nowMs: number): void {
  if (events === undefined) return;
  if (events.length === 0) {
    text.line(0, 'Events:', '<none>');
    return;
  }
  text.line(0, 'Events:');
  text.line(1, 'Type', 'Reason', 'Age', 'From', 'Message');
  text.line(1, '----', '------', '----', '----', '-------');
  for (const event of sortEvents(events)) {
    text.line(1, event.type ?? '', event.reason ?? '', eventAge(event, nowMs), eventSource(event), (event.message ?? '').trim());
  }
}
