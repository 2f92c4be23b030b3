// One pod's reconciliation on this node (the kubelet's syncPod), run by the agent's workers with
// at most one sync per pod at a time: make the containers that should run run, stop what should
// not, restart what exited as restartPolicy and the back-off allow, and report the pod's status
// when it changed. A pod marked for deletion has its containers stopped within its grace period,
// then the agent confirms the deletion (grace 0, uid precondition) so the apiserver removes it.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hasStatusReason, isStatusError, type Container, type Pod } from '@raftplane/api';
import type { Client } from '@raftplane/client';
import { isAgentError, AgentErrorCode } from './errors.js';
import type { ContainerIndex } from './container-index.js';
import { containerEnvironment, containerMounts, preparePodVolumes, type ConfigSource } from './pod-config.js';
import type { PodAddressPool } from './pod-addresses.js';
import { computePodStatus, sameStatus, type ContainerView } from './pod-status.js';
import type { Prober } from './prober.js';
import type { RestartBackoff } from './restart-backoff.js';
import type { ContainerRuntime, ImagePullPolicy, RuntimeContainer } from './runtime/runtime.js';

export type PodEventType = 'Normal' | 'Warning';

export interface PodSyncContext {
  readonly client: Client;
  readonly runtime: ContainerRuntime;
  readonly containers: ContainerIndex;
  readonly addresses: PodAddressPool;
  readonly prober: Prober;
  readonly backoff: RestartBackoff;
  readonly configSource: ConfigSource;
  readonly nodeName: string;
  readonly hostIP: string;
  readonly podsDir: string;
  readonly wallClockMs: () => number;
  readonly event: (pod: Pod, type: PodEventType, reason: string, message: string) => void;
  readonly logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Containers whose liveness or startup probe failed: the next sync kills them. */
  readonly killRequests: Map<string, string>;
  readonly signal: AbortSignal;
}

/** What a sync asks of the queue: nothing, or another sync after `afterMs`. */
export interface SyncOutcome {
  readonly requeueAfterMs?: number;
}

/** Why a container is not running now, per container name, kept between syncs (waiting reasons). */
export type WaitingReasons = Map<string, { reason: string; message?: string }>;

const defaultGraceSeconds = 30;

function gracePeriodMs(pod: Pod): number {
  const seconds = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? defaultGraceSeconds;
  return Math.max(0, seconds) * 1000;
}

function pullPolicyOf(container: Container): ImagePullPolicy {
  if (container.imagePullPolicy !== undefined) return container.imagePullPolicy;
  const image = container.image ?? '';
  return image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent';
}

function quantityMillis(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (text.endsWith('m')) return Number(text.slice(0, -1));
  const n = Number(text);
  return Number.isFinite(n) ? Math.round(n * 1000) : undefined;
}

const memorySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

function quantityBytes(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([KMGT]i|[kMGT])?$/.exec(String(value));
  if (match === null) return undefined;
  return Math.round(Number(match[1]) * (match[2] === undefined ? 1 : (memorySuffixes[match[2]] ?? 1)));
}

function podDirOf(context: PodSyncContext, uid: string): string {
  return join(context.podsDir, uid);
}

/** Stops (with `graceMs`) and forgets every given container; the attempts' records go with them. */
async function stopAndRemove(context: PodSyncContext, containers: readonly RuntimeContainer[], graceMs: number): Promise<void> {
  await Promise.all(
    containers.map(async (container) => {
      context.prober.forget(container.id);
      if (container.state !== 'exited') await context.runtime.stop(container.id, graceMs);
      await context.runtime.remove(container.id);
      context.containers.delete(container.id);
    }),
  );
}

/** Stops what runs of a pod, keeping the records (for logs and status). */
async function stopRunning(context: PodSyncContext, pod: Pod | undefined, containers: readonly RuntimeContainer[], graceMs: number): Promise<void> {
  await Promise.all(
    containers
      .filter((c) => c.state !== 'exited')
      .map(async (container) => {
        context.prober.forget(container.id);
        if (pod !== undefined) context.event(pod, 'Normal', 'Killing', `Stopping container ${container.labels.containerName}`);
        await context.runtime.stop(container.id, graceMs);
        const after = await context.runtime.inspect(container.id);
        if (after !== undefined) context.containers.put(after);
      }),
  );
}

