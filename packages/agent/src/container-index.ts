// The agent's picture of its runtime's containers: filled by a full list at start and on every
// resync, and kept current by what the agent itself starts and stops and by the runtime's exit
// notifications, so that a pod's sync reads memory instead of asking the runtime each time.

import type { RuntimeContainer } from './runtime/runtime.js';

export function podKeyOf(container: RuntimeContainer): string {
  return `${container.labels.podNamespace}/${container.labels.podName}`;
}

export class ContainerIndex {
  private readonly byId = new Map<string, RuntimeContainer>();

  replaceAll(containers: readonly RuntimeContainer[]): void {
    this.byId.clear();
    for (const container of containers) this.byId.set(container.id, container);
  }

  put(container: RuntimeContainer): void {
    this.byId.set(container.id, container);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  get(id: string): RuntimeContainer | undefined {
    return this.byId.get(id);
  }

  all(): RuntimeContainer[] {
    return [...this.byId.values()];
  }

  /** The containers labelled with this pod's namespace and name (of any uid). */
  ofPod(podKey: string): RuntimeContainer[] {
    return this.all().filter((c) => podKeyOf(c) === podKey);
  }

  /** Pod keys that have containers. */
  podKeys(): Set<string> {
    return new Set(this.all().map(podKeyOf));
  }

  /** One pod's attempts of one container, newest first. */
  attempts(podUid: string, containerName: string): RuntimeContainer[] {
    return this.all()
      .filter((c) => c.labels.podUid === podUid && c.labels.containerName === containerName)
      .sort((a, b) => b.labels.attempt - a.labels.attempt || b.createdAt - a.createdAt);
  }
}
