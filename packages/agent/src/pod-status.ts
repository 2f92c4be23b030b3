// A pod's status as the agent reports it, computed from what the runtime says about its
// containers and what the probes say (pure: no I/O, time given). The phase follows the kubelet's
// getPhase; conditions keep their lastTransitionTime while their status stays the same, so an
// unchanged pod computes an identical status and is not written again.

import { formatTime, type Container, type ContainerState, type ContainerStatus, type Pod, type PodCondition, type PodPhase, type PodStatus } from '@raftplane/api';
import type { RuntimeContainer } from './runtime/runtime.js';

/** What the agent knows of one container of the pod's spec. */
export interface ContainerView {
  readonly spec: Container;
  /** The newest attempt the runtime has, if any. */
  readonly latest: RuntimeContainer | undefined;
  /** The attempt before it (its termination is `lastState`). */
  readonly previous: RuntimeContainer | undefined;
  /** Why no container runs now when that is not simply "exited": ContainerCreating, CrashLoopBackOff, ErrImagePull, CreateContainerConfigError. */
  readonly waiting: { readonly reason: string; readonly message?: string } | undefined;
  /** The readiness probe's verdict on `latest` (true when it has none and is started). */
  readonly ready: boolean;
  /** The startup probe's verdict on `latest` (true when it has none and runs). */
  readonly started: boolean;
}

export interface PodStatusInput {
  readonly pod: Pod;
  readonly containers: readonly ContainerView[];
  readonly podIP: string | undefined;
  readonly hostIP: string;
  /** The runtime's name: the containerID scheme (`process://…`, `docker://…`). */
  readonly runtimeName: string;
  readonly nowMs: number;
}

function terminatedState(container: RuntimeContainer, runtimeName: string): ContainerState {
  return {
    terminated: {
      exitCode: container.exitCode ?? 0,
      reason: container.reason ?? (container.exitCode === 0 ? 'Completed' : 'Error'),
      ...(container.message === undefined ? {} : { message: container.message }),
      ...(container.startedAt === undefined ? {} : { startedAt: formatTime(container.startedAt) }),
      ...(container.finishedAt === undefined ? {} : { finishedAt: formatTime(container.finishedAt) }),
      containerID: `${runtimeName}://${container.id}`,
    },
  };
}

export function containerStatusOf(view: ContainerView, runtimeName: string): ContainerStatus {
  const { spec, latest, previous, waiting } = view;
  const image = spec.image ?? '';
  if (latest === undefined) {
    return { name: spec.name, state: { waiting: { reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message === undefined ? {} : { message: waiting.message }) } }, lastState: {}, ready: false, restartCount: 0, image, imageID: '', started: false };
  }
  const base = { name: spec.name, image, imageID: latest.imageId, containerID: `${runtimeName}://${latest.id}` };
  if (latest.state === 'running' || latest.state === 'created') {
    const state: ContainerState = latest.state === 'running' ? { running: latest.startedAt === undefined ? {} : { startedAt: formatTime(latest.startedAt) } } : { waiting: { reason: 'ContainerCreating' } };
    return { ...base, restartCount: latest.labels.attempt, state, lastState: previous?.state === 'exited' ? terminatedState(previous, runtimeName) : {}, ready: latest.state === 'running' && view.ready, started: latest.state === 'running' && view.started };
  }
  // Exited: waiting to start again (back-off), or terminated for good.
  const restartCount = latest.labels.attempt;
  if (waiting !== undefined) {
    return { ...base, restartCount, state: { waiting: { reason: waiting.reason, ...(waiting.message === undefined ? {} : { message: waiting.message }) } }, lastState: terminatedState(latest, runtimeName), ready: false, started: false };
  }
  return { ...base, restartCount, state: terminatedState(latest, runtimeName), lastState: previous?.state === 'exited' ? terminatedState(previous, runtimeName) : {}, ready: false, started: false };
}

/** The kubelet's getPhase, for a pod without init containers. */
export function podPhaseOf(statuses: readonly ContainerStatus[], restartPolicy: string): PodPhase {
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of statuses) {
    if (status.state?.running !== undefined) running++;
    else if (status.state?.terminated !== undefined) {
      stopped++;
      if (status.state.terminated.exitCode === 0) succeeded++;
    } else if (status.lastState?.terminated !== undefined) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (restartPolicy === 'OnFailure') return stopped === succeeded ? 'Succeeded' : 'Running';
    return stopped === succeeded ? 'Succeeded' : 'Failed';
  }
  return 'Pending';
}

function condition(previous: readonly PodCondition[] | undefined, type: string, status: 'True' | 'False', nowMs: number, reason?: string, message?: string): PodCondition {
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before !== undefined && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : formatTime(nowMs);
  return { type, status, lastProbeTime: null, lastTransitionTime, ...(reason === undefined ? {} : { reason }), ...(message === undefined ? {} : { message }) };
}

export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod, nowMs } = input;
  const previous = pod.status?.conditions;
  const containerStatuses = input.containers.map((view) => containerStatusOf(view, input.runtimeName));
  const phase = podPhaseOf(containerStatuses, pod.spec?.restartPolicy ?? 'Always');
  const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const ready = unready.length === 0;
  const conditions: PodCondition[] = [
    condition(previous, 'Initialized', 'True', nowMs),
    ready ? condition(previous, 'Ready', 'True', nowMs) : condition(previous, 'Ready', 'False', nowMs, notReadyReason, notReadyMessage),
    ready ? condition(previous, 'ContainersReady', 'True', nowMs) : condition(previous, 'ContainersReady', 'False', nowMs, notReadyReason, notReadyMessage),
  ];
  const scheduled = previous?.find((c) => c.type === 'PodScheduled');
  conditions.push(scheduled ?? condition(previous, 'PodScheduled', 'True', nowMs));
  const { message: _message, reason: _reason, ...kept } = pod.status ?? {};
  return {
    ...kept,
    phase,
    conditions,
    hostIP: input.hostIP,
    ...(input.podIP === undefined ? {} : { podIP: input.podIP, podIPs: [{ ip: input.podIP }] }),
    startTime: pod.status?.startTime ?? formatTime(nowMs),
    containerStatuses,
  };
}

/** Whether two statuses differ in anything the agent writes (key order aside). */
export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return stableJson(a ?? {}) === stableJson(b ?? {});
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}