/** Everything of a pod that no longer exists here: containers, address, back-off, directory. */
export async function cleanUpPod(context: PodSyncContext, podKey: string, uid: string | undefined, graceMs: number): Promise<void> {
  const containers = context.containers.ofPod(podKey).filter((c) => uid === undefined || c.labels.podUid === uid);
  await stopAndRemove(context, containers, graceMs);
  const uids = new Set(containers.map((c) => c.labels.podUid));
  if (uid !== undefined) uids.add(uid);
  for (const podUid of uids) {
    context.backoff.forgetPod(podUid);
    await context.addresses.release(podUid);
    await rm(podDirOf(context, podUid), { recursive: true, force: true });
  }
}

/** Starts attempt `attempt` of a container; a failure is recorded as the container's waiting reason. */
async function startContainer(context: PodSyncContext, pod: Pod, container: Container, attempt: number, podIP: string, waiting: WaitingReasons): Promise<boolean> {
  const uid = pod.metadata.uid ?? '';
  const image = container.image ?? '';
  try {
    const policy = pullPolicyOf(container);
    waiting.set(container.name, { reason: 'ContainerCreating' });
    const { pulled } = await context.runtime.ensureImage(image, policy, context.signal);
    if (pulled) context.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}"`);
    else if (attempt === 0) context.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
    const podDir = podDirOf(context, uid);
    await mkdir(podDir, { recursive: true });
    const volumes = await preparePodVolumes(pod, podDir, context.configSource);
    const env = await containerEnvironment({ pod, container, podIP, hostIP: context.hostIP, source: context.configSource });
    const started = await context.runtime.start({
      labels: { nodeName: context.nodeName, podUid: uid, podNamespace: pod.metadata.namespace ?? 'default', podName: pod.metadata.name ?? '', containerName: container.name, attempt },
      image,
      command: container.command,
      args: container.args,
      env,
      workingDir: container.workingDir,
      mounts: containerMounts(pod, container, volumes),
      podIP,
      cpuMillis: quantityMillis(container.resources?.limits?.cpu),
      memoryBytes: quantityBytes(container.resources?.limits?.memory),
      podDir,
    });
    context.containers.put(started);
    waiting.delete(container.name);
    context.event(pod, 'Normal', 'Created', `Created container ${container.name}`);
    context.event(pod, 'Normal', 'Started', `Started container ${container.name}`);
    return true;
  } catch (error) {
    if (context.signal.aborted) return false;
    const message = error instanceof Error ? error.message.replace(/^AGENT_[A-Z_]+: /, '') : String(error);
    const reason = !isAgentError(error)
      ? isStatusError(error)
        ? 'CreateContainerConfigError'
        : 'CreateContainerError'
      : error.code === AgentErrorCode.ImagePull
        ? 'ErrImagePull'
        : error.code === AgentErrorCode.ImageNeverPull
          ? 'ErrImageNeverPull'
          : error.code === AgentErrorCode.CreateContainerConfig
            ? 'CreateContainerConfigError'
            : error.code === AgentErrorCode.StartContainer
              ? 'RunContainerError'
              : 'CreateContainerError';
    waiting.set(container.name, { reason, message });
    context.event(pod, 'Warning', reason === 'ErrImagePull' || reason === 'ErrImageNeverPull' ? 'Failed' : 'Failed', `Error: ${message}`);
    context.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: container.name, attempt, reason, err: message }, 'container did not start');
    return false;
  }
}

function shouldRestart(pod: Pod, exited: RuntimeContainer): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exited.exitCode !== 0;
  return false;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Syncs one pod (by its key) that exists in the agent's cache, or cleans up after one that does not. */
