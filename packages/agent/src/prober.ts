// Liveness, readiness and startup probes, one loop per probe of a running container, as the
// kubelet's prober workers: wait initialDelaySeconds, then probe every periodSeconds with
// timeoutSeconds; a result counts only after successThreshold successes or failureThreshold
// failures in a row. Readiness starts as failure, liveness and startup as success; liveness and
// readiness wait until the startup probe has succeeded. Results go to `onResult`; the agent kills
// a container whose liveness or startup probe fails and recomputes the pod's readiness.

import { connect } from 'node:net';
import { request } from 'undici';
import type { Container, IntOrString, Probe } from '@raftplane/api';
import type { ContainerRuntime } from './runtime/runtime.js';
import { wait } from './wait.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTarget {
  readonly podKey: string;
  readonly containerId: string;
  readonly container: Container;
  readonly podIP: string;
}

/** One probe attempt's outcome: `verdict` is the probe's result after thresholds; `changed` says it just flipped. */
export interface ProbeOutcome {
  readonly success: boolean;
  readonly verdict: boolean;
  readonly changed: boolean;
  readonly message: string;
}

export type ProbeListener = (target: ProbeTarget, kind: ProbeKind, outcome: ProbeOutcome) => void;

/** Resolves a probe's port: a number, or the name of one of the container's ports. */
export function probePort(container: Container, port: IntOrString): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** One probe attempt: success and a message for events (`Liveness probe failed: ...`). */
export async function runProbe(probe: Probe, target: ProbeTarget, runtime: ContainerRuntime, signal: AbortSignal): Promise<{ success: boolean; message: string }> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec !== undefined) {
    const result = await runtime.exec(target.containerId, probe.exec.command ?? [], timeoutMs);
    if (result.exitCode === 0) return { success: true, message: '' };
    return { success: false, message: result.exitCode === -1 ? `command timed out after ${timeoutMs / 1000}s` : `command exited with ${result.exitCode}: ${result.output.trim().slice(0, 200)}` };
  }
  const action = probe.httpGet ?? probe.tcpSocket;
  if (action === undefined) return { success: false, message: 'the probe has no handler (exec, httpGet or tcpSocket)' };
  const port = probePort(target.container, action.port);
  const host = action.host ?? target.podIP;
  if (port === undefined) return { success: false, message: `port ${JSON.stringify(action.port)} is not a port of container ${target.container.name}` };
  if (probe.httpGet !== undefined) {
    const path = probe.httpGet.path ?? '/';
    const url = `${probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };
    for (const header of probe.httpGet.httpHeaders ?? []) headers[header.name.toLowerCase()] = header.value;
    try {
      const response = await request(url, { method: 'GET', headers, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 400) return { success: true, message: '' };
      return { success: false, message: `HTTP probe failed with statuscode: ${response.statusCode}` };
    } catch (error) {
      return { success: false, message: `Get "${url}": ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (success: boolean, message: string): void => {
      socket.destroy();
      resolve({ success, message });
    };
    socket.once('connect', () => done(true, ''));
    socket.once('timeout', () => done(false, `dial tcp ${host}:${port}: i/o timeout`));
    socket.once('error', (error) => done(false, `dial tcp ${host}:${port}: ${error.message}`));
  });
}


interface Worker {
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

export class Prober {
  /** Probe loops by container id. */
  private readonly workers = new Map<string, Worker[]>();
  /** The verdicts so far, by `<container id>/<kind>`. */
  private readonly results = new Map<string, boolean>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly onResult: ProbeListener,
    private readonly signal: AbortSignal,
  ) {}

  /** The verdict of a probe of a container: undefined when it has none (or none yet for startup). */
  result(containerId: string, kind: ProbeKind): boolean | undefined {
    return this.results.get(`${containerId}/${kind}`);
  }

  /** Whether the container passes its readiness probe (or has none). */
  ready(containerId: string, container: Container): boolean {
    if (container.readinessProbe === undefined) return true;
    return this.results.get(`${containerId}/readiness`) === true;
  }

  /** Whether the container passed its startup probe (or has none). */
  started(containerId: string, container: Container): boolean {
    if (container.startupProbe === undefined) return true;
    return this.results.get(`${containerId}/startup`) === true;
  }

  /** Starts the probe loops of a running container, once. */
  ensure(target: ProbeTarget): void {
    if (this.workers.has(target.containerId) || this.signal.aborted) return;
    const loops: Worker[] = [];
    const { container } = target;
    for (const [kind, probe] of [
      ['startup', container.startupProbe],
      ['liveness', container.livenessProbe],
      ['readiness', container.readinessProbe],
    ] as const) {
      if (probe === undefined) continue;
      const stop = new AbortController();
      const signal = AbortSignal.any([stop.signal, this.signal]);
      loops.push({ stop, done: this.loop(target, kind, probe, signal) });
    }
    this.workers.set(target.containerId, loops);
  }

  /** Stops a container's probe loops and forgets its verdicts (it exited or was removed). */
  forget(containerId: string): void {
    for (const worker of this.workers.get(containerId) ?? []) worker.stop.abort();
    this.workers.delete(containerId);
    for (const kind of ['liveness', 'readiness', 'startup']) this.results.delete(`${containerId}/${kind}`);
  }

  /** Containers with probe loops, for the agent to forget the ones that are gone. */
  containers(): string[] {
    return [...this.workers.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.workers.values()].flat();
    for (const worker of all) worker.stop.abort();
    this.workers.clear();
    await Promise.allSettled(all.map((w) => w.done));
  }

  private async loop(target: ProbeTarget, kind: ProbeKind, probe: Probe, signal: AbortSignal): Promise<void> {
    const key = `${target.containerId}/${kind}`;
    const periodMs = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const successThreshold = Math.max(1, probe.successThreshold ?? 1);
    const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
    // Readiness and startup start out failed (not ready, not started); liveness starts out passed.
    this.results.set(key, kind === 'liveness');
    await wait((probe.initialDelaySeconds ?? 0) * 1000, signal);
    let successes = 0;
    let failures = 0;
    while (!signal.aborted) {
      // Liveness and readiness wait for the startup probe; startup stops once it succeeded.
      const gated = kind !== 'startup' && target.container.startupProbe !== undefined && this.results.get(`${target.containerId}/startup`) !== true;
      if (!gated) {
        const { success, message } = await runProbe(probe, target, this.runtime, signal);
        if (signal.aborted) break;
        if (success) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
        }
        const before = this.results.get(key) === true;
        let verdict = before;
        if (success && successes >= successThreshold) verdict = true;
        if (!success && failures >= failureThreshold) verdict = false;
        // Liveness and startup count as failed again after every threshold of failures (each restarts).
        const changed = verdict !== before || (!success && kind !== 'readiness' && failures === failureThreshold);
        this.results.set(key, verdict);
        if (!success || changed) this.onResult(target, kind, { success, verdict, changed, message });
        // A failed liveness or startup probe restarts the container: this loop's work is done.
        if (!success && kind !== 'readiness' && failures >= failureThreshold) break;
        if (kind === 'startup' && this.results.get(key) === true) break;
      }
      await wait(periodMs, signal);
    }
  }
}
