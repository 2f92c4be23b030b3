// What every filter and score needs to know about the pod being scheduled, computed once per
// scheduling attempt instead of once per node (the framework's PreFilter state).

import type { Pod, Toleration } from '@raftplane/api';
import { objectKey } from '@raftplane/client';
import { podHostPorts, type HostPort } from './node-info.js';
import { podRequests, type Resources } from './resources.js';

export interface PodContext {
  readonly pod: Pod;
  readonly key: string;
  readonly requests: Resources;
  readonly nonZeroRequests: Resources;
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly Toleration[];
  /**
   * Which pods count as "the same group" for spreading: same namespace and the same controller,
   * or selected by one of the Services that select this pod. Undefined: the pod belongs to none.
   */
  readonly spreadGroup: ((other: Pod) => boolean) | undefined;
}

export function newPodContext(pod: Pod, spreadGroup?: (other: Pod) => boolean): PodContext {
  return {
    pod,
    key: objectKey(pod),
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    hostPorts: podHostPorts(pod),
    tolerations: pod.spec?.tolerations ?? [],
    spreadGroup,
  };
}
