// The resource arithmetic of scheduling (k8s.io/component-helpers resource helpers and the
// scheduler's framework.Resource): what a pod requests and what a node offers, in integer units
// — cpu in millicores, memory in bytes, pods as a count — so that sums never drift.

import { parseQuantity, type Container, type Node, type Pod, type ResourceList } from '@raftplane/api';

export interface Resources {
  milliCpu: number;
  memoryBytes: number;
}

/** What the scheduler assumes a container without a request uses, for scoring only (schedutil.DefaultMilliCPURequest, DefaultMemoryRequest). */
export const defaultMilliCpuRequest = 100;
export const defaultMemoryRequestBytes = 200 * 1024 * 1024;

export interface NodeAllocatable extends Resources {
  podsCount: number;
}

/** cpu: millicores rounded up, as Quantity.MilliValue does; malformed or missing: 0. */
export function milliCpuOf(list: ResourceList | undefined): number {
  const q = list?.cpu;
  if (q === undefined) return 0;
  const value = parseQuantity(q);
  return value === undefined || value < 0 ? 0 : Math.ceil(value * 1000 - 1e-9);
}

/** memory: bytes rounded up, as Quantity.Value does; malformed or missing: 0. */
export function memoryBytesOf(list: ResourceList | undefined): number {
  const q = list?.memory;
  if (q === undefined) return 0;
  const value = parseQuantity(q);
  return value === undefined || value < 0 ? 0 : Math.ceil(value - 1e-9);
}

function containerRequest(container: Container, nonZero: boolean): Resources {
  // The apiserver's defaulting copies limits into missing requests; read limits too so a pod
  // built by hand (tests, a cache fed without defaulting) counts the same way.
  const requests = { ...container.resources?.limits, ...container.resources?.requests };
  let milliCpu = milliCpuOf(requests);
  let memoryBytes = memoryBytesOf(requests);
  if (nonZero && requests.cpu === undefined) milliCpu = defaultMilliCpuRequest;
  if (nonZero && requests.memory === undefined) memoryBytes = defaultMemoryRequestBytes;
  return { milliCpu, memoryBytes };
}

/**
 * A pod's effective request: the sum over its containers, or the largest init container's when
 * that is more (init containers run one at a time, before the others). With `nonZero`, a
 * container without a request counts the defaults above: what scores use, never what filters use.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const total: Resources = { milliCpu: 0, memoryBytes: 0 };
  for (const container of pod.spec?.containers ?? []) {
    const r = containerRequest(container, nonZero);
    total.milliCpu += r.milliCpu;
    total.memoryBytes += r.memoryBytes;
  }
  for (const container of pod.spec?.initContainers ?? []) {
    const r = containerRequest(container, nonZero);
    total.milliCpu = Math.max(total.milliCpu, r.milliCpu);
    total.memoryBytes = Math.max(total.memoryBytes, r.memoryBytes);
  }
  return total;
}

/** What a node offers pods: status.allocatable, else status.capacity (as the kubelet reports both). */
export function nodeAllocatable(node: Node): NodeAllocatable {
  const list = node.status?.allocatable ?? node.status?.capacity;
  const podsQ = list?.pods;
  const pods = podsQ === undefined ? undefined : parseQuantity(podsQ);
  return { milliCpu: milliCpuOf(list), memoryBytes: memoryBytesOf(list), podsCount: pods === undefined || pods < 0 ? 0 : Math.floor(pods) };
}
