// Which backend a new connection tries first, per service port: round robin, or, with ClientIP
// session affinity, the backend the client last used while that is still ready and the affinity
// has not timed out (kube-proxy's userspace LoadBalancerRR). Pure apart from the clock's reading,
// which callers pass in.

import { backendKey, type Backend } from './frontends.js';

/** Clients remembered per service port; past it the least recently seen is forgotten (house rule 2). */
export const affinityClientsMax = 10_000;

interface Affinity {
  readonly backend: string;
  readonly lastUsedMs: number;
}

export class ServicePortBalancer {
  /** The round-robin position: the next connection starts at this index (mod the backend count). */
  private next: number;
  /** By client IP, least recently seen first (a Map keeps insertion order; a use re-inserts). */
  private readonly affinity = new Map<string, Affinity>();

  constructor(random: () => number) {
    // Proxies on different machines start at different backends.
    this.next = Math.floor(random() * 1024);
  }

  /** The backends in the order a connection from `clientIP` should try them. */
  order(backends: readonly Backend[], clientIP: string, nowMs: number, affinityMs: number): Backend[] {
    if (backends.length === 0) return [];
    const start = this.next % backends.length;
    this.next = (start + 1) % backends.length;
    const rotated = [...backends.slice(start), ...backends.slice(0, start)];
    if (affinityMs === 0) return rotated;
    const remembered = this.affinity.get(clientIP);
    if (remembered === undefined) return rotated;
    if (nowMs - remembered.lastUsedMs > affinityMs) {
      this.affinity.delete(clientIP);
      return rotated;
    }
    const sticky = rotated.find((b) => backendKey(b) === remembered.backend);
    // Its backend is no longer ready: the client gets a new one.
    if (sticky === undefined) return rotated;
    return [sticky, ...rotated.filter((b) => b !== sticky)];
  }

  /** A connection from `clientIP` reached `backend`: with affinity, the client stays with it. */
  connected(backend: Backend, clientIP: string, nowMs: number, affinityMs: number): void {
    if (affinityMs === 0) return;
    this.affinity.delete(clientIP);
    this.affinity.set(clientIP, { backend: backendKey(backend), lastUsedMs: nowMs });
    if (this.affinity.size > affinityClientsMax) {
      const oldest = this.affinity.keys().next().value;
      if (oldest !== undefined) this.affinity.delete(oldest);
    }
  }

  /** Clients remembered now, for tests. */
  affinityCount(): number {
    return this.affinity.size;
  }
}
