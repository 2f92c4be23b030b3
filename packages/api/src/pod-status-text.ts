// What kubectl shows for a pod in READY, STATUS and RESTARTS (kubernetes 1.20
// pkg/printers/internalversion/printers.go, printPod): one word that summarises phase, init
// containers, container states and deletion.

import type { ContainerState, Pod } from './types/core.js';

export interface PodStatusText {
  /** `1/2`: containers ready and running, over containers in the spec. */
  ready: string;
  /** `Running`, `ContainerCreating`, `CrashLoopBackOff`, `Init:0/1`, `Completed`, `Terminating`, ... */
  status: string;
  /** Restarts of the init container still running, or else of all app containers. */
  restarts: number;
}

/** The reason the kubelet's node controller sets when a node is unreachable. */
const nodeUnreachableReason = 'NodeLost';

export function podStatusText(pod: Pod): PodStatusText {
  const initContainersInSpec = pod.spec?.initContainers?.length ?? 0;
  let reason: string = pod.status?.reason || pod.status?.phase || '';
  let restarts = 0;
  let readyContainers = 0;

  let initializing = false;
  const initStatuses = pod.status?.initContainerStatuses ?? [];
  for (const [i, container] of initStatuses.entries()) {
    restarts += container.restartCount;
    const state: ContainerState = container.state ?? {};
    if (state.terminated && state.terminated.exitCode === 0) continue;
    initializing = true;
    if (state.terminated) {
      reason = state.terminated.reason
        ? `Init:${state.terminated.reason}`
        : state.terminated.signal
          ? `Init:Signal:${state.terminated.signal}`
          : `Init:ExitCode:${state.terminated.exitCode}`;
    } else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${initContainersInSpec}`;
    }
    break;
  }

  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    const statuses = pod.status?.containerStatuses ?? [];
    // Backwards, as Kubernetes does: the first container's reason wins.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      if (container === undefined) continue;
      restarts += container.restartCount;
      const state: ContainerState = container.state ?? {};
      if (state.waiting?.reason) {
        reason = state.waiting.reason;
      } else if (state.terminated?.reason) {
        reason = state.terminated.reason;
      } else if (state.terminated) {
        reason = state.terminated.signal ? `Signal:${state.terminated.signal}` : `ExitCode:${state.terminated.exitCode}`;
      } else if (container.ready && state.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod with one container still running is Running, even when another has completed.
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }

  if (pod.metadata.deletionTimestamp) {
    reason = pod.status?.reason === nodeUnreachableReason ? 'Unknown' : 'Terminating';
  }

  const containersInSpec = pod.spec?.containers.length ?? 0;
  return { ready: `${readyContainers}/${containersInSpec}`, status: reason, restarts };
}