export async function syncPod(context: PodSyncContext, podKey: string, pod: Pod | undefined, waiting: WaitingReasons): Promise<SyncOutcome> {
  if (pod === undefined) {
    await cleanUpPod(context, podKey, undefined, 2_000);
    return {};
  }
  const uid = pod.metadata.uid ?? '';
  // Containers of an earlier pod of the same name (deleted and created again) go first.
  const stale = context.containers.ofPod(podKey).filter((c) => c.labels.podUid !== uid);
  if (stale.length > 0) await cleanUpPod(context, podKey, stale[0]?.labels.podUid, 2_000);

  if (pod.metadata.deletionTimestamp !== undefined) {
    await stopRunning(context, pod, context.containers.ofPod(podKey), gracePeriodMs(pod));
    try {
      await context.client.resource('pods', pod.metadata.namespace).delete(pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid }, signal: context.signal });
    } catch (error) {
      if (!hasStatusReason(error, 'NotFound') && !hasStatusReason(error, 'Conflict')) throw error;
    }
    await cleanUpPod(context, podKey, uid, 0);
    return {};
  }

  const spec = pod.spec;
  if (spec === undefined) return {};
  let requeueAfterMs: number | undefined;
  const terminal = isTerminal(pod);
  if (terminal) {
    // A finished pod runs nothing again; its containers stay for their logs until it is deleted.
    await stopRunning(context, pod, context.containers.ofPod(podKey), gracePeriodMs(pod));
  }
  const podIP = await context.addresses.allocate(uid, `pod ${podKey}`);
  const views: ContainerView[] = [];
  for (const container of spec.containers) {
    const key = `${uid}/${container.name}`;
    let [latest, previous, ...older] = context.containers.attempts(uid, container.name);
    // Older attempts than the one before are of no use (not even to `logs --previous`).
    if (older.length > 0) await stopAndRemove(context, older, 0);
    const kill = latest !== undefined ? context.killRequests.get(latest.id) : undefined;
    if (latest !== undefined && latest.state !== 'exited' && kill !== undefined) {
      context.killRequests.delete(latest.id);
      context.event(pod, 'Normal', 'Killing', `Container ${container.name} ${kill}, will be restarted`);
      context.prober.forget(latest.id);
      await context.runtime.stop(latest.id, (container.livenessProbe?.terminationGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? defaultGraceSeconds) * 1000);
      latest = (await context.runtime.inspect(latest.id)) ?? latest;
      context.containers.put(latest);
    }
    if (!terminal) {
      if (latest === undefined) {
        if (await startContainer(context, pod, container, 0, podIP, waiting)) [latest, previous] = context.containers.attempts(uid, container.name);
        else requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, context.backoff.currentDelayMs(key));
      } else if (latest.state === 'exited' && shouldRestart(pod, latest)) {
        const wait = context.backoff.tryRestart(key, context.wallClockMs());
        if (wait > 0) {
          const delay = Math.round(context.backoff.currentDelayMs(key) / 1000);
          const message = `back-off ${delay}s restarting failed container=${container.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
          if (waiting.get(container.name)?.reason !== 'CrashLoopBackOff') context.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`);
          waiting.set(container.name, { reason: 'CrashLoopBackOff', message });
          requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, wait);
        } else if (await startContainer(context, pod, container, latest.labels.attempt + 1, podIP, waiting)) {
          [latest, previous] = context.containers.attempts(uid, container.name);
        } else {
          requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, context.backoff.currentDelayMs(key));
        }
      } else if (latest.state === 'exited') {
        waiting.delete(container.name);
      }
    }
    if (latest !== undefined && latest.state === 'running') {
      context.prober.ensure({ podKey, containerId: latest.id, container, podIP });
    } else if (latest !== undefined) {
      context.prober.forget(latest.id);
    }
    const current = latest;
    views.push({
      spec: container,
      latest: current,
      previous,
      waiting: current === undefined || current.state === 'exited' ? waiting.get(container.name) : undefined,
      ready: current !== undefined && context.prober.ready(current.id, container) && context.prober.started(current.id, container),
      started: current !== undefined && context.prober.started(current.id, container),
    });
  }
  const status = computePodStatus({ pod, containers: views, podIP, hostIP: context.hostIP, runtimeName: context.runtime.name, nowMs: context.wallClockMs() });
  if (!sameStatus(pod.status, status)) {
    try {
      await context.client.resource('pods', pod.metadata.namespace).updateStatus({ ...pod, status }, { signal: context.signal });
    } catch (error) {
      // A newer pod is on its way through the informer (Conflict), or the pod is gone: sync again then.
      if (hasStatusReason(error, 'Conflict')) return { requeueAfterMs: Math.min(requeueAfterMs ?? Infinity, 100) };
      if (!hasStatusReason(error, 'NotFound')) throw error;
    }
  }
  return requeueAfterMs === undefined ? {} : { requeueAfterMs };
}
