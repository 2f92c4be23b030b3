import { describe, expect, it } from 'vitest';
import type { Pod } from '@raftplane/api';
import { computePodStatus, podPhaseOf, sameStatus, type ContainerView } from '../src/pod-status.js';
import type { RuntimeContainer } from '../src/runtime/runtime.js';

const t0 = Date.parse('2026-11-26T10:00:00Z');

function pod(restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always', status?: Pod['status']): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { restartPolicy, containers: [{ name: 'app', image: 'busybox' }] }, ...(status === undefined ? {} : { status }) };
}

function container(attempt: number, state: RuntimeContainer['state'], exitCode?: number): RuntimeContainer {
  return {
    id: `c${attempt}`,
    labels: { nodeName: 'n1', podUid: 'u1', podNamespace: 'default', podName: 'web', containerName: 'app', attempt },
    image: 'busybox',
    imageId: 'sha256:abc',
    state,
    createdAt: t0,
    startedAt: t0 + 10,
    finishedAt: state === 'exited' ? t0 + 20 : undefined,
    exitCode,
    reason: exitCode === undefined ? undefined : exitCode === 0 ? 'Completed' : 'Error',
    message: undefined,
  };
}

function view(latest: RuntimeContainer | undefined, previous?: RuntimeContainer, extra: Partial<ContainerView> = {}): ContainerView {
  return { spec: { name: 'app', image: 'busybox' }, latest, previous, waiting: undefined, ready: true, started: true, ...extra };
}

describe('pod status', () => {
  it('a pod whose container runs and is ready is Running with every condition True', () => {
    const status = computePodStatus({ pod: pod(), containers: [view(container(0, 'running'))], podIP: '127.1.1.5', hostIP: '127.0.1.1', runtimeName: 'process', nowMs: t0 + 30 });
    expect(status.phase).toBe('Running');
    expect(status.podIP).toBe('127.1.1.5');
    expect(status.podIPs).toEqual([{ ip: '127.1.1.5' }]);
    expect(status.hostIP).toBe('127.0.1.1');
    expect(Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.status]))).toEqual({ Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
    expect(status.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0, containerID: 'process://c0', state: { running: { startedAt: '2026-11-26T10:00:00Z' } } });
  });

  it('a container in back-off shows CrashLoopBackOff, its last termination and its restart count', () => {
    const status = computePodStatus({
      pod: pod(),
      containers: [view(container(2, 'exited', 3), container(1, 'exited', 3), { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } })],
      podIP: '127.1.1.5',
      hostIP: '127.0.1.1',
      runtimeName: 'process',
      nowMs: t0 + 30,
    });
    expect(status.phase).toBe('Running');
    const app = status.containerStatuses?.[0];
    expect(app?.restartCount).toBe(2);
    expect(app?.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } });
    expect(app?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error', containerID: 'process://c2' });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
  });

  it('phases follow restartPolicy as the kubelet decides them', () => {
    const done = (code: number) => computePodStatus({ pod: pod('Never'), containers: [view(container(0, 'exited', code))], podIP: '127.1.1.5', hostIP: 'h', runtimeName: 'process', nowMs: t0 }).phase;
    expect(done(0)).toBe('Succeeded');
    expect(done(1)).toBe('Failed');
    expect(computePodStatus({ pod: pod('OnFailure'), containers: [view(container(0, 'exited', 0))], podIP: undefined, hostIP: 'h', runtimeName: 'p', nowMs: t0 }).phase).toBe('Succeeded');
    expect(computePodStatus({ pod: pod(), containers: [view(undefined)], podIP: undefined, hostIP: 'h', runtimeName: 'p', nowMs: t0 }).phase).toBe('Pending');
    expect(podPhaseOf([], 'Always')).toBe('Pending');
  });

  it('an unchanged pod computes the same status again (no write), and a readiness change moves lastTransitionTime', () => {
    const first = computePodStatus({ pod: pod(), containers: [view(container(0, 'running'), undefined, { ready: false })], podIP: '127.1.1.5', hostIP: 'h', runtimeName: 'p', nowMs: t0 });
    const again = computePodStatus({ pod: pod('Always', first), containers: [view(container(0, 'running'), undefined, { ready: false })], podIP: '127.1.1.5', hostIP: 'h', runtimeName: 'p', nowMs: t0 + 5_000 });
    expect(sameStatus(first, again)).toBe(true);
    const ready = computePodStatus({ pod: pod('Always', again), containers: [view(container(0, 'running'))], podIP: '127.1.1.5', hostIP: 'h', runtimeName: 'p', nowMs: t0 + 9_000 });
    expect(sameStatus(again, ready)).toBe(false);
    expect(ready.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-11-26T10:00:09Z');
    expect(ready.conditions?.find((c) => c.type === 'Initialized')?.lastTransitionTime).toBe('2026-11-26T10:00:00Z');
  });
});
