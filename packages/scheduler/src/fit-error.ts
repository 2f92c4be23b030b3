// The message of a pod that fits nowhere, word for word as kube-scheduler's FitError.Error()
// builds it: each reason with the number of nodes that gave it, as "<count> <reason>", sorted as
// strings (Go's sort.Strings), joined with ", ", ended with a period.

/** ErrNoNodesAvailable: what Kubernetes says when the cluster has no node at all. */
export const noNodesAvailableMessage = 'no nodes available to schedule pods';

export function fitErrorMessage(nodeCount: number, reasonCounts: ReadonlyMap<string, number>): string {
  const histogram = [...reasonCounts].map(([reason, count]) => `${count} ${reason}`);
  // Byte order, as Go compares strings: the default JS sort compares UTF-16 code units, which
  // agrees for the ASCII these reasons are written in.
  histogram.sort();
  return `0/${nodeCount} nodes are available: ${histogram.join(', ')}.`;
}
