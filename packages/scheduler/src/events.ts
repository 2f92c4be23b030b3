// The core/v1 Events the scheduler records on pods (`Scheduled`, `FailedScheduling`), in the shape
// client-go's event recorder writes them: named `<pod>.<hex>`, involvedObject the pod, source the
// scheduler, count 1 with first and last timestamps equal.

import { formatTime, type Event, type Pod } from '@raftplane/api';

export type EventType = 'Normal' | 'Warning';

export const EventReason = {
  Scheduled: 'Scheduled',
  FailedScheduling: 'FailedScheduling',
} as const;

export function scheduledMessage(pod: Pod, nodeName: string): string {
  return `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`;
}

/** 16 hex digits from `random`: the event name's suffix (client-go uses the time in nanoseconds). */
export function randomHex(random: () => number, digits = 16): string {
  let hex = '';
  for (let i = 0; i < digits; i++) hex += Math.min(15, Math.floor(random() * 16)).toString(16);
  return hex;
}

export interface PodEventInput {
  readonly pod: Pod;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly component: string;
  /** Wall-clock time, milliseconds since the epoch. */
  readonly epochMs: number;
  readonly random: () => number;
}

export function podEvent(input: PodEventInput): Event {
  const { pod } = input;
  const time = formatTime(input.epochMs);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${randomHex(input.random)}`, namespace: pod.metadata.namespace },
    involvedObject: {
      kind: 'Pod',
      apiVersion: 'v1',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      resourceVersion: pod.metadata.resourceVersion,
    },
    reason: input.reason,
    message: input.message,
    type: input.type,
    source: { component: input.component },
    reportingComponent: input.component,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
