// `describe node` as kubectl's NodeDescriber writes it: roles, taints, the node's Lease, conditions,
// addresses, capacity, system info, the pods it runs with their requests and limits, and the
// totals allocated.

import { humanDuration, parseQuantity, parseTime, type Event, type Lease, type Node, type Pod } from '@raftplane/api';
import { describeEvents, describeLabels, describeTime, DescribeText } from './read-describe-text.js';

const roleLabelPrefix = 'node-role.kubernetes.io/';

/** findNodeRoles: `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith(roleLabelPrefix) && key.length > roleLabelPrefix.length) roles.add(key.slice(roleLabelPrefix.length));
    if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

type Amount = 'cpu' | 'memory' | 'ephemeral-storage';

/** The sum over a pod's containers of one resource's requests or limits, in its unit (cores, bytes). */
function podAmount(pod: Pod, kind: 'requests' | 'limits', resource: Amount): number {
  return (pod.spec?.containers ?? []).reduce((sum, c) => sum + (parseQuantity(c.resources?.[kind]?.[resource] ?? 0) ?? 0), 0);
}

/** `250m`, `2`; `64Mi`, `1Gi`: a total back in the units an operator writes. */
export function formatAmount(amount: number, resource: Amount): string {
  if (resource === 'cpu') {
    const millis = Math.round(amount * 1000);
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
  }
  for (const [unit, bytes] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (amount >= bytes && amount % bytes === 0) return `${amount / bytes}${unit}`;
  return String(amount);
}

/** `250m (6%)`: an amount and its share of what the node offers, truncated as kubectl does. */
function share(amount: number, node: Node, resource: Amount): string {
  const allocatable = parseQuantity(node.status?.allocatable?.[resource] ?? 0) ?? 0;
  const percent = allocatable <= 0 ? 0 : Math.trunc((amount / allocatable) * 100);
  return `${formatAmount(amount, resource)} (${percent}%)`;
}

/** The node's heartbeat Lease, or kubectl's line for a node without one. */
function describeLease(text: DescribeText, lease: Lease | string): void {
  if (typeof lease === 'string') {
    text.line(0, 'Lease:', `Failed to get lease: ${lease}`);
    return;
  }
  text.line(0, 'Lease:');
  text.line(1, 'HolderIdentity:', lease.spec?.holderIdentity ?? '<unset>');
  text.line(1, 'AcquireTime:', describeTime(lease.spec?.acquireTime));
  text.line(1, 'RenewTime:', describeTime(lease.spec?.renewTime));
}

function describeNodeStatus(text: DescribeText, node: Node): void {
  text.line(0, 'Conditions:');
  text.line(1, 'Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message');
  text.line(1, '----', '------', '-----------------', '------------------', '------', '-------');
  // kubectl writes each cell with a trailing space, so these columns are a space wider than their text.
  for (const c of node.status?.conditions ?? []) text.line(1, `${c.type} `, `${c.status} `, `${describeTime(c.lastHeartbeatTime)} `, `${describeTime(c.lastTransitionTime)} `, `${c.reason ?? ''} `, c.message ?? '');
  text.line(0, 'Addresses:');
  for (const a of node.status?.addresses ?? []) text.line(1, `${a.type}:`, a.address);
  for (const [label, list] of [['Capacity:', node.status?.capacity], ['Allocatable:', node.status?.allocatable]] as const) {
    text.line(0, label);
    for (const key of Object.keys(list ?? {}).sort()) text.line(1, `${key}:`, String(list?.[key] ?? ''));
  }
  const info = node.status?.nodeInfo;
  text.line(0, 'System Info:');
  const fields: [string, string | undefined][] = [
    ['Machine ID:', info?.machineID],
    ['System UUID:', info?.systemUUID],
    ['Boot ID:', info?.bootID],
    ['Kernel Version:', info?.kernelVersion],
    ['OS Image:', info?.osImage],
    ['Operating System:', info?.operatingSystem],
    ['Architecture:', info?.architecture],
    ['Container Runtime Version:', info?.containerRuntimeVersion],
    ['Kubelet Version:', info?.kubeletVersion],
    ['Kube-Proxy Version:', info?.kubeProxyVersion],
  ];
  for (const [label, value] of fields) text.line(1, label, value ?? '');
  if (node.spec?.podCIDR) text.line(0, 'PodCIDR:', node.spec.podCIDR);
  if ((node.spec?.podCIDRs ?? []).length > 0) text.line(0, 'PodCIDRs:', (node.spec?.podCIDRs ?? []).join(','));
}

function describeNodePods(text: DescribeText, node: Node, pods: readonly Pod[], nowMs: number): void {
  const running = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  text.line(0, 'Non-terminated Pods:', `(${running.length} in total)`);
  // The empty cell after Name is kubectl's own (a double tab in its format).
  text.line(1, 'Namespace', 'Name', '', 'CPU Requests', 'CPU Limits', 'Memory Requests', 'Memory Limits', 'Age');
  text.line(1, '---------', '----', '', '------------', '----------', '---------------', '-------------', '---');
  for (const pod of running) {
    const age = pod.metadata.creationTimestamp ? humanDuration(nowMs - parseTime(pod.metadata.creationTimestamp)) : '<unknown>';
    const amounts = (['cpu', 'memory'] as const).flatMap((r) => [share(podAmount(pod, 'requests', r), node, r), share(podAmount(pod, 'limits', r), node, r)]);
    text.line(1, pod.metadata.namespace ?? '', pod.metadata.name ?? '', '', ...amounts, age);
  }
  text.line(0, 'Allocated resources:');
  text.line(1, '(Total limits may be over 100 percent, i.e., overcommitted.)');
  text.line(1, 'Resource', 'Requests', 'Limits');
  text.line(1, '--------', '--------', '------');
  for (const resource of ['cpu', 'memory', 'ephemeral-storage'] as const) {
    const total = (kind: 'requests' | 'limits'): number => running.reduce((sum, p) => sum + podAmount(p, kind, resource), 0);
    text.line(1, resource, share(total('requests'), node, resource), share(total('limits'), node, resource));
  }
}

/** `lease` is the node's Lease in kube-node-lease, or the reason it could not be read. */
export function describeNode(node: Node, lease: Lease | string, pods: readonly Pod[], events: readonly Event[] | undefined, nowMs: number): string {
  const text = new DescribeText();
  text.line(0, 'Name:', node.metadata.name ?? '');
  text.line(0, 'Roles:', nodeRoles(node));
  describeLabels(text, node.metadata);
  text.line(0, 'CreationTimestamp:', describeTime(node.metadata.creationTimestamp));
  const taints = (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  if (taints.length === 0) text.line(0, 'Taints:', '<none>');
  taints.forEach((t, i) => text.line(0, i === 0 ? 'Taints:' : '', t));
  text.line(0, 'Unschedulable:', String(node.spec?.unschedulable ?? false));
  describeLease(text, lease);
  describeNodeStatus(text, node);
  describeNodePods(text, node, pods, nowMs);
  describeEvents(text, events, nowMs);
  return text.toString();
}
